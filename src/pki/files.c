/*
 * File handling for PKI material: bounded reads, crash-safe atomic
 * writes, PEM parsing that names the file in its errors, and the error
 * formatting shared by src/pki/.
 */
#include "pki/internal.h"
#include "util/errors.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

int pki_errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        unsigned long e = ERR_peek_error();
        const char *reason = e ? ERR_reason_error_string(e) : NULL;
        if (n >= 0 && (size_t)n < errlen && reason)
            snprintf(err + n, errlen - (size_t)n, " (%s)", reason);
    }
    ERR_clear_error();
    return code;
}

int pki_join(char *out, size_t outlen, const char *dir, const char *name,
             char *err, size_t errlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen)
        return pki_errf(err, errlen, -ENAMETOOLONG, "%s/%s: path too long", dir,
                        name);
    return 0;
}

int pki_read_file(const char *path, size_t max, char **data, size_t *len,
                  char *err, size_t errlen)
{
    int rc = 0;
    char *buf = NULL;
    size_t got = 0;
    struct stat st;

    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            pki_errf(err, errlen, rc, "%s: missing", path);
        else
            pki_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = pki_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pki_errf(err, errlen, -KE_INVALID, "%s: not a regular file", path);
        goto out;
    }
    if ((size_t)st.st_size > max) {
        rc = pki_errf(err, errlen, -KE_TOOBIG,
                      "%s: %lld bytes, over the %zu byte limit", path,
                      (long long)st.st_size, max);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = pki_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    /* The file may shrink (or grow) under us; read what is there, capped. */
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = pki_errf(err, errlen, -errno, "%s: read: %s", path,
                          strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    *data = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* fsyncs the directory holding PATH so a rename into it is durable. */
static int sync_parent(const char *path)
{
    char dir[PKI_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == path) {
        snprintf(dir, sizeof(dir), "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof(dir))
            return -ENAMETOOLONG;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int pki_write_atomic(const char *path, const void *data, size_t len,
                     mode_t mode, char *err, size_t errlen)
{
    int rc = 0;
    char tmp[PKI_PATH_MAX];
    bool created = false;
    int fd = -1;
    const char *p = data;
    size_t done = 0;

    int n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return pki_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
    /* mkstemp creates the file 0600, so a key is never readable by others,
     * not even for the moment before the fchmod. */
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = pki_errf(err, errlen, -errno, "%s: create temporary: %s", path,
                      strerror(errno));
        goto out;
    }
    created = true;
    if (fchmod(fd, mode) < 0) {
        rc = pki_errf(err, errlen, -errno, "%s: chmod: %s", tmp,
                      strerror(errno));
        goto out;
    }
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = pki_errf(err, errlen, -errno, "%s: write: %s", tmp,
                          strerror(errno));
            goto out;
        }
        done += (size_t)w;
    }
    if (fsync(fd) < 0) {
        rc = pki_errf(err, errlen, -errno, "%s: fsync: %s", tmp,
                      strerror(errno));
        goto out;
    }
    int cfd = fd;
    fd = -1;
    if (close(cfd) < 0) {
        rc = pki_errf(err, errlen, -errno, "%s: close: %s", tmp,
                      strerror(errno));
        goto out;
    }
    if (rename(tmp, path) < 0) {
        rc = pki_errf(err, errlen, -errno, "%s: rename: %s", path,
                      strerror(errno));
        goto out;
    }
    created = false;
    rc = sync_parent(path);
    if (rc)
        pki_errf(err, errlen, rc, "%s: fsync directory: %s", path,
                 strerror(-rc));
out:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    return rc;
}

int pki_no_passphrase(char *buf, int size, int rwflag, void *u) { return -1; }

int pki_load_cert(const char *path, X509 **out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len;
    BIO *bio = NULL;
    X509 *x = NULL;

    *out = NULL;
    int rc = pki_read_file(path, PKI_MAX_PEM_BYTES, &data, &len, err, errlen);
    if (rc)
        goto out;
    bio = BIO_new_mem_buf(data, (int)len);
    if (!bio) {
        rc = pki_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    x = PEM_read_bio_X509(bio, NULL, pki_no_passphrase, NULL);
    if (!x) {
        rc = pki_errf(err, errlen, -KE_CORRUPT,
                      "%s: not a valid PEM certificate", path);
        goto out;
    }
    *out = x;
out:
    BIO_free(bio);
    free(data);
    return rc;
}

int pki_load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len;
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;

    *out = NULL;
    int rc = pki_read_file(path, PKI_MAX_PEM_BYTES, &data, &len, err, errlen);
    if (rc)
        goto out;
    bio = BIO_new_mem_buf(data, (int)len);
    if (!bio) {
        rc = pki_errf(err, errlen, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    key = PEM_read_bio_PrivateKey(bio, NULL, pki_no_passphrase, NULL);
    if (!key) {
        rc = pki_errf(err, errlen, -KE_CORRUPT,
                      "%s: not a valid unencrypted PEM private key", path);
        goto out;
    }
    *out = key;
out:
    BIO_free(bio);
    /* The buffer held a private key: wipe it before it goes back. */
    if (data)
        OPENSSL_cleanse(data, len);
    free(data);
    return rc;
}

int pki_bio_string(BIO *bio, char **out, size_t *len)
{
    char *mem;
    long n = BIO_get_mem_data(bio, &mem);
    *out = NULL;
    if (n < 0)
        return -ENOMEM;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s, mem, (size_t)n);
    s[n] = 0;
    *out = s;
    if (len)
        *len = (size_t)n;
    return 0;
}

bool pki_parse_ip(const char *host, unsigned char *addr, int *addrlen)
{
    if (inet_pton(AF_INET, host, addr) == 1) {
        *addrlen = 4;
        return true;
    }
    if (inet_pton(AF_INET6, host, addr) == 1) {
        *addrlen = 16;
        return true;
    }
    return false;
}
