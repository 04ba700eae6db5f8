/* Request counters and latency histograms, rendered for Prometheus. */
#include "api/metrics.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

static const double bucket_bounds[METRICS_NBUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

void metrics_observe(struct metrics *m, const char *verb,
                     const char *resource, int code, double seconds)
{
    struct metrics_series *s = NULL;
    for (int i = 0; i < m->n; i++) {
        struct metrics_series *c = &m->series[i];
        if (c->code == code && strcmp(c->verb, verb) == 0 &&
            strcmp(c->resource, resource) == 0) {
            s = c;
            break;
        }
    }
    if (!s) {
        if (m->n == m->cap) {
            int cap = m->cap ? m->cap * 2 : 32;
            struct metrics_series *p =
                realloc(m->series, (size_t)cap * sizeof(*p));
            if (!p)
                return;
            m->series = p;
            m->cap = cap;
        }
        s = &m->series[m->n++];
        memset(s, 0, sizeof(*s));
        snprintf(s->verb, sizeof(s->verb), "%s", verb);
        snprintf(s->resource, sizeof(s->resource), "%s", resource);
        s->code = code;
    }
    s->count++;
    s->sum_seconds += seconds;
    for (int b = 0; b < METRICS_NBUCKETS; b++)
        if (seconds <= bucket_bounds[b])
            s->buckets[b]++;
    m->total++;
}

int metrics_render(const struct metrics *m, struct buf *out)
{
    buf_puts(out, "# HELP apiserver_request_total Requests by verb, "
                  "resource and HTTP code.\n"
                  "# TYPE apiserver_request_total counter\n");
    for (int i = 0; i < m->n; i++) {
        const struct metrics_series *s = &m->series[i];
        buf_printf(out,
                   "apiserver_request_total{verb=\"%s\",resource=\"%s\","
                   "code=\"%d\"} %llu\n",
                   s->verb, s->resource, s->code,
                   (unsigned long long)s->count);
    }
    buf_puts(out, "# HELP apiserver_request_duration_seconds Request "
                  "latency by verb and resource.\n"
                  "# TYPE apiserver_request_duration_seconds histogram\n");
    for (int i = 0; i < m->n; i++) {
        const struct metrics_series *s = &m->series[i];
        for (int b = 0; b < METRICS_NBUCKETS; b++)
            buf_printf(out,
                       "apiserver_request_duration_seconds_bucket{verb=\"%s\","
                       "resource=\"%s\",code=\"%d\",le=\"%g\"} %llu\n",
                       s->verb, s->resource, s->code, bucket_bounds[b],
                       (unsigned long long)s->buckets[b]);
        buf_printf(out,
                   "apiserver_request_duration_seconds_bucket{verb=\"%s\","
                   "resource=\"%s\",code=\"%d\",le=\"+Inf\"} %llu\n"
                   "apiserver_request_duration_seconds_sum{verb=\"%s\","
                   "resource=\"%s\",code=\"%d\"} %.6f\n"
                   "apiserver_request_duration_seconds_count{verb=\"%s\","
                   "resource=\"%s\",code=\"%d\"} %llu\n",
                   s->verb, s->resource, s->code,
                   (unsigned long long)s->count, s->verb, s->resource,
                   s->code, s->sum_seconds, s->verb, s->resource, s->code,
                   (unsigned long long)s->count);
    }
    return 0;
}

void metrics_free(struct metrics *m)
{
    free(m->series);
    memset(m, 0, sizeof(*m));
}
