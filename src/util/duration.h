/* Durations written the way Kubernetes and Go do: "40s", "10m", "1h30m". */
#ifndef KEDGE_UTIL_DURATION_H
#define KEDGE_UTIL_DURATION_H

#include <stdint.h>

/* Parses a Go duration ("300ms", "1.5h", "2h45m", "0") into milliseconds
 * (rounded down). -KE_INVALID for anything else, including negative
 * durations and overflow. */
int duration_parse_ms(const char *s, uint64_t *out);

#endif
