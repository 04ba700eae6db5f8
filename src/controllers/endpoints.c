/*
 * The Endpoints controller: for every Service with a selector, an
 * Endpoints object of the same name listing the pods the selector picks
 * (ready ones under addresses, the others under notReadyAddresses), one
 * subset per set of pods sharing the same ports, as Kubernetes computes
 * it. Services without a selector keep the Endpoints others write; a
 * deleted Service takes its Endpoints along. Keys are "namespace/name".
 *
 * Services with a selector are indexed by namespace, so a pod change
 * queues only the services of its namespace whose selector matches the
 * pod's labels before or after the change.
 */
#include "api/patch.h"
#include "api/selector.h"
#include "controllers/ctrl.h"
#include "resources/jsonutil.h"
#include "util/log.h"

/* libbsd's tree.h marks its generated functions __unused, which glibc
 * does not define. */
#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EP_KEY_MAX 520
#define EP_RETRY_MS 5000
#define EP_TRIGGER_ANNOTATION "endpoints.kubernetes.io/last-change-trigger-time"
#define EP_HEADLESS_LABEL "service.kubernetes.io/headless"
#define EP_OVER_CAPACITY_ANNOTATION "endpoints.kubernetes.io/over-capacity"
/* Most addresses one Endpoints object lists, as in Kubernetes. */
#define EP_MAX_ADDRESSES 1000

/* One Service with a selector. */
struct svc_entry {
    RB_ENTRY(svc_entry) link;
    char *ns, *name;
    struct label_selector *sel;
};

static int svc_cmp(const struct svc_entry *a, const struct svc_entry *b)
{
    int c = strcmp(a->ns, b->ns);
    return c ? c : strcmp(a->name, b->name);
}

RB_HEAD(svc_index, svc_entry);
RB_GENERATE_STATIC(svc_index, svc_entry, link, svc_cmp)

struct ep_state {
    struct svc_index services;
};

static void entry_free(struct svc_entry *e)
{
    if (!e)
        return;
    label_selector_free(e->sel);
    free(e->ns);
    free(e->name);
    free(e);
}

static struct svc_entry *index_find(struct ep_state *s, const char *ns,
                                    const char *name)
{
    struct svc_entry q = {.ns = (char *)ns, .name = (char *)name};
    return RB_FIND(svc_index, &s->services, &q);
}

static void index_remove(struct ep_state *s, const char *ns, const char *name)
{
    struct svc_entry *e = index_find(s, ns, name);
    if (e) {
        RB_REMOVE(svc_index, &s->services, e);
        entry_free(e);
    }
}

/* The selector of a Service, NULL if it has none (absent or empty: the
 * controller leaves its Endpoints alone). Caller frees. */
static struct label_selector *service_selector(struct json_object *svc)
{
    struct json_object *map = ju_obj(ju_obj(svc, "spec"), "selector");
    struct label_selector *sel = NULL;
    if (!map || json_object_object_length(map) == 0 ||
        label_selector_from_map(map, &sel) != 0)
        return NULL;
    return sel;
}

static void enqueue(struct ctrl *c, const char *ns, const char *name)
{
    char key[EP_KEY_MAX];
    if ((size_t)snprintf(key, sizeof(key), "%s/%s", ns, name) < sizeof(key))
        ctrl_enqueue(c, key);
}

/* ---- event handlers --------------------------------------------------- */

static void on_service(struct ctrl *c, struct ctrl_event *ev)
{
    struct ep_state *s = ctrl_state(c);
    struct json_object *md = ju_obj(ctrl_event_obj(ev), "metadata");
    const char *ns = ju_str(md, "namespace"), *name = ju_str(md, "name");
    if (!ns || !name)
        return;
    index_remove(s, ns, name);
    struct label_selector *sel = ctrl_event_type(ev) == STORE_DELETE
                                     ? NULL
                                     : service_selector(ctrl_event_obj(ev));
    if (sel) {
        struct svc_entry *e = calloc(1, sizeof(*e));
        if (e && (e->ns = strdup(ns)) && (e->name = strdup(name))) {
            e->sel = sel;
            RB_INSERT(svc_index, &s->services, e);
        } else {
            label_selector_free(sel);
            entry_free(e);
        }
    }
    enqueue(c, ns, name);
}

/* The status of the pod's Ready condition ("True", ...), or NULL. */
static struct json_object *ready_condition(struct json_object *pod)
{
    struct json_object *conds = ju_arr(ju_obj(pod, "status"), "conditions");
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *cd = ju_idx_obj(conds, i);
        const char *t = ju_str(cd, "type");
        if (t && strcmp(t, "Ready") == 0)
            return cd;
    }
    return NULL;
}

static bool pod_is_ready(struct json_object *pod)
{
    const char *st = ju_str(ready_condition(pod), "status");
    return st && strcmp(st, "True") == 0;
}

/* Whether a pod update changes anything Endpoints are made of. */
static bool pod_changed(struct json_object *a, struct json_object *b)
{
    static const char *const paths[] = {
        "metadata.labels", "metadata.deletionTimestamp", "status.podIP",
        "status.podIPs",   "status.phase",               "spec.nodeName",
        "spec.hostname",   "spec.subdomain",             NULL};
    for (int i = 0; paths[i]; i++)
        if (!json_equal(ju_path(a, paths[i]), ju_path(b, paths[i])))
            return true;
    return pod_is_ready(a) != pod_is_ready(b);
}

static void on_pod(struct ctrl *c, struct ctrl_event *ev)
{
    struct ep_state *s = ctrl_state(c);
    struct json_object *pod = ctrl_event_obj(ev), *old = ctrl_event_old(ev);
    const char *ns = ju_str(ju_obj(pod, "metadata"), "namespace");
    if (!pod || !ns)
        return;
    if (ctrl_event_type(ev) == STORE_UPDATE && old && !pod_changed(old, pod))
        return;
    struct json_object *labels = ju_path(pod, "metadata.labels");
    struct json_object *old_labels = old ? ju_path(old, "metadata.labels") : NULL;
    struct svc_entry q = {.ns = (char *)ns, .name = ""};
    for (struct svc_entry *e = RB_NFIND(svc_index, &s->services, &q);
         e && strcmp(e->ns, ns) == 0; e = RB_NEXT(svc_index, &s->services, e))
        if (label_selector_matches(e->sel, labels) ||
            (old && label_selector_matches(e->sel, old_labels)))
            enqueue(c, e->ns, e->name);
}

/* Endpoints deleted by someone else come back while their Service
 * selects pods. */
static void on_endpoints(struct ctrl *c, struct ctrl_event *ev)
{
    struct ep_state *s = ctrl_state(c);
    struct json_object *md = ju_obj(ctrl_event_obj(ev), "metadata");
    const char *ns = ju_str(md, "namespace"), *name = ju_str(md, "name");
    if (ctrl_event_type(ev) == STORE_DELETE && ns && name &&
        index_find(s, ns, name))
        enqueue(c, ns, name);
}

static int init(struct ctrl *c)
{
    struct ep_state *s = ctrl_state(c);
    RB_INIT(&s->services);
    int rc = ctrl_watch(c, ctrl_rt("", "services"), on_service);
    if (rc == 0)
        rc = ctrl_watch(c, ctrl_rt("", "pods"), on_pod);
    if (rc == 0)
        rc = ctrl_watch(c, ctrl_rt("", "endpoints"), on_endpoints);
    return rc;
}

static void fini(struct ctrl *c)
{
    struct ep_state *s = ctrl_state(c);
    struct svc_entry *e, *next;
    RB_FOREACH_SAFE(e, svc_index, &s->services, next) {
        RB_REMOVE(svc_index, &s->services, e);
        entry_free(e);
    }
}

/* ---- computing the subsets -------------------------------------------- */

/* One pod that goes into the Endpoints. */
struct ep_addr {
    struct json_object *addr;   /* the EndpointAddress */
    const char *ip, *uid;       /* inside addr */
    bool ready;
};

/* One (pod, port) pair; port -1 stands for "no ports" (headless services
 * without ports). */
struct ep_pair {
    int addr, port;
};

struct ep_calc {
    struct json_object *svc;
    struct label_selector *sel;
    bool want_v6;              /* the service's IP family */
    bool publish_not_ready;
    bool headless;
    struct ep_addr *addrs;
    int naddrs, addr_cap;
    struct json_object *ports; /* distinct EndpointPorts, array */
    struct ep_pair *pairs;
    int npairs, pair_cap;
    char trigger[64];          /* latest change time seen */
    bool failed;               /* out of memory */
};

/* The pod IP of the wanted family, or NULL. */
static const char *pod_ip(struct json_object *pod, bool want_v6)
{
    struct json_object *st = ju_obj(pod, "status");
    struct json_object *ips = ju_arr(st, "podIPs");
    for (size_t i = 0; i < ju_len(ips); i++) {
        const char *ip = ju_str(ju_idx_obj(ips, i), "ip");
        if (ip && ip[0] && (strchr(ip, ':') != NULL) == want_v6)
            return ip;
    }
    const char *ip = ju_str(st, "podIP");
    if (ip && ip[0] && (strchr(ip, ':') != NULL) == want_v6)
        return ip;
    return NULL;
}

/* The container port a service port reaches on pod: targetPort as a
 * number, or a named port of one of its containers with the same
 * protocol. -1 when the pod has no such port. */
static int64_t find_port(struct json_object *pod, struct json_object *sp)
{
    struct json_object *tp = json_object_object_get(sp, "targetPort");
    if (tp && json_object_is_type(tp, json_type_int))
        return json_object_get_int64(tp);
    int64_t port = -1;
    if (!tp || !json_object_is_type(tp, json_type_string)) {
        /* targetPort defaults to port. */
        return ju_int(sp, "port", &port) ? port : -1;
    }
    const char *name = json_object_get_string(tp);
    const char *proto = ju_str(sp, "protocol");
    struct json_object *ctrs = ju_arr(ju_obj(pod, "spec"), "containers");
    for (size_t i = 0; i < ju_len(ctrs); i++) {
        struct json_object *ports = ju_arr(ju_idx_obj(ctrs, i), "ports");
        for (size_t j = 0; j < ju_len(ports); j++) {
            struct json_object *p = ju_idx_obj(ports, j);
            const char *pn = ju_str(p, "name");
            const char *pp = ju_str(p, "protocol");
            if (pn && strcmp(pn, name) == 0 &&
                strcmp(pp ? pp : "TCP", proto ? proto : "TCP") == 0 &&
                ju_int(p, "containerPort", &port))
                return port;
        }
    }
    /* Sidecars (restartable init containers) count too. */
    struct json_object *inits = ju_arr(ju_obj(pod, "spec"), "initContainers");
    for (size_t i = 0; i < ju_len(inits); i++) {
        struct json_object *ic = ju_idx_obj(inits, i);
        const char *rp = ju_str(ic, "restartPolicy");
        if (!rp || strcmp(rp, "Always") != 0)
            continue;
        struct json_object *ports = ju_arr(ic, "ports");
        for (size_t j = 0; j < ju_len(ports); j++) {
            struct json_object *p = ju_idx_obj(ports, j);
            const char *pn = ju_str(p, "name");
            const char *pp = ju_str(p, "protocol");
            if (pn && strcmp(pn, name) == 0 &&
                strcmp(pp ? pp : "TCP", proto ? proto : "TCP") == 0 &&
                ju_int(p, "containerPort", &port))
                return port;
        }
    }
    return -1;
}

/* Index of the EndpointPort for service port sp reaching port, added to
 * the distinct ports if new. */
static int port_index(struct ep_calc *k, struct json_object *sp, int64_t port)
{
    struct json_object *ep = json_object_new_object();
    const char *name = ju_str(sp, "name");
    const char *proto = ju_str(sp, "protocol");
    const char *app = ju_str(sp, "appProtocol");
    if (name && name[0])
        ju_set_str(ep, "name", name);
    ju_set_int(ep, "port", port);
    ju_set_str(ep, "protocol", proto ? proto : "TCP");
    if (app)
        ju_set_str(ep, "appProtocol", app);
    size_t n = json_object_array_length(k->ports);
    for (size_t i = 0; i < n; i++) {
        if (json_equal(json_object_array_get_idx(k->ports, i), ep)) {
            json_object_put(ep);
            return (int)i;
        }
    }
    json_object_array_add(k->ports, ep);
    return (int)n;
}

static void add_pair(struct ep_calc *k, int addr, int port)
{
    if (k->npairs == k->pair_cap) {
        int cap = k->pair_cap ? k->pair_cap * 2 : 16;
        struct ep_pair *p = realloc(k->pairs, (size_t)cap * sizeof(*p));
        if (!p) {
            k->failed = true;
            return;
        }
        k->pairs = p;
        k->pair_cap = cap;
    }
    k->pairs[k->npairs++] = (struct ep_pair){.addr = addr, .port = port};
}

static void note_trigger(struct ep_calc *k, const char *t)
{
    if (t && strlen(t) < sizeof(k->trigger) && strcmp(t, k->trigger) > 0)
        snprintf(k->trigger, sizeof(k->trigger), "%s", t);
}

/* One pod of the namespace: adds it when the selector picks it. */
static int add_pod(void *arg, const char *key, struct json_object *pod)
{
    struct ep_calc *k = arg;
    (void)key;
    struct json_object *md = ju_obj(pod, "metadata");
    struct json_object *spec = ju_obj(pod, "spec");
    if (!label_selector_matches(k->sel, ju_obj(md, "labels")))
        return 0;
    const char *phase = ju_str(ju_obj(pod, "status"), "phase");
    if (phase && (strcmp(phase, "Succeeded") == 0 ||
                  strcmp(phase, "Failed") == 0))
        return 0;
    if (!k->publish_not_ready && ju_str(md, "deletionTimestamp"))
        return 0;
    const char *ip = pod_ip(pod, k->want_v6);
    if (!ip)
        return 0;
    if (k->naddrs == k->addr_cap) {
        int cap = k->addr_cap ? k->addr_cap * 2 : 16;
        struct ep_addr *p = realloc(k->addrs, (size_t)cap * sizeof(*p));
        if (!p) {
            k->failed = true;
            return 1;
        }
        k->addrs = p;
        k->addr_cap = cap;
    }
    struct json_object *a = json_object_new_object();
    ju_set_str(a, "ip", ip);
    const char *hostname = ju_str(spec, "hostname");
    const char *subdomain = ju_str(spec, "subdomain");
    const char *svc_name = ju_str(ju_obj(k->svc, "metadata"), "name");
    if (hostname && hostname[0] && subdomain && svc_name &&
        strcmp(subdomain, svc_name) == 0)
        ju_set_str(a, "hostname", hostname);
    const char *node = ju_str(spec, "nodeName");
    ju_set_str(a, "nodeName", node ? node : "");
    struct json_object *ref = json_object_new_object();
    ju_set_str(ref, "kind", "Pod");
    ju_set_str(ref, "namespace", ju_str(md, "namespace"));
    ju_set_str(ref, "name", ju_str(md, "name"));
    ju_set_str(ref, "uid", ju_str(md, "uid"));
    json_object_object_add(a, "targetRef", ref);
    int idx = k->naddrs++;
    struct ep_addr *e = &k->addrs[idx];
    e->addr = a;
    e->ip = ju_str(a, "ip");
    e->uid = ju_str(ref, "uid");
    e->ready = k->publish_not_ready || pod_is_ready(pod);
    note_trigger(k, ju_str(ready_condition(pod), "lastTransitionTime"));

    struct json_object *sports = ju_arr(ju_obj(k->svc, "spec"), "ports");
    if (ju_len(sports) == 0) {
        if (k->headless)
            add_pair(k, idx, -1);
        return 0;
    }
    for (size_t i = 0; i < ju_len(sports); i++) {
        struct json_object *sp = ju_idx_obj(sports, i);
        int64_t port = find_port(pod, sp);
        if (port >= 0)
            add_pair(k, idx, port_index(k, sp, port));
    }
    return 0;
}

/* For sorting address indices by IP, then pod uid. */
static const struct ep_addr *sort_base;

static int addr_cmp(const void *pa, const void *pb)
{
    const struct ep_addr *a = &sort_base[*(const int *)pa];
    const struct ep_addr *b = &sort_base[*(const int *)pb];
    int c = strcmp(a->ip, b->ip);
    return c ? c : strcmp(a->uid ? a->uid : "", b->uid ? b->uid : "");
}

static int port_cmp(const void *pa, const void *pb)
{
    struct json_object *a = *(struct json_object *const *)pa;
    struct json_object *b = *(struct json_object *const *)pb;
    const char *na = ju_str(a, "name"), *nb = ju_str(b, "name");
    int c = strcmp(na ? na : "", nb ? nb : "");
    if (c)
        return c;
    int64_t x = 0, y = 0;
    ju_int(a, "port", &x);
    ju_int(b, "port", &y);
    if (x != y)
        return x < y ? -1 : 1;
    const char *ra = ju_str(a, "protocol"), *rb = ju_str(b, "protocol");
    return strcmp(ra ? ra : "", rb ? rb : "");
}

static int subset_cmp(const void *pa, const void *pb)
{
    struct json_object *a = *(struct json_object *const *)pa;
    struct json_object *b = *(struct json_object *const *)pb;
    return strcmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
                  json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
}

/*
 * The canonical subsets (Kubernetes' repacking): every distinct port maps
 * to the set of addresses offering it; ports offered by the same set of
 * addresses share a subset. Addresses are sorted by IP (then pod uid),
 * ports by name and number, subsets by their content. Caller puts.
 */
static struct json_object *repack(struct ep_calc *k)
{
    int nports = (int)json_object_array_length(k->ports);
    int cols = nports + 1; /* the last column stands for "no ports" */
    size_t rows = (size_t)(k->naddrs ? k->naddrs : 1);
    char *member = calloc(rows * (size_t)cols, 1);
    int *order = calloc(rows, sizeof(int));
    bool *done = calloc((size_t)cols, sizeof(bool));
    struct json_object *subsets = json_object_new_array();
    if (!member || !order || !done) {
        k->failed = true;
        goto out;
    }
    for (int i = 0; i < k->naddrs; i++)
        order[i] = i;
    sort_base = k->addrs;
    qsort(order, (size_t)k->naddrs, sizeof(int), addr_cmp);
    for (int p = 0; p < k->npairs; p++) {
        int col = k->pairs[p].port < 0 ? nports : k->pairs[p].port;
        member[(size_t)k->pairs[p].addr * (size_t)cols + (size_t)col] = 1;
    }
#define MEMBER(a, col) member[(size_t)(a) * (size_t)cols + (size_t)(col)]
    for (int col = 0; col < cols; col++) {
        if (done[col])
            continue;
        bool any = false;
        for (int a = 0; a < k->naddrs && !any; a++)
            any = MEMBER(a, col);
        if (!any)
            continue;
        struct json_object *ports = json_object_new_array();
        for (int other = col; other < cols; other++) {
            bool same = true;
            for (int a = 0; a < k->naddrs && same; a++)
                same = MEMBER(a, col) == MEMBER(a, other);
            if (!same)
                continue;
            done[other] = true;
            if (other < nports)
                json_object_array_add(
                    ports, json_object_get(
                               json_object_array_get_idx(k->ports, other)));
        }
        json_object_array_sort(ports, port_cmp);
        struct json_object *ready = json_object_new_array();
        struct json_object *not_ready = json_object_new_array();
        for (int i = 0; i < k->naddrs; i++) {
            struct ep_addr *e = &k->addrs[order[i]];
            if (MEMBER(order[i], col))
                json_object_array_add(e->ready ? ready : not_ready,
                                      json_object_get(e->addr));
        }
#undef MEMBER
        struct json_object *ss = json_object_new_object();
        if (json_object_array_length(ready))
            json_object_object_add(ss, "addresses", ready);
        else
            json_object_put(ready);
        if (json_object_array_length(not_ready))
            json_object_object_add(ss, "notReadyAddresses", not_ready);
        else
            json_object_put(not_ready);
        if (json_object_array_length(ports))
            json_object_object_add(ss, "ports", ports);
        else
            json_object_put(ports);
        json_object_array_add(subsets, ss);
    }
    json_object_array_sort(subsets, subset_cmp);
out:
    free(done);
    free(member);
    free(order);
    return subsets;
}

/*
 * Cuts subsets down to EP_MAX_ADDRESSES addresses as Kubernetes does:
 * not-ready addresses go first; if the ready ones alone are too many, all
 * not-ready ones go and the ready ones are cut. Each subset keeps its
 * share (rounded up), the last one what is left. Subsets left with no
 * address at all are dropped (the API refuses them). Returns whether
 * anything was cut.
 */
static bool truncate_subsets(struct json_object *subsets)
{
    size_t ready = 0, not_ready = 0, n = json_object_array_length(subsets);
    for (size_t i = 0; i < n; i++) {
        struct json_object *ss = json_object_array_get_idx(subsets, i);
        ready += ju_len(ju_arr(ss, "addresses"));
        not_ready += ju_len(ju_arr(ss, "notReadyAddresses"));
    }
    if (ready + not_ready <= EP_MAX_ADDRESSES)
        return false;
    bool cut_ready = ready > EP_MAX_ADDRESSES;
    size_t max = cut_ready ? EP_MAX_ADDRESSES : EP_MAX_ADDRESSES - ready;
    size_t total = cut_ready ? ready : not_ready;
    const char *field = cut_ready ? "addresses" : "notReadyAddresses";
    size_t room = max;
    for (size_t i = 0; i < n; i++) {
        struct json_object *ss = json_object_array_get_idx(subsets, i);
        struct json_object *arr = ju_arr(ss, field);
        size_t have = ju_len(arr);
        size_t take = i == n - 1 ? room : (have * max + total - 1) / total;
        if (take > have)
            take = have;
        if (take > room)
            take = room;
        if (take < have)
            json_object_array_del_idx(arr, take, have - take);
        if (take == 0)
            json_object_object_del(ss, field);
        if (cut_ready)
            json_object_object_del(ss, "notReadyAddresses");
        room -= take;
    }
    for (size_t i = n; i-- > 0;) {
        struct json_object *ss = json_object_array_get_idx(subsets, i);
        if (!ju_len(ju_arr(ss, "addresses")) &&
            !ju_len(ju_arr(ss, "notReadyAddresses")))
            json_object_array_del_idx(subsets, i, 1);
    }
    return true;
}

/* ---- sync ------------------------------------------------------------- */

static void calc_free(struct ep_calc *k)
{
    for (int i = 0; i < k->naddrs; i++)
        json_object_put(k->addrs[i].addr);
    free(k->addrs);
    free(k->pairs);
    json_object_put(k->ports);
    label_selector_free(k->sel);
}

/* The labels the Endpoints of svc carry: the service's, plus the
 * headless marker for services without a cluster IP. Caller puts. */
static struct json_object *wanted_labels(struct json_object *svc, bool headless)
{
    struct json_object *l = json_clone(ju_path(svc, "metadata.labels"));
    if (!l || !json_object_is_type(l, json_type_object)) {
        json_object_put(l);
        l = json_object_new_object();
    }
    if (headless)
        ju_set_str(l, EP_HEADLESS_LABEL, "");
    else
        json_object_object_del(l, EP_HEADLESS_LABEL);
    return l;
}

/* An absent or empty member compares equal to an empty array/object. */
static bool same_or_empty(struct json_object *a, struct json_object *b)
{
    bool ea = !a || (json_object_is_type(a, json_type_array)
                         ? json_object_array_length(a) == 0
                         : json_object_is_type(a, json_type_object) &&
                               json_object_object_length(a) == 0);
    bool eb = !b || (json_object_is_type(b, json_type_array)
                         ? json_object_array_length(b) == 0
                         : json_object_is_type(b, json_type_object) &&
                               json_object_object_length(b) == 0);
    if (ea || eb)
        return ea && eb;
    return json_equal(a, b);
}

/* Writes the Endpoints ns/name as computed (creating them if absent). */
static void write_endpoints(struct ctrl *c, const char *key, const char *ns,
                            const char *name, struct json_object *cur,
                            struct json_object *subsets,
                            struct json_object *labels, const char *trigger,
                            bool truncated)
{
    const struct resource_type *rt = ctrl_rt("", "endpoints");
    struct json_object *ep = cur ? json_clone(cur) : json_object_new_object();
    ju_set_str(ep, "apiVersion", "v1");
    ju_set_str(ep, "kind", "Endpoints");
    struct json_object *md = ju_obj_ensure(ep, "metadata");
    ju_set_str(md, "name", name);
    ju_set_str(md, "namespace", ns);
    json_object_object_add(md, "labels", json_object_get(labels));
    struct json_object *ann = ju_obj_ensure(md, "annotations");
    if (trigger[0])
        ju_set_str(ann, EP_TRIGGER_ANNOTATION, trigger);
    else
        json_object_object_del(ann, EP_TRIGGER_ANNOTATION);
    if (truncated)
        ju_set_str(ann, EP_OVER_CAPACITY_ANNOTATION, "truncated");
    else
        json_object_object_del(ann, EP_OVER_CAPACITY_ANNOTATION);
    if (json_object_object_length(ann) == 0)
        json_object_object_del(md, "annotations");
    if (json_object_array_length(subsets))
        json_object_object_add(ep, "subsets", json_object_get(subsets));
    else
        json_object_object_del(ep, "subsets");
    struct json_object *ans = NULL;
    int code = cur ? ctrl_update(c, rt, ep, NULL, &ans)
                   : ctrl_create(c, rt, ns, ep, &ans);
    if (code == 409) {
        ctrl_enqueue(c, key); /* changed or created meanwhile */
    } else if (code >= 300) {
        struct json_object *svc =
            ctrl_get(c, ctrl_rt("", "services"), ns, name, NULL);
        if (svc)
            ctrl_eventf(c, ctrl_rt("", "services"), svc, "Warning",
                        "FailedToUpdateEndpoint",
                        "Failed to update endpoint %s/%s: %s", ns, name,
                        ctrl_status_message(ans));
        json_object_put(svc);
        ctrl_enqueue_after(c, key, EP_RETRY_MS);
    }
    json_object_put(ans);
    json_object_put(ep);
}

static void sync_service(struct ctrl *c, const char *key)
{
    const struct resource_type *svc_rt = ctrl_rt("", "services");
    const struct resource_type *ep_rt = ctrl_rt("", "endpoints");
    char ns[EP_KEY_MAX];
    snprintf(ns, sizeof(ns), "%s", key);
    char *slash = strchr(ns, '/');
    if (!slash)
        return;
    *slash = 0;
    const char *name = slash + 1;
    struct ep_calc k = {0};
    struct json_object *cur = ctrl_get(c, ep_rt, ns, name, NULL);
    struct json_object *labels = NULL, *subsets = NULL;
    k.svc = ctrl_get(c, svc_rt, ns, name, NULL);
    if (!k.svc) {
        /* The service is gone: so are its Endpoints. */
        if (cur) {
            int code = ctrl_delete(c, ep_rt, ns, name, NULL,
                                   ju_str(ju_obj(cur, "metadata"), "uid"));
            if (code >= 300 && code != 404 && code != 409)
                ctrl_enqueue_after(c, key, EP_RETRY_MS);
        }
        goto out;
    }
    k.sel = service_selector(k.svc);
    if (!k.sel)
        goto out; /* no selector: someone else keeps its Endpoints */
    struct json_object *spec = ju_obj(k.svc, "spec");
    const char *cip = ju_str(spec, "clusterIP");
    const char *fam = NULL;
    struct json_object *fams = ju_arr(spec, "ipFamilies");
    if (ju_len(fams) > 0 &&
        json_object_is_type(json_object_array_get_idx(fams, 0),
                            json_type_string))
        fam = json_object_get_string(json_object_array_get_idx(fams, 0));
    k.want_v6 = fam ? strcmp(fam, "IPv6") == 0 : (cip && strchr(cip, ':'));
    k.headless = !cip || !cip[0] || strcmp(cip, "None") == 0;
    ju_bool(spec, "publishNotReadyAddresses", &k.publish_not_ready);
    k.ports = json_object_new_array();
    note_trigger(&k, ju_str(ju_obj(k.svc, "metadata"), "creationTimestamp"));
    ctrl_list(c, ctrl_rt("", "pods"), ns, add_pod, &k);
    if (k.failed) {
        ctrl_enqueue_after(c, key, EP_RETRY_MS);
        goto out;
    }
    subsets = repack(&k);
    bool truncated = truncate_subsets(subsets);
    labels = wanted_labels(k.svc, k.headless);
    if (k.failed) {
        ctrl_enqueue_after(c, key, EP_RETRY_MS);
        goto out;
    }
    const char *cap = ju_str(ju_path(cur, "metadata.annotations"),
                             EP_OVER_CAPACITY_ANNOTATION);
    bool cap_ok = truncated ? cap && strcmp(cap, "truncated") == 0 : !cap;
    if (cur && same_or_empty(json_object_object_get(cur, "subsets"), subsets) &&
        same_or_empty(ju_path(cur, "metadata.labels"), labels) && cap_ok)
        goto out; /* nothing to write */
    write_endpoints(c, key, ns, name, cur, subsets, labels, k.trigger,
                    truncated);
out:
    json_object_put(subsets);
    json_object_put(labels);
    json_object_put(cur);
    json_object_put(k.svc);
    calc_free(&k);
}

const struct ctrl_def ctrl_endpoints_def = {
    .name = "endpoint",
    .user = "system:serviceaccount:kube-system:endpoint-controller",
    .state_size = sizeof(struct ep_state),
    .init = init,
    .sync = sync_service,
    .fini = fini,
};
