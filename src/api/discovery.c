/*
 * API discovery: /api, /apis, /apis/<group> and the per-version resource
 * lists, in the legacy form and in the aggregated form
 * (apidiscovery.k8s.io/v2) that kubectl asks for first.
 */
#include "api/internal.h"

#include <stdio.h>
#include <string.h>

#define AGGREGATED_CT \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

static const char *const all_verbs[] = {"create", "delete", "deletecollection",
                                        "get",    "list",   "patch",
                                        "update", "watch",  NULL};
static const char *const sub_verbs[] = {"get", "patch", "update", NULL};
static const char *const create_verb[] = {"create", NULL};

static struct json_object *str_array(const char *const *v)
{
    struct json_object *a = json_object_new_array();
    for (int i = 0; v && v[i]; i++)
        json_object_array_add(a, json_object_new_string(v[i]));
    return a;
}

static bool wants_aggregated(struct api_req *r)
{
    const char *accept = http_header(r->http, "Accept");
    return accept && strstr(accept, "as=APIGroupDiscoveryList") &&
           strstr(accept, "g=apidiscovery.k8s.io;v=v2;");
}

/* Distinct named groups in registry order. */
static int named_groups(const char **out, int max)
{
    int n = 0;
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
        const char *g = resource_types[i]->group;
        if (!g[0])
            continue;
        bool seen = false;
        for (int k = 0; k < n; k++)
            if (strcmp(out[k], g) == 0)
                seen = true;
        if (!seen && n < max)
            out[n++] = g;
    }
    return n;
}

static const char *group_version_of(const char *group)
{
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++)
        if (strcmp(resource_types[i]->group, group) == 0)
            return resource_types[i]->version;
    return NULL;
}

static void add_legacy_resource(struct json_object *list, const char *name,
                                const char *singular, bool namespaced,
                                const char *group, const char *version,
                                const char *kind, const char *const *verbs)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "singularName", json_object_new_string(singular));
    json_object_object_add(o, "namespaced", json_object_new_boolean(namespaced));
    if (group) {
        json_object_object_add(o, "group", json_object_new_string(group));
        json_object_object_add(o, "version", json_object_new_string(version));
    }
    json_object_object_add(o, "kind", json_object_new_string(kind));
    json_object_object_add(o, "verbs", str_array(verbs));
    json_object_array_add(list, o);
}

static void legacy_resource_list(struct api_req *r, const char *group,
                                 const char *version)
{
    struct json_object *res = json_object_new_array();
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (strcmp(rt->group, group) != 0 || strcmp(rt->version, version) != 0)
            continue;
        add_legacy_resource(res, rt->resource, rt->singular, rt->namespaced,
                            NULL, NULL, rt->kind, all_verbs);
        struct json_object *last = json_object_array_get_idx(
            res, json_object_array_length(res) - 1);
        if (rt->short_names[0])
            json_object_object_add(last, "shortNames",
                                   str_array(rt->short_names));
        if (rt->in_all) {
            const char *cats[] = {"all", NULL};
            json_object_object_add(last, "categories", str_array(cats));
        }
        char sub[128];
        if (rt->has_status) {
            snprintf(sub, sizeof(sub), "%s/status", rt->resource);
            add_legacy_resource(res, sub, "", rt->namespaced, NULL, NULL,
                                rt->kind, sub_verbs);
        }
        if (rt->has_scale) {
            snprintf(sub, sizeof(sub), "%s/scale", rt->resource);
            add_legacy_resource(res, sub, "", rt->namespaced, "autoscaling",
                                "v1", "Scale", sub_verbs);
        }
        if (rt->has_binding) {
            snprintf(sub, sizeof(sub), "%s/binding", rt->resource);
            add_legacy_resource(res, sub, "", rt->namespaced, NULL, NULL,
                                "Binding", create_verb);
        }
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string("APIResourceList"));
    json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
    char gv[128];
    if (group[0])
        snprintf(gv, sizeof(gv), "%s/%s", group, version);
    else
        snprintf(gv, sizeof(gv), "%s", version);
    json_object_object_add(o, "groupVersion", json_object_new_string(gv));
    json_object_object_add(o, "resources", res);
    api_respond_json(r, 200, o);
    json_object_put(o);
}

static struct json_object *group_object(const char *g)
{
    const char *v = group_version_of(g);
    char gv[128];
    snprintf(gv, sizeof(gv), "%s/%s", g, v);
    struct json_object *ver = json_object_new_object();
    json_object_object_add(ver, "groupVersion", json_object_new_string(gv));
    json_object_object_add(ver, "version", json_object_new_string(v));
    struct json_object *grp = json_object_new_object();
    json_object_object_add(grp, "name", json_object_new_string(g));
    struct json_object *vers = json_object_new_array();
    json_object_array_add(vers, json_object_get(ver));
    json_object_object_add(grp, "versions", vers);
    json_object_object_add(grp, "preferredVersion", ver);
    return grp;
}

static struct json_object *response_kind(const char *g, const char *v,
                                         const char *kind)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "group", json_object_new_string(g));
    json_object_object_add(o, "version", json_object_new_string(v));
    json_object_object_add(o, "kind", json_object_new_string(kind));
    return o;
}

static struct json_object *aggregated_sub(const char *name, struct json_object *kind,
                                          const char *const *verbs)
{
    struct json_object *s = json_object_new_object();
    json_object_object_add(s, "subresource", json_object_new_string(name));
    json_object_object_add(s, "responseKind", kind);
    json_object_object_add(s, "verbs", str_array(verbs));
    return s;
}

/* One APIGroupDiscovery item for a group ("" = core). */
static struct json_object *aggregated_group(const char *group)
{
    struct json_object *resources = json_object_new_array();
    const char *version = NULL;
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (strcmp(rt->group, group) != 0)
            continue;
        version = rt->version;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "resource", json_object_new_string(rt->resource));
        json_object_object_add(o, "responseKind",
                               response_kind(rt->group, rt->version, rt->kind));
        json_object_object_add(o, "scope", json_object_new_string(
                                               rt->namespaced ? "Namespaced"
                                                              : "Cluster"));
        json_object_object_add(o, "singularResource",
                               json_object_new_string(rt->singular));
        json_object_object_add(o, "verbs", str_array(all_verbs));
        if (rt->short_names[0])
            json_object_object_add(o, "shortNames", str_array(rt->short_names));
        if (rt->in_all) {
            const char *cats[] = {"all", NULL};
            json_object_object_add(o, "categories", str_array(cats));
        }
        struct json_object *subs = json_object_new_array();
        if (rt->has_status)
            json_object_array_add(
                subs, aggregated_sub("status",
                                     response_kind(rt->group, rt->version, rt->kind),
                                     sub_verbs));
        if (rt->has_scale)
            json_object_array_add(
                subs, aggregated_sub("scale",
                                     response_kind("autoscaling", "v1", "Scale"),
                                     sub_verbs));
        if (rt->has_binding)
            json_object_array_add(
                subs, aggregated_sub("binding", response_kind("", "v1", "Binding"),
                                     create_verb));
        if (json_object_array_length(subs))
            json_object_object_add(o, "subresources", subs);
        else
            json_object_put(subs);
        json_object_array_add(resources, o);
    }
    struct json_object *ver = json_object_new_object();
    json_object_object_add(ver, "version", json_object_new_string(version ? version : "v1"));
    json_object_object_add(ver, "resources", resources);
    json_object_object_add(ver, "freshness", json_object_new_string("Current"));
    struct json_object *item = json_object_new_object();
    struct json_object *md = json_object_new_object();
    if (group[0])
        json_object_object_add(md, "name", json_object_new_string(group));
    json_object_object_add(item, "metadata", md);
    struct json_object *vers = json_object_new_array();
    json_object_array_add(vers, ver);
    json_object_object_add(item, "versions", vers);
    return item;
}

static void respond_aggregated(struct api_req *r, bool core)
{
    struct json_object *items = json_object_new_array();
    if (core) {
        json_object_array_add(items, aggregated_group(""));
    } else {
        const char *groups[32];
        int n = named_groups(groups, 32);
        for (int i = 0; i < n; i++)
            json_object_array_add(items, aggregated_group(groups[i]));
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string("APIGroupDiscoveryList"));
    json_object_object_add(o, "apiVersion",
                           json_object_new_string("apidiscovery.k8s.io/v2"));
    json_object_object_add(o, "metadata", json_object_new_object());
    json_object_object_add(o, "items", items);
    size_t len;
    const char *s = api_json(o, &len);
    metrics_observe(&r->api->metrics, "get", "", 200, 0);
    http_respond(r->http, 200, AGGREGATED_CT, NULL, s, len);
    json_object_put(o);
}

int api_discovery(struct api_req *r, const char *path)
{
    r->verb = "get";
    if (strcmp(r->http->method, "GET") != 0)
        return -1;
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s", path);
    size_t len = strlen(tmp);
    while (len > 1 && tmp[len - 1] == '/')
        tmp[--len] = 0;
    if (strcmp(tmp, "/api") == 0) {
        if (wants_aggregated(r)) {
            respond_aggregated(r, true);
            return 0;
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "kind", json_object_new_string("APIVersions"));
        const char *v[] = {"v1", NULL};
        json_object_object_add(o, "versions", str_array(v));
        struct json_object *addrs = json_object_new_array();
        struct json_object *a = json_object_new_object();
        json_object_object_add(a, "clientCIDR", json_object_new_string("0.0.0.0/0"));
        const char *host = http_header(r->http, "Host");
        json_object_object_add(a, "serverAddress",
                               json_object_new_string(host ? host : ""));
        json_object_array_add(addrs, a);
        json_object_object_add(o, "serverAddressByClientCIDRs", addrs);
        api_respond_json(r, 200, o);
        json_object_put(o);
        return 0;
    }
    if (strcmp(tmp, "/api/v1") == 0) {
        legacy_resource_list(r, "", "v1");
        return 0;
    }
    if (strcmp(tmp, "/apis") == 0) {
        if (wants_aggregated(r)) {
            respond_aggregated(r, false);
            return 0;
        }
        const char *groups[32];
        int n = named_groups(groups, 32);
        struct json_object *list = json_object_new_array();
        for (int i = 0; i < n; i++)
            json_object_array_add(list, group_object(groups[i]));
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "kind", json_object_new_string("APIGroupList"));
        json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
        json_object_object_add(o, "groups", list);
        api_respond_json(r, 200, o);
        json_object_put(o);
        return 0;
    }
    if (strncmp(tmp, "/apis/", 6) == 0) {
        char group[512];
        snprintf(group, sizeof(group), "%s", tmp + 6);
        char *slash = strchr(group, '/');
        const char *version = NULL;
        if (slash) {
            *slash = 0;
            version = slash + 1;
            if (strchr(version, '/'))
                return -1;
        }
        const char *have = group_version_of(group);
        if (!have || !group[0])
            return -1;
        if (!version) {
            struct json_object *g = group_object(group);
            json_object_object_add(g, "kind", json_object_new_string("APIGroup"));
            json_object_object_add(g, "apiVersion", json_object_new_string("v1"));
            api_respond_json(r, 200, g);
            json_object_put(g);
            return 0;
        }
        if (strcmp(version, have) != 0)
            return -1;
        legacy_resource_list(r, group, version);
        return 0;
    }
    return -1;
}
