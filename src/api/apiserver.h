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

#include <uv.h>

struct apiserver_config {
    const char *service_cidr;   /* "10.96.0.0/12" */
    bool allow_anonymous_reads; /* local API on the edge */
};

struct apiserver;

/* Creates the API over an open store (not owned). Makes sure the
 * built-in namespaces exist. */
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

#endif
