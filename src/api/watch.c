/*
 * Watch streams: a chunked response of newline-delimited JSON events fed
 * by a store watch. Selectors turn updates that enter or leave the
 * selection into ADDED/DELETED as Kubernetes does; bookmarks report
 * progress; a watch from a revision older than the store's window gets a
 * 410 Expired ERROR event so the client re-lists.
 */
#include "api/internal.h"
#include "api/selector.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_TICK_MS (15 * 1000)
#define WATCH_BOOKMARK_MS (60 * 1000)
#define WATCH_DEFAULT_TIMEOUT_S 1800

struct api_watch {
    struct api_watch *next, *prev;
    struct apiserver *api;
    struct http_request *http;
    struct store_watch *sw;
    const struct resource_type *rt;
    struct list_query q;
    enum table_include include;
    bool table;
    bool bookmarks;
    bool ended;
    uv_timer_t timer;
    uint64_t deadline_ms;
    uint64_t last_bookmark_ms;
    int64_t last_rev;
};

static void on_timer_closed(uv_handle_t *h)
{
    struct api_watch *w = h->data;
    free(w);
}

/* Detaches the watch from the store and the server list, then frees it
 * once its timer handle is closed. */
static void watch_release(struct api_watch *w)
{
    if (w->sw)
        store_unwatch(w->api->st, w->sw);
    w->sw = NULL;
    if (w->prev)
        w->prev->next = w->next;
    else if (w->api->watches == w)
        w->api->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->next = w->prev = NULL;
    api_list_query_free(&w->q);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static void on_http_close(struct http_request *req, void *arg)
{
    struct api_watch *w = arg;
    w->ended = true;
    w->http = NULL;
    watch_release(w);
}

static void watch_end(struct api_watch *w)
{
    if (w->ended)
        return;
    w->ended = true;
    struct http_request *h = w->http;
    w->http = NULL;
    if (h)
        http_stream_end(h);
    watch_release(w);
}

/* Sends one event; `obj_json` is the object (or Table) as JSON. */
static int send_event(struct api_watch *w, const char *type,
                      const char *obj_json, size_t len)
{
    if (w->ended || !w->http)
        return -EPIPE;
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "{\"type\":\"%s\",\"object\":", type);
    buf_append(&b, obj_json, len);
    buf_puts(&b, "}\n");
    int rc = http_stream_write(w->http, b.data, b.len);
    buf_free(&b);
    return rc;
}

static int send_object(struct api_watch *w, const char *type,
                       struct json_object *obj, struct store_value *raw)
{
    if (!w->table) {
        if (raw)
            return send_event(w, type, raw->data, raw->len);
        size_t len;
        const char *s = api_json(obj, &len);
        return send_event(w, type, s, len);
    }
    struct buf b;
    buf_init(&b, 0);
    int rc = api_table_single(w->rt, w->include, obj, &b);
    if (rc == 0)
        rc = send_event(w, type, b.data, b.len);
    buf_free(&b);
    return rc;
}

static struct json_object *parse_value(struct api_watch *w,
                                       struct store_value *v)
{
    if (!v)
        return NULL;
    char err[64];
    return api_decode(w->rt, v->data, v->len, err, sizeof(err));
}

/* Whether events must be parsed (selectors, tables, conversions). */
static bool needs_parse(struct api_watch *w)
{
    return w->q.labels || w->q.fields || w->table || w->rt->from_storage;
}

/* Whether the stored bytes can be sent as they are. */
static bool raw_ok(struct api_watch *w)
{
    return !w->table && !w->rt->from_storage;
}

static void on_store_event(void *arg, const struct store_event *ev)
{
    struct api_watch *w = arg;
    if (w->ended)
        return;
    bool filtered = w->q.labels || w->q.fields;
    const char *type = ev->type == STORE_CREATE   ? "ADDED"
                       : ev->type == STORE_UPDATE ? "MODIFIED"
                                                  : "DELETED";
    struct json_object *obj = NULL;
    if (needs_parse(w)) {
        obj = parse_value(w, ev->value);
        if (!obj)
            return;
    }
    if (filtered) {
        bool now_match = api_list_matches(&w->q, obj);
        bool was_match = false;
        if (ev->type != STORE_CREATE) {
            struct json_object *prev = parse_value(w, ev->prev);
            was_match = prev ? api_list_matches(&w->q, prev)
                             : ev->type == STORE_DELETE && now_match;
            json_object_put(prev);
        }
        if (ev->type == STORE_DELETE) {
            if (!was_match && !now_match) {
                json_object_put(obj);
                return;
            }
        } else if (now_match && !was_match) {
            type = "ADDED";
        } else if (!now_match && was_match) {
            type = "DELETED";
        } else if (!now_match) {
            json_object_put(obj);
            return;
        }
    }
    w->last_rev = ev->rev;
    send_object(w, type, obj, raw_ok(w) ? ev->value : NULL);
    json_object_put(obj);
}

static void send_bookmark(struct api_watch *w)
{
    char av[64], json[256];
    int64_t rev = store_revision(w->api->st);
    int n = snprintf(json, sizeof(json),
                     "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":"
                     "{\"resourceVersion\":\"%lld\"}}",
                     w->rt->kind, resource_api_version(w->rt, av, sizeof(av)),
                     (long long)rev);
    send_event(w, "BOOKMARK", json, (size_t)n);
}

static void on_tick(uv_timer_t *t)
{
    struct api_watch *w = t->data;
    uint64_t now = uv_now(w->api->loop);
    if (now >= w->deadline_ms) {
        watch_end(w);
        return;
    }
    if (w->bookmarks && now - w->last_bookmark_ms >= WATCH_BOOKMARK_MS) {
        w->last_bookmark_ms = now;
        send_bookmark(w);
    }
}

struct initial_ctx {
    struct api_watch *w;
    int err;
};

static int send_initial(void *arg, const char *key, struct store_value *v,
                        int64_t rev)
{
    struct initial_ctx *c = arg;
    struct api_watch *w = c->w;
    struct json_object *obj = NULL;
    if (needs_parse(w)) {
        obj = parse_value(w, v);
        if (!obj)
            return 0;
        if (!api_list_matches(&w->q, obj)) {
            json_object_put(obj);
            return 0;
        }
    }
    if (send_object(w, "ADDED", obj, raw_ok(w) ? v : NULL) != 0)
        c->err = -EPIPE;
    json_object_put(obj);
    return c->err;
}

void api_handle_watch(struct api_req *r)
{
    struct list_query q;
    if (api_parse_selectors(r, &q))
        return;
    char v[64];
    int64_t from = -1; /* -1: current state first, then changes */
    if (http_query(r->http, "resourceVersion", v, sizeof(v)) == 0 && v[0] &&
        strcmp(v, "0") != 0) {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end || n < 0) {
            api_respond_status(r, 400, "BadRequest", NULL, NULL,
                               "invalid resource version: %s", v);
            api_list_query_free(&q);
            return;
        }
        from = n;
    }
    long timeout = WATCH_DEFAULT_TIMEOUT_S;
    if (http_query(r->http, "timeoutSeconds", v, sizeof(v)) == 0 && v[0]) {
        char *end;
        timeout = strtol(v, &end, 10);
        if (*end || timeout < 0) {
            api_respond_status(r, 400, "BadRequest", NULL, NULL,
                               "timeoutSeconds must be a non-negative "
                               "integer");
            api_list_query_free(&q);
            return;
        }
        if (timeout == 0)
            timeout = WATCH_DEFAULT_TIMEOUT_S;
    }
    struct api_watch *w = calloc(1, sizeof(*w));
    if (!w) {
        api_respond_status(r, 500, "InternalError", NULL, NULL,
                           "out of memory");
        api_list_query_free(&q);
        return;
    }
    w->api = r->api;
    w->http = r->http;
    w->rt = r->t.rt;
    w->q = q;
    w->table = r->table;
    w->include = r->include;
    w->bookmarks = http_query(r->http, "allowWatchBookmarks", v, sizeof(v)) == 0 &&
                   strcmp(v, "true") == 0;
    uv_timer_init(r->api->loop, &w->timer);
    w->timer.data = w;
    uint64_t now = uv_now(r->api->loop);
    w->deadline_ms = now + (uint64_t)timeout * 1000;
    w->last_bookmark_ms = now;

    metrics_observe(&r->api->metrics, "watch", r->t.rt->resource, 200, 0);
    if (http_stream_start(r->http, 200, "application/json") != 0) {
        w->http = NULL;
        w->ended = true;
        api_list_query_free(&w->q);
        uv_close((uv_handle_t *)&w->timer, on_timer_closed);
        return;
    }
    r->http->on_close = on_http_close;
    r->http->close_arg = w;
    w->next = r->api->watches;
    if (w->next)
        w->next->prev = w;
    r->api->watches = w;

    char prefix[API_KEY_MAX];
    api_collection_prefix(r->t.rt, r->t.ns, prefix, sizeof(prefix));
    struct store *st = r->api->st;
    if (from < 0) {
        struct initial_ctx c = {.w = w};
        store_list(st, prefix, NULL, 0, send_initial, &c, NULL);
        if (w->ended)
            return;
        from = store_revision(st);
    }
    int rc = store_watch(st, prefix, from, on_store_event, w, &w->sw);
    if (rc == -KE_EXPIRED) {
        char msg[160];
        snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)",
                 (long long)from, (long long)store_oldest_revision(st));
        struct json_object *status = api_status_object(410, "Expired", msg);
        size_t len;
        const char *s = api_json(status, &len);
        send_event(w, "ERROR", s, len);
        json_object_put(status);
        watch_end(w);
        return;
    }
    if (rc) {
        watch_end(w);
        return;
    }
    if (w->ended)
        return;
    uv_timer_start(&w->timer, on_tick, WATCH_TICK_MS, WATCH_TICK_MS);
    /* A short timeout gets its own precise timer period. */
    if ((uint64_t)timeout * 1000 < WATCH_TICK_MS)
        uv_timer_start(&w->timer, on_tick, (uint64_t)timeout * 1000,
                       WATCH_TICK_MS);
}

void api_watch_close_all(struct apiserver *api)
{
    while (api->watches)
        watch_end(api->watches);
}

int api_watch_count(const struct apiserver *api)
{
    int n = 0;
    for (const struct api_watch *w = api->watches; w; w = w->next)
        n++;
    return n;
}
