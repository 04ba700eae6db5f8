/*
 * Deployments (apps/v1): defaults from apps/v1 SetDefaults_Deployment,
 * validation and selector immutability with Kubernetes 1.32's texts, and
 * the printer columns of `kubectl get deployments`.
 */
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "resources/resource.h"
#include "resources/workload.h"

#include <stdio.h>
#include <string.h>

static const struct table_column deploy_columns[] = {
    {"Name", "string", "name", WL_DESC_NAME, 0},
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
     "Total number of non-terminated pods targeted by this deployment that "
     "have the desired template spec.",
     0},
    {"Available", "string", "",
     "Total number of available pods (ready for at least minReadySeconds) "
     "targeted by this deployment.",
     0},
    {"Age", "string", "", WL_DESC_AGE, 0},
    {"Containers", "string", "", WL_DESC_CONTAINERS, 1},
    {"Images", "string", "", WL_DESC_IMAGES, 1},
    {"Selector", "string", "",
     "Label selector for pods. Existing ReplicaSets whose pods are selected "
     "by this will be the ones affected by this deployment.",
     1},
};

/* printDeployment: READY is ready/desired, SELECTOR is the selector's
 * String() ("" when empty, "<invalid>" when malformed). */
static void deploy_cells(struct json_object *obj, struct json_object *cells,
                         time_t now)
{
    struct json_object *spec = ju_obj(obj, "spec");
    char ready[64];
    struct buf sel;

    wl_cell_name(obj, cells);
    snprintf(ready, sizeof(ready), "%lld/%lld",
             (long long)wl_int_path(obj, "status.readyReplicas"),
             (long long)wl_int_path(obj, "spec.replicas"));
    print_cell_str(cells, ready);
    wl_cell_int_path(obj, "status.updatedReplicas", cells);
    wl_cell_int_path(obj, "status.availableReplicas", cells);
    wl_cell_age(obj, cells, now);
    wl_cells_containers(ju_obj(spec, "template"), cells);
    buf_init(&sel, 0);
    if (wl_selector_text(wl_get(spec, "selector"), &sel) != 0)
        print_cell_str(cells, "<invalid>");
    else
        print_cell_str(cells, sel.data ? sel.data : "");
    buf_free(&sel);
}

/* SetDefaults_Deployment plus the pod template's defaults. */
static void deploy_defaults(struct json_object *obj)
{
    struct json_object *spec = wl_ensure_obj(obj, "spec");
    struct json_object *strategy;
    const char *type;

    if (!spec)
        return;
    ju_default_int(spec, "replicas", 1);
    strategy = wl_ensure_obj(spec, "strategy");
    if (strategy) {
        type = ju_str(strategy, "type");
        if (!wl_get(strategy, "type") || (type && !type[0]))
            ju_set_str(strategy, "type", "RollingUpdate");
        type = ju_str(strategy, "type");
        if (type && !strcmp(type, "RollingUpdate")) {
            struct json_object *ru = wl_ensure_obj(strategy, "rollingUpdate");
            ju_default_str(ru, "maxUnavailable", "25%");
            ju_default_str(ru, "maxSurge", "25%");
        }
    }
    ju_default_int(spec, "revisionHistoryLimit", 10);
    ju_default_int(spec, "progressDeadlineSeconds", 600);
    wl_template_defaults(spec);
}

/* ValidateRollingUpdateDeployment. */
static void validate_rolling_update(struct json_object *ru, struct ferr *errs)
{
    const char *pmu = "spec.strategy.rollingUpdate.maxUnavailable";
    const char *pms = "spec.strategy.rollingUpdate.maxSurge";
    struct json_object *mu = wl_intstr_field(ru, "maxUnavailable", pmu, errs);
    struct json_object *ms = wl_intstr_field(ru, "maxSurge", pms, errs);

    wl_validate_int_or_percent(mu, pmu, errs);
    wl_validate_int_or_percent(ms, pms, errs);
    if (wl_intstr_value(mu) == 0 && wl_intstr_value(ms) == 0) {
        struct buf b;
        buf_init(&b, 0);
        wl_go_intstr(&b, mu);
        wl_err_repr(errs, FERR_INVALID, pmu, b.data,
                    "may not be 0 when `maxSurge` is 0");
        buf_free(&b);
    }
    wl_validate_not_over_100(mu, pmu, errs);
}

/* ValidateDeploymentStrategy. */
static void validate_strategy(struct json_object *spec, struct ferr *errs)
{
    struct json_object *st = wl_obj(spec, "strategy", "spec.strategy", errs);
    struct json_object *ru;
    const char *type;

    if (!st && wl_get(spec, "strategy"))
        return;
    type = wl_str(st, "type", "spec.strategy.type", errs);
    ru = wl_obj(st, "rollingUpdate", "spec.strategy.rollingUpdate", errs);
    if (type && !strcmp(type, "Recreate")) {
        if (wl_get(st, "rollingUpdate"))
            ferr_forbidden(errs, "spec.strategy.rollingUpdate",
                           "may not be specified when strategy `type` is "
                           "'Recreate'");
    } else if (type && !strcmp(type, "RollingUpdate")) {
        if (!ru)
            ferr_add(errs, FERR_REQUIRED, "spec.strategy.rollingUpdate", NULL,
                     "this should be defaulted and never be nil");
        else
            validate_rolling_update(ru, errs);
    } else if (type || !wl_get(st, "type")) {
        struct buf b;
        buf_init(&b, 0);
        buf_puts(&b, "apps.DeploymentStrategy{Type:");
        wl_go_quote(&b, type ? type : "");
        buf_puts(&b, wl_get(st, "rollingUpdate")
                         ? ", RollingUpdate:(*apps.RollingUpdateDeployment)"
                           "(0xc000010000)}"
                         : ", RollingUpdate:(*apps.RollingUpdateDeployment)"
                           "(nil)}");
        wl_err_repr(errs, FERR_NOT_SUPPORTED, "spec.strategy", b.data,
                    "supported values: \"Recreate\", \"RollingUpdate\"");
        buf_free(&b);
    }
}

/* ValidateDeploymentSpec, plus selector immutability on update (the
 * apps/v1 strategy's ValidateUpdate). */
static void deploy_validate(struct json_object *obj, struct json_object *old,
                            struct ferr *errs)
{
    struct json_object *spec = wl_obj(obj, "spec", "spec", errs);
    int64_t pds, mrs = 0;

    if (!spec && wl_get(obj, "spec"))
        return;
    wl_nonneg(spec, "replicas", "spec.replicas", errs);
    wl_validate_replica_template(spec, errs);
    validate_strategy(spec, errs);
    wl_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", errs);
    wl_nonneg(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs);
    if (wl_int(spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds",
               errs, &pds)) {
        if (pds < 0)
            wl_err_int(errs, "spec.progressDeadlineSeconds", pds,
                       WL_MSG_NONNEG);
        ju_int(spec, "minReadySeconds", &mrs);
        if (pds <= mrs)
            wl_err_int(errs, "spec.progressDeadlineSeconds", pds,
                       "must be greater than minReadySeconds");
    }
    if (old)
        wl_selector_immutable(wl_get(spec, "selector"),
                              wl_get(ju_obj(old, "spec"), "selector"),
                              "spec.selector", errs);
}

const struct resource_type rt_deployments = {
    .group = "apps",
    .version = "v1",
    .resource = "deployments",
    .singular = "deployment",
    .kind = "Deployment",
    .namespaced = true,
    .short_names = {"deploy", NULL},
    .in_all = true,
    .name_rule = NAME_SUBDOMAIN,
    .has_generation = true,
    .has_status = true,
    .has_scale = true,
    .has_binding = false,
    .field_selectors = NULL,
    .columns = deploy_columns,
    .ncolumns = (int)(sizeof(deploy_columns) / sizeof(deploy_columns[0])),
    .table_cells = deploy_cells,
    .prepare_create = wl_reset_status,
    .defaults = deploy_defaults,
    .validate = deploy_validate,
};
