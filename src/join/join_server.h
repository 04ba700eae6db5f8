/* The cloud's join endpoint (POST /join on the hub port). */
#ifndef KEDGE_JOIN_JOIN_SERVER_H
#define KEDGE_JOIN_JOIN_SERVER_H

#include "api/apiserver.h"
#include "util/buf.h"

/*
 * Handles a join request body {"token": ..., "node": ..., "csr": PEM}:
 * checks the token (CA hash, bootstrap-token Secret, secret, expiry) and
 * that the node name is not held by another joined edge, then signs the
 * CSR as CN=system:node:<node>, O=system:nodes. Returns the HTTP status;
 * out holds {"certificate", "ca", "serverTime"} or {"error": "..."}.
 */
int join_server_handle(struct apiserver *api, const char *pki_dir,
                       const char *body, size_t len, const char *remote,
                       struct buf *out);

#endif
