/*
 * The small core/v1 kinds: ConfigMap, Secret, ServiceAccount and
 * Endpoints (printer columns, defaults such as Secret stringData merging,
 * and validation with Kubernetes' texts).
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* core.MaxSecretSize, shared by ConfigMaps and Secrets. */
#define MAX_DATA_BYTES (1024 * 1024)
#define IMMUTABLE_MSG "field is immutable when `immutable` is set"

static void cell_name(struct json_object *obj, struct json_object *cells)
{
    print_cell_str(cells, ju_str(ju_obj(obj, "metadata"), "name"));
}

static void cell_age(struct json_object *obj, struct json_object *cells,
                     time_t now)
{
    char age[64];
    print_age(age, sizeof(age), obj, now);
    print_cell_str(cells, age);
}

static long long obj_len(struct json_object *o)
{
    return o && json_object_is_type(o, json_type_object)
               ? json_object_object_length(o)
               : 0;
}

/* ---------------------------------------------------------------------
 * Base64 (encoding/base64 StdEncoding, as Go's JSON []byte uses)
 * ------------------------------------------------------------------- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(char c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

/* Checks padded standard base64 (CR and LF ignored, as Go does). Returns
 * -1 when valid (storing the decoded length), else the offset of the
 * first bad input byte, Go's "illegal base64 data at input byte N". */
static long b64_check(const char *s, size_t *decoded)
{
    size_t n = strlen(s), q = 0, out = 0, quad_start = 0;
    int pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n')
            continue;
        if (q == 0)
            quad_start = i;
        if (c == '=') {
            if (q < 2)
                return (long)i;
            pad++;
        } else if (pad || b64val(c) < 0) {
            return (long)i;
        }
        if (++q == 4) {
            out += 3 - (size_t)pad;
            q = 0;
            if (pad) {
                /* Only line breaks may follow the padding. */
                for (size_t k = i + 1; k < n; k++)
                    if (s[k] != '\r' && s[k] != '\n')
                        return (long)k;
                break;
            }
        }
    }
    if (q != 0)
        return (long)(pad ? quad_start : n);
    *decoded = out;
    return -1;
}

static char *b64_encode(const char *s, size_t n)
{
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        char q[4] = {b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
                     i + 1 < n ? b64chars[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64chars[v & 63] : '='};
        buf_append(&b, q, 4);
    }
    buf_puts(&b, "");
    return buf_steal(&b, NULL);
}

/* Validates a map of base64 values at `field`; adds their decoded sizes
 * to *total. */
static void base64_map(struct json_object *m, const char *field, struct ferr *e,
                       size_t *total)
{
    json_object_object_foreach(m, k, v)
    {
        char f[VALIDATE_PATH_MAX];
        size_t dec = 0;
        vpath_key(f, sizeof(f), field, k);
        validate_field_config_key(e, f, k);
        if (!json_object_is_type(v, json_type_string)) {
            if (v)
                validate_type_error(e, f, v, "a base64 encoded string");
            continue;
        }
        long bad = b64_check(json_object_get_string(v), &dec);
        if (bad >= 0) {
            char msg[96];
            snprintf(msg, sizeof(msg), "illegal base64 data at input byte %ld",
                     bad);
            validate_invalid_str(e, f, "<secret contents redacted>", msg);
            continue;
        }
        *total += dec;
    }
}

/* Immutable ConfigMaps/Secrets keep `immutable` and their data. */
static void immutable_update(struct json_object *obj, struct json_object *old,
                             const char *const *fields, struct ferr *e)
{
    bool oi = false, ni = false;
    if (!old || !ju_bool(old, "immutable", &oi) || !oi)
        return;
    if (!ju_bool(obj, "immutable", &ni) || !ni)
        ferr_forbidden(e, "immutable", IMMUTABLE_MSG);
    for (int i = 0; fields[i]; i++) {
        struct json_object *a = NULL, *b = NULL;
        json_object_object_get_ex(obj, fields[i], &a);
        json_object_object_get_ex(old, fields[i], &b);
        if (!json_object_equal(a, b))
            ferr_forbidden(e, fields[i], IMMUTABLE_MSG);
    }
}

/* ---------------------------------------------------------------------
 * ConfigMap
 * ------------------------------------------------------------------- */

static const struct table_column cm_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Data", "string", "", "Data contains the configuration data.", 0},
    {"Age", "string", "", "Time since the object was created.", 0},
};

static void cm_cells(struct json_object *obj, struct json_object *cells,
                     time_t now)
{
    cell_name(obj, cells);
    print_cell_int(cells, obj_len(ju_obj(obj, "data")) +
                              obj_len(ju_obj(obj, "binaryData")));
    cell_age(obj, cells, now);
}

static void cm_validate(struct json_object *obj, struct json_object *old,
                        struct ferr *e)
{
    size_t total = 0;
    struct json_object *data = validate_opt_obj(obj, "data", "", e);
    struct json_object *bin = validate_opt_obj(obj, "binaryData", "", e);
    bool b;
    validate_opt_bool(obj, "immutable", "", e, &b);
    if (data) {
        json_object_object_foreach(data, k, v)
        {
            char f[VALIDATE_PATH_MAX];
            vpath_key(f, sizeof(f), "data", k);
            validate_field_config_key(e, f, k);
            if (ju_has(bin, k))
                validate_invalid_str(e, f, k,
                                     "duplicate of key present in binaryData");
            if (!json_object_is_type(v, json_type_string)) {
                if (v)
                    validate_type_error(e, f, v, "a string");
                continue;
            }
            total += (size_t)json_object_get_string_len(v);
        }
    }
    if (bin)
        base64_map(bin, "binaryData", e, &total);
    if (total > MAX_DATA_BYTES)
        ferr_add(e, FERR_TOO_LONG, "[]", NULL, "must have at most %d bytes",
                 MAX_DATA_BYTES);
    static const char *const fields[] = {"data", "binaryData", NULL};
    immutable_update(obj, old, fields, e);
}

const struct resource_type rt_configmaps = {
    .group = "",
    .version = "v1",
    .resource = "configmaps",
    .singular = "configmap",
    .kind = "ConfigMap",
    .namespaced = true,
    .short_names = {"cm", NULL},
    .name_rule = NAME_SUBDOMAIN,
    .columns = cm_columns,
    .ncolumns = sizeof(cm_columns) / sizeof(cm_columns[0]),
    .table_cells = cm_cells,
    .validate = cm_validate,
};

/* ---------------------------------------------------------------------
 * Secret
 * ------------------------------------------------------------------- */

static const char *const secret_field_selectors[] = {"type", NULL};

static const struct table_column secret_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Type", "string", "",
     "Used to facilitate programmatic handling of "
     "secret data.",
     0},
    {"Data", "string", "", "Data contains the secret data.", 0},
    {"Age", "string", "", "Time since the object was created.", 0},
};

static void secret_cells(struct json_object *obj, struct json_object *cells,
                         time_t now)
{
    cell_name(obj, cells);
    print_cell_str(cells, ju_str(obj, "type"));
    print_cell_int(cells, obj_len(ju_obj(obj, "data")));
    cell_age(obj, cells, now);
}

/* stringData is write-only: merged into data (base64) on every write. */
static void secret_defaults(struct json_object *obj)
{
    const char *type = ju_str(obj, "type");
    if (!ju_has(obj, "type") || (type && !type[0]))
        ju_set_str(obj, "type", "Opaque");
    struct json_object *sd = ju_obj(obj, "stringData");
    if (!sd)
        return;
    bool all = true;
    json_object_object_foreach(sd, k, v)
    {
        if (!json_object_is_type(v, json_type_string) && k)
            all = false;
    }
    if (!all)
        return; /* left for validation to report */
    if (!ju_has(obj, "data"))
        ju_obj_ensure(obj, "data");
    struct json_object *data = ju_obj(obj, "data");
    if (!data)
        return;
    json_object_object_foreach(sd, k2, v2)
    {
        char *enc = b64_encode(json_object_get_string(v2),
                               (size_t)json_object_get_string_len(v2));
        if (enc)
            json_object_object_add(data, k2, json_object_new_string(enc));
        free(enc);
    }
    json_object_object_del(obj, "stringData");
}

static void secret_required_key(struct json_object *data, const char *key,
                                struct ferr *e)
{
    char f[VALIDATE_PATH_MAX];
    if (!ju_has(data, key))
        ferr_required(e, vpath_key(f, sizeof(f), "data", key));
}

static void secret_validate(struct json_object *obj, struct json_object *old,
                            struct ferr *e)
{
    size_t total = 0;
    struct json_object *data = validate_opt_obj(obj, "data", "", e);
    struct json_object *sd = validate_opt_obj(obj, "stringData", "", e);
    const char *type = validate_opt_str(obj, "type", "", e);
    bool b;
    validate_opt_bool(obj, "immutable", "", e, &b);
    if (sd) {
        json_object_object_foreach(sd, k, v)
        {
            char f[VALIDATE_PATH_MAX];
            if (!json_object_is_type(v, json_type_string))
                validate_type_error(e, vpath_key(f, sizeof(f), "stringData", k),
                                    v, "a string");
        }
    }
    if (data)
        base64_map(data, "data", e, &total);
    if (total > MAX_DATA_BYTES)
        ferr_add(e, FERR_TOO_LONG, "data", NULL, "must have at most %d bytes",
                 MAX_DATA_BYTES);
    if (!type)
        type = "";
    if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
        const char *sa = ju_str(ju_path(obj, "metadata.annotations"),
                                "kubernetes.io/service-account.name");
        if (!sa || !sa[0])
            ferr_required(e, "metadata.annotations[kubernetes.io/"
                             "service-account.name]");
    } else if (strcmp(type, "kubernetes.io/dockercfg") == 0) {
        secret_required_key(data, ".dockercfg", e);
    } else if (strcmp(type, "kubernetes.io/dockerconfigjson") == 0) {
        secret_required_key(data, ".dockerconfigjson", e);
    } else if (strcmp(type, "kubernetes.io/basic-auth") == 0) {
        if (!ju_has(data, "username") && !ju_has(data, "password")) {
            secret_required_key(data, "username", e);
            secret_required_key(data, "password", e);
        }
    } else if (strcmp(type, "kubernetes.io/ssh-auth") == 0) {
        const char *k = ju_str(data, "ssh-privatekey");
        if (!k || !k[0])
            ferr_required(e, "data[ssh-privatekey]");
    } else if (strcmp(type, "kubernetes.io/tls") == 0) {
        secret_required_key(data, "tls.crt", e);
        secret_required_key(data, "tls.key", e);
    }
    if (old) {
        struct json_object *nt = NULL, *ot = NULL;
        json_object_object_get_ex(obj, "type", &nt);
        json_object_object_get_ex(old, "type", &ot);
        validate_immutable(e, "type", nt, ot);
        static const char *const fields[] = {"data", NULL};
        immutable_update(obj, old, fields, e);
    }
}

const struct resource_type rt_secrets = {
    .group = "",
    .version = "v1",
    .resource = "secrets",
    .singular = "secret",
    .kind = "Secret",
    .namespaced = true,
    .short_names = {NULL},
    .name_rule = NAME_SUBDOMAIN,
    .field_selectors = secret_field_selectors,
    .columns = secret_columns,
    .ncolumns = sizeof(secret_columns) / sizeof(secret_columns[0]),
    .table_cells = secret_cells,
    .defaults = secret_defaults,
    .validate = secret_validate,
};

/* ---------------------------------------------------------------------
 * ServiceAccount
 * ------------------------------------------------------------------- */

static const struct table_column sa_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Secrets", "string", "",
     "Secrets is a list of the secrets in the same namespace that pods "
     "running using this ServiceAccount are allowed to use.",
     0},
    {"Age", "string", "", "Time since the object was created.", 0},
};

static void sa_cells(struct json_object *obj, struct json_object *cells,
                     time_t now)
{
    cell_name(obj, cells);
    print_cell_int(cells, (long long)ju_len(ju_arr(obj, "secrets")));
    cell_age(obj, cells, now);
}

static void ref_list(struct json_object *obj, const char *key, struct ferr *e)
{
    struct json_object *a = validate_opt_arr(obj, key, "", e);
    if (!a || !validate_array_len(a, key, e))
        return;
    for (size_t i = 0; i < ju_len(a); i++) {
        struct json_object *r = json_object_array_get_idx(a, i);
        char p[VALIDATE_PATH_MAX];
        vpath_index(p, sizeof(p), key, i);
        if (!json_object_is_type(r, json_type_object)) {
            validate_type_error(e, p, r, "an object");
            continue;
        }
        validate_opt_str(r, "name", p, e);
        validate_opt_str(r, "namespace", p, e);
    }
}

static void sa_validate(struct json_object *obj, struct json_object *old,
                        struct ferr *e)
{
    bool b;
    ref_list(obj, "secrets", e);
    ref_list(obj, "imagePullSecrets", e);
    validate_opt_bool(obj, "automountServiceAccountToken", "", e, &b);
}

const struct resource_type rt_serviceaccounts = {
    .group = "",
    .version = "v1",
    .resource = "serviceaccounts",
    .singular = "serviceaccount",
    .kind = "ServiceAccount",
    .namespaced = true,
    .short_names = {"sa", NULL},
    .name_rule = NAME_SUBDOMAIN,
    .columns = sa_columns,
    .ncolumns = sizeof(sa_columns) / sizeof(sa_columns[0]),
    .table_cells = sa_cells,
    .validate = sa_validate,
};

/* ---------------------------------------------------------------------
 * Endpoints
 * ------------------------------------------------------------------- */

static const struct table_column ep_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Endpoints", "string", "",
     "The set of all endpoints is the union of all subsets.", 0},
    {"Age", "string", "", "Time since the object was created.", 0},
};

#define EP_SHOWN 3

/* formatEndpoints: up to three "ip:port" entries and "+ N more...". */
static void ep_format(struct buf *b, struct json_object *obj)
{
    struct json_object *subsets = ju_arr(obj, "subsets");
    long long count = 0;
    int shown = 0;
    bool more = false;
    if (ju_len(subsets) == 0) {
        buf_puts(b, "<none>");
        return;
    }
    for (size_t s = 0; s < ju_len(subsets) && s < VALIDATE_MAX_ITEMS; s++) {
        struct json_object *ss = ju_idx_obj(subsets, s);
        struct json_object *addrs = ju_arr(ss, "addresses");
        struct json_object *ports = ju_arr(ss, "ports");
        size_t na = ju_len(addrs);
        size_t np = ju_len(ports) ? ju_len(ports) : 1;
        for (size_t p = 0; p < np && p < VALIDATE_MAX_ITEMS; p++) {
            int64_t port = 0;
            bool has_port = ju_len(ports) > 0;
            if (has_port)
                ju_int(ju_idx_obj(ports, p), "port", &port);
            count += (long long)na;
            for (size_t a = 0; a < na; a++) {
                if (shown == EP_SHOWN) {
                    more = true;
                    break;
                }
                const char *ip = ju_str(ju_idx_obj(addrs, a), "ip");
                if (!ip)
                    ip = "";
                const char *sep = shown++ ? "," : "";
                if (!has_port)
                    buf_printf(b, "%s%s", sep, ip);
                else if (strchr(ip, ':'))
                    buf_printf(b, "%s[%s]:%lld", sep, ip, (long long)port);
                else
                    buf_printf(b, "%s%s:%lld", sep, ip, (long long)port);
            }
        }
    }
    if (more)
        buf_printf(b, " + %lld more...", count - EP_SHOWN);
}

static void ep_cells(struct json_object *obj, struct json_object *cells,
                     time_t now)
{
    struct buf b;
    buf_init(&b, 0);
    cell_name(obj, cells);
    ep_format(&b, obj);
    print_cell_str(cells, b.len ? b.data : "");
    buf_free(&b);
    cell_age(obj, cells, now);
}

static void ep_defaults(struct json_object *obj)
{
    struct json_object *subsets = ju_arr(obj, "subsets");
    for (size_t s = 0; s < ju_len(subsets) && s < VALIDATE_MAX_ITEMS; s++) {
        struct json_object *ports = ju_arr(ju_idx_obj(subsets, s), "ports");
        for (size_t p = 0; p < ju_len(ports) && p < VALIDATE_MAX_ITEMS; p++)
            ju_default_str(ju_idx_obj(ports, p), "protocol", "TCP");
    }
}

/* ValidateNonSpecialIP after the address parsed. */
static void ep_address(struct json_object *a, const char *p, struct ferr *e)
{
    char f[VALIDATE_PATH_MAX];
    const char *ip = validate_opt_str(a, "ip", p, e);
    vpath_child(f, sizeof(f), p, "ip");
    if (validate_field_ip(e, f, ip ? ip : "")) {
        if (strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0) {
            char msg[128];
            snprintf(msg, sizeof(msg), "may not be unspecified (%s)", ip);
            validate_invalid_str(e, f, ip, msg);
        } else if (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0) {
            validate_invalid_str(e, f, ip,
                                 "may not be in the loopback range "
                                 "(127.0.0.0/8, ::1/128)");
        } else if (strncmp(ip, "169.254.", 8) == 0 ||
                   strncmp(ip, "fe80:", 5) == 0) {
            validate_invalid_str(e, f, ip,
                                 "may not be in the link-local range "
                                 "(169.254.0.0/16, fe80::/10)");
        } else if (strncmp(ip, "224.0.0.", 8) == 0 ||
                   strncmp(ip, "ff02:", 5) == 0) {
            validate_invalid_str(e, f, ip,
                                 "may not be in the link-local multicast "
                                 "range (224.0.0.0/24, ff02::/10)");
        }
    }
    const char *host = validate_opt_str(a, "hostname", p, e);
    if (host && host[0])
        validate_field_dns1123_label(
            e, vpath_child(f, sizeof(f), p, "hostname"), host);
    const char *node = validate_opt_str(a, "nodeName", p, e);
    if (node)
        validate_field_dns1123_subdomain(
            e, vpath_child(f, sizeof(f), p, "nodeName"), node);
    validate_opt_obj(a, "targetRef", p, e);
}

static void ep_port(struct json_object *port, const char *p, bool need_name,
                    struct ferr *e)
{
    char f[VALIDATE_PATH_MAX];
    const char *name = validate_opt_str(port, "name", p, e);
    vpath_child(f, sizeof(f), p, "name");
    if (need_name && (!name || !name[0]))
        ferr_required(e, f);
    else if (name && name[0])
        validate_field_dns1123_label(e, f, name);
    int64_t n = 0;
    validate_opt_int(port, "port", p, e, &n);
    validate_field_port_num(e, vpath_child(f, sizeof(f), p, "port"), n);
    const char *proto = validate_opt_str(port, "protocol", p, e);
    vpath_child(f, sizeof(f), p, "protocol");
    if (!proto || !proto[0])
        ferr_required(e, f);
    else if (strcmp(proto, "TCP") && strcmp(proto, "UDP") &&
             strcmp(proto, "SCTP"))
        validate_not_supported(e, f, proto, "\"SCTP\", \"TCP\", \"UDP\"");
    const char *ap = validate_opt_str(port, "appProtocol", p, e);
    if (ap)
        validate_field_qualified_name(
            e, vpath_child(f, sizeof(f), p, "appProtocol"), ap);
}

/* Walks an array of objects at base.key, calling fn on each. */
static void each_obj(struct json_object *o, const char *key, const char *base,
                     struct ferr *e,
                     void (*fn)(struct json_object *, const char *, size_t,
                                size_t, struct ferr *))
{
    char ap[VALIDATE_PATH_MAX];
    struct json_object *a = validate_opt_arr(o, key, base, e);
    vpath_child(ap, sizeof(ap), base, key);
    if (!a || !validate_array_len(a, ap, e))
        return;
    for (size_t i = 0; i < ju_len(a); i++) {
        struct json_object *it = json_object_array_get_idx(a, i);
        char p[VALIDATE_PATH_MAX];
        vpath_index(p, sizeof(p), ap, i);
        if (!json_object_is_type(it, json_type_object))
            validate_type_error(e, p, it, "an object");
        else
            fn(it, p, i, ju_len(a), e);
    }
}

static void ep_address_cb(struct json_object *a, const char *p, size_t i,
                          size_t n, struct ferr *e)
{
    ep_address(a, p, e);
}

static void ep_port_cb(struct json_object *a, const char *p, size_t i, size_t n,
                       struct ferr *e)
{
    ep_port(a, p, n > 1, e);
}

static void ep_subset_cb(struct json_object *ss, const char *p, size_t i,
                         size_t n, struct ferr *e)
{
    if (ju_len(ju_arr(ss, "addresses")) == 0 &&
        ju_len(ju_arr(ss, "notReadyAddresses")) == 0)
        ferr_add(e, FERR_REQUIRED, p, NULL,
                 "must specify `addresses` or `notReadyAddresses`");
    each_obj(ss, "addresses", p, e, ep_address_cb);
    each_obj(ss, "notReadyAddresses", p, e, ep_address_cb);
    each_obj(ss, "ports", p, e, ep_port_cb);
}

static void ep_validate(struct json_object *obj, struct json_object *old,
                        struct ferr *e)
{
    each_obj(obj, "subsets", "", e, ep_subset_cb);
}

const struct resource_type rt_endpoints = {
    .group = "",
    .version = "v1",
    .resource = "endpoints",
    .singular = "endpoints",
    .kind = "Endpoints",
    .namespaced = true,
    .short_names = {"ep", NULL},
    .name_rule = NAME_SUBDOMAIN,
    .columns = ep_columns,
    .ncolumns = sizeof(ep_columns) / sizeof(ep_columns[0]),
    .table_cells = ep_cells,
    .defaults = ep_defaults,
    .validate = ep_validate,
};
