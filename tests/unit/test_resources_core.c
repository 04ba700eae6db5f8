/*
 * core/v1 (and events.k8s.io/v1) resource type tests: defaults, rendered
 * validation messages, printer cells as kubectl shows them, durations,
 * and the registry lookups.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/pod.h"
#include "resources/print.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* 2024-01-01T00:00:00Z */
#define T0 1704067200

static struct json_object *parse(const char *json)
{
    struct json_object *o = json_tokener_parse(json);
    if (!o)
        fprintf(stderr, "bad test JSON: %s\n", json);
    return o;
}

/* What the generic create path does: prepare, defaults, validate. Returns
 * the rendered Invalid message or "(valid)"; caller frees. */
static char *create_msg(const struct resource_type *rt, struct json_object *o)
{
    struct ferr e;
    char *msg;
    ferr_init(&e);
    if (rt->prepare_create)
        rt->prepare_create(o);
    if (rt->defaults)
        rt->defaults(o);
    validate_object_meta(o, rt, &e);
    if (rt->validate)
        rt->validate(o, NULL, &e);
    msg =
        e.n ? ferr_message(&e, rt->kind, ju_str(ju_obj(o, "metadata"), "name"))
            : strdup("(valid)");
    ferr_free(&e);
    return msg;
}

static char *update_msg(const struct resource_type *rt, struct json_object *o,
                        struct json_object *old)
{
    struct ferr e;
    char *msg;
    ferr_init(&e);
    if (rt->defaults)
        rt->defaults(o);
    validate_object_meta(o, rt, &e);
    if (rt->validate)
        rt->validate(o, old, &e);
    msg =
        e.n ? ferr_message(&e, rt->kind, ju_str(ju_obj(o, "metadata"), "name"))
            : strdup("(valid)");
    ferr_free(&e);
    return msg;
}

#define CHECK_CREATE(rt, json, want)                                           \
    do {                                                                       \
        struct json_object *o_ = parse(json);                                  \
        char *m_ = create_msg(rt, o_);                                         \
        CHECK_STR(m_, want);                                                   \
        free(m_);                                                              \
        json_object_put(o_);                                                   \
    } while (0)

/* Cells of `json` joined with '|'. */
static char *cells_of(const struct resource_type *rt, const char *json,
                      time_t now)
{
    struct json_object *o = parse(json);
    struct json_object *cells = json_object_new_array();
    char *out = calloc(1, 4096);
    rt->table_cells(o, cells, now);
    for (size_t i = 0; i < json_object_array_length(cells); i++) {
        struct json_object *c = json_object_array_get_idx(cells, i);
        if (i)
            strncat(out, "|", 4095 - strlen(out));
        strncat(out, json_object_get_string(c), 4095 - strlen(out));
    }
    if ((int)json_object_array_length(cells) != rt->ncolumns)
        fprintf(stderr, "%s: %zu cells for %d columns\n", rt->resource,
                json_object_array_length(cells), rt->ncolumns);
    CHECK_INT(json_object_array_length(cells), rt->ncolumns);
    json_object_put(cells);
    json_object_put(o);
    return out;
}

#define CHECK_CELLS(rt, json, now, want)                                       \
    do {                                                                       \
        char *c_ = cells_of(rt, json, now);                                    \
        CHECK_STR(c_, want);                                                   \
        free(c_);                                                              \
    } while (0)

static const char *path_str(struct json_object *o, const char *path)
{
    struct json_object *v = ju_path(o, path);
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : "(none)";
}

static long long path_int(struct json_object *o, const char *path)
{
    struct json_object *v = ju_path(o, path);
    return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
                                                      : -999;
}

/* ---------------------------------------------------------------- */

static void test_durations(void)
{
    static const struct {
        long long s;
        const char *want;
    } cases[] = {
        {-5, "<invalid>"},
        {-1, "0s"},
        {0, "0s"},
        {59, "59s"},
        {119, "119s"},
        {120, "2m"},
        {123, "2m3s"},
        {599, "9m59s"},
        {600, "10m"},
        {179 * 60, "179m"},
        {3 * 3600, "3h"},
        {3 * 3600 + 1800, "3h30m"},
        {8 * 3600 + 60, "8h"},
        {47 * 3600, "47h"},
        {48 * 3600, "2d"},
        {2 * 86400 + 5 * 3600, "2d5h"},
        {8 * 86400, "8d"},
        {400 * 86400LL, "400d"},
        {730 * 86400LL, "2y"},
        {(3 * 365) * 86400LL, "3y"},
        {(3 * 365 + 4) * 86400LL, "3y4d"},
        {(9 * 365 + 100) * 86400LL, "9y"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        print_duration(buf, sizeof(buf), cases[i].s);
        CHECK_STR(buf, cases[i].want);
    }
}

static void test_time_parse(void)
{
    CHECK_INT(print_parse_time("2024-01-01T00:00:00Z"), T0);
    CHECK_INT(print_parse_time("2024-01-01T00:00:00.123456Z"), T0);
    CHECK_INT(print_parse_time("2024-01-01T02:00:00+02:00"), T0);
    CHECK_INT(print_parse_time("2024-01-01 00:00:00"), -1);
    CHECK_INT(print_parse_time("garbage"), -1);
    CHECK_INT(print_parse_time(""), -1);
    char buf[32];
    struct json_object *o = parse("{\"metadata\":{}}");
    print_age(buf, sizeof(buf), o, T0);
    CHECK_STR(buf, "<unknown>");
    json_object_put(o);
    o = parse(
        "{\"metadata\":{\"creationTimestamp\":\"2024-01-01T00:00:00Z\"}}");
    print_age(buf, sizeof(buf), o, T0 + 90);
    CHECK_STR(buf, "90s");
    json_object_put(o);
    o = parse("{\"b\":\"2\",\"a\":\"1\"}");
    char *l = print_labels(o);
    CHECK_STR(l, "a=1,b=2");
    free(l);
    l = print_labels(NULL);
    CHECK_STR(l, "<none>");
    free(l);
    json_object_put(o);
}

/* ---------------------------------------------------------------- */

#define POD_META "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}"

static void test_pod_defaults(void)
{
    struct json_object *o =
        parse("{" POD_META ",\"spec\":{\"containers\":["
              "{\"name\":\"a\",\"image\":\"nginx\",\"ports\":[{"
              "\"containerPort\":80}],"
              "\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},"
              "{\"name\":\"b\",\"image\":\"busybox:1.36\"},"
              "{\"name\":\"c\",\"image\":\"reg:5000/app\"},"
              "{\"name\":\"d\",\"image\":\"app@sha256:abcd\"}],"
              "\"volumes\":[{\"name\":\"v\"}]}}");
    char *m = create_msg(&rt_pods, o);
    CHECK_STR(m, "(valid)");
    free(m);
    CHECK_STR(path_str(o, "status.phase"), "Pending");
    /* Only container a has limits (requests default to them). */
    CHECK_STR(path_str(o, "status.qosClass"), "Burstable");
    CHECK_STR(path_str(o, "spec.restartPolicy"), "Always");
    CHECK_STR(path_str(o, "spec.dnsPolicy"), "ClusterFirst");
    CHECK_STR(path_str(o, "spec.schedulerName"), "default-scheduler");
    CHECK_STR(path_str(o, "spec.serviceAccountName"), "default");
    CHECK_STR(path_str(o, "spec.serviceAccount"), "default");
    CHECK_STR(path_str(o, "spec.preemptionPolicy"), "PreemptLowerPriority");
    CHECK_INT(path_int(o, "spec.priority"), 0);
    CHECK_INT(path_int(o, "spec.terminationGracePeriodSeconds"), 30);
    CHECK(ju_obj(ju_obj(o, "spec"), "securityContext") != NULL);
    bool esl = false;
    CHECK(ju_bool(ju_obj(o, "spec"), "enableServiceLinks", &esl) && esl);
    struct json_object *cs = ju_arr(ju_obj(o, "spec"), "containers");
    CHECK_STR(ju_str(ju_idx_obj(cs, 0), "imagePullPolicy"), "Always");
    CHECK_STR(ju_str(ju_idx_obj(cs, 1), "imagePullPolicy"), "IfNotPresent");
    CHECK_STR(ju_str(ju_idx_obj(cs, 2), "imagePullPolicy"), "Always");
    CHECK_STR(ju_str(ju_idx_obj(cs, 3), "imagePullPolicy"), "IfNotPresent");
    CHECK_STR(ju_str(ju_idx_obj(cs, 0), "terminationMessagePath"),
              "/dev/termination-log");
    CHECK_STR(ju_str(ju_idx_obj(cs, 0), "terminationMessagePolicy"), "File");
    CHECK_STR(path_str(ju_idx_obj(cs, 0), "resources.requests.cpu"), "1");
    CHECK_STR(
        ju_str(ju_idx_obj(ju_arr(ju_idx_obj(cs, 0), "ports"), 0), "protocol"),
        "TCP");
    struct json_object *vol =
        ju_idx_obj(ju_arr(ju_obj(o, "spec"), "volumes"), 0);
    CHECK(ju_obj(vol, "emptyDir") != NULL);
    json_object_put(o);
}

static void test_pod_qos(void)
{
    struct json_object *s = parse("{\"containers\":[{\"name\":\"a\"}]}");
    CHECK_STR(pod_qos_class(s), "BestEffort");
    json_object_put(s);
    s = parse("{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"500m\","
              "\"memory\":\"128Mi\"},\"requests\":{\"cpu\":\"0.5\"}}}]}");
    CHECK_STR(pod_qos_class(s), "Guaranteed");
    json_object_put(s);
    s = parse("{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1\","
              "\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"100m\"}}}]}");
    CHECK_STR(pod_qos_class(s), "Burstable");
    json_object_put(s);
    s = parse("{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1\","
              "\"memory\":\"1Gi\"}}},{\"name\":\"side\"}]}");
    CHECK_STR(pod_qos_class(s), "Burstable");
    json_object_put(s);

    __int128 q;
    struct json_object *v = json_object_new_string("1Gi");
    CHECK(pod_quantity_nanos(v, &q) == 0 &&
          q == (__int128)1073741824 * 1000000000);
    json_object_put(v);
    v = json_object_new_string("1.5e3");
    CHECK(pod_quantity_nanos(v, &q) == 0 && q == (__int128)1500 * 1000000000);
    json_object_put(v);
    v = json_object_new_string("250m");
    CHECK(pod_quantity_nanos(v, &q) == 0 && q == (__int128)250000000);
    json_object_put(v);
    v = json_object_new_string("12abc");
    CHECK(pod_quantity_nanos(v, &q) == -1);
    json_object_put(v);
    v = json_object_new_int(2);
    CHECK(pod_quantity_nanos(v, &q) == 0 && q == (__int128)2000000000);
    json_object_put(v);
}

#define LABEL_MSG                                                              \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "      \
    "characters or '-', and must start and end with an alphanumeric "          \
    "character (e.g. 'my-name',  or '123-abc', regex used for validation is "  \
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

static void test_pod_validation(void)
{
    CHECK_CREATE(&rt_pods, "{" POD_META ",\"spec\":{}}",
                 "Pod \"web\" is invalid: spec.containers: Required value");
    CHECK_CREATE(&rt_pods, "{" POD_META "}",
                 "Pod \"web\" is invalid: spec.containers: Required value");
    CHECK_CREATE(&rt_pods, "{" POD_META ",\"spec\":{\"containers\":[]}}",
                 "Pod \"web\" is invalid: spec.containers: Required value");
    CHECK_CREATE(&rt_pods, "{" POD_META ",\"spec\":{\"containers\":\"nginx\"}}",
                 "Pod \"web\" is invalid: spec.containers: Invalid value: "
                 "\"string\": must be an array");
    CHECK_CREATE(&rt_pods, "{" POD_META ",\"spec\":[]}",
                 "Pod \"web\" is invalid: spec: Invalid value: \"array\": "
                 "must be an object");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                 "Pod \"web\" is invalid: spec.containers[0].image: Required "
                 "value");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"Web\","
                 "\"image\":\"x\"},{\"name\":\"a\",\"image\":\"x\"},"
                 "{\"name\":\"a\",\"image\":\"x\"}]}}",
                 "Pod \"web\" is invalid: [spec.containers[0].name: Invalid "
                 "value: \"Web\": " LABEL_MSG
                 ", spec.containers[2].name: Duplicate value: \"a\"]");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\","
                 "\"image\":\"x\",\"ports\":[{\"containerPort\":70000},"
                 "{\"containerPort\":80,\"protocol\":\"HTTP\"}]}]}}",
                 "Pod \"web\" is invalid: [spec.containers[0].ports[0]."
                 "containerPort: Invalid value: 70000: must be between 1 and "
                 "65535, inclusive, spec.containers[0].ports[1].protocol: "
                 "Unsupported value: \"HTTP\": supported values: \"SCTP\", "
                 "\"TCP\", \"UDP\"]");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"restartPolicy\":\"Sometimes\","
                 "\"dnsPolicy\":\"Bogus\",\"containers\":[{\"name\":\"a\","
                 "\"image\":\"x\"}]}}",
                 "Pod \"web\" is invalid: [spec.restartPolicy: Unsupported "
                 "value: \"Sometimes\": supported values: \"Always\", "
                 "\"OnFailure\", \"Never\", spec.dnsPolicy: Unsupported value: "
                 "\"Bogus\": supported values: \"ClusterFirstWithHostNet\", "
                 "\"ClusterFirst\", \"Default\", \"None\"]");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\","
                 "\"image\":\"x\",\"volumeMounts\":[{\"name\":\"data\","
                 "\"mountPath\":\"/d\"}]}],\"volumes\":[{\"name\":\"cfg\","
                 "\"configMap\":{\"name\":\"c\"}},{\"name\":\"cfg\"}]}}",
                 "Pod \"web\" is invalid: [spec.volumes[1].name: Duplicate "
                 "value: \"cfg\", spec.containers[0].volumeMounts[0].name: Not "
                 "found: \"data\"]");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\","
                 "\"image\":\"x\",\"resources\":{\"limits\":{\"cpu\":\"1\"},"
                 "\"requests\":{\"cpu\":\"2\",\"memory\":\"lots\"}}}]}}",
                 "Pod \"web\" is invalid: [spec.containers[0].resources."
                 "requests[memory]: Invalid value: \"lots\": quantities must "
                 "match the regular expression "
                 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$', "
                 "spec.containers[0].resources.requests: Invalid value: \"2\": "
                 "must be less than or equal to cpu limit of 1]");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\","
                 "\"image\":\"x\",\"env\":[{\"name\":\"A=B\",\"value\":\"1\"},"
                 "{\"name\":\"X\",\"value\":5}]}]}}",
                 "Pod \"web\" is invalid: [spec.containers[0].env[0].name: "
                 "Invalid value: \"A=B\": a valid environment variable name "
                 "must consist only of printable ASCII characters other than "
                 "'=', spec.containers[0].env[1].value: Invalid value: "
                 "\"integer\": must be a string]");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\","
                 "\"image\":\"x\",\"livenessProbe\":{\"successThreshold\":2,"
                 "\"httpGet\":{\"port\":8080}}}],\"tolerations\":[{"
                 "\"operator\":\"Equal\",\"value\":\"x\"}]}}",
                 "Pod \"web\" is invalid: [spec.containers[0].livenessProbe."
                 "successThreshold: Invalid value: 2: must be 1, "
                 "spec.tolerations[0].operator: Invalid value: \"Equal\": "
                 "operator must be Exists when `key` is empty, which means "
                 "\"match all values and all keys\"]");
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"dnsPolicy\":\"None\","
                 "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
                 "Pod \"web\" is invalid: spec.dnsConfig: Required value: must "
                 "provide `dnsConfig` when `dnsPolicy` is None");
    /* Non-objects inside arrays are reported, not dereferenced. */
    CHECK_CREATE(&rt_pods,
                 "{" POD_META ",\"spec\":{\"containers\":[7,{\"name\":\"a\","
                 "\"image\":\"x\",\"ports\":[null]}]}}",
                 "Pod \"web\" is invalid: [spec.containers[0]: Invalid value: "
                 "\"integer\": must be an object, spec.containers[1].ports[0]: "
                 "Invalid value: \"null\": must be an object]");
}

static void test_pod_update(void)
{
    struct json_object *old =
        parse("{" POD_META ",\"spec\":{\"containers\":[{\"name\":\"a\","
              "\"image\":\"nginx:1\"}]}}");
    char *m = create_msg(&rt_pods, old);
    CHECK_STR(m, "(valid)");
    free(m);

    struct json_object *nw = NULL;
    json_object_deep_copy(old, &nw, NULL);
    json_object_object_add(
        ju_idx_obj(ju_arr(ju_obj(nw, "spec"), "containers"), 0), "image",
        json_object_new_string("nginx:2"));
    m = update_msg(&rt_pods, nw, old);
    CHECK_STR(m, "(valid)");
    free(m);
    json_object_put(nw);

    nw = NULL;
    json_object_deep_copy(old, &nw, NULL);
    ju_set_str(ju_obj(nw, "spec"), "restartPolicy", "Never");
    m = update_msg(&rt_pods, nw, old);
    CHECK_STR(m, "Pod \"web\" is invalid: spec: Forbidden: pod updates may "
                 "not change fields other than `spec.containers[*].image`,"
                 "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                 "`spec.tolerations` (only additions to existing tolerations),"
                 "`spec.terminationGracePeriodSeconds` (allow it to be set to "
                 "1 if it was previously negative)");
    free(m);
    json_object_put(nw);

    nw = NULL;
    json_object_deep_copy(old, &nw, NULL);
    json_object_array_add(ju_arr(ju_obj(nw, "spec"), "containers"),
                          parse("{\"name\":\"b\",\"image\":\"x\"}"));
    m = update_msg(&rt_pods, nw, old);
    CHECK_STR(m, "Pod \"web\" is invalid: spec.containers: Forbidden: pod "
                 "updates may not add or remove containers");
    free(m);
    json_object_put(nw);

    nw = NULL;
    json_object_deep_copy(old, &nw, NULL);
    ju_set_int(ju_obj(nw, "spec"), "activeDeadlineSeconds", 30);
    struct json_object *tol = json_object_new_array();
    json_object_array_add(tol, parse("{\"operator\":\"Exists\"}"));
    json_object_object_add(ju_obj(nw, "spec"), "tolerations", tol);
    m = update_msg(&rt_pods, nw, old);
    CHECK_STR(m, "(valid)");
    free(m);
    json_object_put(nw);
    json_object_put(old);
}

#define POD_CT "\"creationTimestamp\":\"2024-01-01T00:00:00Z\""

static void test_pod_cells(void)
{
    CHECK_CELLS(&rt_pods,
                "{\"metadata\":{\"name\":\"p\"," POD_CT "},\"spec\":{"
                "\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                "\"status\":{\"phase\":\"Pending\"}}",
                T0 + 30, "p|0/2|Pending|0|30s|<none>|<none>|<none>|<none>");
    CHECK_CELLS(
        &rt_pods,
        "{\"metadata\":{\"name\":\"p\"," POD_CT "},\"spec\":{"
        "\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"}],"
        "\"readinessGates\":[{\"conditionType\":\"x\"}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.0.5\","
        "\"conditions\":[{\"type\":\"x\",\"status\":\"True\"}],"
        "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,"
        "\"restartCount\":5,\"state\":{\"running\":{}},\"lastState\":"
        "{\"terminated\":{\"finishedAt\":\"2024-01-01T00:10:00Z\"}}}]}}",
        T0 + 900, "p|1/1|Running|5 (5m ago)|15m|10.1.0.5|n1|<none>|1/1");
    CHECK_CELLS(&rt_pods,
                "{\"metadata\":{\"name\":\"p\"," POD_CT "},\"spec\":{"
                "\"containers\":[{\"name\":\"a\"}]},"
                "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{"
                "\"name\":\"a\",\"restartCount\":3,\"state\":{\"waiting\":{"
                "\"reason\":\"CrashLoopBackOff\"}}}]}}",
                T0 + 3 * 86400,
                "p|0/1|CrashLoopBackOff|3|3d|<none>|<none>|"
                "<none>|<none>");
    CHECK_CELLS(&rt_pods,
                "{\"metadata\":{\"name\":\"p\"," POD_CT
                ",\"deletionTimestamp\":\"2024-01-01T00:01:00Z\"},\"spec\":{"
                "\"containers\":[{\"name\":\"a\"}]},"
                "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{"
                "\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}}]}}",
                T0 + 61, "p|1/1|Terminating|0|61s|<none>|<none>|<none>|<none>");
    CHECK_CELLS(&rt_pods,
                "{\"metadata\":{\"name\":\"p\"," POD_CT "},\"spec\":{"
                "\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],"
                "\"containers\":[{\"name\":\"a\"}]},"
                "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
                "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":0}}},"
                "{\"name\":\"i2\",\"state\":{\"running\":{}}}]}}",
                T0 + 5, "p|0/1|Init:1/2|0|5s|<none>|<none>|<none>|<none>");
    CHECK_CELLS(&rt_pods,
                "{\"metadata\":{\"name\":\"p\"," POD_CT "},\"spec\":{"
                "\"containers\":[{\"name\":\"a\"}]},"
                "\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{"
                "\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,"
                "\"reason\":\"Completed\"}}}]}}",
                T0 + 5, "p|0/1|Completed|0|5s|<none>|<none>|<none>|<none>");
    CHECK_CELLS(&rt_pods,
                "{\"metadata\":{\"name\":\"p\"," POD_CT "},\"spec\":{"
                "\"containers\":[{\"name\":\"a\"}]},"
                "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{"
                "\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":137,"
                "\"signal\":9}}}]}}",
                T0 + 5, "p|0/1|Signal:9|0|5s|<none>|<none>|<none>|<none>");
    /* Garbage types in status degrade to defaults, never crash. */
    CHECK_CELLS(&rt_pods,
                "{\"metadata\":{\"name\":\"p\"},\"spec\":\"x\","
                "\"status\":{\"containerStatuses\":\"y\",\"conditions\":5}}",
                T0, "p|0/0||0|<unknown>|<none>|<none>|<none>|<none>");
}

/* ---------------------------------------------------------------- */

#define SVC_META "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}"

static void test_services(void)
{
    struct json_object *o = parse(
        "{" SVC_META ",\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":["
        "{\"port\":80}]}}");
    char *m = create_msg(&rt_services, o);
    CHECK_STR(m, "(valid)");
    free(m);
    CHECK_STR(path_str(o, "spec.type"), "ClusterIP");
    CHECK_STR(path_str(o, "spec.sessionAffinity"), "None");
    CHECK_STR(path_str(o, "spec.internalTrafficPolicy"), "Cluster");
    CHECK_STR(path_str(o, "spec.ipFamilyPolicy"), "SingleStack");
    struct json_object *p = ju_idx_obj(ju_arr(ju_obj(o, "spec"), "ports"), 0);
    CHECK_STR(ju_str(p, "protocol"), "TCP");
    int64_t tp = 0;
    CHECK(ju_int(p, "targetPort", &tp) && tp == 80);
    CHECK(ju_obj(ju_obj(o, "status"), "loadBalancer") != NULL);
    json_object_put(o);

    CHECK_CREATE(&rt_services, "{" SVC_META ",\"spec\":{}}",
                 "Service \"web\" is invalid: spec.ports: Required value");
    CHECK_CREATE(&rt_services,
                 "{" SVC_META ",\"spec\":{\"type\":\"Magic\",\"ports\":["
                 "{\"port\":0},{\"name\":\"b\",\"port\":81}]}}",
                 "Service \"web\" is invalid: [spec.ports[0].name: Required "
                 "value, spec.ports[0].port: Invalid value: 0: must be "
                 "between 1 and 65535, inclusive, spec.ports[0].targetPort: "
                 "Invalid value: 0: must be between 1 and 65535, inclusive, "
                 "spec.type: Unsupported "
                 "value: \"Magic\": supported values: \"ClusterIP\", "
                 "\"ExternalName\", \"LoadBalancer\", \"NodePort\"]");
    CHECK_CREATE(&rt_services,
                 "{" SVC_META ",\"spec\":{\"ports\":[{\"name\":\"a\","
                 "\"port\":80},{\"name\":\"a\",\"port\":80}]}}",
                 "Service \"web\" is invalid: [spec.ports[1].name: Duplicate "
                 "value: \"a\", spec.ports[1]: Duplicate value: "
                 "core.ServicePort{Name:\"\", Protocol:\"TCP\", "
                 "AppProtocol:(*string)(nil), Port:80, "
                 "TargetPort:intstr.IntOrString{Type:0, IntVal:0, "
                 "StrVal:\"\"}, NodePort:0}]");
    CHECK_CREATE(&rt_services,
                 "{" SVC_META ",\"spec\":{\"type\":\"ExternalName\","
                 "\"externalName\":\"db.example.com.\"}}",
                 "(valid)");
    CHECK_CREATE(&rt_services,
                 "{" SVC_META ",\"spec\":{\"ports\":[{\"port\":80,"
                 "\"nodePort\":30080}]}}",
                 "Service \"web\" is invalid: spec.ports[0].nodePort: "
                 "Forbidden: may not be used when `type` is 'ClusterIP'");
    CHECK_CREATE(&rt_services, "{" SVC_META ",\"spec\":{\"ports\":\"80\"}}",
                 "Service \"web\" is invalid: [spec.ports: Invalid value: "
                 "\"string\": must be an array, spec.ports: Required value]");

    /* Updates keep the allocated IP; changing it is refused. */
    struct json_object *old =
        parse("{" SVC_META ",\"spec\":{\"clusterIP\":\"10.96.0.10\","
              "\"clusterIPs\":[\"10.96.0.10\"],\"ports\":[{\"port\":80}]}}");
    m = create_msg(&rt_services, old);
    CHECK_STR(m, "(valid)");
    free(m);
    struct json_object *nw =
        parse("{" SVC_META ",\"spec\":{\"ports\":[{\"port\":8080}]}}");
    m = update_msg(&rt_services, nw, old);
    CHECK_STR(m, "(valid)");
    free(m);
    CHECK_STR(path_str(nw, "spec.clusterIP"), "10.96.0.10");
    json_object_put(nw);
    nw = parse("{" SVC_META ",\"spec\":{\"clusterIP\":\"10.96.0.11\","
               "\"ports\":[{\"port\":80}]}}");
    m = update_msg(&rt_services, nw, old);
    CHECK_STR(m, "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid "
                 "value: []string{\"10.96.0.11\"}: may not change once set");
    free(m);
    json_object_put(nw);
    json_object_put(old);

    CHECK_CELLS(&rt_services,
                "{\"metadata\":{\"name\":\"web\"," POD_CT "},\"spec\":{"
                "\"type\":\"NodePort\",\"clusterIPs\":[\"10.96.0.10\"],"
                "\"selector\":{\"tier\":\"fe\",\"app\":\"web\"},\"ports\":["
                "{\"port\":80,\"protocol\":\"TCP\"},{\"port\":443,"
                "\"nodePort\":30443,\"protocol\":\"TCP\"}]}}",
                T0 + 7200,
                "web|NodePort|10.96.0.10|<none>|80/TCP,443:30443/TCP|120m|"
                "app=web,tier=fe");
    CHECK_CELLS(&rt_services,
                "{\"metadata\":{\"name\":\"lb\"},\"spec\":{"
                "\"type\":\"LoadBalancer\",\"clusterIP\":\"10.96.0.2\","
                "\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]},"
                "\"status\":{\"loadBalancer\":{}}}",
                T0,
                "lb|LoadBalancer|10.96.0.2|<pending>|53/UDP|<unknown>|"
                "<none>");
    CHECK_CELLS(&rt_services,
                "{\"metadata\":{\"name\":\"lb\"},\"spec\":{"
                "\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.96.0.2\"],"
                "\"externalIPs\":[\"1.2.3.4\"]},\"status\":{\"loadBalancer\":"
                "{\"ingress\":[{\"ip\":\"5.6.7.8\"},{\"hostname\":\"a.b\"}]}}}",
                T0,
                "lb|LoadBalancer|10.96.0.2|5.6.7.8,a.b,1.2.3.4|<none>|"
                "<unknown>|<none>");
    CHECK_CELLS(
        &rt_services,
        "{\"metadata\":{\"name\":\"ext\"},\"spec\":{"
        "\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}}",
        T0,
        "ext|ExternalName|<none>|db.example.com|<none>|<unknown>|"
        "<none>");
}

/* ---------------------------------------------------------------- */

#define CM_META "\"metadata\":{\"name\":\"c\",\"namespace\":\"default\"}"

static void test_configmaps_secrets(void)
{
    CHECK_CREATE(&rt_configmaps, "{" CM_META ",\"data\":{\"a.b\":\"x\"}}",
                 "(valid)");
    CHECK_CREATE(&rt_configmaps,
                 "{" CM_META ",\"data\":{\"a/b\":\"x\",\"n\":1}}",
                 "ConfigMap \"c\" is invalid: [data[a/b]: Invalid value: "
                 "\"a/b\": a valid config key must consist of alphanumeric "
                 "characters, '-', '_' or '.' (e.g. 'key.name',  or "
                 "'KEY_NAME',  or 'key-name', regex used for validation is "
                 "'[-._a-zA-Z0-9]+'), data[n]: Invalid value: \"integer\": "
                 "must be a string]");
    CHECK_CREATE(&rt_configmaps,
                 "{" CM_META ",\"data\":{\"k\":\"x\"},\"binaryData\":{\"k\":"
                 "\"eA==\"}}",
                 "ConfigMap \"c\" is invalid: data[k]: Invalid value: \"k\": "
                 "duplicate of key present in binaryData");
    {
        size_t n = 1024 * 1024 + 1;
        char *big = malloc(n + 1);
        memset(big, 'x', n);
        big[n] = '\0';
        struct json_object *o = parse("{" CM_META ",\"data\":{}}");
        json_object_object_add(ju_obj(o, "data"), "k",
                               json_object_new_string(big));
        char *m = create_msg(&rt_configmaps, o);
        CHECK_STR(m, "ConfigMap \"c\" is invalid: []: Too long: must have at "
                     "most 1048576 bytes");
        free(m);
        free(big);
        json_object_put(o);
    }
    struct json_object *old =
        parse("{" CM_META ",\"immutable\":true,\"data\":{\"a\":\"1\"}}");
    struct json_object *nw =
        parse("{" CM_META ",\"immutable\":true,\"data\":{\"a\":\"2\"}}");
    char *m = update_msg(&rt_configmaps, nw, old);
    CHECK_STR(m, "ConfigMap \"c\" is invalid: data: Forbidden: field is "
                 "immutable when `immutable` is set");
    free(m);
    json_object_put(old);
    json_object_put(nw);
    CHECK_CELLS(&rt_configmaps,
                "{\"metadata\":{\"name\":\"c\"," POD_CT "},\"data\":{\"a\":"
                "\"1\",\"b\":\"2\"},\"binaryData\":{\"c\":\"eA==\"}}",
                T0 + 60, "c|3|60s");

    /* Secrets: type Opaque, stringData merged into data as base64. */
    struct json_object *o = parse("{" CM_META ",\"data\":{\"a\":\"eA==\"},"
                                  "\"stringData\":{\"pw\":\"hunter2\"}}");
    m = create_msg(&rt_secrets, o);
    CHECK_STR(m, "(valid)");
    free(m);
    CHECK_STR(ju_str(o, "type"), "Opaque");
    CHECK_STR(path_str(o, "data.pw"), "aHVudGVyMg==");
    CHECK(!ju_has(o, "stringData"));
    json_object_put(o);
    CHECK_CREATE(&rt_secrets, "{" CM_META ",\"data\":{\"a\":\"not base64!\"}}",
                 "Secret \"c\" is invalid: data[a]: Invalid value: "
                 "\"<secret contents redacted>\": illegal base64 data at input "
                 "byte 3");
    CHECK_CREATE(&rt_secrets,
                 "{" CM_META ",\"type\":\"kubernetes.io/tls\",\"data\":{"
                 "\"tls.crt\":\"eA==\"}}",
                 "Secret \"c\" is invalid: data[tls.key]: Required value");
    old = parse("{" CM_META ",\"type\":\"Opaque\"}");
    nw = parse("{" CM_META ",\"type\":\"kubernetes.io/basic-auth\",\"data\":"
               "{\"username\":\"eA==\"}}");
    m = update_msg(&rt_secrets, nw, old);
    CHECK_STR(m, "Secret \"c\" is invalid: type: Invalid value: "
                 "\"kubernetes.io/basic-auth\": field is immutable");
    free(m);
    json_object_put(old);
    json_object_put(nw);
    CHECK_CELLS(&rt_secrets,
                "{\"metadata\":{\"name\":\"s\"," POD_CT "},\"type\":\"Opaque\","
                "\"data\":{\"a\":\"eA==\"}}",
                T0 + 86400 * 2 + 3600, "s|Opaque|1|2d1h");

    CHECK_CELLS(&rt_serviceaccounts,
                "{\"metadata\":{\"name\":\"default\"," POD_CT "}}", T0 + 5,
                "default|0|5s");
    CHECK_CREATE(&rt_serviceaccounts,
                 "{" CM_META ",\"secrets\":[{\"name\":1}]}",
                 "ServiceAccount \"c\" is invalid: secrets[0].name: Invalid "
                 "value: \"integer\": must be a string");
}

static void test_endpoints(void)
{
    CHECK_CELLS(&rt_endpoints,
                "{\"metadata\":{\"name\":\"e\"," POD_CT "},\"subsets\":[{"
                "\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}],"
                "\"ports\":[{\"port\":80},{\"port\":443}]}]}",
                T0 + 1,
                "e|10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...|1s");
    CHECK_CELLS(&rt_endpoints, "{\"metadata\":{\"name\":\"e\"}}", T0,
                "e|<none>|<unknown>");
    CHECK_CELLS(&rt_endpoints,
                "{\"metadata\":{\"name\":\"e\"},\"subsets\":[{\"addresses\":"
                "[{\"ip\":\"fd00::1\"}],\"ports\":[{\"port\":53}]}]}",
                T0, "e|[fd00::1]:53|<unknown>");
    CHECK_CREATE(&rt_endpoints,
                 "{" CM_META ",\"subsets\":[{\"addresses\":[{\"ip\":"
                 "\"127.0.0.1\"}],\"ports\":[{\"port\":80,\"protocol\":"
                 "\"TCP\"}]},{}]}",
                 "Endpoints \"c\" is invalid: [subsets[0].addresses[0].ip: "
                 "Invalid value: \"127.0.0.1\": may not be in the loopback "
                 "range (127.0.0.0/8, ::1/128), subsets[1]: Required value: "
                 "must specify `addresses` or `notReadyAddresses`]");
}

/* ---------------------------------------------------------------- */

static void test_namespaces(void)
{
    struct json_object *o = parse("{\"metadata\":{\"name\":\"team-a\"}}");
    char *m = create_msg(&rt_namespaces, o);
    CHECK_STR(m, "(valid)");
    free(m);
    CHECK_STR(path_str(o, "status.phase"), "Active");
    struct json_object *fin = ju_path(o, "spec.finalizers");
    CHECK(ju_len(fin) == 1 &&
          strcmp(json_object_get_string(json_object_array_get_idx(fin, 0)),
                 "kubernetes") == 0);
    CHECK_STR(
        ju_str(ju_path(o, "metadata.labels"), "kubernetes.io/metadata.name"),
        "team-a");
    json_object_put(o);
    CHECK_CREATE(&rt_namespaces,
                 "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"finalizers\":["
                 "\"custom\"]}}",
                 "Namespace \"x\" is invalid: spec.finalizers: Invalid value: "
                 "\"custom\": name is neither a standard finalizer name nor "
                 "is it fully qualified");
    CHECK_CELLS(&rt_namespaces,
                "{\"metadata\":{\"name\":\"default\"," POD_CT "},\"status\":{"
                "\"phase\":\"Terminating\"}}",
                T0 + 400 * 86400LL, "default|Terminating|400d");
}

static void test_nodes(void)
{
    CHECK_CELLS(&rt_nodes,
                "{\"metadata\":{\"name\":\"edge-1\"," POD_CT ",\"labels\":{"
                "\"node-role.kubernetes.io/edge\":\"\","
                "\"node-role.kubernetes.io/agent\":\"\","
                "\"kubernetes.io/role\":\"edge\"}},\"spec\":{"
                "\"unschedulable\":true},\"status\":{\"conditions\":[{"
                "\"type\":\"Ready\",\"status\":\"True\"}],\"addresses\":[{"
                "\"type\":\"InternalIP\",\"address\":\"192.168.1.5\"}],"
                "\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0\","
                "\"osImage\":\"Debian GNU/Linux 12\",\"kernelVersion\":"
                "\"6.1.0\",\"containerRuntimeVersion\":\"containerd://1.7\"}}}",
                T0 + 3 * 365 * 86400LL,
                "edge-1|Ready,SchedulingDisabled|agent,edge|3y|v1.32.0|"
                "192.168.1.5|<none>|Debian GNU/Linux 12|6.1.0|"
                "containerd://1.7");
    CHECK_CELLS(&rt_nodes,
                "{\"metadata\":{\"name\":\"n\"},\"status\":{\"conditions\":[{"
                "\"type\":\"Ready\",\"status\":\"Unknown\"}]}}",
                T0,
                "n|NotReady|<none>|<unknown>||<none>|<none>|<unknown>|"
                "<unknown>|<unknown>");
    CHECK_CELLS(&rt_nodes, "{\"metadata\":{\"name\":\"n\"}}", T0,
                "n|Unknown|<none>|<unknown>||<none>|<none>|<unknown>|"
                "<unknown>|<unknown>");
    struct json_object *o = parse(
        "{\"metadata\":{\"name\":\"n\"},\"status\":{\"capacity\":{\"cpu\":"
        "\"4\"}}}");
    char *m = create_msg(&rt_nodes, o);
    CHECK_STR(m, "(valid)");
    free(m);
    CHECK_STR(path_str(o, "status.allocatable.cpu"), "4");
    json_object_put(o);
    CHECK_CREATE(&rt_nodes,
                 "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"taints\":[{"
                 "\"key\":\"k\",\"effect\":\"Sometimes\"}]}}",
                 "Node \"n\" is invalid: metadata.taints[0].effect: "
                 "Unsupported value: \"Sometimes\": supported values: "
                 "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");
}

static void test_events(void)
{
    const char *ev =
        "{\"metadata\":{\"name\":\"web.17a\",\"namespace\":\"default\"," POD_CT
        "},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web\","
        "\"namespace\":\"default\",\"fieldPath\":\"spec.containers{a}\"},"
        "\"reason\":\"Pulled\",\"message\":\"  Pulled image \\\"x\\\"\\n\","
        "\"type\":\"Normal\",\"source\":{\"component\":\"kubelet\","
        "\"host\":\"n1\"},\"firstTimestamp\":\"2024-01-01T00:00:00Z\","
        "\"lastTimestamp\":\"2024-01-01T00:05:00Z\",\"count\":4}";
    CHECK_CELLS(&rt_events, ev, T0 + 600,
                "5m|Normal|Pulled|pod/web|spec.containers{a}|kubelet, n1|"
                "Pulled image \"x\"|10m|4|web.17a");
    CHECK_CREATE(&rt_events, ev, "(valid)");
    CHECK_CREATE(&rt_events,
                 "{\"metadata\":{\"name\":\"e\",\"namespace\":\"team\"},"
                 "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"x\"}}",
                 "Event \"e\" is invalid: involvedObject.namespace: Invalid "
                 "value: \"\": does not match event.namespace");
    CHECK_CREATE(&rt_events,
                 "{\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"},"
                 "\"involvedObject\":\"pod/x\"}",
                 "Event \"e\" is invalid: involvedObject: Invalid value: "
                 "\"string\": must be an object");

    const char *v1 =
        "{\"metadata\":{\"name\":\"e1\",\"namespace\":\"default\"},"
        "\"regarding\":{\"kind\":\"Node\",\"name\":\"n1\"},"
        "\"eventTime\":\"2024-01-01T00:00:00.000000Z\",\"reason\":\"Up\","
        "\"note\":\"ok\",\"type\":\"Normal\",\"action\":\"Started\","
        "\"reportingController\":\"kedge.io/edged\",\"reportingInstance\":"
        "\"edged-n1\",\"series\":{\"count\":3,\"lastObservedTime\":"
        "\"2024-01-01T00:01:00.000000Z\"}}";
    CHECK_CREATE(&rt_events_v1, v1, "(valid)");
    CHECK_CELLS(&rt_events_v1, v1, T0 + 120,
                "60s|Normal|Up|node/n1||kedge.io/edged, edged-n1|ok|2m|3|e1");
    CHECK_CREATE(&rt_events_v1,
                 "{\"metadata\":{\"name\":\"e1\",\"namespace\":\"default\"},"
                 "\"regarding\":{\"kind\":\"Node\",\"name\":\"n1\"},"
                 "\"eventTime\":\"2024-01-01T00:00:00Z\",\"reason\":\"Up\","
                 "\"type\":\"Info\",\"action\":\"A\",\"reportingController\":"
                 "\"c\",\"reportingInstance\":\"i\",\"deprecatedCount\":2}",
                 "Event \"e1\" is invalid: [type: Invalid value: \"\": has "
                 "invalid value: Info, count: Invalid value: \"\": needs to "
                 "be unset]");
}

static void test_registry(void)
{
    CHECK(resource_lookup("", "v1", "pods") == &rt_pods);
    CHECK(resource_lookup("", "v1", "events") == &rt_events);
    CHECK(resource_lookup("events.k8s.io", "v1", "events") == &rt_events_v1);
    CHECK(resource_lookup("", "v2", "pods") == NULL);
    CHECK(resource_lookup("", "v1", "widgets") == NULL);
    CHECK(resource_lookup_kind("", "Namespace") == &rt_namespaces);
    CHECK(resource_lookup_kind("events.k8s.io", "Event") == &rt_events_v1);
    char buf[64];
    CHECK_STR(resource_api_version(&rt_services, buf, sizeof(buf)), "v1");
    CHECK_STR(resource_api_version(&rt_events_v1, buf, sizeof(buf)),
              "events.k8s.io/v1");
    int n = 0;
    for (int i = 0; resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        n++;
        CHECK(rt->ncolumns > 0 && rt->columns && rt->table_cells);
        /* NAME is the name-formatted column of every kind. */
        bool named = false;
        for (int c = 0; c < rt->ncolumns; c++)
            named = named || strcmp(rt->columns[c].format, "name") == 0;
        CHECK(named);
    }
    CHECK_INT(n, 16);
    CHECK_STR(rt_pods.short_names[0], "po");
    CHECK(rt_secrets.short_names[0] == NULL);
    CHECK(rt_pods.in_all && rt_services.in_all && !rt_configmaps.in_all);
    CHECK(rt_pods.has_binding && !rt_pods.has_generation);
}

int main(void)
{
    test_durations();
    test_time_parse();
    test_pod_defaults();
    test_pod_qos();
    test_pod_validation();
    test_pod_update();
    test_pod_cells();
    test_services();
    test_configmaps_secrets();
    test_endpoints();
    test_namespaces();
    test_nodes();
    test_events();
    test_registry();
    return unit_done("test_resources_core");
}
