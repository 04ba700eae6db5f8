/*
 * The Kubernetes REST API over a store: routing, authentication,
 * discovery, CRUD with metadata handling, patch, watch, Table output and
 * metrics. The cloud serves it on its secure port; the edge will serve
 * the same code over its local store.
 */
#ifndef KEDGE_API_APISERVER_H
#define KEDGE_API_APISERVER_H

#include "http/server.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

struct resource_type;

/*
 * A replica API (the edge's local API) serves a store that another
 * process owns (the cloud, through the edge's sync): it creates nothing at
 * start (no built-in namespaces, no `kubernetes` service, no namespace
 * termination), lets every authenticated identity read, and answers
 * writes 405 MethodNotAllowed unless replica_write_ok allows that one.
 */
struct apiserver_replica_write {
    const char *method;            /* POST PUT PATCH DELETE */
    const struct resource_type *rt;
    const char *ns, *name, *sub;   /* "" when absent */
    const char *user, *groups;
};
typedef bool (*apiserver_replica_write_fn)(
    void *arg, const struct apiserver_replica_write *w);

struct apiserver_config {
    const char *service_cidr;   /* "10.96.0.0/12" */
    bool allow_anonymous_reads; /* local API on the edge */
    bool replica;               /* see above */
    apiserver_replica_write_fn replica_write_ok; /* NULL: no writes */
    void *replica_arg;
};

struct apiserver;

/* Creates the API over an open store (not owned). Makes sure the
 * built-in namespaces exist (not for a replica). */
int apiserver_new(uv_loop_t *loop, struct store *st,
                  const struct apiserver_config *cfg, struct apiserver **out);
/*
 * Records where the API is served: creates or updates the `kubernetes`
 * service in the default namespace (first address of the service range,
 * port 443) and its endpoints (address:port).
 */
int apiserver_publish_endpoint(struct apiserver *api, const char *address,
                               int port);
/* Ends every watch and frees the API. */
void apiserver_free(struct apiserver *api);
/* The http_handler_fn for http_server_start (arg = the apiserver). */
void apiserver_handle(void *arg, struct http_request *req);

/*
 * Authorization. Identities in group system:masters may do anything;
 * identities in group system:nodes only what the installed authorizer
 * allows (nothing when none is installed: CloudHub installs the node
 * authorizer); other authenticated identities may do anything (there are
 * no roles yet).
 */
struct apiserver_authz {
    const char *user, *groups;
    const char *verb;          /* get list watch create update patch delete
                                  deletecollection */
    const struct resource_type *rt;
    const char *ns, *name, *sub; /* "" when absent */
    const struct http_request *req; /* for the query (field selectors) */
};
/* Returns true to allow; otherwise why (the end of the Forbidden
 * message) is filled. */
typedef bool (*apiserver_authorize_fn)(void *arg,
                                       const struct apiserver_authz *a,
                                       char *why, size_t len);
/* Installs (fn NULL: removes) the authorizer for system:nodes. */
void apiserver_set_authorizer(struct apiserver *api, apiserver_authorize_fn fn,
                              void *arg);
/* Adds a source of /metrics lines (Prometheus text appended to out) or,
 * with fn NULL, removes the one with that arg. At most 8. */
void apiserver_add_metrics(struct apiserver *api,
                           void (*fn)(void *arg, struct buf *out), void *arg);

/* Whether a comma-joined group list holds group. */
bool apiserver_in_group(const char *groups, const char *group);

/*
 * One request served in-process, through exactly the code HTTP requests
 * take (routing, validation, defaults, metadata rules, admission), with
 * the identity given here instead of a client certificate. This is how
 * controllers and the scheduler write: no sockets, no TLS, no HTTP
 * parsing. Watches are not available this way (use store_watch).
 */
struct apiserver_call {
    const char *method;        /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;          /* "/api/v1/namespaces/x/pods?dryRun=All" */
    const char *user;          /* identity, e.g. "system:kube-scheduler" */
    const char *groups;        /* comma-joined groups, e.g. "system:masters" */
    const char *content_type;  /* of the body; NULL = application/json */
    const char *body;
    size_t len;
};
/* Returns the HTTP status code; `out` (initialised by the caller) holds
 * the answer's body (the object, a list or a Status). */
int apiserver_call(struct apiserver *api, const struct apiserver_call *call,
                   struct buf *out);

#endif
