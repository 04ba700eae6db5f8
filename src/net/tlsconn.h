/*
 * A TLS client connection on a libuv loop: name resolution, TCP connect
 * and handshake under one timeout, then encrypted bytes both ways through
 * OpenSSL memory BIOs. Built to be cheap per connection (kedge hollow
 * opens 100,000): no thread, one shared read buffer, TLS buffers released
 * while idle.
 */
#ifndef KEDGE_NET_TLSCONN_H
#define KEDGE_NET_TLSCONN_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <uv.h>

/* Connect + handshake timeout when the caller passes 0. */
#define TLSCONN_CONNECT_TIMEOUT_MS 10000
/* Unsent output past this closes the connection (-ENOBUFS). */
#define TLSCONN_MAX_QUEUE_BYTES (32 * 1024 * 1024)
/* How long tlsconn_close waits for queued output to leave. */
#define TLSCONN_CLOSE_TIMEOUT_MS 5000

struct tlsconn;

struct tlsconn_ops {
    /* The handshake is done (server certificate verified for the name). */
    void (*on_connected)(void *arg);
    /* Decrypted bytes from the server; valid during the call only. */
    void (*on_data)(void *arg, const char *data, size_t len);
    /*
     * Called exactly once, from the loop, when the connection is gone;
     * the handle is freed after it returns. err is 0 after tlsconn_close,
     * else a negative code with msg naming the peer and the cause:
     * -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET (closed by the peer),
     * -EPROTO (TLS failure; a certificate the CA does not vouch for gives
     * "certificate verify failed: <X509 verify error>"), -ENOBUFS (output
     * cap), or another -errno from resolution or the socket.
     */
    void (*on_close)(void *arg, int err, const char *msg);
};

/*
 * Starts connecting to host:port (a name, resolved with uv_getaddrinfo,
 * or an IP literal, used as is). ctx is a client context (pki_client_ctx)
 * or NULL for plain TCP; the server certificate is checked against
 * servername (NULL: host), which is also sent as SNI when it is a name.
 * timeout_ms bounds resolution + connect + handshake (0: the default).
 * ctx and ops must outlive the connection. On success *out is the handle
 * and exactly one on_close will follow (never from inside this call).
 * Returns 0, -EINVAL (bad port or name) or -ENOMEM.
 */
int tlsconn_connect(uv_loop_t *loop, const char *host, int port, SSL_CTX *ctx,
                    const char *servername, unsigned timeout_ms,
                    const struct tlsconn_ops *ops, void *arg,
                    struct tlsconn **out);
/* The same, presenting cert/key (not owned; NULL: the context's) as this
 * connection's client certificate: many identities over one context. */
int tlsconn_connect_as(uv_loop_t *loop, const char *host, int port,
                       SSL_CTX *ctx, X509 *cert, EVP_PKEY *key,
                       const char *servername, unsigned timeout_ms,
                       const struct tlsconn_ops *ops, void *arg,
                       struct tlsconn **out);

/*
 * Encrypts and queues bytes. Returns 0, -ENOTCONN before on_connected,
 * -EPIPE once closing, or -ENOBUFS when the queue would pass
 * TLSCONN_MAX_QUEUE_BYTES (the connection is then closed with -ENOBUFS).
 */
int tlsconn_write(struct tlsconn *c, const void *data, size_t len);

/* Bytes handed to the socket and not yet sent. */
size_t tlsconn_queued(const struct tlsconn *c);

/*
 * Arms (ms > 0) or disarms (0) a deadline on an established connection:
 * when it passes, the connection closes with -ETIMEDOUT and msg.
 * The message is copied. Used for close handshakes and heartbeats.
 */
void tlsconn_set_deadline(struct tlsconn *c, unsigned ms, const char *msg);

/*
 * Closes: an established connection sends its queued output and a TLS
 * close_notify first (for at most TLSCONN_CLOSE_TIMEOUT_MS). on_close
 * follows with err 0 (unless an error was already recorded). Safe to call
 * more than once and from inside callbacks.
 */
void tlsconn_close(struct tlsconn *c);

#endif
