/*
 * Validation tests: DNS-1123/1035 names, qualified names, label values,
 * labels and annotations maps and object metadata, checked against the
 * exact texts Kubernetes renders in its 422 Invalid messages.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#define SUBDOMAIN_MSG                                                          \
    "a lowercase RFC 1123 subdomain must consist of lower case "               \
    "alphanumeric characters, '-' or '.', and must start and end with an "     \
    "alphanumeric character (e.g. 'example.com', regex used for validation "   \
    "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_MSG                                                              \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "      \
    "characters or '-', and must start and end with an alphanumeric "          \
    "character (e.g. 'my-name',  or '123-abc', regex used for validation is "  \
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define DNS1035_MSG                                                            \
    "a DNS-1035 label must consist of lower case alphanumeric characters or "  \
    "'-', start with an alphabetic character, and end with an alphanumeric "   \
    "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "  \
    "'[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_MSG                                                              \
    "name part must consist of alphanumeric characters, '-', '_' or '.', and " \
    "must start and end with an alphanumeric character (e.g. 'MyName',  or "   \
    "'my.name',  or '123-abc', regex used for validation is "                  \
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                        \
    "a valid label must be an empty string or consist of alphanumeric "        \
    "characters, '-', '_' or '.', and must start and end with an "             \
    "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "    \
    "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"             \
    "[A-Za-z0-9])?')"

static const char *nonnull(const char *s) { return s ? s : "(valid)"; }

static void test_dns1123_label(void)
{
    CHECK(validate_dns1123_label("a") == NULL);
    CHECK(validate_dns1123_label("my-name") == NULL);
    CHECK(validate_dns1123_label("123-abc") == NULL);
    CHECK_STR(nonnull(validate_dns1123_label("")), LABEL_MSG);
    CHECK_STR(nonnull(validate_dns1123_label("-a")), LABEL_MSG);
    CHECK_STR(nonnull(validate_dns1123_label("a-")), LABEL_MSG);
    CHECK_STR(nonnull(validate_dns1123_label("Foo")), LABEL_MSG);
    CHECK_STR(nonnull(validate_dns1123_label("a_b")), LABEL_MSG);
    /* A valid subdomain but not a label: the dots are the problem. */
    CHECK_STR(nonnull(validate_dns1123_label("a.b")), "must not contain dots");
    char long64[65];
    memset(long64, 'a', 64);
    long64[64] = '\0';
    CHECK_STR(nonnull(validate_dns1123_label(long64)),
              "must be no more than 63 characters");
    long64[63] = '\0';
    CHECK(validate_dns1123_label(long64) == NULL);
}

static void test_dns1123_subdomain(void)
{
    CHECK(validate_dns1123_subdomain("example.com") == NULL);
    CHECK(validate_dns1123_subdomain("a") == NULL);
    CHECK(validate_dns1123_subdomain("a-b.c-d.e") == NULL);
    CHECK_STR(nonnull(validate_dns1123_subdomain("Example")), SUBDOMAIN_MSG);
    CHECK_STR(nonnull(validate_dns1123_subdomain("a..b")), SUBDOMAIN_MSG);
    CHECK_STR(nonnull(validate_dns1123_subdomain(".a")), SUBDOMAIN_MSG);
    CHECK_STR(nonnull(validate_dns1123_subdomain("a.")), SUBDOMAIN_MSG);
    CHECK_STR(nonnull(validate_dns1123_subdomain("a.-b")), SUBDOMAIN_MSG);
    CHECK_STR(nonnull(validate_dns1123_subdomain("")), SUBDOMAIN_MSG);
    char big[300];
    memset(big, 'a', 254);
    big[254] = '\0';
    CHECK_STR(nonnull(validate_dns1123_subdomain(big)),
              "must be no more than 253 characters");
}

static void test_dns1035(void)
{
    CHECK(validate_dns1035_label("my-svc") == NULL);
    CHECK_STR(nonnull(validate_dns1035_label("1abc")), DNS1035_MSG);
    CHECK_STR(nonnull(validate_dns1035_label("abc-")), DNS1035_MSG);
    CHECK_STR(nonnull(validate_dns1035_label("a.b")), DNS1035_MSG);
}

static void test_qualified_name(void)
{
    CHECK(validate_qualified_name("app") == NULL);
    CHECK(validate_qualified_name("MyName") == NULL);
    CHECK(validate_qualified_name("example.com/my_name-1.x") == NULL);
    CHECK(validate_qualified_name("node-role.kubernetes.io/control-plane") ==
          NULL);
    CHECK_STR(nonnull(validate_qualified_name("")),
              "name part must be non-empty");
    CHECK_STR(nonnull(validate_qualified_name("-app")), QNAME_MSG);
    CHECK_STR(nonnull(validate_qualified_name("/app")),
              "prefix part must be non-empty");
    CHECK_STR(nonnull(validate_qualified_name("Example.com/app")),
              "prefix part " SUBDOMAIN_MSG);
    CHECK_STR(nonnull(validate_qualified_name("a/b/c")),
              "a qualified name must consist of alphanumeric characters, "
              "'-', '_' or '.', and must start and end with an alphanumeric "
              "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
              "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
              "[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
              "(e.g. 'example.com/MyName')");
    char long64[80];
    memset(long64, 'a', 64);
    long64[64] = '\0';
    CHECK_STR(nonnull(validate_qualified_name(long64)),
              "name part must be no more than 63 characters");
}

static void test_label_value(void)
{
    CHECK(validate_label_value("") == NULL);
    CHECK(validate_label_value("v1.2_x-y") == NULL);
    CHECK_STR(nonnull(validate_label_value("-x")), LABEL_VALUE_MSG);
    CHECK_STR(nonnull(validate_label_value("a b")), LABEL_VALUE_MSG);
    CHECK_STR(nonnull(validate_label_value("x/y")), LABEL_VALUE_MSG);
}

static void test_name_msgs(void)
{
    const char *m[6];
    /* generateName may end in '-' (Kubernetes masks the trailing dash). */
    CHECK_INT(validate_name_msgs(NAME_SUBDOMAIN, "web-", true, m, 6), 0);
    CHECK_INT(validate_name_msgs(NAME_SUBDOMAIN, "web-", false, m, 6), 1);
    CHECK_INT(validate_name_msgs(NAME_PATH_SEGMENT, "a/b%c", false, m, 6), 2);
    CHECK_STR(m[0], "may not contain '/'");
    CHECK_STR(m[1], "may not contain '%'");
    CHECK_INT(validate_name_msgs(NAME_PATH_SEGMENT, "..", false, m, 6), 1);
    CHECK_STR(m[0], "may not be '..'");
    CHECK_INT(validate_name_msgs(NAME_PATH_SEGMENT, "Any Name_ok", false, m, 6),
              0);
    char big[300];
    memset(big, 'A', 260);
    big[260] = '\0';
    CHECK_INT(validate_name_msgs(NAME_SUBDOMAIN, big, false, m, 6), 2);
    CHECK_STR(m[0], "must be no more than 253 characters");
}

static void test_config_key_and_port_name(void)
{
    CHECK(validate_config_key("app.properties") == NULL);
    CHECK(validate_config_key("KEY_NAME-1") == NULL);
    CHECK_STR(nonnull(validate_config_key("a/b")),
              "a valid config key must consist of alphanumeric characters, "
              "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
              "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    CHECK_STR(nonnull(validate_config_key("..")), "must not be '..'");
    CHECK(validate_port_name("http") == NULL);
    CHECK_STR(nonnull(validate_port_name("8080")),
              "must contain at least one letter (a-z)");
    CHECK_STR(nonnull(validate_port_name("a-very-long-port-name")),
              "must be no more than 15 characters");
    CHECK_STR(nonnull(validate_port_name("HTTP")),
              "must contain only alpha-numeric characters (a-z, 0-9), and "
              "hyphens (-)");
}

/* Runs validate_object_meta for `json` and returns the rendered message
 * (caller frees), or NULL when valid. */
static char *meta_msg(const char *json, const struct resource_type *rt,
                      const char *kind)
{
    struct json_object *o = json_tokener_parse(json);
    struct ferr e;
    char *msg = NULL;
    ferr_init(&e);
    validate_object_meta(o, rt, &e);
    if (e.n)
        msg = ferr_message(&e, kind, ju_str(ju_obj(o, "metadata"), "name"));
    ferr_free(&e);
    json_object_put(o);
    return msg;
}

#define CHECK_META(json, rt, kind, want)                                       \
    do {                                                                       \
        char *m_ = meta_msg(json, rt, kind);                                   \
        CHECK_STR(m_ ? m_ : "(valid)", want);                                  \
        free(m_);                                                              \
    } while (0)

static void test_object_meta(void)
{
    CHECK_META("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}}",
               &rt_configmaps, "ConfigMap", "(valid)");
    CHECK_META("{\"metadata\":{\"namespace\":\"default\"}}", &rt_configmaps,
               "ConfigMap",
               "ConfigMap \"\" is invalid: metadata.name: Required value: "
               "name or generateName is required");
    CHECK_META("{\"metadata\":{\"generateName\":\"web-\",\"namespace\":\"d\"}}",
               &rt_configmaps, "ConfigMap", "(valid)");
    CHECK_META("{\"metadata\":{\"name\":\"Web\",\"namespace\":\"default\"}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"Web\" is invalid: metadata.name: Invalid value: "
               "\"Web\": " SUBDOMAIN_MSG);
    CHECK_META("{\"metadata\":{\"name\":\"Foo\"}}", &rt_namespaces, "Namespace",
               "Namespace \"Foo\" is invalid: metadata.name: Invalid value: "
               "\"Foo\": " LABEL_MSG);
    CHECK_META("{\"metadata\":{\"name\":\"web\"}}", &rt_configmaps, "ConfigMap",
               "ConfigMap \"web\" is invalid: metadata.namespace: Required "
               "value");
    CHECK_META("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"x\"}}",
               &rt_nodes, "Node",
               "Node \"n1\" is invalid: metadata.namespace: Forbidden: not "
               "allowed on this type");
    CHECK_META("{\"metadata\":{\"name\":\"1svc\",\"namespace\":\"d\"}}",
               &rt_services, "Service",
               "Service \"1svc\" is invalid: metadata.name: Invalid value: "
               "\"1svc\": " DNS1035_MSG);
    /* Wrong JSON types are errors naming the field, never crashes. */
    CHECK_META("{\"metadata\":{\"name\":5,\"namespace\":\"d\"}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"\" is invalid: [metadata.name: Invalid value: "
               "\"integer\": must be a string, metadata.name: Required value: "
               "name or generateName is required]");
    CHECK_META("{\"metadata\":\"x\"}", &rt_configmaps, "ConfigMap",
               "ConfigMap \"\" is invalid: metadata: Invalid value: "
               "\"string\": must be an object");
    CHECK_META("[1]", &rt_configmaps, "ConfigMap",
               "ConfigMap \"\" is invalid: Invalid value: \"array\": must be "
               "an object");
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"labels\":{\"app\":1}}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.labels[app]: Invalid "
               "value: \"integer\": must be a string");
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"labels\":[\"x\"]}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.labels: Invalid value: "
               "\"array\": must be an object");
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"labels\":{\"-bad\":\"ok\"}}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.labels: Invalid value: "
               "\"-bad\": " QNAME_MSG);
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"labels\":{\"app\":\"bad value\"}}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.labels: Invalid value: "
               "\"bad value\": " LABEL_VALUE_MSG);
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"annotations\":{\"Example.COM/Key\":\"v\"}}}",
               &rt_configmaps, "ConfigMap", "(valid)");
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"annotations\":{\"a b\":\"v\"}}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.annotations: Invalid "
               "value: \"a b\": " QNAME_MSG);
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"generation\":-1}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.generation: Invalid "
               "value: -1: must be greater than or equal to 0");
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
               "\"kind\":\"ReplicaSet\",\"name\":\"rs\"}]}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.ownerReferences.uid: "
               "Invalid value: \"\": must not be empty");
    CHECK_META("{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
               "\"finalizers\":[\"orphan\",\"foregroundDeletion\"]}}",
               &rt_configmaps, "ConfigMap",
               "ConfigMap \"a\" is invalid: metadata.finalizers: Invalid "
               "value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan "
               "and foregroundDeletion cannot be both set");
    /* core/v1 events accept any path-segment name. */
    CHECK_META("{\"metadata\":{\"name\":\"Pod.x_Y\",\"namespace\":\"d\"}}",
               &rt_events, "Event", "(valid)");
    CHECK_META("{\"metadata\":{\"name\":\"a/b\",\"namespace\":\"d\"}}",
               &rt_events, "Event",
               "Event \"a/b\" is invalid: metadata.name: Invalid value: "
               "\"a/b\": may not contain '/'");
}

static void test_annotations_size(void)
{
    struct json_object *a = json_object_new_object();
    struct ferr e;
    size_t n = 300 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    json_object_object_add(a, "k", json_object_new_string(big));
    ferr_init(&e);
    validate_annotations(a, "metadata.annotations", &e);
    char *m = ferr_message(&e, "ConfigMap", "c");
    CHECK_STR(m, "ConfigMap \"c\" is invalid: metadata.annotations: Too long: "
                 "must have at most 262144 bytes");
    free(m);
    ferr_free(&e);
    free(big);
    json_object_put(a);
}

static void test_helpers(void)
{
    struct ferr e;
    ferr_init(&e);
    struct json_object *o =
        json_tokener_parse("{\"a\":\"x\",\"b\":[],\"c\":1}");
    int64_t v = 0;
    bool bv;
    CHECK(validate_opt_str(o, "a", "spec", &e) != NULL);
    CHECK(validate_opt_str(o, "b", "spec", &e) == NULL);
    CHECK(validate_opt_int(o, "c", "spec", &e, &v) && v == 1);
    CHECK(!validate_opt_bool(o, "c", "spec", &e, &bv));
    CHECK(validate_opt_obj(o, "missing", "spec", &e) == NULL);
    CHECK_INT(e.n, 2);
    CHECK_STR(e.items[0].field, "spec.b");
    CHECK_STR(e.items[0].message, "Invalid value: \"array\": must be a string");
    CHECK_STR(e.items[1].message, "Invalid value: \"integer\": must be a "
                                  "boolean");
    CHECK_STR(ferr_reason(e.items[1].type), "FieldValueTypeInvalid");
    validate_not_found(&e, "spec.x", "vol");
    CHECK_STR(e.items[2].message, "Not found: \"vol\"");
    validate_field_port_num(&e, "spec.port", 70000);
    CHECK_STR(e.items[3].message,
              "Invalid value: 70000: must be between 1 and 65535, inclusive");
    CHECK(validate_field_ip(&e, "ip", "10.0.0.1"));
    CHECK(validate_field_ip(&e, "ip", "2001:db8::1"));
    CHECK(!validate_field_ip(&e, "ip", "10.0.0.300"));
    CHECK_STR(e.items[4].message,
              "Invalid value: \"10.0.0.300\": must be a valid IP address, "
              "(e.g. 10.9.8.7 or 2001:db8::ffff)");
    json_object_put(o);
    ferr_free(&e);
}

int main(void)
{
    test_dns1123_label();
    test_dns1123_subdomain();
    test_dns1035();
    test_qualified_name();
    test_label_value();
    test_name_msgs();
    test_config_key_and_port_name();
    test_object_meta();
    test_annotations_size();
    test_helpers();
    return unit_done("test_validation");
}
