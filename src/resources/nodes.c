/*
 * core/v1 Node: printer columns (printNode: STATUS from the Ready
 * condition, ROLES from node-role labels), status defaults and
 * validation (taints, pod CIDRs, update rules).
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "util/buf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const node_field_selectors[] = {"spec.unschedulable", NULL};

static const struct table_column node_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    {"Age", "string", "", "Time since the object was created.", 0},
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", "List of addresses reachable to the node.",
     1},
    {"External-IP", "string", "", "List of addresses reachable to the node.",
     1},
    {"OS-Image", "string", "", "OS Image reported by the node.", 1},
    {"Kernel-Version", "string", "", "Kernel Version reported by the node.", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node.", 1},
};

#define ROLE_PREFIX "node-role.kubernetes.io/"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* findNodeRoles: sorted, unique, comma-joined; "<none>" if there are none. */
static void node_roles(struct buf *b, struct json_object *labels)
{
    size_t cap = labels && json_object_is_type(labels, json_type_object)
                     ? (size_t)json_object_object_length(labels)
                     : 0;
    const char **roles = calloc(cap ? cap : 1, sizeof(*roles));
    size_t n = 0;
    if (!roles)
        return;
    if (cap) {
        json_object_object_foreach(labels, k, v)
        {
            if (n >= cap)
                break;
            if (strncmp(k, ROLE_PREFIX, strlen(ROLE_PREFIX)) == 0) {
                if (k[strlen(ROLE_PREFIX)])
                    roles[n++] = k + strlen(ROLE_PREFIX);
            } else if (strcmp(k, "kubernetes.io/role") == 0 &&
                       json_object_is_type(v, json_type_string) &&
                       json_object_get_string_len(v) > 0) {
                roles[n++] = json_object_get_string(v);
            }
        }
    }
    qsort(roles, n, sizeof(*roles), cmp_str);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(roles[i], roles[i - 1]) == 0)
            continue;
        buf_printf(b, "%s%s", out++ ? "," : "", roles[i]);
    }
    if (out == 0)
        buf_puts(b, "<none>");
    free(roles);
}

static const char *node_address(struct json_object *st, const char *type)
{
    struct json_object *addrs = ju_arr(st, "addresses");
    for (size_t i = 0; i < ju_len(addrs) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *a = ju_idx_obj(addrs, i);
        const char *t = ju_str(a, "type");
        if (t && strcmp(t, type) == 0) {
            const char *addr = ju_str(a, "address");
            return addr ? addr : "";
        }
    }
    return "<none>";
}

static const char *or_unknown(const char *s)
{
    return s && s[0] ? s : "<unknown>";
}

static void node_cells(struct json_object *obj, struct json_object *cells,
                       time_t now)
{
    struct json_object *md = ju_obj(obj, "metadata");
    struct json_object *st = ju_obj(obj, "status");
    struct json_object *info = ju_obj(st, "nodeInfo");
    struct json_object *conds = ju_arr(st, "conditions");
    struct buf b;
    char age[64];
    buf_init(&b, 0);
    print_cell_str(cells, ju_str(md, "name"));

    /* The last Ready condition wins, as with Kubernetes' condition map. */
    const char *ready = NULL;
    for (size_t i = 0; i < ju_len(conds) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *c = ju_idx_obj(conds, i);
        const char *t = ju_str(c, "type");
        if (t && strcmp(t, "Ready") == 0) {
            const char *s = ju_str(c, "status");
            ready = s ? s : "";
        }
    }
    if (!ready)
        buf_puts(&b, "Unknown");
    else if (strcmp(ready, "True") == 0)
        buf_puts(&b, "Ready");
    else
        buf_puts(&b, "NotReady");
    bool unsched = false;
    if (ju_bool(ju_obj(obj, "spec"), "unschedulable", &unsched) && unsched)
        buf_puts(&b, ",SchedulingDisabled");
    print_cell_str(cells, b.data);
    buf_reset(&b);
    node_roles(&b, ju_obj(md, "labels"));
    print_cell_str(cells, b.len ? b.data : "<none>");
    print_age(age, sizeof(age), obj, now);
    print_cell_str(cells, age);
    const char *kv = ju_str(info, "kubeletVersion");
    print_cell_str(cells, kv ? kv : "");
    print_cell_str(cells, node_address(st, "InternalIP"));
    print_cell_str(cells, node_address(st, "ExternalIP"));
    print_cell_str(cells, or_unknown(ju_str(info, "osImage")));
    print_cell_str(cells, or_unknown(ju_str(info, "kernelVersion")));
    print_cell_str(cells, or_unknown(ju_str(info, "containerRuntimeVersion")));
    buf_free(&b);
}

/* SetDefaults_NodeStatus: allocatable defaults to capacity. */
static void node_defaults(struct json_object *obj)
{
    struct json_object *st = ju_obj(obj, "status");
    struct json_object *cap = ju_obj(st, "capacity");
    if (cap && !ju_has(st, "allocatable")) {
        struct json_object *copy = NULL;
        if (json_object_deep_copy(cap, &copy, NULL) == 0 && copy)
            json_object_object_add(st, "allocatable", copy);
    }
}

static bool valid_cidr(const char *s)
{
    char ip[64];
    const char *slash = s ? strchr(s, '/') : NULL;
    unsigned char a[16];
    if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1])
        return false;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    bool v6 = inet_pton(AF_INET6, ip, a) == 1;
    if (!v6 && inet_pton(AF_INET, ip, a) != 1)
        return false;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    return *end == '\0' && bits >= 0 && bits <= (v6 ? 128 : 32);
}

static void node_taints(struct json_object *spec, struct ferr *e)
{
    struct json_object *ts = validate_opt_arr(spec, "taints", "spec", e);
    if (!ts || !validate_array_len(ts, "spec.taints", e))
        return;
    for (size_t i = 0; i < ju_len(ts); i++) {
        struct json_object *t = json_object_array_get_idx(ts, i);
        char p[VALIDATE_PATH_MAX], f[VALIDATE_PATH_MAX];
        /* Kubernetes reports taint errors under metadata.taints. */
        vpath_index(p, sizeof(p), "metadata.taints", i);
        if (!json_object_is_type(t, json_type_object)) {
            validate_type_error(e, p, t, "an object");
            continue;
        }
        const char *key = validate_opt_str(t, "key", p, e);
        const char *val = validate_opt_str(t, "value", p, e);
        const char *eff = validate_opt_str(t, "effect", p, e);
        validate_field_qualified_name(e, vpath_child(f, sizeof(f), p, "key"),
                                      key ? key : "");
        const char *m = validate_label_value(val ? val : "");
        if (m)
            validate_invalid_str(e, vpath_child(f, sizeof(f), p, "value"), val,
                                 m);
        vpath_child(f, sizeof(f), p, "effect");
        if (!eff || !eff[0])
            ferr_required(e, f);
        else if (strcmp(eff, "NoSchedule") && strcmp(eff, "PreferNoSchedule") &&
                 strcmp(eff, "NoExecute"))
            validate_not_supported(e, f, eff,
                                   "\"NoSchedule\", \"PreferNoSchedule\", "
                                   "\"NoExecute\"");
        for (size_t k = 0; k < i; k++) {
            struct json_object *o = ju_idx_obj(ts, k);
            const char *ok = ju_str(o, "key"), *oe = ju_str(o, "effect");
            if (strcmp(ok ? ok : "", key ? key : "") == 0 &&
                strcmp(oe ? oe : "", eff ? eff : "") == 0) {
                ferr_add(e, FERR_DUPLICATE, p, t,
                         "taints must be unique by key and effect pair");
                break;
            }
        }
    }
}

static void node_validate(struct json_object *obj, struct json_object *old,
                          struct ferr *e)
{
    struct json_object *spec = validate_opt_obj(obj, "spec", "", e);
    bool b;
    validate_opt_obj(obj, "status", "", e);
    if (spec) {
        validate_opt_bool(spec, "unschedulable", "spec", e, &b);
        node_taints(spec, e);
        validate_opt_str(spec, "podCIDR", "spec", e);
        struct json_object *cidrs =
            validate_opt_arr(spec, "podCIDRs", "spec", e);
        for (size_t i = 0; i < ju_len(cidrs) && i < VALIDATE_MAX_ITEMS; i++) {
            struct json_object *c = json_object_array_get_idx(cidrs, i);
            char f[VALIDATE_PATH_MAX];
            vpath_index(f, sizeof(f), "spec.podCIDRs", i);
            if (!json_object_is_type(c, json_type_string))
                validate_type_error(e, f, c, "a string");
            else if (!valid_cidr(json_object_get_string(c)))
                validate_invalid_str(e, f, json_object_get_string(c),
                                     "must be a valid CIDR value, (e.g. "
                                     "10.9.8.0/24 or 2001:db8::/64)");
        }
        if (ju_len(cidrs) > 2)
            ferr_add(e, FERR_INVALID, "spec.podCIDRs", cidrs,
                     "may specify no more than one CIDR for each IP family");
        validate_opt_str(spec, "providerID", "spec", e);
    }
    if (!old)
        return;
    struct json_object *ospec = ju_obj(old, "spec");
    const char *op = ju_str(ospec, "providerID"),
               *np = ju_str(spec, "providerID");
    if (op && op[0] && strcmp(op, np ? np : "") != 0)
        ferr_forbidden(e, "spec.providerID",
                       "node updates may not change providerID except from "
                       "\"\" to valid");
    struct json_object *oc = ju_arr(ospec, "podCIDRs");
    struct json_object *nc = ju_arr(spec, "podCIDRs");
    if (ju_len(oc) > 0 && !json_object_equal(oc, nc))
        ferr_forbidden(e, "spec.podCIDRs",
                       "node updates may not change podCIDR except from \"\" "
                       "to valid");
}

const struct resource_type rt_nodes = {
    .group = "",
    .version = "v1",
    .resource = "nodes",
    .singular = "node",
    .kind = "Node",
    .namespaced = false,
    .short_names = {"no", NULL},
    .name_rule = NAME_SUBDOMAIN,
    .has_status = true,
    .field_selectors = node_field_selectors,
    .columns = node_columns,
    .ncolumns = sizeof(node_columns) / sizeof(node_columns[0]),
    .table_cells = node_cells,
    .defaults = node_defaults,
    .validate = node_validate,
};
