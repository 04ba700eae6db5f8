/*
 * Unit tests for src/api/patch.c: RFC 7386 appendix A, RFC 6902 appendix
 * A (successes and errors), pointer escapes, atomicity, equality and the
 * depth and size limits.
 */
#include "api/patch.h"
#include "util/errors.h"

#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Set while checking that a wrong expectation is caught, to keep quiet. */
static bool expect_mismatch;

/* Parses test JSON (NULL is JSON null); bad JSON in a test aborts. */
static struct json_object *J(const char *text)
{
    struct json_tokener *tok = json_tokener_new_ex(64);
    struct json_object *v =
        json_tokener_parse_ex(tok, text, (int)strlen(text) + 1);

    if (json_tokener_get_error(tok) != json_tokener_success) {
        fprintf(stderr, "bad JSON in test: %s\n", text);
        abort();
    }
    json_tokener_free(tok);
    return v;
}

/* Compact text of v; the caller frees it. */
static char *text_of(struct json_object *v)
{
    return strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

/* A merge of `patch` into `target` gives `expect`, leaving target as is. */
static bool merge_gives(const char *target, const char *patch,
                        const char *expect)
{
    struct json_object *t = J(target), *p = J(patch), *e = J(expect);
    struct json_object *out = NULL;
    char err[256] = "";
    char *before = text_of(t);
    int rc = patch_merge(t, p, &out, err, sizeof(err));
    char *after = text_of(t);
    bool ok = rc == 0 && json_equal(out, e) && strcmp(before, after) == 0;

    if (!ok && !expect_mismatch)
        fprintf(stderr, "merge %s + %s: rc %d (%s), got %s, want %s\n", target,
                patch, rc, err,
                json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
                expect);
    free(before);
    free(after);
    json_object_put(out);
    json_object_put(t);
    json_object_put(p);
    json_object_put(e);
    return ok;
}

/* JSON patch `ops` on `target` gives `expect`, leaving target as is. */
static bool patch_gives(const char *target, const char *ops, const char *expect)
{
    struct json_object *t = J(target), *p = J(ops), *e = J(expect);
    struct json_object *out = NULL;
    char err[256] = "";
    char *before = text_of(t);
    int rc = patch_json(t, p, &out, err, sizeof(err));
    char *after = text_of(t);
    bool ok = rc == 0 && json_equal(out, e) && strcmp(before, after) == 0;

    if (!ok && !expect_mismatch)
        fprintf(stderr, "patch %s with %s: rc %d (%s), got %s, want %s\n",
                target, ops, rc, err,
                json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
                expect);
    free(before);
    free(after);
    json_object_put(out);
    json_object_put(t);
    json_object_put(p);
    json_object_put(e);
    return ok;
}

/*
 * JSON patch `ops` on `target` fails with `code` and exactly `msg`, with
 * *out untouched and target unchanged.
 */
static bool patch_fails(const char *target, const char *ops, int code,
                        const char *msg)
{
    struct json_object *t = J(target), *p = J(ops);
    struct json_object *sentinel = json_object_new_object();
    struct json_object *out = sentinel;
    char err[512] = "";
    char *before = text_of(t);
    int rc = patch_json(t, p, &out, err, sizeof(err));
    char *after = text_of(t);
    bool ok = rc == code && out == sentinel && strcmp(err, msg) == 0 &&
              strcmp(before, after) == 0;

    if (!ok && !expect_mismatch)
        fprintf(stderr,
                "patch %s with %s: rc %d, err \"%s\"; want rc %d, \"%s\"%s\n",
                target, ops, rc, err, code, msg,
                out == sentinel ? "" : " (and *out was set)");
    if (out != sentinel)
        json_object_put(out);
    free(before);
    free(after);
    json_object_put(sentinel);
    json_object_put(t);
    json_object_put(p);
    return ok;
}

/* n nested arrays: [[...[]...]] (n >= 1). */
static struct json_object *deep_array(int n)
{
    struct json_object *v = json_object_new_array();

    for (int i = 1; i < n; i++) {
        struct json_object *outer = json_object_new_array();
        json_object_array_add(outer, v);
        v = outer;
    }
    return v;
}

/* n nested objects {"a":{"a":...{}}} (n >= 1). */
static struct json_object *deep_object(int n)
{
    struct json_object *v = json_object_new_object();

    for (int i = 1; i < n; i++) {
        struct json_object *outer = json_object_new_object();
        json_object_object_add(outer, "a", v);
        v = outer;
    }
    return v;
}

/* "/a" repeated n times followed by `tail` (a JSON string body). */
static char *a_path(int n, const char *tail)
{
    size_t len = 2 * (size_t)n + strlen(tail) + 1;
    char *s = malloc(len);
    size_t o = 0;

    for (int i = 0; i < n; i++) {
        s[o++] = '/';
        s[o++] = 'a';
    }
    snprintf(s + o, len - o, "%s", tail);
    return s;
}

/* One operation {"op":kind,"from":from,"path":path} in an array. */
static struct json_object *one_op(const char *kind, const char *from,
                                  const char *path, struct json_object *value)
{
    struct json_object *ops = json_object_new_array();
    struct json_object *op = json_object_new_object();

    json_object_object_add(op, "op", json_object_new_string(kind));
    if (from)
        json_object_object_add(op, "from", json_object_new_string(from));
    json_object_object_add(op, "path", json_object_new_string(path));
    if (value)
        json_object_object_add(op, "value", value);
    json_object_array_add(ops, op);
    return ops;
}

static void test_rfc7386_appendix(void)
{
    CHECK(merge_gives("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"));
    CHECK(merge_gives("{\"a\":\"b\"}", "{\"b\":\"c\"}",
                      "{\"a\":\"b\",\"b\":\"c\"}"));
    CHECK(merge_gives("{\"a\":\"b\"}", "{\"a\":null}", "{}"));
    CHECK(merge_gives("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}",
                      "{\"b\":\"c\"}"));
    CHECK(merge_gives("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"));
    CHECK(merge_gives("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"));
    CHECK(merge_gives("{\"a\":{\"b\":\"c\"}}",
                      "{\"a\":{\"b\":\"d\",\"c\":null}}",
                      "{\"a\":{\"b\":\"d\"}}"));
    CHECK(merge_gives("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"));
    CHECK(merge_gives("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"));
    CHECK(merge_gives("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"));
    CHECK(merge_gives("{\"a\":\"foo\"}", "null", "null"));
    CHECK(merge_gives("{\"a\":\"foo\"}", "\"bar\"", "\"bar\""));
    CHECK(merge_gives("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"));
    CHECK(merge_gives("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"));
    CHECK(merge_gives("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}",
                      "{\"a\":{\"bb\":{}}}"));
    /* A wrong expectation must be caught: the harness can fail. */
    expect_mismatch = true;
    CHECK(!merge_gives("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"b\"}"));
    CHECK(!merge_gives("{\"a\":\"b\"}", "{\"a\":\"c\"}",
                       "{\"a\":\"c\",\"x\":1}"));
    expect_mismatch = false;
}

static void test_rfc7386_section3(void)
{
    CHECK(merge_gives(
        "{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\","
        "\"familyName\":\"Doe\"},\"tags\":[\"example\",\"sample\"],"
        "\"content\":\"This will be unchanged\"}",
        "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\","
        "\"author\":{\"familyName\":null},\"tags\":[\"example\"]}",
        "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},"
        "\"tags\":[\"example\"],\"content\":\"This will be unchanged\","
        "\"phoneNumber\":\"+01-123-456-7890\"}"));
}

static void test_merge_details(void)
{
    /* Missing intermediate objects are created; nulls inside them vanish. */
    CHECK(merge_gives("{}", "{\"a\":{\"b\":{\"c\":1,\"d\":null}}}",
                      "{\"a\":{\"b\":{\"c\":1}}}"));
    CHECK(merge_gives("{\"a\":1}", "{\"a\":{\"b\":null,\"c\":2}}",
                      "{\"a\":{\"c\":2}}"));
    CHECK(merge_gives("null", "{\"a\":1}", "{\"a\":1}"));
    CHECK(merge_gives("{\"a\":{\"x\":1,\"y\":2}}", "{\"a\":{\"y\":3,\"z\":4}}",
                      "{\"a\":{\"x\":1,\"y\":3,\"z\":4}}"));
    CHECK(merge_gives("{\"a\":1}", "{\"b\":null}", "{\"a\":1}"));
    /* Arrays in a patch are values: nulls inside them stay. */
    CHECK(merge_gives("{}", "{\"a\":[null,{\"b\":null}]}",
                      "{\"a\":[null,{\"b\":null}]}"));

    /* Kubernetes-shaped: label change and removal. */
    CHECK(merge_gives(
        "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\","
        "\"tier\":\"fe\"}},\"spec\":{\"replicas\":1}}",
        "{\"metadata\":{\"labels\":{\"tier\":null,\"env\":\"prod\"}},"
        "\"spec\":{\"replicas\":3}}",
        "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\","
        "\"env\":\"prod\"}},\"spec\":{\"replicas\":3}}"));

    /* Key order: existing keys keep their place, new ones go last. */
    struct json_object *t = J("{\"b\":1,\"a\":2,\"c\":3}");
    struct json_object *p = J("{\"a\":20,\"d\":4,\"c\":null}");
    struct json_object *out = NULL;
    char err[128];
    CHECK_INT(patch_merge(t, p, &out, err, sizeof(err)), 0);
    CHECK_STR(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
              "{\"b\":1,\"a\":20,\"d\":4}");
    /* The result shares nothing with target or patch. */
    json_object_object_add(p, "d", json_object_new_int(99));
    json_object_object_add(t, "b", json_object_new_int(98));
    CHECK_STR(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
              "{\"b\":1,\"a\":20,\"d\":4}");
    json_object_put(out);
    json_object_put(t);
    json_object_put(p);

    /* A null patch succeeds with JSON null. */
    t = J("{\"a\":1}");
    out = t;
    CHECK_INT(patch_merge(t, NULL, &out, err, sizeof(err)), 0);
    CHECK(out == NULL);
    json_object_put(t);
}

static void test_rfc6902_appendix(void)
{
    /* A.1 */
    CHECK(patch_gives("{\"foo\":\"bar\"}",
                      "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
                      "{\"baz\":\"qux\",\"foo\":\"bar\"}"));
    /* A.2 */
    CHECK(
        patch_gives("{\"foo\":[\"bar\",\"baz\"]}",
                    "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
                    "{\"foo\":[\"bar\",\"qux\",\"baz\"]}"));
    /* A.3 */
    CHECK(patch_gives("{\"baz\":\"qux\",\"foo\":\"bar\"}",
                      "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
                      "{\"foo\":\"bar\"}"));
    /* A.4 */
    CHECK(patch_gives("{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
                      "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
                      "{\"foo\":[\"bar\",\"baz\"]}"));
    /* A.5 */
    CHECK(patch_gives(
        "{\"baz\":\"qux\",\"foo\":\"bar\"}",
        "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
        "{\"baz\":\"boo\",\"foo\":\"bar\"}"));
    /* A.6 */
    CHECK(patch_gives(
        "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},"
        "\"qux\":{\"corge\":\"grault\"}}",
        "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
        "{\"foo\":{\"bar\":\"baz\"},"
        "\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}"));
    /* A.7 */
    CHECK(patch_gives(
        "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
        "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
        "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}"));
    /* A.8 */
    CHECK(patch_gives("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
                      "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
                      "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
                      "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}"));
    /* A.9 */
    CHECK(patch_fails("{\"baz\":\"qux\"}",
                      "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]",
                      -KE_INVALID, "testing value /baz failed: test failed"));
    /* A.10 */
    CHECK(patch_gives(
        "{\"foo\":\"bar\"}",
        "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
        "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}"));
    /* A.11 */
    CHECK(patch_gives(
        "{\"foo\":\"bar\"}",
        "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
        "{\"foo\":\"bar\",\"baz\":\"qux\"}"));
    /* A.12 */
    CHECK(patch_fails(
        "{\"foo\":\"bar\"}",
        "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]",
        -KE_INVALID,
        "add operation does not apply: doc is missing path: \"/baz/bat\": "
        "missing value"));
    /* A.13: json-c keeps the last duplicate member, so this is a remove of
     * a key that is not there, and it fails as such. */
    CHECK(patch_fails(
        "{\"foo\":\"bar\"}",
        "[{\"op\":\"add\",\"path\":\"/"
        "baz\",\"value\":\"qux\",\"op\":\"remove\"}]",
        -KE_INVALID,
        "error in remove for path: '/baz': unable to remove nonexistent "
        "key: baz: missing value"));
    /* A.14 */
    CHECK(patch_gives("{\"/\":9,\"~1\":10}",
                      "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
                      "{\"/\":9,\"~1\":10}"));
    /* A.15 */
    CHECK(patch_fails("{\"/\":9,\"~1\":10}",
                      "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]",
                      -KE_INVALID, "testing value /~01 failed: test failed"));
    /* A.16 */
    CHECK(patch_gives(
        "{\"foo\":[\"bar\"]}",
        "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
        "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}"));
    /* The harness can fail. */
    expect_mismatch = true;
    CHECK(!patch_gives("{\"foo\":\"bar\"}",
                       "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":1}]",
                       "{\"foo\":\"bar\"}"));
    CHECK(!patch_fails("{\"foo\":\"bar\"}",
                       "[{\"op\":\"remove\",\"path\":\"/foo\"}]", -KE_INVALID,
                       "anything"));
    expect_mismatch = false;
}

static void test_pointers(void)
{
    /* ~1 is '/', ~0 is '~', and ~01 is "~1", not "/". */
    CHECK(patch_gives("{}",
                      "[{\"op\":\"add\",\"path\":\"/a~1b\",\"value\":1},"
                      "{\"op\":\"add\",\"path\":\"/m~0n\",\"value\":2},"
                      "{\"op\":\"add\",\"path\":\"/~01\",\"value\":3}]",
                      "{\"a/b\":1,\"m~n\":2,\"~1\":3}"));
    CHECK(patch_gives(
        "{\"a/b\":{\"c~d\":1}}",
        "[{\"op\":\"replace\",\"path\":\"/a~1b/c~0d\",\"value\":5}]",
        "{\"a/b\":{\"c~d\":5}}"));
    /* The empty key is "/" */
    CHECK(patch_gives("{\"\":1}",
                      "[{\"op\":\"replace\",\"path\":\"/\",\"value\":2}]",
                      "{\"\":2}"));
    CHECK(patch_fails("{}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]",
                      -KE_INVALID,
                      "add operation does not apply: invalid JSON pointer in "
                      "path: \"/a~2\": '~' must be followed by '0' or '1'"));
    CHECK(patch_fails("{}", "[{\"op\":\"add\",\"path\":\"/a~\",\"value\":1}]",
                      -KE_INVALID,
                      "add operation does not apply: invalid JSON pointer in "
                      "path: \"/a~\": '~' must be followed by '0' or '1'"));
    CHECK(patch_fails("{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
                      -KE_INVALID,
                      "add operation does not apply: invalid JSON pointer in "
                      "path: \"a\": must be empty or start with '/'"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"move\",\"from\":\"a\",\"path\":\"/b\"}]",
                      -KE_INVALID,
                      "move operation does not apply: invalid JSON pointer in "
                      "from: \"a\": must be empty or start with '/'"));

    /* "-" appends in add, and means nothing anywhere else. */
    CHECK(patch_gives("{\"a\":[1,2]}",
                      "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":3},"
                      "{\"op\":\"copy\",\"from\":\"/a/0\",\"path\":\"/a/-\"},"
                      "{\"op\":\"move\",\"from\":\"/a/1\",\"path\":\"/a/-\"}]",
                      "{\"a\":[1,3,1,2]}"));
    CHECK(patch_gives("{\"a\":[]}",
                      "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":{}},"
                      "{\"op\":\"add\",\"path\":\"/a/0/x\",\"value\":1}]",
                      "{\"a\":[{\"x\":1}]}"));
    CHECK(patch_fails("{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]",
                      -KE_INVALID,
                      "error in remove for path: '/a/-': Unable to access "
                      "invalid index: -: invalid index referenced"));
    CHECK(patch_fails("{\"a\":[1]}",
                      "[{\"op\":\"replace\",\"path\":\"/a/-\",\"value\":2}]",
                      -KE_INVALID,
                      "replace operation does not apply: doc is missing key: "
                      "/a/-: missing value"));
    CHECK(patch_fails("{\"a\":[1]}",
                      "[{\"op\":\"add\",\"path\":\"/a/-/x\",\"value\":2}]",
                      -KE_INVALID,
                      "add operation does not apply: doc is missing path: "
                      "\"/a/-/x\": missing value"));
    /* On an object, "-" is just a key. */
    CHECK(patch_gives("{}", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":1}]",
                      "{\"-\":1}"));

    /* Indexes: decimal, no leading zeros, add may use the length. */
    CHECK(patch_gives("{\"a\":[1]}",
                      "[{\"op\":\"add\",\"path\":\"/a/1\",\"value\":2},"
                      "{\"op\":\"add\",\"path\":\"/a/0\",\"value\":0}]",
                      "{\"a\":[0,1,2]}"));
    CHECK(patch_fails("{\"a\":[1]}",
                      "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":2}]",
                      -KE_INVALID,
                      "error in add for path: '/a/2': Unable to access "
                      "invalid index: 2: invalid index referenced"));
    CHECK(patch_fails("{\"a\":[1,2]}",
                      "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":2}]",
                      -KE_INVALID,
                      "error in add for path: '/a/01': value was not a proper "
                      "array index: '01': invalid index referenced"));
    CHECK(patch_fails("{\"a\":[1,2]}",
                      "[{\"op\":\"add\",\"path\":\"/a/-1\",\"value\":2}]",
                      -KE_INVALID,
                      "error in add for path: '/a/-1': value was not a proper "
                      "array index: '-1': invalid index referenced"));
    CHECK(patch_fails("{\"a\":[1,2]}",
                      "[{\"op\":\"add\",\"path\":\"/a/+1\",\"value\":2}]",
                      -KE_INVALID,
                      "error in add for path: '/a/+1': value was not a proper "
                      "array index: '+1': invalid index referenced"));
    CHECK(
        patch_fails("{\"a\":[1,2]}",
                    "[{\"op\":\"add\",\"path\":\"/a/"
                    "99999999999999999999999\",\"value\":2}]",
                    -KE_INVALID,
                    "error in add for path: '/a/99999999999999999999999': "
                    "Unable to access invalid index: 99999999999999999999999: "
                    "invalid index referenced"));
    CHECK(patch_fails("{\"a\":[1,2]}",
                      "[{\"op\":\"remove\",\"path\":\"/a/2\"}]", -KE_INVALID,
                      "error in remove for path: '/a/2': Unable to access "
                      "invalid index: 2: invalid index referenced"));
    CHECK(patch_fails("{\"a\":[1,2]}",
                      "[{\"op\":\"remove\",\"path\":\"/a/00\"}]", -KE_INVALID,
                      "error in remove for path: '/a/00': Unable to access "
                      "invalid index: 00: invalid index referenced"));
    CHECK(patch_fails("{\"a\":[[1]]}",
                      "[{\"op\":\"remove\",\"path\":\"/a/01/0\"}]", -KE_INVALID,
                      "remove operation does not apply: doc is missing path: "
                      "\"/a/01/0\": missing value"));
    CHECK(patch_fails("{\"a\":[1,2]}",
                      "[{\"op\":\"test\",\"path\":\"/a/5\",\"value\":1}]",
                      -KE_INVALID,
                      "error in test for path: '/a/5': Unable to access "
                      "invalid index: 5: invalid index referenced"));

    /* A scalar has no children. */
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":2}]",
                      -KE_INVALID,
                      "add operation does not apply: doc is missing path: "
                      "\"/a/b\": missing value"));
    CHECK(patch_fails("{\"a\":null}",
                      "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":2}]",
                      -KE_INVALID,
                      "add operation does not apply: doc is missing path: "
                      "\"/a/b\": missing value"));
}

static void test_root(void)
{
    CHECK(patch_gives("{\"a\":1}",
                      "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"b\":2}}]",
                      "{\"b\":2}"));
    CHECK(patch_gives("{\"a\":1}",
                      "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1,2]},"
                      "{\"op\":\"add\",\"path\":\"/0\",\"value\":0}]",
                      "[0,1,2]"));
    CHECK(patch_gives("{\"a\":1}",
                      "[{\"op\":\"test\",\"path\":\"\",\"value\":{\"a\":1.0}}]",
                      "{\"a\":1}"));
    CHECK(patch_gives("{\"a\":1}",
                      "[{\"op\":\"replace\",\"path\":\"\",\"value\":null}]",
                      "null"));
    CHECK(patch_gives("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"copy\",\"from\":\"\",\"path\":\"/c\"}]",
                      "{\"a\":{\"b\":1},\"c\":{\"a\":{\"b\":1}}}"));
    CHECK(patch_gives("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"\"}]",
                      "{\"b\":1}"));
    CHECK(patch_gives("[1]", "[{\"op\":\"move\",\"from\":\"\",\"path\":\"\"}]",
                      "[1]"));
    CHECK(patch_gives("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"\"}]",
                      "{\"b\":1}"));
    CHECK(patch_gives("{\"a\":[{\"b\":1}]}",
                      "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"\"},"
                      "{\"op\":\"add\",\"path\":\"/c\",\"value\":2}]",
                      "{\"b\":1,\"c\":2}"));
    CHECK(patch_fails("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]",
                      -KE_INVALID,
                      "remove operation does not apply: unable to remove the "
                      "whole document: path \"\""));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"test\",\"path\":\"\",\"value\":{}}]",
                      -KE_INVALID, "testing value  failed: test failed"));
}

static void test_operations(void)
{
    /* replace needs an existing target; add overwrites. */
    CHECK(patch_gives("{\"a\":1}",
                      "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]",
                      "{\"a\":2}"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]",
                      -KE_INVALID,
                      "replace operation does not apply: doc is missing key: "
                      "/b: missing value"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"replace\",\"path\":\"/x/y\",\"value\":2}]",
                      -KE_INVALID,
                      "replace operation does not apply: doc is missing path: "
                      "/x/y: missing value"));
    CHECK(patch_gives("{\"a\":[1,2,3]}",
                      "[{\"op\":\"replace\",\"path\":\"/a/1\",\"value\":{}}]",
                      "{\"a\":[1,{},3]}"));
    CHECK(patch_gives("{\"a\":1}",
                      "[{\"op\":\"add\",\"path\":\"/b\",\"value\":null},"
                      "{\"op\":\"test\",\"path\":\"/b\",\"value\":null}]",
                      "{\"a\":1,\"b\":null}"));

    /* Kubernetes-shaped. */
    CHECK(patch_gives(
        "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1\"}]}}",
        "[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"web\"},"
        "{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\","
        "\"value\":\"nginx:2\"},"
        "{\"op\":\"add\",\"path\":\"/metadata/labels/app.kubernetes.io~1name\","
        "\"value\":\"web\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/labels/app\"}]",
        "{\"metadata\":{\"name\":\"web\",\"labels\":"
        "{\"app.kubernetes.io/name\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:2\"}]}}"));
    CHECK(patch_fails("{\"metadata\":{\"name\":\"web\"}}",
                      "[{\"op\":\"test\",\"path\":\"/metadata/name\","
                      "\"value\":\"db\"}]",
                      -KE_INVALID,
                      "testing value /metadata/name failed: test failed"));
    CHECK(patch_fails("{\"metadata\":{}}",
                      "[{\"op\":\"test\",\"path\":\"/metadata/name\","
                      "\"value\":\"db\"}]",
                      -KE_INVALID,
                      "test operation does not apply: is missing path: "
                      "/metadata/name: missing value"));
    CHECK(patch_fails("{\"spec\":{}}",
                      "[{\"op\":\"test\",\"path\":\"/spec/foo/bar\","
                      "\"value\":1}]",
                      -KE_INVALID,
                      "test operation does not apply: is missing path: "
                      "/spec/foo/bar: missing value"));
    CHECK(patch_fails("{\"spec\":{}}",
                      "[{\"op\":\"add\",\"path\":\"/spec/foo/bar\","
                      "\"value\":1}]",
                      -KE_INVALID,
                      "add operation does not apply: doc is missing path: "
                      "\"/spec/foo/bar\": missing value"));
    CHECK(patch_fails("{\"spec\":{}}",
                      "[{\"op\":\"remove\",\"path\":\"/spec/foo/bar\"}]",
                      -KE_INVALID,
                      "remove operation does not apply: doc is missing path: "
                      "\"/spec/foo/bar\": missing value"));
    CHECK(patch_fails("{\"foo\":1}", "[{\"op\":\"remove\",\"path\":\"/bar\"}]",
                      -KE_INVALID,
                      "error in remove for path: '/bar': unable to remove "
                      "nonexistent key: bar: missing value"));

    /* move: into its own child is an error, onto itself a no-op. */
    CHECK(patch_fails("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/c\"}]",
                      -KE_INVALID,
                      "move operation does not apply: unable to move \"/a\" "
                      "into its own child \"/a/c\""));
    CHECK(patch_fails("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"move\",\"from\":\"\",\"path\":\"/a/c\"}]",
                      -KE_INVALID,
                      "move operation does not apply: unable to move \"\" "
                      "into its own child \"/a/c\""));
    CHECK(patch_gives("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]",
                      "{\"a\":{\"b\":1}}"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"move\",\"from\":\"/b\",\"path\":\"/b\"}]",
                      -KE_INVALID,
                      "error in move for from: '/b': unable to get "
                      "nonexistent key: b: missing value"));
    CHECK(patch_gives("{\"a\":{\"b\":1}}",
                      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/ab\"}]",
                      "{\"ab\":{\"b\":1}}"));
    CHECK(patch_gives("{\"a\":{\"b\":1},\"c\":{}}",
                      "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/c/b\"}]",
                      "{\"a\":{},\"c\":{\"b\":1}}"));
    CHECK(patch_gives("{\"a\":[0,1,2,3]}",
                      "[{\"op\":\"move\",\"from\":\"/a/3\",\"path\":\"/a/0\"}]",
                      "{\"a\":[3,0,1,2]}"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"move\",\"from\":\"/x/y\",\"path\":\"/b\"}]",
                      -KE_INVALID,
                      "move operation does not apply: doc is missing from "
                      "path: /x/y: missing value"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/x/y\"}]",
                      -KE_INVALID,
                      "move operation does not apply: doc is missing "
                      "destination path: /x/y: missing value"));
    CHECK(patch_fails("{\"a\":1,\"l\":[]}",
                      "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/l/1\"}]",
                      -KE_INVALID,
                      "error in move for path: '/l/1': Unable to access "
                      "invalid index: 1: invalid index referenced"));

    /* copy deep-copies: changing the copy leaves the original. */
    CHECK(patch_gives("{\"a\":{\"x\":[1]}}",
                      "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
                      "{\"op\":\"add\",\"path\":\"/b/x/-\",\"value\":2},"
                      "{\"op\":\"add\",\"path\":\"/b/y\",\"value\":3}]",
                      "{\"a\":{\"x\":[1]},\"b\":{\"x\":[1,2],\"y\":3}}"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"copy\",\"from\":\"/b\",\"path\":\"/c\"}]",
                      -KE_INVALID,
                      "error in copy for from: '/b': unable to get "
                      "nonexistent key: b: missing value"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"copy\",\"from\":\"/b/c\",\"path\":\"/c\"}]",
                      -KE_INVALID,
                      "copy operation does not apply: doc is missing from "
                      "path: \"/b/c\": missing value"));
    CHECK(patch_fails("{\"a\":1}",
                      "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b/c\"}]",
                      -KE_INVALID,
                      "copy operation does not apply: doc is missing "
                      "destination path: /b/c: missing value"));

    /* Malformed operations. */
    CHECK(patch_fails("{}", "{\"op\":\"add\",\"path\":\"/a\",\"value\":1}",
                      -KE_INVALID,
                      "json patch must be an array of operations"));
    CHECK(patch_fails("{}", "null", -KE_INVALID,
                      "json patch must be an array of operations"));
    CHECK(patch_fails("{}", "[1]", -KE_INVALID,
                      "json patch operation 0 must be an object"));
    CHECK(patch_fails("{}", "[{\"op\":\"xyz\",\"path\":\"/a\"}]", -KE_INVALID,
                      "Unexpected kind: xyz"));
    CHECK(patch_fails("{}", "[{\"path\":\"/a\"}]", -KE_INVALID,
                      "Unexpected kind: unknown"));
    CHECK(patch_fails("{}", "[{\"op\":7,\"path\":\"/a\"}]", -KE_INVALID,
                      "Unexpected kind: unknown"));
    CHECK(patch_fails("{}", "[{\"op\":\"add\\u0000\",\"path\":\"/a\"}]",
                      -KE_INVALID, "Unexpected kind: add"));
    CHECK(patch_fails("{}", "[{\"op\":\"ADD\",\"path\":\"/a\",\"value\":1}]",
                      -KE_INVALID, "Unexpected kind: ADD"));
    CHECK(patch_fails("{}", "[{\"op\":\"add\",\"value\":1}]", -KE_INVALID,
                      "add operation failed to decode path: missing value"));
    CHECK(patch_fails("{}", "[{\"op\":\"add\",\"path\":1,\"value\":1}]",
                      -KE_INVALID,
                      "add operation failed to decode path: path must be a "
                      "string"));
    CHECK(patch_fails("{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", -KE_INVALID,
                      "add operation, missing value field for path: \"/a\": "
                      "missing value"));
    CHECK(patch_fails("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\"}]",
                      -KE_INVALID,
                      "test operation, missing value field for path: \"/a\": "
                      "missing value"));
    CHECK(patch_fails("{\"a\":1}", "[{\"op\":\"move\",\"path\":\"/b\"}]",
                      -KE_INVALID,
                      "move operation failed to decode from: missing value"));
    CHECK(patch_fails("{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/a\"}]",
                      -KE_INVALID,
                      "copy operation failed to decode path: missing value"));
    CHECK(patch_fails("{}",
                      "[{\"op\":\"add\",\"path\":\"/a\\u0000b\",\"value\":1}]",
                      -KE_INVALID,
                      "add operation does not apply: invalid JSON pointer in "
                      "path: \"/a\": contains a NUL byte"));
    CHECK(patch_fails("{}", "[{\"op\":\"remove\"}]", -KE_INVALID,
                      "remove operation failed to decode path: missing value"));
    CHECK(patch_fails("{}", "[{\"op\":\"replace\",\"value\":1}]", -KE_INVALID,
                      "replace operation failed to decode path: missing "
                      "value"));
    CHECK(patch_fails("{\"l\":[1]}",
                      "[{\"op\":\"move\",\"from\":\"/l/5\",\"path\":\"/x\"}]",
                      -KE_INVALID,
                      "error in move for from: '/l/5': Unable to access "
                      "invalid index: 5: invalid index referenced"));
    CHECK(patch_fails("{\"l\":[1]}",
                      "[{\"op\":\"copy\",\"from\":\"/l/0\",\"path\":\"/l/9\"}]",
                      -KE_INVALID,
                      "error in copy for path: '/l/9': Unable to access "
                      "invalid index: 9: invalid index referenced"));
    CHECK(patch_fails("{\"a\":\"s\"}",
                      "[{\"op\":\"add\",\"path\":\"/a/b/c\",\"value\":1}]",
                      -KE_INVALID,
                      "add operation does not apply: doc is missing path: "
                      "\"/a/b/c\": missing value"));
    CHECK(patch_fails("{\"a\":[]}",
                      "[{\"op\":\"add\",\"path\":\"/a/x/c\",\"value\":1}]",
                      -KE_INVALID,
                      "add operation does not apply: doc is missing path: "
                      "\"/a/x/c\": missing value"));
    CHECK(patch_gives("{\"a\":1}", "[]", "{\"a\":1}"));
}

static void test_atomic(void)
{
    struct json_object *t = J("{\"a\":1,\"l\":[1,2]}");
    struct json_object *ops =
        J("[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},"
          "{\"op\":\"remove\",\"path\":\"/a\"},"
          "{\"op\":\"add\",\"path\":\"/l/0\",\"value\":0},"
          "{\"op\":\"remove\",\"path\":\"/missing\"}]");
    struct json_object *sentinel = json_object_new_object();
    struct json_object *out = sentinel;
    char err[256] = "";
    char *before = text_of(t);

    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK(out == sentinel);
    CHECK_STR(err, "error in remove for path: '/missing': unable to remove "
                   "nonexistent key: missing: missing value");
    char *after = text_of(t);
    CHECK_STR(after, before);
    CHECK_STR(after, "{\"a\":1,\"l\":[1,2]}");
    free(after);

    /* The same patch without the bad op applies, and target is intact. */
    json_object_array_del_idx(ops, 3, 1);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    CHECK(out != sentinel);
    CHECK_STR(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
              "{\"l\":[0,1,2],\"b\":2}");
    after = text_of(t);
    CHECK_STR(after, before);
    free(after);
    json_object_put(out);

    /* A failing merge also leaves *out alone. */
    out = sentinel;
    struct json_object *deep = deep_object(PATCH_MAX_DEPTH + 1);
    CHECK_INT(patch_merge(t, deep, &out, err, sizeof(err)), -KE_INVALID);
    CHECK(out == sentinel);
    json_object_put(deep);

    free(before);
    json_object_put(sentinel);
    json_object_put(ops);
    json_object_put(t);
}

static void test_equal(void)
{
    struct {
        const char *a, *b;
        bool eq;
    } cases[] = {
        {"1", "1.0", true},
        {"1.0", "1", true},
        {"-1", "-1.0", true},
        {"0", "-0.0", true},
        {"1", "1.5", false},
        {"1", "\"1\"", false},
        {"1", "true", false},
        {"0", "false", false},
        {"0", "null", false},
        {"null", "null", true},
        {"1e2", "100", true},
        {"2.5", "2.50", true},
        {"9223372036854775807", "9223372036854775807", true},
        {"9223372036854775807", "18446744073709551615", false},
        {"18446744073709551615", "18446744073709551615", true},
        {"9223372036854775807", "9223372036854775808.0", false},
        {"9223372036854775808", "9223372036854775808.0", true},
        {"18446744073709551615", "18446744073709551616.0", false},
        {"-9223372036854775808", "-9223372036854775808.0", true},
        {"\"a\"", "\"a\"", true},
        {"\"a\"", "\"b\"", false},
        {"\"a\\u0000b\"", "\"a\\u0000c\"", false},
        {"\"a\\u0000b\"", "\"a\\u0000b\"", true},
        {"{\"a\":1,\"b\":[1,2]}", "{\"b\":[1.0,2],\"a\":1}", true},
        {"{\"a\":1}", "{\"a\":1,\"b\":2}", false},
        {"{\"a\":null}", "{}", false},
        {"{\"a\":null}", "{\"b\":null}", false},
        {"[1,2]", "[2,1]", false},
        {"[1,2]", "[1,2,3]", false},
        {"[]", "{}", false},
        {"{\"a\":{\"b\":[{\"c\":true}]}}", "{\"a\":{\"b\":[{\"c\":true}]}}",
         true},
        {"{\"a\":{\"b\":[{\"c\":true}]}}", "{\"a\":{\"b\":[{\"c\":false}]}}",
         false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *a = J(cases[i].a), *b = J(cases[i].b);
        bool got = json_equal(a, b);
        if (got != cases[i].eq)
            fprintf(stderr, "json_equal(%s, %s) = %d\n", cases[i].a, cases[i].b,
                    got);
        CHECK(got == cases[i].eq);
        CHECK(json_equal(b, a) == cases[i].eq);
        json_object_put(a);
        json_object_put(b);
    }
    /* test compares numbers by value too. */
    CHECK(patch_gives("{\"n\":1}",
                      "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.0}]",
                      "{\"n\":1}"));
}

/* A serializer with private data, which json_object_deep_copy refuses. */
static int odd_serializer(struct json_object *v, struct printbuf *pb, int level,
                          int flags)
{
    return printbuf_strappend(pb, "odd");
}

static void test_clone(void)
{
    struct json_object *v = J("{\"b\":1,\"a\":[1.50,null,\"x\",true,"
                              "18446744073709551615,-3],\"c\":{}}");
    struct json_object *c = json_clone(v);

    CHECK(c != NULL && c != v);
    CHECK(json_equal(v, c));
    /* Key order and the original number text survive. */
    CHECK_STR(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
              "{\"b\":1,\"a\":[1.50,null,\"x\",true,18446744073709551615,-3],"
              "\"c\":{}}");
    json_object_array_add(json_object_object_get(c, "a"),
                          json_object_new_int(7));
    CHECK(!json_equal(v, c));
    CHECK_INT(json_object_array_length(json_object_object_get(v, "a")), 6);
    json_object_put(c);
    json_object_put(v);
    CHECK(json_clone(NULL) == NULL);

    /* Values with a custom serializer json-c cannot copy are copied by
     * value and print the standard way. */
    static int userdata;
    struct json_object *vals[] = {
        json_object_new_double(2.5), json_object_new_int64(-7),
        json_object_new_uint64(18446744073709551615ULL),
        json_object_new_string_len("a\0b", 3), json_object_new_boolean(1)};
    const char *want[] = {"2.5", "-7", "18446744073709551615", "\"a\\u0000b\"",
                          "true"};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        json_object_set_serializer(vals[i], odd_serializer, &userdata, NULL);
        c = json_clone(vals[i]);
        CHECK(c != NULL && json_equal(c, vals[i]));
        CHECK_STR(json_object_to_json_string_ext(vals[i], 0), "odd");
        CHECK_STR(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
                  want[i]);
        json_object_put(c);
        json_object_put(vals[i]);
    }
}

static void test_depth_limits(void)
{
    struct json_object *a, *b, *out = NULL, *ops, *t;
    char err[256];

    /* json_clone and json_equal stop at PATCH_MAX_DEPTH. */
    a = deep_array(PATCH_MAX_DEPTH);
    b = deep_array(PATCH_MAX_DEPTH);
    CHECK(json_equal(a, b));
    struct json_object *c = json_clone(a);
    CHECK(c != NULL);
    json_object_put(c);
    json_object_put(a);
    json_object_put(b);
    a = deep_array(PATCH_MAX_DEPTH + 1);
    b = deep_array(PATCH_MAX_DEPTH + 1);
    CHECK(!json_equal(a, b));
    CHECK(json_clone(a) == NULL);
    json_object_put(b);
    b = deep_object(PATCH_MAX_DEPTH + 1);
    c = deep_object(PATCH_MAX_DEPTH + 1);
    CHECK(!json_equal(b, c));
    CHECK(json_clone(b) == NULL);
    json_object_put(b);
    json_object_put(c);
    b = deep_object(PATCH_MAX_DEPTH);
    c = json_clone(b);
    CHECK(c != NULL && json_equal(b, c));
    json_object_put(b);
    json_object_put(c);

    /* Too deep a target fails cleanly in both patch kinds. */
    ops = J("[]");
    out = NULL;
    CHECK_INT(patch_json(a, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "json patch target is nested deeper than 512 levels");
    CHECK(out == NULL);
    json_object_put(ops);
    json_object_put(a);
    a = deep_object(PATCH_MAX_DEPTH + 1);
    t = J("{\"x\":1}");
    CHECK_INT(patch_merge(a, t, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "merge patch target is nested deeper than 512 levels");
    CHECK(out == NULL);
    /* ... and so does too deep a merge patch, object or not. */
    CHECK_INT(patch_merge(t, a, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "merge patch value for key \"a\" would be nested deeper "
                   "than 512 levels");
    json_object_put(a);
    a = deep_array(PATCH_MAX_DEPTH + 1);
    CHECK_INT(patch_merge(t, a, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "merge patch is nested deeper than 512 levels");
    json_object_put(a);
    /* Exactly PATCH_MAX_DEPTH is fine. */
    a = deep_object(PATCH_MAX_DEPTH);
    CHECK_INT(patch_merge(t, a, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_put(a);
    json_object_put(t);

    /* add: a value 511 deep fits under one token, 512 does not. */
    t = J("{}");
    ops = one_op("add", NULL, "/a", deep_array(PATCH_MAX_DEPTH - 1));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_put(ops);
    ops = one_op("add", NULL, "/a", deep_array(PATCH_MAX_DEPTH));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "add operation does not apply: value at path \"/a\" would "
                   "be nested deeper than 512 levels");
    CHECK(out == NULL);
    json_object_put(ops);
    json_object_put(t);

    /* The whole document may be replaced by at most PATCH_MAX_DEPTH. */
    t = J("{}");
    ops = one_op("add", NULL, "", deep_array(PATCH_MAX_DEPTH + 1));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "add operation does not apply: value at path \"\" would "
                   "be nested deeper than 512 levels");
    json_object_put(ops);
    ops = one_op("replace", NULL, "/a", deep_array(PATCH_MAX_DEPTH));
    json_object_object_add(t, "a", NULL);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "replace operation does not apply: value at path \"/a\" "
                   "would be nested deeper than 512 levels");
    CHECK(out == NULL);
    json_object_put(ops);
    ops = one_op("replace", NULL, "", deep_array(PATCH_MAX_DEPTH));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    CHECK(json_object_is_type(out, json_type_array));
    json_object_put(out);
    out = NULL;
    json_object_put(ops);
    json_object_put(t);

    /* A merge patch value that is an array counts too. */
    t = json_object_new_object();
    json_object_object_add(t, "a", deep_array(PATCH_MAX_DEPTH));
    a = J("{}");
    CHECK_INT(patch_merge(a, t, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "merge patch value for key \"a\" would be nested deeper "
                   "than 512 levels");
    CHECK(out == NULL);
    json_object_put(a);
    json_object_put(t);

    t = deep_object(300);
    char *path = a_path(299, "/b");
    ops = one_op("copy", "", path, NULL);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK(strstr(err, "copy operation does not apply: value at path") == err);
    CHECK(out == NULL);
    json_object_put(ops);
    free(path);
    char *from = a_path(250, "");
    path = a_path(299, "/b");
    ops = one_op("copy", from, path, NULL);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_put(ops);
    free(path);
    free(from);
    json_object_put(t);

    /* move of a deep value deeper is refused; a shallow one is measured
     * and allowed even when the document is near the limit. */
    t = json_object_new_object();
    json_object_object_add(t, "x", deep_object(PATCH_MAX_DEPTH - 2));
    json_object_object_add(t, "w", J("{\"k\":1}"));
    json_object_object_add(t, "y", J("{\"a\":{\"a\":{}}}"));
    ops = one_op("move", "/x", "/y/a/a/x", NULL);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "move operation does not apply: value at path "
                   "\"/y/a/a/x\" would be nested deeper than 512 levels");
    CHECK(out == NULL);
    json_object_put(ops);
    ops = one_op("move", "/w", "/y/a/a/w", NULL);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    CHECK(json_object_object_get_ex(out, "w", NULL) == 0);
    json_object_put(out);
    out = NULL;
    json_object_put(ops);
    json_object_object_add(t, "v", J("[[1],{\"k\":[]}]"));
    ops = one_op("move", "/v", "/y/a/a/v", NULL);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_put(ops);
    /* 4 tokens + 508 levels is exactly the limit; 509 is one too many. */
    json_object_object_add(t, "v", deep_array(PATCH_MAX_DEPTH - 4));
    ops = one_op("move", "/v", "/y/a/a/v", NULL);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_object_add(t, "v", deep_array(PATCH_MAX_DEPTH - 3));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "move operation does not apply: value at path "
                   "\"/y/a/a/v\" would be nested deeper than 512 levels");
    CHECK(out == NULL);
    json_object_put(ops);
    json_object_put(t);
}

static void test_size_limits(void)
{
    struct json_object *t = J("{\"a\":[]}"), *ops, *out = NULL;
    char err[256];

    ops = json_object_new_array();
    for (int i = 0; i <= PATCH_MAX_OPS; i++)
        json_object_array_add(ops, J("{\"op\":\"test\",\"path\":\"/a\","
                                     "\"value\":[]}"));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_TOOBIG);
    CHECK_STR(err, "The allowed maximum operations in a JSON patch is 10000, "
                   "got 10001");
    json_object_array_del_idx(ops, 0, 1);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_put(ops);

    /* A copy bomb runs out of budget instead of memory. */
    struct json_object *arr = json_object_object_get(t, "a");
    for (int i = 0; i < 1000; i++)
        json_object_array_add(arr, json_object_new_int(i));
    ops = json_object_new_array();
    for (int i = 0; i < 1100; i++)
        json_object_array_add(ops, J("{\"op\":\"copy\",\"from\":\"/a\","
                                     "\"path\":\"/b\"}"));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK_STR(err, "copy operation for path \"/b\": Unable to complete the "
                   "copy, the accumulated size increase of copy exceeds the "
                   "limit of 65536 values or 3145728 bytes");
    CHECK(out == NULL);
    /* Within the budget the same copies go through. */
    json_object_array_del_idx(ops, 0, 1100 - 60);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_put(ops);

    /* Big strings count by their bytes. */
    size_t big = 100 * 1024;
    char *s = malloc(big + 1);
    memset(s, 'x', big);
    s[big] = '\0';
    json_object_object_add(t, "s", json_object_new_string(s));
    struct json_object *k = json_object_new_object();
    json_object_object_add(k, s, NULL); /* and so do big keys */
    json_object_object_add(t, "k", k);
    free(s);
    ops = json_object_new_array();
    for (int i = 0; i < 40; i++)
        json_object_array_add(ops, J("{\"op\":\"copy\",\"from\":\"/s\","
                                     "\"path\":\"/c\"}"));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK(out == NULL);
    json_object_array_del_idx(ops, 0, 10);
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), 0);
    json_object_put(out);
    out = NULL;
    json_object_put(ops);
    ops = json_object_new_array();
    for (int i = 0; i < 40; i++)
        json_object_array_add(ops, J("{\"op\":\"copy\",\"from\":\"/k\","
                                     "\"path\":\"/c\"}"));
    CHECK_INT(patch_json(t, ops, &out, err, sizeof(err)), -KE_INVALID);
    CHECK(out == NULL);
    json_object_put(ops);
    json_object_put(t);
}

static void test_err_buffer(void)
{
    struct json_object *t = J("{}"), *ops = J("[{\"op\":\"xyz\"}]"),
                       *out = NULL;
    char small[8];

    CHECK_INT(patch_json(t, ops, NULL, small, sizeof(small)), -KE_INVALID);
    CHECK_INT(patch_merge(t, ops, NULL, small, sizeof(small)), -KE_INVALID);
    memset(small, 'x', sizeof(small));
    CHECK_INT(patch_json(t, ops, &out, small, sizeof(small)), -KE_INVALID);
    CHECK_STR(small, "Unexpec");
    CHECK_INT(patch_json(t, ops, &out, NULL, 0), -KE_INVALID);
    CHECK(out == NULL);
    json_object_put(ops);
    json_object_put(t);
}

int main(void)
{
    test_rfc7386_appendix();
    test_rfc7386_section3();
    test_merge_details();
    test_rfc6902_appendix();
    test_pointers();
    test_root();
    test_operations();
    test_atomic();
    test_equal();
    test_clone();
    test_depth_limits();
    test_size_limits();
    test_err_buffer();
    return unit_done("test_patch");
}
