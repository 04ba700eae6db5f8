/*
 * The store's in-memory side: an ordered map of live keys (a red-black
 * tree), the ring of recent events, and the watchers. Every write goes to
 * the backend first and touches memory only once it is durable, so a
 * failed commit (full disk, I/O error) leaves nothing half-applied.
 */
#include "store/store.h"
#include "util/errors.h"
#include "util/log.h"

#ifndef __unused
#define __unused __attribute__((unused))
#endif
#include <bsd/sys/tree.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_value *store_value_new(const void *data, size_t len)
{
    struct store_value *v = malloc(sizeof(*v) + len + 1);
    if (!v)
        return NULL;
    v->refs = 1;
    v->len = len;
    if (len)
        memcpy(v->data, data, len);
    v->data[len] = 0;
    return v;
}

struct store_value *store_value_ref(struct store_value *v)
{
    if (v)
        v->refs++;
    return v;
}

void store_value_unref(struct store_value *v)
{
    if (v && --v->refs == 0)
        free(v);
}

struct entry {
    RB_ENTRY(entry) link;
    int64_t rev;
    struct store_value *value;
    char key[];
};

static int entry_cmp(struct entry *a, struct entry *b)
{
    return strcmp(a->key, b->key);
}

RB_HEAD(entry_tree, entry);
RB_GENERATE_STATIC(entry_tree, entry, link, entry_cmp)

/* A ring slot owns copies of its key and references to its values. */
struct ring_slot {
    struct store_event ev;
};

struct store_watch {
    struct store_watch *next;
    char *prefix;
    size_t prefix_len;
    store_watch_fn fn;
    void *arg;
    bool dead;
};

struct store {
    struct store_backend *be;
    struct entry_tree tree;
    size_t count;
    int64_t rev;         /* last committed revision */
    int64_t oldest;      /* watches may start from >= oldest */
    struct ring_slot *ring;
    int ring_cap;
    int ring_len;
    int ring_head;       /* index of the oldest slot */
    struct store_watch *watches;
    int nwatches;
    int dispatching;
    bool meta_staged;     /* meta travels with the next write */
    char meta_name[64];
    int64_t meta_value;
};

static struct entry *entry_find(struct store *st, const char *key)
{
    size_t klen = strlen(key);
    /* A stack probe avoids an allocation on every lookup. */
    char probe_mem[sizeof(struct entry) + 256];
    struct entry *probe;
    struct entry *heap = NULL;
    if (klen < 256) {
        probe = (struct entry *)probe_mem;
    } else {
        heap = malloc(sizeof(struct entry) + klen + 1);
        if (!heap)
            return NULL;
        probe = heap;
    }
    memcpy(probe->key, key, klen + 1);
    struct entry *e = RB_FIND(entry_tree, &st->tree, probe);
    free(heap);
    return e;
}

static void ring_push(struct store *st, const struct store_event *ev)
{
    if (st->ring_cap == 0)
        return;
    struct ring_slot *slot;
    if (st->ring_len == st->ring_cap) {
        slot = &st->ring[st->ring_head];
        free((char *)slot->ev.key);
        store_value_unref(slot->ev.value);
        store_value_unref(slot->ev.prev);
        st->ring_head = (st->ring_head + 1) % st->ring_cap;
        st->ring_len--;
        /* The evicted event's revision is no longer replayable. */
        st->oldest = slot->ev.rev;
    }
    int idx = (st->ring_head + st->ring_len) % st->ring_cap;
    slot = &st->ring[idx];
    slot->ev.type = ev->type;
    slot->ev.rev = ev->rev;
    slot->ev.key = strdup(ev->key);
    slot->ev.value = store_value_ref(ev->value);
    slot->ev.prev = store_value_ref(ev->prev);
    st->ring_len++;
}

static void watches_sweep(struct store *st)
{
    struct store_watch **pp = &st->watches;
    while (*pp) {
        struct store_watch *w = *pp;
        if (w->dead) {
            *pp = w->next;
            free(w->prefix);
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void dispatch(struct store *st, const struct store_event *ev)
{
    st->dispatching++;
    for (struct store_watch *w = st->watches; w; w = w->next) {
        if (w->dead)
            continue;
        if (strncmp(ev->key, w->prefix, w->prefix_len) == 0)
            w->fn(w->arg, ev);
    }
    if (--st->dispatching == 0)
        watches_sweep(st);
}

static int load_key(void *arg, const char *key, int64_t rev, const void *val,
                    size_t len)
{
    struct store *st = arg;
    size_t klen = strlen(key);
    struct entry *e = malloc(sizeof(*e) + klen + 1);
    if (!e)
        return -ENOMEM;
    memcpy(e->key, key, klen + 1);
    e->rev = rev;
    e->value = store_value_new(val, len);
    if (!e->value) {
        free(e);
        return -ENOMEM;
    }
    if (RB_INSERT(entry_tree, &st->tree, e)) {
        store_value_unref(e->value);
        free(e);
        return -KE_CORRUPT;
    }
    st->count++;
    return 0;
}

static int load_event(void *arg, const struct store_event *ev)
{
    struct store *st = arg;
    /* The newest event of a live key holds the same bytes as the key:
     * share them rather than keep two copies. */
    struct entry *e = ev->type == STORE_DELETE ? NULL : entry_find(st, ev->key);
    if (e && e->rev == ev->rev) {
        struct store_event shared = *ev;
        shared.value = e->value;
        ring_push(st, &shared);
        return 0;
    }
    ring_push(st, ev);
    return 0;
}

int store_open(struct store_backend *be, int window, struct store **out)
{
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    RB_INIT(&st->tree);
    st->be = be;
    st->ring_cap = window > 0 ? window : 0;
    if (st->ring_cap) {
        st->ring = calloc((size_t)st->ring_cap, sizeof(*st->ring));
        if (!st->ring) {
            free(st);
            return -ENOMEM;
        }
    }
    int64_t compact_rev = 0;
    int rc = be->load(be, load_key, st, &st->rev, &compact_rev);
    if (rc)
        goto fail;
    /* Refill the ring with the newest history the backend still has. */
    int64_t from = st->rev - st->ring_cap;
    if (from < compact_rev)
        from = compact_rev;
    if (from < 0)
        from = 0;
    st->oldest = from;
    rc = be->load_events(be, from, load_event, st);
    if (rc)
        goto fail;
    *out = st;
    return 0;
fail:
    st->be = NULL;
    store_close(st);
    be->close(be);
    return rc;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    struct entry *e, *next;
    for (e = RB_MIN(entry_tree, &st->tree); e; e = next) {
        next = RB_NEXT(entry_tree, &st->tree, e);
        RB_REMOVE(entry_tree, &st->tree, e);
        store_value_unref(e->value);
        free(e);
    }
    for (int i = 0; i < st->ring_len; i++) {
        struct ring_slot *s = &st->ring[(st->ring_head + i) % st->ring_cap];
        free((char *)s->ev.key);
        store_value_unref(s->ev.value);
        store_value_unref(s->ev.prev);
    }
    free(st->ring);
    while (st->watches) {
        struct store_watch *w = st->watches;
        st->watches = w->next;
        free(w->prefix);
        free(w);
    }
    if (st->be)
        st->be->close(st->be);
    free(st);
}

int64_t store_revision(const struct store *st) { return st->rev; }
int64_t store_next_revision(const struct store *st) { return st->rev + 1; }
int64_t store_oldest_revision(const struct store *st) { return st->oldest; }
size_t store_count(const struct store *st) { return st->count; }
int store_watch_count(const struct store *st) { return st->nwatches; }

int64_t store_db_bytes(struct store *st)
{
    return st->be->size_bytes ? st->be->size_bytes(st->be) : 0;
}

int store_get(struct store *st, const char *key, struct store_value **value,
              int64_t *rev)
{
    struct entry *e = entry_find(st, key);
    if (!e)
        return -KE_NOTFOUND;
    if (value)
        *value = store_value_ref(e->value);
    if (rev)
        *rev = e->rev;
    return 0;
}

/* The first live entry under prefix after start_after (NULL or "" for
 * the first under prefix); *out is NULL when there is none. */
static int entry_seek(struct store *st, const char *prefix,
                      const char *start_after, struct entry **out)
{
    const char *from = prefix;
    if (start_after && start_after[0] && strcmp(start_after, prefix) > 0)
        from = start_after;
    size_t flen = strlen(from);
    struct entry *probe = malloc(sizeof(*probe) + flen + 1);
    if (!probe)
        return -ENOMEM;
    memcpy(probe->key, from, flen + 1);
    struct entry *e = RB_NFIND(entry_tree, &st->tree, probe);
    free(probe);
    /* start_after itself is excluded. */
    if (e && from == start_after && strcmp(e->key, start_after) == 0)
        e = RB_NEXT(entry_tree, &st->tree, e);
    if (e && strncmp(e->key, prefix, strlen(prefix)) != 0)
        e = NULL;
    *out = e;
    return 0;
}

int store_list(struct store *st, const char *prefix, const char *start_after,
               long limit,
               int (*fn)(void *arg, const char *key, struct store_value *v,
                         int64_t rev),
               void *arg, bool *more)
{
    size_t plen = strlen(prefix);
    struct entry *e;
    int rc = entry_seek(st, prefix, start_after, &e);
    if (rc)
        return rc;
    long n = 0;
    if (more)
        *more = false;
    for (; e; e = RB_NEXT(entry_tree, &st->tree, e)) {
        if (strncmp(e->key, prefix, plen) != 0)
            break;
        if (limit > 0 && n >= limit) {
            if (more)
                *more = true;
            break;
        }
        int r = fn(arg, e->key, e->value, e->rev);
        if (r < 0)
            return r;
        if (r == 0)
            n++;
    }
    return 0;
}

/* A key changed after the snapshot revision, with its value then. */
struct past_key {
    const char *key;
    struct store_value *value; /* NULL: absent at the snapshot */
    int64_t rev;               /* of the change that tells the value */
    bool incomplete;           /* an update whose prior value is unknown */
};

/* By key, then oldest change first. */
static int past_cmp(const void *a, const void *b)
{
    const struct past_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->rev < y->rev ? -1 : x->rev > y->rev;
}

int store_list_at(struct store *st, const char *prefix, const char *start_after,
                  long limit, int64_t at,
                  int (*fn)(void *arg, const char *key, struct store_value *v,
                            int64_t rev),
                  void *arg, bool *more)
{
    if (at >= st->rev)
        return store_list(st, prefix, start_after, limit, fn, arg, more);
    if (at < st->oldest)
        return -KE_EXPIRED;
    size_t plen = strlen(prefix);
    const char *after = start_after && start_after[0] ? start_after : NULL;
    /* The first change after `at` of each key tells its value at `at`. */
    struct past_key *past = NULL;
    int npast = 0, cap = 0, rc = 0;
    for (int i = 0; i < st->ring_len; i++) {
        struct store_event *ev =
            &st->ring[(st->ring_head + i) % st->ring_cap].ev;
        if (ev->rev <= at || strncmp(ev->key, prefix, plen) != 0 ||
            (after && strcmp(ev->key, after) <= 0))
            continue;
        if (npast == cap) {
            cap = cap ? cap * 2 : 64;
            struct past_key *p = realloc(past, (size_t)cap * sizeof(*p));
            if (!p) {
                rc = -ENOMEM;
                goto out;
            }
            past = p;
        }
        past[npast].key = ev->key;
        past[npast].value = ev->type == STORE_CREATE ? NULL : ev->prev;
        past[npast].rev = ev->rev;
        past[npast].incomplete = ev->type != STORE_CREATE && !ev->prev;
        npast++;
    }
    qsort(past, (size_t)npast, sizeof(*past), past_cmp);
    /* Keep each key's first change after `at`. */
    int kept = 0;
    for (int k = 0; k < npast; k++) {
        if (kept && strcmp(past[kept - 1].key, past[k].key) == 0)
            continue;
        if (past[k].incomplete) {
            rc = -KE_EXPIRED; /* history no longer complete */
            goto out;
        }
        past[kept++] = past[k];
    }
    npast = kept;

    struct entry *e;
    rc = entry_seek(st, prefix, after, &e);
    if (rc)
        goto out;
    long n = 0;
    int i = 0;
    if (more)
        *more = false;
    while (e || i < npast) {
        const char *key;
        struct store_value *v;
        int64_t rev = 0;
        int c = !e ? 1 : i >= npast ? -1 : strcmp(e->key, past[i].key);
        if (c < 0) {
            key = e->key;
            v = e->value;
            rev = e->rev;
        } else {
            key = past[i].key;
            v = past[i].value;
        }
        if (v) {
            if (limit > 0 && n >= limit) {
                if (more)
                    *more = true;
                break;
            }
            int r = fn(arg, key, v, rev);
            if (r < 0) {
                rc = r;
                goto out;
            }
            if (r == 0)
                n++;
        }
        if (c <= 0) {
            e = RB_NEXT(entry_tree, &st->tree, e);
            if (e && strncmp(e->key, prefix, plen) != 0)
                e = NULL;
        }
        if (c >= 0)
            i++;
    }
out:
    free(past);
    return rc;
}

/* Commits one event to the backend, then applies it to memory, the ring
 * and the watchers. */
static int apply(struct store *st, struct store_event *ev, struct entry *e)
{
    if (ev->rev != st->rev + 1) {
        st->meta_staged = false;
        return -EINVAL;
    }
    struct store_meta meta = {st->meta_name, st->meta_value};
    int rc = st->be->commit(st->be, ev, 1, st->meta_staged ? &meta : NULL);
    st->meta_staged = false;
    if (rc)
        return rc;
    st->rev = ev->rev;
    switch (ev->type) {
    case STORE_CREATE:
        RB_INSERT(entry_tree, &st->tree, e);
        st->count++;
        break;
    case STORE_UPDATE:
        store_value_unref(e->value);
        e->value = store_value_ref(ev->value);
        e->rev = ev->rev;
        break;
    case STORE_DELETE:
        RB_REMOVE(entry_tree, &st->tree, e);
        st->count--;
        break;
    }
    ring_push(st, ev);
    if (st->ring_cap == 0)
        st->oldest = st->rev;
    dispatch(st, ev);
    return 0;
}

static int write_create(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev)
{
    if (entry_find(st, key))
        return -KE_EXISTS;
    size_t klen = strlen(key);
    struct entry *e = malloc(sizeof(*e) + klen + 1);
    if (!e)
        return -ENOMEM;
    memcpy(e->key, key, klen + 1);
    e->rev = rev;
    e->value = store_value_new(val, len);
    if (!e->value) {
        free(e);
        return -ENOMEM;
    }
    struct store_event ev = {STORE_CREATE, rev, e->key, e->value, NULL};
    int rc = apply(st, &ev, e);
    if (rc) {
        store_value_unref(e->value);
        free(e);
    }
    return rc;
}

static int write_update(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev, int64_t expect_rev)
{
    struct entry *e = entry_find(st, key);
    if (!e)
        return -KE_NOTFOUND;
    if (expect_rev > 0 && e->rev != expect_rev)
        return -KE_CONFLICT;
    struct store_value *v = store_value_new(val, len);
    if (!v)
        return -ENOMEM;
    struct store_value *prev = store_value_ref(e->value);
    struct store_event ev = {STORE_UPDATE, rev, e->key, v, prev};
    int rc = apply(st, &ev, e);
    store_value_unref(v);
    store_value_unref(prev);
    return rc;
}

static int write_delete(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev, int64_t expect_rev)
{
    struct entry *e = entry_find(st, key);
    if (!e)
        return -KE_NOTFOUND;
    if (expect_rev > 0 && e->rev != expect_rev)
        return -KE_CONFLICT;
    struct store_value *v = store_value_new(val, len);
    if (!v)
        return -ENOMEM;
    struct store_event ev = {STORE_DELETE, rev, e->key, v, e->value};
    int rc = apply(st, &ev, e);
    store_value_unref(v);
    if (rc == 0) {
        store_value_unref(e->value);
        free(e);
    }
    return rc;
}

/* The public writes: a write that fails for any reason also drops the
 * metadata staged for it (store_meta_stage_int). */
int store_create(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev)
{
    int rc = write_create(st, key, val, len, rev);
    if (rc)
        st->meta_staged = false;
    return rc;
}

int store_update(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev, int64_t expect_rev)
{
    int rc = write_update(st, key, val, len, rev, expect_rev);
    if (rc)
        st->meta_staged = false;
    return rc;
}

int store_delete(struct store *st, const char *key, const void *val,
                 size_t len, int64_t rev, int64_t expect_rev)
{
    int rc = write_delete(st, key, val, len, rev, expect_rev);
    if (rc)
        st->meta_staged = false;
    return rc;
}

int store_watch(struct store *st, const char *prefix, int64_t after,
                store_watch_fn fn, void *arg, struct store_watch **out)
{
    if (after < st->oldest)
        return -KE_EXPIRED;
    struct store_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->prefix = strdup(prefix);
    if (!w->prefix) {
        free(w);
        return -ENOMEM;
    }
    w->prefix_len = strlen(prefix);
    w->fn = fn;
    w->arg = arg;
    w->next = st->watches;
    st->watches = w;
    st->nwatches++;
    *out = w;
    /* Replay what the ring holds past `after`; the callback may unwatch. */
    st->dispatching++;
    for (int i = 0; i < st->ring_len && !w->dead; i++) {
        struct ring_slot *s = &st->ring[(st->ring_head + i) % st->ring_cap];
        if (s->ev.rev <= after)
            continue;
        if (strncmp(s->ev.key, prefix, w->prefix_len) == 0)
            fn(arg, &s->ev);
    }
    if (--st->dispatching == 0)
        watches_sweep(st);
    return 0;
}

void store_unwatch(struct store *st, struct store_watch *w)
{
    if (!w || w->dead)
        return;
    w->dead = true;
    st->nwatches--;
    if (st->dispatching == 0)
        watches_sweep(st);
}

int store_compact(struct store *st)
{
    if (!st->be->compact)
        return 0;
    return st->be->compact(st->be, st->oldest);
}

static bool meta_name_ok(const char *name)
{
    return name && *name && strlen(name) < 64 &&
           strcmp(name, "compact_rev") != 0 && strcmp(name, "max_rev") != 0 &&
           strcmp(name, "schema") != 0;
}

int store_meta_get_int(struct store *st, const char *name, int64_t *value)
{
    if (!meta_name_ok(name))
        return -EINVAL;
    return st->be->meta_get(st->be, name, value);
}

int store_meta_set_int(struct store *st, const char *name, int64_t value)
{
    if (!meta_name_ok(name))
        return -EINVAL;
    struct store_meta meta = {name, value};
    return st->be->commit(st->be, NULL, 0, &meta);
}

int store_meta_stage_int(struct store *st, const char *name, int64_t value)
{
    if (!meta_name_ok(name))
        return -EINVAL;
    snprintf(st->meta_name, sizeof(st->meta_name), "%s", name);
    st->meta_value = value;
    st->meta_staged = true;
    return 0;
}
