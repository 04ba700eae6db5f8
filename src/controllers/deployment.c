/*
 * The Deployment controller: one ReplicaSet per pod template, named
 * "<deployment>-<pod-template-hash>", with revision annotations that
 * `kubectl rollout history/undo` read. It rolls a new template out with
 * the RollingUpdate (maxSurge/maxUnavailable) or Recreate strategy,
 * scales during and outside rollouts, honours spec.paused, trims old
 * ReplicaSets past revisionHistoryLimit, and keeps status (counts, the
 * Available and Progressing conditions) as Kubernetes does.
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

#define ANN_REVISION "deployment.kubernetes.io/revision"
#define ANN_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define ANN_DESIRED "deployment.kubernetes.io/desired-replicas"
#define ANN_MAX "deployment.kubernetes.io/max-replicas"
#define ANN_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define ANN_ROLLBACK_TO "deprecated.deployment.rollback.to"

/* progressDeadlineSeconds meaning "no deadline" (math.MaxInt32). */
#define NO_DEADLINE_S 2147483647LL
/* Retry delay after a failed write. */
#define DEPLOY_RETRY_MS 5000

/* Queue keys that are not deployments: an orphan ReplicaSet to find an
 * owner for, and a ReplicaSet whose pod went away. */
#define ORPHAN_RS_PREFIX "orphan-rs:"
#define POD_RS_PREFIX "pod-rs:"

static const struct resource_type *deploy_rt(void)
{
    return ctrl_rt("apps", "deployments");
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

static int64_t spec_int(struct json_object *o, const char *field, int64_t dflt)
{
    int64_t v = dflt;
    ju_int(ju_obj(o, "spec"), field, &v);
    return v;
}

static int64_t status_int(struct json_object *o, const char *field)
{
    int64_t v = 0;
    ju_int(ju_obj(o, "status"), field, &v);
    return v;
}

/* An annotation as an integer; dflt when absent or not a number. */
static int64_t ann_int(struct json_object *o, const char *key, int64_t dflt)
{
    const char *s = ju_str(ju_obj(ju_obj(o, "metadata"), "annotations"), key);
    char *end;
    long long v;
    if (!s || !*s)
        return dflt;
    errno = 0;
    v = strtoll(s, &end, 10);
    return *end || errno ? dflt : v;
}

/* ---- watching ------------------------------------------------------------ */

/* Queues the controller (of kind `kind`) of obj under prefix. */
static void enqueue_controller(struct ctrl *c, struct json_object *obj,
                               const char *kind, const struct resource_type *rt,
                               const char *prefix)
{
    struct json_object *ref = ctrl_controller_ref(obj);
    const char *k = ju_str(ref, "kind"), *name = ju_str(ref, "name");
    const char *av = ju_str(ref, "apiVersion");
    char key[600], full[700];

    if (!k || !name || !av || strcmp(k, kind) != 0 ||
        strncmp(av, "apps/", 5) != 0)
        return;
    if (ctrl_key(rt, meta(obj, "namespace"), name, key, sizeof(key)) != 0)
        return;
    snprintf(full, sizeof(full), "%s%s", prefix, key);
    ctrl_enqueue(c, full);
}

static void on_deploy(struct ctrl *c, struct ctrl_event *ev)
{
    if (ctrl_event_type(ev) != STORE_DELETE)
        ctrl_enqueue(c, ctrl_event_key(ev));
}

static void on_rs(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *obj = ctrl_event_obj(ev), *old = ctrl_event_old(ev);
    char key[700];

    if (obj)
        enqueue_controller(c, obj, "Deployment", deploy_rt(), "");
    if (old)
        enqueue_controller(c, old, "Deployment", deploy_rt(), "");
    if (obj && ctrl_event_type(ev) != STORE_DELETE &&
        !ctrl_controller_ref(obj) &&
        !ju_has(ju_obj(obj, "metadata"), "deletionTimestamp")) {
        snprintf(key, sizeof(key), ORPHAN_RS_PREFIX "%s", ctrl_event_key(ev));
        ctrl_enqueue(c, key);
    }
}

/* Pods going away matter to Recreate (it waits for the old ones). */
static void on_pod(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *obj = ctrl_event_obj(ev);
    if (ctrl_event_type(ev) == STORE_DELETE && obj)
        enqueue_controller(c, obj, "ReplicaSet", rs_rt(), POD_RS_PREFIX);
}

static int deploy_init(struct ctrl *c)
{
    int rc = ctrl_watch(c, deploy_rt(), on_deploy);
    if (rc == 0)
        rc = ctrl_watch(c, rs_rt(), on_rs);
    return rc ? rc : ctrl_watch(c, pod_rt(), on_pod);
}

static int orphan_owner(void *arg, const char *key, struct json_object *d)
{
    struct json_object *rs = arg;
    struct label_selector *sel =
        wl_selector_compile(ju_obj(ju_obj(d, "spec"), "selector"));
    if (sel && !label_selector_empty(sel) &&
        label_selector_matches(sel, ju_obj(ju_obj(rs, "metadata"), "labels")))
        ctrl_enqueue(json_object_get_userdata(rs), key);
    label_selector_free(sel);
    return 0;
}

/* Queues the deployments that may adopt an orphan ReplicaSet. */
static void sync_orphan_rs(struct ctrl *c, const char *rs_key)
{
    struct json_object *rs = ctrl_get_key(c, rs_rt(), rs_key, NULL);
    if (rs && !ctrl_controller_ref(rs)) {
        json_object_set_userdata(rs, c, NULL);
        ctrl_list(c, deploy_rt(), meta(rs, "namespace"), orphan_owner, rs);
    }
    json_object_put(rs);
}

/* Queues the deployment that controls a ReplicaSet. */
static void sync_pod_rs(struct ctrl *c, const char *rs_key)
{
    struct json_object *rs = ctrl_get_key(c, rs_rt(), rs_key, NULL);
    if (rs)
        enqueue_controller(c, rs, "Deployment", deploy_rt(), "");
    json_object_put(rs);
}

/* ---- one sync's view ---------------------------------------------------- */

struct rsinfo {
    struct json_object *rs; /* owned; replaced after each write */
};

struct dsync {
    struct ctrl *c;
    const char *key;
    struct json_object *d; /* owned; replaced after each write */
    char ns[256], name[256], uid[64];
    struct label_selector *sel;
    struct rsinfo *rss; /* controlled ReplicaSets, oldest first */
    int n, cap;
    int new_idx; /* index of the new ReplicaSet, -1 if none */
    int64_t replicas, surge, unavail;
    struct json_object *conds; /* the conditions as they evolve (owned) */
    int64_t collision;         /* status.collisionCount, -1 if absent */
    bool failed;               /* a write failed: retry later */
    bool conflict;             /* a write lost a race: retry now */
};

static int64_t rs_replicas(struct json_object *rs)
{
    return spec_int(rs, "replicas", 1);
}

static time_t created(struct json_object *o)
{
    return rollout_parse_time(meta(o, "creationTimestamp"));
}

/* ReplicaSetsByCreationTimestamp: oldest first, then by name. */
static int by_creation(const void *pa, const void *pb)
{
    struct json_object *a = ((const struct rsinfo *)pa)->rs;
    struct json_object *b = ((const struct rsinfo *)pb)->rs;
    time_t ta = created(a), tb = created(b);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return strcmp(meta(a, "name") ? meta(a, "name") : "",
                  meta(b, "name") ? meta(b, "name") : "");
}

static int rs_add(struct dsync *s, struct json_object *rs)
{
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 8;
        struct rsinfo *n = realloc(s->rss, (size_t)cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        s->rss = n;
        s->cap = cap;
    }
    s->rss[s->n++].rs = json_object_get(rs);
    return 0;
}

/* Merge-patches obj's ownerReferences (at the revision we read). */
static int patch_refs(struct dsync *s, struct json_object *obj,
                      struct json_object *refs)
{
    struct json_object *p = json_object_new_object();
    struct json_object *md = json_object_new_object();
    int code;

    json_object_object_add(p, "metadata", md);
    json_object_object_add(md, "ownerReferences", json_object_get(refs));
    ju_set_str(md, "resourceVersion", meta(obj, "resourceVersion"));
    ju_set_str(md, "uid", meta(obj, "uid"));
    code = ctrl_patch(s->c, rs_rt(), s->ns, meta(obj, "name"), NULL,
                      "application/merge-patch+json",
                      json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
                      NULL);
    json_object_put(p);
    return code;
}

/* ClaimReplicaSets: keeps the controlled ones that match, adopts
 * matching orphans, releases controlled ones that no longer match. */
static int claim_rs(void *arg, const char *key, struct json_object *rs)
{
    struct dsync *s = arg;
    struct json_object *ref = ctrl_controller_ref(rs);
    struct json_object *md = ju_obj(rs, "metadata");
    bool matches = label_selector_matches(s->sel, ju_obj(md, "labels"));
    const char *uid = ju_str(ref, "uid");

    (void)key;
    if (ref && uid && strcmp(uid, s->uid) == 0) {
        if (matches)
            return rs_add(s, rs);
        if (!ju_has(md, "deletionTimestamp")) {
            struct json_object *refs = ju_arr(md, "ownerReferences");
            struct json_object *keep = json_object_new_array();
            for (size_t i = 0; i < ju_len(refs); i++) {
                const char *u = ju_str(ju_idx_obj(refs, i), "uid");
                if (!u || strcmp(u, s->uid) != 0)
                    json_object_array_add(keep,
                                          json_clone(ju_idx_obj(refs, i)));
            }
            /* null removes the field, as Kubernetes leaves no empty list */
            patch_refs(s, rs, ju_len(keep) ? keep : NULL);
            json_object_put(keep);
        }
        return 0;
    }
    if (ref || !matches || ju_has(md, "deletionTimestamp") ||
        ju_has(ju_obj(s->d, "metadata"), "deletionTimestamp"))
        return 0;
    struct json_object *refs = ju_arr(md, "ownerReferences");
    struct json_object *all = refs ? json_clone(refs) : json_object_new_array();
    json_object_array_add(all, ctrl_new_controller_ref(deploy_rt(), s->d));
    if (patch_refs(s, rs, all) / 100 == 2) {
        struct json_object *now =
            ctrl_get(s->c, rs_rt(), s->ns, meta(rs, "name"), NULL);
        if (now)
            rs_add(s, now);
        json_object_put(now);
    }
    json_object_put(all);
    return 0;
}

/* A template without the pod-template-hash label (a copy; caller puts). */
static struct json_object *template_sans_hash(struct json_object *tmpl)
{
    struct json_object *t = json_clone(tmpl);
    struct json_object *labels = ju_obj(ju_obj(t, "metadata"), "labels");
    if (labels)
        json_object_object_del(labels, ROLLOUT_HASH_LABEL);
    return t;
}

/* EqualIgnoreHash on a ReplicaSet's and the deployment's templates. */
static bool same_template(struct json_object *rs, struct json_object *d)
{
    struct json_object *a =
        template_sans_hash(ju_obj(ju_obj(rs, "spec"), "template"));
    struct json_object *b =
        template_sans_hash(ju_obj(ju_obj(d, "spec"), "template"));
    bool eq = wl_json_equal(a, b);
    json_object_put(a);
    json_object_put(b);
    return eq;
}

static bool is_rolling(struct dsync *s)
{
    const char *type = ju_str(ju_obj(ju_obj(s->d, "spec"), "strategy"), "type");
    return !type || strcmp(type, "Recreate") != 0;
}

/* MaxUnavailable(d): 0 for Recreate and for 0 replicas, at most
 * replicas. */
static int64_t max_unavailable(struct dsync *s)
{
    if (!is_rolling(s) || s->replicas == 0)
        return 0;
    return s->unavail > s->replicas ? s->replicas : s->unavail;
}

static int64_t progress_deadline(struct dsync *s)
{
    int64_t v = -1;
    ju_int(ju_obj(s->d, "spec"), "progressDeadlineSeconds", &v);
    return v;
}

static bool has_deadline(struct dsync *s)
{
    int64_t pds = progress_deadline(s);
    return pds >= 0 && pds != NO_DEADLINE_S;
}

/* ---- conditions ---------------------------------------------------------- */

static struct json_object *cond_get(struct json_object *conds, const char *type)
{
    for (size_t i = 0; i < ju_len(conds); i++) {
        const char *t = ju_str(ju_idx_obj(conds, i), "type");
        if (t && strcmp(t, type) == 0)
            return ju_idx_obj(conds, i);
    }
    return NULL;
}

static void cond_remove(struct json_object *conds, const char *type)
{
    for (size_t i = 0; i < ju_len(conds); i++) {
        const char *t = ju_str(ju_idx_obj(conds, i), "type");
        if (t && strcmp(t, type) == 0) {
            json_object_array_del_idx(conds, i, 1);
            return;
        }
    }
}

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/*
 * SetDeploymentCondition: the same status and reason leave the condition
 * as it is; a new reason with the same status keeps lastTransitionTime;
 * the condition goes to the end of the list. force_update (the
 * ReplicaSetUpdated case) replaces it even with the same reason.
 */
static void cond_set(struct json_object *conds, const char *type,
                     const char *status, const char *reason,
                     const char *message, bool force_update)
{
    struct json_object *cur = cond_get(conds, type);
    struct json_object *c;
    char now[32], keep[32] = "";

    if (cur && !force_update && str_eq(ju_str(cur, "status"), status) &&
        str_eq(ju_str(cur, "reason"), reason))
        return;
    rollout_format_time(time(NULL), now);
    if (cur && str_eq(ju_str(cur, "status"), status) &&
        ju_str(cur, "lastTransitionTime"))
        snprintf(keep, sizeof(keep), "%s", ju_str(cur, "lastTransitionTime"));
    c = json_object_new_object();
    ju_set_str(c, "type", type);
    ju_set_str(c, "status", status);
    ju_set_str(c, "lastUpdateTime", now);
    ju_set_str(c, "lastTransitionTime", keep[0] ? keep : now);
    ju_set_str(c, "reason", reason);
    ju_set_str(c, "message", message);
    cond_remove(conds, type);
    json_object_array_add(conds, c);
}

/* ---- writing ReplicaSets --------------------------------------------------
 */

static bool set_ann(struct json_object *obj, const char *k, const char *v)
{
    struct json_object *md = ju_obj_ensure(obj, "metadata");
    struct json_object *ann = ju_obj_ensure(md, "annotations");
    const char *cur = ju_str(ann, k);
    if (cur && strcmp(cur, v) == 0)
        return false;
    ju_set_str(ann, k, v);
    return true;
}

static bool set_ann_int(struct json_object *obj, const char *k, int64_t v)
{
    char b[32];
    snprintf(b, sizeof(b), "%lld", (long long)v);
    return set_ann(obj, k, b);
}

/* SetReplicasAnnotations. */
static bool set_replicas_ann(struct dsync *s, struct json_object *rs)
{
    bool a = set_ann_int(rs, ANN_DESIRED, s->replicas);
    bool b =
        set_ann_int(rs, ANN_MAX, s->replicas + (is_rolling(s) ? s->surge : 0));
    return a || b;
}

/* copyDeploymentAnnotationsToReplicaSet. */
static bool copy_deploy_ann(struct dsync *s, struct json_object *rs)
{
    struct json_object *ann = ju_obj(ju_obj(s->d, "metadata"), "annotations");
    static const char *const skip[] = {ANN_LAST_APPLIED,
                                       ANN_REVISION,
                                       ANN_REVISION_HISTORY,
                                       ANN_DESIRED,
                                       ANN_MAX,
                                       ANN_ROLLBACK_TO,
                                       NULL};
    bool changed = false;

    if (!json_object_is_type(ann, json_type_object))
        return false;
    json_object_object_foreach(ann, k, v)
    {
        bool skipped = false;
        for (int i = 0; skip[i]; i++)
            skipped |= strcmp(k, skip[i]) == 0;
        if (!skipped && json_object_is_type(v, json_type_string))
            changed |= set_ann(rs, k, json_object_get_string(v));
    }
    return changed;
}

/* SetNewReplicaSetAnnotations: the deployment's annotations, and the new
 * revision when the ReplicaSet's is older (an old ReplicaSet that becomes
 * new again records its former revision in revision-history). */
static bool set_new_rs_ann(struct dsync *s, struct json_object *rs,
                           int64_t revision, bool exists)
{
    bool changed = copy_deploy_ann(s, rs);
    int64_t old = ann_int(rs, ANN_REVISION, 0);
    const char *old_text =
        ju_str(ju_obj(ju_obj(rs, "metadata"), "annotations"), ANN_REVISION);

    if (old < revision) {
        if (exists && old_text && *old_text) {
            const char *hist =
                ju_str(ju_obj(ju_obj(rs, "metadata"), "annotations"),
                       ANN_REVISION_HISTORY);
            char buf[1024];
            if (hist && *hist)
                snprintf(buf, sizeof(buf), "%s,%s", hist, old_text);
            else
                snprintf(buf, sizeof(buf), "%s", old_text);
            set_ann(rs, ANN_REVISION_HISTORY, buf);
        }
        set_ann_int(rs, ANN_REVISION, revision);
        changed = true;
    }
    if (!exists)
        changed |= set_replicas_ann(s, rs);
    return changed;
}

/* PUTs a changed copy of rss[i]; on success it replaces rss[i]. */
static int put_rs(struct dsync *s, int i, struct json_object *copy)
{
    struct json_object *out = NULL;
    int code = ctrl_update(s->c, rs_rt(), copy, NULL, &out);
    if (code / 100 == 2 && out) {
        json_object_put(s->rss[i].rs);
        s->rss[i].rs = out;
        return 0;
    }
    json_object_put(out);
    if (code == 409)
        s->conflict = true;
    else
        s->failed = true;
    return -1;
}

/* scaleReplicaSet: sets spec.replicas and the replicas annotations; an
 * event when the size changed. Returns true if it scaled. */
static bool scale_rs(struct dsync *s, int i, int64_t to)
{
    struct json_object *copy = json_clone(s->rss[i].rs);
    int64_t from = rs_replicas(copy);
    bool resize = from != to, ann = set_replicas_ann(s, copy);
    bool scaled = false;
    char name[256];

    snprintf(name, sizeof(name), "%s", meta(copy, "name"));
    if (resize || ann) {
        ju_set_int(ju_obj_ensure(copy, "spec"), "replicas", to);
        if (put_rs(s, i, copy) == 0 && resize) {
            ctrl_eventf(s->c, deploy_rt(), s->d, "Normal", "ScalingReplicaSet",
                        "Scaled %s replica set %s from %lld to %lld",
                        from < to ? "up" : "down", name, (long long)from,
                        (long long)to);
            scaled = true;
        }
    }
    json_object_put(copy);
    return scaled;
}

/* Merge-patches the deployment's revision annotation. */
static void set_deploy_revision(struct dsync *s, int64_t revision)
{
    char p[256];
    struct json_object *out = NULL;
    int code;

    if (ann_int(s->d, ANN_REVISION, -1) == revision)
        return;
    snprintf(p, sizeof(p),
             "{\"metadata\":{\"annotations\":{\"" ANN_REVISION "\":\"%lld\"}}}",
             (long long)revision);
    code = ctrl_patch(s->c, deploy_rt(), s->ns, s->name, NULL,
                      "application/merge-patch+json", p, &out);
    if (code / 100 == 2 && out) {
        json_object_put(s->d);
        s->d = json_object_get(out);
    } else if (code == 409) {
        s->conflict = true;
    } else {
        s->failed = true;
    }
    json_object_put(out);
}

/* ---- the new ReplicaSet -------------------------------------------------- */

static int64_t sum_replicas(struct dsync *s)
{
    int64_t n = 0;
    for (int i = 0; i < s->n; i++)
        n += rs_replicas(s->rss[i].rs);
    return n;
}

/* NewRSNewReplicas: how big the new ReplicaSet may be now. */
static int64_t new_rs_replicas(struct dsync *s, int64_t new_current)
{
    if (!is_rolling(s))
        return s->replicas;
    int64_t total = sum_replicas(s);
    int64_t max_total = s->replicas + s->surge;
    if (total >= max_total)
        return new_current;
    int64_t up = max_total - total;
    if (up > s->replicas - new_current)
        up = s->replicas - new_current;
    return new_current + up;
}

/*
 * getNewReplicaSet: brings the existing new ReplicaSet's annotations up
 * to date, or (create) creates it named "<deployment>-<hash>". Returns 0,
 * or -1 when the sync must stop (and be retried).
 */
static int get_new_rs(struct dsync *s, bool create)
{
    int64_t max_old = 0;
    char msg[600];

    for (int i = 0; i < s->n; i++)
        if (i != s->new_idx && ann_int(s->rss[i].rs, ANN_REVISION, 0) > max_old)
            max_old = ann_int(s->rss[i].rs, ANN_REVISION, 0);
    if (s->new_idx >= 0) {
        int i = s->new_idx;
        struct json_object *copy = json_clone(s->rss[i].rs);
        bool changed = set_new_rs_ann(s, copy, max_old + 1, true);
        int64_t mrs_d = spec_int(s->d, "minReadySeconds", 0);
        if (spec_int(copy, "minReadySeconds", 0) != mrs_d) {
            ju_set_int(ju_obj_ensure(copy, "spec"), "minReadySeconds", mrs_d);
            changed = true;
        }
        if (changed && put_rs(s, i, copy) != 0) {
            json_object_put(copy);
            return -1;
        }
        json_object_put(copy);
        set_deploy_revision(s, ann_int(s->rss[i].rs, ANN_REVISION, 0));
        if (has_deadline(s) && !cond_get(s->conds, "Progressing")) {
            snprintf(msg, sizeof(msg), "Found new replica set \"%s\"",
                     meta(s->rss[i].rs, "name"));
            cond_set(s->conds, "Progressing", "True", "FoundNewReplicaSet", msg,
                     false);
        }
        return 0;
    }
    if (!create)
        return 0;

    struct json_object *dspec = ju_obj(s->d, "spec");
    char hash[ROLLOUT_HASH_BYTES], name[300];
    if (rollout_template_hash(ju_obj(dspec, "template"), s->collision, hash) !=
        0)
        return -1;
    snprintf(name, sizeof(name), "%s-%s", s->name, hash);

    struct json_object *tmpl = json_clone(ju_obj(dspec, "template"));
    ju_set_str(ju_obj_ensure(ju_obj_ensure(tmpl, "metadata"), "labels"),
               ROLLOUT_HASH_LABEL, hash);
    struct json_object *sel = json_clone(ju_obj(dspec, "selector"));
    ju_set_str(ju_obj_ensure(sel, "matchLabels"), ROLLOUT_HASH_LABEL, hash);

    struct json_object *rs = json_object_new_object();
    struct json_object *md = json_object_new_object();
    struct json_object *spec = json_object_new_object();
    struct json_object *refs = json_object_new_array();
    ju_set_str(rs, "apiVersion", "apps/v1");
    ju_set_str(rs, "kind", "ReplicaSet");
    json_object_object_add(rs, "metadata", md);
    ju_set_str(md, "name", name);
    ju_set_str(md, "namespace", s->ns);
    json_object_object_add(
        md, "labels", json_clone(ju_obj(ju_obj(tmpl, "metadata"), "labels")));
    json_object_array_add(refs, ctrl_new_controller_ref(deploy_rt(), s->d));
    json_object_object_add(md, "ownerReferences", refs);
    json_object_object_add(rs, "spec", spec);
    ju_set_int(spec, "replicas", 0);
    ju_set_int(spec, "minReadySeconds", spec_int(s->d, "minReadySeconds", 0));
    json_object_object_add(spec, "selector", sel);
    json_object_object_add(spec, "template", tmpl);
    int64_t want = new_rs_replicas(s, 0);
    ju_set_int(spec, "replicas", want);
    set_new_rs_ann(s, rs, max_old + 1, false);

    struct json_object *out = NULL;
    int code = ctrl_create(s->c, rs_rt(), s->ns, rs, &out);
    int rc = 0;
    if (code == 409) {
        /* Ours already (created by an earlier sync)? Else a hash
         * collision: bump collisionCount and try another name. */
        struct json_object *have = ctrl_get(s->c, rs_rt(), s->ns, name, NULL);
        const char *uid = ju_str(ctrl_controller_ref(have), "uid");
        if (have && uid && strcmp(uid, s->uid) == 0 &&
            same_template(have, s->d)) {
            rs_add(s, have);
            s->new_idx = s->n - 1;
        } else {
            s->collision = s->collision < 0 ? 1 : s->collision + 1;
            s->failed = true;
            rc = -1;
        }
        json_object_put(have);
    } else if (code / 100 != 2 || !out) {
        snprintf(msg, sizeof(msg),
                 "Failed to create new replica set \"%s\": %s", name,
                 ctrl_status_message(out));
        if (has_deadline(s))
            cond_set(s->conds, "Progressing", "False", "ReplicaSetCreateError",
                     msg, false);
        s->failed = true;
        rc = -1;
    } else {
        if (want > 0)
            ctrl_eventf(s->c, deploy_rt(), s->d, "Normal", "ScalingReplicaSet",
                        "Scaled up replica set %s from 0 to %lld", name,
                        (long long)want);
        if (has_deadline(s)) {
            snprintf(msg, sizeof(msg), "Created new replica set \"%s\"", name);
            cond_set(s->conds, "Progressing", "True", "NewReplicaSetCreated",
                     msg, false);
        }
        rs_add(s, out);
        s->new_idx = s->n - 1;
        set_deploy_revision(s, max_old + 1);
    }
    json_object_put(out);
    json_object_put(rs);
    return rc;
}

/* ---- status -------------------------------------------------------------- */

/* calculateStatus, plus the Available condition. Caller puts. */
static struct json_object *calc_status(struct dsync *s)
{
    struct json_object *st = json_object_new_object();
    int64_t total = 0, ready = 0, avail = 0, updated = 0, gen = 0;

    for (int i = 0; i < s->n; i++) {
        struct json_object *rs = s->rss[i].rs;
        total += status_int(rs, "replicas");
        ready += status_int(rs, "readyReplicas");
        avail += status_int(rs, "availableReplicas");
    }
    if (s->new_idx >= 0)
        updated = status_int(s->rss[s->new_idx].rs, "replicas");
    int64_t unavailable = total - avail < 0 ? 0 : total - avail;
    if (ju_int(ju_obj(s->d, "metadata"), "generation", &gen) && gen)
        ju_set_int(st, "observedGeneration", gen);
    if (total)
        ju_set_int(st, "replicas", total);
    if (updated)
        ju_set_int(st, "updatedReplicas", updated);
    if (ready)
        ju_set_int(st, "readyReplicas", ready);
    if (avail)
        ju_set_int(st, "availableReplicas", avail);
    if (unavailable)
        ju_set_int(st, "unavailableReplicas", unavailable);
    if (avail >= s->replicas - max_unavailable(s))
        cond_set(s->conds, "Available", "True", "MinimumReplicasAvailable",
                 "Deployment has minimum availability.", false);
    else
        cond_set(s->conds, "Available", "False", "MinimumReplicasUnavailable",
                 "Deployment does not have minimum availability.", false);
    if (ju_len(s->conds))
        json_object_object_add(st, "conditions", json_clone(s->conds));
    if (s->collision >= 0)
        ju_set_int(st, "collisionCount", s->collision);
    return st;
}

/* Writes status st (taken) if it differs from the stored one. */
static void write_status(struct dsync *s, struct json_object *st)
{
    if (!wl_json_equal(ju_obj(s->d, "status"), st)) {
        struct json_object *copy = json_clone(s->d);
        json_object_object_add(copy, "status", st);
        int code = ctrl_update(s->c, deploy_rt(), copy, "status", NULL);
        if (code == 409)
            s->conflict = true;
        else if (code / 100 != 2)
            s->failed = true;
        json_object_put(copy);
    } else {
        json_object_put(st);
    }
}

/* DeploymentComplete. */
static bool is_complete(struct dsync *s, struct json_object *st)
{
    int64_t og = 0, gen = 0;
    ju_int(st, "observedGeneration", &og);
    ju_int(ju_obj(s->d, "metadata"), "generation", &gen);
    int64_t upd = 0, rep = 0, av = 0;
    ju_int(st, "updatedReplicas", &upd);
    ju_int(st, "replicas", &rep);
    ju_int(st, "availableReplicas", &av);
    return upd == s->replicas && rep == s->replicas && av == s->replicas &&
           og >= gen;
}

/* DeploymentProgressing: more updated, fewer old, more ready or
 * available pods than the stored status says. */
static bool is_progressing(struct json_object *old, struct json_object *st)
{
    int64_t o_upd = 0, o_rep = 0, o_ready = 0, o_av = 0;
    int64_t n_upd = 0, n_rep = 0, n_ready = 0, n_av = 0;
    ju_int(old, "updatedReplicas", &o_upd);
    ju_int(old, "replicas", &o_rep);
    ju_int(old, "readyReplicas", &o_ready);
    ju_int(old, "availableReplicas", &o_av);
    ju_int(st, "updatedReplicas", &n_upd);
    ju_int(st, "replicas", &n_rep);
    ju_int(st, "readyReplicas", &n_ready);
    ju_int(st, "availableReplicas", &n_av);
    return n_upd > o_upd || n_rep - n_upd < o_rep - o_upd ||
           n_ready > o_ready || n_av > o_av;
}

/* syncRolloutStatus: the status with the Progressing condition. */
static void rollout_status(struct dsync *s)
{
    struct json_object *st, *cur;
    const char *rsname =
        s->new_idx >= 0 ? meta(s->rss[s->new_idx].rs, "name") : NULL;
    char msg[600];
    int64_t pds = progress_deadline(s);

    st = calc_status(s);
    if (!has_deadline(s))
        cond_remove(s->conds, "Progressing");
    cur = cond_get(s->conds, "Progressing");
    if (has_deadline(s) &&
        !(cur && str_eq(ju_str(cur, "reason"), "ProgressDeadlineExceeded"))) {
        if (is_complete(s, st)) {
            if (rsname)
                snprintf(msg, sizeof(msg),
                         "ReplicaSet \"%s\" has successfully progressed.",
                         rsname);
            else
                snprintf(msg, sizeof(msg),
                         "Deployment \"%s\" has successfully progressed.",
                         s->name);
            cond_set(s->conds, "Progressing", "True", "NewReplicaSetAvailable",
                     msg, false);
        } else if (is_progressing(ju_obj(s->d, "status"), st)) {
            if (rsname)
                snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" is progressing.",
                         rsname);
            else
                snprintf(msg, sizeof(msg), "Deployment \"%s\" is progressing.",
                         s->name);
            cond_set(s->conds, "Progressing", "True", "ReplicaSetUpdated", msg,
                     true);
        } else if (cur &&
                   !str_eq(ju_str(cur, "reason"), "NewReplicaSetAvailable")) {
            time_t from = rollout_parse_time(ju_str(cur, "lastUpdateTime"));
            time_t now = time(NULL);
            if (from >= 0 && from + pds < now) {
                if (rsname)
                    snprintf(msg, sizeof(msg),
                             "ReplicaSet \"%s\" has timed out progressing.",
                             rsname);
                else
                    snprintf(msg, sizeof(msg),
                             "Deployment \"%s\" has timed out progressing.",
                             s->name);
                cond_set(s->conds, "Progressing", "False",
                         "ProgressDeadlineExceeded", msg, false);
            } else if (from >= 0) {
                /* requeueStuckDeployment: look again at the deadline. */
                ctrl_enqueue_after(s->c, s->key,
                                   (uint64_t)(from + pds - now + 1) * 1000);
            }
        }
    }
    json_object_put(st);
    write_status(s, calc_status(s));
}

/* syncDeploymentStatus: counts and Available, Progressing as it is. */
static void plain_status(struct dsync *s) { write_status(s, calc_status(s)); }

/* checkPausedConditions. */
static void paused_conditions(struct dsync *s)
{
    struct json_object *cur = cond_get(s->conds, "Progressing");
    bool paused = false, cond_paused;

    if (!has_deadline(s))
        return;
    if (cur && str_eq(ju_str(cur, "reason"), "ProgressDeadlineExceeded"))
        return;
    ju_bool(ju_obj(s->d, "spec"), "paused", &paused);
    cond_paused = cur && str_eq(ju_str(cur, "reason"), "DeploymentPaused");
    if (paused && !cond_paused)
        cond_set(s->conds, "Progressing", "Unknown", "DeploymentPaused",
                 "Deployment is paused", false);
    else if (!paused && cond_paused)
        cond_set(s->conds, "Progressing", "Unknown", "DeploymentResumed",
                 "Deployment is resumed", false);
}

/* ---- scaling ------------------------------------------------------------- */

static bool is_old(struct dsync *s, int i) { return i != s->new_idx; }

/* isScalingEvent: an active ReplicaSet was sized for another replicas. */
static bool scaling_event(struct dsync *s)
{
    for (int i = 0; i < s->n; i++) {
        struct json_object *rs = s->rss[i].rs;
        int64_t want = ann_int(rs, ANN_DESIRED, -1);
        if (rs_replicas(rs) > 0 && want >= 0 && want != s->replicas)
            return true;
    }
    return false;
}

/* The ReplicaSet that takes a scale change: the only active one, or
 * (none active) the new one or the newest. -1 if several are active. */
static int active_or_latest(struct dsync *s)
{
    int active = -1, nactive = 0;
    for (int i = 0; i < s->n; i++)
        if (rs_replicas(s->rss[i].rs) > 0) {
            active = i;
            nactive++;
        }
    if (nactive == 1)
        return active;
    if (nactive > 1)
        return -1;
    if (s->new_idx >= 0)
        return s->new_idx;
    return s->n - 1;
}

/* scale: a replicas change outside a rollout step. Several active
 * ReplicaSets share it in proportion to their sizes. */
static void scale(struct dsync *s)
{
    int i = active_or_latest(s);
    if (i >= 0) {
        if (rs_replicas(s->rss[i].rs) != s->replicas)
            scale_rs(s, i, s->replicas);
        return;
    }
    if (s->n == 0)
        return;
    if (s->new_idx >= 0) {
        struct json_object *nrs = s->rss[s->new_idx].rs;
        if (rs_replicas(nrs) == s->replicas &&
            ann_int(nrs, ANN_DESIRED, -1) == s->replicas &&
            status_int(nrs, "availableReplicas") == s->replicas) {
            for (int j = 0; j < s->n; j++)
                if (is_old(s, j) && rs_replicas(s->rss[j].rs) > 0)
                    scale_rs(s, j, 0);
            return;
        }
    }
    if (!is_rolling(s))
        return;
    int64_t total = sum_replicas(s);
    int64_t allowed = s->replicas > 0 ? s->replicas + s->surge : 0;
    int64_t add = allowed - total, given = 0;
    if (add == 0 || total == 0)
        return;
    int64_t *to = calloc((size_t)s->n, sizeof(*to));
    if (!to)
        return;
    int first = -1;
    for (int j = 0; j < s->n; j++) {
        int64_t r = rs_replicas(s->rss[j].rs);
        int64_t share = r * add / total;
        to[j] = r + share;
        given += share;
        if (r > 0 && (first < 0 || r > rs_replicas(s->rss[first].rs) ||
                      (r == rs_replicas(s->rss[first].rs) && j > first)))
            first = j;
    }
    if (first >= 0) {
        to[first] += add - given;
        if (to[first] < 0)
            to[first] = 0;
    }
    for (int j = 0; j < s->n; j++)
        if (to[j] != rs_replicas(s->rss[j].rs))
            scale_rs(s, j, to[j]);
    free(to);
}

/* ---- cleanup --------------------------------------------------------------
 */

static int by_revision(const void *pa, const void *pb)
{
    struct json_object *a = ((const struct rsinfo *)pa)->rs;
    struct json_object *b = ((const struct rsinfo *)pb)->rs;
    int64_t ra = ann_int(a, ANN_REVISION, 0), rb = ann_int(b, ANN_REVISION, 0);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return by_creation(pa, pb);
}

/* cleanupDeployment: deletes the oldest empty old ReplicaSets past
 * revisionHistoryLimit. */
static void cleanup(struct dsync *s)
{
    int64_t limit = -1;
    int nold = 0;
    struct rsinfo *old;

    if (!ju_int(ju_obj(s->d, "spec"), "revisionHistoryLimit", &limit) ||
        limit < 0)
        return;
    old = calloc((size_t)(s->n ? s->n : 1), sizeof(*old));
    if (!old)
        return;
    for (int i = 0; i < s->n; i++)
        if (is_old(s, i) &&
            !ju_has(ju_obj(s->rss[i].rs, "metadata"), "deletionTimestamp"))
            old[nold++] = s->rss[i];
    int64_t diff = nold - limit;
    if (nold > 1)
        qsort(old, (size_t)nold, sizeof(*old), by_revision);
    for (int i = 0; i < nold && i < diff; i++) {
        struct json_object *rs = old[i].rs;
        int64_t gen = 0, og = 0;
        ju_int(ju_obj(rs, "metadata"), "generation", &gen);
        og = status_int(rs, "observedGeneration");
        if (status_int(rs, "replicas") != 0 || rs_replicas(rs) != 0 || gen > og)
            continue;
        ctrl_delete(s->c, rs_rt(), s->ns, meta(rs, "name"), NULL,
                    meta(rs, "uid"));
    }
    free(old);
}

/* ---- strategies -----------------------------------------------------------
 */

/* Available pods of a ReplicaSet as far as a rollout may count them: its
 * status, but never more than its size (a ReplicaSet just scaled down
 * still reports the pods it is about to delete). */
static int64_t rs_available(struct json_object *rs)
{
    int64_t a = status_int(rs, "availableReplicas"), r = rs_replicas(rs);
    return a < r ? a : r;
}

/* reconcileOldReplicaSets: scales old ReplicaSets down as far as
 * availability allows, unhealthy replicas first. */
static bool reconcile_old(struct dsync *s)
{
    int64_t old_pods = 0, all_pods = sum_replicas(s), down = 0;
    for (int i = 0; i < s->n; i++)
        if (is_old(s, i))
            old_pods += rs_replicas(s->rss[i].rs);
    if (old_pods == 0)
        return false;
    int64_t min_avail = s->replicas - max_unavailable(s);
    struct json_object *nrs = s->rss[s->new_idx].rs;
    int64_t new_unavail = rs_replicas(nrs) - rs_available(nrs);
    int64_t max_down = all_pods - min_avail - new_unavail;
    if (max_down <= 0)
        return false;

    /* cleanupUnhealthyReplicas */
    for (int i = 0; i < s->n && down < max_down; i++) {
        struct json_object *rs = s->rss[i].rs;
        if (!is_old(s, i) || rs_replicas(rs) == 0)
            continue;
        int64_t unhealthy = rs_replicas(rs) - rs_available(rs);
        if (unhealthy <= 0)
            continue;
        int64_t n = max_down - down < unhealthy ? max_down - down : unhealthy;
        if (scale_rs(s, i, rs_replicas(rs) - n))
            down += n;
        else
            return down > 0;
    }

    /* scaleDownOldReplicaSetsForRollingUpdate */
    int64_t avail = 0, total_down = 0, done = 0;
    for (int i = 0; i < s->n; i++)
        avail += rs_available(s->rss[i].rs);
    if (avail > min_avail) {
        total_down = avail - min_avail;
        for (int i = 0; i < s->n && done < total_down; i++) {
            struct json_object *rs = s->rss[i].rs;
            if (!is_old(s, i) || rs_replicas(rs) == 0)
                continue;
            int64_t n = rs_replicas(rs) < total_down - done ? rs_replicas(rs)
                                                            : total_down - done;
            if (scale_rs(s, i, rs_replicas(rs) - n))
                done += n;
            else
                break;
        }
    }
    return down + done > 0;
}

static void rollout_rolling(struct dsync *s)
{
    if (get_new_rs(s, true) != 0 || s->new_idx < 0) {
        plain_status(s);
        return;
    }
    int ni = s->new_idx;
    int64_t cur = rs_replicas(s->rss[ni].rs);
    /* reconcileNewReplicaSet */
    if (cur != s->replicas) {
        int64_t to = cur > s->replicas ? s->replicas : new_rs_replicas(s, cur);
        if (to != cur && scale_rs(s, ni, to)) {
            rollout_status(s);
            return;
        }
    }
    if (reconcile_old(s)) {
        rollout_status(s);
        return;
    }
    struct json_object *st = calc_status(s);
    if (is_complete(s, st))
        cleanup(s);
    json_object_put(st);
    rollout_status(s);
}

/* oldPodsRunning: any pod of an old ReplicaSet still there. */
static int count_pod(void *arg, const struct resource_type *rt, const char *key,
                     struct json_object *pod)
{
    (void)key;
    if (rt == pod_rt()) {
        const char *phase = ju_str(ju_obj(pod, "status"), "phase");
        if (!phase || (strcmp(phase, "Succeeded") && strcmp(phase, "Failed")))
            (*(int *)arg)++;
    }
    return 0;
}

static bool old_pods_running(struct dsync *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        if (!is_old(s, i))
            continue;
        if (status_int(s->rss[i].rs, "replicas") > 0)
            return true;
        ctrl_dependents(s->c, meta(s->rss[i].rs, "uid"), count_pod, &n);
    }
    return n > 0;
}

static void rollout_recreate(struct dsync *s)
{
    bool down = false;
    if (get_new_rs(s, false) != 0) {
        plain_status(s);
        return;
    }
    for (int i = 0; i < s->n; i++)
        if (is_old(s, i) && rs_replicas(s->rss[i].rs) > 0)
            down |= scale_rs(s, i, 0);
    if (down || old_pods_running(s)) {
        rollout_status(s);
        return;
    }
    if (s->new_idx < 0 && (get_new_rs(s, true) != 0 || s->new_idx < 0)) {
        plain_status(s);
        return;
    }
    if (rs_replicas(s->rss[s->new_idx].rs) != s->replicas)
        scale_rs(s, s->new_idx, s->replicas);
    struct json_object *st = calc_status(s);
    if (is_complete(s, st))
        cleanup(s);
    json_object_put(st);
    rollout_status(s);
}

/* ---- sync ------------------------------------------------------------------
 */

static void deploy_sync(struct ctrl *c, const char *key)
{
    struct dsync s = {.c = c, .key = key, .new_idx = -1, .collision = -1};
    bool paused = false;

    if (strncmp(key, ORPHAN_RS_PREFIX, strlen(ORPHAN_RS_PREFIX)) == 0) {
        sync_orphan_rs(c, key + strlen(ORPHAN_RS_PREFIX));
        return;
    }
    if (strncmp(key, POD_RS_PREFIX, strlen(POD_RS_PREFIX)) == 0) {
        sync_pod_rs(c, key + strlen(POD_RS_PREFIX));
        return;
    }
    s.d = ctrl_get_key(c, deploy_rt(), key, NULL);
    if (!s.d)
        return;
    if (!meta(s.d, "namespace") || !meta(s.d, "name") || !meta(s.d, "uid"))
        goto out;
    snprintf(s.ns, sizeof(s.ns), "%s", meta(s.d, "namespace"));
    snprintf(s.name, sizeof(s.name), "%s", meta(s.d, "name"));
    snprintf(s.uid, sizeof(s.uid), "%s", meta(s.d, "uid"));
    s.sel = wl_selector_compile(ju_obj(ju_obj(s.d, "spec"), "selector"));
    if (!s.sel || label_selector_empty(s.sel)) {
        ctrl_eventf(c, deploy_rt(), s.d, "Warning", "SelectingAll",
                    "This deployment is selecting all pods. A non-empty "
                    "selector is required.");
        goto out;
    }
    s.replicas = spec_int(s.d, "replicas", 1);
    rollout_fenceposts(ju_obj(ju_obj(s.d, "spec"), "strategy"), s.replicas,
                       &s.surge, &s.unavail);
    ju_int(ju_obj(s.d, "status"), "collisionCount", &s.collision);
    s.conds = json_clone(ju_arr(ju_obj(s.d, "status"), "conditions"));
    if (!s.conds)
        s.conds = json_object_new_array();

    ctrl_list(c, rs_rt(), s.ns, claim_rs, &s);
    if (s.n > 1)
        qsort(s.rss, (size_t)s.n, sizeof(*s.rss), by_creation);
    for (int i = 0; i < s.n && s.new_idx < 0; i++)
        if (same_template(s.rss[i].rs, s.d))
            s.new_idx = i;

    if (ju_has(ju_obj(s.d, "metadata"), "deletionTimestamp")) {
        plain_status(&s);
        goto out;
    }
    paused_conditions(&s);
    ju_bool(ju_obj(s.d, "spec"), "paused", &paused);
    if (paused || scaling_event(&s)) {
        if (get_new_rs(&s, false) == 0) {
            scale(&s);
            if (paused)
                cleanup(&s);
        }
        plain_status(&s);
        goto out;
    }
    if (is_rolling(&s))
        rollout_rolling(&s);
    else
        rollout_recreate(&s);
out:
    if (s.conflict)
        ctrl_enqueue(c, key);
    else if (s.failed)
        ctrl_enqueue_after(c, key, DEPLOY_RETRY_MS);
    for (int i = 0; i < s.n; i++)
        json_object_put(s.rss[i].rs);
    free(s.rss);
    json_object_put(s.conds);
    label_selector_free(s.sel);
    json_object_put(s.d);
}

const struct ctrl_def ctrl_deployment_def = {
    .name = "deployment",
    .user = "system:serviceaccount:kube-system:deployment-controller",
    .init = deploy_init,
    .sync = deploy_sync,
};
