/*
 * Edge sessions: one WebSocket per node (docs/protocol.md). The hub
 * follows the store's watch; each change goes through the node graph,
 * which says which nodes gain, keep or lose which keys, and is sent to
 * those nodes' sessions at once, in revision order. A session starting
 * from an old revision gets the changes since (from the store's history),
 * or a snapshot.
 */
#include "cloudhub/internal.h"
#include "net/ws.h"
#include "net/wsserver.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>

#define HUB_TICK_MS 1000
#define HUB_IDLE_TIMEOUT_MS (30 * 1000)
#define HUB_HEARTBEAT_S 15
/* The lease is for display and for tools reading it: the node lifecycle
 * controller asks the hub directly (cloudhub_node_seen), so renewals can
 * be rarer than a kubelet's while staying inside the lease duration. */
#define HUB_LEASE_RENEW_MS (30 * 1000)
#define HUB_LEASE_SECONDS 40
#define HUB_SYNC_EVERY_MS (HUB_HEARTBEAT_S * 1000)

/* Changes sent and not yet acknowledged, for the ack latency metric. */
#define HUB_PENDING 8

struct pending {
    int64_t rev;
    uint64_t t_ns;
};

struct session {
    RB_ENTRY(session) link;
    struct pending pending[HUB_PENDING];
    int npending;
    uint64_t bytes;         /* sent in this session */
    struct cloudhub *hub;
    struct ws *ws;
    char user[256];
    char groups[512];
    bool in_tree;           /* registered as its node's session */
    bool live;              /* hello done: changes are routed here */
    bool greeted;           /* a hello was accepted (stays true) */
    bool closing;
    int64_t acked;
    int64_t sent_rev;       /* highest revision sent (sync or change) */
    uint64_t last_rx_ms;
    uint64_t last_lease_ms;
    uint64_t last_sync_ms;
    char node[];
};

static int session_cmp(struct session *a, struct session *b)
{
    return strcmp(a->node, b->node);
}

RB_GENERATE_STATIC(sessions, session, link, session_cmp)

static struct sessions *tree_of(struct cloudhub *h) { return &h->sessions; }
static struct session *find(struct cloudhub *h, const char *node);

/* When each node's last session ended, for cloudhub_node_seen. */
struct seen {
    RB_ENTRY(seen) link;
    uint64_t ended_ms;
    char node[];
};
static int seen_cmp(struct seen *a, struct seen *b) { return strcmp(a->node, b->node); }
RB_HEAD(seen_tree, seen);
RB_GENERATE_STATIC(seen_tree, seen, link, seen_cmp)

static struct seen *seen_find(struct cloudhub *h, const char *node)
{
    if (!h->seen)
        return NULL;
    size_t n = strlen(node);
    struct seen *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    memcpy(q->node, node, n + 1);
    struct seen *r = RB_FIND(seen_tree, h->seen, q);
    free(q);
    return r;
}

static void seen_record(struct cloudhub *h, const char *node, uint64_t ms)
{
    if (!h->seen && (h->seen = calloc(1, sizeof(*h->seen))))
        RB_INIT(h->seen);
    if (!h->seen)
        return;
    struct seen *s = seen_find(h, node);
    if (!s) {
        size_t n = strlen(node);
        if (!(s = calloc(1, sizeof(*s) + n + 1)))
            return;
        memcpy(s->node, node, n + 1);
        RB_INSERT(seen_tree, h->seen, s);
    }
    s->ended_ms = ms;
}

void hub_seen_free(struct cloudhub *h)
{
    if (!h->seen)
        return;
    struct seen *s, *n;
    RB_FOREACH_SAFE(s, seen_tree, h->seen, n)
    {
        RB_REMOVE(seen_tree, h->seen, s);
        free(s);
    }
    free(h->seen);
    h->seen = NULL;
}

uint64_t cloudhub_node_seen(void *arg, const char *node)
{
    struct cloudhub *h = arg;
    struct session *s = find(h, node);
    if (s && s->live)
        return uv_now(h->loop);
    struct seen *e = seen_find(h, node);
    return e ? e->ended_ms : 0;
}

static struct session *find(struct cloudhub *h, const char *node)
{
    size_t n = strlen(node);
    struct session *q = malloc(sizeof(*q) + n + 1);
    if (!q)
        return NULL;
    memcpy(q->node, node, n + 1);
    struct session *s = RB_FIND(sessions, tree_of(h), q);
    free(q);
    return s;
}

/* ---- sending ---------------------------------------------------------- */

static void session_close(struct session *s, int code, const char *why)
{
    if (s->closing)
        return;
    s->closing = true;
    s->live = false;
    log_info("hub", "node %s: closing session: %s", s->node, why);
    ws_close(s->ws, code, why);
}

static void send_text(struct session *s, const char *data, size_t len)
{
    if (s->closing)
        return;
    s->hub->sent_msgs++;
    s->hub->sent_bytes += len;
    s->bytes += len;
    int rc = ws_send(s->ws, false, data, len);
    if (rc) /* the edge does not keep up, or is gone: it resumes later */
        session_close(s, WS_CLOSE_GOING_AWAY, "cannot send");
}

static void send_fmt(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void send_fmt(struct session *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(buf))
        send_text(s, buf, (size_t)n);
}

/* {"type":"put","rev":R,"key":K,"object":<stored JSON>} */
static void send_put(struct session *s, int64_t rev, const char *key,
                     const struct store_value *v)
{
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "{\"type\":\"put\",\"rev\":%lld,\"key\":\"%s\",\"object\":",
               (long long)rev, key);
    buf_append(&b, v->data, v->len);
    buf_puts(&b, "}");
    send_text(s, b.data, b.len);
    buf_free(&b);
}

static void send_delete(struct session *s, int64_t rev, const char *key)
{
    send_fmt(s, "{\"type\":\"delete\",\"rev\":%lld,\"key\":\"%s\"}",
             (long long)rev, key);
}

/* The current value of key and its revision; NULL if absent. */
static struct store_value *current(struct cloudhub *h, const char *key,
                                   int64_t *rev)
{
    struct store_value *v;
    return store_get(h->st, key, &v, rev) == 0 ? v : NULL;
}

/* ---- live routing ----------------------------------------------------- */

struct route_ctx {
    struct cloudhub *hub;
    const struct store_event *ev;
};

static void route(void *arg, const char *node, enum graph_op op,
                  const char *key)
{
    struct route_ctx *r = arg;
    struct session *s = find(r->hub, node);
    if (!s || !s->live)
        return;
    if (op == GRAPH_DELETE) {
        send_delete(s, r->ev->rev, key);
    } else if (strcmp(key, r->ev->key) == 0) {
        send_put(s, r->ev->rev, key, r->ev->value);
    } else {
        int64_t rev;
        struct store_value *v = current(r->hub, key, &rev);
        if (!v)
            return;
        send_put(s, r->ev->rev, key, v);
        store_value_unref(v);
    }
    if (s->sent_rev != r->ev->rev) {
        /* Remember when this revision went out (the oldest are dropped). */
        if (s->npending == HUB_PENDING) {
            memmove(s->pending, s->pending + 1,
                    (HUB_PENDING - 1) * sizeof(s->pending[0]));
            s->npending--;
        }
        s->pending[s->npending++] =
            (struct pending){r->ev->rev, uv_hrtime()};
    }
    s->sent_rev = r->ev->rev;
}

static const double ack_bounds[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                    0.1,   0.2,   0.5,   1,    5};
#define HUB_ACK_BUCKETS (sizeof(ack_bounds) / sizeof(ack_bounds[0]))

static void acked(struct session *s, int64_t rev)
{
    struct cloudhub *h = s->hub;
    uint64_t now = uv_hrtime();
    int i = 0;
    for (; i < s->npending && s->pending[i].rev <= rev; i++) {
        double secs = (double)(now - s->pending[i].t_ns) / 1e9;
        size_t b = 0;
        while (b < HUB_ACK_BUCKETS && secs > ack_bounds[b])
            b++;
        h->ack_buckets[b]++;
        h->ack_count++;
        h->ack_sum += secs;
    }
    memmove(s->pending, s->pending + i,
            (size_t)(s->npending - i) * sizeof(s->pending[0]));
    s->npending -= i;
}

void hub_metrics(void *arg, struct buf *out)
{
    struct cloudhub *h = arg;
    buf_printf(out,
               "# HELP kedge_hub_sessions Open edge sessions.\n"
               "# TYPE kedge_hub_sessions gauge\nkedge_hub_sessions %d\n"
               "# HELP kedge_hub_sent_messages_total Messages sent to edges.\n"
               "# TYPE kedge_hub_sent_messages_total counter\n"
               "kedge_hub_sent_messages_total %llu\n"
               "# HELP kedge_hub_sent_bytes_total Message bytes sent to edges "
               "(before framing and TLS).\n"
               "# TYPE kedge_hub_sent_bytes_total counter\n"
               "kedge_hub_sent_bytes_total %llu\n"
               "# HELP kedge_hub_received_messages_total Messages from "
               "edges.\n"
               "# TYPE kedge_hub_received_messages_total counter\n"
               "kedge_hub_received_messages_total %llu\n"
               "# HELP kedge_hub_ack_latency_seconds From a change being "
               "committed and sent to the edge's acknowledgement.\n"
               "# TYPE kedge_hub_ack_latency_seconds histogram\n",
               h->nsessions, (unsigned long long)h->sent_msgs,
               (unsigned long long)h->sent_bytes,
               (unsigned long long)h->recv_msgs);
    uint64_t cum = 0;
    for (size_t b = 0; b < HUB_ACK_BUCKETS; b++) {
        cum += h->ack_buckets[b];
        buf_printf(out, "kedge_hub_ack_latency_seconds_bucket{le=\"%g\"} "
                        "%llu\n",
                   ack_bounds[b], (unsigned long long)cum);
    }
    cum += h->ack_buckets[HUB_ACK_BUCKETS];
    buf_printf(out,
               "kedge_hub_ack_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
               "kedge_hub_ack_latency_seconds_sum %g\n"
               "kedge_hub_ack_latency_seconds_count %llu\n",
               (unsigned long long)cum, h->ack_sum,
               (unsigned long long)h->ack_count);
}

static void on_store_event(void *arg, const struct store_event *ev)
{
    struct cloudhub *h = arg;
    struct route_ctx r = {h, ev};
    graph_apply(h->graph, ev, route, &r);
}

static void ignore(void *arg, const char *node, enum graph_op op,
                   const char *key)
{
}

static int initial_pod(void *arg, const char *key, struct store_value *v,
                       int64_t rev)
{
    struct cloudhub *h = arg;
    struct store_event ev = {STORE_CREATE, rev, key, v, NULL};
    graph_apply(h->graph, &ev, ignore, NULL);
    return 0;
}

/* ---- catching up ------------------------------------------------------ */

struct keyset {
    char **keys;
    int n, cap;
};

static void keyset_add(void *arg, const char *key)
{
    struct keyset *k = arg;
    if (k->n == k->cap) {
        int cap = k->cap ? k->cap * 2 : 32;
        char **nk = realloc(k->keys, (size_t)cap * sizeof(char *));
        if (!nk)
            return;
        k->keys = nk;
        k->cap = cap;
    }
    char *s = strdup(key);
    if (s)
        k->keys[k->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void keyset_free(struct keyset *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
}

struct history {
    struct session *s;
    struct keyset cand;
};

static void add_refs(struct history *hi, const char *key,
                     const struct store_value *v)
{
    if (!v)
        return;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = tok ? json_tokener_parse_ex(tok, v->data, (int)v->len)
                                : NULL;
    json_tokener_free(tok);
    const char *ns = ju_str(ju_obj(o, "metadata"), "namespace");
    if (ns)
        graph_pod_refs(ns, o, keyset_add, &hi->cand);
    (void)key;
    json_object_put(o);
}

/* Each change since the edge's revision: which keys may concern it. */
static void on_history(void *arg, const struct store_event *ev)
{
    struct history *hi = arg;
    struct session *s = hi->s;
    static const char pods[] = "/registry/core/pods/";
    if (strncmp(ev->key, pods, sizeof(pods) - 1) == 0) {
        char now[256], before[256];
        graph_pod_node(ev->value, now, sizeof(now));
        graph_pod_node(ev->prev, before, sizeof(before));
        bool ours_now = strcmp(now, s->node) == 0;
        bool ours_before = strcmp(before, s->node) == 0;
        if (!ours_now && !ours_before)
            return;
        keyset_add(&hi->cand, ev->key);
        if (ours_now)
            add_refs(hi, ev->key, ev->value);
        if (ours_before)
            add_refs(hi, ev->key, ev->prev);
    } else if (graph_has(s->hub->graph, s->node, ev->key)) {
        keyset_add(&hi->cand, ev->key);
    }
}

/* Sends what changed for s since rev: puts of what it has now, deletes
 * of what it may have had. */
static int catch_up(struct session *s, int64_t rev, int64_t now)
{
    struct cloudhub *h = s->hub;
    struct history hi = {s, {0}};
    struct store_watch *w;
    int rc = store_watch(h->st, "/registry/core/", rev, on_history, &hi, &w);
    if (rc) {
        keyset_free(&hi.cand);
        return rc;
    }
    store_unwatch(h->st, w);
    if (hi.cand.n > 1)
        qsort(hi.cand.keys, (size_t)hi.cand.n, sizeof(char *), cmp_str);
    int puts = 0, deletes = 0;
    for (int i = 0; i < hi.cand.n && !s->closing; i++) {
        const char *key = hi.cand.keys[i];
        if (i > 0 && strcmp(key, hi.cand.keys[i - 1]) == 0)
            continue;
        int64_t mod;
        struct store_value *v = graph_has(h->graph, s->node, key)
                                    ? current(h, key, &mod)
                                    : NULL;
        if (v) {
            send_put(s, mod, key, v);
            store_value_unref(v);
            puts++;
        } else {
            send_delete(s, now, key);
            deletes++;
        }
    }
    keyset_free(&hi.cand);
    log_info("hub", "node %s: resumed from revision %lld: %d changed, %d "
                    "removed, %llu bytes",
             s->node, (long long)rev, puts, deletes,
             (unsigned long long)s->bytes);
    return 0;
}

struct snap {
    struct session *s;
    int n;
};

static void snap_one(void *arg, const char *key)
{
    struct snap *sn = arg;
    int64_t mod;
    struct store_value *v = current(sn->s->hub, key, &mod);
    if (!v)
        return;
    send_put(sn->s, mod, key, v);
    store_value_unref(v);
    sn->n++;
}

static void renew_lease(struct session *s);

static void handle_hello(struct session *s, struct json_object *msg)
{
    struct cloudhub *h = s->hub;
    const char *node = ju_str(msg, "node");
    int64_t rev = 0;
    ju_int(msg, "rev", &rev);
    if (!node || strcmp(node, s->node) != 0) {
        session_close(s, WS_CLOSE_POLICY, "hello names another node");
        return;
    }
    /* A newer session replaces an older one of the same node. */
    struct session *old = find(h, s->node);
    if (old && old != s) {
        RB_REMOVE(sessions, tree_of(h), old);
        old->in_tree = false;
        session_close(old, WS_CLOSE_POLICY, "replaced by a newer session");
    }
    if (!s->in_tree) {
        RB_INSERT(sessions, tree_of(h), s);
        s->in_tree = true;
    }
    int64_t now = store_revision(h->st);
    bool snapshot = rev <= 0 || rev > now ||
                    rev < store_oldest_revision(h->st);
    send_fmt(s, "{\"type\":\"welcome\",\"rev\":%lld,\"snapshot\":%s,"
                "\"heartbeat\":%d}",
             (long long)now, snapshot ? "true" : "false", HUB_HEARTBEAT_S);
    if (snapshot) {
        send_fmt(s, "{\"type\":\"snapshot-begin\",\"rev\":%lld}",
                 (long long)now);
        struct snap sn = {s, 0};
        graph_keys(h->graph, s->node, snap_one, &sn);
        send_fmt(s, "{\"type\":\"snapshot-end\",\"rev\":%lld}", (long long)now);
        log_info("hub", "node %s: connected, snapshot of %d objects at "
                        "revision %lld, %llu bytes",
                 s->node, sn.n, (long long)now, (unsigned long long)s->bytes);
    } else {
        if (catch_up(s, rev, now) != 0) {
            session_close(s, WS_CLOSE_INTERNAL, "cannot read history");
            return;
        }
        send_fmt(s, "{\"type\":\"sync\",\"rev\":%lld}", (long long)now);
    }
    s->sent_rev = now;
    s->last_sync_ms = uv_now(h->loop);
    s->live = !s->closing;
    s->greeted = true;
    if (s->live) { /* alive from the first moment, as a kubelet's lease */
        s->last_lease_ms = s->last_sync_ms;
        renew_lease(s);
    }
}

/* ---- requests from the edge ------------------------------------------- */

static void handle_request(struct session *s, struct json_object *msg)
{
    int64_t id = 0;
    ju_int(msg, "id", &id);
    const char *method = ju_str(msg, "method");
    const char *path = ju_str(msg, "path");
    const char *ctype = ju_str(msg, "contentType");
    struct buf ans;
    buf_init(&ans, 0);
    int code;
    if (!method || !path ||
        (strncmp(path, "/api/", 5) != 0 && strncmp(path, "/apis/", 6) != 0)) {
        code = 400;
        buf_puts(&ans, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                       "\"status\":\"Failure\",\"message\":\"a request needs "
                       "a method and an /api or /apis path\",\"reason\":"
                       "\"BadRequest\",\"code\":400}");
    } else {
        struct json_object *body = json_object_object_get(msg, "body");
        size_t len = 0;
        const char *data = body ? json_object_to_json_string_length(
                                      body, JSON_C_TO_STRING_PLAIN, &len)
                                : NULL;
        struct apiserver_call call = {
            .method = method, .path = path, .user = s->user,
            .groups = s->groups, .content_type = ctype,
            .body = data, .len = len};
        code = apiserver_call(s->hub->api, &call, &ans);
    }
    struct buf out;
    buf_init(&out, 0);
    buf_printf(&out, "{\"type\":\"response\",\"id\":%lld,\"code\":%d,\"body\":",
               (long long)id, code);
    if (ans.len)
        buf_append(&out, ans.data, ans.len);
    else
        buf_puts(&out, "null");
    buf_puts(&out, "}");
    send_text(s, out.data, out.len);
    buf_free(&out);
    buf_free(&ans);
}

/* ---- the WebSocket ---------------------------------------------------- */

static void on_message(void *arg, enum ws_opcode op, const void *data,
                       size_t len)
{
    struct session *s = arg;
    s->last_rx_ms = uv_now(s->hub->loop);
    s->hub->recv_msgs++;
    if (s->closing)
        return;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *msg = tok ? json_tokener_parse_ex(tok, data, (int)len)
                                  : NULL;
    bool ok = tok && json_tokener_get_error(tok) == json_tokener_success &&
              json_object_is_type(msg, json_type_object);
    json_tokener_free(tok);
    const char *type = ok ? ju_str(msg, "type") : NULL;
    if (!type) {
        session_close(s, WS_CLOSE_INVALID_DATA,
                      "messages are JSON objects with a type");
    } else if (strcmp(type, "hello") == 0) {
        handle_hello(s, msg);
    } else if (!s->live) {
        session_close(s, WS_CLOSE_POLICY, "hello first");
    } else if (strcmp(type, "ack") == 0) {
        int64_t rev;
        if (ju_int(msg, "rev", &rev) && rev > s->acked) {
            s->acked = rev;
            acked(s, rev);
        }
    } else if (strcmp(type, "request") == 0) {
        handle_request(s, msg);
    } /* other types: ignored (newer edges) */
    json_object_put(msg);
}

static void on_activity(void *arg)
{
    struct session *s = arg;
    s->last_rx_ms = uv_now(s->hub->loop);
}

static void on_close(void *arg, int code, const char *reason)
{
    struct session *s = arg;
    struct cloudhub *h = s->hub;
    log_info("hub", "node %s: session closed (%d %s)", s->node, code, reason);
    if (s->in_tree) {
        RB_REMOVE(sessions, tree_of(h), s);
        if (s->greeted)
            seen_record(h, s->node, s->last_rx_ms);
    }
    h->nsessions--;
    free(s);
    hub_unref(h);
}

static const struct ws_session_ops session_ops = {
    .on_message = on_message,
    .on_close = on_close,
    .on_activity = on_activity,
};

static void respond_json(struct http_request *req, int code, const char *msg)
{
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
    http_respond(req, code, "application/json", NULL, body, (size_t)n);
}

void hub_session_accept(struct cloudhub *h, struct http_request *req)
{
    static const char prefix[] = "system:node:";
    if (!req->authenticated) {
        respond_json(req, 401, "a node certificate is required (join first)");
        return;
    }
    if (strncmp(req->user, prefix, sizeof(prefix) - 1) != 0 ||
        !req->user[sizeof(prefix) - 1] ||
        !apiserver_in_group(req->groups, "system:nodes")) {
        respond_json(req, 403, "only nodes (system:node:<name>, group "
                               "system:nodes) open sessions");
        return;
    }
    const char *node = req->user + sizeof(prefix) - 1;
    size_t n = strlen(node);
    struct session *s = calloc(1, sizeof(*s) + n + 1);
    if (!s) {
        respond_json(req, 500, "out of memory");
        return;
    }
    memcpy(s->node, node, n + 1);
    s->hub = h;
    snprintf(s->user, sizeof(s->user), "%s", req->user);
    snprintf(s->groups, sizeof(s->groups), "%s", req->groups);
    s->last_rx_ms = uv_now(h->loop);
    if (h->stopping || ws_server_upgrade(req, &session_ops, s, &s->ws) != 0) {
        free(s);
        return;
    }
    h->nsessions++;
    h->refs++;
}

/* ---- liveness --------------------------------------------------------- */

/* Keeps the Lease of a connected node renewed, as its kubelet would. */
static void renew_lease(struct session *s)
{
    char now[40], path[400], body[600];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(now + n, sizeof(now) - n, ".%06ldZ", ts.tv_nsec / 1000);
    snprintf(path, sizeof(path),
             "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/"
             "leases/%s",
             s->node);
    snprintf(body, sizeof(body),
             "{\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":"
             "%d,\"renewTime\":\"%s\"}}",
             s->node, HUB_LEASE_SECONDS, now);
    struct buf ans;
    buf_init(&ans, 0);
    struct apiserver_call call = {
        .method = "PATCH", .path = path, .user = s->user,
        .groups = s->groups,
        .content_type = "application/merge-patch+json", .body = body,
        .len = strlen(body)};
    int code = apiserver_call(s->hub->api, &call, &ans);
    if (code == 404) {
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":"
                 "\"Lease\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
                 "\"kube-node-lease\"},\"spec\":{\"holderIdentity\":\"%s\","
                 "\"leaseDurationSeconds\":%d,\"renewTime\":\"%s\"}}",
                 s->node, s->node, HUB_LEASE_SECONDS, now);
        call.method = "POST";
        call.path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/"
                    "leases";
        call.content_type = NULL;
        call.len = strlen(body);
        buf_reset(&ans);
        code = apiserver_call(s->hub->api, &call, &ans);
    }
    if (code >= 300)
        log_warn("hub", "node %s: cannot renew its lease: HTTP %d %.200s",
                 s->node, code, ans.data ? ans.data : "");
    buf_free(&ans);
}

static void on_tick(uv_timer_t *t)
{
    struct cloudhub *h = t->data;
    uint64_t now = uv_now(h->loop);
    int64_t rev = store_revision(h->st);
    struct session *s, *next;
    RB_FOREACH_SAFE(s, sessions, tree_of(h), next)
    {
        if (s->closing)
            continue;
        if (now - s->last_rx_ms > HUB_IDLE_TIMEOUT_MS) {
            session_close(s, WS_CLOSE_GOING_AWAY, "no heartbeat for 30 s");
            continue;
        }
        if (!s->live)
            continue;
        if (now - s->last_lease_ms >= HUB_LEASE_RENEW_MS) {
            s->last_lease_ms = now;
            renew_lease(s);
        }
        /* Let an idle edge's revision follow the cloud's. */
        if (rev > s->sent_rev && now - s->last_sync_ms >= HUB_SYNC_EVERY_MS) {
            send_fmt(s, "{\"type\":\"sync\",\"rev\":%lld}", (long long)rev);
            s->sent_rev = rev;
            s->last_sync_ms = now;
        }
    }
}

int hub_sessions_start(struct cloudhub *h)
{
    RB_INIT(tree_of(h));
    h->graph = graph_new();
    if (!h->graph)
        return -ENOMEM;
    int rc = store_list(h->st, "/registry/core/pods/", NULL, 0, initial_pod, h,
                        NULL);
    if (rc == 0)
        rc = store_watch(h->st, "/registry/core/", store_revision(h->st),
                         on_store_event, h, &h->watch);
    if (rc)
        return rc;
    uv_timer_init(h->loop, &h->tick);
    h->tick.data = h;
    h->refs++;
    uv_timer_start(&h->tick, on_tick, HUB_TICK_MS, HUB_TICK_MS);
    return 0;
}

static void on_tick_closed(uv_handle_t *t)
{
    hub_unref(t->data);
}

void hub_sessions_stop(struct cloudhub *h)
{
    if (h->watch)
        store_unwatch(h->st, h->watch);
    h->watch = NULL;
    if (h->refs > 0 && uv_is_active((uv_handle_t *)&h->tick)) {
        uv_timer_stop(&h->tick);
        uv_close((uv_handle_t *)&h->tick, on_tick_closed);
    }
    /* The sessions end as the HTTP server closes their connections; the
     * last of them (or the timer) frees the hub. */
}
