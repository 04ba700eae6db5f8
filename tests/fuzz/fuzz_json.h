/*
 * Helpers shared by the JSON fuzz targets: a contract check that aborts
 * (a finding), parsing raw fuzz bytes with a chosen depth limit, and the
 * compact text of a value.
 */
#ifndef KEDGE_TESTS_FUZZ_JSON_H
#define KEDGE_TESTS_FUZZ_JSON_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT_BYTES (256 * 1024)

/* Aborts (a finding) when a contract does not hold. */
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__,          \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Parses len bytes of JSON nested at most `depth` deep; returns 0 with *v
 * set (NULL is null) or -1. */
static inline int fuzz_parse_json(const uint8_t *data, size_t len, int depth,
                                  struct json_object **v)
{
    struct json_tokener *tok = json_tokener_new_ex(depth);
    char *text = malloc(len + 1);
    int rc = -1;

    *v = NULL;
    if (!tok || !text)
        goto out;
    memcpy(text, data, len);
    text[len] = '\0';
    *v = json_tokener_parse_ex(tok, text, (int)len + 1);
    if (json_tokener_get_error(tok) == json_tokener_success)
        rc = 0;
    else
        *v = NULL;
out:
    free(text);
    if (tok)
        json_tokener_free(tok);
    return rc;
}

/* Compact text of v, caller frees. */
static inline char *fuzz_text_of(struct json_object *v)
{
    const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    char *copy = strdup(s ? s : "");

    REQUIRE(copy != NULL);
    return copy;
}

#endif
