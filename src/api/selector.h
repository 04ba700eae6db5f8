/*
 * Kubernetes label selectors (?labelSelector=, metav1.LabelSelector and
 * plain selector maps) and field selectors (?fieldSelector=): parsing with
 * Kubernetes' grammar and error texts, matching, and canonical printing.
 */
#ifndef KEDGE_API_SELECTOR_H
#define KEDGE_API_SELECTOR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest selector text accepted by the parsers. */
#define SELECTOR_MAX_TEXT_BYTES (64 * 1024)
/* Most requirements (label) or terms (field) in one selector. */
#define SELECTOR_MAX_TERMS 1024
/* Most values in one in/notin set or matchExpressions[].values list. */
#define SELECTOR_MAX_VALUES 1024
/* Longest field path in a field selector ("spec.nodeName"). */
#define SELECTOR_MAX_FIELD_BYTES 256

struct label_selector; /* opaque */

/*
 * Parses label selector syntax as in ?labelSelector=:
 * "a=b,c!=d,e in (x,y),f notin (z),g,!h,i==j,n>3,m<7". Blanks (space, tab,
 * CR, LF) between tokens are ignored as Kubernetes does; "in"/"notin" are
 * keywords only in operator position. Empty or NULL text gives a selector
 * that matches everything. Keys must be qualified names, values label
 * values; >/< take one integer. Requirements are kept sorted by key.
 * On success *out is set and the caller frees it with label_selector_free.
 * Errors: -KE_INVALID with Kubernetes' message in err ("unable to parse
 * requirement: ...", "found ',', expected: identifier after ','"), also for
 * text over SELECTOR_MAX_TEXT_BYTES or too many requirements/values;
 * -ENOMEM. err (may be NULL) is always NUL-terminated when errlen > 0.
 */
int label_selector_parse(const char *text, struct label_selector **out,
                         char *err, size_t errlen);

/*
 * Builds a selector from a metav1.LabelSelector JSON object
 * ({matchLabels:{k:v}, matchExpressions:[{key, operator, values}]}) with
 * operators In, NotIn, Exists, DoesNotExist. As in Kubernetes a NULL `sel`
 * (absent or JSON null) gives a selector that matches nothing, and {}
 * one that matches everything. Unknown members are ignored. The caller
 * frees *out with label_selector_free.
 * Errors: -KE_INVALID with the first problem in err, its field named
 * relative to the selector object ("matchExpressions[0].operator:
 * Unsupported value: \"Foo\": supported values: ...",
 * "matchLabels: Invalid value: \"a b\": name part must ..."); -ENOMEM.
 */
int label_selector_from_json(struct json_object *sel,
                             struct label_selector **out, char *err,
                             size_t errlen);

/*
 * Builds an equality selector from a plain map {k:v} (Service.spec.selector,
 * nodeSelector). A NULL map gives a selector that matches everything (the
 * caller decides what an absent selector means for its kind). The caller
 * frees *out with label_selector_free.
 * Errors: -KE_INVALID if map is not an object, a value is not a string, or
 * a key/value is not a valid label key/value; -ENOMEM.
 */
int label_selector_from_map(struct json_object *map,
                            struct label_selector **out);

/*
 * True if `labels` (a JSON object of string to string; NULL or a non-object
 * means no labels) satisfies every requirement. A label whose value is not
 * a string exists but equals no value. A NULL `s` matches nothing.
 */
bool label_selector_matches(const struct label_selector *s,
                            struct json_object *labels);

/* True if `s` has no requirements (matches everything). False for the
 * match-nothing selector and for NULL. */
bool label_selector_empty(const struct label_selector *s);

/*
 * The canonical string form ("app=web,tier in (a,b)"): requirements sorted
 * by key, set values sorted; "" for empty and match-nothing selectors.
 * The form parses back to an equal selector. Caller frees; NULL only when
 * out of memory.
 */
char *label_selector_string(const struct label_selector *s);

/* Frees a selector; NULL is a no-op. */
void label_selector_free(struct label_selector *s);

struct field_selector; /* opaque */

/*
 * Parses a field selector: "metadata.name=x,spec.nodeName!=y,
 * status.phase==Running". Terms are split at unescaped commas, empty terms
 * are skipped, and each splits at its first "!=", "==" or "=". Fields are
 * dotted paths of [A-Za-z0-9_-] segments; values may hold any byte, with
 * "\\", "\," and "\=" escaping the three special characters as in
 * Kubernetes' fields.EscapeValue. Empty or NULL text matches everything.
 * Terms are kept sorted by field (stable). The caller frees *out with
 * field_selector_free.
 * Errors: -KE_INVALID with a message in err ("invalid selector: '...';
 * can't understand '...'", "invalid field selector: invalid escape
 * sequence: \x", "invalid field selector: unescaped character in value:
 * '='"); -ENOMEM.
 */
int field_selector_parse(const char *text, struct field_selector **out,
                         char *err, size_t errlen);

/*
 * Checks that every field used is in `allowed`, a NULL-terminated list of
 * dotted paths (the list itself may be NULL); metadata.name and
 * metadata.namespace are always allowed. A NULL `s` passes.
 * Errors: -KE_INVALID with "field label not supported: <field>" in err.
 */
int field_selector_check(const struct field_selector *s,
                         const char *const *allowed, char *err,
                         size_t errlen);

/*
 * True if `obj` satisfies every term. Each field is looked up as a dotted
 * path through nested objects; a missing field (or JSON null, or a path
 * through a non-object) compares as "". Strings compare by their bytes,
 * booleans as "true"/"false", numbers by their decimal text ("3", "2.5");
 * objects and arrays equal no value. A NULL `s` matches everything.
 */
bool field_selector_matches(const struct field_selector *s,
                            struct json_object *obj);

/*
 * If `s` contains an equality term (= or ==) on `field`, returns its value
 * (of the first such term in the input), owned by the selector and valid
 * until it is freed; else NULL.
 */
const char *field_selector_exact(const struct field_selector *s,
                                 const char *field);

/* True if `s` has no terms (matches everything); true for NULL. */
bool field_selector_empty(const struct field_selector *s);

/*
 * The canonical string form ("metadata.name=a\,b,spec.nodeName!=n"):
 * terms sorted by field, "==" written as "=", values escaped; parses back
 * to an equal selector. Caller frees; NULL only when out of memory.
 */
char *field_selector_string(const struct field_selector *s);

/* Frees a selector; NULL is a no-op. */
void field_selector_free(struct field_selector *s);

#endif
