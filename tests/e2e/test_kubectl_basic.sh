#!/usr/bin/env bash
# kubectl against kedge cloud: discovery, every verb on the core kinds,
# output formats, selectors, label/annotate, patch, scale, watch, delete.
. "$(dirname "$0")/lib.sh"
M=$(dirname "$0")/manifests

start_cloud "$E2E_TMP/cloud"

# kubectl 1.32's `create configmap` sends protobuf (a later issue); these
# tests create configmaps from JSON instead.
cm_create() {
    kubectl create -f - <<JSON
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"$2","namespace":"$1"},"data":{"$3":"$4"}}
JSON
}

# Version and discovery.
out=$(kubectl version -o json)
expect_match "server version" "$out" '"minor": "32"'
out=$(kubectl api-resources --no-headers)
for short in "pods  *po " "services  *svc " "configmaps  *cm " "deployments  *deploy " \
    "daemonsets  *ds " "replicasets  *rs " "statefulsets  *sts " "namespaces  *ns " \
    "nodes  *no " "events  *ev " "serviceaccounts  *sa " "endpoints  *ep "; do
    expect_match "api-resources lists $short" "$out" "^$short"
done
expect_match "api-resources lists leases" "$out" "^leases .*coordination.k8s.io/v1"
expect_match "api-resources lists jobs" "$out" "^jobs .*batch/v1"

# Built-in namespaces.
out=$(kubectl get ns -o name)
for ns in default kube-system kube-public kube-node-lease; do
    expect_match "namespace $ns exists" "$out" "namespace/$ns"
done

# Create from a multi-document manifest.
out=$(kubectl create -f "$M/app.yaml")
expect_match "create namespace" "$out" 'namespace/shop created'
expect_match "create configmap" "$out" 'configmap/web-config created'
expect_match "create deployment" "$out" 'deployment.apps/web created'
expect_match "create service" "$out" 'service/web created'

# Get in every output format.
out=$(kubectl -n shop get cm web-config -o jsonpath='{.data.greeting}')
expect_eq "jsonpath" "$out" "hello"
out=$(kubectl -n shop get cm web-config -o json)
expect_match "json output has uid" "$out" '"uid": "[0-9a-f-]{36}"'
expect_match "json output has resourceVersion" "$out" '"resourceVersion": "[0-9]+"'
expect_match "json output has creationTimestamp" "$out" '"creationTimestamp": "20[0-9-]+T'
out=$(kubectl -n shop get cm web-config -o yaml)
expect_match "yaml output" "$out" '^  greeting: hello'
out=$(kubectl -n shop get cm -o name)
expect_match "name output" "$out" '^configmap/web-config$'
out=$(kubectl -n shop get cm web-config)
expect_match "table header" "$out" '^NAME +DATA +AGE'
expect_match "table row" "$out" '^web-config +2 +[0-9]+s'
out=$(kubectl -n shop get deploy web -o wide)
expect_match "deployment wide header" "$out" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE +CONTAINERS +IMAGES +SELECTOR'
expect_match "deployment wide row" "$out" 'web +0/2 .* web +busybox:1.36 +app=web'
out=$(kubectl -n shop get svc web)
expect_match "service cluster ip" "$out" '^web +ClusterIP +10\.[0-9.]+ +<none> +80/TCP'
out=$(kubectl -n shop get secret web-secret -o jsonpath='{.data.password}' | base64 -d)
expect_eq "secret stringData becomes data" "$out" "s3cret"
out=$(kubectl -n shop get deploy web -o jsonpath='{.spec.strategy.type} {.spec.revisionHistoryLimit} {.metadata.generation}')
expect_eq "deployment defaults" "$out" "RollingUpdate 10 1"

# get all and across namespaces.
out=$(kubectl get all -A)
expect_match "get all shows the deployment" "$out" 'deployment.apps/web'
expect_match "get all shows the service" "$out" 'service/web'
out=$(kubectl get cm -A --no-headers)
expect_match "list across namespaces" "$out" '^shop +web-config'

# Label, annotate and selectors.
kubectl -n shop label cm web-config tier=frontend >/dev/null
kubectl -n shop annotate cm web-config note='made by e2e' >/dev/null
cm_create shop other a b >/dev/null
out=$(kubectl -n shop get cm -l tier=frontend -o name)
expect_eq "label selector" "$out" "configmap/web-config"
out=$(kubectl -n shop get cm -l 'tier notin (frontend)' -o name)
expect_match "notin selector" "$out" "configmap/other"
out=$(kubectl -n shop get cm -l '!tier' -o name | sort | tr '\n' ' ')
expect_match "does-not-exist selector" "$out" "configmap/other"
out=$(kubectl -n shop get cm --field-selector metadata.name=other -o name)
expect_eq "field selector" "$out" "configmap/other"
out=$(kubectl -n shop get cm web-config -o jsonpath='{.metadata.annotations.note}')
expect_eq "annotation" "$out" "made by e2e"
expect_fail_match "label without --overwrite" "already has a value" \
    kubectl -n shop label cm web-config tier=backend

# Patch (merge and JSON), replace, resourceVersion conflicts.
rv1=$(kubectl -n shop get cm other -o jsonpath='{.metadata.resourceVersion}')
kubectl -n shop patch cm other --type=merge -p '{"data":{"c":"d"}}' >/dev/null
kubectl -n shop patch cm other --type=json -p '[{"op":"replace","path":"/data/a","value":"z"}]' >/dev/null
out=$(kubectl -n shop get cm other -o jsonpath='{.data.a}{.data.c}')
expect_eq "patches applied" "$out" "zd"
rv2=$(kubectl -n shop get cm other -o jsonpath='{.metadata.resourceVersion}')
[ "$rv2" -gt "$rv1" ] || fail "resourceVersion did not grow ($rv1 -> $rv2)"
kubectl -n shop get cm other -o json | sed 's/"a": "z"/"a": "y"/' | kubectl replace -f - >/dev/null
out=$(kubectl -n shop get cm other -o jsonpath='{.data.a}')
expect_eq "replace" "$out" "y"
stale=$(kubectl -n shop get cm other -o json | sed "s/\"resourceVersion\": \"[0-9]*\"/\"resourceVersion\": \"$rv1\"/")
expect_fail_match "stale replace conflicts" 'the object has been modified; please apply your changes to the latest version and try again' \
    kubectl replace -f - <<<"$stale"
expect_fail_match "json patch test op" 'test' \
    kubectl -n shop patch cm other --type=json -p '[{"op":"test","path":"/data/a","value":"nope"}]'

# Scale a deployment through the scale subresource.
kubectl -n shop scale deploy web --replicas=5 >/dev/null
out=$(kubectl -n shop get deploy web -o jsonpath='{.spec.replicas} {.metadata.generation}')
expect_eq "scaled" "$out" "5 2"

# kubectl apply: the first apply creates, the same file again changes
# nothing, an edited file patches (three-way strategic merge).
sed 's/name: web-config/name: applied/' "$M/app.yaml" | awk '/^---/{n++} n==1' >"$E2E_TMP/applied.yaml"
out=$(kubectl apply -f "$E2E_TMP/applied.yaml")
expect_match "apply creates" "$out" 'configmap/applied created'
out=$(kubectl apply -f "$E2E_TMP/applied.yaml")
expect_match "apply again is a no-op" "$out" 'configmap/applied unchanged'
sed -i 's/greeting: hello/greeting: bonjour/' "$E2E_TMP/applied.yaml"
out=$(kubectl apply -f "$E2E_TMP/applied.yaml")
expect_match "apply a change" "$out" 'configmap/applied configured'
out=$(kubectl -n shop get cm applied -o jsonpath='{.data.greeting}')
expect_eq "applied change" "$out" "bonjour"
kubectl -n shop delete cm applied >/dev/null

# Strategic merge patches from kubectl's own commands.
kubectl -n shop set image deploy/web web=busybox:1.37 >/dev/null
out=$(kubectl -n shop get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')
expect_eq "set image" "$out" "busybox:1.37"
kubectl -n shop rollout restart deploy/web >/dev/null
out=$(kubectl -n shop get deploy web -o jsonpath='{.spec.template.metadata.annotations}')
expect_match "rollout restart stamps the template" "$out" 'kubectl.kubernetes.io/restartedAt'
kubectl -n shop patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:1.36"}]}}}}' >/dev/null
out=$(kubectl -n shop get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}')
expect_eq "strategic merge adds a container by name" "$out" "side web"

# get -w sees changes as they happen.
kubectl -n shop get cm -w --output-watch-events >"$E2E_TMP/watch.out" 2>&1 &
WATCH_PID=$!
E2E_PIDS+=("$WATCH_PID")
sleep 1
cm_create shop watched x 1 >/dev/null
kubectl -n shop delete configmap watched >/dev/null
for i in $(seq 1 50); do
    grep -q "DELETED" "$E2E_TMP/watch.out" && break
    sleep 0.1
done
kill "$WATCH_PID" 2>/dev/null || true
wait "$WATCH_PID" 2>/dev/null || true
# The server notices the watcher left and drops the watch.
for i in $(seq 1 50); do
    watches=$(api GET /metrics | sed -n 's/^apiserver_watches //p')
    [ "$watches" = "0" ] && break
    sleep 0.1
done
expect_eq "open watches after the client left" "$watches" "0"
out=$(cat "$E2E_TMP/watch.out")
expect_match "watch saw the initial list" "$out" "ADDED +web-config"
expect_match "watch saw the create" "$out" "ADDED +watched"
expect_match "watch saw the delete" "$out" "DELETED +watched"

# Delete waits for the object to go; a second delete is NotFound.
out=$(kubectl -n shop delete cm other)
expect_eq "delete" "$out" 'configmap "other" deleted'
expect_fail_match "get deleted" 'configmaps "other" not found' kubectl -n shop get cm other
expect_fail_match "delete again" 'configmaps "other" not found' kubectl -n shop delete cm other

# Finalizers: the object is only marked until they are removed.
cm_create shop held a b >/dev/null
kubectl -n shop patch cm held --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
kubectl -n shop delete cm held --wait=false >/dev/null
out=$(kubectl -n shop get cm held -o jsonpath='{.metadata.deletionTimestamp}')
expect_match "marked for deletion" "$out" '^20'
kubectl -n shop patch cm held --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
expect_fail_match "gone after finalizers" 'not found' kubectl -n shop get cm held

# Delete a collection by label.
cm_create shop c1 a b >/dev/null
cm_create shop c2 a b >/dev/null
kubectl -n shop label cm c1 c2 batch=yes >/dev/null
out=$(kubectl -n shop delete cm -l batch=yes)
expect_match "deletecollection by label" "$out" 'configmap "c1" deleted'
out=$(kubectl -n shop get cm -o name | sort | tr '\n' ' ')
expect_eq "remaining configmaps" "$out" "configmap/web-config "

# Namespace deletion removes its content, then the namespace.
kubectl delete ns shop --timeout=30s >/dev/null
expect_fail_match "namespace gone" 'namespaces "shop" not found' kubectl get ns shop
expect_fail_match "create in missing namespace" 'namespaces "shop" not found' \
    cm_create shop x a b

e2e_finish
