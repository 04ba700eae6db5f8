#!/usr/bin/env bash
# CloudHub at scale: one `kedge cloud` holding N `kedge hollow` nodes
# (real sessions over WSS, real protocol, fake runtime). Prints, per N:
# time to connect them all, cloud memory per node, idle CPU, idle traffic
# per node per minute, and the latency from a pod create to its node's
# acknowledgement (p50/p99, from the cloud's histogram). Then the bytes an
# edge with 1,000 objects gets on reconnect after 10 changes vs a snapshot.
# Prints, never judges. See bench/README.md.
#
#   bash bench/hub.sh                 NODES="1000 10000"
#   NODES="1000" bash bench/hub.sh
#   SMALL=1 bash bench/hub.sh         NODES=200, fewer pods
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEDGE_BIN=${KEDGE_BIN:-$ROOT/build/kedge}
if [ "${SMALL:-0}" = 1 ]; then
    NODES=${NODES:-200}
    N_PODS=${N_PODS:-100}
else
    NODES=${NODES:-"1000 10000"}
    N_PODS=${N_PODS:-500}
fi
IDLE_SECS=${IDLE_SECS:-60}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kedge-hub-bench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "${KEEP_BENCH_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "hub-bench: $*" >&2; }

cp "$KEDGE_BIN" "$TMP/kedge"
K=$TMP/kedge

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { # NAME: value of an unlabelled metric
    curl -sS --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" \
        --key "$DIR/pki/admin.key" "$API/metrics" | awk -v m="$1" '$1 == m {print $2}'
}
# The ack latency histogram's cumulative bucket counts, "le count" lines.
ack_buckets() {
    curl -sS --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" \
        --key "$DIR/pki/admin.key" "$API/metrics" |
        awk -F'[{}" ]+' '/^kedge_hub_ack_latency_seconds_bucket/ {print $3, $NF}'
}
# ack_quantile Q BEFORE AFTER: quantile Q (ms, linear within a bucket) of
# the acknowledgements between two ack_buckets snapshots.
ack_quantile() {
    paste -d' ' "$2" "$3" | awk -v q="$1" '
        { le[NR] = ($1 == "+Inf") ? 1e9 : $1; n[NR] = $4 - $2 }
        END {
            total = n[NR]; if (total <= 0) { print "n/a"; exit }
            want = q * total; prev = 0; lo = 0
            for (i = 1; i <= NR; i++) {
                if (n[i] >= want) {
                    hi = le[i]; if (hi > 100) hi = lo * 2
                    frac = (n[i] == prev) ? 1 : (want - prev) / (n[i] - prev)
                    printf "%.1f", (lo + (hi - lo) * frac) * 1000; exit
                }
                prev = n[i]; lo = le[i]
            }
        }'
}

start_cloud() {
    DIR=$TMP/cloud-$1
    mkdir -p "$DIR"
    "$K" cloud --data-dir "$DIR" --secure-port 0 --hub-port 0 --log-level warn \
        >"$DIR.out" 2>"$DIR.log" &
    CLOUD=$!
    PIDS+=("$CLOUD")
    local i
    for i in $(seq 1 200); do
        grep -q "kedge cloud ready" "$DIR.out" 2>/dev/null && break
        sleep 0.05
    done
    API=$(sed -n 's/.*kedge cloud ready: \(https:[^ ]*\).*/\1/p' "$DIR.out")
    HUB=$(sed -n 's/.*kedge cloud hub: \(https:[^ ]*\).*/\1/p' "$DIR.out")
    export KUBECONFIG=$DIR/admin.kubeconfig
}

printf '\n%-8s %12s %14s %14s %14s %16s %10s %10s\n' nodes connect_s \
    cloud_kb/node idle_cpu_% hollow_cpu_% idle_B/node/min ack_p50_ms ack_p99_ms
for N in $NODES; do
    start_cloud "$N"
    sleep 1
    rss0=$(rss_kb "$CLOUD")
    TOKEN=$("$K" token create --data-dir "$DIR")
    "$K" hollow --cloud "$HUB" --token "$TOKEN" --nodes "$N" --connect-rate 2000 \
        --log-level info >"$TMP/hollow-$N.out" 2>"$TMP/hollow-$N.log" &
    HOLLOW=$!
    PIDS+=("$HOLLOW")
    for _ in $(seq 1 3000); do
        grep -q "nodes connected" "$TMP/hollow-$N.out" 2>/dev/null && break
        kill -0 "$HOLLOW" 2>/dev/null || { log "hollow exited"; cat "$TMP/hollow-$N.log" >&2; exit 1; }
        sleep 0.2
    done
    connect=$(sed -n 's/.*all [0-9]* nodes connected in \([0-9.]*\) s/\1/p' "$TMP/hollow-$N.log")
    sleep 15 # registrations and first lease renewals settle
    rss1=$(rss_kb "$CLOUD")
    c0=$(cpu_ticks "$CLOUD"); h0=$(cpu_ticks "$HOLLOW")
    b0=$(metric kedge_hub_sent_bytes_total)
    sleep "$IDLE_SECS"
    c1=$(cpu_ticks "$CLOUD"); h1=$(cpu_ticks "$HOLLOW")
    b1=$(metric kedge_hub_sent_bytes_total)
    hz=$(getconf CLK_TCK)
    idle_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v s="$IDLE_SECS" 'BEGIN {printf "%.1f", (b - a) / hz / s * 100}')
    hollow_cpu=$(awk -v a="$h0" -v b="$h1" -v hz="$hz" -v s="$IDLE_SECS" 'BEGIN {printf "%.1f", (b - a) / hz / s * 100}')
    idle_bytes=$(awk -v a="$b0" -v b="$b1" -v n="$N" -v s="$IDLE_SECS" 'BEGIN {printf "%.0f", (b - a) / n / s * 60}')
    # Pods bound by hand to random nodes; each create is acknowledged by
    # its node (the histogram starts empty: nothing was created before).
    for i in $(seq 1 "$N_PODS"); do
        printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"lat-%d"},"spec":{"nodeName":"hollow-%d","containers":[{"name":"c","image":"busybox"}]}}\n' \
            "$i" $(((RANDOM * 32768 + RANDOM) % N))
    done >"$TMP/pods.json"
    ack_buckets >"$TMP/acks0"
    while read -r pod; do
        curl -sS -o /dev/null --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" \
            --key "$DIR/pki/admin.key" -H 'Content-Type: application/json' \
            -X POST --data "$pod" "$API/api/v1/namespaces/default/pods"
    done <"$TMP/pods.json"
    sleep 2
    ack_buckets >"$TMP/acks1"
    p50=$(ack_quantile 0.5 "$TMP/acks0" "$TMP/acks1")
    p99=$(ack_quantile 0.99 "$TMP/acks0" "$TMP/acks1")
    printf '%-8s %12s %14s %14s %14s %16s %10s %10s\n' "$N" "$connect" \
        $(((rss1 - rss0) / N)) "$idle_cpu" "$hollow_cpu" "$idle_bytes" "$p50" "$p99"
    kill "$HOLLOW" "$CLOUD"; wait "$HOLLOW" "$CLOUD" 2>/dev/null || true
done

# Reconnect cost: an edge with 1,000 objects, after 10 changes vs a
# snapshot (speaks the protocol directly, bench/hub_resume.py).
start_cloud resume
/usr/bin/python3 "$ROOT/bench/hub_resume.py" "$DIR" "$HUB" "$K"
kill "$CLOUD"; wait "$CLOUD" 2>/dev/null || true
