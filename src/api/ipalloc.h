/*
 * Service cluster IP allocation from a CIDR: a bitmap of the range, filled
 * from the stored services at start and kept in step with creates and
 * deletes.
 */
#ifndef KEDGE_API_IPALLOC_H
#define KEDGE_API_IPALLOC_H

#include "store/store.h"

#include <stddef.h>

struct ipalloc;

/* Parses an IPv4 CIDR ("10.96.0.0/12"); -EINVAL if malformed. */
int ipalloc_new(const char *cidr, struct ipalloc **out);
void ipalloc_free(struct ipalloc *a);
/* Picks a free address into out (>= 16 bytes); -ENOSPC when full. */
int ipalloc_allocate(struct ipalloc *a, char *out, size_t len);
/* Marks ip used: -EEXIST if taken, -ERANGE if outside the range,
 * -EINVAL if not an IPv4 address. */
int ipalloc_reserve(struct ipalloc *a, const char *ip);
void ipalloc_release(struct ipalloc *a, const char *ip);
/* Reserves the clusterIP of every stored service. */
int ipalloc_load_services(struct ipalloc *a, struct store *st);
/* The first host address of the range (kept for the API's service). */
int ipalloc_first(const struct ipalloc *a, char *out, size_t len);
/* The range as text, for error messages. */
const char *ipalloc_cidr(const struct ipalloc *a);

#endif
