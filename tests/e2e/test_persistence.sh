#!/usr/bin/env bash
# kedge cloud keeps its state across restarts: a clean stop (SIGTERM) and
# a crash (kill -9 in the middle of a write storm) lose no acknowledged
# write, keep uids and resourceVersions, keep resourceVersions growing and
# keep the watch history; a corrupt database stops the server with a clear
# message instead of serving or crashing.
. "$(dirname "$0")/lib.sh"
M=$(dirname "$0")/manifests
DIR=$E2E_TMP/cloud
DB=$DIR/db/state.db

# OBJECTS: "kind/name" as kubectl takes them, all from persist.yaml.
OBJECTS="namespace/persist node/persist-edge-1 -n_persist_configmap/settings
-n_persist_secret/token -n_persist_serviceaccount/agent -n_persist_service/api
-n_persist_deployment.apps/keeper -n_persist_lease.coordination.k8s.io/leader"

# ids: "uid rv" of every object in OBJECTS, one line each.
ids() {
    local o
    for o in $OBJECTS; do
        # shellcheck disable=SC2046
        echo "$o $(kubectl get $(tr _ ' ' <<<"$o") -o jsonpath='{.metadata.uid} {.metadata.resourceVersion}')"
    done
}

# cloud_wait: waits for the cloud to exit; its exit status in CLOUD_RC.
cloud_wait() {
    CLOUD_RC=0
    wait "$CLOUD_PID" || CLOUD_RC=$?
}

# watch_events PATH RV [TIMEOUT]: "TYPE name rv" of every event a watch
# from RV sends until the server ends it after TIMEOUT seconds.
watch_events() {
    api GET "$1?watch=1&resourceVersion=$2&timeoutSeconds=${3:-2}" |
        /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    if line.strip():
        e = json.loads(line)
        md = e["object"].get("metadata", {})
        print(e["type"], md.get("name", e["object"].get("message")),
              md.get("resourceVersion", ""))
'
}

cm_json() {
    printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","namespace":"%s"},"data":{"n":"%s"}}' "$2" "$1" "$3"
}

# json_rv: metadata.resourceVersion of the object or list on stdin.
json_rv() {
    /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin).get("metadata", {}).get("resourceVersion", ""))'
}

max_rv() {
    kubectl get "$@" -o jsonpath='{range .items[*]}{.metadata.resourceVersion}{"\n"}{end}' |
        sort -n | tail -1
}

# --- 1. A clean restart keeps everything. ---------------------------------

start_cloud "$DIR"
kubectl create -f "$M/persist.yaml" >/dev/null
# A configmap held by a finalizer, marked for deletion.
kubectl create -f - >/dev/null <<JSON
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"held","namespace":"persist","finalizers":["example.com/hold"]}}
JSON
kubectl -n persist delete cm held --wait=false >/dev/null
held_ts=$(kubectl -n persist get cm held -o jsonpath='{.metadata.deletionTimestamp}')
expect_match "held configmap marked for deletion" "$held_ts" '^20'
svc_ip=$(kubectl -n persist get svc api -o jsonpath='{.spec.clusterIP}')
# A watch taken here must later see both the changes before the stop and
# those after the restart.
rv_pre=$(api GET /api/v1/namespaces/persist/configmaps | json_rv)
expect_match "list resourceVersion" "$rv_pre" '^[0-9]+$'
kubectl -n persist patch cm settings --type=merge -p '{"data":{"mode":"cloud"}}' >/dev/null
before=$(ids)
last_rv=$(kubectl -n persist get cm settings -o jsonpath='{.metadata.resourceVersion}')
for o in $OBJECTS; do
    expect_match "$o has uid and resourceVersion" "$(grep -F -- "$o " <<<"$before")" \
        ' [0-9a-f-]{36} [0-9]+$'
done

kill -TERM "$CLOUD_PID"
cloud_wait
expect_eq "exit status after SIGTERM" "$CLOUD_RC" 0
expect_match "SIGTERM is logged" "$(cat "$DIR.log")" 'received SIGTERM, shutting down'

start_cloud "$DIR"
expect_match "restart reports the stored revision" "$(cat "$DIR.log")" \
    "serving the Kubernetes API on https://127.0.0.1:$CLOUD_PORT \\(revision $last_rv, "
after=$(ids)
expect_eq "uids and resourceVersions after SIGTERM + restart" "$after" "$before"
out=$(kubectl -n persist get cm settings -o jsonpath='{.data.mode}')
expect_eq "configmap content" "$out" "cloud"
out=$(kubectl -n persist get secret token -o jsonpath='{.data.token}' | base64 -d)
expect_eq "secret content" "$out" "t0ps3cret"
out=$(kubectl -n persist get deploy keeper -o jsonpath='{.spec.replicas} {.metadata.generation} {.spec.template.spec.containers[0].image}')
expect_eq "deployment content" "$out" "2 1 busybox:1.36"
out=$(kubectl -n persist get svc api -o jsonpath='{.spec.clusterIP}')
expect_eq "service keeps its cluster IP" "$out" "$svc_ip"
out=$(kubectl -n persist get cm held -o jsonpath='{.metadata.deletionTimestamp} {.metadata.finalizers[0]}')
expect_eq "deletionTimestamp and finalizer survive" "$out" "$held_ts example.com/hold"

# The next write continues the revision sequence.
out=$(kubectl -n persist patch cm settings --type=merge -p '{"data":{"mode":"both"}}' -o jsonpath='{.metadata.resourceVersion}')
[ "$out" -gt "$last_rv" ] 2>/dev/null ||
    fail "resourceVersion after restart did not grow: $last_rv -> $out"
uid=$(kubectl -n persist get cm settings -o jsonpath='{.metadata.uid}')
expect_eq "a write keeps the uid" "$uid" "$(grep -F configmap/settings <<<"$before" | cut -d' ' -f2)"
# The service IP allocator remembers the stored service.
kubectl create -f - >/dev/null <<JSON
{"apiVersion":"v1","kind":"Service","metadata":{"name":"api2","namespace":"persist"},"spec":{"ports":[{"port":80}]}}
JSON
out=$(kubectl -n persist get svc api2 -o jsonpath='{.spec.clusterIP}')
expect_match "new service gets a cluster IP" "$out" '^10\.'
[ "$out" != "$svc_ip" ] || fail "new service got the stored service's IP $svc_ip"
# The finalizer can still be removed: the object goes.
kubectl -n persist patch cm held --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
expect_fail_match "held configmap gone once released" 'configmaps "held" not found' \
    kubectl -n persist get cm held

# Watch from before the restart: the patch before the stop, the one after,
# and the deletion of "held" (releasing the last finalizer of an object
# being deleted deletes it: one DELETED event), in order, nothing older.
out=$(watch_events /api/v1/namespaces/persist/configmaps "$rv_pre")
got=$(awk '{print $1, $2}' <<<"$out" | tr '\n' ';')
expect_eq "watch across the restart" "$got" \
    "MODIFIED settings;MODIFIED settings;DELETED held;"
rvs=$(awk '{print $3}' <<<"$out" | tr '\n' ' ')
expect_eq "watch resourceVersions increase" "$rvs" "$(tr ' ' '\n' <<<"$rvs" | sed '/^$/d' | sort -n | tr '\n' ' ')"
first=$(awk 'NR==1 {print $3}' <<<"$out")
[ -n "$first" ] && [ "$first" -gt "$rv_pre" ] ||
    fail "watch from $rv_pre started at $first"

# --- 2. kill -9 during a write storm loses no acknowledged write. ---------

kubectl create -f - >/dev/null <<<'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"storm"}}'
rv_storm=$(api GET /api/v1/namespaces/storm/configmaps | json_rv)
ACKED=$E2E_TMP/acked
: >"$ACKED"
(
    set +e
    for i in $(seq 1 200); do
        code=$(api POST /api/v1/namespaces/storm/configmaps \
            -H 'Content-Type: application/json' -d "$(cm_json storm "cm-$i" "$i")" \
            -o /dev/null -w '%{http_code}' --max-time 5 2>/dev/null)
        if [ "$code" = 201 ]; then echo "cm-$i" >>"$ACKED"; fi
    done
) &
STORM_PID=$!
E2E_PIDS+=("$STORM_PID")
for i in $(seq 1 600); do
    [ "$(wc -l <"$ACKED")" -ge 60 ] && break
    kill -0 "$STORM_PID" 2>/dev/null || break
    sleep 0.05
done
kill -KILL "$CLOUD_PID"
cloud_wait
expect_eq "cloud killed by SIGKILL" "$CLOUD_RC" 137
acked_at_kill=$(wc -l <"$ACKED")
wait "$STORM_PID" || true
acked=$(wc -l <"$ACKED")
[ "$acked" -ge 60 ] || fail "only $acked writes acknowledged before the kill"
[ "$acked" -lt 200 ] || fail "the storm finished before the kill; nothing was in flight"
[ "$acked" = "$acked_at_kill" ] || [ "$acked" = $((acked_at_kill + 1)) ] ||
    fail "writes acknowledged after the kill: $acked_at_kill -> $acked"

start_cloud "$DIR"
stored=$(kubectl -n storm get cm -o name | sed 's|configmap/||' | sort -V)
missing=$(comm -23 <(sort "$ACKED") <(sort <<<"$stored") | tr '\n' ' ')
expect_eq "acknowledged writes missing after kill -9" "$missing" ""
n=$(wc -l <<<"$stored")
# Sequential writes: what is stored is cm-1..cm-n, at most one more than
# was acknowledged (the write in flight may have committed).
expect_eq "stored configmaps are a prefix of the storm" "$stored" "$(seq 1 "$n" | sed 's/^/cm-/')"
[ "$n" -le $((acked + 1)) ] || fail "$n configmaps stored but only $acked acknowledged"
out=$(kubectl -n storm get cm cm-1 -o jsonpath='{.data.n}')
expect_eq "content after kill -9" "$out" "1"
after=$(ids | grep -v configmap/settings)
expect_eq "earlier objects after kill -9" "$after" "$(grep -v configmap/settings <<<"$before")"

# Revisions keep growing after the crash, and a watch from before the
# storm replays it and sees the writes after the restart.
top=$(max_rv -n storm cm)
rv_new=$(api POST /api/v1/namespaces/storm/configmaps -H 'Content-Type: application/json' \
    -d "$(cm_json storm after-crash x)" | json_rv)
[ -n "$rv_new" ] && [ "$rv_new" -gt "$top" ] ||
    fail "resourceVersion after kill -9 did not grow: $top -> $rv_new"
out=$(watch_events /api/v1/namespaces/storm/configmaps "$rv_storm")
expect_eq "watch from before the crash: ADDED events" "$(grep -c '^ADDED ' <<<"$out")" "$((n + 1))"
expect_eq "watch from before the crash: first" "$(head -1 <<<"$out" | cut -d' ' -f1-2)" "ADDED cm-1"
expect_eq "watch from before the crash: last" "$(tail -1 <<<"$out")" "ADDED after-crash $rv_new"
expect_eq "watch from before the crash: nothing else" "$(grep -vc '^ADDED ' <<<"$out")" "0"

# --- 3. A corrupt database stops the server with a clear message. ----------

kill -TERM "$CLOUD_PID"
cloud_wait
expect_eq "exit status after SIGTERM" "$CLOUD_RC" 0
[ ! -s "$DB-wal" ] || fail "WAL not checkpointed on a clean stop ($(stat -c %s "$DB-wal") bytes)"
pagesize=$(sqlite3 "$DB" 'PRAGMA page_size')
pages=$(($(stat -c %s "$DB") / pagesize))
[ "$pages" -ge 8 ] || fail "database unexpectedly small: $pages pages"

# corrupt_run WHAT: starts the cloud on the corrupted copy in $DIR.bad and
# checks it refuses to serve, with a one-line error naming the file.
corrupt_run() {
    local what=$1 bad=$E2E_TMP/bad rc=0
    "$KEDGE_BIN" cloud --data-dir "$bad" --secure-port 0 --hub-port 0 --db-sync normal \
        >"$bad.out" 2>"$bad.err" &
    local pid=$!
    E2E_PIDS+=("$pid")
    local i
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        grep -q 'kedge cloud ready' "$bad.out" && break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$what: kedge cloud serves a corrupt database: $(cat "$bad.out")"
        kill -KILL "$pid"
        wait "$pid" || true
        return
    fi
    wait "$pid" || rc=$?
    [ "$rc" -ne 0 ] || fail "$what: exit status 0 on a corrupt database"
    [ "$rc" -lt 128 ] || fail "$what: kedge cloud died of signal $((rc - 128))"
    expect_eq "$what: nothing served" "$(cat "$bad.out")" ""
    local lines
    lines=$(grep -c . "$bad.err" || true)
    # The log may say what failed first; the last line is the verdict.
    expect_match "$what: message names the database" "$(tail -1 "$bad.err")" \
        "^kedge cloud: .*$bad/db/state\.db.*(corrupt|malformed|not a database)"
    [ "$lines" -le 3 ] || fail "$what: $lines lines of errors: $(cat "$bad.err")"
}

# Garbage over two pages in the middle of the file.
rm -rf "$E2E_TMP/bad"
cp -a "$DIR" "$E2E_TMP/bad"
dd if=/dev/urandom of="$E2E_TMP/bad/db/state.db" bs="$pagesize" seek=$((pages / 2)) \
    count=2 conv=notrunc status=none
corrupt_run "garbage in the middle"

# Garbage over the header.
rm -rf "$E2E_TMP/bad"
cp -a "$DIR" "$E2E_TMP/bad"
dd if=/dev/urandom of="$E2E_TMP/bad/db/state.db" bs=100 count=1 conv=notrunc status=none
corrupt_run "garbage over the header"

# Truncated to half.
rm -rf "$E2E_TMP/bad"
cp -a "$DIR" "$E2E_TMP/bad"
truncate -s $(((pages / 2) * pagesize)) "$E2E_TMP/bad/db/state.db"
corrupt_run "truncated file"

# Garbage inside one stored object (a record SQLite's own checks cannot
# tell from data): the server must not start and hand out broken JSON.
rm -rf "$E2E_TMP/bad"
cp -a "$DIR" "$E2E_TMP/bad"
off=$(grep -boa '"name":"cm-1"' "$E2E_TMP/bad/db/state.db" | head -1 | cut -d: -f1)
if [ -z "$off" ]; then
    fail "cm-1 not found in $DB"
else
    printf '\001\377{{{"' | dd of="$E2E_TMP/bad/db/state.db" bs=1 seek=$((off + 3)) \
        conv=notrunc status=none
    corrupt_run "garbage inside a stored object"
fi

# The intact database still serves.
start_cloud "$DIR"
out=$(kubectl -n storm get cm after-crash -o jsonpath='{.data.n}')
expect_eq "intact database after all that" "$out" "x"

e2e_finish
