#!/usr/bin/env bash
# Garbage collection (kubectl delete --cascade=background|foreground|orphan,
# dangling owner references, also those left while the collector was not
# running), the ServiceAccount controller and the Endpoints controller,
# with the real kubectl against kedge cloud.
source "$(dirname "$0")/lib.sh"

# kubectl 1.32's `create configmap|namespace` send protobuf (a later
# issue); objects are created from manifests instead.
mkcm() { # NAME [NAMESPACE]
    kubectl create -f - >/dev/null <<EOF2
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"$1","namespace":"${2:-default}"}}
EOF2
}
mkdep() { # NAME OWNER-NAME OWNER-UID [FINALIZER] [NAMESPACE]
    kubectl create -f - >/dev/null <<EOF2
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  namespace: ${5:-default}
  finalizers: [${4:+"$4"}]
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: $2, uid: "$3", blockOwnerDeletion: true}
EOF2
}
mkns() {
    kubectl create -f - >/dev/null <<EOF2
{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"$1"}}
EOF2
}
uid_of() { kubectl get cm "$1" -o jsonpath='{.metadata.uid}'; }
gone() { ! kubectl get "$@" >/dev/null 2>&1; }
has_jsonpath() { # WANT KUBECTL-GET-ARGS... (last: -o jsonpath=...)
    local want=$1
    shift
    [ "$(kubectl get "$@" 2>/dev/null)" = "$want" ]
}

# ---- dangling owners left while no collector ran -------------------------

start_cloud "$E2E_TMP/cloud" --disable-controllers
mkcm early-owner
mkdep early-dep early-owner "$(uid_of early-owner)"
kubectl delete cm early-owner >/dev/null
expect_eq "without controllers the dependent stays" \
    "$(kubectl get cm early-dep -o name 2>&1)" "configmap/early-dep"
stop_cloud
start_cloud "$E2E_TMP/cloud"
wait_until "a dependent left dangling while the collector was down is deleted at start" \
    60 gone cm early-dep

# ---- background (kubectl's default) --------------------------------------

mkcm owner
U=$(uid_of owner)
mkdep dep1 owner "$U"
mkdep dep2 owner "$U"
out=$(kubectl delete cm owner)
expect_eq "background delete answers" "$out" 'configmap "owner" deleted'
expect_eq "the owner goes at once" "$(kubectl get cm owner -o name 2>&1)" \
    'Error from server (NotFound): configmaps "owner" not found'
wait_until "background: dependent 1 is collected" 60 gone cm dep1
wait_until "background: dependent 2 is collected" 60 gone cm dep2

# ---- foreground ------------------------------------------------------------

mkcm fowner
U=$(uid_of fowner)
mkdep held fowner "$U" example.com/hold
mkdep free fowner "$U"
kubectl delete cm fowner --cascade=foreground --wait=false >/dev/null
wait_until "foreground: the dependent without finalizers is deleted" 60 gone cm free
marked() { [ -n "$(kubectl get cm "$1" -o jsonpath='{.metadata.deletionTimestamp}')" ]; }
wait_until "foreground: the held dependent is marked for deletion" 60 marked held
expect_eq "foreground: the held dependent keeps its own finalizer only" \
    "$(kubectl get cm held -o jsonpath='{.metadata.finalizers}')" '["example.com/hold"]'
# The owner waits, marked and holding the foregroundDeletion finalizer.
out=$(kubectl get cm fowner -o jsonpath='{.metadata.finalizers}|{.metadata.deletionTimestamp}')
expect_match "foreground: the owner waits for its dependents" "$out" \
    '^\["foregroundDeletion"\]\|[0-9]{4}-[0-9]{2}-[0-9]{2}T'
kubectl patch cm held --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_until "foreground: the released dependent goes" 60 gone cm held
wait_until "foreground: then the owner goes" 60 gone cm fowner

# A chain: a dependent that has dependents of its own is deleted in
# Foreground too, so the top owner waits for the whole chain.
mkcm top
mkdep mid top "$(uid_of top)"
mkdep leaf mid "$(uid_of mid)" example.com/hold
kubectl delete cm top --cascade=foreground --wait=false >/dev/null
wait_until "foreground chain: the leaf is marked for deletion" 60 marked leaf
wait_until "foreground chain: the middle waits in Foreground" 60 \
    has_jsonpath '["foregroundDeletion"]' cm mid -o jsonpath='{.metadata.finalizers}'
expect_eq "foreground chain: the top still waits" \
    "$(kubectl get cm top -o jsonpath='{.metadata.finalizers}')" '["foregroundDeletion"]'
kubectl patch cm leaf --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_until "foreground chain: the leaf goes" 60 gone cm leaf
wait_until "foreground chain: then the middle" 60 gone cm mid
wait_until "foreground chain: then the top" 60 gone cm top

# A cycle (each owns the other, both blocking) does not wait on itself.
mkcm cyc-a
mkdep cyc-b cyc-a "$(uid_of cyc-a)"
kubectl patch cm cyc-a --type=merge -p "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"cyc-b\",\"uid\":\"$(uid_of cyc-b)\",\"blockOwnerDeletion\":true}]}}" >/dev/null
kubectl delete cm cyc-a --cascade=foreground --wait=false >/dev/null
wait_until "foreground cycle: the first goes" 60 gone cm cyc-a
wait_until "foreground cycle: the second goes" 60 gone cm cyc-b

# ---- orphan ----------------------------------------------------------------

mkcm oowner
U=$(uid_of oowner)
mkdep orphan1 oowner "$U"
mkdep orphan2 oowner "$U"
kubectl delete cm oowner --cascade=orphan --wait=false >/dev/null
wait_until "orphan: the owner goes" 60 gone cm oowner
for d in orphan1 orphan2; do
    expect_eq "orphan: $d stays, without its owner reference" \
        "$(kubectl get cm $d -o jsonpath='{.metadata.name}:{.metadata.ownerReferences}')" "$d:"
done

# ---- dangling references ---------------------------------------------------

mkdep stray ghost 0b5e0a4c-0000-4000-8000-000000000001
wait_until "a dependent of an owner that never existed is collected" 60 gone cm stray
mkcm alive
kubectl create -f - >/dev/null <<EOF2
apiVersion: v1
kind: ConfigMap
metadata:
  name: two-owners
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: alive, uid: "$(uid_of alive)"}
  - {apiVersion: v1, kind: ConfigMap, name: ghost, uid: 0b5e0a4c-0000-4000-8000-000000000002}
EOF2
wait_until "a dangling reference is dropped while another owner lives" 60 \
    has_jsonpath alive cm two-owners -o jsonpath='{.metadata.ownerReferences[*].name}'
# A reference naming a live uid under another name is dangling too.
mkdep misnamed not-alive "$(uid_of alive)"
wait_until "a reference whose uid belongs to another name is dangling" 60 gone cm misnamed
expect_eq "the live owner is untouched" "$(kubectl get cm alive -o name)" "configmap/alive"

# ---- DeleteOptions validation ----------------------------------------------

out=$(api DELETE "/api/v1/namespaces/default/configmaps/alive?propagationPolicy=Sideways" -w '\n%{http_code}')
expect_match "unknown propagationPolicy is 422" "$out" '^422$'
expect_match "unknown propagationPolicy message" "$out" \
    'DeleteOptions.meta.k8s.io \\"\\" is invalid: propagationPolicy: Unsupported value: \\"Sideways\\": supported values: \\"Foreground\\", \\"Background\\", \\"Orphan\\", \\"nil\\"'
out=$(api DELETE /api/v1/namespaces/default/configmaps/alive -H 'Content-Type: application/json' \
    -d '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Orphan","orphanDependents":true}' -w '\n%{http_code}')
expect_match "policy and orphanDependents together is 422" "$out" '^422$'
expect_match "policy and orphanDependents message" "$out" \
    'propagationPolicy: Invalid value: \\"Orphan\\": orphanDependents and deletionPropagation cannot be both set'
out=$(api DELETE "/api/v1/namespaces/default/configmaps/alive?orphanDependents=maybe" -w '\n%{http_code}')
expect_match "unreadable orphanDependents is 400" "$out" '^400$'
expect_eq "refused deletes leave the object" "$(kubectl get cm alive -o name)" "configmap/alive"
# The deprecated orphanDependents=true orphans.
mkdep dep-of-alive alive "$(uid_of alive)"
api DELETE "/api/v1/namespaces/default/configmaps/alive?orphanDependents=true" >/dev/null
wait_until "orphanDependents=true: the owner goes" 60 gone cm alive
expect_eq "orphanDependents=true: the dependent stays, released" \
    "$(kubectl get cm dep-of-alive -o jsonpath='{.metadata.name}:{.metadata.ownerReferences}')" "dep-of-alive:"

# deletecollection takes the same options.
out=$(api DELETE "/api/v1/namespaces/default/configmaps?propagationPolicy=Sideways" -w '\n%{http_code}')
expect_match "deletecollection: unknown propagationPolicy is 422" "$out" '^422$'
kubectl create -f - >/dev/null <<'EOF2'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"batch-owner","labels":{"batch":"1"}}}
EOF2
mkdep batch-dep batch-owner "$(uid_of batch-owner)"
api DELETE "/api/v1/namespaces/default/configmaps?labelSelector=batch%3D1&propagationPolicy=Orphan" >/dev/null
wait_until "deletecollection with Orphan: the owner goes" 60 gone cm batch-owner
expect_eq "deletecollection with Orphan: the dependent stays, released" \
    "$(kubectl get cm batch-dep -o jsonpath='{.metadata.name}:{.metadata.ownerReferences}')" "batch-dep:"

# ---- ServiceAccount controller ---------------------------------------------

mkns team
wait_until "a new namespace gets the default service account" 60 \
    kubectl get sa default -n team
kubectl delete sa default -n team >/dev/null
wait_until "a deleted default service account is recreated" 60 \
    kubectl get sa default -n team
for ns in default kube-system kube-public kube-node-lease; do
    expect_eq "built-in namespace $ns has its default account" \
        "$(kubectl get sa default -n $ns -o name)" "serviceaccount/default"
done

# ---- namespace deletion with owners and dependents inside -----------------

mkcm nsowner team
mkdep nsdep nsowner "$(kubectl get cm nsowner -n team -o jsonpath='{.metadata.uid}')" "" team
mkdep nsheld nsowner "$(kubectl get cm nsowner -n team -o jsonpath='{.metadata.uid}')" "" team
kubectl delete cm nsowner -n team --cascade=foreground --wait=false >/dev/null
kubectl delete ns team --wait=false >/dev/null
wait_until "a deleted namespace empties and goes" 60 gone ns team
expect_eq "nothing is left in the deleted namespace" \
    "$(kubectl get cm,sa -n team -o name 2>/dev/null)" ""

# ---- Endpoints controller --------------------------------------------------

kubectl create -f - >/dev/null <<'EOF2'
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  nodeName: node-a
  containers:
  - name: c
    image: nginx
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: web}}
spec:
  nodeName: node-b
  containers:
  - name: c
    image: nginx
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: multi}
spec:
  selector: {app: web}
  ports:
  - {name: metrics, port: 9090, targetPort: 9100}
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata: {name: hl}
spec:
  clusterIP: None
  selector: {app: web}
---
apiVersion: v1
kind: Service
metadata: {name: manual}
spec:
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: manual}
subsets:
- addresses: [{ip: 192.0.2.10}]
  ports: [{port: 5432}]
EOF2
podstatus() { # POD IP READY
    kubectl patch pod "$1" --subresource=status --type=merge -p \
        "{\"status\":{\"podIP\":\"$2\",\"podIPs\":[{\"ip\":\"$2\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"$3\"}]}}" >/dev/null
}
wait_until "a service with a selector gets its Endpoints" 60 kubectl get endpoints web
podstatus web-1 10.9.0.5 True
podstatus web-2 10.9.0.4 False
EP='{.subsets[*].addresses[*].ip}|{.subsets[*].notReadyAddresses[*].ip}|{.subsets[*].ports[*].name}:{.subsets[*].ports[*].port}'
wait_until "ready pods are addresses, others notReadyAddresses" 60 \
    has_jsonpath "10.9.0.5|10.9.0.4|http:8080" endpoints web -o "jsonpath=$EP"
out=$(kubectl get endpoints web -o jsonpath='{.subsets[0].addresses[0].nodeName} {.subsets[0].addresses[0].targetRef.kind}/{.subsets[0].addresses[0].targetRef.name} {.metadata.labels.tier}')
expect_eq "addresses name their node and pod; labels come from the service" "$out" "node-a Pod/web-1 front"
out=$(kubectl get endpoints web -o jsonpath='{.metadata.annotations}')
expect_match "Endpoints carry the last change trigger time" "$out" 'endpoints.kubernetes.io/last-change-trigger-time'
podstatus web-2 10.9.0.4 True
wait_until "a pod turning ready moves to addresses (sorted by IP)" 60 \
    has_jsonpath "10.9.0.4 10.9.0.5||http:8080" endpoints web -o "jsonpath=$EP"
out=$(kubectl get endpoints web --no-headers)
expect_match "kubectl get endpoints lists ip:port" "$out" '^web +10\.9\.0\.4:8080,10\.9\.0\.5:8080 '
wait_until "ports offered by the same pods share one subset" 60 \
    has_jsonpath "10.9.0.4 10.9.0.5||http metrics:8080 9100" endpoints multi -o "jsonpath=$EP"
wait_until "a headless service without ports lists its pods" 60 \
    has_jsonpath "10.9.0.4 10.9.0.5||:" endpoints hl -o "jsonpath=$EP"
expect_eq "Endpoints of a headless service carry the headless label" \
    "$(kubectl get endpoints hl -o jsonpath='{.metadata.labels}')" '{"service.kubernetes.io/headless":""}'
kubectl label pod web-1 app=other --overwrite >/dev/null
wait_until "a pod whose labels stop matching leaves the Endpoints" 60 \
    has_jsonpath "10.9.0.4||http:8080" endpoints web -o "jsonpath=$EP"
kubectl delete endpoints web >/dev/null
wait_until "deleted Endpoints of a selecting service come back" 60 \
    has_jsonpath "10.9.0.4||http:8080" endpoints web -o "jsonpath=$EP"
expect_eq "Endpoints of a service without selector are left alone" \
    "$(kubectl get endpoints manual -o jsonpath='{.subsets[*].addresses[*].ip}')" "192.0.2.10"
kubectl delete svc web >/dev/null
wait_until "deleting the service deletes its Endpoints" 60 gone endpoints web
expect_match "the API server's own endpoints stay" \
    "$(kubectl get endpoints kubernetes --no-headers)" '^kubernetes +127\.0\.0\.1:'

# Over capacity: 1,001 ready pods give 1,000 addresses and the
# over-capacity annotation, as Kubernetes truncates. The pods exist (and
# are ready) before the service, so the controller computes once.
mkns big
PKI=$(dirname "$KUBECONFIG")/pki /usr/bin/python3 - "$CLOUD_URL" <<'PY'
import http.client, json, os, ssl, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
pki = os.environ["PKI"]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/admin.crt", pki + "/admin.key")
conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
def call(method, path, body, ctype="application/json"):
    conn.request(method, path, json.dumps(body), {"Content-Type": ctype})
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit("%s %s: %d %s" % (method, path, r.status, data[:200]))
for i in range(1001):
    name = "big-%04d" % i
    call("POST", "/api/v1/namespaces/big/pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "big"}},
        "spec": {"nodeName": "node-a",
                 "containers": [{"name": "c", "image": "nginx"}]}})
    ip = "10.20.%d.%d" % (i // 250, i % 250 + 1)
    call("PATCH", "/api/v1/namespaces/big/pods/%s/status" % name,
         {"status": {"podIP": ip, "podIPs": [{"ip": ip}],
                     "conditions": [{"type": "Ready", "status": "True"}]}},
         "application/merge-patch+json")
PY
kubectl create -f - >/dev/null <<'EOF2'
{"apiVersion":"v1","kind":"Service","metadata":{"name":"big","namespace":"big"},
 "spec":{"selector":{"app":"big"},"ports":[{"port":80}]}}
EOF2
count_addrs() { kubectl get endpoints big -n big -o json |
    /usr/bin/python3 -c 'import json,sys; e=json.load(sys.stdin); print(sum(len(s.get("addresses",[])) for s in e.get("subsets",[])), e["metadata"].get("annotations",{}).get("endpoints.kubernetes.io/over-capacity","-"))'; }
wait_until "1,001 ready pods are truncated to 1,000 addresses" 120 \
    test "$(count_addrs)" = "1000 truncated"
kubectl delete pod big-0000 -n big --wait=false >/dev/null
wait_until "at 1,000 pods nothing is truncated" 120 test "$(count_addrs)" = "1000 -"

e2e_finish
