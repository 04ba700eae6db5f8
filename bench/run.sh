#!/usr/bin/env bash
# kedge benchmarks: builds the load generator (bench/kbench) and the SQLite
# baseline (bench/sqlite_insert), runs real `kedge cloud`s on loopback, and
# prints figures with their same-run baselines and ratios. Prints, never
# judges: no figure here makes the script fail. See bench/README.md.
#
#   bash bench/run.sh            full size (about 3 minutes)
#   SMALL=1 bash bench/run.sh    a tenth of the sizes (about 30 seconds)
#   PERF=1 bash bench/run.sh     also profiles the server (perf) per phase
#   BENCH_RESULTS=FILE           keeps the raw RESULT lines in FILE
#   PHASES="rollout"             runs only some phases (create list watch rollout)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEDGE_BIN=${KEDGE_BIN:-$ROOT/build/kedge}
SMALL=${SMALL:-0}
PERF=${PERF:-0}
if [ "$SMALL" = 1 ]; then
    N_CM=${N_CM:-1000}
    N_PODS=${N_PODS:-1000}
    N_CHANGES=${N_CHANGES:-100}
    N_REPLICAS=${N_REPLICAS:-100}
else
    N_CM=${N_CM:-10000}
    N_PODS=${N_PODS:-10000}
    N_CHANGES=${N_CHANGES:-1000}
    N_REPLICAS=${N_REPLICAS:-1000}
fi
PHASES=${PHASES:-"create list watch rollout"}
N_WATCHERS=${N_WATCHERS:-100}
CM_BYTES=${CM_BYTES:-1024}
CONNS=${CONNS:-"1 4 16"}
SYNCS=${SYNCS:-"full normal"}
LIST_REPEAT=${LIST_REPEAT:-5}
POD_CONNS=${POD_CONNS:-16}
ROUNDS=${ROUNDS:-5}

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kedge-bench.XXXXXX")
BENCH_PIDS=()
CLOUD_PID=""

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${BENCH_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${KEEP_BENCH_TMP:-}" = "" ]; then rm -rf "$BENCH_TMP"; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

# ---- dependencies and build ---------------------------------------------

# The Debian packages the helpers need; all are also in
# scripts/install-deps.sh, so this installs only on a bare machine.
ensure_deps() {
    local p missing=()
    for p in gcc libc6-dev libssl-dev libsqlite3-dev procps; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then return 0; fi
    log "installing ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y \
        --no-install-recommends "${missing[@]}"
}

build_helpers() {
    local cflags=(-std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror)
    local b=$ROOT/bench
    gcc "${cflags[@]}" -o "$BENCH_TMP/kbench" "$b/kbench.c" "$b/watchlat.c" "$b/rollout.c" \
        "$b/httpc.c" "$b/objects.c" "$b/stats.c" -lssl -lcrypto -lpthread -lm
    gcc "${cflags[@]}" -o "$BENCH_TMP/sqlite_insert" "$b/sqlite_insert.c" \
        "$b/objects.c" "$b/stats.c" -lsqlite3 -lm
}

# ---- the server ----------------------------------------------------------

# start_cloud DIR SYNC: starts kedge cloud, waits for its ready line; sets
# CLOUD_PID, CLOUD_URL, CLOUD_PKI and CLOUD_START_MS.
start_cloud() {
    local dir=$1 sync=$2 i t0
    mkdir -p "$dir"
    t0=$(date +%s%N)
    "$KEDGE_BIN" cloud --data-dir "$dir" --secure-port 0 --hub-port 0 --db-sync "$sync" \
        --log-level warn >"$dir.out" 2>"$dir.log" &
    CLOUD_PID=$!
    BENCH_PIDS+=("$CLOUD_PID")
    for i in $(seq 1 1200); do
        if grep -q "kedge cloud ready" "$dir.out" 2>/dev/null; then
            CLOUD_URL=$(sed -n 's/.*kedge cloud ready: \(https:[^ ]*\).*/\1/p' \
                "$dir.out" | tail -1)
            CLOUD_PKI=$dir/pki
            CLOUD_START_MS=$((($(date +%s%N) - t0) / 1000000))
            return 0
        fi
        if ! kill -0 "$CLOUD_PID" 2>/dev/null; then
            log "kedge cloud exited early:"
            cat "$dir.log" >&2
            return 1
        fi
        sleep 0.05
    done
    log "kedge cloud did not become ready"
    cat "$dir.log" >&2
    return 1
}

stop_cloud() {
    if [ -n "$CLOUD_PID" ]; then
        kill "$CLOUD_PID" 2>/dev/null || true
        wait "$CLOUD_PID" 2>/dev/null || true
    fi
    CLOUD_PID=""
}

kb() { "$BENCH_TMP/kbench" "$1" --url "$CLOUD_URL" --pki "$CLOUD_PKI" "${@:2}"; }

make_ns() {
    kb request --method POST --path /api/v1/namespaces \
        --body "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$1\"}}" \
        >/dev/null
}

# proc_kb PID FILE FIELD: a "Field:   N kB" value from /proc/PID/FILE.
proc_kb() {
    awk -v f="$3:" '$1 == f { print $2; exit }' "/proc/$1/$2" 2>/dev/null || echo 0
}

metric() {
    kb request --path /metrics | awk -v m="$1" '$1 == m { print $2; exit }'
}

# The server answers one request at a time on one loop: once /readyz is
# answered, the work of the previous request (freeing its buffers
# included) is over, so memory read after it is not caught mid-request.
settle() { kb request --path /readyz >/dev/null; }

# Forgets the peak RSS so far (VmHWM restarts from the current RSS).
reset_peak() { echo 5 >"/proc/$CLOUD_PID/clear_refs" 2>/dev/null || true; }

# CPU seconds (user + system) the process has used so far.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}

# ---- results -------------------------------------------------------------

declare -A R
# record TAG RESULT-LINE: keeps every key=value of the line as R[TAG.key].
record() {
    local tag=$1 kv
    shift
    for kv in $*; do
        case $kv in *=*) R[$tag.${kv%%=*}]=${kv#*=} ;; esac
    done
}

# run_result TAG CMD...: runs a helper, echoes and records its RESULT line.
run_result() {
    local tag=$1 line
    shift
    line=$("$@" | grep '^RESULT' | tail -1) || true
    if [ -z "$line" ]; then
        log "no result from: $*"
        return 1
    fi
    echo "$line" >>"$BENCH_TMP/results.txt"
    record "$tag" "$line"
}

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'; }

perf_start() {
    PERF_PID=""
    if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
        perf record -F 999 -g -p "$CLOUD_PID" -o "$BENCH_TMP/perf-$1.data" \
            >/dev/null 2>&1 &
        PERF_PID=$!
        BENCH_PIDS+=("$PERF_PID")
        sleep 0.3
    fi
}

perf_stop() {
    if [ -n "${PERF_PID:-}" ]; then
        kill -INT "$PERF_PID" 2>/dev/null || true
        wait "$PERF_PID" 2>/dev/null || true
        echo "== perf: kedge cloud during $1 (self time, top entries) =="
        perf report -i "$BENCH_TMP/perf-$1.data" --stdio --no-children \
            --sort dso,symbol -g none 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -25
        PERF_PID=""
    fi
}

# ---- 1. create throughput against SQLite -----------------------------------

# run_chunk TAG CMD...: runs one chunk of a paired run and adds its time
# and counts to R[TAG.seconds], R[TAG.ok], R[TAG.errors].
run_chunk() {
    local tag=$1 line secs ok count
    shift
    line=$("$@" | grep '^RESULT' | tail -1) || true
    if [ -z "$line" ]; then
        log "no result from: $*"
        return 1
    fi
    echo "$line" >>"$BENCH_TMP/results.txt"
    secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
    count=$(sed -n 's/.* count=\([0-9]*\).*/\1/p' <<<"$line")
    ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")
    ok=${ok:-$count}
    R[$tag.seconds]=$(awk -v a="${R[$tag.seconds]:-0}" -v b="$secs" 'BEGIN { printf "%.6f", a + b }')
    R[$tag.ok]=$((${R[$tag.ok]:-0} + ok))
    R[$tag.errors]=$((${R[$tag.errors]:-0} + count - ok))
}

# finish_paired TAG LATFILE: objects/s and latency percentiles of a run
# made of chunks.
finish_paired() {
    local tag=$1 lat=$2
    R[$tag.rate]=$(awk -v n="${R[$tag.ok]:-0}" -v s="${R[$tag.seconds]:-0}" \
        'BEGIN { if (s > 0) printf "%.1f", n / s; else print "-" }')
    if [ -s "$lat" ]; then
        read -r "R[$tag.p50_ms]" "R[$tag.p99_ms]" < <(sort -n "$lat" | awk '
            { v[NR] = $1 }
            END {
                i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
                i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
                printf "%.3f %.3f\n", v[i50] / 1e6, v[i99] / 1e6
            }')
    fi
}

bench_create() {
    local sync c r start n cpu0 cpu chunk
    chunk=$(((N_CM + ROUNDS - 1) / ROUNDS))
    for sync in $SYNCS; do
        for c in $CONNS; do
            # The baselines and the API take turns in ROUNDS chunks on the
            # same database and server, so a drift of the disk's flush
            # time (large on shared machines) hits all of them alike.
            log "1. --db-sync $sync, $c connection(s): $N_CM configmaps in $ROUNDS rounds of SQLite plain, SQLite kedge schema, API"
            rm -f "$BENCH_TMP"/lat-*
            start_cloud "$BENCH_TMP/create-$sync-$c" "$sync"
            make_ns bench
            perf_start "create-$sync-$c"
            cpu=0
            for ((r = 0; r < ROUNDS; r++)); do
                start=$((r * chunk))
                n=$((N_CM - start < chunk ? N_CM - start : chunk))
                if [ "$n" -le 0 ]; then break; fi
                run_chunk "sql.$sync.$c.plain" "$BENCH_TMP/sqlite_insert" \
                    --db "$BENCH_TMP/sqlite-plain.db" --sync "$sync" \
                    --start "$start" --count "$n" --size "$CM_BYTES" \
                    --schema plain --ns bench --lat-out "$BENCH_TMP/lat-plain"
                run_chunk "sql.$sync.$c.kedge" "$BENCH_TMP/sqlite_insert" \
                    --db "$BENCH_TMP/sqlite-kedge.db" --sync "$sync" \
                    --start "$start" --count "$n" --size "$CM_BYTES" \
                    --schema kedge --ns bench --lat-out "$BENCH_TMP/lat-kedge"
                cpu0=$(cpu_seconds "$CLOUD_PID")
                run_chunk "api.$sync.$c" kb create --ns bench \
                    --kind configmaps --prefix cm --start "$start" \
                    --count "$n" --size "$CM_BYTES" --conns "$c" \
                    --lat-out "$BENCH_TMP/lat-api"
                settle
                cpu=$(awk -v t="$cpu" -v a="$cpu0" \
                    -v b="$(cpu_seconds "$CLOUD_PID")" \
                    'BEGIN { printf "%.2f", t + b - a }')
            done
            perf_stop "create-$sync-$c"
            R[api.$sync.$c.cpu_us]=$(awk -v t="$cpu" -v n="$N_CM" \
                'BEGIN { printf "%.0f", t * 1e6 / n }')
            finish_paired "sql.$sync.$c.plain" "$BENCH_TMP/lat-plain"
            finish_paired "sql.$sync.$c.kedge" "$BENCH_TMP/lat-kedge"
            finish_paired "api.$sync.$c" "$BENCH_TMP/lat-api"
            log "1. --db-sync $sync, $c connection(s): SQLite plain ${R[sql.$sync.$c.plain.rate]}/s, kedge schema ${R[sql.$sync.$c.kedge.rate]}/s, API ${R[api.$sync.$c.rate]}/s"
            stop_cloud
            rm -rf "$BENCH_TMP/create-$sync-$c" "$BENCH_TMP"/sqlite-*.db*
        done
    done
}

# ---- 2. listing 10,000 pods and the memory holding them --------------------

bench_list() {
    local dir=$BENCH_TMP/pods table='application/json;as=Table;v=v1;g=meta.k8s.io'
    log "2. $N_PODS pods: create, list as JSON and as Table, memory"
    start_cloud "$dir" full
    make_ns pods
    R[mem.base_rss_kb]=$(proc_kb "$CLOUD_PID" status VmRSS)
    R[mem.base_dirty_kb]=$(proc_kb "$CLOUD_PID" smaps_rollup Private_Dirty)
    run_result pods.create kb create --ns pods --kind pods --prefix web \
        --count "$N_PODS" --conns "$POD_CONNS"
    settle
    R[mem.created_rss_kb]=$(proc_kb "$CLOUD_PID" status VmRSS)
    R[mem.created_dirty_kb]=$(proc_kb "$CLOUD_PID" smaps_rollup Private_Dirty)
    R[mem.created_hwm_kb]=$(proc_kb "$CLOUD_PID" status VmHWM)
    R[mem.db_bytes]=$(metric kedge_store_db_bytes)
    R[mem.objects]=$(metric kedge_store_objects)
    reset_peak
    perf_start list-json
    run_result list.json kb list --path /api/v1/namespaces/pods/pods \
        --repeat "$LIST_REPEAT" --label json
    perf_stop list-json
    settle
    R[mem.json_rss_kb]=$(proc_kb "$CLOUD_PID" status VmRSS)
    R[mem.json_dirty_kb]=$(proc_kb "$CLOUD_PID" smaps_rollup Private_Dirty)
    R[mem.json_hwm_kb]=$(proc_kb "$CLOUD_PID" status VmHWM)
    reset_peak
    perf_start list-table
    run_result list.table kb list --path /api/v1/namespaces/pods/pods \
        --accept "$table" --repeat "$LIST_REPEAT" --label table
    perf_stop list-table
    settle
    R[mem.table_rss_kb]=$(proc_kb "$CLOUD_PID" status VmRSS)
    R[mem.table_dirty_kb]=$(proc_kb "$CLOUD_PID" smaps_rollup Private_Dirty)
    R[mem.table_hwm_kb]=$(proc_kb "$CLOUD_PID" status VmHWM)
    stop_cloud
    # The same data loaded by a fresh process: memory without the history
    # of the requests that wrote it.
    start_cloud "$dir" full
    R[mem.restart_ms]=$CLOUD_START_MS
    R[mem.restart_rss_kb]=$(proc_kb "$CLOUD_PID" status VmRSS)
    R[mem.restart_dirty_kb]=$(proc_kb "$CLOUD_PID" smaps_rollup Private_Dirty)
    R[mem.restart_hwm_kb]=$(proc_kb "$CLOUD_PID" status VmHWM)
    stop_cloud
}

# ---- 3. watch delivery latency ---------------------------------------------

bench_watch() {
    local sync
    for sync in $SYNCS; do
        log "3. watch latency, --db-sync $sync: $N_WATCHERS watchers, $N_CHANGES changes"
        start_cloud "$BENCH_TMP/watch-$sync" "$sync"
        make_ns watch
        run_result "watch.$sync" kb watch --ns watch --watchers "$N_WATCHERS" \
            --changes "$N_CHANGES" --size "$CM_BYTES"
        stop_cloud
    done
}

# ---- 4. a Deployment of N_REPLICAS: time to all pods created ---------------

bench_rollout() {
    local sync
    for sync in $SYNCS; do
        log "4. --db-sync $sync: Deployment of $N_REPLICAS replicas vs $N_REPLICAS pod POSTs"
        start_cloud "$BENCH_TMP/rollout-$sync" "$sync"
        make_ns base1
        make_ns base16
        make_ns deploy
        run_result "rollout.$sync.pods1" kb rollout --ns base1 --mode pods \
            --conns 1 --count "$N_REPLICAS"
        run_result "rollout.$sync.pods16" kb rollout --ns base16 --mode pods \
            --conns 16 --count "$N_REPLICAS"
        run_result "rollout.$sync.deploy" kb rollout --ns deploy \
            --mode deployment --count "$N_REPLICAS"
        stop_cloud
    done
}

# ---- summary -------------------------------------------------------------

summary_create() {
    local sync c
    echo "1. Create $N_CM configmaps of $CM_BYTES bytes through the API (HTTPS, keep-alive) vs SQLite (WAL)"
    printf "   %-6s %5s | %12s %12s | %9s %8s %8s %7s | %9s %9s\n" "" "" \
        "SQLite" "SQLite" "API" "API" "API" "server" "API/" "API/"
    printf "   %-6s %5s | %12s %12s | %9s %8s %8s %7s | %9s %9s\n" sync conns \
        "plain obj/s" "kedge obj/s" "obj/s" "p50_ms" "p99_ms" "us/obj" \
        "SQLite" "kedge-sq"
    for sync in $SYNCS; do
        for c in $CONNS; do
            printf "   %-6s %5s | %12s %12s | %9s %8s %8s %7s | %9s %9s\n" \
                "$sync" "$c" "${R[sql.$sync.$c.plain.rate]:-}" \
                "${R[sql.$sync.$c.kedge.rate]:-}" "${R[api.$sync.$c.rate]:-}" \
                "${R[api.$sync.$c.p50_ms]:-}" "${R[api.$sync.$c.p99_ms]:-}" \
                "${R[api.$sync.$c.cpu_us]:-}" \
                "$(ratio "${R[api.$sync.$c.rate]:-}" "${R[sql.$sync.$c.plain.rate]:-}")" \
                "$(ratio "${R[api.$sync.$c.rate]:-}" "${R[sql.$sync.$c.kedge.rate]:-}")"
        done
    done
    echo "   (SQLite: the same bodies, one row per transaction, taking turns with the API in"
    echo "   $ROUNDS rounds; 'plain' = one key/value table, 'kedge' = kedge's two-table schema;"
    echo "   server us/obj = kedge cloud CPU time (user+system) per created object)"
    echo "   goal: API/SQLite >= 0.5"
}

summary_list() {
    local json_bytes
    json_bytes=${R[list.json.items_bytes]:-0}
    echo "2. $N_PODS pods created through the API (${R[pods.create.rate]:-?} objects/s over $POD_CONNS conns, --db-sync full)"
    printf "   %-34s %12s %12s %12s\n" "list" "median_ms" "min_ms" "MB"
    printf "   %-34s %12s %12s %12s\n" "as JSON" "${R[list.json.median_ms]:-}" \
        "${R[list.json.min_ms]:-}" "$(awk -v b="${R[list.json.bytes]:-0}" 'BEGIN { printf "%.1f", b / 1048576 }')"
    printf "   %-34s %12s %12s %12s\n" "as Table" "${R[list.table.median_ms]:-}" \
        "${R[list.table.min_ms]:-}" "$(awk -v b="${R[list.table.bytes]:-0}" 'BEGIN { printf "%.1f", b / 1048576 }')"
    printf "   %-34s %s\n" "Table/JSON time" "$(ratio "${R[list.table.median_ms]:-}" "${R[list.json.median_ms]:-}")"
    echo
    printf "   stored JSON bytes (list items)     %.1f MiB (%s objects in the store)\n" \
        "$(awk -v b="$json_bytes" 'BEGIN { print b / 1048576 }')" "${R[mem.objects]:-?}"
    printf "   kedge_store_db_bytes               %.1f MiB (%s x JSON)\n" \
        "$(awk -v b="${R[mem.db_bytes]:-0}" 'BEGIN { print b / 1048576 }')" \
        "$(ratio "${R[mem.db_bytes]:-0}" "$json_bytes")"
    printf "   %-34s %9s %9s %10s %10s %9s %9s\n" "server memory (MiB)" RSS RSS/JSON \
        PrivDirty Dirty/JSON peak peak/JSON
    local what k d h
    for what in "empty:base" "after the creates:created" \
        "after $LIST_REPEAT JSON lists:json" "after $LIST_REPEAT Table lists:table" \
        "restarted on the same data:restart"; do
        k=${R[mem.${what#*:}_rss_kb]:-0}
        d=${R[mem.${what#*:}_dirty_kb]:-0}
        h=${R[mem.${what#*:}_hwm_kb]:-}
        printf "   %-34s %9s %9s %10s %10s %9s %9s\n" "${what%%:*}" "$(mib "$k")" \
            "$(ratio $((k * 1024)) "$json_bytes")" "$(mib "$d")" \
            "$(ratio $((d * 1024)) "$json_bytes")" \
            "${h:+$(mib "$h")}" "${h:+$(ratio $((h * 1024)) "$json_bytes")}"
    done
    echo "   (peak = VmHWM during that phase: reset before each list phase)"
    printf "   %-34s %10s\n" "restart time (ms)" "${R[mem.restart_ms]:-}"
    echo "   goal: RSS <= 2x the JSON bytes"
}

summary_watch() {
    local sync
    echo "3. Watch delivery: $N_WATCHERS watchers on configmaps in one namespace, $N_CHANGES sequential creates"
    printf "   %-7s %13s %9s %9s %9s %9s %12s %12s %10s\n" sync delivered p50_ms p90_ms p99_ms max_ms write_p50_ms write_p99_ms writes/s
    for sync in $SYNCS; do
        printf "   %-7s %13s %9s %9s %9s %9s %12s %12s %10s\n" "$sync" \
            "${R[watch.$sync.delivered]:-}/${R[watch.$sync.expected]:-}" \
            "${R[watch.$sync.p50_ms]:-}" "${R[watch.$sync.p90_ms]:-}" \
            "${R[watch.$sync.p99_ms]:-}" "${R[watch.$sync.max_ms]:-}" \
            "${R[watch.$sync.write_p50_ms]:-}" "${R[watch.$sync.write_p99_ms]:-}" \
            "${R[watch.$sync.write_rate]:-}"
    done
    echo "   goal: p99 <= 10 ms (latency = watcher read time - time before the writer sent)"
}

summary_rollout() {
    local sync
    echo "4. A Deployment of $N_REPLICAS replicas: time from its POST to the ${N_REPLICAS}th pod seen on a watch"
    echo "   (pods are not bound yet: no scheduler in this measurement), vs POSTing the pods directly"
    printf "   %-7s %14s %14s %14s %12s %12s\n" sync "deploy_s" "pods_1conn_s" "pods_16conn_s" "deploy/1conn" "deploy/16conn"
    for sync in $SYNCS; do
        printf "   %-7s %14s %14s %14s %12s %12s\n" "$sync" \
            "${R[rollout.$sync.deploy.seconds]:-}" "${R[rollout.$sync.pods1.seconds]:-}" \
            "${R[rollout.$sync.pods16.seconds]:-}" \
            "$(ratio "${R[rollout.$sync.deploy.seconds]:-}" "${R[rollout.$sync.pods1.seconds]:-}")" \
            "$(ratio "${R[rollout.$sync.deploy.seconds]:-}" "${R[rollout.$sync.pods16.seconds]:-}")"
    done
}

summary() {
    local phase
    echo
    echo "== kedge benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $KEDGE_DESC) =="
    echo "   load average before: $LOAD_START, after: $(cut -d' ' -f1 /proc/loadavg) (the benchmark itself adds up to ~2)"
    for phase in $PHASES; do
        echo
        "summary_$phase"
    done
}

ensure_deps
if [ ! -x "$KEDGE_BIN" ]; then
    log "$KEDGE_BIN not found: run 'make' first (or set KEDGE_BIN)"
    exit 1
fi
# Every phase runs the same binary even if the tree is rebuilt meanwhile.
cp "$KEDGE_BIN" "$BENCH_TMP/kedge"
KEDGE_BIN=$BENCH_TMP/kedge
KEDGE_DESC="$("$KEDGE_BIN" version 2>/dev/null | head -1), tree $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
build_helpers
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD_START" 'BEGIN { exit !(l > 0.5) }'; then
    log "warning: load average $LOAD_START before the start: other work on this machine skews the figures"
fi
: >"$BENCH_TMP/results.txt"
for phase in $PHASES; do
    case $phase in
    create | list | watch | rollout) "bench_$phase" ;;
    *) log "unknown phase $phase (PHASES: create list watch rollout)" && exit 2 ;;
    esac
done
summary
if [ -n "${BENCH_RESULTS:-}" ]; then
    cp "$BENCH_TMP/results.txt" "$BENCH_RESULTS"
fi
