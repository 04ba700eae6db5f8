/*
 * The certificate authority of `kedge cloud`: creates (first start) or
 * reuses and renews (later starts) the CA, API server and admin
 * certificates in a data directory, signs edge node CSRs, writes
 * kubeconfigs, and builds the TLS contexts both ends of the API use.
 *
 * Every function that takes `err` fills it (when errlen > 0) with one line
 * naming the file or field and the problem, and returns 0 or a negative
 * error code (-errno or -KE_*). Keys are ECDSA P-256, PEM (PKCS#8), files
 * holding secrets are 0600, and every file is written atomically.
 */
#ifndef KEDGE_PKI_PKI_H
#define KEDGE_PKI_PKI_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#define PKI_CA_CN "kedge-ca"
#define PKI_SERVER_CN "kedge-apiserver"
#define PKI_ADMIN_CN "kedge-admin"
#define PKI_ADMIN_ORG "system:masters"
#define PKI_CA_DAYS 3650
#define PKI_LEAF_DAYS 365
/* Leaf certificates closer than this to their expiry are re-issued. */
#define PKI_RENEW_BEFORE_DAYS 30
/* Cap on DNS plus IP SANs of the server certificate (defaults included). */
#define PKI_MAX_SANS 64
/* Cap on a PEM file or CSR read from disk or the network. */
#define PKI_MAX_PEM_BYTES (1024 * 1024)
/* Longest CN or O accepted (the X.509 upper bound). */
#define PKI_MAX_NAME_BYTES 64
/* Longest validity pki_sign_csr accepts. */
#define PKI_MAX_DAYS 3650

/*
 * Ensures DIR holds a complete PKI, creating DIR (0700) if missing:
 *   ca.crt, ca.key          self-signed CA "kedge-ca", 10 years
 *   server.crt, server.key  serverAuth, 1 year, SANs: every name in
 *                           dns_names and ips plus localhost, 127.0.0.1, ::1
 *   admin.crt, admin.key    clientAuth, CN kedge-admin, O system:masters
 * dns_names and ips are NULL-terminated arrays (either may be NULL). An
 * entry of dns_names that is an IP literal is treated as an IP.
 *
 * Existing files are reused. A leaf certificate is re-issued (same key,
 * same CA) when it lacks a requested SAN, expires within 30 days, is not
 * signed by the CA in DIR, has the wrong subject or usage, or does not
 * match its key (as after a crash between writing the key and the
 * certificate). A missing leaf key is created (and its certificate
 * re-issued). ca.crt is re-created from ca.key when only the certificate
 * is missing. A file that exists but cannot be parsed, ca.crt without
 * ca.key, a key not matching ca.crt, or an expired CA are errors and leave
 * every file as it was. Concurrent callers on one DIR are serialised with
 * flock(2) on the directory; temporaries an interrupted write left behind
 * ("ca.key.tmp-XXXXXX") are removed.
 *
 * Returns 0, -KE_INVALID (bad name or IP), -KE_TOOBIG (too many SANs),
 * -KE_CORRUPT (unparsable or inconsistent file), -KE_EXPIRED (CA expired)
 * or -errno.
 */
int pki_ensure(const char *dir, const char *const *dns_names,
               const char *const *ips, char *err, size_t errlen);

/*
 * Writes PATH (0600, atomically) as a kubeconfig with one cluster "kedge"
 * (server_url, certificate-authority-data = base64 of the CA file), one
 * user `user_name` (client-certificate-data, client-key-data = base64 of
 * the cert and key files) and one context "kedge", the current context.
 * The files must parse and the key must match the certificate.
 * server_url must start with https://. Returns 0, -KE_INVALID,
 * -KE_CORRUPT or -errno.
 */
int pki_write_kubeconfig(const char *path, const char *server_url,
                         const char *ca_file, const char *cert_file,
                         const char *key_file, const char *user_name, char *err,
                         size_t errlen);

/*
 * Verifies the signature of the PEM CSR (csr_len bytes, at most
 * PKI_MAX_PEM_BYTES) and signs its public key with the CA in DIR, giving a
 * clientAuth certificate valid for `days` (1..PKI_MAX_DAYS, cut to the
 * CA's expiry) whose subject is CN=<cn>[, O=<org>] whatever the CSR asked
 * for; the CSR's subject and extensions are ignored. org may be NULL; it
 * may not contain ',' (groups are joined with ','). Accepted keys: EC
 * P-256/P-384/P-521, RSA >= 2048 bits, Ed25519.
 * On success *pem_out is a NUL-terminated malloc'd PEM the caller frees.
 * Returns 0, -KE_PARSE (not a CSR), -KE_INVALID (bad signature, name or
 * days), -KE_UNSUPPORTED (key type), -KE_TOOBIG, -KE_CORRUPT (CA files)
 * or -errno.
 */
int pki_sign_csr(const char *dir, const char *csr_pem, size_t csr_len,
                 const char *cn, const char *org, int days, char **pem_out,
                 char *err, size_t errlen);

/*
 * Creates a P-256 key and a CSR for CN=<cn>[, O=<org>] signed with it.
 * On success *key_pem (PKCS#8) and *csr_pem are NUL-terminated malloc'd
 * PEM strings the caller frees; on error both are NULL.
 * Returns 0, -KE_INVALID (bad cn/org) or -ENOMEM.
 */
int pki_make_key_and_csr(const char *cn, const char *org, char **key_pem,
                         char **csr_pem, char *err, size_t errlen);

/*
 * Writes the lower-case hex SHA-256 of the DER encoding of the first PEM
 * certificate in cert_file (64 chars + NUL) into out; outlen >= 65.
 * Returns 0, -ERANGE (outlen), -KE_CORRUPT or -errno.
 */
int pki_cert_fingerprint(const char *cert_file, char *out, size_t outlen,
                         char *err, size_t errlen);

/*
 * Identity of an already verified peer certificate: its single CN into
 * user and its O values, in order, joined with ',' into groups ("" when
 * none). Does not verify anything. Returns 0, -KE_INVALID (no CN, several
 * CNs, an O containing ',' or a name with a NUL byte) or -ERANGE (a buffer
 * is too small).
 */
int pki_cert_identity(X509 *cert, char *user, size_t userlen, char *groups,
                      size_t groupslen);

/*
 * The API server's TLS context: server.crt/server.key from DIR, TLS 1.2+,
 * forward-secret AEAD ciphers, ALPN "http/1.1" only. Client certificates
 * are requested and verified against DIR/ca.crt (SSL_VERIFY_PEER), but a
 * client sending none still completes the handshake: the HTTP layer reads
 * SSL_get0_peer_certificate() and answers 401. A client certificate that
 * fails verification (other CA, expired, no clientAuth) fails the
 * handshake. Returns a context the caller frees with SSL_CTX_free, or
 * NULL with err filled.
 */
SSL_CTX *pki_server_ctx(const char *dir, char *err, size_t errlen);

/*
 * A client TLS context (TLS 1.2+) that verifies the server against
 * ca_file, presenting cert_file/key_file when both are given (both NULL
 * for no client certificate). The caller still names the server on each
 * connection with pki_client_set_host. Returns a context the caller frees
 * with SSL_CTX_free, or NULL with err filled.
 */
SSL_CTX *pki_client_ctx(const char *ca_file, const char *cert_file,
                        const char *key_file, char *err, size_t errlen);

/*
 * Makes SSL (a client connection) check that the server certificate is
 * for HOST, a DNS name or an IP literal, and sends HOST as SNI when it is
 * a name. Returns 0, -KE_INVALID or -ENOMEM.
 */
int pki_client_set_host(SSL *ssl, const char *host);

/* Replaces PATH atomically (temporary, fsync, rename) with LEN bytes of
 * DATA and file mode MODE. Returns 0 or -errno (err filled). */
int pki_write_file(const char *path, const void *data, size_t len, int mode,
                   char *err, size_t errlen);

/* The identity (as pki_cert_identity) and expiry of the first certificate
 * in PATH. Returns 0, -ENOENT, -KE_CORRUPT, -KE_INVALID or -errno. */
int pki_cert_file_identity(const char *path, char *user, size_t userlen,
                           char *groups, size_t groupslen, time_t *not_after,
                           char *err, size_t errlen);

#endif
