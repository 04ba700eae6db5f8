/*
 * The DaemonSet controller: one pod per eligible node. A node is eligible
 * when it matches the template's nodeSelector and required node affinity
 * and every NoSchedule/NoExecute taint is tolerated (with the tolerations
 * Kubernetes adds to every DaemonSet pod). Each pod targets its node the
 * way Kubernetes does, with a required node affinity on metadata.name, and
 * the scheduler binds it. Pods on nodes that are no longer eligible go;
 * a changed template replaces pods one at a time (RollingUpdate,
 * maxUnavailable 1 by default) or only when deleted (OnDelete). The
 * template's hash is the pods' controller-revision-hash label.
 */
#include "api/patch.h"
#include "controllers/ctrl.h"
#include "controllers/nodematch.h"
#include "controllers/rollout.h"
#include "resources/jsonutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DS_HASH_LABEL "controller-revision-hash"

struct ds {
    const struct resource_type *ds_rt, *pods_rt, *nodes_rt;
};

/* Every DaemonSet, for node changes (few DaemonSets, many nodes). */
static int enqueue_ds(void *arg, const char *key, struct json_object *obj)
{
    ctrl_enqueue(arg, key);
    return 0;
}

static void on_ds(struct ctrl *c, struct ctrl_event *ev)
{
    if (ctrl_event_type(ev) != STORE_DELETE)
        ctrl_enqueue(c, ctrl_event_key(ev));
}

static void on_node(struct ctrl *c, struct ctrl_event *ev)
{
    struct ds *s = ctrl_state(c);
    if (ctrl_event_initial(ev))
        return; /* DaemonSets are all queued at start anyway */
    struct json_object *now = ctrl_event_obj(ev), *old = ctrl_event_old(ev);
    if (ctrl_event_type(ev) == STORE_UPDATE && old && now &&
        json_equal(ju_obj(ju_obj(now, "metadata"), "labels"),
                   ju_obj(ju_obj(old, "metadata"), "labels")) &&
        json_equal(ju_arr(ju_obj(now, "spec"), "taints"),
                   ju_arr(ju_obj(old, "spec"), "taints")))
        return; /* status only: eligibility unchanged */
    ctrl_list(c, s->ds_rt, "", enqueue_ds, c);
}

static void on_pod(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *pod = ctrl_event_obj(ev);
    struct json_object *ref = ctrl_controller_ref(pod);
    const char *kind = ju_str(ref, "kind"), *name = ju_str(ref, "name");
    const char *ns = ju_str(ju_obj(pod, "metadata"), "namespace");
    if (!kind || strcmp(kind, "DaemonSet") != 0 || !name || !ns)
        return;
    char key[600];
    snprintf(key, sizeof(key), "/registry/apps/daemonsets/%s/%s", ns, name);
    ctrl_enqueue(c, key);
}

/* ---- eligibility ------------------------------------------------------ */

static bool tolerated(struct json_object *taint, struct json_object *tols)
{
    return nodematch_tolerates(tols, ju_str(taint, "key"),
                               ju_str(taint, "value"), ju_str(taint, "effect"));
}

/* Kubernetes' AddOrUpdateDaemonPodTolerations. */
static void add_tolerations(struct json_object *spec)
{
    static const struct {
        const char *key, *effect;
    } auto_tols[] = {
        {"node.kubernetes.io/not-ready", "NoExecute"},
        {"node.kubernetes.io/unreachable", "NoExecute"},
        {"node.kubernetes.io/disk-pressure", "NoSchedule"},
        {"node.kubernetes.io/memory-pressure", "NoSchedule"},
        {"node.kubernetes.io/pid-pressure", "NoSchedule"},
        {"node.kubernetes.io/unschedulable", "NoSchedule"},
    };
    struct json_object *tols = ju_arr_ensure(spec, "tolerations");
    for (size_t i = 0; i < sizeof(auto_tols) / sizeof(auto_tols[0]); i++) {
        bool have = false;
        for (size_t k = 0; k < ju_len(tols) && !have; k++) {
            const char *key = ju_str(ju_idx_obj(tols, k), "key");
            const char *eff = ju_str(ju_idx_obj(tols, k), "effect");
            have = key && eff && strcmp(key, auto_tols[i].key) == 0 &&
                   strcmp(eff, auto_tols[i].effect) == 0;
        }
        if (have)
            continue;
        struct json_object *t = json_object_new_object();
        ju_set_str(t, "key", auto_tols[i].key);
        ju_set_str(t, "operator", "Exists");
        ju_set_str(t, "effect", auto_tols[i].effect);
        json_object_array_add(tols, t);
    }
}

/* Whether a daemon pod should run on node (for_new: a new one may be
 * placed there, so NoSchedule taints count too; otherwise only whether an
 * existing one may stay: only NoExecute taints count, so an unreachable
 * edge node keeps its daemon pods). */
static bool eligible(struct json_object *node, struct json_object *pspec,
                     bool for_new)
{
    struct json_object *labels = ju_obj(ju_obj(node, "metadata"), "labels");
    const char *name = ju_str(ju_obj(node, "metadata"), "name");
    struct json_object *sel = ju_obj(pspec, "nodeSelector");
    if (sel) {
        json_object_object_foreach(sel, k, v)
        {
            const char *have = ju_str(labels, k);
            if (!have || !json_object_is_type(v, json_type_string) ||
                strcmp(have, json_object_get_string(v)) != 0)
                return false;
        }
    }
    struct json_object *req = ju_obj(
        ju_obj(ju_obj(pspec, "affinity"), "nodeAffinity"),
        "requiredDuringSchedulingIgnoredDuringExecution");
    if (req) {
        bool any = false;
        struct json_object *terms = ju_arr(req, "nodeSelectorTerms");
        for (size_t i = 0; i < ju_len(terms) && !any; i++) {
            struct json_object *t = ju_idx_obj(terms, i);
            struct json_object *ex = ju_arr(t, "matchExpressions");
            struct json_object *mf = ju_arr(t, "matchFields");
            bool ok = ju_len(ex) + ju_len(mf) > 0;
            for (size_t k = 0; ok && k < ju_len(ex); k++)
                ok = nodematch_expr(labels, NULL, ju_idx_obj(ex, k));
            for (size_t k = 0; ok && k < ju_len(mf); k++)
                ok = nodematch_expr(NULL, name, ju_idx_obj(mf, k));
            any = ok;
        }
        if (!any)
            return false;
    }
    struct json_object *taints = ju_arr(ju_obj(node, "spec"), "taints");
    struct json_object *tols = ju_arr(pspec, "tolerations");
    for (size_t i = 0; i < ju_len(taints); i++) {
        struct json_object *t = ju_idx_obj(taints, i);
        const char *e = ju_str(t, "effect");
        if (e && ((for_new && strcmp(e, "NoSchedule") == 0) ||
                  strcmp(e, "NoExecute") == 0) &&
            !tolerated(t, tols))
            return false;
    }
    return true;
}

/* ---- sync ------------------------------------------------------------- */

struct node_list {
    struct json_object *pspec;   /* template spec with the tolerations */
    struct json_object *names;   /* nodes to place new pods on (array) */
    struct json_object *keep;    /* nodes whose pods may stay (array) */
};

static int collect_node(void *arg, const char *key, struct json_object *node)
{
    struct node_list *l = arg;
    const char *name = ju_str(ju_obj(node, "metadata"), "name");
    if (name && eligible(node, l->pspec, true))
        json_object_array_add(l->names, json_object_new_string(name));
    if (name && eligible(node, l->pspec, false))
        json_object_array_add(l->keep, json_object_new_string(name));
    return 0;
}

struct owned {
    const char *uid;
    struct json_object *pods;
};

static int collect_pod(void *arg, const struct resource_type *rt,
                       const char *key, struct json_object *pod)
{
    struct owned *o = arg;
    const char *uid = ju_str(ctrl_controller_ref(pod), "uid");
    if (strcmp(rt->resource, "pods") == 0 && uid && strcmp(uid, o->uid) == 0 &&
        rollout_pod_active(pod))
        json_object_array_add(o->pods, json_object_get(pod));
    return 0;
}

/* The node a daemon pod is for: its nodeName, else its affinity target. */
static const char *pod_node(struct json_object *pod)
{
    struct json_object *spec = ju_obj(pod, "spec");
    const char *n = ju_str(spec, "nodeName");
    if (n && n[0])
        return n;
    struct json_object *terms = ju_arr(
        ju_obj(ju_obj(ju_obj(spec, "affinity"), "nodeAffinity"),
               "requiredDuringSchedulingIgnoredDuringExecution"),
        "nodeSelectorTerms");
    struct json_object *mf = ju_arr(ju_idx_obj(terms, 0), "matchFields");
    struct json_object *vals = ju_arr(ju_idx_obj(mf, 0), "values");
    struct json_object *v = vals ? json_object_array_get_idx(vals, 0) : NULL;
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static int create_pod(struct ctrl *c, struct ds *s, struct json_object *ds,
                      struct json_object *pspec, const char *node,
                      const char *hash)
{
    struct json_object *md = ju_obj(ds, "metadata");
    struct json_object *tmpl = ju_obj(ju_obj(ds, "spec"), "template");
    struct json_object *pod = json_object_new_object();
    ju_set_str(pod, "apiVersion", "v1");
    ju_set_str(pod, "kind", "Pod");
    struct json_object *pmd = ju_obj_ensure(pod, "metadata");
    char gen[300];
    snprintf(gen, sizeof(gen), "%.200s-", ju_str(md, "name"));
    ju_set_str(pmd, "generateName", gen);
    struct json_object *labels = json_clone(ju_obj(ju_obj(tmpl, "metadata"), "labels"));
    if (!labels)
        labels = json_object_new_object();
    ju_set_str(labels, DS_HASH_LABEL, hash);
    json_object_object_add(pmd, "labels", labels);
    struct json_object *refs = json_object_new_array();
    json_object_array_add(refs, ctrl_new_controller_ref(s->ds_rt, ds));
    json_object_object_add(pmd, "ownerReferences", refs);
    struct json_object *spec = json_clone(pspec);
    /* Kubernetes' daemon pods target their node through node affinity. */
    struct json_object *na = ju_obj_ensure(ju_obj_ensure(spec, "affinity"),
                                           "nodeAffinity");
    struct json_object *req = json_object_new_object();
    struct json_object *terms = json_object_new_array();
    struct json_object *term = json_object_new_object();
    struct json_object *mf = json_object_new_array();
    struct json_object *e = json_object_new_object();
    ju_set_str(e, "key", "metadata.name");
    ju_set_str(e, "operator", "In");
    struct json_object *vals = json_object_new_array();
    json_object_array_add(vals, json_object_new_string(node));
    json_object_object_add(e, "values", vals);
    json_object_array_add(mf, e);
    json_object_object_add(term, "matchFields", mf);
    json_object_array_add(terms, term);
    json_object_object_add(req, "nodeSelectorTerms", terms);
    json_object_object_add(na, "requiredDuringSchedulingIgnoredDuringExecution",
                           req);
    json_object_object_add(pod, "spec", spec);
    struct json_object *out = NULL;
    int code = ctrl_create(c, s->pods_rt, ju_str(md, "namespace"), pod, &out);
    if (code == 201)
        ctrl_eventf(c, s->ds_rt, ds, "Normal", "SuccessfulCreate",
                    "Created pod: %s", ju_str(ju_obj(out, "metadata"), "name"));
    else
        ctrl_eventf(c, s->ds_rt, ds, "Warning", "FailedCreate",
                    "Error creating: %s", ctrl_status_message(out));
    json_object_put(out);
    json_object_put(pod);
    return code == 201 ? 0 : -1;
}

static void delete_pod(struct ctrl *c, struct ds *s, struct json_object *ds,
                       struct json_object *pod)
{
    struct json_object *md = ju_obj(pod, "metadata");
    int code = ctrl_delete(c, s->pods_rt, ju_str(md, "namespace"),
                           ju_str(md, "name"), NULL, ju_str(md, "uid"));
    if (code == 200)
        ctrl_eventf(c, s->ds_rt, ds, "Normal", "SuccessfulDelete",
                    "Deleted pod: %s", ju_str(md, "name"));
}

static bool in_names(struct json_object *names, const char *node)
{
    for (size_t i = 0; node && i < ju_len(names); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(names, i)),
                   node) == 0)
            return true;
    return false;
}

static void sync_ds(struct ctrl *c, const char *key)
{
    struct ds *s = ctrl_state(c);
    struct json_object *ds = ctrl_get_key(c, s->ds_rt, key, NULL);
    if (!ds)
        return;
    struct json_object *md = ju_obj(ds, "metadata");
    struct json_object *spec = ju_obj(ds, "spec");
    if (ju_str(md, "deletionTimestamp") || !ju_str(md, "uid")) {
        json_object_put(ds);
        return;
    }
    struct json_object *tmpl = ju_obj(spec, "template");
    char hash[ROLLOUT_HASH_BYTES] = "";
    rollout_template_hash(tmpl, -1, hash);
    struct json_object *pspec = json_clone(ju_obj(tmpl, "spec"));
    if (!pspec)
        pspec = json_object_new_object();
    add_tolerations(pspec);
    struct node_list nl = {pspec, json_object_new_array(),
                           json_object_new_array()};
    ctrl_list(c, s->nodes_rt, "", collect_node, &nl);
    struct owned o = {ju_str(md, "uid"), json_object_new_array()};
    ctrl_dependents(c, o.uid, collect_pod, &o);

    const char *strategy = ju_str(ju_obj(spec, "updateStrategy"), "type");
    bool on_delete = strategy && strcmp(strategy, "OnDelete") == 0;
    int64_t desired = (int64_t)ju_len(nl.names), scheduled = 0, misscheduled = 0,
            ready = 0, updated = 0, available = 0;
    bool failed = false;
    /* Pods per node: keep one (the updated one if any), delete the rest
     * and those on ineligible nodes. */
    struct json_object *kept = json_object_new_object(); /* node -> pod */
    for (size_t i = 0; i < ju_len(o.pods); i++) {
        struct json_object *pod = ju_idx_obj(o.pods, i);
        const char *node = pod_node(pod);
        if (!node || !in_names(nl.keep, node)) {
            misscheduled += node && ju_str(ju_obj(pod, "spec"), "nodeName") ? 1 : 0;
            delete_pod(c, s, ds, pod);
            continue;
        }
        struct json_object *prev = json_object_object_get(kept, node);
        if (prev) {
            delete_pod(c, s, ds, pod); /* a second pod for one node */
            continue;
        }
        json_object_object_add(kept, node, json_object_get(pod));
    }
    int64_t unavailable_budget = 1;
    rollout_scaled_value(json_object_object_get(
                             ju_obj(ju_obj(spec, "updateStrategy"),
                                    "rollingUpdate"),
                             "maxUnavailable"),
                         desired, false, &unavailable_budget);
    if (unavailable_budget < 1)
        unavailable_budget = 1;
    int64_t unavailable = 0;
    for (size_t i = 0; i < ju_len(nl.names); i++) {
        const char *node = json_object_get_string(json_object_array_get_idx(nl.names, i));
        struct json_object *pod = json_object_object_get(kept, node);
        if (!pod || !rollout_pod_ready(pod, NULL))
            unavailable++;
    }
    for (size_t i = 0; i < ju_len(nl.keep); i++) {
        const char *node = json_object_get_string(json_object_array_get_idx(nl.keep, i));
        struct json_object *pod = json_object_object_get(kept, node);
        if (!pod) {
            if (in_names(nl.names, node) &&
                create_pod(c, s, ds, pspec, node, hash) != 0)
                failed = true;
            continue;
        }
        scheduled++;
        const char *h = ju_str(ju_obj(ju_obj(pod, "metadata"), "labels"),
                               DS_HASH_LABEL);
        bool current = h && strcmp(h, hash) == 0;
        bool is_ready = rollout_pod_ready(pod, NULL);
        if (current)
            updated++;
        if (is_ready) {
            ready++;
            available++;
        }
        /* Rolling update: an outdated pod goes while the budget allows
         * (a not-ready outdated pod can always go). */
        if (!current && !on_delete &&
            (!is_ready || unavailable < unavailable_budget)) {
            if (is_ready)
                unavailable++;
            delete_pod(c, s, ds, pod);
        }
    }
    struct json_object *st = json_clone(ju_obj(ds, "status"));
    if (!st)
        st = json_object_new_object();
    int64_t gen = 0;
    ju_int(md, "generation", &gen);
    ju_set_int(st, "currentNumberScheduled", scheduled);
    ju_set_int(st, "numberMisscheduled", misscheduled);
    ju_set_int(st, "desiredNumberScheduled", desired);
    ju_set_int(st, "numberReady", ready);
    ju_set_int(st, "updatedNumberScheduled", updated);
    ju_set_int(st, "numberAvailable", available);
    if (desired - available > 0)
        ju_set_int(st, "numberUnavailable", desired - available);
    else
        json_object_object_del(st, "numberUnavailable");
    ju_set_int(st, "observedGeneration", gen);
    if (!json_equal(st, ju_obj(ds, "status"))) {
        json_object_object_add(ds, "status", json_object_get(st));
        if (ctrl_update(c, s->ds_rt, ds, "status", NULL) == 409)
            ctrl_enqueue(c, key);
    }
    if (failed)
        ctrl_enqueue_after(c, key, 5000);
    json_object_put(st);
    json_object_put(kept);
    json_object_put(o.pods);
    json_object_put(nl.names);
    json_object_put(nl.keep);
    json_object_put(pspec);
    json_object_put(ds);
}

static int init(struct ctrl *c)
{
    struct ds *s = ctrl_state(c);
    s->ds_rt = ctrl_rt("apps", "daemonsets");
    s->pods_rt = ctrl_rt("", "pods");
    s->nodes_rt = ctrl_rt("", "nodes");
    int rc = ctrl_watch(c, s->ds_rt, on_ds);
    if (rc == 0)
        rc = ctrl_watch(c, s->nodes_rt, on_node);
    return rc ? rc : ctrl_watch(c, s->pods_rt, on_pod);
}

const struct ctrl_def ctrl_daemonset_def = {
    .name = "daemonset-controller",
    .user = "system:serviceaccount:kube-system:daemon-set-controller",
    .state_size = sizeof(struct ds),
    .init = init,
    .sync = sync_ds,
};
