/*
 * The node lifecycle controller ("node-controller"), after Kubernetes'
 * own: a node is alive while its Lease (kube-node-lease/<node>) is renewed
 * or its Ready heartbeat moves. A node silent for the grace period gets
 * its conditions set to Unknown, the unreachable taint, and its pods
 * marked not ready; they are deleted only if eviction is asked for (the
 * node's kedge.io/eviction-timeout annotation or --pod-eviction-timeout),
 * since an edge node being offline is normal.
 *
 * Liveness is judged by when this controller *saw* a change, on the
 * loop's monotonic clock, so clocks of nodes do not matter; at start
 * every node counts as just seen. Each node has one queued deadline, and
 * a sync that finds nothing due only re-arms it without reading the
 * store, so idle nodes cost almost nothing.
 */
#include "controllers/ctrl.h"
#include "api/patch.h"
#include "resources/jsonutil.h"
#include "util/duration.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/timefmt.h"

/* libbsd's tree.h marks its generated functions __unused, which glibc
 * does not define. */
#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NODE_LEASE_NS "kube-node-lease"
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define EVICTION_ANNOTATION "kedge.io/eviction-timeout"
/* A sync whose writes failed tries again after this long. */
#define NODE_RETRY_MS 2000

/* The conditions a kubelet posts, which go Unknown when it falls silent;
 * any other condition that is True or False goes Unknown as well. */
static const char *const kubelet_conditions[] = {
    "Ready", "MemoryPressure", "DiskPressure", "PIDPressure", NULL};

enum node_ready { READY_NONE, READY_TRUE, READY_FALSE, READY_UNKNOWN };

/* What the controller remembers of one node. */
struct node_rec {
    RB_ENTRY(node_rec) link;
    uint64_t seen_ms;    /* uv_now when a renewal or heartbeat was seen */
    char *renew;         /* the Lease's spec.renewTime last seen */
    char *heartbeat;     /* Ready's lastHeartbeatTime last seen */
    enum node_ready ready; /* Ready at the last full sync */
    bool synced;         /* ready is from a full sync */
    bool dirty;          /* the next sync must read and reconcile */
    bool unreachable;    /* silent past the grace period */
    char name[];
};

/* A pod bound to a node: (node, pod store key). */
struct pod_ref {
    RB_ENTRY(pod_ref) link;
    char *node;
    char *key;
    char buf[];
};

static int node_rec_cmp(struct node_rec *a, struct node_rec *b)
{
    return strcmp(a->name, b->name);
}

static int pod_ref_cmp(struct pod_ref *a, struct pod_ref *b)
{
    int c = strcmp(a->node, b->node);
    return c ? c : strcmp(a->key, b->key);
}

RB_HEAD(node_tree, node_rec);
RB_HEAD(pod_tree, pod_ref);
RB_GENERATE_STATIC(node_tree, node_rec, link, node_rec_cmp)
RB_GENERATE_STATIC(pod_tree, pod_ref, link, pod_ref_cmp)

struct nl_state {
    struct node_tree nodes;
    struct pod_tree pods;
    const struct resource_type *nodes_rt, *leases_rt, *pods_rt;
};

/* ---- small helpers ---------------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Replaces *slot with a copy of s (NULL clears it). */
static void set_str(char **slot, const char *s)
{
    free(*slot);
    *slot = s ? strdup(s) : NULL;
}

static struct json_object *find_condition(struct json_object *obj,
                                          const char *type)
{
    struct json_object *conds = ju_arr(ju_obj(obj, "status"), "conditions");
    struct json_object *found = NULL;
    /* The last one wins, as with Kubernetes' condition lookups. */
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *c = ju_idx_obj(conds, i);
        if (str_eq(ju_str(c, "type"), type))
            found = c;
    }
    return found;
}

static enum node_ready ready_of(struct json_object *node)
{
    struct json_object *c = find_condition(node, "Ready");
    const char *s = ju_str(c, "status");
    if (!c)
        return READY_NONE;
    if (str_eq(s, "True"))
        return READY_TRUE;
    if (str_eq(s, "False"))
        return READY_FALSE;
    return READY_UNKNOWN;
}

static const char *annotation(struct json_object *obj, const char *key)
{
    return ju_str(ju_obj(ju_obj(obj, "metadata"), "annotations"), key);
}

static const char *node_of_pod(struct json_object *pod)
{
    const char *n = ju_str(ju_obj(pod, "spec"), "nodeName");
    return n && n[0] ? n : NULL;
}

static bool pod_ready(struct json_object *pod)
{
    return str_eq(ju_str(find_condition(pod, "Ready"), "status"), "True");
}

/* ---- the records ------------------------------------------------------ */

static struct node_rec *rec_find(struct nl_state *s, const char *name)
{
    size_t n = strlen(name);
    struct node_rec *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    memcpy(q->name, name, n + 1);
    struct node_rec *r = RB_FIND(node_tree, &s->nodes, q);
    free(q);
    return r;
}

static void rec_free(struct node_rec *r)
{
    free(r->renew);
    free(r->heartbeat);
    free(r);
}

static void pod_ref_add(struct nl_state *s, const char *node, const char *key)
{
    size_t ln = strlen(node), lk = strlen(key);
    struct pod_ref *p = malloc(sizeof(*p) + ln + lk + 2);
    if (!p)
        return;
    p->node = p->buf;
    p->key = p->buf + ln + 1;
    memcpy(p->node, node, ln + 1);
    memcpy(p->key, key, lk + 1);
    if (RB_INSERT(pod_tree, &s->pods, p))
        free(p); /* already known */
}

static void pod_ref_del(struct nl_state *s, const char *node, const char *key)
{
    struct pod_ref q = {.node = (char *)node, .key = (char *)key};
    struct pod_ref *p = RB_FIND(pod_tree, &s->pods, &q);
    if (p) {
        RB_REMOVE(pod_tree, &s->pods, p);
        free(p);
    }
}

/* The store keys of the pods known to be bound to node, copied (writes
 * during the caller's loop change the index). NULL-terminated; caller
 * frees each and the array. NULL when out of memory. */
static char **pod_keys(struct nl_state *s, const char *node)
{
    size_t n = 0, cap = 8;
    char **keys = malloc(cap * sizeof(*keys));
    struct pod_ref q = {.node = (char *)node, .key = ""};
    if (!keys)
        return NULL;
    for (struct pod_ref *p = RB_NFIND(pod_tree, &s->pods, &q);
         p && strcmp(p->node, node) == 0;
         p = RB_NEXT(pod_tree, &s->pods, p)) {
        if (n + 1 == cap) {
            char **k = realloc(keys, 2 * cap * sizeof(*keys));
            if (!k)
                break;
            keys = k;
            cap *= 2;
        }
        if (!(keys[n] = strdup(p->key)))
            break;
        n++;
    }
    keys[n] = NULL;
    return keys;
}

static void pod_keys_free(char **keys)
{
    for (size_t i = 0; keys && keys[i]; i++)
        free(keys[i]);
    free(keys);
}

/* ---- watch handlers (no writes here) ---------------------------------- */

static void on_node(struct ctrl *c, struct ctrl_event *ev)
{
    struct nl_state *s = ctrl_state(c);
    struct json_object *obj = ctrl_event_obj(ev);
    const char *name = ju_str(ju_obj(obj, "metadata"), "name");
    if (!name)
        return;
    struct node_rec *r = rec_find(s, name);
    if (ctrl_event_type(ev) == STORE_DELETE) {
        if (r) {
            RB_REMOVE(node_tree, &s->nodes, r);
            rec_free(r);
        }
        return;
    }
    uint64_t now = uv_now(ctrl_loop(c));
    if (!r) {
        /* New, or known at start: counts as just seen. */
        size_t n = strlen(name);
        if (!(r = calloc(1, sizeof(*r) + n + 1)))
            return;
        memcpy(r->name, name, n + 1);
        r->seen_ms = now;
        r->dirty = true;
        RB_INSERT(node_tree, &s->nodes, r);
    }
    const char *hb = ju_str(find_condition(obj, "Ready"), "lastHeartbeatTime");
    if (hb && !str_eq(hb, r->heartbeat)) {
        set_str(&r->heartbeat, hb);
        r->seen_ms = now;
    }
    struct json_object *old = ctrl_event_old(ev);
    if (!old || ready_of(old) != ready_of(obj) || r->unreachable ||
        !json_equal(ju_arr(ju_obj(old, "spec"), "taints"),
                    ju_arr(ju_obj(obj, "spec"), "taints")) ||
        !str_eq(annotation(old, EVICTION_ANNOTATION),
                annotation(obj, EVICTION_ANNOTATION)))
        r->dirty = true;
    if (r->dirty)
        ctrl_enqueue(c, name);
}

static void on_lease(struct ctrl *c, struct ctrl_event *ev)
{
    struct nl_state *s = ctrl_state(c);
    struct json_object *obj = ctrl_event_obj(ev);
    struct json_object *md = ju_obj(obj, "metadata");
    const char *name = ju_str(md, "name");
    if (ctrl_event_type(ev) == STORE_DELETE || !name ||
        !str_eq(ju_str(md, "namespace"), NODE_LEASE_NS))
        return;
    /* A lease without its node says nothing yet: the node, once
     * created, counts as just seen anyway. */
    struct node_rec *r = rec_find(s, name);
    const char *renew = ju_str(ju_obj(obj, "spec"), "renewTime");
    if (!r || !renew || str_eq(renew, r->renew))
        return;
    set_str(&r->renew, renew);
    r->seen_ms = uv_now(ctrl_loop(c));
    if (r->unreachable) {
        r->dirty = true;
        ctrl_enqueue(c, name);
    }
}

static void on_pod(struct ctrl *c, struct ctrl_event *ev)
{
    struct nl_state *s = ctrl_state(c);
    struct json_object *obj = ctrl_event_obj(ev);
    const char *key = ctrl_event_key(ev);
    const char *node = node_of_pod(obj);
    if (ctrl_event_type(ev) == STORE_DELETE) {
        if (node)
            pod_ref_del(s, node, key);
        return;
    }
    struct json_object *old = ctrl_event_old(ev);
    const char *old_node = node_of_pod(old);
    if (old_node && !str_eq(old_node, node))
        pod_ref_del(s, old_node, key);
    if (!node)
        return;
    pod_ref_add(s, node, key);
    struct node_rec *r = rec_find(s, node);
    /* A ready pod on a node that is not, or a new pod on a node that
     * may be evicting, needs the node's sync. */
    if (r && r->synced &&
        ((r->ready != READY_TRUE && pod_ready(obj)) ||
         (r->unreachable && !old))) {
        r->dirty = true;
        ctrl_enqueue(c, node);
    }
}

/* ---- reconciling ------------------------------------------------------ */

/* Sets the node's kubelet-posted conditions to Unknown, as Kubernetes
 * does for a silent kubelet, through nodes/status. *node is replaced by
 * the stored result. Returns 0, or -1 if the write failed. */
static int mark_unknown(struct ctrl *c, struct json_object **node)
{
    struct nl_state *s = ctrl_state(c);
    struct json_object *st = ju_obj_ensure(*node, "status");
    struct json_object *conds = ju_arr_ensure(st, "conditions");
    const char *created =
        ju_str(ju_obj(*node, "metadata"), "creationTimestamp");
    char now[32];
    bool changed = false;
    time_now_rfc3339(now);
    if (!conds)
        return -1;
    for (int i = 0; kubelet_conditions[i]; i++) {
        if (find_condition(*node, kubelet_conditions[i]))
            continue;
        struct json_object *cond = json_object_new_object();
        ju_set_str(cond, "type", kubelet_conditions[i]);
        ju_set_str(cond, "status", "Unknown");
        if (created)
            ju_set_str(cond, "lastHeartbeatTime", created);
        ju_set_str(cond, "lastTransitionTime", now);
        ju_set_str(cond, "reason", "NodeStatusNeverUpdated");
        ju_set_str(cond, "message", "Kubelet never posted node status.");
        json_object_array_add(conds, cond);
        changed = true;
    }
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *cond = ju_idx_obj(conds, i);
        const char *status = ju_str(cond, "status");
        if (!str_eq(status, "True") && !str_eq(status, "False"))
            continue;
        ju_set_str(cond, "status", "Unknown");
        ju_set_str(cond, "reason", "NodeStatusUnknown");
        ju_set_str(cond, "message", "Kubelet stopped posting node status.");
        ju_set_str(cond, "lastTransitionTime", now);
        changed = true;
    }
    if (!changed)
        return 0;
    struct json_object *out = NULL;
    int code = ctrl_update(c, s->nodes_rt, *node, "status", &out);
    if (code != 200) {
        json_object_put(out);
        return -1;
    }
    json_object_put(*node);
    *node = out;
    return 0;
}

static bool is_lifecycle_taint(struct json_object *t)
{
    const char *key = ju_str(t, "key");
    return str_eq(ju_str(t, "effect"), "NoSchedule") &&
           (str_eq(key, TAINT_UNREACHABLE) || str_eq(key, TAINT_NOT_READY));
}

/* Gives the node the NoSchedule taint its Ready status calls for
 * (unreachable for Unknown, not-ready for False, none for True or
 * absent) and drops the other one. *node is replaced by the stored
 * result. Returns 0, or -1 if the write failed. */
static int sync_taints(struct ctrl *c, struct json_object **node,
                       enum node_ready ready)
{
    struct nl_state *s = ctrl_state(c);
    const char *want = ready == READY_UNKNOWN ? TAINT_UNREACHABLE
                       : ready == READY_FALSE ? TAINT_NOT_READY
                                              : NULL;
    struct json_object *spec = ju_obj_ensure(*node, "spec");
    struct json_object *taints = ju_arr(spec, "taints");
    bool have_want = false, have_other = false;
    for (size_t i = 0; i < ju_len(taints); i++) {
        struct json_object *t = ju_idx_obj(taints, i);
        if (!is_lifecycle_taint(t))
            continue;
        if (want && str_eq(ju_str(t, "key"), want))
            have_want = true;
        else
            have_other = true;
    }
    if (!have_other && (have_want || !want))
        return 0;

    struct json_object *next = json_object_new_array();
    for (size_t i = 0; i < ju_len(taints); i++) {
        struct json_object *t = json_object_array_get_idx(taints, i);
        if (json_object_is_type(t, json_type_object) && is_lifecycle_taint(t) &&
            !(want && str_eq(ju_str(t, "key"), want)))
            continue;
        json_object_array_add(next, json_object_get(t));
    }
    if (want && !have_want) {
        char now[32];
        time_now_rfc3339(now);
        struct json_object *t = json_object_new_object();
        ju_set_str(t, "key", want);
        ju_set_str(t, "effect", "NoSchedule");
        ju_set_str(t, "timeAdded", now);
        json_object_array_add(next, t);
    }
    if (json_object_array_length(next) == 0) {
        json_object_put(next);
        json_object_object_del(spec, "taints");
    } else {
        json_object_object_add(spec, "taints", next);
    }
    struct json_object *out = NULL;
    int code = ctrl_update(c, s->nodes_rt, *node, NULL, &out);
    if (code != 200) {
        json_object_put(out);
        return -1;
    }
    json_object_put(*node);
    *node = out;
    return 0;
}

/* Sets Ready=False on the node's pods that say True, so endpoints stop
 * sending them traffic. Returns 0, or -1 if a write failed. */
static int mark_pods_not_ready(struct ctrl *c, const char *node)
{
    struct nl_state *s = ctrl_state(c);
    char **keys = pod_keys(s, node);
    int rc = keys ? 0 : -1;
    for (size_t i = 0; keys && keys[i]; i++) {
        struct json_object *pod = ctrl_get_key(c, s->pods_rt, keys[i], NULL);
        if (!pod || !str_eq(node_of_pod(pod), node)) {
            pod_ref_del(s, node, keys[i]);
            json_object_put(pod);
            continue;
        }
        struct json_object *cond = find_condition(pod, "Ready");
        if (!str_eq(ju_str(cond, "status"), "True")) {
            json_object_put(pod);
            continue;
        }
        char now[32];
        time_now_rfc3339(now);
        ju_set_str(cond, "status", "False");
        ju_set_str(cond, "lastTransitionTime", now);
        int code = ctrl_update(c, s->pods_rt, pod, "status", NULL);
        if (code == 200)
            ctrl_eventf(c, s->pods_rt, pod, "Warning", "NodeNotReady",
                        "Node is not ready");
        else if (code != 404)
            rc = -1;
        json_object_put(pod);
    }
    pod_keys_free(keys);
    return rc;
}

static bool daemonset_owned(struct json_object *pod)
{
    struct json_object *ref = ctrl_controller_ref(pod);
    return ref && str_eq(ju_str(ref, "kind"), "DaemonSet");
}

/* Deletes the node's pods (but not DaemonSet ones, which belong there),
 * with events on the node and on each pod. Returns 0, or -1 if a delete
 * failed. */
static int evict_pods(struct ctrl *c, struct json_object *node,
                      const char *name)
{
    struct nl_state *s = ctrl_state(c);
    char **keys = pod_keys(s, name);
    int rc = keys ? 0 : -1;
    bool announced = false;
    for (size_t i = 0; keys && keys[i]; i++) {
        struct json_object *pod = ctrl_get_key(c, s->pods_rt, keys[i], NULL);
        struct json_object *md = ju_obj(pod, "metadata");
        if (!pod || !str_eq(node_of_pod(pod), name) ||
            ju_str(md, "deletionTimestamp") || daemonset_owned(pod)) {
            json_object_put(pod);
            continue;
        }
        if (!announced) {
            ctrl_eventf(c, s->nodes_rt, node, "Normal", "DeletingAllPods",
                        "Deleting all Pods from Node %s.", name);
            announced = true;
        }
        const char *pname = ju_str(md, "name");
        ctrl_eventf(c, s->pods_rt, pod, "Normal", "NodeControllerEviction",
                    "Marking for deletion Pod %s from Node %s",
                    pname ? pname : "", name);
        int code = ctrl_delete(c, s->pods_rt, ju_str(md, "namespace"), pname,
                               NULL, ju_str(md, "uid"));
        if (code >= 300 && code != 404 && code != 409)
            rc = -1;
        else
            log_info("ctrl", "node-controller: evicted pod %s from node %s",
                     keys[i], name);
        json_object_put(pod);
    }
    pod_keys_free(keys);
    return rc;
}

/* How long the node's pods may stay while it is unreachable: its
 * annotation, else the cluster default; 0 means forever. */
static uint64_t eviction_ms(struct ctrl *c, struct json_object *node,
                            const char *name)
{
    const char *a = annotation(node, EVICTION_ANNOTATION);
    uint64_t ms;
    if (!a)
        return ctrl_config(c)->pod_eviction_ms;
    if (duration_parse_ms(a, &ms) == 0)
        return ms;
    ctrl_eventf(c, ctrl_rt("", "nodes"), node, "Warning",
                "InvalidEvictionTimeout",
                "annotation " EVICTION_ANNOTATION " of node %s is not a "
                "duration like 10m: \"%s\"; using the cluster default",
                name, a);
    return ctrl_config(c)->pod_eviction_ms;
}

static void sync_node(struct ctrl *c, const char *name)
{
    struct nl_state *s = ctrl_state(c);
    struct node_rec *r = rec_find(s, name);
    if (!r)
        return;
    uint64_t now = uv_now(ctrl_loop(c));
    const struct ctrl_mgr_config *cfg = ctrl_config(c);
    uint64_t hub = cfg->node_seen ? cfg->node_seen(cfg->node_seen_arg, name)
                                  : 0;
    if (hub > r->seen_ms)
        r->seen_ms = hub;
    uint64_t deadline = r->seen_ms + cfg->node_grace_ms;
    if (!r->dirty && !r->unreachable && now < deadline) {
        ctrl_enqueue_after(c, name, deadline - now);
        return;
    }
    r->dirty = false;
    struct json_object *node = ctrl_get(c, s->nodes_rt, "", name, NULL);
    if (!node)
        return; /* its delete event drops the record */
    int rc = 0;
    r->unreachable = now >= deadline;
    if (r->unreachable && mark_unknown(c, &node))
        rc = -1;

    enum node_ready ready = ready_of(node);
    if (r->synced && r->ready == READY_TRUE && ready != READY_TRUE) {
        log_info("ctrl", "node-controller: node %s is not ready%s", name,
                 r->unreachable ? " (no lease renewal or heartbeat)" : "");
        ctrl_eventf(c, s->nodes_rt, node, "Normal", "NodeNotReady",
                    "Node %s status is now: NodeNotReady", name);
    } else if (r->synced && r->ready != READY_TRUE && ready == READY_TRUE) {
        log_info("ctrl", "node-controller: node %s is ready", name);
        ctrl_eventf(c, s->nodes_rt, node, "Normal", "NodeReady",
                    "Node %s status is now: NodeReady", name);
    }
    r->ready = ready;
    r->synced = true;

    if (sync_taints(c, &node, ready))
        rc = -1;
    if (ready != READY_TRUE && ready != READY_NONE &&
        mark_pods_not_ready(c, name))
        rc = -1;
    if (r->unreachable) {
        uint64_t evict = eviction_ms(c, node, name);
        if (evict && now >= deadline + evict) {
            if (evict_pods(c, node, name))
                rc = -1;
        } else if (evict) {
            ctrl_enqueue_after(c, name, deadline + evict - now);
        }
    }
    if (rc) {
        r->dirty = true;
        ctrl_enqueue_after(c, name, NODE_RETRY_MS);
    } else if (now < deadline) {
        ctrl_enqueue_after(c, name, deadline - now);
    }
    json_object_put(node);
}

/* ---- life cycle ------------------------------------------------------- */

static int init(struct ctrl *c)
{
    struct nl_state *s = ctrl_state(c);
    RB_INIT(&s->nodes);
    RB_INIT(&s->pods);
    s->nodes_rt = ctrl_rt("", "nodes");
    s->pods_rt = ctrl_rt("", "pods");
    s->leases_rt = ctrl_rt("coordination.k8s.io", "leases");
    if (!s->nodes_rt || !s->pods_rt || !s->leases_rt)
        return -KE_INVALID;
    int rc = ctrl_watch(c, s->nodes_rt, on_node);
    if (rc == 0)
        rc = ctrl_watch(c, s->leases_rt, on_lease);
    if (rc == 0)
        rc = ctrl_watch(c, s->pods_rt, on_pod);
    return rc;
}

static void fini(struct ctrl *c)
{
    struct nl_state *s = ctrl_state(c);
    struct node_rec *r, *rn;
    RB_FOREACH_SAFE(r, node_tree, &s->nodes, rn)
    {
        RB_REMOVE(node_tree, &s->nodes, r);
        rec_free(r);
    }
    struct pod_ref *p, *pn;
    RB_FOREACH_SAFE(p, pod_tree, &s->pods, pn)
    {
        RB_REMOVE(pod_tree, &s->pods, p);
        free(p);
    }
}

const struct ctrl_def ctrl_nodelifecycle_def = {
    .name = "node-controller",
    .user = "system:serviceaccount:kube-system:node-controller",
    .state_size = sizeof(struct nl_state),
    .init = init,
    .sync = sync_node,
    .fini = fini,
};
