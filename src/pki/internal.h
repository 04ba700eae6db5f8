/*
 * Internals shared by the files of src/pki/: error formatting, bounded
 * file reads, atomic writes, and PEM parsing whose errors name the file.
 * Not part of the public interface.
 */
#ifndef KEDGE_PKI_INTERNAL_H
#define KEDGE_PKI_INTERNAL_H

#include "pki/pki.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PKI_PATH_MAX 4096

/*
 * Formats a message into err (when errlen > 0), appends the reason of the
 * first queued OpenSSL error if there is one, clears the OpenSSL error
 * queue, and returns code. A NULL or zero-length err is allowed.
 */
int pki_errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Joins DIR and NAME into out; -ENAMETOOLONG (err filled) on truncation. */
int pki_join(char *out, size_t outlen, const char *dir, const char *name,
             char *err, size_t errlen);

/*
 * Reads a regular file of at most max bytes. On success *data is a
 * NUL-terminated malloc'd copy the caller frees and *len its length.
 * Returns 0, -ENOENT (missing, err filled), -KE_TOOBIG, -KE_INVALID (not a
 * regular file) or -errno.
 */
int pki_read_file(const char *path, size_t max, char **data, size_t *len,
                  char *err, size_t errlen);

/*
 * Replaces PATH with LEN bytes of DATA so that readers see the old or the
 * new content, never a part: a temporary file in the same directory is
 * written with MODE, fsync'd and renamed over PATH, then the directory is
 * fsync'd. Returns 0 or -errno (err filled; the temporary is removed).
 */
int pki_write_atomic(const char *path, const void *data, size_t len,
                     mode_t mode, char *err, size_t errlen);

/*
 * Parses the first PEM certificate of a file. *out is the caller's to
 * X509_free. Returns 0, -ENOENT, -KE_CORRUPT or -errno (err filled).
 */
int pki_load_cert(const char *path, X509 **out, char *err, size_t errlen);

/*
 * Parses an unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1) from a
 * file; never prompts for a passphrase. *out is the caller's to
 * EVP_PKEY_free. Returns 0, -ENOENT, -KE_CORRUPT or -errno (err filled).
 */
int pki_load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen);

/* Passphrase callback that refuses, so encrypted PEM fails, never blocks. */
int pki_no_passphrase(char *buf, int size, int rwflag, void *u);

/*
 * Collects what a memory BIO holds into a NUL-terminated malloc'd string
 * the caller frees. Returns 0 or -ENOMEM.
 */
int pki_bio_string(BIO *bio, char **out, size_t *len);

/* Is HOST an IPv4 or IPv6 literal? Fills addr (16 bytes) and *addrlen. */
bool pki_parse_ip(const char *host, unsigned char *addr, int *addrlen);

/* The kinds of certificate the CA issues. */
enum pki_profile {
    PKI_PROFILE_CA,     /* CA:TRUE, keyCertSign + cRLSign */
    PKI_PROFILE_SERVER, /* CA:FALSE, serverAuth, subjectAltName */
    PKI_PROFILE_CLIENT, /* CA:FALSE, clientAuth */
};

/* A loaded CA: certificate and its private key, both owned. */
struct pki_ca {
    X509 *cert;
    EVP_PKEY *key;
};

/* Longest DNS name, per RFC 1035, plus the NUL. */
#define PKI_DNS_NAME_BYTES 254
#define PKI_IP_TEXT_BYTES 46

/* The subjectAltNames of a server certificate, de-duplicated. */
struct pki_sans {
    size_t ndns, nip;
    char dns[PKI_MAX_SANS][PKI_DNS_NAME_BYTES];
    unsigned char ip[PKI_MAX_SANS][16];
    int iplen[PKI_MAX_SANS];
    char iptext[PKI_MAX_SANS][PKI_IP_TEXT_BYTES];
};

/*
 * Adds a DNS name (or, when NAME is an IP literal, an IP) to S unless it
 * is there. Returns 0, -KE_INVALID (not a valid DNS name) or -KE_TOOBIG.
 */
int pki_sans_add_dns(struct pki_sans *s, const char *name, char *err,
                     size_t errlen);

/* Adds an IP literal to S. Returns 0, -KE_INVALID or -KE_TOOBIG. */
int pki_sans_add_ip(struct pki_sans *s, const char *text, char *err,
                    size_t errlen);

/*
 * The first entry of S that CERT's subjectAltName lacks, as text (static
 * to S), or NULL when CERT has them all. DNS names compare
 * case-insensitively, IPs by address.
 */
const char *pki_sans_missing(const struct pki_sans *s, X509 *cert);

/*
 * Is S acceptable as a CN or O value: 1..PKI_MAX_NAME_BYTES bytes, no
 * control characters, and (when no_comma) no ','?
 */
bool pki_name_ok(const char *s, bool no_comma);

/*
 * Builds the name "[O=<org>,] CN=<cn>" (O first, as Kubernetes prints it;
 * org may be NULL). Returns a name the caller frees with X509_NAME_free,
 * or NULL (out of memory or not UTF-8).
 */
X509_NAME *pki_make_name(const char *cn, const char *org);

/* Generates a P-256 key into *out (caller frees). 0 or -ENOMEM. */
int pki_new_key(EVP_PKEY **out, char *err, size_t errlen);

/*
 * Issues a certificate of PROFILE for KEY's public half with subject
 * [O=<org>,] CN=<cn>, valid from five minutes ago (clock skew) for DAYS
 * days but never past the CA's own expiry, with a random 128-bit serial.
 * SANS is used by PKI_PROFILE_SERVER only. With CA NULL the certificate
 * is self-signed by KEY (which must then be private). *out is the
 * caller's to X509_free. Returns 0, -KE_INVALID (bad name) or -ENOMEM.
 */
int pki_issue(enum pki_profile profile, const char *cn, const char *org,
              EVP_PKEY *key, const struct pki_sans *sans, int days,
              const struct pki_ca *ca, X509 **out, char *err, size_t errlen);

/* PEM encodings as NUL-terminated malloc'd strings. 0 or -ENOMEM. */
int pki_cert_pem(X509 *cert, char **pem, size_t *len);
int pki_key_pem(EVP_PKEY *key, char **pem, size_t *len);

/*
 * Loads DIR/ca.crt and DIR/ca.key and checks that they belong together,
 * that the certificate is a CA and that it has not expired. Release with
 * pki_ca_free. Returns 0, -ENOENT, -KE_CORRUPT, -KE_EXPIRED or -errno
 * (err names the file).
 */
int pki_ca_load(const char *dir, struct pki_ca *ca, char *err, size_t errlen);
void pki_ca_free(struct pki_ca *ca);

/* Formats an ASN1_TIME as "2026-11-23T20:04:20Z" into buf. */
void pki_time_text(const ASN1_TIME *t, char *buf, size_t buflen);

#endif
