#!/usr/bin/env bash
# Scheduling throughput: N_PODS pods over N_NODES Ready nodes (Node objects
# through the API, no runtime), from the first POST to the last pod bound,
# against the same pods POSTed with another schedulerName (nothing binds
# them: the create-only baseline) in the same server; then a Deployment of
# N_DEPLOY replicas from its POST to all pods bound. Prints, never judges.
#
#   bash bench/sched.sh                        1,000 nodes, 10,000 pods
#   SMALL=1 bash bench/sched.sh                100 nodes, 1,000 pods
#   SYNC=full bash bench/sched.sh              --db-sync full (default normal)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEDGE_BIN=${KEDGE_BIN:-$ROOT/build/kedge}
if [ "${SMALL:-0}" = 1 ]; then
    N_NODES=${N_NODES:-100}; N_PODS=${N_PODS:-1000}; N_DEPLOY=${N_DEPLOY:-200}
else
    N_NODES=${N_NODES:-1000}; N_PODS=${N_PODS:-10000}; N_DEPLOY=${N_DEPLOY:-1000}
fi
CONNS=${CONNS:-16}
SYNC=${SYNC:-normal}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kedge-sched-bench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "${KEEP_BENCH_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

b=$ROOT/bench
gcc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$TMP/kbench" "$b/kbench.c" \
    "$b/watchlat.c" "$b/rollout.c" "$b/httpc.c" "$b/objects.c" "$b/stats.c" \
    -lssl -lcrypto -lpthread -lm
cp "$KEDGE_BIN" "$TMP/kedge"

DIR=$TMP/cloud
mkdir -p "$DIR"
"$TMP/kedge" cloud --data-dir "$DIR" --secure-port 0 --hub-port -1 \
    --db-sync "$SYNC" --node-grace-period 1h --log-level warn \
    >"$DIR.out" 2>"$DIR.log" &
PIDS+=("$!")
for _ in $(seq 1 200); do
    grep -q "kedge cloud ready" "$DIR.out" 2>/dev/null && break
    sleep 0.05
done
URL=$(sed -n 's/.*kedge cloud ready: \(https:[^ ]*\).*/\1/p' "$DIR.out")

# Nodes and namespaces, over one keep-alive connection.
/usr/bin/python3 - "$URL" "$DIR/pki" "$N_NODES" <<'PY'
import http.client, json, ssl, sys
url, pki, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = url[len("https://"):].rsplit(":", 1)
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/admin.crt", pki + "/admin.key")
c = http.client.HTTPSConnection(host, int(port), context=ctx)
def call(method, path, body, ctype="application/json"):
    c.request(method, path, json.dumps(body), {"Content-Type": ctype})
    r = c.getresponse(); r.read()
    if r.status >= 300:
        sys.exit("%s %s: %d" % (method, path, r.status))
for ns in ("base", "sched", "deploy"):
    call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
alloc = {"cpu": "16", "memory": "64Gi", "pods": "110"}
for i in range(n):
    name = "node-%04d" % i
    call("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": name, "labels": {"kubernetes.io/hostname": name, "zone": "z%d" % (i % 10)}}})
    call("PATCH", "/api/v1/nodes/%s/status" % name, {"status": {
        "allocatable": alloc, "capacity": alloc,
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}},
        "application/merge-patch+json")
PY

kb() { "$TMP/kbench" rollout --url "$URL" --pki "$DIR/pki" "$@" 2>/dev/null; }
val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

base=$(kb --ns base --mode pods --count "$N_PODS" --conns "$CONNS" --scheduler none --until added)
sched=$(kb --ns sched --mode pods --count "$N_PODS" --conns "$CONNS" --until bound)
deploy=$(kb --ns deploy --mode deployment --count "$N_DEPLOY" --until bound)

printf '\nscheduling: %s nodes, %s pods, %s connections, --db-sync %s\n' \
    "$N_NODES" "$N_PODS" "$CONNS" "$SYNC"
printf '  %-44s %10s %10s\n' "" seconds pods/s
printf '  %-44s %10.2f %10.0f\n' "create only (schedulerName: none, baseline)" \
    "$(echo "$base" | val seconds)" "$(echo "$base" | val rate)"
printf '  %-44s %10.2f %10.0f\n' "create and bind (first POST to last bound)" \
    "$(echo "$sched" | val seconds)" "$(echo "$sched" | val rate)"
printf '  %-44s %10.2f\n' "ratio bound/s to created/s" \
    "$(awk -v a="$(echo "$sched" | val rate)" -v b="$(echo "$base" | val rate)" 'BEGIN {print a / b}')"
printf '  %-44s %10.2f %10.0f\n' "Deployment of $N_DEPLOY: POST to all bound" \
    "$(echo "$deploy" | val seconds)" "$(echo "$deploy" | val rate)"
