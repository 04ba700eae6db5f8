/*
 * Strategic merge patch metadata of every built-in kind kedge serves: the
 * patchStrategy / patchMergeKey struct tags of the Kubernetes API types
 * (k8s.io/api core/v1, apps/v1, batch/v1, coordination/v1, events/v1 and
 * the ObjectMeta of apimachinery), as paths from the object root.
 *
 * Lists the Kubernetes types leave untagged are atomic and are not listed
 * here (a patch replaces them whole): among others spec.tolerations,
 * spec.readinessGates, a container's command/args/envFrom, a node's
 * spec.taints, a pod's status.containerStatuses and an Endpoints' subsets.
 */
#include "api/smp.h"

#include <stddef.h>
#include <string.h>

/* clang-format off */

/* ObjectMeta at `p` ("" for the object's own, "spec.template." for a
 * pod template's). */
#define SMP_OBJECT_META(p)                                                     \
    {p "metadata.finalizers", "merge", NULL},                                  \
        {p "metadata.ownerReferences", "merge", "uid"}

/* Container, and EphemeralContainerCommon, at `c` ("spec.containers[]"). */
#define SMP_CONTAINER(c)                                                       \
    {c ".ports", "merge", "containerPort"}, {c ".env", "merge", "name"},       \
        {c ".volumeMounts", "merge", "mountPath"},                             \
        {c ".volumeDevices", "merge", "devicePath"}

/* PodSpec at `p` ("spec." for a pod, "spec.template.spec." for a
 * workload's template). */
#define SMP_POD_SPEC(p)                                                        \
    {p "volumes", "merge,retainKeys", "name"},                                 \
        {p "initContainers", "merge", "name"},                                 \
        SMP_CONTAINER(p "initContainers[]"),                                   \
        {p "containers", "merge", "name"}, SMP_CONTAINER(p "containers[]"),    \
        {p "ephemeralContainers", "merge", "name"},                            \
        SMP_CONTAINER(p "ephemeralContainers[]"),                              \
        {p "imagePullSecrets", "merge", "name"},                               \
        {p "hostAliases", "merge", "ip"},                                      \
        {p "topologySpreadConstraints", "merge", "topologyKey"},               \
        {p "schedulingGates", "merge", "name"},                                \
        {p "resourceClaims", "merge,retainKeys", "name"}

/* PodTemplateSpec at `p` ("spec.template."). */
#define SMP_POD_TEMPLATE(p) SMP_OBJECT_META(p), SMP_POD_SPEC(p "spec.")

/* A ContainerStatus list at `s` ("status.containerStatuses[]"). */
#define SMP_CONTAINER_STATUS(s)                                                \
    {s ".volumeMounts", "merge", "mountPath"},                                 \
        {s ".allocatedResourcesStatus", "merge", "name"}

/* A workload's status.conditions, keyed by type. */
#define SMP_STATUS_CONDITIONS {"status.conditions", "merge", "type"}

#define SMP_END {NULL, NULL, NULL}

/* clang-format on */

static const struct smp_field smp_empty[] = {SMP_END};

static const struct smp_field smp_meta_only[] = {SMP_OBJECT_META(""), SMP_END};

static const struct smp_field smp_pod[] = {
    SMP_OBJECT_META(""),
    SMP_POD_SPEC("spec."),
    SMP_STATUS_CONDITIONS,
    {"status.podIPs", "merge", "ip"},
    {"status.hostIPs", "merge", "ip"},
    {"status.resourceClaimStatuses", "merge,retainKeys", "name"},
    SMP_CONTAINER_STATUS("status.containerStatuses[]"),
    SMP_CONTAINER_STATUS("status.initContainerStatuses[]"),
    SMP_CONTAINER_STATUS("status.ephemeralContainerStatuses[]"),
    SMP_END,
};

static const struct smp_field smp_service[] = {
    SMP_OBJECT_META(""),
    {"spec.ports", "merge", "port"},
    SMP_STATUS_CONDITIONS,
    SMP_END,
};

static const struct smp_field smp_node[] = {
    SMP_OBJECT_META(""),
    {"spec.podCIDRs", "merge", NULL},
    SMP_STATUS_CONDITIONS,
    {"status.addresses", "merge", "type"},
    SMP_END,
};

static const struct smp_field smp_namespace[] = {
    SMP_OBJECT_META(""),
    SMP_STATUS_CONDITIONS,
    SMP_END,
};

static const struct smp_field smp_service_account[] = {
    SMP_OBJECT_META(""),
    {"secrets", "merge", "name"},
    SMP_END,
};

static const struct smp_field smp_deployment[] = {
    SMP_OBJECT_META(""),
    {"spec.strategy", "retainKeys", NULL},
    SMP_POD_TEMPLATE("spec.template."),
    SMP_STATUS_CONDITIONS,
    SMP_END,
};

/* ReplicaSet, DaemonSet and Job: a pod template and status conditions. */
static const struct smp_field smp_pod_workload[] = {
    SMP_OBJECT_META(""),
    SMP_POD_TEMPLATE("spec.template."),
    SMP_STATUS_CONDITIONS,
    SMP_END,
};

static const struct smp_field smp_statefulset[] = {
    SMP_OBJECT_META(""),
    SMP_POD_TEMPLATE("spec.template."),
    /* PersistentVolumeClaims: their ObjectMeta and status conditions. */
    SMP_OBJECT_META("spec.volumeClaimTemplates[]."),
    {"spec.volumeClaimTemplates[].status.conditions", "merge", "type"},
    SMP_STATUS_CONDITIONS,
    SMP_END,
};

struct smp_kind {
    const char *group;
    const char *kind;
    const struct smp_field *fields;
};

static const struct smp_kind smp_kinds[] = {
    {"", "Pod", smp_pod},
    {"", "Service", smp_service},
    {"", "Node", smp_node},
    {"", "Namespace", smp_namespace},
    {"", "ServiceAccount", smp_service_account},
    {"", "Endpoints", smp_meta_only},
    {"", "ConfigMap", smp_meta_only},
    {"", "Secret", smp_meta_only},
    {"", "Event", smp_meta_only},
    {"events.k8s.io", "Event", smp_meta_only},
    {"coordination.k8s.io", "Lease", smp_meta_only},
    {"apps", "Deployment", smp_deployment},
    {"apps", "ReplicaSet", smp_pod_workload},
    {"apps", "DaemonSet", smp_pod_workload},
    {"apps", "StatefulSet", smp_statefulset},
    {"batch", "Job", smp_pod_workload},
};

const struct smp_field *smp_fields(const char *group, const char *kind)
{
    if (!group || !kind)
        return smp_empty;
    for (size_t i = 0; i < sizeof(smp_kinds) / sizeof(smp_kinds[0]); i++)
        if (strcmp(smp_kinds[i].group, group) == 0 &&
            strcmp(smp_kinds[i].kind, kind) == 0)
            return smp_kinds[i].fields;
    return smp_empty;
}
