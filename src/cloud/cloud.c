/*
 * `kedge cloud`: sets up the data directory (PKI, admin kubeconfig,
 * database), then serves the Kubernetes API on the secure port until
 * SIGTERM or SIGINT, and shuts down without losing committed writes.
 */
#include "cloud/cloud.h"
#include "api/apiserver.h"
#include "cloudhub/cloudhub.h"
#include "controllers/ctrl.h"
#include "http/server.h"
#include "pki/pki.h"
#include "store/store.h"
#include "util/duration.h"
#include "util/errors.h"
#include "util/flags.h"
#include "util/log.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define CLOUD_COMPACT_INTERVAL_MS (5 * 60 * 1000)

struct cloud {
    uv_loop_t *loop;
    struct store *st;
    struct apiserver *api;
    struct ctrl_mgr *ctrl;
    struct cloudhub *hub;
    struct http_server *http;
    SSL_CTX *ctx;
    uv_signal_t sigterm, sigint;
    uv_timer_t compact;
};

static void on_signal(uv_signal_t *s, int signum)
{
    struct cloud *c = s->data;
    log_info("cloud", "received %s, shutting down",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    http_server_stop(c->http);
    c->http = NULL;
    cloudhub_stop(c->hub);
    c->hub = NULL;
    ctrl_mgr_stop(c->ctrl);
    c->ctrl = NULL;
    apiserver_free(c->api);
    c->api = NULL;
    uv_signal_stop(&c->sigterm);
    uv_signal_stop(&c->sigint);
    uv_close((uv_handle_t *)&c->sigterm, NULL);
    uv_close((uv_handle_t *)&c->sigint, NULL);
    uv_timer_stop(&c->compact);
    uv_close((uv_handle_t *)&c->compact, NULL);
}

static void on_compact(uv_timer_t *t)
{
    struct cloud *c = t->data;
    if (c->st)
        store_compact(c->st);
}

/* dir + "/" + name into out; -ENAMETOOLONG if it does not fit. */
static int path_join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "kedge cloud: cannot create %s: %s\n", path,
            strerror(errno));
    return -errno;
}

int cloud_main(int argc, char **argv)
{
    const char *data_dir = NULL;
    const char *bind = "127.0.0.1";
    const char *service_cidr = "10.96.0.0/12";
    const char *log_level = "info";
    const char *db_sync = "full";
    const char *advertise = NULL;
    const char *grace = "40s";
    const char *eviction = "0";
    const char *event_ttl = "1h";
    bool no_controllers = false;
    int port = 6443;
    int hub_port = 10000;
    int window = 10000;
    const struct flag flags[] = {
        {"data-dir", FLAG_STRING, &data_dir,
         "directory for the database, PKI and kubeconfig (required)"},
        {"bind-address", FLAG_STRING, &bind, "address to serve the API on"},
        {"secure-port", FLAG_INT, &port,
         "HTTPS port for the Kubernetes API (0 picks a free port)"},
        {"hub-port", FLAG_INT, &hub_port,
         "HTTPS port edges join and connect on (0 picks a free port, -1 "
         "serves no edges)"},
        {"advertise-address", FLAG_STRING, &advertise,
         "address clients use, written to admin.kubeconfig and the "
         "certificate (default: the bind address, or 127.0.0.1)"},
        {"service-cidr", FLAG_STRING, &service_cidr,
         "IPv4 range for service cluster IPs"},
        {"db-sync", FLAG_STRING, &db_sync,
         "database durability: full (survives power loss) or normal "
         "(survives a crash of the process)"},
        {"watch-window", FLAG_INT, &window,
         "recent changes kept in memory for watches that resume"},
        {"node-grace-period", FLAG_STRING, &grace,
         "how long a node may go without renewing its Lease or heartbeat "
         "before it is marked Unknown and tainted unreachable"},
        {"pod-eviction-timeout", FLAG_STRING, &eviction,
         "delete the pods of a node unreachable this long (0: never, the "
         "edge default; per node: annotation kedge.io/eviction-timeout)"},
        {"event-ttl", FLAG_STRING, &event_ttl,
         "how long events are kept after they last happened"},
        {"disable-controllers", FLAG_BOOL, &no_controllers,
         "serve the API only: no controllers, no scheduler"},
        {"log-level", FLAG_STRING, &log_level, "debug, info, warn or error"},
        {0},
    };
    int rc = flags_parse("cloud",
                         "Runs the kedge control plane: a Kubernetes API "
                         "server with its storage.",
                         flags, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    enum log_level lvl;
    if (log_parse_level(log_level, &lvl)) {
        fprintf(stderr, "kedge cloud: --log-level must be debug, info, warn "
                        "or error, not \"%s\"\n", log_level);
        return 2;
    }
    log_set_level(lvl);
    if (!data_dir || !data_dir[0]) {
        fprintf(stderr, "kedge cloud: --data-dir is required (see kedge "
                        "cloud --help)\n");
        return 2;
    }
    if (strcmp(db_sync, "full") != 0 && strcmp(db_sync, "normal") != 0) {
        fprintf(stderr, "kedge cloud: --db-sync must be full or normal, not "
                        "\"%s\"\n", db_sync);
        return 2;
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "kedge cloud: --secure-port must be 0..65535\n");
        return 2;
    }
    if (hub_port < -1 || hub_port > 65535) {
        fprintf(stderr, "kedge cloud: --hub-port must be -1..65535\n");
        return 2;
    }
    if (window < 0) {
        fprintf(stderr, "kedge cloud: --watch-window must be >= 0\n");
        return 2;
    }
    struct ctrl_mgr_config ccfg = {0};
    if (duration_parse_ms(grace, &ccfg.node_grace_ms) || ccfg.node_grace_ms == 0) {
        fprintf(stderr, "kedge cloud: --node-grace-period must be a positive "
                        "duration like 40s or 2m, not \"%s\"\n", grace);
        return 2;
    }
    if (duration_parse_ms(eviction, &ccfg.pod_eviction_ms)) {
        fprintf(stderr, "kedge cloud: --pod-eviction-timeout must be a "
                        "duration like 10m, or 0, not \"%s\"\n", eviction);
        return 2;
    }
    if (duration_parse_ms(event_ttl, &ccfg.event_ttl_ms) ||
        ccfg.event_ttl_ms == 0) {
        fprintf(stderr, "kedge cloud: --event-ttl must be a positive "
                        "duration like 1h, not \"%s\"\n", event_ttl);
        return 2;
    }
    if (!advertise)
        advertise = (strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0)
                        ? "127.0.0.1"
                        : bind;

    char path[4096], pki_dir[4096], err[512];
    if (strlen(data_dir) > 3000) {
        fprintf(stderr, "kedge cloud: --data-dir is too long\n");
        return 2;
    }
    if (make_dir(data_dir))
        return 1;
    path_join(pki_dir, sizeof(pki_dir), data_dir, "pki");
    path_join(path, sizeof(path), data_dir, "db");
    if (make_dir(path))
        return 1;

    char hostname[256] = "";
    gethostname(hostname, sizeof(hostname) - 1);
    const char *dns[] = {hostname[0] ? hostname : "localhost", NULL};
    const char *ips[] = {advertise, bind, NULL};
    rc = pki_ensure(pki_dir, dns, ips, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "kedge cloud: %s\n", err);
        return 1;
    }

    /* Big response buffers (long lists) come from mmap and go back to
     * the system when freed, so a large list does not leave the process
     * holding its peak memory. */
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);

    /* A peer that hangs up mid-response must cost a write error, not the
     * process. */
    signal(SIGPIPE, SIG_IGN);

    struct cloud c = {0};
    c.loop = uv_default_loop();
    struct store_backend *be;
    path_join(path, sizeof(path), data_dir, "db/state.db");
    rc = store_sqlite_open(path, strcmp(db_sync, "full") == 0, &be);
    if (rc == 0)
        rc = store_open(be, window, &c.st);
    if (rc) {
        fprintf(stderr, "kedge cloud: cannot open the database %s: %s\n",
                path, ke_strerror(rc));
        return 1;
    }
    struct apiserver_config cfg = {.service_cidr = service_cidr};
    rc = apiserver_new(c.loop, c.st, &cfg, &c.api);
    if (rc) {
        fprintf(stderr, "kedge cloud: cannot start the API: %s\n",
                ke_strerror(rc));
        store_close(c.st);
        return 1;
    }
    c.ctx = pki_server_ctx(pki_dir, err, sizeof(err));
    if (!c.ctx) {
        fprintf(stderr, "kedge cloud: %s\n", err);
        apiserver_free(c.api);
        store_close(c.st);
        return 1;
    }
    rc = http_server_start(c.loop, bind, port, c.ctx, apiserver_handle, c.api,
                           &c.http);
    if (rc) {
        fprintf(stderr, "kedge cloud: cannot listen on %s:%d: %s\n", bind,
                port, ke_strerror(rc));
        apiserver_free(c.api);
        store_close(c.st);
        SSL_CTX_free(c.ctx);
        return 1;
    }
    port = http_server_port(c.http);
    rc = apiserver_publish_endpoint(c.api, advertise, port);
    if (rc)
        log_warn("cloud", "cannot record the kubernetes service: %s",
                 ke_strerror(rc));

    if (hub_port >= 0) {
        struct cloudhub_config hcfg = {.pki_dir = pki_dir, .bind = bind,
                                       .port = hub_port};
        rc = cloudhub_start(c.loop, c.api, c.st, c.ctx, &hcfg, &c.hub);
        if (rc) {
            fprintf(stderr, "kedge cloud: cannot listen on %s:%d for edges: "
                            "%s\n", bind, hub_port, ke_strerror(rc));
            http_server_stop(c.http);
            apiserver_free(c.api);
            store_close(c.st);
            SSL_CTX_free(c.ctx);
            return 1;
        }
    }
    if (c.hub) {
        ccfg.node_seen = cloudhub_node_seen;
        ccfg.node_seen_arg = c.hub;
    }
    if (!no_controllers) {
        rc = ctrl_mgr_start(c.loop, c.st, c.api, &ccfg, &c.ctrl);
        if (rc)
            log_warn("cloud", "controllers not running: %s", ke_strerror(rc));
    }

    char url[512], kubeconfig[4096], ca[4096], cert[4096], key[4096];
    snprintf(url, sizeof(url), strchr(advertise, ':') ? "https://[%s]:%d"
                                                       : "https://%s:%d",
             advertise, port);
    path_join(kubeconfig, sizeof(kubeconfig), data_dir, "admin.kubeconfig");
    path_join(ca, sizeof(ca), pki_dir, "ca.crt");
    path_join(cert, sizeof(cert), pki_dir, "admin.crt");
    path_join(key, sizeof(key), pki_dir, "admin.key");
    rc = pki_write_kubeconfig(kubeconfig, url, ca, cert, key, "kedge-admin",
                              err, sizeof(err));
    if (rc) {
        fprintf(stderr, "kedge cloud: %s\n", err);
        return 1;
    }

    uv_signal_init(c.loop, &c.sigterm);
    uv_signal_init(c.loop, &c.sigint);
    c.sigterm.data = c.sigint.data = &c;
    uv_signal_start(&c.sigterm, on_signal, SIGTERM);
    uv_signal_start(&c.sigint, on_signal, SIGINT);
    uv_timer_init(c.loop, &c.compact);
    c.compact.data = &c;
    uv_timer_start(&c.compact, on_compact, CLOUD_COMPACT_INTERVAL_MS,
                   CLOUD_COMPACT_INTERVAL_MS);

    log_info("cloud", "serving the Kubernetes API on %s (revision %lld, %zu "
                      "objects)",
             url, (long long)store_revision(c.st), store_count(c.st));
    if (c.hub)
        printf("kedge cloud hub: https://%s:%d (edges join and connect "
               "here)\n", advertise, cloudhub_port(c.hub));
    printf("kedge cloud ready: %s (kubeconfig %s)\n", url, kubeconfig);
    fflush(stdout);

    uv_run(c.loop, UV_RUN_DEFAULT);

    store_close(c.st);
    SSL_CTX_free(c.ctx);
    uv_loop_close(c.loop);
    log_info("cloud", "stopped");
    return 0;
}
