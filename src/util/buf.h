/*
 * A growable byte buffer with a hard cap, for bodies and output built from
 * network input. The contents are always NUL-terminated.
 */
#ifndef KEDGE_UTIL_BUF_H
#define KEDGE_UTIL_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;     /* allocated bytes */
    size_t limit;   /* 0 = unlimited; appends past it fail with -KE_TOOBIG */
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Appends n bytes; returns 0, -ENOMEM or -KE_TOOBIG (buffer unchanged). */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (who frees it) and resets the buffer. */
char *buf_steal(struct buf *b, size_t *len);

#endif
