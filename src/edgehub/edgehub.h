/*
 * EdgeHub: the edge's end of the cloud-edge protocol (docs/protocol.md).
 * It keeps one WSS session to the cloud's hub alive (back-off, pings),
 * applies what the cloud sends to the edge store (local revisions; the
 * applied cloud revision is kept as store metadata "cloud_rev", written
 * with each change), acknowledges it, and carries the edge's API
 * requests, queued durably in the store (/kedge/outbox/) while offline.
 */
#ifndef KEDGE_EDGEHUB_EDGEHUB_H
#define KEDGE_EDGEHUB_EDGEHUB_H

#include "store/store.h"

#include <json-c/json.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define EDGEHUB_ACK_EVERY_MS 50
#define EDGEHUB_PING_EVERY_MS (15 * 1000)
#define EDGEHUB_BACKOFF_MIN_MS 1000
#define EDGEHUB_BACKOFF_MAX_MS (30 * 1000)
/* Store metadata name of the applied cloud revision. */
#define EDGEHUB_META_CLOUD_REV "cloud_rev"
/* Where queued requests live in the edge store (never under /registry/,
 * so the local API does not serve them). */
#define EDGEHUB_OUTBOX_PREFIX "/kedge/outbox/"

struct edgehub;

struct edgehub_config {
    const char *node;    /* the node's name */
    const char *host;    /* the cloud's hub */
    int port;
    SSL_CTX *ctx;        /* pki_client_ctx with the node's certificate;
                            NULL: never connects (tests) */
    struct store *st;    /* the edge store (not owned) */
    /* Called after each (re)connection once the catch-up is applied
     * (sync or snapshot-end after the welcome). May be NULL. */
    void (*on_ready)(void *arg);
    void *arg;
};

/* Creates the hub (loading the outbox from the store); it connects once
 * edgehub_start is called. Returns 0, -EINVAL or -ENOMEM. */
int edgehub_new(uv_loop_t *loop, const struct edgehub_config *cfg,
                struct edgehub **out);
/* Starts connecting (and reconnecting, forever, with back-off). */
void edgehub_start(struct edgehub *hub);
/* Closes the session and frees the hub once the loop has let go of it
 * (run the loop after this call). Pending callbacks are not called. */
void edgehub_free(struct edgehub *hub);
/* Whether a session is open and caught up. */
bool edgehub_ready(const struct edgehub *hub);
/* The cloud revision applied and persisted so far. */
int64_t edgehub_cloud_rev(const struct edgehub *hub);
/* Requests queued (durably) and not yet answered. */
int edgehub_outbox_len(const struct edgehub *hub);

/*
 * The answer to a request: code is the HTTP status (0 when the request
 * could not be sent: a GET while offline, or the hub going away), body
 * the answer (borrowed for the call; may be NULL).
 */
typedef void (*edgehub_response_fn)(void *arg, int code,
                                    struct json_object *body);

/*
 * Sends an API request as the node. body_json (may be NULL) is the JSON
 * text of the body, ctype its content type (NULL: application/json).
 * A GET is only sent when connected (else cb gets code 0 at once, from
 * inside this call). Every other method is first written to the store's
 * outbox, sent in order now or after the next hello, and removed when
 * its response arrives; cb (may be NULL) is called then if this process
 * still runs. Returns 0, -EINVAL (bad method, path or body) or the
 * store's error (nothing queued).
 */
int edgehub_request(struct edgehub *hub, const char *method, const char *path,
                    const char *ctype, const char *body_json,
                    edgehub_response_fn cb, void *arg);

/*
 * A status report: a merge-patch PATCH of path whose body replaces the
 * body of a report to the same path still waiting in the outbox (not yet
 * sent), so several changes of one object while offline travel as one.
 */
int edgehub_report(struct edgehub *hub, const char *path,
                   const char *body_json);

/*
 * The session without sockets, for tests and the transport: attach gives
 * the hub a sender (the hub sends hello and the outbox through it), then
 * each received message goes to edgehub_receive; detach is the end of
 * the session. edgehub_receive returns 0, or -KE_PARSE for a message that
 * is not a JSON object (the caller closes the session with 1007).
 */
typedef int (*edgehub_send_fn)(void *arg, const char *data, size_t len);
void edgehub_attach(struct edgehub *hub, edgehub_send_fn send, void *arg);
int edgehub_receive(struct edgehub *hub, const char *data, size_t len);
void edgehub_detach(struct edgehub *hub);

#endif
