/*
 * Certificate issuance: P-256 key generation, subject and SAN validation,
 * the three certificate profiles (CA, server, client) and PEM encoding.
 * Policy (who gets what) lives in pki.c and csr.c; this file only builds.
 */
#include "pki/internal.h"
#include "util/errors.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* notBefore is set this far in the past so a peer whose clock is a little
 * behind ours accepts a certificate issued a moment ago. */
#define PKI_BACKDATE_SECONDS 300
#define PKI_SERIAL_BYTES 16

bool pki_name_ok(const char *s, bool no_comma)
{
    if (!s)
        return false;
    size_t len = strnlen(s, PKI_MAX_NAME_BYTES + 1);
    if (len == 0 || len > PKI_MAX_NAME_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (no_comma && c == ','))
            return false;
    }
    return true;
}

/* Hostname syntax (letters, digits, '-', '_', dot-separated labels of at
 * most 63 bytes), optionally with a leading "*." wildcard label. */
static bool dns_name_ok(const char *name)
{
    size_t len = strnlen(name, PKI_DNS_NAME_BYTES);
    if (len == 0 || len >= PKI_DNS_NAME_BYTES)
        return false;
    const char *p = name;
    if (p[0] == '*' && p[1] == '.')
        p += 2;
    size_t label = 0;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-' && c != '_')
            return false;
        if (label == 0 && c == '-')
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0;
}

int pki_sans_add_ip(struct pki_sans *s, const char *text, char *err,
                    size_t errlen)
{
    unsigned char addr[16];
    int len;
    if (!text || !pki_parse_ip(text, addr, &len))
        return pki_errf(err, errlen, -KE_INVALID,
                        "IP SAN \"%.64s\": not an IPv4 or IPv6 address",
                        text ? text : "(null)");
    for (size_t i = 0; i < s->nip; i++)
        if (s->iplen[i] == len && memcmp(s->ip[i], addr, (size_t)len) == 0)
            return 0;
    if (s->ndns + s->nip >= PKI_MAX_SANS)
        return pki_errf(err, errlen, -KE_TOOBIG,
                        "IP SAN \"%s\": more than %d SANs", text, PKI_MAX_SANS);
    memcpy(s->ip[s->nip], addr, (size_t)len);
    s->iplen[s->nip] = len;
    snprintf(s->iptext[s->nip], sizeof(s->iptext[s->nip]), "%s", text);
    s->nip++;
    return 0;
}

int pki_sans_add_dns(struct pki_sans *s, const char *name, char *err,
                     size_t errlen)
{
    unsigned char addr[16];
    int len;
    if (!name)
        return pki_errf(err, errlen, -KE_INVALID, "DNS SAN: NULL name");
    if (pki_parse_ip(name, addr, &len))
        return pki_sans_add_ip(s, name, err, errlen);
    if (!dns_name_ok(name))
        return pki_errf(err, errlen, -KE_INVALID,
                        "DNS SAN \"%.64s\": not a valid DNS name", name);
    for (size_t i = 0; i < s->ndns; i++)
        if (strcasecmp(s->dns[i], name) == 0)
            return 0;
    if (s->ndns + s->nip >= PKI_MAX_SANS)
        return pki_errf(err, errlen, -KE_TOOBIG,
                        "DNS SAN \"%s\": more than %d SANs", name,
                        PKI_MAX_SANS);
    snprintf(s->dns[s->ndns], sizeof(s->dns[s->ndns]), "%s", name);
    s->ndns++;
    return 0;
}

/* Does GENS hold a name of TYPE equal to DATA (LEN bytes)? */
static bool gens_have(const GENERAL_NAMES *gens, int type,
                      const unsigned char *data, size_t len)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != type)
            continue;
        const ASN1_STRING *v = type == GEN_DNS ? g->d.dNSName : g->d.iPAddress;
        if ((size_t)ASN1_STRING_length(v) != len)
            continue;
        const unsigned char *p = ASN1_STRING_get0_data(v);
        if (type == GEN_DNS
                ? strncasecmp((const char *)p, (const char *)data, len) == 0
                : memcmp(p, data, len) == 0)
            return true;
    }
    return false;
}

const char *pki_sans_missing(const struct pki_sans *s, X509 *cert)
{
    const char *missing = NULL;
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (size_t i = 0; !missing && i < s->ndns; i++)
        if (!gens || !gens_have(gens, GEN_DNS, (const unsigned char *)s->dns[i],
                                strlen(s->dns[i])))
            missing = s->dns[i];
    for (size_t i = 0; !missing && i < s->nip; i++)
        if (!gens || !gens_have(gens, GEN_IPADD, s->ip[i], (size_t)s->iplen[i]))
            missing = s->iptext[i];
    GENERAL_NAMES_free(gens);
    return missing;
}

int pki_new_key(EVP_PKEY **out, char *err, size_t errlen)
{
    *out = EVP_EC_gen("P-256");
    if (!*out)
        return pki_errf(err, errlen, -ENOMEM, "generating a P-256 key");
    return 0;
}

static int set_serial(X509 *x)
{
    unsigned char b[PKI_SERIAL_BYTES];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    /* Positive (RFC 5280 4.1.2.2) and never shorter than 16 bytes. */
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
    if (!bn)
        return -1;
    int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

X509_NAME *pki_make_name(const char *cn, const char *org)
{
    X509_NAME *name = X509_NAME_new();
    if (!name)
        return NULL;
    if (org &&
        !X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                    (const unsigned char *)org, -1, -1, 0))
        goto fail;
    if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0))
        goto fail;
    return name;
fail:
    X509_NAME_free(name);
    return NULL;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* subjectAltName built as objects, not config text, so no name can inject
 * extra entries. */
static int add_sans(X509 *x, const struct pki_sans *s)
{
    int rc = -1;
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    if (!gens)
        goto out;
    for (size_t i = 0; i < s->ndns; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *v = ASN1_IA5STRING_new();
        if (!g || !v || !ASN1_STRING_set(v, s->dns[i], -1)) {
            GENERAL_NAME_free(g);
            ASN1_IA5STRING_free(v);
            goto out;
        }
        GENERAL_NAME_set0_value(g, GEN_DNS, v);
        if (!sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            goto out;
        }
    }
    for (size_t i = 0; i < s->nip; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
        if (!g || !v || !ASN1_OCTET_STRING_set(v, s->ip[i], s->iplen[i])) {
            GENERAL_NAME_free(g);
            ASN1_OCTET_STRING_free(v);
            goto out;
        }
        GENERAL_NAME_set0_value(g, GEN_IPADD, v);
        if (!sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            goto out;
        }
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
                          X509V3_ADD_DEFAULT) == 1)
        rc = 0;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

static int add_profile_exts(X509 *x, enum pki_profile profile,
                            const struct pki_sans *sans, X509 *issuer)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    if (profile == PKI_PROFILE_CA) {
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
            add_ext(x, &ctx, NID_key_usage,
                    "critical,digitalSignature,keyCertSign,cRLSign") ||
            add_ext(x, &ctx, NID_subject_key_identifier, "hash"))
            return -1;
        return 0;
    }
    if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
        add_ext(x, &ctx, NID_ext_key_usage,
                profile == PKI_PROFILE_SERVER ? "serverAuth" : "clientAuth") ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid"))
        return -1;
    if (profile == PKI_PROFILE_SERVER && sans && add_sans(x, sans))
        return -1;
    return 0;
}

int pki_issue(enum pki_profile profile, const char *cn, const char *org,
              EVP_PKEY *key, const struct pki_sans *sans, int days,
              const struct pki_ca *ca, X509 **out, char *err, size_t errlen)
{
    int rc = 0;
    X509 *x = NULL;
    X509_NAME *name = NULL;

    *out = NULL;
    if (!pki_name_ok(cn, false)) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "CN \"%.64s\": must be 1..%d printable bytes",
                      cn ? cn : "", PKI_MAX_NAME_BYTES);
        goto out;
    }
    if (org && !pki_name_ok(org, true)) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "O \"%.64s\": must be 1..%d printable bytes without ','",
                      org, PKI_MAX_NAME_BYTES);
        goto out;
    }
    name = pki_make_name(cn, org);
    if (!name) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "subject CN=%s: not valid UTF-8", cn);
        goto out;
    }
    x = X509_new();
    if (!x || !X509_set_version(x, X509_VERSION_3) || set_serial(x) ||
        !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, ca ? X509_get_subject_name(ca->cert) : name) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -PKI_BACKDATE_SECONDS) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) ||
        !X509_set_pubkey(x, key)) {
        rc = pki_errf(err, errlen, -ENOMEM, "building certificate %s", cn);
        goto out;
    }
    /* A certificate cannot usefully outlive the CA that signed it. */
    if (ca &&
        ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ca->cert)) >
            0 &&
        !X509_set1_notAfter(x, X509_get0_notAfter(ca->cert))) {
        rc = pki_errf(err, errlen, -ENOMEM, "building certificate %s", cn);
        goto out;
    }
    if (add_profile_exts(x, profile, sans, ca ? ca->cert : NULL)) {
        rc = pki_errf(err, errlen, -ENOMEM,
                      "adding extensions to certificate %s", cn);
        goto out;
    }
    EVP_PKEY *signer = ca ? ca->key : key;
    int id = EVP_PKEY_get_base_id(signer);
    /* EdDSA signs the message itself and takes no digest. */
    const EVP_MD *md =
        id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
    if (X509_sign(x, signer, md) <= 0) {
        rc = pki_errf(err, errlen, -KE_UNSUPPORTED, "signing certificate %s",
                      cn);
        goto out;
    }
    *out = x;
    x = NULL;
out:
    X509_free(x);
    X509_NAME_free(name);
    return rc;
}

int pki_cert_pem(X509 *cert, char **pem, size_t *len)
{
    int rc = -ENOMEM;
    BIO *bio = BIO_new(BIO_s_mem());
    *pem = NULL;
    if (bio && PEM_write_bio_X509(bio, cert))
        rc = pki_bio_string(bio, pem, len);
    BIO_free(bio);
    return rc;
}

int pki_key_pem(EVP_PKEY *key, char **pem, size_t *len)
{
    int rc = -ENOMEM;
    /* Secure memory is wiped on free; the caller's copy is its to wipe. */
    BIO *bio = BIO_new(BIO_s_secmem());
    *pem = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        rc = pki_bio_string(bio, pem, len);
    BIO_free(bio);
    return rc;
}

void pki_time_text(const ASN1_TIME *t, char *buf, size_t buflen)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm) ||
        strftime(buf, buflen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, buflen, "(unknown time)");
}
