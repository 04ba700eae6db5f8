/*
 * CloudHub: the port edges talk to (--hub-port). It serves the CA
 * certificate (for a joining edge to check against its token), the join
 * endpoint, and (next) one WebSocket session per edge node.
 */
#ifndef KEDGE_CLOUDHUB_CLOUDHUB_H
#define KEDGE_CLOUDHUB_CLOUDHUB_H

#include "api/apiserver.h"
#include "store/store.h"

#include <openssl/ssl.h>
#include <uv.h>

struct cloudhub;

struct cloudhub_config {
    const char *pki_dir;
    const char *bind;
    int port;                 /* 0 picks a free port */
};

/* Listens with ctx (the API server's TLS context: client certificates
 * optional, verified when given). */
int cloudhub_start(uv_loop_t *loop, struct apiserver *api, struct store *st,
                   SSL_CTX *ctx, const struct cloudhub_config *cfg,
                   struct cloudhub **out);
int cloudhub_port(const struct cloudhub *h);
/* When node last showed life in a session (uv_now ms; now while one is
 * open), 0 if never since the hub started. For ctrl_mgr_config. */
uint64_t cloudhub_node_seen(void *hub, const char *node);
void cloudhub_stop(struct cloudhub *h);

#endif
