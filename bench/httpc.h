/*
 * A minimal HTTP/1.1 client over TLS for the benchmarks: one keep-alive
 * connection per handle, client-certificate authentication, blocking
 * request/response, and a streaming mode (chunked watch bodies read on a
 * non-blocking socket from an epoll loop).
 */
#ifndef KEDGE_BENCH_HTTPC_H
#define KEDGE_BENCH_HTTPC_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; the caller frees data. */
struct hc_buf {
    char *data;
    size_t len, cap;
};

int hc_buf_reserve(struct hc_buf *b, size_t extra);
int hc_buf_append(struct hc_buf *b, const void *data, size_t len);
void hc_buf_free(struct hc_buf *b);

/* A TLS client context trusting PKI_DIR/ca.crt and presenting
 * admin.crt/admin.key. NULL (with a message on stderr) on error; free
 * with SSL_CTX_free. */
SSL_CTX *hc_ctx_new(const char *pki_dir);

struct hc_conn {
    int fd;
    SSL *ssl;
    struct hc_buf in; /* plaintext received but not yet consumed */
};

/* Connects to host:port and completes the TLS handshake (blocking).
 * 0 or -1 with a message on stderr. */
int hc_connect(struct hc_conn *c, SSL_CTX *ctx, const char *host, int port);
void hc_close(struct hc_conn *c);

/* Writes all of data (blocking socket). 0 or -1. */
int hc_write_all(struct hc_conn *c, const void *data, size_t len);

/* Sends one request. `accept` and `body` may be NULL. 0 or -1. */
int hc_send_request(struct hc_conn *c, const char *method, const char *path,
                    const char *accept, const char *body, size_t len);

struct hc_response {
    int status;
    bool chunked;
    long long content_length; /* -1 when absent */
    size_t header_len;        /* bytes of the status line and headers */
    struct hc_buf body;       /* decoded body (not for streams) */
    uint64_t first_byte_ns;   /* CLOCK_MONOTONIC when the head arrived */
};

/* Reads a response head into r (blocking); body bytes that came with it
 * stay in c->in. 0 or -1. */
int hc_read_head(struct hc_conn *c, struct hc_response *r);

/* Reads a whole response: head and body (Content-Length or chunked).
 * r->body is caller-owned (hc_buf_free). 0 or -1. */
int hc_read_response(struct hc_conn *c, struct hc_response *r);

/* Sends a request and reads its response. 0 or -1 (I/O errors only: an
 * HTTP error status is returned in r->status). */
int hc_roundtrip(struct hc_conn *c, const char *method, const char *path,
                 const char *accept, const char *body, size_t len,
                 struct hc_response *r);

/* Incremental decoder of a chunked body into newline-terminated lines. */
struct hc_chunked {
    int state;          /* HC_CHUNK_* in httpc.c */
    size_t remaining;   /* data bytes left in the current chunk */
    size_t size;        /* chunk size being parsed */
    bool ended;         /* the last chunk was seen */
    struct hc_buf line; /* the line being assembled */
};

/* Feeds len bytes of a chunked body; calls fn for each complete line
 * (without its newline). Returns 0, or -1 on a framing error. */
int hc_chunked_feed(struct hc_chunked *d, const char *data, size_t len,
                    void (*fn)(void *arg, const char *line, size_t len),
                    void *arg);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hc_now_ns(void);

#endif
