/*
 * The revisioned key-value store with watch. Keys are paths
 * ("/apps/deployments/default/web"), values immutable JSON bytes. One
 * global, monotonically increasing revision stamps every write; reads are
 * served from an in-memory ordered map, writes go through a durable
 * backend (SQLite today) before they become visible, and a ring of recent
 * events serves watches from a past revision.
 *
 * The store is single-threaded: call it from the loop that owns it.
 */
#ifndef KEDGE_STORE_STORE_H
#define KEDGE_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An immutable, reference-counted value. */
struct store_value {
    int refs;
    size_t len;
    char data[]; /* len bytes plus a NUL */
};

struct store_value *store_value_new(const void *data, size_t len);
struct store_value *store_value_ref(struct store_value *v);
void store_value_unref(struct store_value *v);

enum store_event_type { STORE_CREATE, STORE_UPDATE, STORE_DELETE };

/* One change. For deletes `value` is the object as deleted (with the
 * deletion revision stamped by the caller); `prev` is the value before
 * (NULL for creates, or when unknown after a restart). */
struct store_event {
    enum store_event_type type;
    int64_t rev;
    const char *key;
    struct store_value *value;
    struct store_value *prev;
};

/* A named integer kept by the backend beside the data (e.g. the edge's
 * applied cloud revision), written in the same transaction as a change
 * when it travels with one. */
struct store_meta {
    const char *name;
    int64_t value;
};

/* A durable backend: it persists changes and loads them at start. */
struct store_backend {
    const char *name;
    /* Calls fn for every live key (in any order); sets *rev to the
     * highest revision ever written and *compact_rev to the oldest
     * revision whose history is still kept. */
    int (*load)(struct store_backend *be,
                int (*fn)(void *arg, const char *key, int64_t rev,
                          const void *val, size_t len),
                void *arg, int64_t *rev, int64_t *compact_rev);
    /* Calls fn for every event with revision > after, in order. */
    int (*load_events)(struct store_backend *be, int64_t after,
                       int (*fn)(void *arg, const struct store_event *ev),
                       void *arg);
    /* Durably writes a batch of events (n may be 0) and, when meta is not
     * NULL, the metadata value meta->name = meta->value, in one
     * transaction. On error nothing of the batch is written. */
    int (*commit)(struct store_backend *be, const struct store_event *evs,
                  int n, const struct store_meta *meta);
    /* Reads the metadata value `name`: 0, -KE_NOTFOUND when never set. */
    int (*meta_get)(struct store_backend *be, const char *name,
                    int64_t *value);
    /* Forgets history older than rev (live keys are kept). */
    int (*compact)(struct store_backend *be, int64_t rev);
    /* Bytes used on disk. */
    int64_t (*size_bytes)(struct store_backend *be);
    void (*close)(struct store_backend *be);
};

/* Opens the SQLite backend at path (WAL mode). sync_full selects
 * synchronous=FULL (survives power loss) over NORMAL (survives a crash of
 * the process). Errors are logged and returned. */
int store_sqlite_open(const char *path, bool sync_full,
                      struct store_backend **out);

struct store;

/* Opens a store over a backend (taking ownership of it), loading its
 * state. `window` is how many recent events the watch ring keeps. */
int store_open(struct store_backend *be, int window, struct store **out);
void store_close(struct store *st);

/* Current (last committed) revision. */
int64_t store_revision(const struct store *st);
/* The revision the next write will get. */
int64_t store_next_revision(const struct store *st);
/* Oldest revision a watch may start from (older gets -KE_EXPIRED). */
int64_t store_oldest_revision(const struct store *st);
size_t store_count(const struct store *st);
int64_t store_db_bytes(struct store *st);

/* Looks up key. On success *value is a new reference (caller unrefs) and
 * *rev its modification revision. -KE_NOTFOUND when absent. */
int store_get(struct store *st, const char *key, struct store_value **value,
              int64_t *rev);

/*
 * Lists keys starting with prefix, in key order, beginning after
 * `start_after` (NULL or "" from the first). Calls fn for each; stops
 * after `limit` entries when limit > 0, and sets *more when entries
 * remain. fn returns 0 to go on, 1 to skip the entry without counting it
 * toward the limit, or a negative error to stop. Values passed to fn are
 * borrowed for the call.
 */
int store_list(struct store *st, const char *prefix, const char *start_after,
               long limit,
               int (*fn)(void *arg, const char *key, struct store_value *v,
                         int64_t rev),
               void *arg, bool *more);

/*
 * Like store_list, but as the store was at revision `at` (the state after
 * the write with that revision), reconstructed from the watch ring: this
 * is how continued list pages stay one consistent snapshot. -KE_EXPIRED
 * when `at` is older than the ring can reconstruct. The rev passed to fn
 * is 0 for values taken from history.
 */
int store_list_at(struct store *st, const char *prefix, const char *start_after,
                  long limit, int64_t at,
                  int (*fn)(void *arg, const char *key, struct store_value *v,
                            int64_t rev),
                  void *arg, bool *more);

/*
 * Writes. `rev` must be store_next_revision() (the caller stamps it into
 * the object before serialising). The write is durable when the call
 * returns 0. Errors: -KE_EXISTS (create of a live key), -KE_NOTFOUND
 * (update/delete of an absent key), -KE_CONFLICT (expect_rev > 0 and the
 * live revision differs), or the backend's error (nothing changed).
 */
int store_create(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev);
int store_update(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev, int64_t expect_rev);
/* `val` is the object as deleted, delivered to watchers. */
int store_delete(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev, int64_t expect_rev);

/* Watches. The callback runs after each committed change under prefix. */
struct store_watch;
typedef void (*store_watch_fn)(void *arg, const struct store_event *ev);

/*
 * Starts a watch on prefix delivering every event with revision > after.
 * Events already in the ring are delivered before this returns.
 * -KE_EXPIRED when `after` is older than the ring holds.
 */
int store_watch(struct store *st, const char *prefix, int64_t after,
                store_watch_fn fn, void *arg, struct store_watch **out);
void store_unwatch(struct store *st, struct store_watch *w);
int store_watch_count(const struct store *st);

/*
 * Small durable integers beside the data, for the store's users (the edge
 * keeps its applied cloud revision here). Names are the caller's; the
 * backend reserves "compact_rev", "max_rev" and "schema" (-EINVAL).
 *
 * store_meta_get_int: 0 and *value, or -KE_NOTFOUND when never set.
 * store_meta_set_int: writes the value durably now (its own transaction).
 * store_meta_stage_int: the next write (store_create/update/delete)
 * commits name = value in the same transaction as its change, so the two
 * are durable together or not at all; a failed write drops the staged
 * value, and staging again replaces it. Returns 0 or -EINVAL.
 */
int store_meta_get_int(struct store *st, const char *name, int64_t *value);
int store_meta_set_int(struct store *st, const char *name, int64_t value);
int store_meta_stage_int(struct store *st, const char *name, int64_t value);

/* Forgets backend history older than the ring's window. */
int store_compact(struct store *st);

#endif
