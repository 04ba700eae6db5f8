/*
 * kbench: the load generator behind bench/run.sh. Subcommands:
 *   request  one authenticated request (setup, /metrics)
 *   create   POST N objects over C keep-alive TLS connections
 *   list     GET a collection R times, as JSON or as a Table
 *   watch    watch delivery latency (watchlat.c)
 *   rollout  time from a Deployment (or N pod POSTs) to N pods (rollout.c)
 * Each prints a human line on stderr and one "RESULT key=value ..." line
 * on stdout for run.sh to tabulate. Nothing here judges the figures.
 */
#include "httpc.h"
#include "kbench.h"
#include "objects.h"
#include "stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KBENCH_MAX_BODY_BYTES (64 * 1024)

int kbench_parse_url(const char *url, char *host, size_t hostlen, int *port)
{
    const char *p = strncmp(url, "https://", 8) == 0 ? url + 8 : NULL;
    if (!p)
        return -1;
    const char *colon = strrchr(p, ':');
    if (!colon || (size_t)(colon - p) >= hostlen)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = 0;
    *port = atoi(colon + 1);
    return *port > 0 ? 0 : -1;
}

const char *kbench_opt(int argc, char **argv, const char *name,
                       const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

long kbench_opt_long(int argc, char **argv, const char *name, long def)
{
    const char *v = kbench_opt(argc, argv, name, NULL);
    return v ? strtol(v, NULL, 10) : def;
}

int kbench_target(int argc, char **argv, struct kbench_target *t)
{
    const char *url = kbench_opt(argc, argv, "--url", NULL);
    const char *pki = kbench_opt(argc, argv, "--pki", NULL);
    if (!url || !pki) {
        fprintf(stderr, "kbench: --url https://HOST:PORT and --pki DIR are "
                        "required\n");
        return -1;
    }
    if (kbench_parse_url(url, t->host, sizeof(t->host), &t->port)) {
        fprintf(stderr, "kbench: --url must be https://HOST:PORT, not %s\n",
                url);
        return -1;
    }
    t->ctx = hc_ctx_new(pki);
    return t->ctx ? 0 : -1;
}

int kbench_append_latencies(const char *path, const uint64_t *ns, size_t n)
{
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "kbench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%llu\n", (unsigned long long)ns[i]);
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- request ---------------------------------------------------------- */

static int read_file(const char *path, struct hc_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "kbench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        hc_buf_append(b, tmp, n);
    fclose(f);
    return 0;
}

static int cmd_request(int argc, char **argv)
{
    struct kbench_target t;
    if (kbench_target(argc, argv, &t))
        return 2;
    const char *method = kbench_opt(argc, argv, "--method", "GET");
    const char *path = kbench_opt(argc, argv, "--path", "/");
    const char *accept = kbench_opt(argc, argv, "--accept", NULL);
    const char *body = kbench_opt(argc, argv, "--body", NULL);
    const char *file = kbench_opt(argc, argv, "--body-file", NULL);
    struct hc_buf b = {0};
    if (file && read_file(file, &b))
        return 2;
    if (body)
        hc_buf_append(&b, body, strlen(body));
    struct hc_conn c;
    struct hc_response r;
    int rc = 1;
    if (hc_connect(&c, t.ctx, t.host, t.port))
        goto out;
    if (hc_roundtrip(&c, method, path, accept, b.len ? b.data : NULL, b.len,
                     &r) == 0) {
        fwrite(r.body.data ? r.body.data : "", 1, r.body.len, stdout);
        if (r.status < 200 || r.status > 299)
            fprintf(stderr, "kbench: %s %s: HTTP %d\n", method, path,
                    r.status);
        else
            rc = 0;
        hc_buf_free(&r.body);
    }
    hc_close(&c);
out:
    hc_buf_free(&b);
    SSL_CTX_free(t.ctx);
    return rc;
}

/* ---- create ----------------------------------------------------------- */

struct create_run {
    struct kbench_target *t;
    const char *ns, *kind, *prefix;
    long start_index; /* names and bodies start at this index */
    long count;
    size_t size;
    atomic_long next;
    atomic_long errors;
    atomic_llong bytes;
    uint64_t *lat_ns; /* per object */
    pthread_barrier_t start;
    int first_error_status;
};

struct create_worker {
    pthread_t tid;
    struct create_run *run;
    struct hc_conn conn;
    int connected;
    uint64_t done_ns;
};

static void *create_worker_main(void *arg)
{
    struct create_worker *w = arg;
    struct create_run *run = w->run;
    char *body = malloc(KBENCH_MAX_BODY_BYTES);
    char path[512], name[128];
    bool pods = strcmp(run->kind, "pods") == 0;
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/%s", run->ns,
             run->kind);
    pthread_barrier_wait(&run->start);
    for (;;) {
        if (!w->connected || !body)
            break;
        long i = atomic_fetch_add(&run->next, 1);
        if (i >= run->count)
            break;
        long idx = run->start_index + i;
        snprintf(name, sizeof(name), "%s-%06ld", run->prefix, idx);
        int len = pods ? bench_pod_json(body, KBENCH_MAX_BODY_BYTES, run->ns,
                                        name, (int)idx)
                       : bench_configmap_json(body, KBENCH_MAX_BODY_BYTES,
                                              run->ns, name, (int)idx,
                                              run->size);
        if (len < 0) {
            atomic_fetch_add(&run->errors, 1);
            continue;
        }
        struct hc_response r;
        uint64_t t0 = hc_now_ns();
        int rc = hc_roundtrip(&w->conn, "POST", path, NULL, body,
                              (size_t)len, &r);
        run->lat_ns[i] = hc_now_ns() - t0;
        if (rc) {
            atomic_fetch_add(&run->errors, 1);
            w->connected = 0;
            break;
        }
        if (r.status != 201) {
            if (atomic_fetch_add(&run->errors, 1) == 0) {
                run->first_error_status = r.status;
                fprintf(stderr, "kbench: create %s: HTTP %d: %.300s\n", name,
                        r.status, r.body.data ? r.body.data : "");
            }
        } else {
            atomic_fetch_add(&run->bytes, len);
        }
        hc_buf_free(&r.body);
    }
    w->done_ns = hc_now_ns();
    free(body);
    return NULL;
}

static int cmd_create(int argc, char **argv)
{
    struct kbench_target t;
    if (kbench_target(argc, argv, &t))
        return 2;
    struct create_run run = {
        .t = &t,
        .ns = kbench_opt(argc, argv, "--ns", "default"),
        .kind = kbench_opt(argc, argv, "--kind", "configmaps"),
        .prefix = kbench_opt(argc, argv, "--prefix", "obj"),
        .start_index = kbench_opt_long(argc, argv, "--start", 0),
        .count = kbench_opt_long(argc, argv, "--count", 1000),
        .size = (size_t)kbench_opt_long(argc, argv, "--size", 1024),
    };
    const char *lat_out = kbench_opt(argc, argv, "--lat-out", NULL);
    long conns = kbench_opt_long(argc, argv, "--conns", 1);
    if (conns < 1 || conns > 1024 || run.count < 1) {
        fprintf(stderr, "kbench create: --conns 1..1024 and --count >= 1\n");
        return 2;
    }
    if (strcmp(run.kind, "configmaps") != 0 && strcmp(run.kind, "pods") != 0) {
        fprintf(stderr, "kbench create: --kind configmaps or pods\n");
        return 2;
    }
    run.lat_ns = calloc((size_t)run.count, sizeof(uint64_t));
    struct create_worker *ws = calloc((size_t)conns, sizeof(*ws));
    if (!run.lat_ns || !ws)
        return 1;
    pthread_barrier_init(&run.start, NULL, (unsigned)conns + 1);
    for (long i = 0; i < conns; i++) {
        ws[i].run = &run;
        ws[i].connected = hc_connect(&ws[i].conn, t.ctx, t.host, t.port) == 0;
    }
    for (long i = 0; i < conns; i++)
        pthread_create(&ws[i].tid, NULL, create_worker_main, &ws[i]);
    uint64_t t0 = hc_now_ns();
    pthread_barrier_wait(&run.start);
    uint64_t end = t0;
    for (long i = 0; i < conns; i++) {
        pthread_join(ws[i].tid, NULL);
        if (ws[i].done_ns > end)
            end = ws[i].done_ns;
        hc_close(&ws[i].conn);
    }
    double secs = (double)(end - t0) / 1e9;
    long errors = atomic_load(&run.errors);
    long ok = run.count - errors;
    long done = atomic_load(&run.next);
    if (done < run.count)
        ok -= run.count - done; /* never attempted: a connection failed */
    if (lat_out && kbench_append_latencies(lat_out, run.lat_ns,
                                           (size_t)run.count))
        errors++;
    double p50 = stats_ms(stats_percentile(run.lat_ns, (size_t)run.count, 50));
    double p99 = stats_ms(stats_percentile(run.lat_ns, (size_t)run.count, 99));
    fprintf(stderr,
            "create %s: %ld conns, %ld ok, %ld errors in %.2f s: %.0f "
            "objects/s, latency p50 %.2f ms p99 %.2f ms\n",
            run.kind, conns, ok, errors, secs, (double)ok / secs, p50, p99);
    printf("RESULT create kind=%s conns=%ld count=%ld ok=%ld errors=%ld "
           "seconds=%.3f rate=%.1f p50_ms=%.3f p99_ms=%.3f body_bytes=%lld\n",
           run.kind, conns, run.count, ok, errors, secs, (double)ok / secs,
           p50, p99, (long long)atomic_load(&run.bytes));
    pthread_barrier_destroy(&run.start);
    free(ws);
    free(run.lat_ns);
    SSL_CTX_free(t.ctx);
    return errors ? 1 : 0;
}

/* ---- list ------------------------------------------------------------- */

/* Bytes of the items array of a List body: the stored objects' JSON
 * (with their separating commas). The list metadata may come before or
 * after the items. */
static size_t items_bytes(const struct hc_buf *b)
{
    const char *p = b->data ? strstr(b->data, "\"items\":[") : NULL;
    if (!p)
        return 0;
    p += 9;
    const char *end = b->data + b->len;
    /* The last "],\"metadata\":{" closes the items when metadata is last. */
    static const char tail[] = "],\"metadata\":{";
    const char *m = NULL;
    for (const char *q = p; (q = strstr(q, tail)) != NULL; q++)
        m = q;
    if (m)
        return (size_t)(m - p);
    /* Otherwise the body ends with "]}". */
    return end - p >= 2 ? (size_t)(end - p) - 2 : 0;
}

static int cmd_list(int argc, char **argv)
{
    struct kbench_target t;
    if (kbench_target(argc, argv, &t))
        return 2;
    const char *path = kbench_opt(argc, argv, "--path", NULL);
    const char *accept = kbench_opt(argc, argv, "--accept", NULL);
    const char *label = kbench_opt(argc, argv, "--label", "list");
    long repeat = kbench_opt_long(argc, argv, "--repeat", 5);
    if (!path || repeat < 1 || repeat > 1000) {
        fprintf(stderr, "kbench list: --path and --repeat 1..1000\n");
        return 2;
    }
    uint64_t *total = calloc((size_t)repeat, sizeof(uint64_t));
    uint64_t *ttfb = calloc((size_t)repeat, sizeof(uint64_t));
    struct hc_conn c;
    if (!total || !ttfb || hc_connect(&c, t.ctx, t.host, t.port))
        return 1;
    size_t bytes = 0, ibytes = 0;
    int rc = 0;
    for (long i = 0; i < repeat; i++) {
        struct hc_response r;
        uint64_t t0 = hc_now_ns();
        if (hc_roundtrip(&c, "GET", path, accept, NULL, 0, &r)) {
            rc = 1;
            break;
        }
        total[i] = hc_now_ns() - t0;
        ttfb[i] = r.first_byte_ns - t0;
        if (r.status != 200) {
            fprintf(stderr, "kbench list %s: HTTP %d: %.300s\n", path,
                    r.status, r.body.data ? r.body.data : "");
            rc = 1;
        }
        bytes = r.body.len;
        ibytes = items_bytes(&r.body);
        hc_buf_free(&r.body);
        if (rc)
            break;
    }
    hc_close(&c);
    if (rc == 0) {
        double med = stats_ms(stats_percentile(total, (size_t)repeat, 50));
        double min = stats_ms(stats_percentile(total, (size_t)repeat, 0));
        double fb = stats_ms(stats_percentile(ttfb, (size_t)repeat, 50));
        fprintf(stderr,
                "list %s: %zu bytes, median %.1f ms (min %.1f, first byte "
                "%.1f) over %ld runs\n",
                label, bytes, med, min, fb, repeat);
        printf("RESULT list label=%s repeat=%ld bytes=%zu items_bytes=%zu "
               "median_ms=%.3f min_ms=%.3f ttfb_ms=%.3f\n",
               label, repeat, bytes, ibytes, med, min, fb);
    }
    free(total);
    free(ttfb);
    SSL_CTX_free(t.ctx);
    return rc;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: kbench COMMAND --url https://HOST:PORT --pki DIR "
            "[options]\n"
            "  request --method M --path P [--accept A] [--body S | "
            "--body-file F]\n"
            "  create  --ns NS --kind configmaps|pods --count N --conns C "
            "[--size BYTES] [--prefix P] [--start I] [--lat-out FILE]\n"
            "  list    --path P [--accept A] [--repeat R] [--label L]\n"
            "  watch   --ns NS --watchers W --changes N [--size BYTES]\n"
            "  rollout --ns NS --count N [--mode deployment|pods] "
            "[--conns C] [--until added|bound] [--scheduler NAME]\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *cmd = argv[1];
    argc--;
    argv++;
    if (strcmp(cmd, "request") == 0)
        return cmd_request(argc, argv);
    if (strcmp(cmd, "create") == 0)
        return cmd_create(argc, argv);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc, argv);
    if (strcmp(cmd, "watch") == 0)
        return kbench_watch(argc, argv);
    if (strcmp(cmd, "rollout") == 0)
        return kbench_rollout(argc, argv);
    usage();
    return 2;
}
