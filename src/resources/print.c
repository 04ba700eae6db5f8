/*
 * Table printer helpers: Kubernetes' HumanDuration, RFC 3339 parsing,
 * AGE cells and label-map formatting as kubectl shows them.
 */
#include "resources/print.h"
#include "resources/jsonutil.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void print_duration(char *buf, size_t len, long long s)
{
    /* Up to 2 seconds in the future is clock skew, shown as "0s". */
    if (s < -1) {
        snprintf(buf, len, "<invalid>");
        return;
    }
    if (s < 0) {
        snprintf(buf, len, "0s");
        return;
    }
    if (s < 60 * 2) {
        snprintf(buf, len, "%llds", s);
        return;
    }
    long long minutes = s / 60;
    if (minutes < 10) {
        long long rs = s % 60;
        if (rs == 0)
            snprintf(buf, len, "%lldm", minutes);
        else
            snprintf(buf, len, "%lldm%llds", minutes, rs);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(buf, len, "%lldm", minutes);
        return;
    }
    long long hours = s / 3600;
    if (hours < 8) {
        long long m = minutes % 60;
        if (m == 0)
            snprintf(buf, len, "%lldh", hours);
        else
            snprintf(buf, len, "%lldh%lldm", hours, m);
    } else if (hours < 48) {
        snprintf(buf, len, "%lldh", hours);
    } else if (hours < 24 * 8) {
        long long h = hours % 24;
        if (h == 0)
            snprintf(buf, len, "%lldd", hours / 24);
        else
            snprintf(buf, len, "%lldd%lldh", hours / 24, h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(buf, len, "%lldd", hours / 24);
    } else if (hours < 24 * 365 * 8) {
        long long dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(buf, len, "%lldy", hours / 24 / 365);
        else
            snprintf(buf, len, "%lldy%lldd", hours / 24 / 365, dy);
    } else {
        snprintf(buf, len, "%lldy", hours / 24 / 365);
    }
}

/* Reads exactly n decimal digits at *p; -1 if any is not a digit. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static bool expect(const char **p, char c)
{
    if (**p != c && !(c == 'T' && **p == 't'))
        return false;
    (*p)++;
    return true;
}

time_t print_parse_time(const char *s)
{
    struct tm tm;
    const char *p = s;
    if (!s)
        return -1;
    memset(&tm, 0, sizeof(tm));
    int y = digits(&p, 4);
    if (y < 0 || !expect(&p, '-'))
        return -1;
    int mo = digits(&p, 2);
    if (mo < 1 || mo > 12 || !expect(&p, '-'))
        return -1;
    int d = digits(&p, 2);
    if (d < 1 || d > 31 || !expect(&p, 'T'))
        return -1;
    int h = digits(&p, 2);
    if (h < 0 || h > 23 || !expect(&p, ':'))
        return -1;
    int mi = digits(&p, 2);
    if (mi < 0 || mi > 59 || !expect(&p, ':'))
        return -1;
    int sec = digits(&p, 2);
    if (sec < 0 || sec > 60)
        return -1;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (*p >= '0' && *p <= '9' && nd < 32) {
            p++;
            nd++;
        }
        if (nd == 0)
            return -1;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh = digits(&p, 2);
        if (oh < 0 || oh > 23 || !expect(&p, ':'))
            return -1;
        int om = digits(&p, 2);
        if (om < 0 || om > 59)
            return -1;
        off = sign * (oh * 3600L + om * 60L);
    } else {
        return -1;
    }
    if (*p)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return t - off;
}

void print_since(char *buf, size_t len, const char *rfc3339, time_t now)
{
    time_t t = (rfc3339 && rfc3339[0]) ? print_parse_time(rfc3339) : -1;
    if (t == (time_t)-1) {
        snprintf(buf, len, "<unknown>");
        return;
    }
    print_duration(buf, len, (long long)now - (long long)t);
}

void print_age(char *buf, size_t len, struct json_object *obj, time_t now)
{
    print_since(buf, len, ju_str(ju_obj(obj, "metadata"), "creationTimestamp"),
                now);
}

void print_cell_str(struct json_object *cells, const char *s)
{
    json_object_array_add(cells, json_object_new_string(s ? s : ""));
}

void print_cell_int(struct json_object *cells, long long v)
{
    json_object_array_add(cells, json_object_new_int64(v));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *print_labels(struct json_object *map)
{
    struct buf b;
    size_t n = 0, cap;
    const char **keys;
    buf_init(&b, 0);
    if (!map || !json_object_is_type(map, json_type_object) ||
        (cap = (size_t)json_object_object_length(map)) == 0) {
        buf_puts(&b, "<none>");
        return buf_steal(&b, NULL);
    }
    keys = calloc(cap, sizeof(*keys));
    if (!keys)
        return NULL;
    json_object_object_foreach(map, k, v)
    {
        if (n < cap && json_object_is_type(v, json_type_string))
            keys[n++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i], ju_str(map, keys[i]));
    free(keys);
    if (n == 0)
        buf_puts(&b, "<none>");
    return buf_steal(&b, NULL);
}
