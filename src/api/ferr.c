/* Field error lists and their Kubernetes rendering. */
#include "api/ferr.h"
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ferr_init(struct ferr *e) { memset(e, 0, sizeof(*e)); }

void ferr_free(struct ferr *e)
{
    for (int i = 0; i < e->n; i++) {
        free(e->items[i].field);
        free(e->items[i].message);
    }
    free(e->items);
    memset(e, 0, sizeof(*e));
}

static const char *type_prefix(enum ferr_type t)
{
    switch (t) {
    case FERR_REQUIRED: return "Required value";
    case FERR_INVALID: return "Invalid value";
    case FERR_NOT_SUPPORTED: return "Unsupported value";
    case FERR_DUPLICATE: return "Duplicate value";
    case FERR_FORBIDDEN: return "Forbidden";
    case FERR_TOO_LONG: return "Too long";
    case FERR_TYPE: return "Invalid value";
    }
    return "Invalid value";
}

const char *ferr_reason(enum ferr_type t)
{
    switch (t) {
    case FERR_REQUIRED: return "FieldValueRequired";
    case FERR_INVALID: return "FieldValueInvalid";
    case FERR_NOT_SUPPORTED: return "FieldValueNotSupported";
    case FERR_DUPLICATE: return "FieldValueDuplicate";
    case FERR_FORBIDDEN: return "FieldValueForbidden";
    case FERR_TOO_LONG: return "FieldValueTooLong";
    case FERR_TYPE: return "FieldValueTypeInvalid";
    }
    return "FieldValueInvalid";
}

void ferr_add(struct ferr *e, enum ferr_type type, const char *field,
              struct json_object *value, const char *detail_fmt, ...)
{
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 4;
        struct ferr_item *p = realloc(e->items, (size_t)cap * sizeof(*p));
        if (!p)
            return;
        e->items = p;
        e->cap = cap;
    }
    struct buf m;
    buf_init(&m, 0);
    buf_puts(&m, type_prefix(type));
    if (value || type == FERR_INVALID || type == FERR_NOT_SUPPORTED ||
        type == FERR_DUPLICATE || type == FERR_TYPE) {
        const char *repr = value ? json_object_to_json_string_ext(
                                       value, JSON_C_TO_STRING_PLAIN |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE)
                                 : "null";
        buf_printf(&m, ": %s", repr);
    }
    if (detail_fmt) {
        char detail[1024];
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(detail, sizeof(detail), detail_fmt, ap);
        va_end(ap);
        if (detail[0])
            buf_printf(&m, ": %s", detail);
    }
    struct ferr_item *it = &e->items[e->n++];
    it->type = type;
    it->field = strdup(field ? field : "");
    it->message = buf_steal(&m, NULL);
}

void ferr_required(struct ferr *e, const char *field)
{
    ferr_add(e, FERR_REQUIRED, field, NULL, NULL);
}

void ferr_invalid(struct ferr *e, const char *field, struct json_object *value,
                  const char *detail)
{
    ferr_add(e, FERR_INVALID, field, value, "%s", detail ? detail : "");
}

void ferr_forbidden(struct ferr *e, const char *field, const char *detail)
{
    ferr_add(e, FERR_FORBIDDEN, field, NULL, "%s", detail);
}

char *ferr_message(const struct ferr *e, const char *kind, const char *name)
{
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%s \"%s\" is invalid: ", kind, name ? name : "");
    if (e->n > 1)
        buf_puts(&b, "[");
    for (int i = 0; i < e->n; i++) {
        if (i)
            buf_puts(&b, ", ");
        if (e->items[i].field[0])
            buf_printf(&b, "%s: ", e->items[i].field);
        buf_puts(&b, e->items[i].message);
    }
    if (e->n > 1)
        buf_puts(&b, "]");
    return buf_steal(&b, NULL);
}
