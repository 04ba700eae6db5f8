/*
 * The SQLite store backend. Two tables, in WAL mode:
 *   events(rev, key, type, prev_rev, value, crc)  every change, newest
 *                                            history; crc is the CRC-32 of
 *                                            value, checked when loaded
 *   kv(key, rev)                             live keys -> their event row
 * A live key's value is the value of the event row it points at, so each
 * write stores its bytes once. Compaction deletes event rows older than
 * the watch window that no live key points at.
 */
#include "store/store.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

struct sqlite_backend {
    struct store_backend base;
    sqlite3 *db;
    char *path;
    sqlite3_stmt *ins_event;
    sqlite3_stmt *put_kv;
    sqlite3_stmt *del_kv;
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *put_meta;
    sqlite3_stmt *get_meta;
};

static const char *schema =
    "CREATE TABLE IF NOT EXISTS events("
    " rev INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL,"
    " prev_rev INTEGER NOT NULL DEFAULT 0, value BLOB NOT NULL,"
    " crc INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY,"
    " rev INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER)"
    " WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(name, value) VALUES('compact_rev', 0);"
    "INSERT OR IGNORE INTO meta(name, value) VALUES('schema', 1);";

static int sql_error(struct sqlite_backend *b, const char *what)
{
    int code = sqlite3_extended_errcode(b->db);
    log_error("store", "sqlite %s on %s: %s", what, b->path,
              sqlite3_errmsg(b->db));
    if ((code & 0xff) == SQLITE_FULL)
        return -ENOSPC;
    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
        return -KE_CORRUPT;
    return -EIO;
}

static int step_done(struct sqlite_backend *b, sqlite3_stmt *s,
                     const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sql_error(b, what);
    return 0;
}

static uint32_t value_crc(const void *val, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), val, (uInt)len);
}

/* Checks a loaded value against its stored checksum; logs a mismatch
 * naming the key, the revision and the file. */
static bool value_intact(struct sqlite_backend *b, const char *key,
                         int64_t rev, const void *val, size_t len,
                         int64_t crc)
{
    if (value_crc(val, len) == (uint32_t)crc)
        return true;
    log_error("store", "%s: the stored value of %s at revision %lld fails "
                       "its checksum (the file is damaged; restore a backup)",
              b->path, key ? key : "?", (long long)rev);
    return false;
}

static int sqlite_load(struct store_backend *be,
                       int (*fn)(void *, const char *, int64_t, const void *,
                                 size_t),
                       void *arg, int64_t *rev, int64_t *compact_rev)
{
    struct sqlite_backend *b = (struct sqlite_backend *)be;
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT kv.key, kv.rev, events.value, events.crc"
                           " FROM kv JOIN events ON events.rev = kv.rev",
                           -1, &s, NULL) != SQLITE_OK)
        return sql_error(b, "prepare load");
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(s, 0);
        int64_t krev = sqlite3_column_int64(s, 1);
        const void *val = sqlite3_column_blob(s, 2);
        size_t len = (size_t)sqlite3_column_bytes(s, 2);
        if (!value_intact(b, key, krev, val, len, sqlite3_column_int64(s, 3))) {
            rc = -KE_CORRUPT;
            goto out;
        }
        rc = fn(arg, key, krev, val, len);
        if (rc)
            goto out;
    }
    if (r != SQLITE_DONE) {
        rc = sql_error(b, "load");
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    *rev = 0;
    *compact_rev = 0;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT (SELECT COALESCE(MAX(rev),0) FROM events),"
                           " (SELECT value FROM meta WHERE name='compact_rev'),"
                           " (SELECT value FROM meta WHERE name='max_rev')",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = sql_error(b, "prepare revision");
        goto out;
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        *rev = sqlite3_column_int64(s, 0);
        *compact_rev = sqlite3_column_int64(s, 1);
        /* Compaction may have removed the newest rows only if they were
         * deletes; the high-water mark keeps the revision monotonic. */
        int64_t hw = sqlite3_column_int64(s, 2);
        if (hw > *rev)
            *rev = hw;
    }
out:
    sqlite3_finalize(s);
    return rc;
}

static int sqlite_load_events(struct store_backend *be, int64_t after,
                              int (*fn)(void *, const struct store_event *),
                              void *arg)
{
    struct sqlite_backend *b = (struct sqlite_backend *)be;
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(
            b->db,
            "SELECT e.rev, e.key, e.type, e.value, p.value, e.crc FROM events e"
            " LEFT JOIN events p ON p.rev = e.prev_rev AND e.prev_rev > 0"
            " WHERE e.rev > ? ORDER BY e.rev",
            -1, &s, NULL) != SQLITE_OK)
        return sql_error(b, "prepare load events");
    sqlite3_bind_int64(s, 1, after);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_event ev;
        ev.rev = sqlite3_column_int64(s, 0);
        ev.key = (const char *)sqlite3_column_text(s, 1);
        ev.type = (enum store_event_type)sqlite3_column_int(s, 2);
        if (!value_intact(b, ev.key, ev.rev, sqlite3_column_blob(s, 3),
                          (size_t)sqlite3_column_bytes(s, 3),
                          sqlite3_column_int64(s, 5))) {
            rc = -KE_CORRUPT;
            goto out;
        }
        ev.value = store_value_new(sqlite3_column_blob(s, 3),
                                   (size_t)sqlite3_column_bytes(s, 3));
        ev.prev = NULL;
        if (sqlite3_column_type(s, 4) != SQLITE_NULL)
            ev.prev = store_value_new(sqlite3_column_blob(s, 4),
                                      (size_t)sqlite3_column_bytes(s, 4));
        rc = ev.value ? fn(arg, &ev) : -ENOMEM;
        store_value_unref(ev.value);
        store_value_unref(ev.prev);
        if (rc)
            goto out;
    }
    if (r != SQLITE_DONE)
        rc = sql_error(b, "load events");
out:
    sqlite3_finalize(s);
    return rc;
}

static int sqlite_commit(struct store_backend *be, const struct store_event *evs,
                         int n, const struct store_meta *meta)
{
    struct sqlite_backend *b = (struct sqlite_backend *)be;
    int rc = step_done(b, b->begin, "begin");
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        const struct store_event *ev = &evs[i];
        sqlite3_stmt *s = b->ins_event;
        sqlite3_bind_int64(s, 1, ev->rev);
        sqlite3_bind_text(s, 2, ev->key, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, (int)ev->type);
        sqlite3_bind_blob(s, 4, ev->value->data, (int)ev->value->len,
                          SQLITE_STATIC);
        sqlite3_bind_text(s, 5, ev->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)value_crc(ev->value->data,
                                                         ev->value->len));
        rc = step_done(b, s, "insert event");
        sqlite3_clear_bindings(s);
        if (rc)
            goto fail;
        if (ev->type == STORE_DELETE) {
            sqlite3_bind_text(b->del_kv, 1, ev->key, -1, SQLITE_STATIC);
            rc = step_done(b, b->del_kv, "delete key");
        } else {
            sqlite3_bind_text(b->put_kv, 1, ev->key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(b->put_kv, 2, ev->rev);
            rc = step_done(b, b->put_kv, "put key");
        }
        if (rc)
            goto fail;
    }
    if (meta) {
        sqlite3_bind_text(b->put_meta, 1, meta->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(b->put_meta, 2, meta->value);
        rc = step_done(b, b->put_meta, "put meta");
        sqlite3_clear_bindings(b->put_meta);
        if (rc)
            goto fail;
    }
    rc = step_done(b, b->commit, "commit");
    if (rc)
        goto fail;
    return 0;
fail:
    step_done(b, b->rollback, "rollback");
    return rc;
}

static int sqlite_meta_get(struct store_backend *be, const char *name,
                           int64_t *value)
{
    struct sqlite_backend *b = (struct sqlite_backend *)be;
    sqlite3_bind_text(b->get_meta, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(b->get_meta);
    int rc = -KE_NOTFOUND;
    if (r == SQLITE_ROW) {
        *value = sqlite3_column_int64(b->get_meta, 0);
        rc = 0;
    } else if (r != SQLITE_DONE) {
        rc = sql_error(b, "get meta");
    }
    sqlite3_reset(b->get_meta);
    sqlite3_clear_bindings(b->get_meta);
    return rc;
}

static int sqlite_compact(struct store_backend *be, int64_t rev)
{
    struct sqlite_backend *b = (struct sqlite_backend *)be;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "BEGIN IMMEDIATE;"
             "INSERT OR REPLACE INTO meta(name, value) VALUES('max_rev',"
             " (SELECT MAX(COALESCE((SELECT MAX(rev) FROM events), 0),"
             " COALESCE((SELECT value FROM meta WHERE name='max_rev'), 0))));"
             "DELETE FROM events WHERE rev <= %lld AND rev NOT IN"
             " (SELECT rev FROM kv);"
             "UPDATE meta SET value = %lld WHERE name = 'compact_rev'"
             " AND value < %lld;"
             "COMMIT;",
             (long long)rev, (long long)rev, (long long)rev);
    char *msg = NULL;
    if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("store", "compaction failed: %s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
        return -EIO;
    }
    sqlite3_exec(b->db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
    return 0;
}

static int64_t sqlite_size(struct store_backend *be)
{
    struct sqlite_backend *b = (struct sqlite_backend *)be;
    int64_t total = 0;
    struct stat st;
    char p[4096];
    if (stat(b->path, &st) == 0)
        total += st.st_size;
    snprintf(p, sizeof(p), "%s-wal", b->path);
    if (stat(p, &st) == 0)
        total += st.st_size;
    return total;
}

static void sqlite_close(struct store_backend *be)
{
    struct sqlite_backend *b = (struct sqlite_backend *)be;
    sqlite3_finalize(b->ins_event);
    sqlite3_finalize(b->put_kv);
    sqlite3_finalize(b->del_kv);
    sqlite3_finalize(b->begin);
    sqlite3_finalize(b->commit);
    sqlite3_finalize(b->rollback);
    sqlite3_finalize(b->put_meta);
    sqlite3_finalize(b->get_meta);
    if (b->db)
        sqlite3_close(b->db);
    free(b->path);
    free(b);
}

int store_sqlite_open(const char *path, bool sync_full,
                      struct store_backend **out)
{
    struct sqlite_backend *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->base.name = "sqlite";
    b->base.load = sqlite_load;
    b->base.load_events = sqlite_load_events;
    b->base.commit = sqlite_commit;
    b->base.meta_get = sqlite_meta_get;
    b->base.compact = sqlite_compact;
    b->base.size_bytes = sqlite_size;
    b->base.close = sqlite_close;
    b->path = strdup(path);
    int rc = 0;
    if (!b->path) {
        rc = -ENOMEM;
        goto fail;
    }
    if (sqlite3_open_v2(path, &b->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = sql_error(b, "open");
        goto fail;
    }
    sqlite3_busy_timeout(b->db, 5000);
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
             " PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF;"
             " PRAGMA cache_size=-2000;",
             sync_full ? "FULL" : "NORMAL");
    char *msg = NULL;
    if (sqlite3_exec(b->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(b->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        bool locked = (sqlite3_errcode(b->db) & 0xff) == SQLITE_BUSY;
        log_error("store", "cannot initialise %s: %s (%s)", path,
                  msg ? msg : "?",
                  locked ? "another process is using this data directory"
                         : "is it a kedge database? move it aside to start "
                           "fresh");
        sqlite3_free(msg);
        rc = -KE_CORRUPT;
        goto fail;
    }
    /* Check the file before trusting it: a corrupt database must stop the
     * start with a clear message, not serve half of its state. */
    sqlite3_stmt *qc = NULL;
    if (sqlite3_prepare_v2(b->db, "PRAGMA quick_check", -1, &qc, NULL) ==
            SQLITE_OK &&
        sqlite3_step(qc) == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(qc, 0);
        if (!res || strcmp(res, "ok") != 0) {
            log_error("store", "database %s failed its integrity check: %s",
                      path, res ? res : "?");
            rc = -KE_CORRUPT;
        }
    }
    sqlite3_finalize(qc);
    if (rc)
        goto fail;
    struct {
        sqlite3_stmt **stmt;
        const char *sql;
    } stmts[] = {
        {&b->ins_event,
         "INSERT INTO events(rev, key, type, value, prev_rev, crc) VALUES(?1,"
         " ?2, ?3, ?4, COALESCE((SELECT rev FROM kv WHERE key = ?5), 0), ?6)"},
        {&b->put_kv, "INSERT OR REPLACE INTO kv(key, rev) VALUES(?, ?)"},
        {&b->del_kv, "DELETE FROM kv WHERE key = ?"},
        {&b->begin, "BEGIN IMMEDIATE"},
        {&b->commit, "COMMIT"},
        {&b->rollback, "ROLLBACK"},
        {&b->put_meta, "INSERT OR REPLACE INTO meta(name, value) VALUES(?, ?)"},
        {&b->get_meta, "SELECT value FROM meta WHERE name = ?"},
    };
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        if (sqlite3_prepare_v3(b->db, stmts[i].sql, -1,
                               SQLITE_PREPARE_PERSISTENT, stmts[i].stmt,
                               NULL) != SQLITE_OK) {
            rc = sql_error(b, "prepare");
            goto fail;
        }
    }
    *out = &b->base;
    return 0;
fail:
    sqlite_close(&b->base);
    return rc;
}
