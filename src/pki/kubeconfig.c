/*
 * Writes the kubeconfig that kubectl and client libraries use to reach
 * kedge: one cluster, one user with an embedded client certificate, one
 * context, all named so `kubectl --kubeconfig F get pods` just works.
 */
#include "pki/internal.h"
#include "util/buf.h"
#include "util/errors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#define KUBECONFIG_MAX_BYTES (8 * 1024 * 1024)
#define KUBECONFIG_MAX_FIELD_BYTES 2048

/* Base64 (one line, no newlines) of LEN bytes as a malloc'd string. */
static char *base64(const char *data, size_t len)
{
    size_t outlen = 4 * ((len + 2) / 3) + 1;
    unsigned char *out = malloc(outlen);
    if (out)
        EVP_EncodeBlock(out, (const unsigned char *)data, (int)len);
    return (char *)out;
}

/* Appends S as a YAML double-quoted scalar; S was checked by field_ok. */
static int put_quoted(struct buf *b, const char *s)
{
    int rc = buf_puts(b, "\"");
    for (; !rc && *s; s++) {
        if (*s == '"' || *s == '\\')
            rc = buf_append(b, "\\", 1);
        if (!rc)
            rc = buf_append(b, s, 1);
    }
    return rc ? rc : buf_puts(b, "\"");
}

/* Non-empty, bounded, and free of control characters (which YAML would
 * need escapes for and no URL or user name should hold). */
static bool field_ok(const char *s)
{
    if (!s || !*s)
        return false;
    size_t len = strnlen(s, KUBECONFIG_MAX_FIELD_BYTES + 1);
    if (len > KUBECONFIG_MAX_FIELD_BYTES)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int pki_write_kubeconfig(const char *path, const char *server_url,
                         const char *ca_file, const char *cert_file,
                         const char *key_file, const char *user_name, char *err,
                         size_t errlen)
{
    int rc = 0;
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *key = NULL;
    char *ca_pem = NULL, *cert_pem = NULL, *key_pem = NULL;
    size_t ca_len = 0, cert_len = 0, key_len = 0;
    char *ca_b64 = NULL, *cert_b64 = NULL, *key_b64 = NULL;
    struct buf out;

    buf_init(&out, KUBECONFIG_MAX_BYTES);
    ERR_clear_error();
    if (!path || !*path) {
        rc = pki_errf(err, errlen, -KE_INVALID, "kubeconfig: empty path");
        goto out;
    }
    if (!field_ok(server_url) || strncmp(server_url, "https://", 8) != 0 ||
        !server_url[8] || strpbrk(server_url, " \"\\")) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "%s: server URL \"%.100s\" is not an https:// URL", path,
                      server_url ? server_url : "");
        goto out;
    }
    if (!field_ok(user_name)) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "%s: user name must be non-empty printable text", path);
        goto out;
    }
    if (!ca_file || !cert_file || !key_file) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "%s: CA, certificate and key files are required", path);
        goto out;
    }
    /* Parse what gets embedded: a kubeconfig with a broken certificate
     * fails far from here, in kubectl, with a vaguer message. */
    if ((rc = pki_load_cert(ca_file, &ca, err, errlen)) ||
        (rc = pki_load_cert(cert_file, &cert, err, errlen)) ||
        (rc = pki_load_key(key_file, &key, err, errlen)))
        goto out;
    if (X509_check_private_key(cert, key) != 1) {
        rc = pki_errf(err, errlen, -KE_INVALID,
                      "%s: key does not match the certificate in %s", key_file,
                      cert_file);
        goto out;
    }
    if ((rc = pki_read_file(ca_file, PKI_MAX_PEM_BYTES, &ca_pem, &ca_len, err,
                            errlen)) ||
        (rc = pki_read_file(cert_file, PKI_MAX_PEM_BYTES, &cert_pem, &cert_len,
                            err, errlen)) ||
        (rc = pki_read_file(key_file, PKI_MAX_PEM_BYTES, &key_pem, &key_len,
                            err, errlen)))
        goto out;
    ca_b64 = base64(ca_pem, ca_len);
    cert_b64 = base64(cert_pem, cert_len);
    key_b64 = base64(key_pem, key_len);
    if (!ca_b64 || !cert_b64 || !key_b64) {
        rc = pki_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
        goto out;
    }

    if ((rc = buf_puts(&out, "apiVersion: v1\n"
                             "kind: Config\n"
                             "clusters:\n"
                             "- name: kedge\n"
                             "  cluster:\n"
                             "    server: ")) ||
        (rc = put_quoted(&out, server_url)) ||
        (rc = buf_printf(&out,
                         "\n    certificate-authority-data: %s\n"
                         "users:\n"
                         "- name: ",
                         ca_b64)) ||
        (rc = put_quoted(&out, user_name)) ||
        (rc = buf_printf(&out,
                         "\n  user:\n"
                         "    client-certificate-data: %s\n"
                         "    client-key-data: %s\n"
                         "contexts:\n"
                         "- name: kedge\n"
                         "  context:\n"
                         "    cluster: kedge\n"
                         "    user: ",
                         cert_b64, key_b64)) ||
        (rc = put_quoted(&out, user_name)) ||
        (rc = buf_puts(&out, "\ncurrent-context: kedge\n"
                             "preferences: {}\n"))) {
        pki_errf(err, errlen, rc, "%s: building: %s", path, ke_strerror(rc));
        goto out;
    }
    rc = pki_write_atomic(path, out.data, out.len, 0600, err, errlen);
out:
    /* The key, in PEM, base64 and YAML form, is wiped before release. */
    if (key_pem)
        OPENSSL_cleanse(key_pem, key_len);
    if (key_b64)
        OPENSSL_cleanse(key_b64, strlen(key_b64));
    if (out.data)
        OPENSSL_cleanse(out.data, out.len);
    buf_free(&out);
    free(ca_b64);
    free(cert_b64);
    free(key_b64);
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
