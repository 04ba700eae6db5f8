/*
 * Blocking HTTPS requests with libcurl, for command-line work done before
 * (or instead of) an event loop: `kedge token`, and an edge's join.
 */
#ifndef KEDGE_UTIL_HTTPS_H
#define KEDGE_UTIL_HTTPS_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>

struct https_opts {
    const char *ca_file;     /* verify the server with this CA */
    const char *cert_file;   /* client certificate (or NULL) */
    const char *key_file;
    bool insecure;           /* no server verification (fetching the CA) */
    long timeout_ms;         /* whole request; 0 = 15 s */
};

/*
 * method url with an optional body (content type ctype). Returns the HTTP
 * status with the answer in out (capped at 16 MiB), or a negative error
 * with err saying what went wrong ("Could not connect to server: ...").
 */
int https_request(const char *method, const char *url,
                  const struct https_opts *o, const char *ctype,
                  const char *body, size_t len, struct buf *out, char *err,
                  size_t errlen);

/* A client that keeps its connection between requests (with the same
 * options), for many requests to one server. */
struct https_client;
struct https_client *https_client_new(const struct https_opts *o);
int https_client_request(struct https_client *c, const char *method,
                         const char *url, const char *ctype, const char *body,
                         size_t len, struct buf *out, char *err, size_t errlen);
void https_client_free(struct https_client *c);

#endif
