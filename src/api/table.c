/*
 * Server-side printing: meta.k8s.io/v1 Table responses with each kind's
 * printer columns, as kubectl get asks for them.
 */
#include "api/internal.h"
#include "resources/print.h"
#include "resources/jsonutil.h"

#include <string.h>
#include <time.h>

static const struct table_column default_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Created At", "date", "", "CreationTimestamp is a timestamp "
                               "representing the server time when this "
                               "object was created.", 0},
};

bool api_wants_table(const struct http_request *req)
{
    const char *accept = http_header(req, "Accept");
    if (!accept)
        return false;
    /* Any offered media type of the form application/json;as=Table;v=v1;
     * g=meta.k8s.io (kubectl lists v1 first, then v1beta1). */
    const char *p = accept;
    while ((p = strstr(p, "as=Table")) != NULL) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char part[256];
        if (len >= sizeof(part))
            len = sizeof(part) - 1;
        memcpy(part, p, len);
        part[len] = 0;
        if (strstr(part, "g=meta.k8s.io") &&
            (strstr(part, "v=v1;") || strstr(part, "v=v1beta1") ||
             (strlen(part) >= 4 && strcmp(part + strlen(part) - 4, "v=v1") == 0)))
            return true;
        p += 8;
    }
    return false;
}

int api_parse_include(struct api_req *r)
{
    char v[32];
    r->include = INCLUDE_METADATA;
    if (http_query(r->http, "includeObject", v, sizeof(v)) != 0 || !v[0])
        return 0;
    if (strcmp(v, "None") == 0)
        r->include = INCLUDE_NONE;
    else if (strcmp(v, "Object") == 0)
        r->include = INCLUDE_OBJECT;
    else if (strcmp(v, "Metadata") != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL,
                           "includeObject: Unsupported value: \"%s\": "
                           "supported values: \"None\", \"Metadata\", "
                           "\"Object\"",
                           v);
        return -1;
    }
    return 0;
}

static void default_cells(struct json_object *obj, struct json_object *cells,
                          time_t now)
{
    (void)now;
    const char *name = api_meta_str(obj, "name");
    print_cell_str(cells, name ? name : "");
    const char *ts = api_meta_str(obj, "creationTimestamp");
    print_cell_str(cells, ts ? ts : "");
}

static void columns_of(const struct resource_type *rt,
                       const struct table_column **cols, int *ncols,
                       void (**cells_fn)(struct json_object *,
                                         struct json_object *, time_t))
{
    *cols = rt->columns;
    *ncols = rt->ncolumns;
    *cells_fn = rt->table_cells;
    if (!*cols || !*cells_fn) {
        *cols = default_columns;
        *ncols = 2;
        *cells_fn = default_cells;
    }
}

void api_table_begin(const struct resource_type *rt, struct buf *out)
{
    const struct table_column *cols;
    int ncols;
    void (*cells_fn)(struct json_object *, struct json_object *, time_t);
    columns_of(rt, &cols, &ncols, &cells_fn);
    struct json_object *defs = json_object_new_array();
    for (int i = 0; i < ncols; i++) {
        struct json_object *d = json_object_new_object();
        json_object_object_add(d, "name", json_object_new_string(cols[i].name));
        json_object_object_add(d, "type", json_object_new_string(cols[i].type));
        json_object_object_add(d, "format",
                               json_object_new_string(cols[i].format
                                                          ? cols[i].format
                                                          : ""));
        json_object_object_add(d, "description",
                               json_object_new_string(cols[i].description
                                                          ? cols[i].description
                                                          : ""));
        json_object_object_add(d, "priority",
                               json_object_new_int(cols[i].priority));
        json_object_array_add(defs, d);
    }
    size_t len;
    const char *s = api_json(defs, &len);
    buf_puts(out, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
                  "\"columnDefinitions\":");
    buf_append(out, s, len);
    buf_puts(out, ",\"rows\":[");
    json_object_put(defs);
}

int api_table_row(const struct resource_type *rt, enum table_include include,
                  struct json_object *obj, time_t now, bool first,
                  struct buf *out)
{
    const struct table_column *cols;
    int ncols;
    void (*cells_fn)(struct json_object *, struct json_object *, time_t);
    columns_of(rt, &cols, &ncols, &cells_fn);
    struct json_object *row = json_object_new_object();
    struct json_object *cells = json_object_new_array();
    cells_fn(obj, cells, now);
    json_object_object_add(row, "cells", cells);
    if (include == INCLUDE_OBJECT) {
        json_object_object_add(row, "object", json_object_get(obj));
    } else if (include == INCLUDE_METADATA) {
        struct json_object *pom = json_object_new_object();
        json_object_object_add(pom, "kind",
                               json_object_new_string("PartialObjectMetadata"));
        json_object_object_add(pom, "apiVersion",
                               json_object_new_string("meta.k8s.io/v1"));
        struct json_object *omd = ju_obj(obj, "metadata");
        json_object_object_add(pom, "metadata",
                               omd ? json_object_get(omd)
                                   : json_object_new_object());
        json_object_object_add(row, "object", pom);
    }
    size_t len;
    const char *s = api_json(row, &len);
    int rc = first ? 0 : buf_puts(out, ",");
    if (rc == 0)
        rc = buf_append(out, s, len);
    json_object_put(row);
    return rc;
}

void api_table_end(struct buf *out, const char *rv, const char *cont)
{
    buf_puts(out, "],\"metadata\":{");
    if (rv)
        buf_printf(out, "\"resourceVersion\":\"%s\"", rv);
    if (cont)
        buf_printf(out, "%s\"continue\":\"%s\"", rv ? "," : "", cont);
    buf_puts(out, "}}");
}

int api_table_single(const struct resource_type *rt, enum table_include include,
                     struct json_object *obj, struct buf *out)
{
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)api_object_rv(obj));
    api_table_begin(rt, out);
    int rc = api_table_row(rt, include, obj, time(NULL), true, out);
    api_table_end(out, rv, NULL);
    return rc;
}
