/*
 * The scheduler: binds pending pods to nodes through pods/binding.
 *
 * Everything a decision needs is cached from events, so placing a pod
 * never parses a node: per node its labels, taints, readiness,
 * allocatable resources and what the pods bound to it request (cpu,
 * memory, pod count, host ports); per bound pod its node, requests,
 * labels and controller (for spreading). Filters follow Kubernetes'
 * default plugins (readiness and taints, unschedulable, node selector and
 * required node affinity, resources, host ports, required pod
 * (anti-)affinity); the score adds least-requested, preferred node
 * affinity, PreferNoSchedule taints and spreading of a controller's pods.
 * A pod no node fits gets a FailedScheduling event with Kubernetes'
 * message and PodScheduled=False, and is retried when nodes or pods
 * change (and every 30 s).
 */
#include "controllers/ctrl.h"
#include "controllers/nodematch.h"
#include "resources/jsonutil.h"
#include "resources/pod.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>

#define SCHED_RETRY_MS (30 * 1000)
#define SCHED_MAX_PORTS 16
#define SCHED_NAME "default-scheduler"

struct port {
    int port;
    char proto[8];
};

struct taint {
    char *key, *value, *effect;
};

struct snode {
    RB_ENTRY(snode) link;
    struct json_object *labels;     /* owned copy */
    struct taint *taints;
    int ntaints;
    bool ready, unschedulable;
    int64_t alloc_cpu, alloc_mem, alloc_pods; /* millicores, bytes, count */
    int64_t req_cpu, req_mem, pods;
    struct port *ports;
    int nports, cap_ports;
    unsigned spread_gen;            /* spread_count is valid for this pod */
    int spread_count;
    char name[];
};

struct spod {
    RB_ENTRY(spod) link;
    char *node;
    char *owner;                    /* controller uid or NULL */
    char *ns;
    struct json_object *labels;
    int64_t cpu, mem;
    struct port ports[SCHED_MAX_PORTS];
    int nports;
    char key[];
};

/* (owner uid, node) -> pods of that owner on that node */
struct spread {
    RB_ENTRY(spread) link;
    int count;
    char *node;
    char owner[];
};

static int snode_cmp(struct snode *a, struct snode *b) { return strcmp(a->name, b->name); }
static int spod_cmp(struct spod *a, struct spod *b) { return strcmp(a->key, b->key); }
static int spread_cmp(struct spread *a, struct spread *b)
{
    int c = strcmp(a->owner, b->owner);
    return c ? c : strcmp(a->node, b->node);
}

RB_HEAD(snodes, snode);
RB_HEAD(spods, spod);
RB_HEAD(spreads, spread);
RB_GENERATE_STATIC(snodes, snode, link, snode_cmp)
RB_GENERATE_STATIC(spods, spod, link, spod_cmp)
RB_GENERATE_STATIC(spreads, spread, link, spread_cmp)

/* A pod waiting for a node, remembered to retry it when things change. */
struct waiting {
    RB_ENTRY(waiting) link;
    char *message;                  /* last FailedScheduling message */
    char key[];
};
static int waiting_cmp(struct waiting *a, struct waiting *b) { return strcmp(a->key, b->key); }
RB_HEAD(waits, waiting);
RB_GENERATE_STATIC(waits, waiting, link, waiting_cmp)

struct sched {
    struct snodes nodes;
    struct spods pods;
    struct spreads spreads;
    struct waits waiting;
    int nnodes;
    unsigned spread_gen;
    const struct resource_type *pods_rt, *nodes_rt;
    unsigned rr;                    /* tie-break rotation */
};

/* ---- lookups ---------------------------------------------------------- */

/* Lookups build their query key in a stack buffer: this runs for every
 * node for every pod, so no allocation. Keys and names are bounded by the
 * API (names 253, keys under 600). */
#define SCHED_KEY_MAX 1024

static struct snode *node_find(struct sched *s, const char *name)
{
    union {
        struct snode q;
        char buf[sizeof(struct snode) + SCHED_KEY_MAX];
    } u;
    size_t n = strlen(name);
    if (n >= SCHED_KEY_MAX)
        return NULL;
    memcpy(u.q.name, name, n + 1);
    return RB_FIND(snodes, &s->nodes, &u.q);
}

static struct spod *pod_find(struct sched *s, const char *key)
{
    union {
        struct spod q;
        char buf[sizeof(struct spod) + SCHED_KEY_MAX];
    } u;
    size_t n = strlen(key);
    if (n >= SCHED_KEY_MAX)
        return NULL;
    memcpy(u.q.key, key, n + 1);
    return RB_FIND(spods, &s->pods, &u.q);
}

static struct waiting *wait_find(struct sched *s, const char *key)
{
    union {
        struct waiting q;
        char buf[sizeof(struct waiting) + SCHED_KEY_MAX];
    } u;
    size_t n = strlen(key);
    if (n >= SCHED_KEY_MAX)
        return NULL;
    memcpy(u.q.key, key, n + 1);
    return RB_FIND(waits, &s->waiting, &u.q);
}

static int spread_add(struct sched *s, const char *owner, const char *node,
                      int delta)
{
    size_t n = strlen(owner);
    struct spread *q = calloc(1, sizeof(*q) + n + 1);
    if (!q)
        return 0;
    memcpy(q->owner, owner, n + 1);
    q->node = (char *)node;
    struct spread *r = RB_FIND(spreads, &s->spreads, q);
    if (!r && delta > 0) {
        q->node = strdup(node);
        RB_INSERT(spreads, &s->spreads, q);
        r = q;
    } else {
        free(q);
    }
    if (!r)
        return 0;
    r->count += delta;
    int c = r->count;
    if (c <= 0) {
        RB_REMOVE(spreads, &s->spreads, r);
        free(r->node);
        free(r);
    }
    return c;
}

/* Marks every node with the number of owner's pods on it (nodes not
 * marked have none): one walk over the owner's entries per pod. */
static unsigned spread_gather(struct sched *s, const char *owner)
{
    unsigned gen = ++s->spread_gen;
    union {
        struct spread q;
        char buf[sizeof(struct spread) + SCHED_KEY_MAX];
    } u;
    size_t n = strlen(owner);
    if (n >= SCHED_KEY_MAX)
        return gen;
    memcpy(u.q.owner, owner, n + 1);
    u.q.node = "";
    for (struct spread *r = RB_NFIND(spreads, &s->spreads, &u.q);
         r && strcmp(r->owner, owner) == 0; r = RB_NEXT(spreads, &s->spreads, r)) {
        struct snode *nd = node_find(s, r->node);
        if (nd) {
            nd->spread_gen = gen;
            nd->spread_count = r->count;
        }
    }
    return gen;
}

/* ---- pods' requests --------------------------------------------------- */

static int64_t quantity(struct json_object *res, const char *name,
                        int64_t divisor)
{
    __int128 nanos;
    struct json_object *q = json_object_object_get(res, name);
    if (!q || pod_quantity_nanos(q, &nanos) != 0 || nanos <= 0)
        return 0;
    __int128 v = (nanos + divisor - 1) / divisor;
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* A container's request for name: requests, else limits (as Kubernetes
 * defaults requests from limits). */
static int64_t container_request(struct json_object *c, const char *name,
                                 int64_t divisor)
{
    struct json_object *r = ju_obj(c, "resources");
    int64_t v = quantity(ju_obj(r, "requests"), name, divisor);
    return v ? v : quantity(ju_obj(r, "limits"), name, divisor);
}

static void pod_requests(struct json_object *spec, int64_t *cpu, int64_t *mem)
{
    int64_t c = 0, m = 0, ic = 0, im = 0;
    struct json_object *cs = ju_arr(spec, "containers");
    for (size_t i = 0; i < ju_len(cs); i++) {
        c += container_request(ju_idx_obj(cs, i), "cpu", 1000000);
        m += container_request(ju_idx_obj(cs, i), "memory", 1000000000);
    }
    struct json_object *is = ju_arr(spec, "initContainers");
    for (size_t i = 0; i < ju_len(is); i++) {
        int64_t a = container_request(ju_idx_obj(is, i), "cpu", 1000000);
        int64_t b = container_request(ju_idx_obj(is, i), "memory", 1000000000);
        ic = a > ic ? a : ic;
        im = b > im ? b : im;
    }
    struct json_object *ov = ju_obj(spec, "overhead");
    *cpu = (c > ic ? c : ic) + quantity(ov, "cpu", 1000000);
    *mem = (m > im ? m : im) + quantity(ov, "memory", 1000000000);
}

static int pod_ports(struct json_object *spec, struct port *out, int max)
{
    int n = 0;
    struct json_object *cs = ju_arr(spec, "containers");
    for (size_t i = 0; i < ju_len(cs); i++) {
        struct json_object *ports = ju_arr(ju_idx_obj(cs, i), "ports");
        for (size_t k = 0; k < ju_len(ports) && n < max; k++) {
            struct json_object *p = ju_idx_obj(ports, k);
            int64_t hp = 0;
            if (!ju_int(p, "hostPort", &hp) || hp <= 0)
                continue;
            out[n].port = (int)hp;
            snprintf(out[n].proto, sizeof(out[n].proto), "%s",
                     ju_str(p, "protocol") ? ju_str(p, "protocol") : "TCP");
            n++;
        }
    }
    return n;
}

/* ---- the cache -------------------------------------------------------- */

static void node_account(struct snode *n, struct spod *p, int sign)
{
    n->req_cpu += sign * p->cpu;
    n->req_mem += sign * p->mem;
    n->pods += sign;
    for (int i = 0; i < p->nports; i++) {
        if (sign > 0) {
            if (n->nports == n->cap_ports) {
                int cap = n->cap_ports ? n->cap_ports * 2 : 8;
                struct port *np = realloc(n->ports, (size_t)cap * sizeof(*np));
                if (!np)
                    return;
                n->ports = np;
                n->cap_ports = cap;
            }
            n->ports[n->nports++] = p->ports[i];
        } else {
            for (int k = 0; k < n->nports; k++)
                if (n->ports[k].port == p->ports[i].port &&
                    strcmp(n->ports[k].proto, p->ports[i].proto) == 0) {
                    n->ports[k] = n->ports[--n->nports];
                    break;
                }
        }
    }
}

static void pod_forget(struct sched *s, struct spod *p)
{
    struct snode *n = node_find(s, p->node);
    if (n)
        node_account(n, p, -1);
    if (p->owner)
        spread_add(s, p->owner, p->node, -1);
    RB_REMOVE(spods, &s->pods, p);
    json_object_put(p->labels);
    free(p->node);
    free(p->owner);
    free(p->ns);
    free(p);
}

/* Records pod (bound to node) in the cache, once. */
static void pod_assume(struct sched *s, const char *key, struct json_object *pod,
                       const char *node)
{
    struct spod *old = pod_find(s, key);
    if (old && strcmp(old->node, node) == 0)
        return;
    if (old)
        pod_forget(s, old);
    size_t klen = strlen(key);
    struct spod *p = calloc(1, sizeof(*p) + klen + 1);
    if (!p)
        return;
    memcpy(p->key, key, klen + 1);
    p->node = strdup(node);
    struct json_object *spec = ju_obj(pod, "spec");
    pod_requests(spec, &p->cpu, &p->mem);
    p->nports = pod_ports(spec, p->ports, SCHED_MAX_PORTS);
    struct json_object *md = ju_obj(pod, "metadata");
    struct json_object *labels = ju_obj(md, "labels");
    p->labels = labels ? json_object_get(labels) : NULL;
    p->ns = strdup(ju_str(md, "namespace") ? ju_str(md, "namespace") : "");
    struct json_object *ref = ctrl_controller_ref(pod);
    if (ref && ju_str(ref, "uid"))
        p->owner = strdup(ju_str(ref, "uid"));
    RB_INSERT(spods, &s->pods, p);
    struct snode *n = node_find(s, node);
    if (n)
        node_account(n, p, +1);
    if (p->owner)
        spread_add(s, p->owner, p->node, +1);
}

static void node_free_fields(struct snode *n)
{
    json_object_put(n->labels);
    for (int i = 0; i < n->ntaints; i++) {
        free(n->taints[i].key);
        free(n->taints[i].value);
        free(n->taints[i].effect);
    }
    free(n->taints);
    n->taints = NULL;
    n->ntaints = 0;
}

static void node_update(struct sched *s, struct json_object *obj)
{
    const char *name = ju_str(ju_obj(obj, "metadata"), "name");
    if (!name)
        return;
    struct snode *n = node_find(s, name);
    if (!n) {
        size_t len = strlen(name);
        n = calloc(1, sizeof(*n) + len + 1);
        if (!n)
            return;
        memcpy(n->name, name, len + 1);
        RB_INSERT(snodes, &s->nodes, n);
        s->nnodes++;
        /* Pods already bound to it count now. */
        struct spod *p;
        RB_FOREACH(p, spods, &s->pods)
        if (strcmp(p->node, name) == 0)
            node_account(n, p, +1);
    } else {
        node_free_fields(n);
    }
    struct json_object *labels = ju_obj(ju_obj(obj, "metadata"), "labels");
    n->labels = labels ? json_object_get(labels) : NULL;
    struct json_object *spec = ju_obj(obj, "spec");
    bool b = false;
    n->unschedulable = ju_bool(spec, "unschedulable", &b) && b;
    struct json_object *taints = ju_arr(spec, "taints");
    if (ju_len(taints))
        n->taints = calloc(ju_len(taints), sizeof(*n->taints));
    for (size_t i = 0; n->taints && i < ju_len(taints); i++) {
        struct json_object *t = ju_idx_obj(taints, i);
        const char *k = ju_str(t, "key"), *v = ju_str(t, "value"),
                   *e = ju_str(t, "effect");
        n->taints[n->ntaints++] = (struct taint){
            strdup(k ? k : ""), strdup(v ? v : ""), strdup(e ? e : "")};
    }
    struct json_object *st = ju_obj(obj, "status");
    struct json_object *alloc = ju_obj(st, "allocatable");
    if (!alloc)
        alloc = ju_obj(st, "capacity");
    n->alloc_cpu = quantity(alloc, "cpu", 1000000);
    n->alloc_mem = quantity(alloc, "memory", 1000000000);
    n->alloc_pods = quantity(alloc, "pods", 1000000000);
    n->ready = false;
    struct json_object *conds = ju_arr(st, "conditions");
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *c = ju_idx_obj(conds, i);
        const char *t = ju_str(c, "type"), *v = ju_str(c, "status");
        if (t && v && strcmp(t, "Ready") == 0)
            n->ready = strcmp(v, "True") == 0;
    }
}

static void node_delete(struct sched *s, const char *name)
{
    struct snode *n = node_find(s, name);
    if (!n)
        return;
    RB_REMOVE(snodes, &s->nodes, n);
    s->nnodes--;
    node_free_fields(n);
    free(n->ports);
    free(n);
}

/* ---- events ----------------------------------------------------------- */

static void retry_waiting(struct ctrl *c)
{
    struct sched *s = ctrl_state(c);
    struct waiting *w;
    RB_FOREACH(w, waits, &s->waiting)
    ctrl_enqueue(c, w->key);
}

static void on_node(struct ctrl *c, struct ctrl_event *ev)
{
    struct sched *s = ctrl_state(c);
    struct json_object *obj = ctrl_event_obj(ev);
    if (ctrl_event_type(ev) == STORE_DELETE) {
        const char *name = ju_str(ju_obj(obj, "metadata"), "name");
        if (name)
            node_delete(s, name);
        return;
    }
    if (obj)
        node_update(s, obj);
    retry_waiting(c);
}

static bool is_pending(struct json_object *pod)
{
    struct json_object *spec = ju_obj(pod, "spec");
    const char *node = ju_str(spec, "nodeName");
    const char *sn = ju_str(spec, "schedulerName");
    const char *phase = ju_str(ju_obj(pod, "status"), "phase");
    return (!node || !node[0]) && (!sn || strcmp(sn, SCHED_NAME) == 0) &&
           !ju_str(ju_obj(pod, "metadata"), "deletionTimestamp") &&
           !(phase && (strcmp(phase, "Succeeded") == 0 ||
                       strcmp(phase, "Failed") == 0));
}

static void wait_forget(struct sched *s, const char *key)
{
    struct waiting *w = wait_find(s, key);
    if (w) {
        RB_REMOVE(waits, &s->waiting, w);
        free(w->message);
        free(w);
    }
}

static void on_pod(struct ctrl *c, struct ctrl_event *ev)
{
    struct sched *s = ctrl_state(c);
    const char *key = ctrl_event_key(ev);
    struct json_object *obj = ctrl_event_obj(ev);
    if (ctrl_event_type(ev) == STORE_DELETE || !obj) {
        struct spod *p = pod_find(s, key);
        if (p) {
            pod_forget(s, p);
            retry_waiting(c); /* room was freed */
        }
        wait_forget(s, key);
        return;
    }
    const char *node = ju_str(ju_obj(obj, "spec"), "nodeName");
    const char *phase = ju_str(ju_obj(obj, "status"), "phase");
    bool done = phase && (strcmp(phase, "Succeeded") == 0 ||
                          strcmp(phase, "Failed") == 0);
    if (node && node[0]) {
        wait_forget(s, key);
        if (done) { /* finished pods hold no resources */
            struct spod *p = pod_find(s, key);
            if (p) {
                pod_forget(s, p);
                retry_waiting(c);
            }
        } else {
            pod_assume(s, key, obj, node);
        }
    } else if (is_pending(obj)) {
        ctrl_enqueue(c, key);
    }
}

/* ---- filters ---------------------------------------------------------- */

enum reason {
    R_NOT_READY, R_UNSCHEDULABLE, R_AFFINITY, R_TAINT, R_CPU, R_MEMORY,
    R_PODS, R_PORTS, R_POD_AFFINITY, R_POD_ANTI_AFFINITY, R_COUNT
};

static bool resolvable(enum reason r)
{
    /* What evicting lower-priority pods could fix (Kubernetes'
     * Unschedulable vs UnschedulableAndUnresolvable). */
    return r == R_CPU || r == R_MEMORY || r == R_PODS || r == R_PORTS ||
           r == R_POD_ANTI_AFFINITY;
}

/* A NodeSelectorTerm: all its expressions and fields hold. */
static bool term_match(struct snode *n, struct json_object *term)
{
    struct json_object *exprs = ju_arr(term, "matchExpressions");
    struct json_object *fields = ju_arr(term, "matchFields");
    if (ju_len(exprs) == 0 && ju_len(fields) == 0)
        return false;
    for (size_t i = 0; i < ju_len(exprs); i++)
        if (!nodematch_expr(n->labels, NULL, ju_idx_obj(exprs, i)))
            return false;
    for (size_t i = 0; i < ju_len(fields); i++)
        if (!nodematch_expr(NULL, n->name, ju_idx_obj(fields, i)))
            return false;
    return true;
}

static bool affinity_fits(struct snode *n, struct json_object *spec)
{
    struct json_object *sel = ju_obj(spec, "nodeSelector");
    if (sel) {
        json_object_object_foreach(sel, k, v)
        {
            const char *have = ju_str(n->labels, k);
            if (!have || !json_object_is_type(v, json_type_string) ||
                strcmp(have, json_object_get_string(v)) != 0)
                return false;
        }
    }
    struct json_object *req = ju_obj(
        ju_obj(ju_obj(spec, "affinity"), "nodeAffinity"),
        "requiredDuringSchedulingIgnoredDuringExecution");
    struct json_object *terms = ju_arr(req, "nodeSelectorTerms");
    if (!req)
        return true;
    for (size_t i = 0; i < ju_len(terms); i++)
        if (term_match(n, ju_idx_obj(terms, i)))
            return true;
    return false;
}

static bool tolerated(const struct taint *t, struct json_object *tols)
{
    return nodematch_tolerates(tols, t->key, t->value, t->effect);
}

/* The first hard taint the pod does not tolerate, or NULL. */
static const struct taint *untolerated(struct snode *n, struct json_object *tols)
{
    for (int i = 0; i < n->ntaints; i++) {
        const struct taint *t = &n->taints[i];
        if ((strcmp(t->effect, "NoSchedule") == 0 ||
             strcmp(t->effect, "NoExecute") == 0) &&
            !tolerated(t, tols))
            return t;
    }
    return NULL;
}

static bool ports_free(struct snode *n, const struct port *ports, int np)
{
    for (int i = 0; i < np; i++)
        for (int k = 0; k < n->nports; k++)
            if (n->ports[k].port == ports[i].port &&
                strcmp(n->ports[k].proto, ports[i].proto) == 0)
                return false;
    return true;
}

/* Whether a label selector (matchLabels + matchExpressions) matches. */
static bool selector_match(struct json_object *sel, struct json_object *labels)
{
    if (!sel)
        return false;
    struct json_object *ml = ju_obj(sel, "matchLabels");
    if (ml) {
        json_object_object_foreach(ml, k, v)
        {
            const char *have = ju_str(labels, k);
            if (!have || !json_object_is_type(v, json_type_string) ||
                strcmp(have, json_object_get_string(v)) != 0)
                return false;
        }
    }
    struct json_object *exprs = ju_arr(sel, "matchExpressions");
    for (size_t i = 0; i < ju_len(exprs); i++)
        if (!nodematch_expr(labels, NULL, ju_idx_obj(exprs, i)))
            return false;
    return true;
}

static bool ns_listed(struct json_object *term, const char *pod_ns,
                      const char *ns)
{
    struct json_object *list = ju_arr(term, "namespaces");
    if (ju_len(list) == 0)
        return strcmp(pod_ns, ns) == 0;
    for (size_t i = 0; i < ju_len(list); i++) {
        struct json_object *x = json_object_array_get_idx(list, i);
        if (json_object_is_type(x, json_type_string) &&
            strcmp(json_object_get_string(x), ns) == 0)
            return true;
    }
    return false;
}

/* Required pod (anti-)affinity term: is there a matching pod on a node
 * with the same topology value as n? */
static bool term_satisfied(struct sched *s, struct snode *n,
                           struct json_object *term, const char *pod_ns)
{
    const char *topo = ju_str(term, "topologyKey");
    const char *mine = topo ? ju_str(n->labels, topo) : NULL;
    if (!mine)
        return false;
    struct spod *p;
    RB_FOREACH(p, spods, &s->pods)
    {
        if (!ns_listed(term, pod_ns, p->ns) ||
            !selector_match(ju_obj(term, "labelSelector"), p->labels))
            continue;
        struct snode *pn = node_find(s, p->node);
        const char *theirs = pn ? ju_str(pn->labels, topo) : NULL;
        if (theirs && strcmp(theirs, mine) == 0)
            return true;
    }
    return false;
}

static bool pod_affinity_fits(struct sched *s, struct snode *n,
                              struct json_object *spec, const char *ns,
                              enum reason *why)
{
    struct json_object *aff = ju_obj(spec, "affinity");
    struct json_object *pa = ju_arr(ju_obj(aff, "podAffinity"),
                                    "requiredDuringSchedulingIgnoredDuringExecution");
    for (size_t i = 0; i < ju_len(pa); i++)
        if (!term_satisfied(s, n, ju_idx_obj(pa, i), ns)) {
            *why = R_POD_AFFINITY;
            return false;
        }
    struct json_object *anti = ju_arr(ju_obj(aff, "podAntiAffinity"),
                                      "requiredDuringSchedulingIgnoredDuringExecution");
    for (size_t i = 0; i < ju_len(anti); i++)
        if (term_satisfied(s, n, ju_idx_obj(anti, i), ns)) {
            *why = R_POD_ANTI_AFFINITY;
            return false;
        }
    return true;
}

/* ---- scheduling one pod ----------------------------------------------- */

struct failure {
    int counts[R_COUNT];
    /* untolerated taints are reported per taint text */
    char taints[8][300];
    int taint_counts[8];
    int ntaints;
    int unresolvable_nodes;
};

static void add_taint_reason(struct failure *f, const struct taint *t)
{
    char text[300];
    snprintf(text, sizeof(text), "node(s) had untolerated taint {%s: %s}",
             t->key, t->value);
    for (int i = 0; i < f->ntaints; i++)
        if (strcmp(f->taints[i], text) == 0) {
            f->taint_counts[i]++;
            return;
        }
    if (f->ntaints < 8) {
        snprintf(f->taints[f->ntaints], sizeof(f->taints[0]), "%s", text);
        f->taint_counts[f->ntaints++] = 1;
    }
}

static const char *const reason_text[R_COUNT] = {
    [R_NOT_READY] = "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
    [R_UNSCHEDULABLE] = "node(s) were unschedulable",
    [R_AFFINITY] = "node(s) didn't match Pod's node affinity/selector",
    [R_TAINT] = "",
    [R_CPU] = "Insufficient cpu",
    [R_MEMORY] = "Insufficient memory",
    [R_PODS] = "Too many pods",
    [R_PORTS] = "node(s) didn't have free ports for the requested pod ports",
    [R_POD_AFFINITY] = "node(s) didn't match pod affinity rules",
    [R_POD_ANTI_AFFINITY] = "node(s) didn't match pod anti-affinity rules",
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Kubernetes' FitError text. */
static void failure_message(struct sched *s, struct failure *f, char *out,
                            size_t len)
{
    if (s->nnodes == 0) {
        snprintf(out, len, "no nodes available to schedule pods");
        return;
    }
    char *items[R_COUNT + 8];
    int n = 0;
    for (int r = 0; r < R_COUNT; r++) {
        if (!f->counts[r] || r == R_TAINT)
            continue;
        char buf[400];
        snprintf(buf, sizeof(buf), "%d %s", f->counts[r], reason_text[r]);
        items[n++] = strdup(buf);
    }
    for (int i = 0; i < f->ntaints; i++) {
        char buf[400];
        snprintf(buf, sizeof(buf), "%d %s", f->taint_counts[i], f->taints[i]);
        items[n++] = strdup(buf);
    }
    qsort(items, (size_t)n, sizeof(char *), cmp_str);
    int w = snprintf(out, len, "0/%d nodes are available: ", s->nnodes);
    for (int i = 0; i < n; i++) {
        if (items[i] && w >= 0 && (size_t)w < len)
            w += snprintf(out + w, len - (size_t)w, "%s%s", i ? ", " : "",
                          items[i]);
        free(items[i]);
    }
    int resolvable_nodes = s->nnodes - f->unresolvable_nodes;
    if (w >= 0 && (size_t)w < len) {
        w += snprintf(out + w, len - (size_t)w, ". preemption: 0/%d nodes are "
                                                "available: ",
                      s->nnodes);
        if (f->unresolvable_nodes && resolvable_nodes && (size_t)w < len)
            w += snprintf(out + w, len - (size_t)w,
                          "%d No preemption victims found for incoming pod, "
                          "%d Preemption is not helpful for scheduling.",
                          resolvable_nodes, f->unresolvable_nodes);
        else if (resolvable_nodes && (size_t)w < len)
            snprintf(out + w, len - (size_t)w,
                     "%d No preemption victims found for incoming pod.",
                     resolvable_nodes);
        else if ((size_t)w < len)
            snprintf(out + w, len - (size_t)w,
                     "%d Preemption is not helpful for scheduling.",
                     f->unresolvable_nodes);
    }
}

static int preferred_score(struct snode *n, struct json_object *spec)
{
    struct json_object *pref = ju_arr(
        ju_obj(ju_obj(spec, "affinity"), "nodeAffinity"),
        "preferredDuringSchedulingIgnoredDuringExecution");
    int score = 0;
    for (size_t i = 0; i < ju_len(pref); i++) {
        struct json_object *p = ju_idx_obj(pref, i);
        int64_t weight = 0;
        ju_int(p, "weight", &weight);
        if (term_match(n, ju_obj(p, "preference")))
            score += (int)weight;
    }
    return score;
}

/* Sets PodScheduled=False with the message, unless it already says so. */
static void mark_unschedulable(struct ctrl *c, struct json_object *pod,
                               const char *msg)
{
    struct sched *s = ctrl_state(c);
    struct json_object *md = ju_obj(pod, "metadata");
    struct json_object *conds = ju_arr(ju_obj(pod, "status"), "conditions");
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *cd = ju_idx_obj(conds, i);
        const char *t = ju_str(cd, "type"), *m = ju_str(cd, "message");
        if (t && strcmp(t, "PodScheduled") == 0 && m && strcmp(m, msg) == 0)
            return;
    }
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct json_object *patch = json_object_new_object();
    struct json_object *st = ju_obj_ensure(patch, "status");
    struct json_object *list = json_object_new_array();
    bool replaced = false;
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *cd = ju_idx_obj(conds, i);
        const char *t = ju_str(cd, "type");
        if (t && strcmp(t, "PodScheduled") == 0) {
            replaced = true;
            continue;
        }
        json_object_array_add(list, json_object_get(cd));
    }
    (void)replaced;
    struct json_object *cd = json_object_new_object();
    ju_set_str(cd, "type", "PodScheduled");
    ju_set_str(cd, "status", "False");
    ju_set_str(cd, "reason", "Unschedulable");
    ju_set_str(cd, "message", msg);
    ju_set_str(cd, "lastTransitionTime", ts);
    json_object_array_add(list, cd);
    json_object_object_add(st, "conditions", list);
    const char *text = json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN);
    ctrl_patch(c, s->pods_rt, ju_str(md, "namespace"), ju_str(md, "name"),
               "status", "application/merge-patch+json", text, NULL);
    json_object_put(patch);
}

static void sync_pod(struct ctrl *c, const char *key)
{
    struct sched *s = ctrl_state(c);
    struct json_object *pod = ctrl_get_key(c, s->pods_rt, key, NULL);
    if (!pod) {
        wait_forget(s, key);
        return;
    }
    if (!is_pending(pod)) {
        json_object_put(pod);
        return;
    }
    struct json_object *spec = ju_obj(pod, "spec");
    struct json_object *md = ju_obj(pod, "metadata");
    const char *ns = ju_str(md, "namespace") ? ju_str(md, "namespace") : "";
    int64_t cpu, mem;
    pod_requests(spec, &cpu, &mem);
    struct port ports[SCHED_MAX_PORTS];
    int nports = pod_ports(spec, ports, SCHED_MAX_PORTS);
    struct json_object *tols = ju_arr(spec, "tolerations");
    struct json_object *ref = ctrl_controller_ref(pod);
    const char *owner = ref ? ju_str(ref, "uid") : NULL;
    bool has_pod_affinity = ju_obj(ju_obj(spec, "affinity"), "podAffinity") ||
                            ju_obj(ju_obj(spec, "affinity"), "podAntiAffinity");
    bool has_node_affinity = ju_obj(spec, "nodeSelector") ||
                             ju_obj(ju_obj(spec, "affinity"), "nodeAffinity");
    bool has_preferred = ju_obj(ju_obj(spec, "affinity"), "nodeAffinity") != NULL;
    unsigned gen = owner ? spread_gather(s, owner) : 0;

    struct failure f;
    memset(&f, 0, sizeof(f));
    struct snode *best = NULL;
    double best_score = -1e18;
    int ties = 0;
    struct snode *n;
    RB_FOREACH(n, snodes, &s->nodes)
    {
        enum reason why = R_COUNT;
        const struct taint *t = NULL;
        bool unresolvable = true;
        if (!n->ready) {
            why = R_NOT_READY;
        } else if (n->unschedulable) {
            why = R_UNSCHEDULABLE;
        } else if (has_node_affinity && !affinity_fits(n, spec)) {
            why = R_AFFINITY;
        } else if ((t = untolerated(n, tols))) {
            why = R_TAINT;
        } else {
            unresolvable = false;
            bool fails = false;
            if (n->pods + 1 > n->alloc_pods) {
                f.counts[R_PODS]++;
                fails = true;
            }
            if (cpu && n->req_cpu + cpu > n->alloc_cpu) {
                f.counts[R_CPU]++;
                fails = true;
            }
            if (mem && n->req_mem + mem > n->alloc_mem) {
                f.counts[R_MEMORY]++;
                fails = true;
            }
            if (!ports_free(n, ports, nports)) {
                f.counts[R_PORTS]++;
                fails = true;
            }
            if (!fails && has_pod_affinity &&
                !pod_affinity_fits(s, n, spec, ns, &why)) {
                f.counts[why]++;
                if (!resolvable(why))
                    f.unresolvable_nodes++;
                fails = true;
            }
            if (fails)
                continue;
        }
        if (why != R_COUNT) {
            if (why == R_TAINT)
                add_taint_reason(&f, t);
            else
                f.counts[why]++;
            if (unresolvable)
                f.unresolvable_nodes++;
            continue;
        }
        /* Score: least requested (0..100) + preferred affinity +
         * spreading of the pod's controller - PreferNoSchedule. */
        double least = 0;
        if (n->alloc_cpu > 0)
            least += 50.0 * (double)(n->alloc_cpu - n->req_cpu - cpu) /
                     (double)n->alloc_cpu;
        if (n->alloc_mem > 0)
            least += 50.0 * (double)(n->alloc_mem - n->req_mem - mem) /
                     (double)n->alloc_mem;
        if (n->alloc_pods > 0)
            least += 10.0 * (double)(n->alloc_pods - n->pods) /
                     (double)n->alloc_pods;
        double score = least;
        if (has_preferred)
            score += preferred_score(n, spec);
        if (owner && n->spread_gen == gen)
            score -= 100.0 * n->spread_count;
        for (int i = 0; i < n->ntaints; i++)
            if (strcmp(n->taints[i].effect, "PreferNoSchedule") == 0 &&
                !tolerated(&n->taints[i], tols))
                score -= 20;
        if (score > best_score + 1e-9) {
            best = n;
            best_score = score;
            ties = 1;
        } else if (score > best_score - 1e-9 && (++ties, rand() % ties == 0)) {
            best = n; /* uniform among equals */
        }
    }
    const char *name = ju_str(md, "name");
    if (!best) {
        char msg[2048];
        failure_message(s, &f, msg, sizeof(msg));
        struct waiting *w = wait_find(s, key);
        if (!w) {
            size_t klen = strlen(key);
            w = calloc(1, sizeof(*w) + klen + 1);
            if (w) {
                memcpy(w->key, key, klen + 1);
                RB_INSERT(waits, &s->waiting, w);
            }
        }
        if (w && (!w->message || strcmp(w->message, msg) != 0)) {
            free(w->message);
            w->message = strdup(msg);
            ctrl_eventf(c, s->pods_rt, pod, "Warning", "FailedScheduling",
                        "%s", msg);
            mark_unschedulable(c, pod, msg);
        }
        ctrl_enqueue_after(c, key, SCHED_RETRY_MS);
        json_object_put(pod);
        return;
    }
    struct json_object *b = json_object_new_object();
    ju_set_str(b, "apiVersion", "v1");
    ju_set_str(b, "kind", "Binding");
    struct json_object *bmd = ju_obj_ensure(b, "metadata");
    ju_set_str(bmd, "name", name);
    ju_set_str(bmd, "namespace", ns);
    if (ju_str(md, "uid"))
        ju_set_str(bmd, "uid", ju_str(md, "uid"));
    struct json_object *target = ju_obj_ensure(b, "target");
    ju_set_str(target, "apiVersion", "v1");
    ju_set_str(target, "kind", "Node");
    ju_set_str(target, "name", best->name);
    char path[700];
    ctrl_path(s->pods_rt, ns, name, "binding", path, sizeof(path));
    int code = ctrl_call(c, "POST", path, NULL, b, NULL);
    json_object_put(b);
    if (code == 201) {
        wait_forget(s, key);
        pod_assume(s, key, pod, best->name);
        ctrl_eventf(c, s->pods_rt, pod, "Normal", "Scheduled",
                    "Successfully assigned %s/%s to %s", ns, name, best->name);
    } else if (code != 409 && code != 404) {
        ctrl_enqueue_after(c, key, 1000);
    }
    json_object_put(pod);
}

static void on_retry_all(struct ctrl *c, struct ctrl_event *ev)
{
    /* a namespace change: nothing to do (kept for symmetry) */
}

static int init(struct ctrl *c)
{
    struct sched *s = ctrl_state(c);
    RB_INIT(&s->nodes);
    RB_INIT(&s->pods);
    RB_INIT(&s->spreads);
    RB_INIT(&s->waiting);
    s->pods_rt = ctrl_rt("", "pods");
    s->nodes_rt = ctrl_rt("", "nodes");
    (void)on_retry_all;
    int rc = ctrl_watch(c, s->nodes_rt, on_node);
    return rc ? rc : ctrl_watch(c, s->pods_rt, on_pod);
}

static void fini(struct ctrl *c)
{
    struct sched *s = ctrl_state(c);
    struct spod *p, *pn;
    RB_FOREACH_SAFE(p, spods, &s->pods, pn)
    pod_forget(s, p);
    struct snode *n, *nn;
    RB_FOREACH_SAFE(n, snodes, &s->nodes, nn)
    node_delete(s, n->name);
    struct spread *sp, *spn;
    RB_FOREACH_SAFE(sp, spreads, &s->spreads, spn)
    {
        RB_REMOVE(spreads, &s->spreads, sp);
        free(sp->node);
        free(sp);
    }
    struct waiting *w, *wn;
    RB_FOREACH_SAFE(w, waits, &s->waiting, wn)
    wait_forget(s, w->key);
}

const struct ctrl_def ctrl_scheduler_def = {
    .name = SCHED_NAME,
    .user = "system:kube-scheduler",
    .state_size = sizeof(struct sched),
    .init = init,
    .sync = sync_pod,
    .fini = fini,
};
