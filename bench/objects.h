/*
 * The objects the benchmarks write: configmaps of a chosen size and
 * realistic pods. Deterministic for a given index, so the API run and the
 * SQLite baseline write the same bytes.
 */
#ifndef KEDGE_BENCH_OBJECTS_H
#define KEDGE_BENCH_OBJECTS_H

#include <stddef.h>

/* Writes the JSON of configmap `name` in namespace `ns` into out,
 * padded with data to about `size` bytes (never less than the skeleton).
 * Returns the length, or -1 when cap is too small. */
int bench_configmap_json(char *out, size_t cap, const char *ns,
                         const char *name, int index, size_t size);

/* Writes the JSON of a realistic pod (two containers, probes, env,
 * volumes, tolerations; about 2.1 KB as sent, about 2.5 KB once the
 * server adds metadata and defaults). Returns the length or -1. */
int bench_pod_json(char *out, size_t cap, const char *ns, const char *name,
                   int index);

#endif
