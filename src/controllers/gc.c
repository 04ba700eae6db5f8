/*
 * The garbage collector: objects whose owners (metadata.ownerReferences)
 * are all gone are deleted; references to owners that are gone are
 * dropped while another owner lives. Owners deleted with propagation
 * Foreground ("foregroundDeletion" finalizer) have their dependents
 * deleted first; with Orphan ("orphan") their dependents are released.
 * An owner reference is dangling when no live object of its kind, name
 * and uid exists, as in Kubernetes.
 */
#include "api/patch.h"
#include "controllers/ctrl.h"
#include "resources/jsonutil.h"
#include "util/log.h"

#include <stdio.h>
#include <string.h>

#define GC_KEY_MAX 600
/* The finalizers the API sets for Foreground and Orphan deletion. */
#define GC_FINALIZER_FOREGROUND "foregroundDeletion"
#define GC_FINALIZER_ORPHAN "orphan"
/* Retry delay after a failed write other than a conflict. */
#define GC_RETRY_MS 5000
/* Prefix of queue keys naming an owner uid that is gone: its dependents
 * are queued from sync (handlers do not read the store). */
#define GC_GONE_PREFIX "gone:"

static struct json_object *owner_refs(struct json_object *obj)
{
    return ju_arr(ju_obj(obj, "metadata"), "ownerReferences");
}

static bool has_finalizer(struct json_object *obj, const char *f)
{
    struct json_object *arr = ju_arr(ju_obj(obj, "metadata"), "finalizers");
    for (size_t i = 0; i < ju_len(arr); i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        if (json_object_is_type(e, json_type_string) &&
            strcmp(json_object_get_string(e), f) == 0)
            return true;
    }
    return false;
}

static bool is_deleting(struct json_object *obj)
{
    return ju_str(ju_obj(obj, "metadata"), "deletionTimestamp") != NULL;
}

/* ---- event handlers: only queue keys ---------------------------------- */

/* Queues the owners of obj that still exist, so an owner waiting for its
 * dependents (Foreground) looks again. */
static void enqueue_owners(struct ctrl *c, struct json_object *obj)
{
    struct json_object *refs = owner_refs(obj);
    for (size_t i = 0; i < ju_len(refs); i++) {
        const char *uid = ju_str(ju_idx_obj(refs, i), "uid");
        char key[GC_KEY_MAX];
        if (uid && ctrl_uid_lookup(c, uid, NULL, key, sizeof(key)))
            ctrl_enqueue(c, key);
    }
}

static void on_change(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *obj = ctrl_event_obj(ev);
    struct json_object *old = ctrl_event_old(ev);
    const char *key = ctrl_event_key(ev);
    if (!obj)
        return;
    if (ctrl_event_type(ev) == STORE_DELETE) {
        const char *uid = ju_str(ju_obj(obj, "metadata"), "uid");
        char gone[128];
        if (uid && uid[0] &&
            (size_t)snprintf(gone, sizeof(gone), GC_GONE_PREFIX "%s", uid) <
                sizeof(gone))
            ctrl_enqueue(c, gone);
        enqueue_owners(c, obj);
        return;
    }
    if (is_deleting(obj) && (has_finalizer(obj, GC_FINALIZER_ORPHAN) ||
                             has_finalizer(obj, GC_FINALIZER_FOREGROUND)))
        ctrl_enqueue(c, key);
    struct json_object *refs = owner_refs(obj);
    struct json_object *old_refs = old ? owner_refs(old) : NULL;
    bool refs_changed = !old || !json_equal(refs, old_refs);
    if (refs && refs_changed)
        ctrl_enqueue(c, key);
    if (old_refs && refs_changed)
        enqueue_owners(c, old);
}

static int init(struct ctrl *c)
{
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (rt->storage)
            continue; /* its events come with the type it is stored as */
        int rc = ctrl_watch(c, rt, on_change);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- owners ----------------------------------------------------------- */

enum owner_state {
    OWNER_GONE,     /* dangling reference */
    OWNER_SOLID,    /* lives */
    OWNER_WAITING,  /* being deleted in Foreground: waits for dependents */
};

/*
 * What became of the owner ref names for a dependent in namespace ns
 * ("" when cluster-scoped): a live object of the reference's kind and
 * name with its uid (namespaced owners in the dependent's namespace).
 */
static enum owner_state owner_state(struct ctrl *c, const char *ns,
                                    struct json_object *ref)
{
    const char *uid = ju_str(ref, "uid");
    const char *name = ju_str(ref, "name");
    const char *kind = ju_str(ref, "kind");
    const struct resource_type *rt;
    char key[GC_KEY_MAX], want[GC_KEY_MAX];
    if (!uid || !name || !kind ||
        !ctrl_uid_lookup(c, uid, &rt, key, sizeof(key)) ||
        strcmp(rt->kind, kind) != 0 ||
        ctrl_key(rt, rt->namespaced ? ns : "", name, want, sizeof(want)) ||
        strcmp(key, want) != 0)
        return OWNER_GONE;
    struct json_object *owner = ctrl_get_key(c, rt, key, NULL);
    const char *have = ju_str(ju_obj(owner, "metadata"), "uid");
    enum owner_state st = OWNER_GONE;
    if (have && strcmp(have, uid) == 0)
        st = is_deleting(owner) && has_finalizer(owner, GC_FINALIZER_FOREGROUND)
                 ? OWNER_WAITING
                 : OWNER_SOLID;
    json_object_put(owner);
    return st;
}

/*
 * Writes obj's ownerReferences as `keep` (a new array, taken; empty drops
 * the field) with a merge patch conditional on obj's resourceVersion.
 * Returns the HTTP status.
 */
static int patch_owner_refs(struct ctrl *c, const struct resource_type *rt,
                            struct json_object *obj, struct json_object *keep)
{
    struct json_object *md = ju_obj(obj, "metadata");
    struct json_object *p = json_object_new_object();
    struct json_object *pmd = json_object_new_object();
    json_object_object_add(p, "metadata", pmd);
    json_object_object_add(pmd, "ownerReferences",
                           json_object_array_length(keep) ? keep : NULL);
    if (!json_object_array_length(keep))
        json_object_put(keep);
    const char *rv = ju_str(md, "resourceVersion");
    if (rv)
        ju_set_str(pmd, "resourceVersion", rv);
    int code = ctrl_patch(c, rt, ju_str(md, "namespace"), ju_str(md, "name"),
                          NULL, "application/merge-patch+json",
                          json_object_to_json_string_ext(
                              p, JSON_C_TO_STRING_PLAIN), NULL);
    json_object_put(p);
    return code;
}

/* Deletes obj with propagation policy (uid precondition, so a namesake
 * created since is spared); on failure logs, records a Warning and
 * retries later. */
static void collect(struct ctrl *c, const struct resource_type *rt,
                    const char *key, struct json_object *obj,
                    const char *policy)
{
    struct json_object *md = ju_obj(obj, "metadata");
    struct json_object *ans = NULL;
    char path[GC_KEY_MAX];
    if (ctrl_path(rt, ju_str(md, "namespace"), ju_str(md, "name"), NULL, path,
                  sizeof(path)))
        return;
    struct json_object *opts = json_object_new_object();
    ju_set_str(opts, "kind", "DeleteOptions");
    ju_set_str(opts, "apiVersion", "v1");
    ju_set_str(opts, "propagationPolicy", policy);
    const char *uid = ju_str(md, "uid");
    if (uid)
        ju_set_str(ju_obj_ensure(opts, "preconditions"), "uid", uid);
    int code = ctrl_call(c, "DELETE", path, NULL, opts, &ans);
    json_object_put(opts);
    if (code < 300 || code == 404 || code == 409) {
        if (code < 300)
            log_debug("gc", "deleted %s (%s)", key, policy);
    } else {
        ctrl_eventf(c, rt, obj, "Warning", "FailedDelete",
                    "the garbage collector cannot delete %s %s: %s", rt->kind,
                    ju_str(md, "name"), ctrl_status_message(ans));
        ctrl_enqueue_after(c, key, GC_RETRY_MS);
    }
    json_object_put(ans);
}

/* What the dependents of an object waiting in Foreground look like. */
struct dep_count {
    int deps;       /* dependents */
    int deleting;   /* of which being deleted in Foreground themselves */
};

static int count_one(void *arg, const struct resource_type *rt,
                     const char *key, struct json_object *obj)
{
    struct dep_count *n = arg;
    (void)rt;
    (void)key;
    n->deps++;
    if (is_deleting(obj) && has_finalizer(obj, GC_FINALIZER_FOREGROUND))
        n->deleting++;
    return 0;
}

/*
 * Clears blockOwnerDeletion on every owner reference of obj, so that a
 * cycle of Foreground deletions (an owner of obj is also among its
 * dependents) cannot wait on itself, as Kubernetes does. Returns the
 * HTTP status of the write (200 when there was nothing to clear).
 */
static int unblock_owner_refs(struct ctrl *c, const struct resource_type *rt,
                              struct json_object *obj)
{
    struct json_object *refs = owner_refs(obj);
    struct json_object *keep = json_object_new_array();
    bool changed = false;
    for (size_t i = 0; i < ju_len(refs); i++) {
        struct json_object *ref = json_clone(json_object_array_get_idx(refs, i));
        bool block = false;
        if (ju_bool(ref, "blockOwnerDeletion", &block) && block) {
            ju_set_bool(ref, "blockOwnerDeletion", false);
            changed = true;
        }
        json_object_array_add(keep, ref);
    }
    if (!changed) {
        json_object_put(keep);
        return 200;
    }
    return patch_owner_refs(c, rt, obj, keep);
}

/*
 * A dependent not being deleted: drops references to owners that are gone
 * (or waiting for their dependents) while a live owner remains; with no
 * live owner left, deletes it.
 */
static void check_owners(struct ctrl *c, const struct resource_type *rt,
                         const char *key, struct json_object *obj)
{
    struct json_object *md = ju_obj(obj, "metadata");
    const char *ns = ju_str(md, "namespace");
    struct json_object *refs = owner_refs(obj);
    struct json_object *keep = json_object_new_array();
    int solid = 0, gone = 0, waiting = 0;
    for (size_t i = 0; i < ju_len(refs); i++) {
        struct json_object *ref = json_object_array_get_idx(refs, i);
        switch (owner_state(c, ns ? ns : "", ref)) {
        case OWNER_SOLID:
            solid++;
            json_object_array_add(keep, json_clone(ref));
            break;
        case OWNER_WAITING:
            waiting++;
            break;
        case OWNER_GONE:
            gone++;
            break;
        }
    }
    if (gone == 0 && waiting == 0) {
        json_object_put(keep);
        return;
    }
    if (solid > 0) {
        int code = patch_owner_refs(c, rt, obj, keep);
        if (code == 409)
            ctrl_enqueue(c, key); /* changed meanwhile: look again */
        else if (code >= 300 && code != 404)
            ctrl_enqueue_after(c, key, GC_RETRY_MS);
        return;
    }
    json_object_put(keep);
    const char *policy = "Background";
    if (has_finalizer(obj, GC_FINALIZER_ORPHAN))
        policy = "Orphan";
    else if (has_finalizer(obj, GC_FINALIZER_FOREGROUND))
        policy = "Foreground";
    if (waiting > 0) {
        /* An owner waits in Foreground: a dependent that has dependents
         * of its own goes in Foreground too, so the wait covers them. */
        struct dep_count n = {0};
        const char *uid = ju_str(md, "uid");
        if (uid)
            ctrl_dependents(c, uid, count_one, &n);
        if (n.deleting > 0) {
            int code = unblock_owner_refs(c, rt, obj);
            if (code >= 300) {
                /* Deleting with the old object's version would lose the
                 * change; look again. */
                if (code != 404)
                    ctrl_enqueue_after(c, key, code == 409 ? 0 : GC_RETRY_MS);
                return;
            }
        }
        if (n.deps > 0)
            policy = "Foreground";
    }
    collect(c, rt, key, obj, policy);
}

/* ---- owners being deleted --------------------------------------------- */

/* The reference of dependent dep to owner uid, or NULL. Borrowed. */
static struct json_object *ref_to(struct json_object *dep, const char *uid)
{
    struct json_object *refs = owner_refs(dep);
    for (size_t i = 0; i < ju_len(refs); i++) {
        const char *u = ju_str(ju_idx_obj(refs, i), "uid");
        if (u && strcmp(u, uid) == 0)
            return ju_idx_obj(refs, i);
    }
    return NULL;
}

struct walk {
    struct ctrl *c;
    const char *uid;  /* the owner's */
    int failed;       /* writes that failed */
    int conflicts;    /* writes that lost a race: look again now */
    int blocking;     /* dependents with blockOwnerDeletion left */
};

/* Orphan: drops the reference to the owner from one dependent. */
static int release_one(void *arg, const struct resource_type *rt,
                       const char *key, struct json_object *dep)
{
    struct walk *w = arg;
    (void)key;
    if (!ref_to(dep, w->uid))
        return 0;
    struct json_object *refs = owner_refs(dep);
    struct json_object *keep = json_object_new_array();
    for (size_t i = 0; i < ju_len(refs); i++) {
        struct json_object *ref = json_object_array_get_idx(refs, i);
        const char *u = ju_str(ref, "uid");
        if (!u || strcmp(u, w->uid) != 0)
            json_object_array_add(keep, json_clone(ref));
    }
    int code = patch_owner_refs(w->c, rt, dep, keep);
    if (code == 409)
        w->conflicts++;
    else if (code >= 300 && code != 404)
        w->failed++;
    return 0;
}

/* Foreground: deletes (or detaches) one dependent that is not already
 * being deleted. */
static int delete_one(void *arg, const struct resource_type *rt,
                      const char *key, struct json_object *dep)
{
    struct walk *w = arg;
    if (ref_to(dep, w->uid) && !is_deleting(dep))
        check_owners(w->c, rt, key, dep);
    return 0;
}

static int count_blocking(void *arg, const struct resource_type *rt,
                          const char *key, struct json_object *dep)
{
    struct walk *w = arg;
    bool block = false;
    (void)rt;
    (void)key;
    if (ju_bool(ref_to(dep, w->uid), "blockOwnerDeletion", &block) && block)
        w->blocking++;
    return 0;
}

/* Removes finalizer f from obj (merge patch conditional on its
 * resourceVersion); the API deletes an object being deleted once its
 * last finalizer is gone. */
static void remove_finalizer(struct ctrl *c, const struct resource_type *rt,
                             const char *key, struct json_object *obj,
                             const char *f)
{
    struct json_object *md = ju_obj(obj, "metadata");
    struct json_object *was = ju_arr(md, "finalizers");
    struct json_object *keep = json_object_new_array();
    for (size_t i = 0; i < ju_len(was); i++) {
        struct json_object *e = json_object_array_get_idx(was, i);
        if (!json_object_is_type(e, json_type_string) ||
            strcmp(json_object_get_string(e), f) != 0)
            json_object_array_add(keep, json_object_get(e));
    }
    struct json_object *p = json_object_new_object();
    struct json_object *pmd = json_object_new_object();
    json_object_object_add(p, "metadata", pmd);
    json_object_object_add(pmd, "finalizers",
                           json_object_array_length(keep) ? keep : NULL);
    if (!json_object_array_length(keep))
        json_object_put(keep);
    const char *rv = ju_str(md, "resourceVersion");
    if (rv)
        ju_set_str(pmd, "resourceVersion", rv);
    int code = ctrl_patch(c, rt, ju_str(md, "namespace"), ju_str(md, "name"),
                          NULL, "application/merge-patch+json",
                          json_object_to_json_string_ext(
                              p, JSON_C_TO_STRING_PLAIN), NULL);
    json_object_put(p);
    if (code == 409)
        ctrl_enqueue(c, key);
    else if (code >= 300 && code != 404)
        ctrl_enqueue_after(c, key, GC_RETRY_MS);
}

static void orphan_dependents(struct ctrl *c, const struct resource_type *rt,
                              const char *key, struct json_object *owner)
{
    struct walk w = {.c = c, .uid = ju_str(ju_obj(owner, "metadata"), "uid")};
    if (!w.uid)
        return;
    ctrl_dependents(c, w.uid, release_one, &w);
    if (w.failed) {
        ctrl_eventf(c, rt, owner, "Warning", "FailedOrphan",
                    "the garbage collector cannot release %d dependents",
                    w.failed);
        ctrl_enqueue_after(c, key, GC_RETRY_MS);
        return;
    }
    if (w.conflicts) {
        ctrl_enqueue(c, key);
        return;
    }
    remove_finalizer(c, rt, key, owner, GC_FINALIZER_ORPHAN);
}

static void delete_dependents(struct ctrl *c, const struct resource_type *rt,
                              const char *key, struct json_object *owner)
{
    struct walk w = {.c = c, .uid = ju_str(ju_obj(owner, "metadata"), "uid")};
    if (!w.uid)
        return;
    ctrl_dependents(c, w.uid, delete_one, &w);
    /* Dependents that block their owner's deletion are waited for; their
     * deletion queues the owner again. */
    ctrl_dependents(c, w.uid, count_blocking, &w);
    if (w.blocking == 0)
        remove_finalizer(c, rt, key, owner, GC_FINALIZER_FOREGROUND);
}

/* ---- sync ------------------------------------------------------------- */

static int enqueue_dependent(void *arg, const struct resource_type *rt,
                             const char *key, struct json_object *obj)
{
    (void)rt;
    (void)obj;
    ctrl_enqueue(arg, key);
    return 0;
}

static void sync_gc(struct ctrl *c, const char *key)
{
    size_t gp = strlen(GC_GONE_PREFIX);
    if (strncmp(key, GC_GONE_PREFIX, gp) == 0) {
        ctrl_dependents(c, key + gp, enqueue_dependent, c);
        return;
    }
    const struct resource_type *rt = ctrl_rt_of_key(key);
    struct json_object *obj = rt ? ctrl_get_key(c, rt, key, NULL) : NULL;
    if (!obj)
        return;
    if (is_deleting(obj)) {
        if (has_finalizer(obj, GC_FINALIZER_ORPHAN))
            orphan_dependents(c, rt, key, obj);
        else if (has_finalizer(obj, GC_FINALIZER_FOREGROUND))
            delete_dependents(c, rt, key, obj);
    } else if (owner_refs(obj)) {
        check_owners(c, rt, key, obj);
    }
    json_object_put(obj);
}

const struct ctrl_def ctrl_gc_def = {
    .name = "garbage-collector",
    .user = "system:serviceaccount:kube-system:generic-garbage-collector",
    .init = init,
    .sync = sync_gc,
};
