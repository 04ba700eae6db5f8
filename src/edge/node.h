/*
 * The node agent (node.c): registers this edge's Node on the cloud and
 * keeps its status (capacity, addresses, nodeInfo, conditions) up to
 * date, reporting only what changed. Leases are the cloud's job while the
 * session is open (docs/protocol.md, "Liveness").
 */
#ifndef KEDGE_EDGE_NODE_H
#define KEDGE_EDGE_NODE_H

#include "edgehub/edgehub.h"
#include "store/store.h"

#include <uv.h>

/* Conditions' lastHeartbeatTime is refreshed at most this often. */
#define EDGE_NODE_HEARTBEAT_S (5 * 60)

struct edge_node;

struct edge_node_config {
    const char *name;
    const char *labels;      /* "k=v,k2=v2" from --labels, or NULL */
    const char *host_ip;     /* the InternalIP */
    const char *runtime_version; /* "kedge://fake" */
};

/* Creates the agent; it acts on edge_node_sync. Returns 0, -EINVAL (bad
 * labels) or -ENOMEM. */
int edge_node_new(uv_loop_t *loop, struct store *st, struct edgehub *hub,
                  const struct edge_node_config *cfg, struct edge_node **out);
/* After each (re)connection: creates the Node when the store (now in
 * sync with the cloud) has none, and reports its status when it changed. */
void edge_node_sync(struct edge_node *n);
void edge_node_free(struct edge_node *n);

/* The node status this edge reports (capacity, allocatable, addresses,
 * nodeInfo, conditions with timestamps `now`); caller puts it. */
struct json_object *edge_node_status(const struct edge_node *n,
                                     const char *now);

#endif
