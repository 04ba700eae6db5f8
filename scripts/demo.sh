#!/usr/bin/env bash
# `make demo`: starts kedge cloud on a fresh data directory and a local
# edge node joined to it with a token (fake runtime), applies a sample
# application with kubectl, shows it running on the edge, and keeps
# running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${DEMO_DIR:-$(mktemp -d /tmp/kedge-demo.XXXXXX)}
PORT=${PORT:-6443}
BIN=build/kedge

if ! [ -x "$BIN" ]; then
    echo "demo: $BIN is missing; run make first" >&2
    exit 1
fi
# Use the default port when it is free, else any free port.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then PORT=0; fi
HUB_PORT=10000
if (exec 3<>"/dev/tcp/127.0.0.1/$HUB_PORT") 2>/dev/null; then HUB_PORT=0; fi
LOCAL_PORT=10550
while (exec 3<>"/dev/tcp/127.0.0.1/$LOCAL_PORT") 2>/dev/null; do
    LOCAL_PORT=$((LOCAL_PORT + 1))
done

"$BIN" cloud --data-dir "$DEMO_DIR/cloud" --secure-port "$PORT" --hub-port "$HUB_PORT" \
    >"$DEMO_DIR/cloud.out" 2>"$DEMO_DIR/cloud.log" &
CLOUD_PID=$!
EDGE_PID=""
cleanup() {
    [ -z "$EDGE_PID" ] || kill "$EDGE_PID" 2>/dev/null || true
    kill "$CLOUD_PID" 2>/dev/null || true
    [ -z "$EDGE_PID" ] || wait "$EDGE_PID" 2>/dev/null || true
    wait "$CLOUD_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 100); do
    grep -q "kedge cloud ready" "$DEMO_DIR/cloud.out" 2>/dev/null && break
    if ! kill -0 "$CLOUD_PID" 2>/dev/null; then
        cat "$DEMO_DIR/cloud.log" >&2
        exit 1
    fi
    sleep 0.1
done
export KUBECONFIG="$DEMO_DIR/cloud/admin.kubeconfig"
cat "$DEMO_DIR/cloud.out"
HUB=$(sed -n 's/.*kedge cloud hub: \(https:[^ ]*\).*/\1/p' "$DEMO_DIR/cloud.out")

echo
echo "+ kedge token create --data-dir $DEMO_DIR/cloud"
TOKEN=$("$BIN" token create --data-dir "$DEMO_DIR/cloud" --description demo)
echo "$TOKEN"
echo "+ kedge edge --name demo-edge --cloud $HUB --token ... --local-api 127.0.0.1:$LOCAL_PORT"
"$BIN" edge --data-dir "$DEMO_DIR/edge" --name demo-edge --cloud "$HUB" \
    --token "$TOKEN" --local-api "127.0.0.1:$LOCAL_PORT" --labels site=demo \
    >"$DEMO_DIR/edge.out" 2>"$DEMO_DIR/edge.log" &
EDGE_PID=$!
for _ in $(seq 1 100); do
    kubectl get node demo-edge 2>/dev/null | grep -q " Ready " && break
    if ! kill -0 "$EDGE_PID" 2>/dev/null; then
        cat "$DEMO_DIR/edge.log" >&2
        exit 1
    fi
    sleep 0.2
done

echo
echo "+ kubectl apply -f scripts/demo-app.yaml"
kubectl apply -f scripts/demo-app.yaml
for _ in $(seq 1 100); do
    [ "$(kubectl get pods -n demo --no-headers 2>/dev/null | grep -c Running)" -ge 2 ] && break
    sleep 0.2
done
echo
echo "+ kubectl get nodes -o wide"
kubectl get nodes -o wide
echo
echo "+ kubectl get all -n demo -o wide"
kubectl get all -n demo -o wide
echo
cat <<TXT
kedge cloud and one edge node (demo-edge, fake runtime) are running.
Data: $DEMO_DIR (cloud/, edge/); logs: $DEMO_DIR/cloud.log, $DEMO_DIR/edge.log.
Try, in another terminal:

  export KUBECONFIG=$KUBECONFIG
  kubectl get pods -n demo -o wide
  kubectl scale deploy/hello -n demo --replicas=4
  kubectl rollout restart deploy/hello -n demo && kubectl rollout status deploy/hello -n demo
  kubectl describe node demo-edge

  # the edge's own API, served from its local store (also while the cloud is down):
  kubectl --kubeconfig $DEMO_DIR/edge/local.kubeconfig get pods -A -o wide
  kubectl --kubeconfig $DEMO_DIR/edge/local.kubeconfig get configmaps -A

  # scale tests: 100 simulated edge nodes speaking the real protocol
  $BIN hollow --cloud $HUB --token $TOKEN --nodes 100

Pods run with a fake runtime for now (real containers with runc, and
devices, come in the next milestones).
Press Ctrl-C to stop.
TXT
wait "$CLOUD_PID"
