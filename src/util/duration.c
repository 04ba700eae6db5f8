/*
 * Go-style duration parsing (see duration.h). Works in nanoseconds like
 * Go does, checking every step for overflow, then truncates to ms.
 */
#include "util/duration.h"
#include "util/errors.h"

#include <stdbool.h>
#include <string.h>

#define NS_PER_MS 1000000ULL

struct duration_unit {
    const char *name;
    uint64_t ns;
};

/* Longest names first where one is a prefix of another ("ms" before "m"). */
static const struct duration_unit units[] = {
    {"ns", 1ULL},
    {"us", 1000ULL},
    {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ULL}, /* U+03BC Greek mu */
    {"ms", NS_PER_MS},
    {"s", 1000ULL * NS_PER_MS},
    {"m", 60ULL * 1000ULL * NS_PER_MS},
    {"h", 3600ULL * 1000ULL * NS_PER_MS},
};

/* Go caps durations at INT64_MAX nanoseconds. */
#define DURATION_MAX_NS ((uint64_t)INT64_MAX)

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Matches the unit at *p (the run of non-digit, non-dot characters),
 * advancing *p; 0 if it is no known unit. */
static uint64_t unit_at(const char **p)
{
    const char *start = *p;
    size_t len = 0;
    while (start[len] && !is_digit(start[len]) && start[len] != '.')
        len++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == len &&
            memcmp(units[i].name, start, len) == 0) {
            *p = start + len;
            return units[i].ns;
        }
    }
    return 0;
}

int duration_parse_ms(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -KE_INVALID;
    const char *p = s;
    if (*p == '+')
        p++;
    else if (*p == '-')
        return -KE_INVALID;
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (!*p)
        return -KE_INVALID;

    uint64_t total = 0;
    while (*p) {
        /* The integer part. */
        uint64_t whole = 0;
        bool digits = false;
        while (is_digit(*p)) {
            if (whole > (DURATION_MAX_NS - (uint64_t)(*p - '0')) / 10)
                return -KE_INVALID;
            whole = whole * 10 + (uint64_t)(*p - '0');
            digits = true;
            p++;
        }
        /* The fraction: kept as frac / scale, extra digits dropped once
         * they cannot matter (scale would overflow). */
        uint64_t frac = 0, scale = 1;
        if (*p == '.') {
            p++;
            bool overflowed = false;
            while (is_digit(*p)) {
                if (!overflowed && scale <= DURATION_MAX_NS / 10) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                } else {
                    overflowed = true;
                }
                digits = true;
                p++;
            }
        }
        if (!digits)
            return -KE_INVALID;
        uint64_t unit = unit_at(&p);
        if (unit == 0)
            return -KE_INVALID;
        if (whole > DURATION_MAX_NS / unit)
            return -KE_INVALID;
        uint64_t v = whole * unit;
        if (frac > 0) {
            /* frac < scale, so frac * (unit / scale) stays in range;
             * split unit to keep precision without overflow. */
            long double f = (long double)frac * (long double)unit /
                            (long double)scale;
            uint64_t fv = (uint64_t)f;
            if (v > DURATION_MAX_NS - fv)
                return -KE_INVALID;
            v += fv;
        }
        if (total > DURATION_MAX_NS - v)
            return -KE_INVALID;
        total += v;
    }
    *out = total / NS_PER_MS;
    return 0;
}
