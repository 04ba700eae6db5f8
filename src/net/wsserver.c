/*
 * WebSocket upgrades on the HTTP server: a small binding joins the ws
 * endpoint (bytes out through http_tunnel_write, bytes in from the
 * tunnel's on_data) and reports the end once the tunnel is gone.
 */
#include "net/wsserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct binding {
    struct ws *ws;
    struct http_tunnel *t;
    const struct ws_session_ops *ops;
    void *arg;
    int code;          /* from the ws endpoint when it finished */
    char *reason;
};

static int b_send(void *arg, const void *data, size_t len)
{
    struct binding *b = arg;
    return http_tunnel_write(b->t, data, len);
}

static void b_message(void *arg, enum ws_opcode op, const void *data,
                      size_t len)
{
    struct binding *b = arg;
    b->ops->on_message(b->arg, op, data, len);
}

static void b_ws_close(void *arg, int code, const char *reason)
{
    struct binding *b = arg;
    if (!b->code) {
        b->code = code;
        b->reason = strdup(reason);
    }
    http_tunnel_close(b->t);
}

static const struct ws_ops binding_ws_ops = {b_send, b_message, b_ws_close};

static void t_data(void *arg, const char *data, size_t len)
{
    struct binding *b = arg;
    if (b->ops->on_activity)
        b->ops->on_activity(b->arg);
    ws_feed(b->ws, data, len);
}

static void t_close(void *arg)
{
    struct binding *b = arg;
    b->ops->on_close(b->arg, b->code ? b->code : WS_CLOSE_ABNORMAL,
                     b->code && b->reason ? b->reason : "connection lost");
    ws_free(b->ws);
    free(b->reason);
    free(b);
}

static const struct http_tunnel_ops binding_tunnel_ops = {t_data, t_close};

static void bad_request(struct http_request *req, const char *why,
                        const char *extra)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "WebSocket upgrade refused: %s\n",
                     why);
    http_respond(req, 400, "text/plain", extra, body, (size_t)n);
}

/* True when key is base64 of exactly 16 bytes (24 characters, "=="). */
static bool key_ok(const char *key)
{
    if (!key || strlen(key) != 24 || strcmp(key + 22, "==") != 0)
        return false;
    unsigned char raw[20];
    return EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;
}

int ws_server_upgrade(struct http_request *req,
                      const struct ws_session_ops *ops, void *arg,
                      struct ws **out)
{
    const char *upgrade = http_header(req, "Upgrade");
    const char *connection = http_header(req, "Connection");
    const char *version = http_header(req, "Sec-WebSocket-Version");
    const char *key = http_header(req, "Sec-WebSocket-Key");
    if (strcmp(req->method, "GET") != 0) {
        bad_request(req, "method must be GET", NULL);
        return -EINVAL;
    }
    if (!upgrade || !ws_header_has_token(upgrade, "websocket")) {
        bad_request(req, "missing \"Upgrade: websocket\"", NULL);
        return -EINVAL;
    }
    if (!connection || !ws_header_has_token(connection, "upgrade")) {
        bad_request(req, "Connection header must contain \"Upgrade\"", NULL);
        return -EINVAL;
    }
    if (!version || strcmp(version, "13") != 0) {
        bad_request(req, "Sec-WebSocket-Version must be 13",
                    "Sec-WebSocket-Version: 13\r\n");
        return -EINVAL;
    }
    if (!key_ok(key)) {
        bad_request(req, "Sec-WebSocket-Key must be 16 bytes in base64",
                    NULL);
        return -EINVAL;
    }
    struct binding *b = calloc(1, sizeof(*b));
    if (b)
        b->ws = ws_new(false, &binding_ws_ops, b);
    if (!b || !b->ws) {
        free(b);
        http_respond(req, 500, "text/plain", NULL, "out of memory\n", 14);
        return -ENOMEM;
    }
    b->ops = ops;
    b->arg = arg;
    char accept[WS_ACCEPT_KEY_BYTES];
    ws_accept_key(key, accept);
    char headers[256];
    snprintf(headers, sizeof(headers),
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n",
             accept);
    *out = b->ws;
    int rc = http_upgrade(req, headers, &binding_tunnel_ops, b, &b->t);
    if (rc != 0) {
        ws_free(b->ws);
        free(b);
        *out = NULL;
        return -EPIPE;
    }
    return 0;
}
