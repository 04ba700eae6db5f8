#!/usr/bin/env bash
# kedge hollow: simulated edge nodes join with a token, register Ready
# Nodes, keep their sessions, and run bound pods with the fake runtime.
source "$(dirname "$0")/lib.sh"

# A short grace period: connected nodes must stay Ready through their
# sessions alone (the hub renews leases only every 30 s).
start_cloud "$E2E_TMP/cloud" --node-grace-period 5s
TOKEN=$("$KEDGE_BIN" token create --data-dir "$E2E_TMP/cloud")

expect_fail_match "hollow with a bad token" "token" \
    "$KEDGE_BIN" hollow --cloud "$HUB_URL" --token nonsense --nodes 1
expect_fail_match "hollow with a wrong hub address" "cannot fetch the cloud's CA" \
    "$KEDGE_BIN" hollow --cloud "https://127.0.0.1:1" --token "$TOKEN" --nodes 1

"$KEDGE_BIN" hollow --cloud "$HUB_URL" --token "$TOKEN" --nodes 20 \
    --name-prefix h- --data-dir "$E2E_TMP/hollow" \
    >"$E2E_TMP/hollow.out" 2>"$E2E_TMP/hollow.log" &
HOLLOW_PID=$!
E2E_PIDS+=("$HOLLOW_PID")

ready_nodes() { kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true; }
twenty_ready() { [ "$(ready_nodes)" = 20 ]; }
wait_until "20 hollow nodes are Ready" 60 twenty_ready
expect_eq "node labels" "$(kubectl get node h-7 -o jsonpath='{.metadata.labels.kubernetes\.io/hostname}')" "h-7"
twenty_leases() { [ "$(kubectl get lease -n kube-node-lease --no-headers | grep -c '^h-')" = 20 ]; }
wait_until "each node has a lease" 30 twenty_leases

for i in 0 1 2; do
    kubectl apply -f - >/dev/null <<EOF2
apiVersion: v1
kind: Pod
metadata: {name: p$i, namespace: default}
spec:
  nodeName: h-$((i * 5))
  containers: [{name: app, image: busybox}]
EOF2
done
running() { [ "$(kubectl get pod "$1" -o jsonpath='{.status.phase}')" = Running ]; }
for i in 0 1 2; do wait_until "pod p$i runs on its hollow node" 30 running "p$i"; done
expect_match "pod IP from the node's range" "$(kubectl get pod p1 -o jsonpath='{.status.podIP}')" '^100\.(64|65)\.'
expect_eq "ready condition" "$(kubectl get pod p2 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "True"

kubectl delete pod p0 --timeout=30s >/dev/null
expect_fail_match "deleted pod is gone" "not found" kubectl get pod p0

# A restart of the hollow process reuses its identities (--data-dir).
kill "$HOLLOW_PID"; wait "$HOLLOW_PID" 2>/dev/null || true
"$KEDGE_BIN" hollow --cloud "$HUB_URL" --token "$TOKEN" --nodes 20 \
    --name-prefix h- --data-dir "$E2E_TMP/hollow" \
    >"$E2E_TMP/hollow2.out" 2>"$E2E_TMP/hollow2.log" &
E2E_PIDS+=("$!")
connected() { grep -q "20 nodes connected" "$E2E_TMP/hollow2.out"; }
wait_until "hollow nodes reconnect with saved identities" 60 connected
expect_eq "pods still running after the reconnect" "$(kubectl get pod p1 -o jsonpath='{.status.phase}')" "Running"
sleep 8
expect_eq "connected nodes stay Ready past the grace period" "$(ready_nodes)" "20"

# The edges go away: their nodes turn NotReady (Unknown), their pods stay.
kill "${E2E_PIDS[-1]}"; wait "${E2E_PIDS[-1]}" 2>/dev/null || true
none_ready() { [ "$(ready_nodes)" = 0 ]; }
wait_until "nodes without a session turn NotReady" 60 none_ready
expect_eq "Ready is Unknown" "$(kubectl get node h-5 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "Unknown"
expect_match "unreachable taint" "$(kubectl get node h-5 -o jsonpath='{.spec.taints[*].key}')" "node.kubernetes.io/unreachable"
expect_eq "pods of unreachable nodes are kept" "$(kubectl get pod p1 -o jsonpath='{.spec.nodeName}')" "h-5"

e2e_finish
