/* Responses: JSON objects and Kubernetes Status failures, with metrics. */
#include "api/internal.h"
#include "util/buf.h"
#include "util/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void observe(struct api_req *r, int code)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    double secs = (double)(now - r->http->start_ns) / 1e9;
    metrics_observe(&r->api->metrics, r->verb ? r->verb : "other",
                    r->t.rt ? r->t.rt->resource : "", code, secs);
}

void api_respond_raw(struct api_req *r, int code, const char *json,
                     size_t len)
{
    observe(r, code);
    http_respond(r->http, code, "application/json", NULL, json, len);
}

void api_respond_json(struct api_req *r, int code, struct json_object *obj)
{
    size_t len;
    const char *s = api_json(obj, &len);
    api_respond_raw(r, code, s, len);
}

struct json_object *api_status_object(int code, const char *reason,
                                      const char *message)
{
    struct json_object *st = json_object_new_object();
    json_object_object_add(st, "kind", json_object_new_string("Status"));
    json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
    json_object_object_add(st, "metadata", json_object_new_object());
    json_object_object_add(st, "status", json_object_new_string(
                                             code < 400 ? "Success"
                                                        : "Failure"));
    json_object_object_add(st, "message", json_object_new_string(message));
    if (reason && reason[0])
        json_object_object_add(st, "reason", json_object_new_string(reason));
    json_object_object_add(st, "code", json_object_new_int(code));
    return st;
}

static void add_details(struct api_req *r, struct json_object *st,
                        const char *name, const char *kind)
{
    if (!name && !kind)
        return;
    struct json_object *d = json_object_new_object();
    if (name)
        json_object_object_add(d, "name", json_object_new_string(name));
    if (r->t.rt && r->t.rt->group[0])
        json_object_object_add(d, "group",
                               json_object_new_string(r->t.rt->group));
    if (kind)
        json_object_object_add(d, "kind", json_object_new_string(kind));
    json_object_object_add(st, "details", d);
}

void api_respond_status(struct api_req *r, int code, const char *reason,
                        const char *name, const char *kind_or_resource,
                        const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct json_object *st = api_status_object(code, reason, msg);
    add_details(r, st, name, kind_or_resource);
    api_respond_json(r, code, st);
    json_object_put(st);
}

/* "deployments.apps" for named groups, "configmaps" for core. */
static void qualified_resource(struct api_req *r, char *out, size_t len)
{
    if (!r->t.rt) {
        snprintf(out, len, "objects");
        return;
    }
    if (r->t.rt->group[0])
        snprintf(out, len, "%s.%s", r->t.rt->resource, r->t.rt->group);
    else
        snprintf(out, len, "%s", r->t.rt->resource);
}

void api_respond_store_error(struct api_req *r, int err, const char *name)
{
    char res[128];
    qualified_resource(r, res, sizeof(res));
    const char *plural = r->t.rt ? r->t.rt->resource : "";
    switch (-err) {
    case KE_NOTFOUND:
        api_respond_status(r, 404, "NotFound", name, plural,
                           "%s \"%s\" not found", res, name);
        break;
    case KE_EXISTS:
        api_respond_status(r, 409, "AlreadyExists", name, plural,
                           "%s \"%s\" already exists", res, name);
        break;
    case KE_CONFLICT:
        api_respond_status(r, 409, "Conflict", name, plural,
                           "Operation cannot be fulfilled on %s \"%s\": the "
                           "object has been modified; please apply your "
                           "changes to the latest version and try again",
                           res, name);
        break;
    case ENOSPC:
        api_respond_status(r, 507, "InternalError", name, plural,
                           "storage is full: the write of %s \"%s\" was not "
                           "made",
                           res, name);
        break;
    default:
        api_respond_status(r, 500, "InternalError", name, plural,
                           "Internal error occurred: %s", ke_strerror(err));
        break;
    }
}

void api_respond_invalid(struct api_req *r, const char *name,
                         const struct ferr *errs)
{
    const char *kind = r->t.rt ? r->t.rt->kind : "Object";
    char qkind[160];
    if (r->t.rt && r->t.rt->group[0])
        snprintf(qkind, sizeof(qkind), "%s.%s", kind, r->t.rt->group);
    else
        snprintf(qkind, sizeof(qkind), "%s", kind);
    char *msg = ferr_message(errs, qkind, name);
    struct json_object *st = api_status_object(422, "Invalid", msg);
    free(msg);
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "name", json_object_new_string(name ? name : ""));
    if (r->t.rt && r->t.rt->group[0])
        json_object_object_add(d, "group",
                               json_object_new_string(r->t.rt->group));
    json_object_object_add(d, "kind", json_object_new_string(kind));
    struct json_object *causes = json_object_new_array();
    for (int i = 0; i < errs->n; i++) {
        struct json_object *c = json_object_new_object();
        json_object_object_add(
            c, "reason", json_object_new_string(ferr_reason(errs->items[i].type)));
        json_object_object_add(
            c, "message", json_object_new_string(errs->items[i].message));
        json_object_object_add(
            c, "field", json_object_new_string(errs->items[i].field));
        json_object_array_add(causes, c);
    }
    json_object_object_add(d, "causes", causes);
    json_object_object_add(st, "details", d);
    api_respond_json(r, 422, st);
    json_object_put(st);
}
