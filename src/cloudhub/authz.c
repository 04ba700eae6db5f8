/*
 * The node authorizer: what an edge node's identity (system:node:<name>,
 * group system:nodes) may do, decided from the node graph, like
 * Kubernetes' Node authorizer and NodeRestriction admission together:
 * its own Node and Lease, the pods bound to it and their status, the
 * configmaps, secrets and service accounts those pods reference (read
 * only), and events.
 */
#include "cloudhub/internal.h"
#include "resources/jsonutil.h"
#include "resources/resource.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static bool is(const struct apiserver_authz *a, const char *group,
               const char *resource)
{
    return strcmp(a->rt->group, group) == 0 &&
           strcmp(a->rt->resource, resource) == 0;
}

static bool verb_in(const char *verb, const char *const *verbs)
{
    for (; *verbs; verbs++)
        if (strcmp(verb, *verbs) == 0)
            return true;
    return false;
}

/* metadata.name of the request body, into out ("" if none). */
static void body_name(const struct http_request *req, char *out, size_t len)
{
    out[0] = 0;
    if (!req->body.len)
        return;
    struct json_object *o = json_tokener_parse(req->body.data);
    const char *n = ju_str(ju_obj(o, "metadata"), "name");
    snprintf(out, len, "%s", n ? n : "");
    json_object_put(o);
}

/* Whether the request's fieldSelector is exactly field=value. */
static bool selects(const struct http_request *req, const char *field,
                    const char *value)
{
    char sel[512], want[512];
    if (http_query(req, "fieldSelector", sel, sizeof(sel)) != 0)
        return false;
    snprintf(want, sizeof(want), "%s=%s", field, value);
    if (strcmp(sel, want) == 0)
        return true;
    snprintf(want, sizeof(want), "%s==%s", field, value);
    return strcmp(sel, want) == 0;
}

static bool authorize(void *arg, const struct apiserver_authz *a, char *why,
                      size_t len)
{
    struct cloudhub *h = arg;
    static const char prefix[] = "system:node:";
    if (strncmp(a->user, prefix, sizeof(prefix) - 1) != 0) {
        snprintf(why, len, "not a node identity");
        return false;
    }
    const char *node = a->user + sizeof(prefix) - 1;
    static const char *const read[] = {"get", NULL};
    static const char *const write[] = {"get", "update", "patch", NULL};
    char name[256];

    if (is(a, "", "nodes")) {
        if (a->name[0] && strcmp(a->name, node) == 0 &&
            verb_in(a->verb, write))
            return true;
        if (strcmp(a->verb, "create") == 0) {
            body_name(a->req, name, sizeof(name));
            if (strcmp(name, node) == 0)
                return true;
        }
        if ((strcmp(a->verb, "list") == 0 || strcmp(a->verb, "watch") == 0) &&
            selects(a->req, "metadata.name", node))
            return true;
        snprintf(why, len, "node '%s' can only read and write its own Node "
                           "object", node);
        return false;
    }
    if (is(a, "coordination.k8s.io", "leases")) {
        static const char *const lease[] = {"get", "update", "patch",
                                            "delete", NULL};
        if (strcmp(a->ns, "kube-node-lease") == 0) {
            if (strcmp(a->name, node) == 0 && verb_in(a->verb, lease))
                return true;
            if (strcmp(a->verb, "create") == 0) {
                body_name(a->req, name, sizeof(name));
                if (strcmp(name, node) == 0)
                    return true;
            }
        }
        snprintf(why, len, "node '%s' can only use its own Lease in "
                           "kube-node-lease", node);
        return false;
    }
    if (is(a, "", "events") || is(a, "events.k8s.io", "events")) {
        static const char *const ev[] = {"create", "update", "patch", NULL};
        if (verb_in(a->verb, ev))
            return true;
        snprintf(why, len, "nodes may only record events");
        return false;
    }
    if (is(a, "", "pods")) {
        static const char *const pod[] = {"get", "update", "patch", "delete",
                                          NULL};
        if ((strcmp(a->verb, "list") == 0 || strcmp(a->verb, "watch") == 0) &&
            selects(a->req, "spec.nodeName", node))
            return true;
        if (a->name[0] && verb_in(a->verb, pod) &&
            (!a->sub[0] || strcmp(a->sub, "status") == 0)) {
            char key[700];
            snprintf(key, sizeof(key), "/registry/core/pods/%s/%s", a->ns,
                     a->name);
            if (graph_has(h->graph, node, key))
                return true;
        }
        snprintf(why, len, "node '%s' can only read and update the pods bound "
                           "to it (and list them with fieldSelector "
                           "spec.nodeName=%s)",
                 node, node);
        return false;
    }
    if (is(a, "", "namespaces")) {
        if (a->name[0] && verb_in(a->verb, read) && !a->sub[0]) {
            char key[700];
            snprintf(key, sizeof(key), "/registry/core/namespaces/%s", a->name);
            if (graph_has(h->graph, node, key))
                return true;
        }
        snprintf(why, len, "node '%s' can only read the namespaces of its "
                           "pods", node);
        return false;
    }
    if (is(a, "", "configmaps") || is(a, "", "secrets") ||
        is(a, "", "serviceaccounts")) {
        if (a->name[0] && verb_in(a->verb, read) && !a->sub[0]) {
            char key[700];
            snprintf(key, sizeof(key), "/registry/core/%s/%s/%s",
                     a->rt->resource, a->ns, a->name);
            if (graph_has(h->graph, node, key))
                return true;
        }
        snprintf(why, len, "no relationship found between node '%s' and this "
                           "object",
                 node);
        return false;
    }
    snprintf(why, len, "nodes may not use %s", a->rt->resource);
    return false;
}

void hub_authz_install(struct cloudhub *h)
{
    apiserver_set_authorizer(h->api, authorize, h);
}
