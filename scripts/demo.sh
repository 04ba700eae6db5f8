#!/usr/bin/env bash
# `make demo`: starts kedge cloud on a fresh data directory, applies a
# sample application with kubectl, shows it, and keeps running until Ctrl-C.
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

"$BIN" cloud --data-dir "$DEMO_DIR/cloud" --secure-port "$PORT" --hub-port "$HUB_PORT" \
    >"$DEMO_DIR/cloud.out" 2>"$DEMO_DIR/cloud.log" &
CLOUD_PID=$!
cleanup() {
    kill "$CLOUD_PID" 2>/dev/null || true
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
echo
echo "+ kubectl apply -f scripts/demo-app.yaml"
kubectl apply -f scripts/demo-app.yaml
echo
echo "+ kubectl get all -A"
kubectl get all -A
echo
cat <<TXT
kedge cloud is running (data in $DEMO_DIR/cloud, log in $DEMO_DIR/cloud.log).
Try, in another terminal:

  export KUBECONFIG=$KUBECONFIG
  kubectl get all -n demo
  kubectl get deploy -n demo -o wide
  kubectl scale deploy/hello -n demo --replicas=3
  kubectl get configmaps -A -w

Edge nodes, pods that run and devices arrive in the next milestones.
Press Ctrl-C to stop.
TXT
wait "$CLOUD_PID"
