/*
 * Go-style durations ("40s", "10m", "1h30m", "1.5h", "250ms"), as used by
 * Kubernetes flags and annotations, parsed to whole milliseconds.
 */
#ifndef KEDGE_UTIL_DURATION_H
#define KEDGE_UTIL_DURATION_H

#include <stdint.h>

/*
 * Parses s with Go's time.ParseDuration grammar: an optional "+", then one
 * or more decimal numbers (with optional fraction) each followed by a
 * unit: ns, us (or µs), ms, s, m, h. "0" alone is allowed. The result is
 * truncated to milliseconds into *out. Returns 0, or -KE_INVALID for NULL,
 * empty, negative, unitless, unknown-unit, or out-of-range (more than
 * about 292 years) input; *out is untouched on error.
 */
int duration_parse_ms(const char *s, uint64_t *out);

#endif
