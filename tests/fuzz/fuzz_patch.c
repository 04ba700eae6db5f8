/*
 * Fuzz target for src/api/patch.c. Input: one mode byte, then
 * "target\0patch" as JSON text. Mode (byte % 3, so ASCII '0'/'1'/'2'
 * work): 0 merge patch, 1 JSON patch, 2 json_equal/json_clone on the two
 * documents. Beyond memory errors it checks the contracts: inputs never
 * change, a failure leaves *out alone and says why, merge patches are
 * idempotent, results stay within PATCH_MAX_DEPTH, and test agrees with
 * json_equal.
 */
#include "api/patch.h"
#include "util/errors.h"

#include "fuzz_json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define DEPTH (PATCH_MAX_DEPTH + 16)


static void check_merge(struct json_object *target, struct json_object *patch)
{
    struct json_object *sentinel = json_object_new_object();
    struct json_object *out = sentinel, *again = NULL;
    char err[256] = "";
    int rc = patch_merge(target, patch, &out, err, sizeof(err));

    if (rc != 0) {
        REQUIRE(rc == -KE_INVALID || rc == -ENOMEM);
        REQUIRE(out == sentinel);
        REQUIRE(err[0] != '\0');
        goto out;
    }
    if (json_object_is_type(patch, json_type_object)) {
        REQUIRE(json_object_is_type(out, json_type_object));
        /* Each top-level member of the patch shows in the result. */
        struct json_object_iterator it = json_object_iter_begin(patch);
        struct json_object_iterator end = json_object_iter_end(patch);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            struct json_object *pv = json_object_iter_peek_value(&it), *ov;
            bool has = json_object_object_get_ex(
                out, json_object_iter_peek_name(&it), &ov);
            if (!pv)
                REQUIRE(!has);
            else if (!json_object_is_type(pv, json_type_object))
                REQUIRE(has && json_equal(ov, pv));
            else
                REQUIRE(has && json_object_is_type(ov, json_type_object));
        }
    } else {
        REQUIRE(json_equal(out, patch));
    }
    /* RFC 7386 merge patches are idempotent. */
    REQUIRE(patch_merge(out, patch, &again, err, sizeof(err)) == 0);
    REQUIRE(json_equal(out, again));
    json_object_put(again);
    json_object_put(out);
out:
    json_object_put(sentinel);
}

static void check_json_patch(struct json_object *target,
                             struct json_object *ops)
{
    struct json_object *sentinel = json_object_new_object();
    struct json_object *out = sentinel, *copy, *ops2 = NULL, *out2 = NULL;
    char err[256] = "";
    int rc = patch_json(target, ops, &out, err, sizeof(err));

    if (rc != 0) {
        REQUIRE(rc == -KE_INVALID || rc == -KE_TOOBIG || rc == -ENOMEM);
        REQUIRE(out == sentinel);
        REQUIRE(err[0] != '\0');
        goto out;
    }
    /* The result stays within the depth limit, so it copies and compares. */
    copy = json_clone(out);
    REQUIRE(out == NULL || copy != NULL);
    REQUIRE(json_equal(out, copy));
    json_object_put(copy);

    /* Applying it again with a final test of the whole document against
     * the first result must pass: patches are deterministic and test
     * agrees with json_equal. */
    size_t n = json_object_array_length(ops);
    if (n < PATCH_MAX_OPS) {
        ops2 = json_object_new_array();
        REQUIRE(ops2 != NULL);
        for (size_t i = 0; i < n; i++)
            json_object_array_add(
                ops2, json_object_get(json_object_array_get_idx(ops, i)));
        struct json_object *test = json_object_new_object();
        json_object_object_add(test, "op", json_object_new_string("test"));
        json_object_object_add(test, "path", json_object_new_string(""));
        json_object_object_add(test, "value", json_object_get(out));
        json_object_array_add(ops2, test);
        rc = patch_json(target, ops2, &out2, err, sizeof(err));
        /* Copy budgets may run out on the second pass only if they ran
         * close on the first, which the extra test cannot cause. */
        REQUIRE(rc == 0);
        REQUIRE(json_equal(out, out2));
        json_object_put(out2);
        json_object_put(ops2);
    }
    json_object_put(out);
out:
    json_object_put(sentinel);
}

static void check_equal(struct json_object *a, struct json_object *b)
{
    struct json_object *ca = json_clone(a), *ops, *op, *out = NULL;
    char err[256];
    bool eq = json_equal(a, b);

    REQUIRE(eq == json_equal(b, a));
    if (a == NULL || ca != NULL) {
        REQUIRE(json_equal(a, ca));
        REQUIRE(json_equal(ca, a));
        char *ta = fuzz_text_of(a), *tc = fuzz_text_of(ca);
        REQUIRE(strcmp(ta, tc) == 0);
        free(ta);
        free(tc);
    }
    json_object_put(ca);

    /* A test of the whole document passes exactly when json_equal holds. */
    ops = json_object_new_array();
    op = json_object_new_object();
    json_object_object_add(op, "op", json_object_new_string("test"));
    json_object_object_add(op, "path", json_object_new_string(""));
    json_object_object_add(op, "value", json_object_get(b));
    json_object_array_add(ops, op);
    int rc = patch_json(a, ops, &out, err, sizeof(err));
    if (rc != -KE_INVALID || strstr(err, "nested deeper") == NULL)
        REQUIRE((rc == 0) == eq);
    json_object_put(out);
    json_object_put(ops);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object *a = NULL, *b = NULL;
    const uint8_t *rest, *sep;
    size_t n;
    char *ta = NULL, *tb = NULL, *ta2, *tb2;

    if (size < 2 || size > FUZZ_MAX_INPUT_BYTES)
        return 0;
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
    switch (data[0] % 3) {
    case 0:
        check_merge(a, b);
        break;
    case 1:
        check_json_patch(a, b);
        break;
    default:
        check_equal(a, b);
        break;
    }
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
