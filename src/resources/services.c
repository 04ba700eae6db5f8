/*
 * core/v1 Service: printer columns (printService), defaults
 * (SetDefaults_Service plus the single-stack IP family the allocator
 * picks), and create/update validation (ValidateService(Update)).
 * Cluster IP allocation itself is done by the generic REST code.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct table_column svc_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Type", "string", "", "How the Service is exposed.", 0},
    {"Cluster-IP", "string", "", "The IP address of the service.", 0},
    {"External-IP", "string", "",
     "IP addresses for which nodes also accept traffic for this service.", 0},
    {"Port(s)", "string", "", "The ports that are exposed by this service.", 0},
    {"Age", "string", "", "Time since the object was created.", 0},
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching "
     "this selector.",
     1},
};

/* ---- Table ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* loadBalancerStatusStringer (wide): sorted unique IPs/hostnames. */
static void lb_ingress(struct buf *b, struct json_object *st)
{
    struct json_object *ing = ju_arr(ju_obj(st, "loadBalancer"), "ingress");
    size_t n = ju_len(ing);
    if (n > VALIDATE_MAX_ITEMS)
        n = VALIDATE_MAX_ITEMS;
    const char **v = calloc(n ? n : 1, sizeof(*v));
    size_t k = 0;
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = ju_idx_obj(ing, i);
        const char *ip = ju_str(e, "ip"), *host = ju_str(e, "hostname");
        const char *s = ip && ip[0] ? ip : (host && host[0] ? host : NULL);
        if (s)
            v[k++] = s;
    }
    qsort(v, k, sizeof(*v), cmp_str);
    for (size_t i = 0, out = 0; i < k; i++) {
        if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
            continue;
        buf_printf(b, "%s%s", out++ ? "," : "", v[i]);
    }
    free(v);
}

static void join_strings(struct buf *b, struct json_object *arr, bool comma)
{
    for (size_t i = 0; i < ju_len(arr) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *s = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(s, json_type_string))
            continue;
        buf_printf(b, "%s%s", comma ? "," : "", json_object_get_string(s));
        comma = true;
    }
}

static void external_ip(struct buf *b, struct json_object *obj)
{
    struct json_object *spec = ju_obj(obj, "spec");
    const char *type = ju_str(spec, "type");
    struct json_object *ext = ju_arr(spec, "externalIPs");
    if (!type)
        type = "";
    if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0) {
        if (ju_len(ext) > 0)
            join_strings(b, ext, false);
        else
            buf_puts(b, "<none>");
    } else if (strcmp(type, "LoadBalancer") == 0) {
        lb_ingress(b, ju_obj(obj, "status"));
        bool have = b->len > 0;
        if (ju_len(ext) > 0)
            join_strings(b, ext, have);
        else if (!have)
            buf_puts(b, "<pending>");
    } else if (strcmp(type, "ExternalName") == 0) {
        const char *en = ju_str(spec, "externalName");
        buf_puts(b, en ? en : "");
    } else {
        buf_puts(b, "<unknown>");
    }
}

static void svc_cells(struct json_object *obj, struct json_object *cells,
                      time_t now)
{
    struct json_object *spec = ju_obj(obj, "spec");
    struct buf b;
    char age[64];
    buf_init(&b, 0);
    print_cell_str(cells, ju_str(ju_obj(obj, "metadata"), "name"));
    print_cell_str(cells, ju_str(spec, "type"));
    const char *ip = NULL;
    struct json_object *ips = ju_arr(spec, "clusterIPs");
    if (ju_len(ips) > 0) {
        struct json_object *first = json_object_array_get_idx(ips, 0);
        ip = json_object_is_type(first, json_type_string)
                 ? json_object_get_string(first)
                 : "";
    } else {
        /* Not yet normalised into clusterIPs: use clusterIP. */
        ip = ju_str(spec, "clusterIP");
        if (ip && !ip[0])
            ip = NULL;
    }
    print_cell_str(cells, ip ? ip : "<none>");
    external_ip(&b, obj);
    print_cell_str(cells, b.len ? b.data : "");
    buf_reset(&b);
    struct json_object *ports = ju_arr(spec, "ports");
    for (size_t i = 0; i < ju_len(ports) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *p = ju_idx_obj(ports, i);
        int64_t port = 0, np = 0;
        const char *proto = ju_str(p, "protocol");
        ju_int(p, "port", &port);
        ju_int(p, "nodePort", &np);
        if (np > 0)
            buf_printf(&b, "%s%lld:%lld/%s", i ? "," : "", (long long)port,
                       (long long)np, proto ? proto : "");
        else
            buf_printf(&b, "%s%lld/%s", i ? "," : "", (long long)port,
                       proto ? proto : "");
    }
    print_cell_str(cells, b.len ? b.data : "<none>");
    print_age(age, sizeof(age), obj, now);
    print_cell_str(cells, age);
    char *sel = print_labels(ju_obj(spec, "selector"));
    print_cell_str(cells, sel ? sel : "<none>");
    free(sel);
    buf_free(&b);
}

/* ---- Create and defaults ---- */

static void svc_prepare_create(struct json_object *obj)
{
    if (!json_object_is_type(obj, json_type_object))
        return;
    struct json_object *st = json_object_new_object();
    json_object_object_add(st, "loadBalancer", json_object_new_object());
    json_object_object_add(obj, "status", st);
}

static void svc_defaults(struct json_object *obj)
{
    if (!ju_has(obj, "spec"))
        ju_obj_ensure(obj, "spec");
    struct json_object *spec = ju_obj(obj, "spec");
    if (!spec)
        return;
    ju_default_str(spec, "sessionAffinity", "None");
    const char *aff = ju_str(spec, "sessionAffinity");
    if (aff && strcmp(aff, "None") == 0)
        json_object_object_del(spec, "sessionAffinityConfig");
    if (aff && strcmp(aff, "ClientIP") == 0) {
        struct json_object *cfg = ju_obj_ensure(spec, "sessionAffinityConfig");
        ju_default_int(ju_obj_ensure(cfg, "clientIP"), "timeoutSeconds", 10800);
    }
    ju_default_str(spec, "type", "ClusterIP");
    const char *type = ju_str(spec, "type");
    if (!type)
        type = "";
    struct json_object *ports = ju_arr(spec, "ports");
    for (size_t i = 0; i < ju_len(ports) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *p = ju_idx_obj(ports, i);
        int64_t port, tp;
        if (!p)
            continue;
        ju_default_str(p, "protocol", "TCP");
        const char *tps = ju_str(p, "targetPort");
        bool unset = !ju_has(p, "targetPort") || (tps && !tps[0]) ||
                     (ju_int(p, "targetPort", &tp) && tp == 0);
        if (unset && ju_int(p, "port", &port))
            ju_set_int(p, "targetPort", port);
    }
    bool ext_access = strcmp(type, "LoadBalancer") == 0 ||
                      strcmp(type, "NodePort") == 0 ||
                      (strcmp(type, "ClusterIP") == 0 &&
                       ju_len(ju_arr(spec, "externalIPs")) > 0);
    if (ext_access)
        ju_default_str(spec, "externalTrafficPolicy", "Cluster");
    if (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0 ||
        strcmp(type, "ClusterIP") == 0)
        ju_default_str(spec, "internalTrafficPolicy", "Cluster");
    if (strcmp(type, "LoadBalancer") == 0)
        ju_default_bool(spec, "allocateLoadBalancerNodePorts", true);
    if (strcmp(type, "ExternalName") != 0) {
        /* kedge's service network is single-stack IPv4. */
        ju_default_str(spec, "ipFamilyPolicy", "SingleStack");
        if (!ju_has(spec, "ipFamilies")) {
            struct json_object *f = json_object_new_array();
            json_object_array_add(f, json_object_new_string("IPv4"));
            json_object_object_add(spec, "ipFamilies", f);
        }
        const char *ip = ju_str(spec, "clusterIP");
        if (ip && ip[0] && !ju_has(spec, "clusterIPs")) {
            struct json_object *a = json_object_new_array();
            json_object_array_add(a, json_object_new_string(ip));
            json_object_object_add(spec, "clusterIPs", a);
        }
    }
    if (!ju_has(obj, "status"))
        ju_obj_ensure(ju_obj_ensure(obj, "status"), "loadBalancer");
}

/* ---- Validation ---- */

#define TYPES_SUPPORTED                                                        \
    "\"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""

static bool is_headless(struct json_object *spec)
{
    const char *ip = ju_str(spec, "clusterIP");
    return ip && strcmp(ip, "None") == 0;
}

static void svc_port(struct json_object *p, const char *pp, bool require_name,
                     struct ferr *e)
{
    char f[VALIDATE_PATH_MAX];
    const char *name = validate_opt_str(p, "name", pp, e);
    vpath_child(f, sizeof(f), pp, "name");
    if (require_name && (!name || !name[0]))
        ferr_required(e, f);
    else if (name && name[0])
        validate_field_dns1123_label(e, f, name);
    int64_t port = 0;
    validate_opt_int(p, "port", pp, e, &port);
    validate_field_port_num(e, vpath_child(f, sizeof(f), pp, "port"), port);
    const char *proto = validate_opt_str(p, "protocol", pp, e);
    vpath_child(f, sizeof(f), pp, "protocol");
    if (!proto || !proto[0])
        ferr_required(e, f);
    else if (strcmp(proto, "TCP") && strcmp(proto, "UDP") &&
             strcmp(proto, "SCTP"))
        validate_not_supported(e, f, proto, "\"SCTP\", \"TCP\", \"UDP\"");
    struct json_object *tp = NULL;
    vpath_child(f, sizeof(f), pp, "targetPort");
    if (json_object_object_get_ex(p, "targetPort", &tp) && tp) {
        int64_t n;
        if (json_object_is_type(tp, json_type_string))
            validate_field_port_name(e, f, json_object_get_string(tp));
        else if (ju_int(p, "targetPort", &n))
            validate_field_port_num(e, f, n);
        else
            validate_type_error(e, f, tp, "an integer or a string");
    }
    const char *ap = validate_opt_str(p, "appProtocol", pp, e);
    if (ap)
        validate_field_qualified_name(
            e, vpath_child(f, sizeof(f), pp, "appProtocol"), ap);
    int64_t np;
    if (validate_opt_int(p, "nodePort", pp, e, &np) && np != 0 &&
        (np < 1 || np > 65535))
        validate_field_port_num(e, vpath_child(f, sizeof(f), pp, "nodePort"),
                                np);
}

/* Same (protocol, numkey) pair. */
static bool same_port(struct json_object *a, struct json_object *b,
                      const char *numkey)
{
    int64_t x = 0, y = 0;
    const char *pa = ju_str(a, "protocol"), *pb = ju_str(b, "protocol");
    ju_int(a, numkey, &x);
    ju_int(b, numkey, &y);
    return x == y && strcmp(pa ? pa : "", pb ? pb : "") == 0;
}

static void svc_validate_ports(struct json_object *ports, struct ferr *e)
{
    if (!ports || !validate_array_len(ports, "spec.ports", e))
        return;
    size_t n = ju_len(ports);
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(ports, i);
        char pp[VALIDATE_PATH_MAX], f[VALIDATE_PATH_MAX];
        vpath_index(pp, sizeof(pp), "spec.ports", i);
        if (!json_object_is_type(p, json_type_object)) {
            validate_type_error(e, pp, p, "an object");
            continue;
        }
        svc_port(p, pp, n > 1, e);
        const char *name = ju_str(p, "name");
        for (size_t k = 0; name && name[0] && k < i; k++) {
            const char *o = ju_str(ju_idx_obj(ports, k), "name");
            if (o && strcmp(o, name) == 0) {
                validate_duplicate_str(e, vpath_child(f, sizeof(f), pp, "name"),
                                       name);
                break;
            }
        }
    }
}

/* Duplicate nodePorts and duplicate (protocol, port) pairs. */
static void svc_validate_port_dups(struct json_object *ports, struct ferr *e)
{
    size_t n =
        ju_len(ports) < VALIDATE_MAX_ITEMS ? ju_len(ports) : VALIDATE_MAX_ITEMS;
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = ju_idx_obj(ports, i);
        int64_t np = 0, port = 0;
        char pp[VALIDATE_PATH_MAX], f[VALIDATE_PATH_MAX], msg[256];
        if (!p)
            continue;
        vpath_index(pp, sizeof(pp), "spec.ports", i);
        if (ju_int(p, "nodePort", &np) && np != 0) {
            for (size_t k = 0; k < i; k++) {
                struct json_object *o = ju_idx_obj(ports, k);
                if (o && same_port(o, p, "nodePort")) {
                    snprintf(msg, sizeof(msg), "Duplicate value: %lld",
                             (long long)np);
                    validate_add_raw(e, FERR_DUPLICATE,
                                     vpath_child(f, sizeof(f), pp, "nodePort"),
                                     msg);
                    break;
                }
            }
        }
        ju_int(p, "port", &port);
        for (size_t k = 0; k < i; k++) {
            struct json_object *o = ju_idx_obj(ports, k);
            if (o && same_port(o, p, "port")) {
                const char *proto = ju_str(p, "protocol");
                /* Kubernetes prints the (protocol, port) key in Go syntax. */
                snprintf(msg, sizeof(msg),
                         "Duplicate value: core.ServicePort{Name:\"\", "
                         "Protocol:\"%s\", AppProtocol:(*string)(nil), "
                         "Port:%lld, TargetPort:intstr.IntOrString{Type:0, "
                         "IntVal:0, StrVal:\"\"}, NodePort:0}",
                         proto ? proto : "", (long long)port);
                validate_add_raw(e, FERR_DUPLICATE, pp, msg);
                break;
            }
        }
    }
}

static void svc_validate_affinity(struct json_object *spec, struct ferr *e)
{
    const char *aff = validate_opt_str(spec, "sessionAffinity", "spec", e);
    if (!aff || !aff[0]) {
        ferr_required(e, "spec.sessionAffinity");
    } else if (strcmp(aff, "None") && strcmp(aff, "ClientIP")) {
        validate_not_supported(e, "spec.sessionAffinity", aff,
                               "\"ClientIP\", \"None\"");
    } else if (strcmp(aff, "None") == 0) {
        if (ju_has(spec, "sessionAffinityConfig"))
            ferr_forbidden(e, "spec.sessionAffinityConfig",
                           "must not be set when session affinity is None");
    } else {
        int64_t t = 0;
        struct json_object *cip =
            ju_obj(ju_obj(spec, "sessionAffinityConfig"), "clientIP");
        const char *f = "spec.sessionAffinityConfig.clientIP.timeoutSeconds";
        if (!ju_int(cip, "timeoutSeconds", &t))
            ferr_required(e, f);
        else if (t <= 0 || t > 86400)
            validate_invalid_int(e, f, t,
                                 "must be greater than 0 and less than 86400");
    }
}

static void svc_validate_ips(struct json_object *spec, struct json_object *cips,
                             struct ferr *e)
{
    for (size_t i = 0; i < ju_len(cips) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *ip = json_object_array_get_idx(cips, i);
        char f[VALIDATE_PATH_MAX];
        vpath_index(f, sizeof(f), "spec.clusterIPs", i);
        if (!json_object_is_type(ip, json_type_string)) {
            validate_type_error(e, f, ip, "a string");
            continue;
        }
        const char *s = json_object_get_string(ip);
        if (i == 0 && strcmp(s, "None") == 0)
            continue;
        validate_field_ip(e, f, s);
    }
    const char *cip = ju_str(spec, "clusterIP");
    struct json_object *c0 =
        ju_len(cips) ? json_object_array_get_idx(cips, 0) : NULL;
    if (cip && cip[0] && c0 && json_object_is_type(c0, json_type_string) &&
        strcmp(cip, json_object_get_string(c0)) != 0)
        validate_invalid_str(e, "spec.clusterIPs", json_object_get_string(c0),
                             "element [0] must match clusterIP");

    struct json_object *ext = validate_opt_arr(spec, "externalIPs", "spec", e);
    for (size_t i = 0; i < ju_len(ext) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *ip = json_object_array_get_idx(ext, i);
        char f[VALIDATE_PATH_MAX];
        vpath_index(f, sizeof(f), "spec.externalIPs", i);
        if (!json_object_is_type(ip, json_type_string))
            validate_type_error(e, f, ip, "a string");
        else
            validate_field_ip(e, f, json_object_get_string(ip));
    }
}

static void svc_validate_spec(struct json_object *spec, struct ferr *e)
{
    const char *type = validate_opt_str(spec, "type", "spec", e);
    struct json_object *ports = validate_opt_arr(spec, "ports", "spec", e);
    bool headless = is_headless(spec);
    bool extname = type && strcmp(type, "ExternalName") == 0;
    validate_opt_str(spec, "clusterIP", "spec", e);
    struct json_object *cips = validate_opt_arr(spec, "clusterIPs", "spec", e);

    if (ju_len(ports) == 0 && !headless && !extname)
        ferr_required(e, "spec.ports");
    if (type && strcmp(type, "LoadBalancer") == 0) {
        for (size_t i = 0; i < ju_len(ports) && i < VALIDATE_MAX_ITEMS; i++) {
            int64_t port;
            char p[VALIDATE_PATH_MAX];
            if (ju_int(ju_idx_obj(ports, i), "port", &port) && port == 10250)
                validate_invalid_int(
                    e, vpath_index(p, sizeof(p), "spec.ports", i), port,
                    "may not expose port 10250 externally since it is used "
                    "by kubelet");
        }
        if (headless)
            validate_invalid_str(e, "spec.clusterIPs[0]", "None",
                                 "may not be set to 'None' for LoadBalancer "
                                 "services");
    } else if (type && strcmp(type, "NodePort") == 0) {
        if (headless)
            validate_invalid_str(e, "spec.clusterIPs[0]", "None",
                                 "may not be set to 'None' for NodePort "
                                 "services");
    } else if (extname) {
        if (ju_len(cips) > 0)
            ferr_forbidden(e, "spec.clusterIPs",
                           "may not be set for ExternalName services");
        if (ju_len(ju_arr(spec, "ipFamilies")) > 0)
            ferr_forbidden(e, "spec.ipFamilies",
                           "may not be set for ExternalName services");
        if (ju_has(spec, "ipFamilyPolicy"))
            ferr_forbidden(e, "spec.ipFamilyPolicy",
                           "may not be set for ExternalName services");
        const char *cname = validate_opt_str(spec, "externalName", "spec", e);
        /* The CNAME may end in a dot to mark it fully qualified. Longer
         * names than the buffer fail the 253 limit anyway. */
        char buf[300];
        snprintf(buf, sizeof(buf), "%s", cname ? cname : "");
        size_t n = strlen(buf);
        if (n > 0 && buf[n - 1] == '.')
            buf[n - 1] = '\0';
        if (buf[0])
            validate_field_dns1123_subdomain(e, "spec.externalName", buf);
        else
            ferr_required(e, "spec.externalName");
    }

    svc_validate_ports(ports, e);

    struct json_object *sel = NULL;
    if (json_object_object_get_ex(spec, "selector", &sel) && sel)
        validate_labels(sel, "spec.selector", e);

    svc_validate_affinity(spec, e);
    svc_validate_ips(spec, cips, e);

    if (!type || !type[0]) {
        if (!ju_has(spec, "type") || type)
            ferr_required(e, "spec.type");
    } else if (strcmp(type, "ClusterIP") && strcmp(type, "NodePort") &&
               strcmp(type, "LoadBalancer") && !extname) {
        validate_not_supported(e, "spec.type", type, TYPES_SUPPORTED);
    }
    if (type && strcmp(type, "ClusterIP") == 0) {
        for (size_t i = 0; i < ju_len(ports) && i < VALIDATE_MAX_ITEMS; i++) {
            int64_t np;
            char p[VALIDATE_PATH_MAX], f[VALIDATE_PATH_MAX];
            if (ju_int(ju_idx_obj(ports, i), "nodePort", &np) && np != 0)
                ferr_forbidden(
                    e,
                    vpath_child(f, sizeof(f),
                                vpath_index(p, sizeof(p), "spec.ports", i),
                                "nodePort"),
                    "may not be used when `type` is 'ClusterIP'");
        }
    }
    svc_validate_port_dups(ports, e);
    validate_opt_str(spec, "externalTrafficPolicy", "spec", e);
    validate_opt_str(spec, "internalTrafficPolicy", "spec", e);
    validate_opt_str(spec, "loadBalancerIP", "spec", e);
    validate_opt_arr(spec, "ipFamilies", "spec", e);
    validate_opt_str(spec, "ipFamilyPolicy", "spec", e);
}

/* Renders []string{"a", "b"} as Go's %#v does, for clusterIPs errors. */
static void go_string_slice(char *buf, size_t len, struct json_object *arr)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "[]string{");
    for (size_t i = 0; i < ju_len(arr) && i < 8; i++) {
        struct json_object *s = json_object_array_get_idx(arr, i);
        buf_printf(&b, "%s\"%s\"", i ? ", " : "",
                   json_object_is_type(s, json_type_string)
                       ? json_object_get_string(s)
                       : "");
    }
    buf_puts(&b, "}");
    snprintf(buf, len, "%s", b.len ? b.data : "[]string{}");
    buf_free(&b);
}

/* Keeps what the REST storage keeps across an update (the allocated
 * cluster IPs and node ports a client left out) and checks that the
 * cluster IPs do not change. */
static void svc_validate_update(struct json_object *spec,
                                struct json_object *ospec, struct ferr *e)
{
    const char *ntype = ju_str(spec, "type"), *otype = ju_str(ospec, "type");
    bool n_ext = ntype && strcmp(ntype, "ExternalName") == 0;
    bool o_ext = otype && strcmp(otype, "ExternalName") == 0;
    if (n_ext || o_ext)
        return;
    const char *nip = ju_str(spec, "clusterIP");
    struct json_object *v = NULL;
    if (!nip || !nip[0]) {
        if (json_object_object_get_ex(ospec, "clusterIP", &v) && v)
            json_object_object_add(spec, "clusterIP", json_object_get(v));
        if (!ju_has(spec, "clusterIPs") &&
            json_object_object_get_ex(ospec, "clusterIPs", &v) && v)
            json_object_object_add(spec, "clusterIPs", json_object_get(v));
    } else if (!ju_has(spec, "clusterIPs")) {
        struct json_object *a = json_object_new_array();
        json_object_array_add(a, json_object_new_string(nip));
        json_object_object_add(spec, "clusterIPs", a);
    }
    struct json_object *np = ju_arr(spec, "ports");
    struct json_object *op = ju_arr(ospec, "ports");
    bool node_ports = ntype && strcmp(ntype, "ClusterIP") != 0;
    for (size_t i = 0; node_ports && i < ju_len(np) && i < VALIDATE_MAX_ITEMS;
         i++) {
        struct json_object *p = ju_idx_obj(np, i);
        int64_t port, oport, onp;
        if (!p || ju_has(p, "nodePort") || !ju_int(p, "port", &port))
            continue;
        for (size_t k = 0; k < ju_len(op) && k < VALIDATE_MAX_ITEMS; k++) {
            struct json_object *o = ju_idx_obj(op, k);
            if (ju_int(o, "port", &oport) && oport == port &&
                ju_int(o, "nodePort", &onp) && onp != 0) {
                ju_set_int(p, "nodePort", onp);
                break;
            }
        }
    }
    if (is_headless(spec) && is_headless(ospec))
        return;
    struct json_object *na = ju_arr(spec, "clusterIPs");
    struct json_object *oa = ju_arr(ospec, "clusterIPs");
    char val[400], f[64], msg[512];
    go_string_slice(val, sizeof(val), na);
    if (ju_len(oa) == ju_len(na)) {
        for (size_t i = 0; i < ju_len(oa) && i < 8; i++) {
            if (json_object_equal(json_object_array_get_idx(oa, i),
                                  json_object_array_get_idx(na, i)))
                continue;
            snprintf(f, sizeof(f), "spec.clusterIPs[%zu]", i);
            snprintf(msg, sizeof(msg),
                     "Invalid value: %s: may not change once set", val);
            validate_add_raw(e, FERR_INVALID, f, msg);
        }
    } else if (ju_len(oa) > ju_len(na) && ju_len(na) == 0) {
        snprintf(msg, sizeof(msg),
                 "Invalid value: %s: primary clusterIP can not be unset", val);
        validate_add_raw(e, FERR_INVALID, "spec.clusterIPs[0]", msg);
    }
}

/*
 * Note: on update this also copies the stored cluster IPs and node ports
 * into `obj` when the client left them out, as Kubernetes' service REST
 * storage does before validating.
 */
static void svc_validate(struct json_object *obj, struct json_object *old,
                         struct ferr *errs)
{
    struct json_object *spec = NULL;
    if (!json_object_object_get_ex(obj, "spec", &spec) || !spec) {
        ferr_required(errs, "spec.ports");
        return;
    }
    if (!json_object_is_type(spec, json_type_object)) {
        validate_type_error(errs, "spec", spec, "an object");
        return;
    }
    if (old && ju_obj(old, "spec"))
        svc_validate_update(spec, ju_obj(old, "spec"), errs);
    svc_validate_spec(spec, errs);
}

static const char *const svc_field_selectors[] = {NULL};

const struct resource_type rt_services = {
    .group = "",
    .version = "v1",
    .resource = "services",
    .singular = "service",
    .kind = "Service",
    .namespaced = true,
    .short_names = {"svc", NULL},
    .in_all = true,
    .name_rule = NAME_LABEL_1035,
    .has_generation = false,
    .has_status = true,
    .field_selectors = svc_field_selectors,
    .columns = svc_columns,
    .ncolumns = sizeof(svc_columns) / sizeof(svc_columns[0]),
    .table_cells = svc_cells,
    .prepare_create = svc_prepare_create,
    .defaults = svc_defaults,
    .validate = svc_validate,
};
