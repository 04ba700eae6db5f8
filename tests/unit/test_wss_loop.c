/*
 * WSS end to end on one libuv loop, real sockets on 127.0.0.1: a kedge
 * HTTP server with TLS upgrades /echo to a WebSocket that echoes; 200
 * clients with client certificates connect at once and each sends 10
 * messages of 1 B .. 1 MiB. Then the refusals (no certificate -> 401,
 * wrong CA -> certificate verify failed, closed port -> connection
 * refused, bad upgrade request -> 400), bytes pipelined behind the
 * upgrade request, and both ends learning of the other's close and of a
 * server stop.
 */
#include "http/server.h"
#include "net/tlsconn.h"
#include "net/ws.h"
#include "net/wsclient.h"
#include "net/wsserver.h"
#include "pki/pki.h"
#include "unit.h"
#include "util/log.h"

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_CLIENTS 200
#define N_MESSAGES 10

static uv_loop_t *loop;
static struct http_server *server;
static int port;
static char dir[] = "/tmp/kedge-wss-XXXXXX";
static char pki[300], other[300];

/* ---- the server: /echo ---------------------------------------------------- */

struct session {
    struct ws *ws;
};

static int srv_upgrades, srv_closes, srv_close_1000, srv_identity_ok;
static int srv_node_identity;

static void sess_message(void *arg, enum ws_opcode op, const void *data,
                         size_t len)
{
    struct session *s = arg;
    ws_send(s->ws, op == WS_BINARY, data, len);
}

static void sess_close(void *arg, int code, const char *reason)
{
    struct session *s = arg;
    srv_closes++;
    if (code == 1000 && strcmp(reason, "done") == 0)
        srv_close_1000++;
    free(s);
}

static const struct ws_session_ops sess_ops = {sess_message, sess_close};

static void handler(void *arg, struct http_request *req)
{
    (void)arg;
    if (strcmp(req->path, "/echo") != 0) {
        http_respond(req, 404, "text/plain", NULL, "not found\n", 10);
        return;
    }
    if (!req->authenticated) {
        const char *body = "Unauthorized: a client certificate is required\n"
                           "second line\n";
        http_respond(req, 401, "text/plain", NULL, body, strlen(body));
        return;
    }
    if (strcmp(req->user, PKI_ADMIN_CN) == 0 &&
        strcmp(req->groups, PKI_ADMIN_ORG) == 0)
        srv_identity_ok++;
    if (strcmp(req->user, "system:node:edge-1") == 0 &&
        strcmp(req->groups, "system:nodes") == 0)
        srv_node_identity++;
    struct session *s = calloc(1, sizeof(*s));
    if (ws_server_upgrade(req, &sess_ops, s, &s->ws) == 0)
        srv_upgrades++;
    else
        free(s);
}

/* ---- the clients ---------------------------------------------------------- */

static const size_t sizes[N_MESSAGES] = {1,     7,      125,   126,  1000,
                                         65535, 65536, 100000, 4096, 1 << 20};

struct client {
    struct wsclient *wc;
    int id;
    int opened;
    int echoed;
    int bad_echo;
    int closed;
    int code;
    char reason[512];
    bool close_after_echoes;
};

static void fill(char *buf, size_t len, int id, int i)
{
    for (size_t j = 0; j < len; j++)
        buf[j] = (char)('a' + (j + (size_t)id * 31 + (size_t)i) % 26);
}

static char *scratch; /* 1 MiB */

static void cl_open(void *arg)
{
    struct client *c = arg;
    c->opened++;
    if (!c->close_after_echoes)
        return;
    for (int i = 0; i < N_MESSAGES; i++) {
        fill(scratch, sizes[i], c->id, i);
        /* Odd messages binary, even ones text (ASCII, valid UTF-8). */
        CHECK_INT(wsclient_send(c->wc, i % 2, scratch, sizes[i]), 0);
    }
}

static void cl_message(void *arg, enum ws_opcode op, const void *data,
                       size_t len)
{
    struct client *c = arg;
    int i = c->echoed++;
    if (i >= N_MESSAGES || len != sizes[i] ||
        op != (i % 2 ? WS_BINARY : WS_TEXT)) {
        c->bad_echo++;
        return;
    }
    fill(scratch, len, c->id, i);
    if (memcmp(scratch, data, len) != 0)
        c->bad_echo++;
    if (c->echoed == N_MESSAGES && c->close_after_echoes)
        wsclient_close(c->wc, 1000, "done");
}

static int clients_closed;

static void cl_close(void *arg, int code, const char *reason)
{
    struct client *c = arg;
    c->closed++;
    c->code = code;
    snprintf(c->reason, sizeof(c->reason), "%s", reason);
    clients_closed++;
}

static const struct wsclient_ops cl_ops = {cl_open, cl_message, cl_close};

/* Runs the loop until *counter reaches want (or 60 s pass). */
static void run_until(int *counter, int want)
{
    uint64_t deadline = uv_now(loop) + 60000;
    while (*counter < want && uv_now(loop) < deadline)
        uv_run(loop, UV_RUN_ONCE);
    CHECK(*counter >= want);
}

static SSL_CTX *client_ctx(const char *ca, bool with_cert)
{
    char caf[400], crt[400], key[400], err[256];
    snprintf(caf, sizeof(caf), "%s/ca.crt", ca);
    snprintf(crt, sizeof(crt), "%s/admin.crt", pki);
    snprintf(key, sizeof(key), "%s/admin.key", pki);
    SSL_CTX *ctx = pki_client_ctx(caf, with_cert ? crt : NULL,
                                  with_cert ? key : NULL, err, sizeof(err));
    if (!ctx)
        fprintf(stderr, "client ctx: %s\n", err);
    return ctx;
}

static struct wsclient *connect_one(struct client *c, SSL_CTX *ctx, int p)
{
    struct wsclient_config cfg = {
        .host = "127.0.0.1",
        .port = p,
        .ctx = ctx,
        .servername = "localhost",
        .path = "/echo",
        .extra_headers = "X-Test: yes\r\n",
    };
    int rc = wsclient_connect(loop, &cfg, &cl_ops, c, &c->wc);
    CHECK_INT(rc, 0);
    return rc == 0 ? c->wc : NULL;
}

static void test_many_clients(SSL_CTX *ctx)
{
    static struct client cl[N_CLIENTS];
    memset(cl, 0, sizeof(cl));
    clients_closed = 0;
    int closes_before = srv_closes;
    for (int i = 0; i < N_CLIENTS; i++) {
        cl[i].id = i;
        cl[i].close_after_echoes = true;
        connect_one(&cl[i], ctx, port);
    }
    run_until(&clients_closed, N_CLIENTS);
    int want_srv = closes_before + N_CLIENTS;
    run_until(&srv_closes, want_srv);
    int opened = 0, echoed = 0, bad = 0, normal = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
        opened += cl[i].opened;
        echoed += cl[i].echoed;
        bad += cl[i].bad_echo;
        if (cl[i].closed == 1 && cl[i].code == 1000 &&
            strcmp(cl[i].reason, "done") == 0)
            normal++;
        else if (i < 3 || normal < i - 3)
            fprintf(stderr, "client %d: closed %d code %d reason %s\n", i,
                    cl[i].closed, cl[i].code, cl[i].reason);
    }
    CHECK_INT(opened, N_CLIENTS);
    CHECK_INT(echoed, N_CLIENTS * N_MESSAGES);
    CHECK_INT(bad, 0);
    CHECK_INT(normal, N_CLIENTS);
    CHECK_INT(srv_identity_ok, N_CLIENTS);
    /* The client's close reached the server as a close handshake. */
    CHECK_INT(srv_close_1000, N_CLIENTS);
    CHECK_INT(http_server_connections(server), 0);
}

static void expect_refusal(SSL_CTX *ctx, int p, const char *needle)
{
    struct client c = {0};
    clients_closed = 0;
    if (!connect_one(&c, ctx, p))
        return;
    run_until(&clients_closed, 1);
    CHECK_INT(c.opened, 0);
    CHECK_INT(c.closed, 1);
    CHECK_INT(c.code, WS_CLOSE_ABNORMAL);
    if (!strstr(c.reason, needle))
        fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", c.reason, needle);
    CHECK(strstr(c.reason, needle) != NULL);
}

/* A node certificate (CN=system:node:edge-1, O=system:nodes). */
static SSL_CTX *node_ctx(void)
{
    char *key = NULL, *csr = NULL, *pem = NULL, err[256];
    char caf[400], crt[400], kf[400];
    SSL_CTX *ctx = NULL;
    if (pki_make_key_and_csr("x", NULL, &key, &csr, err, sizeof(err)) != 0 ||
        pki_sign_csr(pki, csr, strlen(csr), "system:node:edge-1",
                     "system:nodes", 1, &pem, err, sizeof(err)) != 0) {
        fprintf(stderr, "node cert: %s\n", err);
        goto out;
    }
    snprintf(caf, sizeof(caf), "%s/ca.crt", pki);
    snprintf(crt, sizeof(crt), "%s/node.crt", dir);
    snprintf(kf, sizeof(kf), "%s/node.key", dir);
    FILE *f = fopen(crt, "w");
    fputs(pem, f);
    fclose(f);
    f = fopen(kf, "w");
    fputs(key, f);
    fclose(f);
    ctx = pki_client_ctx(caf, crt, kf, err, sizeof(err));
out:
    free(key);
    free(csr);
    free(pem);
    return ctx;
}

static void test_node_identity(void)
{
    SSL_CTX *ctx = node_ctx();
    CHECK(ctx != NULL);
    if (!ctx)
        return;
    struct client c = {.close_after_echoes = true};
    clients_closed = 0;
    int before = srv_closes;
    connect_one(&c, ctx, port);
    run_until(&clients_closed, 1);
    run_until(&srv_closes, before + 1);
    CHECK_INT(c.echoed, N_MESSAGES);
    CHECK_INT(c.code, 1000);
    CHECK_INT(srv_node_identity, 1);
    SSL_CTX_free(ctx);
}

/* ---- raw exchanges through tlsconn ---------------------------------------- */

struct raw {
    struct tlsconn *tc;
    const char *send;
    size_t send_len;
    struct buf got;
    int closed;
    int err;
};

static void raw_connected(void *arg)
{
    struct raw *r = arg;
    CHECK_INT(tlsconn_write(r->tc, r->send, r->send_len), 0);
}

static void raw_data(void *arg, const char *data, size_t len)
{
    struct raw *r = arg;
    buf_append(&r->got, data, len);
}

static void raw_close(void *arg, int err, const char *msg)
{
    struct raw *r = arg;
    (void)msg;
    r->closed++;
    r->err = err;
}

static const struct tlsconn_ops raw_ops = {raw_connected, raw_data,
                                           raw_close};

/* Sends bytes in one write and collects the answer until `want` shows up
 * (then closes) or the server closes. */
static void raw_exchange(SSL_CTX *ctx, struct raw *r, const char *want)
{
    buf_init(&r->got, 0);
    CHECK_INT(tlsconn_connect(loop, "127.0.0.1", port, ctx, "localhost", 0,
                              &raw_ops, r, &r->tc),
              0);
    uint64_t deadline = uv_now(loop) + 20000;
    bool asked = false;
    while (!r->closed && uv_now(loop) < deadline) {
        uv_run(loop, UV_RUN_ONCE);
        if (!asked && r->got.len && want &&
            memmem(r->got.data, r->got.len, want, strlen(want))) {
            asked = true;
            tlsconn_close(r->tc);
        }
    }
    CHECK_INT(r->closed, 1);
}

static void test_pipelined(SSL_CTX *ctx)
{
    /* The upgrade request and a first (masked) frame "abc" in one write:
     * the frame must reach the WebSocket and come back. */
    char msg[512];
    int n = snprintf(msg, sizeof(msg),
                     "GET /echo HTTP/1.1\r\nHost: localhost\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
    const unsigned char frame[] = {0x82, 0x83, 1, 2, 3, 4,
                                   'a' ^ 1, 'b' ^ 2, 'c' ^ 3};
    memcpy(msg + n, frame, sizeof(frame));
    struct raw r = {.send = msg, .send_len = (size_t)n + sizeof(frame)};
    int before = srv_closes;
    raw_exchange(ctx, &r, "\x82\x03" "abc");
    CHECK(r.got.len > 12 && memcmp(r.got.data, "HTTP/1.1 101 ", 13) == 0);
    CHECK(memmem(r.got.data, r.got.len,
                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
                 50) != NULL);
    CHECK(r.got.len >= 5 &&
          memcmp(r.got.data + r.got.len - 5, "\x82\x03" "abc", 5) == 0);
    buf_free(&r.got);
    /* The server hears of the vanished client. */
    run_until(&srv_closes, before + 1);
}

static void test_bad_upgrade(SSL_CTX *ctx)
{
    const char *req = "GET /echo HTTP/1.1\r\nHost: localhost\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    struct raw r = {.send = req, .send_len = strlen(req)};
    raw_exchange(ctx, &r, NULL); /* the server closes after its answer */
    CHECK(r.got.len > 12 && memcmp(r.got.data, "HTTP/1.1 400 ", 13) == 0);
    CHECK(r.got.len && memmem(r.got.data, r.got.len, "Sec-WebSocket-Key",
                              17) != NULL);
    buf_free(&r.got);

    const char *v8 = "GET /echo HTTP/1.1\r\nHost: localhost\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 8\r\n\r\n";
    struct raw r2 = {.send = v8, .send_len = strlen(v8)};
    raw_exchange(ctx, &r2, NULL);
    CHECK(r2.got.len > 12 && memcmp(r2.got.data, "HTTP/1.1 400 ", 13) == 0);
    CHECK(r2.got.len && memmem(r2.got.data, r2.got.len,
                               "Sec-WebSocket-Version: 13\r\n", 27) != NULL);
    buf_free(&r2.got);
}

static void test_server_stop(SSL_CTX *ctx)
{
    enum { N = 20 };
    static struct client cl[N];
    memset(cl, 0, sizeof(cl));
    clients_closed = 0;
    int before = srv_closes;
    int opened = 0;
    for (int i = 0; i < N; i++)
        connect_one(&cl[i], ctx, port);
    uint64_t deadline = uv_now(loop) + 20000;
    while (opened < N && uv_now(loop) < deadline) {
        uv_run(loop, UV_RUN_ONCE);
        opened = 0;
        for (int i = 0; i < N; i++)
            opened += cl[i].opened;
    }
    CHECK_INT(opened, N);
    http_server_stop(server);
    server = NULL;
    run_until(&clients_closed, N);
    run_until(&srv_closes, before + N);
    for (int i = 0; i < N; i++) {
        CHECK_INT(cl[i].closed, 1);
        CHECK_INT(cl[i].code, WS_CLOSE_ABNORMAL);
        CHECK(strstr(cl[i].reason, "closed by peer") != NULL);
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    log_set_level(LOG_WARN);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(pki, sizeof(pki), "%s/pki", dir);
    snprintf(other, sizeof(other), "%s/other", dir);
    char err[256];
    CHECK_INT(pki_ensure(pki, NULL, NULL, err, sizeof(err)), 0);
    CHECK_INT(pki_ensure(other, NULL, NULL, err, sizeof(err)), 0);
    SSL_CTX *sctx = pki_server_ctx(pki, err, sizeof(err));
    SSL_CTX *good = client_ctx(pki, true);
    SSL_CTX *nocert = client_ctx(pki, false);
    SSL_CTX *wrongca = client_ctx(other, true);
    scratch = malloc(1 << 20);
    loop = malloc(sizeof(*loop));
    uv_loop_init(loop);
    CHECK(sctx && good && nocert && wrongca);
    CHECK_INT(http_server_start(loop, "127.0.0.1", 0, sctx, handler, NULL,
                                &server),
              0);
    port = http_server_port(server);

    test_many_clients(good);
    test_node_identity();
    expect_refusal(nocert, port, "HTTP 401 Unauthorized: Unauthorized: a "
                                 "client certificate is required");
    expect_refusal(wrongca, port, "certificate verify failed: ");
    test_pipelined(good);
    test_bad_upgrade(good);

    /* A closed port: the listener of a stopped server. */
    struct http_server *tmp;
    CHECK_INT(http_server_start(loop, "127.0.0.1", 0, NULL, handler, NULL,
                                &tmp),
              0);
    int dead = http_server_port(tmp);
    http_server_stop(tmp);
    uv_run(loop, UV_RUN_NOWAIT);
    expect_refusal(good, dead, "connection refused");

    test_server_stop(good);

    /* Everything closes: the loop has nothing left. */
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(loop), 0);
    free(loop);
    free(scratch);
    SSL_CTX_free(sctx);
    SSL_CTX_free(good);
    SSL_CTX_free(nocert);
    SSL_CTX_free(wrongca);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return unit_done("test_wss_loop");
}
