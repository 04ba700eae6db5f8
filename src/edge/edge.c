/*
 * `kedge edge`: joins the cloud (once), opens the edge store, serves it as
 * a read-mostly local Kubernetes API, keeps the session to the cloud
 * (EdgeHub), registers the Node and runs the pods bound to it (the fake
 * runtime for now). Everything but the join works without the cloud.
 */
#include "edge/edge.h"
#include "api/apiserver.h"
#include "edge/fake_runtime.h"
#include "edge/node.h"
#include "edgehub/edgehub.h"
#include "http/server.h"
#include "join/join_client.h"
#include "pki/pki.h"
#include "resources/jsonutil.h"
#include "resources/resource.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/flags.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define EDGE_STORE_WINDOW 1000
#define EDGE_COMPACT_EVERY_MS (5 * 60 * 1000)
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct edge {
    uv_loop_t *loop;
    const char *name;
    struct store *st;
    struct apiserver *api;
    struct http_server *http;
    SSL_CTX *local_ctx, *hub_ctx;
    struct edgehub *hub;
    struct edge_node *node;
    struct fake_runtime *runtime;
    uv_signal_t sigterm, sigint;
    uv_timer_t compact;
};

/* Every failure to start is one line on stderr and exit status 1. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                     noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kedge edge: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void path_join(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* https://HOST:PORT (IPv6 in brackets) */
static int parse_url(const char *url, char *host, size_t hostlen, int *port)
{
    if (strncmp(url, "https://", 8) != 0)
        return -1;
    const char *h = url + 8, *end;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || end[1] != ':')
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(end - h - 1), h + 1);
        end++;
    } else {
        end = strrchr(h, ':');
        if (!end || end == h)
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(end - h), h);
    }
    char *rest;
    long p = strtol(end + 1, &rest, 10);
    if (p <= 0 || p > 65535 || (*rest && strcmp(rest, "/") != 0))
        return -1;
    *port = (int)p;
    return 0;
}

/* The address of the interface that routes to the cloud (no packet is
 * sent: a UDP connect only picks the route). */
static void outbound_ip(const char *host, int port, char *out, size_t len)
{
    snprintf(out, len, "127.0.0.1");
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0)
        return;
    int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
                      (socklen_t)len);
        else
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out,
                      (socklen_t)len);
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
}

/* ---- the local API ---------------------------------------------------- */

/* pods/status of this node's pods and nodes/status of this node. */
static bool local_write_ok(void *arg, const struct apiserver_replica_write *w)
{
    struct edge *e = arg;
    if (strcmp(w->method, "PUT") != 0 && strcmp(w->method, "PATCH") != 0)
        return false;
    if (strcmp(w->sub, "status") != 0)
        return false;
    if (strcmp(w->rt->resource, "nodes") == 0)
        return strcmp(w->name, e->name) == 0;
    if (strcmp(w->rt->resource, "pods") != 0 || !w->ns[0] || !w->name[0])
        return false;
    char key[600];
    snprintf(key, sizeof(key), "/registry/core/pods/%s/%s", w->ns, w->name);
    struct store_value *v = NULL;
    if (store_get(e->st, key, &v, NULL) != 0)
        return true; /* the API answers 404 */
    struct json_object *pod = json_tokener_parse(v->data);
    store_value_unref(v);
    const char *node = ju_str(ju_obj(pod, "spec"), "nodeName");
    bool ok = node && strcmp(node, e->name) == 0;
    json_object_put(pod);
    return ok;
}

/* Whether path is /api/v1/namespaces/NS/pods/NAME/status or
 * /api/v1/nodes/NAME/status. */
static bool is_status_path(const char *path)
{
    size_t n = strlen(path);
    if (n < 8 || strcmp(path + n - 7, "/status") != 0)
        return false;
    return strncmp(path, "/api/v1/namespaces/", 19) == 0 ||
           strncmp(path, "/api/v1/nodes/", 14) == 0;
}

/*
 * The local API's handler: status writes are applied to the edge store
 * through the API code (in-process, as the client) and, when they took,
 * forwarded to the cloud as a merge patch of the resulting status (queued
 * while offline); everything else is the replica API.
 */
static void local_handle(void *arg, struct http_request *req)
{
    struct edge *e = arg;
    bool write = strcmp(req->method, "PUT") == 0 ||
                 strcmp(req->method, "PATCH") == 0;
    if (!write || !req->authenticated || !is_status_path(req->path) ||
        req->body_too_large) {
        apiserver_handle(e->api, req);
        return;
    }
    struct apiserver_call call = {
        .method = req->method, .path = req->url, .user = req->user,
        .groups = req->groups,
        .content_type = http_header(req, "Content-Type"),
        .body = req->body.data, .len = req->body.len};
    struct buf out;
    buf_init(&out, 0);
    int code = apiserver_call(e->api, &call, &out);
    if (code >= 200 && code < 300) {
        struct json_object *obj = json_tokener_parse(out.data ? out.data : "");
        struct json_object *st = json_object_object_get(obj, "status");
        if (st) {
            struct json_object *p = json_object_new_object();
            json_object_object_add(p, "status", json_object_get(st));
            int rc = edgehub_report(e->hub, req->path,
                                    json_object_to_json_string_ext(p,
                                                                   JSON_FLAGS));
            if (rc)
                log_warn("edge", "cannot forward %s to the cloud: %s",
                         req->path, ke_strerror(rc));
            json_object_put(p);
        }
        json_object_put(obj);
    }
    http_respond(req, code, "application/json", NULL, out.data ? out.data : "",
                 out.len);
    buf_free(&out);
}

static int add_client_ca(SSL_CTX *ctx, const char *ca_file, char *err,
                         size_t errlen)
{
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
        return snprintf(err, errlen, "cannot load %s", ca_file), -KE_CORRUPT;
    FILE *f = fopen(ca_file, "r");
    X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    int ok = ca && SSL_CTX_add_client_CA(ctx, ca) == 1;
    X509_free(ca);
    if (!ok)
        return snprintf(err, errlen, "cannot use %s", ca_file), -KE_CORRUPT;
    return 0;
}

/*
 * Serves the local API on addr:port with a serving certificate of the
 * edge's own local CA (E/local/), accepting client certificates of the
 * cluster's CA (E/pki/ca.crt) and of the local CA, and writes
 * E/local.kubeconfig (local CA, the node's own certificate as the user).
 */
static int start_local_api(struct edge *e, const char *data_dir,
                           const char *addr, int port)
{
    char local[4096], cluster_ca[4096], err[600];
    path_join(local, sizeof(local), data_dir, "local");
    path_join(cluster_ca, sizeof(cluster_ca), data_dir, "pki/ca.crt");
    const char *ips[] = {addr, NULL};
    int rc = pki_ensure(local, NULL, ips, err, sizeof(err));
    if (rc == 0) {
        e->local_ctx = pki_server_ctx(local, err, sizeof(err));
        rc = e->local_ctx ? add_client_ca(e->local_ctx, cluster_ca, err,
                                          sizeof(err))
                          : -KE_CORRUPT;
    }
    if (rc == 0) {
        rc = http_server_start(e->loop, addr, port, e->local_ctx, local_handle,
                               e, &e->http);
        if (rc)
            snprintf(err, sizeof(err), "cannot listen on %s:%d for the local "
                                       "API: %s", addr, port, ke_strerror(rc));
    }
    if (rc == 0) {
        char url[300], kc[4096], ca[4096], crt[4096], key[4096];
        snprintf(url, sizeof(url), strchr(addr, ':') ? "https://[%s]:%d"
                                                     : "https://%s:%d",
                 addr, http_server_port(e->http));
        path_join(kc, sizeof(kc), data_dir, "local.kubeconfig");
        path_join(ca, sizeof(ca), local, "ca.crt");
        path_join(crt, sizeof(crt), data_dir, "pki/node.crt");
        path_join(key, sizeof(key), data_dir, "pki/node.key");
        rc = pki_write_kubeconfig(kc, url, ca, crt, key, e->name, err,
                                  sizeof(err));
        if (rc == 0)
            log_info("edge", "local API on %s (kubeconfig %s)", url, kc);
    }
    if (rc)
        fprintf(stderr, "kedge edge: %s\n", err);
    return rc;
}

/* ---- main ------------------------------------------------------------- */

static void on_ready(void *arg)
{
    struct edge *e = arg;
    edge_node_sync(e->node);
}

/* The edge store's history beyond the watch window goes, as on the
 * cloud, so status churn does not grow the file forever. */
static void on_compact(uv_timer_t *t)
{
    struct edge *e = t->data;
    store_compact(e->st);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct edge *e = s->data;
    log_info("edge", "received %s, shutting down",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    if (e->http)
        http_server_stop(e->http);
    e->http = NULL;
    fake_runtime_free(e->runtime);
    e->runtime = NULL;
    edge_node_free(e->node);
    e->node = NULL;
    edgehub_free(e->hub);
    e->hub = NULL;
    apiserver_free(e->api);
    e->api = NULL;
    uv_signal_stop(&e->sigterm);
    uv_signal_stop(&e->sigint);
    uv_close((uv_handle_t *)&e->sigterm, NULL);
    uv_close((uv_handle_t *)&e->sigint, NULL);
    uv_timer_stop(&e->compact);
    uv_close((uv_handle_t *)&e->compact, NULL);
}

int edge_main(int argc, char **argv)
{
    const char *data_dir = NULL, *name = NULL, *cloud = NULL, *token = NULL,
               *runtime = "fake", *local_api = "127.0.0.1:10550",
               *labels = NULL, *log_level = "info";
    const struct flag flags[] = {
        {"data-dir", FLAG_STRING, &data_dir,
         "where the edge keeps its state (pki/, db/edge.db, local/)"},
        {"name", FLAG_STRING, &name, "this node's name"},
        {"cloud", FLAG_STRING, &cloud, "the cloud's hub, https://HOST:PORT"},
        {"token", FLAG_STRING, &token,
         "join token (kedge token create); only needed to join"},
        {"runtime", FLAG_STRING, &runtime,
         "pod runtime: fake (pods run at once, nothing is executed); runc "
         "is not available yet"},
        {"local-api", FLAG_STRING, &local_api,
         "ADDR:PORT of the local Kubernetes API (a replica of this node's "
         "objects), or off"},
        {"labels", FLAG_STRING, &labels, "node labels, k=v,k2=v2"},
        {"log-level", FLAG_STRING, &log_level, "debug, info, warn or error"},
        {0},
    };
    int rc = flags_parse("edge", "Runs an edge node: joins the cloud, keeps "
                                 "its objects in a local store and runs its "
                                 "pods, also while the cloud is unreachable.",
                         flags, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    enum log_level lvl;
    if (log_parse_level(log_level, &lvl))
        die("bad --log-level \"%s\"", log_level);
    log_set_level(lvl);
    if (!data_dir || !name || !cloud)
        die("--data-dir, --name and --cloud are required");
    if (strcmp(runtime, "fake") != 0)
        die("--runtime %s is not available yet (only \"fake\"; runc comes "
            "with a later release)", runtime);
    char host[256];
    int hub_port;
    if (parse_url(cloud, host, sizeof(host), &hub_port))
        die("--cloud must be https://HOST:PORT (the cloud's hub port), not "
            "\"%s\"", cloud);
    char api_addr[256] = "";
    int api_port = 0;
    if (strcmp(local_api, "off") != 0) {
        const char *colon = strrchr(local_api, ':');
        char *end;
        long p = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || colon == local_api || p < 0 || p > 65535 || *end)
            die("--local-api must be ADDR:PORT or off, not \"%s\"", local_api);
        snprintf(api_addr, sizeof(api_addr), "%.*s",
                 (int)(colon - local_api), local_api);
        if (api_addr[0] == '[') {
            memmove(api_addr, api_addr + 1, strlen(api_addr));
            api_addr[strcspn(api_addr, "]")] = 0;
        }
        api_port = (int)p;
    }
    char path[4096], db[4096], err[600];
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
        die("cannot create %s: %s", data_dir, strerror(errno));
    path_join(path, sizeof(path), data_dir, "db");
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        die("cannot create %s: %s", path, strerror(errno));

    /* 1. Credentials: joins once; later starts need neither token nor
     * cloud. */
    char pki[4096];
    path_join(pki, sizeof(pki), data_dir, "pki");
    rc = join_client_ensure(pki, cloud, token, name, err, sizeof(err));
    if (rc)
        die("%s", err);

    signal(SIGPIPE, SIG_IGN);
    struct edge e = {.name = name};
    e.loop = uv_default_loop();

    /* 2. The edge store. */
    struct store_backend *be;
    path_join(db, sizeof(db), data_dir, "db/edge.db");
    rc = store_sqlite_open(db, true, &be);
    if (rc == 0)
        rc = store_open(be, EDGE_STORE_WINDOW, &e.st);
    if (rc)
        die("cannot open the edge store %s: %s", db, ke_strerror(rc));

    /* 3. The hub client (connects later, from the loop). */
    char ca[4096], crt[4096], key[4096];
    path_join(ca, sizeof(ca), pki, "ca.crt");
    path_join(crt, sizeof(crt), pki, "node.crt");
    path_join(key, sizeof(key), pki, "node.key");
    e.hub_ctx = pki_client_ctx(ca, crt, key, err, sizeof(err));
    if (!e.hub_ctx)
        die("%s", err);
    struct edgehub_config hcfg = {.node = name, .host = host,
                                  .port = hub_port, .ctx = e.hub_ctx,
                                  .st = e.st, .on_ready = on_ready,
                                  .arg = &e};
    rc = edgehub_new(e.loop, &hcfg, &e.hub);
    if (rc)
        die("cannot start the hub client: %s", ke_strerror(rc));

    /* 4. The API over the store (a replica), served locally. */
    struct apiserver_config acfg = {.replica = true,
                                    .replica_write_ok = local_write_ok,
                                    .replica_arg = &e};
    rc = apiserver_new(e.loop, e.st, &acfg, &e.api);
    if (rc)
        die("cannot start the local API: %s", ke_strerror(rc));
    if (api_addr[0] && start_local_api(&e, data_dir, api_addr, api_port))
        return 1;

    /* 5. Node agent and runtime. */
    char host_ip[64];
    outbound_ip(host, hub_port, host_ip, sizeof(host_ip));
    struct edge_node_config ncfg = {.name = name, .labels = labels,
                                    .host_ip = host_ip,
                                    .runtime_version = "kedge://fake"};
    rc = edge_node_new(e.loop, e.st, e.hub, &ncfg, &e.node);
    if (rc)
        die("--labels must be k=v,k2=v2, not \"%s\"", labels ? labels : "");
    rc = fake_runtime_new(e.loop, e.st, e.api, e.hub, name, host_ip,
                          &e.runtime);
    if (rc)
        die("cannot start the runtime: %s", ke_strerror(rc));

    uv_signal_init(e.loop, &e.sigterm);
    uv_signal_init(e.loop, &e.sigint);
    e.sigterm.data = e.sigint.data = &e;
    uv_signal_start(&e.sigterm, on_signal, SIGTERM);
    uv_signal_start(&e.sigint, on_signal, SIGINT);
    uv_timer_init(e.loop, &e.compact);
    e.compact.data = &e;
    uv_timer_start(&e.compact, on_compact, EDGE_COMPACT_EVERY_MS,
                   EDGE_COMPACT_EVERY_MS);
    edgehub_start(e.hub);
    log_info("edge", "node %s started (store revision %lld, %zu objects, "
                     "cloud revision %lld, %d queued requests)",
             name, (long long)store_revision(e.st), store_count(e.st),
             (long long)edgehub_cloud_rev(e.hub), edgehub_outbox_len(e.hub));
    printf("kedge edge ready: node %s\n", name);
    fflush(stdout);

    uv_run(e.loop, UV_RUN_DEFAULT);

    store_close(e.st);
    SSL_CTX_free(e.local_ctx);
    SSL_CTX_free(e.hub_ctx);
    uv_loop_close(e.loop);
    log_info("edge", "stopped");
    return 0;
}
