/*
 * Events expire: each is deleted --event-ttl after it last happened
 * (lastTimestamp, or eventTime for events.k8s.io ones), as Kubernetes'
 * API server does with its event TTL. Each event is queued once for its
 * expiry; an update (count bumped) moves its expiry.
 */
#include "controllers/ctrl.h"
#include "resources/jsonutil.h"

#include <string.h>
#include <time.h>

/* Seconds since the epoch of an RFC 3339 time ("2026-11-23T10:00:00Z",
 * fractions and offsets allowed); -1 if unreadable. */
static time_t parse_time(const char *s)
{
    if (!s)
        return -1;
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    time_t t = timegm(&tm);
    if (*p == '.')
        while (*++p >= '0' && *p <= '9')
            ;
    if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
        int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
                  ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        t += *p == '+' ? -off : off;
    }
    return t;
}

/* When the event last happened. */
static time_t last_seen(struct json_object *ev)
{
    time_t t = parse_time(ju_str(ev, "lastTimestamp"));
    if (t < 0)
        t = parse_time(ju_str(ev, "eventTime"));
    if (t < 0)
        t = parse_time(ju_str(ju_obj(ev, "series"), "lastObservedTime"));
    if (t < 0)
        t = parse_time(ju_str(ju_obj(ev, "metadata"), "creationTimestamp"));
    return t;
}

/* Queues the event for when it expires (or now, if it has). */
static void schedule(struct ctrl *c, const char *key, struct json_object *ev)
{
    uint64_t ttl = ctrl_config(c)->event_ttl_ms;
    time_t t = last_seen(ev);
    time_t now = time(NULL);
    uint64_t age_ms = t < 0 || now < t ? 0 : (uint64_t)(now - t) * 1000;
    ctrl_enqueue_after(c, key, age_ms >= ttl ? 0 : ttl - age_ms);
}

static void on_event(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *obj = ctrl_event_obj(ev);
    if (ctrl_event_type(ev) != STORE_DELETE && obj)
        schedule(c, ctrl_event_key(ev), obj);
}

static int init(struct ctrl *c)
{
    return ctrl_watch(c, ctrl_rt("", "events"), on_event);
}

static void sync_event(struct ctrl *c, const char *key)
{
    const struct resource_type *rt = ctrl_rt("", "events");
    struct json_object *ev = ctrl_get_key(c, rt, key, NULL);
    if (!ev)
        return;
    time_t t = last_seen(ev);
    uint64_t ttl_s = ctrl_config(c)->event_ttl_ms / 1000;
    if (t >= 0 && time(NULL) < t + (time_t)ttl_s) {
        schedule(c, key, ev); /* bumped since it was queued */
    } else {
        struct json_object *md = ju_obj(ev, "metadata");
        int code = ctrl_delete(c, rt, ju_str(md, "namespace"),
                               ju_str(md, "name"), NULL, ju_str(md, "uid"));
        if (code >= 500)
            ctrl_enqueue_after(c, key, 10000);
    }
    json_object_put(ev);
}

const struct ctrl_def ctrl_eventttl_def = {
    .name = "event-ttl",
    .user = "system:kube-apiserver",
    .init = init,
    .sync = sync_event,
};
