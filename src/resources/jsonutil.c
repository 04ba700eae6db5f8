/*
 * Type-checked json-c accessors (see jsonutil.h): nothing here trusts the
 * shape of a client-supplied object.
 */
#include "resources/jsonutil.h"

#include <math.h>
#include <string.h>

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!o || !key || !json_object_is_type(o, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

const char *ju_str(struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    if (!v || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

struct json_object *ju_obj(struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    return v && json_object_is_type(v, json_type_object) ? v : NULL;
}

struct json_object *ju_arr(struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

bool ju_int(struct json_object *o, const char *key, int64_t *out)
{
    struct json_object *v = get(o, key);
    if (!v)
        return false;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return true;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (isfinite(d) && d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
            *out = (int64_t)d;
            return true;
        }
    }
    return false;
}

bool ju_bool(struct json_object *o, const char *key, bool *out)
{
    struct json_object *v = get(o, key);
    if (!v || !json_object_is_type(v, json_type_boolean))
        return false;
    *out = json_object_get_boolean(v);
    return true;
}

struct json_object *ju_path(struct json_object *o, const char *path)
{
    char seg[256];
    const char *p = path;
    struct json_object *cur = o;
    if (!path)
        return NULL;
    while (cur) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(seg))
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        cur = get(cur, seg);
        if (!dot)
            return cur;
        p = dot + 1;
    }
    return NULL;
}

struct json_object *ju_obj_ensure(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    v = ju_obj(o, key);
    if (v)
        return v;
    v = json_object_new_object();
    if (!v)
        return NULL;
    json_object_object_add(o, key, v);
    return v;
}

struct json_object *ju_arr_ensure(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    v = ju_arr(o, key);
    if (v)
        return v;
    v = json_object_new_array();
    if (!v)
        return NULL;
    json_object_object_add(o, key, v);
    return v;
}

void ju_set_str(struct json_object *o, const char *key, const char *v)
{
    if (o && json_object_is_type(o, json_type_object) && v)
        json_object_object_add(o, key, json_object_new_string(v));
}

void ju_set_int(struct json_object *o, const char *key, int64_t v)
{
    if (o && json_object_is_type(o, json_type_object))
        json_object_object_add(o, key, json_object_new_int64(v));
}

void ju_set_bool(struct json_object *o, const char *key, bool v)
{
    if (o && json_object_is_type(o, json_type_object))
        json_object_object_add(o, key, json_object_new_boolean(v));
}

bool ju_has(struct json_object *o, const char *key)
{
    return get(o, key) != NULL;
}

void ju_default_str(struct json_object *o, const char *key, const char *v)
{
    if (!ju_has(o, key))
        ju_set_str(o, key, v);
}

void ju_default_int(struct json_object *o, const char *key, int64_t v)
{
    if (!ju_has(o, key))
        ju_set_int(o, key, v);
}

void ju_default_bool(struct json_object *o, const char *key, bool v)
{
    if (!ju_has(o, key))
        ju_set_bool(o, key, v);
}

size_t ju_len(struct json_object *arr)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return 0;
    return json_object_array_length(arr);
}

struct json_object *ju_idx_obj(struct json_object *arr, size_t i)
{
    struct json_object *v;
    if (i >= ju_len(arr))
        return NULL;
    v = json_object_array_get_idx(arr, i);
    return v && json_object_is_type(v, json_type_object) ? v : NULL;
}
