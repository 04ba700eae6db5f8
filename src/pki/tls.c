/*
 * OpenSSL contexts for the two ends of the API: the server requests (but
 * does not require) client certificates from the kedge CA and speaks only
 * HTTP/1.1; clients pin the kedge CA and check the server's name.
 */
#include "pki/internal.h"
#include "util/errors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* TLS 1.2 suites: ECDHE (forward secrecy) with AEAD only. TLS 1.3 keeps
 * OpenSSL's defaults, which are all of that kind already. */
#define PKI_TLS12_CIPHERS                                                      \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"               \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"               \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

#define PKI_SESSION_CONTEXT "kedge-api"

/* ALPN wire format: length-prefixed protocol names. */
static const unsigned char alpn_http11[] = "\x08http/1.1";

/*
 * Picks http/1.1 when the client offers it. A client offering only other
 * protocols (h2) gets no ALPN answer rather than a fatal alert, so it may
 * still fall back to HTTP/1.1 on its own.
 */
static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    unsigned char *sel = NULL;
    unsigned char sellen = 0;
    if (SSL_select_next_proto(&sel, &sellen, alpn_http11,
                              sizeof(alpn_http11) - 1, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    *outlen = sellen;
    return SSL_TLSEXT_ERR_OK;
}

/* Settings both ends share: TLS 1.2 or newer, strong suites only. */
static int common_setup(SSL_CTX *ctx)
{
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(ctx, PKI_TLS12_CIPHERS))
        return -1;
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    return 0;
}

/*
 * Installs CERT_FILE (with any chain after the first certificate) and
 * KEY_FILE, parsed with our loaders first so a bad file is named in err.
 */
static int use_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file,
                    char *err, size_t errlen)
{
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    int rc;

    if ((rc = pki_load_cert(cert_file, &cert, err, errlen)) ||
        (rc = pki_load_key(key_file, &key, err, errlen)))
        goto out;
    if (X509_check_private_key(cert, key) != 1) {
        rc = pki_errf(err, errlen, -KE_CORRUPT,
                      "%s: key does not match the certificate in %s", key_file,
                      cert_file);
        goto out;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        rc = pki_errf(err, errlen, -KE_CORRUPT, "%s: cannot use certificate",
                      cert_file);
        goto out;
    }
    /* The parsed key, not SSL_CTX_use_PrivateKey_file, which would prompt
     * on the terminal for an encrypted key. */
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        rc = pki_errf(err, errlen, -KE_CORRUPT, "%s: cannot use key", key_file);
        goto out;
    }
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/* Trusts the certificates of CA_FILE for verifying the peer. */
static int trust_ca(SSL_CTX *ctx, const char *ca_file, char *err, size_t errlen)
{
    X509 *ca = NULL;
    int rc = pki_load_cert(ca_file, &ca, err, errlen);
    X509_free(ca);
    if (rc)
        return rc;
    if (SSL_CTX_load_verify_file(ctx, ca_file) != 1)
        return pki_errf(err, errlen, -KE_CORRUPT, "%s: cannot load as CA",
                        ca_file);
    return 0;
}

SSL_CTX *pki_server_ctx(const char *dir, char *err, size_t errlen)
{
    char crt[PKI_PATH_MAX], keyp[PKI_PATH_MAX], ca[PKI_PATH_MAX];
    SSL_CTX *ctx = NULL;
    STACK_OF(X509_NAME) *names = NULL;

    ERR_clear_error();
    if (!dir || !*dir) {
        pki_errf(err, errlen, -KE_INVALID, "data dir: empty path");
        return NULL;
    }
    if (pki_join(crt, sizeof(crt), dir, "server.crt", err, errlen) ||
        pki_join(keyp, sizeof(keyp), dir, "server.key", err, errlen) ||
        pki_join(ca, sizeof(ca), dir, "ca.crt", err, errlen))
        goto fail;
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || common_setup(ctx)) {
        pki_errf(err, errlen, -ENOMEM, "TLS server context");
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (use_pair(ctx, crt, keyp, err, errlen) || trust_ca(ctx, ca, err, errlen))
        goto fail;
    /* Tell clients which CA to pick a certificate for. */
    names = SSL_load_client_CA_file(ca);
    if (!names) {
        pki_errf(err, errlen, -KE_CORRUPT, "%s: no CA names", ca);
        goto fail;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    /* PEER without FAIL_IF_NO_PEER_CERT: a certificate is asked for and,
     * if sent, must verify; none at all is left to the HTTP layer (401). */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* Session resumption with client verification needs a context id. */
    if (!SSL_CTX_set_session_id_context(
            ctx, (const unsigned char *)PKI_SESSION_CONTEXT,
            sizeof(PKI_SESSION_CONTEXT) - 1)) {
        pki_errf(err, errlen, -ENOMEM, "TLS server context");
        goto fail;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *pki_client_ctx(const char *ca_file, const char *cert_file,
                        const char *key_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = NULL;

    ERR_clear_error();
    if (!ca_file || !*ca_file) {
        pki_errf(err, errlen, -KE_INVALID, "CA file: empty path");
        return NULL;
    }
    if (!cert_file != !key_file) {
        pki_errf(err, errlen, -KE_INVALID,
                 "client certificate and key: give both or neither");
        return NULL;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || common_setup(ctx)) {
        pki_errf(err, errlen, -ENOMEM, "TLS client context");
        goto fail;
    }
    if (trust_ca(ctx, ca_file, err, errlen))
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert_file && use_pair(ctx, cert_file, key_file, err, errlen))
        goto fail;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int pki_client_set_host(SSL *ssl, const char *host)
{
    char name[PKI_DNS_NAME_BYTES];
    unsigned char addr[16];
    int addrlen;

    if (!ssl || !host || !*host)
        return -KE_INVALID;
    size_t len = strnlen(host, sizeof(name));
    if (len >= sizeof(name))
        return -KE_INVALID;
    /* Accept "[::1]" as written in URLs. */
    if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
        memcpy(name, host + 1, len - 2);
        name[len - 2] = 0;
    } else {
        memcpy(name, host, len + 1);
    }
    if (pki_parse_ip(name, addr, &addrlen)) {
        /* IPs are matched against IP SANs and, per RFC 6066, never sent
         * as SNI. */
        if (!X509_VERIFY_PARAM_set1_ip(SSL_get0_param(ssl), addr,
                                       (size_t)addrlen))
            return -ENOMEM;
        return 0;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (!SSL_set_tlsext_host_name(ssl, name) || !SSL_set1_host(ssl, name)) {
        ERR_clear_error();
        return -ENOMEM;
    }
    return 0;
}
