#include "util/https.h"
#include "util/errors.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTPS_MAX_ANSWER (16 * 1024 * 1024)

struct https_client {
    CURL *h;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct buf *out = arg;
    return buf_append(out, data, size * n) == 0 ? size * n : 0;
}

struct https_client *https_client_new(const struct https_opts *o)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    struct https_client *c = calloc(1, sizeof(*c));
    if (!c || !(c->h = curl_easy_init())) {
        free(c);
        return NULL;
    }
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     o->timeout_ms ? o->timeout_ms : 15000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    if (o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (o->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    }
    if (o->cert_file && o->key_file) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert_file);
        curl_easy_setopt(h, CURLOPT_SSLKEY, o->key_file);
    }
    return c;
}

void https_client_free(struct https_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c);
}

int https_client_request(struct https_client *c, const char *method,
                         const char *url, const char *ctype, const char *body,
                         size_t len, struct buf *out, char *err, size_t errlen)
{
    CURL *h = c->h;
    out->limit = HTTPS_MAX_ANSWER;
    char ctbuf[128], errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    if (ctype) {
        snprintf(ctbuf, sizeof(ctbuf), "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, ctbuf);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK)
        return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
    return (int)status;
}

int https_request(const char *method, const char *url,
                  const struct https_opts *o, const char *ctype,
                  const char *body, size_t len, struct buf *out, char *err,
                  size_t errlen)
{
    struct https_client *c = https_client_new(o);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = https_client_request(c, method, url, ctype, body, len, out, err,
                                  errlen);
    https_client_free(c);
    return rc;
}
