/*
 * Request routing: authentication, the non-resource endpoints (health,
 * version, metrics), discovery, and resource URLs parsed into a target
 * (type, namespace, name, subresource) for the verb handlers.
 */
#include "api/apiserver.h"
#include "api/internal.h"
#include "api/ipalloc.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEDGE_K8S_VERSION "v1.32.0+kedge"

static const char *builtin_namespaces[] = {"default", "kube-system",
                                           "kube-public", "kube-node-lease",
                                           NULL};

static int ensure_namespace(struct apiserver *api, const char *name)
{
    char key[API_KEY_MAX];
    snprintf(key, sizeof(key), "/registry/core/namespaces/%s", name);
    if (store_get(api->st, key, NULL, NULL) == 0)
        return 0;
    char uid[37], ts[32];
    api_new_uid(uid);
    api_now_rfc3339(ts);
    int64_t rev = store_next_revision(api->st);
    char json[1024];
    int n = snprintf(json, sizeof(json),
                     "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\","
                     "\"metadata\":{\"name\":\"%s\",\"uid\":\"%s\","
                     "\"resourceVersion\":\"%lld\",\"creationTimestamp\":"
                     "\"%s\",\"labels\":{\"kubernetes.io/metadata.name\":"
                     "\"%s\"}},\"spec\":{\"finalizers\":[\"kubernetes\"]},"
                     "\"status\":{\"phase\":\"Active\"}}",
                     name, uid, (long long)rev, ts, name);
    return store_create(api->st, key, json, (size_t)n, rev);
}

int apiserver_new(uv_loop_t *loop, struct store *st,
                  const struct apiserver_config *cfg, struct apiserver **out)
{
    struct apiserver *api = calloc(1, sizeof(*api));
    if (!api)
        return -ENOMEM;
    api->loop = loop;
    api->st = st;
    api->cfg = *cfg;
    if (!api->cfg.service_cidr)
        api->cfg.service_cidr = "10.96.0.0/12";
    int rc = ipalloc_new(api->cfg.service_cidr, &api->svc_ips);
    if (rc) {
        log_error("api", "invalid service CIDR %s", api->cfg.service_cidr);
        free(api);
        return rc;
    }
    rc = ipalloc_load_services(api->svc_ips, st);
    for (int i = 0; rc == 0 && !cfg->replica && builtin_namespaces[i]; i++)
        rc = ensure_namespace(api, builtin_namespaces[i]);
    if (rc == 0 && !cfg->replica)
        rc = api_namespaces_init(api);
    if (rc) {
        log_error("api", "cannot initialise the built-in objects: %s",
                  ke_strerror(rc));
        apiserver_free(api);
        return rc;
    }
    *out = api;
    return 0;
}

/* Writes the JSON `json` at key unless the stored object already has
 * the same content (ignoring metadata). */
static int put_builtin(struct apiserver *api, const char *key, const char *kind,
                       const char *name, const char *body_fields)
{
    struct store_value *v;
    int64_t rev;
    char uid[37], ts[32];
    api_new_uid(uid);
    api_now_rfc3339(ts);
    bool exists = store_get(api->st, key, &v, &rev) == 0;
    if (exists) {
        bool same = strstr(v->data, body_fields) != NULL;
        char err[64];
        struct json_object *o = api_parse_json(v->data, v->len, err, sizeof(err));
        const char *u = api_meta_str(o, "uid");
        const char *c = api_meta_str(o, "creationTimestamp");
        if (u)
            snprintf(uid, sizeof(uid), "%s", u);
        if (c)
            snprintf(ts, sizeof(ts), "%s", c);
        json_object_put(o);
        store_value_unref(v);
        if (same)
            return 0;
    }
    int64_t next = store_next_revision(api->st);
    char json[2048];
    int n = snprintf(json, sizeof(json),
                     "{\"kind\":\"%s\",\"apiVersion\":\"v1\",\"metadata\":"
                     "{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":"
                     "\"%s\",\"resourceVersion\":\"%lld\","
                     "\"creationTimestamp\":\"%s\",\"labels\":{\"component\":"
                     "\"apiserver\",\"provider\":\"kubernetes\"}},%s}",
                     kind, name, uid, (long long)next, ts, body_fields);
    if (n < 0 || (size_t)n >= sizeof(json))
        return -KE_TOOBIG;
    return exists ? store_update(api->st, key, json, (size_t)n, next, rev)
                  : store_create(api->st, key, json, (size_t)n, next);
}

int apiserver_publish_endpoint(struct apiserver *api, const char *address,
                               int port)
{
    char ip[64], body[1024];
    if (ipalloc_first(api->svc_ips, ip, sizeof(ip)) != 0)
        return -EINVAL;
    snprintf(body, sizeof(body),
             "\"spec\":{\"ports\":[{\"name\":\"https\",\"protocol\":"
             "\"TCP\",\"port\":443,\"targetPort\":%d}],\"clusterIP\":"
             "\"%s\",\"clusterIPs\":[\"%s\"],\"type\":\"ClusterIP\","
             "\"sessionAffinity\":\"None\",\"ipFamilies\":[\"IPv4\"],"
             "\"ipFamilyPolicy\":\"SingleStack\",\"internalTrafficPolicy\":"
             "\"Cluster\"},\"status\":{\"loadBalancer\":{}}",
             port, ip, ip);
    int rc = put_builtin(api, "/registry/core/services/default/kubernetes",
                         "Service", "kubernetes", body);
    if (rc)
        return rc;
    snprintf(body, sizeof(body),
             "\"subsets\":[{\"addresses\":[{\"ip\":\"%s\"}],\"ports\":"
             "[{\"name\":\"https\",\"port\":%d,\"protocol\":\"TCP\"}]}]",
             address, port);
    return put_builtin(api, "/registry/core/endpoints/default/kubernetes",
                       "Endpoints", "kubernetes", body);
}

void apiserver_free(struct apiserver *api)
{
    if (!api)
        return;
    api_watch_close_all(api);
    api_namespaces_stop(api);
    ipalloc_free(api->svc_ips);
    metrics_free(&api->metrics);
    free(api);
}

static void respond_text(struct api_req *r, int code, const char *text)
{
    metrics_observe(&r->api->metrics, "get", "", code, 0);
    http_respond(r->http, code, "text/plain; charset=utf-8", NULL, text,
                 strlen(text));
}

static void handle_version(struct api_req *r)
{
    char body[512];
    int n = snprintf(body, sizeof(body),
                     "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"%s\","
                     "\"gitCommit\":\"%s\",\"gitTreeState\":\"clean\","
                     "\"buildDate\":\"%s\",\"goVersion\":\"none (C17)\","
                     "\"compiler\":\"gcc\",\"platform\":\"linux/amd64\"}",
                     KEDGE_K8S_VERSION, KEDGE_GIT_COMMIT,
                     "2026-01-01T00:00:00Z");
    api_respond_raw(r, 200, body, (size_t)n);
}

static void handle_metrics(struct api_req *r)
{
    struct buf b;
    buf_init(&b, 0);
    metrics_render(&r->api->metrics, &b);
    buf_printf(&b,
               "# HELP apiserver_watches Open watch streams.\n"
               "# TYPE apiserver_watches gauge\napiserver_watches %d\n"
               "# HELP kedge_store_revision Current store revision.\n"
               "# TYPE kedge_store_revision gauge\nkedge_store_revision %lld\n"
               "# HELP kedge_store_objects Live objects in the store.\n"
               "# TYPE kedge_store_objects gauge\nkedge_store_objects %zu\n"
               "# HELP kedge_store_db_bytes Database size on disk.\n"
               "# TYPE kedge_store_db_bytes gauge\nkedge_store_db_bytes %lld\n",
               api_watch_count(r->api),
               (long long)store_revision(r->api->st),
               store_count(r->api->st),
               (long long)store_db_bytes(r->api->st));
    for (int i = 0; i < 8; i++)
        if (r->api->metric_sources[i].fn)
            r->api->metric_sources[i].fn(r->api->metric_sources[i].arg, &b);
    metrics_observe(&r->api->metrics, "get", "", 200, 0);
    http_respond(r->http, 200, "text/plain; version=0.0.4", NULL, b.data,
                 b.len);
    buf_free(&b);
}

/* Splits path into at most max segments (in place). */
static int split_path(char *path, char **segs, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(path, "/", &save); tok;
         tok = strtok_r(NULL, "/", &save)) {
        if (n == max)
            return -1;
        segs[n++] = tok;
    }
    return n;
}

static bool copy_seg(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/*
 * Parses /api/v1/... or /apis/<g>/<v>/... into r->t. Returns 0, or
 * -ENOENT when the path names no resource (404), or 1 when the path is a
 * discovery document.
 */
static int parse_resource_path(struct api_req *r, const char *path)
{
    char tmp[2048];
    if (!copy_seg(tmp, sizeof(tmp), path))
        return -ENOENT;
    char *s[10];
    int n = split_path(tmp, s, 10);
    if (n < 0)
        return -ENOENT;
    const char *group, *version;
    int i;
    if (n >= 1 && strcmp(s[0], "api") == 0) {
        if (n <= 2)
            return 1;
        group = "";
        version = s[1];
        i = 2;
    } else if (n >= 1 && strcmp(s[0], "apis") == 0) {
        if (n <= 3)
            return 1;
        group = s[1];
        version = s[2];
        i = 3;
    } else {
        return -ENOENT;
    }
    /* Legacy watch paths: /api/v1/watch/namespaces/x/pods. */
    if (i < n && strcmp(s[i], "watch") == 0) {
        r->verb = "watch";
        i++;
    }
    const char *ns = NULL;
    if (i + 1 < n && strcmp(s[i], "namespaces") == 0) {
        /* namespaces/<ns>/<resource>... unless it is the namespace
         * object itself (namespaces/<name>[/status|/finalize]). */
        bool ns_object = (i + 2 == n) ||
                         (i + 3 == n && (strcmp(s[i + 2], "status") == 0 ||
                                         strcmp(s[i + 2], "finalize") == 0));
        if (!ns_object) {
            ns = s[i + 1];
            i += 2;
        }
    }
    if (i >= n)
        return -ENOENT;
    const struct resource_type *rt = resource_lookup(group, version, s[i]);
    if (!rt)
        return -ENOENT;
    if (ns && !rt->namespaced)
        return -ENOENT;
    r->t.rt = rt;
    if (ns && !copy_seg(r->t.ns, sizeof(r->t.ns), ns))
        return -ENOENT;
    i++;
    if (i < n && !copy_seg(r->t.name, sizeof(r->t.name), s[i++]))
        return -ENOENT;
    if (i < n && !copy_seg(r->t.sub, sizeof(r->t.sub), s[i++]))
        return -ENOENT;
    if (i < n)
        return -ENOENT;
    /* A namespaced object is only addressable inside its namespace. */
    if (rt->namespaced && r->t.name[0] && !r->t.ns[0])
        return -ENOENT;
    return 0;
}

static bool is_public_path(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
           strcmp(path, "/readyz") == 0 || strcmp(path, "/version") == 0 ||
           strncmp(path, "/healthz/", 9) == 0 ||
           strncmp(path, "/livez/", 7) == 0 || strncmp(path, "/readyz/", 8) == 0;
}

void apiserver_set_authorizer(struct apiserver *api, apiserver_authorize_fn fn,
                              void *arg)
{
    api->authorize = fn;
    api->authorize_arg = arg;
}

void apiserver_add_metrics(struct apiserver *api,
                           void (*fn)(void *arg, struct buf *out), void *arg)
{
    for (int i = 0; i < 8; i++) {
        if (!fn && api->metric_sources[i].arg == arg) {
            api->metric_sources[i].fn = NULL;
            api->metric_sources[i].arg = NULL;
        } else if (fn && !api->metric_sources[i].fn) {
            api->metric_sources[i].fn = fn;
            api->metric_sources[i].arg = arg;
            return;
        }
    }
}

bool apiserver_in_group(const char *groups, const char *group)
{
    size_t n = strlen(group);
    for (const char *p = groups; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, group, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The Kubernetes verb of a resource request. */
static const char *request_verb(struct api_req *r)
{
    const char *m = r->http->method;
    bool collection = r->t.name[0] == 0;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        if ((r->verb && strcmp(r->verb, "watch") == 0) ||
            (collection && api_query_is_watch(r->http)))
            return "watch";
        return collection ? "list" : "get";
    }
    if (strcmp(m, "POST") == 0)
        return "create";
    if (strcmp(m, "PUT") == 0)
        return "update";
    if (strcmp(m, "PATCH") == 0)
        return "patch";
    if (strcmp(m, "DELETE") == 0)
        return collection ? "deletecollection" : "delete";
    return m;
}

/* Answers 403 and returns false when the identity may not do this. */
static bool authorized(struct api_req *r)
{
    struct http_request *req = r->http;
    if (!apiserver_in_group(req->groups, "system:nodes") ||
        apiserver_in_group(req->groups, "system:masters"))
        return true;
    const char *verb = request_verb(r);
    struct apiserver_authz a = {
        .user = req->user, .groups = req->groups, .verb = verb,
        .rt = r->t.rt, .ns = r->t.ns, .name = r->t.name, .sub = r->t.sub,
        .req = req};
    char why[400] = "no node authorizer is running";
    if (r->api->authorize &&
        r->api->authorize(r->api->authorize_arg, &a, why, sizeof(why)))
        return true;
    char what[600], scope[400];
    if (r->t.name[0])
        snprintf(what, sizeof(what), "%s \"%s\"", r->t.rt->resource,
                 r->t.name);
    else
        snprintf(what, sizeof(what), "%s", r->t.rt->resource);
    if (r->t.ns[0])
        snprintf(scope, sizeof(scope), "in the namespace \"%s\"", r->t.ns);
    else
        snprintf(scope, sizeof(scope), "at the cluster scope");
    log_warn("api", "forbidden: %s %s %s%s%s: %s", req->user, verb,
             r->t.rt->resource, r->t.name[0] ? "/" : "", r->t.name, why);
    api_respond_status(r, 403, "Forbidden", r->t.name[0] ? r->t.name : NULL,
                       r->t.rt->resource,
                       "%s is forbidden: User \"%s\" cannot %s resource "
                       "\"%s%s%s\" in API group \"%s\" %s: %s",
                       what, req->user, verb, r->t.rt->resource,
                       r->t.sub[0] ? "/" : "", r->t.sub, r->t.rt->group, scope,
                       why);
    return false;
}

/* A replica serves reads to everyone authenticated; a write only when
 * the replica's owner allows it, else 405 naming where to write. */
static bool replica_allowed(struct api_req *r)
{
    const char *m = r->http->method;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return true;
    struct apiserver_replica_write w = {
        .method = m, .rt = r->t.rt, .ns = r->t.ns, .name = r->t.name,
        .sub = r->t.sub, .user = r->http->user, .groups = r->http->groups};
    if (r->api->cfg.replica_write_ok &&
        r->api->cfg.replica_write_ok(r->api->cfg.replica_arg, &w))
        return true;
    api_respond_status(r, 405, "MethodNotAllowed",
                       r->t.name[0] ? r->t.name : NULL, r->t.rt->resource,
                       "the edge's local API is a read-only replica of the "
                       "cloud: %s %s%s%s is not allowed here (write through "
                       "the cloud's API; only pods/status and nodes/status "
                       "of this node are accepted)",
                       m, r->t.rt->resource, r->t.sub[0] ? "/" : "",
                       r->t.sub);
    return false;
}

void apiserver_handle(void *arg, struct http_request *req)
{
    struct apiserver *api = arg;
    struct api_req r = {.api = api, .http = req};
    const char *path = req->path;
    log_debug("api", "%s %s %s", req->remote, req->method, req->url);

    if (is_public_path(path)) {
        if (strcmp(path, "/version") == 0)
            handle_version(&r);
        else
            respond_text(&r, 200, "ok");
        return;
    }
    if (!req->authenticated &&
        !(api->cfg.allow_anonymous_reads && strcmp(req->method, "GET") == 0)) {
        api_respond_status(&r, 401, "Unauthorized", NULL, NULL,
                           "Unauthorized");
        return;
    }
    if (req->body_too_large) {
        api_respond_status(&r, 413, "RequestEntityTooLarge", NULL, NULL,
                           "Request entity too large: limit is %d",
                           HTTP_MAX_BODY_BYTES);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        handle_metrics(&r);
        return;
    }
    if (strncmp(path, "/openapi/v", 10) == 0 && api_openapi(&r, path) == 0)
        return;
    int rc = parse_resource_path(&r, path);
    if (rc == 1) {
        if (api_discovery(&r, path) == 0)
            return;
        rc = -ENOENT;
    }
    if (rc < 0) {
        api_respond_status(&r, 404, "NotFound", NULL, NULL,
                           "the server could not find the requested resource");
        return;
    }
    r.table = api_wants_table(req);
    if (api_parse_include(&r))
        return;
    char v[16];
    if (http_query(req, "dryRun", v, sizeof(v)) == 0) {
        if (strcmp(v, "All") != 0) {
            api_respond_status(&r, 400, "BadRequest", NULL, NULL,
                               "Invalid dryRun value %s: only \"All\" is "
                               "supported",
                               v);
            return;
        }
        r.dry_run = true;
    }
    if (api->cfg.replica) {
        if (!replica_allowed(&r))
            return;
    } else if (!authorized(&r)) {
        return;
    }
    api_handle_resource(&r);
}
