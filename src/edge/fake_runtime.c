/*
 * The fake runtime (see fake_runtime.h): a watch on the edge store's pods,
 * a batch of pods to look at again, and per pod the status a kubelet
 * would report for containers that started at once.
 */
#include "edge/fake_runtime.h"
#include "resources/jsonutil.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define POD_PREFIX "/registry/core/pods/"

struct pending {
    struct pending *next;
    char key[]; /* store key of the pod */
};

struct fake_runtime {
    uv_loop_t *loop;
    struct store *st;
    struct apiserver *api;
    struct edgehub *hub;
    char node[254];
    char host_ip[64];
    char user[300];
    int subnet;
    struct store_watch *watch;
    struct pending *pending;
    uv_timer_t timer;
    char **deleting;   /* uids whose deletion was requested */
    size_t ndeleting;
};

int fake_runtime_subnet(const char *node)
{
    /* FNV-1a: deterministic per name, stable across restarts. */
    uint32_t h = 2166136261u;
    for (const char *p = node; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return (int)(h % 256);
}

/* ---- pod IPs ---------------------------------------------------------- */

struct ipscan {
    bool used[256];
};

static int scan_ip(void *arg, const char *key, struct store_value *v,
                   int64_t rev)
{
    struct ipscan *s = arg;
    struct json_object *o = json_tokener_parse(v->data);
    int64_t host = 0;
    if (ju_int(o, "host", &host) && host > 0 && host < 256)
        s->used[host] = true;
    json_object_put(o);
    return 0;
}

/* The pod's IP: kept in the store, allocated on first use. */
static int pod_ip(struct fake_runtime *fr, const char *ns, const char *name,
                  const char *uid, char *ip, size_t iplen)
{
    char key[600];
    snprintf(key, sizeof(key), FAKE_RUNTIME_IP_PREFIX "%s/%s", ns, name);
    struct store_value *v = NULL;
    int64_t host = 0;
    bool found = false;
    if (store_get(fr->st, key, &v, NULL) == 0) {
        struct json_object *o = json_tokener_parse(v->data);
        const char *u = ju_str(o, "uid");
        found = ju_int(o, "host", &host) && u && uid && strcmp(u, uid) == 0;
        json_object_put(o);
        store_value_unref(v);
        if (!found)
            store_delete(fr->st, key, "{}", 2, store_next_revision(fr->st), 0);
    }
    if (!found) {
        struct ipscan s = {0};
        store_list(fr->st, FAKE_RUNTIME_IP_PREFIX, NULL, 0, scan_ip, &s, NULL);
        host = 0;
        for (int i = 2; i < 255 && !host; i++)
            if (!s.used[i])
                host = i;
        if (!host)
            return -ENOSPC;
        char val[200];
        int n = snprintf(val, sizeof(val), "{\"host\":%d,\"uid\":\"%s\"}",
                         (int)host, uid ? uid : "");
        int rc = store_create(fr->st, key, val, (size_t)n,
                              store_next_revision(fr->st));
        if (rc)
            return rc;
    }
    snprintf(ip, iplen, "10.244.%d.%d", fr->subnet, (int)host);
    return 0;
}

static void release_ip(struct fake_runtime *fr, const char *ns,
                       const char *name)
{
    char key[600];
    snprintf(key, sizeof(key), FAKE_RUNTIME_IP_PREFIX "%s/%s", ns, name);
    if (store_get(fr->st, key, NULL, NULL) == 0)
        store_delete(fr->st, key, "{}", 2, store_next_revision(fr->st), 0);
}

/* ---- status ----------------------------------------------------------- */

static bool cond_true(struct json_object *conds, const char *type)
{
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *c = ju_idx_obj(conds, i);
        const char *t = ju_str(c, "type"), *s = ju_str(c, "status");
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0)
            return true;
    }
    return false;
}

static bool str_is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Whether the pod already shows what the runtime would report. */
static bool status_current(struct json_object *pod, const char *ip,
                           const char *host_ip)
{
    struct json_object *st = ju_obj(pod, "status");
    if (!str_is(ju_str(st, "phase"), "Running") ||
        !str_is(ju_str(st, "podIP"), ip) ||
        !str_is(ju_str(st, "hostIP"), host_ip) || !ju_str(st, "startTime"))
        return false;
    struct json_object *conds = ju_arr(st, "conditions");
    const char *types[] = {"PodScheduled", "Initialized", "ContainersReady",
                           "Ready"};
    for (int i = 0; i < 4; i++)
        if (!cond_true(conds, types[i]))
            return false;
    struct json_object *cs = ju_arr(st, "containerStatuses");
    struct json_object *containers = ju_arr(ju_obj(pod, "spec"), "containers");
    if (ju_len(cs) != ju_len(containers))
        return false;
    for (size_t i = 0; i < ju_len(containers); i++) {
        struct json_object *c = ju_idx_obj(containers, i);
        bool ok = false;
        for (size_t j = 0; j < ju_len(cs); j++) {
            struct json_object *s = ju_idx_obj(cs, j);
            bool ready = false;
            if (str_is(ju_str(s, "name"), ju_str(c, "name")) &&
                str_is(ju_str(s, "image"), ju_str(c, "image")) &&
                ju_bool(s, "ready", &ready) && ready)
                ok = true;
        }
        if (!ok)
            return false;
    }
    return true;
}

static struct json_object *running_status(struct json_object *pod,
                                          const char *ip, const char *host_ip)
{
    struct json_object *md = ju_obj(pod, "metadata");
    const char *ns = ju_str(md, "namespace"), *name = ju_str(md, "name");
    struct json_object *old = ju_obj(pod, "status");
    char ts[32];
    time_now_rfc3339(ts);
    const char *start = ju_str(old, "startTime") ? ju_str(old, "startTime")
                                                 : ts;
    struct json_object *patch = json_object_new_object();
    struct json_object *st = ju_obj_ensure(patch, "status");
    ju_set_str(st, "phase", "Running");
    ju_set_str(st, "hostIP", host_ip);
    struct json_object *ips = json_object_new_array();
    struct json_object *o = json_object_new_object();
    ju_set_str(o, "ip", host_ip);
    json_object_array_add(ips, o);
    json_object_object_add(st, "hostIPs", ips);
    ju_set_str(st, "podIP", ip);
    ips = json_object_new_array();
    o = json_object_new_object();
    ju_set_str(o, "ip", ip);
    json_object_array_add(ips, o);
    json_object_object_add(st, "podIPs", ips);
    ju_set_str(st, "startTime", start);
    struct json_object *conds = json_object_new_array();
    const char *types[] = {"PodScheduled", "Initialized", "ContainersReady",
                           "Ready"};
    for (int i = 0; i < 4; i++) {
        struct json_object *c = json_object_new_object();
        ju_set_str(c, "type", types[i]);
        ju_set_str(c, "status", "True");
        ju_set_str(c, "lastTransitionTime", start);
        json_object_array_add(conds, c);
    }
    json_object_object_add(st, "conditions", conds);
    struct json_object *cs = json_object_new_array();
    struct json_object *containers = ju_arr(ju_obj(pod, "spec"), "containers");
    for (size_t i = 0; i < ju_len(containers); i++) {
        struct json_object *c = ju_idx_obj(containers, i);
        const char *cname = ju_str(c, "name") ? ju_str(c, "name") : "";
        const char *image = ju_str(c, "image") ? ju_str(c, "image") : "";
        struct json_object *s = json_object_new_object();
        char id[700];
        ju_set_str(s, "name", cname);
        ju_set_bool(s, "ready", true);
        ju_set_int(s, "restartCount", 0);
        ju_set_bool(s, "started", true);
        ju_set_str(ju_obj_ensure(ju_obj_ensure(s, "state"), "running"),
                   "startedAt", start);
        ju_set_str(s, "image", image);
        snprintf(id, sizeof(id), "fake://%s", image);
        ju_set_str(s, "imageID", id);
        snprintf(id, sizeof(id), "fake://%s/%s/%s", ns, name, cname);
        ju_set_str(s, "containerID", id);
        json_object_array_add(cs, s);
    }
    json_object_object_add(st, "containerStatuses", cs);
    return patch;
}

/* ---- one pod ---------------------------------------------------------- */

static bool deletion_requested(struct fake_runtime *fr, const char *uid)
{
    for (size_t i = 0; i < fr->ndeleting; i++)
        if (strcmp(fr->deleting[i], uid) == 0)
            return true;
    char **n = realloc(fr->deleting, (fr->ndeleting + 1) * sizeof(*n));
    if (!n)
        return true;
    fr->deleting = n;
    fr->deleting[fr->ndeleting++] = strdup(uid);
    return false;
}

static void stop_pod(struct fake_runtime *fr, struct json_object *pod)
{
    struct json_object *md = ju_obj(pod, "metadata");
    const char *ns = ju_str(md, "namespace"), *name = ju_str(md, "name");
    const char *uid = ju_str(md, "uid");
    if (!uid || deletion_requested(fr, uid))
        return;
    char path[600], body[300];
    snprintf(path, sizeof(path),
             "/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0", ns, name);
    snprintf(body, sizeof(body),
             "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
             "\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"%s\"}}",
             uid);
    log_info("runtime", "pod %s/%s stopped; deleting it", ns, name);
    int rc = edgehub_request(fr->hub, "DELETE", path, NULL, body, NULL, NULL);
    if (rc)
        log_warn("runtime", "cannot queue the deletion of %s/%s: %s", ns, name,
                 ke_strerror(rc));
}

static void sync_pod(struct fake_runtime *fr, const char *key)
{
    struct store_value *v = NULL;
    if (store_get(fr->st, key, &v, NULL) != 0)
        return;
    struct json_object *pod = json_tokener_parse(v->data);
    store_value_unref(v);
    struct json_object *md = ju_obj(pod, "metadata");
    const char *ns = ju_str(md, "namespace"), *name = ju_str(md, "name");
    const char *node = ju_str(ju_obj(pod, "spec"), "nodeName");
    if (!ns || !name || !node || strcmp(node, fr->node) != 0)
        goto out;
    if (ju_str(md, "deletionTimestamp")) {
        stop_pod(fr, pod);
        goto out;
    }
    const char *phase = ju_str(ju_obj(pod, "status"), "phase");
    if (str_is(phase, "Succeeded") || str_is(phase, "Failed"))
        goto out;
    char ip[32];
    int rc = pod_ip(fr, ns, name, ju_str(md, "uid"), ip, sizeof(ip));
    if (rc) {
        log_warn("runtime", "no IP for %s/%s: %s", ns, name, ke_strerror(rc));
        goto out;
    }
    if (status_current(pod, ip, fr->host_ip))
        goto out;
    struct json_object *patch = running_status(pod, ip, fr->host_ip);
    size_t len;
    const char *body = json_object_to_json_string_length(patch, JSON_FLAGS,
                                                         &len);
    char path[600];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status", ns,
             name);
    struct apiserver_call call = {
        .method = "PATCH", .path = path, .user = fr->user,
        .groups = "system:nodes",
        .content_type = "application/merge-patch+json", .body = body,
        .len = len};
    struct buf out;
    buf_init(&out, 0);
    int code = apiserver_call(fr->api, &call, &out);
    if (code != 200)
        log_warn("runtime", "local status of %s/%s: %d %.*s", ns, name, code,
                 (int)(out.len > 300 ? 300 : out.len),
                 out.data ? out.data : "");
    buf_free(&out);
    rc = edgehub_report(fr->hub, path, body);
    if (rc)
        log_warn("runtime", "cannot queue the status of %s/%s: %s", ns, name,
                 ke_strerror(rc));
    else
        log_info("runtime", "pod %s/%s running (%s)", ns, name, ip);
    json_object_put(patch);
out:
    json_object_put(pod);
}

/* ---- batching --------------------------------------------------------- */

static void on_flush(uv_timer_t *t)
{
    struct fake_runtime *fr = t->data;
    struct pending *p = fr->pending;
    fr->pending = NULL;
    while (p) {
        struct pending *next = p->next;
        sync_pod(fr, p->key);
        free(p);
        p = next;
    }
}

static void mark(struct fake_runtime *fr, const char *key)
{
    for (struct pending *p = fr->pending; p; p = p->next)
        if (strcmp(p->key, key) == 0)
            return;
    size_t len = strlen(key);
    struct pending *p = malloc(sizeof(*p) + len + 1);
    if (!p)
        return;
    memcpy(p->key, key, len + 1);
    p->next = fr->pending;
    fr->pending = p;
    if (!uv_is_active((uv_handle_t *)&fr->timer))
        uv_timer_start(&fr->timer, on_flush, FAKE_RUNTIME_BATCH_MS, 0);
}

static void on_event(void *arg, const struct store_event *ev)
{
    struct fake_runtime *fr = arg;
    if (ev->type != STORE_DELETE) {
        mark(fr, ev->key);
        return;
    }
    /* Gone from the edge (deleted on the cloud): the IP is free, and its
     * deletion no longer needs remembering. */
    struct json_object *pod = json_tokener_parse(ev->value->data);
    const char *uid = ju_str(ju_obj(pod, "metadata"), "uid");
    for (size_t i = 0; uid && i < fr->ndeleting; i++) {
        if (strcmp(fr->deleting[i], uid) == 0) {
            free(fr->deleting[i]);
            fr->deleting[i] = fr->deleting[--fr->ndeleting];
            break;
        }
    }
    json_object_put(pod);
    const char *rest = ev->key + strlen(POD_PREFIX);
    const char *slash = strchr(rest, '/');
    if (slash) {
        char ns[254];
        snprintf(ns, sizeof(ns), "%.*s", (int)(slash - rest), rest);
        release_ip(fr, ns, slash + 1);
        log_info("runtime", "pod %s/%s removed", ns, slash + 1);
    }
}

static int mark_existing(void *arg, const char *key, struct store_value *v,
                         int64_t rev)
{
    mark(arg, key);
    return 0;
}

int fake_runtime_new(uv_loop_t *loop, struct store *st, struct apiserver *api,
                     struct edgehub *hub, const char *node,
                     const char *host_ip, struct fake_runtime **out)
{
    struct fake_runtime *fr = calloc(1, sizeof(*fr));
    if (!fr)
        return -ENOMEM;
    fr->loop = loop;
    fr->st = st;
    fr->api = api;
    fr->hub = hub;
    snprintf(fr->node, sizeof(fr->node), "%s", node);
    snprintf(fr->host_ip, sizeof(fr->host_ip), "%s", host_ip);
    snprintf(fr->user, sizeof(fr->user), "system:node:%s", node);
    fr->subnet = fake_runtime_subnet(node);
    uv_timer_init(loop, &fr->timer);
    fr->timer.data = fr;
    store_list(st, POD_PREFIX, NULL, 0, mark_existing, fr, NULL);
    int rc = store_watch(st, POD_PREFIX, store_revision(st), on_event, fr,
                         &fr->watch);
    if (rc) {
        fake_runtime_free(fr);
        return rc;
    }
    *out = fr;
    return 0;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

void fake_runtime_free(struct fake_runtime *fr)
{
    if (!fr)
        return;
    if (fr->watch)
        store_unwatch(fr->st, fr->watch);
    while (fr->pending) {
        struct pending *next = fr->pending->next;
        free(fr->pending);
        fr->pending = next;
    }
    for (size_t i = 0; i < fr->ndeleting; i++)
        free(fr->deleting[i]);
    free(fr->deleting);
    uv_timer_stop(&fr->timer);
    uv_close((uv_handle_t *)&fr->timer, on_closed);
}
