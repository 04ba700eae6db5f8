/*
 * Request metrics in Prometheus text format: a counter and a latency
 * histogram per (verb, resource, code).
 */
#ifndef KEDGE_API_METRICS_H
#define KEDGE_API_METRICS_H

#include "util/buf.h"

#include <stdint.h>

#define METRICS_NBUCKETS 12

struct metrics_series {
    char verb[24];
    char resource[64];
    int code;
    uint64_t count;
    uint64_t buckets[METRICS_NBUCKETS];
    double sum_seconds;
};

struct metrics {
    struct metrics_series *series;
    int n;
    int cap;
    uint64_t total;
};

void metrics_observe(struct metrics *m, const char *verb,
                     const char *resource, int code, double seconds);
/* Appends the request counter and histogram families to out. */
int metrics_render(const struct metrics *m, struct buf *out);
void metrics_free(struct metrics *m);

#endif
