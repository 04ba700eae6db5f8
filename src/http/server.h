/*
 * An HTTP/1.1 server on a libuv loop, with TLS through OpenSSL memory BIOs
 * and parsing by http-parser. One request at a time per connection;
 * responses are either whole (http_respond) or streamed as chunks
 * (http_stream_*) for watches. Client certificates, when presented and
 * valid for the server's CA, become the request's identity.
 */
#ifndef KEDGE_HTTP_SERVER_H
#define KEDGE_HTTP_SERVER_H

#include "util/buf.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_MAX_BODY_BYTES (3 * 1024 * 1024)
#define HTTP_MAX_HEADER_BYTES (1024 * 1024)
#define HTTP_MAX_STREAM_QUEUE_BYTES (32 * 1024 * 1024)

struct http_conn;

struct http_header {
    char *name;
    char *value;
};

struct http_request {
    struct http_conn *conn;
    char method[16];
    char *url;            /* as received: path?query */
    char *path;           /* percent-decoded path */
    char *query;          /* raw query string after '?', or "" */
    struct http_header *headers;
    int nheaders;
    struct buf body;
    bool body_too_large;  /* body was over HTTP_MAX_BODY_BYTES (discarded) */
    /* Identity from a verified client certificate (CN, comma-joined O). */
    bool authenticated;
    char user[256];
    char groups[512];
    char remote[64];      /* peer address */
    uint64_t start_ns;    /* when the request was complete */
    /* Set by the handler of a streamed response: called once if the
     * connection goes away before http_stream_end. */
    void (*on_close)(struct http_request *req, void *arg);
    void *close_arg;
    /* In-process requests (conn == NULL, see apiserver_call): the answer
     * is kept here instead of being sent. */
    int local_status;
    struct buf local_body;
};

typedef void (*http_handler_fn)(void *arg, struct http_request *req);

struct http_server;

/*
 * Listens on addr:port (port 0 picks a free one; see http_server_port).
 * With ctx NULL the server speaks plain HTTP. The handler must eventually
 * answer every request with http_respond or a stream.
 */
int http_server_start(uv_loop_t *loop, const char *addr, int port,
                      SSL_CTX *ctx, http_handler_fn handler, void *arg,
                      struct http_server **out);
int http_server_port(const struct http_server *srv);
/* Closes the listener and every connection (streams get on_close). */
void http_server_stop(struct http_server *srv);
int http_server_connections(const struct http_server *srv);

/* Case-insensitive header lookup; NULL when absent. */
const char *http_header(const struct http_request *req, const char *name);
/* Copies the percent-decoded value of query parameter `name` into out.
 * Returns 0, -ENOENT when absent, -KE_TOOBIG when it does not fit. */
int http_query(const struct http_request *req, const char *name, char *out,
               size_t len);

/* Sends a whole response and finishes the request. `extra_headers` is
 * NULL or "Name: value\r\n" lines. */
void http_respond(struct http_request *req, int status,
                  const char *content_type, const char *extra_headers,
                  const char *body, size_t len);

/* Starts a chunked response; the request stays open. */
int http_stream_start(struct http_request *req, int status,
                      const char *content_type);
/* Sends one chunk. -EPIPE when the peer is gone or too far behind (the
 * connection is then being closed and on_close will follow). */
int http_stream_write(struct http_request *req, const char *data, size_t len);
/* Ends the chunked response and finishes the request. */
void http_stream_end(struct http_request *req);

/* Reason phrase for a status code ("Not Found"). */
const char *http_status_text(int status);

/* Percent-decodes in place ('+' stays '+' in paths, becomes ' ' in
 * queries when plus_is_space). Returns -EINVAL on a bad escape. */
int http_percent_decode(char *s, bool plus_is_space);

#endif
