#!/usr/bin/env bash
# Deployments and ReplicaSets with the real kubectl against kedge cloud:
# the ReplicaSet per template, scaling, rolling updates that keep within
# maxSurge/maxUnavailable, rollout status/history/undo/pause/resume/restart,
# Recreate, a bare ReplicaSet replacing a deleted pod, and the events.
# No kubelet runs here: the test marks pods Ready through pods/status.
. "$(dirname "$0")/lib.sh"

start_cloud "$E2E_TMP/cloud"

SAFE='[bcdfghjklmnpqrstvwxz2456789]'

# mark_ready SELECTOR: every pod matching SELECTOR that is not Running
# becomes Running and Ready (what a kubelet would report).
mark_ready() {
    local p
    for p in $(kubectl get pods -l "$1" -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' |
        awk '$2 != "Running" { print $1 }'); do
        kubectl patch pod "$p" --subresource=status --type=merge \
            -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' \
            >/dev/null 2>&1 || true
    done
}

# rolled_out DEPLOY: kubectl's own verdict, without waiting.
rolled_out() {
    kubectl rollout status "deployment/$1" --watch=false 2>/dev/null |
        grep -q "successfully rolled out"
}

# ready_until_rolled_out DEPLOY SELECTOR: plays kubelet until the rollout
# is done (up to 90 s).
ready_until_rolled_out() {
    local end=$((SECONDS + 90))
    while ! rolled_out "$1"; do
        if [ "$SECONDS" -ge "$end" ]; then
            fail "rollout of $1 did not finish: $(kubectl get rs -l "$2" 2>&1)"
            return 1
        fi
        mark_ready "$2"
        sleep 0.2
    done
}

count_pods() { kubectl get pods -l "$1" --no-headers 2>/dev/null | wc -l; }
pods_are() { [ "$(count_pods "$1")" = "$2" ]; }
count_rs() { kubectl get rs -l "$1" --no-headers 2>/dev/null | wc -l; }
rs_are() { [ "$(count_rs "$1")" = "$2" ]; }

web_manifest() {
    cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kubernetes.io/change-cause: "first release"
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
YAML
}

# ---- a Deployment of 3: one ReplicaSet <deploy>-<hash>, 3 pods -------------
web_manifest | kubectl apply -f - >/dev/null
wait_until "3 pods of web" 60 pods_are app=web 3
rs=$(kubectl get rs -l app=web -o jsonpath='{.items[*].metadata.name}')
expect_match "ReplicaSet name is web-<hash>" "$rs" "^web-$SAFE+\$"
hash=${rs#web-}
expect_eq "ReplicaSet pod-template-hash label" \
    "$(kubectl get rs "$rs" -o jsonpath='{.metadata.labels.pod-template-hash}')" "$hash"
expect_eq "ReplicaSet selector has the hash" \
    "$(kubectl get rs "$rs" -o jsonpath='{.spec.selector.matchLabels.pod-template-hash}')" "$hash"
expect_eq "ReplicaSet revision" \
    "$(kubectl get rs "$rs" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" 1
expect_eq "ReplicaSet desired-replicas" \
    "$(kubectl get rs "$rs" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/desired-replicas}')" 3
expect_eq "ReplicaSet max-replicas" \
    "$(kubectl get rs "$rs" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/max-replicas}')" 4
expect_eq "ReplicaSet owned by the deployment" \
    "$(kubectl get rs "$rs" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')" \
    "Deployment/web/true"
expect_eq "deployment revision" \
    "$(kubectl get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" 1
refs=$(kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}/{.metadata.ownerReferences[0].blockOwnerDeletion}/{.metadata.labels.pod-template-hash}{"\n"}{end}' | sort -u)
expect_eq "pods owned by the ReplicaSet, with the hash label" "$refs" \
    "ReplicaSet/$rs/true/true/$hash"
expect_match "pod names" "$(kubectl get pods -l app=web -o name)" "^pod/$rs-[a-z0-9]{5}\$"

# ---- scaling ----------------------------------------------------------------
kubectl scale deployment web --replicas=6 >/dev/null
wait_until "web scaled to 6 pods" 60 pods_are app=web 6
expect_eq "still one ReplicaSet" "$(count_rs app=web)" 1
kubectl scale deployment web --replicas=3 >/dev/null
wait_until "web scaled back to 3 pods" 60 pods_are app=web 3

# ---- Ready pods make it Available; rollout status returns ------------------
mark_ready app=web
available() {
    [ "$(kubectl get deploy web -o jsonpath='{.status.conditions[?(@.type=="Available")].status}')" = True ]
}
wait_until "web Available" 60 available
out=$(timeout 60 kubectl rollout status deployment/web 2>&1) ||
    fail "rollout status did not succeed: $out"
expect_match "rollout status" "$out" 'deployment "web" successfully rolled out'
expect_eq "Available reason" \
    "$(kubectl get deploy web -o jsonpath='{.status.conditions[?(@.type=="Available")].reason}')" \
    MinimumReplicasAvailable
expect_eq "Progressing reason" \
    "$(kubectl get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}')" \
    NewReplicaSetAvailable
expect_eq "status counts" \
    "$(kubectl get deploy web -o jsonpath='{.status.replicas}/{.status.updatedReplicas}/{.status.readyReplicas}/{.status.availableReplicas}')" \
    "3/3/3/3"
expect_match "get deployment" "$(kubectl get deploy web --no-headers)" '^web +3/3 +3 +3 '

# ---- a rolling update stays within maxSurge and maxUnavailable --------------
# A sampler lists the pods of web over and over: never more than 3+1 pods,
# never fewer than 3-1 Ready ones.
sampler() {
    local line total ready
    while [ ! -e "$E2E_TMP/stop" ]; do
        line=$(kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}' 2>/dev/null) || continue
        total=$(wc -w <<<"$line")
        ready=$(grep -o '=True' <<<"$line" | wc -l)
        echo "$total $ready" >>"$E2E_TMP/samples"
        if [ "$total" -gt 4 ] || [ "$ready" -lt 2 ]; then
            echo "total=$total ready=$ready: $line" >>"$E2E_TMP/violations"
        fi
    done
}
: >"$E2E_TMP/samples"
sampler &
SAMPLER=$!
E2E_PIDS+=("$SAMPLER")
kubectl set image deployment/web web=nginx:1.26 >/dev/null
# As in Kubernetes, the change cause is copied to the current (new)
# ReplicaSet, so it is annotated after the template change.
kubectl annotate deployment web kubernetes.io/change-cause="to 1.26" --overwrite >/dev/null
ready_until_rolled_out web app=web
touch "$E2E_TMP/stop"
wait "$SAMPLER" 2>/dev/null || true
rm -f "$E2E_TMP/stop"
nsamples=$(wc -l <"$E2E_TMP/samples")
[ "$nsamples" -gt 0 ] || fail "the sampler took no samples"
if [ -s "$E2E_TMP/violations" ]; then
    fail "rolling update broke maxSurge/maxUnavailable: $(head -3 "$E2E_TMP/violations")"
fi
echo "rolling update: $nsamples samples within maxSurge/maxUnavailable" >&2
expect_eq "two ReplicaSets after set image" "$(count_rs app=web)" 2
rs2=$(kubectl get rs -l app=web -o jsonpath='{range .items[?(@.spec.replicas==3)]}{.metadata.name}{end}')
expect_match "new ReplicaSet" "$rs2" "^web-$SAFE+\$"
[ "$rs2" != "$rs" ] || fail "set image did not make a new ReplicaSet"
expect_eq "old ReplicaSet scaled to 0" \
    "$(kubectl get rs "$rs" -o jsonpath='{.spec.replicas}')" 0
expect_eq "new ReplicaSet revision" \
    "$(kubectl get rs "$rs2" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" 2
expect_eq "pods run the new image" \
    "$(kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" \
    "nginx:1.26"

# ---- rollout history and undo -------------------------------------------------
hist=$(kubectl rollout history deployment/web)
expect_match "history revision 1" "$hist" '^1 +first release$'
expect_match "history revision 2" "$hist" '^2 +to 1.26$'
kubectl rollout undo deployment/web >/dev/null
first_back() {
    [ "$(kubectl get rs "$rs" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 3 ] &&
        [ "$(kubectl get rs "$rs" -o jsonpath='{.spec.replicas}')" -gt 0 ]
}
wait_until "undo scales the first ReplicaSet up with revision 3" 60 first_back
ready_until_rolled_out web app=web
expect_eq "first ReplicaSet back at 3" "$(kubectl get rs "$rs" -o jsonpath='{.spec.replicas}')" 3
expect_eq "second ReplicaSet at 0" "$(kubectl get rs "$rs2" -o jsonpath='{.spec.replicas}')" 0
expect_eq "image after undo" \
    "$(kubectl get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')" nginx:1.25
expect_eq "no third ReplicaSet after undo" "$(count_rs app=web)" 2
expect_eq "deployment revision after undo" \
    "$(kubectl get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" 3
hist=$(kubectl rollout history deployment/web)
expect_match "history after undo" "$hist" '^3 '
kubectl rollout undo deployment/web --to-revision=2 >/dev/null
wait_until "undo --to-revision=2" 60 \
    test "$(kubectl get rs "$rs2" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 4
ready_until_rolled_out web app=web

# ---- pause and resume -------------------------------------------------------
kubectl rollout pause deployment/web >/dev/null
kubectl set image deployment/web web=nginx:1.27 >/dev/null
observed() {
    [ "$(kubectl get deploy "$1" -o jsonpath='{.metadata.generation}')" = \
        "$(kubectl get deploy "$1" -o jsonpath='{.status.observedGeneration}')" ]
}
wait_until "paused web observed" 60 observed web
expect_eq "paused: no new ReplicaSet" "$(count_rs app=web)" 2
expect_eq "paused condition" \
    "$(kubectl get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}')" \
    DeploymentPaused
kubectl rollout resume deployment/web >/dev/null
wait_until "resumed: a new ReplicaSet" 60 rs_are app=web 3
ready_until_rolled_out web app=web

# rollout restart: a template annotation, so another ReplicaSet.
kubectl rollout restart deployment/web >/dev/null
wait_until "restart: a new ReplicaSet" 60 rs_are app=web 4
ready_until_rolled_out web app=web

# revisionHistoryLimit trims the oldest empty ReplicaSets.
kubectl patch deployment web --type=merge -p '{"spec":{"revisionHistoryLimit":1}}' >/dev/null
wait_until "history trimmed to one old ReplicaSet" 60 rs_are app=web 2

# ---- Recreate: the old pods are gone before new ones start --------------------
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  strategy: {type: Recreate}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16"}]
YAML
wait_until "2 pods of db" 60 pods_are app=db 2
ready_until_rolled_out db app=db
old_hash=$(kubectl get pods -l app=db -o jsonpath='{.items[0].metadata.labels.pod-template-hash}')
: >"$E2E_TMP/mixed"
recreate_sampler() {
    local hashes
    while [ ! -e "$E2E_TMP/stop" ]; do
        hashes=$(kubectl get pods -l app=db -o jsonpath='{range .items[*]}{.metadata.labels.pod-template-hash}{"\n"}{end}' 2>/dev/null | sort -u | wc -l)
        if [ "$hashes" -gt 1 ]; then echo mixed >>"$E2E_TMP/mixed"; fi
    done
}
recreate_sampler &
SAMPLER=$!
E2E_PIDS+=("$SAMPLER")
kubectl set image deployment/db db=postgres:17 >/dev/null
ready_until_rolled_out db app=db
touch "$E2E_TMP/stop"
wait "$SAMPLER" 2>/dev/null || true
rm -f "$E2E_TMP/stop"
[ ! -s "$E2E_TMP/mixed" ] || fail "Recreate ran old and new pods together"
new_hash=$(kubectl get pods -l app=db -o jsonpath='{.items[0].metadata.labels.pod-template-hash}')
[ "$new_hash" != "$old_hash" ] || fail "Recreate: the pods were not replaced"
expect_eq "Recreate: 2 new pods" "$(count_pods "app=db,pod-template-hash=$new_hash")" 2

# ---- a ReplicaSet on its own replaces a deleted pod --------------------------
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: fe}
spec:
  replicas: 2
  selector: {matchLabels: {app: fe}}
  template:
    metadata: {labels: {app: fe}}
    spec:
      containers: [{name: fe, image: "nginx:1.25"}]
YAML
wait_until "2 pods of fe" 60 pods_are app=fe 2
victim=$(kubectl get pods -l app=fe -o jsonpath='{.items[0].metadata.name}')
kubectl delete pod "$victim" --wait=false >/dev/null
replaced() {
    local names
    names=$(kubectl get pods -l app=fe -o name)
    [ "$(wc -l <<<"$names")" = 2 ] && ! grep -q "pod/$victim\$" <<<"$names"
}
wait_until "fe replaces the deleted pod" 60 replaced
# An orphan with matching labels is adopted, and the surplus deleted.
kubectl run stray --image=nginx:1.25 --labels=app=fe >/dev/null
wait_until "fe keeps 2 pods after an orphan arrives" 60 pods_are app=fe 2
mark_ready app=fe
fe_ready() {
    [ "$(kubectl get rs fe -o jsonpath='{.status.replicas}/{.status.readyReplicas}/{.status.availableReplicas}/{.status.fullyLabeledReplicas}')" = 2/2/2/2 ]
}
wait_until "fe status counts" 60 fe_ready
# A pod relabelled away is released (and replaced).
pod=$(kubectl get pods -l app=fe -o jsonpath='{.items[0].metadata.name}')
kubectl label pod "$pod" app=gone --overwrite >/dev/null
released() {
    [ "$(kubectl get pod "$pod" -o jsonpath='{.metadata.ownerReferences}')" = "" ] &&
        pods_are app=fe 2
}
wait_until "relabelled pod released and replaced" 60 released

# ---- events ---------------------------------------------------------------
ev=$(kubectl get events -o custom-columns=R:.reason,O:.involvedObject.kind,M:.message --no-headers)
expect_match "SuccessfulCreate event" "$ev" "^SuccessfulCreate +ReplicaSet +Created pod: $rs-"
expect_match "SuccessfulDelete event" "$ev" "^SuccessfulDelete +ReplicaSet +Deleted pod: "
expect_match "ScalingReplicaSet up from 0" "$ev" \
    "^ScalingReplicaSet +Deployment +Scaled up replica set $rs from 0 to 3\$"
expect_match "ScalingReplicaSet up" "$ev" \
    "^ScalingReplicaSet +Deployment +Scaled up replica set $rs from 3 to 6\$"
expect_match "ScalingReplicaSet down" "$ev" \
    "^ScalingReplicaSet +Deployment +Scaled down replica set $rs from 6 to 3\$"
# No progress within progressDeadlineSeconds: Progressing False, and
# rollout status gives up with kubectl's message.
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 2
  progressDeadlineSeconds: 2
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      containers: [{name: c, image: "nginx:1.25"}]
YAML
timed_out() {
    [ "$(kubectl get deploy stuck -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}')" = ProgressDeadlineExceeded ]
}
wait_until "stuck deployment times out" 60 timed_out
expect_eq "timed-out message" \
    "$(kubectl get deploy stuck -o jsonpath='{.status.conditions[?(@.type=="Progressing")].message}')" \
    "ReplicaSet \"$(kubectl get rs -l app=stuck -o jsonpath='{.items[0].metadata.name}')\" has timed out progressing."
expect_fail_match "rollout status past the deadline" 'exceeded its progress deadline' \
    timeout 60 kubectl rollout status deployment/stuck

# A pod template the API refuses: FailedCreate and ReplicaFailure.
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: bad}
spec:
  replicas: 1
  selector: {matchLabels: {app: bad}}
  template:
    # Pods may not carry this finalizer; the template is not checked for it.
    metadata: {labels: {app: bad}, finalizers: ["not a finalizer!"]}
    spec:
      containers: [{name: c, image: "nginx"}]
YAML
failed_create() {
    kubectl get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' |
        grep -q "Error creating: "
}
wait_until "FailedCreate event" 60 failed_create
replica_failure() {
    [ "$(kubectl get rs bad -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].reason}')" = FailedCreate ]
}
wait_until "ReplicaFailure condition" 60 replica_failure
# Failures are retried after a pause, not in a tight loop.
n1=$(kubectl get events --field-selector reason=FailedCreate -o jsonpath='{range .items[*]}{.count}{"\n"}{end}' | awk '{ s += $1 } END { print s }')
[ "${n1:-0}" -lt 50 ] || fail "FailedCreate retried $n1 times at once"

# Deleting a Deployment takes its ReplicaSets and pods with it (the
# garbage collector follows the ownerReferences the controllers set).
kubectl delete deployment web >/dev/null
wait_until "web's ReplicaSets deleted with it" 60 rs_are app=web 0
wait_until "web's pods deleted with it" 60 pods_are app=web 0

e2e_finish
