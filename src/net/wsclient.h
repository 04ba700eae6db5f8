/*
 * A WebSocket client over TLS (wss://): tlsconn for the connection, an
 * HTTP/1.1 upgrade request and response check, then a ws endpoint for the
 * messages. Each client costs a TCP handle, a timer, an SSL object and
 * wslay's context; nothing per connection runs on a thread.
 */
#ifndef KEDGE_NET_WSCLIENT_H
#define KEDGE_NET_WSCLIENT_H

#include "net/ws.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* Cap on the upgrade response head; larger is a protocol error. */
#define WSCLIENT_MAX_HEAD_BYTES (16 * 1024)
/* How long a close handshake may take before the socket is dropped. */
#define WSCLIENT_CLOSE_TIMEOUT_MS 5000

struct wsclient;

struct wsclient_config {
    const char *host;          /* name or IP literal */
    int port;
    SSL_CTX *ctx;              /* pki_client_ctx; NULL for plain ws:// */
    const char *servername;    /* certificate name to check; NULL: host */
    const char *path;          /* request target; NULL: "/" */
    const char *extra_headers; /* NULL or "Name: value\r\n" lines */
    unsigned timeout_ms;       /* connect + TLS + upgrade; 0: 10 s */
    X509 *cert;                /* client certificate for this connection */
    EVP_PKEY *key;             /* (not owned; NULL: the context's) */
};

struct wsclient_ops {
    /* The server accepted the upgrade; messages may be sent. */
    void (*on_open)(void *arg);
    /* One complete message; data is valid during the call only. */
    void (*on_message)(void *arg, enum ws_opcode op, const void *data,
                       size_t len);
    /*
     * Called exactly once, from the loop; the client is freed after it
     * returns. After a close handshake code is the peer's close code (or
     * the one this end sent on a protocol error: 1002, 1007, 1009) with
     * its reason. Otherwise code is WS_CLOSE_ABNORMAL (1006) and reason
     * says what went wrong, e.g. "connecting to 127.0.0.1:1: connection
     * refused", "TLS handshake with h:443: certificate verify failed:
     * unable to get local issuer certificate", "HTTP 401 Unauthorized:
     * <first line of the body>", "h:443: connection closed by peer".
     */
    void (*on_close)(void *arg, int code, const char *reason);
};

/*
 * Starts connecting. cfg is copied; ctx and ops must outlive the client.
 * On success exactly one on_close follows (never from inside this call).
 * Returns 0, -EINVAL (bad host, port or header text) or -ENOMEM.
 */
int wsclient_connect(uv_loop_t *loop, const struct wsclient_config *cfg,
                     const struct wsclient_ops *ops, void *arg,
                     struct wsclient **out);

/* Sends a message (copied). Returns 0, -ENOTCONN before on_open, -EPIPE
 * once closing, -KE_TOOBIG over WS_MAX_MESSAGE_BYTES, or -EIO when the
 * connection failed (on_close follows). */
int wsclient_send(struct wsclient *c, bool binary, const void *data,
                  size_t len);
/* Sends a ping; same returns as wsclient_send. */
int wsclient_ping(struct wsclient *c);
/* Bytes queued to the socket and not yet sent (for back-pressure). */
size_t wsclient_queued(const struct wsclient *c);

/*
 * Closes: an open WebSocket sends a close frame with code and reason and
 * waits (at most WSCLIENT_CLOSE_TIMEOUT_MS) for the server's; before
 * on_open the connection is just dropped (on_close gets 1006). Safe to
 * call more than once and from inside callbacks.
 */
void wsclient_close(struct wsclient *c, int code, const char *reason);

#endif
