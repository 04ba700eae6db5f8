#!/usr/bin/env bash
# The node lifecycle controller with real kubectl: nodes stay Ready while
# their Lease (or Ready heartbeat) is renewed; a silent node goes
# Ready=Unknown with the unreachable taint and its pods not ready but kept;
# it comes back with the same pods; eviction only when a node asks for it
# (kedge.io/eviction-timeout), sparing DaemonSet pods; a cloud restart
# does not judge nodes by how old their last renewal is.
source "$(dirname "$0")/lib.sh"

CLOUD_DIR="$E2E_TMP/cloud"
start_cloud "$CLOUD_DIR" --node-grace-period 4s

ts() { date -u +%Y-%m-%dT%H:%M:%SZ; }
microts() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }

# Writes go through curl in the background loops: lighter than kubectl,
# so a loaded machine does not stretch the renewal interval.
renew_lease() { # NODE
    api PATCH "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$1" \
        -H 'Content-Type: application/merge-patch+json' \
        -d "{\"spec\":{\"renewTime\":\"$(microts)\"}}" >/dev/null 2>&1
}
# post_ready NODE [STATUS]: what a kubelet posts: its Ready condition
# (True unless STATUS says otherwise) with a fresh heartbeat.
post_ready() {
    local now status=${2:-True} reason=KubeletReady
    now=$(ts)
    if [ "$status" != True ]; then reason=KubeletNotReady; fi
    api PATCH "/api/v1/nodes/$1/status" \
        -H 'Content-Type: application/merge-patch+json' \
        -d "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"$status\",\"reason\":\"$reason\",\"message\":\"kubelet says $status\",\"lastHeartbeatTime\":\"$now\",\"lastTransitionTime\":\"$now\"}]}}" \
        >/dev/null 2>&1
}

LOOP_PID=
# start_loop FN NODE: calls FN NODE every half second in the background.
start_loop() {
    (while true; do "$1" "$2" || true; sleep 0.5; done) &
    LOOP_PID=$!
    E2E_PIDS+=("$LOOP_PID")
}
stop_loop() {
    kill "$LOOP_PID" 2>/dev/null || true
    wait "$LOOP_PID" 2>/dev/null || true
    LOOP_PID=
}

make_node() { # NAME [EVICTION-TIMEOUT]
    local ann=""
    if [ -n "${2:-}" ]; then
        ann="  annotations: {kedge.io/eviction-timeout: \"$2\"}"
    fi
    kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels: {kubernetes.io/hostname: $1}
$ann
EOF
}
make_lease() { # NODE
    kubectl create -f - >/dev/null <<EOF
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: $1, namespace: kube-node-lease}
spec: {holderIdentity: $1, leaseDurationSeconds: 40, renewTime: "$(microts)"}
EOF
}
make_pod() { # NAME NODE
    kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  namespace: default
spec:
  nodeName: $2
  containers: [{name: c, image: registry.k8s.io/pause:3.10}]
EOF
    kubectl patch pod "$1" --subresource=status --type=merge \
        -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null
}
# make_daemon NAME NODE: a DaemonSet running only on NODE (labelled
# agent=yes); its controller makes the pod and the scheduler binds it.
make_daemon() {
    kubectl label node "$2" agent=yes --overwrite >/dev/null
    kubectl patch node "$2" --subresource=status --type=merge -p \
        '{"status":{"allocatable":{"cpu":"2","memory":"2Gi","pods":"10"}}}' >/dev/null
    kubectl apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $1, namespace: default}
spec:
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      nodeSelector: {agent: "yes"}
      containers: [{name: c, image: registry.k8s.io/pause:3.10}]
EOF
    wait_until "the DaemonSet's pod is bound to $2" 60 daemon_on "$1" "$2"
}
daemon_on() { [ "$(kubectl get pods -l app="$1" -o jsonpath='{.items[*].spec.nodeName}')" = "$2" ]; }

node_status() { kubectl get node "$1" --no-headers | awk '{print $2}'; }
is_status() { [ "$(node_status "$1")" = "$2" ]; }
taints() { kubectl get node "$1" -o jsonpath='{range .spec.taints[*]}{.key}:{.effect};{end}'; }
has_taint() { grep -q "$2" <<<"$(taints "$1")"; }
no_taint() { ! has_taint "$@"; }
pod_ready() { kubectl get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; }
pod_ready_is() { [ "$(pod_ready "$1")" = "$2" ]; }
pod_gone() { ! kubectl get pod "$1" >/dev/null 2>&1; }
# event_exists OBJECT REASON: an event about OBJECT with REASON exists.
event_exists() {
    kubectl get events -A -o jsonpath='{range .items[*]}{.involvedObject.name}/{.reason}/{.type}{"\n"}{end}' |
        grep -q "^$1/$2/"
}

# ---- a node alive by its Lease -------------------------------------------

make_node edge-1
make_lease edge-1
post_ready edge-1
make_pod web edge-1
UID1=$(kubectl get pod web -o jsonpath='{.metadata.uid}')
start_loop renew_lease edge-1
expect_eq "a renewed node is Ready" "$(node_status edge-1)" "Ready"
# Two grace periods of renewals: it must stay Ready throughout.
for i in $(seq 1 8); do
    sleep 1
    if ! is_status edge-1 Ready; then
        fail "edge-1 went $(node_status edge-1) while its Lease was renewed"
        break
    fi
done
expect_eq "no taint on a live node" "$(taints edge-1)" ""
expect_eq "pod on a live node stays ready" "$(pod_ready web)" "True"

# ---- it falls silent --------------------------------------------------------

stop_loop
wait_until "silent node edge-1 is NotReady" 60 is_status edge-1 NotReady
expect_eq "Ready condition is Unknown" \
    "$(kubectl get node edge-1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "Unknown"
expect_eq "Ready reason" \
    "$(kubectl get node edge-1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')" "NodeStatusUnknown"
expect_eq "Ready message" \
    "$(kubectl get node edge-1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" \
    "Kubelet stopped posting node status."
wait_until "edge-1 has the unreachable taint" 60 has_taint edge-1 "node.kubernetes.io/unreachable:NoSchedule;"
expect_match "the taint records when it was added" \
    "$(kubectl get node edge-1 -o jsonpath='{.spec.taints[?(@.key=="node.kubernetes.io/unreachable")].timeAdded}')" \
    '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T'
wait_until "a NodeNotReady event about edge-1" 60 event_exists edge-1 NodeNotReady
expect_match "NodeNotReady message" \
    "$(kubectl get events -A -o jsonpath='{.items[?(@.reason=="NodeNotReady")].message}')" \
    'Node edge-1 status is now: NodeNotReady'
wait_until "the pod on edge-1 is not ready" 60 pod_ready_is web False
expect_eq "the pod on the silent node is kept (same uid)" \
    "$(kubectl get pod web -o jsonpath='{.metadata.uid}')" "$UID1"
expect_match "kubectl describe node shows the taint" \
    "$(kubectl describe node edge-1)" 'Taints: +node.kubernetes.io/unreachable:NoSchedule'

# ---- it comes back ------------------------------------------------------------

post_ready edge-1
start_loop renew_lease edge-1
wait_until "edge-1 is Ready again" 60 is_status edge-1 Ready
wait_until "the unreachable taint is gone" 60 no_taint edge-1 unreachable
wait_until "a NodeReady event about edge-1" 60 event_exists edge-1 NodeReady
expect_eq "the pod kept its identity" \
    "$(kubectl get pod web -o jsonpath='{.metadata.uid}')" "$UID1"
expect_eq "no pod was recreated" "$(kubectl get pods --no-headers | wc -l | tr -d ' ')" "1"

# ---- a node that says it is not ready ----------------------------------------

post_ready edge-1 False
wait_until "edge-1 reporting Ready=False is NotReady" 60 is_status edge-1 NotReady
wait_until "edge-1 gets the not-ready taint" 60 has_taint edge-1 "node.kubernetes.io/not-ready:NoSchedule;"
expect_eq "a node that reports itself has no unreachable taint" \
    "$(taints edge-1)" "node.kubernetes.io/not-ready:NoSchedule;"
expect_eq "its own reason is kept" \
    "$(kubectl get node edge-1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')" "KubeletNotReady"
post_ready edge-1
wait_until "edge-1 is Ready after reporting so" 60 is_status edge-1 Ready
wait_until "the not-ready taint is gone" 60 no_taint edge-1 not-ready

# ---- opt-in eviction ------------------------------------------------------------

make_node edge-2 3s
make_lease edge-2
post_ready edge-2
make_pod job-1 edge-2
make_daemon agent edge-2
wait_until "edge-2 goes NotReady without renewals" 60 is_status edge-2 NotReady
wait_until "edge-2's pod is evicted after 3s unreachable" 60 pod_gone job-1
wait_until "an eviction event" 60 event_exists job-1 NodeControllerEviction
expect_eq "the DaemonSet pod on edge-2 stays" \
    "$(kubectl get pods -l app=agent -o jsonpath='{.items[*].spec.nodeName}')" "edge-2"
expect_eq "edge-1 (no eviction timeout) kept its pod" \
    "$(kubectl get pod web -o jsonpath='{.metadata.uid}')" "$UID1"

# ---- heartbeats by the Ready condition alone --------------------------------------

stop_loop
make_node edge-3
post_ready edge-3
start_loop post_ready edge-3
for i in $(seq 1 8); do
    sleep 1
    if ! is_status edge-3 Ready; then
        fail "edge-3 went $(node_status edge-3) while posting heartbeats"
        break
    fi
done
stop_loop
wait_until "edge-3 without heartbeats is NotReady" 60 is_status edge-3 NotReady

# ---- a cloud restart does not judge nodes by old renewals ---------------------------

post_ready edge-1
renew_lease edge-1
wait_until "edge-1 is Ready before the restart" 60 is_status edge-1 Ready
stop_cloud
sleep 6 # longer than the grace period, with nobody renewing
start_cloud "$CLOUD_DIR" --node-grace-period 4s
start_loop renew_lease edge-1
for i in $(seq 1 8); do
    sleep 1
    if ! is_status edge-1 Ready; then
        fail "edge-1 went $(node_status edge-1) after the restart though renewed"
        break
    fi
done
stop_loop
expect_eq "the pod survived the restart" \
    "$(kubectl get pod web -o jsonpath='{.metadata.uid}')" "$UID1"

e2e_finish
