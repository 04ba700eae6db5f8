#!/usr/bin/env bash
# The controller manager inside kedge cloud: its flags, and the event TTL
# controller (events go --event-ttl after they last happened).
source "$(dirname "$0")/lib.sh"

expect_fail_match "bad grace period" "node-grace-period must be a positive duration" \
    "$KEDGE_BIN" cloud --data-dir "$E2E_TMP/x" --node-grace-period 40
expect_fail_match "bad eviction timeout" "pod-eviction-timeout must be a duration" \
    "$KEDGE_BIN" cloud --data-dir "$E2E_TMP/x" --pod-eviction-timeout soon
expect_fail_match "bad event ttl" "event-ttl must be a positive duration" \
    "$KEDGE_BIN" cloud --data-dir "$E2E_TMP/x" --event-ttl 0

start_cloud "$E2E_TMP/cloud" --event-ttl 3s

event() { # NAME [lastTimestamp]
    kubectl create -f - >/dev/null <<EOF2
apiVersion: v1
kind: Event
metadata: {name: $1, namespace: default}
involvedObject: {kind: Pod, name: p, namespace: default}
reason: Test
message: hello
${2:+lastTimestamp: "$2"}
EOF2
}
gone() { ! kubectl get event "$1" >/dev/null 2>&1; }

event old "2020-01-01T00:00:00Z"
event fresh
wait_until "an event older than the TTL is deleted" 30 gone old
expect_eq "a fresh event is kept for now" \
    "$(kubectl get event fresh -o jsonpath='{.reason}')" "Test"
wait_until "a fresh event is deleted after the TTL" 60 gone fresh

# Without controllers the same event stays.
stop_cloud
start_cloud "$E2E_TMP/cloud2" --event-ttl 1s --disable-controllers
event old2 "2020-01-01T00:00:00Z"
sleep 2
expect_eq "--disable-controllers leaves events alone" \
    "$(kubectl get event old2 -o jsonpath='{.reason}')" "Test"

e2e_finish
