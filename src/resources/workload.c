/*
 * Shared pieces of the workload kinds (see workload.h): Go-style value
 * renderings for error texts, type-checked readers, int-or-percent rules,
 * selector and pod template checks, and table cell builders.
 */
#include "resources/workload.h"

#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/pod.h"
#include "resources/print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Go renderings                                                        */

void wl_go_quote(struct buf *b, const char *s)
{
    buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;
         p++) {
        switch (*p) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\a': buf_puts(b, "\\a"); break;
        case '\b': buf_puts(b, "\\b"); break;
        case '\f': buf_puts(b, "\\f"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\t': buf_puts(b, "\\t"); break;
        case '\v': buf_puts(b, "\\v"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                buf_printf(b, "\\x%02x", *p);
            else
                buf_append(b, p, 1);
        }
    }
    buf_puts(b, "\"");
}

static void put_json(struct buf *b, struct json_object *v)
{
    buf_puts(b,
             v ? json_object_to_json_string_ext(
                     v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
               : "null");
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object o, sorted; caller frees the array (not the keys,
 * which o owns). *n receives the count. NULL when empty or on ENOMEM. */
static const char **sorted_keys(struct json_object *o, size_t *n)
{
    size_t cnt = (size_t)json_object_object_length(o), i = 0;
    const char **keys;

    *n = 0;
    if (cnt == 0)
        return NULL;
    keys = calloc(cnt, sizeof(*keys));
    if (!keys)
        return NULL;
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        if (i < cnt)
            keys[i++] = k;
    }
    qsort(keys, i, sizeof(*keys), cmp_cstr);
    *n = i;
    return keys;
}

void wl_go_string_map(struct buf *b, struct json_object *map)
{
    size_t n;
    const char **keys;

    if (!map) {
        buf_puts(b, "map[string]string(nil)");
        return;
    }
    if (!json_object_is_type(map, json_type_object)) {
        put_json(b, map);
        return;
    }
    keys = sorted_keys(map, &n);
    buf_puts(b, "map[string]string{");
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = NULL;
        json_object_object_get_ex(map, keys[i], &v);
        if (i)
            buf_puts(b, ", ");
        wl_go_quote(b, keys[i]);
        buf_puts(b, ":");
        if (v && json_object_is_type(v, json_type_string))
            wl_go_quote(b, json_object_get_string(v));
        else
            put_json(b, v);
    }
    buf_puts(b, "}");
    free(keys);
}

static void go_string_slice(struct buf *b, struct json_object *arr)
{
    if (!arr) {
        buf_puts(b, "[]string(nil)");
        return;
    }
    if (!json_object_is_type(arr, json_type_array)) {
        put_json(b, arr);
        return;
    }
    buf_puts(b, "[]string{");
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(arr, i);
        if (i)
            buf_puts(b, ", ");
        if (v && json_object_is_type(v, json_type_string))
            wl_go_quote(b, json_object_get_string(v));
        else
            put_json(b, v);
    }
    buf_puts(b, "}");
}

void wl_go_label_selector(struct buf *b, struct json_object *sel)
{
    struct json_object *me;

    if (!sel) {
        buf_puts(b, "null");
        return;
    }
    if (!json_object_is_type(sel, json_type_object)) {
        put_json(b, sel);
        return;
    }
    buf_puts(b, "v1.LabelSelector{MatchLabels:");
    wl_go_string_map(b, wl_get(sel, "matchLabels"));
    buf_puts(b, ", MatchExpressions:");
    me = wl_get(sel, "matchExpressions");
    if (!me) {
        buf_puts(b, "[]v1.LabelSelectorRequirement(nil)");
    } else if (!json_object_is_type(me, json_type_array)) {
        put_json(b, me);
    } else {
        size_t n = json_object_array_length(me);
        buf_puts(b, "[]v1.LabelSelectorRequirement{");
        for (size_t i = 0; i < n; i++) {
            struct json_object *e = json_object_array_get_idx(me, i);
            const char *key = ju_str(e, "key");
            const char *op = ju_str(e, "operator");
            if (i)
                buf_puts(b, ", ");
            buf_puts(b, "v1.LabelSelectorRequirement{Key:");
            wl_go_quote(b, key ? key : "");
            buf_puts(b, ", Operator:");
            wl_go_quote(b, op ? op : "");
            buf_puts(b, ", Values:");
            go_string_slice(b, wl_get(e, "values"));
            buf_puts(b, "}");
        }
        buf_puts(b, "}");
    }
    buf_puts(b, "}");
}

void wl_go_intstr(struct buf *b, struct json_object *v)
{
    if (!v) {
        buf_puts(b, "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}");
    } else if (json_object_is_type(v, json_type_int)) {
        buf_printf(b, "intstr.IntOrString{Type:0, IntVal:%lld, StrVal:\"\"}",
                   (long long)json_object_get_int64(v));
    } else if (json_object_is_type(v, json_type_string)) {
        buf_puts(b, "intstr.IntOrString{Type:1, IntVal:0, StrVal:");
        wl_go_quote(b, json_object_get_string(v));
        buf_puts(b, "}");
    } else {
        put_json(b, v);
    }
}

void wl_err_repr(struct ferr *e, enum ferr_type type, const char *field,
                 const char *repr, const char *detail)
{
    struct json_object *v = json_object_new_string(repr ? repr : "");
    char *ud = strdup(repr ? repr : "");

    if (!v || !ud) {
        free(ud);
        json_object_put(v);
        ferr_add(e, type, field, NULL, "%s", detail ? detail : "");
        return;
    }
    /* Serialise the value as the raw text, not as a quoted JSON string. */
    json_object_set_serializer(v, json_object_userdata_to_json_string, ud,
                               json_object_free_userdata);
    if (detail)
        ferr_add(e, type, field, v, "%s", detail);
    else
        ferr_add(e, type, field, v, NULL);
    json_object_put(v);
}

void wl_err_text(struct ferr *e, enum ferr_type type, const char *field,
                 const char *message)
{
    validate_add_raw(e, type, field, message);
}

void wl_err_type(struct ferr *e, const char *field, struct json_object *v,
                 const char *type)
{
    char want[64];
    snprintf(want, sizeof(want), "%s %s", strchr("aeiou", type[0]) ? "an" : "a",
             type);
    validate_type_error(e, field, v, want);
}

void wl_err_int(struct ferr *e, const char *field, int64_t v,
                const char *detail)
{
    validate_invalid_int(e, field, v, detail);
}

/* ------------------------------------------------------------------ */
/* Readers                                                              */

struct json_object *wl_get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v; /* NULL for JSON null */
}

bool wl_int(struct json_object *o, const char *key, const char *path,
            struct ferr *errs, int64_t *out)
{
    struct json_object *v = wl_get(o, key);
    if (!v)
        return false;
    if (ju_int(o, key, out))
        return true;
    wl_err_type(errs, path, v, "integer");
    return false;
}

const char *wl_str(struct json_object *o, const char *key, const char *path,
                   struct ferr *errs)
{
    struct json_object *v = wl_get(o, key);
    if (!v)
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    wl_err_type(errs, path, v, "string");
    return NULL;
}

struct json_object *wl_obj(struct json_object *o, const char *key,
                           const char *path, struct ferr *errs)
{
    struct json_object *v = wl_get(o, key);
    if (!v)
        return NULL;
    if (json_object_is_type(v, json_type_object))
        return v;
    wl_err_type(errs, path, v, "object");
    return NULL;
}

struct json_object *wl_arr(struct json_object *o, const char *key,
                           const char *path, struct ferr *errs)
{
    struct json_object *v = wl_get(o, key);
    if (!v)
        return NULL;
    if (json_object_is_type(v, json_type_array))
        return v;
    wl_err_type(errs, path, v, "array");
    return NULL;
}

bool wl_bool(struct json_object *o, const char *key, const char *path,
             struct ferr *errs, bool *out)
{
    struct json_object *v = wl_get(o, key);
    if (!v)
        return false;
    if (json_object_is_type(v, json_type_boolean)) {
        *out = json_object_get_boolean(v);
        return true;
    }
    wl_err_type(errs, path, v, "boolean");
    return false;
}

void wl_nonneg(struct json_object *o, const char *key, const char *path,
               struct ferr *errs)
{
    int64_t v;
    if (wl_int(o, key, path, errs, &v) && v < 0)
        wl_err_int(errs, path, v, WL_MSG_NONNEG);
}

struct json_object *wl_ensure_obj(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    if (json_object_object_get_ex(o, key, &v) && v)
        return json_object_is_type(v, json_type_object) ? v : NULL;
    v = json_object_new_object();
    if (!v)
        return NULL;
    if (json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        return NULL;
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* int-or-percent                                                       */

bool wl_is_intstr(struct json_object *v)
{
    return v && (json_object_is_type(v, json_type_int) ||
                 json_object_is_type(v, json_type_string));
}

/* Parses a run of decimal digits the way strconv.Atoi would, clamping on
 * overflow. Returns false if s is not entirely [+-]digits. */
static bool atoi_full(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    int64_t v = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (INT64_MAX - 9) / 10)
            v = INT64_MAX / 10; /* clamp; stays large */
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

bool wl_intstr_percent(struct json_object *v, int64_t *pct)
{
    const char *s;
    size_t n;

    if (!v || !json_object_is_type(v, json_type_string))
        return false;
    s = json_object_get_string(v);
    n = strlen(s);
    if (n < 2 || s[n - 1] != '%')
        return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return atoi_full(s, n - 1, pct);
}

int64_t wl_intstr_value(struct json_object *v)
{
    int64_t r = 0;
    if (!v)
        return 0;
    if (wl_intstr_percent(v, &r))
        return r;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (atoi_full(s, strlen(s), &r))
            return r;
    }
    return 0;
}

struct json_object *wl_intstr_field(struct json_object *o, const char *key,
                                    const char *path, struct ferr *errs)
{
    struct json_object *v = wl_get(o, key);
    if (!v)
        return NULL;
    if (wl_is_intstr(v))
        return v;
    wl_err_type(errs, path, v, "integer or string");
    return NULL;
}

void wl_validate_int_or_percent(struct json_object *v, const char *path,
                                struct ferr *errs)
{
    int64_t pct;
    if (!v)
        return;
    if (json_object_is_type(v, json_type_string)) {
        if (!wl_intstr_percent(v, &pct)) {
            struct buf b;
            buf_init(&b, 0);
            wl_go_intstr(&b, v);
            wl_err_repr(errs, FERR_INVALID, path, b.data, WL_MSG_PERCENT);
            buf_free(&b);
        }
    } else if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        if (n < 0)
            wl_err_int(errs, path, n, WL_MSG_NONNEG);
    } else {
        struct buf b;
        buf_init(&b, 0);
        put_json(&b, v);
        wl_err_repr(errs, FERR_INVALID, path, b.data,
                    "must be an integer or percentage (e.g '5%')");
        buf_free(&b);
    }
}

void wl_validate_not_over_100(struct json_object *v, const char *path,
                              struct ferr *errs)
{
    int64_t pct;
    if (wl_intstr_percent(v, &pct) && pct > 100) {
        struct buf b;
        buf_init(&b, 0);
        wl_go_intstr(&b, v);
        wl_err_repr(errs, FERR_INVALID, path, b.data,
                    "must not be greater than 100%");
        buf_free(&b);
    }
}

/* ------------------------------------------------------------------ */
/* Selectors and templates                                              */

static void path_join(char *out, size_t len, const char *base,
                      const char *child)
{
    int n = snprintf(out, len, "%s.%s", base, child);
    if (n < 0 || (size_t)n >= len)
        out[len - 1] = '\0';
}

static void path_index(char *out, size_t len, const char *base, size_t i,
                       const char *child)
{
    int n = child ? snprintf(out, len, "%s[%zu].%s", base, i, child)
                  : snprintf(out, len, "%s[%zu]", base, i);
    if (n < 0 || (size_t)n >= len)
        out[len - 1] = '\0';
}

/* ValidateLabelSelectorRequirement for matchExpressions[i]. */
static bool validate_requirement(struct json_object *e, const char *base,
                                 size_t i, struct ferr *errs)
{
    char p[512], pv[600];
    struct json_object *values, *kv;
    const char *op, *key;
    size_t nvalues = 0;
    bool ok = true;

    if (!e || !json_object_is_type(e, json_type_object)) {
        path_index(p, sizeof(p), base, i, NULL);
        wl_err_type(errs, p, e, "object");
        return false;
    }
    path_index(p, sizeof(p), base, i, "operator");
    op = wl_str(e, "operator", p, errs);
    if (!op && wl_get(e, "operator"))
        ok = false;
    path_index(p, sizeof(p), base, i, "values");
    values = wl_arr(e, "values", p, errs);
    if (!values && wl_get(e, "values"))
        ok = false;
    nvalues = values ? json_object_array_length(values) : 0;
    if (!op)
        op = "";
    if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
        if (nvalues == 0)
            ferr_add(errs, FERR_REQUIRED, p, NULL,
                     "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
        if (nvalues > 0)
            ferr_forbidden(errs, p,
                           "may not be specified when `operator` is "
                           "'Exists' or 'DoesNotExist'");
    } else {
        char po[512];
        path_index(po, sizeof(po), base, i, "operator");
        kv = json_object_new_string(op);
        ferr_add(errs, FERR_INVALID, po, kv, "not a valid selector operator");
        json_object_put(kv);
    }
    path_index(p, sizeof(p), base, i, "key");
    key = wl_str(e, "key", p, errs);
    if (!key && wl_get(e, "key"))
        ok = false;
    else
        validate_field_qualified_name(errs, p, key ? key : "");
    path_index(p, sizeof(p), base, i, "values");
    for (size_t j = 0; j < nvalues; j++) {
        struct json_object *v = json_object_array_get_idx(values, j);
        int n = snprintf(pv, sizeof(pv), "%s[%zu]", p, j);
        if (n < 0 || (size_t)n >= sizeof(pv))
            pv[sizeof(pv) - 1] = '\0';
        if (!v || !json_object_is_type(v, json_type_string)) {
            wl_err_type(errs, pv, v, "string");
            ok = false;
            continue;
        }
        const char *msg = validate_label_value(json_object_get_string(v));
        if (msg)
            ferr_add(errs, FERR_INVALID, pv, v, "%s", msg);
    }
    return ok;
}

bool wl_validate_selector(struct json_object *sel, const char *path,
                          struct ferr *errs)
{
    char p[512];
    struct json_object *ml, *me;
    bool ok = true;

    if (!sel)
        return true;
    if (!json_object_is_type(sel, json_type_object)) {
        wl_err_type(errs, path, sel, "object");
        return false;
    }
    path_join(p, sizeof(p), path, "matchLabels");
    ml = wl_get(sel, "matchLabels");
    if (ml && !json_object_is_type(ml, json_type_object)) {
        wl_err_type(errs, p, ml, "object");
        ok = false;
    } else if (ml) {
        bool strings = true;
        json_object_object_foreach(ml, k, v)
        {
            if (!v || !json_object_is_type(v, json_type_string)) {
                char pk[768];
                int n = snprintf(pk, sizeof(pk), "%s[%s]", p, k);
                if (n < 0 || (size_t)n >= sizeof(pk))
                    pk[sizeof(pk) - 1] = '\0';
                wl_err_type(errs, pk, v, "string");
                strings = false;
            }
        }
        if (strings)
            validate_labels(ml, p, errs);
        else
            ok = false;
    }
    path_join(p, sizeof(p), path, "matchExpressions");
    me = wl_get(sel, "matchExpressions");
    if (me && !json_object_is_type(me, json_type_array)) {
        wl_err_type(errs, p, me, "array");
        ok = false;
    } else if (me) {
        size_t n = json_object_array_length(me);
        for (size_t i = 0; i < n; i++)
            if (!validate_requirement(json_object_array_get_idx(me, i), p, i,
                                      errs))
                ok = false;
    }
    return ok;
}

struct label_selector *wl_selector_compile(struct json_object *sel)
{
    struct label_selector *ls = NULL;
    char err[256];
    if (label_selector_from_json(sel, &ls, err, sizeof(err)) != 0)
        return NULL;
    return ls;
}

bool wl_selector_is_empty(struct json_object *sel)
{
    struct json_object *ml, *me;
    if (!sel || !json_object_is_type(sel, json_type_object))
        return false;
    ml = wl_get(sel, "matchLabels");
    me = wl_get(sel, "matchExpressions");
    if (ml && json_object_is_type(ml, json_type_object) &&
        json_object_object_length(ml) > 0)
        return false;
    if (me && json_object_is_type(me, json_type_array) &&
        json_object_array_length(me) > 0)
        return false;
    return true;
}

void wl_err_selector_mismatch(struct ferr *errs, const char *path,
                              struct json_object *tmpl)
{
    struct buf b;
    buf_init(&b, 0);
    wl_go_string_map(&b, wl_get(ju_obj(tmpl, "metadata"), "labels"));
    wl_err_repr(errs, FERR_INVALID, path, b.data, WL_MSG_SELECTOR_MISMATCH);
    buf_free(&b);
}

void wl_template_restart_always(struct json_object *tmpl, const char *path,
                                const char *kind, struct ferr *errs)
{
    char p[512];
    struct json_object *tspec = ju_obj(tmpl, "spec");
    struct json_object *rp = wl_get(tspec, "restartPolicy");

    /* A restartPolicy of the wrong JSON type is the pod validator's to
     * report. */
    if (!rp || (json_object_is_type(rp, json_type_string) &&
                strcmp(json_object_get_string(rp), "Always") != 0)) {
        struct json_object *empty = rp ? NULL : json_object_new_string("");
        path_join(p, sizeof(p), path, "spec.restartPolicy");
        ferr_add(errs, FERR_NOT_SUPPORTED, p, rp ? rp : empty,
                 "supported values: \"Always\"");
        json_object_put(empty);
    }
    if (wl_get(tspec, "activeDeadlineSeconds")) {
        path_join(p, sizeof(p), path, "spec.activeDeadlineSeconds");
        ferr_add(errs, FERR_FORBIDDEN, p, NULL,
                 "activeDeadlineSeconds in %s is not Supported", kind);
    }
}

struct json_object *wl_template_validate(struct json_object *spec,
                                         const char *path, struct ferr *errs)
{
    struct json_object *t = wl_get(spec, "template");
    if (!t) {
        struct json_object *empty = json_object_new_object();
        if (empty)
            pod_template_validate(empty, path, errs);
        json_object_put(empty);
        return NULL;
    }
    if (!json_object_is_type(t, json_type_object)) {
        wl_err_type(errs, path, t, "object");
        return NULL;
    }
    pod_template_validate(t, path, errs);
    return t;
}

void wl_validate_replica_template(struct json_object *spec, struct ferr *errs)
{
    struct json_object *sel = wl_get(spec, "selector");
    struct json_object *tmpl;
    struct label_selector *ls = NULL;
    bool usable = true;

    if (!sel) {
        ferr_required(errs, "spec.selector");
    } else {
        usable = wl_validate_selector(sel, "spec.selector", errs);
        if (usable && wl_selector_is_empty(sel)) {
            struct buf b;
            buf_init(&b, 0);
            wl_go_label_selector(&b, sel);
            wl_err_repr(errs, FERR_INVALID, "spec.selector", b.data,
                        "empty selector is invalid for deployment");
            buf_free(&b);
        }
    }
    if (usable) {
        ls = wl_selector_compile(sel);
        if (!ls) {
            struct buf b;
            buf_init(&b, 0);
            wl_go_label_selector(&b, sel);
            wl_err_repr(errs, FERR_INVALID, "spec.selector", b.data,
                        "invalid label selector");
            buf_free(&b);
            return;
        }
    }
    tmpl = ju_obj(spec, "template");
    if (ls && !label_selector_empty(ls) &&
        !label_selector_matches(ls, wl_get(ju_obj(tmpl, "metadata"), "labels")))
        wl_err_selector_mismatch(errs, "spec.template.metadata.labels", tmpl);
    label_selector_free(ls);
    if (wl_template_validate(spec, "spec.template", errs) ||
        !wl_get(spec, "template"))
        wl_template_restart_always(tmpl, "spec.template", "ReplicaSet", errs);
}

void wl_template_defaults(struct json_object *spec)
{
    struct json_object *t = wl_ensure_obj(spec, "template");
    struct json_object *ts = wl_ensure_obj(t, "spec");
    if (ts)
        pod_spec_defaults(ts);
}

void wl_selector_immutable(struct json_object *sel, struct json_object *old,
                           const char *path, struct ferr *errs)
{
    struct buf b;
    if (wl_json_equal(sel, old))
        return;
    buf_init(&b, 0);
    wl_go_label_selector(&b, sel);
    wl_err_repr(errs, FERR_INVALID, path, b.data, WL_MSG_IMMUTABLE);
    buf_free(&b);
}

static bool nullish(struct json_object *v)
{
    if (!v)
        return true;
    if (json_object_is_type(v, json_type_array))
        return json_object_array_length(v) == 0;
    if (json_object_is_type(v, json_type_object))
        return json_object_object_length(v) == 0;
    return false;
}

bool wl_json_equal(struct json_object *a, struct json_object *b)
{
    enum json_type ta, tb;

    if (nullish(a) || nullish(b))
        return nullish(a) && nullish(b);
    ta = json_object_get_type(a);
    tb = json_object_get_type(b);
    if ((ta == json_type_int || ta == json_type_double) &&
        (tb == json_type_int || tb == json_type_double)) {
        if (ta == json_type_int && tb == json_type_int)
            return json_object_get_int64(a) == json_object_get_int64(b);
        return json_object_get_double(a) == json_object_get_double(b);
    }
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string:
        return json_object_get_string_len(a) == json_object_get_string_len(b) &&
               memcmp(json_object_get_string(a), json_object_get_string(b),
                      (size_t)json_object_get_string_len(a)) == 0;
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!wl_json_equal(json_object_array_get_idx(a, i),
                               json_object_array_get_idx(b, i)))
                return false;
        return true;
    }
    case json_type_object: {
        json_object_object_foreach(a, ka, va)
        {
            if (!wl_json_equal(va, wl_get(b, ka)))
                return false;
        }
        json_object_object_foreach(b, kb, vb)
        {
            struct json_object *x = NULL;
            if (!json_object_object_get_ex(a, kb, &x) && !nullish(vb))
                return false;
        }
        return true;
    }
    default: return true;
    }
}

void wl_reset_status(struct json_object *obj)
{
    struct json_object *st;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return;
    st = json_object_new_object();
    if (st && json_object_object_add(obj, "status", st) != 0)
        json_object_put(st);
}

/* ------------------------------------------------------------------ */
/* Table cells                                                          */

void wl_cells_containers(struct json_object *tmpl, struct json_object *cells)
{
    struct json_object *cs = ju_arr(ju_obj(tmpl, "spec"), "containers");
    size_t n = cs ? json_object_array_length(cs) : 0;
    struct buf names, images;

    buf_init(&names, 0);
    buf_init(&images, 0);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(cs, i);
        const char *name = ju_str(c, "name"), *image = ju_str(c, "image");
        buf_puts(&names, name ? name : "");
        buf_puts(&images, image ? image : "");
        if (i + 1 != n) {
            buf_puts(&names, ",");
            buf_puts(&images, ",");
        }
    }
    print_cell_str(cells, names.data ? names.data : "");
    print_cell_str(cells, images.data ? images.data : "");
    buf_free(&names);
    buf_free(&images);
}

int wl_selector_text(struct json_object *sel, struct buf *out)
{
    struct label_selector *ls;
    char *s;

    if (!sel)
        return 0; /* labels.Nothing() prints as "" */
    ls = wl_selector_compile(sel);
    if (!ls)
        return -1;
    s = label_selector_string(ls);
    label_selector_free(ls);
    if (!s)
        return -1;
    buf_puts(out, s);
    free(s);
    return 0;
}

void wl_cell_selector(struct json_object *sel, struct json_object *cells)
{
    struct buf b;
    buf_init(&b, 0);
    if (wl_selector_text(sel, &b) != 0)
        print_cell_str(cells, "<error>");
    else
        print_cell_str(cells, b.len ? b.data : "<none>");
    buf_free(&b);
}

int64_t wl_int_path(struct json_object *obj, const char *path)
{
    struct json_object *v = ju_path(obj, path);
    if (v && json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    return 0;
}

void wl_cell_int_path(struct json_object *obj, const char *path,
                      struct json_object *cells)
{
    print_cell_int(cells, (long long)wl_int_path(obj, path));
}

void wl_cell_age(struct json_object *obj, struct json_object *cells, time_t now)
{
    char age[64];
    print_age(age, sizeof(age), obj, now);
    print_cell_str(cells, age);
}

void wl_cell_name(struct json_object *obj, struct json_object *cells)
{
    const char *name = ju_str(ju_obj(obj, "metadata"), "name");
    print_cell_str(cells, name ? name : "");
}
