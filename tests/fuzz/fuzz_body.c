/*
 * Fuzz target for request bodies: the JSON parser the API uses, then every
 * kind's create path without the store (prepare, defaults, metadata and
 * kind validation, error rendering, printer cells), as a hostile client
 * could drive it with any body on any resource URL.
 */
#include "api/ferr.h"
#include "api/internal.h"
#include "api/validation.h"
#include "resources/resource.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    char err[256];
    struct json_object *obj =
        api_parse_json((const char *)data, size, err, sizeof(err));
    if (!obj)
        return 0;
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        struct json_object *o = json_object_get(obj);
        struct json_object *c = NULL;
        if (json_object_deep_copy(o, &c, NULL) != 0) {
            json_object_put(o);
            continue;
        }
        json_object_put(o);
        struct ferr errs;
        ferr_init(&errs);
        if (json_object_is_type(c, json_type_object)) {
            if (rt->prepare_create)
                rt->prepare_create(c);
            if (rt->defaults)
                rt->defaults(c);
            validate_object_meta(c, rt, &errs);
            if (rt->validate) {
                rt->validate(c, NULL, &errs);
                rt->validate(c, c, &errs);
            }
            free(ferr_message(&errs, rt->kind, "x"));
            if (rt->table_cells) {
                struct json_object *cells = json_object_new_array();
                rt->table_cells(c, cells, 1700000000);
                json_object_put(cells);
            }
        }
        ferr_free(&errs);
        json_object_put(c);
    }
    json_object_put(obj);
    return 0;
}
