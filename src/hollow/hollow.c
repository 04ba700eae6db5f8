/*
 * `kedge hollow`: many simulated edge nodes in one process, for scale
 * tests. Each node joins with its own identity, keeps its own session
 * speaking the real protocol (docs/protocol.md), registers its Node, and
 * runs a fake runtime: every pod bound to it is reported Running at once
 * (and a pod being deleted is removed, as a kubelet does). Nothing is
 * persisted except, with --data-dir, the nodes' credentials.
 */
#include "hollow/hollow.h"
#include "join/token.h"
#include "net/wsclient.h"
#include "pki/pki.h"
#include "resources/jsonutil.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/flags.h"
#include "util/https.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define HOLLOW_TICK_MS 50
/* Connection attempts under way at once: past what the two ends' TLS
 * handshakes can absorb, attempts only time out and back off. */
#define HOLLOW_MAX_CONNECTING 256
#define HOLLOW_PING_EVERY_MS (15 * 1000)
#define HOLLOW_STATS_EVERY_MS (10 * 1000)

struct hnode {
    struct hollow *h;
    int index;
    char name[128];
    X509 *cert;
    EVP_PKEY *key;
    struct wsclient *ws;
    bool open;
    bool catching_up;      /* between welcome and sync/snapshot-end */
    bool registered;
    int64_t rev;           /* applied cloud revision */
    int64_t acked;         /* last acked */
    int64_t req_id;
    int64_t status_req;    /* id of the node status request, 0 = none */
    uint64_t reconnect_at; /* uv_now when to connect again, 0 = not now */
    int failures;
    int pod_seq;
};

struct hollow {
    uv_loop_t *loop;
    SSL_CTX *ctx;
    char host[256];
    int port;
    struct hnode *nodes;
    int n;
    int pods_per_node;
    int connect_rate;
    int next_connect;       /* nodes connected at least once */
    int connected;
    int connecting;         /* attempts not yet open or failed */
    long pods_running;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    uint64_t last_ping_ms;
    uint64_t last_stats_ms;
    uint64_t start_ms;
    bool all_connected_logged;
    bool stopping;
};

/* ---- messages --------------------------------------------------------- */

static void send_json(struct hnode *n, struct json_object *m)
{
    size_t len;
    const char *s = json_object_to_json_string_length(
        m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (n->ws && n->open)
        wsclient_send(n->ws, false, s, len);
}

static int64_t request(struct hnode *n, const char *method, const char *path,
                       const char *ctype, struct json_object *body)
{
    struct json_object *m = json_object_new_object();
    ju_set_str(m, "type", "request");
    ju_set_int(m, "id", ++n->req_id);
    ju_set_str(m, "method", method);
    ju_set_str(m, "path", path);
    if (ctype)
        ju_set_str(m, "contentType", ctype);
    if (body)
        json_object_object_add(m, "body", body);
    send_json(n, m);
    json_object_put(m);
    return n->req_id;
}

/* The node's address and its pods' range: 100.64.0.0/10, 32 per node. */
static void node_ip(const struct hnode *n, int host, char *out, size_t len)
{
    unsigned v = (100u << 24) | (64u << 16);
    v += (unsigned)n->index * 32u + (unsigned)host;
    snprintf(out, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255,
             v & 255);
}

static void register_node(struct hnode *n)
{
    struct hollow *h = n->h;
    char ts[32], ip[32], pods[16];
    time_now_rfc3339(ts);
    struct json_object *node = json_object_new_object();
    ju_set_str(node, "apiVersion", "v1");
    ju_set_str(node, "kind", "Node");
    struct json_object *md = ju_obj_ensure(node, "metadata");
    ju_set_str(md, "name", n->name);
    struct json_object *labels = ju_obj_ensure(md, "labels");
    ju_set_str(labels, "kubernetes.io/hostname", n->name);
    ju_set_str(labels, "kubernetes.io/os", "linux");
    ju_set_str(labels, "kubernetes.io/arch", "amd64");
    ju_set_str(labels, "node-role.kubernetes.io/edge", "");
    ju_set_str(labels, "kedge.io/hollow", "true");
    ju_set_str(ju_obj_ensure(md, "annotations"), "kedge.io/joined-at", ts);
    request(n, "POST", "/api/v1/nodes", NULL, node);

    struct json_object *st = json_object_new_object();
    struct json_object *status = ju_obj_ensure(st, "status");
    snprintf(pods, sizeof(pods), "%d", h->pods_per_node);
    const char *sets[] = {"capacity", "allocatable"};
    for (int i = 0; i < 2; i++) {
        struct json_object *cap = ju_obj_ensure(status, sets[i]);
        ju_set_str(cap, "cpu", "4");
        ju_set_str(cap, "memory", "8Gi");
        ju_set_str(cap, "pods", pods);
    }
    struct json_object *conds = json_object_new_array();
    const char *types[] = {"Ready", "MemoryPressure", "DiskPressure",
                           "PIDPressure"};
    for (int i = 0; i < 4; i++) {
        struct json_object *c = json_object_new_object();
        ju_set_str(c, "type", types[i]);
        ju_set_str(c, "status", i == 0 ? "True" : "False");
        ju_set_str(c, "reason", i == 0 ? "KubeletReady" : "KubeletHasNoPressure");
        ju_set_str(c, "message", i == 0 ? "hollow node is ready"
                                        : "hollow node has no pressure");
        ju_set_str(c, "lastHeartbeatTime", ts);
        ju_set_str(c, "lastTransitionTime", ts);
        json_object_array_add(conds, c);
    }
    json_object_object_add(status, "conditions", conds);
    struct json_object *addrs = json_object_new_array();
    struct json_object *a = json_object_new_object();
    node_ip(n, 0, ip, sizeof(ip));
    ju_set_str(a, "type", "InternalIP");
    ju_set_str(a, "address", ip);
    json_object_array_add(addrs, a);
    a = json_object_new_object();
    ju_set_str(a, "type", "Hostname");
    ju_set_str(a, "address", n->name);
    json_object_array_add(addrs, a);
    json_object_object_add(status, "addresses", addrs);
    struct json_object *info = ju_obj_ensure(status, "nodeInfo");
    ju_set_str(info, "kubeletVersion", "v1.32.0-kedge-hollow");
    ju_set_str(info, "containerRuntimeVersion", "kedge://fake");
    ju_set_str(info, "operatingSystem", "linux");
    ju_set_str(info, "architecture", "amd64");
    ju_set_str(info, "osImage", "kedge hollow node");
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", n->name);
    n->status_req = request(n, "PATCH", path, "application/merge-patch+json", st);
}

/* The fake runtime: a bound pod runs at once; one being deleted goes. */
static void on_pod(struct hnode *n, struct json_object *pod)
{
    struct json_object *md = ju_obj(pod, "metadata");
    const char *ns = ju_str(md, "namespace"), *name = ju_str(md, "name");
    if (!ns || !name)
        return;
    char path[600];
    if (ju_str(md, "deletionTimestamp")) {
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0", ns, name);
        struct json_object *opts = json_object_new_object();
        ju_set_str(opts, "kind", "DeleteOptions");
        ju_set_str(opts, "apiVersion", "v1");
        const char *uid = ju_str(md, "uid");
        if (uid)
            ju_set_str(ju_obj_ensure(opts, "preconditions"), "uid", uid);
        request(n, "DELETE", path, NULL, opts);
        return;
    }
    const char *phase = ju_str(ju_obj(pod, "status"), "phase");
    if (phase && strcmp(phase, "Running") == 0)
        return;
    char ts[32], ip[32], host[32];
    time_now_rfc3339(ts);
    node_ip(n, 1 + n->pod_seq++ % 30, ip, sizeof(ip));
    node_ip(n, 0, host, sizeof(host));
    struct json_object *patch = json_object_new_object();
    struct json_object *st = ju_obj_ensure(patch, "status");
    ju_set_str(st, "phase", "Running");
    ju_set_str(st, "hostIP", host);
    ju_set_str(st, "podIP", ip);
    struct json_object *ips = json_object_new_array();
    struct json_object *ipo = json_object_new_object();
    ju_set_str(ipo, "ip", ip);
    json_object_array_add(ips, ipo);
    json_object_object_add(st, "podIPs", ips);
    ju_set_str(st, "startTime", ts);
    struct json_object *conds = json_object_new_array();
    const char *types[] = {"PodScheduled", "Initialized", "ContainersReady",
                           "Ready"};
    for (int i = 0; i < 4; i++) {
        struct json_object *c = json_object_new_object();
        ju_set_str(c, "type", types[i]);
        ju_set_str(c, "status", "True");
        ju_set_str(c, "lastTransitionTime", ts);
        json_object_array_add(conds, c);
    }
    json_object_object_add(st, "conditions", conds);
    struct json_object *cs = json_object_new_array();
    struct json_object *containers = ju_arr(ju_obj(pod, "spec"), "containers");
    for (size_t i = 0; i < ju_len(containers); i++) {
        struct json_object *c = ju_idx_obj(containers, i);
        struct json_object *s = json_object_new_object();
        char cid[300];
        snprintf(cid, sizeof(cid), "fake://%s/%s/%s", ns, name,
                 ju_str(c, "name") ? ju_str(c, "name") : "");
        ju_set_str(s, "name", ju_str(c, "name") ? ju_str(c, "name") : "");
        ju_set_str(s, "image", ju_str(c, "image") ? ju_str(c, "image") : "");
        ju_set_str(s, "imageID", "");
        ju_set_str(s, "containerID", cid);
        ju_set_bool(s, "ready", true);
        ju_set_bool(s, "started", true);
        ju_set_int(s, "restartCount", 0);
        ju_set_str(ju_obj_ensure(ju_obj_ensure(s, "state"), "running"),
                   "startedAt", ts);
        json_object_array_add(cs, s);
    }
    json_object_object_add(st, "containerStatuses", cs);
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status", ns,
             name);
    request(n, "PATCH", path, "application/merge-patch+json", patch);
    n->h->pods_running++;
}

/* Applies a revision; live changes are acknowledged at once. */
static void advance(struct hnode *n, int64_t rev)
{
    if (rev > n->rev)
        n->rev = rev;
    if (!n->catching_up && n->open && n->rev > n->acked) {
        char ack[64];
        int len = snprintf(ack, sizeof(ack), "{\"type\":\"ack\",\"rev\":%lld}",
                           (long long)n->rev);
        wsclient_send(n->ws, false, ack, (size_t)len);
        n->acked = n->rev;
    }
}

static void on_message(void *arg, enum ws_opcode op, const void *data,
                       size_t len)
{
    struct hnode *n = arg;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *m = tok ? json_tokener_parse_ex(tok, data, (int)len)
                                : NULL;
    json_tokener_free(tok);
    const char *type = ju_str(m, "type");
    int64_t rev = 0;
    ju_int(m, "rev", &rev);
    if (!type) {
        /* not ours to judge: the cloud speaks JSON */
    } else if (strcmp(type, "welcome") == 0) {
        n->catching_up = true;
    } else if (strcmp(type, "sync") == 0 ||
               strcmp(type, "snapshot-end") == 0) {
        n->catching_up = false;
        advance(n, rev);
    } else if (strcmp(type, "put") == 0) {
        const char *key = ju_str(m, "key");
        if (key && strncmp(key, "/registry/core/pods/", 20) == 0)
            on_pod(n, ju_obj(m, "object"));
        if (!n->catching_up)
            advance(n, rev);
    } else if (strcmp(type, "delete") == 0) {
        if (!n->catching_up)
            advance(n, rev);
    } else if (strcmp(type, "response") == 0) {
        int64_t id = 0, code = 0;
        ju_int(m, "id", &id);
        ju_int(m, "code", &code);
        if (id == n->status_req) {
            n->status_req = 0;
            n->registered = code == 200;
            if (code != 200)
                log_warn("hollow", "%s: node status refused: %lld %s",
                         n->name, (long long)code,
                         ju_str(ju_obj(m, "body"), "message")
                             ? ju_str(ju_obj(m, "body"), "message") : "");
        }
    }
    json_object_put(m);
}

/* ---- connections ------------------------------------------------------ */

static void connect_node(struct hnode *n);

static void on_open(void *arg)
{
    struct hnode *n = arg;
    n->open = true;
    n->failures = 0;
    n->h->connected++;
    n->h->connecting--;
    struct json_object *m = json_object_new_object();
    ju_set_str(m, "type", "hello");
    ju_set_str(m, "node", n->name);
    ju_set_int(m, "rev", n->rev);
    ju_set_str(m, "version", "kedge hollow");
    send_json(n, m);
    json_object_put(m);
    if (!n->registered)
        register_node(n);
}

static void on_close(void *arg, int code, const char *reason)
{
    struct hnode *n = arg;
    if (n->open)
        n->h->connected--;
    else
        n->h->connecting--;
    n->open = false;
    n->ws = NULL;
    if (n->h->stopping)
        return;
    n->failures++;
    if (n->failures <= 2 || n->failures % 10 == 0)
        log_warn("hollow", "%s: disconnected (%d %s)", n->name, code, reason);
    else
        log_debug("hollow", "%s: disconnected (%d %s)", n->name, code, reason);
    uint64_t backoff = 1000u << (n->failures < 4 ? n->failures : 4);
    n->reconnect_at = uv_now(n->h->loop) + backoff / 2 +
                      (uint64_t)(rand() % (int)(backoff / 2 + 1));
}

static const struct wsclient_ops ws_ops = {on_open, on_message, on_close};

static void connect_node(struct hnode *n)
{
    struct hollow *h = n->h;
    struct wsclient_config cfg = {.host = h->host, .port = h->port,
                                  .ctx = h->ctx, .path = "/hub",
                                  .cert = n->cert, .key = n->key};
    n->reconnect_at = 0;
    if (wsclient_connect(h->loop, &cfg, &ws_ops, n, &n->ws) != 0) {
        n->ws = NULL;
        n->reconnect_at = uv_now(h->loop) + 5000;
        return;
    }
    h->connecting++;
}

static void on_tick(uv_timer_t *t)
{
    struct hollow *h = t->data;
    uint64_t now = uv_now(h->loop);
    /* New connections, paced. */
    int budget = h->connect_rate * HOLLOW_TICK_MS / 1000;
    if (budget < 1)
        budget = 1;
    while (budget-- > 0 && h->next_connect < h->n &&
           h->connecting < HOLLOW_MAX_CONNECTING)
        connect_node(&h->nodes[h->next_connect++]);
    bool ping = now - h->last_ping_ms >= HOLLOW_PING_EVERY_MS;
    if (ping)
        h->last_ping_ms = now;
    for (int i = 0; i < h->next_connect; i++) {
        struct hnode *n = &h->nodes[i];
        if (n->open && ping)
            wsclient_ping(n->ws);
        if (!n->ws && n->reconnect_at && now >= n->reconnect_at &&
            h->connecting < HOLLOW_MAX_CONNECTING)
            connect_node(n);
    }
    if (!h->all_connected_logged && h->connected == h->n) {
        h->all_connected_logged = true;
        log_info("hollow", "all %d nodes connected in %.1f s", h->n,
                 (double)(now - h->start_ms) / 1000.0);
        printf("kedge hollow: %d nodes connected\n", h->n);
        fflush(stdout);
    }
    if (now - h->last_stats_ms >= HOLLOW_STATS_EVERY_MS) {
        h->last_stats_ms = now;
        log_info("hollow", "%d/%d nodes connected, %ld pods started",
                 h->connected, h->n, h->pods_running);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct hollow *h = s->data;
    log_info("hollow", "stopping %d nodes", h->n);
    h->stopping = true;
    uv_timer_stop(&h->tick);
    uv_close((uv_handle_t *)&h->tick, NULL);
    uv_signal_stop(&h->sigint);
    uv_signal_stop(&h->sigterm);
    uv_close((uv_handle_t *)&h->sigint, NULL);
    uv_close((uv_handle_t *)&h->sigterm, NULL);
    for (int i = 0; i < h->n; i++)
        if (h->nodes[i].ws)
            wsclient_close(h->nodes[i].ws, WS_CLOSE_GOING_AWAY, "stopping");
}

/* ---- identities ------------------------------------------------------- */

static int load_pem(const char *cert_pem, const char *key_pem, X509 **cert,
                    EVP_PKEY **key)
{
    BIO *b = BIO_new_mem_buf(cert_pem, -1);
    *cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    b = BIO_new_mem_buf(key_pem, -1);
    *key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return *cert && *key ? 0 : -KE_CORRUPT;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 1024 * 1024);
    char chunk[4096];
    size_t r;
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, r);
    fclose(f);
    return buf_steal(&b, NULL);
}

/* Loads a node's saved identity, or joins it (and saves it). */
static int identity(struct hollow *h, struct hnode *n, const char *dir,
                    struct https_client *cl, const char *url,
                    const char *token)
{
    char crt[4200], key[4200];
    if (dir) {
        snprintf(crt, sizeof(crt), "%s/%s.crt", dir, n->name);
        snprintf(key, sizeof(key), "%s/%s.key", dir, n->name);
        char *c = slurp(crt), *k = slurp(key);
        int rc = c && k ? load_pem(c, k, &n->cert, &n->key) : -ENOENT;
        free(c);
        free(k);
        if (rc == 0)
            return 0;
    }
    char cn[200], e[512], *key_pem, *csr_pem;
    snprintf(cn, sizeof(cn), "system:node:%s", n->name);
    int rc = pki_make_key_and_csr(cn, "system:nodes", &key_pem, &csr_pem, e,
                                  sizeof(e));
    if (rc) {
        fprintf(stderr, "kedge hollow: %s\n", e);
        return rc;
    }
    struct json_object *req = json_object_new_object();
    ju_set_str(req, "token", token);
    ju_set_str(req, "node", n->name);
    ju_set_str(req, "csr", csr_pem);
    size_t len;
    const char *body = json_object_to_json_string_length(
        req, JSON_C_TO_STRING_PLAIN, &len);
    struct buf ans;
    buf_init(&ans, 0);
    int code = https_client_request(cl, "POST", url, "application/json", body,
                                    len, &ans, e, sizeof(e));
    json_object_put(req);
    free(csr_pem);
    struct json_object *res = code == 200 ? json_tokener_parse(ans.data) : NULL;
    const char *cert = ju_str(res, "certificate");
    if (!cert) {
        struct json_object *err = code > 0 ? json_tokener_parse(ans.data) : NULL;
        fprintf(stderr, "kedge hollow: cannot join %s: %s\n", n->name,
                code < 0 ? e : ju_str(err, "error") ? ju_str(err, "error")
                                                     : "unexpected answer");
        json_object_put(err);
        rc = -KE_INVALID;
    } else {
        rc = load_pem(cert, key_pem, &n->cert, &n->key);
        if (rc == 0 && dir &&
            (pki_write_file(key, key_pem, strlen(key_pem), 0600, e, sizeof(e)) ||
             pki_write_file(crt, cert, strlen(cert), 0644, e, sizeof(e))))
            fprintf(stderr, "kedge hollow: cannot save %s: %s\n", n->name, e);
    }
    (void)h;
    json_object_put(res);
    buf_free(&ans);
    free(key_pem);
    return rc;
}

/* ---- main ------------------------------------------------------------- */

static int parse_url(const char *url, char *host, size_t hostlen, int *port)
{
    if (strncmp(url, "https://", 8) != 0)
        return -1;
    const char *h = url + 8;
    const char *end;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || end[1] != ':')
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(end - h - 1), h + 1);
        end++;
    } else {
        end = strrchr(h, ':');
        if (!end)
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

int hollow_main(int argc, char **argv)
{
    const char *cloud = NULL, *token = NULL, *prefix = "hollow-",
               *dir = NULL, *log_level = "info";
    int nodes = 1, pods = 110, rate = 500;
    const struct flag flags[] = {
        {"cloud", FLAG_STRING, &cloud, "the cloud's hub, https://HOST:PORT"},
        {"token", FLAG_STRING, &token, "join token (kedge token create)"},
        {"nodes", FLAG_INT, &nodes, "how many nodes to simulate"},
        {"pods-per-node", FLAG_INT, &pods, "pods each node can hold "
                                           "(allocatable pods)"},
        {"name-prefix", FLAG_STRING, &prefix, "node names: PREFIX0, PREFIX1, ..."},
        {"data-dir", FLAG_STRING, &dir, "keep the nodes' credentials here, so "
                                        "a restart reuses them (default: "
                                        "none)"},
        {"connect-rate", FLAG_INT, &rate, "new sessions per second"},
        {"log-level", FLAG_STRING, &log_level, "debug, info, warn or error"},
        {0},
    };
    int rc = flags_parse("hollow", "Simulates edge nodes speaking the real "
                                   "protocol, with a fake runtime.",
                         flags, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    enum log_level lvl;
    if (log_parse_level(log_level, &lvl)) {
        fprintf(stderr, "kedge hollow: bad --log-level \"%s\"\n", log_level);
        return 2;
    }
    log_set_level(lvl);
    struct hollow h = {0};
    if (!cloud || parse_url(cloud, h.host, sizeof(h.host), &h.port)) {
        fprintf(stderr, "kedge hollow: --cloud must be https://HOST:PORT "
                        "(the cloud's hub port)\n");
        return 2;
    }
    struct join_token t;
    char e[600];
    if (!token || token_parse(token, &t, e, sizeof(e))) {
        fprintf(stderr, "kedge hollow: --token: %s\n",
                token ? e : "required (kedge token create)");
        return 2;
    }
    if (nodes < 1 || nodes > 1000000 || pods < 1 || rate < 1) {
        fprintf(stderr, "kedge hollow: --nodes (1..1000000), --pods-per-node "
                        "and --connect-rate must be positive\n");
        return 2;
    }
    if (strlen(prefix) > 40) {
        fprintf(stderr, "kedge hollow: --name-prefix is too long\n");
        return 2;
    }
    char tmp[] = "/tmp/kedge-hollow-XXXXXX";
    if (dir && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kedge hollow: cannot create %s: %s\n", dir,
                strerror(errno));
        return 1;
    }
    const char *cadir = dir ? dir : mkdtemp(tmp);
    if (!cadir) {
        fprintf(stderr, "kedge hollow: cannot create a temporary directory\n");
        return 1;
    }
    char ca[4200], url[600];
    snprintf(ca, sizeof(ca), "%s/ca.crt", cadir);
    struct buf ans;
    buf_init(&ans, 0);
    struct https_opts insecure = {.insecure = true};
    snprintf(url, sizeof(url), "%s/ca.crt", cloud);
    int code = https_request("GET", url, &insecure, NULL, NULL, 0, &ans, e,
                             sizeof(e));
    char hash[65] = "";
    if (code == 200 &&
        pki_write_file(ca, ans.data, ans.len, 0644, e, sizeof(e)) == 0)
        pki_cert_fingerprint(ca, hash, sizeof(hash), e, sizeof(e));
    buf_free(&ans);
    if (strcmp(hash, t.ca_hash) != 0) {
        fprintf(stderr, "kedge hollow: %s\n",
                code != 200 ? "cannot fetch the cloud's CA (check --cloud)"
                            : "the cloud's CA does not match the token");
        return 1;
    }
    h.ctx = pki_client_ctx(ca, NULL, NULL, e, sizeof(e));
    if (!h.ctx) {
        fprintf(stderr, "kedge hollow: %s\n", e);
        return 1;
    }
    h.n = nodes;
    h.pods_per_node = pods;
    h.connect_rate = rate;
    h.nodes = calloc((size_t)nodes, sizeof(*h.nodes));
    if (!h.nodes) {
        fprintf(stderr, "kedge hollow: out of memory\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct https_opts verified = {.ca_file = ca};
    struct https_client *cl = NULL;
    cl = https_client_new(&verified);
    snprintf(url, sizeof(url), "%s/join", cloud);
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < nodes; i++) {
        struct hnode *n = &h.nodes[i];
        n->h = &h;
        n->index = i;
        snprintf(n->name, sizeof(n->name), "%s%d", prefix, i);
        if (identity(&h, n, dir, cl, url, token) != 0) {
            rc = 1;
            break;
        }
        if ((i + 1) % 1000 == 0)
            log_info("hollow", "%d/%d nodes have credentials", i + 1, nodes);
    }
    https_client_free(cl);
    if (!dir) { /* the context holds the CA now */
        unlink(ca);
        rmdir(cadir);
    }
    if (rc)
        return 1;
    log_info("hollow", "%d identities ready in %.1f s", nodes,
             (double)(uv_hrtime() - t0) / 1e9);

    h.loop = uv_default_loop();
    h.start_ms = uv_now(h.loop);
    h.last_ping_ms = h.last_stats_ms = h.start_ms;
    uv_timer_init(h.loop, &h.tick);
    h.tick.data = &h;
    uv_timer_start(&h.tick, on_tick, 0, HOLLOW_TICK_MS);
    uv_signal_init(h.loop, &h.sigint);
    uv_signal_init(h.loop, &h.sigterm);
    h.sigint.data = h.sigterm.data = &h;
    uv_signal_start(&h.sigint, on_signal, SIGINT);
    uv_signal_start(&h.sigterm, on_signal, SIGTERM);
    uv_run(h.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < nodes; i++) {
        X509_free(h.nodes[i].cert);
        EVP_PKEY_free(h.nodes[i].key);
    }
    free(h.nodes);
    SSL_CTX_free(h.ctx);
    uv_loop_close(h.loop);
    return 0;
}
