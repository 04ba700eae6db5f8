#!/usr/bin/env bash
# The scheduler with real kubectl: Nodes made through the API (Ready by
# patching their status), deployments spread over them, node selectors,
# resources, taints, readiness, and Kubernetes' FailedScheduling text.
source "$(dirname "$0")/lib.sh"

# Nodes here have no lease: keep the lifecycle controller from marking them.
start_cloud "$E2E_TMP/cloud" --node-grace-period 1h

node() { # NAME ZONE [READY]
    kubectl apply -f - >/dev/null <<EOF2
apiVersion: v1
kind: Node
metadata: {name: $1, labels: {zone: $2, kubernetes.io/hostname: $1}}
EOF2
    local ready=${3:-True}
    kubectl patch node "$1" --subresource=status --type=merge -p "{\"status\":{
        \"allocatable\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"pods\":\"10\"},
        \"capacity\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"pods\":\"10\"},
        \"conditions\":[{\"type\":\"Ready\",\"status\":\"$ready\",\"reason\":\"KubeletReady\"}]}}" >/dev/null
}
pod() { # NAME [extra spec YAML lines]
    kubectl apply -f - >/dev/null <<EOF2
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  containers: [{name: c, image: busybox, resources: {requests: {cpu: ${CPU:-100m}}}}]
${2:-}
EOF2
}
node_of() { kubectl get pod "$1" -o jsonpath='{.spec.nodeName}'; }
bound() { [ -n "$(node_of "$1")" ]; }
per_node() { # label selector -> "n1:2 n2:2 ..." sorted
    kubectl get pods -l "$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' |
        sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'
}

node n1 a; node n2 b; node n3 b

kubectl apply -f - >/dev/null <<'EOF2'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
EOF2
all_bound() { [ "$(kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{end}' | wc -w)" = "$1" ]; }
wait_until "3 replicas bound" 60 all_bound 3
expect_eq "a deployment of 3 spreads over 3 nodes" "$(per_node app=web)" "n1:1 n2:1 n3:1 "
kubectl scale deployment web --replicas=6 >/dev/null
wait_until "6 replicas bound" 60 all_bound 6
expect_eq "scaled to 6: two per node" "$(per_node app=web)" "n1:2 n2:2 n3:2 "
kubectl scale deployment web --replicas=3 >/dev/null
three_left() { [ "$(kubectl get pods -l app=web --no-headers | wc -l)" = 3 ]; }
wait_until "back to 3" 60 three_left
expect_eq "scheduled event" "$(kubectl get events --field-selector reason=Scheduled -o jsonpath='{.items[0].source.component}')" "default-scheduler"

pod sel "  nodeSelector: {zone: a}"
wait_until "pod with a node selector is bound" 30 bound sel
expect_eq "node selector" "$(node_of sel)" "n1"
expect_eq "PodScheduled condition" "$(kubectl get pod sel -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}')" "True"

CPU=5 pod huge
failed() { kubectl get events --field-selector involvedObject.name="$1",reason=FailedScheduling -o jsonpath='{.items[0].message}' | grep -q .; }
msg_of() { kubectl get events --field-selector involvedObject.name="$1",reason=FailedScheduling -o jsonpath='{.items[-1].message}'; }
wait_until "too big a pod gets FailedScheduling" 30 failed huge
expect_eq "FailedScheduling message" "$(msg_of huge)" \
    "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
expect_eq "too big a pod stays Pending" "$(kubectl get pod huge -o jsonpath='{.status.phase}')" "Pending"
expect_eq "PodScheduled=False reason" "$(kubectl get pod huge -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}')" "Unschedulable"
expect_match "kubectl describe shows it" "$(kubectl describe pod huge)" "Warning +FailedScheduling .*default-scheduler +0/3 nodes are available: 3 Insufficient cpu"

kubectl taint node n3 dedicated=infra:NoSchedule >/dev/null
pod tainted "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [n3]}]}]}}}"
wait_until "untolerated taint: FailedScheduling" 30 failed tainted
expect_eq "taint and affinity message" "$(msg_of tainted)" \
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
pod tolerant "  nodeSelector: {kubernetes.io/hostname: n3}
  tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]"
wait_until "a tolerating pod lands on the tainted node" 30 bound tolerant
expect_eq "toleration" "$(node_of tolerant)" "n3"

node n4 c False
pod wants-c "  nodeSelector: {zone: c}"
wait_until "a NotReady node gets nothing" 30 failed wants-c
expect_match "not-ready message" "$(msg_of wants-c)" \
    "^0/4 nodes are available: 1 node\\(s\\) had untolerated taint \\{node.kubernetes.io/not-ready: \\}, 3 node\\(s\\) didn't match"
node n4 c True
wait_until "a pending pod is retried when its node turns Ready" 30 bound wants-c
expect_eq "retried pod's node" "$(node_of wants-c)" "n4"

for p in hp1 hp2 hp3 hp4 hp5; do
    kubectl apply -f - >/dev/null <<EOF2
apiVersion: v1
kind: Pod
metadata: {name: $p}
spec:
  containers: [{name: c, image: busybox, ports: [{containerPort: 80, hostPort: 8080}]}]
EOF2
done
nodes_of_hp() { local p; for p in hp1 hp2 hp3 hp4 hp5; do node_of $p; echo; done | grep .; }
# n3 is tainted: n1, n2 and n4 take one each.
three_bound() { [ "$(nodes_of_hp | wc -l)" = 3 ]; }
wait_until "host ports: three of five pods bound" 30 three_bound
expect_eq "host port pods on distinct nodes" "$(nodes_of_hp | sort -u | wc -l)" "3"

e2e_finish
