/*
 * Memory per idle WSS connection, client side and server side: a child
 * process runs kedge's HTTP server with TLS and an /echo WebSocket; the
 * parent opens N wsclients (client certificates, 127.0.0.1) and prints the
 * RSS growth of each process divided by N. Prints figures, judges
 * nothing.
 *
 *   build/bench_wss_conns [N]      (default 2000; needs 2N+ open files)
 */
#include "http/server.h"
#include "net/ws.h"
#include "net/wsclient.h"
#include "net/wsserver.h"
#include "pki/pki.h"
#include "util/log.h"

#include <ftw.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/kedge-wssbench-XXXXXX";
static char pki[300];

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ---- the server (child) ------------------------------------------------ */

struct session {
    struct ws *ws;
};

static void sess_message(void *arg, enum ws_opcode op, const void *data,
                         size_t len)
{
    struct session *s = arg;
    ws_send(s->ws, op == WS_BINARY, data, len);
}

static void sess_close(void *arg, int code, const char *reason)
{
    (void)code;
    (void)reason;
    free(arg);
}

static const struct ws_session_ops sess_ops = {sess_message, sess_close};

static void handler(void *arg, struct http_request *req)
{
    (void)arg;
    struct session *s = calloc(1, sizeof(*s));
    if (!req->authenticated || ws_server_upgrade(req, &sess_ops, s, &s->ws))
        free(s);
    if (!req->authenticated)
        http_respond(req, 401, "text/plain", NULL, "", 0);
}

static int run_server(int fd)
{
    char err[256];
    SSL_CTX *ctx = pki_server_ctx(pki, err, sizeof(err));
    uv_loop_t *loop = uv_default_loop();
    struct http_server *srv;
    if (!ctx || http_server_start(loop, "127.0.0.1", 0, ctx, handler, NULL,
                                  &srv) != 0)
        return 1;
    int port = http_server_port(srv);
    if (write(fd, &port, sizeof(port)) != sizeof(port))
        return 1;
    close(fd);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}

/* ---- the clients (parent) ---------------------------------------------- */

static int opened, closed, failed;

static void cl_open(void *arg)
{
    (void)arg;
    opened++;
}

static void cl_message(void *arg, enum ws_opcode op, const void *data,
                       size_t len)
{
    (void)arg;
    (void)op;
    (void)data;
    (void)len;
}

static void cl_close(void *arg, int code, const char *reason)
{
    *(struct wsclient **)arg = NULL; /* freed after this returns */
    if (code != 1000) {
        failed++;
        if (failed < 5)
            fprintf(stderr, "client closed: %d %s\n", code, reason);
    }
    closed++;
}

static const struct wsclient_ops cl_ops = {cl_open, cl_message, cl_close};

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void run_until(uv_loop_t *loop, int *counter, int want)
{
    uint64_t deadline = uv_now(loop) + 120000;
    while (*counter < want && uv_now(loop) < deadline)
        uv_run(loop, UV_RUN_ONCE);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    char err[256];
    log_set_level(LOG_ERROR);
    if (n <= 0 || !mkdtemp(dir))
        return 2;
    snprintf(pki, sizeof(pki), "%s/pki", dir);
    if (pki_ensure(pki, NULL, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "pki: %s\n", err);
        return 1;
    }
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        _exit(run_server(fds[1]));
    }
    close(fds[1]);
    int port = 0;
    if (read(fds[0], &port, sizeof(port)) != sizeof(port)) {
        fprintf(stderr, "server did not start\n");
        return 1;
    }
    close(fds[0]);

    char caf[400], crt[400], key[400];
    snprintf(caf, sizeof(caf), "%s/ca.crt", pki);
    snprintf(crt, sizeof(crt), "%s/admin.crt", pki);
    snprintf(key, sizeof(key), "%s/admin.key", pki);
    SSL_CTX *ctx = pki_client_ctx(caf, crt, key, err, sizeof(err));
    uv_loop_t *loop = uv_default_loop();
    struct wsclient_config cfg = {.host = "127.0.0.1",
                                  .port = port,
                                  .ctx = ctx,
                                  .servername = "localhost",
                                  .path = "/echo",
                                  .timeout_ms = 60000};
    struct wsclient **wc = calloc((size_t)n + 1, sizeof(*wc));
    if (!ctx || !wc)
        return 1;
    /* One connection first, so one-time costs (OpenSSL tables, libuv
     * buffers, the server's first allocations) are not counted. */
    wsclient_connect(loop, &cfg, &cl_ops, &wc[n], &wc[n]);
    run_until(loop, &opened, 1);
    usleep(200000);
    long c0 = rss_kib(getpid()), s0 = rss_kib(child);
    size_t h0 = mallinfo2().uordblks;
    /* Connect in batches to stay under the listen backlog. */
    for (int i = 0; i < n; i++) {
        if (wsclient_connect(loop, &cfg, &cl_ops, &wc[i], &wc[i]) != 0)
            failed++;
        if (i % 200 == 199)
            run_until(loop, &opened, i + 2 - failed);
    }
    run_until(loop, &opened, n + 1 - failed);
    /* Let the server finish its side and go idle. */
    uint64_t settle = uv_now(loop) + 500;
    while (uv_now(loop) < settle)
        uv_run(loop, UV_RUN_NOWAIT), usleep(10000);
    long c1 = rss_kib(getpid()), s1 = rss_kib(child);
    size_t h1 = mallinfo2().uordblks;
    int open_now = opened - 1;
    printf("wss idle connections: %d open (%d failed)\n", open_now, failed);
    if (open_now > 0) {
        printf("RESULT wss_client_bytes_per_conn %.0f\n",
               (double)(c1 - c0) * 1024 / open_now);
        /* Live heap bytes, to tell allocations from allocator slack. */
        printf("RESULT wss_client_heap_bytes_per_conn %.0f\n",
               (double)(h1 - h0) / open_now);
        printf("RESULT wss_server_bytes_per_conn %.0f\n",
               (double)(s1 - s0) * 1024 / open_now);
    }
    for (int i = 0; i <= n; i++)
        if (wc[i])
            wsclient_close(wc[i], 1000, "bye");
    run_until(loop, &closed, opened);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    free(wc);
    SSL_CTX_free(ctx);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
