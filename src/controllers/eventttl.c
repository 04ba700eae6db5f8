/*
 * Events expire: each is deleted --event-ttl after it was last written,
 * as Kubernetes' API server does by giving every event write a lease of
 * that length. Writes seen live count from when they were seen; events
 * found at start count from the latest time they carry (creation, last
 * occurrence), since the write time itself is not kept.
 */
#include "controllers/ctrl.h"
#include "resources/jsonutil.h"
#include "util/timefmt.h"

#include <string.h>
#include <time.h>

static time_t later(time_t a, time_t b) { return a > b ? a : b; }

/* The latest time an event carries. */
static time_t last_seen(struct json_object *ev)
{
    time_t t = time_parse_rfc3339(ju_str(ju_obj(ev, "metadata"), "creationTimestamp"));
    t = later(t, time_parse_rfc3339(ju_str(ev, "lastTimestamp")));
    t = later(t, time_parse_rfc3339(ju_str(ev, "eventTime")));
    return later(t, time_parse_rfc3339(ju_str(ju_obj(ev, "series"), "lastObservedTime")));
}

/* The queue entry of each event is its expiry: a write seen live moves
 * it to a full TTL later. */
static void on_event(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *obj = ctrl_event_obj(ev);
    if (ctrl_event_type(ev) == STORE_DELETE || !obj)
        return;
    uint64_t ttl = ctrl_config(c)->event_ttl_ms;
    if (ctrl_event_initial(ev)) {
        /* Found at start: count from the latest time it carries. */
        time_t t = last_seen(obj), now = time(NULL);
        uint64_t age = t < 0 || now < t ? 0 : (uint64_t)(now - t) * 1000;
        ctrl_enqueue_after(c, ctrl_event_key(ev), age >= ttl ? 0 : ttl - age);
        return;
    }
    ctrl_enqueue_reset(c, ctrl_event_key(ev), ttl);
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
    struct json_object *md = ju_obj(ev, "metadata");
    int code = ctrl_delete(c, rt, ju_str(md, "namespace"), ju_str(md, "name"),
                           NULL, ju_str(md, "uid"));
    if (code >= 500)
        ctrl_enqueue_after(c, key, 10000);
    json_object_put(ev);
}

const struct ctrl_def ctrl_eventttl_def = {
    .name = "event-ttl",
    .user = "system:kube-apiserver",
    .init = init,
    .sync = sync_event,
};
