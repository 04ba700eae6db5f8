/*
 * kbench rollout: the time from one request to N pods existing. Watches
 * the pods of a namespace, then either POSTs a Deployment of N replicas
 * (--mode deployment: the controllers create the pods in-process) or
 * POSTs N pods itself over C connections (--mode pods: the baseline).
 * The clock starts before the first POST and stops when the watch has
 * delivered the Nth ADDED event, so both modes are measured alike; with
 * --until bound it stops at the Nth pod bound to a node (the first
 * MODIFIED event of a pod carrying spec.nodeName: nodes without a
 * runtime change nothing after that). --scheduler NAME sets the pods'
 * schedulerName (another name than default-scheduler: nothing binds
 * them, the baseline of a scheduling run).
 */
#include "httpc.h"
#include "kbench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One pod spec for both modes: the Deployment's template and the
 * baseline's pods are the same. */
#define ROLLOUT_POD_SPEC_FMT                                                   \
    "\"spec\":{%s\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.27\","  \
    "\"ports\":[{\"containerPort\":80}],\"resources\":{\"requests\":"          \
    "{\"cpu\":\"10m\",\"memory\":\"16Mi\"}}}]}"
static char pod_spec[512];

struct watcher {
    struct kbench_target *t;
    const char *ns;
    long want;
    struct hc_conn conn;
    struct hc_chunked dec;
    atomic_long added;
    bool until_bound;
    atomic_int ready; /* 1: head read, 2: done, -1: failed */
    uint64_t done_ns;
};

static void on_line(void *arg, const char *line, size_t len)
{
    struct watcher *w = arg;
    (void)len;
    bool counts = w->until_bound
                      ? strstr(line, "\"type\":\"MODIFIED\"") &&
                            strstr(line, "\"nodeName\":\"")
                      : strstr(line, "\"type\":\"ADDED\"") != NULL;
    if (counts && atomic_fetch_add(&w->added, 1) + 1 == w->want)
        w->done_ns = hc_now_ns();
}

static void *watch_main(void *arg)
{
    struct watcher *w = arg;
    char path[256];
    struct hc_response r = {0};
    char tmp[65536];

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?watch=true",
             w->ns);
    if (hc_connect(&w->conn, w->t->ctx, w->t->host, w->t->port) ||
        hc_send_request(&w->conn, "GET", path, NULL, NULL, 0) ||
        hc_read_head(&w->conn, &r) || r.status != 200) {
        atomic_store(&w->ready, -1);
        return NULL;
    }
    hc_chunked_feed(&w->dec, w->conn.in.data, w->conn.in.len, on_line, w);
    w->conn.in.len = 0;
    atomic_store(&w->ready, 1);
    while (atomic_load(&w->added) < w->want) {
        int n = SSL_read(w->conn.ssl, tmp, sizeof(tmp));
        if (n <= 0 ||
            hc_chunked_feed(&w->dec, tmp, (size_t)n, on_line, w) != 0) {
            atomic_store(&w->ready, -1);
            return NULL;
        }
    }
    atomic_store(&w->ready, 2);
    return NULL;
}

struct poster {
    struct kbench_target *t;
    const char *ns;
    long first, count;
    long errors;
};

static void *post_pods(void *arg)
{
    struct poster *p = arg;
    struct hc_conn c = {0};
    char path[256], body[1024];

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", p->ns);
    if (hc_connect(&c, p->t->ctx, p->t->host, p->t->port)) {
        p->errors = p->count;
        return NULL;
    }
    for (long i = p->first; i < p->first + p->count; i++) {
        struct hc_response r = {0};
        int n = snprintf(body, sizeof(body),
                         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                         "{\"name\":\"web-%06ld\",\"labels\":{\"app\":"
                         "\"web\"}},%s}",
                         i, pod_spec);
        if (hc_roundtrip(&c, "POST", path, NULL, body, (size_t)n, &r) ||
            r.status != 201)
            p->errors++;
        hc_buf_free(&r.body);
    }
    hc_close(&c);
    return NULL;
}

static int post_deployment(struct kbench_target *t, const char *ns, long n)
{
    struct hc_conn c = {0};
    struct hc_response r = {0};
    char path[256], body[2048];
    int len, rc = -1;

    snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/%s/deployments", ns);
    len = snprintf(body, sizeof(body),
                   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                   "\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":"
                   "%ld,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                   "\"template\":{\"metadata\":{\"labels\":{\"app\":"
                   "\"web\"}},%s}}}",
                   n, pod_spec);
    if (hc_connect(&c, t->ctx, t->host, t->port) == 0 &&
        hc_roundtrip(&c, "POST", path, NULL, body, (size_t)len, &r) == 0 &&
        r.status == 201)
        rc = 0;
    else
        fprintf(stderr, "kbench rollout: deployment POST answered %d\n",
                r.status);
    hc_buf_free(&r.body);
    hc_close(&c);
    return rc;
}

int kbench_rollout(int argc, char **argv)
{
    struct kbench_target t;
    const char *ns = kbench_opt(argc, argv, "--ns", NULL);
    const char *mode = kbench_opt(argc, argv, "--mode", "deployment");
    long n = kbench_opt_long(argc, argv, "--count", 1000);
    long conns = kbench_opt_long(argc, argv, "--conns", 1);
    long timeout_s = kbench_opt_long(argc, argv, "--timeout", 300);
    const char *until = kbench_opt(argc, argv, "--until", "added");
    const char *sched = kbench_opt(argc, argv, "--scheduler", NULL);
    struct watcher w = {.ns = ns, .want = n,
                        .until_bound = strcmp(until, "bound") == 0};
    char sn[128] = "";
    if (sched)
        snprintf(sn, sizeof(sn), "\"schedulerName\":\"%s\",", sched);
    snprintf(pod_spec, sizeof(pod_spec), ROLLOUT_POD_SPEC_FMT, sn);
    pthread_t wt;
    long errors = 0;

    if (!ns || n <= 0 || conns <= 0 || kbench_target(argc, argv, &t))
        return 2;
    w.t = &t;
    if (pthread_create(&wt, NULL, watch_main, &w))
        return 1;
    while (atomic_load(&w.ready) == 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&w.ready) < 0) {
        fprintf(stderr, "kbench rollout: the watch failed\n");
        return 1;
    }
    uint64_t t0 = hc_now_ns(), posted_ns;
    if (strcmp(mode, "pods") == 0) {
        struct poster *p = calloc((size_t)conns, sizeof(*p));
        pthread_t *th = calloc((size_t)conns, sizeof(*th));
        long per = (n + conns - 1) / conns;
        for (long i = 0; i < conns; i++) {
            p[i] = (struct poster){&t, ns, i * per,
                                   i * per + per > n ? n - i * per : per, 0};
            if (p[i].count < 0)
                p[i].count = 0;
            pthread_create(&th[i], NULL, post_pods, &p[i]);
        }
        for (long i = 0; i < conns; i++) {
            pthread_join(th[i], NULL);
            errors += p[i].errors;
        }
        free(p);
        free(th);
    } else if (post_deployment(&t, ns, n) != 0) {
        errors = n;
    }
    posted_ns = hc_now_ns();
    /* The watcher blocks in SSL_read; wait for it with a deadline. */
    while (atomic_load(&w.ready) == 1 &&
           hc_now_ns() - t0 < (uint64_t)timeout_s * 1000000000ull && !errors) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    long added = atomic_load(&w.added);
    if (atomic_load(&w.ready) != 2) {
        fprintf(stderr,
                "kbench rollout: %ld of %ld pods seen (errors %ld); giving "
                "up\n",
                added, n, errors);
        return 1;
    }
    pthread_join(wt, NULL);
    hc_close(&w.conn);
    double secs = (double)(w.done_ns - t0) / 1e9;
    fprintf(stderr,
            "rollout %s: %ld pods in %.3f s (%.0f pods/s; requests done "
            "after %.3f s)\n",
            mode, n, secs, (double)n / secs, (double)(posted_ns - t0) / 1e9);
    printf("RESULT mode=%s until=%s count=%ld conns=%ld seconds=%.6f "
           "rate=%.1f posted_seconds=%.6f errors=%ld\n",
           mode, until, n, strcmp(mode, "pods") == 0 ? conns : 0, secs,
           (double)n / secs, (double)(posted_ns - t0) / 1e9, errors);
    return 0;
}
