/*
 * The benchmarks' HTTP/1.1-over-TLS client: blocking keep-alive requests
 * and an incremental chunked decoder for watch streams. Only what the
 * benchmarks need: Content-Length and chunked bodies, no redirects.
 */
#include "httpc.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HC_MAX_HEAD_BYTES (64 * 1024)

enum { HC_CHUNK_SIZE, HC_CHUNK_EXT, HC_CHUNK_SIZE_LF, HC_CHUNK_DATA,
       HC_CHUNK_DATA_CR, HC_CHUNK_DATA_LF, HC_CHUNK_TRAILER };

uint64_t hc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int hc_buf_reserve(struct hc_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int hc_buf_append(struct hc_buf *b, const void *data, size_t len)
{
    if (hc_buf_reserve(b, len))
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

void hc_buf_free(struct hc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void print_ssl_error(const char *what)
{
    char msg[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, msg, sizeof(msg));
    fprintf(stderr, "httpc: %s: %s\n", what, e ? msg : strerror(errno));
    ERR_clear_error();
}

SSL_CTX *hc_ctx_new(const char *pki_dir)
{
    char ca[4096], crt[4096], key[4096];
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki_dir);
    snprintf(crt, sizeof(crt), "%s/admin.crt", pki_dir);
    snprintf(key, sizeof(key), "%s/admin.key", pki_dir);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        print_ssl_error("SSL_CTX_new");
        return NULL;
    }
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
        SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        print_ssl_error(pki_dir);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

int hc_connect(struct hc_conn *c, SSL_CTX *ctx, const char *host, int port)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc) {
        fprintf(stderr, "httpc: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "httpc: connect %s:%d: %s\n", host, port,
                strerror(errno));
        freeaddrinfo(ai);
        hc_close(c);
        return -1;
    }
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
        SSL_connect(c->ssl) != 1) {
        print_ssl_error("TLS handshake");
        hc_close(c);
        return -1;
    }
    return 0;
}

void hc_close(struct hc_conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    hc_buf_free(&c->in);
}

int hc_write_all(struct hc_conn *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        int n = SSL_write(c->ssl, p, len > 1 << 30 ? 1 << 30 : (int)len);
        if (n <= 0) {
            print_ssl_error("write");
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int hc_send_request(struct hc_conn *c, const char *method, const char *path,
                    const char *accept, const char *body, size_t len)
{
    char head[2048];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: kedge\r\n"
                     "User-Agent: kedge-bench\r\nAccept: %s\r\n"
                     "%s"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, accept ? accept : "application/json",
                     body ? "Content-Type: application/json\r\n" : "",
                     body ? len : 0);
    if (n < 0 || (size_t)n >= sizeof(head)) {
        fprintf(stderr, "httpc: request head too long for %s\n", path);
        return -1;
    }
    if (!body || len == 0)
        return hc_write_all(c, head, (size_t)n);
    /* One write (one TLS record for small bodies), like a real client. */
    struct hc_buf b = {0};
    if (hc_buf_append(&b, head, (size_t)n) || hc_buf_append(&b, body, len)) {
        hc_buf_free(&b);
        return -1;
    }
    int rc = hc_write_all(c, b.data, b.len);
    hc_buf_free(&b);
    return rc;
}

/* Reads more plaintext into c->in (blocking). 0, or -1 on EOF/error. */
static int read_more(struct hc_conn *c)
{
    if (hc_buf_reserve(&c->in, 65536))
        return -1;
    int n = SSL_read(c->ssl, c->in.data + c->in.len, 65536);
    if (n <= 0) {
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL)
            fprintf(stderr, "httpc: connection closed by the server\n");
        else
            print_ssl_error("read");
        return -1;
    }
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = 0;
    return 0;
}

static void consume(struct hc_buf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    if (b->data)
        b->data[b->len] = 0;
}

static int parse_head(const char *head, size_t len, struct hc_response *r)
{
    if (len < 12 || strncmp(head, "HTTP/1.", 7) != 0)
        return -1;
    r->status = atoi(head + 9);
    r->content_length = -1;
    r->chunked = false;
    const char *p = memchr(head, '\n', len);
    while (p && (size_t)(p - head) < len) {
        p++;
        const char *eol = memchr(p, '\n', len - (size_t)(p - head));
        if (!eol)
            break;
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            r->content_length = atoll(p + 15);
        else if (strncasecmp(p, "Transfer-Encoding:", 18) == 0 &&
                 strstr(p, "chunked") && strstr(p, "chunked") < eol)
            r->chunked = true;
        p = eol;
    }
    return 0;
}

int hc_read_head(struct hc_conn *c, struct hc_response *r)
{
    memset(r, 0, sizeof(*r));
    for (;;) {
        char *end = c->in.len ? strstr(c->in.data, "\r\n\r\n") : NULL;
        if (end) {
            size_t hl = (size_t)(end - c->in.data) + 4;
            if (!r->first_byte_ns)
                r->first_byte_ns = hc_now_ns();
            if (parse_head(c->in.data, hl, r)) {
                fprintf(stderr, "httpc: malformed response head\n");
                return -1;
            }
            r->header_len = hl;
            consume(&c->in, hl);
            if (r->status == 100)
                continue; /* an interim answer: the real one follows */
            return 0;
        }
        if (c->in.len > HC_MAX_HEAD_BYTES) {
            fprintf(stderr, "httpc: response head too long\n");
            return -1;
        }
        if (read_more(c))
            return -1;
        if (!r->first_byte_ns)
            r->first_byte_ns = hc_now_ns();
    }
}

static void append_line(void *arg, const char *line, size_t len)
{
    struct hc_buf *b = arg;
    hc_buf_append(b, line, len);
    hc_buf_append(b, "\n", 1);
}

int hc_read_response(struct hc_conn *c, struct hc_response *r)
{
    if (hc_read_head(c, r))
        return -1;
    if (!r->chunked) {
        size_t want = r->content_length > 0 ? (size_t)r->content_length : 0;
        if (hc_buf_reserve(&r->body, want))
            return -1;
        while (c->in.len < want)
            if (read_more(c))
                return -1;
        hc_buf_append(&r->body, c->in.data, want);
        consume(&c->in, want);
        return 0;
    }
    /* Chunked (rare for these endpoints): decode as lines and keep them. */
    struct hc_chunked d = {0};
    for (;;) {
        if (c->in.len) {
            if (hc_chunked_feed(&d, c->in.data, c->in.len, append_line,
                                &r->body)) {
                hc_buf_free(&d.line);
                return -1;
            }
            consume(&c->in, c->in.len);
        }
        if (d.ended)
            break;
        if (read_more(c)) {
            hc_buf_free(&d.line);
            return -1;
        }
    }
    if (d.line.len)
        hc_buf_append(&r->body, d.line.data, d.line.len);
    hc_buf_free(&d.line);
    return 0;
}

int hc_roundtrip(struct hc_conn *c, const char *method, const char *path,
                 const char *accept, const char *body, size_t len,
                 struct hc_response *r)
{
    if (hc_send_request(c, method, path, accept, body, len))
        return -1;
    return hc_read_response(c, r);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int hc_chunked_feed(struct hc_chunked *d, const char *data, size_t len,
                    void (*fn)(void *arg, const char *line, size_t len),
                    void *arg)
{
    size_t i = 0;
    while (i < len && !d->ended) {
        char ch = data[i];
        switch (d->state) {
        case HC_CHUNK_SIZE:
            if (hexval((unsigned char)ch) >= 0) {
                d->size = d->size * 16 + (size_t)hexval((unsigned char)ch);
                i++;
            } else if (ch == '\r' || ch == ';') {
                d->state = HC_CHUNK_EXT;
            } else {
                return -1;
            }
            break;
        case HC_CHUNK_EXT:
            if (ch == '\n')
                d->state = HC_CHUNK_SIZE_LF;
            else
                i++;
            break;
        case HC_CHUNK_SIZE_LF:
            i++;
            if (d->size == 0) {
                d->state = HC_CHUNK_TRAILER;
                d->ended = true;
            } else {
                d->remaining = d->size;
                d->state = HC_CHUNK_DATA;
            }
            d->size = 0;
            break;
        case HC_CHUNK_DATA: {
            size_t n = len - i < d->remaining ? len - i : d->remaining;
            const char *p = data + i;
            size_t left = n;
            while (left > 0) {
                const char *nl = memchr(p, '\n', left);
                if (!nl) {
                    hc_buf_append(&d->line, p, left);
                    break;
                }
                size_t part = (size_t)(nl - p);
                if (d->line.len) {
                    hc_buf_append(&d->line, p, part);
                    fn(arg, d->line.data, d->line.len);
                    d->line.len = 0;
                } else {
                    fn(arg, p, part);
                }
                p = nl + 1;
                left -= part + 1;
            }
            i += n;
            d->remaining -= n;
            if (d->remaining == 0)
                d->state = HC_CHUNK_DATA_CR;
            break;
        }
        case HC_CHUNK_DATA_CR:
            if (ch != '\r')
                return -1;
            i++;
            d->state = HC_CHUNK_DATA_LF;
            break;
        case HC_CHUNK_DATA_LF:
            if (ch != '\n')
                return -1;
            i++;
            d->state = HC_CHUNK_SIZE;
            break;
        default:
            return -1;
        }
    }
    return 0;
}
