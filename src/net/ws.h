/*
 * A WebSocket endpoint (RFC 6455) over any byte transport, wrapping
 * wslay's event API: bytes in through ws_feed, bytes out through
 * ops->send, whole messages up through ops->on_message. wslay does the
 * framing, masking, fragmentation, control frames, the close handshake and
 * the UTF-8 check of text messages. Plus the handshake helpers.
 */
#ifndef KEDGE_NET_WS_H
#define KEDGE_NET_WS_H

#include <stdbool.h>
#include <stddef.h>

/* Messages past this are refused with close 1009 (Message Too Big). */
#define WS_MAX_MESSAGE_BYTES (16 * 1024 * 1024)
/* Longest close reason a close frame can carry (125 - 2 code bytes). */
#define WS_MAX_REASON_BYTES 123
/* base64 of 20 bytes of SHA-1, plus NUL. */
#define WS_ACCEPT_KEY_BYTES 29
/* base64 of a 16-byte nonce, plus NUL. */
#define WS_CLIENT_KEY_BYTES 25

enum ws_opcode { WS_TEXT = 1, WS_BINARY = 2 };

/* Close codes kedge uses (RFC 6455 section 7.4.1). */
enum {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL_ERROR = 1002,
    WS_CLOSE_NO_STATUS = 1005,
    WS_CLOSE_ABNORMAL = 1006, /* never sent: the transport went away */
    WS_CLOSE_INVALID_DATA = 1007,
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011,
};

struct ws_ops {
    /* Hands bytes to the transport, which must take all of them (queue
     * them). Returns 0, or a negative code when the transport is gone. */
    int (*send)(void *arg, const void *data, size_t len);
    /* One complete message. data is valid during the call only. */
    void (*on_message)(void *arg, enum ws_opcode op, const void *data,
                       size_t len);
    /* Called once when the WebSocket is finished: the close handshake
     * completed (code is the peer's, WS_CLOSE_NO_STATUS when it sent
     * none), or this end failed the connection on bad input (code is the
     * one sent: 1002, 1007, 1009) or its transport failed. The owner then
     * closes the transport; the endpoint takes no more input. */
    void (*on_close)(void *arg, int code, const char *reason);
};

struct ws;

/*
 * A new endpoint, client (masks its frames with RAND_bytes) or server
 * side. ops is not copied and must outlive the endpoint. NULL when out of
 * memory. Free with ws_free, never from inside one of its callbacks.
 */
struct ws *ws_new(bool client, const struct ws_ops *ops, void *arg);
void ws_free(struct ws *ws);

/* Sets the largest accepted message (default WS_MAX_MESSAGE_BYTES). */
void ws_set_max_message(struct ws *ws, size_t bytes);

/*
 * Feeds bytes received from the transport. Complete messages go to
 * on_message, pings are answered, and replies are flushed to send before
 * it returns. Returns 0, or -EPIPE when the endpoint is already finished
 * (the bytes are ignored).
 */
int ws_feed(struct ws *ws, const void *data, size_t len);

/*
 * Queues a message (copied) and flushes it to send. Text must be UTF-8
 * (the peer checks). Returns 0, -EPIPE after a close was queued or sent,
 * -KE_TOOBIG over the maximum message size, -ENOMEM, or -EIO when the
 * transport refused the bytes.
 */
int ws_send(struct ws *ws, bool binary, const void *data, size_t len);
/* Sends a ping (payload empty); the peer's pong is absorbed. */
int ws_ping(struct ws *ws);
/*
 * Starts the close handshake with code (1000..4999) and a reason (NULL or
 * at most WS_MAX_REASON_BYTES bytes, cut past it). on_close follows when
 * the peer answers. Returns 0 or -EPIPE when a close was already queued.
 */
int ws_close(struct ws *ws, int code, const char *reason);

/* True once on_close was called. */
bool ws_finished(const struct ws *ws);

/* Writes base64(SHA-1(client_key + RFC 6455 GUID)) into out. */
void ws_accept_key(const char *client_key, char out[WS_ACCEPT_KEY_BYTES]);
/* Writes a fresh random Sec-WebSocket-Key into out. Returns 0 or -EIO. */
int ws_client_key(char out[WS_CLIENT_KEY_BYTES]);
/* True when `accept` is the right Sec-WebSocket-Accept for client_key. */
bool ws_accept_ok(const char *client_key, const char *accept);
/* True when the comma-separated header value holds token (any case). */
bool ws_header_has_token(const char *value, const char *token);

#endif
