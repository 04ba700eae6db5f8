/*
 * Events from controllers, aggregated like Kubernetes' event recorder:
 * the same object, type, reason and message within ten minutes bumps
 * count and lastTimestamp of the event already written.
 */
#include "controllers/recorder.h"
#include "resources/jsonutil.h"
#include "util/log.h"
#include "util/timefmt.h"

/* libbsd's tree.h marks its generated functions __unused, which glibc
 * does not define. */
#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#define RECORDER_MAX 4096               /* remembered events */
#define RECORDER_WINDOW_MS (10 * 60 * 1000)
#define EVENT_MESSAGE_MAX 1024

struct seen {
    RB_ENTRY(seen) link;
    TAILQ_ENTRY(seen) lru;
    char ns[254];
    char name[320];
    int64_t count;
    uint64_t last_ms;
    char key[];               /* uid, type, reason, message */
};

static int seen_cmp(struct seen *a, struct seen *b)
{
    return strcmp(a->key, b->key);
}

RB_HEAD(seen_tree, seen);
RB_GENERATE_STATIC(seen_tree, seen, link, seen_cmp)
TAILQ_HEAD(seen_lru, seen);

struct recorder {
    struct seen_tree tree;
    struct seen_lru lru;
    int n;
};

void recorder_free(struct recorder *r)
{
    if (!r)
        return;
    struct seen *s, *nx;
    RB_FOREACH_SAFE(s, seen_tree, &r->tree, nx)
    {
        RB_REMOVE(seen_tree, &r->tree, s);
        free(s);
    }
    free(r);
}

static struct recorder *recorder_of(struct ctrl *c)
{
    struct recorder **slot = ctrl_recorder_slot(c);
    if (!*slot) {
        *slot = calloc(1, sizeof(**slot));
        if (*slot) {
            RB_INIT(&(*slot)->tree);
            TAILQ_INIT(&(*slot)->lru);
        }
    }
    return *slot;
}

static void forget(struct recorder *r, struct seen *s)
{
    RB_REMOVE(seen_tree, &r->tree, s);
    TAILQ_REMOVE(&r->lru, s, lru);
    r->n--;
    free(s);
}

/* Bumps the count of an event written before; false if it is gone. */
static bool bump(struct ctrl *c, struct seen *s)
{
    char ts[32], patch[128];
    time_now_rfc3339(ts);
    snprintf(patch, sizeof(patch), "{\"count\":%lld,\"lastTimestamp\":\"%s\"}",
             (long long)(s->count + 1), ts);
    int code = ctrl_patch(c, ctrl_rt("", "events"), s->ns, s->name, NULL,
                          "application/merge-patch+json", patch, NULL);
    if (code != 200)
        return false;
    s->count++;
    return true;
}

static int create(struct ctrl *c, const struct resource_type *rt,
                  struct json_object *obj, const char *type,
                  const char *reason, const char *msg, char *ns, size_t nslen,
                  char *name, size_t namelen)
{
    struct json_object *md = ju_obj(obj, "metadata");
    const char *oname = ju_str(md, "name");
    const char *ons = ju_str(md, "namespace");
    snprintf(ns, nslen, "%s", rt->namespaced && ons ? ons : "default");
    struct timespec tv;
    clock_gettime(CLOCK_REALTIME, &tv);
    snprintf(name, namelen, "%.200s.%llx", oname ? oname : "unknown",
             (unsigned long long)tv.tv_sec * 1000000000ull +
                 (unsigned long long)tv.tv_nsec);
    char ts[32], av[64];
    time_now_rfc3339(ts);
    struct json_object *ev = json_object_new_object();
    ju_set_str(ev, "apiVersion", "v1");
    ju_set_str(ev, "kind", "Event");
    struct json_object *emd = ju_obj_ensure(ev, "metadata");
    ju_set_str(emd, "name", name);
    ju_set_str(emd, "namespace", ns);
    struct json_object *inv = ju_obj_ensure(ev, "involvedObject");
    ju_set_str(inv, "kind", rt->kind);
    ju_set_str(inv, "apiVersion", resource_api_version(rt, av, sizeof(av)));
    if (oname)
        ju_set_str(inv, "name", oname);
    if (rt->namespaced && ons)
        ju_set_str(inv, "namespace", ons);
    if (ju_str(md, "uid"))
        ju_set_str(inv, "uid", ju_str(md, "uid"));
    if (ju_str(md, "resourceVersion"))
        ju_set_str(inv, "resourceVersion", ju_str(md, "resourceVersion"));
    ju_set_str(ev, "reason", reason);
    ju_set_str(ev, "message", msg);
    ju_set_str(ev, "type", type);
    ju_set_str(ju_obj_ensure(ev, "source"), "component", ctrl_name(c));
    ju_set_str(ev, "reportingComponent", ctrl_name(c));
    ju_set_str(ev, "reportingInstance", "");
    ju_set_str(ev, "firstTimestamp", ts);
    ju_set_str(ev, "lastTimestamp", ts);
    ju_set_int(ev, "count", 1);
    int code = ctrl_create(c, ctrl_rt("", "events"), ns, ev, NULL);
    json_object_put(ev);
    return code;
}

void ctrl_eventf(struct ctrl *c, const struct resource_type *rt,
                 struct json_object *obj, const char *type, const char *reason,
                 const char *fmt, ...)
{
    char msg[EVENT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct recorder *r = recorder_of(c);
    if (!r)
        return;
    const char *uid = ju_str(ju_obj(obj, "metadata"), "uid");
    size_t klen = strlen(uid ? uid : "") + strlen(type) + strlen(reason) +
                  strlen(msg) + 4;
    struct seen *q = calloc(1, sizeof(*q) + klen);
    if (!q)
        return;
    snprintf(q->key, klen, "%s\x1f%s\x1f%s\x1f%s", uid ? uid : "", type,
             reason, msg);
    uint64_t now = uv_now(ctrl_loop(c));
    struct seen *s = RB_FIND(seen_tree, &r->tree, q);
    if (s) {
        if (now - s->last_ms < RECORDER_WINDOW_MS && bump(c, s)) {
            s->last_ms = now;
            TAILQ_REMOVE(&r->lru, s, lru);
            TAILQ_INSERT_TAIL(&r->lru, s, lru);
            free(q);
            return;
        }
        forget(r, s);
    }
    int code = create(c, rt, obj, type, reason, msg, q->ns, sizeof(q->ns),
                      q->name, sizeof(q->name));
    if (code != 201) {
        free(q);
        return;
    }
    q->count = 1;
    q->last_ms = now;
    RB_INSERT(seen_tree, &r->tree, q);
    TAILQ_INSERT_TAIL(&r->lru, q, lru);
    if (++r->n > RECORDER_MAX)
        forget(r, TAILQ_FIRST(&r->lru));
}
