#!/usr/bin/env bash
# Memory of one `kedge edge` (fake runtime) connected to a `kedge cloud`
# and idle with a few pods: RSS and Private_Dirty from
# /proc/PID/smaps_rollup, after start (no pods), and after N_PODS pods
# run and the edge has sat idle IDLE_SECS. Also the edge store's size.
# A baseline in the same run: the cloud process itself. Prints, never
# judges.
#
#   bash bench/edge_mem.sh             N_PODS=5 IDLE_SECS=20
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEDGE_BIN=${KEDGE_BIN:-$ROOT/build/kedge}
N_PODS=${N_PODS:-5}
IDLE_SECS=${IDLE_SECS:-20}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kedge-edge-mem.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "${KEEP_BENCH_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
cp "$KEDGE_BIN" "$TMP/kedge"
K=$TMP/kedge

"$K" cloud --data-dir "$TMP/cloud" --secure-port 0 --hub-port 0 \
    --db-sync normal >"$TMP/cloud.out" 2>"$TMP/cloud.log" &
CLOUD_PID=$!
PIDS+=("$CLOUD_PID")
for _ in $(seq 1 200); do
    grep -q "kedge cloud ready" "$TMP/cloud.out" 2>/dev/null && break
    sleep 0.05
done
HUB_URL=$(sed -n 's/.*kedge cloud hub: \(https:[^ ]*\).*/\1/p' "$TMP/cloud.out")
export KUBECONFIG=$TMP/cloud/admin.kubeconfig
TOKEN=$("$K" token create --data-dir "$TMP/cloud")

"$K" edge --data-dir "$TMP/edge" --name bench-edge --cloud "$HUB_URL" \
    --token "$TOKEN" --local-api 127.0.0.1:0 >"$TMP/edge.out" 2>"$TMP/edge.log" &
EDGE_PID=$!
PIDS+=("$EDGE_PID")
for _ in $(seq 1 200); do
    kubectl get node bench-edge >/dev/null 2>&1 && break
    sleep 0.1
done

mem() { # PID -> "RSS_KB PRIVATE_DIRTY_KB"
    awk '/^Rss:/ {r=$2} /^Private_Dirty:/ {d=$2} END {print r, d}' "/proc/$1/smaps_rollup"
}
sleep 2
read -r rss0 pd0 < <(mem "$EDGE_PID")

for i in $(seq 1 "$N_PODS"); do
    cat <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg-$i}
data: {key: "value-$i"}
---
apiVersion: v1
kind: Pod
metadata: {name: app-$i, labels: {app: bench}}
spec:
  nodeName: bench-edge
  containers:
  - name: app
    image: nginx:1.25
    envFrom: [{configMapRef: {name: cfg-$i}}]
---
EOF
done | kubectl apply -f - >/dev/null
for _ in $(seq 1 300); do
    n=$(kubectl get pods --no-headers 2>/dev/null | grep -c ' Running ' || true)
    [ "$n" = "$N_PODS" ] && break
    sleep 0.1
done
echo "edge-mem: $n/$N_PODS pods Running; idling ${IDLE_SECS}s" >&2
sleep "$IDLE_SECS"
read -r rss1 pd1 < <(mem "$EDGE_PID")
read -r crss cpd < <(mem "$CLOUD_PID")
db=$(du -sk "$TMP/edge/db" | cut -f1)

printf '%-44s %10s %14s\n' "process" "RSS KiB" "Private_Dirty"
printf '%-44s %10s %14s\n' "kedge edge, connected, no pods" "$rss0" "$pd0"
printf '%-44s %10s %14s\n' "kedge edge, connected, idle, $N_PODS pods" "$rss1" "$pd1"
printf '%-44s %10s %14s\n' "baseline: kedge cloud (same run)" "$crss" "$cpd"
printf '%-44s %10s\n' "edge store on disk (db/, KiB)" "$db"
echo "RESULT edge_rss_kb=$rss1 edge_private_dirty_kb=$pd1 pods=$N_PODS cloud_rss_kb=$crss"
