/*
 * Request bodies for the benchmarks (see objects.h). The filler is
 * pseudo-random text from a fixed seed per index, so it neither
 * compresses to nothing nor changes between runs.
 */
#include "objects.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

int bench_configmap_json(char *out, size_t cap, const char *ns,
                         const char *name, int index, size_t size)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 =.";
    int head = snprintf(out, cap,
                        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                        "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
                        "\"labels\":{\"app\":\"bench\",\"shard\":\"s%d\"}},"
                        "\"data\":{\"mode\":\"bench\",\"app.properties\":\"",
                        name, ns, index % 16);
    const char *tail = "\"}}";
    size_t tl = strlen(tail);
    if (head < 0 || (size_t)head + tl + 1 > cap)
        return -1;
    size_t fill = size > (size_t)head + tl ? size - (size_t)head - tl : 0;
    if ((size_t)head + fill + tl + 1 > cap)
        return -1;
    uint32_t seed = 2463534242u ^ (uint32_t)(index * 2654435761u);
    if (!seed)
        seed = 1;
    char *p = out + head;
    for (size_t i = 0; i < fill; i++)
        p[i] = alphabet[next_rand(&seed) % (sizeof(alphabet) - 1)];
    memcpy(p + fill, tail, tl + 1);
    return (int)((size_t)head + fill + tl);
}

int bench_pod_json(char *out, size_t cap, const char *ns, const char *name,
                   int index)
{
    int n = snprintf(out, cap,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
        "\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{\"app\":\"web\","
        "\"tier\":\"frontend\",\"pod-template-hash\":\"7d4b9c%04x\","
        "\"version\":\"v1.4.%d\"},\"annotations\":{"
        "\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"9102\"}},"
        "\"spec\":{\"nodeName\":\"edge-node-%03d\","
        "\"serviceAccountName\":\"default\",\"restartPolicy\":\"Always\","
        "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
        "\"containers\":[{\"name\":\"app\","
        "\"image\":\"registry.example.com/team/web-frontend:1.4.%d\","
        "\"imagePullPolicy\":\"IfNotPresent\",\"ports\":["
        "{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},"
        "{\"name\":\"metrics\",\"containerPort\":9102,\"protocol\":\"TCP\"}],"
        "\"env\":[{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},"
        "{\"name\":\"CACHE_SIZE_MB\",\"value\":\"256\"},"
        "{\"name\":\"UPSTREAM_URL\","
        "\"value\":\"http://backend.default.svc.cluster.local:8080\"},"
        "{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{"
        "\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}}],"
        "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"},"
        "\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"}},"
        "\"volumeMounts\":[{\"name\":\"config\",\"mountPath\":\"/etc/web\","
        "\"readOnly\":true},{\"name\":\"cache\","
        "\"mountPath\":\"/var/cache/web\"}],"
        "\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080,"
        "\"scheme\":\"HTTP\"},\"initialDelaySeconds\":5,\"periodSeconds\":10,"
        "\"timeoutSeconds\":1,\"successThreshold\":1,\"failureThreshold\":3},"
        "\"livenessProbe\":{\"httpGet\":{\"path\":\"/livez\",\"port\":8080,"
        "\"scheme\":\"HTTP\"},\"initialDelaySeconds\":15,\"periodSeconds\":20,"
        "\"timeoutSeconds\":1,\"successThreshold\":1,\"failureThreshold\":3}},"
        "{\"name\":\"log-shipper\","
        "\"image\":\"registry.example.com/infra/log-shipper:2.0.1\","
        "\"args\":[\"--input=/var/log/web\",\"--output=stdout\"],"
        "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"32Mi\"}},"
        "\"volumeMounts\":[{\"name\":\"logs\",\"mountPath\":\"/var/log/web\"}]}],"
        "\"volumes\":[{\"name\":\"config\",\"configMap\":{\"name\":\"web-config\"}},"
        "{\"name\":\"cache\",\"emptyDir\":{}},"
        "{\"name\":\"logs\",\"emptyDir\":{\"sizeLimit\":\"1Gi\"}}],"
        "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
        "\"operator\":\"Exists\",\"effect\":\"NoExecute\","
        "\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/unreachable\","
        "\"operator\":\"Exists\",\"effect\":\"NoExecute\","
        "\"tolerationSeconds\":300}]}}",
        name, ns, (unsigned)(index * 2654435761u) & 0xffff, index % 7,
        index % 50, index % 7);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
