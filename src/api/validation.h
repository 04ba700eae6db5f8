/*
 * Name, label and metadata validation with Kubernetes' rules and error
 * texts, shared by the generic REST code and the kind-specific validators.
 */
#ifndef KEDGE_API_VALIDATION_H
#define KEDGE_API_VALIDATION_H

#include "api/ferr.h"
#include "resources/resource.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Each returns NULL when valid, else Kubernetes' detail text (static). */
const char *validate_dns1123_label(const char *s);
const char *validate_dns1123_subdomain(const char *s);
const char *validate_dns1035_label(const char *s);
const char *validate_qualified_name(const char *s);  /* label keys */
const char *validate_label_value(const char *s);

/* Validates a labels map at `field` ("metadata.labels"). */
void validate_labels(struct json_object *labels, const char *field,
                     struct ferr *errs);
/* Validates an annotations map at `field` (keys, total size <= 256 KiB). */
void validate_annotations(struct json_object *annotations, const char *field,
                          struct ferr *errs);

/*
 * Validates an object's metadata for its type: name (or generateName on
 * create) by rt->name_rule, namespace present iff rt->namespaced, labels,
 * annotations, and types of the fields it knows (a label value that is
 * not a string is an error naming the field).
 */
void validate_object_meta(struct json_object *obj,
                          const struct resource_type *rt, struct ferr *errs);

/* ---- Helpers shared by the kind-specific validators ---- */

/* Longest field path the validators build; longer paths are truncated. */
#define VALIDATE_PATH_MAX 512
/* Arrays longer than this are reported ("Too many") and not walked
 * further, so duplicate checks stay cheap on hostile input. */
#define VALIDATE_MAX_ITEMS 1000

/*
 * All of Kubernetes' detail texts for `s` (up to `max`, static strings)
 * under a name rule; `prefix` checks a generateName prefix the way
 * Kubernetes does. Returns how many were stored (0 = valid).
 */
int validate_name_msgs(enum name_rule rule, const char *s, bool prefix,
                       const char **msgs, int max);

/* ConfigMap/Secret data key ("[-._a-zA-Z0-9]+"), IANA port name, and
 * 1..65535 port number; NULL when valid, else the first detail text. */
const char *validate_config_key(const char *s);
const char *validate_port_name(const char *s);

/* Add one "Invalid value" error per detail text for `value` at `field`. */
void validate_field_dns1123_label(struct ferr *errs, const char *field,
                                  const char *value);
void validate_field_dns1123_subdomain(struct ferr *errs, const char *field,
                                      const char *value);
void validate_field_qualified_name(struct ferr *errs, const char *field,
                                   const char *value);
void validate_field_config_key(struct ferr *errs, const char *field,
                               const char *value);
void validate_field_port_name(struct ferr *errs, const char *field,
                              const char *value);
/* "must be between 1 and 65535, inclusive" unless 1 <= port <= 65535. */
void validate_field_port_num(struct ferr *errs, const char *field,
                             int64_t port);
/* IP address check with Kubernetes' text; true when valid. */
bool validate_field_ip(struct ferr *errs, const char *field,
                       const char *value);

/* JSON type name as schema errors say it: "string", "integer", "number",
 * "boolean", "object", "array" or "null" (static). */
const char *validate_json_type(struct json_object *v);

/* Adds `<field>: Invalid value: "<type of got>": must be <want>`, e.g.
 * want "an array"; the reason is FieldValueTypeInvalid. */
void validate_type_error(struct ferr *errs, const char *field,
                         struct json_object *got, const char *want);

/*
 * Optional typed members of an object at `path`: each returns the value
 * when o[key] is present with the right type; when present with another
 * type it adds a type error naming "<path>.<key>" and returns NULL/false.
 * Absent or null: NULL/false and no error.
 */
const char *validate_opt_str(struct json_object *o, const char *key,
                             const char *path, struct ferr *errs);
struct json_object *validate_opt_obj(struct json_object *o, const char *key,
                                     const char *path, struct ferr *errs);
struct json_object *validate_opt_arr(struct json_object *o, const char *key,
                                     const char *path, struct ferr *errs);
bool validate_opt_int(struct json_object *o, const char *key,
                      const char *path, struct ferr *errs, int64_t *out);
bool validate_opt_bool(struct json_object *o, const char *key,
                       const char *path, struct ferr *errs, bool *out);

/*
 * Validates a map of string values (labels-like) at `field`: it must be
 * an object whose values are strings; reports type errors and returns
 * false when it is not usable.
 */
bool validate_string_map(struct json_object *m, const char *field,
                         struct ferr *errs);

/* Reports "Too many: <n>: must have at most VALIDATE_MAX_ITEMS items"
 * and returns false when an array is too long to walk. */
bool validate_array_len(struct json_object *arr, const char *field,
                        struct ferr *errs);

/*
 * Adds an error whose message text (after the field) is given whole, for
 * the Kubernetes forms ferr has no type for ("Not found: ...", values in
 * Go syntax); `type` still decides the cause reason.
 */
void validate_add_raw(struct ferr *errs, enum ferr_type type,
                      const char *field, const char *message);
/* `<field>: Not found: "<value>"`. */
void validate_not_found(struct ferr *errs, const char *field,
                        const char *value);

/* Builds "<base>.<child>", "<base>[<i>]" and "<base>[<key>]" into buf
 * (truncating at len); returns buf. */
char *vpath_child(char *buf, size_t len, const char *base, const char *child);
char *vpath_index(char *buf, size_t len, const char *base, size_t i);
char *vpath_key(char *buf, size_t len, const char *base, const char *key);

/* Shorthands with typed values: Invalid (string / integer value),
 * NotSupported (`supported` is the already quoted, comma-separated list),
 * Duplicate (string value). */
void validate_invalid_str(struct ferr *errs, const char *field,
                          const char *value, const char *detail);
void validate_invalid_int(struct ferr *errs, const char *field,
                          int64_t value, const char *detail);
void validate_not_supported(struct ferr *errs, const char *field,
                            const char *value, const char *supported);
void validate_duplicate_str(struct ferr *errs, const char *field,
                            const char *value);

/* ValidateImmutableField: `<field>: Invalid value: <new>: field is
 * immutable` unless the two JSON values are equal (NULL = absent). */
void validate_immutable(struct ferr *errs, const char *field,
                        struct json_object *newv, struct json_object *oldv);

#endif
