/*
 * Resource types: what the API server knows about each kind it serves
 * (names for URLs and discovery, scope, subresources, printer columns,
 * defaults and validation). One descriptor per group/version/resource;
 * the generic REST code in src/api/ drives everything through these.
 */
#ifndef KEDGE_RESOURCES_RESOURCE_H
#define KEDGE_RESOURCES_RESOURCE_H

#include "api/ferr.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <time.h>

/* Which name syntax metadata.name must follow. */
enum name_rule {
    NAME_SUBDOMAIN,     /* DNS-1123 subdomain, <= 253 (most kinds) */
    NAME_LABEL,         /* DNS-1123 label, <= 63 (namespaces) */
    NAME_LABEL_1035,    /* DNS-1035 label, <= 63 (services) */
    NAME_PATH_SEGMENT,  /* anything usable as a path segment */
};

/* One column of the server-side Table (meta.k8s.io/v1). */
struct table_column {
    const char *name;        /* "NAME", "READY", ... */
    const char *type;        /* "string", "integer", "date", ... */
    const char *format;      /* "name" for the NAME column, else "" */
    const char *description;
    int priority;            /* 0 always shown, 1 only with -o wide */
};

struct resource_type {
    const char *group;       /* "" for the core (legacy) group */
    const char *version;     /* "v1" */
    const char *resource;    /* plural: "deployments" */
    const char *singular;    /* "deployment" */
    const char *kind;        /* "Deployment" */
    bool namespaced;
    const char *short_names[4]; /* NULL-terminated */
    bool in_all;             /* member of the "all" category */
    enum name_rule name_rule;
    bool has_generation;     /* metadata.generation maintained */
    bool has_status;         /* status subresource: main PUT ignores status */
    bool has_scale;          /* scale subresource (spec.replicas) */
    bool has_binding;        /* pods/binding */
    /* Field selector fields beyond metadata.name and metadata.namespace,
     * as dotted JSON paths; NULL-terminated. */
    const char *const *field_selectors;

    const struct table_column *columns;
    int ncolumns;
    /*
     * Appends one cell per column to `cells` (a json array) for `obj`.
     * `now` is the server's clock, for AGE-like columns.
     */
    void (*table_cells)(struct json_object *obj, struct json_object *cells,
                        time_t now);

    /* Clears what a client may not set on create (e.g. pod status).
     * May be NULL. */
    void (*prepare_create)(struct json_object *obj);
    /* Fills defaults in place. May be NULL. */
    void (*defaults)(struct json_object *obj);
    /*
     * Kind-specific validation of the whole object (metadata name and
     * namespace are checked by the generic code). `old` is NULL on create,
     * the stored object on update. Appends to `errs`. May be NULL.
     */
    void (*validate)(struct json_object *obj, struct json_object *old,
                     struct ferr *errs);

    /*
     * Another type whose storage this one shares (events.k8s.io/v1 events
     * are kept as core/v1 events, as Kubernetes does), or NULL. With it,
     * to_storage converts an object of this type into the stored form and
     * from_storage back, both in place.
     */
    const struct resource_type *storage;
    void (*to_storage)(struct json_object *obj);
    void (*from_storage)(struct json_object *obj);
};

/* Every served resource type, terminated by an entry with resource NULL. */
extern const struct resource_type *const resource_types[];

/* Finds a type by group ("" for core), version and plural resource name. */
const struct resource_type *resource_lookup(const char *group,
                                            const char *version,
                                            const char *resource);

/* Finds a type by group and kind (used for ownerReferences, events). */
const struct resource_type *resource_lookup_kind(const char *group,
                                                 const char *kind);

/* "apps/v1" or "v1" for the core group, into buf. */
const char *resource_api_version(const struct resource_type *rt, char *buf,
                                 size_t len);

#endif
