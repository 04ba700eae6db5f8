#!/usr/bin/env bash
# kedge edge: joins with a token (a wrong one is a one-line error), its
# Node gets Ready, a bound pod runs with an IP, only the configmaps its
# pods reference reach the edge, the local API serves the edge's store
# (read-only but for status) also while the cloud is down and after a
# restart without the cloud, statuses written offline reach the cloud
# after the reconnect, and a pod deleted while the edge was away goes.
source "$(dirname "$0")/lib.sh"

start_cloud "$E2E_TMP/cloud"
TOKEN=$("$KEDGE_BIN" token create --data-dir "$E2E_TMP/cloud")
EDGE_DIR=$E2E_TMP/edge
LKC=$EDGE_DIR/local.kubeconfig
lk() { kubectl --kubeconfig "$LKC" "$@"; }

# A wrong token: one line on stderr, exit status 1.
BAD=${TOKEN%.*}.0000000000000000
set +e
"$KEDGE_BIN" edge --data-dir "$E2E_TMP/bad" --name bad --cloud "$HUB_URL" \
    --token "$BAD" >"$E2E_TMP/bad.out" 2>"$E2E_TMP/bad.err"
rc=$?
set -e
expect_eq "exit status with a wrong token" "$rc" 1
expect_eq "lines on stderr with a wrong token" "$(wc -l <"$E2E_TMP/bad.err")" 1
expect_match "wrong token message" "$(cat "$E2E_TMP/bad.err")" '^kedge edge: .*token'
expect_fail_match "runc is not available yet" "runc is not available yet" \
    "$KEDGE_BIN" edge --data-dir "$E2E_TMP/bad" --name bad --cloud "$HUB_URL" \
    --token "$TOKEN" --runtime runc

# start_edge [flags...]: starts the edge, waits for its ready line.
start_edge() {
    local out=$EDGE_DIR.out.$RANDOM
    "$KEDGE_BIN" edge --data-dir "$EDGE_DIR" --name e1 --cloud "$HUB_URL" \
        --local-api 127.0.0.1:0 --labels site=lab "$@" >"$out" 2>>"$EDGE_DIR.log" &
    EDGE_PID=$!
    E2E_PIDS+=("$EDGE_PID")
    local i
    for i in $(seq 1 100); do
        grep -q "kedge edge ready" "$out" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "kedge edge did not start"
    cat "$EDGE_DIR.log" >&2
}

start_edge --token "$TOKEN"
node_ready() {
    [ "$(kubectl get node e1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
wait_until "the edge's node is Ready" 30 node_ready
expect_match "kubectl get nodes" "$(kubectl get nodes --no-headers)" '^e1 +Ready +edge '
expect_eq "label from --labels" "$(kubectl get node e1 -o jsonpath='{.metadata.labels.site}')" lab
expect_eq "hostname label" "$(kubectl get node e1 -o jsonpath='{.metadata.labels.kubernetes\.io/hostname}')" e1
expect_match "joined-at annotation" "$(kubectl get node e1 -o jsonpath='{.metadata.annotations.kedge\.io/joined-at}')" '^20[0-9-]+T[0-9:]+Z$'
expect_eq "runtime version" "$(kubectl get node e1 -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}')" kedge://fake
expect_match "memory capacity" "$(kubectl get node e1 -o jsonpath='{.status.capacity.memory}')" '^[0-9]+Ki$'

kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: used}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unused}
data: {b: "2"}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: e1
  containers:
  - name: app
    image: nginx:1.25
    envFrom: [{configMapRef: {name: used}}]
EOF
running() { [ "$(kubectl get pod web -o jsonpath='{.status.phase}')" = Running ]; }
wait_until "the pod runs on the edge" 30 running
IP=$(kubectl get pod web -o jsonpath='{.status.podIP}')
expect_match "pod IP" "$IP" '^10\.244\.[0-9]+\.[0-9]+$'
expect_match "cloud: get pods -o wide" "$(kubectl get pods -o wide --no-headers)" "^web +1/1 +Running +0 +[0-9a-z]+ +$IP +e1 "
expect_match "local: get pods -o wide" "$(lk get pods -o wide --no-headers)" "^web +1/1 +Running +0 +[0-9a-z]+ +$IP +e1 "
expect_match "local: get nodes" "$(lk get nodes --no-headers)" '^e1 +Ready +edge '
expect_match "local: the referenced configmap" "$(lk get cm --no-headers)" '^used '
expect_fail_match "local: an unreferenced configmap is not on the edge" "not found" lk get cm unused
expect_fail_match "local: writes are refused" "MethodNotAllowed|read-only replica" lk delete pod web
expect_fail_match "local: creates are refused" "MethodNotAllowed|read-only replica" lk create cm x --from-literal=a=b

# A local watch sees a change made on the cloud.
lk get pods -w --output-watch-events >"$E2E_TMP/watch.out" 2>&1 &
WATCH_PID=$!
E2E_PIDS+=("$WATCH_PID")
sleep 1
kubectl label pod web tier=front >/dev/null
watched() { grep -q MODIFIED "$E2E_TMP/watch.out"; }
wait_until "local watch sees the label change" 15 watched
kill "$WATCH_PID" 2>/dev/null || true
expect_eq "label reached the edge" "$(lk get pod web -o jsonpath='{.metadata.labels.tier}')" front

# A pod being deleted (held by a finalizer) is stopped by the edge, which
# then deletes it on the cloud like a kubelet (grace 0, uid precondition).
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: held, finalizers: [example.com/hold]}
spec:
  nodeName: e1
  containers: [{name: app, image: busybox}]
EOF
held_running() { [ "$(kubectl get pod held -o jsonpath='{.status.phase}')" = Running ]; }
wait_until "the held pod runs" 30 held_running
kubectl delete pod held --wait=false >/dev/null
stopped() { grep -q "pod default/held stopped; deleting it" "$EDGE_DIR.log"; }
wait_until "the edge stops a pod being deleted" 30 stopped
kubectl patch pod held --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
held_gone() { ! lk get pod held >/dev/null 2>&1 && ! kubectl get pod held >/dev/null 2>&1; }
wait_until "the held pod is gone from cloud and edge" 30 held_gone

# The cloud dies: the edge keeps serving its pods.
stop_cloud KILL
expect_match "local API with the cloud down" "$(lk get pods -o wide --no-headers)" "^web +1/1 +Running .* $IP +e1 "
# A status written locally while offline is applied at once and queued.
lk patch pod web --subresource=status --type=merge \
    -p '{"status":{"message":"written offline"}}' >/dev/null
expect_eq "offline status applied locally" "$(lk get pod web -o jsonpath='{.status.message}')" "written offline"

# The edge restarts while the cloud is down: no token, no cloud needed.
kill "$EDGE_PID"; wait "$EDGE_PID" 2>/dev/null || true
start_edge
expect_match "local API right after a restart without the cloud" \
    "$(lk get pods -o wide --no-headers)" "^web +1/1 +Running .* $IP +e1 "
expect_eq "offline status survives the restart" "$(lk get pod web -o jsonpath='{.status.message}')" "written offline"

# The cloud comes back: the edge reconnects and the queued status lands.
start_cloud "$E2E_TMP/cloud"
offline_status_arrived() {
    [ "$(kubectl get pod web -o jsonpath='{.status.message}')" = "written offline" ]
}
wait_until "status written offline reaches the cloud" 60 offline_status_arrived
expect_eq "pod IP stable across edge restarts" "$(kubectl get pod web -o jsonpath='{.status.podIP}')" "$IP"
reconnected() { grep -q "in sync with the cloud" <(tail -n 5 "$EDGE_DIR.log"); }
wait_until "edge logged the reconnection" 30 reconnected

# The pod is deleted while the edge is away: gone after the reconnect.
kill "$EDGE_PID"; wait "$EDGE_PID" 2>/dev/null || true
kubectl delete pod web --wait=false >/dev/null
start_edge
gone() { ! lk get pod web >/dev/null 2>&1; }
wait_until "deleted pod gone from the edge" 30 gone
cm_gone() { ! lk get cm used >/dev/null 2>&1; }
wait_until "its configmap is no longer on the edge" 30 cm_gone
expect_match "edge log names its state changes" "$(cat "$EDGE_DIR.log")" 'disconnected from .*connection'

e2e_finish
