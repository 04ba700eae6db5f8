/*
 * Certificate signing requests: the edge side makes a key and a CSR, the
 * cloud side checks the CSR's signature and key and signs a client
 * certificate whose subject it chooses itself.
 */
#include "pki/internal.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define PKI_MIN_RSA_BITS 2048

/* Key types a node may present; NULL when acceptable, else why not. */
static const char *csr_key_problem(EVP_PKEY *pub)
{
    char group[64];
    size_t glen = 0;

    switch (EVP_PKEY_get_base_id(pub)) {
    case EVP_PKEY_RSA:
        return EVP_PKEY_get_bits(pub) >= PKI_MIN_RSA_BITS
                   ? NULL
                   : "RSA key shorter than 2048 bits";
    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_group_name(pub, group, sizeof(group), &glen))
            return "EC key without a named curve";
        if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256") ||
            !strcmp(group, "secp384r1") || !strcmp(group, "P-384") ||
            !strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
            return NULL;
        return "EC curve is not P-256, P-384 or P-521";
    case EVP_PKEY_ED25519:
        return NULL;
    default:
        return "key type is not EC, RSA or Ed25519";
    }
}

int pki_sign_csr(const char *dir, const char *csr_pem, size_t csr_len,
                 const char *cn, const char *org, int days, char **pem_out,
                 char *err, size_t errlen)
{
    int rc = 0;
    BIO *bio = NULL;
    X509_REQ *req = NULL;
    X509 *cert = NULL;
    struct pki_ca ca = {NULL, NULL};
    const char *problem;

    ERR_clear_error();
    if (!pem_out)
        return pki_errf(err, errlen, -KE_INVALID, "CSR: no output pointer");
    *pem_out = NULL;
    if (!dir || !*dir) {
        rc = pki_errf(err, errlen, -KE_INVALID, "data dir: empty path");
        goto out;
    }
    if (!csr_pem || csr_len == 0) {
        rc = pki_errf(err, errlen, -KE_PARSE, "CSR: empty");
        goto out;
    }
    if (csr_len > PKI_MAX_PEM_BYTES) {
        rc = pki_errf(err, errlen, -KE_TOOBIG,
                      "CSR: %zu bytes, over the %d byte limit", csr_len,
                      PKI_MAX_PEM_BYTES);
        goto out;
    }
    if (!pki_name_ok(cn, false)) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "CN: must be 1..%d printable bytes", PKI_MAX_NAME_BYTES);
        goto out;
    }
    if (org && !pki_name_ok(org, true)) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "O: must be 1..%d printable bytes without ','",
                      PKI_MAX_NAME_BYTES);
        goto out;
    }
    if (days < 1 || days > PKI_MAX_DAYS) {
        rc = pki_errf(err, errlen, -KE_INVALID, "days: %d is outside 1..%d",
                      days, PKI_MAX_DAYS);
        goto out;
    }

    bio = BIO_new_mem_buf(csr_pem, (int)csr_len);
    if (!bio) {
        rc = pki_errf(err, errlen, -ENOMEM, "CSR: out of memory");
        goto out;
    }
    req = PEM_read_bio_X509_REQ(bio, NULL, pki_no_passphrase, NULL);
    if (!req) {
        rc = pki_errf(err, errlen, -KE_PARSE,
                      "CSR: not a PEM certificate request");
        goto out;
    }
    EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
    if (!pub) {
        rc = pki_errf(err, errlen, -KE_PARSE, "CSR: unreadable public key");
        goto out;
    }
    /* Proof of possession: whoever sent the CSR holds the private key. */
    if (X509_REQ_verify(req, pub) != 1) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "CSR: signature does not verify");
        goto out;
    }
    if ((problem = csr_key_problem(pub))) {
        rc = pki_errf(err, errlen, -KE_UNSUPPORTED, "CSR: %s", problem);
        goto out;
    }
    if ((rc = pki_ca_load(dir, &ca, err, errlen)))
        goto out;
    if ((rc = pki_issue(PKI_PROFILE_CLIENT, cn, org, pub, NULL, days, &ca,
                        &cert, err, errlen)))
        goto out;
    if ((rc = pki_cert_pem(cert, pem_out, NULL))) {
        pki_errf(err, errlen, rc, "CSR: encoding certificate");
        goto out;
    }
    log_info("pki", "signed client certificate CN=%s O=%s for %d days", cn,
             org ? org : "", days);
out:
    pki_ca_free(&ca);
    X509_free(cert);
    X509_REQ_free(req);
    BIO_free(bio);
    return rc;
}

int pki_make_key_and_csr(const char *cn, const char *org, char **key_pem,
                         char **csr_pem, char *err, size_t errlen)
{
    int rc = 0;
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    X509_NAME *name = NULL;
    BIO *bio = NULL;
    char *kp = NULL, *cp = NULL;
    size_t kplen = 0;

    ERR_clear_error();
    if (!key_pem || !csr_pem)
        return pki_errf(err, errlen, -KE_INVALID, "CSR: no output pointer");
    *key_pem = NULL;
    *csr_pem = NULL;
    if (!pki_name_ok(cn, false)) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "CN: must be 1..%d printable bytes", PKI_MAX_NAME_BYTES);
        goto out;
    }
    if (org && !pki_name_ok(org, true)) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "O: must be 1..%d printable bytes without ','",
                      PKI_MAX_NAME_BYTES);
        goto out;
    }
    name = pki_make_name(cn, org);
    if (!name) {
        rc = pki_errf(err, errlen, -KE_INVALID, "CN=%s: not valid UTF-8", cn);
        goto out;
    }
    if ((rc = pki_new_key(&key, err, errlen)))
        goto out;
    req = X509_REQ_new();
    bio = BIO_new(BIO_s_mem());
    if (!req || !bio || !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
        !X509_REQ_set_subject_name(req, name) ||
        !X509_REQ_set_pubkey(req, key) ||
        X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
        !PEM_write_bio_X509_REQ(bio, req)) {
        rc = pki_errf(err, errlen, -ENOMEM, "CSR for CN=%s: building", cn);
        goto out;
    }
    if ((rc = pki_bio_string(bio, &cp, NULL)) ||
        (rc = pki_key_pem(key, &kp, &kplen))) {
        pki_errf(err, errlen, rc, "CSR for CN=%s: encoding", cn);
        goto out;
    }
    *key_pem = kp;
    *csr_pem = cp;
    kp = cp = NULL;
out:
    if (kp)
        OPENSSL_cleanse(kp, kplen);
    free(kp);
    free(cp);
    BIO_free(bio);
    X509_NAME_free(name);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rc;
}
