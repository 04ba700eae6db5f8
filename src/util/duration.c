#include "util/duration.h"
#include "util/errors.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

struct unit {
    const char *name;
    double ms;
};

/* Longest names first so "ms" is not read as "m". */
static const struct unit units[] = {
    {"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
    {"s", 1e3},   {"m", 60e3},  {"h", 3600e3},
};

int duration_parse_ms(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -KE_INVALID;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    double total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.')
            return -KE_INVALID;
        double v = 0, scale = 1;
        bool digits = false, frac = false;
        for (; isdigit((unsigned char)*s) || (*s == '.' && !frac); s++) {
            if (*s == '.') {
                frac = true;
                continue;
            }
            digits = true;
            if (frac)
                v += (*s - '0') * (scale /= 10);
            else
                v = v * 10 + (*s - '0');
        }
        if (!digits)
            return -KE_INVALID;
        const struct unit *u = NULL;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !u; i++) {
            size_t n = strlen(units[i].name);
            if (strncmp(s, units[i].name, n) == 0 &&
                !(n == 1 && s[0] == 'm' && s[1] == 's'))
                u = &units[i];
        }
        if (!u)
            return -KE_INVALID;
        s += strlen(u->name);
        total += v * u->ms;
        if (total > 9.2e15) /* far beyond any sensible timeout */
            return -KE_INVALID;
    }
    *out = (uint64_t)total;
    return 0;
}
