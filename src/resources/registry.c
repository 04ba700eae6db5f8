/*
 * The registry of served resource types and lookups by resource name and
 * by kind.
 */
#include "resources/kinds.h"

#include <stdio.h>
#include <string.h>

/* Terminator: an entry whose resource is NULL. */
static const struct resource_type rt_end = {0};

const struct resource_type *const resource_types[] = {
    &rt_pods,        &rt_services,        &rt_endpoints,    &rt_configmaps,
    &rt_secrets,     &rt_serviceaccounts, &rt_events,       &rt_nodes,
    &rt_namespaces,  &rt_events_v1,       &rt_leases,       &rt_deployments,
    &rt_replicasets, &rt_daemonsets,      &rt_statefulsets, &rt_jobs,
    &rt_end,
};

static bool eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

const struct resource_type *
resource_lookup(const char *group, const char *version, const char *resource)
{
    if (!resource)
        return NULL;
    for (int i = 0; resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (eq(rt->group, group) && eq(rt->version, version) &&
            strcmp(rt->resource, resource) == 0)
            return rt;
    }
    return NULL;
}

const struct resource_type *resource_lookup_kind(const char *group,
                                                 const char *kind)
{
    if (!kind)
        return NULL;
    for (int i = 0; resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (eq(rt->group, group) && strcmp(rt->kind, kind) == 0)
            return rt;
    }
    return NULL;
}

const char *resource_api_version(const struct resource_type *rt, char *buf,
                                 size_t len)
{
    if (!rt->group || !rt->group[0])
        snprintf(buf, len, "%s", rt->version);
    else
        snprintf(buf, len, "%s/%s", rt->group, rt->version);
    return buf;
}
