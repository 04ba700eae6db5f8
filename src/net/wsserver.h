/*
 * The server side of a WebSocket upgrade on kedge's HTTP server: checks
 * the request (RFC 6455 section 4.2.1), answers 101 with the accept key
 * and binds a server ws endpoint to the connection's byte tunnel.
 */
#ifndef KEDGE_NET_WSSERVER_H
#define KEDGE_NET_WSSERVER_H

#include "http/server.h"
#include "net/ws.h"

struct ws_session_ops {
    /* One complete message; data is valid during the call only. */
    void (*on_message)(void *arg, enum ws_opcode op, const void *data,
                       size_t len);
    /*
     * Called exactly once, from the loop, when the connection is gone. code
     * and reason as in struct wsclient_ops: the close handshake's code, or
     * WS_CLOSE_ABNORMAL (1006) with "connection lost" when the peer
     * vanished (or the server stopped). The ws handle is freed after it
     * returns.
     */
    void (*on_close)(void *arg, int code, const char *reason);
    /* Optional: bytes arrived (any frame, pings included), for idle
     * detection. */
    void (*on_activity)(void *arg);
};

/*
 * Upgrades req to a WebSocket. The request must be a GET with "Upgrade:
 * websocket", a Connection header holding "upgrade", "Sec-WebSocket-
 * Version: 13" and a Sec-WebSocket-Key of 16 base64 bytes; otherwise it is
 * answered 400 naming what is wrong (with "Sec-WebSocket-Version: 13" for
 * a wrong version) and -EINVAL is returned. Read the identity (req->user,
 * req->groups) first: req is finished by this call either way.
 *
 * On success *out is the endpoint (set before any callback): send with
 * ws_send, close with ws_close; do not ws_free it. ops must outlive it.
 * Returns 0, -EINVAL, -ENOMEM (answered 500) or -EPIPE (connection gone,
 * no callback follows).
 */
int ws_server_upgrade(struct http_request *req,
                      const struct ws_session_ops *ops, void *arg,
                      struct ws **out);

#endif
