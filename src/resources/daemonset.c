/*
 * DaemonSets (apps/v1): defaults from apps/v1 SetDefaults_DaemonSet,
 * validation and selector immutability with Kubernetes 1.32's texts, and
 * the printer columns of `kubectl get daemonsets`.
 */
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "resources/resource.h"
#include "resources/workload.h"

#include <stdlib.h>
#include <string.h>

/* Annotation apps/v1 carries the internal spec.templateGeneration in. */
#define DS_TEMPLATE_GENERATION "deprecated.daemonset.template.generation"

static const struct table_column ds_columns[] = {
    {"Name", "string", "name", WL_DESC_NAME, 0},
    {"Desired", "integer", "",
     "The total number of nodes that should be running the daemon pod "
     "(including nodes correctly running the daemon pod). More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
     0},
    {"Current", "integer", "",
     "The number of nodes that are running at least 1 daemon pod and are "
     "supposed to run the daemon pod. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
     0},
    {"Ready", "integer", "",
     "The number of nodes that should be running the daemon pod and have one "
     "or more of the daemon pod running and ready.",
     0},
    {"Up-to-date", "integer", "",
     "The total number of nodes that are running updated daemon pod", 0},
    {"Available", "integer", "",
     "The number of nodes that should be running the daemon pod and have one "
     "or more of the daemon pod running and available (ready for at least "
     "spec.minReadySeconds)",
     0},
    {"Node Selector", "string", "",
     "NodeSelector is a selector which must be true for the pod to fit on a "
     "node. Selector which must match a node's labels for the pod to be "
     "scheduled on that node. More info: "
     "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
     0},
    {"Age", "string", "", WL_DESC_AGE, 0},
    {"Containers", "string", "", WL_DESC_CONTAINERS, 1},
    {"Images", "string", "", WL_DESC_IMAGES, 1},
    {"Selector", "string", "",
     "A label query over pods that are managed by the daemon set. Must match "
     "in order to be controlled. It must match the pod template's labels. "
     "More info: https://kubernetes.io/docs/concepts/overview/"
     "working-with-objects/labels/#label-selectors",
     1},
};

/* printDaemonSet. */
static void ds_cells(struct json_object *obj, struct json_object *cells,
                     time_t now)
{
    struct json_object *spec = ju_obj(obj, "spec");
    struct json_object *tmpl = ju_obj(spec, "template");
    char *ns;

    wl_cell_name(obj, cells);
    wl_cell_int_path(obj, "status.desiredNumberScheduled", cells);
    wl_cell_int_path(obj, "status.currentNumberScheduled", cells);
    wl_cell_int_path(obj, "status.numberReady", cells);
    wl_cell_int_path(obj, "status.updatedNumberScheduled", cells);
    wl_cell_int_path(obj, "status.numberAvailable", cells);
    ns = print_labels(ju_obj(ju_obj(tmpl, "spec"), "nodeSelector"));
    print_cell_str(cells, ns ? ns : "<none>");
    free(ns);
    wl_cell_age(obj, cells, now);
    wl_cells_containers(tmpl, cells);
    wl_cell_selector(wl_get(spec, "selector"), cells);
}

/* Clears status; the internal templateGeneration starts at 1. */
static void ds_prepare_create(struct json_object *obj)
{
    struct json_object *ann;

    wl_reset_status(obj);
    /* DaemonSetStatus fields Kubernetes always serialises. */
    struct json_object *st = ju_obj(obj, "status");
    ju_set_int(st, "currentNumberScheduled", 0);
    ju_set_int(st, "numberMisscheduled", 0);
    ju_set_int(st, "desiredNumberScheduled", 0);
    ju_set_int(st, "numberReady", 0);
    ann = wl_ensure_obj(wl_ensure_obj(obj, "metadata"), "annotations");
    ju_set_str(ann, DS_TEMPLATE_GENERATION, "1");
}

/* SetDefaults_DaemonSet plus the pod template's defaults. */
static void ds_defaults(struct json_object *obj)
{
    struct json_object *spec = wl_ensure_obj(obj, "spec");
    struct json_object *us;
    const char *type;

    if (!spec)
        return;
    us = wl_ensure_obj(spec, "updateStrategy");
    if (us) {
        type = ju_str(us, "type");
        if (!wl_get(us, "type") || (type && !type[0]))
            ju_set_str(us, "type", "RollingUpdate");
        type = ju_str(us, "type");
        if (type && !strcmp(type, "RollingUpdate")) {
            struct json_object *ru = wl_ensure_obj(us, "rollingUpdate");
            ju_default_int(ru, "maxUnavailable", 1);
            ju_default_int(ru, "maxSurge", 0);
        }
    }
    ju_default_int(spec, "revisionHistoryLimit", 10);
    wl_template_defaults(spec);
}

/* ValidateRollingUpdateDaemonSet. */
static void validate_rolling_update(struct json_object *ru, struct ferr *errs)
{
    const char *pmu = "spec.updateStrategy.rollingUpdate.maxUnavailable";
    const char *pms = "spec.updateStrategy.rollingUpdate.maxSurge";
    struct json_object *mu = wl_intstr_field(ru, "maxUnavailable", pmu, errs);
    struct json_object *ms = wl_intstr_field(ru, "maxSurge", pms, errs);
    bool has_unavailable, has_surge;

    wl_validate_int_or_percent(mu, pmu, errs);
    wl_validate_int_or_percent(ms, pms, errs);
    wl_validate_not_over_100(mu, pmu, errs);
    wl_validate_not_over_100(ms, pms, errs);
    has_unavailable = wl_intstr_value(mu) != 0;
    has_surge = wl_intstr_value(ms) != 0;
    if (has_unavailable && has_surge) {
        struct buf b;
        buf_init(&b, 0);
        wl_go_intstr(&b, ms);
        wl_err_repr(errs, FERR_INVALID, pms, b.data,
                    "may not be set when maxUnavailable is non-zero");
        buf_free(&b);
    } else if (!has_unavailable && !has_surge) {
        ferr_add(errs, FERR_REQUIRED, pmu, NULL,
                 "cannot be 0 when maxSurge is 0");
    }
}

/* ValidateDaemonSetUpdateStrategy. */
static void validate_update_strategy(struct json_object *spec,
                                     struct ferr *errs)
{
    struct json_object *us =
        wl_obj(spec, "updateStrategy", "spec.updateStrategy", errs);
    struct json_object *ru;
    const char *type;

    if (!us && wl_get(spec, "updateStrategy"))
        return;
    type = wl_str(us, "type", "spec.updateStrategy.type", errs);
    if (!type && wl_get(us, "type"))
        return;
    if (type && !strcmp(type, "OnDelete"))
        return;
    if (type && !strcmp(type, "RollingUpdate")) {
        ru = wl_obj(us, "rollingUpdate", "spec.updateStrategy.rollingUpdate",
                    errs);
        if (!ru && !wl_get(us, "rollingUpdate"))
            ferr_required(errs, "spec.updateStrategy.rollingUpdate");
        else if (ru)
            validate_rolling_update(ru, errs);
        return;
    }
    {
        struct buf b;
        buf_init(&b, 0);
        buf_puts(&b, "apps.DaemonSetUpdateStrategy{Type:");
        wl_go_quote(&b, type ? type : "");
        buf_puts(&b, wl_get(us, "rollingUpdate")
                         ? ", RollingUpdate:(*apps.RollingUpdateDaemonSet)"
                           "(0xc000010000)}"
                         : ", RollingUpdate:(*apps.RollingUpdateDaemonSet)"
                           "(nil)}");
        wl_err_repr(errs, FERR_NOT_SUPPORTED, "spec.updateStrategy", b.data,
                    "supported values: \"RollingUpdate\", \"OnDelete\"");
        buf_free(&b);
    }
}

/* ValidateDaemonSetSpec, plus selector immutability on update. */
static void ds_validate(struct json_object *obj, struct json_object *old,
                        struct ferr *errs)
{
    struct json_object *spec = wl_obj(obj, "spec", "spec", errs);
    struct json_object *sel, *tmpl;
    bool usable;

    if (!spec && wl_get(obj, "spec"))
        return;
    sel = wl_get(spec, "selector");
    tmpl = ju_obj(spec, "template");
    usable = wl_validate_selector(sel, "spec.selector", errs);
    if (usable) {
        /* No emptiness check here: an absent selector selects nothing and
         * so never matches, {} matches everything. */
        struct label_selector *ls = wl_selector_compile(sel);
        if (ls && !label_selector_matches(
                      ls, wl_get(ju_obj(tmpl, "metadata"), "labels")))
            wl_err_selector_mismatch(errs, "spec.template.metadata.labels",
                                     tmpl);
        label_selector_free(ls);
        if (sel && wl_selector_is_empty(sel)) {
            struct buf b;
            buf_init(&b, 0);
            wl_go_label_selector(&b, sel);
            wl_err_repr(errs, FERR_INVALID, "spec.selector", b.data,
                        "empty selector is invalid for daemonset");
            buf_free(&b);
        }
    }
    if (wl_template_validate(spec, "spec.template", errs) ||
        !wl_get(spec, "template"))
        wl_template_restart_always(tmpl, "spec.template", "DaemonSet", errs);
    wl_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", errs);
    validate_update_strategy(spec, errs);
    wl_nonneg(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", errs);
    if (old)
        wl_selector_immutable(sel, wl_get(ju_obj(old, "spec"), "selector"),
                              "spec.selector", errs);
}

const struct resource_type rt_daemonsets = {
    .group = "apps",
    .version = "v1",
    .resource = "daemonsets",
    .singular = "daemonset",
    .kind = "DaemonSet",
    .namespaced = true,
    .short_names = {"ds", NULL},
    .in_all = true,
    .name_rule = NAME_SUBDOMAIN,
    .has_generation = true,
    .has_status = true,
    .has_scale = false,
    .has_binding = false,
    .field_selectors = NULL,
    .columns = ds_columns,
    .ncolumns = (int)(sizeof(ds_columns) / sizeof(ds_columns[0])),
    .table_cells = ds_cells,
    .prepare_create = ds_prepare_create,
    .defaults = ds_defaults,
    .validate = ds_validate,
};
