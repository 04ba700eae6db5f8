/*
 * Strategic merge patch with the semantics of k8s.io/apimachinery's
 * strategicpatch as kube-apiserver applies it (parallel lists merged,
 * unmatched nulls ignored): the target is deep-copied and merged in place,
 * and every value taken from the patch is copied with its nulls and
 * directives resolved. Lists merge through hash indexes on their merge
 * keys, so long lists cost linear time, not quadratic.
 */
#include "api/smp.h"
#include "api/patch.h"
#include "util/errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest field path kept for table look-ups and error messages. */
#define SMP_MAX_PATH_BYTES 256
/* How much of a JSON value an error message quotes. */
#define SMP_ERR_QUOTE_BYTES 200
/* How much of the field path an error message shows. */
#define SMP_ERR_PATH_BYTES 120

#define DIRECTIVE_MARKER "$patch"
#define RETAIN_KEYS_DIRECTIVE "$retainKeys"
#define SET_ORDER_PREFIX "$setElementOrder"
#define DELETE_PRIMITIVE_PREFIX "$deleteFromPrimitiveList"

/* ---- context, paths and errors ------------------------------------------ */

struct smp_ctx {
    const struct smp_field *fields;
    char *err;
    size_t errlen;
    char path[SMP_MAX_PATH_BYTES]; /* "spec.containers[].env" */
    size_t pathlen;
    bool opaque; /* the path has a step no table entry can name */
};

static int fail(struct smp_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes "<path>: <message>" into the error buffer; returns -KE_INVALID. */
static int fail(struct smp_ctx *c, const char *fmt, ...)
{
    size_t off = 0;

    if (!c->err || c->errlen == 0)
        return -KE_INVALID;
    c->err[0] = '\0';
    if (c->pathlen > 0) {
        /* A long path is cut so that the message still shows. */
        bool cut = c->pathlen > SMP_ERR_PATH_BYTES;
        int n = snprintf(c->err, c->errlen, "%.*s%s: ", SMP_ERR_PATH_BYTES,
                         c->path, cut ? "..." : "");
        if (n < 0 || (size_t)n >= c->errlen)
            return -KE_INVALID;
        off = (size_t)n;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + off, c->errlen - off, fmt, ap);
    va_end(ap);
    return -KE_INVALID;
}

static int fail_nomem(struct smp_ctx *c)
{
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "out of memory");
    return -ENOMEM;
}

static int fail_depth(struct smp_ctx *c)
{
    return fail(c, "strategic merge patch nested deeper than %d levels",
                SMP_MAX_DEPTH);
}

/* Compact JSON text of v for messages (owned by v; "null" for NULL). */
static const char *quote(struct json_object *v)
{
    const char *s = json_object_to_json_string_ext(
        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return s ? s : "?";
}

/* What a value is, in the words of the messages. */
static const char *type_name(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_object:
        return "map";
    case json_type_array:
        return "list";
    case json_type_string:
        return "string";
    case json_type_boolean:
        return "boolean";
    case json_type_int:
    case json_type_double:
        return "number";
    default:
        return "null";
    }
}

struct path_mark {
    size_t len;
    bool opaque;
};

/*
 * Appends a step to the path: a map key, or "[]" for the elements of a
 * list when key is NULL. Keys with '.', '[' or ']' (label keys, say) and
 * steps past the buffer make the path opaque: nothing below has metadata.
 */
static struct path_mark path_push(struct smp_ctx *c, const char *key)
{
    struct path_mark m = {c->pathlen, c->opaque};
    size_t room = sizeof(c->path) - c->pathlen;
    int n;

    if (key && (key[0] == '\0' || strpbrk(key, ".[]")))
        c->opaque = true;
    if (!key)
        n = snprintf(c->path + c->pathlen, room, "[]");
    else
        n = snprintf(c->path + c->pathlen, room, "%s%s", c->pathlen ? "." : "",
                     key);
    if (n < 0 || (size_t)n >= room) {
        c->opaque = true;
        c->pathlen = sizeof(c->path) - 1;
    } else {
        c->pathlen += (size_t)n;
    }
    return m;
}

static void path_pop(struct smp_ctx *c, struct path_mark m)
{
    c->pathlen = m.len;
    c->opaque = m.opaque;
    c->path[m.len] = '\0';
}

/* The table entry for the field at the current path, or NULL. */
static const struct smp_field *field_meta(const struct smp_ctx *c)
{
    if (c->opaque)
        return NULL;
    for (const struct smp_field *f = c->fields; f && f->path; f++)
        if (strcmp(f->path, c->path) == 0)
            return f;
    return NULL;
}

/* True if the comma-separated strategy of f names `word`. */
static bool strategy_has(const struct smp_field *f, const char *word)
{
    size_t wl = strlen(word);

    if (!f || !f->strategy)
        return false;
    for (const char *s = f->strategy; *s;) {
        size_t n = strcspn(s, ",");
        if (n == wl && strncmp(s, word, n) == 0)
            return true;
        s += n;
        if (*s == ',')
            s++;
    }
    return false;
}

/* ---- directive keys ----------------------------------------------------- */

enum key_class {
    KEY_DATA,        /* an ordinary field */
    KEY_PATCH,       /* $patch */
    KEY_RETAIN_KEYS, /* $retainKeys */
    KEY_SET_ORDER,   /* $setElementOrder/<field> */
    KEY_DELETE_PRIM, /* $deleteFromPrimitiveList/<field> */
};

/* True if key is "<prefix>..." (the prefix exactly, then anything). */
static bool has_prefix(const char *key, const char *prefix)
{
    return strncmp(key, prefix, strlen(prefix)) == 0;
}

/*
 * Classifies a key of a patch map; for the two list directives *field
 * gets the list's key. Keys starting with '$' that are no directive are
 * errors, except "$ref" and "$schema", which are JSON schema fields.
 */
static int classify_key(struct smp_ctx *c, const char *key, enum key_class *kc,
                        const char **field)
{
    *field = NULL;
    if (key[0] != '$' || strcmp(key, "$ref") == 0 ||
        strcmp(key, "$schema") == 0) {
        *kc = KEY_DATA;
        return 0;
    }
    if (strcmp(key, DIRECTIVE_MARKER) == 0) {
        *kc = KEY_PATCH;
        return 0;
    }
    if (strcmp(key, RETAIN_KEYS_DIRECTIVE) == 0) {
        *kc = KEY_RETAIN_KEYS;
        return 0;
    }
    if (has_prefix(key, SET_ORDER_PREFIX)) {
        const char *rest = key + strlen(SET_ORDER_PREFIX);
        if (rest[0] != '/' || rest[1] == '\0')
            return fail(c,
                        "invalid patch format of setElementOrder list: "
                        "\"%.*s\"",
                        SMP_ERR_QUOTE_BYTES, key);
        *kc = KEY_SET_ORDER;
        *field = rest + 1;
        return 0;
    }
    if (has_prefix(key, DELETE_PRIMITIVE_PREFIX)) {
        const char *rest = key + strlen(DELETE_PRIMITIVE_PREFIX);
        if (rest[0] != '/' || rest[1] == '\0')
            return fail(c, "invalid patch format of primitive list: \"%.*s\"",
                        SMP_ERR_QUOTE_BYTES, key);
        *kc = KEY_DELETE_PRIM;
        *field = rest + 1;
        return 0;
    }
    return fail(c, "unknown strategic merge patch directive \"%.*s\"",
                SMP_ERR_QUOTE_BYTES, key);
}

static bool is_scalar(struct json_object *v);

enum patch_type { PATCH_MERGE, PATCH_REPLACE, PATCH_DELETE };

/* Reads the value of a "$patch" key of map m; error for unknown ones. */
static int patch_type_of(struct smp_ctx *c, struct json_object *v,
                         struct json_object *m, enum patch_type *t)
{
    const char *s = json_object_is_type(v, json_type_string)
                        ? json_object_get_string(v)
                        : NULL;

    if (s && strcmp(s, "merge") == 0)
        *t = PATCH_MERGE;
    else if (s && strcmp(s, "replace") == 0)
        *t = PATCH_REPLACE;
    else if (s && strcmp(s, "delete") == 0)
        *t = PATCH_DELETE;
    else
        return fail(c, "unknown patch type: %.*s in map: %.*s",
                    SMP_ERR_QUOTE_BYTES, quote(v), SMP_ERR_QUOTE_BYTES,
                    quote(m));
    return 0;
}

/*
 * Checks the value of a list directive of a map, wherever it is: the
 * lists of $retainKeys must hold strings, those of $setElementOrder maps
 * or primitives, those of $deleteFromPrimitiveList primitives.
 */
static int check_directive_value(struct smp_ctx *c, const char *key,
                                 enum key_class kc, struct json_object *v)
{
    size_t n = json_object_is_type(v, json_type_array)
                   ? json_object_array_length(v)
                   : 0;

    if (kc == KEY_DATA || kc == KEY_PATCH)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(v, i);
        if ((kc == KEY_RETAIN_KEYS &&
             !json_object_is_type(e, json_type_string)) ||
            (kc == KEY_DELETE_PRIM && !is_scalar(e)) ||
            json_object_is_type(e, json_type_array)) {
            v = e;
            goto bad;
        }
    }
    if (json_object_is_type(v, json_type_array))
        return 0;
bad:
    switch (kc) {
    case KEY_RETAIN_KEYS:
        return fail(c, "invalid patch format of retainKeys: \"%.*s\": %.*s",
                    SMP_ERR_QUOTE_BYTES, key, SMP_ERR_QUOTE_BYTES, quote(v));
    case KEY_SET_ORDER:
        return fail(
            c, "invalid patch format of setElementOrder list: \"%.*s\": %.*s",
            SMP_ERR_QUOTE_BYTES, key, SMP_ERR_QUOTE_BYTES, quote(v));
    default:
        return fail(c, "invalid patch format of primitive list: \"%.*s\": %.*s",
                    SMP_ERR_QUOTE_BYTES, key, SMP_ERR_QUOTE_BYTES, quote(v));
    }
}

/* The "$patch" value of v if v is a map that has one, else NULL; *has
 * tells a present null apart. */
static struct json_object *directive_of(struct json_object *v, bool *has)
{
    struct json_object *d = NULL;

    *has = json_object_is_type(v, json_type_object) &&
           json_object_object_get_ex(v, DIRECTIVE_MARKER, &d);
    return d;
}

/* ---- hash index of primitive values ------------------------------------- */

static bool is_scalar(struct json_object *v)
{
    return !json_object_is_type(v, json_type_object) &&
           !json_object_is_type(v, json_type_array);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* A hash of a primitive consistent with json_equal(): numbers equal by
 * value (1 and 1.0) hash alike. */
static uint64_t scalar_hash(struct json_object *v)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    char tag;

    switch (json_object_get_type(v)) {
    case json_type_string:
        tag = 's';
        h = fnv1a(h, &tag, 1);
        return fnv1a(h, json_object_get_string(v),
                     (size_t)json_object_get_string_len(v));
    case json_type_boolean:
        tag = json_object_get_boolean(v) ? 't' : 'f';
        return fnv1a(h, &tag, 1);
    case json_type_int:
    case json_type_double: {
        double d;
        if (json_object_is_type(v, json_type_int)) {
            int64_t i = json_object_get_int64(v);
            uint64_t u = json_object_get_uint64(v);
            d = (i == INT64_MAX && u > (uint64_t)INT64_MAX) ? (double)u
                                                            : (double)i;
        } else {
            d = json_object_get_double(v);
        }
        if (d == 0)
            d = 0.0; /* -0 equals 0 */
        else if (d != d)
            d = 0.5; /* NaN (json-c parses it leniently) equals itself */
        tag = 'n';
        h = fnv1a(h, &tag, 1);
        return fnv1a(h, &d, sizeof(d));
    }
    default:
        tag = 'z';
        return fnv1a(h, &tag, 1);
    }
}

/* Maps primitive values to the first position they were added with. */
struct key_slot {
    struct json_object *key; /* a reference, NULL for JSON null */
    uint64_t hash;
    size_t pos;
    bool used;
};

struct key_index {
    struct key_slot *slots;
    size_t cap; /* a power of two */
    size_t n;
};

static int ki_init(struct key_index *ki, size_t expected)
{
    size_t cap = 16;

    while (cap / 2 < expected) {
        if (cap > SIZE_MAX / (4 * sizeof(struct key_slot)))
            return -ENOMEM;
        cap *= 2;
    }
    ki->slots = calloc(cap, sizeof(*ki->slots));
    ki->cap = cap;
    ki->n = 0;
    return ki->slots ? 0 : -ENOMEM;
}

static void ki_free(struct key_index *ki)
{
    if (!ki->slots)
        return;
    for (size_t i = 0; i < ki->cap; i++)
        if (ki->slots[i].used)
            json_object_put(ki->slots[i].key);
    free(ki->slots);
    ki->slots = NULL;
}

/* The slot holding key, or the free slot where it would go. */
static struct key_slot *ki_slot(const struct key_index *ki,
                                struct json_object *key, uint64_t h)
{
    size_t mask = ki->cap - 1;

    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct key_slot *s = &ki->slots[i];
        if (!s->used || (s->hash == h && json_equal(s->key, key)))
            return s;
    }
}

static bool ki_find(const struct key_index *ki, struct json_object *key,
                    size_t *pos)
{
    struct key_slot *s = ki_slot(ki, key, scalar_hash(key));

    if (!s->used)
        return false;
    if (pos)
        *pos = s->pos;
    return true;
}

/* True if the string s is a key of the index (keys added as strings). */
static bool ki_has_str(const struct key_index *ki, const char *s)
{
    char tag = 's';
    size_t len = strlen(s);
    uint64_t h = fnv1a(fnv1a(0xcbf29ce484222325ULL, &tag, 1), s, len);
    size_t mask = ki->cap - 1;

    for (size_t i = h & mask; ki->slots[i].used; i = (i + 1) & mask) {
        struct key_slot *k = &ki->slots[i];
        if (k->hash == h && json_object_is_type(k->key, json_type_string) &&
            (size_t)json_object_get_string_len(k->key) == len &&
            memcmp(json_object_get_string(k->key), s, len) == 0)
            return true;
    }
    return false;
}

/* Adds key (a primitive) at pos unless it is there already. */
static int ki_add(struct key_index *ki, struct json_object *key, size_t pos)
{
    uint64_t h = scalar_hash(key);
    struct key_slot *s;

    if ((ki->n + 1) * 2 > ki->cap) {
        struct key_index bigger;
        if (ki->cap > SIZE_MAX / (4 * sizeof(struct key_slot)))
            return -ENOMEM;
        bigger.slots = calloc(ki->cap * 2, sizeof(*bigger.slots));
        if (!bigger.slots)
            return -ENOMEM;
        bigger.cap = ki->cap * 2;
        bigger.n = ki->n;
        for (size_t i = 0; i < ki->cap; i++)
            if (ki->slots[i].used)
                *ki_slot(&bigger, ki->slots[i].key, ki->slots[i].hash) =
                    ki->slots[i];
        free(ki->slots);
        *ki = bigger;
    }
    s = ki_slot(ki, key, h);
    if (s->used)
        return 0;
    s->used = true;
    s->key = json_object_get(key);
    s->hash = h;
    s->pos = pos;
    ki->n++;
    return 0;
}

/* ---- element lists ------------------------------------------------------ */

/* A list of values being built, holding one reference to each. */
struct elems {
    struct json_object **v;
    size_t n, cap;
};

/* Appends v, taking over the caller's reference (released on failure). */
static int elems_push(struct elems *e, struct json_object *v)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        struct json_object **nv;
        if (cap > SIZE_MAX / sizeof(*nv) ||
            !(nv = realloc(e->v, cap * sizeof(*nv)))) {
            json_object_put(v);
            return -ENOMEM;
        }
        e->v = nv;
        e->cap = cap;
    }
    e->v[e->n++] = v;
    return 0;
}

static void elems_free(struct elems *e)
{
    for (size_t i = 0; i < e->n; i++)
        json_object_put(e->v[i]);
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}

/* Sets obj[key] = v, taking over the reference to v either way. */
static int set_key(struct json_object *obj, const char *key,
                   struct json_object *v)
{
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return -ENOMEM;
    }
    return 0;
}

/* Removes every key of obj. */
static void clear_object(struct json_object *obj)
{
    struct lh_entry *e, *next;

    for (e = lh_table_head(json_object_get_object(obj)); e; e = next) {
        next = lh_entry_next(e);
        json_object_object_del(obj, (const char *)lh_entry_k(e));
    }
}

/* ---- copying values out of the patch ------------------------------------ */

static int materialize(struct smp_ctx *c, struct json_object *pv, int level,
                       struct json_object **out, bool *absent);

/*
 * Copies the members of patch map p into map dst: null members and
 * directive keys are dropped, values are materialized. The "$patch" key of
 * p itself is the caller's business.
 */
static int materialize_members(struct smp_ctx *c, struct json_object *dst,
                               struct json_object *p, int level)
{
    struct lh_entry *e;
    int rc = 0;

    for (e = lh_table_head(json_object_get_object(p)); e && rc == 0;
         e = lh_entry_next(e)) {
        const char *key = lh_entry_k(e), *field;
        struct json_object *v = (struct json_object *)lh_entry_v(e), *m;
        enum key_class kc;
        bool absent;

        rc = classify_key(c, key, &kc, &field);
        if (rc == 0)
            rc = check_directive_value(c, key, kc, v);
        if (rc || kc != KEY_DATA || !v)
            continue;
        struct path_mark mark = path_push(c, key);
        rc = materialize(c, v, level + 1, &m, &absent);
        path_pop(c, mark);
        if (rc == 0 && !absent)
            rc = set_key(dst, key, m);
    }
    return rc;
}

/*
 * Copies the patch value pv, which sits at nesting level `level`, for a
 * place where there is nothing to merge it with (as Kubernetes does, with
 * the directives resolved): nulls in maps are dropped, a map with
 * "$patch": "delete" is absent, one with "replace" or "merge" is its other
 * members, list elements that carry "$patch" are dropped, and the other
 * directive keys vanish. *absent says the value is to be left out; else
 * *out is a new value (NULL for JSON null).
 */
static int materialize(struct smp_ctx *c, struct json_object *pv, int level,
                       struct json_object **out, bool *absent)
{
    struct json_object *copy = NULL;
    int rc = 0;

    *absent = false;
    *out = NULL;
    if (is_scalar(pv)) {
        if (pv && !(copy = json_clone(pv)))
            return fail_nomem(c);
        *out = copy;
        return 0;
    }
    if (level > SMP_MAX_DEPTH)
        return fail_depth(c);
    if (json_object_is_type(pv, json_type_object)) {
        bool has;
        struct json_object *d = directive_of(pv, &has);
        enum patch_type t;
        if (has) {
            if ((rc = patch_type_of(c, d, pv, &t)) != 0)
                return rc;
            if (t == PATCH_DELETE) {
                *absent = true;
                return 0;
            }
        }
        if (!(copy = json_object_new_object()))
            return fail_nomem(c);
        rc = materialize_members(c, copy, pv, level);
    } else {
        size_t n = json_object_array_length(pv);
        struct path_mark mark = path_push(c, NULL);
        if (!(copy = json_object_new_array_ext((int)(n < 16 ? n : 16)))) {
            path_pop(c, mark);
            return fail_nomem(c);
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            struct json_object *e = json_object_array_get_idx(pv, i), *m;
            bool has, gone;
            struct json_object *d = directive_of(e, &has);
            enum patch_type t;
            if (has) {
                rc = patch_type_of(c, d, e, &t);
                continue;
            }
            rc = materialize(c, e, level + 1, &m, &gone);
            if (rc == 0 && !gone && json_object_array_add(copy, m) != 0) {
                json_object_put(m);
                rc = fail_nomem(c);
            }
        }
        path_pop(c, mark);
    }
    if (rc) {
        json_object_put(copy);
        return rc;
    }
    *out = copy;
    return 0;
}

/* ---- list merging ------------------------------------------------------- */

enum elem_kind { ELEM_NONE, ELEM_SCALAR, ELEM_MAP };

/* Finds what the elements of the lists a and b (either may be NULL) are:
 * all maps or all primitives; lists of lists and mixtures are errors. */
static int list_kind(struct smp_ctx *c, struct json_object *a,
                     struct json_object *b, enum elem_kind *kind)
{
    struct json_object *lists[2] = {a, b};

    *kind = ELEM_NONE;
    for (int l = 0; l < 2; l++) {
        size_t n = lists[l] ? json_object_array_length(lists[l]) : 0;
        for (size_t i = 0; i < n; i++) {
            struct json_object *v = json_object_array_get_idx(lists[l], i);
            enum elem_kind k;
            if (json_object_is_type(v, json_type_array))
                return fail(c, "lists of lists are not supported");
            k = json_object_is_type(v, json_type_object) ? ELEM_MAP
                                                         : ELEM_SCALAR;
            if (*kind == ELEM_NONE)
                *kind = k;
            else if (*kind != k)
                return fail(c, "list element types are not identical: %.*s",
                            SMP_ERR_QUOTE_BYTES, quote(lists[l]));
        }
    }
    return 0;
}

/* Stores elem[mk] in *key: elem must be a map with a primitive there. */
static int merge_key_of(struct smp_ctx *c, struct json_object *elem,
                        const char *mk, struct json_object **key)
{
    if (!json_object_is_type(elem, json_type_object))
        return fail(c, "expected a map, but received a %s: %.*s",
                    type_name(elem), SMP_ERR_QUOTE_BYTES, quote(elem));
    if (!json_object_object_get_ex(elem, mk, key))
        return fail(c, "map: %.*s does not contain declared merge key: %s",
                    SMP_ERR_QUOTE_BYTES, quote(elem), mk);
    if (!is_scalar(*key))
        return fail(c, "map: %.*s has a %s as its merge key %s",
                    SMP_ERR_QUOTE_BYTES, quote(elem), type_name(*key), mk);
    return 0;
}

/* The key an element is ordered and matched by: its merge key's value,
 * or the element itself in lists of primitives (mk NULL). Checked
 * before, so never fails here. */
static struct json_object *elem_key(struct json_object *elem, const char *mk)
{
    struct json_object *k = NULL;

    if (!mk)
        return elem;
    json_object_object_get_ex(elem, mk, &k);
    return k;
}

struct order_item {
    struct json_object *v;
    size_t ppos; /* position in the patch's order, SIZE_MAX if none */
    size_t spos; /* position on the server, SIZE_MAX if none */
    size_t seq;  /* position in the merged list, for a stable sort */
};

static int cmp_ppos(const void *a, const void *b)
{
    const struct order_item *x = a, *y = b;

    if (x->ppos != y->ppos)
        return x->ppos < y->ppos ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_spos(const void *a, const void *b)
{
    const struct order_item *x = a, *y = b;

    if (x->spos != y->spos)
        return x->spos < y->spos ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Orders the merged list as Kubernetes does: the elements the patch
 * names (their keys in `order`) in the patch's order, the others in the
 * server's order (`server`, positions below s_limit), then the two
 * interleaved so that a server-only element goes before a patch element
 * exactly when both are on the server and it came first there. Every
 * element must have its key (checked by the caller). *out is a new list.
 */
static int order_list(struct smp_ctx *c, const struct elems *merged,
                      const char *mk, const struct key_index *order,
                      const struct key_index *server, size_t s_limit,
                      struct json_object **out)
{
    struct order_item *pat = NULL, *srv = NULL;
    struct json_object *arr = NULL;
    size_t np = 0, ns = 0, i = 0, j = 0;
    int rc = 0;

    if (merged->n > SIZE_MAX / sizeof(*pat))
        return fail_nomem(c);
    pat = malloc((merged->n ? merged->n : 1) * sizeof(*pat));
    srv = malloc((merged->n ? merged->n : 1) * sizeof(*srv));
    arr = json_object_new_array_ext((int)(merged->n < 16 ? merged->n : 16));
    if (!pat || !srv || !arr) {
        rc = fail_nomem(c);
        goto out;
    }
    for (size_t k = 0; k < merged->n; k++) {
        struct json_object *key = elem_key(merged->v[k], mk);
        struct order_item it = {merged->v[k], SIZE_MAX, SIZE_MAX, k};
        size_t pos;
        if (ki_find(server, key, &pos) && pos < s_limit)
            it.spos = pos;
        if (ki_find(order, key, &it.ppos))
            pat[np++] = it;
        else
            srv[ns++] = it;
    }
    qsort(pat, np, sizeof(*pat), cmp_ppos);
    qsort(srv, ns, sizeof(*srv), cmp_spos);
    while (i < ns || j < np) {
        struct json_object *v;
        if (i < ns && j < np)
            v = (srv[i].spos != SIZE_MAX && pat[j].spos != SIZE_MAX &&
                 srv[i].spos < pat[j].spos)
                    ? srv[i++].v
                    : pat[j++].v;
        else
            v = i < ns ? srv[i++].v : pat[j++].v;
        if (json_object_array_add(arr, json_object_get(v)) != 0) {
            json_object_put(v);
            rc = fail_nomem(c);
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
out:
    json_object_put(arr);
    free(pat);
    free(srv);
    return rc;
}

/* Indexes the keys of the elements of list (NULL: none) by position;
 * with mk every element must be a map with a primitive merge key. */
static int index_list(struct smp_ctx *c, struct json_object *list,
                      const char *mk, struct key_index *ki)
{
    size_t n = list ? json_object_array_length(list) : 0;
    int rc;

    if (ki_init(ki, n) != 0)
        return fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(list, i), *key = v;
        if (mk && (rc = merge_key_of(c, v, mk, &key)) != 0)
            return rc;
        if (!mk && !is_scalar(v))
            return fail(c, "expected a primitive, but received a %s: %.*s",
                        type_name(v), SMP_ERR_QUOTE_BYTES, quote(v));
        if (ki_add(ki, key, i) != 0)
            return fail_nomem(c);
    }
    return 0;
}

/* Union of two lists of primitives, ordered as order_list() says. */
static int merge_scalar_list(struct smp_ctx *c, struct json_object *orig,
                             struct json_object *patch,
                             struct json_object **out)
{
    struct key_index seen = {0}, order = {0}, server = {0};
    struct elems merged = {0};
    struct json_object *lists[2] = {orig, patch};
    int rc;

    if ((rc = index_list(c, orig, NULL, &server)) != 0 ||
        (rc = index_list(c, patch, NULL, &order)) != 0)
        goto out;
    if (ki_init(&seen, server.n + order.n) != 0) {
        rc = fail_nomem(c);
        goto out;
    }
    for (int l = 0; l < 2; l++) {
        size_t n = json_object_array_length(lists[l]);
        for (size_t i = 0; i < n; i++) {
            struct json_object *v = json_object_array_get_idx(lists[l], i);
            struct json_object *copy = NULL;
            if (ki_find(&seen, v, NULL))
                continue;
            if (ki_add(&seen, v, merged.n) != 0 ||
                (v && !(copy = json_clone(v))) ||
                elems_push(&merged, copy) != 0) {
                rc = fail_nomem(c);
                goto out;
            }
        }
    }
    rc = order_list(c, &merged, NULL, &order, &server, SIZE_MAX, out);
out:
    elems_free(&merged);
    ki_free(&seen);
    ki_free(&order);
    ki_free(&server);
    return rc;
}

static int merge_map(struct smp_ctx *c, struct json_object *orig,
                     struct json_object *patch, int level, bool *remove);

/*
 * Merges two lists of maps on the merge key mk: "$patch": "delete"
 * elements remove the elements with their key, a "$patch": "replace"
 * element makes the list the patch's other elements, the remaining patch
 * elements merge into the first element with their key or are added.
 * `level` is the nesting level of the elements. *out is a new list.
 */
static int merge_map_list(struct smp_ctx *c, struct json_object *orig,
                          struct json_object *patch, const char *mk, int level,
                          struct json_object **out)
{
    struct key_index deleted = {0}, work_index = {0}, order = {0};
    struct elems work = {0}, plain = {0};
    size_t np = json_object_array_length(patch), n_base;
    bool replace = false;
    int rc;

    if (level > SMP_MAX_DEPTH)
        return fail_depth(c);
    if (ki_init(&deleted, 0) != 0 || ki_init(&order, np) != 0) {
        rc = fail_nomem(c);
        goto out;
    }
    /* The special elements first, in order, as Kubernetes reports the
     * first error among them. */
    for (size_t i = 0; i < np; i++) {
        struct json_object *pe = json_object_array_get_idx(patch, i), *key;
        bool has;
        struct json_object *d = directive_of(pe, &has);
        enum patch_type t;
        if (!has) {
            if ((rc = merge_key_of(c, pe, mk, &key)) != 0)
                goto out;
            if (elems_push(&plain, json_object_get(pe)) != 0 ||
                ki_add(&order, key, plain.n - 1) != 0) {
                rc = fail_nomem(c);
                goto out;
            }
            continue;
        }
        if ((rc = patch_type_of(c, d, pe, &t)) != 0)
            goto out;
        if (t == PATCH_MERGE) {
            rc = fail(c, "merging lists cannot yet be specified in the patch");
            goto out;
        }
        if (t == PATCH_REPLACE) {
            replace = true;
            continue;
        }
        if ((rc = merge_key_of(c, pe, mk, &key)) != 0)
            goto out;
        if (ki_add(&deleted, key, 0) != 0) {
            rc = fail_nomem(c);
            goto out;
        }
    }

    /* The server's list, less what the patch deletes, or the patch's
     * elements when it replaces the list. */
    if (replace) {
        for (size_t i = 0; i < plain.n; i++) {
            struct path_mark mark = path_push(c, NULL);
            struct json_object *m;
            bool gone;
            rc = materialize(c, plain.v[i], level, &m, &gone);
            path_pop(c, mark);
            if (rc)
                goto out;
            if (elems_push(&work, m) != 0) {
                rc = fail_nomem(c);
                goto out;
            }
        }
        elems_free(&plain);
        ki_free(&order);
        if (ki_init(&order, 0) != 0) {
            rc = fail_nomem(c);
            goto out;
        }
    } else {
        size_t no = json_object_array_length(orig);
        for (size_t i = 0; i < no; i++) {
            struct json_object *v = json_object_array_get_idx(orig, i), *key;
            if (json_object_object_get_ex(v, mk, &key) && is_scalar(key) &&
                ki_find(&deleted, key, NULL))
                continue;
            if (elems_push(&work, json_object_get(v)) != 0) {
                rc = fail_nomem(c);
                goto out;
            }
        }
    }
    n_base = work.n;
    if (ki_init(&work_index, work.n + plain.n) != 0) {
        rc = fail_nomem(c);
        goto out;
    }
    for (size_t i = 0; i < work.n; i++) {
        struct json_object *key;
        /* Elements without their key are not matched (and are reported
         * below, as Kubernetes does when it orders the result). */
        if (json_object_object_get_ex(work.v[i], mk, &key) && is_scalar(key) &&
            ki_add(&work_index, key, i) != 0) {
            rc = fail_nomem(c);
            goto out;
        }
    }

    for (size_t i = 0; i < plain.n; i++) {
        struct json_object *pe = plain.v[i], *key = elem_key(pe, mk);
        struct path_mark mark = path_push(c, NULL);
        size_t pos;
        if (ki_find(&work_index, key, &pos)) {
            bool gone = false;
            rc = merge_map(c, work.v[pos], pe, level, &gone);
        } else {
            struct json_object *m;
            bool gone;
            rc = materialize(c, pe, level, &m, &gone);
            if (rc == 0 && (elems_push(&work, m) != 0 ||
                            ki_add(&work_index, key, work.n - 1) != 0))
                rc = fail_nomem(c);
        }
        path_pop(c, mark);
        if (rc)
            goto out;
    }
    for (size_t i = 0; i < work.n; i++) {
        struct json_object *key;
        if ((rc = merge_key_of(c, work.v[i], mk, &key)) != 0)
            goto out;
    }
    rc = order_list(c, &work, mk, &order, &work_index, n_base, out);
out:
    elems_free(&work);
    elems_free(&plain);
    ki_free(&deleted);
    ki_free(&work_index);
    ki_free(&order);
    return rc;
}

/*
 * Merges the patch list into the server's list of a field with strategy
 * merge (meta); `level` is the nesting level of the lists. *out is a new
 * list.
 */
static int merge_list(struct smp_ctx *c, struct json_object *orig,
                      struct json_object *patch, const struct smp_field *meta,
                      int level, struct json_object **out)
{
    enum elem_kind kind;
    int rc;

    if ((rc = list_kind(c, orig, patch, &kind)) != 0)
        return rc;
    if (kind == ELEM_NONE) {
        if (!(*out = json_object_new_array()))
            return fail_nomem(c);
        return 0;
    }
    if (kind == ELEM_SCALAR)
        return merge_scalar_list(c, orig, patch, out);
    if (!meta->merge_key)
        return fail(c, "cannot merge lists without merge key for %s", c->path);
    return merge_map_list(c, orig, patch, meta->merge_key, level + 1, out);
}

/* ---- directives of a map ------------------------------------------------ */

/*
 * $retainKeys: keys of orig not in the list are cleared; every non-null
 * field the patch sets must be in the list. The list is a list of strings
 * (check_directive_value).
 */
static int apply_retain_keys(struct smp_ctx *c, struct json_object *orig,
                             struct json_object *patch,
                             struct json_object *list)
{
    struct key_index keep = {0};
    struct lh_entry *e, *next;
    size_t n = json_object_array_length(list);
    int rc = 0;

    if (ki_init(&keep, n) != 0)
        return fail_nomem(c);
    for (size_t i = 0; i < n; i++) {
        if (ki_add(&keep, json_object_array_get_idx(list, i), i) != 0) {
            rc = fail_nomem(c);
            goto out;
        }
    }
    for (e = lh_table_head(json_object_get_object(patch)); e;
         e = lh_entry_next(e)) {
        const char *key = lh_entry_k(e), *field;
        enum key_class kc;
        classify_key(c, key, &kc, &field);
        if (kc == KEY_DATA && lh_entry_v(e) && !ki_has_str(&keep, key)) {
            rc = fail(c,
                      "invalid patch format of retainKeys: the patch sets "
                      "\"%.*s\", which $retainKeys does not list",
                      SMP_ERR_QUOTE_BYTES, key);
            goto out;
        }
    }
    for (e = lh_table_head(json_object_get_object(orig)); e; e = next) {
        next = lh_entry_next(e);
        if (!ki_has_str(&keep, (const char *)lh_entry_k(e)))
            json_object_object_del(orig, (const char *)lh_entry_k(e));
    }
out:
    ki_free(&keep);
    return rc;
}

/*
 * $setElementOrder/<field>: validates the order list against the patch's
 * list, checking that the patch's elements appear in it in the same
 * relative order ("$patch" elements aside).
 */
static int check_order_list(struct smp_ctx *c, struct json_object *plist,
                            struct json_object *order, const char *mk)
{
    size_t np = json_object_array_length(plist);
    size_t no = json_object_array_length(order);
    size_t pi = 0, oi = 0;
    int rc;

    /* An empty order list orders nothing, and checks nothing. */
    if (no == 0)
        return 0;
    while (pi < np && oi < no) {
        struct json_object *pe = json_object_array_get_idx(plist, pi);
        struct json_object *oe = json_object_array_get_idx(order, oi);
        struct json_object *pk = pe, *ok = oe;
        bool has;
        directive_of(pe, &has);
        if (has) {
            pi++;
            continue;
        }
        if (mk && ((rc = merge_key_of(c, pe, mk, &pk)) != 0 ||
                   (rc = merge_key_of(c, oe, mk, &ok)) != 0))
            return rc;
        if (json_equal(pk, ok))
            pi++;
        oi++;
    }
    for (; pi < np; pi++) {
        bool has;
        directive_of(json_object_array_get_idx(plist, pi), &has);
        if (!has)
            return fail(c,
                        "the order in patch list %.*s doesn't match "
                        "$setElementOrder list %.*s",
                        SMP_ERR_QUOTE_BYTES, quote(plist), SMP_ERR_QUOTE_BYTES,
                        quote(order));
    }
    return 0;
}

/*
 * Merges orig[field] with patch[field] (if the patch has it) and orders
 * the result by the list `order`, the value of $setElementOrder/<field>
 * (a list: check_directive_value). `level` is the nesting level of orig.
 */
static int apply_set_order(struct smp_ctx *c, struct json_object *orig,
                           struct json_object *patch, const char *field,
                           struct json_object *order, int level)
{
    struct json_object *olist = NULL, *plist = NULL, *merged = NULL;
    struct key_index oindex = {0}, sindex = {0};
    struct elems items = {0};
    const struct smp_field *meta;
    const char *mk = NULL;
    enum elem_kind kind;
    bool has_o, has_p;
    int rc;
    struct path_mark mark = path_push(c, field);

    meta = field_meta(c);
    has_o = json_object_object_get_ex(orig, field, &olist) && olist;
    has_p = json_object_object_get_ex(patch, field, &plist);
    if ((has_o && !json_object_is_type(olist, json_type_array)) ||
        (has_p && !json_object_is_type(plist, json_type_array))) {
        rc =
            fail(c, "expected a list, but received a %s",
                 type_name(has_p && !json_object_is_type(plist, json_type_array)
                               ? plist
                               : olist));
        goto out;
    }
    if (!has_o && !has_p) {
        rc = 0;
        goto out;
    }
    if ((rc = list_kind(c, has_o ? olist : NULL, has_p ? plist : NULL,
                        &kind)) != 0)
        goto out;
    if (kind == ELEM_MAP) {
        if (!meta || !meta->merge_key) {
            rc =
                fail(c, "cannot merge lists without merge key for %s", c->path);
            goto out;
        }
        mk = meta->merge_key;
    }
    if (has_p && (rc = check_order_list(c, plist, order, mk)) != 0)
        goto out;

    if (has_o && !has_p) {
        merged = json_object_get(olist);
    } else if (has_o && strategy_has(meta, "merge")) {
        rc = merge_list(c, olist, plist, meta, level + 1, &merged);
    } else {
        bool gone;
        rc = materialize(c, plist, level + 1, &merged, &gone);
    }
    if (rc)
        goto out;

    /* Every element of the result, of the order list and of the server's
     * list needs its key; then the result is ordered. */
    size_t n = json_object_array_length(merged);
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(merged, i), *key;
        if (mk && (rc = merge_key_of(c, v, mk, &key)) != 0)
            goto out;
        if (elems_push(&items, json_object_get(v)) != 0) {
            rc = fail_nomem(c);
            goto out;
        }
    }
    if ((rc = index_list(c, order, mk, &oindex)) != 0 ||
        (rc = index_list(c, has_o ? olist : NULL, mk, &sindex)) != 0)
        goto out;
    json_object_put(merged);
    merged = NULL;
    if ((rc = order_list(c, &items, mk, &oindex, &sindex, SIZE_MAX, &merged)) !=
        0)
        goto out;
    rc = set_key(orig, field, merged);
    merged = NULL;
out:
    path_pop(c, mark);
    json_object_put(merged);
    elems_free(&items);
    ki_free(&oindex);
    ki_free(&sindex);
    return rc;
}

/* $deleteFromPrimitiveList/<field>: removes the listed primitives (del
 * holds only those: check_directive_value) from orig[field] if that is a
 * list. */
static int apply_delete_primitives(struct smp_ctx *c, struct json_object *orig,
                                   const char *field, struct json_object *del)
{
    struct json_object *olist, *kept = NULL;
    struct key_index gone = {0};
    enum elem_kind kind;
    int rc = 0;
    struct path_mark mark = path_push(c, field);

    if (!json_object_object_get_ex(orig, field, &olist) ||
        !json_object_is_type(olist, json_type_array))
        goto out;
    if ((rc = list_kind(c, olist, del, &kind)) != 0 ||
        (rc = index_list(c, del, NULL, &gone)) != 0)
        goto out;
    size_t n = json_object_array_length(olist);
    if (!(kept = json_object_new_array_ext((int)(n < 16 ? n : 16)))) {
        rc = fail_nomem(c);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(olist, i);
        if (ki_find(&gone, v, NULL))
            continue;
        if (json_object_array_add(kept, json_object_get(v)) != 0) {
            json_object_put(v);
            rc = fail_nomem(c);
            goto out;
        }
    }
    rc = set_key(orig, field, kept);
    kept = NULL;
out:
    path_pop(c, mark);
    json_object_put(kept);
    ki_free(&gone);
    return rc;
}

/* ---- map merging -------------------------------------------------------- */

/* Merges the value pv of patch key `key` into orig (the path already
 * names the key); `level` is the nesting level of orig. */
static int merge_member(struct smp_ctx *c, struct json_object *orig,
                        const char *key, struct json_object *pv, int level)
{
    struct json_object *ov = NULL, *nv = NULL;
    const struct smp_field *meta;
    bool has = json_object_object_get_ex(orig, key, &ov), gone = false;
    int rc;

    if (!pv) {
        json_object_object_del(orig, key);
        return 0;
    }
    if (has && json_object_is_type(ov, json_type_object) &&
        json_object_is_type(pv, json_type_object)) {
        meta = field_meta(c);
        if (!strategy_has(meta, "replace")) {
            if (level + 1 > SMP_MAX_DEPTH)
                return fail_depth(c);
            rc = merge_map(c, ov, pv, level + 1, &gone);
            if (rc == 0 && gone)
                json_object_object_del(orig, key);
            return rc;
        }
    } else if (has && json_object_is_type(ov, json_type_array) &&
               json_object_is_type(pv, json_type_array)) {
        meta = field_meta(c);
        if (strategy_has(meta, "merge")) {
            if (level + 1 > SMP_MAX_DEPTH)
                return fail_depth(c);
            if ((rc = merge_list(c, ov, pv, meta, level + 1, &nv)) != 0)
                return rc;
            return set_key(orig, key, nv) ? fail_nomem(c) : 0;
        }
    }
    if ((rc = materialize(c, pv, level + 1, &nv, &gone)) != 0)
        return rc;
    if (gone) {
        json_object_object_del(orig, key);
        return 0;
    }
    return set_key(orig, key, nv) ? fail_nomem(c) : 0;
}

/*
 * Merges patch map `patch` into map `orig` in place (level: the nesting
 * level of both). *remove is set when the patch deletes the map itself
 * ("$patch": "delete"); the caller removes it.
 */
static int merge_map(struct smp_ctx *c, struct json_object *orig,
                     struct json_object *patch, int level, bool *remove)
{
    struct json_object *retain = NULL;
    struct key_index ordered = {0};
    struct lh_entry *e;
    bool has;
    struct json_object *d = directive_of(patch, &has);
    int rc = 0;

    *remove = false;
    if (has) {
        enum patch_type t;
        if ((rc = patch_type_of(c, d, patch, &t)) != 0)
            return rc;
        if (t == PATCH_DELETE) {
            *remove = true;
            return 0;
        }
        if (t == PATCH_REPLACE) {
            /* On error the caller drops the whole copy, so half a map is
             * never seen. */
            clear_object(orig);
            return materialize_members(c, orig, patch, level);
        }
    }

    /* Check every key before changing anything, and find $retainKeys. */
    for (e = lh_table_head(json_object_get_object(patch)); e;
         e = lh_entry_next(e)) {
        const char *field;
        enum key_class kc;
        if ((rc = classify_key(c, (const char *)lh_entry_k(e), &kc, &field)) !=
                0 ||
            (rc = check_directive_value(c, (const char *)lh_entry_k(e), kc,
                                        (struct json_object *)lh_entry_v(e))) !=
                0)
            return rc;
        if (kc == KEY_RETAIN_KEYS)
            retain = (struct json_object *)lh_entry_v(e);
    }
    if (retain && (rc = apply_retain_keys(c, orig, patch, retain)) != 0)
        return rc;

    /* $setElementOrder lists, with the lists they order. */
    if (ki_init(&ordered, 0) != 0)
        return fail_nomem(c);
    for (e = lh_table_head(json_object_get_object(patch)); e && rc == 0;
         e = lh_entry_next(e)) {
        const char *field;
        enum key_class kc;
        classify_key(c, (const char *)lh_entry_k(e), &kc, &field);
        if (kc != KEY_SET_ORDER)
            continue;
        struct json_object *name = json_object_new_string(field);
        if (!name || ki_add(&ordered, name, 0) != 0)
            rc = fail_nomem(c);
        json_object_put(name);
        if (rc == 0)
            rc = apply_set_order(c, orig, patch, field,
                                 (struct json_object *)lh_entry_v(e), level);
    }

    /* The fields, in the patch's order. */
    for (e = lh_table_head(json_object_get_object(patch)); e && rc == 0;
         e = lh_entry_next(e)) {
        const char *key = lh_entry_k(e), *field;
        enum key_class kc;
        classify_key(c, key, &kc, &field);
        if (kc != KEY_DATA || ki_has_str(&ordered, key))
            continue;
        struct path_mark mark = path_push(c, key);
        rc = merge_member(c, orig, key, (struct json_object *)lh_entry_v(e),
                          level);
        path_pop(c, mark);
    }

    /* Deletions from lists of primitives, after what the patch adds. */
    for (e = lh_table_head(json_object_get_object(patch)); e && rc == 0;
         e = lh_entry_next(e)) {
        const char *field;
        enum key_class kc;
        classify_key(c, (const char *)lh_entry_k(e), &kc, &field);
        if (kc == KEY_DELETE_PRIM)
            rc = apply_delete_primitives(c, orig, field,
                                         (struct json_object *)lh_entry_v(e));
    }
    ki_free(&ordered);
    return rc;
}

/* ---- entry point -------------------------------------------------------- */

/* True if v nests containers deeper than `room` levels. */
static bool deeper_than(struct json_object *v, int room)
{
    if (is_scalar(v))
        return false;
    if (room <= 0)
        return true;
    if (json_object_is_type(v, json_type_object)) {
        struct lh_entry *e;
        for (e = lh_table_head(json_object_get_object(v)); e;
             e = lh_entry_next(e))
            if (deeper_than((struct json_object *)lh_entry_v(e), room - 1))
                return true;
        return false;
    }
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++)
        if (deeper_than(json_object_array_get_idx(v, i), room - 1))
            return true;
    return false;
}

int smp_apply(const char *group, const char *kind, struct json_object *target,
              struct json_object *patch, struct json_object **out, char *err,
              size_t errlen)
{
    struct smp_ctx c = {
        .fields = smp_fields(group, kind), .err = err, .errlen = errlen};
    struct json_object *root;
    bool remove = false;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (patch && !json_object_is_type(patch, json_type_object))
        return fail(&c,
                    "a strategic merge patch must be a JSON object, not "
                    "a %s",
                    type_name(patch));
    if (target && !json_object_is_type(target, json_type_object))
        return fail(&c, "the object to patch is a %s, not a map",
                    type_name(target));
    if (!target) {
        root = json_object_new_object();
    } else if (deeper_than(target, SMP_MAX_DEPTH)) {
        return fail(&c,
                    "the object to patch is nested deeper than %d "
                    "levels",
                    SMP_MAX_DEPTH);
    } else {
        root = json_clone(target);
    }
    if (!root)
        return fail_nomem(&c);
    if (patch && (rc = merge_map(&c, root, patch, 1, &remove)) != 0) {
        json_object_put(root);
        return rc;
    }
    if (remove)
        clear_object(root);
    *out = root;
    return 0;
}
