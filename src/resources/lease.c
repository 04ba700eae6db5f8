/*
 * Leases (coordination.k8s.io/v1): node heartbeats and leader election.
 * Validation with Kubernetes 1.32's texts and the printer columns of
 * `kubectl get leases` (NAME HOLDER AGE).
 */
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "resources/resource.h"
#include "resources/workload.h"

static const struct table_column lease_columns[] = {
    {"Name", "string", "name", WL_DESC_NAME, 0},
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current "
     "lease. If Coordinated Leader Election is used, the holder identity "
     "must be equal to the elected LeaseCandidate.metadata.name field.",
     0},
    {"Age", "string", "", WL_DESC_AGE, 0},
};

/* printLease. */
static void lease_cells(struct json_object *obj, struct json_object *cells,
                        time_t now)
{
    const char *holder = ju_str(ju_obj(obj, "spec"), "holderIdentity");
    wl_cell_name(obj, cells);
    print_cell_str(cells, holder ? holder : "");
    wl_cell_age(obj, cells, now);
}

/*
 * spec.strategy and spec.preferredHolder belong to the alpha
 * CoordinatedLeaderElection feature, off in 1.32: the server drops them.
 */
static void lease_defaults(struct json_object *obj)
{
    struct json_object *spec = ju_obj(obj, "spec");
    if (!spec)
        return;
    json_object_object_del(spec, "strategy");
    json_object_object_del(spec, "preferredHolder");
}

/* ValidateLeaseSpec, plus type checks of the fields a Lease carries. */
static void lease_validate(struct json_object *obj, struct json_object *old,
                           struct ferr *errs)
{
    struct json_object *spec = wl_obj(obj, "spec", "spec", errs);
    int64_t v;

    (void)old;
    if (!spec)
        return;
    wl_str(spec, "holderIdentity", "spec.holderIdentity", errs);
    wl_str(spec, "acquireTime", "spec.acquireTime", errs);
    wl_str(spec, "renewTime", "spec.renewTime", errs);
    if (wl_int(spec, "leaseDurationSeconds", "spec.leaseDurationSeconds", errs,
               &v) &&
        v <= 0)
        wl_err_int(errs, "spec.leaseDurationSeconds", v,
                   "must be greater than 0");
    if (wl_int(spec, "leaseTransitions", "spec.leaseTransitions", errs, &v) &&
        v < 0)
        wl_err_int(errs, "spec.leaseTransitions", v, WL_MSG_NONNEG);
}

const struct resource_type rt_leases = {
    .group = "coordination.k8s.io",
    .version = "v1",
    .resource = "leases",
    .singular = "lease",
    .kind = "Lease",
    .namespaced = true,
    .short_names = {NULL},
    .in_all = false,
    .name_rule = NAME_SUBDOMAIN,
    .has_generation = false,
    .has_status = false,
    .has_scale = false,
    .has_binding = false,
    .field_selectors = NULL,
    .columns = lease_columns,
    .ncolumns = (int)(sizeof(lease_columns) / sizeof(lease_columns[0])),
    .table_cells = lease_cells,
    .prepare_create = NULL,
    .defaults = lease_defaults,
    .validate = lease_validate,
};
