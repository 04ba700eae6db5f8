/* Object helpers for the REST code: store keys, JSON parsing and output,
 * uids, timestamps, resourceVersion handling. */
#include "api/internal.h"
#include "resources/jsonutil.h"
#include "util/errors.h"

#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *group_dir(const struct resource_type *rt)
{
    return rt->group[0] ? rt->group : "core";
}

int api_object_key(const struct resource_type *rt, const char *ns,
                   const char *name, char *out, size_t len)
{
    int n;
    if (rt->storage)
        rt = rt->storage;
    if (rt->namespaced)
        n = snprintf(out, len, "/registry/%s/%s/%s/%s", group_dir(rt),
                     rt->resource, ns, name);
    else
        n = snprintf(out, len, "/registry/%s/%s/%s", group_dir(rt),
                     rt->resource, name);
    return n < 0 || (size_t)n >= len ? -KE_TOOBIG : 0;
}

int api_collection_prefix(const struct resource_type *rt, const char *ns,
                          char *out, size_t len)
{
    int n;
    if (rt->storage)
        rt = rt->storage;
    if (rt->namespaced && ns && ns[0])
        n = snprintf(out, len, "/registry/%s/%s/%s/", group_dir(rt),
                     rt->resource, ns);
    else
        n = snprintf(out, len, "/registry/%s/%s/", group_dir(rt),
                     rt->resource);
    return n < 0 || (size_t)n >= len ? -KE_TOOBIG : 0;
}

/* What json-c accepts even in strict mode but JSON (and Kubernetes) does
 * not: NaN and infinities, and strings with NUL characters, which C code
 * downstream would silently cut short. Returns a message or NULL. */
static const char *json_unsupported(struct json_object *v, int depth)
{
    if (depth > 256)
        return "nested too deeply";
    switch (json_object_get_type(v)) {
    case json_type_double: {
        double d = json_object_get_double(v);
        if (isnan(d) || isinf(d))
            return "NaN and Infinity are not JSON numbers";
        return NULL;
    }
    case json_type_string:
        if (strlen(json_object_get_string(v)) !=
            (size_t)json_object_get_string_len(v))
            return "strings must not contain NUL characters";
        return NULL;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            const char *e =
                json_unsupported(json_object_array_get_idx(v, i), depth + 1);
            if (e)
                return e;
        }
        return NULL;
    case json_type_object: {
        json_object_object_foreach(v, key, val) {
            (void)key;
            const char *e = json_unsupported(val, depth + 1);
            if (e)
                return e;
        }
        return NULL;
    }
    default:
        return NULL;
    }
}

/*
 * A scan of the raw text for what json-c takes inside strings but JSON
 * does not: raw control characters. It also refuses the escape \u0000,
 * which json-c would cut object keys short at. Returns a message or NULL.
 */
static const char *json_bad_string_bytes(const char *data, size_t len,
                                         size_t *at)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (!in_string) {
            if (ch == '"')
                in_string = true;
            continue;
        }
        if (ch == '"') {
            in_string = false;
        } else if (ch < 0x20) {
            *at = i;
            return "invalid character in string literal (control characters "
                   "must be escaped)";
        } else if (ch == '\\' && i + 1 < len) {
            if (data[i + 1] == 'u' && i + 5 < len &&
                memcmp(data + i + 2, "0000", 4) == 0) {
                *at = i;
                return "strings must not contain NUL characters";
            }
            i++; /* the escaped character */
        }
    }
    return NULL;
}

/* Parses JSON; `strict` (request bodies) also refuses what RFC 8259 and
 * Kubernetes refuse but json-c would take. Stored values were checked on
 * their way in and skip that work. */
static struct json_object *parse_json(const char *data, size_t len,
                                      char *err, size_t errlen, bool strict)
{
    size_t at = 0;
    const char *bad_bytes = strict ? json_bad_string_bytes(data, len, &at)
                                   : NULL;
    if (bad_bytes) {
        snprintf(err, errlen, "%s at offset %zu", bad_bytes, at);
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex(256);
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Strict RFC 8259: no trailing commas, single quotes, NaN, leading
     * zeros; strings must be UTF-8. */
    if (strict)
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                        JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                        JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj =
        json_tokener_parse_ex(tok, data, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        snprintf(err, errlen, "unexpected end of JSON input");
        json_object_put(obj);
        obj = NULL;
    } else if (jerr != json_tokener_success) {
        snprintf(err, errlen, "invalid character at offset %zu: %s",
                 json_tokener_get_parse_end(tok),
                 json_tokener_error_desc(jerr));
        obj = NULL;
    } else {
        /* Only whitespace may follow the value. */
        size_t end = json_tokener_get_parse_end(tok);
        for (size_t i = end; i < len; i++) {
            if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' &&
                data[i] != '\t') {
                snprintf(err, errlen,
                         "invalid character after top-level value at "
                         "offset %zu",
                         i);
                json_object_put(obj);
                obj = NULL;
                break;
            }
        }
    }
    json_tokener_free(tok);
    const char *bad = obj && strict ? json_unsupported(obj, 0) : NULL;
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        json_object_put(obj);
        obj = NULL;
    }
    return obj;
}

void api_new_uid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        /* RAND_bytes does not fail on Linux with a seeded pool; fall back
         * to time so a uid is never left uninitialised. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(b, &ts, sizeof(ts) < 16 ? sizeof(ts) : 16);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
             "%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
}

void api_now_rfc3339(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *api_meta_str(struct json_object *obj, const char *field)
{
    return ju_str(ju_obj(obj, "metadata"), field);
}

int64_t api_object_rv(struct json_object *obj)
{
    const char *rv = api_meta_str(obj, "resourceVersion");
    if (!rv || !rv[0])
        return 0;
    char *end;
    long long v = strtoll(rv, &end, 10);
    if (*end || v < 0)
        return -1;
    return v;
}

void api_set_rv(struct json_object *obj, int64_t rev)
{
    char s[24];
    snprintf(s, sizeof(s), "%lld", (long long)rev);
    ju_set_str(ju_obj_ensure(obj, "metadata"), "resourceVersion", s);
}

const char *api_json(struct json_object *obj, size_t *len)
{
    return json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

struct json_object *api_parse_json(const char *data, size_t len, char *err,
                                   size_t errlen)
{
    return parse_json(data, len, err, errlen, true);
}

struct json_object *api_decode(const struct resource_type *rt, const char *data,
                               size_t len, char *err, size_t errlen)
{
    struct json_object *obj = parse_json(data, len, err, errlen, false);
    if (obj && rt->from_storage)
        rt->from_storage(obj);
    return obj;
}

const char *api_encode(const struct resource_type *rt, struct json_object *obj,
                       size_t *len, struct json_object **tmp)
{
    *tmp = NULL;
    if (!rt->to_storage)
        return api_json(obj, len);
    if (json_object_deep_copy(obj, tmp, NULL) != 0)
        return NULL;
    rt->to_storage(*tmp);
    return api_json(*tmp, len);
}
