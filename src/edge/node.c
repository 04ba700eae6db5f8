/*
 * The node agent: the Node object of this edge (registration, labels,
 * status from the host: CPUs, memory, OS, kernel, address).
 */
#include "edge/node.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define META_JOINED_AT "joined_at"
#define NODE_CHECK_EVERY_MS (60 * 1000)

struct edge_node {
    uv_loop_t *loop;
    struct store *st;
    struct edgehub *hub;
    char name[254];
    char host_ip[64];
    char runtime[64];
    struct json_object *labels;
    uv_timer_t timer;
};

static void fmt_time(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t parse_time(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    return timegm(&tm);
}

static const char *go_arch(void)
{
    struct utsname u;
    static char m[65];
    if (uname(&u) != 0)
        return "amd64";
    snprintf(m, sizeof(m), "%s", u.machine);
    if (strcmp(m, "x86_64") == 0)
        return "amd64";
    if (strcmp(m, "aarch64") == 0)
        return "arm64";
    if (strncmp(m, "armv", 4) == 0)
        return "arm";
    return m;
}

static long long mem_kib(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    long long kib = 0;
    char line[256];
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void os_image(char *out, size_t len)
{
    snprintf(out, len, "Linux");
    FILE *f = fopen("/etc/os-release", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
            char *v = line + 12;
            v[strcspn(v, "\n")] = 0;
            size_t n = strlen(v);
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v[n - 1] = 0;
                v++;
            }
            snprintf(out, len, "%s", v);
            break;
        }
    }
    if (f)
        fclose(f);
}

struct json_object *edge_node_status(const struct edge_node *n,
                                     const char *now)
{
    struct json_object *st = json_object_new_object();
    char cpu[32], mem[32], img[256];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(cpu, sizeof(cpu), "%ld", cpus > 0 ? cpus : 1);
    snprintf(mem, sizeof(mem), "%lldKi", mem_kib());
    const char *sets[] = {"capacity", "allocatable"};
    for (int i = 0; i < 2; i++) {
        struct json_object *cap = ju_obj_ensure(st, sets[i]);
        ju_set_str(cap, "cpu", cpu);
        ju_set_str(cap, "memory", mem);
        ju_set_str(cap, "pods", "110");
    }
    struct json_object *conds = json_object_new_array();
    const char *types[] = {"Ready", "MemoryPressure", "DiskPressure",
                           "PIDPressure"};
    const char *reasons[] = {"KubeletReady", "KubeletHasSufficientMemory",
                             "KubeletHasNoDiskPressure",
                             "KubeletHasSufficientPID"};
    const char *msgs[] = {"kedge edge is posting ready status",
                          "kubelet has sufficient memory available",
                          "kubelet has no disk pressure",
                          "kubelet has sufficient PID available"};
    for (int i = 0; i < 4; i++) {
        struct json_object *c = json_object_new_object();
        ju_set_str(c, "type", types[i]);
        ju_set_str(c, "status", i == 0 ? "True" : "False");
        ju_set_str(c, "lastHeartbeatTime", now);
        ju_set_str(c, "lastTransitionTime", now);
        ju_set_str(c, "reason", reasons[i]);
        ju_set_str(c, "message", msgs[i]);
        json_object_array_add(conds, c);
    }
    json_object_object_add(st, "conditions", conds);
    struct json_object *addrs = json_object_new_array();
    struct json_object *a = json_object_new_object();
    ju_set_str(a, "type", "InternalIP");
    ju_set_str(a, "address", n->host_ip);
    json_object_array_add(addrs, a);
    a = json_object_new_object();
    ju_set_str(a, "type", "Hostname");
    ju_set_str(a, "address", n->name);
    json_object_array_add(addrs, a);
    json_object_object_add(st, "addresses", addrs);
    struct json_object *info = ju_obj_ensure(st, "nodeInfo");
    struct utsname u;
    os_image(img, sizeof(img));
    ju_set_str(info, "kubeletVersion", "v1.32.0-kedge");
    ju_set_str(info, "kubeProxyVersion", "");
    ju_set_str(info, "osImage", img);
    ju_set_str(info, "kernelVersion", uname(&u) == 0 ? u.release : "");
    ju_set_str(info, "architecture", go_arch());
    ju_set_str(info, "operatingSystem", "linux");
    ju_set_str(info, "containerRuntimeVersion", n->runtime);
    return st;
}

/* Keeps the stored conditions' timestamps when the status is unchanged
 * and the heartbeat is recent; says whether a report is needed. */
static bool status_changed(struct json_object *want, struct json_object *have,
                           time_t now)
{
    if (!have)
        return true;
    struct json_object *wc = ju_arr(want, "conditions");
    struct json_object *hc = ju_arr(have, "conditions");
    bool stale = false;
    for (size_t i = 0; i < ju_len(wc); i++) {
        struct json_object *w = ju_idx_obj(wc, i);
        for (size_t j = 0; j < ju_len(hc); j++) {
            struct json_object *h = ju_idx_obj(hc, j);
            const char *t = ju_str(h, "type"), *s = ju_str(h, "status");
            if (!t || !s || strcmp(t, ju_str(w, "type")) != 0 ||
                strcmp(s, ju_str(w, "status")) != 0)
                continue;
            const char *hb = ju_str(h, "lastHeartbeatTime");
            if (now - parse_time(hb) >= EDGE_NODE_HEARTBEAT_S)
                stale = true;
            else if (hb)
                ju_set_str(w, "lastHeartbeatTime", hb);
            if (ju_str(h, "lastTransitionTime"))
                ju_set_str(w, "lastTransitionTime",
                           ju_str(h, "lastTransitionTime"));
        }
    }
    if (stale)
        return true;
    /* Compare only what this agent owns. */
    const char *fields[] = {"capacity", "allocatable", "conditions",
                            "addresses", "nodeInfo"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        struct json_object *a = json_object_object_get(want, fields[i]);
        struct json_object *b = json_object_object_get(have, fields[i]);
        if (!b)
            return true;
        if (strcmp(fields[i], "nodeInfo") == 0) {
            /* The cloud may add fields (machineID...): compare ours. */
            json_object_object_foreach(a, k, v) {
                struct json_object *bv = json_object_object_get(b, k);
                if (!bv || !json_object_equal(v, bv))
                    return true;
            }
        } else if (!json_object_equal(a, b)) {
            return true;
        }
    }
    return false;
}

static void report_status(struct edge_node *n, struct json_object *have)
{
    time_t now = time(NULL);
    char ts[32];
    fmt_time(now, ts);
    struct json_object *want = edge_node_status(n, ts);
    if (status_changed(want, have, now)) {
        struct json_object *patch = json_object_new_object();
        json_object_object_add(patch, "status", json_object_get(want));
        char path[400];
        snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", n->name);
        int rc = edgehub_report(
            n->hub, path, json_object_to_json_string_ext(patch, JSON_FLAGS));
        if (rc)
            log_warn("node", "cannot queue the node status: %s",
                     ke_strerror(rc));
        else
            log_debug("node", "node status reported");
        json_object_put(patch);
    }
    json_object_put(want);
}

static void register_node(struct edge_node *n)
{
    int64_t joined = 0;
    if (store_meta_get_int(n->st, META_JOINED_AT, &joined) != 0) {
        joined = (int64_t)time(NULL);
        store_meta_set_int(n->st, META_JOINED_AT, joined);
    }
    char ts[32];
    fmt_time((time_t)joined, ts);
    struct json_object *node = json_object_new_object();
    ju_set_str(node, "apiVersion", "v1");
    ju_set_str(node, "kind", "Node");
    struct json_object *md = ju_obj_ensure(node, "metadata");
    ju_set_str(md, "name", n->name);
    json_object_object_add(md, "labels", json_object_get(n->labels));
    ju_set_str(ju_obj_ensure(md, "annotations"), "kedge.io/joined-at", ts);
    int rc = edgehub_request(n->hub, "POST", "/api/v1/nodes", NULL,
                             json_object_to_json_string_ext(node, JSON_FLAGS),
                             NULL, NULL);
    json_object_put(node);
    if (rc)
        log_warn("node", "cannot queue the node registration: %s",
                 ke_strerror(rc));
    else
        log_info("node", "registering node %s", n->name);
}

void edge_node_sync(struct edge_node *n)
{
    char key[400];
    snprintf(key, sizeof(key), "/registry/core/nodes/%s", n->name);
    struct store_value *v = NULL;
    struct json_object *node = NULL;
    if (store_get(n->st, key, &v, NULL) == 0) {
        node = json_tokener_parse(v->data);
        store_value_unref(v);
    }
    if (!node) {
        register_node(n);
    } else {
        /* Labels this edge owns that went missing are put back. */
        struct json_object *have = ju_obj(ju_obj(node, "metadata"), "labels");
        bool missing = false;
        json_object_object_foreach(n->labels, k, val) {
            const char *hv = ju_str(have, k);
            if (!hv || strcmp(hv, json_object_get_string(val)) != 0)
                missing = true;
        }
        if (missing) {
            struct json_object *p = json_object_new_object();
            json_object_object_add(ju_obj_ensure(p, "metadata"), "labels",
                                   json_object_get(n->labels));
            char path[400];
            snprintf(path, sizeof(path), "/api/v1/nodes/%s", n->name);
            edgehub_request(n->hub, "PATCH", path,
                            "application/merge-patch+json",
                            json_object_to_json_string_ext(p, JSON_FLAGS),
                            NULL, NULL);
            json_object_put(p);
        }
    }
    report_status(n, ju_obj(node, "status"));
    json_object_put(node);
}

static void on_timer(uv_timer_t *t)
{
    struct edge_node *n = t->data;
    if (edgehub_ready(n->hub))
        edge_node_sync(n);
}

int edge_node_new(uv_loop_t *loop, struct store *st, struct edgehub *hub,
                  const struct edge_node_config *cfg, struct edge_node **out)
{
    struct edge_node *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->loop = loop;
    n->st = st;
    n->hub = hub;
    snprintf(n->name, sizeof(n->name), "%s", cfg->name);
    snprintf(n->host_ip, sizeof(n->host_ip), "%s", cfg->host_ip);
    snprintf(n->runtime, sizeof(n->runtime), "%s", cfg->runtime_version);
    n->labels = json_object_new_object();
    const char *l = cfg->labels;
    while (l && *l) {
        const char *comma = strchr(l, ',');
        size_t len = comma ? (size_t)(comma - l) : strlen(l);
        char kv[512];
        if (len >= sizeof(kv))
            goto bad;
        memcpy(kv, l, len);
        kv[len] = 0;
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            goto bad;
        *eq = 0;
        ju_set_str(n->labels, kv, eq + 1);
        l = comma ? comma + 1 : NULL;
    }
    ju_set_str(n->labels, "kubernetes.io/hostname", n->name);
    ju_set_str(n->labels, "kubernetes.io/os", "linux");
    ju_set_str(n->labels, "kubernetes.io/arch", go_arch());
    ju_set_str(n->labels, "node-role.kubernetes.io/edge", "");
    uv_timer_init(loop, &n->timer);
    n->timer.data = n;
    uv_timer_start(&n->timer, on_timer, NODE_CHECK_EVERY_MS,
                   NODE_CHECK_EVERY_MS);
    *out = n;
    return 0;
bad:
    json_object_put(n->labels);
    free(n);
    return -EINVAL;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

void edge_node_free(struct edge_node *n)
{
    if (!n)
        return;
    json_object_put(n->labels);
    uv_timer_stop(&n->timer);
    uv_close((uv_handle_t *)&n->timer, on_closed);
}
