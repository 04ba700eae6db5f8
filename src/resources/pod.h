/*
 * Pod spec defaults and validation, shared by pods and by every workload
 * kind that embeds a pod template (deployments, replicasets, daemonsets,
 * statefulsets, jobs).
 */
#ifndef KEDGE_RESOURCES_POD_H
#define KEDGE_RESOURCES_POD_H

#include "api/ferr.h"

#include <json-c/json.h>

/* Fills Kubernetes' defaults into a PodSpec object in place. */
void pod_spec_defaults(struct json_object *spec);

/*
 * Validates a PodSpec; `path` is its field path ("spec" for pods,
 * "spec.template.spec" for templates) and prefixes every error.
 */
void pod_spec_validate(struct json_object *spec, const char *path,
                       struct ferr *errs);

/*
 * Validates a PodTemplateSpec at `path` ("spec.template"): its metadata
 * labels/annotations and its spec.
 */
void pod_template_validate(struct json_object *tmpl, const char *path,
                           struct ferr *errs);

/*
 * QoS class of a PodSpec as Kubernetes computes it at create time:
 * "BestEffort", "Burstable" or "Guaranteed" (static). A container's
 * limits count as its requests where requests are not given.
 */
const char *pod_qos_class(struct json_object *spec);

/*
 * Parses a resource quantity (JSON string such as "100m", "1Gi", "2e3",
 * or a JSON number) into units of 10^-9, rounding up and saturating at
 * +-10^36. Returns 0, or -1 when it is not a valid quantity.
 */
int pod_quantity_nanos(struct json_object *q, __int128 *out);

#endif
