/*
 * The node graph: pods bound to nodes, what they reference, and reference
 * counts per (node, referenced object), in ordered trees of string pairs.
 */
#include "cloudhub/graph.h"
#include "resources/jsonutil.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>

#define KEY_MAX 600

/* (a, b) with a count: node -> pod, node -> referenced key, referenced
 * key -> node. */
struct pair {
    RB_ENTRY(pair) link;
    int count;
    char *b;
    char a[];
};

static int pair_cmp(struct pair *x, struct pair *y)
{
    int c = strcmp(x->a, y->a);
    return c ? c : strcmp(x->b, y->b);
}

RB_HEAD(pairs, pair);
RB_GENERATE_STATIC(pairs, pair, link, pair_cmp)

/* A pod bound to a node, with what it references. */
struct pod {
    RB_ENTRY(pod) link;
    char *node;
    char **refs;
    int nrefs;
    char key[];
};

static int pod_cmp(struct pod *x, struct pod *y) { return strcmp(x->key, y->key); }

RB_HEAD(pods, pod);
RB_GENERATE_STATIC(pods, pod, link, pod_cmp)

struct graph {
    struct pods pods;
    struct pairs node_pods;   /* node -> pod key */
    struct pairs node_refs;   /* node -> referenced key (count) */
    struct pairs ref_nodes;   /* referenced key -> node (count) */
};

struct graph *graph_new(void)
{
    struct graph *g = calloc(1, sizeof(*g));
    if (g) {
        RB_INIT(&g->pods);
        RB_INIT(&g->node_pods);
        RB_INIT(&g->node_refs);
        RB_INIT(&g->ref_nodes);
    }
    return g;
}

static void pairs_free(struct pairs *t)
{
    struct pair *p, *n;
    RB_FOREACH_SAFE(p, pairs, t, n)
    {
        RB_REMOVE(pairs, t, p);
        free(p);
    }
}

static void pod_free(struct pod *p)
{
    for (int i = 0; i < p->nrefs; i++)
        free(p->refs[i]);
    free(p->refs);
    free(p->node);
    free(p);
}

void graph_free(struct graph *g)
{
    if (!g)
        return;
    struct pod *p, *n;
    RB_FOREACH_SAFE(p, pods, &g->pods, n)
    {
        RB_REMOVE(pods, &g->pods, p);
        pod_free(p);
    }
    pairs_free(&g->node_pods);
    pairs_free(&g->node_refs);
    pairs_free(&g->ref_nodes);
    free(g);
}

/* ---- pairs ------------------------------------------------------------ */

static struct pair *pair_find(const struct pairs *t, const char *a,
                              const char *b)
{
    size_t n = strlen(a);
    struct pair *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    memcpy(q->a, a, n + 1);
    q->b = (char *)b;
    struct pair *p = RB_FIND(pairs, (struct pairs *)t, q);
    free(q);
    return p;
}

/* Adds delta to the count of (a, b); returns the new count. */
static int pair_add(struct pairs *t, const char *a, const char *b, int delta)
{
    struct pair *p = pair_find(t, a, b);
    if (!p) {
        if (delta <= 0)
            return 0;
        size_t na = strlen(a), nb = strlen(b);
        p = calloc(1, sizeof(*p) + na + 1 + nb + 1);
        if (!p)
            return 0;
        memcpy(p->a, a, na + 1);
        p->b = p->a + na + 1;
        memcpy(p->b, b, nb + 1);
        RB_INSERT(pairs, t, p);
    }
    p->count += delta;
    int c = p->count;
    if (c <= 0) {
        RB_REMOVE(pairs, t, p);
        free(p);
    }
    return c;
}

/* Calls fn(b) for every pair (a, *). Collected first: fn may change t. */
static void pairs_each(const struct pairs *t, const char *a,
                       void (*fn)(void *arg, const char *b), void *arg)
{
    size_t n = strlen(a);
    struct pair *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return;
    memcpy(q->a, a, n + 1);
    q->b = "";
    char **list = NULL;
    int cnt = 0, cap = 0;
    for (struct pair *p = RB_NFIND(pairs, (struct pairs *)t, q);
         p && strcmp(p->a, a) == 0; p = RB_NEXT(pairs, (struct pairs *)t, p)) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            char **nl = realloc(list, (size_t)cap * sizeof(char *));
            if (!nl)
                break;
            list = nl;
        }
        list[cnt++] = strdup(p->b);
    }
    free(q);
    for (int i = 0; i < cnt; i++) {
        if (list[i])
            fn(arg, list[i]);
        free(list[i]);
    }
    free(list);
}

/* ---- pods ------------------------------------------------------------- */

static struct pod *pod_find(const struct graph *g, const char *key)
{
    size_t n = strlen(key);
    struct pod *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    memcpy(q->key, key, n + 1);
    struct pod *p = RB_FIND(pods, (struct pods *)&g->pods, q);
    free(q);
    return p;
}

struct refs {
    char **keys;
    int n, cap;
};

static void refs_add(void *arg, const char *key)
{
    struct refs *r = arg;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->keys[i], key) == 0)
            return;
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 8;
        char **k = realloc(r->keys, (size_t)cap * sizeof(char *));
        if (!k)
            return;
        r->keys = k;
        r->cap = cap;
    }
    char *s = strdup(key);
    if (s)
        r->keys[r->n++] = s;
}

static void ref_name(void (*fn)(void *, const char *), void *arg,
                     const char *ns, const char *resource, const char *name)
{
    char key[KEY_MAX];
    if (!name || !name[0])
        return;
    int n = snprintf(key, sizeof(key), "/registry/core/%s/%s/%s", resource, ns,
                     name);
    if (n > 0 && (size_t)n < sizeof(key))
        fn(arg, key);
}

static void container_refs(struct json_object *list, const char *ns,
                           void (*fn)(void *, const char *), void *arg)
{
    for (size_t i = 0; i < ju_len(list); i++) {
        struct json_object *c = ju_idx_obj(list, i);
        struct json_object *env = ju_arr(c, "env");
        for (size_t k = 0; k < ju_len(env); k++) {
            struct json_object *vf = ju_obj(ju_idx_obj(env, k), "valueFrom");
            ref_name(fn, arg, ns, "configmaps",
                     ju_str(ju_obj(vf, "configMapKeyRef"), "name"));
            ref_name(fn, arg, ns, "secrets",
                     ju_str(ju_obj(vf, "secretKeyRef"), "name"));
        }
        struct json_object *from = ju_arr(c, "envFrom");
        for (size_t k = 0; k < ju_len(from); k++) {
            struct json_object *f = ju_idx_obj(from, k);
            ref_name(fn, arg, ns, "configmaps",
                     ju_str(ju_obj(f, "configMapRef"), "name"));
            ref_name(fn, arg, ns, "secrets",
                     ju_str(ju_obj(f, "secretRef"), "name"));
        }
    }
}

void graph_pod_refs(const char *ns, struct json_object *pod,
                    void (*fn)(void *arg, const char *key), void *arg)
{
    struct json_object *spec = ju_obj(pod, "spec");
    struct json_object *vols = ju_arr(spec, "volumes");
    for (size_t i = 0; i < ju_len(vols); i++) {
        struct json_object *v = ju_idx_obj(vols, i);
        ref_name(fn, arg, ns, "configmaps", ju_str(ju_obj(v, "configMap"), "name"));
        ref_name(fn, arg, ns, "secrets", ju_str(ju_obj(v, "secret"), "secretName"));
        struct json_object *srcs = ju_arr(ju_obj(v, "projected"), "sources");
        for (size_t k = 0; k < ju_len(srcs); k++) {
            struct json_object *s = ju_idx_obj(srcs, k);
            ref_name(fn, arg, ns, "configmaps",
                     ju_str(ju_obj(s, "configMap"), "name"));
            ref_name(fn, arg, ns, "secrets", ju_str(ju_obj(s, "secret"), "name"));
        }
    }
    container_refs(ju_arr(spec, "initContainers"), ns, fn, arg);
    container_refs(ju_arr(spec, "containers"), ns, fn, arg);
    container_refs(ju_arr(spec, "ephemeralContainers"), ns, fn, arg);
    struct json_object *pulls = ju_arr(spec, "imagePullSecrets");
    for (size_t i = 0; i < ju_len(pulls); i++)
        ref_name(fn, arg, ns, "secrets", ju_str(ju_idx_obj(pulls, i), "name"));
    const char *sa = ju_str(spec, "serviceAccountName");
    ref_name(fn, arg, ns, "serviceaccounts", sa && sa[0] ? sa : "default");
    /* Its namespace, so the edge's local API lists it. */
    char key[KEY_MAX];
    int n = snprintf(key, sizeof(key), "/registry/core/namespaces/%s", ns);
    if (n > 0 && (size_t)n < sizeof(key))
        fn(arg, key);
}

static struct json_object *parse(const struct store_value *v)
{
    if (!v)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = tok ? json_tokener_parse_ex(tok, v->data, (int)v->len)
                                : NULL;
    if (tok && json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

void graph_pod_node(const struct store_value *v, char *out, size_t len)
{
    out[0] = 0;
    /* Cheap test first: most pod values of other nodes still parse, but
     * an unbound pod has no nodeName at all. */
    if (!v || !memmem(v->data, v->len, "\"nodeName\"", 10))
        return;
    struct json_object *o = parse(v);
    const char *n = ju_str(ju_obj(o, "spec"), "nodeName");
    snprintf(out, len, "%s", n ? n : "");
    json_object_put(o);
}

/* ---- applying changes ------------------------------------------------- */

struct emitter {
    graph_emit_fn fn;
    void *arg;
};

/* Adds (delta +1) or drops (-1) node's reference to key, emitting when
 * the key enters or leaves the node's set. */
static void ref_change(struct graph *g, const struct emitter *em,
                       const char *node, const char *key, int delta)
{
    int c = pair_add(&g->node_refs, node, key, delta);
    pair_add(&g->ref_nodes, key, node, delta);
    if (delta > 0 && c == 1)
        em->fn(em->arg, node, GRAPH_PUT, key);
    else if (delta < 0 && c == 0)
        em->fn(em->arg, node, GRAPH_DELETE, key);
}

static void pod_remove(struct graph *g, struct pod *p, const struct emitter *em,
                       bool emit_pod)
{
    RB_REMOVE(pods, &g->pods, p);
    pair_add(&g->node_pods, p->node, p->key, -1);
    if (emit_pod)
        em->fn(em->arg, p->node, GRAPH_DELETE, p->key);
    for (int i = 0; i < p->nrefs; i++)
        ref_change(g, em, p->node, p->refs[i], -1);
    pod_free(p);
}

/* The namespace part of a pod key /registry/core/pods/<ns>/<name>. */
static void key_ns(const char *key, char *out, size_t len)
{
    const char *s = key + strlen("/registry/core/pods/");
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : 0;
    snprintf(out, len, "%.*s", (int)n, s);
}

static void apply_pod(struct graph *g, const struct store_event *ev,
                      const struct emitter *em)
{
    struct pod *old = pod_find(g, ev->key);
    struct json_object *obj = NULL;
    const char *node = NULL;
    if (ev->type != STORE_DELETE) {
        obj = parse(ev->value);
        node = ju_str(ju_obj(obj, "spec"), "nodeName");
        if (node && !node[0])
            node = NULL;
    }
    if (!node) {
        if (old)
            pod_remove(g, old, em, true);
        json_object_put(obj);
        return;
    }
    char ns[256];
    key_ns(ev->key, ns, sizeof(ns));
    struct refs now = {0};
    graph_pod_refs(ns, obj, refs_add, &now);
    char *node_copy = strdup(node); /* node points into obj */
    json_object_put(obj);
    size_t klen = strlen(ev->key);
    struct pod *p = calloc(1, sizeof(*p) + klen + 1);
    if (!p || !node_copy) {
        free(p);
        free(node_copy);
        for (int i = 0; i < now.n; i++)
            free(now.keys[i]);
        free(now.keys);
        return;
    }
    memcpy(p->key, ev->key, klen + 1);
    p->node = node_copy;
    p->refs = now.keys;
    p->nrefs = now.n;
    /* New references first, so the edge has them before the pod. */
    for (int i = 0; i < p->nrefs; i++)
        ref_change(g, em, p->node, p->refs[i], +1);
    bool moved = old && strcmp(old->node, p->node) != 0;
    if (old)
        pod_remove(g, old, em, moved);
    RB_INSERT(pods, &g->pods, p);
    pair_add(&g->node_pods, p->node, p->key, +1);
    em->fn(em->arg, p->node, GRAPH_PUT, p->key);
}

struct ref_route {
    const struct emitter *em;
    const char *key;
    enum graph_op op;
};

static void route_ref(void *arg, const char *node)
{
    struct ref_route *r = arg;
    r->em->fn(r->em->arg, node, r->op, r->key);
}

void graph_apply(struct graph *g, const struct store_event *ev,
                 graph_emit_fn emit, void *arg)
{
    struct emitter em = {emit, arg};
    static const char nodes[] = "/registry/core/nodes/";
    static const char pods[] = "/registry/core/pods/";
    if (strncmp(ev->key, nodes, sizeof(nodes) - 1) == 0) {
        emit(arg, ev->key + sizeof(nodes) - 1,
             ev->type == STORE_DELETE ? GRAPH_DELETE : GRAPH_PUT, ev->key);
    } else if (strncmp(ev->key, pods, sizeof(pods) - 1) == 0) {
        apply_pod(g, ev, &em);
    } else if (strncmp(ev->key, "/registry/core/configmaps/", 26) == 0 ||
               strncmp(ev->key, "/registry/core/secrets/", 23) == 0 ||
               strncmp(ev->key, "/registry/core/serviceaccounts/", 31) == 0 ||
               strncmp(ev->key, "/registry/core/namespaces/", 26) == 0) {
        /* Referenced objects follow their references: a delete here is a
         * delete on every node referencing them, a re-create a put. */
        struct ref_route r = {&em, ev->key,
                              ev->type == STORE_DELETE ? GRAPH_DELETE
                                                       : GRAPH_PUT};
        pairs_each(&g->ref_nodes, ev->key, route_ref, &r);
    }
}

bool graph_has(const struct graph *g, const char *node, const char *key)
{
    static const char nodes[] = "/registry/core/nodes/";
    if (strncmp(key, nodes, sizeof(nodes) - 1) == 0)
        return strcmp(key + sizeof(nodes) - 1, node) == 0;
    return pair_find(&g->node_pods, node, key) ||
           pair_find(&g->node_refs, node, key);
}

void graph_keys(const struct graph *g, const char *node,
                void (*fn)(void *arg, const char *key), void *arg)
{
    char key[KEY_MAX];
    snprintf(key, sizeof(key), "/registry/core/nodes/%s", node);
    fn(arg, key);
    pairs_each(&g->node_refs, node, fn, arg);
    pairs_each(&g->node_pods, node, fn, arg);
}
