/*
 * The cloud's side of joining: checks a join token against its
 * bootstrap-token Secret and signs the edge's CSR as system:node:<name>.
 */
#include "join/join_server.h"
#include "api/validation.h"
#include "join/token.h"
#include "pki/pki.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/b64.h"
#include "util/timefmt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOIN_CERT_DAYS 365

static int fail(struct buf *out, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answers {"error": "..."} with code. */
static int fail(struct buf *out, int code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct json_object *o = json_object_new_object();
    ju_set_str(o, "error", msg);
    buf_reset(out);
    buf_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return code;
}

/* GET path through the API as the hub; the parsed answer or NULL. */
static struct json_object *api_get(struct apiserver *api, const char *path,
                                   int *code)
{
    struct apiserver_call call = {.method = "GET", .path = path,
                                  .user = "system:kedge-cloudhub",
                                  .groups = "system:masters"};
    struct buf ans;
    buf_init(&ans, 0);
    *code = apiserver_call(api, &call, &ans);
    struct json_object *o = ans.len ? json_tokener_parse(ans.data) : NULL;
    buf_free(&ans);
    return o;
}

/* Checks the token; 0, or the HTTP status with out filled. */
static int check_token(struct apiserver *api, const char *pki_dir,
                       const char *text, struct buf *out)
{
    struct join_token t;
    char err[256];
    if (token_parse(text, &t, err, sizeof(err)))
        return fail(out, 400, "malformed token: %s", err);
    char ca_file[4200], hash[65];
    snprintf(ca_file, sizeof(ca_file), "%s/ca.crt", pki_dir);
    if (pki_cert_fingerprint(ca_file, hash, sizeof(hash), err, sizeof(err)))
        return fail(out, 500, "%s", err);
    if (strcmp(hash, t.ca_hash) != 0)
        return fail(out, 401, "the token was made for another cluster (its "
                              "CA hash does not match this cloud's CA)");
    char path[256];
    snprintf(path, sizeof(path),
             "/api/v1/namespaces/kube-system/secrets/bootstrap-token-%s", t.id);
    int code;
    struct json_object *s = api_get(api, path, &code);
    int rc = 0;
    char secret[64] = "", expires[64] = "";
    struct json_object *d = ju_obj(s, "data");
    if (code == 404) {
        rc = fail(out, 401, "unknown token id %s (deleted, or never created "
                            "here): create one with `kedge token create`",
                  t.id);
    } else if (code != 200) {
        rc = fail(out, 500, "cannot read the token: HTTP %d", code);
    } else if (b64_decode_str(ju_str(d, "token-secret"), secret,
                          sizeof(secret)) != TOKEN_SECRET_LEN ||
               CRYPTO_memcmp(secret, t.secret, TOKEN_SECRET_LEN) != 0) {
        rc = fail(out, 401, "the token's secret is wrong");
    } else if (ju_str(d, "expiration") &&
               (b64_decode_str(ju_str(d, "expiration"), expires,
                           sizeof(expires)) < 0 ||
                time_parse_rfc3339(expires) < 0 || time_parse_rfc3339(expires) < time(NULL))) {
        rc = fail(out, 401, "token %s expired at %s: create a new one with "
                            "`kedge token create`",
                  t.id, expires[0] ? expires : "(unreadable)");
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    json_object_put(s);
    return rc;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, PKI_MAX_PEM_BYTES);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&b, chunk, n)) {
            buf_free(&b);
            fclose(f);
            return NULL;
        }
    fclose(f);
    return buf_steal(&b, len);
}

int join_server_handle(struct apiserver *api, const char *pki_dir,
                       const char *body, size_t len, const char *remote,
                       struct buf *out)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *req = tok ? json_tokener_parse_ex(tok, body, (int)len)
                                  : NULL;
    bool ok = tok && json_tokener_get_error(tok) == json_tokener_success &&
              json_object_is_type(req, json_type_object);
    json_tokener_free(tok);
    int code = 0;
    char *cert = NULL, *ca = NULL;
    if (!ok) {
        code = fail(out, 400, "the join request must be a JSON object with "
                              "token, node and csr");
        goto done;
    }
    const char *token = ju_str(req, "token");
    const char *node = ju_str(req, "node");
    const char *csr = ju_str(req, "csr");
    if (!token || !node || !csr) {
        code = fail(out, 400, "the join request lacks %s",
                    !token ? "token" : !node ? "node" : "csr");
        goto done;
    }
    const char *bad = validate_dns1123_subdomain(node);
    if (bad) {
        code = fail(out, 400, "node name \"%.253s\" is invalid: %s", node, bad);
        goto done;
    }
    if ((code = check_token(api, pki_dir, token, out)) != 0) {
        log_warn("join", "%s: refused join of node %s: %s", remote, node,
                 out->data);
        goto done;
    }
    char path[400];
    snprintf(path, sizeof(path), "/api/v1/nodes/%s", node);
    int got;
    struct json_object *existing = api_get(api, path, &got);
    const char *joined =
        ju_str(ju_obj(ju_obj(existing, "metadata"), "annotations"),
               "kedge.io/joined-at");
    if (got == 200 && joined) {
        code = fail(out, 409, "node name %s is already taken by an edge that "
                              "joined at %s: pick another --name, or delete "
                              "the node (kubectl delete node %s) if that "
                              "machine is gone",
                    node, joined, node);
        json_object_put(existing);
        goto done;
    }
    json_object_put(existing);
    char cn[300], err[512];
    snprintf(cn, sizeof(cn), "system:node:%s", node);
    if (strlen(cn) > PKI_MAX_NAME_BYTES) {
        code = fail(out, 400, "node name %s is too long for a certificate "
                              "(at most %d characters)",
                    node, PKI_MAX_NAME_BYTES - 12);
        goto done;
    }
    int rc = pki_sign_csr(pki_dir, csr, strlen(csr), cn, "system:nodes",
                          JOIN_CERT_DAYS, &cert, err, sizeof(err));
    if (rc) {
        code = fail(out, rc == -KE_CORRUPT ? 500 : 400, "%s", err);
        goto done;
    }
    char ca_file[4200];
    snprintf(ca_file, sizeof(ca_file), "%s/ca.crt", pki_dir);
    size_t ca_len;
    ca = read_file(ca_file, &ca_len);
    if (!ca) {
        code = fail(out, 500, "cannot read %s", ca_file);
        goto done;
    }
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct json_object *ans = json_object_new_object();
    ju_set_str(ans, "certificate", cert);
    ju_set_str(ans, "ca", ca);
    ju_set_str(ans, "serverTime", now);
    buf_reset(out);
    buf_puts(out, json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN));
    json_object_put(ans);
    log_info("join", "%s: node %s joined (certificate for %s)", remote, node,
             cn);
    code = 200;
done:
    free(cert);
    free(ca);
    json_object_put(req);
    return code;
}
