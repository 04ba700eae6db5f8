/*
 * EdgeHub (see edgehub.h): the session's life cycle (connect, hello,
 * back-off, pings), applying the cloud's messages to the edge store, and
 * the durable outbox of requests.
 */
#include "edgehub/edgehub.h"
#include "net/wsclient.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* One request not yet answered. */
struct obx {
    struct obx *next;
    int64_t seq;          /* outbox key number; 0: not durable (GET) */
    int64_t sent_id;      /* request id in this session; 0: not sent */
    char *method, *path, *ctype, *body;
    bool report;          /* coalescing status report */
    edgehub_response_fn cb;
    void *arg;
};

struct edgehub {
    uv_loop_t *loop;
    struct store *st;
    char *node;
    char *host;
    int port;
    SSL_CTX *ctx;
    void (*on_ready)(void *arg);
    void *arg;

    struct wsclient *ws;
    edgehub_send_fn send;
    void *send_arg;
    bool open;            /* attached */
    bool welcomed;
    bool catching_up;
    bool in_snapshot;
    bool ready;
    bool freeing;

    int64_t cloud_rev;    /* applied */
    int64_t persisted;    /* written to the store's metadata */
    int64_t acked;
    int64_t next_id;

    char **seen;          /* keys named by the snapshot under way */
    size_t nseen, capseen;

    struct obx *head, *tail;
    int outbox_len;
    int64_t next_seq;

    uv_timer_t ack_timer, ping_timer, retry_timer;
    int handles_open;
    int failures;
    char last_reason[256];
};

/* ---- helpers ---------------------------------------------------------- */

static int send_text(struct edgehub *hub, const char *s, size_t len)
{
    if (!hub->open || !hub->send)
        return -ENOTCONN;
    return hub->send(hub->send_arg, s, len);
}

static int send_obj(struct edgehub *hub, struct json_object *m)
{
    size_t len;
    const char *s = json_object_to_json_string_length(m, JSON_FLAGS, &len);
    return send_text(hub, s, len);
}

/* Writes the applied cloud revision when it moved (on its own, for
 * messages that changed nothing). */
static void persist_rev(struct edgehub *hub)
{
    if (hub->cloud_rev <= hub->persisted)
        return;
    int rc = store_meta_set_int(hub->st, EDGEHUB_META_CLOUD_REV,
                                hub->cloud_rev);
    if (rc)
        log_warn("edgehub", "cannot persist the cloud revision %" PRId64
                            ": %s", hub->cloud_rev, ke_strerror(rc));
    else
        hub->persisted = hub->cloud_rev;
}

static void send_ack(struct edgehub *hub)
{
    if (!hub->open || hub->in_snapshot || hub->cloud_rev <= hub->acked)
        return;
    char ack[64];
    int len = snprintf(ack, sizeof(ack), "{\"type\":\"ack\",\"rev\":%" PRId64
                                         "}", hub->cloud_rev);
    if (send_text(hub, ack, (size_t)len) == 0)
        hub->acked = hub->cloud_rev;
}

static void on_ack_timer(uv_timer_t *t) { send_ack(t->data); }

/* Acks are batched: at most one per EDGEHUB_ACK_EVERY_MS. */
static void schedule_ack(struct edgehub *hub)
{
    if (!hub->loop) {
        send_ack(hub);
        return;
    }
    if (!uv_is_active((uv_handle_t *)&hub->ack_timer))
        uv_timer_start(&hub->ack_timer, on_ack_timer, EDGEHUB_ACK_EVERY_MS, 0);
}

/* Serialises obj with metadata.resourceVersion = rev (malloc'd). */
static char *stamp(struct json_object *obj, int64_t rev, size_t *len)
{
    char rvs[32];
    snprintf(rvs, sizeof(rvs), "%" PRId64, rev);
    struct json_object *md = ju_obj_ensure(obj, "metadata");
    ju_set_str(md, "resourceVersion", rvs);
    const char *s = json_object_to_json_string_length(obj, JSON_FLAGS, len);
    return s ? strndup(s, *len) : NULL;
}

/* ---- applying the cloud's changes ------------------------------------- */

static bool key_ok(const char *key)
{
    return key && strncmp(key, "/registry/", 10) == 0 && !strstr(key, "..") &&
           strlen(key) < 1024;
}

/*
 * Stores obj under key with a local revision, unless the stored object is
 * the same but for its resourceVersion (then nothing is written: no watch
 * event). The cloud revision
 * travels in the same transaction when persist is set.
 */
static int apply_put(struct edgehub *hub, const char *key,
                     struct json_object *obj, int64_t rev, bool persist)
{
    struct store_value *old = NULL;
    int64_t old_rev = 0;
    size_t len;
    int rc = store_get(hub->st, key, &old, &old_rev);
    if (rc == 0) {
        /* Same bytes, or the same JSON in another key order (as the local
         * API writes it): nothing to write. */
        char *same = stamp(obj, old_rev, &len);
        bool equal = same && len == old->len && memcmp(same, old->data, len) == 0;
        free(same);
        if (!equal) {
            struct json_object *had = json_tokener_parse(old->data);
            equal = had && json_object_equal(had, obj);
            json_object_put(had);
        }
        store_value_unref(old);
        if (equal)
            return 0;
    }
    int64_t next = store_next_revision(hub->st);
    char *val = stamp(obj, next, &len);
    if (!val)
        return -ENOMEM;
    if (persist && rev > hub->persisted)
        store_meta_stage_int(hub->st, EDGEHUB_META_CLOUD_REV, rev);
    rc = rc == 0 ? store_update(hub->st, key, val, len, next, 0)
                 : store_create(hub->st, key, val, len, next);
    free(val);
    if (rc == 0 && persist && rev > hub->persisted)
        hub->persisted = rev;
    return rc;
}

static int apply_delete(struct edgehub *hub, const char *key, int64_t rev,
                        bool persist)
{
    struct store_value *old = NULL;
    if (store_get(hub->st, key, &old, NULL) != 0)
        return 0;
    int64_t next = store_next_revision(hub->st);
    struct json_object *obj = json_tokener_parse(old->data);
    size_t len = old->len;
    char *val = obj ? stamp(obj, next, &len) : strndup(old->data, old->len);
    json_object_put(obj);
    store_value_unref(old);
    if (!val)
        return -ENOMEM;
    if (persist && rev > hub->persisted)
        store_meta_stage_int(hub->st, EDGEHUB_META_CLOUD_REV, rev);
    int rc = store_delete(hub->st, key, val, len, next, 0);
    free(val);
    if (rc == 0 && persist && rev > hub->persisted)
        hub->persisted = rev;
    return rc;
}

static void seen_clear(struct edgehub *hub)
{
    for (size_t i = 0; i < hub->nseen; i++)
        free(hub->seen[i]);
    free(hub->seen);
    hub->seen = NULL;
    hub->nseen = hub->capseen = 0;
}

static int seen_add(struct edgehub *hub, const char *key)
{
    if (hub->nseen == hub->capseen) {
        size_t cap = hub->capseen ? hub->capseen * 2 : 64;
        char **n = realloc(hub->seen, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        hub->seen = n;
        hub->capseen = cap;
    }
    hub->seen[hub->nseen] = strdup(key);
    return hub->seen[hub->nseen++] ? 0 : -ENOMEM;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct stale {
    struct edgehub *hub;
    char **keys;
    size_t n, cap;
};

static int collect_stale(void *arg, const char *key, struct store_value *v,
                         int64_t rev)
{
    struct stale *s = arg;
    if (bsearch(&key, s->hub->seen, s->hub->nseen, sizeof(char *), str_cmp))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **n = realloc(s->keys, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        s->keys = n;
        s->cap = cap;
    }
    s->keys[s->n] = strdup(key);
    return s->keys[s->n++] ? 0 : -ENOMEM;
}

/* End of a snapshot: every key it did not name goes. */
static void snapshot_end(struct edgehub *hub, int64_t rev)
{
    if (hub->nseen > 1) /* qsort needs a non-NULL base even for 0 */
        qsort(hub->seen, hub->nseen, sizeof(char *), str_cmp);
    struct stale s = {.hub = hub};
    int rc = store_list(hub->st, "/registry/", NULL, 0, collect_stale, &s,
                        NULL);
    for (size_t i = 0; i < s.n; i++) {
        if (rc == 0)
            rc = apply_delete(hub, s.keys[i], 0, false);
        free(s.keys[i]);
    }
    free(s.keys);
    if (rc)
        log_warn("edgehub", "snapshot cleanup: %s", ke_strerror(rc));
    log_info("edgehub", "snapshot at revision %" PRId64 ": %zu objects, %zu "
                        "removed", rev, hub->nseen, s.n);
    seen_clear(hub);
    hub->in_snapshot = false;
    if (rev > hub->cloud_rev)
        hub->cloud_rev = rev;
    persist_rev(hub);
}

static void caught_up(struct edgehub *hub)
{
    if (!hub->catching_up)
        return;
    hub->catching_up = false;
    hub->ready = true;
    hub->failures = 0;
    log_info("edgehub", "in sync with the cloud at revision %" PRId64,
             hub->cloud_rev);
    if (hub->on_ready)
        hub->on_ready(hub->arg);
}

/* ---- the outbox ------------------------------------------------------- */

static void obx_free(struct obx *o)
{
    free(o->method);
    free(o->path);
    free(o->ctype);
    free(o->body);
    free(o);
}

static void outbox_key(int64_t seq, char *key, size_t len)
{
    snprintf(key, len, EDGEHUB_OUTBOX_PREFIX "%020" PRId64, seq);
}

static char *obx_json(const struct obx *o, size_t *len)
{
    struct json_object *m = json_object_new_object();
    ju_set_str(m, "method", o->method);
    ju_set_str(m, "path", o->path);
    if (o->ctype)
        ju_set_str(m, "contentType", o->ctype);
    if (o->report)
        ju_set_bool(m, "report", true);
    if (o->body)
        json_object_object_add(m, "body", json_tokener_parse(o->body));
    const char *s = json_object_to_json_string_length(m, JSON_FLAGS, len);
    char *out = s ? strndup(s, *len) : NULL;
    json_object_put(m);
    return out;
}

/* Writes (or rewrites) the durable copy of o. */
static int obx_persist(struct edgehub *hub, struct obx *o)
{
    char key[64];
    size_t len;
    outbox_key(o->seq, key, sizeof(key));
    char *val = obx_json(o, &len);
    if (!val)
        return -ENOMEM;
    int64_t rev = store_next_revision(hub->st);
    int rc = store_get(hub->st, key, NULL, NULL) == 0
                 ? store_update(hub->st, key, val, len, rev, 0)
                 : store_create(hub->st, key, val, len, rev);
    free(val);
    return rc;
}

static void obx_unpersist(struct edgehub *hub, struct obx *o)
{
    if (!o->seq)
        return;
    char key[64];
    outbox_key(o->seq, key, sizeof(key));
    int rc = store_delete(hub->st, key, "{}", 2, store_next_revision(hub->st),
                          0);
    if (rc && rc != -KE_NOTFOUND)
        log_warn("edgehub", "cannot remove %s from the outbox: %s", key,
                 ke_strerror(rc));
}

static void obx_send(struct edgehub *hub, struct obx *o)
{
    struct json_object *m = json_object_new_object();
    ju_set_str(m, "type", "request");
    ju_set_int(m, "id", ++hub->next_id);
    ju_set_str(m, "method", o->method);
    ju_set_str(m, "path", o->path);
    if (o->ctype)
        ju_set_str(m, "contentType", o->ctype);
    if (o->body)
        json_object_object_add(m, "body", json_tokener_parse(o->body));
    if (send_obj(hub, m) == 0)
        o->sent_id = hub->next_id;
    json_object_put(m);
}

static void obx_append(struct edgehub *hub, struct obx *o)
{
    if (hub->tail)
        hub->tail->next = o;
    else
        hub->head = o;
    hub->tail = o;
    hub->outbox_len++;
}

static void obx_unlink(struct edgehub *hub, struct obx *o)
{
    struct obx **pp = &hub->head, *prev = NULL;
    while (*pp && *pp != o) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = o->next;
    if (hub->tail == o)
        hub->tail = prev;
    hub->outbox_len--;
}

static int load_outbox_entry(void *arg, const char *key, struct store_value *v,
                             int64_t rev)
{
    struct edgehub *hub = arg;
    int64_t seq = strtoll(key + strlen(EDGEHUB_OUTBOX_PREFIX), NULL, 10);
    struct json_object *m = json_tokener_parse(v->data);
    const char *method = ju_str(m, "method"), *path = ju_str(m, "path");
    struct obx *o = method && path && seq > 0 ? calloc(1, sizeof(*o)) : NULL;
    if (o) {
        o->seq = seq;
        o->method = strdup(method);
        o->path = strdup(path);
        o->ctype = ju_str(m, "contentType") ? strdup(ju_str(m, "contentType"))
                                            : NULL;
        bool report = false;
        o->report = ju_bool(m, "report", &report) && report;
        struct json_object *body = json_object_object_get(m, "body");
        o->body = body ? strdup(json_object_to_json_string_ext(body,
                                                                JSON_FLAGS))
                       : NULL;
        obx_append(hub, o);
        if (seq >= hub->next_seq)
            hub->next_seq = seq + 1;
    } else {
        log_warn("edgehub", "dropping unreadable outbox entry %s", key);
    }
    json_object_put(m);
    return 0;
}

static void on_response(struct edgehub *hub, struct json_object *m)
{
    int64_t id = 0, code = 0;
    ju_int(m, "id", &id);
    ju_int(m, "code", &code);
    struct obx *o = hub->head;
    while (o && o->sent_id != id)
        o = o->next;
    if (!o || id == 0)
        return;
    struct json_object *body = json_object_object_get(m, "body");
    if (code >= 400 && !o->cb)
        log_warn("edgehub", "%s %s: %" PRId64 " %s", o->method, o->path, code,
                 ju_str(body, "message") ? ju_str(body, "message") : "");
    obx_unlink(hub, o);
    obx_unpersist(hub, o);
    if (o->cb)
        o->cb(o->arg, (int)code, body);
    obx_free(o);
}

static bool method_ok(const char *m)
{
    return m && (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0 ||
                 strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 ||
                 strcmp(m, "DELETE") == 0);
}

static int enqueue(struct edgehub *hub, const char *method, const char *path,
                   const char *ctype, const char *body_json, bool report,
                   edgehub_response_fn cb, void *arg)
{
    if (!method_ok(method) || !path || path[0] != '/')
        return -EINVAL;
    if (body_json) {
        struct json_object *b = json_tokener_parse(body_json);
        bool obj = b && json_object_is_type(b, json_type_object);
        json_object_put(b);
        if (!obj)
            return -EINVAL;
    }
    bool get = strcmp(method, "GET") == 0;
    if (get && !hub->open) {
        if (cb)
            cb(arg, 0, NULL);
        return 0;
    }
    if (report) {
        for (struct obx *o = hub->head; o; o = o->next) {
            if (o->report && !o->sent_id && strcmp(o->path, path) == 0) {
                char *nb = strdup(body_json);
                if (!nb)
                    return -ENOMEM;
                char *ob = o->body;
                o->body = nb;
                int rc = obx_persist(hub, o);
                if (rc) {
                    o->body = ob;
                    free(nb);
                    return rc;
                }
                free(ob);
                return 0;
            }
        }
    }
    struct obx *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    o->method = strdup(method);
    o->path = strdup(path);
    o->ctype = ctype ? strdup(ctype) : NULL;
    o->body = body_json ? strdup(body_json) : NULL;
    o->report = report;
    o->cb = cb;
    o->arg = arg;
    if (!o->method || !o->path || (ctype && !o->ctype) ||
        (body_json && !o->body)) {
        obx_free(o);
        return -ENOMEM;
    }
    if (!get) {
        o->seq = hub->next_seq++;
        int rc = obx_persist(hub, o);
        if (rc) {
            obx_free(o);
            return rc;
        }
    }
    obx_append(hub, o);
    if (hub->open)
        obx_send(hub, o);
    return 0;
}

int edgehub_request(struct edgehub *hub, const char *method, const char *path,
                    const char *ctype, const char *body_json,
                    edgehub_response_fn cb, void *arg)
{
    return enqueue(hub, method, path, ctype, body_json, false, cb, arg);
}

int edgehub_report(struct edgehub *hub, const char *path,
                   const char *body_json)
{
    if (!body_json)
        return -EINVAL;
    return enqueue(hub, "PATCH", path, "application/merge-patch+json",
                   body_json, true, NULL, NULL);
}

int edgehub_outbox_len(const struct edgehub *hub) { return hub->outbox_len; }

/* ---- the session ------------------------------------------------------ */

void edgehub_attach(struct edgehub *hub, edgehub_send_fn send, void *arg)
{
    hub->send = send;
    hub->send_arg = arg;
    hub->open = true;
    hub->welcomed = hub->catching_up = hub->in_snapshot = hub->ready = false;
    hub->acked = 0;
    hub->next_id = 0;
    struct json_object *m = json_object_new_object();
    ju_set_str(m, "type", "hello");
    ju_set_str(m, "node", hub->node);
    ju_set_int(m, "rev", hub->persisted);
    ju_set_str(m, "version", "kedge " KEDGE_GIT_COMMIT);
    send_obj(hub, m);
    json_object_put(m);
    /* Changes applied but not persisted are sent again: start from the
     * persisted revision. */
    hub->cloud_rev = hub->persisted;
    for (struct obx *o = hub->head; o; o = o->next)
        obx_send(hub, o);
}

void edgehub_detach(struct edgehub *hub)
{
    hub->open = hub->ready = hub->catching_up = false;
    hub->send = NULL;
    if (hub->in_snapshot) {
        seen_clear(hub);
        hub->in_snapshot = false;
    }
    /* Unanswered requests go again next session; GETs fail now. */
    struct obx *o = hub->head;
    while (o) {
        struct obx *next = o->next;
        o->sent_id = 0;
        if (!o->seq) {
            obx_unlink(hub, o);
            if (o->cb && !hub->freeing)
                o->cb(o->arg, 0, NULL);
            obx_free(o);
        }
        o = next;
    }
}

int edgehub_receive(struct edgehub *hub, const char *data, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return -ENOMEM;
    struct json_object *m = json_tokener_parse_ex(tok, data, (int)len);
    bool whole = json_tokener_get_error(tok) == json_tokener_success &&
                 tok->char_offset == (int)len;
    json_tokener_free(tok);
    if (!m || !whole || !json_object_is_type(m, json_type_object)) {
        json_object_put(m);
        return -KE_PARSE;
    }
    const char *type = ju_str(m, "type");
    int64_t rev = 0;
    ju_int(m, "rev", &rev);
    int rc = 0;
    if (!type) {
        /* ignored, like unknown types */
    } else if (strcmp(type, "welcome") == 0) {
        bool snap = false;
        ju_bool(m, "snapshot", &snap);
        hub->welcomed = hub->catching_up = true;
        log_info("edgehub", "connected to %s:%d (cloud at revision %" PRId64
                            ", %s from %" PRId64 ")",
                 hub->host ? hub->host : "test", hub->port, rev,
                 snap ? "snapshot" : "resuming", hub->persisted);
        hub->last_reason[0] = 0;
    } else if (strcmp(type, "snapshot-begin") == 0) {
        seen_clear(hub);
        hub->in_snapshot = true;
    } else if (strcmp(type, "snapshot-end") == 0) {
        if (hub->in_snapshot)
            snapshot_end(hub, rev);
        schedule_ack(hub);
        caught_up(hub);
    } else if (strcmp(type, "put") == 0 || strcmp(type, "delete") == 0) {
        const char *key = ju_str(m, "key");
        struct json_object *obj = ju_obj(m, "object");
        bool put = type[0] == 'p';
        if (!key_ok(key) || (put && !obj)) {
            log_warn("edgehub", "ignoring a %s without a valid key or object",
                     type);
        } else {
            if (hub->in_snapshot)
                rc = seen_add(hub, key);
            bool persist = !hub->in_snapshot;
            if (rc == 0)
                rc = put ? apply_put(hub, key, obj, rev, persist)
                         : apply_delete(hub, key, rev, persist);
            if (rc) {
                /* Not applied: do not move past it (it comes again). */
                log_warn("edgehub", "cannot apply %s %s: %s", type, key,
                         ke_strerror(rc));
                rc = -EIO;
            } else if (!hub->in_snapshot && rev > hub->cloud_rev) {
                hub->cloud_rev = rev;
                schedule_ack(hub);
            }
        }
    } else if (strcmp(type, "sync") == 0) {
        if (rev > hub->cloud_rev && !hub->in_snapshot)
            hub->cloud_rev = rev;
        persist_rev(hub);
        schedule_ack(hub);
        caught_up(hub);
    } else if (strcmp(type, "response") == 0) {
        on_response(hub, m);
    }
    json_object_put(m);
    return rc == -EIO ? -EIO : 0;
}

/* ---- connections ------------------------------------------------------ */

static void connect_now(struct edgehub *hub);

static int hub_ws_send(void *arg, const char *data, size_t len)
{
    struct edgehub *hub = arg;
    return hub->ws ? wsclient_send(hub->ws, false, data, len) : -ENOTCONN;
}

static void on_ws_open(void *arg)
{
    struct edgehub *hub = arg;
    log_debug("edgehub", "session open, hello from revision %" PRId64,
              hub->persisted);
    edgehub_attach(hub, hub_ws_send, hub);
}

static void on_ws_message(void *arg, enum ws_opcode op, const void *data,
                          size_t len)
{
    struct edgehub *hub = arg;
    int rc = edgehub_receive(hub, data, len);
    if (rc == -KE_PARSE)
        wsclient_close(hub->ws, 1007, "malformed message");
    else if (rc)
        wsclient_close(hub->ws, 1011, "cannot store a change");
}

static void on_retry(uv_timer_t *t) { connect_now(t->data); }

static void release(struct edgehub *hub)
{
    if (--hub->handles_open == 0)
        free(hub);
}

static void on_ws_close(void *arg, int code, const char *reason)
{
    struct edgehub *hub = arg;
    bool was_open = hub->open;
    hub->ws = NULL;
    edgehub_detach(hub);
    if (hub->freeing) {
        release(hub);
        return;
    }
    hub->failures++;
    uint64_t backoff = EDGEHUB_BACKOFF_MIN_MS;
    for (int i = 1; i < hub->failures && backoff < EDGEHUB_BACKOFF_MAX_MS; i++)
        backoff *= 2;
    if (backoff > EDGEHUB_BACKOFF_MAX_MS)
        backoff = EDGEHUB_BACKOFF_MAX_MS;
    /* Jitter of up to a quarter on top, so many edges cut off together
     * do not come back in step; never past the maximum. */
    uint64_t delay = backoff + (uint64_t)rand() % (backoff / 4 + 1);
    if (delay > EDGEHUB_BACKOFF_MAX_MS)
        delay = EDGEHUB_BACKOFF_MAX_MS;
    char why[256];
    snprintf(why, sizeof(why), "%s (%d)", reason && *reason ? reason : "closed",
             code);
    if (was_open || strcmp(why, hub->last_reason) != 0)
        log_warn("edgehub", "disconnected from %s:%d: %s; retrying in %.1f s "
                            "(and on with back-off)",
                 hub->host, hub->port, why, (double)delay / 1000.0);
    snprintf(hub->last_reason, sizeof(hub->last_reason), "%s", why);
    uv_timer_start(&hub->retry_timer, on_retry, delay, 0);
}

static const struct wsclient_ops ws_ops = {on_ws_open, on_ws_message,
                                           on_ws_close};

static void on_ping(uv_timer_t *t)
{
    struct edgehub *hub = t->data;
    if (hub->ws && hub->open)
        wsclient_ping(hub->ws);
}

static void connect_now(struct edgehub *hub)
{
    struct wsclient_config cfg = {.host = hub->host, .port = hub->port,
                                  .ctx = hub->ctx, .path = "/hub"};
    int rc = wsclient_connect(hub->loop, &cfg, &ws_ops, hub, &hub->ws);
    if (rc) {
        hub->ws = NULL;
        log_warn("edgehub", "cannot connect to %s:%d: %s", hub->host,
                 hub->port, ke_strerror(rc));
        uv_timer_start(&hub->retry_timer, on_retry, EDGEHUB_BACKOFF_MAX_MS, 0);
    }
}

/* ---- life cycle ------------------------------------------------------- */

int edgehub_new(uv_loop_t *loop, const struct edgehub_config *cfg,
                struct edgehub **out)
{
    if (!cfg->node || !cfg->st)
        return -EINVAL;
    struct edgehub *hub = calloc(1, sizeof(*hub));
    if (!hub)
        return -ENOMEM;
    hub->loop = loop;
    hub->st = cfg->st;
    hub->node = strdup(cfg->node);
    hub->host = cfg->host ? strdup(cfg->host) : NULL;
    hub->port = cfg->port;
    hub->ctx = cfg->ctx;
    hub->on_ready = cfg->on_ready;
    hub->arg = cfg->arg;
    hub->next_seq = 1;
    int64_t rev = 0;
    int rc = store_meta_get_int(cfg->st, EDGEHUB_META_CLOUD_REV, &rev);
    if (rc && rc != -KE_NOTFOUND) {
        free(hub->node);
        free(hub->host);
        free(hub);
        return rc;
    }
    hub->persisted = hub->cloud_rev = rev;
    store_list(cfg->st, EDGEHUB_OUTBOX_PREFIX, NULL, 0, load_outbox_entry, hub,
               NULL);
    if (hub->outbox_len)
        log_info("edgehub", "%d queued requests from before the restart",
                 hub->outbox_len);
    if (loop) {
        uv_timer_init(loop, &hub->ack_timer);
        uv_timer_init(loop, &hub->ping_timer);
        uv_timer_init(loop, &hub->retry_timer);
        hub->ack_timer.data = hub->ping_timer.data = hub->retry_timer.data =
            hub;
    }
    *out = hub;
    return 0;
}

void edgehub_start(struct edgehub *hub)
{
    if (!hub->loop || !hub->ctx || !hub->host)
        return;
    uv_timer_start(&hub->ping_timer, on_ping, EDGEHUB_PING_EVERY_MS,
                   EDGEHUB_PING_EVERY_MS);
    connect_now(hub);
}

bool edgehub_ready(const struct edgehub *hub) { return hub->ready; }

int64_t edgehub_cloud_rev(const struct edgehub *hub) { return hub->persisted; }

static void on_handle_closed(uv_handle_t *h) { release(h->data); }

void edgehub_free(struct edgehub *hub)
{
    if (!hub)
        return;
    hub->freeing = true;
    hub->handles_open = 1; /* released at the end of this call */
    if (hub->ws) {
        hub->handles_open++; /* and by on_ws_close */
        wsclient_close(hub->ws, WS_CLOSE_GOING_AWAY, "edge stopping");
    } else {
        edgehub_detach(hub);
    }
    seen_clear(hub);
    struct obx *o = hub->head;
    while (o) {
        struct obx *next = o->next;
        obx_free(o);
        o = next;
    }
    hub->head = hub->tail = NULL;
    free(hub->node);
    free(hub->host);
    hub->node = hub->host = NULL;
    if (hub->loop) {
        hub->handles_open += 3;
        uv_close((uv_handle_t *)&hub->ack_timer, on_handle_closed);
        uv_close((uv_handle_t *)&hub->ping_timer, on_handle_closed);
        uv_close((uv_handle_t *)&hub->retry_timer, on_handle_closed);
    }
    release(hub);
}
