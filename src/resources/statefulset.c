/*
 * StatefulSets (apps/v1): defaults from apps/v1 SetDefaults_StatefulSet,
 * validation (including which spec fields an update may change) with
 * Kubernetes 1.32's texts, and the printer columns of
 * `kubectl get statefulsets`.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "resources/resource.h"
#include "resources/workload.h"

#include <stdio.h>
#include <string.h>

static const struct table_column sts_columns[] = {
    {"Name", "string", "name", WL_DESC_NAME, 0},
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Age", "string", "", WL_DESC_AGE, 0},
    {"Containers", "string", "", WL_DESC_CONTAINERS, 1},
    {"Images", "string", "", WL_DESC_IMAGES, 1},
};

/* printStatefulSet: READY is ready/desired. */
static void sts_cells(struct json_object *obj, struct json_object *cells,
                      time_t now)
{
    char ready[64];

    wl_cell_name(obj, cells);
    snprintf(ready, sizeof(ready), "%lld/%lld",
             (long long)wl_int_path(obj, "status.readyReplicas"),
             (long long)wl_int_path(obj, "spec.replicas"));
    print_cell_str(cells, ready);
    wl_cell_age(obj, cells, now);
    wl_cells_containers(ju_obj(ju_obj(obj, "spec"), "template"), cells);
}

/* Sets o[key] = v when it is absent, null or "" (Go's len(x) == 0). */
static void default_nonempty_str(struct json_object *o, const char *key,
                                 const char *v)
{
    const char *cur = ju_str(o, key);
    if (!wl_get(o, key) || (cur && !cur[0]))
        ju_set_str(o, key, v);
}

/* SetDefaults_StatefulSet (MaxUnavailableStatefulSet off,
 * StatefulSetAutoDeletePVC on, as in 1.32) plus the template's defaults. */
static void sts_defaults(struct json_object *obj)
{
    struct json_object *spec = wl_ensure_obj(obj, "spec");
    struct json_object *us, *pvc;
    const char *type;

    if (!spec)
        return;
    default_nonempty_str(spec, "podManagementPolicy", "OrderedReady");
    us = wl_ensure_obj(spec, "updateStrategy");
    if (us) {
        type = ju_str(us, "type");
        if (!wl_get(us, "type") || (type && !type[0])) {
            ju_set_str(us, "type", "RollingUpdate");
            wl_ensure_obj(us, "rollingUpdate");
        }
        type = ju_str(us, "type");
        if (type && !strcmp(type, "RollingUpdate"))
            ju_default_int(ju_obj(us, "rollingUpdate"), "partition", 0);
    }
    pvc = wl_ensure_obj(spec, "persistentVolumeClaimRetentionPolicy");
    if (pvc) {
        default_nonempty_str(pvc, "whenDeleted", "Retain");
        default_nonempty_str(pvc, "whenScaled", "Retain");
    }
    ju_default_int(spec, "replicas", 1);
    ju_default_int(spec, "revisionHistoryLimit", 10);
    wl_template_defaults(spec);
}

/* Clears status and drops maxUnavailable (feature gate off in 1.32). */
static void sts_prepare_create(struct json_object *obj)
{
    struct json_object *ru = ju_path(obj, "spec.updateStrategy.rollingUpdate");
    wl_reset_status(obj);
    /* StatefulSetStatus fields Kubernetes always serialises. */
    ju_set_int(ju_obj(obj, "status"), "replicas", 0);
    ju_set_int(ju_obj(obj, "status"), "availableReplicas", 0);
    if (ru && json_object_is_type(ru, json_type_object))
        json_object_object_del(ru, "maxUnavailable");
}

/* Go rendering of a RollingUpdateStatefulSetStrategy object. */
static void go_rolling_update(struct buf *b, struct json_object *ru)
{
    int64_t partition = 0;
    ju_int(ru, "partition", &partition);
    buf_printf(b,
               "apps.RollingUpdateStatefulSetStrategy{Partition:%lld, "
               "MaxUnavailable:",
               (long long)partition);
    buf_puts(b, wl_get(ru, "maxUnavailable")
                    ? "(*intstr.IntOrString)(0xc000010000)}"
                    : "(*intstr.IntOrString)(nil)}");
}

static void validate_update_strategy(struct json_object *spec,
                                     struct ferr *errs)
{
    struct json_object *us =
        wl_obj(spec, "updateStrategy", "spec.updateStrategy", errs);
    struct json_object *ru;
    const char *type;
    struct buf b;

    if (!us && wl_get(spec, "updateStrategy"))
        return;
    type = wl_str(us, "type", "spec.updateStrategy.type", errs);
    if (!type && wl_get(us, "type"))
        return;
    ru = wl_obj(us, "rollingUpdate", "spec.updateStrategy.rollingUpdate", errs);
    if (!ru && wl_get(us, "rollingUpdate"))
        return;
    if (!type || !type[0]) {
        ferr_required(errs, "spec.updateStrategy");
    } else if (!strcmp(type, "OnDelete")) {
        if (ru) {
            buf_init(&b, 0);
            go_rolling_update(&b, ru);
            wl_err_repr(errs, FERR_INVALID, "spec.updateStrategy.rollingUpdate",
                        b.data,
                        "only allowed for updateStrategy 'RollingUpdate'");
            buf_free(&b);
        }
    } else if (!strcmp(type, "RollingUpdate")) {
        if (ru) {
            const char *pmu =
                "spec.updateStrategy.rollingUpdate.maxUnavailable";
            struct json_object *mu;
            wl_nonneg(ru, "partition",
                      "spec.updateStrategy.rollingUpdate.partition", errs);
            mu = wl_intstr_field(ru, "maxUnavailable", pmu, errs);
            if (mu) {
                wl_validate_int_or_percent(mu, pmu, errs);
                if (wl_intstr_value(mu) == 0) {
                    buf_init(&b, 0);
                    wl_go_intstr(&b, mu);
                    wl_err_repr(errs, FERR_INVALID, pmu, b.data, "cannot be 0");
                    buf_free(&b);
                }
                wl_validate_not_over_100(mu, pmu, errs);
            }
        }
    } else {
        buf_init(&b, 0);
        buf_puts(&b, "apps.StatefulSetUpdateStrategy{Type:");
        wl_go_quote(&b, type);
        buf_puts(&b, ru ? ", RollingUpdate:(*apps."
                          "RollingUpdateStatefulSetStrategy)(0xc000010000)}"
                        : ", RollingUpdate:(*apps."
                          "RollingUpdateStatefulSetStrategy)(nil)}");
        wl_err_repr(errs, FERR_INVALID, "spec.updateStrategy", b.data,
                    "must be 'RollingUpdate' or 'OnDelete'");
        buf_free(&b);
    }
}

static void validate_retention(struct json_object *spec, struct ferr *errs)
{
    static const char *const keys[] = {"whenDeleted", "whenScaled"};
    const char *base = "spec.persistentVolumeClaimRetentionPolicy";
    struct json_object *p =
        wl_obj(spec, "persistentVolumeClaimRetentionPolicy", base, errs);

    if (!p)
        return;
    for (size_t i = 0; i < 2; i++) {
        char path[128];
        const char *v;
        snprintf(path, sizeof(path), "%s.%s", base, keys[i]);
        v = wl_str(p, keys[i], path, errs);
        if (!v && wl_get(p, keys[i]))
            continue;
        if (!v || (strcmp(v, "Retain") != 0 && strcmp(v, "Delete") != 0)) {
            struct json_object *jv = json_object_new_string(v ? v : "");
            ferr_add(errs, FERR_NOT_SUPPORTED, path, jv,
                     "supported values: \"Retain\", \"Delete\"");
            json_object_put(jv);
        }
    }
}

/* ValidateStatefulSetSpec. */
static void validate_spec(struct json_object *spec, struct ferr *errs)
{
    struct json_object *sel, *tmpl, *ord;
    const char *pmp;
    bool usable = true;

    pmp = wl_str(spec, "podManagementPolicy", "spec.podManagementPolicy", errs);
    if (!pmp && wl_get(spec, "podManagementPolicy")) {
        /* type error already reported */
    } else if (!pmp || !pmp[0]) {
        ferr_required(errs, "spec.podManagementPolicy");
    } else if (strcmp(pmp, "OrderedReady") != 0 &&
               strcmp(pmp, "Parallel") != 0) {
        struct json_object *v = json_object_new_string(pmp);
        ferr_add(errs, FERR_INVALID, "spec.podManagementPolicy", v,
                 "must be 'OrderedReady' or 'Parallel'");
        json_object_put(v);
    }
    validate_update_strategy(spec, errs);
    validate_retention(spec, errs);
    wl_nonneg(spec, "replicas", "spec.replicas", errs);
    wl_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", errs);
    ord = wl_obj(spec, "ordinals", "spec.ordinals", errs);
    wl_nonneg(ord, "start", "spec.ordinals.start", errs);

    sel = wl_get(spec, "selector");
    if (!sel) {
        ferr_required(errs, "spec.selector");
    } else {
        usable = wl_validate_selector(sel, "spec.selector", errs);
        if (usable && wl_selector_is_empty(sel)) {
            struct buf b;
            buf_init(&b, 0);
            wl_go_label_selector(&b, sel);
            wl_err_repr(errs, FERR_INVALID, "spec.selector", b.data,
                        "empty selector is invalid for statefulset");
            buf_free(&b);
        }
    }
    tmpl = wl_obj(spec, "template", "spec.template", errs);
    if (usable) {
        struct label_selector *ls = wl_selector_compile(sel);
        if (!ls) {
            struct buf b;
            buf_init(&b, 0);
            wl_go_label_selector(&b, sel);
            wl_err_repr(errs, FERR_INVALID, "spec.selector", b.data, NULL);
            buf_free(&b);
        } else {
            /* Like Kubernetes, only the template's metadata is checked
             * here, not its pod spec. */
            struct json_object *meta = ju_obj(tmpl, "metadata");
            struct json_object *labels =
                wl_obj(meta, "labels", "spec.template.labels", errs);
            struct json_object *ann =
                wl_obj(meta, "annotations", "spec.template.annotations", errs);
            if (!label_selector_empty(ls) &&
                !label_selector_matches(ls, labels))
                wl_err_selector_mismatch(errs, "spec.template.metadata.labels",
                                         tmpl);
            if (labels)
                validate_labels(labels, "spec.template.labels", errs);
            if (ann)
                validate_annotations(ann, "spec.template.annotations", errs);
            label_selector_free(ls);
        }
    }
    if (tmpl || !wl_get(spec, "template"))
        wl_template_restart_always(tmpl, "spec.template", "StatefulSet", errs);
}

/* The spec fields an update may change (ValidateStatefulSetUpdate). */
static bool sts_mutable_field(const char *key)
{
    static const char *const mutable_fields[] = {
        "replicas",        "ordinals",
        "template",        "updateStrategy",
        "minReadySeconds", "persistentVolumeClaimRetentionPolicy",
    };
    for (size_t i = 0; i < sizeof(mutable_fields) / sizeof(*mutable_fields);
         i++)
        if (!strcmp(key, mutable_fields[i]))
            return true;
    return false;
}

static bool specs_equal_except_mutable(struct json_object *a,
                                       struct json_object *b)
{
    if (a && json_object_is_type(a, json_type_object)) {
        json_object_object_foreach(a, ka, va)
        {
            if (!sts_mutable_field(ka) && !wl_json_equal(va, wl_get(b, ka)))
                return false;
        }
    }
    if (b && json_object_is_type(b, json_type_object)) {
        json_object_object_foreach(b, kb, vb)
        {
            if (!sts_mutable_field(kb) && !wl_json_equal(vb, wl_get(a, kb)))
                return false;
        }
    }
    return true;
}

static void sts_validate(struct json_object *obj, struct json_object *old,
                         struct ferr *errs)
{
    struct json_object *spec = wl_obj(obj, "spec", "spec", errs);

    if (!spec && wl_get(obj, "spec"))
        return;
    validate_spec(spec, errs);
    if (old && !specs_equal_except_mutable(spec, ju_obj(old, "spec")))
        ferr_forbidden(errs, "spec",
                       "updates to statefulset spec for fields other than "
                       "'replicas', 'ordinals', 'template', "
                       "'updateStrategy', "
                       "'persistentVolumeClaimRetentionPolicy' and "
                       "'minReadySeconds' are forbidden");
}

const struct resource_type rt_statefulsets = {
    .group = "apps",
    .version = "v1",
    .resource = "statefulsets",
    .singular = "statefulset",
    .kind = "StatefulSet",
    .namespaced = true,
    .short_names = {"sts", NULL},
    .in_all = true,
    .name_rule = NAME_LABEL,
    .has_generation = true,
    .has_status = true,
    .has_scale = true,
    .has_binding = false,
    .field_selectors = NULL,
    .columns = sts_columns,
    .ncolumns = (int)(sizeof(sts_columns) / sizeof(sts_columns[0])),
    .table_cells = sts_cells,
    .prepare_create = sts_prepare_create,
    .defaults = sts_defaults,
    .validate = sts_validate,
};
