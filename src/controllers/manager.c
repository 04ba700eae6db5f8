/*
 * The controller manager: one store watch fanned out to the controllers'
 * handlers, an index of ownerReferences, per-controller work queues run
 * from an idle handle, and in-process writes through the API.
 */
#include "controllers/ctrl.h"
#include "controllers/recorder.h"
#include "util/errors.h"
#include "util/log.h"

/* libbsd's tree.h marks its generated functions __unused, which glibc
 * does not define. */
#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

/* Syncs run per turn of the loop, per controller, so requests keep being
 * served while a controller has a long queue. */
#define CTRL_BATCH 64

/* Every controller, in start order. */
static const struct ctrl_def *const controllers[] = {
    &ctrl_eventttl_def,
    &ctrl_replicaset_def,
    &ctrl_deployment_def,
    &ctrl_gc_def,
    &ctrl_serviceaccount_def,
    &ctrl_endpoints_def,
    &ctrl_scheduler_def,
    &ctrl_job_def,
    &ctrl_daemonset_def,
    &ctrl_nodelifecycle_def,
    NULL,
};

/* ---- the work queue --------------------------------------------------- */

struct qitem {
    RB_ENTRY(qitem) by_key;
    RB_ENTRY(qitem) by_due;
    TAILQ_ENTRY(qitem) fifo;
    bool queued;           /* in fifo */
    uint64_t due;          /* in the delayed tree when !queued */
    uint64_t seq;          /* tie-break for equal due times */
    char key[];
};

static int qitem_key_cmp(struct qitem *a, struct qitem *b)
{
    return strcmp(a->key, b->key);
}

static int qitem_due_cmp(struct qitem *a, struct qitem *b)
{
    if (a->due != b->due)
        return a->due < b->due ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

RB_HEAD(qkeys, qitem);
RB_HEAD(qdue, qitem);
RB_GENERATE_STATIC(qkeys, qitem, by_key, qitem_key_cmp)
RB_GENERATE_STATIC(qdue, qitem, by_due, qitem_due_cmp)
TAILQ_HEAD(qfifo, qitem);

struct ctrl {
    const struct ctrl_def *def;
    struct ctrl_mgr *mgr;
    void *state;
    struct qkeys keys;
    struct qdue delayed;
    struct qfifo fifo;
    uint64_t seq;
    uv_timer_t timer;      /* fires at the earliest delayed item */
    uint64_t timer_due;    /* 0 = not armed */
};

/* ---- the ownerReferences index ---------------------------------------- */

/* One live object: its uid, where it is stored, whom it names as owner. */
struct uid_entry {
    RB_ENTRY(uid_entry) link;
    const struct resource_type *rt;
    char *key;
    char **owners;
    int nowners;
    char uid[];
};

/* owner uid -> dependent uid (both owned by the strings in the entries). */
struct dep_edge {
    RB_ENTRY(dep_edge) link;
    char *owner;
    char *dep;
};

static int uid_cmp(struct uid_entry *a, struct uid_entry *b)
{
    return strcmp(a->uid, b->uid);
}

static int edge_cmp(struct dep_edge *a, struct dep_edge *b)
{
    int c = strcmp(a->owner, b->owner);
    return c ? c : strcmp(a->dep, b->dep);
}

RB_HEAD(uids, uid_entry);
RB_HEAD(edges, dep_edge);
RB_GENERATE_STATIC(uids, uid_entry, link, uid_cmp)
RB_GENERATE_STATIC(edges, dep_edge, link, edge_cmp)

/* ---- the manager ------------------------------------------------------ */

struct sub {
    struct ctrl *c;
    ctrl_handler fn;
    struct sub *next;
};

struct ctrl_mgr {
    uv_loop_t *loop;
    struct store *st;
    struct apiserver *api;
    struct ctrl_mgr_config cfg;
    struct ctrl **ctrls;
    int nctrls;
    struct sub **subs;           /* per index of resource_types[] */
    int ntypes;
    struct store_watch *watch;
    struct uids uids;
    struct edges edges;
    uv_idle_t idle;
    bool idle_on;
    int open_handles;            /* closed asynchronously at stop */
    bool stopping;
    struct recorder *rec;        /* event aggregation (recorder.c) */
};

struct recorder **ctrl_recorder_slot(struct ctrl *c)
{
    return &c->mgr->rec;
}

struct ctrl_event {
    enum store_event_type type;
    const char *key;
    int64_t rev;
    const struct resource_type *rt;
    struct store_value *value, *prev;
    struct json_object *obj, *old;
    bool obj_done, old_done;
    bool initial;
};

bool ctrl_event_initial(const struct ctrl_event *ev) { return ev->initial; }

void *ctrl_state(struct ctrl *c) { return c->state; }
const struct ctrl_mgr_config *ctrl_config(struct ctrl *c) { return &c->mgr->cfg; }
uv_loop_t *ctrl_loop(struct ctrl *c) { return c->mgr->loop; }
const char *ctrl_name(struct ctrl *c) { return c->def->name; }

enum store_event_type ctrl_event_type(const struct ctrl_event *ev) { return ev->type; }
const char *ctrl_event_key(const struct ctrl_event *ev) { return ev->key; }
int64_t ctrl_event_rev(const struct ctrl_event *ev) { return ev->rev; }
const struct resource_type *ctrl_event_rt(const struct ctrl_event *ev) { return ev->rt; }

static struct json_object *parse_value(const struct store_value *v)
{
    if (!v)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    struct json_object *o = json_tokener_parse_ex(tok, v->data, (int)v->len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

struct json_object *ctrl_event_obj(struct ctrl_event *ev)
{
    if (!ev->obj_done) {
        ev->obj = parse_value(ev->value);
        ev->obj_done = true;
    }
    return ev->obj;
}

struct json_object *ctrl_event_old(struct ctrl_event *ev)
{
    if (!ev->old_done) {
        ev->old = parse_value(ev->prev);
        ev->old_done = true;
    }
    return ev->old;
}

/* ---- resource types and keys ------------------------------------------ */

static int type_index(const struct resource_type *rt)
{
    for (int i = 0; resource_types[i]->resource; i++)
        if (resource_types[i] == rt)
            return i;
    return -1;
}

const struct resource_type *ctrl_rt(const char *group, const char *resource)
{
    for (int i = 0; resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (!rt->storage && strcmp(rt->group, group) == 0 &&
            strcmp(rt->resource, resource) == 0)
            return rt;
    }
    return NULL;
}

const struct resource_type *ctrl_rt_of_key(const char *key)
{
    static const char pfx[] = "/registry/";
    if (strncmp(key, pfx, sizeof(pfx) - 1) != 0)
        return NULL;
    const char *g = key + sizeof(pfx) - 1;
    const char *gs = strchr(g, '/');
    if (!gs)
        return NULL;
    const char *r = gs + 1;
    const char *rs = strchr(r, '/');
    if (!rs)
        return NULL;
    char group[128], res[128];
    size_t gl = (size_t)(gs - g), rl = (size_t)(rs - r);
    if (gl >= sizeof(group) || rl >= sizeof(res))
        return NULL;
    memcpy(group, g, gl);
    group[gl] = 0;
    memcpy(res, r, rl);
    res[rl] = 0;
    return ctrl_rt(strcmp(group, "core") == 0 ? "" : group, res);
}

static const char *group_dir(const struct resource_type *rt)
{
    return rt->group[0] ? rt->group : "core";
}

int ctrl_key(const struct resource_type *rt, const char *ns, const char *name,
             char *out, size_t len)
{
    if (rt->storage)
        rt = rt->storage;
    int n = rt->namespaced
                ? snprintf(out, len, "/registry/%s/%s/%s/%s", group_dir(rt),
                           rt->resource, ns ? ns : "", name)
                : snprintf(out, len, "/registry/%s/%s/%s", group_dir(rt),
                           rt->resource, name);
    return n < 0 || (size_t)n >= len ? -KE_TOOBIG : 0;
}

static int collection_prefix(const struct resource_type *rt, const char *ns,
                             char *out, size_t len)
{
    int n = rt->namespaced && ns && ns[0]
                ? snprintf(out, len, "/registry/%s/%s/%s/", group_dir(rt),
                           rt->resource, ns)
                : snprintf(out, len, "/registry/%s/%s/", group_dir(rt),
                           rt->resource);
    return n < 0 || (size_t)n >= len ? -KE_TOOBIG : 0;
}

int ctrl_path(const struct resource_type *rt, const char *ns, const char *name,
              const char *sub, char *out, size_t len)
{
    int n;
    if (rt->group[0])
        n = snprintf(out, len, "/apis/%s/%s", rt->group, rt->version);
    else
        n = snprintf(out, len, "/api/%s", rt->version);
    if (rt->namespaced && ns && ns[0])
        n += snprintf(out + n, len > (size_t)n ? len - (size_t)n : 0,
                      "/namespaces/%s", ns);
    n += snprintf(out + n, len > (size_t)n ? len - (size_t)n : 0, "/%s",
                  rt->resource);
    if (name)
        n += snprintf(out + n, len > (size_t)n ? len - (size_t)n : 0, "/%s",
                      name);
    if (name && sub && sub[0])
        n += snprintf(out + n, len > (size_t)n ? len - (size_t)n : 0, "/%s",
                      sub);
    return (size_t)n >= len ? -KE_TOOBIG : 0;
}

/* ---- the index -------------------------------------------------------- */

static const char *meta_str(struct json_object *obj, const char *field)
{
    struct json_object *md, *v;
    if (!obj || !json_object_object_get_ex(obj, "metadata", &md) ||
        !json_object_object_get_ex(md, field, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *owner_refs(struct json_object *obj)
{
    struct json_object *md, *v;
    if (!obj || !json_object_object_get_ex(obj, "metadata", &md) ||
        !json_object_object_get_ex(md, "ownerReferences", &v) ||
        !json_object_is_type(v, json_type_array))
        return NULL;
    return v;
}

static void edge_add(struct ctrl_mgr *m, char *owner, char *dep)
{
    struct dep_edge *e = calloc(1, sizeof(*e));
    if (!e)
        return;
    e->owner = owner;
    e->dep = dep;
    if (RB_INSERT(edges, &m->edges, e))
        free(e);
}

static void edge_del(struct ctrl_mgr *m, char *owner, char *dep)
{
    struct dep_edge q = {.owner = owner, .dep = dep};
    struct dep_edge *e = RB_FIND(edges, &m->edges, &q);
    if (e) {
        RB_REMOVE(edges, &m->edges, e);
        free(e);
    }
}

static void entry_free(struct ctrl_mgr *m, struct uid_entry *u)
{
    for (int i = 0; i < u->nowners; i++) {
        edge_del(m, u->owners[i], u->uid);
        free(u->owners[i]);
    }
    free(u->owners);
    free(u->key);
    free(u);
}

static void index_remove(struct ctrl_mgr *m, const char *uid)
{
    size_t n = strlen(uid);
    struct uid_entry *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return;
    memcpy(q->uid, uid, n + 1);
    struct uid_entry *u = RB_FIND(uids, &m->uids, q);
    free(q);
    if (u) {
        RB_REMOVE(uids, &m->uids, u);
        entry_free(m, u);
    }
}

static void index_put(struct ctrl_mgr *m, const struct resource_type *rt,
                      const char *key, struct json_object *obj)
{
    const char *uid = meta_str(obj, "uid");
    if (!uid || !uid[0])
        return;
    index_remove(m, uid);
    size_t n = strlen(uid);
    struct uid_entry *u = calloc(1, sizeof(*u) + n + 1);
    if (!u)
        return;
    memcpy(u->uid, uid, n + 1);
    u->rt = rt;
    u->key = strdup(key);
    struct json_object *refs = owner_refs(obj);
    size_t nrefs = refs ? json_object_array_length(refs) : 0;
    if (nrefs)
        u->owners = calloc(nrefs, sizeof(char *));
    for (size_t i = 0; u->owners && i < nrefs; i++) {
        struct json_object *ref = json_object_array_get_idx(refs, i), *v;
        if (!json_object_object_get_ex(ref, "uid", &v) ||
            !json_object_is_type(v, json_type_string))
            continue;
        char *o = strdup(json_object_get_string(v));
        if (!o)
            continue;
        u->owners[u->nowners++] = o;
    }
    RB_INSERT(uids, &m->uids, u);
    for (int i = 0; i < u->nowners; i++)
        edge_add(m, u->owners[i], u->uid);
}

static struct uid_entry *index_find(struct ctrl_mgr *m, const char *uid)
{
    size_t n = strlen(uid);
    struct uid_entry *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    memcpy(q->uid, uid, n + 1);
    struct uid_entry *u = RB_FIND(uids, &m->uids, q);
    free(q);
    return u;
}

/* ---- dispatch --------------------------------------------------------- */

static void dispatch(struct ctrl_mgr *m, struct ctrl_event *ev)
{
    struct json_object *obj = ctrl_event_obj(ev);
    if (obj) {
        if (ev->type == STORE_DELETE) {
            const char *uid = meta_str(obj, "uid");
            struct uid_entry *u = uid ? index_find(m, uid) : NULL;
            /* Only if the entry is this object (not a namesake). */
            if (u && strcmp(u->key, ev->key) == 0)
                index_remove(m, uid);
        } else {
            index_put(m, ev->rt, ev->key, obj);
        }
    }
    int i = type_index(ev->rt);
    for (struct sub *s = i >= 0 ? m->subs[i] : NULL; s; s = s->next)
        s->fn(s->c, ev);
    json_object_put(ev->obj);
    json_object_put(ev->old);
}

static void on_store_event(void *arg, const struct store_event *sev)
{
    struct ctrl_mgr *m = arg;
    const struct resource_type *rt = ctrl_rt_of_key(sev->key);
    if (!rt)
        return;
    struct ctrl_event ev = {.type = sev->type, .key = sev->key,
                            .rev = sev->rev, .rt = rt, .value = sev->value,
                            .prev = sev->prev};
    dispatch(m, &ev);
}

struct initial {
    struct ctrl_mgr *m;
    const struct resource_type *rt;
};

static int initial_one(void *arg, const char *key, struct store_value *v,
                       int64_t rev)
{
    struct initial *in = arg;
    struct ctrl_event ev = {.type = STORE_CREATE, .key = key, .rev = rev,
                            .rt = in->rt, .value = v, .initial = true};
    dispatch(in->m, &ev);
    return 0;
}

int ctrl_watch(struct ctrl *c, const struct resource_type *rt,
               ctrl_handler fn)
{
    if (rt && rt->storage)
        rt = rt->storage;
    int i = rt ? type_index(rt) : -1;
    if (i < 0)
        return -KE_INVALID;
    struct sub *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->c = c;
    s->fn = fn;
    /* Appended, so handlers run in subscription order. */
    struct sub **p = &c->mgr->subs[i];
    while (*p)
        p = &(*p)->next;
    *p = s;
    return 0;
}

/* ---- the queue -------------------------------------------------------- */

static void on_idle(uv_idle_t *h);

static void wake(struct ctrl_mgr *m)
{
    if (!m->idle_on && !m->stopping) {
        uv_idle_start(&m->idle, on_idle);
        m->idle_on = true;
    }
}

static struct qitem *qfind(struct ctrl *c, const char *key)
{
    size_t n = strlen(key);
    struct qitem *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    memcpy(q->key, key, n + 1);
    struct qitem *it = RB_FIND(qkeys, &c->keys, q);
    free(q);
    return it;
}

static struct qitem *qnew(struct ctrl *c, const char *key)
{
    size_t n = strlen(key);
    struct qitem *it = calloc(1, sizeof(*it) + n + 1);
    if (!it)
        return NULL;
    memcpy(it->key, key, n + 1);
    RB_INSERT(qkeys, &c->keys, it);
    return it;
}

void ctrl_enqueue(struct ctrl *c, const char *key)
{
    struct qitem *it = qfind(c, key);
    if (it && it->queued)
        return;
    if (it)
        RB_REMOVE(qdue, &c->delayed, it);
    else if (!(it = qnew(c, key)))
        return;
    it->queued = true;
    TAILQ_INSERT_TAIL(&c->fifo, it, fifo);
    wake(c->mgr);
}

static void on_timer(uv_timer_t *t);

static void arm_timer(struct ctrl *c)
{
    struct qitem *first = RB_MIN(qdue, &c->delayed);
    if (!first) {
        if (c->timer_due)
            uv_timer_stop(&c->timer);
        c->timer_due = 0;
        return;
    }
    if (c->timer_due == first->due)
        return;
    uint64_t now = uv_now(c->mgr->loop);
    c->timer_due = first->due;
    uv_timer_start(&c->timer, on_timer,
                   first->due > now ? first->due - now : 0, 0);
}

static void enqueue_delayed(struct ctrl *c, const char *key,
                            uint64_t delay_ms, bool reset)
{
    if (delay_ms == 0) {
        ctrl_enqueue(c, key);
        return;
    }
    uint64_t due = uv_now(c->mgr->loop) + delay_ms;
    struct qitem *it = qfind(c, key);
    if (it && (it->queued || (!reset && it->due <= due)))
        return;
    if (it)
        RB_REMOVE(qdue, &c->delayed, it);
    else if (!(it = qnew(c, key)))
        return;
    it->due = due;
    it->seq = ++c->seq;
    RB_INSERT(qdue, &c->delayed, it);
    arm_timer(c);
}

void ctrl_enqueue_after(struct ctrl *c, const char *key, uint64_t delay_ms)
{
    enqueue_delayed(c, key, delay_ms, false);
}

void ctrl_enqueue_reset(struct ctrl *c, const char *key, uint64_t delay_ms)
{
    enqueue_delayed(c, key, delay_ms, true);
}

static void on_timer(uv_timer_t *t)
{
    struct ctrl *c = t->data;
    c->timer_due = 0;
    uint64_t now = uv_now(c->mgr->loop);
    struct qitem *it;
    while ((it = RB_MIN(qdue, &c->delayed)) && it->due <= now) {
        RB_REMOVE(qdue, &c->delayed, it);
        it->queued = true;
        TAILQ_INSERT_TAIL(&c->fifo, it, fifo);
        wake(c->mgr);
    }
    arm_timer(c);
}

static void on_idle(uv_idle_t *h)
{
    struct ctrl_mgr *m = h->data;
    bool more = false;
    for (int i = 0; i < m->nctrls && !m->stopping; i++) {
        struct ctrl *c = m->ctrls[i];
        for (int n = 0; n < CTRL_BATCH; n++) {
            struct qitem *it = TAILQ_FIRST(&c->fifo);
            if (!it)
                break;
            TAILQ_REMOVE(&c->fifo, it, fifo);
            RB_REMOVE(qkeys, &c->keys, it);
            /* Unlinked first: the sync may queue the same key again. */
            c->def->sync(c, it->key);
            free(it);
        }
    }
    /* Checked after every controller ran: a later controller's sync may
     * have queued work for an earlier one. */
    for (int i = 0; i < m->nctrls && !m->stopping; i++)
        if (!TAILQ_EMPTY(&m->ctrls[i]->fifo))
            more = true;
    if (!more && m->idle_on) {
        uv_idle_stop(&m->idle);
        m->idle_on = false;
    }
}

/* ---- reading ---------------------------------------------------------- */

struct json_object *ctrl_get_key(struct ctrl *c,
                                 const struct resource_type *rt,
                                 const char *key, int64_t *rev)
{
    struct store_value *v;
    if (store_get(c->mgr->st, key, &v, rev) != 0)
        return NULL;
    struct json_object *o = parse_value(v);
    store_value_unref(v);
    if (o && rt && rt->storage && rt->from_storage)
        rt->from_storage(o);
    return o;
}

struct json_object *ctrl_get(struct ctrl *c, const struct resource_type *rt,
                             const char *ns, const char *name, int64_t *rev)
{
    char key[600];
    if (ctrl_key(rt, ns, name, key, sizeof(key)))
        return NULL;
    return ctrl_get_key(c, rt, key, rev);
}

struct list_ctx {
    const struct resource_type *rt;
    int (*fn)(void *arg, const char *key, struct json_object *obj);
    void *arg;
    int rc;
};

/* Keys are collected first: fn may write, and writes change the store
 * under an iteration. */
struct keylist {
    char **keys;
    int n, cap;
};

static int collect_key(void *arg, const char *key, struct store_value *v,
                       int64_t rev)
{
    struct keylist *kl = arg;
    if (kl->n == kl->cap) {
        int cap = kl->cap ? kl->cap * 2 : 64;
        char **k = realloc(kl->keys, (size_t)cap * sizeof(char *));
        if (!k)
            return -ENOMEM;
        kl->keys = k;
        kl->cap = cap;
    }
    if (!(kl->keys[kl->n] = strdup(key)))
        return -ENOMEM;
    kl->n++;
    return 0;
}

static void keylist_free(struct keylist *kl)
{
    for (int i = 0; i < kl->n; i++)
        free(kl->keys[i]);
    free(kl->keys);
}

int ctrl_list(struct ctrl *c, const struct resource_type *rt, const char *ns,
              int (*fn)(void *arg, const char *key, struct json_object *obj),
              void *arg)
{
    const struct resource_type *srt = rt->storage ? rt->storage : rt;
    char prefix[600];
    if (collection_prefix(srt, ns, prefix, sizeof(prefix)))
        return -KE_TOOBIG;
    struct keylist kl = {0};
    int rc = store_list(c->mgr->st, prefix, NULL, 0, collect_key, &kl, NULL);
    for (int i = 0; rc == 0 && i < kl.n; i++) {
        struct json_object *o = ctrl_get_key(c, rt, kl.keys[i], NULL);
        if (!o)
            continue;
        rc = fn(arg, kl.keys[i], o);
        json_object_put(o);
    }
    keylist_free(&kl);
    return rc;
}

int ctrl_dependents(struct ctrl *c, const char *owner_uid,
                    int (*fn)(void *arg, const struct resource_type *rt,
                              const char *key, struct json_object *obj),
                    void *arg)
{
    struct ctrl_mgr *m = c->mgr;
    struct keylist kl = {0};
    struct dep_edge q = {.owner = (char *)owner_uid, .dep = ""};
    for (struct dep_edge *e = RB_NFIND(edges, &m->edges, &q);
         e && strcmp(e->owner, owner_uid) == 0; e = RB_NEXT(edges, &m->edges, e)) {
        struct uid_entry *u = index_find(m, e->dep);
        if (u && collect_key(&kl, u->key, NULL, 0) != 0)
            break;
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < kl.n; i++) {
        const struct resource_type *rt = ctrl_rt_of_key(kl.keys[i]);
        struct json_object *o = rt ? ctrl_get_key(c, rt, kl.keys[i], NULL)
                                   : NULL;
        if (!o)
            continue;
        rc = fn(arg, rt, kl.keys[i], o);
        json_object_put(o);
    }
    keylist_free(&kl);
    return rc;
}

bool ctrl_uid_lookup(struct ctrl *c, const char *uid,
                     const struct resource_type **rt, char *key,
                     size_t keylen)
{
    struct uid_entry *u = index_find(c->mgr, uid);
    if (!u)
        return false;
    if (rt)
        *rt = u->rt;
    if (key && keylen)
        snprintf(key, keylen, "%s", u->key);
    return true;
}

/* ---- writing ---------------------------------------------------------- */

const char *ctrl_status_message(struct json_object *status)
{
    struct json_object *v;
    if (status && json_object_object_get_ex(status, "message", &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

int ctrl_call(struct ctrl *c, const char *method, const char *path,
              const char *ctype, struct json_object *body,
              struct json_object **out)
{
    size_t len = 0;
    const char *data = NULL;
    if (body)
        data = json_object_to_json_string_length(
            body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    struct apiserver_call call = {
        .method = method, .path = path, .user = c->def->user,
        .groups = "system:masters", .content_type = ctype,
        .body = data, .len = len};
    struct buf ans;
    buf_init(&ans, 0);
    int code = apiserver_call(c->mgr->api, &call, &ans);
    struct json_object *o = NULL;
    if (ans.len) {
        struct json_tokener *tok = json_tokener_new();
        if (tok) {
            o = json_tokener_parse_ex(tok, ans.data, (int)ans.len);
            if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                o = NULL;
            }
            json_tokener_free(tok);
        }
    }
    if (code >= 300 && code != 404 && code != 409)
        log_warn("ctrl", "%s: %s %s: %d %s", c->def->name, method, path, code,
                 ctrl_status_message(o));
    buf_free(&ans);
    if (out)
        *out = o;
    else
        json_object_put(o);
    return code;
}

int ctrl_create(struct ctrl *c, const struct resource_type *rt, const char *ns,
                struct json_object *obj, struct json_object **out)
{
    char path[700];
    if (ctrl_path(rt, ns, NULL, NULL, path, sizeof(path)))
        return 400;
    return ctrl_call(c, "POST", path, NULL, obj, out);
}

int ctrl_update(struct ctrl *c, const struct resource_type *rt,
                struct json_object *obj, const char *sub,
                struct json_object **out)
{
    char path[700];
    const char *name = meta_str(obj, "name");
    if (!name || ctrl_path(rt, meta_str(obj, "namespace"), name, sub, path,
                           sizeof(path)))
        return 400;
    return ctrl_call(c, "PUT", path, NULL, obj, out);
}

int ctrl_patch(struct ctrl *c, const struct resource_type *rt, const char *ns,
               const char *name, const char *sub, const char *ctype,
               const char *patch, struct json_object **out)
{
    char path[700];
    if (ctrl_path(rt, ns, name, sub, path, sizeof(path)))
        return 400;
    struct apiserver_call call = {
        .method = "PATCH", .path = path, .user = c->def->user,
        .groups = "system:masters", .content_type = ctype,
        .body = patch, .len = strlen(patch)};
    struct buf ans;
    buf_init(&ans, 0);
    int code = apiserver_call(c->mgr->api, &call, &ans);
    struct json_object *o = json_tokener_parse(ans.data ? ans.data : "");
    if (code >= 300 && code != 404 && code != 409)
        log_warn("ctrl", "%s: PATCH %s: %d %s", c->def->name, path, code,
                 ctrl_status_message(o));
    buf_free(&ans);
    if (out)
        *out = o;
    else
        json_object_put(o);
    return code;
}

int ctrl_delete(struct ctrl *c, const struct resource_type *rt, const char *ns,
                const char *name, const char *propagation, const char *uid)
{
    char path[700];
    if (ctrl_path(rt, ns, name, NULL, path, sizeof(path)))
        return 400;
    struct json_object *opts = NULL;
    if (propagation || uid) {
        opts = json_object_new_object();
        json_object_object_add(opts, "kind",
                               json_object_new_string("DeleteOptions"));
        json_object_object_add(opts, "apiVersion", json_object_new_string("v1"));
        if (propagation)
            json_object_object_add(opts, "propagationPolicy",
                                   json_object_new_string(propagation));
        if (uid) {
            struct json_object *pre = json_object_new_object();
            json_object_object_add(pre, "uid", json_object_new_string(uid));
            json_object_object_add(opts, "preconditions", pre);
        }
    }
    int code = ctrl_call(c, "DELETE", path, NULL, opts, NULL);
    json_object_put(opts);
    return code;
}

/* ---- owner references ------------------------------------------------- */

struct json_object *ctrl_controller_ref(struct json_object *obj)
{
    struct json_object *refs = owner_refs(obj);
    for (size_t i = 0; refs && i < json_object_array_length(refs); i++) {
        struct json_object *ref = json_object_array_get_idx(refs, i), *v;
        if (json_object_object_get_ex(ref, "controller", &v) &&
            json_object_is_type(v, json_type_boolean) &&
            json_object_get_boolean(v))
            return ref;
    }
    return NULL;
}

struct json_object *ctrl_new_controller_ref(const struct resource_type *rt,
                                            struct json_object *owner)
{
    char av[64];
    struct json_object *ref = json_object_new_object();
    json_object_object_add(ref, "apiVersion", json_object_new_string(
                               resource_api_version(rt, av, sizeof(av))));
    json_object_object_add(ref, "kind", json_object_new_string(rt->kind));
    const char *name = meta_str(owner, "name"), *uid = meta_str(owner, "uid");
    json_object_object_add(ref, "name", json_object_new_string(name ? name : ""));
    json_object_object_add(ref, "uid", json_object_new_string(uid ? uid : ""));
    json_object_object_add(ref, "controller", json_object_new_boolean(1));
    json_object_object_add(ref, "blockOwnerDeletion",
                           json_object_new_boolean(1));
    return ref;
}

/* ---- start and stop --------------------------------------------------- */

static void mgr_release(struct ctrl_mgr *m)
{
    if (--m->open_handles == 0) {
        free(m->ctrls);
        free(m);
    }
}

static void on_idle_closed(uv_handle_t *h)
{
    mgr_release(h->data);
}

static void on_ctrl_closed(uv_handle_t *h)
{
    struct ctrl *c = h->data;
    struct ctrl_mgr *m = c->mgr;
    free(c);
    mgr_release(m);
}

int ctrl_mgr_start(uv_loop_t *loop, struct store *st, struct apiserver *api,
                   const struct ctrl_mgr_config *cfg, struct ctrl_mgr **out)
{
    struct ctrl_mgr *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->loop = loop;
    m->st = st;
    m->api = api;
    m->cfg = *cfg;
    RB_INIT(&m->uids);
    RB_INIT(&m->edges);
    while (resource_types[m->ntypes]->resource)
        m->ntypes++;
    m->subs = calloc((size_t)m->ntypes, sizeof(*m->subs));
    int n = 0;
    while (controllers[n])
        n++;
    m->ctrls = calloc((size_t)n + 1, sizeof(*m->ctrls));
    if (!m->subs || !m->ctrls) {
        free(m->subs);
        free(m->ctrls);
        free(m);
        return -ENOMEM;
    }
    uv_idle_init(loop, &m->idle);
    m->idle.data = m;
    m->open_handles = 1;
    for (int i = 0; i < n; i++) {
        struct ctrl *c = calloc(1, sizeof(*c));
        if (!c)
            break;
        c->def = controllers[i];
        c->mgr = m;
        RB_INIT(&c->keys);
        RB_INIT(&c->delayed);
        TAILQ_INIT(&c->fifo);
        c->state = c->def->state_size ? calloc(1, c->def->state_size) : NULL;
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        m->ctrls[m->nctrls++] = c;
        m->open_handles++;
        int rc = c->def->init ? c->def->init(c) : 0;
        if (rc)
            log_error("ctrl", "%s: cannot start: %s", c->def->name,
                      ke_strerror(rc));
    }
    /* The initial list: everything that exists, before live events. */
    for (int i = 0; i < m->ntypes; i++) {
        const struct resource_type *rt = resource_types[i];
        if (rt->storage)
            continue;
        char prefix[600];
        collection_prefix(rt, "", prefix, sizeof(prefix));
        struct initial in = {.m = m, .rt = rt};
        store_list(st, prefix, NULL, 0, initial_one, &in, NULL);
    }
    int rc = store_watch(st, "/registry/", store_revision(st), on_store_event,
                         m, &m->watch);
    if (rc) {
        log_error("ctrl", "cannot watch the store: %s", ke_strerror(rc));
        *out = m;
        ctrl_mgr_stop(m);
        *out = NULL;
        return rc;
    }
    log_info("ctrl", "%d controllers started", m->nctrls);
    *out = m;
    return 0;
}

void ctrl_mgr_stop(struct ctrl_mgr *m)
{
    if (!m)
        return;
    m->stopping = true;
    if (m->watch)
        store_unwatch(m->st, m->watch);
    m->watch = NULL;
    for (int i = 0; i < m->nctrls; i++) {
        struct ctrl *c = m->ctrls[i];
        if (c->def->fini)
            c->def->fini(c);
        free(c->state);
        struct qitem *it, *nx;
        RB_FOREACH_SAFE(it, qkeys, &c->keys, nx)
        {
            RB_REMOVE(qkeys, &c->keys, it);
            free(it);
        }
        uv_timer_stop(&c->timer);
        uv_close((uv_handle_t *)&c->timer, on_ctrl_closed);
    }
    for (int i = 0; i < m->ntypes; i++) {
        struct sub *s = m->subs[i];
        while (s) {
            struct sub *nx = s->next;
            free(s);
            s = nx;
        }
    }
    free(m->subs);
    struct uid_entry *u, *un;
    RB_FOREACH_SAFE(u, uids, &m->uids, un)
    {
        RB_REMOVE(uids, &m->uids, u);
        entry_free(m, u);
    }
    recorder_free(m->rec);
    m->rec = NULL;
    uv_idle_stop(&m->idle);
    /* The controllers and the manager are freed as their handles close. */
    uv_close((uv_handle_t *)&m->idle, on_idle_closed);
}
