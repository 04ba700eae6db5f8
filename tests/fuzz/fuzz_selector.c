/*
 * Fuzz target for label and field selectors: each input is parsed as label
 * selector text, as field selector text and, when it is JSON, as a
 * metav1.LabelSelector and as a selector map. Whatever parses is matched
 * against fixed labels and a fixed object, and its canonical string must
 * parse back to the same string (abort otherwise).
 */
#include "api/selector.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON nesting allowed when decoding an input as a selector object. */
#define FUZZ_JSON_MAX_DEPTH 16

static const char *fuzz_labels_json =
    "{\"app\":\"web\",\"tier\":\"front\",\"n\":\"5\",\"in\":\"notin\","
    "\"e\":\"\",\"example.com/x\":\"y\",\"odd\":7}";

static const char *fuzz_object_json =
    "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\","
    "\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"nodeName\":\"edge-1\",\"hostNetwork\":true,\"replicas\":3,"
    "\"weight\":2.5,\"none\":null,\"list\":[1,2]},"
    "\"status\":{\"phase\":\"Running\",\"note\":\"a,b=c\\\\d\"},"
    "\"involvedObject\":{\"uid\":\"u-1\",\"kind\":\"Pod\"}}";

static struct json_object *fuzz_labels;
static struct json_object *fuzz_object;

static void fuzz_init(void)
{
    if (fuzz_labels)
        return;
    fuzz_labels = json_tokener_parse(fuzz_labels_json);
    fuzz_object = json_tokener_parse(fuzz_object_json);
    if (!fuzz_labels || !fuzz_object)
        abort();
}

/* Matches s and checks that its string form parses back to itself. */
static void check_label(const struct label_selector *s)
{
    char err[512];
    struct label_selector *again = NULL;

    (void)label_selector_matches(s, fuzz_labels);
    (void)label_selector_matches(s, NULL);
    (void)label_selector_empty(s);
    char *str = label_selector_string(s);
    if (!str)
        return;
    if (label_selector_parse(str, &again, err, sizeof(err)) != 0) {
        fprintf(stderr, "label string \"%s\" does not parse: %s\n", str, err);
        abort();
    }
    char *str2 = label_selector_string(again);
    if (str2 && strcmp(str, str2) != 0) {
        fprintf(stderr, "label string \"%s\" reparses as \"%s\"\n", str, str2);
        abort();
    }
    free(str2);
    label_selector_free(again);
    free(str);
}

static void fuzz_field(const char *text)
{
    static const char *const allowed[] = {"spec.nodeName", "status.phase",
                                          NULL};
    char err[512];
    struct field_selector *s = NULL, *again = NULL;

    if (field_selector_parse(text, &s, err, sizeof(err)) != 0)
        return;
    bool m = field_selector_matches(s, fuzz_object);
    (void)field_selector_matches(s, NULL);
    (void)field_selector_check(s, allowed, err, sizeof(err));
    /* A required name other than the object's rules the object out. */
    const char *name = field_selector_exact(s, "metadata.name");
    if (name && strcmp(name, "web-1") != 0 && m)
        abort();
    char *str = field_selector_string(s);
    if (str) {
        if (field_selector_parse(str, &again, err, sizeof(err)) != 0) {
            fprintf(stderr, "field string \"%s\" does not parse: %s\n", str,
                    err);
            abort();
        }
        char *str2 = field_selector_string(again);
        if (str2 && strcmp(str, str2) != 0)
            abort();
        if (field_selector_matches(again, fuzz_object) != m)
            abort();
        free(str2);
        field_selector_free(again);
        free(str);
    }
    field_selector_free(s);
}

static void fuzz_json(const uint8_t *data, size_t size)
{
    char err[512];
    struct label_selector *s = NULL;
    struct json_tokener *tok = json_tokener_new_ex(FUZZ_JSON_MAX_DEPTH);
    if (!tok)
        return;
    struct json_object *obj =
        json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!obj)
        return;
    if (label_selector_from_json(obj, &s, err, sizeof(err)) == 0) {
        check_label(s);
        label_selector_free(s);
    }
    if (label_selector_from_map(obj, &s) == 0) {
        check_label(s);
        label_selector_free(s);
    }
    json_object_put(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct label_selector *ls = NULL;

    /* One byte past the parsers' cap still exercises the length check. */
    if (size > SELECTOR_MAX_TEXT_BYTES + 1)
        return 0;
    fuzz_init();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;

    if (label_selector_parse(text, &ls, err, sizeof(err)) == 0) {
        check_label(ls);
        label_selector_free(ls);
    }
    fuzz_field(text);
    if (size > 0 && (data[0] == '{' || data[0] == '['))
        fuzz_json(data, size);
    free(text);
    return 0;
}
