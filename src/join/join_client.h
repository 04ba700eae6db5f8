/* The edge's side of joining (join_client.c). */
#ifndef KEDGE_JOIN_JOIN_CLIENT_H
#define KEDGE_JOIN_JOIN_CLIENT_H

#include <stddef.h>

/*
 * Makes sure pki_dir holds this node's credentials: ca.crt (the cloud's
 * CA), node.key and node.crt (CN system:node:<node>, O system:nodes).
 * When they exist and name this node, nothing is sent and the token is
 * not needed. Otherwise, joins cloud_url (the hub, https://host:port)
 * with the token: fetches the CA and checks it against the token's hash
 * before trusting it, makes a key and CSR, and has the cloud sign it.
 * Returns 0, or a negative error with err one line saying what is wrong
 * and what to do.
 */
int join_client_ensure(const char *pki_dir, const char *cloud_url,
                       const char *token, const char *node, char *err,
                       size_t errlen);

#endif
