/*
 * The controller manager: Kubernetes' controllers and the scheduler,
 * running inside `kedge cloud` on its loop.
 *
 * Reads come straight from the store (no copies of the objects are
 * kept); changes arrive through one store watch that the manager fans out
 * to the controllers subscribed to each resource type, parsing each
 * event's JSON at most once. Writes go through the API code in-process
 * (apiserver_call), so controllers get exactly the validation, defaults
 * and metadata rules clients get, and their writes reach watchers (and
 * edges) like any other.
 *
 * A controller is a work queue of keys: event handlers only look at the
 * event and enqueue keys (they must not write: they run inside a store
 * commit); `sync` later reconciles one key at a time, reading the current
 * state and writing what differs. A sync that fails requeues itself with
 * ctrl_enqueue_after.
 */
#ifndef KEDGE_CONTROLLERS_CTRL_H
#define KEDGE_CONTROLLERS_CTRL_H

#include "api/apiserver.h"
#include "resources/resource.h"
#include "store/store.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct ctrl_mgr_config {
    /* A node whose Lease and Ready heartbeat are both older than this
     * becomes Ready=Unknown and gets the unreachable taint. */
    uint64_t node_grace_ms;          /* default 40 s */
    /* Pods of an unreachable node are deleted after this long; 0 means
     * never (the edge default), unless the node's annotation
     * kedge.io/eviction-timeout says otherwise. */
    uint64_t pod_eviction_ms;
    /* Events are deleted this long after their last occurrence. */
    uint64_t event_ttl_ms;           /* default 1 h */
    /* When the node last showed life through its edge session (uv_now
     * ms: now while connected), 0 if never; NULL when no hub runs. The
     * node lifecycle controller counts it like a Lease renewal, so a
     * connected edge needs no lease traffic to stay Ready. */
    uint64_t (*node_seen)(void *arg, const char *node);
    void *node_seen_arg;
};

struct ctrl_mgr;
struct ctrl;

/* One controller: what it is called and its callbacks. */
struct ctrl_def {
    const char *name;          /* "replicaset"; logs and event source */
    const char *user;          /* identity of its writes */
    size_t state_size;         /* private state, zeroed; ctrl_state() */
    /* Subscribes (ctrl_watch) and sets up state. May be NULL. */
    int (*init)(struct ctrl *c);
    /* Reconciles one queued key. */
    void (*sync)(struct ctrl *c, const char *key);
    /* Frees what init set up. May be NULL. */
    void (*fini)(struct ctrl *c);
};

/* Starts every controller. After their init, each subscribed handler
 * sees a STORE_CREATE for every existing object of its types (the
 * initial list), then live events. */
int ctrl_mgr_start(uv_loop_t *loop, struct store *st, struct apiserver *api,
                   const struct ctrl_mgr_config *cfg, struct ctrl_mgr **out);
void ctrl_mgr_stop(struct ctrl_mgr *m);

void *ctrl_state(struct ctrl *c);
const struct ctrl_mgr_config *ctrl_config(struct ctrl *c);
uv_loop_t *ctrl_loop(struct ctrl *c);
const char *ctrl_name(struct ctrl *c);

/* ---- events ----------------------------------------------------------- */

struct ctrl_event;

enum store_event_type ctrl_event_type(const struct ctrl_event *ev);
const char *ctrl_event_key(const struct ctrl_event *ev);
int64_t ctrl_event_rev(const struct ctrl_event *ev);
const struct resource_type *ctrl_event_rt(const struct ctrl_event *ev);
/* The object after the change (for deletes: as it was deleted). Parsed
 * once per event, shared by every handler: borrowed, do not modify. NULL
 * only if the stored JSON is unreadable. */
struct json_object *ctrl_event_obj(struct ctrl_event *ev);
/* True for the STORE_CREATE events of the initial list (objects that
 * existed when the manager started), false for live changes. */
bool ctrl_event_initial(const struct ctrl_event *ev);
/* The object before the change; NULL for creates (and for the initial
 * list, and when the store no longer knows it). Borrowed. */
struct json_object *ctrl_event_old(struct ctrl_event *ev);

typedef void (*ctrl_handler)(struct ctrl *c, struct ctrl_event *ev);
/* Calls fn for every change of objects of type rt (all namespaces). Call
 * from init. */
int ctrl_watch(struct ctrl *c, const struct resource_type *rt,
               ctrl_handler fn);

/* ---- the work queue --------------------------------------------------- */

/* Queues key for sync (once, however often it is queued before). */
void ctrl_enqueue(struct ctrl *c, const char *key);
/* Queues key for sync in delay_ms (an earlier enqueue wins). */
void ctrl_enqueue_after(struct ctrl *c, const char *key, uint64_t delay_ms);
/* Queues key for sync in delay_ms, moving a delayed entry that is due
 * earlier (a key already waiting in the queue for now stays). */
void ctrl_enqueue_reset(struct ctrl *c, const char *key, uint64_t delay_ms);

/* ---- reading ---------------------------------------------------------- */

/* The stored object of type rt (ns "" when cluster-scoped), or NULL when
 * absent. *rev (may be NULL) gets its revision. Caller puts. */
struct json_object *ctrl_get(struct ctrl *c, const struct resource_type *rt,
                             const char *ns, const char *name, int64_t *rev);
/* The same by store key ("/registry/apps/replicasets/default/web-1"). */
struct json_object *ctrl_get_key(struct ctrl *c,
                                 const struct resource_type *rt,
                                 const char *key, int64_t *rev);
/* Calls fn for every stored object of type rt in namespace ns ("" = all
 * namespaces), in key order, until fn returns nonzero (which is
 * returned). obj is borrowed for the call. */
int ctrl_list(struct ctrl *c, const struct resource_type *rt, const char *ns,
              int (*fn)(void *arg, const char *key, struct json_object *obj),
              void *arg);
/* Calls fn for every stored object whose metadata.ownerReferences names
 * owner_uid (any kind), until fn returns nonzero. Served from an index
 * the manager keeps, so it costs only the dependents. */
int ctrl_dependents(struct ctrl *c, const char *owner_uid,
                    int (*fn)(void *arg, const struct resource_type *rt,
                              const char *key, struct json_object *obj),
                    void *arg);
/* Whether a live object has this uid; *rt and key (may be NULL) say
 * which. */
bool ctrl_uid_lookup(struct ctrl *c, const char *uid,
                     const struct resource_type **rt, char *key,
                     size_t keylen);
/* Store key of an object. */
int ctrl_key(const struct resource_type *rt, const char *ns, const char *name,
             char *out, size_t len);
/* The type stored under a store key, or NULL. */
const struct resource_type *ctrl_rt_of_key(const char *key);

/* ---- writing (through the API, as this controller) -------------------- */

/*
 * One API request: method, path (with query), optional JSON body (with
 * content type ctype, NULL = application/json). Returns the HTTP status;
 * *out (may be NULL) receives the parsed answer (the object, or a Status
 * on failure; caller puts). Failures other than 404/409 are logged.
 */
int ctrl_call(struct ctrl *c, const char *method, const char *path,
              const char *ctype, struct json_object *body,
              struct json_object **out);
/* The API path of a collection (name NULL) or object, with subresource
 * sub (may be NULL). */
int ctrl_path(const struct resource_type *rt, const char *ns, const char *name,
              const char *sub, char *out, size_t len);

/* POST obj into namespace ns. */
int ctrl_create(struct ctrl *c, const struct resource_type *rt, const char *ns,
                struct json_object *obj, struct json_object **out);
/* PUT obj (name and namespace from its metadata; its resourceVersion is
 * the precondition). sub NULL or "status". */
int ctrl_update(struct ctrl *c, const struct resource_type *rt,
                struct json_object *obj, const char *sub,
                struct json_object **out);
/* PATCH with a merge patch ("application/merge-patch+json"), JSON patch
 * or strategic merge patch (ctype). */
int ctrl_patch(struct ctrl *c, const struct resource_type *rt, const char *ns,
               const char *name, const char *sub, const char *ctype,
               const char *patch, struct json_object **out);
/* DELETE, with propagationPolicy (NULL for the default) and a uid
 * precondition (NULL for none). */
int ctrl_delete(struct ctrl *c, const struct resource_type *rt, const char *ns,
                const char *name, const char *propagation, const char *uid);
/* The message of a Status answer, or "" */
const char *ctrl_status_message(struct json_object *status);

/*
 * Records a core/v1 Event about obj (of type rt) from this controller,
 * like Kubernetes' event recorder: the same object, type, reason and
 * message again within 10 minutes bumps count and lastTimestamp of the
 * existing event instead of creating another. type is "Normal" or
 * "Warning".
 */
void ctrl_eventf(struct ctrl *c, const struct resource_type *rt,
                 struct json_object *obj, const char *type, const char *reason,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- the controllers (manager.c lists them) --------------------------- */

extern const struct ctrl_def ctrl_eventttl_def;
extern const struct ctrl_def ctrl_replicaset_def;
extern const struct ctrl_def ctrl_deployment_def;
extern const struct ctrl_def ctrl_gc_def;
extern const struct ctrl_def ctrl_serviceaccount_def;
extern const struct ctrl_def ctrl_endpoints_def;
extern const struct ctrl_def ctrl_scheduler_def;
extern const struct ctrl_def ctrl_job_def;
extern const struct ctrl_def ctrl_daemonset_def;
extern const struct ctrl_def ctrl_nodelifecycle_def;

/* ---- small helpers shared by controllers ------------------------------ */

/* The stored type of a resource by API group and plural name ("apps",
 * "replicasets"), or NULL. */
const struct resource_type *ctrl_rt(const char *group, const char *resource);
/* The ownerReference of obj with controller: true, or NULL. Borrowed. */
struct json_object *ctrl_controller_ref(struct json_object *obj);
/* A new ownerReference (controller: true, blockOwnerDeletion: true) to
 * owner of type rt. */
struct json_object *ctrl_new_controller_ref(const struct resource_type *rt,
                                            struct json_object *owner);

#endif
