/*
 * Kubernetes strategic merge patch (application/strategic-merge-patch+json)
 * on json-c values, as kube-apiserver applies it to built-in kinds, and
 * the per-kind patch metadata (merge keys and strategies of list and map
 * fields) it is driven by; smp_schema.c holds that table, which can also
 * feed the x-kubernetes-patch-* OpenAPI extensions.
 */
#ifndef KEDGE_API_SMP_H
#define KEDGE_API_SMP_H

#include <json-c/json.h>
#include <stddef.h>

/* Deepest nesting of the patch (and of the result) accepted (root = 1). */
#define SMP_MAX_DEPTH 512

/*
 * Patch metadata of one list or map field, looked up by the JSON path of
 * the field relative to the object root with array steps written as "[]",
 * e.g. "spec.template.spec.containers",
 * "spec.template.spec.containers[].env", "metadata.finalizers".
 * strategy is "merge", "replace", "retainKeys" or "merge,retainKeys" (as
 * the patchStrategy struct tags of the Kubernetes API types); merge_key is
 * the patchMergeKey, NULL for lists of primitives. Fields not in a table
 * have no metadata: their maps merge and their lists are replaced whole.
 */
struct smp_field {
    const char *path;
    const char *strategy;
    const char *merge_key;
};

/*
 * The patch metadata table of a kind, identified by API group ("" for
 * core) and kind ("Pod"), terminated by an entry with a NULL path. Never
 * NULL: kinds kedge does not know get an empty table. Static storage.
 */
const struct smp_field *smp_fields(const char *group, const char *kind);

/*
 * Applies the strategic merge patch `patch` to a deep copy of `target`
 * (an object; NULL is taken as {}), with the metadata table of group/kind:
 *
 * - maps merge recursively; a null value deletes the key;
 * - lists without merge metadata are replaced whole;
 * - lists of maps with strategy "merge" merge element by element on the
 *   merge key: patch elements update the element with the same key, new
 *   ones are added; the result puts the patch's elements in the patch's
 *   order, keeping elements only on the server in their relative place
 *   (so new elements come before the server's, as in Kubernetes);
 * - lists of primitives with strategy "merge" take the union;
 * - directives: "$patch": "replace" | "delete" | "merge" in a map (merge
 *   is the default; delete removes the map), "$patch": "delete" in a list
 *   element (removes the elements with its merge key) or "$patch":
 *   "replace" as a list element (the list becomes the other elements),
 *   "$setElementOrder/<list>": [...] (order of the merged list),
 *   "$retainKeys": [...] (keys of the map not listed are cleared),
 *   "$deleteFromPrimitiveList/<list>": [...] (values removed from a list
 *   of primitives). No directive survives into the result.
 *
 * On success *out is a new object the caller releases with
 * json_object_put(). `target` and `patch` are never modified; on error
 * *out is untouched and nothing leaks.
 *
 * Errors:
 *   -KE_INVALID  the patch does not apply: not an object, an unknown or
 *                malformed directive, a list element without its merge
 *                key, mixed or nested lists where lists merge, nesting
 *                deeper than SMP_MAX_DEPTH, or a target that is not an
 *                object. err gets Kubernetes' wording prefixed by the
 *                field path, e.g. `spec.template.spec.containers: map:
 *                {"image":"nginx"} does not contain declared merge key:
 *                name` or `spec.strategy: invalid patch format of
 *                retainKeys` (errlen bytes, NUL-terminated when errlen > 0,
 *                truncated if long).
 *   -ENOMEM      out of memory.
 */
int smp_apply(const char *group, const char *kind, struct json_object *target,
              struct json_object *patch, struct json_object **out, char *err,
              size_t errlen);

#endif
