/*
 * Unit tests for label and field selectors (src/api/selector.c): grammar,
 * Kubernetes' error texts, metav1.LabelSelector conversion, matching and
 * canonical printing.
 */
#include "api/selector.h"
#include "util/errors.h"

#include "unit.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static char err[2048];

/* Parses `text`, which must succeed, and returns the selector. */
static struct label_selector *lparse(const char *text)
{
    struct label_selector *s = NULL;
    int rc = label_selector_parse(text, &s, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "parse \"%s\" failed: %s\n", text, err);
    CHECK_INT(rc, 0);
    return s;
}

/* True if the selector `text` matches the labels given as JSON text. */
static bool lmatch(const char *text, const char *labels_json)
{
    struct label_selector *s = lparse(text);
    struct json_object *labels =
        labels_json ? json_tokener_parse(labels_json) : NULL;
    bool m = s && label_selector_matches(s, labels);
    json_object_put(labels);
    label_selector_free(s);
    return m;
}

/* Parses `text`, which must fail with -KE_INVALID and a message containing
 * `want`. */
static void lfail(const char *text, const char *want)
{
    struct label_selector *s = (struct label_selector *)&err;
    int rc = label_selector_parse(text, &s, err, sizeof(err));
    CHECK_INT(rc, -KE_INVALID);
    CHECK(s == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "selector \"%.60s\": message \"%s\" lacks \"%s\"\n",
                text, err, want);
    CHECK(strstr(err, want) != NULL);
}

/* The canonical string of a parsed selector. */
static void lstring(const char *text, const char *want)
{
    struct label_selector *s = lparse(text);
    char *str = label_selector_string(s);
    CHECK_STR(str, want);
    /* The string form parses back to the same string. */
    struct label_selector *again = lparse(str);
    char *str2 = label_selector_string(again);
    CHECK_STR(str2, want);
    free(str2);
    label_selector_free(again);
    free(str);
    label_selector_free(s);
}

static void test_label_operators(void)
{
    const char *l = "{\"app\":\"web\",\"tier\":\"front\",\"n\":\"5\"}";

    CHECK(lmatch("app=web", l));
    CHECK(!lmatch("app=db", l));
    CHECK(!lmatch("zone=a", l));
    CHECK(lmatch("app==web", l));
    CHECK(!lmatch("app==db", l));
    CHECK(lmatch("app!=db", l));
    CHECK(!lmatch("app!=web", l));
    CHECK(lmatch("zone!=a", l)); /* absent key satisfies != */
    CHECK(lmatch("tier in (front,back)", l));
    CHECK(!lmatch("tier in (back,db)", l));
    CHECK(!lmatch("zone in (a)", l));
    CHECK(lmatch("tier notin (back)", l));
    CHECK(!lmatch("tier notin (back,front)", l));
    CHECK(lmatch("zone notin (a)", l)); /* absent key satisfies notin */
    CHECK(lmatch("app", l));
    CHECK(!lmatch("zone", l));
    CHECK(lmatch("!zone", l));
    CHECK(!lmatch("!app", l));
    CHECK(lmatch("n>4", l));
    CHECK(!lmatch("n>5", l));
    CHECK(lmatch("n<6", l));
    CHECK(!lmatch("n<5", l));
    CHECK(!lmatch("app>1", l)); /* non-integer label value */
    CHECK(!lmatch("zone<1", l));
    /* All requirements must hold. */
    CHECK(lmatch("app=web,tier in (front),!zone,n", l));
    CHECK(!lmatch("app=web,tier in (back)", l));
    /* "" and "()" mean the empty value. */
    CHECK(lmatch("e=", "{\"e\":\"\"}"));
    CHECK(!lmatch("e=", "{}"));
    CHECK(lmatch("e in ()", "{\"e\":\"\"}"));
    CHECK(lmatch("e in (a,,b)", "{\"e\":\"\"}"));
    CHECK(lmatch("e in (a,)", "{\"e\":\"\"}"));
    CHECK(!lmatch("e in (a,b)", "{\"e\":\"\"}"));
    /* Keys with a DNS prefix. */
    CHECK(lmatch("app.kubernetes.io/name=web",
                 "{\"app.kubernetes.io/name\":\"web\"}"));
    /* "in" and "notin" are plain words outside the operator position. */
    CHECK(lmatch("in in (in,notin)", "{\"in\":\"notin\"}"));
    CHECK(lmatch("notin=in", "{\"notin\":\"in\"}"));
    CHECK(lmatch("in", "{\"in\":\"x\"}"));
}

static void test_label_no_labels(void)
{
    CHECK(lmatch("", NULL));
    CHECK(lmatch(NULL, NULL));
    CHECK(lmatch("   ", NULL));
    CHECK(!lmatch("a", NULL));
    CHECK(lmatch("!a", NULL));
    CHECK(!lmatch("a=b", NULL));
    CHECK(lmatch("a!=b", NULL));
    CHECK(lmatch("a notin (b)", NULL));
    CHECK(!lmatch("a in (b)", NULL));
    /* A labels value that is not an object means no labels. */
    CHECK(!lmatch("a", "[\"a\"]"));
    /* A non-string value exists but equals nothing. */
    CHECK(lmatch("a", "{\"a\":1}"));
    CHECK(!lmatch("a=1", "{\"a\":1}"));
    CHECK(lmatch("a!=1", "{\"a\":1}"));
    CHECK(!lmatch("!a", "{\"a\":null}"));
}

static void test_label_whitespace(void)
{
    const char *l = "{\"a\":\"b\",\"c\":\"x\"}";

    CHECK(lmatch(" a = b ", l));
    CHECK(lmatch("a\t==\tb", l));
    CHECK(lmatch("\n a != z ,\r\n c in ( x , y ) ", l));
    CHECK(lmatch("c notin(y)", l));
    CHECK(lmatch("c in(x)", l));
    CHECK(lmatch("!  z ,  a", l));
    CHECK(lmatch("a , c", l));
    lstring("  b in ( y , x ) ,   a = 1  ", "a=1,b in (x,y)");
}

static void test_label_string(void)
{
    lstring("app=web", "app=web");
    lstring("app==web", "app==web");
    lstring("z!=1,a=2", "a=2,z!=1");
    lstring("t in (c,a,b,a)", "t in (a,b,c)");
    lstring("t notin (b,a)", "t notin (a,b)");
    lstring("x,!y", "x,!y");
    lstring("!b,a", "a,!b");
    lstring("e in ()", "e in ()");
    lstring("e in (,a)", "e in (,a)");
    lstring("e=", "e=");
    lstring("n>3,m<2", "m<2,n>3");
    lstring("in in (notin)", "in in (notin)");
    /* Equal keys keep their input order. */
    lstring("a=2,a=1", "a=2,a=1");

    struct label_selector *s = lparse("");
    char *str = label_selector_string(s);
    CHECK_STR(str, "");
    CHECK(label_selector_empty(s));
    free(str);
    label_selector_free(s);

    s = lparse("a");
    CHECK(!label_selector_empty(s));
    label_selector_free(s);
    CHECK(!label_selector_empty(NULL));
    CHECK(!label_selector_matches(NULL, NULL));
    label_selector_free(NULL);
}

static void test_label_errors(void)
{
    char big[SELECTOR_MAX_TEXT_BYTES + 16];

    lfail("a b", "unable to parse requirement: found 'b', expected: in, "
                 "notin, =, ==, !=, gt, lt");
    lfail("a,,b", "found ',', expected: identifier after ','");
    lfail("a,", "found '', expected: identifier after ','");
    lfail("=a", "found '=', expected: !, identifier, or 'end of string'");
    lfail(",", "found ',', expected: !, identifier, or 'end of string'");
    lfail("!a=b", "found '=', expected: ',' or 'end of string'");
    lfail("a=b c", "found 'c', expected: ',' or 'end of string'");
    lfail("!", "unable to parse requirement: found '', expected: identifier");
    lfail("!!a", "unable to parse requirement: found '!', expected: "
                 "identifier");
    lfail("a in b", "unable to parse requirement: found 'b', expected: '('");
    lfail("a in", "found '', expected: '('");
    lfail("a in (b", "found '', expected: ',' or ')'");
    lfail("a in (b c)", "found 'c', expected: ',' or ')'");
    lfail("a in (=)", "found '=', expected: ',', ')' or identifier");
    lfail("a in (b,(", "found '(', expected: ',', ')' or identifier");
    lfail("a=(b)", "unable to parse requirement: found '(', expected: "
                   "identifier");
    lfail("a=!b", "found '!', expected: identifier");
    lfail("a===b", "found '=', expected: identifier");
    lfail("a)", "found ')', expected: in, notin, =, ==, !=, gt, lt");

    /* Keys. */
    lfail("-a=b", "unable to parse requirement: key: Invalid value: \"-a\": "
                  "name part must consist of alphanumeric characters");
    lfail("a/b/c", "Invalid value: \"a/b/c\": a qualified name must consist");
    lfail("/a", "prefix part must be non-empty");
    lfail("a/", "name part must be non-empty");
    lfail("Example.com/a", "prefix part a lowercase RFC 1123 subdomain");
    lfail("a..b.com/c", "prefix part a lowercase RFC 1123 subdomain");
    lfail("a234567890123456789012345678901234567890123456789012345678901234",
          "name part must be no more than 63 characters");
    lfail("caf\xc3\xa9=x", "Invalid value: \"caf\\xc3\\xa9\"");

    /* Values. */
    lfail("a=-b", "unable to parse requirement: values[0][a]: Invalid value: "
                  "\"-b\": a valid label must be an empty string or consist");
    lfail("a in (ok,b_)", "values[1][a]: Invalid value: \"b_\"");
    lfail("a=b234567890123456789012345678901234567890123456789012345678901234",
          "must be no more than 63 characters");
    lfail("a>b", "values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, "
                 "the value must be an integer");
    lfail("a<99999999999999999999", "the value must be an integer");
    lfail("a>", "the value must be an integer");
    /* Integers that are no label values fail as in Kubernetes. */
    lfail("a>-1", "values[0][a]: Invalid value: \"-1\"");

    /* Caps. */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    lfail(big, "too long");
    for (size_t i = 0; i + 2 < sizeof(big); i += 2) {
        big[i] = 'a';
        big[i + 1] = ',';
    }
    big[(SELECTOR_MAX_TERMS + 1) * 2 - 1] = 0;
    lfail(big, "too many requirements");
    big[SELECTOR_MAX_TERMS * 2 - 1] = 0;
    struct label_selector *s = lparse(big);
    label_selector_free(s);

    size_t o = (size_t)snprintf(big, sizeof(big), "a in (");
    for (int i = 0; i <= SELECTOR_MAX_VALUES; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "v%d,", i);
    snprintf(big + o, sizeof(big) - o, ")");
    lfail(big, "too many values");

    /* err may be NULL. */
    s = NULL;
    CHECK_INT(label_selector_parse("a b", &s, NULL, 0), -KE_INVALID);
    CHECK(s == NULL);
    /* A tiny err buffer is truncated, still terminated. */
    char tiny[8];
    CHECK_INT(label_selector_parse("a b", &s, tiny, sizeof(tiny)),
              -KE_INVALID);
    CHECK_INT(strlen(tiny), sizeof(tiny) - 1);
}

/* Builds a selector from JSON text, which must succeed. */
static struct label_selector *ljson(const char *json)
{
    struct json_object *o = json ? json_tokener_parse(json) : NULL;
    struct label_selector *s = NULL;
    if (json)
        CHECK(o != NULL);
    int rc = label_selector_from_json(o, &s, err, sizeof(err));
    if (rc)
        fprintf(stderr, "from_json %s: %s\n", json, err);
    CHECK_INT(rc, 0);
    json_object_put(o);
    return s;
}

static void ljson_fail(const char *json, const char *want)
{
    struct json_object *o = json_tokener_parse(json);
    struct label_selector *s = (struct label_selector *)&err;
    CHECK(o != NULL);
    CHECK_INT(label_selector_from_json(o, &s, err, sizeof(err)), -KE_INVALID);
    CHECK(s == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "from_json %s: message \"%s\" lacks \"%s\"\n", json,
                err, want);
    CHECK(strstr(err, want) != NULL);
    json_object_put(o);
}

static bool sel_matches(const struct label_selector *s, const char *labels)
{
    struct json_object *l = json_tokener_parse(labels);
    bool m = label_selector_matches(s, l);
    json_object_put(l);
    return m;
}

static void test_label_from_json(void)
{
    struct label_selector *s = ljson(
        "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
        "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"b\",\"a\"]},"
        "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]},"
        "{\"key\":\"zone\",\"operator\":\"Exists\"},"
        "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\",\"values\":[]}]}");
    char *str = label_selector_string(s);
    CHECK_STR(str, "app=web,env notin (prod),!legacy,tier in (a,b),zone");
    free(str);
    CHECK(!label_selector_empty(s));
    CHECK(sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\",\"zone\":\"z\"}"));
    CHECK(sel_matches(s, "{\"app\":\"web\",\"tier\":\"b\",\"zone\":\"z\","
                         "\"env\":\"dev\"}"));
    CHECK(!sel_matches(s, "{\"app\":\"db\",\"tier\":\"a\",\"zone\":\"z\"}"));
    CHECK(!sel_matches(s, "{\"app\":\"web\",\"tier\":\"c\",\"zone\":\"z\"}"));
    CHECK(!sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\",\"zone\":\"z\","
                          "\"env\":\"prod\"}"));
    CHECK(!sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\"}"));
    CHECK(!sel_matches(s, "{\"app\":\"web\",\"tier\":\"a\",\"zone\":\"z\","
                          "\"legacy\":\"\"}"));
    label_selector_free(s);

    /* {} matches everything; a NULL selector matches nothing. */
    s = ljson("{}");
    CHECK(label_selector_empty(s));
    CHECK(sel_matches(s, "{}"));
    label_selector_free(s);
    s = ljson("{\"matchLabels\":{},\"matchExpressions\":[]}");
    CHECK(label_selector_empty(s));
    label_selector_free(s);
    s = ljson("{\"matchLabels\":null}");
    CHECK(label_selector_empty(s));
    label_selector_free(s);
    s = ljson(NULL);
    CHECK(!label_selector_empty(s));
    CHECK(!sel_matches(s, "{}"));
    CHECK(!label_selector_matches(s, NULL));
    str = label_selector_string(s);
    CHECK_STR(str, "");
    free(str);
    label_selector_free(s);

    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
               "matchExpressions[0].operator: Unsupported value: \"Foo\": "
               "supported values: \"In\", \"NotIn\", \"Exists\", "
               "\"DoesNotExist\"");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\"},"
               "{\"key\":\"a\",\"operator\":\"in\",\"values\":[\"x\"]}]}",
               "matchExpressions[1].operator: Unsupported value: \"in\"");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\","
               "\"values\":[\"1\"]}]}",
               "matchExpressions[0].operator: Unsupported value: \"Gt\"");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":7}]}",
               "matchExpressions[0].operator: Unsupported value: 7");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\"}]}",
               "matchExpressions[0].operator: Required value");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
               "matchExpressions[0].values: Required value: must be specified "
               "when `operator` is 'In' or 'NotIn'");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\","
               "\"values\":[]}]}",
               "matchExpressions[0].values: Required value");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\","
               "\"values\":[\"x\"]}]}",
               "matchExpressions[0].values: Forbidden: may not be specified "
               "when `operator` is 'Exists' or 'DoesNotExist'");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
               "\"DoesNotExist\",\"values\":[\"x\"]}]}",
               "matchExpressions[0].values: Forbidden");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a b\",\"operator\":"
               "\"Exists\"}]}",
               "matchExpressions[0].key: Invalid value: \"a b\": name part "
               "must consist");
    ljson_fail("{\"matchExpressions\":[{\"operator\":\"Exists\"}]}",
               "matchExpressions[0].key: Invalid value: \"\": name part must "
               "be non-empty");
    ljson_fail("{\"matchExpressions\":[{\"key\":1,\"operator\":\"Exists\"}]}",
               "matchExpressions[0].key: Invalid value: 1: must be a string");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
               "\"values\":[\"ok\",\"-bad\"]}]}",
               "matchExpressions[0].values[1]: Invalid value: \"-bad\": a "
               "valid label must be");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
               "\"values\":[true]}]}",
               "matchExpressions[0].values[0]: Invalid value: true: must be a "
               "string");
    ljson_fail("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
               "\"values\":\"x\"}]}",
               "matchExpressions[0].values: Invalid value: \"x\": must be an "
               "array");
    ljson_fail("{\"matchExpressions\":{}}",
               "matchExpressions: Invalid value: {...}: must be an array");
    ljson_fail("{\"matchExpressions\":[\"a\"]}",
               "matchExpressions[0]: Invalid value: \"a\": must be an object");
    ljson_fail("{\"matchLabels\":[]}",
               "matchLabels: Invalid value: [...]: must be an object");
    ljson_fail("{\"matchLabels\":{\"a b\":\"x\"}}",
               "matchLabels: Invalid value: \"a b\": name part must consist");
    ljson_fail("{\"matchLabels\":{\"app\":3}}",
               "matchLabels[app]: Invalid value: 3: must be a string");
    ljson_fail("{\"matchLabels\":{\"app\":\"a b\"}}",
               "matchLabels[app]: Invalid value: \"a b\": a valid label must "
               "be");
    ljson_fail("[]", "a label selector must be an object");
}

static void test_label_from_map(void)
{
    struct json_object *m = json_tokener_parse("{\"b\":\"2\",\"a\":\"1\"}");
    struct label_selector *s = NULL;
    CHECK_INT(label_selector_from_map(m, &s), 0);
    char *str = label_selector_string(s);
    CHECK_STR(str, "a=1,b=2");
    free(str);
    CHECK(sel_matches(s, "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}"));
    CHECK(!sel_matches(s, "{\"a\":\"1\"}"));
    label_selector_free(s);
    json_object_put(m);

    s = NULL;
    CHECK_INT(label_selector_from_map(NULL, &s), 0);
    CHECK(label_selector_empty(s));
    CHECK(sel_matches(s, "{}"));
    label_selector_free(s);

    const char *bad[] = {"{\"a\":1}", "{\"a b\":\"x\"}", "{\"a\":\"-x\"}",
                         "[]", "\"a\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = json_tokener_parse(bad[i]);
        s = (struct label_selector *)&err;
        CHECK_INT(label_selector_from_map(m, &s), -KE_INVALID);
        CHECK(s == NULL);
        json_object_put(m);
    }
}

/* ------------------------------------------------------------------ */

static struct field_selector *fparse(const char *text)
{
    struct field_selector *s = NULL;
    int rc = field_selector_parse(text, &s, err, sizeof(err));
    if (rc)
        fprintf(stderr, "field parse \"%s\" failed: %s\n", text, err);
    CHECK_INT(rc, 0);
    return s;
}

static void ffail(const char *text, const char *want)
{
    struct field_selector *s = (struct field_selector *)&err;
    CHECK_INT(field_selector_parse(text, &s, err, sizeof(err)), -KE_INVALID);
    CHECK(s == NULL);
    if (!strstr(err, want))
        fprintf(stderr, "field \"%.60s\": message \"%s\" lacks \"%s\"\n",
                text, err, want);
    CHECK(strstr(err, want) != NULL);
}

static const char *pod_json =
    "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\","
    "\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"nodeName\":\"edge-1\",\"hostNetwork\":true,\"priority\":3,"
    "\"weight\":2.5,\"big\":18446744073709551615,\"nothing\":null},"
    "\"status\":{\"phase\":\"Running\",\"note\":\"a,b=c\\\\d\"},"
    "\"involvedObject\":{\"uid\":\"u-1\"}}";

static bool fmatch(const char *text)
{
    struct json_object *obj = json_tokener_parse(pod_json);
    struct field_selector *s = fparse(text);
    bool m = s && field_selector_matches(s, obj);
    field_selector_free(s);
    json_object_put(obj);
    return m;
}

static void test_field_match(void)
{
    CHECK(fmatch("metadata.name=web-1"));
    CHECK(fmatch("metadata.name==web-1"));
    CHECK(!fmatch("metadata.name=web-2"));
    CHECK(fmatch("metadata.name!=web-2"));
    CHECK(!fmatch("metadata.name!=web-1"));
    CHECK(fmatch("spec.nodeName=edge-1,status.phase==Running"));
    CHECK(!fmatch("spec.nodeName=edge-1,status.phase==Pending"));
    CHECK(fmatch("involvedObject.uid=u-1"));
    CHECK(fmatch("metadata.labels.app=web"));
    /* Missing fields, nulls and paths through scalars read as "". */
    CHECK(fmatch("spec.missing="));
    CHECK(!fmatch("spec.missing=x"));
    CHECK(fmatch("spec.missing!=x"));
    CHECK(fmatch("spec.nothing="));
    CHECK(fmatch("spec.nodeName.deeper="));
    CHECK(fmatch("nope.nope.nope="));
    /* Non-string scalars compare by their text. */
    CHECK(fmatch("spec.hostNetwork=true"));
    CHECK(!fmatch("spec.hostNetwork=false"));
    CHECK(fmatch("spec.priority=3"));
    CHECK(!fmatch("spec.priority=3.0"));
    CHECK(fmatch("spec.weight=2.5"));
    CHECK(fmatch("spec.big=18446744073709551615"));
    /* Objects equal no value. */
    CHECK(!fmatch("metadata="));
    CHECK(fmatch("metadata!="));
    /* Escaped values. */
    CHECK(fmatch("status.note=a\\,b\\=c\\\\d"));
    CHECK(!fmatch("status.note=a\\,b\\=c"));
    /* Empty terms are skipped; empty selectors match all. */
    CHECK(fmatch(""));
    CHECK(fmatch(NULL));
    CHECK(fmatch(","));
    CHECK(fmatch(",metadata.name=web-1,,"));
    /* Values keep blanks and other bytes verbatim. */
    CHECK(!fmatch("metadata.name= web-1"));

    struct field_selector *s = fparse("metadata.name=x");
    CHECK(!field_selector_matches(s, NULL));
    field_selector_free(s);
    s = fparse("metadata.name=");
    CHECK(field_selector_matches(s, NULL));
    field_selector_free(s);
    CHECK(field_selector_matches(NULL, NULL));
    field_selector_free(NULL);
}

static void test_field_escapes(void)
{
    struct field_selector *s = fparse("a=x\\,y\\=z\\\\w");
    CHECK_STR(field_selector_exact(s, "a"), "x,y=z\\w");
    char *str = field_selector_string(s);
    CHECK_STR(str, "a=x\\,y\\=z\\\\w");
    free(str);
    field_selector_free(s);

    /* An escaped comma does not split terms. */
    s = fparse("b=1\\,c");
    CHECK_STR(field_selector_exact(s, "b"), "1,c");
    CHECK(field_selector_exact(s, "c") == NULL);
    field_selector_free(s);

    ffail("a=x\\y", "invalid field selector: invalid escape sequence: \\y");
    ffail("a=x\\", "invalid field selector: invalid escape sequence: \\");
    ffail("a=b=c", "invalid field selector: unescaped character in value: "
                   "'='");
    ffail("a==b=c", "unescaped character in value: '='");
    ffail("a!==b", "unescaped character in value: '='");
}

static void test_field_errors(void)
{
    char big[SELECTOR_MAX_TEXT_BYTES + 16];

    ffail("metadata.name", "invalid selector: 'metadata.name'; can't "
                           "understand 'metadata.name'");
    ffail("a=1,b", "invalid selector: 'a=1,b'; can't understand 'b'");
    ffail("=x", "invalid field name '' in '=x'");
    ffail("a b=x", "invalid field name 'a b'");
    ffail("a..b=x", "invalid field name 'a..b'");
    ffail(".a=x", "invalid field name '.a'");
    ffail("a.=x", "invalid field name 'a.'");
    ffail("a\xff=x", "invalid field name 'a\\xff'");
    ffail("!=x", "invalid field name ''");

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ffail(big, "too long");
    for (size_t i = 0; i + 4 < sizeof(big); i += 4)
        memcpy(big + i, "a=1,", 4);
    big[(SELECTOR_MAX_TERMS + 1) * 4 - 1] = 0;
    ffail(big, "too many terms");
    big[SELECTOR_MAX_TERMS * 4 - 1] = 0;
    struct field_selector *s = fparse(big);
    field_selector_free(s);
    /* A field one byte over its cap. */
    memset(big, 'f', SELECTOR_MAX_FIELD_BYTES + 1);
    memcpy(big + SELECTOR_MAX_FIELD_BYTES + 1, "=x", 3);
    ffail(big, "invalid field name");
    memcpy(big + SELECTOR_MAX_FIELD_BYTES, "=x", 3);
    s = fparse(big);
    field_selector_free(s);

    s = NULL;
    CHECK_INT(field_selector_parse("a", &s, NULL, 0), -KE_INVALID);
    CHECK(s == NULL);
}

static void test_field_check(void)
{
    const char *allowed[] = {"spec.nodeName", "status.phase", NULL};
    struct field_selector *s =
        fparse("metadata.name=a,metadata.namespace=b,spec.nodeName=c");
    CHECK_INT(field_selector_check(s, allowed, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_INT(field_selector_check(s, NULL, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "field label not supported: spec.nodeName");
    field_selector_free(s);

    s = fparse("status.phase!=Running,spec.hostIP=1.2.3.4");
    CHECK_INT(field_selector_check(s, allowed, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "field label not supported: spec.hostIP");
    field_selector_free(s);

    s = fparse("metadata.name=a");
    const char *none[] = {NULL};
    CHECK_INT(field_selector_check(s, none, err, sizeof(err)), 0);
    CHECK_INT(field_selector_check(s, NULL, NULL, 0), 0);
    field_selector_free(s);
    CHECK_INT(field_selector_check(NULL, NULL, err, sizeof(err)), 0);
}

static void test_field_exact(void)
{
    struct field_selector *s =
        fparse("spec.nodeName!=n1,metadata.name==web,status.phase=Running");
    CHECK_STR(field_selector_exact(s, "metadata.name"), "web");
    CHECK_STR(field_selector_exact(s, "status.phase"), "Running");
    CHECK(field_selector_exact(s, "spec.nodeName") == NULL);
    CHECK(field_selector_exact(s, "metadata.namespace") == NULL);
    CHECK(field_selector_exact(s, NULL) == NULL);
    CHECK(!field_selector_empty(s));
    char *str = field_selector_string(s);
    CHECK_STR(str, "metadata.name=web,spec.nodeName!=n1,status.phase=Running");
    free(str);
    field_selector_free(s);

    /* The first equality term on a field in input order wins. */
    s = fparse("metadata.name=b,metadata.name!=c,metadata.name=a");
    CHECK_STR(field_selector_exact(s, "metadata.name"), "b");
    field_selector_free(s);

    s = fparse("metadata.name=");
    CHECK_STR(field_selector_exact(s, "metadata.name"), "");
    field_selector_free(s);

    s = fparse("");
    CHECK(field_selector_empty(s));
    CHECK(field_selector_exact(s, "metadata.name") == NULL);
    str = field_selector_string(s);
    CHECK_STR(str, "");
    free(str);
    field_selector_free(s);
    CHECK(field_selector_exact(NULL, "metadata.name") == NULL);
    CHECK(field_selector_empty(NULL));
}

int main(void)
{
    test_label_operators();
    test_label_no_labels();
    test_label_whitespace();
    test_label_string();
    test_label_errors();
    test_label_from_json();
    test_label_from_map();
    test_field_match();
    test_field_escapes();
    test_field_errors();
    test_field_check();
    test_field_exact();
    return unit_done("test_selector");
}
