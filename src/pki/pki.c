/*
 * The data directory's PKI: creates the CA, API server and admin
 * certificates on first start, reuses them later, and re-issues a leaf
 * certificate that no longer fits (SANs, expiry, CA, subject, key). Also
 * certificate fingerprints and the identity of a verified peer.
 */
#include "pki/internal.h"
#include "util/errors.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define PKI_CERT_MODE 0644
#define PKI_KEY_MODE 0600
#define PKI_DIR_MODE 0700

static const char *const default_dns[] = {"localhost", NULL};
static const char *const default_ips[] = {"127.0.0.1", "::1", NULL};

/* What one leaf certificate of the data directory must be. */
struct leaf_spec {
    const char *base; /* "server" gives server.crt and server.key */
    enum pki_profile profile;
    const char *cn;
    const char *org;
    const struct pki_sans *sans; /* server only */
};

void pki_ca_free(struct pki_ca *ca)
{
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    ca->cert = NULL;
    ca->key = NULL;
}

/* A key file readable by others is made private again, loudly. */
static void tighten_key_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || !(st.st_mode & 077))
        return;
    if (chmod(path, PKI_KEY_MODE) == 0)
        log_warn("pki", "%s: mode was %03o, set to 0600", path,
                 (unsigned)(st.st_mode & 0777));
    else
        log_warn("pki", "%s: mode is %03o and chmod failed: %s", path,
                 (unsigned)(st.st_mode & 0777), strerror(errno));
}

/* Checks a loaded CA pair: matching, a CA, within its validity. */
static int ca_check(const char *crt, const char *keyp, X509 *cert,
                    EVP_PKEY *key, char *err, size_t errlen)
{
    char when[64];
    if (X509_check_private_key(cert, key) != 1)
        return pki_errf(err, errlen, -KE_CORRUPT,
                        "%s: key does not match the certificate in %s", keyp,
                        crt);
    if (X509_check_ca(cert) < 1)
        return pki_errf(err, errlen, -KE_CORRUPT, "%s: not a CA certificate",
                        crt);
    int cmp = X509_cmp_current_time(X509_get0_notAfter(cert));
    if (cmp == 0)
        return pki_errf(err, errlen, -KE_CORRUPT,
                        "%s: unreadable notAfter time", crt);
    if (cmp < 0) {
        pki_time_text(X509_get0_notAfter(cert), when, sizeof(when));
        return pki_errf(err, errlen, -KE_EXPIRED,
                        "%s: CA certificate expired on %s", crt, when);
    }
    time_t soon = time(NULL) + (time_t)PKI_RENEW_BEFORE_DAYS * 86400;
    if (X509_cmp_time(X509_get0_notAfter(cert), &soon) < 0) {
        pki_time_text(X509_get0_notAfter(cert), when, sizeof(when));
        log_warn("pki", "%s: CA certificate expires on %s", crt, when);
    }
    ERR_clear_error();
    return 0;
}

int pki_ca_load(const char *dir, struct pki_ca *ca, char *err, size_t errlen)
{
    char crt[PKI_PATH_MAX], keyp[PKI_PATH_MAX];
    int rc;

    ca->cert = NULL;
    ca->key = NULL;
    if ((rc = pki_join(crt, sizeof(crt), dir, "ca.crt", err, errlen)) ||
        (rc = pki_join(keyp, sizeof(keyp), dir, "ca.key", err, errlen)) ||
        (rc = pki_load_cert(crt, &ca->cert, err, errlen)) ||
        (rc = pki_load_key(keyp, &ca->key, err, errlen)) ||
        (rc = ca_check(crt, keyp, ca->cert, ca->key, err, errlen)))
        pki_ca_free(ca);
    return rc;
}

/*
 * Loads the CA of DIR, creating what is missing: both files (a new CA),
 * or only ca.crt from an existing ca.key (as after a crash between the
 * two writes). Anything else unusable is an error that changes nothing.
 */
static int ensure_ca(const char *dir, struct pki_ca *ca, char *err,
                     size_t errlen)
{
    char crt[PKI_PATH_MAX], keyp[PKI_PATH_MAX];
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    char *pem = NULL;
    size_t pemlen = 0;
    int rc;

    if ((rc = pki_join(crt, sizeof(crt), dir, "ca.crt", err, errlen)) ||
        (rc = pki_join(keyp, sizeof(keyp), dir, "ca.key", err, errlen)))
        goto out;
    rc = pki_load_cert(crt, &cert, err, errlen);
    if (rc && rc != -ENOENT)
        goto out;
    rc = pki_load_key(keyp, &key, err, errlen);
    if (rc && rc != -ENOENT)
        goto out;
    rc = 0;

    if (cert && !key) {
        rc = pki_errf(err, errlen, -KE_CORRUPT,
                      "%s: missing but %s exists (restore the key; a new CA "
                      "would invalidate every issued certificate)",
                      keyp, crt);
        goto out;
    }
    if (cert) {
        rc = ca_check(crt, keyp, cert, key, err, errlen);
        if (!rc)
            tighten_key_mode(keyp);
        goto out;
    }

    bool new_key = !key;
    if (new_key && (rc = pki_new_key(&key, err, errlen)))
        goto out;
    if ((rc = pki_issue(PKI_PROFILE_CA, PKI_CA_CN, NULL, key, NULL, PKI_CA_DAYS,
                        NULL, &cert, err, errlen)))
        goto out;
    /* Key first: a crash before the certificate is written leaves a key
     * that the next start completes with a certificate. */
    if (new_key) {
        if ((rc = pki_key_pem(key, &pem, &pemlen))) {
            pki_errf(err, errlen, rc, "%s: encoding key", keyp);
            goto out;
        }
        rc = pki_write_atomic(keyp, pem, pemlen, PKI_KEY_MODE, err, errlen);
        OPENSSL_cleanse(pem, pemlen);
        free(pem);
        pem = NULL;
        if (rc)
            goto out;
    }
    if ((rc = pki_cert_pem(cert, &pem, &pemlen))) {
        pki_errf(err, errlen, rc, "%s: encoding certificate", crt);
        goto out;
    }
    if ((rc = pki_write_atomic(crt, pem, pemlen, PKI_CERT_MODE, err, errlen)))
        goto out;
    if (new_key) {
        log_info("pki", "created CA %s (CN=%s, %d days)", crt, PKI_CA_CN,
                 PKI_CA_DAYS);
    } else {
        tighten_key_mode(keyp);
        log_warn("pki", "%s was missing; re-created it from %s", crt, keyp);
    }
out:
    free(pem);
    if (rc) {
        X509_free(cert);
        EVP_PKEY_free(key);
    } else {
        ca->cert = cert;
        ca->key = key;
    }
    return rc;
}

/* 0 when LEAF chains to CA for PURPOSE now; else the reason in buf. */
static int verify_leaf(const struct pki_ca *ca, X509 *leaf, int purpose,
                       char *buf, size_t buflen)
{
    int rc = -1;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!store || !ctx || !X509_STORE_add_cert(store, ca->cert) ||
        !X509_STORE_CTX_init(ctx, store, leaf, NULL) ||
        !X509_STORE_CTX_set_purpose(ctx, purpose)) {
        snprintf(buf, buflen, "cannot verify (out of memory)");
        goto out;
    }
    if (X509_verify_cert(ctx) == 1)
        rc = 0;
    else
        snprintf(buf, buflen, "does not verify against the CA: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

/* Why CERT (with KEY) no longer fits SPEC, in buf; 0 when it still does. */
static int leaf_unfit(const struct pki_ca *ca, const struct leaf_spec *spec,
                      X509 *cert, EVP_PKEY *key, char *buf, size_t buflen)
{
    char user[PKI_MAX_NAME_BYTES + 1], groups[256], when[64];
    int purpose = spec->profile == PKI_PROFILE_SERVER ? X509_PURPOSE_SSL_SERVER
                                                      : X509_PURPOSE_SSL_CLIENT;
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        snprintf(buf, buflen, "does not match %s.key", spec->base);
        return -1;
    }
    if (verify_leaf(ca, cert, purpose, buf, buflen))
        return -1;
    if (spec->profile == PKI_PROFILE_CLIENT &&
        (pki_cert_identity(cert, user, sizeof(user), groups, sizeof(groups)) ||
         strcmp(user, spec->cn) != 0 ||
         strcmp(groups, spec->org ? spec->org : "") != 0)) {
        snprintf(buf, buflen, "subject is not O=%s, CN=%s",
                 spec->org ? spec->org : "", spec->cn);
        return -1;
    }
    const char *missing =
        spec->sans ? pki_sans_missing(spec->sans, cert) : NULL;
    if (missing) {
        snprintf(buf, buflen, "lacks SAN %s", missing);
        return -1;
    }
    time_t soon = time(NULL) + (time_t)PKI_RENEW_BEFORE_DAYS * 86400;
    if (X509_cmp_time(X509_get0_notAfter(cert), &soon) < 0) {
        pki_time_text(X509_get0_notAfter(cert), when, sizeof(when));
        snprintf(buf, buflen, "expires on %s", when);
        return -1;
    }
    return 0;
}

/*
 * Makes DIR/<base>.crt and .key fit SPEC: a missing key is created, and
 * the certificate is (re-)issued with the key when it is missing or
 * unfit. Unparsable files are errors and stay as they are.
 */
static int ensure_leaf(const char *dir, const struct pki_ca *ca,
                       const struct leaf_spec *spec, char *err, size_t errlen)
{
    char crt[PKI_PATH_MAX], keyp[PKI_PATH_MAX], name[64], reason[256];
    X509 *cert = NULL, *fresh = NULL;
    EVP_PKEY *key = NULL;
    char *pem = NULL;
    size_t pemlen = 0;
    bool new_key = false;
    int rc;

    snprintf(name, sizeof(name), "%s.crt", spec->base);
    if ((rc = pki_join(crt, sizeof(crt), dir, name, err, errlen)))
        goto out;
    snprintf(name, sizeof(name), "%s.key", spec->base);
    if ((rc = pki_join(keyp, sizeof(keyp), dir, name, err, errlen)))
        goto out;

    rc = pki_load_key(keyp, &key, err, errlen);
    if (rc == -ENOENT) {
        if ((rc = pki_new_key(&key, err, errlen)))
            goto out;
        new_key = true;
        snprintf(reason, sizeof(reason), "new key");
    } else if (rc) {
        goto out;
    } else {
        rc = pki_load_cert(crt, &cert, err, errlen);
        if (rc == -ENOENT)
            snprintf(reason, sizeof(reason), "missing");
        else if (rc)
            goto out;
        rc = 0;
        if (cert && !leaf_unfit(ca, spec, cert, key, reason, sizeof(reason)))
            goto out;
    }

    if ((rc = pki_issue(spec->profile, spec->cn, spec->org, key, spec->sans,
                        PKI_LEAF_DAYS, ca, &fresh, err, errlen)))
        goto out;
    /* Key before certificate: a crash in between leaves a pair that does
     * not match, which the next start re-issues. */
    if (new_key) {
        if ((rc = pki_key_pem(key, &pem, &pemlen))) {
            pki_errf(err, errlen, rc, "%s: encoding key", keyp);
            goto out;
        }
        rc = pki_write_atomic(keyp, pem, pemlen, PKI_KEY_MODE, err, errlen);
        OPENSSL_cleanse(pem, pemlen);
        free(pem);
        pem = NULL;
        if (rc)
            goto out;
    }
    if ((rc = pki_cert_pem(fresh, &pem, &pemlen))) {
        pki_errf(err, errlen, rc, "%s: encoding certificate", crt);
        goto out;
    }
    if ((rc = pki_write_atomic(crt, pem, pemlen, PKI_CERT_MODE, err, errlen)))
        goto out;
    log_info("pki", "issued %s (CN=%s, %d days): %s", crt, spec->cn,
             PKI_LEAF_DAYS, reason);
out:
    if (!rc && !new_key)
        tighten_key_mode(keyp);
    free(pem);
    X509_free(fresh);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/* Creates DIR 0700 when missing; an existing DIR must be a directory. */
static int ensure_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (mkdir(dir, PKI_DIR_MODE) == 0) {
        log_info("pki", "created %s", dir);
        return 0;
    }
    if (errno != EEXIST)
        return pki_errf(err, errlen, -errno, "%s: mkdir: %s", dir,
                        strerror(errno));
    if (stat(dir, &st) < 0)
        return pki_errf(err, errlen, -errno, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return pki_errf(err, errlen, -ENOTDIR, "%s: not a directory", dir);
    if (st.st_mode & 077)
        log_warn("pki", "%s: mode %03o lets other users in; 0700 is advised",
                 dir, (unsigned)(st.st_mode & 0777));
    return 0;
}

/*
 * Removes temporaries ("ca.key.tmp-XXXXXX") that a crash during
 * pki_write_atomic left in DIR. Called with the directory lock held, so
 * no live writer owns them.
 */
static void remove_stale_temps(const char *dir)
{
    static const char *const bases[] = {"ca.crt",     "ca.key",    "server.crt",
                                        "server.key", "admin.crt", "admin.key"};
    char path[PKI_PATH_MAX];
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
            size_t n = strlen(bases[i]);
            if (strncmp(e->d_name, bases[i], n) != 0 ||
                strncmp(e->d_name + n, ".tmp-", 5) != 0)
                continue;
            int len = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (len > 0 && (size_t)len < sizeof(path) && unlink(path) == 0)
                log_warn("pki", "removed %s, left by an interrupted write",
                         path);
        }
    }
    if (d)
        closedir(d);
}

int pki_ensure(const char *dir, const char *const *dns_names,
               const char *const *ips, char *err, size_t errlen)
{
    int rc = 0;
    int dfd = -1;
    struct pki_ca ca = {NULL, NULL};
    struct pki_sans *sans = NULL;

    ERR_clear_error();
    if (!dir || !*dir) {
        rc = pki_errf(err, errlen, -KE_INVALID, "data dir: empty path");
        goto out;
    }
    sans = calloc(1, sizeof(*sans));
    if (!sans) {
        rc = pki_errf(err, errlen, -ENOMEM, "%s: out of memory", dir);
        goto out;
    }
    /* Validate every name before the disk is touched. */
    for (size_t i = 0; dns_names && dns_names[i]; i++)
        if ((rc = pki_sans_add_dns(sans, dns_names[i], err, errlen)))
            goto out;
    for (size_t i = 0; ips && ips[i]; i++)
        if ((rc = pki_sans_add_ip(sans, ips[i], err, errlen)))
            goto out;
    for (size_t i = 0; default_dns[i]; i++)
        if ((rc = pki_sans_add_dns(sans, default_dns[i], err, errlen)))
            goto out;
    for (size_t i = 0; default_ips[i]; i++)
        if ((rc = pki_sans_add_ip(sans, default_ips[i], err, errlen)))
            goto out;

    if ((rc = ensure_dir(dir, err, errlen)))
        goto out;
    /* Two processes creating a CA at once would each write half a pair. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc =
            pki_errf(err, errlen, -errno, "%s: open: %s", dir, strerror(errno));
        goto out;
    }
    while (flock(dfd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        rc = pki_errf(err, errlen, -errno, "%s: flock: %s", dir,
                      strerror(errno));
        goto out;
    }

    remove_stale_temps(dir);
    if ((rc = ensure_ca(dir, &ca, err, errlen)))
        goto out;
    const struct leaf_spec server = {"server", PKI_PROFILE_SERVER,
                                     PKI_SERVER_CN, NULL, sans};
    const struct leaf_spec admin = {"admin", PKI_PROFILE_CLIENT, PKI_ADMIN_CN,
                                    PKI_ADMIN_ORG, NULL};
    if ((rc = ensure_leaf(dir, &ca, &server, err, errlen)) ||
        (rc = ensure_leaf(dir, &ca, &admin, err, errlen)))
        goto out;
out:
    pki_ca_free(&ca);
    free(sans);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

int pki_cert_fingerprint(const char *cert_file, char *out, size_t outlen,
                         char *err, size_t errlen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    X509 *cert = NULL;
    int rc;

    ERR_clear_error();
    if (!out || outlen < 2 * 32 + 1)
        return pki_errf(err, errlen, -ERANGE,
                        "fingerprint: buffer of %zu bytes, need 65", outlen);
    out[0] = 0;
    if (!cert_file) {
        rc = pki_errf(err, errlen, -KE_INVALID, "certificate file: NULL");
        goto out;
    }
    if ((rc = pki_load_cert(cert_file, &cert, err, errlen)))
        goto out;
    /* X509_digest hashes the DER encoding, which is what KubeEdge pins. */
    if (!X509_digest(cert, EVP_sha256(), md, &mdlen) || mdlen != 32) {
        rc = pki_errf(err, errlen, -ENOMEM, "%s: hashing", cert_file);
        goto out;
    }
    for (unsigned int i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * mdlen] = 0;
out:
    X509_free(cert);
    return rc;
}

/* One name attribute as UTF-8 into out; rejects embedded NULs. */
static int entry_text(const X509_NAME_ENTRY *e, char *out, size_t outlen,
                      size_t *len)
{
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
    int rc = 0;
    if (n < 0) {
        rc = -KE_INVALID;
    } else if (memchr(u, 0, (size_t)n)) {
        rc = -KE_INVALID;
    } else if ((size_t)n >= outlen) {
        rc = -ERANGE;
    } else {
        memcpy(out, u, (size_t)n);
        out[n] = 0;
        *len = (size_t)n;
    }
    OPENSSL_free(u);
    return rc;
}

int pki_cert_identity(X509 *cert, char *user, size_t userlen, char *groups,
                      size_t groupslen)
{
    char value[256];
    size_t len = 0, used = 0;

    if (!cert || !user || !groups || userlen == 0 || groupslen == 0)
        return -ERANGE;
    user[0] = 0;
    groups[0] = 0;
    const X509_NAME *name = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    /* No CN is no identity; several CNs are ambiguous (Go would take the
     * last, OpenSSL tools the first), so neither is guessed at. */
    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
        return -KE_INVALID;
    int rc = entry_text(X509_NAME_get_entry(name, i), user, userlen, &len);
    if (rc)
        goto fail;
    if (len == 0) {
        rc = -KE_INVALID;
        goto fail;
    }
    for (i = -1; (i = X509_NAME_get_index_by_NID(name, NID_organizationName,
                                                 i)) >= 0;) {
        if ((rc = entry_text(X509_NAME_get_entry(name, i), value, sizeof(value),
                             &len)))
            goto fail;
        /* A ',' inside one O would read as two groups. */
        if (strchr(value, ',')) {
            rc = -KE_INVALID;
            goto fail;
        }
        size_t need = len + (used ? 1 : 0);
        if (used + need >= groupslen) {
            rc = -ERANGE;
            goto fail;
        }
        if (used)
            groups[used++] = ',';
        memcpy(groups + used, value, len);
        used += len;
        groups[used] = 0;
    }
    return 0;
fail:
    user[0] = 0;
    groups[0] = 0;
    ERR_clear_error();
    return rc;
}

int pki_write_file(const char *path, const void *data, size_t len, int mode,
                   char *err, size_t errlen)
{
    return pki_write_atomic(path, data, len, (mode_t)mode, err, errlen);
}

int pki_cert_file_identity(const char *path, char *user, size_t userlen,
                           char *groups, size_t groupslen, time_t *not_after,
                           char *err, size_t errlen)
{
    X509 *cert = NULL;
    int rc = pki_load_cert(path, &cert, err, errlen);
    if (rc)
        return rc;
    rc = pki_cert_identity(cert, user, userlen, groups, groupslen);
    if (rc)
        pki_errf(err, errlen, rc, "%s: unreadable subject", path);
    if (rc == 0 && not_after) {
        struct tm tm;
        if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
            rc = pki_errf(err, errlen, -KE_CORRUPT, "%s: unreadable expiry",
                          path);
        else
            *not_after = timegm(&tm);
    }
    X509_free(cert);
    return rc;
}
