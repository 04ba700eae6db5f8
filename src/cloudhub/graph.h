/*
 * Which stored objects each edge node needs: its Node, the pods bound to
 * it, and the configmaps, secrets, service accounts and namespaces those
 * pods reference. Kept up to date from store events; used to route changes to
 * sessions, to build snapshots and catch-ups, and by the node authorizer.
 */
#ifndef KEDGE_CLOUDHUB_GRAPH_H
#define KEDGE_CLOUDHUB_GRAPH_H

#include "store/store.h"

#include <json-c/json.h>
#include <stdbool.h>

struct graph;

struct graph *graph_new(void);
void graph_free(struct graph *g);

/* How a change moves a key for a node. */
enum graph_op { GRAPH_PUT, GRAPH_DELETE };
typedef void (*graph_emit_fn)(void *arg, const char *node, enum graph_op op,
                              const char *key);

/*
 * Applies one store change (any key; those that do not matter are
 * ignored) and reports, through emit, every (node, key) that entered a
 * node's set or changed in it (PUT) or left it (DELETE), in an order
 * that puts referenced objects before the pods that use them.
 */
void graph_apply(struct graph *g, const struct store_event *ev,
                 graph_emit_fn emit, void *arg);

/* Whether key is in node's set. */
bool graph_has(const struct graph *g, const char *node, const char *key);
/* Calls fn for every key in node's set (the Node itself included). */
void graph_keys(const struct graph *g, const char *node,
                void (*fn)(void *arg, const char *key), void *arg);
/* The keys a pod (JSON) references: configmaps, secrets, its service
 * account and its namespace. */
void graph_pod_refs(const char *ns, struct json_object *pod,
                    void (*fn)(void *arg, const char *key), void *arg);
/* Node a pod value (JSON bytes) is bound to, into out ("" if none). */
void graph_pod_node(const struct store_value *v, char *out, size_t len);

#endif
