#include "util/timefmt.h"

#include <string.h>

void time_now_rfc3339(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t time_parse_rfc3339(const char *s)
{
    if (!s)
        return -1;
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    time_t t = timegm(&tm);
    if (*p == '.')
        while (*++p >= '0' && *p <= '9')
            ;
    if (*p == 'Z' || *p == 'z')
        return p[1] ? -1 : t;
    if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
                  ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        return *p == '+' ? t - off : t + off;
    }
    return -1;
}
