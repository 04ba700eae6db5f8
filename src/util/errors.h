/*
 * Error codes: functions return 0 or a negative code, either -errno or one
 * of kedge's own codes below (all above the errno range).
 */
#ifndef KEDGE_UTIL_ERRORS_H
#define KEDGE_UTIL_ERRORS_H

enum {
    KE_BASE = 10000,
    KE_CONFLICT,      /* revision precondition failed */
    KE_EXISTS,        /* create of a key that exists */
    KE_NOTFOUND,      /* key absent */
    KE_EXPIRED,       /* revision older than the watch window */
    KE_INVALID,       /* input failed validation */
    KE_PARSE,         /* malformed input */
    KE_TOOBIG,        /* input over its size limit */
    KE_CORRUPT,       /* stored data failed a consistency check */
    KE_UNSUPPORTED,   /* recognised but not supported */
    KE_LAST
};

/* Text for a negative (or positive) error code; static, never NULL. */
const char *ke_strerror(int err);

#endif
