/*
 * Fuzz target for src/api/smp.c. Input: one kind byte, then
 * "target\0patch" as JSON text; the byte (modulo the table below, so
 * ASCII digits work) picks the kind whose patch metadata applies. Beyond
 * memory errors it checks the contracts: inputs never change, a failure
 * leaves *out alone and says why, no directive survives into the result,
 * results stay within SMP_MAX_DEPTH, the patch's plain members show in
 * the result, and where no strategic feature is in play the result is
 * the RFC 7386 merge patch's.
 */
#include "api/patch.h"
#include "api/smp.h"
#include "util/errors.h"

#include "fuzz_json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *const kinds[][2] = {
    {"", "Pod"},
    {"apps", "Deployment"},
    {"", "Node"},
    {"", "Service"},
    {"", "Unknown"},
    {"", "ServiceAccount"},
    {"apps", "StatefulSet"},
    {"batch", "Job"},
};

#define DEPTH (SMP_MAX_DEPTH + 16)


static bool is_directive(const char *key)
{
    return key[0] == '$' && strcmp(key, "$ref") != 0 &&
           strcmp(key, "$schema") != 0;
}

/* True if some map in v has a key starting with '$' (JSON schema's $ref
 * and $schema aside). */
static bool has_directive(struct json_object *v)
{
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, val)
        {
            if (is_directive(key) || has_directive(val))
                return true;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            if (has_directive(json_object_array_get_idx(v, i)))
                return true;
    }
    return false;
}

/*
 * True if the patch uses nothing strategic: no directive keys, no null
 * member of a map inside a list (which a merge patch keeps), and no list
 * where the target has a list (which may merge by key).
 */
static bool plain_patch(struct json_object *p, struct json_object *t,
                        bool in_list)
{
    if (json_object_is_type(p, json_type_object)) {
        json_object_object_foreach(p, key, val)
        {
            struct json_object *tv = NULL;
            if (is_directive(key) || (in_list && !val))
                return false;
            if (!in_list && json_object_is_type(t, json_type_object))
                json_object_object_get_ex(t, key, &tv);
            if (json_object_is_type(val, json_type_array) &&
                json_object_is_type(tv, json_type_array))
                return false;
            if (!plain_patch(val, tv, in_list))
                return false;
        }
    } else if (json_object_is_type(p, json_type_array)) {
        size_t n = json_object_array_length(p);
        for (size_t i = 0; i < n; i++)
            if (!plain_patch(json_object_array_get_idx(p, i), NULL, true))
                return false;
    }
    return true;
}

static void check_apply(const char *group, const char *kind,
                        struct json_object *target, struct json_object *patch)
{
    struct json_object *sentinel = json_object_new_object();
    struct json_object *out = sentinel, *copy, *merged = NULL, *d;
    char err[256] = "";
    int rc = smp_apply(group, kind, target, patch, &out, err, sizeof(err));

    if (rc != 0) {
        REQUIRE(rc == -KE_INVALID || rc == -ENOMEM);
        REQUIRE(out == sentinel);
        REQUIRE(err[0] != '\0');
        goto out;
    }
    REQUIRE(json_object_is_type(out, json_type_object));
    REQUIRE(out != target);
    /* Within the depth limit, so it copies. */
    copy = json_clone(out);
    REQUIRE(copy != NULL);
    json_object_put(copy);
    /* Directives never reach the result. */
    if (!has_directive(target))
        REQUIRE(!has_directive(out));
    /* The patch's plain top-level members are in the result, unless the
     * patch deletes the whole object. */
    if (json_object_is_type(patch, json_type_object) &&
        !(json_object_object_get_ex(patch, "$patch", &d) &&
          json_object_is_type(d, json_type_string) &&
          strcmp(json_object_get_string(d), "delete") == 0)) {
        json_object_object_foreach(patch, key, val)
        {
            struct json_object *ov;
            bool has = json_object_object_get_ex(out, key, &ov);
            if (is_directive(key))
                continue;
            if (!val)
                REQUIRE(!has);
            else if (!json_object_is_type(val, json_type_object) &&
                     !json_object_is_type(val, json_type_array))
                REQUIRE(has && json_equal(ov, val));
        }
    }
    /* Nothing strategic in play: the same as a JSON merge patch. */
    if ((!target || json_object_is_type(target, json_type_object)) &&
        plain_patch(patch, target, false)) {
        rc = patch_merge(target ? target : sentinel, patch, &merged, err,
                         sizeof(err));
        if (rc == 0) {
            if (!patch) {
                json_object_put(merged);
                merged = json_clone(target ? target : sentinel);
            }
            REQUIRE(json_equal(out, merged));
        }
        json_object_put(merged);
    }
    json_object_put(out);
out:
    json_object_put(sentinel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object *a = NULL, *b = NULL;
    const uint8_t *rest, *sep;
    size_t n;
    char *ta = NULL, *tb = NULL, *ta2, *tb2;
    const char *const *k;

    if (size < 2 || size > FUZZ_MAX_INPUT_BYTES)
        return 0;
    k = kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))];
    rest = data + 1;
    n = size - 1;
    sep = memchr(rest, 0, n);
    if (!sep)
        return 0;
    if (fuzz_parse_json(rest, (size_t)(sep - rest), DEPTH, &a) != 0 ||
        fuzz_parse_json(sep + 1, n - (size_t)(sep - rest) - 1, DEPTH, &b) != 0)
        goto out;

    ta = fuzz_text_of(a);
    tb = fuzz_text_of(b);
    check_apply(k[0], k[1], a, b);
    /* Inputs are never modified. */
    ta2 = fuzz_text_of(a);
    tb2 = fuzz_text_of(b);
    REQUIRE(strcmp(ta, ta2) == 0);
    REQUIRE(strcmp(tb, tb2) == 0);
    free(ta2);
    free(tb2);
out:
    free(ta);
    free(tb);
    json_object_put(a);
    json_object_put(b);
    return 0;
}
