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

event fresh "2020-01-01T00:00:00Z"
sleep 1
expect_eq "an event is kept until --event-ttl after it was written" \
    "$(kubectl get event fresh -o jsonpath='{.reason}')" "Test"
wait_until "an event is deleted --event-ttl after it was written" 60 gone fresh

# Without controllers events stay; when they come back, events found at
# start count from the latest time they carry (here: their creation).
stop_cloud
start_cloud "$E2E_TMP/cloud2" --event-ttl 1h --disable-controllers
event old "2020-01-01T00:00:00Z"
sleep 1
expect_eq "--disable-controllers leaves events alone" \
    "$(kubectl get event old -o jsonpath='{.reason}')" "Test"
stop_cloud
start_cloud "$E2E_TMP/cloud2" --event-ttl 2s
wait_until "an event found at start is collected after the TTL" 30 gone old

e2e_finish
