/*
 * The pure pieces of the ReplicaSet and Deployment controllers: the pod
 * template hash that names a Deployment's ReplicaSets, maxSurge and
 * maxUnavailable resolution, pod readiness and availability, and the
 * ranking that picks which surplus pods to delete first.
 */
#ifndef KEDGE_CONTROLLERS_ROLLOUT_H
#define KEDGE_CONTROLLERS_ROLLOUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The label that ties a Deployment's ReplicaSet and its pods to one
 * template. */
#define ROLLOUT_HASH_LABEL "pod-template-hash"

/* Longest hash text (a uint32 in decimal) plus its NUL. */
#define ROLLOUT_HASH_BYTES 11

/*
 * rand.SafeEncodeString: maps every byte of s to Kubernetes' alphabet
 * without vowels or look-alikes ("bcdfghjklmnpqrstvwxz2456789") by its
 * value modulo 27. out gets at most len-1 bytes and a NUL.
 */
void rollout_safe_encode(const char *s, char *out, size_t len);

/*
 * The pod-template-hash of a pod template: FNV-32a over the template's
 * canonical JSON (object keys sorted) followed, when collision_count >= 0,
 * by the count as 4 little-endian bytes; its decimal form safe-encoded.
 * Equal templates give equal hashes whatever their key order. out must
 * hold ROLLOUT_HASH_BYTES. Returns 0 or -ENOMEM.
 */
int rollout_template_hash(struct json_object *tmpl, int64_t collision_count,
                          char out[ROLLOUT_HASH_BYTES]);

/*
 * intstr.GetScaledValueFromIntOrPercent: an integer as is, "N%" as N
 * percent of total rounded up or down. Returns 0, or -EINVAL for values of
 * another shape (NULL counts as 0).
 */
int rollout_scaled_value(struct json_object *v, int64_t total, bool round_up,
                         int64_t *out);

/*
 * ResolveFenceposts for a Deployment's spec.strategy: maxSurge rounds up,
 * maxUnavailable down, and both 0 makes maxUnavailable 1. A Recreate
 * strategy (or anything but RollingUpdate) gives 0 and 0. Unreadable
 * values count as 0.
 */
void rollout_fenceposts(struct json_object *strategy, int64_t replicas,
                        int64_t *max_surge, int64_t *max_unavailable);

/* Seconds since the epoch of an RFC 3339 time; -1 if absent or
 * unreadable. */
time_t rollout_parse_time(const char *s);

/* now as "2026-11-23T10:00:00Z". */
void rollout_format_time(time_t now, char out[32]);

/* True if the pod's Ready condition is True; *since (may be NULL) gets
 * its lastTransitionTime, -1 when absent. */
bool rollout_pod_ready(struct json_object *pod, time_t *since);

/*
 * podutil.IsPodAvailable: Ready, and for at least min_ready_s seconds
 * (min_ready_s 0: Ready is enough; otherwise a Ready condition without a
 * transition time is not yet available). When Ready but not yet
 * available, *wait_s (may be NULL) gets the seconds left.
 */
bool rollout_pod_available(struct json_object *pod, int64_t min_ready_s,
                           time_t now, int64_t *wait_s);

/* True for a pod that counts toward its owner's replicas: not being
 * deleted and not Succeeded or Failed. */
bool rollout_pod_active(struct json_object *pod);

/* What ranks a pod for deletion (controller.ActivePods). */
struct rollout_pod_rank {
    bool assigned; /* spec.nodeName set */
    int phase;     /* Pending 0, Unknown 1, Running 2 */
    bool ready;
    time_t ready_since; /* -1 when unknown */
    int64_t restarts;   /* highest container restart count */
    time_t created;     /* -1 when unknown */
};

/* Fills the rank of a pod. */
void rollout_pod_rank_of(struct json_object *pod,
                         struct rollout_pod_rank *rank);

/*
 * Orders pods so that the ones to delete first come first, as
 * Kubernetes' ActivePods: unassigned before assigned, Pending before
 * Unknown before Running, not Ready before Ready, Ready for less time
 * before more, more restarts before fewer, newer before older. <0, 0 or
 * >0 like strcmp.
 */
int rollout_pod_rank_cmp(const struct rollout_pod_rank *a,
                         const struct rollout_pod_rank *b);

#endif
