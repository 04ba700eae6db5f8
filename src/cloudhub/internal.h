/* Shared by the files of CloudHub (src/cloudhub/). */
#ifndef KEDGE_CLOUDHUB_INTERNAL_H
#define KEDGE_CLOUDHUB_INTERNAL_H

#include "cloudhub/cloudhub.h"
#include "cloudhub/graph.h"
#include "http/server.h"
#include "store/store.h"

#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>

struct session;
RB_HEAD(sessions, session);
struct seen_tree;

struct cloudhub {
    uv_loop_t *loop;
    struct apiserver *api;
    struct store *st;
    struct http_server *http;
    char *pki_dir;
    struct graph *graph;
    struct store_watch *watch;
    struct sessions sessions;   /* by node name */
    struct seen_tree *seen;     /* node -> when its last session ended */
    int nsessions;
    uv_timer_t tick;            /* idle checks, lease renewal */
    bool stopping;
    int refs;                   /* the tick timer + open sessions */
    /* metrics */
    uint64_t sent_msgs, sent_bytes, recv_msgs;
    uint64_t ack_buckets[12];   /* see HUB_ACK_BUCKETS in session.c */
    uint64_t ack_count;
    double ack_sum;
};

/* session.c */
void hub_metrics(void *arg, struct buf *out);
int hub_sessions_start(struct cloudhub *h);
void hub_sessions_stop(struct cloudhub *h);
/* GET /hub: authenticates and upgrades; answers the request either way. */
void hub_session_accept(struct cloudhub *h, struct http_request *req);
void hub_seen_free(struct cloudhub *h);
/* Drops a reference; the last one frees the hub (cloudhub.c). */
void hub_unref(struct cloudhub *h);

/* authz.c: the node authorizer (installed into the API server). */
void hub_authz_install(struct cloudhub *h);

#endif
