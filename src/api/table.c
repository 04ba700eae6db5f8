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

struct json_object *api_table(const struct resource_type *rt,
                              enum table_include include,
                              struct json_object *items, const char *rv,
                              const char *cont)
{
    const struct table_column *cols = rt->columns;
    int ncols = rt->ncolumns;
    void (*cells_fn)(struct json_object *, struct json_object *, time_t) =
        rt->table_cells;
    if (!cols || !cells_fn) {
        cols = default_columns;
        ncols = 2;
        cells_fn = default_cells;
    }
    struct json_object *t = json_object_new_object();
    json_object_object_add(t, "kind", json_object_new_string("Table"));
    json_object_object_add(t, "apiVersion",
                           json_object_new_string("meta.k8s.io/v1"));
    struct json_object *md = json_object_new_object();
    if (rv)
        json_object_object_add(md, "resourceVersion",
                               json_object_new_string(rv));
    if (cont)
        json_object_object_add(md, "continue", json_object_new_string(cont));
    json_object_object_add(t, "metadata", md);
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
    json_object_object_add(t, "columnDefinitions", defs);
    struct json_object *rows = json_object_new_array();
    time_t now = time(NULL);
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n; i++) {
        struct json_object *obj = json_object_array_get_idx(items, i);
        struct json_object *row = json_object_new_object();
        struct json_object *cells = json_object_new_array();
        cells_fn(obj, cells, now);
        json_object_object_add(row, "cells", cells);
        if (include == INCLUDE_OBJECT) {
            json_object_object_add(row, "object", json_object_get(obj));
        } else if (include == INCLUDE_METADATA) {
            struct json_object *pom = json_object_new_object();
            json_object_object_add(pom, "kind", json_object_new_string(
                                                    "PartialObjectMetadata"));
            json_object_object_add(pom, "apiVersion",
                                   json_object_new_string("meta.k8s.io/v1"));
            struct json_object *omd = ju_obj(obj, "metadata");
            json_object_object_add(pom, "metadata",
                                   omd ? json_object_get(omd)
                                       : json_object_new_object());
            json_object_object_add(row, "object", pom);
        }
        json_object_array_add(rows, row);
    }
    json_object_object_add(t, "rows", rows);
    return t;
}
