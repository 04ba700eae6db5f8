/*
 * Join tokens. A token names the cluster's CA (the SHA-256 of its DER
 * certificate, so a joining edge can tell it reached the right cloud
 * before trusting it) and a bootstrap credential the cloud can check:
 *
 *     K10<64 hex: sha256 of ca.crt DER>::<id: 6 of [a-z0-9]>.<secret: 16 of [a-z0-9]>
 *
 * (the shape k3s uses; the id.secret part is a Kubernetes bootstrap
 * token). The cloud keeps each token as the Secret
 * kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token,
 * as kubeadm does, with its expiration.
 */
#ifndef KEDGE_JOIN_TOKEN_H
#define KEDGE_JOIN_TOKEN_H

#include <stddef.h>

#define TOKEN_ID_LEN 6
#define TOKEN_SECRET_LEN 16
#define TOKEN_MAX 128

struct join_token {
    char ca_hash[65];
    char id[TOKEN_ID_LEN + 1];
    char secret[TOKEN_SECRET_LEN + 1];
};

/* Parses a token; -KE_INVALID with err saying which part is wrong. */
int token_parse(const char *s, struct join_token *t, char *err, size_t errlen);
/* The text form into out (TOKEN_MAX bytes). */
void token_format(const struct join_token *t, char *out, size_t len);
/* A new random id and secret (ca_hash untouched). */
int token_generate(struct join_token *t);

#endif
