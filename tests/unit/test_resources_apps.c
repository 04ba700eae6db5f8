/*
 * Unit tests of the workload kinds and leases: descriptors, defaults,
 * validation messages as Kubernetes 1.32 renders them in a 422, and the
 * Table cells `kubectl get` shows.
 */
#include "api/ferr.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "unit.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A fixed clock: 2025-01-01T00:00:00Z. */
#define NOW ((time_t)1735689600)

static struct json_object *parse(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    if (!o)
        fprintf(stderr, "bad test JSON: %s\n", text);
    return o;
}

/* Runs prepare_create + defaults (create) or defaults (update), then
 * validate, and returns the 422 message (caller frees) or NULL when the
 * object is valid. */
static char *invalid(const struct resource_type *rt, struct json_object *obj,
                     struct json_object *old, const char *kind)
{
    struct ferr e;
    char *msg = NULL;

    ferr_init(&e);
    if (!old && rt->prepare_create)
        rt->prepare_create(obj);
    if (rt->defaults)
        rt->defaults(obj);
    rt->validate(obj, old, &e);
    if (e.n > 0)
        msg = ferr_message(&e, kind, ju_str(ju_obj(obj, "metadata"), "name"));
    ferr_free(&e);
    return msg;
}

/* Checks the message for a JSON object given as text; "" means valid. */
static void check_msg(const struct resource_type *rt, const char *text,
                      const char *old_text, const char *kind, const char *want,
                      int line)
{
    struct json_object *obj = parse(text);
    struct json_object *old = old_text ? parse(old_text) : NULL;
    char *got;

    if (old && rt->defaults)
        rt->defaults(old);
    got = invalid(rt, obj, old, kind);
    unit_checks++;
    if (strcmp(got ? got : "", want) != 0) {
        unit_failures++;
        fprintf(stderr, "line %d: message\n  got:  %s\n  want: %s\n", line,
                got ? got : "(valid)", want[0] ? want : "(valid)");
    }
    free(got);
    json_object_put(obj);
    json_object_put(old);
}
#define CHECK_MSG(rt, text, old, kind, want)                                   \
    check_msg(rt, text, old, kind, want, __LINE__)

/* Joins the Table cells of obj into "a|b|c" for comparison. */
static void check_cells(const struct resource_type *rt, const char *text,
                        const char *want, int line)
{
    struct json_object *obj = parse(text);
    struct json_object *cells = json_object_new_array();
    char got[2048] = "";
    size_t used = 0;

    rt->table_cells(obj, cells, NOW);
    unit_checks++;
    if ((int)json_object_array_length(cells) != rt->ncolumns) {
        unit_failures++;
        fprintf(stderr, "line %d: %zu cells for %d columns\n", line,
                json_object_array_length(cells), rt->ncolumns);
    }
    for (size_t i = 0; i < json_object_array_length(cells); i++) {
        struct json_object *c = json_object_array_get_idx(cells, i);
        const char *s = json_object_is_type(c, json_type_string)
                            ? json_object_get_string(c)
                            : json_object_to_json_string(c);
        int n =
            snprintf(got + used, sizeof(got) - used, "%s%s", i ? "|" : "", s);
        if (n > 0 && (size_t)n < sizeof(got) - used)
            used += (size_t)n;
    }
    unit_checks++;
    if (strcmp(got, want) != 0) {
        unit_failures++;
        fprintf(stderr, "line %d: cells\n  got:  %s\n  want: %s\n", line, got,
                want);
    }
    json_object_put(cells);
    json_object_put(obj);
}
#define CHECK_CELLS(rt, text, want) check_cells(rt, text, want, __LINE__)

/* Integer cells must be JSON integers, as the real server sends them. */
static void check_cell_is_int(const struct resource_type *rt, const char *text,
                              int idx)
{
    struct json_object *obj = parse(text);
    struct json_object *cells = json_object_new_array();
    rt->table_cells(obj, cells, NOW);
    CHECK(json_object_is_type(json_object_array_get_idx(cells, (size_t)idx),
                              json_type_int));
    json_object_put(cells);
    json_object_put(obj);
}

static const char *path_str(struct json_object *o, const char *path)
{
    struct json_object *v = ju_path(o, path);
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static long long path_int(struct json_object *o, const char *path)
{
    struct json_object *v = ju_path(o, path);
    return v && json_object_is_type(v, json_type_int)
               ? (long long)json_object_get_int64(v)
               : -999;
}

/* ------------------------------------------------------------------ */

static void test_descriptors(void)
{
    const struct resource_type *all[] = {&rt_leases,       &rt_deployments,
                                         &rt_replicasets,  &rt_daemonsets,
                                         &rt_statefulsets, &rt_jobs};
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
        CHECK(all[i]->namespaced);
        CHECK(all[i]->ncolumns > 0);
        CHECK_STR(all[i]->columns[0].name, "Name");
        CHECK_STR(all[i]->columns[0].format, "name");
        CHECK(all[i]->table_cells && all[i]->validate && all[i]->defaults);
    }
    CHECK_STR(rt_leases.group, "coordination.k8s.io");
    CHECK(rt_leases.short_names[0] == NULL);
    CHECK(!rt_leases.in_all && !rt_leases.has_status &&
          !rt_leases.has_generation);
    CHECK_STR(rt_deployments.short_names[0], "deploy");
    CHECK_STR(rt_replicasets.short_names[0], "rs");
    CHECK_STR(rt_daemonsets.short_names[0], "ds");
    CHECK_STR(rt_statefulsets.short_names[0], "sts");
    CHECK(rt_jobs.short_names[0] == NULL);
    CHECK_STR(rt_jobs.group, "batch");
    CHECK(rt_deployments.has_scale && rt_replicasets.has_scale &&
          rt_statefulsets.has_scale);
    CHECK(!rt_daemonsets.has_scale && !rt_jobs.has_scale);
    CHECK(rt_jobs.in_all && rt_daemonsets.in_all && rt_statefulsets.in_all);
    CHECK(rt_jobs.has_status && rt_jobs.has_generation);
    CHECK(rt_statefulsets.name_rule == NAME_LABEL);
    CHECK_STR(rt_replicasets.field_selectors[0], "status.replicas");

    /* Column sets as a 1.32 server sends them (kubectl upper-cases). */
    CHECK_INT(rt_deployments.ncolumns, 8);
    CHECK_STR(rt_deployments.columns[2].name, "Up-to-date");
    CHECK_INT(rt_deployments.columns[5].priority, 1);
    CHECK_INT(rt_daemonsets.ncolumns, 11);
    CHECK_STR(rt_daemonsets.columns[6].name, "Node Selector");
    CHECK_INT(rt_statefulsets.ncolumns, 5);
    CHECK_INT(rt_jobs.ncolumns, 8);
    CHECK_STR(rt_jobs.columns[1].name, "Status");
    CHECK_INT(rt_leases.ncolumns, 3);
    CHECK_STR(rt_leases.columns[1].name, "Holder");
}

#define DEPLOY_OK                                                              \
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"              \
    "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"              \
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"               \
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\"}]}}}}"

static void test_deployment_defaults(void)
{
    struct json_object *d = parse(DEPLOY_OK);
    json_object_object_add(d, "status",
                           parse("{\"replicas\":5,\"readyReplicas\":5}"));
    rt_deployments.prepare_create(d);
    rt_deployments.defaults(d);
    CHECK_INT(json_object_object_length(ju_obj(d, "status")), 0);
    CHECK_INT(path_int(d, "spec.replicas"), 1);
    CHECK_STR(path_str(d, "spec.strategy.type"), "RollingUpdate");
    CHECK_STR(path_str(d, "spec.strategy.rollingUpdate.maxSurge"), "25%");
    CHECK_STR(path_str(d, "spec.strategy.rollingUpdate.maxUnavailable"), "25%");
    CHECK_INT(path_int(d, "spec.revisionHistoryLimit"), 10);
    CHECK_INT(path_int(d, "spec.progressDeadlineSeconds"), 600);
    CHECK_STR(path_str(d, "spec.template.spec.restartPolicy"), "Always");
    json_object_put(d);

    /* Recreate gets no rollingUpdate; explicit values are kept. */
    d = parse("{\"spec\":{\"replicas\":0,\"strategy\":{\"type\":\"Recreate\"},"
              "\"revisionHistoryLimit\":2}}");
    rt_deployments.defaults(d);
    CHECK_INT(path_int(d, "spec.replicas"), 0);
    CHECK(ju_path(d, "spec.strategy.rollingUpdate") == NULL);
    CHECK_INT(path_int(d, "spec.revisionHistoryLimit"), 2);
    json_object_put(d);

    /* A spec of the wrong type is left alone for validation. */
    d = parse("{\"spec\":\"oops\"}");
    rt_deployments.defaults(d);
    CHECK_STR(path_str(d, "spec"), "oops");
    json_object_put(d);
}

static void test_deployment_validation(void)
{
    const char *K = "Deployment.apps";

    CHECK_MSG(&rt_deployments, DEPLOY_OK, NULL, K, "");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: [spec.selector: Required "
              "value, spec.template.metadata.labels: Invalid value: "
              "map[string]string{\"app\":\"web\"}: `selector` does not match "
              "template `labels`]");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"x\"}},\"template\":{\"metadata\":{"
              "\"labels\":{\"tier\":\"fe\",\"app\":\"web\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "spec.template.metadata.labels: Invalid value: "
              "map[string]string{\"app\":\"web\", \"tier\":\"fe\"}: `selector` "
              "does not match template `labels`");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":-1,"
              "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: spec.replicas: Invalid "
              "value: -1: must be greater than or equal to 0");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{}},\"template\":{\"spec\":{\"containers\":[{"
              "\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: spec.selector: Invalid "
              "value: v1.LabelSelector{MatchLabels:map[string]string{}, "
              "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty "
              "selector is invalid for deployment");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{"
              "\"rollingUpdate\":{\"maxSurge\":\"abc\",\"maxUnavailable\":-2}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "[spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -2: "
              "must be greater than or equal to 0, "
              "spec.strategy.rollingUpdate.maxSurge: Invalid value: "
              "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"abc\"}: a valid "
              "percent string must be a numeric string followed by an ending "
              "'%' (e.g. '1%',  or '93%', regex used for validation is "
              "'[0-9]+%')]");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{"
              "\"rollingUpdate\":{\"maxSurge\":0,\"maxUnavailable\":\"0%\"}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
              "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: may not "
              "be 0 when `maxSurge` is 0");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{"
              "\"rollingUpdate\":{\"maxUnavailable\":\"150%\"}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
              "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must "
              "not be greater than 100%");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{\"type\":"
              "\"Canary\"},\"template\":{\"metadata\":{\"labels\":{\"app\":"
              "\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
              "\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: spec.strategy: Unsupported "
              "value: apps.DeploymentStrategy{Type:\"Canary\", "
              "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported "
              "values: \"Recreate\", \"RollingUpdate\"");
    CHECK_MSG(
        &rt_deployments,
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
        "\"matchLabels\":{\"app\":\"web\"}},\"strategy\":{\"type\":"
        "\"Recreate\",\"rollingUpdate\":{}},\"template\":{\"metadata\":{"
        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
        "\"name\":\"c\",\"image\":\"i\"}]}}}}",
        NULL, K,
        "Deployment.apps \"web\" is invalid: spec.strategy.rollingUpdate: "
        "Forbidden: may not be specified when strategy `type` is "
        "'Recreate'");
    CHECK_MSG(
        &rt_deployments,
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
        "\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{"
        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"restartPolicy\":"
        "\"Never\",\"activeDeadlineSeconds\":5,\"containers\":[{\"name\":"
        "\"c\",\"image\":\"i\"}]}}}}",
        NULL, K,
        "Deployment.apps \"web\" is invalid: "
        "[spec.template.spec.restartPolicy: Unsupported value: \"Never\": "
        "supported values: \"Always\", "
        "spec.template.spec.activeDeadlineSeconds: Forbidden: "
        "activeDeadlineSeconds in ReplicaSet is not Supported]");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"web\"}},\"minReadySeconds\":700,"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "spec.progressDeadlineSeconds: Invalid value: 600: must be "
              "greater than minReadySeconds");
    /* matchExpressions problems, then LabelSelectorAsSelector's error. */
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\"}]},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "[spec.selector.matchExpressions[0].values: Required value: must "
              "be specified when `operator` is 'In' or 'NotIn', "
              "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:"
              "map[string]string(nil), MatchExpressions:[]v1."
              "LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\""
              ", Operator:\"In\", Values:[]string(nil)}}}: invalid label "
              "selector]");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Has\","
              "\"values\":[\"web\"]}]},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "[spec.selector.matchExpressions[0].operator: Invalid value: "
              "\"Has\": not a valid selector operator, spec.selector: Invalid "
              "value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
              "MatchExpressions:[]v1.LabelSelectorRequirement{v1."
              "LabelSelectorRequirement{Key:\"app\", Operator:\"Has\", "
              "Values:[]string{\"web\"}}}}: invalid label selector]");

    /* Selector immutable on update; replicas may change. */
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":3,"
              "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              DEPLOY_OK, K, "");
    CHECK_MSG(
        &rt_deployments,
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
        "\"matchLabels\":{\"app\":\"web\",\"v\":\"2\"}},\"template\":{"
        "\"metadata\":{\"labels\":{\"app\":\"web\",\"v\":\"2\"}},\"spec\":"
        "{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
        DEPLOY_OK, K,
        "Deployment.apps \"web\" is invalid: spec.selector: Invalid "
        "value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":"
        "\"web\", \"v\":\"2\"}, MatchExpressions:[]v1."
        "LabelSelectorRequirement(nil)}: field is immutable");

    /* Wrong JSON types are errors, never crashes. */
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":\"three\"}", NULL, K,
              "Deployment.apps \"web\" is invalid: spec: Invalid value: "
              "\"string\": must be an object");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":\"3\","
              "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: spec.replicas: Invalid "
              "value: \"string\": must be an integer");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":[1],"
              "\"strategy\":{\"type\":7,\"rollingUpdate\":[]},"
              "\"template\":5}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: [spec.selector: Invalid "
              "value: \"array\": must be an object, spec.template: Invalid "
              "value: \"integer\": must be an object, spec.strategy.type: "
              "Invalid value: \"integer\": must be a string, "
              "spec.strategy.rollingUpdate: Invalid value: \"array\": must be "
              "an object]");
    CHECK_MSG(&rt_deployments,
              "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":3},\"matchExpressions\":[\"x\"]},"
              "\"strategy\":{\"rollingUpdate\":{\"maxSurge\":1.5}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "Deployment.apps \"web\" is invalid: "
              "[spec.selector.matchLabels[app]: Invalid value: \"integer\": "
              "must be a string, spec.selector.matchExpressions[0]: Invalid "
              "value: \"string\": must be an object, "
              "spec.strategy.rollingUpdate.maxSurge: Invalid value: "
              "\"number\": must be an integer or string]");
}

static void test_replicaset(void)
{
    const char *K = "ReplicaSet.apps";
    struct json_object *rs = parse("{\"spec\":{}}");

    rt_replicasets.defaults(rs);
    CHECK_INT(path_int(rs, "spec.replicas"), 1);
    CHECK_STR(path_str(rs, "spec.template.spec.restartPolicy"), "Always");
    json_object_put(rs);

    CHECK_MSG(&rt_replicasets,
              "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"r\"}},\"template\":{\"metadata\":{"
              "\"labels\":{\"app\":\"r\"}},\"spec\":{\"containers\":[{\"name\":"
              "\"c\",\"image\":\"i\"}]}}}}",
              NULL, K, "");
    /* Kubernetes says "deployment" here too. */
    CHECK_MSG(&rt_replicasets,
              "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"replicas\":-3,"
              "\"minReadySeconds\":-1,\"selector\":{},\"template\":{\"spec\":{"
              "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "ReplicaSet.apps \"r\" is invalid: [spec.replicas: Invalid "
              "value: -3: must be greater than or equal to 0, "
              "spec.minReadySeconds: Invalid value: -1: must be greater than "
              "or equal to 0, spec.selector: Invalid value: "
              "v1.LabelSelector{MatchLabels:map[string]string(nil), "
              "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty "
              "selector is invalid for deployment]");
    CHECK_MSG(&rt_replicasets,
              "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"s\"}},\"template\":{\"metadata\":{"
              "\"labels\":{\"app\":\"s\"}},\"spec\":{\"containers\":[{\"name\":"
              "\"c\",\"image\":\"i\"}]}}}}",
              "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"r\"}},\"template\":{\"metadata\":{"
              "\"labels\":{\"app\":\"r\"}},\"spec\":{\"containers\":[{\"name\":"
              "\"c\",\"image\":\"i\"}]}}}}",
              K,
              "ReplicaSet.apps \"r\" is invalid: spec.selector: Invalid value: "
              "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"s\"}, "
              "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is "
              "immutable");
}

#define DS_OK                                                                  \
    "{\"metadata\":{\"name\":\"agent\"},\"spec\":{\"selector\":{"              \
    "\"matchLabels\":{\"app\":\"agent\"}},\"template\":{\"metadata\":{"        \
    "\"labels\":{\"app\":\"agent\"}},\"spec\":{\"containers\":[{\"name\":"     \
    "\"a\",\"image\":\"agent:1\"}]}}}}"

static void test_daemonset(void)
{
    const char *K = "DaemonSet.apps";
    struct json_object *ds = parse(DS_OK);

    rt_daemonsets.prepare_create(ds);
    rt_daemonsets.defaults(ds);
    CHECK_STR(path_str(ds, "spec.updateStrategy.type"), "RollingUpdate");
    CHECK_INT(path_int(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable"),
              1);
    CHECK_INT(path_int(ds, "spec.updateStrategy.rollingUpdate.maxSurge"), 0);
    CHECK_INT(path_int(ds, "spec.revisionHistoryLimit"), 10);
    CHECK(json_object_is_type(ju_obj(ds, "status"), json_type_object));
    CHECK_STR(ju_str(ju_path(ds, "metadata.annotations"),
                     "deprecated.daemonset.template.generation"),
              "1");
    json_object_put(ds);

    CHECK_MSG(&rt_daemonsets, DS_OK, NULL, K, "");
    /* No Required error for a missing selector, only the mismatch. */
    CHECK_MSG(&rt_daemonsets,
              "{\"metadata\":{\"name\":\"agent\"},\"spec\":{\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"agent\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "DaemonSet.apps \"agent\" is invalid: "
              "spec.template.metadata.labels: Invalid value: "
              "map[string]string{\"app\":\"agent\"}: `selector` does not match "
              "template `labels`");
    CHECK_MSG(&rt_daemonsets,
              "{\"metadata\":{\"name\":\"agent\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"agent\"}},\"updateStrategy\":{"
              "\"rollingUpdate\":{\"maxSurge\":\"10%\",\"maxUnavailable\":2}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "DaemonSet.apps \"agent\" is invalid: "
              "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "
              "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"10%\"}: may not "
              "be set when maxUnavailable is non-zero");
    CHECK_MSG(&rt_daemonsets,
              "{\"metadata\":{\"name\":\"agent\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"agent\"}},\"updateStrategy\":{"
              "\"rollingUpdate\":{\"maxUnavailable\":0}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "DaemonSet.apps \"agent\" is invalid: "
              "spec.updateStrategy.rollingUpdate.maxUnavailable: Required "
              "value: cannot be 0 when maxSurge is 0");
    CHECK_MSG(&rt_daemonsets,
              "{\"metadata\":{\"name\":\"agent\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"agent\"}},\"updateStrategy\":{"
              "\"type\":\"Always\"},\"template\":{\"metadata\":{\"labels\":{"
              "\"app\":\"agent\"}},\"spec\":{\"restartPolicy\":\"OnFailure\","
              "\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}}}",
              NULL, K,
              "DaemonSet.apps \"agent\" is invalid: "
              "[spec.template.spec.restartPolicy: Unsupported value: "
              "\"OnFailure\": supported values: \"Always\", "
              "spec.updateStrategy: Unsupported value: "
              "apps.DaemonSetUpdateStrategy{Type:\"Always\", "
              "RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported "
              "values: \"RollingUpdate\", \"OnDelete\"]");
    CHECK_MSG(&rt_daemonsets,
              "{\"metadata\":{\"name\":\"agent\"},\"spec\":{\"selector\":{"
              "\"matchLabels\":{\"app\":\"agent\",\"x\":\"y\"}},\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"agent\",\"x\":\"y\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}}}",
              DS_OK, K,
              "DaemonSet.apps \"agent\" is invalid: spec.selector: Invalid "
              "value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":"
              "\"agent\", \"x\":\"y\"}, MatchExpressions:[]v1."
              "LabelSelectorRequirement(nil)}: field is immutable");
}

#define STS_OK                                                                 \
    "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"serviceName\":\"db\","        \
    "\"selector\":{\"matchLabels\":{\"app\":\"db\"}},\"template\":{"           \
    "\"metadata\":{\"labels\":{\"app\":\"db\"}},\"spec\":{\"containers\":[{"   \
    "\"name\":\"pg\",\"image\":\"postgres:16\"}]}}}}"

static void test_statefulset(void)
{
    const char *K = "StatefulSet.apps";
    struct json_object *s = parse(STS_OK);

    json_object_object_add(ju_obj(s, "spec"), "updateStrategy",
                           parse("{\"rollingUpdate\":{\"maxUnavailable\":2}}"));
    rt_statefulsets.prepare_create(s);
    rt_statefulsets.defaults(s);
    CHECK_INT(path_int(s, "spec.replicas"), 1);
    CHECK_STR(path_str(s, "spec.podManagementPolicy"), "OrderedReady");
    CHECK_STR(path_str(s, "spec.updateStrategy.type"), "RollingUpdate");
    CHECK_INT(path_int(s, "spec.updateStrategy.rollingUpdate.partition"), 0);
    CHECK(ju_path(s, "spec.updateStrategy.rollingUpdate.maxUnavailable") ==
          NULL);
    CHECK_STR(path_str(s, "spec.persistentVolumeClaimRetentionPolicy."
                          "whenDeleted"),
              "Retain");
    CHECK_STR(path_str(s, "spec.persistentVolumeClaimRetentionPolicy."
                          "whenScaled"),
              "Retain");
    CHECK_INT(path_int(s, "spec.revisionHistoryLimit"), 10);
    json_object_put(s);

    CHECK_MSG(&rt_statefulsets, STS_OK, NULL, K, "");
    CHECK_MSG(
        &rt_statefulsets,
        "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"podManagementPolicy\":"
        "\"Random\",\"updateStrategy\":{\"type\":\"OnDelete\","
        "\"rollingUpdate\":{\"partition\":1}},"
        "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":"
        "\"Keep\"},\"selector\":{\"matchLabels\":{\"app\":\"db\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"db\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"pg\",\"image\":\"p\"}]}}}}",
        NULL, K,
        "StatefulSet.apps \"db\" is invalid: [spec.podManagementPolicy: "
        "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel', "
        "spec.updateStrategy.rollingUpdate: Invalid value: "
        "apps.RollingUpdateStatefulSetStrategy{Partition:1, "
        "MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for "
        "updateStrategy 'RollingUpdate', "
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: "
        "Unsupported value: \"Keep\": supported values: \"Retain\", "
        "\"Delete\"]");
    CHECK_MSG(&rt_statefulsets,
              "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"template\":{"
              "\"metadata\":{\"labels\":{\"app\":\"db\"}},\"spec\":{"
              "\"containers\":[{\"name\":\"pg\",\"image\":\"p\"}]}}}}",
              NULL, K,
              "StatefulSet.apps \"db\" is invalid: [spec.selector: Required "
              "value, spec.template.metadata.labels: Invalid value: "
              "map[string]string{\"app\":\"db\"}: `selector` does not match "
              "template `labels`]");
    /* replicas, template and updateStrategy may change ... */
    CHECK_MSG(
        &rt_statefulsets,
        "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"replicas\":3,"
        "\"serviceName\":\"db\",\"selector\":{\"matchLabels\":{\"app\":"
        "\"db\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"db\"}}"
        ",\"spec\":{\"containers\":[{\"name\":\"pg\",\"image\":"
        "\"postgres:17\"}]}}}}",
        STS_OK, K, "");
    /* An empty list equals an absent one, as Kubernetes compares. */
    CHECK_MSG(&rt_statefulsets,
              "{\"metadata\":{\"name\":\"db\"},\"spec\":{"
              "\"volumeClaimTemplates\":[],\"serviceName\":\"db\",\"selector\":"
              "{\"matchLabels\":{\"app\":\"db\"}},\"template\":{\"metadata\":"
              "{\"labels\":{\"app\":\"db\"}},\"spec\":{\"containers\":[{"
              "\"name\":\"pg\",\"image\":\"postgres:16\"}]}}}}",
              STS_OK, K, "");
    CHECK_MSG(
        &rt_statefulsets,
        "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"updateStrategy\":{"
        "\"type\":\"Canary\"},\"selector\":{\"matchLabels\":{\"app\":"
        "\"db\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":"
        "\"db\"}},\"spec\":{\"containers\":[{\"name\":\"pg\","
        "\"image\":\"p\"}]}}}}",
        NULL, K,
        "StatefulSet.apps \"db\" is invalid: spec.updateStrategy: Invalid "
        "value: apps.StatefulSetUpdateStrategy{Type:\"Canary\", "
        "RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: "
        "must be 'RollingUpdate' or 'OnDelete'");
    /* ... the rest may not. */
    CHECK_MSG(
        &rt_statefulsets,
        "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"serviceName\":"
        "\"db2\",\"selector\":{\"matchLabels\":{\"app\":\"db\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"db\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"pg\",\"image\":\"p\"}]}}}}",
        STS_OK, K,
        "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to "
        "statefulset spec for fields other than 'replicas', 'ordinals', "
        "'template', 'updateStrategy', "
        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
        "are forbidden");
}

#define JOB_OK                                                                 \
    "{\"metadata\":{\"name\":\"pi\",\"uid\":\"1234-5678\"},\"spec\":{"         \
    "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{"    \
    "\"name\":\"pi\",\"image\":\"perl\"}]}}}}"

static void test_job_defaults(void)
{
    struct json_object *j = parse(JOB_OK);
    struct json_object *tl;

    rt_jobs.prepare_create(j);
    rt_jobs.defaults(j);
    CHECK_INT(path_int(j, "spec.completions"), 1);
    CHECK_INT(path_int(j, "spec.parallelism"), 1);
    CHECK_INT(path_int(j, "spec.backoffLimit"), 6);
    CHECK_STR(path_str(j, "spec.completionMode"), "NonIndexed");
    CHECK(ju_path(j, "spec.suspend") &&
          !json_object_get_boolean(ju_path(j, "spec.suspend")));
    CHECK(ju_path(j, "spec.manualSelector") &&
          !json_object_get_boolean(ju_path(j, "spec.manualSelector")));
    CHECK_STR(path_str(j, "spec.podReplacementPolicy"), "TerminatingOrFailed");
    tl = ju_path(j, "spec.template.metadata.labels");
    CHECK_STR(ju_str(tl, "controller-uid"), "1234-5678");
    CHECK_STR(ju_str(tl, "batch.kubernetes.io/controller-uid"), "1234-5678");
    CHECK_STR(ju_str(tl, "job-name"), "pi");
    CHECK_STR(ju_str(tl, "batch.kubernetes.io/job-name"), "pi");
    CHECK_STR(ju_str(ju_path(j, "spec.selector.matchLabels"),
                     "batch.kubernetes.io/controller-uid"),
              "1234-5678");
    CHECK_INT(
        json_object_object_length(ju_path(j, "spec.selector.matchLabels")), 1);
    /* The template had no labels map, so the job keeps none. */
    CHECK(ju_path(j, "metadata.labels") == NULL);
    json_object_put(j);

    /* With template labels the job takes them, generated ones included. */
    j = parse("{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"parallelism\":3,\"template\":{\"metadata\":{\"labels\":{"
              "\"app\":\"pi\"}}}}}");
    rt_jobs.defaults(j);
    CHECK(ju_path(j, "spec.completions") == NULL);
    CHECK_INT(path_int(j, "spec.parallelism"), 3);
    CHECK_STR(ju_str(ju_path(j, "metadata.labels"), "app"), "pi");
    CHECK_STR(ju_str(ju_path(j, "metadata.labels"), "controller-uid"), "u1");
    json_object_put(j);

    /* A manual selector is left alone; a pod failure policy changes the
     * replacement default; backoffLimitPerIndex lifts backoffLimit. */
    j = parse("{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"manualSelector\":true,\"backoffLimitPerIndex\":1,"
              "\"podFailurePolicy\":{\"rules\":[{\"action\":\"Ignore\","
              "\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]}]}}}");
    rt_jobs.defaults(j);
    CHECK(ju_path(j, "spec.selector") == NULL);
    CHECK_STR(path_str(j, "spec.podReplacementPolicy"), "Failed");
    CHECK_INT(path_int(j, "spec.backoffLimit"), 2147483647);
    CHECK_STR(
        ju_str(json_object_array_get_idx(
                   ju_arr(json_object_array_get_idx(
                              ju_path(j, "spec.podFailurePolicy.rules"), 0),
                          "onPodConditions"),
                   0),
               "status"),
        "True");
    json_object_put(j);
}

static void test_job_validation(void)
{
    const char *K = "Job.batch";
    /* Indexed pods are named <job>-<index>; that must be a DNS label. */
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi.x\",\"uid\":\"u1\"},\"spec\":{"
              "\"completionMode\":\"Indexed\",\"completions\":3,"
              "\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi.x\" is invalid: metadata.name: Invalid value: "
              "\"pi.x\": will not able to create pod with invalid DNS label: "
              "pi.x-2");
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"completionMode\":\"Indexed\",\"completions\":null,"
              "\"parallelism\":2,"
              "\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: spec.completions: Required value: "
              "when completion mode is Indexed");

    CHECK_MSG(&rt_jobs, JOB_OK, NULL, K, "");
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"template\":{\"spec\":{\"containers\":[{\"name\":\"pi\","
              "\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: spec.template.spec.restartPolicy: "
              "Required value: valid values: \"OnFailure\", \"Never\"");
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"parallelism\":-1,\"completionMode\":\"Sometimes\","
              "\"backoffLimitPerIndex\":2,"
              "\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: [spec.parallelism: Invalid value: "
              "-1: must be greater than or equal to 0, spec.completionMode: "
              "Unsupported value: \"Sometimes\": supported values: "
              "\"NonIndexed\", \"Indexed\"]");
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"backoffLimitPerIndex\":2,\"maxFailedIndexes\":1,"
              "\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: [spec.backoffLimitPerIndex: "
              "Invalid value: 2: requires indexed completion mode, "
              "spec.maxFailedIndexes: Invalid value: 1: requires indexed "
              "completion mode]");
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"podFailurePolicy\":{\"rules\":[{\"action\":\"Retry\","
              "\"onExitCodes\":{\"operator\":\"In\",\"values\":[3,1,3,0]}},"
              "{\"action\":\"Ignore\"}]},"
              "\"podReplacementPolicy\":\"TerminatingOrFailed\","
              "\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: "
              "[spec.podFailurePolicy.rules[0].action: Unsupported value: "
              "\"Retry\": supported values: \"Count\", \"FailIndex\", "
              "\"FailJob\", \"Ignore\", "
              "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate "
              "value: 3, spec.podFailurePolicy.rules[0].onExitCodes.values[3]: "
              "Invalid value: 0: must not be 0 for the In operator, "
              "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid "
              "value: []int32{3, 1, 3, 0}: must be ordered, "
              "spec.podFailurePolicy.rules[1]: Invalid value: specifying one "
              "of OnExitCodes and OnPodConditions is required, "
              "spec.podReplacementPolicy: Unsupported value: "
              "\"TerminatingOrFailed\": supported values: \"Failed\", "
              "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": "
              "only \"Never\" is supported when podFailurePolicy is "
              "specified]");
    /* A hand-made selector that the generated labels do not satisfy. */
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"selector\":{\"matchLabels\":{\"app\":\"pi\"}},"
              "\"template\":{\"metadata\":{\"labels\":{\"app\":\"pi\"}},"
              "\"spec\":{\"restartPolicy\":\"Never\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: spec.selector: Invalid value: "
              "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"pi\", "
              "\"batch.kubernetes.io/controller-uid\":\"u1\"}, "
              "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
              "`selector` not auto-generated");
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"completionMode\":\"Indexed\",\"completions\":3,"
              "\"successPolicy\":{\"rules\":[{\"succeededIndexes\":\"0-1,1\","
              "\"succeededCount\":5}]},"
              "\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: "
              "[spec.successPolicy.rules[0].succeededIndexes: Invalid value: "
              "\"0-1,1\": error parsing succeededIndexes: non-increasing "
              "order, previous: 1, current: 1, "
              "spec.successPolicy.rules[0].succeededCount: Invalid value: 5: "
              "must be less than or equal to 3 (the number of specified "
              "completions), spec.successPolicy.rules[0].succeededCount: "
              "Invalid value: 5: must be less than or equal to 0 (the number "
              "of indexes in the specified succeededIndexes field)]");
    CHECK_MSG(&rt_jobs,
              "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u1\"},\"spec\":{"
              "\"manualSelector\":\"yes\",\"suspend\":1,"
              "\"template\":{\"spec\":{\"restartPolicy\":\"Never\","
              "\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}",
              NULL, K,
              "Job.batch \"pi\" is invalid: [spec.manualSelector: Invalid "
              "value: \"string\": must be a boolean, spec.suspend: Invalid "
              "value: \"integer\": must be a boolean, spec.selector: Required "
              "value, spec.template.metadata.labels: Invalid value: "
              "map[string]string(nil): `selector` does not match template "
              "`labels`]");
}

/* The stored job a create of JOB_OK leaves behind. */
static char *stored_job(bool suspended)
{
    struct json_object *j = parse(JOB_OK);
    char *s;
    if (suspended)
        json_object_object_add(ju_obj(j, "spec"), "suspend",
                               json_object_new_boolean(1));
    rt_jobs.prepare_create(j);
    rt_jobs.defaults(j);
    s = strdup(json_object_to_json_string(j));
    json_object_put(j);
    return s;
}

static void test_job_update(void)
{
    const char *K = "Job.batch";
    char *old = stored_job(false);
    struct json_object *o = parse(old), *n;
    char *msg;

    /* Unchanged: valid. */
    CHECK_MSG(&rt_jobs, old, old, K, "");

    /* Changing the image is refused. */
    n = parse(old);
    json_object_object_add(json_object_array_get_idx(
                               ju_path(n, "spec.template.spec.containers"), 0),
                           "image", json_object_new_string("perl:2"));
    rt_jobs.defaults(n);
    {
        struct ferr e;
        ferr_init(&e);
        rt_jobs.validate(n, o, &e);
        CHECK_INT(e.n, 1);
        CHECK(e.n == 1 && !strcmp(e.items[0].field, "spec.template"));
        CHECK(e.n == 1 &&
              strstr(e.items[0].message, ": field is immutable") != NULL);
        ferr_free(&e);
    }
    json_object_put(n);

    /* completions are immutable for NonIndexed jobs; parallelism is not. */
    n = parse(old);
    json_object_object_add(ju_obj(n, "spec"), "completions",
                           json_object_new_int(4));
    json_object_object_add(ju_obj(n, "spec"), "parallelism",
                           json_object_new_int(2));
    msg = invalid(&rt_jobs, n, o, K);
    CHECK_STR(msg, "Job.batch \"pi\" is invalid: spec.completions: Invalid "
                   "value: 4: field is immutable");
    free(msg);
    json_object_put(n);
    json_object_put(o);
    free(old);

    /* A suspended job that never started may change its node selector. */
    old = stored_job(true);
    o = parse(old);
    n = parse(old);
    json_object_object_add(ju_path(n, "spec.template.spec"), "nodeSelector",
                           parse("{\"zone\":\"edge-1\"}"));
    msg = invalid(&rt_jobs, n, o, K);
    CHECK(msg == NULL);
    free(msg);
    json_object_put(n);
    json_object_put(o);
    free(old);
}

#define LEASE(spec)                                                            \
    "{\"metadata\":{\"name\":\"node-1\",\"namespace\":\"kube-node-lease\"},"   \
    "\"spec\":" spec "}"

static void test_lease(void)
{
    const char *K = "Lease.coordination.k8s.io";
    struct json_object *l;

    CHECK_MSG(&rt_leases,
              LEASE("{\"holderIdentity\":\"node-1\",\"leaseDurationSeconds\":"
                    "40,\"renewTime\":\"2025-01-01T00:00:00.000000Z\"}"),
              NULL, K, "");
    CHECK_MSG(&rt_leases,
              LEASE("{\"holderIdentity\":5,\"leaseDurationSeconds\":0,"
                    "\"leaseTransitions\":-1}"),
              NULL, K,
              "Lease.coordination.k8s.io \"node-1\" is invalid: "
              "[spec.holderIdentity: Invalid value: \"integer\": must be a "
              "string, "
              "spec.leaseDurationSeconds: Invalid value: 0: must be greater "
              "than 0, spec.leaseTransitions: Invalid value: -1: must be "
              "greater than or equal to 0]");
    CHECK_MSG(&rt_leases, LEASE("{}"), LEASE("{}"), K, "");
    CHECK_MSG(&rt_leases, LEASE("[]"), NULL, K,
              "Lease.coordination.k8s.io \"node-1\" is invalid: spec: Invalid "
              "value: \"array\": must be an object");

    l = parse(LEASE("{\"strategy\":\"OldestEmulationVersion\","
                    "\"preferredHolder\":\"x\",\"holderIdentity\":\"h\"}"));
    rt_leases.defaults(l);
    CHECK(ju_path(l, "spec.strategy") == NULL);
    CHECK(ju_path(l, "spec.preferredHolder") == NULL);
    CHECK_STR(path_str(l, "spec.holderIdentity"), "h");
    json_object_put(l);
}

static void test_cells(void)
{
    /* Created five minutes before NOW. */
    const char *meta5m = "\"metadata\":{\"name\":\"web\",\"creationTimestamp\":"
                         "\"2024-12-31T23:55:00Z\"}";
    char buf[2048];

    snprintf(buf, sizeof(buf),
             "{%s,\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{"
             "\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
             "\"operator\":\"In\",\"values\":[\"fe\",\"be\"]}]},\"template\":{"
             "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":"
             "\"nginx:1.25\"},{\"name\":\"log\",\"image\":\"busybox\"}]}}},"
             "\"status\":{\"readyReplicas\":2,\"updatedReplicas\":3,"
             "\"availableReplicas\":2}}",
             meta5m);
    CHECK_CELLS(&rt_deployments, buf,
                "web|2/3|3|2|5m|nginx,log|nginx:1.25,busybox|"
                "app=web,tier in (be,fe)");
    check_cell_is_int(&rt_deployments, buf, 2);

    /* A fresh deployment: no status yet. */
    CHECK_CELLS(&rt_deployments,
                "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":1}}",
                "d|0/1|0|0|<unknown>|||");

    snprintf(buf, sizeof(buf),
             "{%s,\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{"
             "\"app\":\"web\",\"pod-template-hash\":\"5d\"}},\"template\":{"
             "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":"
             "\"nginx\"}]}}},\"status\":{\"replicas\":2,\"readyReplicas\":1}}",
             meta5m);
    CHECK_CELLS(&rt_replicasets, buf,
                "web|2|2|1|5m|nginx|nginx|app=web,pod-template-hash=5d");
    check_cell_is_int(&rt_replicasets, buf, 1);
    CHECK_CELLS(&rt_replicasets, "{\"metadata\":{\"name\":\"r\"}}",
                "r|0|0|0|<unknown>|||<none>");

    snprintf(buf, sizeof(buf),
             "{%s,\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"a\"}},"
             "\"template\":{\"spec\":{\"nodeSelector\":{\"zone\":\"b\","
             "\"kubernetes.io/os\":\"linux\"},\"containers\":[{\"name\":\"a\","
             "\"image\":\"agent:1\"}]}}},\"status\":{"
             "\"desiredNumberScheduled\":4,\"currentNumberScheduled\":4,"
             "\"numberReady\":3,\"updatedNumberScheduled\":4,"
             "\"numberAvailable\":3}}",
             meta5m);
    CHECK_CELLS(&rt_daemonsets, buf,
                "web|4|4|3|4|3|kubernetes.io/os=linux,zone=b|5m|a|agent:1|"
                "app=a");
    CHECK_CELLS(&rt_daemonsets, "{\"metadata\":{\"name\":\"d\"}}",
                "d|0|0|0|0|0|<none>|<unknown>|||<none>");

    snprintf(buf, sizeof(buf),
             "{%s,\"spec\":{\"replicas\":3,\"template\":{\"spec\":{"
             "\"containers\":[{\"name\":\"pg\",\"image\":\"postgres\"}]}}},"
             "\"status\":{\"readyReplicas\":1}}",
             meta5m);
    CHECK_CELLS(&rt_statefulsets, buf, "web|1/3|5m|pg|postgres");

    /* Jobs: Complete with its duration, Running from startTime to now,
     * Suspended, Failed, completions without spec.completions. */
    snprintf(buf, sizeof(buf),
             "{%s,\"spec\":{\"completions\":1,\"selector\":{\"matchLabels\":{"
             "\"batch.kubernetes.io/controller-uid\":\"u1\"}},\"template\":{"
             "\"spec\":{\"containers\":[{\"name\":\"pi\",\"image\":"
             "\"perl\"}]}}},\"status\":{\"succeeded\":1,\"startTime\":"
             "\"2024-12-31T23:55:00Z\",\"completionTime\":"
             "\"2024-12-31T23:56:05Z\",\"conditions\":[{\"type\":"
             "\"SuccessCriteriaMet\",\"status\":\"True\"},{\"type\":"
             "\"Complete\",\"status\":\"True\"}]}}",
             meta5m);
    CHECK_CELLS(&rt_jobs, buf,
                "web|Complete|1/1|65s|5m|pi|perl|"
                "batch.kubernetes.io/controller-uid=u1");
    CHECK_CELLS(&rt_jobs,
                "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"completions\":5},"
                "\"status\":{\"succeeded\":2,\"startTime\":"
                "\"2024-12-31T23:59:30Z\"}}",
                "j|Running|2/5|30s|<unknown>|||<none>");
    CHECK_CELLS(&rt_jobs,
                "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"parallelism\":4},"
                "\"status\":{\"conditions\":[{\"type\":\"Suspended\","
                "\"status\":\"True\"}]}}",
                "j|Suspended|0/1 of 4||<unknown>|||<none>");
    CHECK_CELLS(&rt_jobs,
                "{\"metadata\":{\"name\":\"j\",\"deletionTimestamp\":"
                "\"2025-01-01T00:00:00Z\"},\"spec\":{},\"status\":{"
                "\"conditions\":[{\"type\":\"Failed\",\"status\":\"True\"}]}}",
                "j|Failed|0/1||<unknown>|||<none>");
    CHECK_CELLS(&rt_jobs,
                "{\"metadata\":{\"name\":\"j\",\"deletionTimestamp\":"
                "\"2025-01-01T00:00:00Z\"},\"spec\":{},\"status\":{"
                "\"conditions\":[{\"type\":\"Complete\",\"status\":"
                "\"False\"}]}}",
                "j|Terminating|0/1||<unknown>|||<none>");

    CHECK_CELLS(&rt_leases,
                "{\"metadata\":{\"name\":\"node-1\",\"creationTimestamp\":"
                "\"2024-12-31T23:55:00Z\"},\"spec\":{\"holderIdentity\":"
                "\"node-1\"}}",
                "node-1|node-1|5m");
    CHECK_CELLS(&rt_leases, "{\"metadata\":{\"name\":\"l\"},\"spec\":7}",
                "l||<unknown>");

    /* Garbage shapes still give one cell per column. */
    CHECK_CELLS(&rt_jobs, "{\"spec\":[],\"status\":\"x\"}",
                "|Running|0/1||<unknown>|||<none>");
    CHECK_CELLS(&rt_deployments,
                "{\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":"
                "\"a\",\"operator\":\"Bad\"}]},\"template\":{\"spec\":{"
                "\"containers\":[7,{\"name\":\"x\"}]}}}}",
                "|0/0|0|0|<unknown>|,x|,|<invalid>");
}

int main(void)
{
    test_descriptors();
    test_deployment_defaults();
    test_deployment_validation();
    test_replicaset();
    test_daemonset();
    test_statefulset();
    test_job_defaults();
    test_job_validation();
    test_job_update();
    test_lease();
    test_cells();
    return unit_done("test_resources_apps");
}
