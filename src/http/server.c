/*
 * HTTP/1.1 over TCP or TLS on libuv. Each connection owns an http_parser,
 * an optional SSL object with a pair of memory BIOs (network bytes in,
 * network bytes out), and at most one request being answered. Bytes that
 * arrive while a response is outstanding are held (capped) and parsed
 * when it finishes, so pipelined requests are answered in order. A
 * handler may upgrade its connection into a byte tunnel (WebSocket).
 */
#include "http/server.h"
#include "pki/pki.h"
#include "util/errors.h"
#include "util/log.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_IDLE_TIMEOUT_MS (120 * 1000)
#define HTTP_HEADER_TIMEOUT_MS (60 * 1000)
#define HTTP_HELD_BYTES (256 * 1024)

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t sweep;
    SSL_CTX *ctx;
    http_handler_fn handler;
    void *arg;
    struct http_conn *conns;
    int nconns;
    int port;
    bool stopping;
};

enum conn_state { CONN_READING, CONN_HANDLING, CONN_STREAMING, CONN_TUNNEL };

struct http_tunnel {
    const struct http_tunnel_ops *ops; /* NULL until the upgrade is done */
    void *arg;
};

struct http_conn {
    uv_tcp_t tcp;
    uv_shutdown_t shutdown;
    struct http_server *srv;
    struct http_conn *prev, *next;
    SSL *ssl;
    BIO *rbio, *wbio;
    bool handshake_done;
    http_parser parser;
    struct http_request *req;   /* being parsed or answered */
    enum conn_state state;
    char *last_field;           /* header field being parsed */
    size_t header_bytes;
    bool in_value;
    struct buf held;            /* bytes received while answering */
    size_t queued;              /* bytes handed to uv_write, not yet sent */
    bool keep_alive;
    bool closing;
    uint64_t last_activity_ms;
    bool msg_started;
    bool in_handler;            /* inside srv->handler */
    struct http_tunnel tunnel;  /* state CONN_TUNNEL */
    char remote[64];
};

#define TUNNEL_CONN(t)                                                     \
    ((struct http_conn *)((char *)(t) - offsetof(struct http_conn, tunnel)))

struct write_req {
    uv_write_t req;
    struct http_conn *conn;
    size_t len;
    char data[];
};

static void conn_close(struct http_conn *c);
static int conn_feed(struct http_conn *c, const char *data, size_t len);
static void tunnel_deliver_held(struct http_conn *c);

const char *http_status_text(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static uint64_t now_ms(uv_loop_t *loop) { return uv_now(loop); }

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- output ---------------------------------------------------------- */

static void on_write(uv_write_t *w, int status)
{
    struct write_req *wr = (struct write_req *)w;
    struct http_conn *c = wr->conn;
    c->queued -= wr->len;
    free(wr);
    if (status < 0 && !c->closing)
        conn_close(c);
}

static int raw_send(struct http_conn *c, const char *data, size_t len)
{
    if (c->closing)
        return -EPIPE;
    struct write_req *wr = malloc(sizeof(*wr) + len);
    if (!wr)
        return -ENOMEM;
    wr->conn = c;
    wr->len = len;
    memcpy(wr->data, data, len);
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)len);
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        free(wr);
        return -EPIPE;
    }
    c->queued += len;
    return 0;
}

/* Moves whatever TLS produced into the socket, in one write. */
static int tls_flush(struct http_conn *c)
{
    size_t pending = BIO_ctrl_pending(c->wbio);
    if (pending == 0 || c->closing)
        return c->closing ? -EPIPE : 0;
    struct write_req *wr = malloc(sizeof(*wr) + pending);
    if (!wr)
        return -ENOMEM;
    int n = BIO_read(c->wbio, wr->data, (int)pending);
    if (n <= 0) {
        free(wr);
        return -EPIPE;
    }
    wr->conn = c;
    wr->len = (size_t)n;
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)n);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
        free(wr);
        return -EPIPE;
    }
    c->queued += (size_t)n;
    return 0;
}

/*
 * Encrypts and queues data. With `more`, the last piece stays in the TLS
 * buffer so that what follows (a response body after its header) leaves
 * in the same write.
 */
static int conn_send_more(struct http_conn *c, const char *data, size_t len,
                          bool more)
{
    if (c->closing)
        return -EPIPE;
    if (!c->ssl)
        return raw_send(c, data, len);
    while (len > 0) {
        int chunk = len > 262144 ? 262144 : (int)len;
        int n = SSL_write(c->ssl, data, chunk);
        if (n <= 0)
            return -EPIPE;
        data += n;
        len -= (size_t)n;
        if (len > 0 || !more) {
            int rc = tls_flush(c);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int conn_send(struct http_conn *c, const char *data, size_t len)
{
    return conn_send_more(c, data, len, false);
}

/* ---- requests -------------------------------------------------------- */

static void request_free(struct http_request *r)
{
    if (!r)
        return;
    free(r->url);
    free(r->path);
    free(r->query);
    for (int i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    buf_free(&r->body);
    free(r);
}

const char *http_header(const struct http_request *req, const char *name)
{
    for (int i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int http_percent_decode(char *s, bool plus_is_space)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '%') {
            int h = r[1] ? hexval((unsigned char)r[1]) : -1;
            int l = h >= 0 && r[2] ? hexval((unsigned char)r[2]) : -1;
            if (h < 0 || l < 0)
                return -EINVAL;
            *w++ = (char)(h * 16 + l);
            r += 2;
        } else if (*r == '+' && plus_is_space) {
            *w++ = ' ';
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return 0;
}

int http_query(const struct http_request *req, const char *name, char *out,
               size_t len)
{
    size_t nlen = strlen(name);
    const char *p = req->query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        if (klen == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = eq ? plen - klen - 1 : 0;
            if (vlen >= len)
                return -KE_TOOBIG;
            memcpy(out, v, vlen);
            out[vlen] = 0;
            if (http_percent_decode(out, true))
                return -EINVAL;
            return 0;
        }
        p = amp ? amp + 1 : NULL;
    }
    return -ENOENT;
}

static void finish_request(struct http_conn *c)
{
    request_free(c->req);
    c->req = NULL;
    c->state = CONN_READING;
    c->last_activity_ms = now_ms(c->srv->loop);
    if (!c->keep_alive) {
        conn_close(c);
        return;
    }
    /* Parse what arrived meanwhile. */
    http_parser_pause(&c->parser, 0);
    if (c->held.len) {
        struct buf held = c->held;
        buf_init(&c->held, HTTP_HELD_BYTES);
        conn_feed(c, held.data, held.len);
        buf_free(&held);
    }
}

void http_respond(struct http_request *req, int status,
                  const char *content_type, const char *extra_headers,
                  const char *body, size_t len)
{
    struct http_conn *c = req->conn;
    if (!c) {
        req->local_status = status;
        buf_reset(&req->local_body);
        if (buf_append(&req->local_body, body, len) != 0)
            req->local_status = 500;
        return;
    }
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Cache-Control: no-cache, private\r\n"
                     "%s%s\r\n",
                     status, http_status_text(status),
                     content_type ? content_type : "text/plain", len,
                     c->keep_alive ? "" : "Connection: close\r\n",
                     extra_headers ? extra_headers : "");
    if (n > 0 && (size_t)n < sizeof(head)) {
        bool with_body = len && strcmp(req->method, "HEAD") != 0;
        if (!c->ssl && with_body && len <= 16384) {
            /* Plain HTTP: one write for a small answer. */
            char one[sizeof(head) + 16384];
            memcpy(one, head, (size_t)n);
            memcpy(one + n, body, len);
            raw_send(c, one, (size_t)n + len);
        } else if (conn_send_more(c, head, (size_t)n, with_body) == 0 &&
                   with_body) {
            conn_send(c, body, len);
        }
    }
    finish_request(c);
}

int http_stream_start(struct http_request *req, int status,
                      const char *content_type)
{
    struct http_conn *c = req->conn;
    if (!c)
        return -ENOTSUP; /* in-process requests are answered whole */
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Transfer-Encoding: chunked\r\n"
                     "Cache-Control: no-cache, private\r\n\r\n",
                     status, http_status_text(status), content_type);
    c->state = CONN_STREAMING;
    return conn_send(c, head, (size_t)n);
}

int http_stream_write(struct http_request *req, const char *data, size_t len)
{
    struct http_conn *c = req->conn;
    if (c->closing)
        return -EPIPE;
    if (c->queued > HTTP_MAX_STREAM_QUEUE_BYTES) {
        log_warn("http", "%s: stream consumer too slow (%zu bytes queued), "
                         "closing", c->remote, c->queued);
        conn_close(c);
        return -EPIPE;
    }
    if (len == 0)
        return 0;
    char size[32];
    int n = snprintf(size, sizeof(size), "%zx\r\n", len);
    /* One TLS record per chunk: join the framing and the data. */
    char *tmp = malloc((size_t)n + len + 2);
    if (!tmp)
        return -ENOMEM;
    memcpy(tmp, size, (size_t)n);
    memcpy(tmp + n, data, len);
    memcpy(tmp + n + len, "\r\n", 2);
    int rc = conn_send(c, tmp, (size_t)n + len + 2);
    free(tmp);
    c->last_activity_ms = now_ms(c->srv->loop);
    return rc;
}

void http_stream_end(struct http_request *req)
{
    struct http_conn *c = req->conn;
    conn_send(c, "0\r\n\r\n", 5);
    req->on_close = NULL;
    finish_request(c);
}

/* ---- parsing --------------------------------------------------------- */

static struct http_request *request_new(struct http_conn *c)
{
    struct http_request *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->conn = c;
    buf_init(&r->body, HTTP_MAX_BODY_BYTES);
    snprintf(r->remote, sizeof(r->remote), "%s", c->remote);
    if (c->ssl && c->handshake_done) {
        X509 *peer = SSL_get1_peer_certificate(c->ssl);
        if (peer) {
            if (SSL_get_verify_result(c->ssl) == X509_V_OK &&
                pki_cert_identity(peer, r->user, sizeof(r->user), r->groups,
                                  sizeof(r->groups)) == 0)
                r->authenticated = true;
            X509_free(peer);
        }
    }
    return r;
}

static int on_message_begin(http_parser *p)
{
    struct http_conn *c = p->data;
    request_free(c->req);
    c->req = request_new(c);
    c->header_bytes = 0;
    c->in_value = false;
    free(c->last_field);
    c->last_field = NULL;
    c->msg_started = true;
    return c->req ? 0 : -1;
}

static int append_str(char **dst, const char *at, size_t len)
{
    size_t old = *dst ? strlen(*dst) : 0;
    char *p = realloc(*dst, old + len + 1);
    if (!p)
        return -1;
    memcpy(p + old, at, len);
    p[old + len] = 0;
    *dst = p;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    c->header_bytes += len;
    if (c->header_bytes > HTTP_MAX_HEADER_BYTES)
        return -1;
    return append_str(&c->req->url, at, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    struct http_request *r = c->req;
    c->header_bytes += len;
    if (c->header_bytes > HTTP_MAX_HEADER_BYTES)
        return -1;
    if (c->in_value || r->nheaders == 0) {
        /* A new header starts. */
        if (r->nheaders >= 256)
            return -1;
        struct http_header *h =
            realloc(r->headers, (size_t)(r->nheaders + 1) * sizeof(*h));
        if (!h)
            return -1;
        r->headers = h;
        h[r->nheaders].name = NULL;
        h[r->nheaders].value = NULL;
        r->nheaders++;
        c->in_value = false;
    }
    return append_str(&r->headers[r->nheaders - 1].name, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    struct http_request *r = c->req;
    c->header_bytes += len;
    if (c->header_bytes > HTTP_MAX_HEADER_BYTES || r->nheaders == 0)
        return -1;
    c->in_value = true;
    return append_str(&r->headers[r->nheaders - 1].value, at, len);
}

static int on_headers_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    struct http_request *r = c->req;
    for (int i = 0; i < r->nheaders; i++)
        if (!r->headers[i].value)
            r->headers[i].value = strdup("");
    snprintf(r->method, sizeof(r->method), "%s",
             http_method_str((enum http_method)p->method));
    if (!r->url)
        return -1;
    const char *q = strchr(r->url, '?');
    size_t plen = q ? (size_t)(q - r->url) : strlen(r->url);
    r->path = strndup(r->url, plen);
    r->query = strdup(q ? q + 1 : "");
    if (!r->path || !r->query)
        return -1;
    if (http_percent_decode(r->path, false))
        return -1;
    if (p->content_length != ULLONG_MAX &&
        p->content_length > HTTP_MAX_BODY_BYTES)
        r->body_too_large = true;
    /* A client that waits for permission before sending its body. */
    const char *expect = http_header(r, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 &&
        !r->body_too_large)
        conn_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    struct http_request *r = c->req;
    if (r->body_too_large)
        return 0;
    if (buf_append(&r->body, at, len) != 0) {
        r->body_too_large = true;
        buf_free(&r->body);
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    struct http_request *r = c->req;
    c->msg_started = false;
    c->keep_alive = http_should_keep_alive(p) != 0;
    /* After an upgrade request the bytes that follow are in the other
     * protocol: unless the handler upgrades, the connection ends. */
    if (p->upgrade)
        c->keep_alive = false;
    c->state = CONN_HANDLING;
    r->start_ns = mono_ns();
    /* Stop parsing: the rest waits until this request is answered. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void send_bad_request(struct http_conn *c, const char *why)
{
    char body[256];
    int n = snprintf(body, sizeof(body),
                     "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                     "\"metadata\":{},\"status\":\"Failure\",\"message\":"
                     "\"malformed HTTP request: %s\",\"reason\":"
                     "\"BadRequest\",\"code\":400}",
                     why);
    char head[256];
    int h = snprintf(head, sizeof(head),
                     "HTTP/1.1 400 Bad Request\r\nContent-Type: "
                     "application/json\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n",
                     n);
    conn_send(c, head, (size_t)h);
    conn_send(c, body, (size_t)n);
}

/* Feeds plaintext to the parser and dispatches complete requests. */
static int conn_feed(struct http_conn *c, const char *data, size_t len)
{
    while (len > 0 && !c->closing) {
        if (c->state == CONN_TUNNEL) {
            c->tunnel.ops->on_data(c->tunnel.arg, data, len);
            return 0;
        }
        if (c->state != CONN_READING) {
            if (buf_append(&c->held, data, len) != 0) {
                log_warn("http", "%s: too much data while answering, closing",
                         c->remote);
                conn_close(c);
                return -1;
            }
            return 0;
        }
        size_t n = http_parser_execute(&c->parser, &parser_settings, data, len);
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (err != HPE_OK && err != HPE_PAUSED) {
            log_debug("http", "%s: parse error: %s", c->remote,
                      http_errno_description(err));
            send_bad_request(c, http_errno_description(err));
            conn_close(c);
            return -1;
        }
        if (err == HPE_PAUSED) {
            /* A request is complete: answer it. */
            if (!c->req) {
                conn_close(c);
                return -1;
            }
            data += n;
            len -= n;
            if (len > 0 && buf_append(&c->held, data, len) != 0) {
                conn_close(c);
                return -1;
            }
            len = 0;
            c->in_handler = true;
            c->srv->handler(c->srv->arg, c->req);
            c->in_handler = false;
            if (c->state == CONN_TUNNEL)
                tunnel_deliver_held(c);
            return 0;
        }
        data += n;
        len -= n;
    }
    return 0;
}

/* ---- tunnels ---------------------------------------------------------- */

/* Hands the bytes that came with or after the upgrade request to the
 * tunnel, and drops what only HTTP parsing needed. */
static void tunnel_deliver_held(struct http_conn *c)
{
    struct buf held = c->held;
    buf_init(&c->held, 0);
    free(c->last_field);
    c->last_field = NULL;
    if (held.len && !c->closing)
        c->tunnel.ops->on_data(c->tunnel.arg, held.data, held.len);
    buf_free(&held);
}

int http_upgrade(struct http_request *req, const char *extra_headers,
                 const struct http_tunnel_ops *ops, void *arg,
                 struct http_tunnel **out)
{
    struct http_conn *c = req->conn;
    if (!c) {
        req->local_status = 501;
        return -ENOTSUP;
    }
    request_free(c->req);
    c->req = NULL;
    c->state = CONN_TUNNEL;
    if (c->closing)
        return -EPIPE;
    char head[2048];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 101 Switching Protocols\r\n%s\r\n",
                     extra_headers ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof(head) ||
        conn_send(c, head, (size_t)n) != 0) {
        conn_close(c);
        return -EPIPE;
    }
    c->tunnel.ops = ops;
    c->tunnel.arg = arg;
    c->last_activity_ms = now_ms(c->srv->loop);
    *out = &c->tunnel;
    if (!c->in_handler)
        tunnel_deliver_held(c);
    return 0;
}

int http_tunnel_write(struct http_tunnel *t, const void *data, size_t len)
{
    struct http_conn *c = TUNNEL_CONN(t);
    if (c->closing)
        return -EPIPE;
    if (c->queued + len > HTTP_MAX_TUNNEL_QUEUE_BYTES) {
        log_warn("http", "%s: tunnel peer too slow (%zu bytes queued), "
                         "closing", c->remote, c->queued);
        conn_close(c);
        return -EPIPE;
    }
    if (len == 0)
        return 0;
    return conn_send(c, data, len);
}

size_t http_tunnel_queued(const struct http_tunnel *t)
{
    return TUNNEL_CONN(t)->queued;
}

void http_tunnel_close(struct http_tunnel *t)
{
    struct http_conn *c = TUNNEL_CONN(t);
    if (c->closing)
        return;
    if (c->ssl && c->handshake_done) {
        SSL_shutdown(c->ssl);
        tls_flush(c);
    }
    conn_close(c);
}

/* ---- connections ----------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    /* Tunnels hear of the end here, from the loop, so that on_close never
     * runs inside one of their own calls. */
    if (c->state == CONN_TUNNEL && c->tunnel.ops)
        c->tunnel.ops->on_close(c->tunnel.arg);
    free(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    uv_close((uv_handle_t *)req->handle, on_closed);
}

static void conn_close(struct http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct http_request *r = c->req;
    if (r && r->on_close) {
        void (*fn)(struct http_request *, void *) = r->on_close;
        r->on_close = NULL;
        fn(r, r->close_arg);
    }
    request_free(c->req);
    c->req = NULL;
    free(c->last_field);
    buf_free(&c->held);
    if (c->ssl)
        SSL_free(c->ssl); /* frees both BIOs */
    c->ssl = NULL;
    struct http_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    uv_read_stop((uv_stream_t *)&c->tcp);
    /* Let a short answer already queued (an error, a final response)
     * reach the peer before the socket closes; a backlog of a slow
     * consumer is dropped. */
    if (c->queued > 0 && c->queued < 1024 * 1024 &&
        uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) == 0)
        return;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    static char slab[65536];
    (void)h;
    (void)suggested;
    *b = uv_buf_init(slab, sizeof(slab));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct http_conn *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->last_activity_ms = now_ms(c->srv->loop);
    if (!c->ssl) {
        conn_feed(c, b->base, (size_t)nread);
        return;
    }
    if (BIO_write(c->rbio, b->base, (int)nread) != nread) {
        conn_close(c);
        return;
    }
    if (!c->handshake_done) {
        int r = SSL_do_handshake(c->ssl);
        if (r == 1) {
            c->handshake_done = true;
        } else {
            int e = SSL_get_error(c->ssl, r);
            tls_flush(c);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                unsigned long oe = ERR_get_error();
                char msg[256];
                ERR_error_string_n(oe, msg, sizeof(msg));
                log_debug("http", "%s: TLS handshake failed: %s", c->remote,
                          msg);
                ERR_clear_error();
                conn_close(c);
            }
            return;
        }
    }
    char plain[16384];
    while (!c->closing) {
        int n = SSL_read(c->ssl, plain, sizeof(plain));
        if (n > 0) {
            if (conn_feed(c, plain, (size_t)n) != 0)
                return;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        ERR_clear_error();
        conn_close(c);
        return;
    }
    if (!c->closing)
        tls_flush(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct http_server *srv = server->data;
    if (status < 0)
        return;
    struct http_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        char ip[48] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        snprintf(c->remote, sizeof(c->remote), "%s:%d", ip, port);
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    buf_init(&c->held, HTTP_HELD_BYTES);
    c->keep_alive = true;
    c->last_activity_ms = now_ms(srv->loop);
    if (srv->ctx) {
        c->ssl = SSL_new(srv->ctx);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        if (!c->ssl || !c->rbio || !c->wbio) {
            if (c->ssl)
                SSL_free(c->ssl);
            else {
                BIO_free(c->rbio);
                BIO_free(c->wbio);
            }
            c->ssl = NULL;
            buf_free(&c->held);
            uv_close((uv_handle_t *)&c->tcp, on_closed);
            return;
        }
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
        /* Idle connections (most tunnels, most of the time) give their
         * 16 KiB TLS record buffers back. */
        SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    }
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* Closes connections idle for too long between requests; streams and
 * tunnels are left alone (a tunnel's protocol has its own heartbeats). */
static void on_sweep(uv_timer_t *t)
{
    struct http_server *srv = t->data;
    uint64_t now = now_ms(srv->loop);
    struct http_conn *c = srv->conns;
    while (c) {
        struct http_conn *next = c->next;
        uint64_t idle = now - c->last_activity_ms;
        if (c->state == CONN_READING &&
            ((c->msg_started && idle > HTTP_HEADER_TIMEOUT_MS) ||
             idle > HTTP_IDLE_TIMEOUT_MS))
            conn_close(c);
        c = next;
    }
}

int http_server_start(uv_loop_t *loop, const char *addr, int port,
                      SSL_CTX *ctx, http_handler_fn handler, void *arg,
                      struct http_server **out)
{
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->loop = loop;
    srv->ctx = ctx;
    srv->handler = handler;
    srv->arg = arg;
    struct sockaddr_storage sa;
    int rc;
    if (strchr(addr, ':'))
        rc = uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa);
    else
        rc = uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa);
    if (rc) {
        log_error("http", "bad listen address %s: %s", addr, uv_strerror(rc));
        free(srv);
        return -EINVAL;
    }
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 4096, on_connection);
    if (rc) {
        log_error("http", "cannot listen on %s:%d: %s", addr, port,
                  uv_strerror(rc));
        uv_close((uv_handle_t *)&srv->listener, NULL);
        /* The caller's loop must run once to finish the close. */
        uv_run(loop, UV_RUN_NOWAIT);
        free(srv);
        return rc == UV_EADDRINUSE ? -EADDRINUSE : -EIO;
    }
    struct sockaddr_storage bound;
    int bl = sizeof(bound);
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &bl);
    srv->port = ntohs(bound.ss_family == AF_INET6
                          ? ((struct sockaddr_in6 *)&bound)->sin6_port
                          : ((struct sockaddr_in *)&bound)->sin_port);
    uv_timer_init(loop, &srv->sweep);
    srv->sweep.data = srv;
    uv_timer_start(&srv->sweep, on_sweep, 10000, 10000);
    *out = srv;
    return 0;
}

int http_server_port(const struct http_server *srv) { return srv->port; }

int http_server_connections(const struct http_server *srv)
{
    return srv->nconns;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;
    free(srv);
}

static void on_sweep_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
}

void http_server_stop(struct http_server *srv)
{
    if (!srv || srv->stopping)
        return;
    srv->stopping = true;
    while (srv->conns)
        conn_close(srv->conns);
    uv_timer_stop(&srv->sweep);
    uv_close((uv_handle_t *)&srv->sweep, on_sweep_closed);
}
