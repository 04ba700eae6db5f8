/*
 * The ReplicaSet controller: keeps spec.replicas active pods matching each
 * ReplicaSet's selector and controlled by it. It adopts matching orphans,
 * releases pods whose labels stopped matching, creates missing pods from
 * spec.template in doubling batches, deletes the surplus in Kubernetes'
 * order, and reports replicas/ready/available counts in status.
 */
#include "controllers/ctrl.h"
#include "controllers/rollout.h"

#include "api/patch.h"
#include "api/selector.h"
#include "resources/jsonutil.h"
#include "resources/workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most pods created or deleted in one sync (Kubernetes' burstReplicas);
 * the rest follows in the next sync, so other work is not starved. */
#define RS_BURST 500
/* Retry delay after a failed create, delete or status write. */
#define RS_RETRY_MS 5000
/* How long pod status changes wait to be gathered into one sync. */
#define RS_STATUS_BATCH_MS 50
/* Queue keys that ask "which ReplicaSet wants this orphan pod?". */
#define RS_ORPHAN_PREFIX "orphan:"

struct rs_state {
    /* ReplicaSet keys whose namespace may hold orphans to adopt; the next
     * sync of each lists its namespace's pods once. */
    char **scan;
    int nscan, capscan;
};

/* Marks key for an orphan scan. */
static void scan_mark(struct ctrl *c, const char *key)
{
    struct rs_state *s = ctrl_state(c);
    for (int i = 0; i < s->nscan; i++)
        if (strcmp(s->scan[i], key) == 0)
            return;
    if (s->nscan == s->capscan) {
        int cap = s->capscan ? s->capscan * 2 : 16;
        char **n = realloc(s->scan, (size_t)cap * sizeof(*n));
        if (!n)
            return;
        s->scan = n;
        s->capscan = cap;
    }
    if ((s->scan[s->nscan] = strdup(key)))
        s->nscan++;
}

/* True (and forgets it) if key was marked for an orphan scan. */
static bool scan_take(struct ctrl *c, const char *key)
{
    struct rs_state *s = ctrl_state(c);
    for (int i = 0; i < s->nscan; i++) {
        if (strcmp(s->scan[i], key) == 0) {
            free(s->scan[i]);
            s->scan[i] = s->scan[--s->nscan];
            return true;
        }
    }
    return false;
}

static const struct resource_type *rs_rt(void)
{
    return ctrl_rt("apps", "replicasets");
}

static const struct resource_type *pod_rt(void) { return ctrl_rt("", "pods"); }

static const char *meta(struct json_object *o, const char *field)
{
    return ju_str(ju_obj(o, "metadata"), field);
}

/* Queues the ReplicaSet that controls pod, if any, after delay_ms. */
static void enqueue_owner(struct ctrl *c, struct json_object *pod,
                          uint64_t delay_ms)
{
    struct json_object *ref = ctrl_controller_ref(pod);
    const char *kind = ju_str(ref, "kind"), *name = ju_str(ref, "name");
    const char *av = ju_str(ref, "apiVersion");
    char key[600];

    if (!kind || !name || !av || strcmp(kind, "ReplicaSet") != 0 ||
        strncmp(av, "apps/", 5) != 0)
        return;
    if (ctrl_key(rs_rt(), meta(pod, "namespace"), name, key, sizeof(key)) != 0)
        return;
    if (delay_ms)
        ctrl_enqueue_after(c, key, delay_ms);
    else
        ctrl_enqueue(c, key);
}

/* True if an update left what the ReplicaSet acts on alone (labels,
 * owners, deletion): only status changed, which only feeds status. */
static bool pod_status_only(struct json_object *old, struct json_object *obj)
{
    static const char *const fields[] = {"labels", "ownerReferences",
                                         "deletionTimestamp", NULL};
    struct json_object *om = ju_obj(old, "metadata");
    struct json_object *nm = ju_obj(obj, "metadata");
    if (!old || !obj || rollout_pod_active(old) != rollout_pod_active(obj))
        return false;
    for (int i = 0; fields[i]; i++) {
        struct json_object *a = NULL, *b = NULL;
        json_object_object_get_ex(om, fields[i], &a);
        json_object_object_get_ex(nm, fields[i], &b);
        if (!json_equal(a, b))
            return false;
    }
    return true;
}

static void on_pod(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *obj = ctrl_event_obj(ev), *old = ctrl_event_old(ev);
    char key[700];

    /* Status changes of many pods (Ready, bound) come one request at a
     * time; each sync reads every pod of the ReplicaSet, so they are
     * gathered into one sync a moment later. */
    uint64_t delay =
        ctrl_event_type(ev) == STORE_UPDATE && pod_status_only(old, obj)
            ? RS_STATUS_BATCH_MS
            : 0;
    if (obj)
        enqueue_owner(c, obj, delay);
    if (old)
        enqueue_owner(c, old, delay);
    /* An orphan: find the ReplicaSets that may adopt it in a sync (the
     * handler must not read much, nor write). */
    struct json_object *labels = ju_obj(ju_obj(obj, "metadata"), "labels");
    if (obj && ctrl_event_type(ev) != STORE_DELETE &&
        !ctrl_controller_ref(obj) && rollout_pod_active(obj) && labels &&
        json_object_object_length(labels) > 0) {
        snprintf(key, sizeof(key), RS_ORPHAN_PREFIX "%s", ctrl_event_key(ev));
        ctrl_enqueue(c, key);
    }
}

/* True if an update changed more than status (and resourceVersion): the
 * controller's own status writes must not queue another sync, or a
 * failure recorded in status would retry at once, forever. */
static bool changed_beyond_status(struct json_object *old,
                                  struct json_object *obj)
{
    static const char *const fields[] = {"labels",          "annotations",
                                         "ownerReferences", "deletionTimestamp",
                                         "generation",      NULL};
    struct json_object *om = ju_obj(old, "metadata"),
                       *nm = ju_obj(obj, "metadata");
    if (!old || !obj || !json_equal(ju_obj(old, "spec"), ju_obj(obj, "spec")))
        return true;
    for (int i = 0; fields[i]; i++) {
        struct json_object *a = NULL, *b = NULL;
        json_object_object_get_ex(om, fields[i], &a);
        json_object_object_get_ex(nm, fields[i], &b);
        if (!json_equal(a, b))
            return true;
    }
    return false;
}

static void on_rs(struct ctrl *c, struct ctrl_event *ev)
{
    if (ctrl_event_type(ev) == STORE_DELETE)
        return;
    if (ctrl_event_type(ev) == STORE_UPDATE &&
        !changed_beyond_status(ctrl_event_old(ev), ctrl_event_obj(ev)))
        return;
    /* A new ReplicaSet may find pods that were there before it. */
    if (ctrl_event_type(ev) == STORE_CREATE)
        scan_mark(c, ctrl_event_key(ev));
    ctrl_enqueue(c, ctrl_event_key(ev));
}

static int rs_init(struct ctrl *c)
{
    int rc = ctrl_watch(c, rs_rt(), on_rs);
    return rc ? rc : ctrl_watch(c, pod_rt(), on_pod);
}

static void rs_fini(struct ctrl *c)
{
    struct rs_state *s = ctrl_state(c);
    for (int i = 0; i < s->nscan; i++)
        free(s->scan[i]);
    free(s->scan);
}

/* ---- orphans ------------------------------------------------------------ */

struct orphan_ctx {
    struct ctrl *c;
    struct json_object *pod;
};

static int orphan_candidate(void *arg, const char *key, struct json_object *rs)
{
    struct orphan_ctx *o = arg;
    struct label_selector *sel;

    if (ju_has(ju_obj(rs, "metadata"), "deletionTimestamp"))
        return 0;
    sel = wl_selector_compile(ju_obj(ju_obj(rs, "spec"), "selector"));
    if (sel && !label_selector_empty(sel) &&
        label_selector_matches(sel,
                               ju_obj(ju_obj(o->pod, "metadata"), "labels"))) {
        scan_mark(o->c, key);
        ctrl_enqueue(o->c, key);
    }
    label_selector_free(sel);
    return 0;
}

/* An orphan pod: queues every ReplicaSet of its namespace that selects
 * it, with an orphan scan. */
static void sync_orphan(struct ctrl *c, const char *pod_key)
{
    struct json_object *pod = ctrl_get_key(c, pod_rt(), pod_key, NULL);
    struct orphan_ctx o = {c, pod};

    if (pod && !ctrl_controller_ref(pod) && rollout_pod_active(pod))
        ctrl_list(c, rs_rt(), meta(pod, "namespace"), orphan_candidate, &o);
    json_object_put(pod);
}

/* ---- the pods of one ReplicaSet ----------------------------------------- */

struct rs_pod {
    struct json_object *pod; /* owned */
    struct rollout_pod_rank rank;
};

struct rs_sync {
    struct ctrl *c;
    const char *key;
    struct json_object *rs;
    const char *uid, *ns, *name;
    struct label_selector *sel;
    struct rs_pod *pods; /* active pods it controls */
    int npods, cap;
};

static int pods_add(struct rs_sync *s, struct json_object *pod)
{
    if (s->npods == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        struct rs_pod *n = realloc(s->pods, (size_t)cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        s->pods = n;
        s->cap = cap;
    }
    s->pods[s->npods].pod = json_object_get(pod);
    rollout_pod_rank_of(pod, &s->pods[s->npods].rank);
    s->npods++;
    return 0;
}

/* Merge-patches the pod's ownerReferences to refs (NULL: none), if the pod is
 * still at the revision we read. */
static int patch_owner_refs(struct rs_sync *s, struct json_object *pod,
                            struct json_object *refs)
{
    struct json_object *p = json_object_new_object();
    struct json_object *md = json_object_new_object();
    int code;

    json_object_object_add(p, "metadata", md);
    json_object_object_add(md, "ownerReferences", json_object_get(refs));
    ju_set_str(md, "resourceVersion", meta(pod, "resourceVersion"));
    ju_set_str(md, "uid", meta(pod, "uid"));
    code = ctrl_patch(s->c, pod_rt(), s->ns, meta(pod, "name"), NULL,
                      "application/merge-patch+json",
                      json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
                      NULL);
    json_object_put(p);
    return code;
}

/* Drops this ReplicaSet's reference from a pod whose labels no longer
 * match. */
static void release_pod(struct rs_sync *s, struct json_object *pod)
{
    struct json_object *refs =
        ju_arr(ju_obj(pod, "metadata"), "ownerReferences");
    struct json_object *keep = json_object_new_array();

    for (size_t i = 0; i < ju_len(refs); i++) {
        struct json_object *r = ju_idx_obj(refs, i);
        const char *uid = ju_str(r, "uid");
        if (!uid || strcmp(uid, s->uid) != 0)
            json_object_array_add(keep, json_clone(r));
    }
    /* null removes the field, as Kubernetes leaves no empty list */
    patch_owner_refs(s, pod, ju_len(keep) ? keep : NULL);
    json_object_put(keep);
}

static int collect_controlled(void *arg, const struct resource_type *rt,
                              const char *key, struct json_object *pod)
{
    struct rs_sync *s = arg;
    struct json_object *ref = ctrl_controller_ref(pod);
    const char *uid = ju_str(ref, "uid");

    (void)key;
    if (rt != pod_rt() || !uid || strcmp(uid, s->uid) != 0)
        return 0;
    if (!label_selector_matches(s->sel,
                                ju_obj(ju_obj(pod, "metadata"), "labels"))) {
        if (!ju_has(ju_obj(pod, "metadata"), "deletionTimestamp"))
            release_pod(s, pod);
        return 0;
    }
    return rollout_pod_active(pod) ? pods_add(s, pod) : 0;
}

static int adopt_orphan(void *arg, const char *key, struct json_object *pod)
{
    struct rs_sync *s = arg;
    struct json_object *refs, *all;

    (void)key;
    if (ctrl_controller_ref(pod) || !rollout_pod_active(pod) ||
        !label_selector_matches(s->sel,
                                ju_obj(ju_obj(pod, "metadata"), "labels")))
        return 0;
    refs = ju_arr(ju_obj(pod, "metadata"), "ownerReferences");
    all = refs ? json_clone(refs) : json_object_new_array();
    json_object_array_add(all, ctrl_new_controller_ref(rs_rt(), s->rs));
    if (patch_owner_refs(s, pod, all) / 100 == 2) {
        struct json_object *now =
            ctrl_get(s->c, pod_rt(), s->ns, meta(pod, "name"), NULL);
        if (now)
            pods_add(s, now);
        json_object_put(now);
    }
    json_object_put(all);
    return 0;
}

/* ---- creating and deleting ---------------------------------------------- */

/* The pod to create for a ReplicaSet (controller.GetPodFromTemplate). */
static struct json_object *pod_from_template(struct rs_sync *s)
{
    struct json_object *tmpl = ju_obj(ju_obj(s->rs, "spec"), "template");
    struct json_object *tmd = ju_obj(tmpl, "metadata");
    struct json_object *pod = json_object_new_object();
    struct json_object *md = json_object_new_object();
    struct json_object *refs = json_object_new_array();
    char prefix[300];
    static const char *const copied[] = {"labels", "annotations", "finalizers",
                                         NULL};

    ju_set_str(pod, "apiVersion", "v1");
    ju_set_str(pod, "kind", "Pod");
    json_object_object_add(pod, "metadata", md);
    snprintf(prefix, sizeof(prefix), "%s-", s->name);
    ju_set_str(md, "generateName", prefix);
    for (int i = 0; copied[i]; i++) {
        struct json_object *v = NULL;
        if (json_object_object_get_ex(tmd, copied[i], &v) && v)
            json_object_object_add(md, copied[i], json_clone(v));
    }
    json_object_array_add(refs, ctrl_new_controller_ref(rs_rt(), s->rs));
    json_object_object_add(md, "ownerReferences", refs);
    json_object_object_add(pod, "spec", json_clone(ju_obj(tmpl, "spec")));
    return pod;
}

/* Creates n pods in doubling batches (1, 2, 4, ...), stopping at the
 * first batch with a failure, as Kubernetes' slowStartBatch: a template
 * the API refuses costs one request, not n. Returns the failure's
 * message (written to err) or NULL. */
static const char *create_pods(struct rs_sync *s, int64_t n, char *err,
                               size_t errlen)
{
    struct json_object *body = pod_from_template(s);
    int64_t done = 0, batch = 1;
    const char *failed = NULL;

    while (done < n && !failed) {
        int64_t this_batch = batch < n - done ? batch : n - done;
        for (int64_t i = 0; i < this_batch; i++) {
            struct json_object *out = NULL;
            int code = ctrl_create(s->c, pod_rt(), s->ns, body, &out);
            if (code / 100 == 2) {
                ctrl_eventf(s->c, rs_rt(), s->rs, "Normal", "SuccessfulCreate",
                            "Created pod: %s", meta(out, "name"));
            } else {
                snprintf(err, errlen, "%s", ctrl_status_message(out));
                ctrl_eventf(s->c, rs_rt(), s->rs, "Warning", "FailedCreate",
                            "Error creating: %s", err);
                failed = err;
            }
            json_object_put(out);
        }
        done += this_batch;
        batch *= 2;
    }
    json_object_put(body);
    return failed;
}

static int rank_cmp(const void *a, const void *b)
{
    return rollout_pod_rank_cmp(&((const struct rs_pod *)a)->rank,
                                &((const struct rs_pod *)b)->rank);
}

/* Deletes the n pods that rank first. Returns the last failure's message
 * or NULL. */
static const char *delete_pods(struct rs_sync *s, int64_t n, char *err,
                               size_t errlen)
{
    const char *failed = NULL;

    if (s->npods > 1)
        qsort(s->pods, (size_t)s->npods, sizeof(*s->pods), rank_cmp);
    for (int64_t i = 0; i < n && i < s->npods; i++) {
        struct json_object *pod = s->pods[i].pod;
        const char *name = meta(pod, "name");
        int code =
            ctrl_delete(s->c, pod_rt(), s->ns, name, NULL, meta(pod, "uid"));
        if (code / 100 == 2) {
            ctrl_eventf(s->c, rs_rt(), s->rs, "Normal", "SuccessfulDelete",
                        "Deleted pod: %s", name);
        } else if (code != 404) {
            snprintf(err, errlen, "deleting pod %s: HTTP %d", name, code);
            ctrl_eventf(s->c, rs_rt(), s->rs, "Warning", "FailedDelete",
                        "Error deleting: %s", err);
            failed = err;
        }
    }
    return failed;
}

/* ---- status ------------------------------------------------------------- */

/* Whether every label of the template is on the pod. */
static bool fully_labeled(struct json_object *tmpl_labels,
                          struct json_object *pod)
{
    struct json_object *labels = ju_obj(ju_obj(pod, "metadata"), "labels");
    if (!json_object_is_type(tmpl_labels, json_type_object))
        return true;
    json_object_object_foreach(tmpl_labels, k, v)
    {
        const char *have = ju_str(labels, k);
        if (!have || !json_object_is_type(v, json_type_string) ||
            strcmp(have, json_object_get_string(v)) != 0)
            return false;
    }
    return true;
}

/*
 * calculateStatus: the counts from the pods as found at the start of the
 * sync (the creates and deletes come back as pod events and another
 * sync), the ReplicaFailure condition from this sync's failure. Writes
 * only a changed status. *wait_s gets the seconds until a Ready pod
 * becomes available (0: none waiting).
 */
static void update_status(struct rs_sync *s, const char *failure,
                          bool failed_create, int64_t *wait_s)
{
    struct json_object *spec = ju_obj(s->rs, "spec");
    struct json_object *old = ju_obj(s->rs, "status");
    struct json_object *tl =
        ju_obj(ju_obj(ju_obj(spec, "template"), "metadata"), "labels");
    struct json_object *st = json_object_new_object();
    struct json_object *conds = json_object_new_array();
    struct json_object *oldconds = ju_arr(old, "conditions");
    int64_t min_ready = 0, gen = 0, full = 0, ready = 0, avail = 0;
    time_t now = time(NULL);

    ju_int(spec, "minReadySeconds", &min_ready);
    *wait_s = 0;
    for (int i = 0; i < s->npods; i++) {
        struct json_object *pod = s->pods[i].pod;
        int64_t w;
        if (fully_labeled(tl, pod))
            full++;
        if (rollout_pod_ready(pod, NULL))
            ready++;
        if (rollout_pod_available(pod, min_ready, now, &w))
            avail++;
        else if (w > 0 && (*wait_s == 0 || w < *wait_s))
            *wait_s = w;
    }
    ju_set_int(st, "replicas", s->npods);
    if (full)
        ju_set_int(st, "fullyLabeledReplicas", full);
    if (ready)
        ju_set_int(st, "readyReplicas", ready);
    if (avail)
        ju_set_int(st, "availableReplicas", avail);
    if (ju_int(ju_obj(s->rs, "metadata"), "generation", &gen))
        ju_set_int(st, "observedGeneration", gen);
    for (size_t i = 0; i < ju_len(oldconds); i++) {
        struct json_object *c = ju_idx_obj(oldconds, i);
        const char *type = ju_str(c, "type");
        if (type && strcmp(type, "ReplicaFailure") == 0) {
            /* Still failing: kept as first reported (as Kubernetes
             * does); no failure this time: dropped. */
            if (failure) {
                json_object_array_add(conds, json_clone(c));
                failure = NULL;
            }
            continue;
        }
        json_object_array_add(conds, json_clone(c));
    }
    if (failure) {
        struct json_object *c = json_object_new_object();
        char ts[32];
        rollout_format_time(now, ts);
        ju_set_str(c, "type", "ReplicaFailure");
        ju_set_str(c, "status", "True");
        ju_set_str(c, "lastTransitionTime", ts);
        ju_set_str(c, "reason",
                   failed_create ? "FailedCreate" : "FailedDelete");
        ju_set_str(c, "message", failure);
        json_object_array_add(conds, c);
    }
    if (json_object_array_length(conds))
        json_object_object_add(st, "conditions", conds);
    else
        json_object_put(conds);
    if (!wl_json_equal(old, st)) {
        struct json_object *copy = json_clone(s->rs);
        json_object_object_add(copy, "status", st);
        st = NULL;
        int code = ctrl_update(s->c, rs_rt(), copy, "status", NULL);
        if (code == 409)
            ctrl_enqueue(s->c, s->key);
        else if (code / 100 != 2 && code != 404)
            ctrl_enqueue_after(s->c, s->key, RS_RETRY_MS);
        json_object_put(copy);
    }
    json_object_put(st);
}

/* ---- sync --------------------------------------------------------------- */

static void rs_sync(struct ctrl *c, const char *key)
{
    struct rs_sync s = {.c = c, .key = key};
    int64_t replicas = 1, diff = 0, wait_s = 0;
    const char *failure = NULL;
    char err[512];

    if (strncmp(key, RS_ORPHAN_PREFIX, strlen(RS_ORPHAN_PREFIX)) == 0) {
        sync_orphan(c, key + strlen(RS_ORPHAN_PREFIX));
        return;
    }
    s.rs = ctrl_get_key(c, rs_rt(), key, NULL);
    if (!s.rs) {
        scan_take(c, key);
        return;
    }
    s.uid = meta(s.rs, "uid");
    s.ns = meta(s.rs, "namespace");
    s.name = meta(s.rs, "name");
    s.sel = wl_selector_compile(ju_obj(ju_obj(s.rs, "spec"), "selector"));
    if (!s.uid || !s.ns || !s.name || !s.sel || label_selector_empty(s.sel))
        goto out;
    ctrl_dependents(c, s.uid, collect_controlled, &s);
    if (ju_has(ju_obj(s.rs, "metadata"), "deletionTimestamp"))
        goto status;
    if (scan_take(c, key))
        ctrl_list(c, pod_rt(), s.ns, adopt_orphan, &s);

    ju_int(ju_obj(s.rs, "spec"), "replicas", &replicas);
    diff = s.npods - replicas;
    if (diff < 0) {
        int64_t n = -diff > RS_BURST ? RS_BURST : -diff;
        failure = create_pods(&s, n, err, sizeof(err));
        if (!failure && n < -diff)
            ctrl_enqueue(c, key);
    } else if (diff > 0) {
        int64_t n = diff > RS_BURST ? RS_BURST : diff;
        failure = delete_pods(&s, n, err, sizeof(err));
        if (!failure && n < diff)
            ctrl_enqueue(c, key);
    }
    if (failure)
        ctrl_enqueue_after(c, key, RS_RETRY_MS);
status:
    update_status(&s, failure, diff < 0, &wait_s);
    if (wait_s > 0)
        ctrl_enqueue_after(c, key, (uint64_t)wait_s * 1000);
out:
    for (int i = 0; i < s.npods; i++)
        json_object_put(s.pods[i].pod);
    free(s.pods);
    label_selector_free(s.sel);
    json_object_put(s.rs);
}

const struct ctrl_def ctrl_replicaset_def = {
    .name = "replicaset",
    .user = "system:serviceaccount:kube-system:replicaset-controller",
    .state_size = sizeof(struct rs_state),
    .init = rs_init,
    .sync = rs_sync,
    .fini = rs_fini,
};
