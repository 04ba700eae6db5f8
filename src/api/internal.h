/*
 * Internals shared by the files of the REST API (the files in src/api/): the server
 * state, the parsed request target, and response helpers.
 */
#ifndef KEDGE_API_INTERNAL_H
#define KEDGE_API_INTERNAL_H

#include "api/apiserver.h"
#include "api/metrics.h"
#include "resources/resource.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <time.h>

#include "util/buf.h"

#define API_NAME_MAX 254
#define API_KEY_MAX 600

struct ipalloc;
struct api_watch;

struct apiserver {
    uv_loop_t *loop;
    struct store *st;
    struct apiserver_config cfg;
    struct ipalloc *svc_ips;
    struct metrics metrics;
    struct api_watch *watches;   /* open watch streams */
    uv_timer_t *ns_timer;        /* namespace termination (namespaces.c) */
    apiserver_authorize_fn authorize;
    void *authorize_arg;
    struct {
        void (*fn)(void *arg, struct buf *out);
        void *arg;
    } metric_sources[8];
};

/* A list of store keys (namespaces.c). */
struct api_keys {
    char **keys;
    int n, cap;
};
int api_keys_collect(struct store *st, const char *prefix, struct api_keys *k);
void api_keys_free(struct api_keys *k);

/* Namespace termination (namespaces.c). */
int api_namespaces_init(struct apiserver *api);
void api_namespaces_schedule(struct apiserver *api);
void api_namespaces_stop(struct apiserver *api);

/* How a delete treats the object's dependents (DeleteOptions
 * propagationPolicy). DEFAULT keeps what the object's finalizers already
 * ask for, else Background, Kubernetes' default for every kind served. */
enum api_propagation {
    API_PROPAGATE_DEFAULT,
    API_PROPAGATE_BACKGROUND,
    API_PROPAGATE_FOREGROUND,
    API_PROPAGATE_ORPHAN,
};
/* The finalizers the garbage collector acts on. */
#define API_FINALIZER_ORPHAN "orphan"
#define API_FINALIZER_FOREGROUND "foregroundDeletion"

/* Deletion (rest.c). api_delete_object deletes the stored object obj at
 * key, or marks it for deletion (deletionTimestamp) when finalizers hold
 * it: its own, the garbage collector's for Foreground and Orphan
 * propagation, and always for namespaces; *result is what the client is
 * answered (caller puts). api_remove_object removes it for good. */
int api_delete_object(struct apiserver *api, const struct resource_type *rt,
                      const char *key, struct json_object *obj, int64_t rev,
                      enum api_propagation prop, bool dry_run,
                      struct json_object **result);
int api_remove_object(struct apiserver *api, const struct resource_type *rt,
                      const char *key, struct json_object *obj,
                      int64_t expect_rev);

/* What a resource URL names. */
struct api_target {
    const struct resource_type *rt;
    char ns[API_NAME_MAX];       /* "" = all namespaces / cluster scope */
    char name[API_NAME_MAX];     /* "" = the collection */
    char sub[32];                /* subresource, "" if none */
};

enum table_include { INCLUDE_METADATA, INCLUDE_NONE, INCLUDE_OBJECT };

/* Request context passed around the handlers. */
struct api_req {
    struct apiserver *api;
    struct http_request *http;
    struct api_target t;
    const char *verb;            /* get, list, watch, create, ... */
    bool table;                  /* Accept asks for a meta.k8s.io Table */
    enum table_include include;  /* ?includeObject= for Tables */
    bool dry_run;
};

/* Label and field selectors of a list or watch. */
struct label_selector;
struct field_selector;
struct list_query {
    struct label_selector *labels;
    struct field_selector *fields;
};
/* Parses ?labelSelector= and ?fieldSelector=; responds 400 and returns -1
 * when malformed. */
int api_parse_selectors(struct api_req *r, struct list_query *q);
bool api_list_matches(const struct list_query *q, struct json_object *obj);
void api_list_query_free(struct list_query *q);

/* ---- responses (status.c) ---- */
void api_respond_json(struct api_req *r, int code, struct json_object *obj);
void api_respond_raw(struct api_req *r, int code, const char *json,
                     size_t len);
/* A Status failure; `name`/`kind` fill details when non-NULL. */
void api_respond_status(struct api_req *r, int code, const char *reason,
                        const char *name, const char *kind_or_resource,
                        const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Status for a store error on object `name`. */
void api_respond_store_error(struct api_req *r, int err, const char *name);
/* 422 Invalid from field errors. */
void api_respond_invalid(struct api_req *r, const char *name,
                         const struct ferr *errs);
/* Builds a Status object (caller puts). */
struct json_object *api_status_object(int code, const char *reason,
                                      const char *message);

/* ---- objects (objects.c) ---- */
/* Store key of an object: /registry/<group|core>/<resource>/[<ns>/]<name>. */
int api_object_key(const struct resource_type *rt, const char *ns,
                   const char *name, char *out, size_t len);
/* Prefix of a collection (ns may be "" for all). */
int api_collection_prefix(const struct resource_type *rt, const char *ns,
                          char *out, size_t len);
/* Parses stored or received JSON; NULL on error with err filled. */
struct json_object *api_parse_json(const char *data, size_t len, char *err,
                                   size_t errlen);
/* Parses a stored object into the form of type rt (converting when rt
 * shares another type's storage). Caller puts. */
struct json_object *api_decode(const struct resource_type *rt, const char *data,
                               size_t len, char *err, size_t errlen);
/* Serialises obj in its stored form. The result lives until *tmp (set to
 * a converted copy, or NULL) and obj are put. NULL when out of memory. */
const char *api_encode(const struct resource_type *rt, struct json_object *obj,
                       size_t *len, struct json_object **tmp);
void api_new_uid(char out[37]);
void api_now_rfc3339(char out[32]);
const char *api_meta_str(struct json_object *obj, const char *field);
int64_t api_object_rv(struct json_object *obj);
void api_set_rv(struct json_object *obj, int64_t rev);
const char *api_json(struct json_object *obj, size_t *len);

/* ---- verbs (rest.c, watch.c, table.c, discovery.c) ---- */
void api_handle_resource(struct api_req *r);
/* ?watch=1|true|True */
bool api_query_is_watch(struct http_request *h);
void api_handle_watch(struct api_req *r);
void api_watch_close_all(struct apiserver *api);
/* Open watch streams of clients (in-process store watchers excluded). */
int api_watch_count(const struct apiserver *api);
bool api_wants_table(const struct http_request *req);
/*
 * Tables, written straight into a buffer so a long list never holds more
 * than one parsed object: begin (columns), one row per object, end (rows
 * closed, then metadata with rv and the continue token if any).
 */
void api_table_begin(const struct resource_type *rt, struct buf *out);
int api_table_row(const struct resource_type *rt, enum table_include include,
                  struct json_object *obj, time_t now, bool first,
                  struct buf *out);
void api_table_end(struct buf *out, const char *rv, const char *cont);
/* A whole Table holding one object. */
int api_table_single(const struct resource_type *rt, enum table_include include,
                     struct json_object *obj, struct buf *out);
/* Parses ?includeObject=; responds 400 and returns -1 when invalid. */
int api_parse_include(struct api_req *r);
int api_discovery(struct api_req *r, const char *path);
/* /openapi/v3 and its per-group-version documents; -1 if not one. */
int api_openapi(struct api_req *r, const char *path);

#endif
