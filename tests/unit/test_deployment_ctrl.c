/*
 * The pure pieces of the ReplicaSet and Deployment controllers
 * (controllers/rollout.c): the pod-template-hash, maxSurge/maxUnavailable
 * resolution, pod availability and the order surplus pods are deleted in.
 */
#include "controllers/rollout.h"
#include "unit.h"

#include <json-c/json.h>
#include <stdlib.h>

static struct json_object *parse(const char *s)
{
    struct json_object *o = json_tokener_parse(s);
    if (!o) {
        fprintf(stderr, "bad test JSON: %s\n", s);
        exit(2);
    }
    return o;
}

static void test_safe_encode(void)
{
    char out[16];
    rollout_safe_encode("0123456789", out, sizeof(out));
    CHECK_STR(out, "456789bcdf");
    rollout_safe_encode("0123456789", out, 4);
    CHECK_STR(out, "456");
    rollout_safe_encode("", out, sizeof(out));
    CHECK_STR(out, "");
}

static void test_template_hash(void)
{
    char h1[ROLLOUT_HASH_BYTES], h2[ROLLOUT_HASH_BYTES];
    struct json_object *a = parse(
        "{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"image\":\"nginx\",\"name\":\"c\"}]}}");
    struct json_object *b = parse(
        "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]},"
        "\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
    struct json_object *c = parse(
        "{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"image\":\"nginx:2\",\"name\":\"c\"}]}}");

    /* FNV-32a of the canonical JSON, its decimal form safe-encoded
     * (computed independently). */
    CHECK_INT(rollout_template_hash(a, -1, h1), 0);
    CHECK_STR(h1, "5776f98846");
    /* Key order does not matter. */
    CHECK_INT(rollout_template_hash(b, -1, h2), 0);
    CHECK_STR(h2, h1);
    /* The collision count is hashed as 4 little-endian bytes. */
    CHECK_INT(rollout_template_hash(a, 1, h2), 0);
    CHECK_STR(h2, "5ff55f7bd7");
    CHECK_INT(rollout_template_hash(c, -1, h2), 0);
    CHECK(strcmp(h1, h2) != 0);
    for (const char *p = h2; *p; p++)
        CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", *p) != NULL);
    json_object_put(a);
    json_object_put(b);
    json_object_put(c);
}

static void fence(const char *strategy, int64_t replicas, int64_t surge,
                  int64_t unavail)
{
    struct json_object *s = parse(strategy);
    int64_t ms = -1, mu = -1;
    rollout_fenceposts(s, replicas, &ms, &mu);
    CHECK_INT(ms, surge);
    CHECK_INT(mu, unavail);
    json_object_put(s);
}

static void test_fenceposts(void)
{
    const char *pct = "{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
                      "{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}}";
    fence(pct, 10, 3, 2); /* 2.5 up, 2.5 down */
    fence(pct, 3, 1, 0);
    fence(pct, 4, 1, 1);
    fence(pct, 0, 0, 1); /* both 0: maxUnavailable becomes 1 */
    fence("{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
          "{\"maxSurge\":1,\"maxUnavailable\":1}}",
          3, 1, 1);
    fence("{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
          "{\"maxSurge\":0,\"maxUnavailable\":\"0%\"}}",
          5, 0, 1);
    fence("{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
          "{\"maxSurge\":\"100%\",\"maxUnavailable\":0}}",
          7, 7, 0);
    fence("{\"type\":\"Recreate\"}", 5, 0, 0);

    struct json_object *v = json_object_new_string("12");
    int64_t out = 0;
    CHECK(rollout_scaled_value(v, 10, true, &out) != 0); /* no '%' */
    json_object_put(v);
    v = json_object_new_string("x%");
    CHECK(rollout_scaled_value(v, 10, true, &out) != 0);
    json_object_put(v);
    v = json_object_new_string("33%");
    CHECK_INT(rollout_scaled_value(v, 10, true, &out), 0);
    CHECK_INT(out, 4);
    CHECK_INT(rollout_scaled_value(v, 10, false, &out), 0);
    CHECK_INT(out, 3);
    json_object_put(v);
}

/* A pod with the given node, phase, Ready state and times. */
static struct json_object *pod(const char *name, const char *node,
                               const char *phase, const char *ready,
                               const char *ready_since, int restarts,
                               const char *created)
{
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"metadata\":{\"name\":\"%s\",\"creationTimestamp\":\"%s\"},"
             "\"spec\":{\"nodeName\":\"%s\"},"
             "\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"%s\",\"lastTransitionTime\":\"%s\"}],"
             "\"containerStatuses\":[{\"name\":\"c\",\"restartCount\":%d}]}}",
             name, created, node, phase, ready, ready_since, restarts);
    return parse(buf);
}

struct ranked {
    struct json_object *pod;
    struct rollout_pod_rank rank;
};

static int ranked_cmp(const void *a, const void *b)
{
    return rollout_pod_rank_cmp(&((const struct ranked *)a)->rank,
                                &((const struct ranked *)b)->rank);
}

static void test_pod_ranking(void)
{
    const char *t0 = "2026-01-01T00:00:00Z", *t1 = "2026-01-01T00:01:00Z";
    /* In the order they should be deleted. */
    struct ranked p[] = {
        {pod("unassigned", "", "Running", "True", t0, 0, t0), {0}},
        {pod("pending", "n1", "Pending", "False", t0, 0, t0), {0}},
        {pod("unknown", "n1", "Unknown", "False", t0, 0, t0), {0}},
        {pod("not-ready", "n1", "Running", "False", t0, 0, t0), {0}},
        {pod("ready-late", "n1", "Running", "True", t1, 0, t0), {0}},
        {pod("restarts", "n1", "Running", "True", t0, 5, t0), {0}},
        {pod("newer", "n1", "Running", "True", t0, 0, t1), {0}},
        {pod("older", "n1", "Running", "True", t0, 0, t0), {0}},
    };
    size_t n = sizeof(p) / sizeof(p[0]);
    struct ranked shuffled[sizeof(p) / sizeof(p[0])];

    for (size_t i = 0; i < n; i++) {
        rollout_pod_rank_of(p[i].pod, &p[i].rank);
        shuffled[(i * 5) % n] = p[i];
    }
    qsort(shuffled, n, sizeof(shuffled[0]), ranked_cmp);
    for (size_t i = 0; i < n; i++)
        CHECK_STR(
            json_object_get_string(json_object_object_get(
                json_object_object_get(shuffled[i].pod, "metadata"), "name")),
            json_object_get_string(json_object_object_get(
                json_object_object_get(p[i].pod, "metadata"), "name")));
    CHECK_INT(rollout_pod_rank_cmp(&p[7].rank, &p[7].rank), 0);
    for (size_t i = 0; i < n; i++)
        json_object_put(p[i].pod);
}

static void test_availability(void)
{
    struct json_object *ready =
        pod("a", "", "Running", "True", "2026-01-01T00:00:00Z", 0,
            "2026-01-01T00:00:00Z");
    struct json_object *not_ready =
        pod("b", "", "Running", "False", "2026-01-01T00:00:00Z", 0,
            "2026-01-01T00:00:00Z");
    struct json_object *no_time =
        parse("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
              "\"True\"}]}}");
    time_t t = rollout_parse_time("2026-01-01T00:00:00Z");
    int64_t wait = 0;

    CHECK(t > 0);
    CHECK(rollout_pod_available(ready, 0, t, NULL));
    CHECK(!rollout_pod_available(ready, 10, t + 5, &wait));
    CHECK_INT(wait, 6);
    CHECK(rollout_pod_available(ready, 10, t + 11, &wait));
    CHECK(!rollout_pod_available(not_ready, 0, t, NULL));
    CHECK(rollout_pod_available(no_time, 0, t, NULL));
    CHECK(!rollout_pod_available(no_time, 5, t, NULL));
    CHECK_INT(rollout_parse_time("2026-01-01T01:00:00+01:00"), t);
    CHECK_INT(rollout_parse_time("nonsense"), -1);

    struct json_object *done = parse("{\"status\":{\"phase\":\"Succeeded\"}}");
    struct json_object *going = parse(
        "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}}");
    CHECK(rollout_pod_active(ready));
    CHECK(!rollout_pod_active(done));
    CHECK(!rollout_pod_active(going));
    json_object_put(done);
    json_object_put(going);
    json_object_put(ready);
    json_object_put(not_ready);
    json_object_put(no_time);
}

int main(void)
{
    test_safe_encode();
    test_template_hash();
    test_fenceposts();
    test_pod_ranking();
    test_availability();
    return unit_done("test_deployment_ctrl");
}
