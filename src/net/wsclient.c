/*
 * The wss:// client. While the upgrade is in flight a handshake record
 * (request text, key, http-parser for the response) hangs off the client;
 * it is freed once the server answers, so an open connection keeps only
 * the tlsconn and the ws endpoint.
 */
#include "net/wsclient.h"
#include "net/tlsconn.h"
#include "util/buf.h"
#include "util/errors.h"

#include <errno.h>
#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How much of a refusal's body is kept for the error message. */
#define WSCLIENT_ERROR_BODY_BYTES 512

struct handshake {
    http_parser parser;
    char *request;             /* the upgrade request, sent on connect */
    char key[WS_CLIENT_KEY_BYTES];
    size_t head_bytes;
    char field[64];            /* header being parsed (cut) */
    char value[128];
    bool in_value;
    bool upgrade_ok, connection_ok, accept_ok;
    bool complete;             /* the whole response (head + body) */
    char phrase[64];           /* status reason phrase */
    struct buf body;           /* first bytes of a refusal's body */
};

struct wsclient {
    struct tlsconn *tc;
    struct ws *ws;             /* once open */
    struct handshake *hs;      /* until the server answers */
    const struct wsclient_ops *ops;
    void *arg;
    unsigned timeout_ms;
    int code;                  /* the end, once known */
    char *reason;
};

static void handshake_free(struct handshake *hs)
{
    if (!hs)
        return;
    free(hs->request);
    buf_free(&hs->body);
    free(hs);
}

/* Records how the client ended (first call wins) and drops the socket. */
static void end(struct wsclient *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void end(struct wsclient *c, int code, const char *fmt, ...)
{
    if (!c->code) {
        char text[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        c->code = code;
        c->reason = strdup(text);
    }
    tlsconn_close(c->tc);
}

/* ---- the ws endpoint's side -------------------------------------------- */

static int ws_send_cb(void *arg, const void *data, size_t len)
{
    struct wsclient *c = arg;
    return tlsconn_write(c->tc, data, len);
}

static void ws_message_cb(void *arg, enum ws_opcode op, const void *data,
                          size_t len)
{
    struct wsclient *c = arg;
    c->ops->on_message(c->arg, op, data, len);
}

static void ws_close_cb(void *arg, int code, const char *reason)
{
    struct wsclient *c = arg;
    end(c, code, "%s", reason);
}

static const struct ws_ops client_ws_ops = {ws_send_cb, ws_message_cb,
                                            ws_close_cb};

/* ---- the upgrade response ---------------------------------------------- */

static struct handshake *hs_of(http_parser *p) { return p->data; }

static int head_grow(struct handshake *hs, size_t len)
{
    hs->head_bytes += len;
    return hs->head_bytes > WSCLIENT_MAX_HEAD_BYTES ? -1 : 0;
}

static void cat(char *dst, size_t cap, const char *at, size_t len)
{
    size_t have = strlen(dst);
    if (have + 1 >= cap)
        return;
    if (len > cap - have - 1)
        len = cap - have - 1;
    memcpy(dst + have, at, len);
    dst[have + len] = 0;
}

/* Checks the header just completed against what a 101 needs. */
static void header_done(struct handshake *hs)
{
    if (!hs->field[0])
        return;
    if (strcasecmp(hs->field, "Upgrade") == 0)
        hs->upgrade_ok = strcasecmp(hs->value, "websocket") == 0;
    else if (strcasecmp(hs->field, "Connection") == 0)
        hs->connection_ok = ws_header_has_token(hs->value, "upgrade");
    else if (strcasecmp(hs->field, "Sec-WebSocket-Accept") == 0)
        hs->accept_ok = ws_accept_ok(hs->key, hs->value);
    hs->field[0] = 0;
    hs->value[0] = 0;
}

static int on_status(http_parser *p, const char *at, size_t len)
{
    struct handshake *hs = hs_of(p);
    cat(hs->phrase, sizeof(hs->phrase), at, len);
    return head_grow(hs, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct handshake *hs = hs_of(p);
    if (hs->in_value) {
        header_done(hs);
        hs->in_value = false;
    }
    cat(hs->field, sizeof(hs->field), at, len);
    return head_grow(hs, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct handshake *hs = hs_of(p);
    hs->in_value = true;
    cat(hs->value, sizeof(hs->value), at, len);
    return head_grow(hs, len);
}

static int on_headers_complete(http_parser *p)
{
    header_done(hs_of(p));
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct handshake *hs = hs_of(p);
    size_t room = WSCLIENT_ERROR_BODY_BYTES - hs->body.len;
    buf_append(&hs->body, at, len < room ? len : room);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    hs_of(p)->complete = true;
    /* Stop right here: what follows a 101 is WebSocket. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings response_settings = {
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* The server refused: name the status and the body's first line. */
static void refused(struct wsclient *c)
{
    struct handshake *hs = c->hs;
    const char *body = hs->body.data ? hs->body.data : "";
    size_t line = strcspn(body, "\r\n");
    end(c, WS_CLOSE_ABNORMAL, "HTTP %u %s%s%.*s", hs->parser.status_code,
        hs->phrase, line ? ": " : "", (int)line, body);
}

/* Feeds response bytes; on a good 101 the client opens and the rest of
 * data goes to the ws endpoint. */
static void handshake_feed(struct wsclient *c, const char *data, size_t len)
{
    struct handshake *hs = c->hs;
    size_t n = http_parser_execute(&hs->parser, &response_settings, data, len);
    enum http_errno err = HTTP_PARSER_ERRNO(&hs->parser);
    if (err != HPE_OK && err != HPE_PAUSED) {
        end(c, WS_CLOSE_ABNORMAL, "bad upgrade response: %s",
            hs->head_bytes > WSCLIENT_MAX_HEAD_BYTES
                ? "head too large"
                : http_errno_description(err));
        return;
    }
    if (!hs->complete)
        return;
    if (hs->parser.status_code != 101) {
        refused(c);
        return;
    }
    if (!hs->upgrade_ok || !hs->connection_ok || !hs->accept_ok) {
        end(c, WS_CLOSE_ABNORMAL, "bad upgrade response: %s",
            !hs->upgrade_ok      ? "no Upgrade: websocket"
            : !hs->connection_ok ? "no Connection: Upgrade"
                                 : "wrong Sec-WebSocket-Accept");
        return;
    }
    c->ws = ws_new(true, &client_ws_ops, c);
    if (!c->ws) {
        end(c, WS_CLOSE_ABNORMAL, "out of memory");
        return;
    }
    handshake_free(hs);
    c->hs = NULL;
    tlsconn_set_deadline(c->tc, 0, NULL);
    c->ops->on_open(c->arg);
    if (n < len && c->ws && !ws_finished(c->ws) && !c->code)
        ws_feed(c->ws, data + n, len - n);
}

/* ---- the connection's side --------------------------------------------- */

static void tc_connected(void *arg)
{
    struct wsclient *c = arg;
    struct handshake *hs = c->hs;
    if (tlsconn_write(c->tc, hs->request, strlen(hs->request)) != 0)
        return; /* the tlsconn closes itself */
    free(hs->request);
    hs->request = NULL;
    tlsconn_set_deadline(c->tc, c->timeout_ms,
                         "no answer to the WebSocket upgrade");
}

static void tc_data(void *arg, const char *data, size_t len)
{
    struct wsclient *c = arg;
    if (c->code)
        return;
    if (c->hs)
        handshake_feed(c, data, len);
    else
        ws_feed(c->ws, data, len);
}

static void tc_closed(void *arg, int err, const char *msg)
{
    struct wsclient *c = arg;
    if (!c->code && c->hs && c->hs->parser.status_code >= 200 &&
        c->hs->parser.status_code != 101) {
        /* A refusal whose body ran until the connection closed. */
        refused(c);
    }
    int code = c->code ? c->code : WS_CLOSE_ABNORMAL;
    const char *reason = c->reason ? c->reason : err ? msg : "closed";
    c->ops->on_close(c->arg, code, reason);
    ws_free(c->ws);
    handshake_free(c->hs);
    free(c->reason);
    free(c);
}

static const struct tlsconn_ops client_tc_ops = {tc_connected, tc_data,
                                                 tc_closed};

/* True when s has no CR or LF (header injection). */
static bool one_line(const char *s)
{
    return !s || strpbrk(s, "\r\n") == NULL;
}

int wsclient_connect(uv_loop_t *loop, const struct wsclient_config *cfg,
                     const struct wsclient_ops *ops, void *arg,
                     struct wsclient **out)
{
    const char *path = cfg->path ? cfg->path : "/";
    if (!cfg->host || !*cfg->host || !one_line(cfg->host) ||
        !one_line(path) || path[0] != '/' || strchr(path, ' ') ||
        !one_line(cfg->servername))
        return -EINVAL;
    const char *extra = cfg->extra_headers ? cfg->extra_headers : "";
    size_t xl = strlen(extra);
    if (xl && (xl < 2 || strcmp(extra + xl - 2, "\r\n") != 0))
        return -EINVAL;
    struct wsclient *c = calloc(1, sizeof(*c));
    struct handshake *hs = calloc(1, sizeof(*hs));
    if (!c || !hs)
        goto nomem;
    c->ops = ops;
    c->arg = arg;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    c->hs = hs;
    buf_init(&hs->body, WSCLIENT_ERROR_BODY_BYTES);
    http_parser_init(&hs->parser, HTTP_RESPONSE);
    hs->parser.data = hs;
    if (ws_client_key(hs->key) != 0)
        goto nomem;
    const char *hostname = cfg->servername ? cfg->servername : cfg->host;
    bool v6 = strchr(hostname, ':') != NULL;
    struct buf req;
    buf_init(&req, 0);
    if (buf_printf(&req,
                   "GET %s HTTP/1.1\r\n"
                   "Host: %s%s%s:%d\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "%s\r\n",
                   path, v6 ? "[" : "", hostname, v6 ? "]" : "", cfg->port,
                   hs->key, extra) != 0) {
        buf_free(&req);
        goto nomem;
    }
    hs->request = buf_steal(&req, NULL);
    int rc = tlsconn_connect_as(loop, cfg->host, cfg->port, cfg->ctx,
                                cfg->cert, cfg->key, cfg->servername,
                                cfg->timeout_ms, &client_tc_ops, c, &c->tc);
    if (rc != 0) {
        handshake_free(hs);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
nomem:
    handshake_free(hs);
    free(c);
    return -ENOMEM;
}

int wsclient_send(struct wsclient *c, bool binary, const void *data,
                  size_t len)
{
    if (c->code)
        return -EPIPE;
    if (!c->ws)
        return -ENOTCONN;
    return ws_send(c->ws, binary, data, len);
}

int wsclient_ping(struct wsclient *c)
{
    if (c->code)
        return -EPIPE;
    if (!c->ws)
        return -ENOTCONN;
    return ws_ping(c->ws);
}

size_t wsclient_queued(const struct wsclient *c)
{
    return tlsconn_queued(c->tc);
}

void wsclient_close(struct wsclient *c, int code, const char *reason)
{
    if (c->code)
        return;
    if (!c->ws) {
        end(c, WS_CLOSE_ABNORMAL, "closed before the WebSocket opened");
        return;
    }
    if (ws_close(c->ws, code, reason) == 0 && !c->code)
        tlsconn_set_deadline(c->tc, WSCLIENT_CLOSE_TIMEOUT_MS,
                             "no answer to the WebSocket close");
}
