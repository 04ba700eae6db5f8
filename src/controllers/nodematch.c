#include "controllers/nodematch.h"
#include "resources/jsonutil.h"

#include <stdlib.h>
#include <string.h>

bool nodematch_expr(struct json_object *labels, const char *name,
                    struct json_object *e)
{
    const char *key = ju_str(e, "key"), *op = ju_str(e, "operator");
    struct json_object *values = ju_arr(e, "values");
    if (!key || !op)
        return false;
    const char *v = NULL;
    if (name)
        v = strcmp(key, "metadata.name") == 0 ? name : NULL;
    else
        v = ju_str(labels, key);
    if (strcmp(op, "Exists") == 0)
        return v != NULL;
    if (strcmp(op, "DoesNotExist") == 0)
        return v == NULL;
    bool in = false;
    for (size_t i = 0; v && i < ju_len(values); i++) {
        struct json_object *x = json_object_array_get_idx(values, i);
        if (json_object_is_type(x, json_type_string) &&
            strcmp(json_object_get_string(x), v) == 0)
            in = true;
    }
    if (strcmp(op, "In") == 0)
        return in;
    if (strcmp(op, "NotIn") == 0)
        return !in;
    if ((strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) && v &&
        ju_len(values) == 1) {
        struct json_object *x = json_object_array_get_idx(values, 0);
        if (!json_object_is_type(x, json_type_string))
            return false;
        char *end1, *end2;
        long long a = strtoll(v, &end1, 10);
        long long b = strtoll(json_object_get_string(x), &end2, 10);
        if (*end1 || *end2)
            return false;
        return op[0] == 'G' ? a > b : a < b;
    }
    return false;
}

bool nodematch_tolerates(struct json_object *tols, const char *tkey,
                         const char *tvalue, const char *teffect)
{
    tkey = tkey ? tkey : "";
    tvalue = tvalue ? tvalue : "";
    teffect = teffect ? teffect : "";
    for (size_t i = 0; i < ju_len(tols); i++) {
        struct json_object *tol = ju_idx_obj(tols, i);
        const char *key = ju_str(tol, "key"), *op = ju_str(tol, "operator"),
                   *value = ju_str(tol, "value"), *effect = ju_str(tol, "effect");
        if (effect && effect[0] && strcmp(effect, teffect) != 0)
            continue;
        bool exists = op && strcmp(op, "Exists") == 0;
        if (exists && (!key || !key[0]))
            return true;
        if (!key || strcmp(key, tkey) != 0)
            continue;
        if (exists || strcmp(value ? value : "", tvalue) == 0)
            return true;
    }
    return false;
}
