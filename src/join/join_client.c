#include "join/join_client.h"
#include "join/token.h"
#include "pki/pki.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/https.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Larger differences make certificates look not-yet-valid or expired. */
#define JOIN_MAX_SKEW_S 300

/* Existing credentials: 0 if they are this node's, 1 if absent, else an
 * error. */
static int check_existing(const char *pki_dir, const char *node, char *err,
                          size_t errlen)
{
    char crt[4200], key[4200], ca[4200];
    snprintf(crt, sizeof(crt), "%s/node.crt", pki_dir);
    snprintf(key, sizeof(key), "%s/node.key", pki_dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki_dir);
    if (access(crt, F_OK) != 0 || access(key, F_OK) != 0 ||
        access(ca, F_OK) != 0)
        return 1;
    char user[256], groups[256], want[300], e[512];
    time_t not_after;
    int rc = pki_cert_file_identity(crt, user, sizeof(user), groups,
                                    sizeof(groups), &not_after, e, sizeof(e));
    if (rc) {
        snprintf(err, errlen, "%s (remove %s to join again with a token)", e,
                 pki_dir);
        return rc;
    }
    snprintf(want, sizeof(want), "system:node:%s", node);
    if (strcmp(user, want) != 0) {
        snprintf(err, errlen, "%s holds the credentials of %s, not of node "
                              "%s: use that --name, or another --data-dir",
                 pki_dir, user, node);
        return -KE_INVALID;
    }
    if (not_after < time(NULL)) {
        snprintf(err, errlen, "the node certificate %s expired: remove %s and "
                              "join again with a new token", crt, pki_dir);
        return -KE_EXPIRED;
    }
    return 0;
}

static const char *answer_error(const struct buf *b)
{
    static char msg[600];
    struct json_object *o = b->len ? json_tokener_parse(b->data) : NULL;
    const char *e = ju_str(o, "error");
    snprintf(msg, sizeof(msg), "%s", e ? e : "unexpected answer");
    json_object_put(o);
    return msg;
}

int join_client_ensure(const char *pki_dir, const char *cloud_url,
                       const char *token, const char *node, char *err,
                       size_t errlen)
{
    int rc = check_existing(pki_dir, node, err, errlen);
    if (rc <= 0)
        return rc;
    if (!token || !token[0]) {
        snprintf(err, errlen, "this node has not joined yet: pass --token "
                              "(run `kedge token create` on the cloud host)");
        return -KE_INVALID;
    }
    if (!cloud_url || strncmp(cloud_url, "https://", 8) != 0) {
        snprintf(err, errlen, "--cloud must be the cloud's hub address, "
                              "https://HOST:PORT");
        return -KE_INVALID;
    }
    struct join_token t;
    char e[600];
    if (token_parse(token, &t, e, sizeof(e))) {
        snprintf(err, errlen, "--token: %s", e);
        return -KE_INVALID;
    }
    if (mkdir(pki_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", pki_dir, strerror(errno));
        return -errno;
    }
    char url[1024], ca[4200], ca_new[4200], crt[4200], key[4200];
    snprintf(ca, sizeof(ca), "%s/ca.crt", pki_dir);
    snprintf(ca_new, sizeof(ca_new), "%s/ca.crt.new", pki_dir);
    snprintf(crt, sizeof(crt), "%s/node.crt", pki_dir);
    snprintf(key, sizeof(key), "%s/node.key", pki_dir);

    /* 1. The CA, trusted only once it matches the token. */
    struct buf ans;
    buf_init(&ans, 0);
    struct https_opts insecure = {.insecure = true};
    snprintf(url, sizeof(url), "%s/ca.crt", cloud_url);
    int code = https_request("GET", url, &insecure, NULL, NULL, 0, &ans, e,
                             sizeof(e));
    if (code != 200) {
        if (code < 0)
            snprintf(err, errlen, "cannot reach the cloud at %s: %s (check "
                                  "--cloud and that kedge cloud serves edges "
                                  "on that port, --hub-port)",
                     cloud_url, e);
        else
            snprintf(err, errlen, "%s answered HTTP %d for the CA: is it a "
                                  "kedge cloud hub port?", url, code);
        buf_free(&ans);
        return code < 0 ? code : -KE_INVALID;
    }
    char hash[65];
    rc = pki_write_file(ca_new, ans.data, ans.len, 0644, e, sizeof(e));
    if (rc == 0)
        rc = pki_cert_fingerprint(ca_new, hash, sizeof(hash), e, sizeof(e));
    if (rc) {
        snprintf(err, errlen, "the cloud's CA is unusable: %s", e);
        unlink(ca_new);
        buf_free(&ans);
        return rc;
    }
    if (strcmp(hash, t.ca_hash) != 0) {
        snprintf(err, errlen, "the cloud at %s has CA sha256 %.16s..., the "
                              "token expects %.16s...: wrong --cloud address, "
                              "or a token from another cluster",
                 cloud_url, hash, t.ca_hash);
        unlink(ca_new);
        buf_free(&ans);
        return -KE_INVALID;
    }

    /* 2. A key and a CSR; the cloud signs it. */
    char cn[300], *key_pem = NULL, *csr_pem = NULL;
    snprintf(cn, sizeof(cn), "system:node:%s", node);
    rc = pki_make_key_and_csr(cn, "system:nodes", &key_pem, &csr_pem, e,
                              sizeof(e));
    if (rc) {
        snprintf(err, errlen, "cannot make a key for %s: %s", cn, e);
        unlink(ca_new);
        buf_free(&ans);
        return rc;
    }
    struct json_object *req = json_object_new_object();
    ju_set_str(req, "token", token);
    ju_set_str(req, "node", node);
    ju_set_str(req, "csr", csr_pem);
    size_t len;
    const char *body = json_object_to_json_string_length(
        req, JSON_C_TO_STRING_PLAIN, &len);
    struct https_opts verified = {.ca_file = ca_new};
    snprintf(url, sizeof(url), "%s/join", cloud_url);
    buf_reset(&ans);
    code = https_request("POST", url, &verified, "application/json", body, len,
                         &ans, e, sizeof(e));
    json_object_put(req);
    free(csr_pem);
    struct json_object *res = NULL;
    if (code != 200) {
        if (code < 0)
            snprintf(err, errlen, "cannot join through %s: %s", cloud_url, e);
        else
            snprintf(err, errlen, "the cloud refused the join: %s",
                     answer_error(&ans));
        rc = code < 0 ? code : -KE_INVALID;
        goto out;
    }
    res = json_tokener_parse(ans.data);
    const char *cert = ju_str(res, "certificate");
    time_t server = time_parse_rfc3339(ju_str(res, "serverTime"));
    if (!cert) {
        snprintf(err, errlen, "the cloud's join answer has no certificate");
        rc = -KE_PARSE;
        goto out;
    }
    long skew = server < 0 ? 0 : (long)(time(NULL) - server);
    if (skew > JOIN_MAX_SKEW_S || skew < -JOIN_MAX_SKEW_S) {
        snprintf(err, errlen, "this machine's clock is %ld s %s the cloud's: "
                              "set the time (NTP) and run again",
                 labs(skew), skew > 0 ? "ahead of" : "behind");
        rc = -KE_INVALID;
        goto out;
    }
    /* The key first: a certificate is never left without its key. */
    if ((rc = pki_write_file(key, key_pem, strlen(key_pem), 0600, e,
                             sizeof(e))) ||
        (rc = pki_write_file(crt, cert, strlen(cert), 0644, e, sizeof(e)))) {
        snprintf(err, errlen, "%s", e);
        goto out;
    }
    if (rename(ca_new, ca) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot write %s: %s", ca, strerror(errno));
        goto out;
    }
    log_info("join", "joined %s as %s", cloud_url, cn);
out:
    if (rc)
        unlink(ca_new);
    json_object_put(res);
    if (key_pem)
        OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    buf_free(&ans);
    return rc;
}
