/*
 * sqlite_insert: the baseline for the create benchmark. Inserts the same
 * configmap JSON bytes the API benchmark sends straight into SQLite (WAL
 * mode, one row per transaction, synchronous FULL or NORMAL), either into
 * one plain key/value table or into kedge's own two-table schema, and
 * prints objects/s. Usage:
 *   sqlite_insert --db PATH --sync full|normal --count N [--size BYTES]
 *                 [--schema plain|kedge] [--ns NS] [--prefix P]
 *                 [--start I] [--lat-out FILE]
 * --start continues an earlier run on the same database (rows I..I+N-1),
 * so run.sh can interleave it with the API in rounds; --lat-out appends
 * each transaction's latency in nanoseconds, one per line.
 */
#include "objects.h"
#include "stats.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SQLITE_INSERT_MAX_BODY_BYTES (64 * 1024)

static const char *opt(int argc, char **argv, const char *name,
                       const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* kedge's schema and statements (src/store/sqlite.c; keep them alike), so
 * the figure separates the cost of the schema from the cost of the
 * server. The value's CRC-32 column is written as 0: computing it costs
 * about a microsecond per KB, which belongs to the server's side. */
static const char *kedge_schema =
    "CREATE TABLE IF NOT EXISTS events("
    " rev INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL,"
    " prev_rev INTEGER NOT NULL DEFAULT 0, value BLOB NOT NULL,"
    " crc INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY,"
    " rev INTEGER NOT NULL) WITHOUT ROWID;";

static const char *plain_schema =
    "CREATE TABLE IF NOT EXISTS objects(key TEXT PRIMARY KEY,"
    " value BLOB NOT NULL);";

static int fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_insert: %s: %s\n", what,
            db ? sqlite3_errmsg(db) : "out of memory");
    return 1;
}

static int step(sqlite3 *db, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(db, what);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = opt(argc, argv, "--db", NULL);
    const char *sync = opt(argc, argv, "--sync", "full");
    const char *schema = opt(argc, argv, "--schema", "plain");
    const char *ns = opt(argc, argv, "--ns", "bench");
    const char *prefix = opt(argc, argv, "--prefix", "cm");
    long count = strtol(opt(argc, argv, "--count", "1000"), NULL, 10);
    long start = strtol(opt(argc, argv, "--start", "0"), NULL, 10);
    const char *lat_out = opt(argc, argv, "--lat-out", NULL);
    size_t size = (size_t)strtol(opt(argc, argv, "--size", "1024"), NULL, 10);
    bool kedge = strcmp(schema, "kedge") == 0;
    if (!path || count < 1 ||
        (strcmp(sync, "full") != 0 && strcmp(sync, "normal") != 0) ||
        (!kedge && strcmp(schema, "plain") != 0)) {
        fprintf(stderr, "usage: sqlite_insert --db PATH --sync full|normal "
                        "--count N [--size BYTES] [--schema plain|kedge] [--start I] "
                        "[--lat-out FILE]\n");
        return 2;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *begin = NULL, *commit = NULL, *ins = NULL, *put = NULL;
    char *body = malloc(SQLITE_INSERT_MAX_BODY_BYTES);
    uint64_t *lat = calloc((size_t)count, sizeof(uint64_t));
    int rc = 1;
    if (!body || !lat)
        goto out;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        rc = fail(db, "open");
        goto out;
    }
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
             " PRAGMA cache_size=-2000;",
             strcmp(sync, "full") == 0 ? "FULL" : "NORMAL");
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, kedge ? kedge_schema : plain_schema, NULL, NULL,
                     NULL) != SQLITE_OK) {
        rc = fail(db, "schema");
        goto out;
    }
    const char *ins_sql =
        kedge ? "INSERT INTO events(rev, key, type, value, prev_rev, crc)"
                " VALUES(?1, ?2, 0, ?3, COALESCE((SELECT rev FROM kv"
                " WHERE key = ?2), 0), 0)"
              : "INSERT INTO objects(key, value) VALUES(?2, ?3)";
    if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) ||
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) ||
        sqlite3_prepare_v2(db, ins_sql, -1, &ins, NULL) ||
        (kedge && sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO kv(key, rev)"
                                         " VALUES(?, ?)",
                                     -1, &put, NULL))) {
        rc = fail(db, "prepare");
        goto out;
    }
    long long bytes = 0;
    uint64_t t0 = now_ns();
    for (long j = 0; j < count; j++) {
        long i = start + j;
        char name[64], key[256];
        snprintf(name, sizeof(name), "%s-%06ld", prefix, i);
        snprintf(key, sizeof(key), "/registry/core/configmaps/%s/%s", ns, name);
        int len = bench_configmap_json(body, SQLITE_INSERT_MAX_BODY_BYTES, ns,
                                       name, (int)i, size);
        if (len < 0)
            goto out;
        uint64_t s = now_ns();
        if (step(db, begin, "begin"))
            goto out;
        sqlite3_bind_int64(ins, 1, i + 1);
        sqlite3_bind_text(ins, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 3, body, len, SQLITE_STATIC);
        if (step(db, ins, "insert"))
            goto out;
        if (kedge) {
            sqlite3_bind_text(put, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(put, 2, i + 1);
            if (step(db, put, "insert kv"))
                goto out;
        }
        if (step(db, commit, "commit"))
            goto out;
        lat[j] = now_ns() - s;
        bytes += len;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    if (lat_out) {
        FILE *f = fopen(lat_out, "a");
        if (!f) {
            fprintf(stderr, "sqlite_insert: cannot open %s\n", lat_out);
            goto out;
        }
        for (long j = 0; j < count; j++)
            fprintf(f, "%llu\n", (unsigned long long)lat[j]);
        fclose(f);
    }
    double p50 = stats_ms(stats_percentile(lat, (size_t)count, 50));
    double p99 = stats_ms(stats_percentile(lat, (size_t)count, 99));
    fprintf(stderr,
            "sqlite %s synchronous=%s: %ld rows in %.2f s: %.0f rows/s, "
            "p50 %.3f ms p99 %.3f ms\n",
            schema, sync, count, secs, (double)count / secs, p50, p99);
    printf("RESULT sqlite schema=%s sync=%s count=%ld seconds=%.3f "
           "rate=%.1f p50_ms=%.3f p99_ms=%.3f body_bytes=%lld\n",
           schema, sync, count, secs, (double)count / secs, p50, p99, bytes);
    rc = 0;
out:
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(ins);
    sqlite3_finalize(put);
    sqlite3_close(db);
    free(lat);
    free(body);
    return rc;
}
