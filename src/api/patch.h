/*
 * JSON merge patch (RFC 7386) and JSON patch (RFC 6902, with RFC 6901
 * pointers) on json-c values, as the Kubernetes API server applies
 * application/merge-patch+json and application/json-patch+json PATCH
 * bodies, plus the deep equality and deep copy they are built on.
 *
 * json-c represents JSON null as a NULL pointer, so a NULL value passed in
 * or handed back means `null` throughout this interface.
 */
#ifndef KEDGE_API_PATCH_H
#define KEDGE_API_PATCH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting of objects/arrays accepted or produced (root = 1). */
#define PATCH_MAX_DEPTH 512
/* Operations in one JSON patch, as kube-apiserver's maxJSONPatchOperations. */
#define PATCH_MAX_OPS 10000
/*
 * What the "copy" operations of one JSON patch may create in total: values,
 * and bytes of strings and keys (kube-apiserver caps the growth from copies
 * at 3 MiB of JSON; json-c values cost more memory than their text, hence
 * the separate count).
 */
#define PATCH_MAX_COPY_VALUES (1u << 16)
#define PATCH_MAX_COPY_BYTES (3u << 20)
/* Values one JSON patch may visit to check the depth of moved subtrees. */
#define PATCH_MAX_SCAN_VALUES (1u << 24)

/*
 * Applies the JSON merge patch `patch` to a deep copy of `target`. Object
 * members of the patch are merged recursively (missing intermediate
 * objects are created, a non-object target becomes {}), null members
 * delete keys, and a patch that is not an object replaces the whole
 * document: a null patch therefore succeeds with *out == NULL (JSON null).
 *
 * On success *out is a new value the caller releases with
 * json_object_put(). `target` and `patch` are never modified. On error
 * *out is untouched and nothing leaks.
 *
 * Returns 0, -ENOMEM, or -KE_INVALID (nesting deeper than PATCH_MAX_DEPTH)
 * with a message in err (errlen bytes, always NUL-terminated when
 * errlen > 0; long messages are truncated).
 */
int patch_merge(struct json_object *target, struct json_object *patch,
                struct json_object **out, char *err, size_t errlen);

/*
 * Applies the JSON patch `ops` (an array of add/remove/replace/move/copy/
 * test operations) to a deep copy of `target`. The patch is atomic: on any
 * error *out is untouched, `target` is unchanged and nothing leaks. On
 * success *out is a new value the caller releases with json_object_put()
 * (NULL when the patch made the whole document null).
 *
 * Errors:
 *   -KE_INVALID  the patch does not apply; err gets a message in the words
 *                of kube-apiserver (evanphx/json-patch) naming the
 *                operation and its path, e.g.
 *                `add operation does not apply: doc is missing path:
 *                "/spec/foo": missing value`,
 *                `testing value /metadata/name failed: test failed`,
 *                `Unexpected kind: xyz`, or `json patch must be an array
 *                of operations`. Copies past PATCH_MAX_COPY_VALUES /
 *                PATCH_MAX_COPY_BYTES and moves past PATCH_MAX_SCAN_VALUES
 *                are refused this way too (kube-apiserver: 422).
 *   -KE_TOOBIG   more than PATCH_MAX_OPS operations (kube-apiserver: 413
 *                "The allowed maximum operations in a JSON patch is
 *                10000, got N").
 *   -ENOMEM      out of memory.
 */
int patch_json(struct json_object *target, struct json_object *ops,
               struct json_object **out, char *err, size_t errlen);

/*
 * Deep equality: objects compare as unordered maps, arrays element by
 * element, numbers by value (1 == 1.0, 2^64-1 != 2^63-1), strings byte by
 * byte. Values nested deeper than PATCH_MAX_DEPTH compare unequal.
 */
bool json_equal(struct json_object *a, struct json_object *b);

/*
 * Deep copy preserving object key order and the original text of numbers.
 * The caller releases the result with json_object_put(). Returns NULL for
 * a null `v`, and also when out of memory or when `v` is nested deeper
 * than PATCH_MAX_DEPTH (so check `v` to tell them apart).
 */
struct json_object *json_clone(struct json_object *v);

#endif
