#include "cloudhub/internal.h"
#include "http/server.h"
#include "join/join_server.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void respond_error(struct http_request *req, int code, const char *msg)
{
    char body[700];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
    http_respond(req, code, "application/json", NULL, body, (size_t)n);
}

static void serve_ca(struct cloudhub *h, struct http_request *req)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/ca.crt", h->pki_dir);
    FILE *f = fopen(path, "rb");
    char pem[16384];
    size_t n = f ? fread(pem, 1, sizeof(pem), f) : 0;
    if (f)
        fclose(f);
    if (n == 0 || n == sizeof(pem)) {
        respond_error(req, 500, "the CA certificate is unreadable");
        return;
    }
    http_respond(req, 200, "application/x-pem-file", NULL, pem, n);
}

static void handle(void *arg, struct http_request *req)
{
    struct cloudhub *h = arg;
    if (strcmp(req->path, "/ca.crt") == 0 && strcmp(req->method, "GET") == 0) {
        serve_ca(h, req);
    } else if (strcmp(req->path, "/join") == 0 &&
               strcmp(req->method, "POST") == 0) {
        if (req->body_too_large) {
            respond_error(req, 413, "the join request is too large");
            return;
        }
        struct buf out;
        buf_init(&out, 0);
        int code = join_server_handle(h->api, h->pki_dir, req->body.data,
                                      req->body.len, req->remote, &out);
        http_respond(req, code, "application/json", NULL, out.data, out.len);
        buf_free(&out);
    } else if (strcmp(req->path, "/hub") == 0) {
        hub_session_accept(h, req);
    } else if (strcmp(req->path, "/healthz") == 0) {
        http_respond(req, 200, "text/plain", NULL, "ok", 2);
    } else {
        respond_error(req, 404, "not found");
    }
}

void hub_unref(struct cloudhub *h)
{
    if (--h->refs > 0)
        return;
    hub_seen_free(h);
    graph_free(h->graph);
    free(h->pki_dir);
    free(h);
}

int cloudhub_start(uv_loop_t *loop, struct apiserver *api, struct store *st,
                   SSL_CTX *ctx, const struct cloudhub_config *cfg,
                   struct cloudhub **out)
{
    struct cloudhub *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->loop = loop;
    h->api = api;
    h->st = st;
    h->pki_dir = strdup(cfg->pki_dir);
    int rc = h->pki_dir ? hub_sessions_start(h) : -ENOMEM;
    if (rc == 0)
        rc = http_server_start(loop, cfg->bind, cfg->port, ctx, handle, h,
                               &h->http);
    if (rc) {
        if (h->watch)
            store_unwatch(st, h->watch);
        if (h->refs) { /* the timer is running: close it, then free */
            h->refs++;
            hub_sessions_stop(h);
            hub_unref(h);
            return rc;
        }
        graph_free(h->graph);
        free(h->pki_dir);
        free(h);
        return rc;
    }
    hub_authz_install(h);
    apiserver_add_metrics(api, hub_metrics, h);
    *out = h;
    return 0;
}

int cloudhub_port(const struct cloudhub *h) { return http_server_port(h->http); }

void cloudhub_stop(struct cloudhub *h)
{
    if (!h)
        return;
    h->stopping = true;
    apiserver_set_authorizer(h->api, NULL, NULL);
    apiserver_add_metrics(h->api, NULL, h);
    hub_sessions_stop(h);
    http_server_stop(h->http);
    h->http = NULL;
}
