/* Service cluster IP allocation over a bitmap of an IPv4 range. */
#include "api/ipalloc.h"
#include "resources/jsonutil.h"
#include "util/errors.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IPALLOC_MAX_ADDRS (1u << 20)

struct ipalloc {
    uint32_t base;    /* network address, host order */
    uint32_t size;    /* addresses tracked */
    uint32_t next;    /* where the next search starts */
    uint8_t *bits;
    char cidr[32];
};

int ipalloc_new(const char *cidr, struct ipalloc **out)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%s", cidr);
    char *slash = strchr(tmp, '/');
    if (!slash)
        return -EINVAL;
    *slash = 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    struct in_addr in;
    if (*end || bits < 8 || bits > 30 || inet_pton(AF_INET, tmp, &in) != 1)
        return -EINVAL;
    struct ipalloc *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    a->base = ntohl(in.s_addr) & mask;
    uint64_t size = 1ull << (32 - bits);
    a->size = size > IPALLOC_MAX_ADDRS ? IPALLOC_MAX_ADDRS : (uint32_t)size;
    a->bits = calloc(a->size / 8 + 1, 1);
    if (!a->bits) {
        free(a);
        return -ENOMEM;
    }
    /* Network and broadcast addresses are never handed out; the first
     * host address is kept for the API server's own service. */
    a->bits[0] |= 1 | 2;
    if (size <= IPALLOC_MAX_ADDRS)
        a->bits[(a->size - 1) / 8] |= (uint8_t)(1u << ((a->size - 1) % 8));
    a->next = 2;
    snprintf(a->cidr, sizeof(a->cidr), "%s", cidr);
    *out = a;
    return 0;
}

void ipalloc_free(struct ipalloc *a)
{
    if (!a)
        return;
    free(a->bits);
    free(a);
}

const char *ipalloc_cidr(const struct ipalloc *a) { return a->cidr; }

int ipalloc_first(const struct ipalloc *a, char *out, size_t len)
{
    struct in_addr in = {.s_addr = htonl(a->base + 1)};
    return inet_ntop(AF_INET, &in, out, (socklen_t)len) ? 0 : -EINVAL;
}

static bool test_bit(struct ipalloc *a, uint32_t i)
{
    return a->bits[i / 8] & (1u << (i % 8));
}

int ipalloc_allocate(struct ipalloc *a, char *out, size_t len)
{
    for (uint32_t n = 0; n < a->size; n++) {
        uint32_t i = (a->next + n) % a->size;
        if (test_bit(a, i))
            continue;
        a->bits[i / 8] |= (uint8_t)(1u << (i % 8));
        a->next = i + 1;
        struct in_addr in = {.s_addr = htonl(a->base + i)};
        if (!inet_ntop(AF_INET, &in, out, (socklen_t)len))
            return -EINVAL;
        return 0;
    }
    return -ENOSPC;
}

static int ip_index(struct ipalloc *a, const char *ip, uint32_t *idx)
{
    struct in_addr in;
    if (inet_pton(AF_INET, ip, &in) != 1)
        return -EINVAL;
    uint32_t h = ntohl(in.s_addr);
    if (h < a->base || h - a->base >= a->size)
        return -ERANGE;
    *idx = h - a->base;
    return 0;
}

int ipalloc_reserve(struct ipalloc *a, const char *ip)
{
    uint32_t i;
    int rc = ip_index(a, ip, &i);
    if (rc)
        return rc;
    if (test_bit(a, i) && i != 1)
        return -EEXIST;
    a->bits[i / 8] |= (uint8_t)(1u << (i % 8));
    return 0;
}

void ipalloc_release(struct ipalloc *a, const char *ip)
{
    uint32_t i;
    if (ip_index(a, ip, &i) == 0 && i > 1 && i < a->size - 1)
        a->bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static int reserve_service(void *arg, const char *key, struct store_value *v,
                           int64_t rev)
{
    struct json_object *o = json_tokener_parse(v->data);
    const char *ip = ju_str(ju_obj(o, "spec"), "clusterIP");
    if (ip && ip[0] && strcmp(ip, "None") != 0)
        ipalloc_reserve(arg, ip);
    json_object_put(o);
    return 0;
}

int ipalloc_load_services(struct ipalloc *a, struct store *st)
{
    return store_list(st, "/registry/core/services/", NULL, 0,
                      reserve_service, a, NULL);
}
