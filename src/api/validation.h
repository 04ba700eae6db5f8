/*
 * Name, label and metadata validation with Kubernetes' rules and error
 * texts, shared by the generic REST code and the kind-specific validators.
 */
#ifndef KEDGE_API_VALIDATION_H
#define KEDGE_API_VALIDATION_H

#include "api/ferr.h"
#include "resources/resource.h"

#include <json-c/json.h>

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

#endif
