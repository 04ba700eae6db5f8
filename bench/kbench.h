/*
 * Shared pieces of the kbench load generator: option parsing and the
 * target server (address and TLS client context).
 */
#ifndef KEDGE_BENCH_KBENCH_H
#define KEDGE_BENCH_KBENCH_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

struct kbench_target {
    char host[256];
    int port;
    SSL_CTX *ctx; /* owned; SSL_CTX_free */
};

/* Splits https://HOST:PORT. 0 or -1. */
int kbench_parse_url(const char *url, char *host, size_t hostlen, int *port);

/* The value after option `name` in argv, or def. */
const char *kbench_opt(int argc, char **argv, const char *name,
                       const char *def);
long kbench_opt_long(int argc, char **argv, const char *name, long def);

/* Reads --url and --pki into t. 0, or -1 with a message on stderr. */
int kbench_target(int argc, char **argv, struct kbench_target *t);

/* Appends n latencies (nanoseconds, one per line) to the file at path.
 * 0, or -1 with a message on stderr. */
int kbench_append_latencies(const char *path, const uint64_t *ns, size_t n);

/* The watch latency benchmark (watchlat.c): argv as for main, after the
 * subcommand. Returns the process exit status. */
int kbench_watch(int argc, char **argv);
/* The rollout benchmark (rollout.c): argv as for main, after the
 * subcommand. */
int kbench_rollout(int argc, char **argv);

#endif
