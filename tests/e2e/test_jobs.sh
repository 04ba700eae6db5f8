#!/usr/bin/env bash
# The Job controller with real kubectl: parallelism and completions, pod
# phases driven by patching pod status (no container runtime here),
# `kubectl wait --for=condition=complete`, and the backoff limit.
source "$(dirname "$0")/lib.sh"

start_cloud "$E2E_TMP/cloud"

job() { # NAME COMPLETIONS PARALLELISM BACKOFF
    kubectl apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  completions: $2
  parallelism: $3
  backoffLimit: $4
  template:
    spec:
      restartPolicy: Never
      containers: [{name: work, image: busybox, command: [sh, -c, "echo done"]}]
EOF
}
pods_of() { kubectl get pods -l job-name="$1" -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}'; }
count() { pods_of "$1" | grep -c "$2" || true; }
has_count() { [ "$(count "$1" "$2")" = "$3" ]; }
finish_one() { # JOB PHASE: moves one Pending pod to PHASE
    local p
    p=$(pods_of "$1" | awk '$2 == "Pending" {print $1; exit}')
    [ -n "$p" ] || return 1
    kubectl patch pod "$p" --subresource=status --type=merge \
        -p "{\"status\":{\"phase\":\"$2\"}}" >/dev/null
}

job work 3 2 6
wait_until "parallelism 2: two pods" 30 has_count work Pending 2
sleep 1
expect_eq "never more than parallelism" "$(count work Pending)" "2"
expect_eq "job active" "$(kubectl get job work -o jsonpath='{.status.active}')" "2"
finish_one work Succeeded
wait_until "a succeeded pod is replaced" 30 has_count work Pending 2
finish_one work Succeeded
# 2 succeeded, 1 more needed: only one pod stays
wait_until "only the missing completion runs" 30 has_count work Pending 1
finish_one work Succeeded
expect_eq "kubectl wait --for=condition=complete" \
    "$(kubectl wait --for=condition=complete job/work --timeout=60s 2>&1)" \
    "job.batch/work condition met"
expect_eq "succeeded count" "$(kubectl get job work -o jsonpath='{.status.succeeded}')" "3"
expect_match "kubectl get job shows 3/3" "$(kubectl get job work --no-headers)" "^work +Complete +3/3"
expect_match "completion events" "$(kubectl get events --field-selector involvedObject.name=work -o jsonpath='{range .items[*]}{.reason} {end}')" "SuccessfulCreate.*Completed"
expect_eq "pods are owned by the job" \
    "$(kubectl get pods -l job-name=work -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}')" "Job"

job flaky 1 1 1
wait_until "flaky: a pod" 30 has_count flaky Pending 1
finish_one flaky Failed
wait_until "a failed pod is retried" 30 has_count flaky Pending 1
finish_one flaky Failed
failed() { [ "$(kubectl get job flaky -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}')" = BackoffLimitExceeded ]; }
wait_until "past the backoff limit the job fails" 30 failed
expect_eq "failed count" "$(kubectl get job flaky -o jsonpath='{.status.failed}')" "2"
expect_eq "no new pod after failing" "$(count flaky Pending)" "0"
expect_match "kubectl wait for failure" "$(kubectl wait --for=condition=failed job/flaky --timeout=30s 2>&1)" "condition met"

kubectl delete job work >/dev/null
pods_gone() { [ -z "$(pods_of work)" ]; }
wait_until "deleting a job removes its pods (garbage collector)" 60 pods_gone

e2e_finish
