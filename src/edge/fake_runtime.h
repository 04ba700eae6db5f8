/*
 * The fake runtime (fake_runtime.c): every pod in the edge store bound to
 * this node "runs" at once. Its status (Running, ready conditions,
 * container statuses, a pod IP from this node's 10.244.N.0/24 kept in the
 * store) is applied to the local store and reported to the cloud, only
 * when it changed and coalesced per pod; a pod being deleted is "stopped"
 * and deleted for good on the cloud (grace period 0, uid precondition).
 */
#ifndef KEDGE_EDGE_FAKE_RUNTIME_H
#define KEDGE_EDGE_FAKE_RUNTIME_H

#include "api/apiserver.h"
#include "edgehub/edgehub.h"
#include "store/store.h"

#include <uv.h>

/* Changes of one pod within this window travel as one report. */
#define FAKE_RUNTIME_BATCH_MS 100
/* Where pod IP allocations live in the edge store. */
#define FAKE_RUNTIME_IP_PREFIX "/kedge/podips/"

struct fake_runtime;

int fake_runtime_new(uv_loop_t *loop, struct store *st, struct apiserver *api,
                     struct edgehub *hub, const char *node,
                     const char *host_ip, struct fake_runtime **out);
void fake_runtime_free(struct fake_runtime *fr);

/* The /24 of a node's pods: 10.244.<fake_runtime_subnet(node)>.0/24. */
int fake_runtime_subnet(const char *node);

#endif
