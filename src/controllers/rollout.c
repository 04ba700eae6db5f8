/*
 * The pure pieces of the ReplicaSet and Deployment controllers (see
 * rollout.h): no store, no API, so they are unit-tested on their own.
 */
#include "controllers/rollout.h"

#include "resources/jsonutil.h"
#include "util/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

void rollout_safe_encode(const char *s, char *out, size_t len)
{
    size_t i = 0, n = sizeof(safe_alphabet) - 1;
    if (!len)
        return;
    for (; s[i] && i + 1 < len; i++)
        out[i] = safe_alphabet[(unsigned char)s[i] % n];
    out[i] = '\0';
}

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u

static uint32_t fnv32a(uint32_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV32_PRIME;
    }
    return h;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends v as JSON with every object's keys sorted. */
static int canonical_json(struct buf *b, struct json_object *v, int depth)
{
    if (depth > 512)
        return -EINVAL;
    if (json_object_is_type(v, json_type_object)) {
        size_t n = (size_t)json_object_object_length(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof(*keys));
        int rc = 0;
        if (!keys)
            return -ENOMEM;
        json_object_object_foreach(v, k, val)
        {
            (void)val;
            keys[i++] = k;
        }
        if (n > 1)
            qsort(keys, n, sizeof(*keys), key_cmp);
        rc = buf_puts(b, "{");
        for (i = 0; rc == 0 && i < n; i++) {
            struct json_object *ks = json_object_new_string(keys[i]);
            if (!ks) {
                rc = -ENOMEM;
                break;
            }
            if (i)
                rc = buf_puts(b, ",");
            if (rc == 0)
                rc = buf_puts(b, json_object_to_json_string_ext(
                                     ks, JSON_C_TO_STRING_PLAIN));
            json_object_put(ks);
            if (rc == 0)
                rc = buf_puts(b, ":");
            if (rc == 0)
                rc = canonical_json(b, json_object_object_get(v, keys[i]),
                                    depth + 1);
        }
        if (rc == 0)
            rc = buf_puts(b, "}");
        free(keys);
        return rc;
    }
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        int rc = buf_puts(b, "[");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (i)
                rc = buf_puts(b, ",");
            if (rc == 0)
                rc = canonical_json(b, json_object_array_get_idx(v, i),
                                    depth + 1);
        }
        return rc ? rc : buf_puts(b, "]");
    }
    return buf_puts(
        b,
        v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null");
}

int rollout_template_hash(struct json_object *tmpl, int64_t collision_count,
                          char out[ROLLOUT_HASH_BYTES])
{
    struct buf b;
    char dec[16];
    int rc;

    buf_init(&b, 0);
    rc = canonical_json(&b, tmpl, 0);
    if (rc == 0) {
        uint32_t h = fnv32a(FNV32_OFFSET, b.data, b.len);
        if (collision_count >= 0) {
            uint32_t cc = (uint32_t)collision_count;
            unsigned char le[4] = {cc & 0xff, (cc >> 8) & 0xff,
                                   (cc >> 16) & 0xff, (cc >> 24) & 0xff};
            h = fnv32a(h, le, sizeof(le));
        }
        snprintf(dec, sizeof(dec), "%u", h);
        rollout_safe_encode(dec, out, ROLLOUT_HASH_BYTES);
    }
    buf_free(&b);
    return rc == -EINVAL ? -ENOMEM : rc;
}

int rollout_scaled_value(struct json_object *v, int64_t total, bool round_up,
                         int64_t *out)
{
    if (!v) {
        *out = 0;
        return 0;
    }
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return -EINVAL;
    const char *s = json_object_get_string(v);
    char *end;
    errno = 0;
    long long pct = strtoll(s, &end, 10);
    if (end == s || strcmp(end, "%") != 0 || errno || pct < 0 || pct > 1000000)
        return -EINVAL;
    int64_t scaled = pct * total;
    *out = round_up ? (scaled + 99) / 100 : scaled / 100;
    return 0;
}

void rollout_fenceposts(struct json_object *strategy, int64_t replicas,
                        int64_t *max_surge, int64_t *max_unavailable)
{
    const char *type = ju_str(strategy, "type");
    struct json_object *ru = ju_obj(strategy, "rollingUpdate");
    struct json_object *ms = NULL, *mu = NULL;

    *max_surge = 0;
    *max_unavailable = 0;
    if (type && strcmp(type, "RollingUpdate") != 0)
        return;
    if (!ru)
        return;
    json_object_object_get_ex(ru, "maxSurge", &ms);
    json_object_object_get_ex(ru, "maxUnavailable", &mu);
    if (rollout_scaled_value(ms, replicas, true, max_surge) != 0)
        *max_surge = 0;
    if (rollout_scaled_value(mu, replicas, false, max_unavailable) != 0)
        *max_unavailable = 0;
    if (*max_surge < 0)
        *max_surge = 0;
    if (*max_unavailable < 0)
        *max_unavailable = 0;
    if (*max_surge == 0 && *max_unavailable == 0)
        *max_unavailable = 1;
}

time_t rollout_parse_time(const char *s)
{
    struct tm tm = {0};
    const char *p;
    time_t t;

    if (!s)
        return -1;
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    t = timegm(&tm);
    if (*p == '.')
        while (*++p >= '0' && *p <= '9')
            ;
    if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
        int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
                  ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        t += *p == '+' ? -off : off;
    }
    return t;
}

void rollout_format_time(time_t now, char out[32])
{
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool rollout_pod_ready(struct json_object *pod, time_t *since)
{
    struct json_object *conds = ju_arr(ju_obj(pod, "status"), "conditions");
    if (since)
        *since = -1;
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *c = ju_idx_obj(conds, i);
        const char *type = ju_str(c, "type"), *st = ju_str(c, "status");
        if (!type || strcmp(type, "Ready") != 0)
            continue;
        if (since)
            *since = rollout_parse_time(ju_str(c, "lastTransitionTime"));
        return st && strcmp(st, "True") == 0;
    }
    return false;
}

bool rollout_pod_available(struct json_object *pod, int64_t min_ready_s,
                           time_t now, int64_t *wait_s)
{
    time_t since;
    if (wait_s)
        *wait_s = 0;
    if (!rollout_pod_ready(pod, &since))
        return false;
    if (min_ready_s <= 0)
        return true;
    if (since < 0)
        return false;
    if (since + min_ready_s < now)
        return true;
    if (wait_s)
        *wait_s = since + min_ready_s - now + 1;
    return false;
}

bool rollout_pod_active(struct json_object *pod)
{
    const char *phase = ju_str(ju_obj(pod, "status"), "phase");
    if (ju_has(ju_obj(pod, "metadata"), "deletionTimestamp"))
        return false;
    return !phase ||
           (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

void rollout_pod_rank_of(struct json_object *pod, struct rollout_pod_rank *rank)
{
    struct json_object *status = ju_obj(pod, "status");
    struct json_object *cs = ju_arr(status, "containerStatuses");
    const char *node = ju_str(ju_obj(pod, "spec"), "nodeName");
    const char *phase = ju_str(status, "phase");

    memset(rank, 0, sizeof(*rank));
    rank->assigned = node && node[0];
    if (phase && strcmp(phase, "Unknown") == 0)
        rank->phase = 1;
    else if (phase && strcmp(phase, "Running") == 0)
        rank->phase = 2;
    rank->ready = rollout_pod_ready(pod, &rank->ready_since);
    for (size_t i = 0; i < ju_len(cs); i++) {
        int64_t n;
        if (ju_int(ju_idx_obj(cs, i), "restartCount", &n) && n > rank->restarts)
            rank->restarts = n;
    }
    rank->created = rollout_parse_time(
        ju_str(ju_obj(pod, "metadata"), "creationTimestamp"));
}

int rollout_pod_rank_cmp(const struct rollout_pod_rank *a,
                         const struct rollout_pod_rank *b)
{
    if (a->assigned != b->assigned)
        return a->assigned ? 1 : -1;
    if (a->phase != b->phase)
        return a->phase < b->phase ? -1 : 1;
    if (a->ready != b->ready)
        return a->ready ? 1 : -1;
    if (a->ready && a->ready_since != b->ready_since) {
        /* Unknown first, then the one Ready for less time (later). */
        if (a->ready_since < 0 || b->ready_since < 0)
            return a->ready_since < 0 ? -1 : 1;
        return a->ready_since > b->ready_since ? -1 : 1;
    }
    if (a->restarts != b->restarts)
        return a->restarts > b->restarts ? -1 : 1;
    if (a->created != b->created) {
        if (a->created < 0 || b->created < 0)
            return a->created < 0 ? -1 : 1;
        return a->created > b->created ? -1 : 1;
    }
    return 0;
}
