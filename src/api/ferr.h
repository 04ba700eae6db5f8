/*
 * Field errors: the list of validation failures for one object, rendered
 * the way Kubernetes renders them in a 422 Invalid Status
 * ("spec.containers[0].image: Required value").
 */
#ifndef KEDGE_API_FERR_H
#define KEDGE_API_FERR_H

#include <json-c/json.h>
#include <stddef.h>

enum ferr_type {
    FERR_REQUIRED,      /* FieldValueRequired: "Required value" */
    FERR_INVALID,       /* FieldValueInvalid: "Invalid value: <v>: <detail>" */
    FERR_NOT_SUPPORTED, /* FieldValueNotSupported: "Unsupported value: <v>: supported values: ..." */
    FERR_DUPLICATE,     /* FieldValueDuplicate: "Duplicate value: <v>" */
    FERR_FORBIDDEN,     /* FieldValueForbidden: "Forbidden: <detail>" */
    FERR_TOO_LONG,      /* FieldValueTooLong: "Too long: <detail>" */
    FERR_TYPE,          /* FieldValueTypeInvalid: "Invalid value: <v>: <detail>" */
};

struct ferr_item {
    enum ferr_type type;
    char *field;   /* "spec.containers[0].image" */
    char *message; /* "Required value", "Invalid value: \"Foo\": ..." */
};

struct ferr {
    struct ferr_item *items;
    int n;
    int cap;
};

void ferr_init(struct ferr *e);
void ferr_free(struct ferr *e);

/*
 * Adds one error. `value` (may be NULL) is the offending value, rendered
 * as Kubernetes does (strings quoted, numbers bare); `detail_fmt` (may be
 * NULL) is the explanation after it. For FERR_NOT_SUPPORTED the detail is
 * the list of supported values, e.g. "supported values: \"Always\", ...".
 */
void ferr_add(struct ferr *e, enum ferr_type type, const char *field,
              struct json_object *value, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Shorthands. */
void ferr_required(struct ferr *e, const char *field);
void ferr_invalid(struct ferr *e, const char *field, struct json_object *value,
                  const char *detail);
void ferr_forbidden(struct ferr *e, const char *field, const char *detail);

/* The "Reason" Kubernetes uses in details.causes for a type. */
const char *ferr_reason(enum ferr_type type);

/*
 * The whole message Kubernetes gives: `<Kind> "<name>" is invalid: <e1>`
 * or `... is invalid: [<e1>, <e2>]`. Caller frees.
 */
char *ferr_message(const struct ferr *e, const char *kind, const char *name);

#endif
