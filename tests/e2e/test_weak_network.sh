#!/usr/bin/env bash
# Edges behind a bad link (tests/tools/faultproxy between hollow edges and
# the hub): a 60 s cut while pods change, flapping every 2 s, 500 ms of
# added latency. Each time the nodes reconnect, resume from their revision
# and converge: every pod bound to them ends Running, deleted ones stay
# deleted.
source "$(dirname "$0")/lib.sh"

start_cloud "$E2E_TMP/cloud"
TOKEN=$("$KEDGE_BIN" token create --data-dir "$E2E_TMP/cloud")
start_faultproxy "$HUB_PORT"
expect_eq "fault proxy answers" "$(fp stats | cut -d' ' -f1)" "connections"

"$KEDGE_BIN" hollow --cloud "https://127.0.0.1:$FP_PORT" --token "$TOKEN" \
    --nodes 3 --name-prefix w- >"$E2E_TMP/hollow.out" 2>"$E2E_TMP/hollow.log" &
E2E_PIDS+=("$!")
connected() { grep -q "3 nodes connected" "$E2E_TMP/hollow.out"; }
wait_until "hollow nodes connect through the proxy" 60 connected

pod() { # NAME NODE
    kubectl apply -f - >/dev/null <<EOF2
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: default}
spec:
  nodeName: $2
  containers: [{name: app, image: busybox}]
EOF2
}
running() { [ "$(kubectl get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ]; }
all_running() { local p; for p in "$@"; do running "$p" || return 1; done; }

pod a0 w-0; pod a1 w-1; pod a2 w-2
wait_until "pods run before the cut" 60 all_running a0 a1 a2

# 1. A 60 s cut while pods are created and deleted.
expect_eq "cut" "$(fp cut)" "ok"
pod b0 w-0; pod b1 w-1; pod b2 w-2
kubectl delete pod a1 --wait=false >/dev/null
sleep 5
expect_eq "new pods wait while the link is cut" \
    "$(kubectl get pod b0 -o jsonpath='{.status.phase}')" "Pending"
sleep 55
expect_eq "pass" "$(fp pass)" "ok"
wait_until "after the cut every new pod runs" 90 all_running b0 b1 b2 a0 a2
expect_fail_match "the pod deleted during the cut stays deleted" "not found" \
    kubectl get pod a1
resumed() { grep -q "resumed from revision" "$E2E_TMP/cloud.log"; }
wait_until "the nodes resumed incrementally (no snapshot)" 10 resumed

# 2. Flapping every 2 s for a minute while pods keep coming.
expect_eq "flap" "$(fp flap 2000 2000)" "ok"
names=()
for i in $(seq 0 14); do
    pod "f$i" "w-$((i % 3))"
    names+=("f$i")
    sleep 4
done
expect_eq "pass after flapping" "$(fp pass)" "ok"
wait_until "after flapping every pod runs" 90 all_running "${names[@]}"

# 3. 500 ms of added latency each way.
expect_eq "delay" "$(fp delay 500)" "ok"
pod d0 w-0; pod d1 w-2
wait_until "pods run over a 500 ms link" 60 all_running d0 d1
fp pass >/dev/null

e2e_finish
