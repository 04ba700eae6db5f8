/*
 * RFC 7386 merge patch and RFC 6902 JSON patch on json-c values. Both work
 * on a private deep copy, so a failed patch leaves nothing behind; error
 * texts follow evanphx/json-patch, which kube-apiserver uses.
 */
#include "api/patch.h"
#include "util/errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes a message into err (truncated to errlen) and returns code. */
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool is_container(struct json_object *v)
{
    return json_object_is_type(v, json_type_object) ||
           json_object_is_type(v, json_type_array);
}

/* ---- deep copy --------------------------------------------------------- */

/*
 * Copies a scalar (never NULL). json_object_deep_copy() on a scalar does
 * not recurse and keeps the original text of numbers ("1.50"); it fails
 * on custom serializers, and then only the value is copied.
 */
static int clone_scalar(struct json_object *src, struct json_object **dst)
{
    struct json_object *c = NULL;

    if (json_object_deep_copy(src, &c, NULL) == 0) {
        *dst = c;
        return 0;
    }
    c = NULL;
    switch (json_object_get_type(src)) {
    case json_type_boolean:
        c = json_object_new_boolean(json_object_get_boolean(src));
        break;
    case json_type_double:
        c = json_object_new_double(json_object_get_double(src));
        break;
    case json_type_int: {
        int64_t i = json_object_get_int64(src);
        uint64_t u = json_object_get_uint64(src);
        if (i == INT64_MAX && u > (uint64_t)INT64_MAX)
            c = json_object_new_uint64(u);
        else
            c = json_object_new_int64(i);
        break;
    }
    case json_type_string:
        c = json_object_new_string_len(json_object_get_string(src),
                                       json_object_get_string_len(src));
        break;
    default:
        break;
    }
    if (!c)
        return -ENOMEM;
    *dst = c;
    return 0;
}

/* What a deep copy may still create: values, and bytes of strings and keys. */
struct clone_budget {
    size_t values;
    size_t bytes;
};

/* Takes n bytes from b (NULL: unlimited); false when they are not there. */
static bool budget_take(struct clone_budget *b, size_t n)
{
    if (!b)
        return true;
    if (n > b->bytes)
        return false;
    b->bytes -= n;
    return true;
}

/*
 * Deep-copies src into *dst. `room` is how many levels of containers the
 * copy may have (0: scalars only); b (NULL: unlimited) is charged for what
 * is copied. *depth gets the container depth of src. Returns 0, -ENOMEM,
 * -KE_INVALID (deeper than room) or -KE_TOOBIG (budget exhausted); on
 * error *dst is NULL and nothing is allocated.
 */
static int clone_rec(struct json_object *src, int room, struct clone_budget *b,
                     struct json_object **dst, int *depth)
{
    struct json_object *copy = NULL, *child = NULL;
    int rc = 0, maxd = 0, d;

    *dst = NULL;
    *depth = 0;
    if (b) {
        if (b->values == 0)
            return -KE_TOOBIG;
        b->values--;
    }

    switch (json_object_get_type(src)) {
    case json_type_null:
        return 0;
    case json_type_object: {
        if (room <= 0)
            return -KE_INVALID;
        copy = json_object_new_object();
        if (!copy)
            return -ENOMEM;
        struct json_object_iterator it = json_object_iter_begin(src);
        struct json_object_iterator end = json_object_iter_end(src);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *key = json_object_iter_peek_name(&it);
            if (!budget_take(b, strlen(key))) {
                rc = -KE_TOOBIG;
                goto out;
            }
            rc = clone_rec(json_object_iter_peek_value(&it), room - 1, b,
                           &child, &d);
            if (rc)
                goto out;
            /* Keys of src are unique, so skip the lookup. */
            if (json_object_object_add_ex(copy, key, child,
                                          JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
                rc = -ENOMEM;
                goto out;
            }
            child = NULL;
            if (d > maxd)
                maxd = d;
        }
        break;
    }
    case json_type_array: {
        if (room <= 0)
            return -KE_INVALID;
        size_t n = json_object_array_length(src);
        /* Size the copy up front, within reason (it grows past that). */
        copy = json_object_new_array_ext(n < 1       ? 1
                                         : n > 65536 ? 65536
                                                     : (int)n);
        if (!copy)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            rc = clone_rec(json_object_array_get_idx(src, i), room - 1, b,
                           &child, &d);
            if (rc)
                goto out;
            if (json_object_array_add(copy, child) != 0) {
                rc = -ENOMEM;
                goto out;
            }
            child = NULL;
            if (d > maxd)
                maxd = d;
        }
        break;
    }
    case json_type_string:
        if (!budget_take(b, (size_t)json_object_get_string_len(src)))
            return -KE_TOOBIG;
        return clone_scalar(src, dst);
    default:
        return clone_scalar(src, dst);
    }
    *dst = copy;
    *depth = maxd + 1;
    copy = NULL;
out:
    json_object_put(child);
    json_object_put(copy);
    return rc;
}

struct json_object *json_clone(struct json_object *v)
{
    struct json_object *copy = NULL;
    int depth;

    if (clone_rec(v, PATCH_MAX_DEPTH, NULL, &copy, &depth) != 0)
        return NULL;
    return copy;
}

/*
 * Container depth of v, at most `room`; *budget counts down one per value.
 * Returns 0, -KE_INVALID (deeper than room) or -KE_TOOBIG.
 */
static int scan_depth(struct json_object *v, int room, size_t *budget,
                      int *depth)
{
    int maxd = 0, d, rc;

    *depth = 0;
    if (*budget == 0)
        return -KE_TOOBIG;
    (*budget)--;
    if (json_object_is_type(v, json_type_object)) {
        if (room <= 0)
            return -KE_INVALID;
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            rc = scan_depth(json_object_iter_peek_value(&it), room - 1, budget,
                            &d);
            if (rc)
                return rc;
            if (d > maxd)
                maxd = d;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        if (room <= 0)
            return -KE_INVALID;
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            rc = scan_depth(json_object_array_get_idx(v, i), room - 1, budget,
                            &d);
            if (rc)
                return rc;
            if (d > maxd)
                maxd = d;
        }
    } else {
        return 0;
    }
    *depth = maxd + 1;
    return 0;
}

/* ---- equality ---------------------------------------------------------- */

/* An integer against a double, exactly (no rounding of either side). */
static bool int_equals_double(struct json_object *i, double d)
{
    int64_t iv = json_object_get_int64(i);
    uint64_t uv = json_object_get_uint64(i);
    bool big = iv == INT64_MAX && uv > (uint64_t)INT64_MAX;

    /* 2^63 and 2^64 are exact doubles; the casts below stay in range. */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        int64_t t = (int64_t)d;
        return (double)t == d && !big && t == iv;
    }
    if (d >= 9223372036854775808.0 && d < 18446744073709551616.0) {
        uint64_t t = (uint64_t)d;
        return (double)t == d && big && t == uv;
    }
    return false;
}

static bool number_equal(struct json_object *a, struct json_object *b)
{
    bool ai = json_object_is_type(a, json_type_int);
    bool bi = json_object_is_type(b, json_type_int);

    if (ai && bi)
        return json_object_get_int64(a) == json_object_get_int64(b) &&
               json_object_get_uint64(a) == json_object_get_uint64(b);
    if (ai)
        return int_equals_double(a, json_object_get_double(b));
    if (bi)
        return int_equals_double(b, json_object_get_double(a));
    double x = json_object_get_double(a), y = json_object_get_double(b);
    /* NaN (json-c parses it leniently) equals itself, as copies must. */
    return x == y || (x != x && y != y);
}

static bool is_number(enum json_type t)
{
    return t == json_type_int || t == json_type_double;
}

static bool equal_rec(struct json_object *a, struct json_object *b, int room)
{
    enum json_type ta = json_object_get_type(a);
    enum json_type tb = json_object_get_type(b);

    if (is_number(ta) && is_number(tb))
        return number_equal(a, b);
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_null:
        return true;
    case json_type_boolean:
        return !json_object_get_boolean(a) == !json_object_get_boolean(b);
    case json_type_string: {
        int la = json_object_get_string_len(a);
        return la == json_object_get_string_len(b) &&
               memcmp(json_object_get_string(a), json_object_get_string(b),
                      (size_t)la) == 0;
    }
    case json_type_object: {
        if (room <= 0)
            return false;
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        struct json_object_iterator it = json_object_iter_begin(a);
        struct json_object_iterator end = json_object_iter_end(a);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            struct json_object *bv;
            if (!json_object_object_get_ex(b, json_object_iter_peek_name(&it),
                                           &bv))
                return false;
            if (!equal_rec(json_object_iter_peek_value(&it), bv, room - 1))
                return false;
        }
        return true;
    }
    case json_type_array: {
        if (room <= 0)
            return false;
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!equal_rec(json_object_array_get_idx(a, i),
                           json_object_array_get_idx(b, i), room - 1))
                return false;
        return true;
    }
    default:
        return false;
    }
}

bool json_equal(struct json_object *a, struct json_object *b)
{
    return equal_rec(a, b, PATCH_MAX_DEPTH);
}

/* ---- merge patch ------------------------------------------------------- */

/*
 * Merges the object `patch` into the object `obj`, which sits at nesting
 * level `level` (the root is 1) of a document no deeper than
 * PATCH_MAX_DEPTH. On error obj may be half merged; the caller drops it.
 */
static int merge_obj(struct json_object *obj, struct json_object *patch,
                     int level, char *err, size_t errlen)
{
    struct json_object_iterator it = json_object_iter_begin(patch);
    struct json_object_iterator end = json_object_iter_end(patch);

    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        struct json_object *pv = json_object_iter_peek_value(&it);
        struct json_object *cur = NULL, *nv = NULL;
        int rc, d;

        if (!pv) {
            json_object_object_del(obj, key);
            continue;
        }
        if (json_object_is_type(pv, json_type_object)) {
            if (json_object_object_get_ex(obj, key, &cur) &&
                json_object_is_type(cur, json_type_object)) {
                /* cur exists, so level + 1 <= PATCH_MAX_DEPTH already. */
                rc = merge_obj(cur, pv, level + 1, err, errlen);
                if (rc)
                    return rc;
                continue;
            }
            if (level >= PATCH_MAX_DEPTH)
                return fail(err, errlen, -KE_INVALID,
                            "merge patch value for key \"%s\" would be nested "
                            "deeper than %d levels",
                            key, PATCH_MAX_DEPTH);
            nv = json_object_new_object();
            if (!nv)
                return fail(err, errlen, -ENOMEM, "out of memory");
            rc = merge_obj(nv, pv, level + 1, err, errlen);
            if (rc) {
                json_object_put(nv);
                return rc;
            }
        } else {
            rc = clone_rec(pv, PATCH_MAX_DEPTH - level, NULL, &nv, &d);
            if (rc == -KE_INVALID)
                return fail(err, errlen, rc,
                            "merge patch value for key \"%s\" would be nested "
                            "deeper than %d levels",
                            key, PATCH_MAX_DEPTH);
            if (rc)
                return fail(err, errlen, -ENOMEM, "out of memory");
        }
        if (json_object_object_add(obj, key, nv) != 0) {
            json_object_put(nv);
            return fail(err, errlen, -ENOMEM, "out of memory");
        }
    }
    return 0;
}

int patch_merge(struct json_object *target, struct json_object *patch,
                struct json_object **out, char *err, size_t errlen)
{
    struct json_object *doc = NULL;
    int rc, depth;

    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return fail(err, errlen, -KE_INVALID, "merge patch: no output");

    if (!json_object_is_type(patch, json_type_object)) {
        rc = clone_rec(patch, PATCH_MAX_DEPTH, NULL, &doc, &depth);
        if (rc == -KE_INVALID)
            return fail(err, errlen, rc,
                        "merge patch is nested deeper than %d levels",
                        PATCH_MAX_DEPTH);
        if (rc)
            return fail(err, errlen, -ENOMEM, "out of memory");
        *out = doc;
        return 0;
    }

    if (json_object_is_type(target, json_type_object)) {
        rc = clone_rec(target, PATCH_MAX_DEPTH, NULL, &doc, &depth);
        if (rc == -KE_INVALID)
            return fail(err, errlen, rc,
                        "merge patch target is nested deeper than %d levels",
                        PATCH_MAX_DEPTH);
        if (rc)
            return fail(err, errlen, -ENOMEM, "out of memory");
    } else {
        doc = json_object_new_object();
        if (!doc)
            return fail(err, errlen, -ENOMEM, "out of memory");
    }

    rc = merge_obj(doc, patch, 1, err, errlen);
    if (rc)
        goto out;
    *out = doc;
    doc = NULL;
out:
    json_object_put(doc);
    return rc;
}

/* ---- JSON pointers (RFC 6901) ------------------------------------------ */

/* Where a pointer leads: the container holding the target and its key. */
struct ptr_ref {
    struct json_object *parent; /* object or array inside the document */
    char *key;                  /* last reference token, unescaped; owned */
    int ntok;                   /* reference tokens in the pointer */
};

enum { LOC_MISSING = 1 };                            /* ptr_locate */
enum { IDX_OK, IDX_BAD, IDX_BIG };                   /* parse_index */
enum { REF_OK, REF_NOKEY, REF_BADINDEX, REF_RANGE }; /* ref_* */

/* NULL if p (len bytes) is a valid pointer, else what is wrong with it. */
static const char *ptr_syntax_error(const char *p, size_t len)
{
    if (len == 0)
        return NULL;
    if (p[0] != '/')
        return "must be empty or start with '/'";
    for (size_t i = 1; i < len; i++) {
        if (p[i] == '\0')
            return "contains a NUL byte";
        if (p[i] == '~' &&
            (i + 1 >= len || (p[i + 1] != '0' && p[i + 1] != '1')))
            return "'~' must be followed by '0' or '1'";
    }
    return NULL;
}

/* Decodes one token (n bytes, syntax checked) into out (n + 1 bytes). */
static void ptr_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~') {
            out[o++] = s[i + 1] == '1' ? '/' : '~';
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

/* An array index: decimal digits, no sign, no leading zero. */
static int parse_index(const char *tok, size_t *idx)
{
    size_t v = 0;
    bool big = false;

    if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0'))
        return IDX_BAD;
    for (const char *s = tok; *s; s++) {
        if (*s < '0' || *s > '9')
            return IDX_BAD;
        size_t digit = (size_t)(*s - '0');
        if (v > (SIZE_MAX - digit) / 10)
            big = true;
        else
            v = v * 10 + digit;
    }
    *idx = v;
    return big ? IDX_BIG : IDX_OK;
}

/* The member or element `tok` of cur, if cur is a container that has it. */
static bool child_get(struct json_object *cur, const char *tok,
                      struct json_object **next)
{
    size_t idx;

    if (json_object_is_type(cur, json_type_object))
        return json_object_object_get_ex(cur, tok, next);
    if (!json_object_is_type(cur, json_type_array))
        return false;
    if (parse_index(tok, &idx) != IDX_OK ||
        idx >= json_object_array_length(cur))
        return false;
    *next = json_object_array_get_idx(cur, idx);
    return true;
}

/*
 * Resolves all but the last token of the non-empty, syntax-checked pointer
 * p. Returns 0 with ref filled (free ref->key), LOC_MISSING when the
 * parent does not exist or is not a container, or -ENOMEM.
 */
static int ptr_locate(struct json_object *doc, const char *p, size_t len,
                      struct ptr_ref *ref)
{
    const char *s = p + 1, *end = p + len;
    struct json_object *cur = doc;
    int ntok = 1;
    char *tok = malloc(len);

    if (!tok)
        return -ENOMEM;
    for (;;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        ptr_unescape(s, (size_t)((slash ? slash : end) - s), tok);
        if (!slash)
            break;
        if (!child_get(cur, tok, &cur)) {
            free(tok);
            return LOC_MISSING;
        }
        s = slash + 1;
        ntok++;
    }
    if (!is_container(cur)) {
        free(tok);
        return LOC_MISSING;
    }
    ref->parent = cur;
    ref->key = tok;
    ref->ntok = ntok;
    return 0;
}

/* The value at ref (borrowed) into *val; REF_OK or why not. */
static int ref_get(const struct ptr_ref *ref, struct json_object **val)
{
    size_t idx;
    int st;

    if (json_object_is_type(ref->parent, json_type_object))
        return json_object_object_get_ex(ref->parent, ref->key, val)
                   ? REF_OK
                   : REF_NOKEY;
    st = parse_index(ref->key, &idx);
    if (st == IDX_BAD)
        return REF_BADINDEX;
    if (st == IDX_BIG || idx >= json_object_array_length(ref->parent))
        return REF_RANGE;
    *val = json_object_array_get_idx(ref->parent, idx);
    return REF_OK;
}

/* Inserts val before element idx (<= length) of arr; takes val on success. */
static int array_insert(struct json_object *arr, size_t idx,
                        struct json_object *val)
{
    size_t len = json_object_array_length(arr);

    if (json_object_array_add(arr, val) != 0)
        return -ENOMEM;
    if (idx < len) {
        /* json-c 0.16 has no insert; shift the element table in place,
         * as json_object_array_del_idx does in the other direction. */
        struct array_list *al = json_object_get_array(arr);
        memmove(&al->array[idx + 1], &al->array[idx],
                (len - idx) * sizeof(al->array[0]));
        al->array[idx] = val;
    }
    return 0;
}

/*
 * RFC 6902 "add" at ref: sets a member, or inserts an element ("-"
 * appends). Takes val on success (0); otherwise returns REF_BADINDEX,
 * REF_RANGE or -ENOMEM and val stays the caller's.
 */
static int ref_add(const struct ptr_ref *ref, struct json_object *val)
{
    size_t idx, len;
    int st;

    if (json_object_is_type(ref->parent, json_type_object))
        return json_object_object_add(ref->parent, ref->key, val) == 0
                   ? 0
                   : -ENOMEM;
    len = json_object_array_length(ref->parent);
    if (strcmp(ref->key, "-") == 0) {
        idx = len;
    } else {
        st = parse_index(ref->key, &idx);
        if (st == IDX_BAD)
            return REF_BADINDEX;
        if (st == IDX_BIG || idx > len)
            return REF_RANGE;
    }
    return array_insert(ref->parent, idx, val);
}

/* Removes the value at ref; REF_OK or why not. */
static int ref_remove(const struct ptr_ref *ref)
{
    struct json_object *val;
    size_t idx;
    int rc = ref_get(ref, &val);

    if (rc != REF_OK)
        return rc;
    if (json_object_is_type(ref->parent, json_type_object)) {
        json_object_object_del(ref->parent, ref->key);
    } else {
        parse_index(ref->key, &idx);
        json_object_array_del_idx(ref->parent, idx, 1);
    }
    return REF_OK;
}

/* Replaces the existing value at ref; takes val on success, else -ENOMEM. */
static int ref_replace(const struct ptr_ref *ref, struct json_object *val)
{
    size_t idx;

    if (json_object_is_type(ref->parent, json_type_object))
        return json_object_object_add(ref->parent, ref->key, val) == 0
                   ? 0
                   : -ENOMEM;
    parse_index(ref->key, &idx);
    return json_object_array_put_idx(ref->parent, idx, val) == 0 ? 0 : -ENOMEM;
}

/* ---- JSON patch (RFC 6902) --------------------------------------------- */

struct jp_ctx {
    struct json_object *doc;       /* the working copy; owned */
    int depth_ub;                  /* upper bound of doc's nesting depth */
    struct clone_budget copy_left; /* PATCH_MAX_COPY_{VALUES,BYTES} */
    size_t scan_left;              /* PATCH_MAX_SCAN_VALUES budget */
    char *err;
    size_t errlen;
};

#define JP_FAIL(c, code, ...) fail((c)->err, (c)->errlen, (code), __VA_ARGS__)

static int jp_nomem(struct jp_ctx *c)
{
    return JP_FAIL(c, -ENOMEM, "out of memory");
}

static void jp_raise_depth(struct jp_ctx *c, int depth)
{
    if (depth > c->depth_ub)
        c->depth_ub = depth;
}

/* Reads the pointer member `name` ("path" or "from") of an operation. */
static int op_pointer(struct jp_ctx *c, struct json_object *op,
                      const char *kind, const char *name, const char **p,
                      size_t *len)
{
    struct json_object *v = NULL;
    const char *why;

    if (!json_object_object_get_ex(op, name, &v) || v == NULL)
        return JP_FAIL(c, -KE_INVALID,
                       "%s operation failed to decode %s: missing value", kind,
                       name);
    if (!json_object_is_type(v, json_type_string))
        return JP_FAIL(c, -KE_INVALID,
                       "%s operation failed to decode %s: %s must be a string",
                       kind, name, name);
    *p = json_object_get_string(v);
    *len = (size_t)json_object_get_string_len(v);
    why = ptr_syntax_error(*p, *len);
    if (why)
        return JP_FAIL(c, -KE_INVALID,
                       "%s operation does not apply: invalid JSON pointer in "
                       "%s: \"%s\": %s",
                       kind, name, *p, why);
    return 0;
}

/* Reads the "value" member of an operation (borrowed; NULL is null). */
static int op_value(struct jp_ctx *c, struct json_object *op, const char *kind,
                    const char *path, struct json_object **val)
{
    if (!json_object_object_get_ex(op, "value", val))
        return JP_FAIL(c, -KE_INVALID,
                       "%s operation, missing value field for path: \"%s\": "
                       "missing value",
                       kind, path);
    return 0;
}

/*
 * Locates the parent of `p` for operation `kind`; when it is missing the
 * message is "<kind> operation does not apply: <what>: <p>: missing
 * value", with p in quotes if `quoted` (evanphx/json-patch quotes some).
 */
static int op_locate(struct jp_ctx *c, const char *p, size_t len,
                     struct ptr_ref *ref, const char *kind, const char *what,
                     bool quoted)
{
    const char *q = quoted ? "\"" : "";
    int rc = ptr_locate(c->doc, p, len, ref);

    if (rc == LOC_MISSING)
        return JP_FAIL(c, -KE_INVALID,
                       "%s operation does not apply: %s: %s%s%s: missing value",
                       kind, what, q, p, q);
    if (rc)
        return jp_nomem(c);
    return 0;
}

/*
 * Copies src for placement under `ntok` tokens of path, keeping the
 * document within PATCH_MAX_DEPTH; *depth gets the copy's depth.
 */
static int op_clone(struct jp_ctx *c, const char *kind, const char *path,
                    struct json_object *src, int ntok,
                    struct clone_budget *budget, struct json_object **copy,
                    int *depth)
{
    int rc = clone_rec(src, PATCH_MAX_DEPTH - ntok, budget, copy, depth);

    if (rc == -KE_INVALID)
        return JP_FAIL(c, rc,
                       "%s operation does not apply: value at path \"%s\" "
                       "would be nested deeper than %d levels",
                       kind, path, PATCH_MAX_DEPTH);
    if (rc == -KE_TOOBIG) /* kube-apiserver answers these with a 422 too */
        return JP_FAIL(c, -KE_INVALID,
                       "%s operation for path \"%s\": Unable to complete the "
                       "copy, the accumulated size increase of copy exceeds "
                       "the limit of %u values or %u bytes",
                       kind, path, PATCH_MAX_COPY_VALUES, PATCH_MAX_COPY_BYTES);
    if (rc)
        return jp_nomem(c);
    return 0;
}

/* Replaces the whole document with a copy of src. */
static int op_set_root(struct jp_ctx *c, const char *kind,
                       struct json_object *src, struct clone_budget *budget)
{
    struct json_object *copy = NULL;
    int depth;
    int rc = op_clone(c, kind, "", src, 0, budget, &copy, &depth);

    if (rc)
        return rc;
    json_object_put(c->doc);
    c->doc = copy;
    c->depth_ub = depth;
    return 0;
}

/* Message for a failed ref_add in `kind` at `path`. */
static int op_add_failed(struct jp_ctx *c, int rc, const char *what,
                         const char *path, const char *key)
{
    if (rc == REF_BADINDEX)
        return JP_FAIL(c, -KE_INVALID,
                       "error in %s for path: '%s': value was not a proper "
                       "array index: '%s': invalid index referenced",
                       what, path, key);
    if (rc == REF_RANGE)
        return JP_FAIL(c, -KE_INVALID,
                       "error in %s for path: '%s': Unable to access invalid "
                       "index: %s: invalid index referenced",
                       what, path, key);
    return jp_nomem(c);
}

/* Message for a failed ref_get of `kind` ("move", "copy") at `from`. */
static int op_get_failed(struct jp_ctx *c, int rc, const char *kind,
                         const char *from, const char *key)
{
    if (rc == REF_NOKEY)
        return JP_FAIL(c, -KE_INVALID,
                       "error in %s for from: '%s': unable to get nonexistent "
                       "key: %s: missing value",
                       kind, from, key);
    return JP_FAIL(c, -KE_INVALID,
                   "error in %s for from: '%s': Unable to access invalid "
                   "index: %s: invalid index referenced",
                   kind, from, key);
}

static int jp_add(struct jp_ctx *c, struct json_object *op)
{
    struct ptr_ref ref = {0};
    struct json_object *val, *copy = NULL;
    const char *path;
    size_t plen;
    int rc, depth;

    if ((rc = op_pointer(c, op, "add", "path", &path, &plen)) ||
        (rc = op_value(c, op, "add", path, &val)))
        return rc;
    if (plen == 0)
        return op_set_root(c, "add", val, NULL);

    rc = op_locate(c, path, plen, &ref, "add", "doc is missing path", true);
    if (rc)
        return rc;
    rc = op_clone(c, "add", path, val, ref.ntok, NULL, &copy, &depth);
    if (rc)
        goto out;
    rc = ref_add(&ref, copy);
    if (rc) {
        rc = op_add_failed(c, rc, "add", path, ref.key);
        goto out;
    }
    copy = NULL;
    jp_raise_depth(c, ref.ntok + depth);
out:
    json_object_put(copy);
    free(ref.key);
    return rc;
}

static int jp_remove(struct jp_ctx *c, struct json_object *op)
{
    struct ptr_ref ref = {0};
    const char *path;
    size_t plen;
    int rc;

    if ((rc = op_pointer(c, op, "remove", "path", &path, &plen)))
        return rc;
    if (plen == 0)
        return JP_FAIL(c, -KE_INVALID,
                       "remove operation does not apply: unable to remove the "
                       "whole document: path \"\"");
    rc = op_locate(c, path, plen, &ref, "remove", "doc is missing path", true);
    if (rc)
        return rc;
    rc = ref_remove(&ref);
    if (rc == REF_NOKEY)
        rc = JP_FAIL(c, -KE_INVALID,
                     "error in remove for path: '%s': unable to remove "
                     "nonexistent key: %s: missing value",
                     path, ref.key);
    else if (rc != REF_OK)
        rc = JP_FAIL(c, -KE_INVALID,
                     "error in remove for path: '%s': Unable to access invalid "
                     "index: %s: invalid index referenced",
                     path, ref.key);
    free(ref.key);
    return rc;
}

static int jp_replace(struct jp_ctx *c, struct json_object *op)
{
    struct ptr_ref ref = {0};
    struct json_object *val, *old, *copy = NULL;
    const char *path;
    size_t plen;
    int rc, depth;

    if ((rc = op_pointer(c, op, "replace", "path", &path, &plen)) ||
        (rc = op_value(c, op, "replace", path, &val)))
        return rc;
    if (plen == 0)
        return op_set_root(c, "replace", val, NULL);

    rc =
        op_locate(c, path, plen, &ref, "replace", "doc is missing path", false);
    if (rc)
        return rc;
    if (ref_get(&ref, &old) != REF_OK) {
        rc = JP_FAIL(c, -KE_INVALID,
                     "replace operation does not apply: doc is missing key: "
                     "%s: missing value",
                     path);
        goto out;
    }
    rc = op_clone(c, "replace", path, val, ref.ntok, NULL, &copy, &depth);
    if (rc)
        goto out;
    if (ref_replace(&ref, copy) != 0) {
        rc = jp_nomem(c);
        goto out;
    }
    copy = NULL;
    jp_raise_depth(c, ref.ntok + depth);
out:
    json_object_put(copy);
    free(ref.key);
    return rc;
}

static int jp_move(struct jp_ctx *c, struct json_object *op)
{
    struct ptr_ref from_ref = {0}, to_ref = {0};
    struct json_object *val = NULL;
    const char *from, *path;
    size_t flen, plen;
    int rc;

    if ((rc = op_pointer(c, op, "move", "from", &from, &flen)) ||
        (rc = op_pointer(c, op, "move", "path", &path, &plen)))
        return rc;
    if (flen < plen && memcmp(from, path, flen) == 0 && path[flen] == '/')
        return JP_FAIL(c, -KE_INVALID,
                       "move operation does not apply: unable to move \"%s\" "
                       "into its own child \"%s\"",
                       from, path);
    if (flen == 0)
        return 0; /* "" to "": the prefix test above caught the rest */

    rc = op_locate(c, from, flen, &from_ref, "move", "doc is missing from path",
                   false);
    if (rc)
        return rc;
    rc = ref_get(&from_ref, &val);
    if (rc != REF_OK) {
        val = NULL;
        rc = op_get_failed(c, rc, "move", from, from_ref.key);
        goto out;
    }
    if (flen == plen && memcmp(from, path, flen) == 0) {
        val = NULL; /* moving a value onto itself changes nothing */
        goto out;
    }
    json_object_get(val);
    ref_remove(&from_ref);
    if (plen == 0) {
        /* The moved value becomes the whole document. */
        json_object_put(c->doc);
        c->doc = val;
        c->depth_ub -= from_ref.ntok;
        val = NULL;
        goto out;
    }

    rc = op_locate(c, path, plen, &to_ref, "move",
                   "doc is missing destination path", false);
    if (rc)
        goto out;
    if (to_ref.ntok > from_ref.ntok) {
        /* The value goes deeper: it is at most depth_ub - from levels deep,
         * and only when that bound is too loose is it measured. */
        int bound = c->depth_ub - from_ref.ntok + to_ref.ntok, depth;
        if (bound > PATCH_MAX_DEPTH) {
            rc = scan_depth(val, PATCH_MAX_DEPTH - to_ref.ntok, &c->scan_left,
                            &depth);
            if (rc == -KE_INVALID) {
                rc = JP_FAIL(c, rc,
                             "move operation does not apply: value at path "
                             "\"%s\" would be nested deeper than %d levels",
                             path, PATCH_MAX_DEPTH);
                goto out;
            }
            if (rc) {
                rc = JP_FAIL(c, -KE_INVALID,
                             "move operation for path \"%s\": moves visit "
                             "more than %u values",
                             path, PATCH_MAX_SCAN_VALUES);
                goto out;
            }
            bound = to_ref.ntok + depth;
        }
        jp_raise_depth(c, bound);
    }
    rc = ref_add(&to_ref, val);
    if (rc) {
        rc = op_add_failed(c, rc, "move", path, to_ref.key);
        goto out;
    }
    val = NULL;
out:
    json_object_put(val);
    free(to_ref.key);
    free(from_ref.key);
    return rc;
}

static int jp_copy(struct jp_ctx *c, struct json_object *op)
{
    struct ptr_ref from_ref = {0}, to_ref = {0};
    struct json_object *src = c->doc, *copy = NULL;
    const char *from, *path;
    size_t flen, plen;
    int rc, depth;

    if ((rc = op_pointer(c, op, "copy", "from", &from, &flen)) ||
        (rc = op_pointer(c, op, "copy", "path", &path, &plen)))
        return rc;
    if (flen > 0) {
        rc = op_locate(c, from, flen, &from_ref, "copy",
                       "doc is missing from path", true);
        if (rc)
            return rc;
        rc = ref_get(&from_ref, &src);
        if (rc != REF_OK) {
            rc = op_get_failed(c, rc, "copy", from, from_ref.key);
            goto out;
        }
    }
    if (plen == 0) {
        rc = op_set_root(c, "copy", src, &c->copy_left);
        goto out;
    }
    rc = op_locate(c, path, plen, &to_ref, "copy",
                   "doc is missing destination path", false);
    if (rc)
        goto out;
    rc = op_clone(c, "copy", path, src, to_ref.ntok, &c->copy_left, &copy,
                  &depth);
    if (rc)
        goto out;
    rc = ref_add(&to_ref, copy);
    if (rc) {
        rc = op_add_failed(c, rc, "copy", path, to_ref.key);
        goto out;
    }
    copy = NULL;
    jp_raise_depth(c, to_ref.ntok + depth);
out:
    json_object_put(copy);
    free(to_ref.key);
    free(from_ref.key);
    return rc;
}

static int jp_test(struct jp_ctx *c, struct json_object *op)
{
    struct ptr_ref ref = {0};
    struct json_object *val, *cur = c->doc;
    const char *path;
    size_t plen;
    int rc;

    if ((rc = op_pointer(c, op, "test", "path", &path, &plen)) ||
        (rc = op_value(c, op, "test", path, &val)))
        return rc;
    if (plen > 0) {
        rc = op_locate(c, path, plen, &ref, "test", "is missing path", false);
        if (rc)
            return rc;
        rc = ref_get(&ref, &cur);
        if (rc == REF_NOKEY)
            rc = JP_FAIL(c, -KE_INVALID,
                         "test operation does not apply: is missing path: %s: "
                         "missing value",
                         path);
        else if (rc != REF_OK)
            rc = JP_FAIL(c, -KE_INVALID,
                         "error in test for path: '%s': Unable to access "
                         "invalid index: %s: invalid index referenced",
                         path, ref.key);
        free(ref.key);
        if (rc)
            return rc;
    }
    if (!equal_rec(cur, val, PATCH_MAX_DEPTH))
        return JP_FAIL(c, -KE_INVALID, "testing value %s failed: test failed",
                       path);
    return 0;
}

/* Applies operation number i to the working copy. */
static int jp_apply(struct jp_ctx *c, struct json_object *op, size_t i)
{
    static const struct {
        const char *name;
        int (*fn)(struct jp_ctx *c, struct json_object *op);
    } kinds[] = {
        {"add", jp_add},   {"remove", jp_remove}, {"replace", jp_replace},
        {"move", jp_move}, {"copy", jp_copy},     {"test", jp_test},
    };
    struct json_object *k = NULL;
    const char *kind = "unknown";
    bool known = false;

    if (!json_object_is_type(op, json_type_object))
        return JP_FAIL(c, -KE_INVALID,
                       "json patch operation %zu must be an object", i);
    if (json_object_object_get_ex(op, "op", &k) &&
        json_object_is_type(k, json_type_string)) {
        kind = json_object_get_string(k);
        /* "add\u0000x" is not "add" */
        known = strlen(kind) == (size_t)json_object_get_string_len(k);
    }
    for (size_t j = 0; known && j < sizeof(kinds) / sizeof(kinds[0]); j++)
        if (strcmp(kind, kinds[j].name) == 0)
            return kinds[j].fn(c, op);
    return JP_FAIL(c, -KE_INVALID, "Unexpected kind: %s", kind);
}

int patch_json(struct json_object *target, struct json_object *ops,
               struct json_object **out, char *err, size_t errlen)
{
    struct jp_ctx c = {
        .copy_left = {PATCH_MAX_COPY_VALUES, PATCH_MAX_COPY_BYTES},
        .scan_left = PATCH_MAX_SCAN_VALUES,
        .err = err,
        .errlen = errlen,
    };
    size_t n;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return JP_FAIL(&c, -KE_INVALID, "json patch: no output");
    if (!json_object_is_type(ops, json_type_array))
        return JP_FAIL(&c, -KE_INVALID,
                       "json patch must be an array of operations");
    n = json_object_array_length(ops);
    if (n > PATCH_MAX_OPS)
        return JP_FAIL(&c, -KE_TOOBIG,
                       "The allowed maximum operations in a JSON patch is %d, "
                       "got %zu",
                       PATCH_MAX_OPS, n);

    rc = clone_rec(target, PATCH_MAX_DEPTH, NULL, &c.doc, &c.depth_ub);
    if (rc == -KE_INVALID)
        return JP_FAIL(&c, rc,
                       "json patch target is nested deeper than %d levels",
                       PATCH_MAX_DEPTH);
    if (rc)
        return jp_nomem(&c);

    for (size_t i = 0; i < n; i++) {
        rc = jp_apply(&c, json_object_array_get_idx(ops, i), i);
        if (rc)
            goto out;
    }
    *out = c.doc;
    c.doc = NULL;
out:
    json_object_put(c.doc);
    return rc;
}
