/*
 * Matching pods' node constraints, shared by the scheduler and the
 * DaemonSet controller: node selector requirements and tolerations.
 */
#ifndef KEDGE_CONTROLLERS_NODEMATCH_H
#define KEDGE_CONTROLLERS_NODEMATCH_H

#include <json-c/json.h>
#include <stdbool.h>

/*
 * One NodeSelectorRequirement (key, operator In|NotIn|Exists|DoesNotExist|
 * Gt|Lt, values) against a node's labels, or, when name is not NULL,
 * against its metadata.name (matchFields).
 */
bool nodematch_expr(struct json_object *labels, const char *name,
                    struct json_object *expr);
/* Whether the tolerations (a pod's spec.tolerations) tolerate the taint
 * key=value:effect. */
bool nodematch_tolerates(struct json_object *tols, const char *key,
                         const char *value, const char *effect);

#endif
