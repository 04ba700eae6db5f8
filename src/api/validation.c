/*
 * Name, label, annotation and object-metadata validation with the rules
 * and detail texts of Kubernetes (k8s.io/apimachinery util/validation and
 * api/validation), plus the typed-access helpers kind validators share.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "util/buf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Detail texts (RegexError/MaxLenError forms of apimachinery) ---- */

#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_SUBDOMAIN_FMT DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

#define MSG_DNS1123_LABEL                                                      \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "      \
    "characters or '-', and must start and end with an alphanumeric "          \
    "character (e.g. 'my-name',  or '123-abc', regex used for validation "     \
    "is '" DNS1123_LABEL_FMT "')"
#define MSG_DNS1123_SUBDOMAIN                                                  \
    "a lowercase RFC 1123 subdomain must consist of lower case "               \
    "alphanumeric characters, '-' or '.', and must start and end with an "     \
    "alphanumeric character (e.g. 'example.com', regex used for validation "   \
    "is '" DNS1123_SUBDOMAIN_FMT "')"
#define MSG_DNS1035_LABEL                                                      \
    "a DNS-1035 label must consist of lower case alphanumeric characters or "  \
    "'-', start with an alphabetic character, and end with an alphanumeric "   \
    "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "  \
    "'[a-z]([-a-z0-9]*[a-z0-9])?')"
#define MSG_QNAME_BODY                                                         \
    "must consist of alphanumeric characters, '-', '_' or '.', and must "      \
    "start and end with an alphanumeric character (e.g. 'MyName',  or "        \
    "'my.name',  or '123-abc', regex used for validation is '" QNAME_FMT "')"
#define MSG_LABEL_VALUE                                                        \
    "a valid label must be an empty string or consist of alphanumeric "        \
    "characters, '-', '_' or '.', and must start and end with an "             \
    "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "    \
    "regex used for validation is '(" QNAME_FMT ")?')"
#define MSG_CONFIG_KEY                                                         \
    "a valid config key must consist of alphanumeric characters, '-', '_' "    \
    "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "     \
    "for validation is '[-._a-zA-Z0-9]+')"
#define MSG_MAXLEN_63 "must be no more than 63 characters"
#define MSG_MAXLEN_253 "must be no more than 253 characters"
#define MSG_NO_DOTS "must not contain dots"
#define MSG_EMPTY "must be non-empty"

/* ---- Character-class matchers (the regexes above, by hand) ---- */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool match_dns1123_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* Dot-separated labels over s[0..len). */
static bool match_dns1123_subdomain_n(const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!match_dns1123_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

static bool match_dns1123_subdomain(const char *s)
{
    return match_dns1123_subdomain_n(s, strlen(s));
}

static bool match_dns1035_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || !(s[0] >= 'a' && s[0] <= 'z') || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n) */
static bool match_qname(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* ---- Multi-message validators ---- */

struct vmsgs {
    const char **m;
    int n, max;
};

static void vm_add(struct vmsgs *v, const char *msg)
{
    if (v->n < v->max)
        v->m[v->n++] = msg;
}

static void dns1123_label(struct vmsgs *v, const char *s)
{
    size_t n = strlen(s);
    if (n > 63)
        vm_add(v, MSG_MAXLEN_63);
    if (!match_dns1123_label(s, n))
        vm_add(v, match_dns1123_subdomain(s) ? MSG_NO_DOTS : MSG_DNS1123_LABEL);
}

static void dns1123_subdomain(struct vmsgs *v, const char *s)
{
    if (strlen(s) > 253)
        vm_add(v, MSG_MAXLEN_253);
    if (!match_dns1123_subdomain(s))
        vm_add(v, MSG_DNS1123_SUBDOMAIN);
}

static void dns1035_label(struct vmsgs *v, const char *s)
{
    if (strlen(s) > 63)
        vm_add(v, MSG_MAXLEN_63);
    if (!match_dns1035_label(s))
        vm_add(v, MSG_DNS1035_LABEL);
}

static void qualified_name(struct vmsgs *v, const char *s)
{
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash && strchr(slash + 1, '/')) {
        vm_add(v, "a qualified name " MSG_QNAME_BODY
                  " with an optional DNS subdomain prefix and '/' (e.g. "
                  "'example.com/MyName')");
        return;
    }
    if (slash) {
        size_t plen = (size_t)(slash - s);
        name = slash + 1;
        if (plen == 0) {
            vm_add(v, "prefix part " MSG_EMPTY);
        } else {
            if (plen > 253)
                vm_add(v, "prefix part " MSG_MAXLEN_253);
            if (!match_dns1123_subdomain_n(s, plen))
                vm_add(v, "prefix part " MSG_DNS1123_SUBDOMAIN);
        }
    }
    size_t n = strlen(name);
    if (n == 0)
        vm_add(v, "name part " MSG_EMPTY);
    else if (n > 63)
        vm_add(v, "name part " MSG_MAXLEN_63);
    if (!match_qname(name, n))
        vm_add(v, "name part " MSG_QNAME_BODY);
}

static void label_value(struct vmsgs *v, const char *s)
{
    size_t n = strlen(s);
    if (n > 63)
        vm_add(v, MSG_MAXLEN_63);
    if (n > 0 && !match_qname(s, n))
        vm_add(v, MSG_LABEL_VALUE);
}

static void path_segment(struct vmsgs *v, const char *s, bool prefix)
{
    if (!prefix) {
        if (strcmp(s, ".") == 0) {
            vm_add(v, "may not be '.'");
            return;
        }
        if (strcmp(s, "..") == 0) {
            vm_add(v, "may not be '..'");
            return;
        }
    }
    if (strchr(s, '/'))
        vm_add(v, "may not contain '/'");
    if (strchr(s, '%'))
        vm_add(v, "may not contain '%'");
}

static void config_key(struct vmsgs *v, const char *s)
{
    size_t n = strlen(s);
    bool ok = n > 0;
    if (n > 253)
        vm_add(v, MSG_MAXLEN_253);
    for (size_t i = 0; ok && i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
            ok = false;
    if (!ok)
        vm_add(v, MSG_CONFIG_KEY);
    if (strcmp(s, ".") == 0)
        vm_add(v, "must not be '.'");
    else if (strcmp(s, "..") == 0)
        vm_add(v, "must not be '..'");
    else if (strncmp(s, "..", 2) == 0)
        vm_add(v, "must not start with '..'");
}

static void port_name(struct vmsgs *v, const char *s)
{
    size_t n = strlen(s);
    bool charset = n > 0, letter = false;
    if (n > 15)
        vm_add(v, "must be no more than 15 characters");
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
            charset = false;
    }
    if (!charset)
        vm_add(v, "must contain only alpha-numeric characters (a-z, 0-9), "
                  "and hyphens (-)");
    if (!letter)
        vm_add(v, "must contain at least one letter (a-z)");
    if (strstr(s, "--"))
        vm_add(v, "must not contain consecutive hyphens");
    if (n > 0 && (s[0] == '-' || s[n - 1] == '-'))
        vm_add(v, "must not begin or end with a hyphen");
}

/* ---- Single-text public validators ---- */

#define FIRST_MSG(call)                                                        \
    do {                                                                       \
        const char *m_[4];                                                     \
        struct vmsgs v_ = {m_, 0, 4};                                          \
        call(&v_, s ? s : "");                                                 \
        return v_.n ? m_[0] : NULL;                                            \
    } while (0)

const char *validate_dns1123_label(const char *s) { FIRST_MSG(dns1123_label); }
const char *validate_dns1123_subdomain(const char *s)
{
    FIRST_MSG(dns1123_subdomain);
}
const char *validate_dns1035_label(const char *s) { FIRST_MSG(dns1035_label); }
const char *validate_qualified_name(const char *s)
{
    FIRST_MSG(qualified_name);
}
const char *validate_label_value(const char *s) { FIRST_MSG(label_value); }
const char *validate_config_key(const char *s) { FIRST_MSG(config_key); }
const char *validate_port_name(const char *s) { FIRST_MSG(port_name); }

int validate_name_msgs(enum name_rule rule, const char *s, bool prefix,
                       const char **msgs, int max)
{
    struct vmsgs v = {msgs, 0, max};
    char masked[300];
    if (!s)
        s = "";
    /* Kubernetes' maskTrailingDash: a generateName may end in '-'. */
    if (prefix && rule != NAME_PATH_SEGMENT) {
        size_t n = strlen(s);
        if (n > 1 && s[n - 1] == '-' && n < sizeof(masked)) {
            memcpy(masked, s, n - 2);
            masked[n - 2] = 'a';
            masked[n - 1] = '\0';
            s = masked;
        }
    }
    switch (rule) {
    case NAME_SUBDOMAIN: dns1123_subdomain(&v, s); break;
    case NAME_LABEL: dns1123_label(&v, s); break;
    case NAME_LABEL_1035: dns1035_label(&v, s); break;
    case NAME_PATH_SEGMENT: path_segment(&v, s, prefix); break;
    }
    return v.n;
}

/* ---- Error helpers ---- */

char *vpath_child(char *buf, size_t len, const char *base, const char *child)
{
    if (base && base[0])
        snprintf(buf, len, "%s.%s", base, child);
    else
        snprintf(buf, len, "%s", child);
    return buf;
}

char *vpath_index(char *buf, size_t len, const char *base, size_t i)
{
    snprintf(buf, len, "%s[%zu]", base, i);
    return buf;
}

char *vpath_key(char *buf, size_t len, const char *base, const char *key)
{
    snprintf(buf, len, "%s[%s]", base, key);
    return buf;
}

static void invalid_str(struct ferr *errs, const char *field, const char *value,
                        const char *detail)
{
    struct json_object *v = json_object_new_string(value ? value : "");
    ferr_add(errs, FERR_INVALID, field, v, "%s", detail);
    json_object_put(v);
}

#define FIELD_MSGS(call)                                                       \
    do {                                                                       \
        const char *m_[6];                                                     \
        struct vmsgs v_ = {m_, 0, 6};                                          \
        call(&v_, value ? value : "");                                         \
        for (int i_ = 0; i_ < v_.n; i_++)                                      \
            invalid_str(errs, field, value, m_[i_]);                           \
    } while (0)

void validate_field_dns1123_label(struct ferr *errs, const char *field,
                                  const char *value)
{
    FIELD_MSGS(dns1123_label);
}

void validate_field_dns1123_subdomain(struct ferr *errs, const char *field,
                                      const char *value)
{
    FIELD_MSGS(dns1123_subdomain);
}

void validate_field_qualified_name(struct ferr *errs, const char *field,
                                   const char *value)
{
    FIELD_MSGS(qualified_name);
}

void validate_field_config_key(struct ferr *errs, const char *field,
                               const char *value)
{
    FIELD_MSGS(config_key);
}

void validate_field_port_name(struct ferr *errs, const char *field,
                              const char *value)
{
    FIELD_MSGS(port_name);
}

void validate_field_port_num(struct ferr *errs, const char *field, int64_t port)
{
    if (port >= 1 && port <= 65535)
        return;
    struct json_object *v = json_object_new_int64(port);
    ferr_add(errs, FERR_INVALID, field, v,
             "must be between 1 and 65535, inclusive");
    json_object_put(v);
}

bool validate_field_ip(struct ferr *errs, const char *field, const char *value)
{
    unsigned char a[16];
    if (value && (inet_pton(AF_INET, value, a) == 1 ||
                  inet_pton(AF_INET6, value, a) == 1))
        return true;
    invalid_str(
        errs, field, value,
        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    return false;
}

const char *validate_json_type(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_double: return "number";
    case json_type_int: return "integer";
    case json_type_object: return "object";
    case json_type_array: return "array";
    case json_type_string: return "string";
    }
    return "null";
}

void validate_type_error(struct ferr *errs, const char *field,
                         struct json_object *got, const char *want)
{
    struct json_object *t = json_object_new_string(validate_json_type(got));
    ferr_add(errs, FERR_TYPE, field, t, "must be %s", want);
    json_object_put(t);
}

/* o[key] when present and not null, else NULL. */
static struct json_object *member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static struct json_object *opt_typed(struct json_object *o, const char *key,
                                     const char *path, struct ferr *errs,
                                     json_type want, const char *want_text)
{
    struct json_object *v = member(o, key);
    if (!v)
        return NULL;
    if (json_object_is_type(v, want))
        return v;
    char f[VALIDATE_PATH_MAX];
    validate_type_error(errs, vpath_child(f, sizeof(f), path, key), v,
                        want_text);
    return NULL;
}

const char *validate_opt_str(struct json_object *o, const char *key,
                             const char *path, struct ferr *errs)
{
    struct json_object *v =
        opt_typed(o, key, path, errs, json_type_string, "a string");
    return v ? json_object_get_string(v) : NULL;
}

struct json_object *validate_opt_obj(struct json_object *o, const char *key,
                                     const char *path, struct ferr *errs)
{
    return opt_typed(o, key, path, errs, json_type_object, "an object");
}

struct json_object *validate_opt_arr(struct json_object *o, const char *key,
                                     const char *path, struct ferr *errs)
{
    return opt_typed(o, key, path, errs, json_type_array, "an array");
}

bool validate_opt_int(struct json_object *o, const char *key, const char *path,
                      struct ferr *errs, int64_t *out)
{
    struct json_object *v = member(o, key);
    if (!v)
        return false;
    if (ju_int(o, key, out))
        return true;
    char f[VALIDATE_PATH_MAX];
    validate_type_error(errs, vpath_child(f, sizeof(f), path, key), v,
                        "an integer");
    return false;
}

bool validate_opt_bool(struct json_object *o, const char *key, const char *path,
                       struct ferr *errs, bool *out)
{
    struct json_object *v =
        opt_typed(o, key, path, errs, json_type_boolean, "a boolean");
    if (!v)
        return false;
    *out = json_object_get_boolean(v);
    return true;
}

bool validate_string_map(struct json_object *m, const char *field,
                         struct ferr *errs)
{
    bool ok = true;
    if (!json_object_is_type(m, json_type_object)) {
        validate_type_error(errs, field, m, "an object");
        return false;
    }
    json_object_object_foreach(m, k, v)
    {
        if (!json_object_is_type(v, json_type_string)) {
            char f[VALIDATE_PATH_MAX];
            validate_type_error(errs, vpath_key(f, sizeof(f), field, k), v,
                                "a string");
            ok = false;
        }
    }
    return ok;
}

bool validate_array_len(struct json_object *arr, const char *field,
                        struct ferr *errs)
{
    size_t n = ju_len(arr);
    if (n <= VALIDATE_MAX_ITEMS)
        return true;
    char msg[128];
    snprintf(msg, sizeof(msg), "Too many: %zu: must have at most %d items", n,
             VALIDATE_MAX_ITEMS);
    validate_add_raw(errs, FERR_TOO_LONG, field, msg);
    return false;
}

void validate_add_raw(struct ferr *errs, enum ferr_type type, const char *field,
                      const char *message)
{
    /* ferr_add always prefixes the type's text; build the item with the
     * same allocation discipline instead. */
    if (errs->n == errs->cap) {
        int cap = errs->cap ? errs->cap * 2 : 4;
        struct ferr_item *p = realloc(errs->items, (size_t)cap * sizeof(*p));
        if (!p)
            return;
        errs->items = p;
        errs->cap = cap;
    }
    char *f = strdup(field ? field : "");
    char *m = strdup(message ? message : "");
    if (!f || !m) {
        free(f);
        free(m);
        return;
    }
    struct ferr_item *it = &errs->items[errs->n++];
    it->type = type;
    it->field = f;
    it->message = m;
}

void validate_not_found(struct ferr *errs, const char *field, const char *value)
{
    struct json_object *v = json_object_new_string(value ? value : "");
    char msg[1024];
    snprintf(msg, sizeof(msg), "Not found: %s",
             json_object_to_json_string_ext(
                 v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(v);
    validate_add_raw(errs, FERR_INVALID, field, msg);
}

/* ---- Labels, annotations, metadata ---- */

void validate_labels(struct json_object *labels, const char *field,
                     struct ferr *errs)
{
    if (!labels)
        return;
    if (!validate_string_map(labels, field, errs) &&
        !json_object_is_type(labels, json_type_object))
        return;
    json_object_object_foreach(labels, k, v)
    {
        const char *m[6];
        struct vmsgs vk = {m, 0, 6};
        qualified_name(&vk, k);
        for (int i = 0; i < vk.n; i++)
            invalid_str(errs, field, k, m[i]);
        if (!json_object_is_type(v, json_type_string))
            continue;
        const char *val = json_object_get_string(v);
        struct vmsgs vv = {m, 0, 6};
        label_value(&vv, val);
        for (int i = 0; i < vv.n; i++)
            invalid_str(errs, field, val, m[i]);
    }
}

#define ANNOTATIONS_MAX_BYTES (256 * 1024)

void validate_annotations(struct json_object *annotations, const char *field,
                          struct ferr *errs)
{
    size_t total = 0;
    if (!annotations)
        return;
    if (!validate_string_map(annotations, field, errs) &&
        !json_object_is_type(annotations, json_type_object))
        return;
    json_object_object_foreach(annotations, k, v)
    {
        /* Annotation keys are qualified names, case-insensitively. */
        char lower[600];
        size_t kn = strlen(k);
        size_t cp = kn < sizeof(lower) - 1 ? kn : sizeof(lower) - 1;
        for (size_t i = 0; i < cp; i++)
            lower[i] = (k[i] >= 'A' && k[i] <= 'Z') ? (char)(k[i] + 32) : k[i];
        lower[cp] = '\0';
        const char *m[6];
        struct vmsgs vk = {m, 0, 6};
        qualified_name(&vk, cp < kn ? k : lower);
        for (int i = 0; i < vk.n; i++)
            invalid_str(errs, field, k, m[i]);
        total += kn;
        if (json_object_is_type(v, json_type_string))
            total += (size_t)json_object_get_string_len(v);
    }
    if (total > ANNOTATIONS_MAX_BYTES)
        ferr_add(errs, FERR_TOO_LONG, field, NULL, "must have at most %d bytes",
                 ANNOTATIONS_MAX_BYTES);
}

static void validate_finalizers(struct json_object *fin, const char *field,
                                struct ferr *errs)
{
    bool orphan = false, foreground = false;
    if (!validate_array_len(fin, field, errs))
        return;
    size_t n = ju_len(fin);
    for (size_t i = 0; i < n; i++) {
        struct json_object *f = json_object_array_get_idx(fin, i);
        char p[VALIDATE_PATH_MAX];
        if (!json_object_is_type(f, json_type_string)) {
            validate_type_error(errs, vpath_index(p, sizeof(p), field, i), f,
                                "a string");
            continue;
        }
        const char *s = json_object_get_string(f);
        validate_field_qualified_name(errs, field, s);
        if (strcmp(s, "orphan") == 0)
            orphan = true;
        if (strcmp(s, "foregroundDeletion") == 0)
            foreground = true;
    }
    if (orphan && foreground)
        ferr_add(errs, FERR_INVALID, field, fin,
                 "finalizer orphan and foregroundDeletion cannot be both set");
}

static void validate_owner_refs(struct json_object *refs, const char *field,
                                struct ferr *errs)
{
    char first[600] = "";
    if (!validate_array_len(refs, field, errs))
        return;
    size_t n = ju_len(refs);
    for (size_t i = 0; i < n; i++) {
        struct json_object *r = json_object_array_get_idx(refs, i);
        char p[VALIDATE_PATH_MAX], f[VALIDATE_PATH_MAX];
        vpath_index(p, sizeof(p), field, i);
        if (!json_object_is_type(r, json_type_object)) {
            validate_type_error(errs, p, r, "an object");
            continue;
        }
        const char *av = validate_opt_str(r, "apiVersion", p, errs);
        const char *kind = validate_opt_str(r, "kind", p, errs);
        const char *name = validate_opt_str(r, "name", p, errs);
        const char *uid = validate_opt_str(r, "uid", p, errs);
        bool ctl = false;
        validate_opt_bool(r, "controller", p, errs, &ctl);
        validate_opt_bool(r, "blockOwnerDeletion", p, errs, &(bool){false});
        const char *ver = av ? strrchr(av, '/') : NULL;
        ver = ver ? ver + 1 : av;
        /* Kubernetes reports these on the list's path, not the item's. */
        if (!ver || !ver[0])
            invalid_str(errs, vpath_child(f, sizeof(f), field, "apiVersion"),
                        av, "version must not be empty");
        if (!kind || !kind[0])
            invalid_str(errs, vpath_child(f, sizeof(f), field, "kind"), kind,
                        "must not be empty");
        if (!name || !name[0])
            invalid_str(errs, vpath_child(f, sizeof(f), field, "name"), name,
                        "must not be empty");
        if (!uid || !uid[0])
            invalid_str(errs, vpath_child(f, sizeof(f), field, "uid"), uid,
                        "must not be empty");
        if (ctl) {
            char cur[600];
            snprintf(cur, sizeof(cur), "%s/%s", kind ? kind : "",
                     name ? name : "");
            if (first[0])
                ferr_add(errs, FERR_INVALID, field, refs,
                         "Only one reference can have Controller set to "
                         "true. Found \"true\" in references for %s and %s",
                         first, cur);
            else
                snprintf(first, sizeof(first), "%s", cur);
        }
    }
}

static void name_errors(struct ferr *errs, const char *field, const char *value,
                        enum name_rule rule, bool prefix)
{
    const char *m[6];
    int n = validate_name_msgs(rule, value, prefix, m, 6);
    for (int i = 0; i < n; i++)
        invalid_str(errs, field, value, m[i]);
}

void validate_object_meta(struct json_object *obj,
                          const struct resource_type *rt, struct ferr *errs)
{
    struct json_object *md = NULL;
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        validate_type_error(errs, "", obj, "an object");
        return;
    }
    if (json_object_object_get_ex(obj, "metadata", &md) && md &&
        !json_object_is_type(md, json_type_object)) {
        validate_type_error(errs, "metadata", md, "an object");
        return;
    }
    const char *gen = validate_opt_str(md, "generateName", "metadata", errs);
    const char *name = validate_opt_str(md, "name", "metadata", errs);
    const char *ns = validate_opt_str(md, "namespace", "metadata", errs);

    if (gen && gen[0])
        name_errors(errs, "metadata.generateName", gen, rt->name_rule, true);
    if (!name || !name[0]) {
        /* A generateName alone is fine before the name is generated. */
        if (!gen || !gen[0])
            ferr_add(errs, FERR_REQUIRED, "metadata.name", NULL,
                     "name or generateName is required");
    } else {
        name_errors(errs, "metadata.name", name, rt->name_rule, false);
    }

    if (rt->namespaced) {
        if (!ns || !ns[0]) {
            if (!ju_has(md, "namespace") || ns)
                ferr_required(errs, "metadata.namespace");
        } else {
            validate_field_dns1123_label(errs, "metadata.namespace", ns);
        }
    } else if (ns && ns[0]) {
        ferr_forbidden(errs, "metadata.namespace", "not allowed on this type");
    }

    int64_t g;
    if (validate_opt_int(md, "generation", "metadata", errs, &g) && g < 0) {
        struct json_object *v = json_object_new_int64(g);
        ferr_add(errs, FERR_INVALID, "metadata.generation", v,
                 "must be greater than or equal to 0");
        json_object_put(v);
    }
    struct json_object *v;
    if ((v = member(md, "labels")))
        validate_labels(v, "metadata.labels", errs);
    if ((v = member(md, "annotations")))
        validate_annotations(v, "metadata.annotations", errs);
    if ((v = validate_opt_arr(md, "ownerReferences", "metadata", errs)))
        validate_owner_refs(v, "metadata.ownerReferences", errs);
    if ((v = validate_opt_arr(md, "finalizers", "metadata", errs)))
        validate_finalizers(v, "metadata.finalizers", errs);
    validate_opt_str(md, "uid", "metadata", errs);
    validate_opt_str(md, "resourceVersion", "metadata", errs);
    validate_opt_str(md, "creationTimestamp", "metadata", errs);
    validate_opt_str(md, "deletionTimestamp", "metadata", errs);
    validate_opt_arr(md, "managedFields", "metadata", errs);
}

/* ---- Typed shorthands ---- */

void validate_invalid_str(struct ferr *errs, const char *field,
                          const char *value, const char *detail)
{
    invalid_str(errs, field, value, detail);
}

void validate_invalid_int(struct ferr *errs, const char *field, int64_t value,
                          const char *detail)
{
    struct json_object *v = json_object_new_int64(value);
    ferr_add(errs, FERR_INVALID, field, v, "%s", detail);
    json_object_put(v);
}

void validate_not_supported(struct ferr *errs, const char *field,
                            const char *value, const char *supported)
{
    struct json_object *v = json_object_new_string(value ? value : "");
    ferr_add(errs, FERR_NOT_SUPPORTED, field, v, "supported values: %s",
             supported);
    json_object_put(v);
}

void validate_duplicate_str(struct ferr *errs, const char *field,
                            const char *value)
{
    struct json_object *v = json_object_new_string(value ? value : "");
    ferr_add(errs, FERR_DUPLICATE, field, v, NULL);
    json_object_put(v);
}

void validate_immutable(struct ferr *errs, const char *field,
                        struct json_object *newv, struct json_object *oldv)
{
    if (json_object_equal(newv, oldv))
        return;
    ferr_add(errs, FERR_INVALID, field, newv, "field is immutable");
}
