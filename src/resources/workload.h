/*
 * Helpers shared by the workload kinds (deployments, replicasets,
 * daemonsets, statefulsets, jobs): Go-style renderings of offending values
 * for Kubernetes' error texts, type-checked field readers that report
 * wrong JSON types, selector/template checks, and common table cells.
 */
#ifndef KEDGE_RESOURCES_WORKLOAD_H
#define KEDGE_RESOURCES_WORKLOAD_H

#include "api/ferr.h"
#include "api/selector.h"
#include "util/buf.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Column descriptions shared by every workload table. */
#define WL_DESC_NAME                                                           \
    "Name must be unique within a namespace. Is required when creating "       \
    "resources, although some resources may allow a client to request the "    \
    "generation of an appropriate name automatically. Name is primarily "      \
    "intended for creation idempotence and configuration definition. "         \
    "Cannot be updated. More info: "                                           \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/"       \
    "names#names"
#define WL_DESC_AGE                                                            \
    "CreationTimestamp is a timestamp representing the server time when "      \
    "this object was created. It is not guaranteed to be set in "              \
    "happens-before order across separate operations. Clients may not set "    \
    "this value. It is represented in RFC3339 form and is in UTC.\n\n"         \
    "Populated by the system. Read-only. Null for lists. More info: "          \
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"        \
    "api-conventions.md#metadata"
#define WL_DESC_CONTAINERS "Names of each container in the template."
#define WL_DESC_IMAGES "Images referenced by each container in the template."

/* Kubernetes' ValidateNonnegativeField detail. */
#define WL_MSG_NONNEG "must be greater than or equal to 0"
/* Kubernetes' ValidateImmutableField detail. */
#define WL_MSG_IMMUTABLE "field is immutable"
/* Detail when a template's labels do not satisfy the selector. */
#define WL_MSG_SELECTOR_MISMATCH "`selector` does not match template `labels`"

/* ---- Go %#v renderings (what Kubernetes prints for struct values) ---- */

/* Appends s as Go's %q would ("a\"b"). */
void wl_go_quote(struct buf *b, const char *s);

/* map[string]string{"a":"b", "c":"d"} (keys sorted), or
 * map[string]string(nil) for NULL. Non-string values are shown as JSON. */
void wl_go_string_map(struct buf *b, struct json_object *map);

/* v1.LabelSelector{MatchLabels:..., MatchExpressions:...} for a selector
 * object; "null" for NULL. */
void wl_go_label_selector(struct buf *b, struct json_object *sel);

/* intstr.IntOrString{Type:0, IntVal:5, StrVal:""} for a JSON integer or
 * string; the zero IntOrString for NULL. */
void wl_go_intstr(struct buf *b, struct json_object *v);

/*
 * Adds an error whose offending value is the pre-rendered text `repr`
 * (printed verbatim, not JSON-quoted). `detail` may be NULL.
 */
void wl_err_repr(struct ferr *e, enum ferr_type type, const char *field,
                 const char *repr, const char *detail);

/* Adds the project's type error for value v at field (validate_type_error:
 * `Invalid value: "<JSON type of v>": must be a <type>`); `type` is
 * "integer", "string", "object", ... */
void wl_err_type(struct ferr *e, const char *field, struct json_object *v,
                 const char *type);

/*
 * Adds an error of `type` whose whole message is `message` (for texts
 * ferr_add cannot build: values Kubernetes omits, "Too many: ...").
 */
void wl_err_text(struct ferr *e, enum ferr_type type, const char *field,
                 const char *message);

/* Adds FERR_INVALID with an integer value. */
void wl_err_int(struct ferr *e, const char *field, int64_t v,
                const char *detail);

/* ---- type-checked readers ---- */

/* o[key] if present and not JSON null (any type), else NULL. */
struct json_object *wl_get(struct json_object *o, const char *key);

/*
 * Reads integer o[key] into *out. Returns true if present and an integer;
 * false if absent/null, or (after adding a type error at `path`) if of
 * another type.
 */
bool wl_int(struct json_object *o, const char *key, const char *path,
            struct ferr *errs, int64_t *out);

/* Same for strings (NULL if absent, null or of another type). */
const char *wl_str(struct json_object *o, const char *key, const char *path,
                   struct ferr *errs);

/* Same for objects. */
struct json_object *wl_obj(struct json_object *o, const char *key,
                           const char *path, struct ferr *errs);

/* Same for arrays. */
struct json_object *wl_arr(struct json_object *o, const char *key,
                           const char *path, struct ferr *errs);

/* Same for booleans. Returns true if present and a boolean. */
bool wl_bool(struct json_object *o, const char *key, const char *path,
             struct ferr *errs, bool *out);

/* ValidateNonnegativeField on integer o[key] at `path`, if present. */
void wl_nonneg(struct json_object *o, const char *key, const char *path,
               struct ferr *errs);

/*
 * For defaults: o[key] if it is an object; a new empty object stored at
 * key if it is absent or null; NULL if o is not an object or o[key] has
 * another type (left for validation to report).
 */
struct json_object *wl_ensure_obj(struct json_object *o, const char *key);

/* ---- int-or-percent (intstr.IntOrString) ---- */

/* Kubernetes' IsValidPercent detail for a malformed percent string. */
#define WL_MSG_PERCENT                                                         \
    "a valid percent string must be a numeric string followed by an "          \
    "ending '%' (e.g. '1%',  or '93%', regex used for validation is "          \
    "'[0-9]+%')"

/* True if v is a JSON integer or string (a decodable IntOrString). */
bool wl_is_intstr(struct json_object *v);

/* getIntOrPercentValue: the percent for "25%", else IntValue(). */
int64_t wl_intstr_value(struct json_object *v);

/* True and *pct set if v is a well-formed percent string. */
bool wl_intstr_percent(struct json_object *v, int64_t *pct);

/*
 * o[key] if it is a JSON integer or string; NULL if absent or null, or
 * (after a type error at `path`) of another type.
 */
struct json_object *wl_intstr_field(struct json_object *o, const char *key,
                                    const char *path, struct ferr *errs);

/* ValidatePositiveIntOrPercent at `path` (v must satisfy wl_is_intstr). */
void wl_validate_int_or_percent(struct json_object *v, const char *path,
                                struct ferr *errs);

/* IsNotMoreThan100Percent at `path`. */
void wl_validate_not_over_100(struct json_object *v, const char *path,
                              struct ferr *errs);

/* ---- selectors and templates ---- */

/*
 * ValidateLabelSelector on `sel` (may be NULL: nothing to check) at `path`
 * ("spec.selector"): matchLabels keys/values, matchExpressions keys,
 * operators and values, with Kubernetes' texts; wrong JSON types are type
 * errors. Returns false if the selector could not be used at all (a type
 * error), true otherwise.
 */
bool wl_validate_selector(struct json_object *sel, const char *path,
                          struct ferr *errs);

/*
 * metav1.LabelSelectorAsSelector: compiles `sel` (NULL gives the
 * match-nothing selector). Returns NULL if the selector is malformed;
 * the caller frees the result with label_selector_free.
 */
struct label_selector *wl_selector_compile(struct json_object *sel);

/* True if `sel` is an object with no matchLabels and no matchExpressions
 * entries. */
bool wl_selector_is_empty(struct json_object *sel);

/*
 * Adds "<path>: Invalid value: map[string]string{...}: `selector` does
 * not match template `labels`" for the labels of template `tmpl`.
 */
void wl_err_selector_mismatch(struct ferr *errs, const char *path,
                              struct json_object *tmpl);

/*
 * Reports spec.template.spec.restartPolicy != Always (NotSupported) and a
 * set activeDeadlineSeconds (Forbidden, "activeDeadlineSeconds in <kind>
 * is not Supported") for a template at `path` ("spec.template").
 */
void wl_template_restart_always(struct json_object *tmpl, const char *path,
                                const char *kind, struct ferr *errs);

/*
 * Validates spec.template (a PodTemplateSpec) at `path` with
 * pod_template_validate; an absent template is validated as an empty one,
 * one of the wrong JSON type is a type error. Returns the template object
 * (NULL if absent or of the wrong type).
 */
struct json_object *wl_template_validate(struct json_object *spec,
                                         const char *path, struct ferr *errs);

/*
 * The selector and template checks shared by Deployment and ReplicaSet
 * (ValidateReplicaSetSpec / ValidateDeploymentSpec after replicas):
 * spec.selector required and valid, non-empty ("empty selector is invalid
 * for deployment", the text Kubernetes uses for both), template labels
 * matching it, the pod template valid, restartPolicy Always and no
 * activeDeadlineSeconds.
 */
void wl_validate_replica_template(struct json_object *spec, struct ferr *errs);

/* Applies pod_spec_defaults to spec.template.spec, creating template and
 * template.spec when absent (not when of the wrong type). */
void wl_template_defaults(struct json_object *spec);

/* Adds "<path>: Invalid value: <selector>: field is immutable" if the
 * selectors differ (JSON deep comparison). */
void wl_selector_immutable(struct json_object *sel, struct json_object *old,
                           const char *path, struct ferr *errs);

/*
 * Semantic deep equality of two JSON values as Kubernetes compares
 * decoded objects: absent, null and empty arrays are equal to each other
 * and an object member that is absent on one side equals a null or empty
 * array on the other. Either side may be NULL.
 */
bool wl_json_equal(struct json_object *a, struct json_object *b);

/* prepare_create of every workload: status becomes {}. */
void wl_reset_status(struct json_object *obj);

/* ---- table cells ---- */

/* Appends the CONTAINERS and IMAGES cells for template.spec.containers. */
void wl_cells_containers(struct json_object *tmpl, struct json_object *cells);

/*
 * Appends the text of a metav1.LabelSelector as Kubernetes prints it
 * (labels.Selector.String(): requirements sorted by key, "" for an empty
 * or absent selector) to out. Returns 0, or -1 (out unchanged) if the
 * selector is malformed.
 */
int wl_selector_text(struct json_object *sel, struct buf *out);

/* metav1.FormatLabelSelector: the text above, "<none>" when empty and
 * "<error>" when malformed, as a string cell. */
void wl_cell_selector(struct json_object *sel, struct json_object *cells);

/* Integer at dotted path, 0 when absent or not an integer. */
int64_t wl_int_path(struct json_object *obj, const char *path);

/* Appends an integer cell for obj at dotted `path` (0 when absent). */
void wl_cell_int_path(struct json_object *obj, const char *path,
                      struct json_object *cells);

/* Appends the AGE cell of obj. */
void wl_cell_age(struct json_object *obj, struct json_object *cells,
                 time_t now);

/* Appends the NAME cell (metadata.name, "" when absent). */
void wl_cell_name(struct json_object *obj, struct json_object *cells);

#endif
