/*
 * The Job controller (NonIndexed jobs): keeps up to spec.parallelism pods
 * running until spec.completions have succeeded, counts failures against
 * spec.backoffLimit, honours activeDeadlineSeconds and suspend, and keeps
 * status (startTime, active, ready, succeeded, failed, conditions
 * SuccessCriteriaMet/Complete or FailureTarget/Failed, completionTime)
 * as Kubernetes does, so `kubectl wait --for=condition=complete` works.
 *
 * Succeeded and failed pods are counted from the pods that still exist
 * (finished pods are kept, as Kubernetes keeps them); Kubernetes' tracking
 * finalizer, which keeps counts right when finished pods are deleted early,
 * is not implemented.
 */
#include "controllers/ctrl.h"
#include "api/patch.h"
#include "resources/jsonutil.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_RETRY_MS 5000

struct jobs {
    const struct resource_type *jobs_rt, *pods_rt;
};

static void job_key(const char *ns, const char *name, char *out, size_t len)
{
    snprintf(out, len, "/registry/batch/jobs/%s/%s", ns, name);
}

static void on_job(struct ctrl *c, struct ctrl_event *ev)
{
    if (ctrl_event_type(ev) != STORE_DELETE)
        ctrl_enqueue(c, ctrl_event_key(ev));
}

static void on_pod(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *pod = ctrl_event_obj(ev);
    struct json_object *ref = ctrl_controller_ref(pod);
    const char *kind = ju_str(ref, "kind"), *name = ju_str(ref, "name");
    const char *ns = ju_str(ju_obj(pod, "metadata"), "namespace");
    if (!kind || strcmp(kind, "Job") != 0 || !name || !ns)
        return;
    char key[600];
    job_key(ns, name, key, sizeof(key));
    ctrl_enqueue(c, key);
}

struct counts {
    const char *uid;
    struct json_object *active;   /* array of pods (owned refs) */
    int64_t succeeded, failed, ready, terminating;
};

static bool has_condition(struct json_object *obj, const char *type)
{
    struct json_object *conds = ju_arr(ju_obj(obj, "status"), "conditions");
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *cd = ju_idx_obj(conds, i);
        const char *t = ju_str(cd, "type"), *st = ju_str(cd, "status");
        if (t && st && strcmp(t, type) == 0 && strcmp(st, "True") == 0)
            return true;
    }
    return false;
}

static int count_pod(void *arg, const struct resource_type *rt,
                     const char *key, struct json_object *pod)
{
    struct counts *k = arg;
    if (strcmp(rt->resource, "pods") != 0)
        return 0;
    struct json_object *ref = ctrl_controller_ref(pod);
    const char *uid = ju_str(ref, "uid");
    if (!uid || strcmp(uid, k->uid) != 0)
        return 0;
    const char *phase = ju_str(ju_obj(pod, "status"), "phase");
    if (phase && strcmp(phase, "Succeeded") == 0)
        k->succeeded++;
    else if (phase && strcmp(phase, "Failed") == 0)
        k->failed++;
    else if (ju_str(ju_obj(pod, "metadata"), "deletionTimestamp"))
        k->terminating++;
    else {
        json_object_array_add(k->active, json_object_get(pod));
        if (has_condition(pod, "Ready"))
            k->ready++;
    }
    return 0;
}

static struct json_object *condition(const char *type, const char *reason,
                                     const char *message, const char *ts)
{
    struct json_object *cd = json_object_new_object();
    ju_set_str(cd, "type", type);
    ju_set_str(cd, "status", "True");
    ju_set_str(cd, "reason", reason);
    ju_set_str(cd, "message", message);
    ju_set_str(cd, "lastProbeTime", ts);
    ju_set_str(cd, "lastTransitionTime", ts);
    return cd;
}

/* Adds the condition unless one of that type is already True. */
static void add_condition(struct json_object *status, const char *type,
                          const char *reason, const char *message,
                          const char *ts)
{
    struct json_object *conds = ju_arr_ensure(status, "conditions");
    for (size_t i = 0; i < ju_len(conds); i++) {
        const char *t = ju_str(ju_idx_obj(conds, i), "type");
        if (t && strcmp(t, type) == 0)
            return;
    }
    json_object_array_add(conds, condition(type, reason, message, ts));
}

static void delete_pods(struct ctrl *c, struct jobs *s, struct json_object *pods,
                        size_t from)
{
    for (size_t i = from; i < ju_len(pods); i++) {
        struct json_object *md = ju_obj(ju_idx_obj(pods, i), "metadata");
        ctrl_delete(c, s->pods_rt, ju_str(md, "namespace"), ju_str(md, "name"),
                    NULL, ju_str(md, "uid"));
    }
}

static int create_pod(struct ctrl *c, struct jobs *s, struct json_object *job)
{
    struct json_object *md = ju_obj(job, "metadata");
    const char *ns = ju_str(md, "namespace"), *name = ju_str(md, "name");
    struct json_object *tmpl = ju_obj(ju_obj(job, "spec"), "template");
    struct json_object *pod = json_object_new_object();
    ju_set_str(pod, "apiVersion", "v1");
    ju_set_str(pod, "kind", "Pod");
    struct json_object *pmd = ju_obj_ensure(pod, "metadata");
    char gen[300];
    snprintf(gen, sizeof(gen), "%.200s-", name);
    ju_set_str(pmd, "generateName", gen);
    struct json_object *tmd = ju_obj(tmpl, "metadata");
    if (ju_obj(tmd, "labels"))
        json_object_object_add(pmd, "labels",
                               json_object_get(ju_obj(tmd, "labels")));
    if (ju_obj(tmd, "annotations"))
        json_object_object_add(pmd, "annotations",
                               json_object_get(ju_obj(tmd, "annotations")));
    struct json_object *refs = json_object_new_array();
    json_object_array_add(refs, ctrl_new_controller_ref(s->jobs_rt, job));
    json_object_object_add(pmd, "ownerReferences", refs);
    json_object_object_add(pod, "spec", json_object_get(ju_obj(tmpl, "spec")));
    struct json_object *out = NULL;
    int code = ctrl_create(c, s->pods_rt, ns, pod, &out);
    if (code == 201)
        ctrl_eventf(c, s->jobs_rt, job, "Normal", "SuccessfulCreate",
                    "Created pod: %s",
                    ju_str(ju_obj(out, "metadata"), "name"));
    else
        ctrl_eventf(c, s->jobs_rt, job, "Warning", "FailedCreate",
                    "Error creating: %s", ctrl_status_message(out));
    json_object_put(out);
    json_object_put(pod);
    return code == 201 ? 0 : -1;
}

static void sync_job(struct ctrl *c, const char *key)
{
    struct jobs *s = ctrl_state(c);
    struct json_object *job = ctrl_get_key(c, s->jobs_rt, key, NULL);
    if (!job)
        return;
    struct json_object *md = ju_obj(job, "metadata");
    struct json_object *spec = ju_obj(job, "spec");
    if (ju_str(md, "deletionTimestamp") || !ju_str(md, "uid")) {
        json_object_put(job);
        return;
    }
    struct counts k = {.uid = ju_str(md, "uid"),
                       .active = json_object_new_array()};
    ctrl_dependents(c, k.uid, count_pod, &k);

    int64_t completions = 1, parallelism = 1, backoff = 6, deadline = 0;
    bool has_completions = ju_int(spec, "completions", &completions);
    ju_int(spec, "parallelism", &parallelism);
    ju_int(spec, "backoffLimit", &backoff);
    ju_int(spec, "activeDeadlineSeconds", &deadline);
    bool suspend = false;
    ju_bool(spec, "suspend", &suspend);

    struct json_object *old = ju_obj(job, "status");
    struct json_object *st = old ? json_clone(old) : json_object_new_object();
    char ts[32];
    time_now_rfc3339(ts);
    bool finished = has_condition(job, "Complete") || has_condition(job, "Failed");
    int64_t active = (int64_t)ju_len(k.active);

    if (!finished && !suspend && !ju_str(st, "startTime"))
        ju_set_str(st, "startTime", ts);
    time_t started = time_parse_rfc3339(ju_str(st, "startTime"));

    if (!finished) {
        bool done = has_completions ? k.succeeded >= completions
                                    : k.succeeded > 0 && active == 0;
        if (done) {
            add_condition(st, "SuccessCriteriaMet", "CompletionsReached",
                          "Reached expected number of succeeded pods", ts);
            add_condition(st, "Complete", "CompletionsReached",
                          "Reached expected number of succeeded pods", ts);
            ju_set_str(st, "completionTime", ts);
            delete_pods(c, s, k.active, 0);
            ctrl_eventf(c, s->jobs_rt, job, "Normal", "Completed",
                        "Job completed");
            finished = true;
        } else if (k.failed > backoff) {
            add_condition(st, "FailureTarget", "BackoffLimitExceeded",
                          "Job has reached the specified backoff limit", ts);
            add_condition(st, "Failed", "BackoffLimitExceeded",
                          "Job has reached the specified backoff limit", ts);
            delete_pods(c, s, k.active, 0);
            ctrl_eventf(c, s->jobs_rt, job, "Warning", "BackoffLimitExceeded",
                        "Job has reached the specified backoff limit");
            finished = true;
        } else if (deadline > 0 && started > 0 && !suspend &&
                   time(NULL) >= started + deadline) {
            add_condition(st, "FailureTarget", "DeadlineExceeded",
                          "Job was active longer than specified deadline", ts);
            add_condition(st, "Failed", "DeadlineExceeded",
                          "Job was active longer than specified deadline", ts);
            delete_pods(c, s, k.active, 0);
            ctrl_eventf(c, s->jobs_rt, job, "Warning", "DeadlineExceeded",
                        "Job was active longer than specified deadline");
            finished = true;
        } else if (suspend) {
            delete_pods(c, s, k.active, 0);
            add_condition(st, "Suspended", "JobSuspended", "Job suspended",
                          ts);
        } else {
            int64_t want = parallelism;
            if (has_completions && completions - k.succeeded < want)
                want = completions - k.succeeded;
            if (active > want) {
                delete_pods(c, s, k.active, (size_t)want);
            } else {
                for (int64_t i = active; i < want; i++)
                    if (create_pod(c, s, job) != 0) {
                        ctrl_enqueue_after(c, key, JOB_RETRY_MS);
                        break;
                    }
            }
            if (deadline > 0 && started > 0)
                ctrl_enqueue_after(
                    c, key, (uint64_t)(started + deadline - time(NULL)) * 1000);
        }
    }
    ju_set_int(st, "active", finished || suspend ? 0 : active);
    ju_set_int(st, "ready", finished || suspend ? 0 : k.ready);
    ju_set_int(st, "succeeded", k.succeeded);
    ju_set_int(st, "failed", k.failed);
    ju_set_int(st, "terminating", k.terminating);
    if (!ju_obj(st, "uncountedTerminatedPods"))
        json_object_object_add(st, "uncountedTerminatedPods",
                               json_object_new_object());
    if (!old || !json_equal(old, st)) {
        json_object_object_add(job, "status", json_object_get(st));
        int code = ctrl_update(c, s->jobs_rt, job, "status", NULL);
        if (code == 409)
            ctrl_enqueue(c, key);
        else if (code >= 300)
            ctrl_enqueue_after(c, key, JOB_RETRY_MS);
    }
    json_object_put(st);
    json_object_put(k.active);
    json_object_put(job);
}

static int init(struct ctrl *c)
{
    struct jobs *s = ctrl_state(c);
    s->jobs_rt = ctrl_rt("batch", "jobs");
    s->pods_rt = ctrl_rt("", "pods");
    int rc = ctrl_watch(c, s->jobs_rt, on_job);
    return rc ? rc : ctrl_watch(c, s->pods_rt, on_pod);
}

const struct ctrl_def ctrl_job_def = {
    .name = "job-controller",
    .user = "system:serviceaccount:kube-system:job-controller",
    .state_size = sizeof(struct jobs),
    .init = init,
    .sync = sync_job,
};
