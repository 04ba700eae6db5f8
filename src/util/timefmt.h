/* Times as Kubernetes writes them (RFC 3339, UTC). */
#ifndef KEDGE_UTIL_TIMEFMT_H
#define KEDGE_UTIL_TIMEFMT_H

#include <time.h>

/* Now as "2026-11-23T10:00:00Z". */
void time_now_rfc3339(char out[32]);
/* Seconds since the epoch of an RFC 3339 time ("...Z", fractions and
 * +hh:mm offsets accepted); -1 if it is not one. */
time_t time_parse_rfc3339(const char *s);

#endif
