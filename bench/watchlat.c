/*
 * kbench watch: watch delivery latency. W watchers, each its own TLS
 * connection watching configmaps in one namespace, are read by one epoll
 * loop; a writer thread creates N configmaps one after another on its own
 * connection. Latency of one delivery = CLOCK_MONOTONIC when the watcher
 * read the event minus CLOCK_MONOTONIC just before the writer sent the
 * request that caused it (same process, same clock).
 */
#include "httpc.h"
#include "kbench.h"
#include "objects.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define WATCH_NAME_PREFIX "lat-"
#define WATCH_DRAIN_TIMEOUT_MS 10000

struct watch_run {
    struct kbench_target *t;
    const char *ns;
    long changes;
    size_t size;
    long interval_us;
    _Atomic uint64_t *sent_ns; /* per change: just before the request */
    uint64_t *write_ns;        /* per change: request round trip */
    atomic_long write_errors;
    atomic_int writer_done;
    uint64_t writer_start_ns, writer_end_ns;
};

struct watcher {
    struct hc_conn conn;
    struct hc_chunked dec;
    struct watch_run *run;
    uint64_t *lat_ns; /* per change; 0 until received */
    long received;
    uint64_t now_ns;  /* when the bytes being decoded were read */
    bool closed;
};

static void *writer_main(void *arg)
{
    struct watch_run *run = arg;
    struct hc_conn c;
    char path[512], name[64];
    char *body = malloc(64 * 1024);
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps", run->ns);
    run->writer_start_ns = hc_now_ns();
    if (!body || hc_connect(&c, run->t->ctx, run->t->host, run->t->port)) {
        atomic_store(&run->write_errors, run->changes);
        free(body);
        atomic_store(&run->writer_done, 1);
        return NULL;
    }
    run->writer_start_ns = hc_now_ns();
    for (long i = 0; i < run->changes; i++) {
        snprintf(name, sizeof(name), WATCH_NAME_PREFIX "%06ld", i);
        int len = bench_configmap_json(body, 64 * 1024, run->ns, name,
                                       (int)i, run->size);
        struct hc_response r;
        uint64_t t0 = hc_now_ns();
        atomic_store_explicit(&run->sent_ns[i], t0, memory_order_release);
        if (len < 0 || hc_roundtrip(&c, "POST", path, NULL, body,
                                    (size_t)len, &r)) {
            atomic_fetch_add(&run->write_errors, run->changes - i);
            break;
        }
        run->write_ns[i] = hc_now_ns() - t0;
        if (r.status != 201) {
            if (atomic_fetch_add(&run->write_errors, 1) == 0)
                fprintf(stderr, "kbench watch: create %s: HTTP %d: %.300s\n",
                        name, r.status, r.body.data ? r.body.data : "");
        }
        hc_buf_free(&r.body);
        if (run->interval_us > 0) {
            struct timespec ts = {run->interval_us / 1000000,
                                  (run->interval_us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
    }
    run->writer_end_ns = hc_now_ns();
    hc_close(&c);
    free(body);
    atomic_store(&run->writer_done, 1);
    return NULL;
}

/* One decoded watch event line. */
static void on_event_line(void *arg, const char *line, size_t len)
{
    struct watcher *w = arg;
    struct watch_run *run = w->run;
    static const char needle[] = "\"name\":\"" WATCH_NAME_PREFIX;
    const char *p = memmem(line, len, needle, sizeof(needle) - 1);
    if (!p)
        return;
    long i = strtol(p + sizeof(needle) - 1, NULL, 10);
    if (i < 0 || i >= run->changes || w->lat_ns[i])
        return;
    uint64_t sent = atomic_load_explicit(&run->sent_ns[i],
                                         memory_order_acquire);
    if (!sent)
        return;
    uint64_t d = w->now_ns > sent ? w->now_ns - sent : 1;
    w->lat_ns[i] = d ? d : 1;
    w->received++;
}

/* Reads everything the watcher's socket has; returns the events read. */
static long watcher_drain(struct watcher *w)
{
    char tmp[65536];
    long before = w->received;
    while (!w->closed) {
        int n = SSL_read(w->conn.ssl, tmp, sizeof(tmp));
        if (n > 0) {
            w->now_ns = hc_now_ns();
            if (hc_chunked_feed(&w->dec, tmp, (size_t)n, on_event_line, w) ||
                w->dec.ended)
                w->closed = true;
            continue;
        }
        int e = SSL_get_error(w->conn.ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        w->closed = true;
    }
    return w->received - before;
}

static int open_watcher(struct watcher *w, struct watch_run *run, int ep)
{
    char path[512];
    snprintf(path, sizeof(path),
             "/api/v1/namespaces/%s/configmaps?watch=true&timeoutSeconds=900",
             run->ns);
    if (hc_connect(&w->conn, run->t->ctx, run->t->host, run->t->port) ||
        hc_send_request(&w->conn, "GET", path, NULL, NULL, 0))
        return -1;
    struct hc_response r;
    if (hc_read_head(&w->conn, &r))
        return -1;
    if (r.status != 200 || !r.chunked) {
        fprintf(stderr, "kbench watch: watch answered HTTP %d\n", r.status);
        return -1;
    }
    /* Bytes that came with the head (initial events, if any). */
    w->now_ns = hc_now_ns();
    if (w->conn.in.len &&
        hc_chunked_feed(&w->dec, w->conn.in.data, w->conn.in.len,
                        on_event_line, w))
        return -1;
    w->conn.in.len = 0;
    int fl = fcntl(w->conn.fd, F_GETFL);
    fcntl(w->conn.fd, F_SETFL, fl | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    return epoll_ctl(ep, EPOLL_CTL_ADD, w->conn.fd, &ev);
}

int kbench_watch(int argc, char **argv)
{
    struct kbench_target t;
    if (kbench_target(argc, argv, &t))
        return 2;
    struct watch_run run = {
        .t = &t,
        .ns = kbench_opt(argc, argv, "--ns", "default"),
        .changes = kbench_opt_long(argc, argv, "--changes", 1000),
        .size = (size_t)kbench_opt_long(argc, argv, "--size", 1024),
        .interval_us = kbench_opt_long(argc, argv, "--interval-us", 0),
    };
    long nw = kbench_opt_long(argc, argv, "--watchers", 100);
    if (nw < 1 || nw > 4096 || run.changes < 1) {
        fprintf(stderr, "kbench watch: --watchers 1..4096, --changes >= 1\n");
        return 2;
    }
    int rc = 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    run.sent_ns = calloc((size_t)run.changes, sizeof(*run.sent_ns));
    run.write_ns = calloc((size_t)run.changes, sizeof(uint64_t));
    struct watcher *ws = calloc((size_t)nw, sizeof(*ws));
    uint64_t *all = calloc((size_t)(nw * run.changes), sizeof(uint64_t));
    uint64_t *last = calloc((size_t)run.changes, sizeof(uint64_t));
    if (ep < 0 || !run.sent_ns || !run.write_ns || !ws || !all || !last)
        goto out;
    for (long i = 0; i < nw; i++) {
        ws[i].run = &run;
        ws[i].conn.fd = -1;
        ws[i].lat_ns = all + i * run.changes;
        if (open_watcher(&ws[i], &run, ep)) {
            fprintf(stderr, "kbench watch: watcher %ld failed to start\n", i);
            goto out_conns;
        }
    }
    pthread_t writer;
    pthread_create(&writer, NULL, writer_main, &run);
    long want = nw * run.changes, got = 0;
    uint64_t last_progress = hc_now_ns();
    struct epoll_event evs[256];
    while (got < want) {
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            struct watcher *w = evs[i].data.ptr;
            long k = watcher_drain(w);
            got += k;
            if (k)
                last_progress = hc_now_ns();
            if (w->closed)
                epoll_ctl(ep, EPOLL_CTL_DEL, w->conn.fd, NULL);
        }
        if (atomic_load(&run.writer_done) &&
            hc_now_ns() - last_progress > WATCH_DRAIN_TIMEOUT_MS * 1000000ull)
            break;
    }
    pthread_join(writer, NULL);

    for (long c = 0; c < run.changes; c++)
        for (long i = 0; i < nw; i++)
            if (ws[i].lat_ns[c] > last[c])
                last[c] = ws[i].lat_ns[c];
    /* Keep the received samples only. */
    size_t ns = 0;
    for (long i = 0; i < nw * run.changes; i++)
        if (all[i])
            all[ns++] = all[i];
    long closed = 0;
    for (long i = 0; i < nw; i++)
        closed += ws[i].closed;
    long werr = atomic_load(&run.write_errors);
    double wsecs = (double)(run.writer_end_ns - run.writer_start_ns) / 1e9;
    double p50 = stats_ms(stats_percentile(all, ns, 50));
    double p90 = stats_ms(stats_percentile(all, ns, 90));
    double p99 = stats_ms(stats_percentile(all, ns, 99));
    double max = stats_ms(stats_percentile(all, ns, 100));
    double l50 = stats_ms(stats_percentile(last, (size_t)run.changes, 50));
    double l99 = stats_ms(stats_percentile(last, (size_t)run.changes, 99));
    double w50 = stats_ms(stats_percentile(run.write_ns, (size_t)run.changes,
                                           50));
    double w99 = stats_ms(stats_percentile(run.write_ns, (size_t)run.changes,
                                           99));
    fprintf(stderr,
            "watch: %ld watchers x %ld changes: %zu of %ld delivered, "
            "latency p50 %.2f p90 %.2f p99 %.2f max %.2f ms; last watcher "
            "per change p50 %.2f p99 %.2f ms; writes p50 %.2f p99 %.2f ms "
            "(%.0f/s, %ld errors, %ld streams closed early)\n",
            nw, run.changes, ns, want, p50, p90, p99, max, l50, l99, w50, w99,
            (double)run.changes / wsecs, werr, closed);
    printf("RESULT watch watchers=%ld changes=%ld delivered=%zu expected=%ld "
           "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f last_p50_ms=%.3f "
           "last_p99_ms=%.3f write_p50_ms=%.3f write_p99_ms=%.3f "
           "write_rate=%.1f write_errors=%ld closed=%ld\n",
           nw, run.changes, ns, want, p50, p90, p99, max, l50, l99, w50, w99,
           (double)run.changes / wsecs, werr, closed);
    rc = (ns == (size_t)want && werr == 0) ? 0 : 1;
out_conns:
    for (long i = 0; i < nw; i++) {
        if (ws[i].conn.fd >= 0 || ws[i].conn.ssl)
            hc_close(&ws[i].conn);
        hc_buf_free(&ws[i].dec.line);
    }
out:
    if (ep >= 0)
        close(ep);
    free(last);
    free(all);
    free(ws);
    free(run.write_ns);
    free(run.sent_ns);
    SSL_CTX_free(t.ctx);
    return rc;
}
