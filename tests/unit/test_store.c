/*
 * Store tests: CRUD and preconditions, ordered listing with limit and
 * continue, watch replay and expiry, persistence across reopen, and crash
 * consistency (a child writing hard is killed with SIGKILL; every write it
 * acknowledged must be there after reopen).
 */
#include "store/store.h"
#include "util/errors.h"
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/kedge-store-XXXXXX";
static char path[256];

static struct store *open_store(int window)
{
    struct store_backend *be;
    struct store *st;
    if (store_sqlite_open(path, false, &be))
        return NULL;
    if (store_open(be, window, &st))
        return NULL;
    return st;
}

static int put(struct store *st, const char *key, const char *val)
{
    return store_create(st, key, val, strlen(val), store_next_revision(st));
}

struct collect {
    char keys[64][64];
    int n;
};

static int collect_fn(void *arg, const char *key, struct store_value *v,
                      int64_t rev)
{
    struct collect *c = arg;
    if (c->n < 64)
        snprintf(c->keys[c->n++], 64, "%s", key);
    return 0;
}

struct evlog {
    int n;
    int64_t revs[64];
    int types[64];
    int unwatch_after;
    struct store *st;
    struct store_watch *w;
};

static void ev_fn(void *arg, const struct store_event *ev)
{
    struct evlog *l = arg;
    if (l->n < 64) {
        l->revs[l->n] = ev->rev;
        l->types[l->n] = ev->type;
    }
    l->n++;
    if (l->unwatch_after && l->n == l->unwatch_after)
        store_unwatch(l->st, l->w);
}

static void test_crud(void)
{
    struct store *st = open_store(100);
    CHECK(st != NULL);
    CHECK_INT(store_revision(st), 0);
    CHECK_INT(put(st, "/core/configmaps/default/a", "{\"a\":1}"), 0);
    CHECK_INT(put(st, "/core/configmaps/default/a", "{}"), -KE_EXISTS);
    CHECK_INT(put(st, "/core/configmaps/default/b", "{\"b\":1}"), 0);
    CHECK_INT(put(st, "/core/configmaps/kube-system/c", "{}"), 0);
    CHECK_INT(put(st, "/core/pods/default/p", "{}"), 0);
    CHECK_INT(store_revision(st), 4);

    struct store_value *v;
    int64_t rev;
    CHECK_INT(store_get(st, "/core/configmaps/default/a", &v, &rev), 0);
    CHECK_STR(v->data, "{\"a\":1}");
    CHECK_INT(rev, 1);
    store_value_unref(v);
    CHECK_INT(store_get(st, "/core/configmaps/default/x", &v, &rev),
              -KE_NOTFOUND);

    /* Compare-and-swap on the revision. */
    CHECK_INT(store_update(st, "/core/configmaps/default/a", "{\"a\":2}", 7,
                           store_next_revision(st), 3),
              -KE_CONFLICT);
    CHECK_INT(store_update(st, "/core/configmaps/default/a", "{\"a\":2}", 7,
                           store_next_revision(st), 1),
              0);
    CHECK_INT(store_update(st, "/core/configmaps/default/zz", "{}", 2,
                           store_next_revision(st), 0),
              -KE_NOTFOUND);
    CHECK_INT(store_revision(st), 5);

    /* Listing in key order, with a prefix, a limit and a continue key. */
    struct collect c = {0};
    bool more = false;
    CHECK_INT(store_list(st, "/core/configmaps/", NULL, 2, collect_fn, &c,
                         &more),
              0);
    CHECK_INT(c.n, 2);
    CHECK(more);
    CHECK_STR(c.keys[0], "/core/configmaps/default/a");
    CHECK_STR(c.keys[1], "/core/configmaps/default/b");
    struct collect c2 = {0};
    CHECK_INT(store_list(st, "/core/configmaps/", c.keys[1], 2, collect_fn,
                         &c2, &more),
              0);
    CHECK_INT(c2.n, 1);
    CHECK(!more);
    CHECK_STR(c2.keys[0], "/core/configmaps/kube-system/c");

    CHECK_INT(store_delete(st, "/core/configmaps/default/b", "{}", 2,
                           store_next_revision(st), 99),
              -KE_CONFLICT);
    CHECK_INT(store_delete(st, "/core/configmaps/default/b", "{\"gone\":1}",
                           10, store_next_revision(st), 0),
              0);
    CHECK_INT(store_count(st), 3);
    store_close(st);

    /* Reopen: same state, same revisions, and the revision goes on. */
    st = open_store(100);
    CHECK(st != NULL);
    CHECK_INT(store_revision(st), 6);
    CHECK_INT(store_count(st), 3);
    CHECK_INT(store_get(st, "/core/configmaps/default/a", &v, &rev), 0);
    CHECK_STR(v->data, "{\"a\":2}");
    CHECK_INT(rev, 5);
    store_value_unref(v);
    CHECK_INT(store_get(st, "/core/configmaps/default/b", NULL, NULL),
              -KE_NOTFOUND);

    /* Watch history survived the restart: replay from revision 4. */
    struct evlog l = {0};
    struct store_watch *w;
    CHECK_INT(store_watch(st, "/core/configmaps/", 4, ev_fn, &l, &w), 0);
    CHECK_INT(l.n, 2);
    CHECK_INT(l.revs[0], 5);
    CHECK_INT(l.types[0], STORE_UPDATE);
    CHECK_INT(l.revs[1], 6);
    CHECK_INT(l.types[1], STORE_DELETE);
    CHECK_INT(put(st, "/core/pods/default/q", "{}"), 0);
    CHECK_INT(l.n, 2); /* other prefix */
    CHECK_INT(put(st, "/core/configmaps/default/d", "{}"), 0);
    CHECK_INT(l.n, 3);
    CHECK_INT(l.revs[2], 8);
    store_unwatch(st, w);
    CHECK_INT(put(st, "/core/configmaps/default/e", "{}"), 0);
    CHECK_INT(l.n, 3);
    CHECK_INT(store_watch_count(st), 0);
    store_close(st);
}

static void test_window(void)
{
    struct store *st = open_store(4);
    CHECK(st != NULL);
    int64_t start = store_revision(st);
    char key[64];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "/w/k%d", i);
        CHECK_INT(put(st, key, "{}"), 0);
    }
    struct evlog l = {0};
    struct store_watch *w = NULL;
    CHECK_INT(store_watch(st, "/w/", start, ev_fn, &l, &w), -KE_EXPIRED);
    CHECK_INT(store_watch(st, "/w/", store_revision(st) - 4, ev_fn, &l, &w),
              0);
    CHECK_INT(l.n, 4);
    store_unwatch(st, w);

    /* A watcher that removes itself from inside its callback. */
    struct evlog l2 = {.unwatch_after = 2, .st = st};
    CHECK_INT(store_watch(st, "/w/", store_revision(st) - 3, ev_fn, &l2,
                          &l2.w),
              0);
    CHECK_INT(l2.n, 2);
    CHECK_INT(put(st, "/w/after", "{}"), 0);
    CHECK_INT(l2.n, 2);
    CHECK_INT(store_compact(st), 0);
    int64_t rev = store_revision(st);
    store_close(st);
    st = open_store(4);
    CHECK(st != NULL);
    CHECK_INT(store_revision(st), rev);
    CHECK_INT(store_count(st), 4 + 11 + 2); /* earlier test's keys too */
    store_close(st);
}

/* The child writes as fast as it can and reports each acknowledged
 * revision on a pipe; it is killed mid-storm. */
static void test_crash(void)
{
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct store *st = open_store(100);
        if (!st)
            _exit(1);
        char key[64], val[128];
        for (int i = 0;; i++) {
            snprintf(key, sizeof(key), "/crash/k%06d", i);
            int64_t rev = store_next_revision(st);
            int n = snprintf(val, sizeof(val), "{\"i\":%d,\"rev\":%lld}", i,
                             (long long)rev);
            if (store_create(st, key, val, (size_t)n, rev) != 0)
                _exit(2);
            if (write(fds[1], &rev, sizeof(rev)) != sizeof(rev))
                _exit(3);
        }
    }
    close(fds[1]);
    int64_t last = 0, r;
    int acked = 0;
    while (acked < 3000 && read(fds[0], &r, sizeof(r)) == sizeof(r)) {
        last = r;
        acked++;
    }
    kill(pid, SIGKILL);
    while (read(fds[0], &r, sizeof(r)) == sizeof(r)) {
        last = r;
        acked++;
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(acked >= 3000);

    struct store *st = open_store(100);
    CHECK(st != NULL);
    if (!st)
        return;
    CHECK(store_revision(st) >= last);
    /* Every acknowledged write is present (keys were written in order),
     * and the database is intact. */
    char key[64];
    int present = 0;
    for (int i = 0; i < 1000000; i++) {
        snprintf(key, sizeof(key), "/crash/k%06d", i);
        if (store_get(st, key, NULL, NULL) != 0)
            break;
        present++;
    }
    CHECK(present >= acked);
    store_close(st);
}

/* A damaged stored value stops the open with -KE_CORRUPT, not a store
 * that serves garbage. */
static void test_checksum(void)
{
    char p2[300];
    snprintf(p2, sizeof(p2), "%s/damaged.db", dir);
    struct store_backend *be;
    struct store *st;
    CHECK_INT(store_sqlite_open(p2, false, &be), 0);
    CHECK_INT(store_open(be, 10, &st), 0);
    CHECK_INT(store_create(st, "/d/a", "{\"a\":1}", 7, 1), 0);
    store_close(st);
    sqlite3 *db;
    CHECK_INT(sqlite3_open(p2, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "UPDATE events SET value = '{\"a\":2}'", NULL,
                           NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(store_sqlite_open(p2, false, &be), 0);
    CHECK_INT(store_open(be, 10, &st), -KE_CORRUPT);
}

/* Lists as of a past revision: later creates are hidden, later updates
 * and deletes show the old value. */
static void test_list_at(void)
{
    char p2[300];
    snprintf(p2, sizeof(p2), "%s/snap.db", dir);
    struct store_backend *be;
    struct store *st;
    CHECK_INT(store_sqlite_open(p2, false, &be), 0);
    CHECK_INT(store_open(be, 100, &st), 0);
    CHECK_INT(put(st, "/s/a", "{\"v\":1}"), 0);
    CHECK_INT(put(st, "/s/b", "{\"v\":1}"), 0);
    CHECK_INT(put(st, "/s/d", "{\"v\":1}"), 0);
    int64_t at = store_revision(st);
    CHECK_INT(put(st, "/s/c", "{\"v\":2}"), 0);
    CHECK_INT(store_update(st, "/s/a", "{\"v\":2}", 7,
                           store_next_revision(st), 0), 0);
    CHECK_INT(store_delete(st, "/s/b", "{}", 2, store_next_revision(st), 0), 0);
    CHECK_INT(store_update(st, "/s/a", "{\"v\":3}", 7,
                           store_next_revision(st), 0), 0);
    struct collect c = {0};
    bool more;
    CHECK_INT(store_list_at(st, "/s/", NULL, 0, at, collect_fn, &c, &more), 0);
    CHECK_INT(c.n, 3);
    CHECK_STR(c.keys[0], "/s/a");
    CHECK_STR(c.keys[1], "/s/b");
    CHECK_STR(c.keys[2], "/s/d");
    struct collect c2 = {0};
    CHECK_INT(store_list_at(st, "/s/", "/s/a", 1, at, collect_fn, &c2, &more), 0);
    CHECK_INT(c2.n, 1);
    CHECK_STR(c2.keys[0], "/s/b");
    CHECK(more);
    struct collect c3 = {0};
    CHECK_INT(store_list_at(st, "/s/", NULL, 0, store_revision(st), collect_fn,
                            &c3, &more), 0);
    CHECK_INT(c3.n, 3); /* a, c, d */
    CHECK_STR(c3.keys[1], "/s/c");
    CHECK_INT(store_list_at(st, "/s/", NULL, 0, -1, collect_fn, &c3, &more),
              -KE_EXPIRED);
    store_close(st);
}

/* Metadata integers: absent, set, staged with a write (same transaction),
 * dropped with a failed write, durable across reopen, reserved names. */
static void test_meta(void)
{
    unlink(path);
    struct store *st = open_store(16);
    CHECK(st != NULL);
    if (!st)
        return;
    int64_t v = -1;
    CHECK_INT(store_meta_get_int(st, "cloud_rev", &v), -KE_NOTFOUND);
    CHECK_INT(store_meta_set_int(st, "cloud_rev", 7), 0);
    CHECK_INT(store_meta_get_int(st, "cloud_rev", &v), 0);
    CHECK_INT(v, 7);
    CHECK_INT(store_meta_set_int(st, "compact_rev", 1), -EINVAL);
    CHECK_INT(store_meta_stage_int(st, "max_rev", 1), -EINVAL);
    CHECK_INT(store_meta_get_int(st, "", &v), -EINVAL);
    /* staged with a write */
    CHECK_INT(store_meta_stage_int(st, "cloud_rev", 12), 0);
    CHECK_INT(put(st, "/a", "1"), 0);
    CHECK_INT(store_meta_get_int(st, "cloud_rev", &v), 0);
    CHECK_INT(v, 12);
    /* a failed write (create of a live key) does not write the meta and
     * forgets it */
    CHECK_INT(store_meta_stage_int(st, "cloud_rev", 13), 0);
    CHECK_INT(put(st, "/a", "2"), -KE_EXISTS);
    CHECK_INT(store_meta_get_int(st, "cloud_rev", &v), 0);
    CHECK_INT(v, 12);
    CHECK_INT(store_update(st, "/a", "3", 1, store_next_revision(st), 0), 0);
    CHECK_INT(store_meta_get_int(st, "cloud_rev", &v), 0);
    CHECK_INT(v, 12);
    /* a commit failing inside the backend (wrong revision) drops it too */
    CHECK_INT(store_meta_stage_int(st, "cloud_rev", 14), 0);
    CHECK(store_create(st, "/b", "x", 1, store_revision(st) + 5) != 0);
    CHECK_INT(put(st, "/b", "x"), 0);
    CHECK_INT(store_meta_get_int(st, "cloud_rev", &v), 0);
    CHECK_INT(v, 12);
    CHECK_INT(store_meta_stage_int(st, "cloud_rev", 20), 0);
    CHECK_INT(store_delete(st, "/b", "x", 1, store_next_revision(st), 0), 0);
    int64_t rev = store_revision(st);
    store_close(st);
    st = open_store(16);
    CHECK(st != NULL);
    if (!st)
        return;
    CHECK_INT(store_meta_get_int(st, "cloud_rev", &v), 0);
    CHECK_INT(v, 20);
    CHECK_INT(store_revision(st), rev);
    store_close(st);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/state.db", dir);
    test_crud();
    test_window();
    test_crash();
    test_checksum();
    test_list_at();
    test_meta();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return unit_done("store");
}
