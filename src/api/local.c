/*
 * In-process requests: a request built in memory runs through
 * apiserver_handle, and http_respond keeps the answer in the request
 * (it has no connection) for the caller to read.
 */
#include "api/apiserver.h"
#include "util/errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int apiserver_call(struct apiserver *api, const struct apiserver_call *call,
                   struct buf *out)
{
    struct http_request req;
    memset(&req, 0, sizeof(req));
    snprintf(req.method, sizeof(req.method), "%s", call->method);
    const char *q = strchr(call->path, '?');
    size_t plen = q ? (size_t)(q - call->path) : strlen(call->path);
    req.url = strdup(call->path);
    req.path = strndup(call->path, plen);
    req.query = strdup(q ? q + 1 : "");
    struct http_header headers[2] = {
        {.name = "Content-Type",
         .value = (char *)(call->content_type ? call->content_type
                                              : "application/json")},
        {.name = "Accept", .value = "application/json"},
    };
    req.headers = headers;
    req.nheaders = 2;
    buf_init(&req.body, HTTP_MAX_BODY_BYTES);
    buf_init(&req.local_body, 0);
    int status = 500;
    if (!req.url || !req.path || !req.query ||
        http_percent_decode(req.path, false) != 0)
        goto out;
    if (call->len && buf_append(&req.body, call->body, call->len) != 0) {
        req.body_too_large = true;
        buf_reset(&req.body);
    }
    req.authenticated = true;
    snprintf(req.user, sizeof(req.user), "%s", call->user ? call->user : "");
    snprintf(req.groups, sizeof(req.groups), "%s",
             call->groups ? call->groups : "");
    snprintf(req.remote, sizeof(req.remote), "in-process");
    req.start_ns = now_ns();
    apiserver_handle(api, &req);
    /* 0: the handler wanted to stream (a watch), which needs a socket. */
    status = req.local_status ? req.local_status : 500;
    if (req.local_status == 0)
        buf_puts(out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                      "\"status\":\"Failure\",\"message\":\"watches are not "
                      "served in-process\",\"code\":500}");
    else
        buf_append(out, req.local_body.data, req.local_body.len);
out:
    free(req.url);
    free(req.path);
    free(req.query);
    buf_free(&req.body);
    buf_free(&req.local_body);
    return status;
}
