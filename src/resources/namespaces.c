/*
 * core/v1 Namespace: Active status and the "kubernetes" finalizer on
 * create, the kubernetes.io/metadata.name label, finalizer validation and
 * the update rule that spec.finalizers only changes through /finalize.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"

#include <stdio.h>
#include <string.h>

static const char *const ns_field_selectors[] = {"status.phase", NULL};

static const struct table_column ns_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Status", "string", "", "The status of the namespace", 0},
    {"Age", "string", "", "Time since the object was created.", 0},
};

static void ns_cells(struct json_object *obj, struct json_object *cells,
                     time_t now)
{
    char age[64];
    const char *phase = ju_str(ju_obj(obj, "status"), "phase");
    print_cell_str(cells, ju_str(ju_obj(obj, "metadata"), "name"));
    print_cell_str(cells, phase ? phase : "");
    print_age(age, sizeof(age), obj, now);
    print_cell_str(cells, age);
}

static void ns_prepare_create(struct json_object *obj)
{
    if (!json_object_is_type(obj, json_type_object))
        return;
    struct json_object *st = json_object_new_object();
    ju_set_str(st, "phase", "Active");
    json_object_object_add(obj, "status", st);

    if (!ju_has(obj, "spec"))
        ju_obj_ensure(obj, "spec");
    struct json_object *spec = ju_obj(obj, "spec");
    if (!spec)
        return;
    if (!ju_has(spec, "finalizers"))
        ju_arr_ensure(spec, "finalizers");
    struct json_object *fin = ju_arr(spec, "finalizers");
    if (!fin)
        return; /* wrong type: validation reports it */
    for (size_t i = 0; i < ju_len(fin) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *f = json_object_array_get_idx(fin, i);
        if (json_object_is_type(f, json_type_string) &&
            strcmp(json_object_get_string(f), "kubernetes") == 0)
            return;
    }
    json_object_array_add(fin, json_object_new_string("kubernetes"));
}

static void ns_defaults(struct json_object *obj)
{
    struct json_object *md = ju_obj(obj, "metadata");
    const char *name = ju_str(md, "name");
    if (name && name[0]) {
        if (!ju_has(md, "labels"))
            ju_obj_ensure(md, "labels");
        ju_set_str(ju_obj(md, "labels"), "kubernetes.io/metadata.name", name);
    }
    struct json_object *st = ju_obj(obj, "status");
    const char *phase = ju_str(st, "phase");
    if (st && (!phase || !phase[0]) && !ju_has(st, "phase"))
        ju_set_str(st, "phase", "Active");
}

static bool standard_finalizer(const char *s)
{
    return strcmp(s, "kubernetes") == 0 || strcmp(s, "orphan") == 0 ||
           strcmp(s, "foregroundDeletion") == 0;
}

/*
 * Note: on update this puts the stored spec.finalizers back into `obj`,
 * as Kubernetes' PrepareForUpdate does (they change only through the
 * finalize subresource).
 */
static void ns_validate(struct json_object *obj, struct json_object *old,
                        struct ferr *e)
{
    struct json_object *spec = validate_opt_obj(obj, "spec", "", e);
    if (old && spec) {
        struct json_object *of = ju_path(old, "spec.finalizers");
        if (of)
            json_object_object_add(spec, "finalizers", json_object_get(of));
        else
            json_object_object_del(spec, "finalizers");
    }
    struct json_object *fin = validate_opt_arr(spec, "finalizers", "spec", e);
    if (!fin || !validate_array_len(fin, "spec.finalizers", e))
        return;
    for (size_t i = 0; i < ju_len(fin); i++) {
        struct json_object *f = json_object_array_get_idx(fin, i);
        char p[VALIDATE_PATH_MAX];
        if (!json_object_is_type(f, json_type_string)) {
            validate_type_error(e,
                                vpath_index(p, sizeof(p), "spec.finalizers", i),
                                f, "a string");
            continue;
        }
        const char *s = json_object_get_string(f);
        validate_field_qualified_name(e, "spec.finalizers", s);
        if (!strchr(s, '/') && !standard_finalizer(s))
            validate_invalid_str(e, "spec.finalizers", s,
                                 "name is neither a standard finalizer name "
                                 "nor is it fully qualified");
    }
}

const struct resource_type rt_namespaces = {
    .group = "",
    .version = "v1",
    .resource = "namespaces",
    .singular = "namespace",
    .kind = "Namespace",
    .namespaced = false,
    .short_names = {"ns", NULL},
    .name_rule = NAME_LABEL,
    .has_status = true,
    .field_selectors = ns_field_selectors,
    .columns = ns_columns,
    .ncolumns = sizeof(ns_columns) / sizeof(ns_columns[0]),
    .table_cells = ns_cells,
    .prepare_create = ns_prepare_create,
    .defaults = ns_defaults,
    .validate = ns_validate,
};
