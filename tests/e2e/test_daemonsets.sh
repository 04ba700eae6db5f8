#!/usr/bin/env bash
# The DaemonSet controller with real kubectl over three hollow edge nodes:
# one pod per node (bound by the scheduler, Running on the fake runtime),
# node label changes add and remove pods, untolerated taints keep new
# pods away, a template change replaces the pods.
source "$(dirname "$0")/lib.sh"

start_cloud "$E2E_TMP/cloud"
TOKEN=$("$KEDGE_BIN" token create --data-dir "$E2E_TMP/cloud")
"$KEDGE_BIN" hollow --cloud "$HUB_URL" --token "$TOKEN" --nodes 3 \
    --name-prefix d- >"$E2E_TMP/hollow.out" 2>"$E2E_TMP/hollow.log" &
E2E_PIDS+=("$!")
ready3() { [ "$(kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" = 3 ]; }
wait_until "three hollow nodes" 60 ready3

ds() { # NAME IMAGE [nodeSelector YAML]
    kubectl apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $1}
spec:
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      ${3:-}
      containers: [{name: agent, image: $2}]
EOF
}
running_nodes() { # APP -> sorted nodes of its Running pods
    kubectl get pods -l app="$1" -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.spec.nodeName}{"\n"}{end}' | sort | tr '\n' ' '
}
is_on() { [ "$(running_nodes "$1")" = "$2" ]; }

ds agent busybox:1
wait_until "one agent pod Running on each node" 60 is_on agent "d-0 d-1 d-2 "
expect_eq "desiredNumberScheduled" "$(kubectl get ds agent -o jsonpath='{.status.desiredNumberScheduled}')" "3"
ready_ok() { [ "$(kubectl get ds agent -o jsonpath='{.status.numberReady}')" = 3 ]; }
wait_until "numberReady 3" 30 ready_ok
expect_eq "daemon pods target their node by affinity" \
    "$(kubectl get pods -l app=agent -o jsonpath='{.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key}')" \
    "metadata.name"
expect_match "automatic tolerations" "$(kubectl get pods -l app=agent -o jsonpath='{.items[0].spec.tolerations[*].key}')" "node.kubernetes.io/unreachable"

ds gpu busybox:1 "nodeSelector: {gpu: \"yes\"}"
sleep 1
expect_eq "no node matches the selector yet" "$(running_nodes gpu)" ""
kubectl label node d-1 gpu=yes >/dev/null
wait_until "a labelled node gets a pod" 60 is_on gpu "d-1 "
kubectl label node d-1 gpu- >/dev/null
gone() { [ -z "$(kubectl get pods -l app=gpu --no-headers 2>/dev/null)" ]; }
wait_until "unlabelled: the pod goes" 60 gone

kubectl taint node d-2 dedicated=infra:NoSchedule >/dev/null
ds logs busybox:1
wait_until "a new daemonset skips the tainted node" 60 is_on logs "d-0 d-1 "
expect_eq "existing pods stay on the tainted node" "$(running_nodes agent)" "d-0 d-1 d-2 "

# (A replaced pod could not come back to a node with an untolerated
# NoSchedule taint, as in Kubernetes: untaint first.)
kubectl taint node d-2 dedicated- >/dev/null
old=$(kubectl get pods -l app=agent -o jsonpath='{.items[*].metadata.uid}')
ds agent busybox:2
new_image() { [ "$(kubectl get pods -l app=agent -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" = "busybox:2" ] && is_on agent "d-0 d-1 d-2 "; }
wait_until "a template change replaces every pod" 90 new_image
for u in $old; do
    expect_eq "old pod $u replaced" "$(kubectl get pods -l app=agent -o jsonpath='{.items[*].metadata.uid}' | grep -c "$u" || true)" "0"
done
expect_match "events" "$(kubectl get events --field-selector involvedObject.name=agent -o jsonpath='{range .items[*]}{.reason} {end}')" "SuccessfulCreate.*SuccessfulDelete"

e2e_finish
