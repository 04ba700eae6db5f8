/*
 * The ServiceAccount controller: every Active namespace has a
 * ServiceAccount named "default"; it is created when the namespace
 * appears and again whenever it is deleted, but never in a namespace
 * being terminated. Keys are namespace names.
 */
#include "controllers/ctrl.h"
#include "resources/jsonutil.h"

#include <string.h>

#define SA_DEFAULT "default"
#define SA_RETRY_MS 5000

static void on_namespace(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *ns = ctrl_event_obj(ev);
    const char *name = ju_str(ju_obj(ns, "metadata"), "name");
    if (ctrl_event_type(ev) != STORE_DELETE && name)
        ctrl_enqueue(c, name);
}

static void on_serviceaccount(struct ctrl *c, struct ctrl_event *ev)
{
    struct json_object *md = ju_obj(ctrl_event_obj(ev), "metadata");
    const char *name = ju_str(md, "name");
    const char *ns = ju_str(md, "namespace");
    if (ctrl_event_type(ev) == STORE_DELETE && name && ns &&
        strcmp(name, SA_DEFAULT) == 0)
        ctrl_enqueue(c, ns);
}

static int init(struct ctrl *c)
{
    int rc = ctrl_watch(c, ctrl_rt("", "namespaces"), on_namespace);
    if (rc == 0)
        rc = ctrl_watch(c, ctrl_rt("", "serviceaccounts"), on_serviceaccount);
    return rc;
}

static void sync_namespace(struct ctrl *c, const char *name)
{
    const struct resource_type *ns_rt = ctrl_rt("", "namespaces");
    const struct resource_type *sa_rt = ctrl_rt("", "serviceaccounts");
    struct json_object *ns = ctrl_get(c, ns_rt, "", name, NULL);
    struct json_object *sa = NULL;
    if (!ns || ju_str(ju_obj(ns, "metadata"), "deletionTimestamp"))
        goto out;
    const char *phase = ju_str(ju_obj(ns, "status"), "phase");
    if (phase && strcmp(phase, "Active") != 0)
        goto out;
    sa = ctrl_get(c, sa_rt, name, SA_DEFAULT, NULL);
    if (sa)
        goto out;
    struct json_object *obj = json_object_new_object();
    ju_set_str(obj, "apiVersion", "v1");
    ju_set_str(obj, "kind", "ServiceAccount");
    ju_set_str(ju_obj_ensure(obj, "metadata"), "name", SA_DEFAULT);
    int code = ctrl_create(c, sa_rt, name, obj, NULL);
    json_object_put(obj);
    /* 409: it exists already; 403/404: the namespace started terminating
     * or went meanwhile (its own event says so). */
    if (code >= 500 || code == 429)
        ctrl_enqueue_after(c, name, SA_RETRY_MS);
out:
    json_object_put(sa);
    json_object_put(ns);
}

const struct ctrl_def ctrl_serviceaccount_def = {
    .name = "serviceaccount",
    .user = "system:serviceaccount:kube-system:service-account-controller",
    .init = init,
    .sync = sync_namespace,
};
