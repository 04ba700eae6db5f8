/*
 * The resource type descriptors of every built-in kind kedge serves, one
 * extern per group/version/resource; registry.c lists them all.
 */
#ifndef KEDGE_RESOURCES_KINDS_H
#define KEDGE_RESOURCES_KINDS_H

#include "resources/resource.h"

/* core/v1 */
extern const struct resource_type rt_pods;
extern const struct resource_type rt_services;
extern const struct resource_type rt_endpoints;
extern const struct resource_type rt_configmaps;
extern const struct resource_type rt_secrets;
extern const struct resource_type rt_serviceaccounts;
extern const struct resource_type rt_events;
extern const struct resource_type rt_nodes;
extern const struct resource_type rt_namespaces;

/* events.k8s.io/v1 */
extern const struct resource_type rt_events_v1;

/* coordination.k8s.io/v1 */
extern const struct resource_type rt_leases;

/* apps/v1 */
extern const struct resource_type rt_deployments;
extern const struct resource_type rt_replicasets;
extern const struct resource_type rt_daemonsets;
extern const struct resource_type rt_statefulsets;

/* batch/v1 */
extern const struct resource_type rt_jobs;

#endif
