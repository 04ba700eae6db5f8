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
/* A tunnel whose unsent output passes this is closed (a peer not reading). */
#define HTTP_MAX_TUNNEL_QUEUE_BYTES (32 * 1024 * 1024)

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

/*
 * Protocol upgrade (WebSocket). http_upgrade answers req with "101
 * Switching Protocols" plus extra_headers ("Name: value\r\n" lines, which
 * must include Upgrade and Connection) and turns the connection into a
 * byte tunnel: every byte the client sends from then on (including bytes
 * that arrived right after the request head) goes, decrypted, to
 * ops->on_data. Tunnels are exempt from the idle sweep (the protocol
 * inside keeps its own heartbeats).
 *
 * req is finished by the call, success or not: read what you need from it
 * (authenticated, user, groups, headers) before. On success *out is set
 * before any callback runs; bytes already received are delivered after
 * the handler returns (or at once when the upgrade happens outside the
 * handler). ops must outlive the tunnel. Returns 0, -ENOTSUP for
 * in-process requests, or -EPIPE when the connection is gone (no callback
 * follows).
 */
struct http_tunnel;
struct http_tunnel_ops {
    void (*on_data)(void *arg, const char *data, size_t len);
    /* Called once, from the loop (never from inside http_tunnel_write or
     * http_tunnel_close), when the connection is gone: peer closed, error,
     * output cap, http_tunnel_close or http_server_stop. The tunnel is
     * invalid after it returns. */
    void (*on_close)(void *arg);
};
int http_upgrade(struct http_request *req, const char *extra_headers,
                 const struct http_tunnel_ops *ops, void *arg,
                 struct http_tunnel **out);
/* Sends bytes through the tunnel (encrypted when TLS is on). Returns 0, or
 * -EPIPE when the connection is closing or its queued output would pass
 * HTTP_MAX_TUNNEL_QUEUE_BYTES (it is then closed; on_close follows). */
int http_tunnel_write(struct http_tunnel *t, const void *data, size_t len);
/* Bytes handed to the socket and not yet sent. */
size_t http_tunnel_queued(const struct http_tunnel *t);
/* Closes gracefully: queued output (up to 1 MiB) and a TLS close_notify
 * are sent first. on_close follows. */
void http_tunnel_close(struct http_tunnel *t);

/* Reason phrase for a status code ("Not Found"). */
const char *http_status_text(int status);

/* Percent-decodes in place ('+' stays '+' in paths, becomes ' ' in
 * queries when plus_is_space). Returns -EINVAL on a bad escape. */
int http_percent_decode(char *s, bool plus_is_space);

#endif
