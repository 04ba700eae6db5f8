/*
 * ReplicaSets (apps/v1): defaults (replicas 1 and the pod template's),
 * validation and selector immutability with Kubernetes 1.32's texts, and
 * the printer columns of `kubectl get replicasets`.
 */
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "resources/resource.h"
#include "resources/workload.h"

static const struct table_column rs_columns[] = {
    {"Name", "string", "name", WL_DESC_NAME, 0},
    {"Desired", "integer", "",
     "Replicas is the number of desired pods. This is a pointer to "
     "distinguish between explicit zero and unspecified. Defaults to 1. "
     "More info: https://kubernetes.io/docs/concepts/workloads/controllers/"
     "replicationcontroller/#what-is-a-replicationcontroller",
     0},
    {"Current", "integer", "",
     "Replicas is the most recently observed number of replicas. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/"
     "replicationcontroller/#what-is-a-replicationcontroller",
     0},
    {"Ready", "integer", "",
     "readyReplicas is the number of pods targeted by this ReplicaSet with a "
     "Ready Condition.",
     0},
    {"Age", "string", "", WL_DESC_AGE, 0},
    {"Containers", "string", "", WL_DESC_CONTAINERS, 1},
    {"Images", "string", "", WL_DESC_IMAGES, 1},
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the replica "
     "count. Label keys and values that must match in order to be "
     "controlled by this replica set. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
     "labels/#label-selectors",
     1},
};

/* printReplicaSet. */
static void rs_cells(struct json_object *obj, struct json_object *cells,
                     time_t now)
{
    struct json_object *spec = ju_obj(obj, "spec");

    wl_cell_name(obj, cells);
    wl_cell_int_path(obj, "spec.replicas", cells);
    wl_cell_int_path(obj, "status.replicas", cells);
    wl_cell_int_path(obj, "status.readyReplicas", cells);
    wl_cell_age(obj, cells, now);
    wl_cells_containers(ju_obj(spec, "template"), cells);
    wl_cell_selector(wl_get(spec, "selector"), cells);
}

/* SetDefaults_ReplicaSet plus the pod template's defaults. */
static void rs_defaults(struct json_object *obj)
{
    struct json_object *spec = wl_ensure_obj(obj, "spec");
    if (!spec)
        return;
    ju_default_int(spec, "replicas", 1);
    wl_template_defaults(spec);
}

/* ValidateReplicaSetSpec, plus selector immutability on update. */
static void rs_validate(struct json_object *obj, struct json_object *old,
                        struct ferr *errs)
{
    struct json_object *spec = wl_obj(obj, "spec", "spec", errs);

    if (!spec && wl_get(obj, "spec"))
        return;
    wl_nonneg(spec, "replicas", "spec.replicas", errs);
    wl_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", errs);
    wl_validate_replica_template(spec, errs);
    if (old)
        wl_selector_immutable(wl_get(spec, "selector"),
                              wl_get(ju_obj(old, "spec"), "selector"),
                              "spec.selector", errs);
}

static const char *const rs_field_selectors[] = {"status.replicas", NULL};

/* Clears status; ReplicaSetStatus.replicas is always serialised. */
static void rs_prepare_create(struct json_object *obj)
{
    wl_reset_status(obj);
    ju_set_int(ju_obj(obj, "status"), "replicas", 0);
}

const struct resource_type rt_replicasets = {
    .group = "apps",
    .version = "v1",
    .resource = "replicasets",
    .singular = "replicaset",
    .kind = "ReplicaSet",
    .namespaced = true,
    .short_names = {"rs", NULL},
    .in_all = true,
    .name_rule = NAME_SUBDOMAIN,
    .has_generation = true,
    .has_status = true,
    .has_scale = true,
    .has_binding = false,
    .field_selectors = rs_field_selectors,
    .columns = rs_columns,
    .ncolumns = (int)(sizeof(rs_columns) / sizeof(rs_columns[0])),
    .table_cells = rs_cells,
    .prepare_create = rs_prepare_create,
    .defaults = rs_defaults,
    .validate = rs_validate,
};
