/*
 * Latency samples for the benchmarks: percentiles over nanosecond
 * samples, printed in milliseconds.
 */
#ifndef KEDGE_BENCH_STATS_H
#define KEDGE_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Sorts samples in place and returns the p-th percentile (0..100) by the
 * nearest-rank method; 0 for no samples. */
uint64_t stats_percentile(uint64_t *samples, size_t n, double p);

/* Nanoseconds to milliseconds. */
double stats_ms(uint64_t ns);

#endif
