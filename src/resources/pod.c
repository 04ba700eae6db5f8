/*
 * PodSpec defaults and validation with Kubernetes' semantics and texts
 * (pkg/apis/core/v1/defaults.go, pkg/apis/core/validation), shared by
 * pods and every kind that embeds a pod template; also resource
 * quantities and the pod QoS class.
 */
#include "resources/pod.h"
#include "api/validation.h"
#include "resources/jsonutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QTY_MAX ((__int128)1000000000000000000LL * 1000000000000000000LL)
#define QTY_REGEX_MSG                                                          \
    "quantities must match the regular expression "                            \
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
#define FILE_MODE_MSG                                                          \
    "must be a number between 0 and 0777 (octal), both inclusive"
#define NONNEG_MSG "must be greater than or equal to 0"

/* ---------------------------------------------------------------------
 * Quantities
 * ------------------------------------------------------------------- */

static __int128 qty_sat(__int128 v)
{
    return v > QTY_MAX ? QTY_MAX : (v < -QTY_MAX ? -QTY_MAX : v);
}

/* value * 10^e, rounding toward +infinity in magnitude when e < 0. */
static __int128 qty_scale10(__int128 v, int e)
{
    for (; e > 0; e--) {
        if (v > QTY_MAX / 10 || v < -QTY_MAX / 10)
            return qty_sat(v * 2 > 0 ? QTY_MAX : -QTY_MAX);
        v *= 10;
    }
    for (; e < 0; e++) {
        __int128 q = v / 10;
        if (q * 10 != v)
            q += v > 0 ? 1 : -1;
        v = q;
    }
    return v;
}

static int qty_parse_str(const char *s, __int128 *out)
{
    const char *p = s;
    bool neg = false;
    __int128 mant = 0;
    int exp10 = 9, digits = 0, shift2 = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    bool dot = false;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (*p == '.') {
            if (dot)
                return -1;
            dot = true;
            continue;
        }
        digits++;
        if (mant < QTY_MAX / 10)
            mant = mant * 10 + (*p - '0');
        else if (!dot)
            exp10++; /* drop low digits of huge numbers */
        if (dot && mant < QTY_MAX / 10)
            exp10--;
    }
    if (digits == 0)
        return -1;
    /* Suffix: binary SI, decimal SI or an exponent. */
    static const struct {
        const char *s;
        int e10, e2;
    } sfx[] = {{"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40},
               {"Pi", 0, 50}, {"Ei", 0, 60}, {"n", -9, 0},  {"u", -6, 0},
               {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},   {"G", 9, 0},
               {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"", 0, 0}};
    bool matched = false;
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        if (strcmp(p, sfx[i].s) == 0) {
            exp10 += sfx[i].e10;
            shift2 = sfx[i].e2;
            matched = true;
            break;
        }
    }
    if (!matched) {
        if (*p != 'e' && *p != 'E')
            return -1;
        p++;
        int sign = 1, e = 0, nd = 0;
        if (*p == '+' || *p == '-')
            sign = *p++ == '-' ? -1 : 1;
        for (; *p >= '0' && *p <= '9'; p++, nd++)
            if (e < 1000)
                e = e * 10 + (*p - '0');
        if (nd == 0 || *p)
            return -1;
        exp10 += sign * e;
    }
    __int128 v = qty_scale10(mant, exp10);
    for (int i = 0; i < shift2; i++) {
        if (v > QTY_MAX / 2) {
            v = QTY_MAX;
            break;
        }
        v *= 2;
    }
    *out = qty_sat(neg ? -v : v);
    return 0;
}

int pod_quantity_nanos(struct json_object *q, __int128 *out)
{
    if (!q)
        return -1;
    if (json_object_is_type(q, json_type_string))
        return qty_parse_str(json_object_get_string(q), out);
    if (json_object_is_type(q, json_type_int)) {
        *out = qty_scale10(json_object_get_int64(q), 9);
        return 0;
    }
    if (json_object_is_type(q, json_type_double)) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.9f", json_object_get_double(q));
        return qty_parse_str(buf, out);
    }
    return -1;
}

/* Text of a quantity value for messages. */
static const char *qty_text(struct json_object *q)
{
    if (json_object_is_type(q, json_type_string))
        return json_object_get_string(q);
    return json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN);
}

/* ---------------------------------------------------------------------
 * QoS
 * ------------------------------------------------------------------- */

struct qos_acc {
    __int128 req[2], lim[2];
    bool has_req[2], has_lim[2];
    bool guaranteed;
};

static void qos_container(struct qos_acc *a, struct json_object *c)
{
    static const char *const names[2] = {"cpu", "memory"};
    struct json_object *res = ju_obj(c, "resources");
    struct json_object *req = ju_obj(res, "requests");
    struct json_object *lim = ju_obj(res, "limits");
    int found = 0;
    for (int i = 0; i < 2; i++) {
        struct json_object *r = NULL, *l = NULL;
        __int128 v;
        json_object_object_get_ex(req, names[i], &r);
        json_object_object_get_ex(lim, names[i], &l);
        if (!r)
            r = l; /* requests default to limits */
        if (r && pod_quantity_nanos(r, &v) == 0 && v > 0) {
            a->req[i] = qty_sat(a->req[i] + v);
            a->has_req[i] = true;
        }
        if (l && pod_quantity_nanos(l, &v) == 0 && v > 0) {
            a->lim[i] = qty_sat(a->lim[i] + v);
            a->has_lim[i] = true;
            found++;
        }
    }
    if (found < 2)
        a->guaranteed = false;
}

const char *pod_qos_class(struct json_object *spec)
{
    struct qos_acc a;
    memset(&a, 0, sizeof(a));
    a.guaranteed = true;
    static const char *const lists[2] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        struct json_object *arr = ju_arr(spec, lists[l]);
        size_t n = ju_len(arr);
        for (size_t i = 0; i < n && i < VALIDATE_MAX_ITEMS; i++)
            qos_container(&a, ju_idx_obj(arr, i));
    }
    int nreq = a.has_req[0] + a.has_req[1];
    int nlim = a.has_lim[0] + a.has_lim[1];
    if (nreq == 0 && nlim == 0)
        return "BestEffort";
    if (a.guaranteed) {
        for (int i = 0; i < 2; i++)
            if (a.has_req[i] && (!a.has_lim[i] || a.lim[i] != a.req[i]))
                a.guaranteed = false;
    }
    if (a.guaranteed && nreq == nlim)
        return "Guaranteed";
    return "Burstable";
}

/* ---------------------------------------------------------------------
 * Defaults
 * ------------------------------------------------------------------- */

/* Image tag as the container runtime would see it: "latest" when the
 * reference has neither tag nor digest. */
static bool image_is_latest(const char *image)
{
    if (!image || !image[0])
        return false;
    if (strchr(image, '@'))
        return false; /* a digest pins the image */
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    if (!colon)
        return true;
    return strcmp(colon + 1, "latest") == 0;
}

static void http_get_defaults(struct json_object *h)
{
    if (!h)
        return;
    ju_default_str(h, "path", "/");
    ju_default_str(h, "scheme", "HTTP");
}

static void probe_defaults(struct json_object *p)
{
    if (!p)
        return;
    ju_default_int(p, "timeoutSeconds", 1);
    ju_default_int(p, "periodSeconds", 10);
    ju_default_int(p, "successThreshold", 1);
    ju_default_int(p, "failureThreshold", 3);
    http_get_defaults(ju_obj(p, "httpGet"));
}

static void container_defaults(struct json_object *c)
{
    if (!c)
        return;
    if (!ju_str(c, "imagePullPolicy") && !ju_has(c, "imagePullPolicy"))
        ju_set_str(c, "imagePullPolicy",
                   image_is_latest(ju_str(c, "image")) ? "Always"
                                                       : "IfNotPresent");
    ju_default_str(c, "terminationMessagePath", "/dev/termination-log");
    ju_default_str(c, "terminationMessagePolicy", "File");
    struct json_object *ports = ju_arr(c, "ports");
    size_t n = ju_len(ports);
    for (size_t i = 0; i < n && i < VALIDATE_MAX_ITEMS; i++)
        ju_default_str(ju_idx_obj(ports, i), "protocol", "TCP");
    probe_defaults(ju_obj(c, "livenessProbe"));
    probe_defaults(ju_obj(c, "readinessProbe"));
    probe_defaults(ju_obj(c, "startupProbe"));
    struct json_object *lc = ju_obj(c, "lifecycle");
    http_get_defaults(ju_obj(ju_obj(lc, "postStart"), "httpGet"));
    http_get_defaults(ju_obj(ju_obj(lc, "preStop"), "httpGet"));
    struct json_object *env = ju_arr(c, "env");
    n = ju_len(env);
    for (size_t i = 0; i < n && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *fr =
            ju_obj(ju_obj(ju_idx_obj(env, i), "valueFrom"), "fieldRef");
        ju_default_str(fr, "apiVersion", "v1");
    }
}

static const char *const volume_sources[] = {"hostPath",
                                             "emptyDir",
                                             "gitRepo",
                                             "gcePersistentDisk",
                                             "awsElasticBlockStore",
                                             "secret",
                                             "nfs",
                                             "iscsi",
                                             "glusterfs",
                                             "flocker",
                                             "persistentVolumeClaim",
                                             "rbd",
                                             "flexVolume",
                                             "cinder",
                                             "cephfs",
                                             "downwardAPI",
                                             "fc",
                                             "azureFile",
                                             "configMap",
                                             "vsphereVolume",
                                             "quobyte",
                                             "azureDisk",
                                             "photonPersistentDisk",
                                             "portworxVolume",
                                             "projected",
                                             "scaleIO",
                                             "storageos",
                                             "csi",
                                             "ephemeral",
                                             "image",
                                             NULL};

static void volume_defaults(struct json_object *v)
{
    bool any = false;
    if (!v)
        return;
    for (int i = 0; volume_sources[i]; i++)
        if (ju_has(v, volume_sources[i]))
            any = true;
    if (!any) {
        ju_obj_ensure(v, "emptyDir");
        return;
    }
    ju_default_int(ju_obj(v, "secret"), "defaultMode", 0644);
    ju_default_int(ju_obj(v, "configMap"), "defaultMode", 0644);
    struct json_object *dapi = ju_obj(v, "downwardAPI");
    ju_default_int(dapi, "defaultMode", 0644);
    struct json_object *items = ju_arr(dapi, "items");
    for (size_t i = 0; i < ju_len(items) && i < VALIDATE_MAX_ITEMS; i++)
        ju_default_str(ju_obj(ju_idx_obj(items, i), "fieldRef"), "apiVersion",
                       "v1");
    struct json_object *proj = ju_obj(v, "projected");
    ju_default_int(proj, "defaultMode", 0644);
    struct json_object *srcs = ju_arr(proj, "sources");
    for (size_t i = 0; i < ju_len(srcs) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *sat =
            ju_obj(ju_idx_obj(srcs, i), "serviceAccountToken");
        ju_default_int(sat, "expirationSeconds", 3600);
    }
    struct json_object *hp = ju_obj(v, "hostPath");
    ju_default_str(hp, "type", "");
}

void pod_spec_defaults(struct json_object *spec)
{
    if (!spec || !json_object_is_type(spec, json_type_object))
        return;
    ju_default_str(spec, "dnsPolicy", "ClusterFirst");
    ju_default_str(spec, "restartPolicy", "Always");
    if (!ju_has(spec, "securityContext"))
        ju_obj_ensure(spec, "securityContext");
    ju_default_int(spec, "terminationGracePeriodSeconds", 30);
    ju_default_str(spec, "schedulerName", "default-scheduler");
    static const char *const lists[] = {"containers", "initContainers",
                                        "ephemeralContainers"};
    for (int l = 0; l < 3; l++) {
        struct json_object *arr = ju_arr(spec, lists[l]);
        for (size_t i = 0; i < ju_len(arr) && i < VALIDATE_MAX_ITEMS; i++)
            container_defaults(ju_idx_obj(arr, i));
    }
    struct json_object *vols = ju_arr(spec, "volumes");
    for (size_t i = 0; i < ju_len(vols) && i < VALIDATE_MAX_ITEMS; i++)
        volume_defaults(ju_idx_obj(vols, i));
}

/* ---------------------------------------------------------------------
 * Validation helpers
 * ------------------------------------------------------------------- */

#define P(buf) char buf[VALIDATE_PATH_MAX]

static void invalid_s(struct ferr *e, const char *f, const char *v,
                      const char *detail)
{
    struct json_object *o = json_object_new_string(v ? v : "");
    ferr_add(e, FERR_INVALID, f, o, "%s", detail);
    json_object_put(o);
}

static void invalid_i(struct ferr *e, const char *f, int64_t v,
                      const char *detail)
{
    struct json_object *o = json_object_new_int64(v);
    ferr_add(e, FERR_INVALID, f, o, "%s", detail);
    json_object_put(o);
}

static void not_supported(struct ferr *e, const char *f, const char *v,
                          const char *supported)
{
    struct json_object *o = json_object_new_string(v ? v : "");
    ferr_add(e, FERR_NOT_SUPPORTED, f, o, "supported values: %s", supported);
    json_object_put(o);
}

static void duplicate_s(struct ferr *e, const char *f, const char *v)
{
    struct json_object *o = json_object_new_string(v ? v : "");
    ferr_add(e, FERR_DUPLICATE, f, o, NULL);
    json_object_put(o);
}

/* Required string enum: Required when empty, NotSupported when unknown. */
static void enum_required(struct json_object *o, const char *key,
                          const char *path, struct ferr *e,
                          const char *const *allowed, const char *supported)
{
    P(f);
    vpath_child(f, sizeof(f), path, key);
    const char *v = validate_opt_str(o, key, path, e);
    if (!v) {
        if (!ju_has(o, key))
            ferr_required(e, f);
        return;
    }
    if (!v[0]) {
        ferr_required(e, f);
        return;
    }
    for (int i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0)
            return;
    not_supported(e, f, v, supported);
}

/* Array member at o[key] with its items required to be objects; returns
 * the array (NULL when absent or of another type, after reporting). */
static struct json_object *obj_array(struct json_object *o, const char *key,
                                     const char *path, struct ferr *e)
{
    P(f);
    struct json_object *a = validate_opt_arr(o, key, path, e);
    if (!a)
        return NULL;
    vpath_child(f, sizeof(f), path, key);
    if (!validate_array_len(a, f, e))
        return NULL;
    for (size_t i = 0; i < ju_len(a); i++) {
        struct json_object *it = json_object_array_get_idx(a, i);
        if (!json_object_is_type(it, json_type_object)) {
            P(p);
            validate_type_error(e, vpath_index(p, sizeof(p), f, i), it,
                                "an object");
        }
    }
    return a;
}

static void string_array(struct json_object *o, const char *key,
                         const char *path, struct ferr *e)
{
    struct json_object *a = validate_opt_arr(o, key, path, e);
    P(f);
    if (!a)
        return;
    vpath_child(f, sizeof(f), path, key);
    if (!validate_array_len(a, f, e))
        return;
    for (size_t i = 0; i < ju_len(a); i++) {
        struct json_object *it = json_object_array_get_idx(a, i);
        if (!json_object_is_type(it, json_type_string)) {
            P(p);
            validate_type_error(e, vpath_index(p, sizeof(p), f, i), it,
                                "a string");
        }
    }
}

static void nonneg(struct json_object *o, const char *key, const char *path,
                   struct ferr *e)
{
    int64_t v;
    P(f);
    if (validate_opt_int(o, key, path, e, &v) && v < 0)
        invalid_i(e, vpath_child(f, sizeof(f), path, key), v, NONNEG_MSG);
}

/* IntOrString port: a number 1..65535 or an IANA port name. */
static void port_num_or_name(struct json_object *o, const char *key,
                             const char *path, struct ferr *e, bool required)
{
    P(f);
    struct json_object *v = NULL;
    vpath_child(f, sizeof(f), path, key);
    if (!json_object_object_get_ex(o, key, &v) || !v) {
        if (required)
            validate_field_port_num(e, f, 0);
        return;
    }
    if (json_object_is_type(v, json_type_string)) {
        validate_field_port_name(e, f, json_object_get_string(v));
        return;
    }
    int64_t n;
    if (ju_int(o, key, &n)) {
        validate_field_port_num(e, f, n);
        return;
    }
    validate_type_error(e, f, v, "an integer or a string");
}

/* ---------------------------------------------------------------------
 * Volumes
 * ------------------------------------------------------------------- */

#define MAX_VOLS VALIDATE_MAX_ITEMS

struct volset {
    const char *names[MAX_VOLS];
    size_t n;
};

static bool volset_has(const struct volset *vs, const char *name)
{
    for (size_t i = 0; name && i < vs->n; i++)
        if (strcmp(vs->names[i], name) == 0)
            return true;
    return false;
}

static void file_mode(struct json_object *o, const char *key, const char *path,
                      struct ferr *e)
{
    int64_t m;
    P(f);
    if (validate_opt_int(o, key, path, e, &m) && (m < 0 || m > 0777))
        invalid_i(e, vpath_child(f, sizeof(f), path, key), m, FILE_MODE_MSG);
}

static void required_str(struct json_object *o, const char *key,
                         const char *path, struct ferr *e)
{
    P(f);
    const char *v = validate_opt_str(o, key, path, e);
    if ((!v && !ju_has(o, key)) || (v && !v[0]))
        ferr_required(e, vpath_child(f, sizeof(f), path, key));
}

static void key_to_path_items(struct json_object *src, const char *path,
                              struct ferr *e)
{
    struct json_object *items = obj_array(src, "items", path, e);
    P(ip);
    vpath_child(ip, sizeof(ip), path, "items");
    for (size_t i = 0; i < ju_len(items); i++) {
        struct json_object *it = ju_idx_obj(items, i);
        P(p);
        if (!it)
            continue;
        vpath_index(p, sizeof(p), ip, i);
        required_str(it, "key", p, e);
        required_str(it, "path", p, e);
        file_mode(it, "mode", p, e);
    }
}

static void volume_source(const char *key, struct json_object *src,
                          const char *path, struct ferr *e)
{
    P(sp);
    vpath_child(sp, sizeof(sp), path, key);
    if (!json_object_is_type(src, json_type_object)) {
        validate_type_error(e, sp, src, "an object");
        return;
    }
    if (strcmp(key, "configMap") == 0) {
        required_str(src, "name", sp, e);
        file_mode(src, "defaultMode", sp, e);
        key_to_path_items(src, sp, e);
    } else if (strcmp(key, "secret") == 0) {
        required_str(src, "secretName", sp, e);
        file_mode(src, "defaultMode", sp, e);
        key_to_path_items(src, sp, e);
    } else if (strcmp(key, "hostPath") == 0) {
        required_str(src, "path", sp, e);
        static const char *const types[] = {"",           "DirectoryOrCreate",
                                            "Directory",  "FileOrCreate",
                                            "File",       "Socket",
                                            "CharDevice", "BlockDevice",
                                            NULL};
        const char *t = validate_opt_str(src, "type", sp, e);
        if (t) {
            bool ok = false;
            for (int i = 0; types[i]; i++)
                ok = ok || strcmp(t, types[i]) == 0;
            if (!ok) {
                P(f);
                not_supported(e, vpath_child(f, sizeof(f), sp, "type"), t,
                              "\"BlockDevice\", \"CharDevice\", \"Directory\", "
                              "\"DirectoryOrCreate\", \"File\", "
                              "\"FileOrCreate\", \"\", \"Socket\"");
            }
        }
    } else if (strcmp(key, "persistentVolumeClaim") == 0) {
        required_str(src, "claimName", sp, e);
    } else if (strcmp(key, "emptyDir") == 0) {
        struct json_object *sl = NULL;
        if (json_object_object_get_ex(src, "sizeLimit", &sl) && sl) {
            __int128 q;
            P(f);
            vpath_child(f, sizeof(f), sp, "sizeLimit");
            if (pod_quantity_nanos(sl, &q))
                invalid_s(e, f, qty_text(sl), QTY_REGEX_MSG);
        }
        validate_opt_str(src, "medium", sp, e);
    } else if (strcmp(key, "downwardAPI") == 0) {
        file_mode(src, "defaultMode", sp, e);
        obj_array(src, "items", sp, e);
    } else if (strcmp(key, "projected") == 0) {
        file_mode(src, "defaultMode", sp, e);
        obj_array(src, "sources", sp, e);
    }
}

/* Validates spec.volumes; fills `vs` with the names of valid volumes. */
static void validate_volumes(struct json_object *spec, const char *path,
                             struct ferr *e, struct volset *vs)
{
    P(vp);
    struct json_object *vols = obj_array(spec, "volumes", path, e);
    vpath_child(vp, sizeof(vp), path, "volumes");
    for (size_t i = 0; i < ju_len(vols); i++) {
        struct json_object *v = ju_idx_obj(vols, i);
        P(p);
        P(np);
        if (!v)
            continue;
        int before = e->n;
        vpath_index(p, sizeof(p), vp, i);
        vpath_child(np, sizeof(np), p, "name");
        int nsrc = 0;
        for (int s = 0; volume_sources[s]; s++) {
            struct json_object *src = NULL;
            if (!json_object_object_get_ex(v, volume_sources[s], &src) || !src)
                continue;
            if (nsrc++ > 0) {
                P(f);
                ferr_forbidden(e,
                               vpath_child(f, sizeof(f), p, volume_sources[s]),
                               "may not specify more than 1 volume type");
                continue;
            }
            volume_source(volume_sources[s], src, p, e);
        }
        if (nsrc == 0)
            ferr_add(e, FERR_REQUIRED, p, NULL, "must specify a volume type");
        const char *name = validate_opt_str(v, "name", p, e);
        if (!name || !name[0]) {
            if (!ju_has(v, "name") || name)
                ferr_required(e, np);
        } else {
            validate_field_dns1123_label(e, np, name);
        }
        if (name && volset_has(vs, name))
            duplicate_s(e, np, name);
        if (e->n == before && name && vs->n < MAX_VOLS)
            vs->names[vs->n++] = name;
    }
}

/* ---------------------------------------------------------------------
 * Containers
 * ------------------------------------------------------------------- */

static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};
#define PROTOCOLS_SUPPORTED "\"SCTP\", \"TCP\", \"UDP\""

static void validate_container_ports(struct json_object *c, const char *path,
                                     struct ferr *e)
{
    P(pp);
    struct json_object *ports = obj_array(c, "ports", path, e);
    vpath_child(pp, sizeof(pp), path, "ports");
    const char *seen[VALIDATE_MAX_ITEMS];
    size_t nseen = 0;
    for (size_t i = 0; i < ju_len(ports); i++) {
        struct json_object *port = ju_idx_obj(ports, i);
        P(p);
        P(f);
        if (!port)
            continue;
        vpath_index(p, sizeof(p), pp, i);
        const char *name = validate_opt_str(port, "name", p, e);
        if (name && name[0]) {
            vpath_child(f, sizeof(f), p, "name");
            const char *msg = validate_port_name(name);
            bool dup = false;
            for (size_t k = 0; k < nseen; k++)
                dup = dup || strcmp(seen[k], name) == 0;
            if (msg)
                validate_field_port_name(e, f, name);
            else if (dup)
                duplicate_s(e, f, name);
            else if (nseen < VALIDATE_MAX_ITEMS)
                seen[nseen++] = name;
        }
        int64_t cp = 0, hp = 0;
        vpath_child(f, sizeof(f), p, "containerPort");
        if (!validate_opt_int(port, "containerPort", p, e, &cp)) {
            if (!ju_has(port, "containerPort"))
                ferr_required(e, f);
        } else if (cp == 0) {
            ferr_required(e, f);
        } else {
            validate_field_port_num(e, f, cp);
        }
        if (validate_opt_int(port, "hostPort", p, e, &hp) && hp != 0)
            validate_field_port_num(e, vpath_child(f, sizeof(f), p, "hostPort"),
                                    hp);
        validate_opt_str(port, "hostIP", p, e);
        enum_required(port, "protocol", p, e, protocols, PROTOCOLS_SUPPORTED);
    }
}

/* IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on by
 * default in 1.32): printable ASCII other than '='. */
static void env_name(struct ferr *e, const char *f, const char *name)
{
    if (!name[0]) {
        invalid_s(e, f, name, "environment variable name must be non-empty");
        return;
    }
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e || c == '=') {
            invalid_s(e, f, name,
                      "a valid environment variable name must consist only of "
                      "printable ASCII characters other than '='");
            return;
        }
    }
}

static void key_selector(struct json_object *sel, const char *path,
                         struct ferr *e)
{
    P(f);
    const char *key = validate_opt_str(sel, "key", path, e);
    vpath_child(f, sizeof(f), path, "key");
    if (!key || !key[0]) {
        if (!ju_has(sel, "key") || key)
            ferr_required(e, f);
    } else {
        validate_field_config_key(e, f, key);
    }
    const char *name = validate_opt_str(sel, "name", path, e);
    if (!name || !name[0]) {
        if (!ju_has(sel, "name") || name)
            ferr_required(e, vpath_child(f, sizeof(f), path, "name"));
    }
}

static void validate_env(struct json_object *c, const char *path,
                         struct ferr *e)
{
    P(ep);
    struct json_object *env = obj_array(c, "env", path, e);
    vpath_child(ep, sizeof(ep), path, "env");
    for (size_t i = 0; i < ju_len(env); i++) {
        struct json_object *ev = ju_idx_obj(env, i);
        P(p);
        P(f);
        if (!ev)
            continue;
        vpath_index(p, sizeof(p), ep, i);
        vpath_child(f, sizeof(f), p, "name");
        const char *name = validate_opt_str(ev, "name", p, e);
        if (!name || !name[0]) {
            if (!ju_has(ev, "name") || name)
                ferr_required(e, f);
        }
        if (name)
            env_name(e, f, name);
        const char *value = validate_opt_str(ev, "value", p, e);
        struct json_object *vf = validate_opt_obj(ev, "valueFrom", p, e);
        if (!vf)
            continue;
        P(vp);
        vpath_child(vp, sizeof(vp), p, "valueFrom");
        static const char *const kinds[] = {"fieldRef", "resourceFieldRef",
                                            "configMapKeyRef", "secretKeyRef",
                                            NULL};
        int nsrc = 0;
        for (int k = 0; kinds[k]; k++) {
            struct json_object *src = validate_opt_obj(vf, kinds[k], vp, e);
            if (!src)
                continue;
            nsrc++;
            P(sp);
            vpath_child(sp, sizeof(sp), vp, kinds[k]);
            if (k == 0) {
                required_str(src, "fieldPath", sp, e);
                required_str(src, "apiVersion", sp, e);
            } else if (k == 1) {
                required_str(src, "resource", sp, e);
            } else {
                key_selector(src, sp, e);
            }
        }
        if (value && value[0])
            invalid_s(e, vp, "",
                      "may not be specified when `value` is not "
                      "empty");
        else if (nsrc == 0)
            invalid_s(e, vp, "",
                      "must specify one of: `fieldRef`, `resourceFieldRef`, "
                      "`configMapKeyRef` or `secretKeyRef`");
        else if (nsrc > 1)
            invalid_s(e, vp, "",
                      "may not have more than one field specified at a time");
    }
    obj_array(c, "envFrom", path, e);
}

static bool path_has_dotdot(const char *s)
{
    const char *p = s;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        if (!slash)
            break;
        p = slash + 1;
    }
    return false;
}

static void validate_mounts(struct json_object *c, const char *path,
                            const struct volset *vs, struct ferr *e)
{
    P(mp);
    struct json_object *mounts = obj_array(c, "volumeMounts", path, e);
    vpath_child(mp, sizeof(mp), path, "volumeMounts");
    const char *seen[VALIDATE_MAX_ITEMS];
    size_t nseen = 0;
    for (size_t i = 0; i < ju_len(mounts); i++) {
        struct json_object *m = ju_idx_obj(mounts, i);
        P(p);
        P(f);
        if (!m)
            continue;
        vpath_index(p, sizeof(p), mp, i);
        vpath_child(f, sizeof(f), p, "name");
        const char *name = validate_opt_str(m, "name", p, e);
        if (!name || !name[0])
            ferr_required(e, f);
        if (!volset_has(vs, name))
            validate_not_found(e, f, name ? name : "");
        const char *mpath = validate_opt_str(m, "mountPath", p, e);
        vpath_child(f, sizeof(f), p, "mountPath");
        if (!mpath || !mpath[0])
            ferr_required(e, f);
        if (mpath) {
            bool dup = false;
            for (size_t k = 0; k < nseen; k++)
                dup = dup || strcmp(seen[k], mpath) == 0;
            if (dup)
                invalid_s(e, f, mpath, "must be unique");
            else if (nseen < VALIDATE_MAX_ITEMS)
                seen[nseen++] = mpath;
        }
        const char *sub = validate_opt_str(m, "subPath", p, e);
        if (sub && sub[0]) {
            vpath_child(f, sizeof(f), mp, "subPath");
            if (sub[0] == '/')
                invalid_s(e, f, sub, "must be a relative path");
            if (path_has_dotdot(sub))
                invalid_s(e, f, sub, "must not contain '..'");
        }
        bool ro;
        validate_opt_bool(m, "readOnly", p, e, &ro);
    }
}

static bool is_native_resource(const char *name)
{
    const char *slash = strchr(name, '/');
    return !slash || strncmp(name, "kubernetes.io/", 14) == 0;
}

static bool overcommit_allowed(const char *name)
{
    return is_native_resource(name) && strncmp(name, "hugepages-", 10) != 0;
}

static void resource_name(struct ferr *e, const char *f, const char *name)
{
    validate_field_qualified_name(e, f, name);
    if (strchr(name, '/'))
        return;
    if (strcmp(name, "cpu") && strcmp(name, "memory") &&
        strcmp(name, "ephemeral-storage") && strncmp(name, "hugepages-", 10))
        invalid_s(e, f, name, "must be a standard resource for containers");
}

/* Validates one resource list; stores parsed values for request/limit
 * comparison (index matches iteration order). */
static void resource_list(struct json_object *list, const char *lp,
                          struct ferr *e)
{
    json_object_object_foreach(list, name, q)
    {
        P(f);
        __int128 v;
        vpath_key(f, sizeof(f), lp, name);
        resource_name(e, f, name);
        if (!q || pod_quantity_nanos(q, &v)) {
            if (q && !json_object_is_type(q, json_type_string) &&
                !json_object_is_type(q, json_type_int) &&
                !json_object_is_type(q, json_type_double))
                validate_type_error(e, f, q, "a quantity string");
            else
                invalid_s(e, f, q ? qty_text(q) : "", QTY_REGEX_MSG);
            continue;
        }
        if (v < 0)
            invalid_s(e, f, qty_text(q), NONNEG_MSG);
        else if (!is_native_resource(name) && v % 1000000000 != 0)
            invalid_s(e, f, qty_text(q), "must be an integer");
    }
}

static void validate_resources(struct json_object *c, const char *path,
                               struct ferr *e)
{
    P(rp);
    P(lp);
    P(qp);
    struct json_object *res = validate_opt_obj(c, "resources", path, e);
    if (!res)
        return;
    vpath_child(rp, sizeof(rp), path, "resources");
    vpath_child(lp, sizeof(lp), rp, "limits");
    vpath_child(qp, sizeof(qp), rp, "requests");
    struct json_object *lim = validate_opt_obj(res, "limits", rp, e);
    struct json_object *req = validate_opt_obj(res, "requests", rp, e);
    if (lim)
        resource_list(lim, lp, e);
    if (!req)
        return;
    resource_list(req, qp, e);
    json_object_object_foreach(req, name, q)
    {
        struct json_object *l = NULL;
        __int128 rv, lv;
        if (!q || pod_quantity_nanos(q, &rv))
            continue;
        if (!lim || !json_object_object_get_ex(lim, name, &l) || !l) {
            if (!overcommit_allowed(name))
                ferr_add(e, FERR_REQUIRED, lp, NULL,
                         "Limit must be set for non overcommitable resources");
            continue;
        }
        if (pod_quantity_nanos(l, &lv))
            continue;
        if (rv != lv && !overcommit_allowed(name)) {
            struct json_object *o = json_object_new_string(qty_text(q));
            ferr_add(e, FERR_INVALID, qp, o, "must be equal to %s limit of %s",
                     name, qty_text(l));
            json_object_put(o);
        } else if (rv > lv) {
            struct json_object *o = json_object_new_string(qty_text(q));
            ferr_add(e, FERR_INVALID, qp, o,
                     "must be less than or equal to %s limit of %s", name,
                     qty_text(l));
            json_object_put(o);
        }
    }
}

static void validate_handler(struct json_object *h, const char *path,
                             struct ferr *e, bool lifecycle)
{
    static const char *const kinds[] = {"exec", "httpGet", "tcpSocket",
                                        "grpc", "sleep",   NULL};
    int n = 0;
    for (int k = 0; kinds[k]; k++) {
        if (!lifecycle && strcmp(kinds[k], "sleep") == 0)
            continue;
        if (lifecycle && strcmp(kinds[k], "grpc") == 0)
            continue;
        struct json_object *a = validate_opt_obj(h, kinds[k], path, e);
        P(ap);
        if (!a)
            continue;
        vpath_child(ap, sizeof(ap), path, kinds[k]);
        if (n++ > 0) {
            ferr_forbidden(e, ap, "may not specify more than 1 handler type");
            continue;
        }
        if (k == 0) {
            P(f);
            string_array(a, "command", ap, e);
            if (ju_len(ju_arr(a, "command")) == 0)
                ferr_required(e, vpath_child(f, sizeof(f), ap, "command"));
        } else if (k == 1) {
            required_str(a, "path", ap, e);
            port_num_or_name(a, "port", ap, e, true);
            const char *s = validate_opt_str(a, "scheme", ap, e);
            if (s && strcmp(s, "HTTP") && strcmp(s, "HTTPS")) {
                P(f);
                not_supported(e, vpath_child(f, sizeof(f), ap, "scheme"), s,
                              "\"HTTP\", \"HTTPS\"");
            }
        } else if (k == 2) {
            port_num_or_name(a, "port", ap, e, true);
        } else if (k == 3) {
            int64_t port = 0;
            validate_opt_int(a, "port", ap, e, &port);
            P(f);
            validate_field_port_num(e, vpath_child(f, sizeof(f), ap, "port"),
                                    port);
        }
    }
    if (n == 0)
        ferr_add(e, FERR_REQUIRED, path, NULL, "must specify a handler type");
}

static void validate_probe(struct json_object *c, const char *key,
                           const char *path, struct ferr *e)
{
    P(pp);
    struct json_object *p = validate_opt_obj(c, key, path, e);
    if (!p)
        return;
    vpath_child(pp, sizeof(pp), path, key);
    validate_handler(p, pp, e, false);
    nonneg(p, "initialDelaySeconds", pp, e);
    nonneg(p, "timeoutSeconds", pp, e);
    nonneg(p, "periodSeconds", pp, e);
    nonneg(p, "successThreshold", pp, e);
    nonneg(p, "failureThreshold", pp, e);
    int64_t v;
    P(f);
    vpath_child(f, sizeof(f), pp, "terminationGracePeriodSeconds");
    if (validate_opt_int(p, "terminationGracePeriodSeconds", pp, e, &v) &&
        v <= 0)
        invalid_i(e, f, v, "must be greater than 0");
}

/* Checks common to every container kind (validateContainerCommon). */
static void validate_container_common(struct json_object *c, const char *p,
                                      const struct volset *vs, struct ferr *e)
{
    P(f);
    vpath_child(f, sizeof(f), p, "name");
    const char *name = validate_opt_str(c, "name", p, e);
    if (!name || !name[0]) {
        if (!ju_has(c, "name") || name)
            ferr_required(e, f);
    } else {
        validate_field_dns1123_label(e, f, name);
    }
    const char *image = validate_opt_str(c, "image", p, e);
    if (!image || !image[0]) {
        if (!ju_has(c, "image") || image)
            ferr_required(e, vpath_child(f, sizeof(f), p, "image"));
    }
    static const char *const tmp[] = {"File", "FallbackToLogsOnError", NULL};
    enum_required(c, "terminationMessagePolicy", p, e, tmp,
                  "\"File\", \"FallbackToLogsOnError\"");
    validate_opt_str(c, "terminationMessagePath", p, e);
    validate_opt_str(c, "workingDir", p, e);
    string_array(c, "command", p, e);
    string_array(c, "args", p, e);
    validate_container_ports(c, p, e);
    validate_env(c, p, e);
    validate_mounts(c, p, vs, e);
    obj_array(c, "volumeDevices", p, e);
    static const char *const pulls[] = {"Always", "IfNotPresent", "Never",
                                        NULL};
    enum_required(c, "imagePullPolicy", p, e, pulls,
                  "\"Always\", \"IfNotPresent\", \"Never\"");
    validate_resources(c, p, e);
    validate_opt_obj(c, "securityContext", p, e);
    bool b;
    validate_opt_bool(c, "stdin", p, e, &b);
    validate_opt_bool(c, "stdinOnce", p, e, &b);
    validate_opt_bool(c, "tty", p, e, &b);
}

static void validate_lifecycle(struct json_object *c, const char *p,
                               struct ferr *e)
{
    P(lp);
    struct json_object *lc = validate_opt_obj(c, "lifecycle", p, e);
    if (!lc)
        return;
    vpath_child(lp, sizeof(lp), p, "lifecycle");
    static const char *const hooks[] = {"postStart", "preStop"};
    for (int i = 0; i < 2; i++) {
        struct json_object *h = validate_opt_obj(lc, hooks[i], lp, e);
        P(hp);
        if (h)
            validate_handler(h, vpath_child(hp, sizeof(hp), lp, hooks[i]), e,
                             true);
    }
}

static void validate_containers(struct json_object *spec, const char *path,
                                const struct volset *vs, struct ferr *e)
{
    P(cp);
    vpath_child(cp, sizeof(cp), path, "containers");
    struct json_object *v = NULL;
    json_object_object_get_ex(spec, "containers", &v);
    struct json_object *cs = obj_array(spec, "containers", path, e);
    if (!cs) {
        if (!v)
            ferr_required(e, cp);
        return;
    }
    if (ju_len(cs) == 0) {
        ferr_required(e, cp);
        return;
    }
    for (size_t i = 0; i < ju_len(cs); i++) {
        struct json_object *c = ju_idx_obj(cs, i);
        P(p);
        P(f);
        if (!c)
            continue;
        vpath_index(p, sizeof(p), cp, i);
        validate_container_common(c, p, vs, e);
        validate_lifecycle(c, p, e);
        validate_probe(c, "livenessProbe", p, e);
        validate_probe(c, "readinessProbe", p, e);
        validate_probe(c, "startupProbe", p, e);
        int64_t st;
        if (ju_obj(c, "livenessProbe") &&
            ju_int(ju_obj(c, "livenessProbe"), "successThreshold", &st) &&
            st != 1)
            invalid_i(
                e,
                vpath_child(f, sizeof(f), p, "livenessProbe.successThreshold"),
                st, "must be 1");
        if (ju_obj(c, "startupProbe") &&
            ju_int(ju_obj(c, "startupProbe"), "successThreshold", &st) &&
            st != 1)
            invalid_i(
                e,
                vpath_child(f, sizeof(f), p, "startupProbe.successThreshold"),
                st, "must be 1");
        if (ju_has(ju_obj(c, "readinessProbe"),
                   "terminationGracePeriodSeconds")) {
            int64_t g = 0;
            ju_int(ju_obj(c, "readinessProbe"), "terminationGracePeriodSeconds",
                   &g);
            invalid_i(e,
                      vpath_child(f, sizeof(f), p,
                                  "readinessProbe."
                                  "terminationGracePeriodSeconds"),
                      g, "must not be set for readinessProbes");
        }
        if (ju_has(c, "restartPolicy"))
            ferr_forbidden(e, vpath_child(f, sizeof(f), p, "restartPolicy"),
                           "may not be set for non-init containers");
        const char *name = ju_str(c, "name");
        bool dup = false;
        for (size_t k = 0; name && k < i; k++) {
            const char *o = ju_str(ju_idx_obj(cs, k), "name");
            dup = dup || (o && strcmp(o, name) == 0);
        }
        if (dup)
            duplicate_s(e, vpath_child(f, sizeof(f), p, "name"), name);
    }
}

static void validate_init_containers(struct json_object *spec, const char *path,
                                     const struct volset *vs, struct ferr *e)
{
    P(ip);
    struct json_object *ics = obj_array(spec, "initContainers", path, e);
    struct json_object *cs = ju_arr(spec, "containers");
    vpath_child(ip, sizeof(ip), path, "initContainers");
    for (size_t i = 0; i < ju_len(ics); i++) {
        struct json_object *c = ju_idx_obj(ics, i);
        P(p);
        P(f);
        if (!c)
            continue;
        vpath_index(p, sizeof(p), ip, i);
        validate_container_common(c, p, vs, e);
        bool restart_always = false;
        const char *rp = validate_opt_str(c, "restartPolicy", p, e);
        if (rp) {
            if (strcmp(rp, "Always") == 0)
                restart_always = true;
            else
                not_supported(e, vpath_child(f, sizeof(f), p, "restartPolicy"),
                              rp, "\"Always\"");
        }
        const char *name = ju_str(c, "name");
        bool dup = false;
        for (size_t k = 0;
             name && name[0] && k < ju_len(cs) && k < VALIDATE_MAX_ITEMS; k++) {
            const char *o = ju_str(ju_idx_obj(cs, k), "name");
            dup = dup || (o && strcmp(o, name) == 0);
        }
        for (size_t k = 0; name && name[0] && k < i; k++) {
            const char *o = ju_str(ju_idx_obj(ics, k), "name");
            dup = dup || (o && strcmp(o, name) == 0);
        }
        if (dup)
            duplicate_s(e, vpath_child(f, sizeof(f), p, "name"), name);
        if (restart_always) {
            validate_lifecycle(c, p, e);
            validate_probe(c, "livenessProbe", p, e);
            validate_probe(c, "readinessProbe", p, e);
            validate_probe(c, "startupProbe", p, e);
            continue;
        }
        static const char *const banned[] = {"lifecycle", "livenessProbe",
                                             "readinessProbe", "startupProbe"};
        for (int k = 0; k < 4; k++)
            if (ju_has(c, banned[k]))
                ferr_forbidden(e, vpath_child(f, sizeof(f), p, banned[k]),
                               "may not be set for init containers without "
                               "restartPolicy=Always");
    }
}

static void validate_tolerations(struct json_object *spec, const char *path,
                                 struct ferr *e)
{
    P(tp);
    struct json_object *ts = obj_array(spec, "tolerations", path, e);
    vpath_child(tp, sizeof(tp), path, "tolerations");
    for (size_t i = 0; i < ju_len(ts); i++) {
        struct json_object *t = ju_idx_obj(ts, i);
        P(p);
        P(f);
        if (!t)
            continue;
        vpath_index(p, sizeof(p), tp, i);
        const char *key = validate_opt_str(t, "key", p, e);
        const char *op = validate_opt_str(t, "operator", p, e);
        const char *val = validate_opt_str(t, "value", p, e);
        const char *eff = validate_opt_str(t, "effect", p, e);
        int64_t secs;
        bool has_secs = validate_opt_int(t, "tolerationSeconds", p, e, &secs);
        if (!op)
            op = "";
        if (!val)
            val = "";
        if (!eff)
            eff = "";
        if (key && key[0])
            validate_field_qualified_name(
                e, vpath_child(f, sizeof(f), p, "key"), key);
        vpath_child(f, sizeof(f), p, "operator");
        if ((!key || !key[0]) && strcmp(op, "Exists") != 0)
            invalid_s(e, f, op,
                      "operator must be Exists when `key` is empty, which "
                      "means \"match all values and all keys\"");
        if (has_secs && strcmp(eff, "NoExecute") != 0)
            invalid_s(e, vpath_child(f, sizeof(f), p, "effect"), eff,
                      "effect must be 'NoExecute' when `tolerationSeconds` is "
                      "set");
        vpath_child(f, sizeof(f), p, "operator");
        if (!op[0] || strcmp(op, "Equal") == 0) {
            const char *m = validate_label_value(val);
            if (m)
                invalid_s(e, f, val, m);
        } else if (strcmp(op, "Exists") == 0) {
            if (val[0])
                ferr_add(e, FERR_INVALID, f, t,
                         "value must be empty when `operator` is 'Exists'");
        } else {
            not_supported(e, f, op, "\"Equal\", \"Exists\"");
        }
        if (eff[0] && strcmp(eff, "NoSchedule") &&
            strcmp(eff, "PreferNoSchedule") && strcmp(eff, "NoExecute"))
            not_supported(e, vpath_child(f, sizeof(f), p, "effect"), eff,
                          "\"NoSchedule\", \"PreferNoSchedule\", "
                          "\"NoExecute\"");
    }
}

/* ---------------------------------------------------------------------
 * PodSpec
 * ------------------------------------------------------------------- */

static void name_field(struct json_object *spec, const char *key,
                       const char *path, struct ferr *e, bool label)
{
    P(f);
    const char *v = validate_opt_str(spec, key, path, e);
    if (!v || !v[0])
        return;
    vpath_child(f, sizeof(f), path, key);
    if (label)
        validate_field_dns1123_label(e, f, v);
    else
        validate_field_dns1123_subdomain(e, f, v);
}

void pod_spec_validate(struct json_object *spec, const char *path,
                       struct ferr *errs)
{
    struct ferr *e = errs;
    struct volset *vs;
    P(f);
    if (!spec || !json_object_is_type(spec, json_type_object)) {
        validate_type_error(e, path, spec, "an object");
        return;
    }
    vs = calloc(1, sizeof(*vs));
    if (!vs)
        return;

    int64_t tgps;
    vpath_child(f, sizeof(f), path, "terminationGracePeriodSeconds");
    if (!validate_opt_int(spec, "terminationGracePeriodSeconds", path, e,
                          &tgps) &&
        !ju_has(spec, "terminationGracePeriodSeconds"))
        ferr_required(e, f);

    validate_volumes(spec, path, e, vs);
    validate_containers(spec, path, vs, e);
    validate_init_containers(spec, path, vs, e);
    static const char *const restarts[] = {"Always", "OnFailure", "Never",
                                           NULL};
    enum_required(spec, "restartPolicy", path, e, restarts,
                  "\"Always\", \"OnFailure\", \"Never\"");
    static const char *const dns[] = {"ClusterFirstWithHostNet", "ClusterFirst",
                                      "Default", "None", NULL};
    enum_required(spec, "dnsPolicy", path, e, dns,
                  "\"ClusterFirstWithHostNet\", \"ClusterFirst\", "
                  "\"Default\", \"None\"");
    struct json_object *ns = NULL;
    if (json_object_object_get_ex(spec, "nodeSelector", &ns) && ns)
        validate_labels(ns, vpath_child(f, sizeof(f), path, "nodeSelector"), e);
    validate_opt_obj(spec, "securityContext", path, e);
    validate_opt_obj(spec, "affinity", path, e);
    struct json_object *dnscfg = validate_opt_obj(spec, "dnsConfig", path, e);
    const char *dnspol = ju_str(spec, "dnsPolicy");
    if (!dnscfg && dnspol && strcmp(dnspol, "None") == 0 &&
        !ju_has(spec, "dnsConfig"))
        ferr_add(e, FERR_REQUIRED, vpath_child(f, sizeof(f), path, "dnsConfig"),
                 NULL, "must provide `dnsConfig` when `dnsPolicy` is None");
    struct json_object *ips = obj_array(spec, "imagePullSecrets", path, e);
    for (size_t i = 0; i < ju_len(ips); i++) {
        P(p);
        vpath_index(p, sizeof(p),
                    vpath_child(f, sizeof(f), path, "imagePullSecrets"), i);
        validate_opt_str(ju_idx_obj(ips, i), "name", p, e);
    }
    obj_array(spec, "readinessGates", path, e);
    obj_array(spec, "topologySpreadConstraints", path, e);
    obj_array(spec, "schedulingGates", path, e);
    name_field(spec, "serviceAccountName", path, e, false);
    validate_opt_str(spec, "serviceAccount", path, e);
    name_field(spec, "nodeName", path, e, false);
    int64_t ads;
    if (validate_opt_int(spec, "activeDeadlineSeconds", path, e, &ads) &&
        (ads < 1 || ads > 2147483647))
        invalid_i(e, vpath_child(f, sizeof(f), path, "activeDeadlineSeconds"),
                  ads, "must be between 1 and 2147483647, inclusive");
    name_field(spec, "hostname", path, e, true);
    name_field(spec, "subdomain", path, e, true);
    validate_tolerations(spec, path, e);
    struct json_object *ha = obj_array(spec, "hostAliases", path, e);
    for (size_t i = 0; i < ju_len(ha); i++) {
        P(p);
        P(ipf);
        vpath_index(p, sizeof(p),
                    vpath_child(f, sizeof(f), path, "hostAliases"), i);
        const char *ip = validate_opt_str(ju_idx_obj(ha, i), "ip", p, e);
        validate_field_ip(e, vpath_child(ipf, sizeof(ipf), p, "ip"), ip);
        string_array(ju_idx_obj(ha, i), "hostnames", p, e);
    }
    name_field(spec, "priorityClassName", path, e, false);
    int64_t prio;
    validate_opt_int(spec, "priority", path, e, &prio);
    const char *pp = validate_opt_str(spec, "preemptionPolicy", path, e);
    if (pp && strcmp(pp, "PreemptLowerPriority") && strcmp(pp, "Never"))
        not_supported(e, vpath_child(f, sizeof(f), path, "preemptionPolicy"),
                      pp, "\"Never\", \"PreemptLowerPriority\"");
    validate_opt_str(spec, "schedulerName", path, e);
    validate_opt_str(spec, "runtimeClassName", path, e);
    static const char *const bools[] = {"hostNetwork",
                                        "hostPID",
                                        "hostIPC",
                                        "shareProcessNamespace",
                                        "automountServiceAccountToken",
                                        "enableServiceLinks",
                                        "setHostnameAsFQDN",
                                        "hostUsers",
                                        NULL};
    for (int i = 0; bools[i]; i++) {
        bool b;
        validate_opt_bool(spec, bools[i], path, e, &b);
    }
    free(vs);
}

void pod_template_validate(struct json_object *tmpl, const char *path,
                           struct ferr *errs)
{
    P(f);
    P(sp);
    if (!tmpl || !json_object_is_type(tmpl, json_type_object)) {
        if (!tmpl)
            ferr_required(errs, path);
        else
            validate_type_error(errs, path, tmpl, "an object");
        return;
    }
    struct json_object *md = validate_opt_obj(tmpl, "metadata", path, errs);
    struct json_object *v = NULL;
    if (json_object_object_get_ex(md, "labels", &v) && v)
        validate_labels(v, vpath_child(f, sizeof(f), path, "labels"), errs);
    if (json_object_object_get_ex(md, "annotations", &v) && v)
        validate_annotations(v, vpath_child(f, sizeof(f), path, "annotations"),
                             errs);
    vpath_child(sp, sizeof(sp), path, "spec");
    struct json_object *spec = NULL;
    json_object_object_get_ex(tmpl, "spec", &spec);
    if (!spec) {
        /* An absent spec validates as an empty one. */
        struct json_object *empty = json_object_new_object();
        pod_spec_validate(empty, sp, errs);
        json_object_put(empty);
        return;
    }
    pod_spec_validate(spec, sp, errs);
    if (ju_len(ju_arr(spec, "ephemeralContainers")) > 0)
        ferr_forbidden(errs,
                       vpath_child(f, sizeof(f), sp, "ephemeralContainers"),
                       "ephemeral containers not allowed in pod template");
}
