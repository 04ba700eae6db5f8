/*
 * The WebSocket endpoint: wslay's event context driven from memory.
 * ws_feed lends wslay the received bytes through the recv callback (which
 * says "would block" once they are used up) and everything wslay writes
 * goes straight to the transport's send. Calls made from inside a
 * callback (an echo from on_message) only queue; the outer call flushes.
 */
#include "net/ws.h"
#include "util/errors.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ws {
    wslay_event_context_ptr ctx;
    const struct ws_ops *ops;
    void *arg;
    const uint8_t *in;   /* bytes lent by ws_feed, not yet read by wslay */
    size_t inlen;
    int depth;           /* > 0 while inside wslay (callbacks may run) */
    bool finished;       /* on_close was called */
    bool send_failed;    /* the transport refused bytes */
    bool bad_frame;      /* wslay's frame layer refused the input */
    bool got_reason;
    char reason[WS_MAX_REASON_BYTES + 1]; /* from the peer's close frame */
};

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                       int flags, void *user)
{
    struct ws *ws = user;
    (void)flags;
    if (ws->inlen == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < ws->inlen ? len : ws->inlen;
    memcpy(buf, ws->in, n);
    ws->in += n;
    ws->inlen -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
                       size_t len, int flags, void *user)
{
    struct ws *ws = user;
    (void)flags;
    if (ws->send_failed || ws->ops->send(ws->arg, data, len) != 0) {
        ws->send_failed = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                      void *user)
{
    (void)user;
    if (RAND_bytes(buf, (int)len) != 1) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

static void on_msg_recv_cb(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_msg_recv_arg *arg,
                           void *user)
{
    struct ws *ws = user;
    (void)ctx;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
    case WSLAY_BINARY_FRAME:
        if (!ws->finished)
            ws->ops->on_message(ws->arg,
                                arg->opcode == WSLAY_TEXT_FRAME ? WS_TEXT
                                                                : WS_BINARY,
                                arg->msg, arg->msg_length);
        break;
    case WSLAY_CONNECTION_CLOSE:
        if (arg->msg_length > 2) {
            size_t n = arg->msg_length - 2;
            if (n > WS_MAX_REASON_BYTES)
                n = WS_MAX_REASON_BYTES;
            memcpy(ws->reason, arg->msg + 2, n);
            ws->reason[n] = 0;
            ws->got_reason = true;
        }
        break;
    default: /* ping (answered by wslay), pong */
        break;
    }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = genmask_cb,
    .on_msg_recv_callback = on_msg_recv_cb,
};

static const char *code_text(int code)
{
    switch (code) {
    case WS_CLOSE_PROTOCOL_ERROR: return "protocol error";
    case WS_CLOSE_INVALID_DATA: return "invalid UTF-8 in a text message";
    case WS_CLOSE_TOO_BIG: return "message too big";
    case WS_CLOSE_INTERNAL: return "internal error";
    default: return "";
    }
}

/* Calls on_close once the endpoint can neither read nor write. */
static void check_finished(struct ws *ws)
{
    if (ws->finished || ws->depth > 0)
        return;
    bool done = !wslay_event_get_read_enabled(ws->ctx) &&
                !wslay_event_get_write_enabled(ws->ctx);
    if (!done && !ws->send_failed)
        return;
    ws->finished = true;
    wslay_event_shutdown_read(ws->ctx);
    wslay_event_shutdown_write(ws->ctx);
    int code;
    const char *reason;
    if (wslay_event_get_close_received(ws->ctx)) {
        code = wslay_event_get_status_code_received(ws->ctx);
        reason = ws->got_reason ? ws->reason : "";
    } else if (ws->bad_frame) {
        /* wslay's frame layer (bad length, fragmented or long control
         * frame) answers with a close without a code; report it as what
         * it is. */
        code = WS_CLOSE_PROTOCOL_ERROR;
        reason = code_text(code);
    } else if (wslay_event_get_close_sent(ws->ctx) && !ws->send_failed) {
        code = wslay_event_get_status_code_sent(ws->ctx);
        reason = code_text(code);
    } else {
        code = WS_CLOSE_ABNORMAL;
        reason = "transport failed";
    }
    ws->ops->on_close(ws->arg, code, reason);
}

static int flush(struct ws *ws)
{
    if (ws->depth > 0)
        return 0;
    ws->depth++;
    int rc = wslay_event_send(ws->ctx);
    ws->depth--;
    check_finished(ws);
    return rc == 0 && !ws->send_failed ? 0 : -EIO;
}

struct ws *ws_new(bool client, const struct ws_ops *ops, void *arg)
{
    struct ws *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->ops = ops;
    ws->arg = arg;
    int rc = client ? wslay_event_context_client_init(&ws->ctx, &callbacks, ws)
                    : wslay_event_context_server_init(&ws->ctx, &callbacks, ws);
    if (rc != 0) {
        free(ws);
        return NULL;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, WS_MAX_MESSAGE_BYTES);
    return ws;
}

void ws_free(struct ws *ws)
{
    if (!ws)
        return;
    wslay_event_context_free(ws->ctx);
    free(ws);
}

void ws_set_max_message(struct ws *ws, size_t bytes)
{
    wslay_event_config_set_max_recv_msg_length(ws->ctx, bytes);
}

bool ws_finished(const struct ws *ws) { return ws->finished; }

int ws_feed(struct ws *ws, const void *data, size_t len)
{
    if (ws->finished)
        return -EPIPE;
    ws->in = data;
    ws->inlen = len;
    ws->depth++;
    int rc = wslay_event_recv(ws->ctx);
    ws->depth--;
    ws->in = NULL;
    ws->inlen = 0;
    if (rc == WSLAY_ERR_CALLBACK_FAILURE) {
        /* recv_cb only fails with "would block", so this is a frame the
         * frame layer refused; wslay has queued a close already. */
        ws->bad_frame = true;
    } else if (rc != 0) {
        /* Out of memory: give up on the connection. */
        wslay_event_shutdown_read(ws->ctx);
        if (wslay_event_queue_close(ws->ctx, WS_CLOSE_INTERNAL, NULL, 0) != 0)
            ws->send_failed = true;
    }
    flush(ws);
    return 0;
}

static int queue(struct ws *ws, uint8_t opcode, const void *data, size_t len)
{
    if (ws->finished)
        return -EPIPE;
    struct wslay_event_msg msg = {opcode, data, len};
    int rc = wslay_event_queue_msg(ws->ctx, &msg);
    if (rc == WSLAY_ERR_NO_MORE_MSG)
        return -EPIPE;
    if (rc == WSLAY_ERR_NOMEM)
        return -ENOMEM;
    if (rc != 0)
        return -EINVAL;
    return flush(ws);
}

int ws_send(struct ws *ws, bool binary, const void *data, size_t len)
{
    if (len > WS_MAX_MESSAGE_BYTES)
        return -KE_TOOBIG;
    return queue(ws, binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME, data,
                 len);
}

int ws_ping(struct ws *ws) { return queue(ws, WSLAY_PING, NULL, 0); }

int ws_close(struct ws *ws, int code, const char *reason)
{
    if (ws->finished)
        return -EPIPE;
    size_t rlen = reason ? strlen(reason) : 0;
    if (rlen > WS_MAX_REASON_BYTES)
        rlen = WS_MAX_REASON_BYTES;
    if (code < 1000 || code > 4999)
        code = WS_CLOSE_NORMAL;
    int rc = wslay_event_queue_close(ws->ctx, (uint16_t)code,
                                     (const uint8_t *)reason, rlen);
    if (rc == WSLAY_ERR_NO_MORE_MSG)
        return -EPIPE;
    if (rc != 0)
        return rc == WSLAY_ERR_NOMEM ? -ENOMEM : -EINVAL;
    flush(ws);
    return 0;
}

/* ---- handshake helpers ------------------------------------------------- */

void ws_accept_key(const char *client_key, char out[WS_ACCEPT_KEY_BYTES])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    unsigned int mdlen = 0;
    if (!mc || EVP_DigestInit_ex(mc, EVP_sha1(), NULL) != 1 ||
        EVP_DigestUpdate(mc, client_key, strlen(client_key)) != 1 ||
        EVP_DigestUpdate(mc, WS_GUID, strlen(WS_GUID)) != 1 ||
        EVP_DigestFinal_ex(mc, md, &mdlen) != 1) {
        /* Cannot happen short of OOM; an empty key never matches. */
        out[0] = 0;
        EVP_MD_CTX_free(mc);
        return;
    }
    EVP_MD_CTX_free(mc);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

int ws_client_key(char out[WS_CLIENT_KEY_BYTES])
{
    unsigned char nonce[16];
    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return -EIO;
    EVP_EncodeBlock((unsigned char *)out, nonce, sizeof(nonce));
    return 0;
}

bool ws_accept_ok(const char *client_key, const char *accept)
{
    char want[WS_ACCEPT_KEY_BYTES];
    if (!accept)
        return false;
    ws_accept_key(client_key, want);
    size_t n = strlen(want);
    if (n == 0 || strncmp(accept, want, n) != 0)
        return false;
    for (const char *p = accept + n; *p; p++)
        if (*p != ' ' && *p != '\t')
            return false;
    return true;
}

bool ws_header_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - p) == tlen && strncasecmp(p, token, tlen) == 0)
            return true;
        p = end;
    }
    return false;
}
