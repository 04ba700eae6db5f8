/*
 * TLS client connections on libuv. Each connection owns a TCP handle, a
 * timer (connect timeout, deadlines, close grace), and an SSL object with
 * a pair of memory BIOs; reads land in one buffer shared by every
 * connection (libuv runs read callbacks one at a time). The end is always
 * reported from a close callback, after both handles are closed.
 */
#include "net/tlsconn.h"
#include "pki/pki.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

enum tlsconn_state { RESOLVING, CONNECTING, HANDSHAKING, OPEN, CLOSING };

struct tlsconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    union {
        uv_connect_t connect;
        uv_shutdown_t shutdown;
    } req;
    uv_getaddrinfo_t *gai;      /* while resolving */
    SSL *ssl;                   /* NULL for plain TCP */
    BIO *rbio, *wbio;
    const struct tlsconn_ops *ops;
    void *arg;
    size_t queued;
    enum tlsconn_state state;
    int open_handles;           /* tcp + timer until closed */
    bool handles_closing;
    int port;
    int err;
    char *msg;                  /* error text, or the deadline's */
    char *peer;                 /* "host:port", for messages */
};

struct write_req {
    uv_write_t req;
    struct tlsconn *c;
    size_t len;
    char data[];
};

static void begin_close(struct tlsconn *c);

/* Records the first error (later ones are consequences) and closes. */
static void fail(struct tlsconn *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct tlsconn *c, int err, const char *fmt, ...)
{
    if (c->err == 0 && c->state != CLOSING) {
        char text[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        c->err = err;
        free(c->msg);
        c->msg = strdup(text);
    }
    begin_close(c);
}

static void maybe_finish(struct tlsconn *c)
{
    if (c->open_handles > 0 || c->gai)
        return;
    c->ops->on_close(c->arg, c->err, c->err ? (c->msg ? c->msg : "error")
                                            : "closed");
    if (c->ssl)
        SSL_free(c->ssl); /* frees both BIOs */
    free(c->msg);
    free(c->peer);
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct tlsconn *c = h->data;
    c->open_handles--;
    maybe_finish(c);
}

static void close_handles(struct tlsconn *c)
{
    if (c->handles_closing)
        return;
    c->handles_closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void begin_close(struct tlsconn *c)
{
    c->state = CLOSING;
    if (c->gai)
        uv_cancel((uv_req_t *)c->gai); /* its callback finishes */
    close_handles(c);
}

/* ---- output ------------------------------------------------------------ */

static void on_write(uv_write_t *w, int status)
{
    struct write_req *wr = (struct write_req *)w;
    struct tlsconn *c = wr->c;
    c->queued -= wr->len;
    free(wr);
    if (status < 0 && status != UV_ECANCELED)
        fail(c, status, "writing to %s: %s", c->peer, uv_strerror(status));
}

static int raw_write(struct tlsconn *c, const char *data, size_t len)
{
    struct write_req *wr = malloc(sizeof(*wr) + len);
    if (!wr)
        return -ENOMEM;
    wr->c = c;
    wr->len = len;
    memcpy(wr->data, data, len);
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)len);
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        free(wr);
        return rc;
    }
    c->queued += len;
    return 0;
}

/* Moves what TLS produced into the socket, in one write. */
static int tls_flush(struct tlsconn *c)
{
    size_t pending = BIO_ctrl_pending(c->wbio);
    if (pending == 0)
        return 0;
    struct write_req *wr = malloc(sizeof(*wr) + pending);
    if (!wr)
        return -ENOMEM;
    int n = BIO_read(c->wbio, wr->data, (int)pending);
    if (n <= 0) {
        free(wr);
        return -EPROTO;
    }
    wr->c = c;
    wr->len = (size_t)n;
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)n);
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        free(wr);
        return rc;
    }
    c->queued += (size_t)n;
    return 0;
}

int tlsconn_write(struct tlsconn *c, const void *data, size_t len)
{
    if (c->state == CLOSING)
        return -EPIPE;
    if (c->state != OPEN)
        return -ENOTCONN;
    if (c->queued + len > TLSCONN_MAX_QUEUE_BYTES) {
        fail(c, -ENOBUFS, "%s: peer too slow (%zu bytes queued)", c->peer,
             c->queued);
        return -ENOBUFS;
    }
    int rc = 0;
    if (!c->ssl) {
        rc = raw_write(c, data, len);
    } else {
        const char *p = data;
        while (len > 0 && rc == 0) {
            int chunk = len > 262144 ? 262144 : (int)len;
            int n = SSL_write(c->ssl, p, chunk);
            if (n <= 0) {
                rc = -EPROTO;
                break;
            }
            p += n;
            len -= (size_t)n;
            rc = tls_flush(c);
        }
    }
    if (rc != 0) {
        fail(c, rc, "writing to %s: %s", c->peer,
             rc == -EPROTO ? "TLS error" : uv_strerror(rc));
        return -EPIPE;
    }
    return 0;
}

size_t tlsconn_queued(const struct tlsconn *c) { return c->queued; }

/* ---- input ------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    static char slab[65536];
    (void)h;
    (void)suggested;
    *b = uv_buf_init(slab, sizeof(slab));
}

/* The reason a handshake or read failed, in words. */
static void tls_error_text(struct tlsconn *c, char *out, size_t len)
{
    long verify = SSL_get_verify_result(c->ssl);
    unsigned long e = ERR_peek_last_error();
    if (verify != X509_V_OK &&
        ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        snprintf(out, len, "certificate verify failed: %s",
                 X509_verify_cert_error_string(verify));
    } else if (e) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(out, len, "%s", buf);
    } else {
        snprintf(out, len, "connection closed during TLS");
    }
    ERR_clear_error();
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct tlsconn *c = s->data;
    if (nread == 0 || c->state == CLOSING)
        return;
    if (nread < 0) {
        if (nread == UV_EOF)
            fail(c, -ECONNRESET, "%s: connection closed by peer%s", c->peer,
                 c->state == HANDSHAKING ? " during the TLS handshake" : "");
        else
            fail(c, (int)nread, "reading from %s: %s", c->peer,
                 uv_strerror((int)nread));
        return;
    }
    if (!c->ssl) {
        c->ops->on_data(c->arg, b->base, (size_t)nread);
        return;
    }
    if (BIO_write(c->rbio, b->base, (int)nread) != nread) {
        fail(c, -ENOMEM, "%s: out of memory", c->peer);
        return;
    }
    if (c->state == HANDSHAKING) {
        int r = SSL_do_handshake(c->ssl);
        tls_flush(c);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            char why[300];
            tls_error_text(c, why, sizeof(why));
            fail(c, -EPROTO, "TLS handshake with %s: %s", c->peer, why);
            return;
        }
        c->state = OPEN;
        uv_timer_stop(&c->timer);
        c->ops->on_connected(c->arg);
    }
    char plain[16384];
    while (c->state == OPEN) {
        int n = SSL_read(c->ssl, plain, sizeof(plain));
        if (n > 0) {
            c->ops->on_data(c->arg, plain, (size_t)n);
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            ERR_clear_error();
            fail(c, -ECONNRESET, "%s: connection closed by peer", c->peer);
            return;
        }
        char why[300];
        tls_error_text(c, why, sizeof(why));
        fail(c, -EPROTO, "TLS error from %s: %s", c->peer, why);
        return;
    }
    if (c->state == OPEN)
        tls_flush(c); /* session tickets, key updates */
}

/* ---- connecting -------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    struct tlsconn *c = t->data;
    switch (c->state) {
    case RESOLVING:
        fail(c, -ETIMEDOUT, "resolving %s: timed out", c->peer);
        break;
    case CONNECTING:
        fail(c, -ETIMEDOUT, "connecting to %s: timed out", c->peer);
        break;
    case HANDSHAKING:
        fail(c, -ETIMEDOUT, "TLS handshake with %s: timed out", c->peer);
        break;
    case OPEN:
        fail(c, -ETIMEDOUT, "%s: %s", c->peer, c->msg ? c->msg : "deadline");
        break;
    case CLOSING:
        close_handles(c); /* the graceful close took too long */
        break;
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct tlsconn *c = req->data;
    if (c->state == CLOSING)
        return;
    if (status < 0) {
        fail(c, status, "connecting to %s: %s", c->peer, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) {
        fail(c, rc, "reading from %s: %s", c->peer, uv_strerror(rc));
        return;
    }
    if (!c->ssl) {
        c->state = OPEN;
        uv_timer_stop(&c->timer);
        c->ops->on_connected(c->arg);
        return;
    }
    c->state = HANDSHAKING;
    SSL_do_handshake(c->ssl); /* ClientHello */
    if (tls_flush(c) != 0)
        fail(c, -EPROTO, "TLS handshake with %s: cannot send", c->peer);
}

static void start_connect(struct tlsconn *c, const struct sockaddr *sa)
{
    c->state = CONNECTING;
    c->req.connect.data = c;
    int rc = uv_tcp_connect(&c->req.connect, &c->tcp, sa, on_connect);
    if (rc < 0) {
        fail(c, rc, "connecting to %s: %s", c->peer, uv_strerror(rc));
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res)
{
    struct tlsconn *c = req->data;
    free(c->gai);
    c->gai = NULL;
    if (c->state == CLOSING) {
        uv_freeaddrinfo(res);
        maybe_finish(c);
        return;
    }
    if (status < 0 || !res) {
        fail(c, status < 0 ? status : -ENOENT, "resolving %s: %s", c->peer,
             status < 0 ? uv_strerror(status) : "no address");
        uv_freeaddrinfo(res);
        return;
    }
    struct sockaddr_storage sa;
    memcpy(&sa, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    if (sa.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)c->port);
    else
        ((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)c->port);
    start_connect(c, (struct sockaddr *)&sa);
}

int tlsconn_connect(uv_loop_t *loop, const char *host, int port, SSL_CTX *ctx,
                    const char *servername, unsigned timeout_ms,
                    const struct tlsconn_ops *ops, void *arg,
                    struct tlsconn **out)
{
    return tlsconn_connect_as(loop, host, port, ctx, NULL, NULL, servername,
                              timeout_ms, ops, arg, out);
}

int tlsconn_connect_as(uv_loop_t *loop, const char *host, int port,
                       SSL_CTX *ctx, X509 *cert, EVP_PKEY *key,
                       const char *servername, unsigned timeout_ms,
                       const struct tlsconn_ops *ops, void *arg,
                       struct tlsconn **out)
{
    if (port <= 0 || port > 65535 || !host || !*host)
        return -EINVAL;
    struct tlsconn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->ops = ops;
    c->arg = arg;
    c->port = port;
    size_t plen = strlen(host) + 16;
    c->peer = malloc(plen);
    if (!c->peer)
        goto nomem;
    snprintf(c->peer, plen, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
             port);
    if (ctx) {
        c->ssl = SSL_new(ctx);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        if (!c->ssl || !c->rbio || !c->wbio) {
            if (!c->ssl) {
                BIO_free(c->rbio);
                BIO_free(c->wbio);
            } else {
                SSL_free(c->ssl);
                c->ssl = NULL;
                BIO_free(c->rbio);
                BIO_free(c->wbio);
            }
            goto nomem;
        }
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        if (cert && key &&
            (SSL_use_certificate(c->ssl, cert) != 1 ||
             SSL_use_PrivateKey(c->ssl, key) != 1)) {
            SSL_free(c->ssl);
            free(c->peer);
            free(c);
            return -EINVAL;
        }
        SSL_set_connect_state(c->ssl);
        SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
        int rc = pki_client_set_host(c->ssl, servername ? servername : host);
        if (rc != 0) {
            SSL_free(c->ssl);
            free(c->peer);
            free(c);
            return rc == -ENOMEM ? -ENOMEM : -EINVAL;
        }
    }
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    uv_timer_start(&c->timer, on_timer,
                   timeout_ms ? timeout_ms : TLSCONN_CONNECT_TIMEOUT_MS, 0);

    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof(sa));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa) == 0) {
        /* An IP literal: no resolver round trip (hollow connects many). */
        start_connect(c, (struct sockaddr *)&sa);
    } else {
        c->state = RESOLVING;
        c->gai = malloc(sizeof(*c->gai));
        if (!c->gai) {
            fail(c, -ENOMEM, "resolving %s: out of memory", c->peer);
        } else {
            c->gai->data = c;
            struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                     .ai_socktype = SOCK_STREAM};
            int rc = uv_getaddrinfo(loop, c->gai, on_resolved, host, NULL,
                                    &hints);
            if (rc < 0) {
                free(c->gai);
                c->gai = NULL;
                fail(c, rc, "resolving %s: %s", c->peer, uv_strerror(rc));
            }
        }
    }
    *out = c;
    return 0;
nomem:
    free(c->peer);
    free(c);
    return -ENOMEM;
}

/* ---- closing ----------------------------------------------------------- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct tlsconn *c = req->data;
    (void)status;
    close_handles(c);
}

void tlsconn_set_deadline(struct tlsconn *c, unsigned ms, const char *msg)
{
    if (c->state != OPEN)
        return;
    if (ms == 0) {
        uv_timer_stop(&c->timer);
        return;
    }
    free(c->msg);
    c->msg = msg ? strdup(msg) : NULL;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

void tlsconn_close(struct tlsconn *c)
{
    if (c->state == CLOSING)
        return;
    if (c->state != OPEN) {
        begin_close(c);
        return;
    }
    c->state = CLOSING;
    free(c->msg);
    c->msg = NULL;
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        tls_flush(c);
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->req.shutdown.data = c;
    if (uv_shutdown(&c->req.shutdown, (uv_stream_t *)&c->tcp, on_shutdown) !=
        0) {
        close_handles(c);
        return;
    }
    uv_timer_start(&c->timer, on_timer, TLSCONN_CLOSE_TIMEOUT_MS, 0);
}
