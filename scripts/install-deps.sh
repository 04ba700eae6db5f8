#!/usr/bin/env bash
# Installs every Debian package kedge needs to build, test and demo.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PKGS=(
    # build
    gcc make cmake pkg-config
    libuv1-dev libssl-dev libsqlite3-dev libjson-c-dev libhttp-parser-dev libbsd-dev zlib1g-dev
    libcurl4-openssl-dev libwslay-dev
    # fuzzing and sanitizers
    clang libclang-rt-14-dev
    # tests and demo
    openssl curl sqlite3 python3-kubernetes python3-yaml python3-websocket procps iproute2
)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
