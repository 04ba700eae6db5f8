/*
 * PKI tests: first start creates the data directory's CA, server and admin
 * certificates with the right modes, names and usages; later starts reuse
 * them and re-issue only what no longer fits; corrupt or inconsistent
 * files are errors that change nothing; CSR signing forces the subject
 * and rejects bad signatures; kubeconfigs embed the right data; and the
 * TLS contexts complete (or refuse) real handshakes over a BIO pair.
 */
#include "pki/pki.h"
#include "unit.h"
#include "util/errors.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static char tmp[] = "/tmp/kedge-pki-XXXXXX";
static char dir[256];   /* the main data dir, created by pki_ensure */
static char other[256]; /* a second, independent data dir */
static char err[512];

static const char *const dns1[] = {"kedge.example.com", NULL};
static const char *const dns2[] = {"kedge.example.com", "new.example.com",
                                   NULL};
static const char *const ips1[] = {"10.1.2.3", NULL};
static const char *const ips2[] = {"10.1.2.3", "fd00::7", NULL};

/* ---- helpers ---- */

static const char *in(const char *d, const char *name)
{
    static char bufs[8][512];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 512, "%s/%s", d, name);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = malloc(1 << 20);
    size_t n = data ? fread(data, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (data)
        data[n] = 0;
    if (len)
        *len = n;
    return data;
}

static int spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool same_content(const char *path, const char *want)
{
    char *got = slurp(path, NULL);
    /* Missing then and now counts as unchanged. */
    bool same = got && want ? strcmp(got, want) == 0 : !got && !want;
    free(got);
    return same;
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static X509 *cert_from_pem(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

/* X509_verify_cert against CA_FILE alone, as `openssl verify -CAfile
 * ca.crt -purpose P` would; returns the X509_V_* result. */
static int verify(const char *ca_file, X509 *leaf, int purpose)
{
    X509 *ca = load_cert(ca_file);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int res = -1;
    if (ca && store && ctx && X509_STORE_add_cert(store, ca) &&
        X509_STORE_CTX_init(ctx, store, leaf, NULL) &&
        X509_STORE_CTX_set_purpose(ctx, purpose)) {
        res = X509_verify_cert(ctx) == 1 ? X509_V_OK
                                         : X509_STORE_CTX_get_error(ctx);
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(ca);
    ERR_clear_error();
    return res;
}

static bool has_dns(X509 *x, const char *name)
{
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    bool found = false;
    for (int i = 0; g && i < sk_GENERAL_NAME_num(g); i++) {
        GENERAL_NAME *n = sk_GENERAL_NAME_value(g, i);
        if (n->type == GEN_DNS &&
            (size_t)ASN1_STRING_length(n->d.dNSName) == strlen(name) &&
            memcmp(ASN1_STRING_get0_data(n->d.dNSName), name, strlen(name)) ==
                0)
            found = true;
    }
    GENERAL_NAMES_free(g);
    return found;
}

static bool has_ip(X509 *x, const char *ip)
{
    ASN1_OCTET_STRING *want = a2i_IPADDRESS(ip);
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    bool found = false;
    for (int i = 0; want && g && i < sk_GENERAL_NAME_num(g); i++) {
        GENERAL_NAME *n = sk_GENERAL_NAME_value(g, i);
        if (n->type == GEN_IPADD &&
            ASN1_OCTET_STRING_cmp(n->d.iPAddress, want) == 0)
            found = true;
    }
    GENERAL_NAMES_free(g);
    ASN1_OCTET_STRING_free(want);
    return found;
}

/* Days from now to the certificate's notAfter. */
static int days_left(X509 *x)
{
    int days = -1, secs = 0;
    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
    return days;
}

static int count_entries(const char *d)
{
    DIR *dp = opendir(d);
    int n = 0;
    struct dirent *e;
    while (dp && (e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (dp)
        closedir(dp);
    return n;
}

static const char *const all_files[] = {"ca.crt",     "ca.key",    "server.crt",
                                        "server.key", "admin.crt", "admin.key"};

struct snapshot {
    char *data[6];
};

static void snap(const char *d, struct snapshot *s)
{
    for (int i = 0; i < 6; i++)
        s->data[i] = slurp(in(d, all_files[i]), NULL);
}

static void snap_free(struct snapshot *s)
{
    for (int i = 0; i < 6; i++)
        free(s->data[i]);
}

/* Which files differ from the snapshot, as a bit per all_files entry. */
static int changed(const char *d, const struct snapshot *s)
{
    int mask = 0;
    for (int i = 0; i < 6; i++)
        if (!same_content(in(d, all_files[i]), s->data[i]))
            mask |= 1 << i;
    return mask;
}

enum {
    CA_CRT = 1,
    CA_KEY = 2,
    SRV_CRT = 4,
    SRV_KEY = 8,
    ADM_CRT = 16,
    ADM_KEY = 32
};

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

/* ---- pki_ensure ---- */

static void test_create(void)
{
    CHECK(!exists(dir));
    CHECK_INT(pki_ensure(dir, dns1, ips1, err, sizeof(err)), 0);
    CHECK_INT(mode_of(dir), 0700);
    CHECK_INT(mode_of(in(dir, "ca.key")), 0600);
    CHECK_INT(mode_of(in(dir, "server.key")), 0600);
    CHECK_INT(mode_of(in(dir, "admin.key")), 0600);
    CHECK_INT(mode_of(in(dir, "ca.crt")), 0644);
    CHECK_INT(mode_of(in(dir, "server.crt")), 0644);
    CHECK_INT(mode_of(in(dir, "admin.crt")), 0644);
    /* Exactly the six files: no temporaries left behind. */
    CHECK_INT(count_entries(dir), 6);

    X509 *ca = load_cert(in(dir, "ca.crt"));
    CHECK(ca != NULL);
    if (ca) {
        char cn[64] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn,
                                  sizeof(cn));
        CHECK_STR(cn, "kedge-ca");
        CHECK(X509_check_ca(ca) >= 1);
        CHECK_INT(X509_check_issued(ca, ca), X509_V_OK);
        CHECK(days_left(ca) >= 3649 && days_left(ca) <= 3650);
        EVP_PKEY *pub = X509_get0_pubkey(ca);
        char group[64] = "";
        CHECK_INT(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
        EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL);
        CHECK_STR(group, "prime256v1");
    }
    X509_free(ca);

    /* Keys are unencrypted PEM that plain OpenSSL reads. */
    EVP_PKEY *k = load_key(in(dir, "ca.key"));
    CHECK(k != NULL);
    EVP_PKEY_free(k);
}

static void test_reuse(void)
{
    struct snapshot s;
    char fp1[65], fp2[65];
    snap(dir, &s);
    CHECK_INT(pki_cert_fingerprint(in(dir, "ca.crt"), fp1, sizeof(fp1), err,
                                   sizeof(err)),
              0);
    CHECK_INT(pki_ensure(dir, dns1, ips1, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), 0);
    /* Fewer names than the certificate has is no reason to re-issue. */
    CHECK_INT(pki_ensure(dir, NULL, NULL, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), 0);
    CHECK_INT(pki_cert_fingerprint(in(dir, "ca.crt"), fp2, sizeof(fp2), err,
                                   sizeof(err)),
              0);
    CHECK_STR(fp1, fp2);
    snap_free(&s);
}

static void test_new_san(void)
{
    struct snapshot s;
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, dns2, ips1, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), SRV_CRT);
    snap_free(&s);

    /* DNS names compare case-insensitively; an IP given among the DNS
     * names is an IP SAN, and 127.0.0.1 is there by default. */
    static const char *const again[] = {"NEW.example.com", "10.1.2.3",
                                        "127.0.0.1", NULL};
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, again, NULL, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), 0);
    snap_free(&s);

    /* A new IP re-issues as well. */
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), SRV_CRT);
    snap_free(&s);
}

static void test_server_cert(void)
{
    X509 *x = load_cert(in(dir, "server.crt"));
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK_INT(verify(in(dir, "ca.crt"), x, X509_PURPOSE_SSL_SERVER), X509_V_OK);
    /* serverAuth only: no use as a client certificate. */
    CHECK(verify(in(dir, "ca.crt"), x, X509_PURPOSE_SSL_CLIENT) != X509_V_OK);
    CHECK(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
    CHECK(!(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT));
    CHECK_INT(X509_check_ca(x), 0);
    CHECK(has_dns(x, "kedge.example.com"));
    CHECK(has_dns(x, "new.example.com"));
    CHECK(has_dns(x, "localhost"));
    CHECK(has_ip(x, "10.1.2.3"));
    CHECK(has_ip(x, "fd00::7"));
    CHECK(has_ip(x, "127.0.0.1"));
    CHECK(has_ip(x, "::1"));
    CHECK(!has_dns(x, "10.1.2.3"));
    CHECK(!has_dns(x, "other.example.com"));
    CHECK(days_left(x) >= 364 && days_left(x) <= 365);
    X509_free(x);

    /* The server key is the one in the certificate. */
    x = load_cert(in(dir, "server.crt"));
    EVP_PKEY *k = load_key(in(dir, "server.key"));
    CHECK(x && k && X509_check_private_key(x, k) == 1);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void test_admin_cert(void)
{
    char user[64], groups[128];
    X509 *x = load_cert(in(dir, "admin.crt"));
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK_INT(pki_cert_identity(x, user, sizeof(user), groups, sizeof(groups)),
              0);
    CHECK_STR(user, "kedge-admin");
    CHECK_STR(groups, "system:masters");
    CHECK(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
    CHECK(!(X509_get_extended_key_usage(x) & XKU_SSL_SERVER));
    CHECK_INT(verify(in(dir, "ca.crt"), x, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    CHECK(verify(in(dir, "ca.crt"), x, X509_PURPOSE_SSL_SERVER) != X509_V_OK);
    CHECK(days_left(x) >= 364 && days_left(x) <= 365);
    X509_free(x);
}

/* A CSR for an existing key file, built with plain OpenSSL calls. */
static char *csr_for_key(const char *key_file, const char *cn)
{
    EVP_PKEY *k = load_key(key_file);
    X509_REQ *req = X509_REQ_new();
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL;
    if (k && req && b &&
        X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
                                   MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                   -1, 0) &&
        X509_REQ_set_pubkey(req, k) && X509_REQ_sign(req, k, EVP_sha256()) &&
        PEM_write_bio_X509_REQ(b, req)) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        pem = strndup(p, (size_t)n);
    }
    BIO_free(b);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
    return pem;
}

static void test_admin_renewal(void)
{
    struct snapshot s;
    char *csr = csr_for_key(in(dir, "admin.key"), "x");
    char *pem = NULL;

    /* 40 days left: kept. */
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "kedge-admin",
                           "system:masters", 40, &pem, err, sizeof(err)),
              0);
    CHECK(pem && spit(in(dir, "admin.crt"), pem, strlen(pem)) == 0);
    free(pem);
    pem = NULL;
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), 0);
    snap_free(&s);

    /* 10 days left: re-issued for a year with the same key. */
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "kedge-admin",
                           "system:masters", 10, &pem, err, sizeof(err)),
              0);
    CHECK(pem && spit(in(dir, "admin.crt"), pem, strlen(pem)) == 0);
    free(pem);
    pem = NULL;
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), ADM_CRT);
    snap_free(&s);
    X509 *x = load_cert(in(dir, "admin.crt"));
    CHECK(x && days_left(x) >= 364);
    X509_free(x);

    /* The wrong subject (a long-lived cert, but not system:masters): also
     * re-issued. */
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "kedge-admin", NULL, 300,
                           &pem, err, sizeof(err)),
              0);
    CHECK(pem && spit(in(dir, "admin.crt"), pem, strlen(pem)) == 0);
    free(pem);
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), ADM_CRT);
    snap_free(&s);
    free(csr);
}

static void test_missing_pieces(void)
{
    struct snapshot s;

    /* A server pair from another CA is replaced by one from ours (the key,
     * being valid, is kept). */
    char *okey = slurp(in(other, "server.key"), NULL);
    char *ocrt = slurp(in(other, "server.crt"), NULL);
    CHECK(okey && ocrt);
    if (okey && ocrt) {
        spit(in(dir, "server.key"), okey, strlen(okey));
        spit(in(dir, "server.crt"), ocrt, strlen(ocrt));
        snap(dir, &s);
        CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
        CHECK_INT(changed(dir, &s), SRV_CRT);
        snap_free(&s);
        X509 *x = load_cert(in(dir, "server.crt"));
        CHECK(x && verify(in(dir, "ca.crt"), x, X509_PURPOSE_SSL_SERVER) ==
                       X509_V_OK);
        X509_free(x);
    }
    free(okey);
    free(ocrt);

    /* Crash between key and certificate: the key is newer than the
     * certificate. The certificate is re-issued for that key. */
    char *akey = slurp(in(other, "admin.key"), NULL);
    CHECK(akey && spit(in(dir, "admin.key"), akey, strlen(akey)) == 0);
    free(akey);
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), ADM_CRT);
    snap_free(&s);
    X509 *x = load_cert(in(dir, "admin.crt"));
    EVP_PKEY *k = load_key(in(dir, "admin.key"));
    CHECK(x && k && X509_check_private_key(x, k) == 1);
    X509_free(x);
    EVP_PKEY_free(k);

    /* A missing certificate is issued for the existing key. */
    snap(dir, &s);
    unlink(in(dir, "server.crt"));
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), SRV_CRT);
    snap_free(&s);

    /* A missing key means a new key and certificate. */
    snap(dir, &s);
    unlink(in(dir, "admin.key"));
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), ADM_CRT | ADM_KEY);
    CHECK_INT(mode_of(in(dir, "admin.key")), 0600);
    snap_free(&s);

    /* ca.crt lost but ca.key kept: ca.crt is re-made from the key, and
     * the certificates it issued still verify, so nothing else changes. */
    snap(dir, &s);
    unlink(in(dir, "ca.crt"));
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), CA_CRT);
    snap_free(&s);
    x = load_cert(in(dir, "server.crt"));
    CHECK(x &&
          verify(in(dir, "ca.crt"), x, X509_PURPOSE_SSL_SERVER) == X509_V_OK);
    X509_free(x);

    /* Temporaries of an interrupted write are removed; other files are
     * left alone. */
    spit(in(dir, "ca.key.tmp-a1b2c3"), "half a key", 10);
    spit(in(dir, "notes.txt"), "mine", 4);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK(!exists(in(dir, "ca.key.tmp-a1b2c3")));
    CHECK(exists(in(dir, "notes.txt")));
    unlink(in(dir, "notes.txt"));

    /* A key file opened up to others is made private again. */
    chmod(in(dir, "ca.key"), 0644);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(mode_of(in(dir, "ca.key")), 0600);
}

/* Each bad state fails with rc, an error naming NAME, and no file
 * changed. */
static void expect_fail(const char *what, int rc_want, const char *name)
{
    struct snapshot s;
    snap(dir, &s);
    int key_mode = mode_of(in(dir, "ca.key"));
    err[0] = 0;
    int rc = pki_ensure(dir, dns2, ips2, err, sizeof(err));
    CHECK_INT(mode_of(in(dir, "ca.key")), key_mode);
    CHECK_INT(rc, rc_want);
    if (!strstr(err, name) || strchr(err, '\n')) {
        unit_failures++;
        fprintf(stderr, "%s: error \"%s\" does not name %s\n", what, err, name);
    }
    CHECK_INT(changed(dir, &s), 0);
    snap_free(&s);
}

static void test_corrupt(void)
{
    char *crt = slurp(in(dir, "ca.crt"), NULL);
    char *key = slurp(in(dir, "ca.key"), NULL);
    char *okey = slurp(in(other, "ca.key"), NULL);
    char *scrt = slurp(in(dir, "server.crt"), NULL);
    CHECK(crt && key && okey && scrt);
    if (!crt || !key || !okey || !scrt)
        goto out;

    /* Valid base64, broken DER, in the middle of ca.crt. */
    char *bad = strdup(crt);
    memset(bad + 100, 'A', 80);
    spit(in(dir, "ca.crt"), bad, strlen(bad));
    expect_fail("corrupt ca.crt", -KE_CORRUPT, "ca.crt");
    CHECK(same_content(in(dir, "ca.key"), key));
    free(bad);

    spit(in(dir, "ca.crt"), "hello\n", 6);
    expect_fail("garbage ca.crt", -KE_CORRUPT, "ca.crt");
    spit(in(dir, "ca.crt"), "", 0);
    expect_fail("empty ca.crt", -KE_CORRUPT, "ca.crt");
    spit(in(dir, "ca.crt"), crt, strlen(crt));

    /* ca.crt without its key: never a silent new CA. */
    unlink(in(dir, "ca.key"));
    expect_fail("missing ca.key", -KE_CORRUPT, "ca.key");
    CHECK(!exists(in(dir, "ca.key")));
    spit(in(dir, "ca.key"),
         "-----BEGIN PRIVATE KEY-----\nAAAA\n"
         "-----END PRIVATE KEY-----\n",
         58);
    expect_fail("corrupt ca.key", -KE_CORRUPT, "ca.key");
    spit(in(dir, "ca.key"), okey, strlen(okey));
    expect_fail("mismatched ca.key", -KE_CORRUPT, "ca.key");
    spit(in(dir, "ca.key"), key, strlen(key));
    chmod(in(dir, "ca.key"), 0600);

    /* A corrupt leaf certificate is reported too, not replaced. */
    bad = strdup(scrt);
    memset(bad + 100, 'A', 80);
    spit(in(dir, "server.crt"), bad, strlen(bad));
    expect_fail("corrupt server.crt", -KE_CORRUPT, "server.crt");
    spit(in(dir, "server.crt"), scrt, strlen(scrt));
    free(bad);

    /* Restored: all well again, nothing re-issued. */
    struct snapshot s;
    snap(dir, &s);
    CHECK_INT(pki_ensure(dir, dns2, ips2, err, sizeof(err)), 0);
    CHECK_INT(changed(dir, &s), 0);
    snap_free(&s);
out:
    free(crt);
    free(key);
    free(okey);
    free(scrt);
}

static void test_bad_input(void)
{
    char fresh[300];
    snprintf(fresh, sizeof(fresh), "%s/never", tmp);

    static const char *const bad_dns[] = {"ok.example.com", "bad name!", NULL};
    CHECK_INT(pki_ensure(fresh, bad_dns, NULL, err, sizeof(err)), -KE_INVALID);
    CHECK(strstr(err, "bad name!") != NULL);
    static const char *const bad_dns2[] = {"a..b", NULL};
    CHECK_INT(pki_ensure(fresh, bad_dns2, NULL, err, sizeof(err)), -KE_INVALID);
    static const char *const bad_ip[] = {"10.0.0.300", NULL};
    CHECK_INT(pki_ensure(fresh, NULL, bad_ip, err, sizeof(err)), -KE_INVALID);
    CHECK(strstr(err, "10.0.0.300") != NULL);
    /* Validation happens before anything is created. */
    CHECK(!exists(fresh));

    const char *many[PKI_MAX_SANS + 2];
    char names[PKI_MAX_SANS + 1][32];
    for (int i = 0; i < PKI_MAX_SANS + 1; i++) {
        snprintf(names[i], sizeof(names[i]), "n%d.example.com", i);
        many[i] = names[i];
    }
    many[PKI_MAX_SANS + 1] = NULL;
    CHECK_INT(pki_ensure(fresh, many, NULL, err, sizeof(err)), -KE_TOOBIG);
    CHECK(!exists(fresh));

    CHECK_INT(pki_ensure("", NULL, NULL, err, sizeof(err)), -KE_INVALID);
    /* A file where the directory should be. */
    CHECK_INT(pki_ensure(in(dir, "ca.crt"), NULL, NULL, err, sizeof(err)),
              -ENOTDIR);
    CHECK(strstr(err, "ca.crt") != NULL);
    /* NULL err buffer is allowed. */
    CHECK_INT(pki_ensure(fresh, bad_ip, bad_ip, NULL, 0), -KE_INVALID);
}

/* Concurrent first starts on one directory end with one consistent CA. */
static void test_concurrent_create(void)
{
    char d[300];
    snprintf(d, sizeof(d), "%s/race", tmp);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(pki_ensure(d, dns1, NULL, NULL, 0) == 0 ? 0 : 1);
    }
    for (int i = 0; i < 4; i++) {
        int status = -1;
        waitpid(kids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    X509 *ca = load_cert(in(d, "ca.crt"));
    EVP_PKEY *k = load_key(in(d, "ca.key"));
    X509 *srv = load_cert(in(d, "server.crt"));
    CHECK(ca && k && X509_check_private_key(ca, k) == 1);
    CHECK(srv &&
          verify(in(d, "ca.crt"), srv, X509_PURPOSE_SSL_SERVER) == X509_V_OK);
    CHECK_INT(count_entries(d), 6);
    X509_free(ca);
    X509_free(srv);
    EVP_PKEY_free(k);
}

/* ---- CSRs ---- */

static void test_sign_csr(void)
{
    char *key = NULL, *csr = NULL, *pem = NULL;
    char user[128], groups[128];

    /* The edge asks for system:masters; the cloud decides otherwise. */
    CHECK_INT(pki_make_key_and_csr("evil", "system:masters", &key, &csr, err,
                                   sizeof(err)),
              0);
    CHECK(key && strstr(key, "BEGIN PRIVATE KEY"));
    CHECK(csr && strstr(csr, "BEGIN CERTIFICATE REQUEST"));
    if (!key || !csr)
        goto out;
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "system:node:edge-1",
                           "system:nodes", 30, &pem, err, sizeof(err)),
              0);
    X509 *x = pem ? cert_from_pem(pem) : NULL;
    CHECK(x != NULL);
    if (x) {
        CHECK_INT(
            pki_cert_identity(x, user, sizeof(user), groups, sizeof(groups)),
            0);
        CHECK_STR(user, "system:node:edge-1");
        CHECK_STR(groups, "system:nodes");
        CHECK_INT(verify(in(dir, "ca.crt"), x, X509_PURPOSE_SSL_CLIENT),
                  X509_V_OK);
        CHECK(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
        CHECK(days_left(x) >= 29 && days_left(x) <= 30);
        BIO *b = BIO_new_mem_buf(key, -1);
        EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        CHECK(k && X509_check_private_key(x, k) == 1);
        EVP_PKEY_free(k);
        BIO_free(b);
    }
    X509_free(x);
    free(pem);
    pem = NULL;

    /* No O at all. */
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "edge-2", NULL, 1, &pem, err,
                           sizeof(err)),
              0);
    x = pem ? cert_from_pem(pem) : NULL;
    CHECK(x && pki_cert_identity(x, user, sizeof(user), groups,
                                 sizeof(groups)) == 0);
    CHECK_STR(user, "edge-2");
    CHECK_STR(groups, "");
    X509_free(x);
    free(pem);
    pem = NULL;

    /* Bad arguments. */
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "n", "a,system:masters", 1,
                           &pem, err, sizeof(err)),
              -KE_INVALID);
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "", NULL, 1, &pem, err,
                           sizeof(err)),
              -KE_INVALID);
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "n\nx", NULL, 1, &pem, err,
                           sizeof(err)),
              -KE_INVALID);
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "n", NULL, 0, &pem, err,
                           sizeof(err)),
              -KE_INVALID);
    CHECK(strstr(err, "days") != NULL);
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr), "n", NULL, PKI_MAX_DAYS + 1,
                           &pem, err, sizeof(err)),
              -KE_INVALID);
    CHECK_INT(
        pki_sign_csr(dir, "garbage", 7, "n", NULL, 1, &pem, err, sizeof(err)),
        -KE_PARSE);
    CHECK_INT(pki_sign_csr(dir, csr, PKI_MAX_PEM_BYTES + 1, "n", NULL, 1, &pem,
                           err, sizeof(err)),
              -KE_TOOBIG);
    /* Only a prefix of the CSR: the PEM is cut off. */
    CHECK_INT(pki_sign_csr(dir, csr, strlen(csr) / 2, "n", NULL, 1, &pem, err,
                           sizeof(err)),
              -KE_PARSE);
    /* No CA in that directory. */
    CHECK_INT(pki_sign_csr(tmp, csr, strlen(csr), "n", NULL, 1, &pem, err,
                           sizeof(err)),
              -ENOENT);
    CHECK(strstr(err, "ca.crt") != NULL);
    CHECK(pem == NULL);

    char *k2 = (char *)1, *c2 = (char *)1;
    CHECK_INT(pki_make_key_and_csr("", NULL, &k2, &c2, err, sizeof(err)),
              -KE_INVALID);
    CHECK(k2 == NULL && c2 == NULL);
    CHECK_INT(pki_make_key_and_csr("n", "a,b", &k2, &c2, err, sizeof(err)),
              -KE_INVALID);
out:
    free(key);
    free(csr);
}

/* The CSR's own extensions (here: a CA) never reach the certificate. */
static void test_csr_extensions_ignored(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509V3_CTX ctx;
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL, *p;

    X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
    X509_EXTENSION *bc =
        X509V3_EXT_nconf_nid(NULL, &ctx, NID_basic_constraints, "CA:TRUE");
    X509_EXTENSION *san = X509V3_EXT_nconf_nid(NULL, &ctx, NID_subject_alt_name,
                                               "DNS:kubernetes.default");
    sk_X509_EXTENSION_push(exts, bc);
    sk_X509_EXTENSION_push(exts, san);
    X509_NAME_add_entry_by_txt(
        X509_REQ_get_subject_name(req), "O", MBSTRING_UTF8,
        (const unsigned char *)"system:masters", -1, -1, 0);
    X509_REQ_add_extensions(req, exts);
    X509_REQ_set_pubkey(req, k);
    X509_REQ_sign(req, k, EVP_sha256());
    PEM_write_bio_X509_REQ(b, req);
    long n = BIO_get_mem_data(b, &p);

    CHECK_INT(pki_sign_csr(dir, p, (size_t)n, "edge-3", "system:nodes", 5, &pem,
                           err, sizeof(err)),
              0);
    X509 *x = pem ? cert_from_pem(pem) : NULL;
    CHECK(x != NULL);
    if (x) {
        CHECK_INT(X509_check_ca(x), 0);
        CHECK(!has_dns(x, "kubernetes.default"));
        char user[64], groups[64];
        CHECK_INT(
            pki_cert_identity(x, user, sizeof(user), groups, sizeof(groups)),
            0);
        CHECK_STR(groups, "system:nodes");
    }
    X509_free(x);
    free(pem);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    BIO_free(b);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
}

/* PEM of a CSR whose DER had one byte of its subject changed after
 * signing, so everything parses but the signature no longer matches. */
static char *tampered_csr(void)
{
    char *key = NULL, *csr = NULL, *out = NULL;
    unsigned char *der = NULL;
    BIO *b = NULL;
    X509_REQ *req = NULL;
    if (pki_make_key_and_csr("edge-aaaa", NULL, &key, &csr, err, sizeof(err)))
        goto done;
    b = BIO_new_mem_buf(csr, -1);
    req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    BIO_free(b);
    b = NULL;
    int len = req ? i2d_X509_REQ(req, &der) : -1;
    if (len <= 0)
        goto done;
    unsigned char *hit = memmem(der, (size_t)len, "edge-aaaa", 9);
    if (!hit)
        goto done;
    hit[5] = 'b';
    b = BIO_new(BIO_s_mem());
    if (PEM_write_bio(b, "CERTIFICATE REQUEST", "", der, len) > 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        out = strndup(p, (size_t)n);
    }
done:
    BIO_free(b);
    X509_REQ_free(req);
    OPENSSL_free(der);
    free(key);
    free(csr);
    return out;
}

static void test_csr_rejected(void)
{
    char *pem = NULL;
    char *bad = tampered_csr();
    CHECK(bad != NULL);
    if (bad) {
        CHECK_INT(pki_sign_csr(dir, bad, strlen(bad), "edge", NULL, 1, &pem,
                               err, sizeof(err)),
                  -KE_INVALID);
        CHECK(strstr(err, "signature") != NULL);
        CHECK(pem == NULL);
    }
    free(bad);

    /* RSA 1024 is refused; RSA 2048 accepted. */
    EVP_PKEY *weak = EVP_RSA_gen(1024);
    X509_REQ *req = X509_REQ_new();
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    X509_REQ_set_pubkey(req, weak);
    X509_REQ_sign(req, weak, EVP_sha256());
    PEM_write_bio_X509_REQ(b, req);
    long n = BIO_get_mem_data(b, &p);
    CHECK_INT(pki_sign_csr(dir, p, (size_t)n, "edge", NULL, 1, &pem, err,
                           sizeof(err)),
              -KE_UNSUPPORTED);
    CHECK(pem == NULL);
    BIO_free(b);
    X509_REQ_free(req);
    EVP_PKEY_free(weak);
}

/* ---- fingerprints and identities ---- */

static void test_fingerprint(void)
{
    char fp[65], small[64];
    CHECK_INT(pki_cert_fingerprint(in(dir, "ca.crt"), fp, sizeof(fp), err,
                                   sizeof(err)),
              0);
    CHECK_INT(strlen(fp), 64);
    CHECK(strspn(fp, "0123456789abcdef") == 64);

    /* Independently: base64-decode the PEM body and hash the bytes. */
    char *pem = slurp(in(dir, "ca.crt"), NULL);
    char b64[4096] = "";
    size_t bl = 0;
    char *line = pem ? strstr(pem, "\n") : NULL;
    while (line && *++line && strncmp(line, "-----END", 8) != 0) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        if (bl + ll < sizeof(b64)) {
            memcpy(b64 + bl, line, ll);
            bl += ll;
        }
        line = nl;
    }
    b64[bl] = 0;
    unsigned char der[4096], md[32];
    int dl = EVP_DecodeBlock(der, (unsigned char *)b64, (int)bl);
    while (bl > 0 && b64[bl - 1] == '=') {
        dl--;
        bl--;
    }
    char want[65];
    SHA256(der, (size_t)dl, md);
    for (int i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    CHECK_STR(fp, want);
    free(pem);

    char fp2[65];
    CHECK_INT(pki_cert_fingerprint(in(other, "ca.crt"), fp2, sizeof(fp2), err,
                                   sizeof(err)),
              0);
    CHECK(strcmp(fp, fp2) != 0);
    CHECK_INT(pki_cert_fingerprint(in(dir, "ca.crt"), small, sizeof(small), err,
                                   sizeof(err)),
              -ERANGE);
    CHECK_INT(pki_cert_fingerprint(in(dir, "nope.crt"), fp, sizeof(fp), err,
                                   sizeof(err)),
              -ENOENT);
    CHECK(strstr(err, "nope.crt") != NULL);
    CHECK_INT(pki_cert_fingerprint(in(dir, "ca.key"), fp, sizeof(fp), err,
                                   sizeof(err)),
              -KE_CORRUPT);
}

/* A self-signed certificate with the given name entries ("CN", value)... */
static X509 *cert_with_names(const char *const *kv)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    for (int i = 0; kv[i]; i += 2)
        X509_NAME_add_entry_by_txt(name, kv[i], MBSTRING_UTF8,
                                   (const unsigned char *)kv[i + 1], -1, -1, 0);
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    EVP_PKEY_free(k);
    return x;
}

static void test_identity(void)
{
    char user[64], groups[64];
    static const char *const two_o[] = {"O",  "system:nodes",   "O", "team-a",
                                        "CN", "system:node:n1", NULL};
    X509 *x = cert_with_names(two_o);
    CHECK_INT(pki_cert_identity(x, user, sizeof(user), groups, sizeof(groups)),
              0);
    CHECK_STR(user, "system:node:n1");
    CHECK_STR(groups, "system:nodes,team-a");
    /* Buffers too small are errors, not truncated identities. */
    CHECK_INT(pki_cert_identity(x, user, 5, groups, sizeof(groups)), -ERANGE);
    CHECK_INT(pki_cert_identity(x, user, sizeof(user), groups, 12), -ERANGE);
    CHECK_STR(groups, "");
    X509_free(x);

    static const char *const two_cn[] = {"CN", "alice", "CN", "admin", NULL};
    x = cert_with_names(two_cn);
    CHECK_INT(pki_cert_identity(x, user, sizeof(user), groups, sizeof(groups)),
              -KE_INVALID);
    X509_free(x);

    static const char *const no_cn[] = {"O", "system:masters", NULL};
    x = cert_with_names(no_cn);
    CHECK_INT(pki_cert_identity(x, user, sizeof(user), groups, sizeof(groups)),
              -KE_INVALID);
    X509_free(x);

    static const char *const comma[] = {"O", "a,system:masters", "CN", "bob",
                                        NULL};
    x = cert_with_names(comma);
    CHECK_INT(pki_cert_identity(x, user, sizeof(user), groups, sizeof(groups)),
              -KE_INVALID);
    X509_free(x);
}

/* ---- kubeconfig ---- */

static void test_kubeconfig(void)
{
    char path[300], b64[8192];
    snprintf(path, sizeof(path), "%s/admin.kubeconfig", tmp);
    CHECK_INT(pki_write_kubeconfig(path, "https://127.0.0.1:6443",
                                   in(dir, "ca.crt"), in(dir, "admin.crt"),
                                   in(dir, "admin.key"), "kedge-admin", err,
                                   sizeof(err)),
              0);
    CHECK_INT(mode_of(path), 0600);
    char *yaml = slurp(path, NULL);
    CHECK(yaml != NULL);
    if (yaml) {
        CHECK(strstr(yaml, "server: \"https://127.0.0.1:6443\"\n") != NULL);
        CHECK(strstr(yaml, "current-context: kedge\n") != NULL);
        CHECK(strstr(yaml, "- name: kedge\n  cluster:\n") != NULL);
        CHECK(strstr(yaml, "- name: \"kedge-admin\"\n  user:\n") != NULL);
        CHECK(strstr(yaml, "    cluster: kedge\n    user: \"kedge-admin\"\n") !=
              NULL);
        const char *const files[] = {"ca.crt", "admin.crt", "admin.key"};
        const char *const keys[] = {
            "certificate-authority-data: ", "client-certificate-data: ",
            "client-key-data: "};
        for (int i = 0; i < 3; i++) {
            size_t len;
            char *data = slurp(in(dir, files[i]), &len);
            char want[8300];
            EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)data,
                            (int)len);
            snprintf(want, sizeof(want), "%s%s\n", keys[i], b64);
            if (!strstr(yaml, want)) {
                unit_failures++;
                fprintf(stderr, "kubeconfig lacks %s of %s\n", keys[i],
                        files[i]);
            }
            unit_checks++;
            free(data);
        }
        free(yaml);
    }

    /* Rewriting replaces the file whole. */
    CHECK_INT(pki_write_kubeconfig(path, "https://[::1]:6443",
                                   in(dir, "ca.crt"), in(dir, "admin.crt"),
                                   in(dir, "admin.key"), "me \"quoted\"", err,
                                   sizeof(err)),
              0);
    yaml = slurp(path, NULL);
    CHECK(yaml && strstr(yaml, "server: \"https://[::1]:6443\"\n"));
    CHECK(yaml && !strstr(yaml, "127.0.0.1"));
    CHECK(yaml && strstr(yaml, "- name: \"me \\\"quoted\\\"\"\n"));
    free(yaml);

    /* Refusals leave no file. */
    char path2[300];
    snprintf(path2, sizeof(path2), "%s/bad.kubeconfig", tmp);
    CHECK_INT(pki_write_kubeconfig(path2, "http://127.0.0.1:6443",
                                   in(dir, "ca.crt"), in(dir, "admin.crt"),
                                   in(dir, "admin.key"), "a", err, sizeof(err)),
              -KE_INVALID);
    CHECK(strstr(err, "URL") != NULL);
    CHECK_INT(pki_write_kubeconfig(path2, "https://x\n- evil",
                                   in(dir, "ca.crt"), in(dir, "admin.crt"),
                                   in(dir, "admin.key"), "a", err, sizeof(err)),
              -KE_INVALID);
    CHECK_INT(pki_write_kubeconfig(path2, "https://x", in(dir, "ca.crt"),
                                   in(dir, "admin.crt"), in(dir, "server.key"),
                                   "a", err, sizeof(err)),
              -KE_INVALID);
    CHECK(strstr(err, "server.key") != NULL);
    CHECK_INT(pki_write_kubeconfig(path2, "https://x", in(dir, "missing.crt"),
                                   in(dir, "admin.crt"), in(dir, "admin.key"),
                                   "a", err, sizeof(err)),
              -ENOENT);
    CHECK(strstr(err, "missing.crt") != NULL);
    CHECK(!exists(path2));
}

/* ---- TLS ---- */

struct hs {
    SSL *s, *c;
    bool ok;
};

/*
 * Runs a handshake between SCTX and CCTX over an in-memory BIO pair, with
 * the client checking HOST and offering ALPN (wire format) when given,
 * then one byte each way so TLS 1.3's late client-certificate verdict is
 * seen.
 */
static struct hs handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *host,
                           const char *alpn, size_t alpnlen)
{
    struct hs h = {SSL_new(sctx), SSL_new(cctx), false};
    BIO *sb = NULL, *cb = NULL;
    if (!h.s || !h.c || !BIO_new_bio_pair(&sb, 0, &cb, 0))
        return h;
    SSL_set_bio(h.s, sb, sb);
    SSL_set_bio(h.c, cb, cb);
    SSL_set_accept_state(h.s);
    SSL_set_connect_state(h.c);
    if (host && pki_client_set_host(h.c, host))
        return h;
    if (alpn && SSL_set_alpn_protos(h.c, (const unsigned char *)alpn,
                                    (unsigned)alpnlen))
        return h;
    bool sdone = false, cdone = false, sgot = false, cgot = false;
    char byte;
    for (int i = 0; i < 64 && !(sgot && cgot); i++) {
        int r;
        if (!cdone) {
            r = SSL_do_handshake(h.c);
            if (r == 1) {
                cdone = true;
                if (SSL_write(h.c, "c", 1) != 1)
                    break;
            } else if (SSL_get_error(h.c, r) != SSL_ERROR_WANT_READ) {
                break;
            }
        } else if (!cgot) {
            r = SSL_read(h.c, &byte, 1);
            if (r == 1)
                cgot = true;
            else if (SSL_get_error(h.c, r) != SSL_ERROR_WANT_READ)
                break;
        }
        if (!sdone) {
            r = SSL_do_handshake(h.s);
            if (r == 1) {
                sdone = true;
                if (SSL_write(h.s, "s", 1) != 1)
                    break;
            } else if (SSL_get_error(h.s, r) != SSL_ERROR_WANT_READ) {
                break;
            }
        } else if (!sgot) {
            r = SSL_read(h.s, &byte, 1);
            if (r == 1)
                sgot = true;
            else if (SSL_get_error(h.s, r) != SSL_ERROR_WANT_READ)
                break;
        }
    }
    h.ok = sgot && cgot;
    ERR_clear_error();
    return h;
}

static void hs_free(struct hs *h)
{
    SSL_free(h->s);
    SSL_free(h->c);
}

static void test_tls(void)
{
    static const char alpn_both[] = "\x02h2\x08http/1.1";
    static const char alpn_h2[] = "\x02h2";
    char user[64], groups[64];
    const unsigned char *proto;
    unsigned int plen;

    SSL_CTX *sctx = pki_server_ctx(dir, err, sizeof(err));
    SSL_CTX *admin = pki_client_ctx(in(dir, "ca.crt"), in(dir, "admin.crt"),
                                    in(dir, "admin.key"), err, sizeof(err));
    SSL_CTX *anon =
        pki_client_ctx(in(dir, "ca.crt"), NULL, NULL, err, sizeof(err));
    SSL_CTX *foreign = pki_client_ctx(in(dir, "ca.crt"), in(other, "admin.crt"),
                                      in(other, "admin.key"), err, sizeof(err));
    SSL_CTX *as_server =
        pki_client_ctx(in(dir, "ca.crt"), in(dir, "server.crt"),
                       in(dir, "server.key"), err, sizeof(err));
    SSL_CTX *wrong_ca =
        pki_client_ctx(in(other, "ca.crt"), NULL, NULL, err, sizeof(err));
    CHECK(sctx && admin && anon && foreign && as_server && wrong_ca);
    if (!sctx || !admin || !anon || !foreign || !as_server || !wrong_ca)
        goto out;

    /* Admin certificate: verified, identity readable, http/1.1 chosen. */
    struct hs h =
        handshake(sctx, admin, "localhost", alpn_both, sizeof(alpn_both) - 1);
    CHECK(h.ok);
    X509 *peer = h.ok ? SSL_get0_peer_certificate(h.s) : NULL;
    CHECK(peer != NULL);
    CHECK_INT(SSL_get_verify_result(h.s), X509_V_OK);
    if (peer) {
        CHECK_INT(
            pki_cert_identity(peer, user, sizeof(user), groups, sizeof(groups)),
            0);
        CHECK_STR(user, "kedge-admin");
        CHECK_STR(groups, "system:masters");
    }
    SSL_get0_alpn_selected(h.s, &proto, &plen);
    CHECK(plen == 8 && memcmp(proto, "http/1.1", 8) == 0);
    SSL_get0_alpn_selected(h.c, &proto, &plen);
    CHECK(plen == 8 && memcmp(proto, "http/1.1", 8) == 0);
    CHECK(SSL_version(h.s) >= TLS1_2_VERSION);
    hs_free(&h);

    /* No client certificate: the handshake completes, no peer. */
    h = handshake(sctx, anon, "127.0.0.1", alpn_h2, sizeof(alpn_h2) - 1);
    CHECK(h.ok);
    CHECK(h.ok && SSL_get0_peer_certificate(h.s) == NULL);
    /* h2 only: no protocol is agreed, never h2. */
    SSL_get0_alpn_selected(h.s, &proto, &plen);
    CHECK_INT(plen, 0);
    hs_free(&h);

    /* Every default and requested name verifies; others do not. */
    const char *good[] = {"localhost", "127.0.0.1",         "::1",
                          "[::1]",     "kedge.example.com", "10.1.2.3"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        h = handshake(sctx, anon, good[i], NULL, 0);
        if (!h.ok) {
            unit_failures++;
            fprintf(stderr, "handshake to %s failed\n", good[i]);
        }
        unit_checks++;
        hs_free(&h);
    }
    h = handshake(sctx, anon, "evil.example.com", NULL, 0);
    CHECK(!h.ok);
    hs_free(&h);
    h = handshake(sctx, anon, "10.9.9.9", NULL, 0);
    CHECK(!h.ok);
    hs_free(&h);

    /* A client that trusts another CA refuses our server. */
    h = handshake(sctx, wrong_ca, "localhost", NULL, 0);
    CHECK(!h.ok);
    hs_free(&h);

    /* Certificates the server must refuse: another CA's, and our own
     * server certificate (no clientAuth). */
    h = handshake(sctx, foreign, "localhost", NULL, 0);
    CHECK(!h.ok);
    hs_free(&h);
    h = handshake(sctx, as_server, "localhost", NULL, 0);
    CHECK(!h.ok);
    hs_free(&h);

    /* TLS 1.1 is refused. */
    SSL_CTX *old =
        pki_client_ctx(in(dir, "ca.crt"), NULL, NULL, err, sizeof(err));
    CHECK(old != NULL);
    if (old) {
        SSL_CTX_set_min_proto_version(old, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
        SSL_CTX_set_security_level(old, 0);
        SSL_CTX_set_cipher_list(old, "ALL:@SECLEVEL=0");
        h = handshake(sctx, old, "localhost", NULL, 0);
        CHECK(!h.ok);
        hs_free(&h);
        SSL_CTX_free(old);
    }

    /* Bad setups are errors that name the file. */
    CHECK(pki_server_ctx(tmp, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "server.crt") != NULL);
    CHECK(pki_client_ctx(in(dir, "ca.crt"), in(dir, "admin.crt"),
                         in(dir, "server.key"), err, sizeof(err)) == NULL);
    CHECK(strstr(err, "server.key") != NULL);
    CHECK(pki_client_ctx(in(dir, "ca.crt"), in(dir, "admin.crt"), NULL, err,
                         sizeof(err)) == NULL);
    CHECK(pki_client_ctx(in(dir, "nope.crt"), NULL, NULL, err, sizeof(err)) ==
          NULL);
    CHECK(strstr(err, "nope.crt") != NULL);
out:
    SSL_CTX_free(sctx);
    SSL_CTX_free(admin);
    SSL_CTX_free(anon);
    SSL_CTX_free(foreign);
    SSL_CTX_free(as_server);
    SSL_CTX_free(wrong_ca);
}

int main(void)
{
    log_set_level(LOG_WARN);
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s/data", tmp);
    snprintf(other, sizeof(other), "%s/other", tmp);

    test_create();
    CHECK_INT(pki_ensure(other, dns1, NULL, err, sizeof(err)), 0);
    test_reuse();
    test_new_san();
    test_server_cert();
    test_admin_cert();
    test_admin_renewal();
    test_missing_pieces();
    test_corrupt();
    test_bad_input();
    test_concurrent_create();
    test_sign_csr();
    test_csr_extensions_ignored();
    test_csr_rejected();
    test_fingerprint();
    test_identity();
    test_kubeconfig();
    test_tls();

    if (getenv("KEDGE_TEST_KEEP"))
        fprintf(stderr, "kept %s\n", tmp);
    else
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return unit_done("test_pki");
}
