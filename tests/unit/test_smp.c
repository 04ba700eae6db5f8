/*
 * Unit tests for src/api/smp.c and smp_schema.c: strategic merge patches
 * as kubectl (apply, edit, set image/env, rollout restart, cordon) and the
 * python client send them, the ordering cases of Kubernetes' own
 * strategicpatch tests, every directive, and the error paths.
 *
 * JSON in this file is written with single quotes, turned into double
 * quotes before parsing (so no test string may contain an apostrophe).
 */
#include "api/patch.h"
#include "api/smp.h"
#include "unit.h"
#include "util/errors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Parses JSON written with ' for "; aborts the test run on bad JSON. */
static struct json_object *J(const char *text)
{
    char *s = strdup(text);
    struct json_object *v;

    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    v = json_tokener_parse(s);
    if (!v && strcmp(s, "null") != 0) {
        fprintf(stderr, "bad test JSON: %s\n", s);
        exit(2);
    }
    free(s);
    return v;
}

static const char *text(struct json_object *v)
{
    return json_object_to_json_string_ext(
        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Applies patch to target as group/kind and checks the result equals
 * want (arrays in order), that the target is unchanged, and that the
 * result is a fixed point where Kubernetes' patches are idempotent. */
static void expect_at(int line, const char *group, const char *kind,
                      const char *target, const char *patch, const char *want)
{
    struct json_object *t = J(target), *p = J(patch), *w = J(want);
    struct json_object *t0 = json_clone(t), *out = NULL;
    char err[512] = "";
    int rc = smp_apply(group, kind, t, p, &out, err, sizeof(err));

    unit_checks++;
    if (rc != 0) {
        unit_failures++;
        fprintf(stderr, "%s:%d: smp_apply failed (%d): %s\n", __FILE__, line,
                rc, err);
    } else if (!json_equal(out, w)) {
        unit_failures++;
        fprintf(stderr, "%s:%d: result differs\n  got:  %s\n", __FILE__, line,
                text(out));
        fprintf(stderr, "  want: %s\n", text(w));
    }
    unit_checks++;
    if (!json_equal(t, t0)) {
        unit_failures++;
        fprintf(stderr, "%s:%d: the target was modified\n", __FILE__, line);
    }
    json_object_put(out);
    json_object_put(t);
    json_object_put(t0);
    json_object_put(p);
    json_object_put(w);
}

/* Checks that the patch fails with -KE_INVALID, leaves *out alone, and
 * says something containing `msg`. */
static void expect_err_at(int line, const char *group, const char *kind,
                          const char *target, const char *patch,
                          const char *msg)
{
    struct json_object *t = J(target), *p = J(patch);
    struct json_object *sentinel = json_object_new_object(), *out = sentinel;
    char err[512] = "";
    int rc = smp_apply(group, kind, t, p, &out, err, sizeof(err));

    unit_checks++;
    if (rc != -KE_INVALID || out != sentinel || !strstr(err, msg)) {
        unit_failures++;
        fprintf(stderr,
                "%s:%d: expected -KE_INVALID with \"%s\", got %d \"%s\"\n",
                __FILE__, line, msg, rc, err);
    }
    if (out != sentinel)
        json_object_put(out);
    json_object_put(sentinel);
    json_object_put(t);
    json_object_put(p);
}

#define EXPECT(g, k, t, p, w) expect_at(__LINE__, g, k, t, p, w)
#define EXPECT_ERR(g, k, t, p, m) expect_err_at(__LINE__, g, k, t, p, m)
#define POD(t, p, w) EXPECT("", "Pod", t, p, w)
#define DEPLOY(t, p, w) EXPECT("apps", "Deployment", t, p, w)

/* ---- the metadata table ------------------------------------------------- */

static const struct smp_field *find_field(const char *group, const char *kind,
                                          const char *path)
{
    for (const struct smp_field *f = smp_fields(group, kind); f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

static void check_field(int line, const char *group, const char *kind,
                        const char *path, const char *strategy, const char *mk)
{
    const struct smp_field *f = find_field(group, kind, path);

    unit_checks++;
    if (!f || strcmp(f->strategy, strategy) != 0 ||
        (mk ? !f->merge_key || strcmp(f->merge_key, mk) != 0
            : f->merge_key != NULL)) {
        unit_failures++;
        fprintf(stderr, "%s:%d: %s/%s %s: want %s/%s, got %s/%s\n", __FILE__,
                line, group, kind, path, strategy, mk ? mk : "-",
                f ? f->strategy : "(absent)",
                f && f->merge_key ? f->merge_key : "-");
    }
}

#define FIELD(g, k, p, s, m) check_field(__LINE__, g, k, p, s, m)

static void test_schema(void)
{
    static const char *const kinds[][2] = {
        {"", "Pod"},
        {"", "Service"},
        {"", "Node"},
        {"", "Namespace"},
        {"", "Endpoints"},
        {"", "ConfigMap"},
        {"", "Secret"},
        {"", "ServiceAccount"},
        {"", "Event"},
        {"events.k8s.io", "Event"},
        {"coordination.k8s.io", "Lease"},
        {"apps", "Deployment"},
        {"apps", "ReplicaSet"},
        {"apps", "DaemonSet"},
        {"apps", "StatefulSet"},
        {"batch", "Job"},
    };

    /* Every kind: ObjectMeta's lists; every entry well formed. */
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *g = kinds[i][0], *k = kinds[i][1];
        FIELD(g, k, "metadata.finalizers", "merge", NULL);
        FIELD(g, k, "metadata.ownerReferences", "merge", "uid");
        for (const struct smp_field *f = smp_fields(g, k); f->path; f++) {
            CHECK(f->strategy != NULL);
            CHECK(strcmp(f->strategy, "merge") == 0 ||
                  strcmp(f->strategy, "replace") == 0 ||
                  strcmp(f->strategy, "retainKeys") == 0 ||
                  strcmp(f->strategy, "merge,retainKeys") == 0);
            /* Paths are unique within a table. */
            for (const struct smp_field *o = f + 1; o->path; o++)
                CHECK(strcmp(o->path, f->path) != 0);
        }
    }

    FIELD("", "Pod", "spec.containers", "merge", "name");
    FIELD("", "Pod", "spec.initContainers", "merge", "name");
    FIELD("", "Pod", "spec.ephemeralContainers", "merge", "name");
    FIELD("", "Pod", "spec.containers[].ports", "merge", "containerPort");
    FIELD("", "Pod", "spec.containers[].env", "merge", "name");
    FIELD("", "Pod", "spec.containers[].volumeMounts", "merge", "mountPath");
    FIELD("", "Pod", "spec.containers[].volumeDevices", "merge", "devicePath");
    FIELD("", "Pod", "spec.initContainers[].env", "merge", "name");
    FIELD("", "Pod", "spec.ephemeralContainers[].volumeMounts", "merge",
          "mountPath");
    FIELD("", "Pod", "spec.volumes", "merge,retainKeys", "name");
    FIELD("", "Pod", "spec.imagePullSecrets", "merge", "name");
    FIELD("", "Pod", "spec.hostAliases", "merge", "ip");
    FIELD("", "Pod", "spec.topologySpreadConstraints", "merge", "topologyKey");
    FIELD("", "Pod", "spec.resourceClaims", "merge,retainKeys", "name");
    FIELD("", "Pod", "spec.schedulingGates", "merge", "name");
    FIELD("", "Pod", "status.conditions", "merge", "type");
    FIELD("", "Pod", "status.podIPs", "merge", "ip");
    FIELD("", "Service", "spec.ports", "merge", "port");
    FIELD("", "Service", "status.conditions", "merge", "type");
    FIELD("", "Node", "spec.podCIDRs", "merge", NULL);
    FIELD("", "Node", "status.conditions", "merge", "type");
    FIELD("", "Node", "status.addresses", "merge", "type");
    FIELD("", "Namespace", "status.conditions", "merge", "type");
    FIELD("", "ServiceAccount", "secrets", "merge", "name");
    FIELD("apps", "Deployment", "spec.strategy", "retainKeys", NULL);
    FIELD("apps", "Deployment", "status.conditions", "merge", "type");
    FIELD("apps", "Deployment", "spec.template.metadata.finalizers", "merge",
          NULL);
    FIELD("apps", "DaemonSet", "spec.template.spec.volumes", "merge,retainKeys",
          "name");
    FIELD("apps", "StatefulSet", "spec.template.spec.containers[].env", "merge",
          "name");
    FIELD("apps", "StatefulSet",
          "spec.volumeClaimTemplates[].status.conditions", "merge", "type");
    FIELD("apps", "ReplicaSet", "spec.template.spec.containers", "merge",
          "name");
    FIELD("batch", "Job", "spec.template.spec.initContainers[].ports", "merge",
          "containerPort");
    FIELD("batch", "Job", "status.conditions", "merge", "type");

    /* Atomic lists have no entry; DaemonSets have no strategy entry. */
    CHECK(find_field("", "Pod", "spec.tolerations") == NULL);
    CHECK(find_field("", "Pod", "spec.readinessGates") == NULL);
    CHECK(find_field("", "Pod", "spec.containers[].args") == NULL);
    CHECK(find_field("", "Node", "spec.taints") == NULL);
    CHECK(find_field("", "Endpoints", "subsets") == NULL);
    CHECK(find_field("apps", "DaemonSet", "spec.strategy") == NULL);

    /* Unknown kinds: an empty table, never NULL. */
    CHECK(smp_fields("", "Nope") != NULL);
    CHECK(smp_fields("", "Nope")->path == NULL);
    CHECK(smp_fields("example.com", "Pod")->path == NULL);
    CHECK(smp_fields(NULL, NULL)->path == NULL);
}

/* ---- maps --------------------------------------------------------------- */

static void test_maps(void)
{
    /* Recursive merge; null deletes; absent null is ignored. */
    POD("{'metadata':{'name':'p','labels':{'a':'1','b':'2'}}}",
        "{'metadata':{'labels':{'a':null,'c':'3','zz':null}}}",
        "{'metadata':{'name':'p','labels':{'b':'2','c':'3'}}}");
    /* New nested maps come in without their nulls. */
    POD("{'spec':{}}",
        "{'spec':{'securityContext':{'runAsUser':1,'runAsGroup':null}}}",
        "{'spec':{'securityContext':{'runAsUser':1}}}");
    /* A scalar replaces a map and the other way round. */
    POD("{'spec':{'a':{'x':1},'b':2}}", "{'spec':{'a':3,'b':{'y':null,'z':1}}}",
        "{'spec':{'a':3,'b':{'z':1}}}");
    /* Empty patch, empty map patch. */
    POD("{'a':{'b':1}}", "{}", "{'a':{'b':1}}");
    POD("{'a':{'b':1}}", "{'a':{}}", "{'a':{'b':1}}");
    /* null patch and null target. */
    POD("{'a':1}", "null", "{'a':1}");
    POD("null", "{'a':{'b':[1]}}", "{'a':{'b':[1]}}");

    /* $patch: replace in a map. */
    POD("{'spec':{'nodeSelector':{'a':'1','b':'2'}}}",
        "{'spec':{'nodeSelector':{'$patch':'replace','c':'3','d':null}}}",
        "{'spec':{'nodeSelector':{'c':'3'}}}");
    /* ... at the root (Kubernetes' "add key and delete all keys"). */
    POD("{'name':1,'value':1}", "{'other':'a','$patch':'replace'}",
        "{'other':'a'}");
    /* ... on a field the target lacks: the content. */
    POD("{'spec':{}}", "{'spec':{'nodeSelector':{'$patch':'replace','c':'3'}}}",
        "{'spec':{'nodeSelector':{'c':'3'}}}");
    /* $patch: delete removes the map. */
    POD("{'spec':{'securityContext':{'runAsUser':1},'x':1}}",
        "{'spec':{'securityContext':{'$patch':'delete'}}}", "{'spec':{'x':1}}");
    POD("{'spec':{'x':1}}", "{'spec':{'securityContext':{'$patch':'delete'}}}",
        "{'spec':{'x':1}}");
    POD("{'a':1}", "{'$patch':'delete'}", "{}");
    /* $patch: merge is the default. */
    POD("{'spec':{'nodeSelector':{'a':'1'}}}",
        "{'spec':{'nodeSelector':{'$patch':'merge','b':'2'}}}",
        "{'spec':{'nodeSelector':{'a':'1','b':'2'}}}");
    /* Map keys that look like paths do not pick up table entries. */
    POD("{'metadata':{'annotations':{'spec.containers':'x'}}}",
        "{'metadata':{'annotations':{'spec.containers':'y'}}}",
        "{'metadata':{'annotations':{'spec.containers':'y'}}}");
    POD("{'spec.containers':[{'name':'a','x':1}]}",
        "{'spec.containers':[{'name':'a','y':1}]}",
        "{'spec.containers':[{'name':'a','y':1}]}");
    /* JSON schema's $ref is data, not a directive. */
    POD("{'s':{'$ref':'a'}}", "{'s':{'$ref':'b'}}", "{'s':{'$ref':'b'}}");
}

/* ---- lists without metadata --------------------------------------------- */

static void test_atomic_lists(void)
{
    /* Tolerations, args, taints, readinessGates are replaced whole. */
    POD("{'spec':{'tolerations':[{'key':'a','operator':'Exists'},"
        "{'key':'b','operator':'Exists'}]}}",
        "{'spec':{'tolerations':[{'key':'c','operator':'Exists'}]}}",
        "{'spec':{'tolerations':[{'key':'c','operator':'Exists'}]}}");
    POD("{'spec':{'containers':[{'name':'a','args':['x','y']}]}}",
        "{'spec':{'containers':[{'name':'a','args':['z']}]}}",
        "{'spec':{'containers':[{'name':'a','args':['z']}]}}");
    POD("{'spec':{'readinessGates':[{'conditionType':'a'}]}}",
        "{'spec':{'readinessGates':[{'conditionType':'b'}]}}",
        "{'spec':{'readinessGates':[{'conditionType':'b'}]}}");
    EXPECT("", "Node",
           "{'spec':{'taints':[{'key':'a','effect':'NoSchedule'}]}}",
           "{'spec':{'taints':[{'key':'b','effect':'NoExecute'}]}}",
           "{'spec':{'taints':[{'key':'b','effect':'NoExecute'}]}}");
    EXPECT("", "Node", "{'spec':{'taints':[{'key':'a'}]}}",
           "{'spec':{'taints':[]}}", "{'spec':{'taints':[]}}");
    /* A replaced list loses nulls inside its maps. */
    POD("{'spec':{'tolerations':[]}}",
        "{'spec':{'tolerations':[{'key':'a','value':null}]}}",
        "{'spec':{'tolerations':[{'key':'a'}]}}");
    /* An unknown kind has no merge lists at all. */
    EXPECT("example.com", "Widget",
           "{'spec':{'containers':[{'name':'a','image':'x'}]}}",
           "{'spec':{'containers':[{'name':'b','image':'y'}]}}",
           "{'spec':{'containers':[{'name':'b','image':'y'}]}}");
    /* A list replaces a map and a scalar. */
    POD("{'spec':{'containers':{'a':1}}}",
        "{'spec':{'containers':[{'name':'a'}]}}",
        "{'spec':{'containers':[{'name':'a'}]}}");
}

/* ---- what kubectl sends ------------------------------------------------- */

#define TWO_CONTAINERS                                                         \
    "{'metadata':{'name':'web','annotations':{'keep':'me'}},"                  \
    "'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'web'}},"    \
    "'spec':{'containers':[{'name':'app','image':'nginx:1.0',"                 \
    "'ports':[{'containerPort':80,'protocol':'TCP'}],"                         \
    "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]},"              \
    "{'name':'sidecar','image':'busybox','args':['sleep','1d']}]}}}}"

static void test_kubectl(void)
{
    /* kubectl set image deployment/web app=nginx:1.25 */
    DEPLOY(
        TWO_CONTAINERS,
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':"
        "[{'name':'app'},{'name':'sidecar'}],"
        "'containers':[{'image':'nginx:1.25','name':'app'}]}}}}",
        "{'metadata':{'name':'web','annotations':{'keep':'me'}},"
        "'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'web'}},"
        "'spec':{'containers':[{'name':'app','image':'nginx:1.25',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],"
        "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]},"
        "{'name':'sidecar','image':'busybox','args':['sleep','1d']}]}}}}");
    /* ... on the second container. */
    DEPLOY(
        TWO_CONTAINERS,
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':"
        "[{'name':'app'},{'name':'sidecar'}],"
        "'containers':[{'image':'busybox:1.36','name':'sidecar'}]}}}}",
        "{'metadata':{'name':'web','annotations':{'keep':'me'}},"
        "'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'web'}},"
        "'spec':{'containers':[{'name':'app','image':'nginx:1.0',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],"
        "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]},"
        "{'name':'sidecar','image':'busybox:1.36','args':['sleep','1d']}]}}}"
        "}");
    /* kubectl set env deployment/web -c app C=3 */
    DEPLOY(
        TWO_CONTAINERS,
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':"
        "[{'name':'app'},{'name':'sidecar'}],'containers':[{"
        "'$setElementOrder/env':[{'name':'A'},{'name':'B'},{'name':'C'}],"
        "'env':[{'name':'C','value':'3'}],'name':'app'}]}}}}",
        "{'metadata':{'name':'web','annotations':{'keep':'me'}},"
        "'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'web'}},"
        "'spec':{'containers':[{'name':'app','image':'nginx:1.0',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],"
        "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'},"
        "{'name':'C','value':'3'}]},"
        "{'name':'sidecar','image':'busybox','args':['sleep','1d']}]}}}}");
    /* kubectl set env deployment/web -c app A- */
    DEPLOY(
        TWO_CONTAINERS,
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':"
        "[{'name':'app'},{'name':'sidecar'}],'containers':[{"
        "'$setElementOrder/env':[{'name':'B'}],"
        "'env':[{'$patch':'delete','name':'A'}],'name':'app'}]}}}}",
        "{'metadata':{'name':'web','annotations':{'keep':'me'}},"
        "'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'web'}},"
        "'spec':{'containers':[{'name':'app','image':'nginx:1.0',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],"
        "'env':[{'name':'B','value':'2'}]},"
        "{'name':'sidecar','image':'busybox','args':['sleep','1d']}]}}}}");
    /* kubectl rollout restart deployment/web */
    DEPLOY(
        TWO_CONTAINERS,
        "{'spec':{'template':{'metadata':{'annotations':{"
        "'kubectl.kubernetes.io/restartedAt':'2024-05-01T10:00:00Z'}}}}}",
        "{'metadata':{'name':'web','annotations':{'keep':'me'}},"
        "'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'web'},"
        "'annotations':{'kubectl.kubernetes.io/restartedAt':"
        "'2024-05-01T10:00:00Z'}},"
        "'spec':{'containers':[{'name':'app','image':'nginx:1.0',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],"
        "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]},"
        "{'name':'sidecar','image':'busybox','args':['sleep','1d']}]}}}}");
    /* kubectl apply: removing the sidecar (three-way patch). */
    DEPLOY(
        TWO_CONTAINERS,
        "{'spec':{'template':{'spec':{'$setElementOrder/containers':"
        "[{'name':'app'}],"
        "'containers':[{'$patch':'delete','name':'sidecar'}]}}}}",
        "{'metadata':{'name':'web','annotations':{'keep':'me'}},"
        "'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'web'}},"
        "'spec':{'containers':[{'name':'app','image':'nginx:1.0',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],"
        "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]}]}}}}");
    /* kubectl apply with the last-applied annotation, a new replica count,
     * a field dropped from the manifest (ports) and an image change. */
    DEPLOY(
        TWO_CONTAINERS,
        "{'metadata':{'annotations':{"
        "'kubectl.kubernetes.io/last-applied-configuration':"
        "'{\\'apiVersion\\':\\'apps/v1\\',\\'kind\\':\\'Deployment\\',"
        "\\'metadata\\':{\\'name\\':\\'web\\'},\\'spec\\':{\\'replicas\\':3}}"
        "\\n'"
        "}},'spec':{'replicas':3,'template':{'spec':{"
        "'$setElementOrder/containers':[{'name':'app'},{'name':'sidecar'}],"
        "'containers':[{'image':'nginx:1.26','name':'app','ports':null}]}}}}",
        "{'metadata':{'name':'web','annotations':{'keep':'me',"
        "'kubectl.kubernetes.io/last-applied-configuration':"
        "'{\\'apiVersion\\':\\'apps/v1\\',\\'kind\\':\\'Deployment\\',"
        "\\'metadata\\':{\\'name\\':\\'web\\'},\\'spec\\':{\\'replicas\\':3}}"
        "\\n'"
        "}},'spec':{'replicas':3,'template':{'metadata':{'labels':{'app':'web'}"
        "},"
        "'spec':{'containers':[{'name':'app','image':'nginx:1.26',"
        "'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]},"
        "{'name':'sidecar','image':'busybox','args':['sleep','1d']}]}}}}");
    /* kubectl apply switching RollingUpdate to Recreate: $retainKeys. */
    DEPLOY("{'spec':{'replicas':2,'strategy':{'type':'RollingUpdate',"
           "'rollingUpdate':{'maxSurge':'25%','maxUnavailable':'25%'}}}}",
           "{'spec':{'strategy':{'$retainKeys':['type'],'rollingUpdate':null,"
           "'type':'Recreate'}}}",
           "{'spec':{'replicas':2,'strategy':{'type':'Recreate'}}}");
    /* The kubectl patch docs' example, without the null. */
    DEPLOY("{'spec':{'strategy':{'type':'RollingUpdate',"
           "'rollingUpdate':{'maxSurge':'25%'}}}}",
           "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}",
           "{'spec':{'strategy':{'type':'Recreate'}}}");
    /* Without $retainKeys the retainKeys strategy merges as usual. */
    DEPLOY("{'spec':{'strategy':{'type':'RollingUpdate',"
           "'rollingUpdate':{'maxSurge':'25%'}}}}",
           "{'spec':{'strategy':{'type':'Recreate'}}}",
           "{'spec':{'strategy':{'type':'Recreate',"
           "'rollingUpdate':{'maxSurge':'25%'}}}}");
    /* kubectl apply changing a volume's source: merge,retainKeys. */
    EXPECT("apps", "DaemonSet",
           "{'spec':{'template':{'spec':{'volumes':[{'name':'a',"
           "'emptyDir':{}},{'name':'b','hostPath':{'path':'/x'}}]}}}}",
           "{'spec':{'template':{'spec':{'$setElementOrder/volumes':"
           "[{'name':'a'},{'name':'b'}],'volumes':[{'$retainKeys':"
           "['configMap','name'],'configMap':{'name':'cm'},'emptyDir':null,"
           "'name':'a'}]}}}}",
           "{'spec':{'template':{'spec':{'volumes':[{'name':'a',"
           "'configMap':{'name':'cm'}},{'name':'b','hostPath':{'path':'/x'}}]"
           "}}}}");
    /* kubectl cordon / uncordon. */
    EXPECT("", "Node",
           "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.0.0.0/24'}}",
           "{'spec':{'unschedulable':true}}",
           "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.0.0.0/24',"
           "'unschedulable':true}}");
    EXPECT("", "Node", "{'spec':{'unschedulable':true,'podCIDR':'x'}}",
           "{'spec':{'unschedulable':null}}", "{'spec':{'podCIDR':'x'}}");
    /* kubectl edit of a Service: one port changed, the other kept. */
    EXPECT(
        "", "Service",
        "{'spec':{'type':'ClusterIP','ports':[{'name':'http','port':80,"
        "'targetPort':8080},{'name':'https','port':443,'targetPort':8443}]}}",
        "{'spec':{'$setElementOrder/ports':[{'port':80},{'port':443}],"
        "'ports':[{'port':80,'targetPort':9090}]}}",
        "{'spec':{'type':'ClusterIP','ports':[{'name':'http','port':80,"
        "'targetPort':9090},{'name':'https','port':443,'targetPort':8443}]}}");
    /* python client: patch_namespaced_deployment(body={...}). */
    DEPLOY("{'spec':{'replicas':1,'paused':true}}",
           "{'spec':{'replicas':5,'paused':null}}", "{'spec':{'replicas':5}}");
}

/* ---- lists merged by key ------------------------------------------------ */

static void test_merge_lists(void)
{
    /* The kubectl patch docs: a container added without $setElementOrder
     * comes first (Kubernetes orders new elements before the server's). */
    DEPLOY(
        "{'spec':{'template':{'spec':{'containers':[{'name':'patch-demo-ctr',"
        "'image':'nginx'}],'tolerations':[{'effect':'NoSchedule',"
        "'key':'dedicated','value':'test-team'}]}}}}",
        "{'spec':{'template':{'spec':{'containers':[{'name':"
        "'patch-demo-ctr-2','image':'redis'}]}}}}",
        "{'spec':{'template':{'spec':{'containers':[{'name':"
        "'patch-demo-ctr-2','image':'redis'},{'name':'patch-demo-ctr',"
        "'image':'nginx'}],'tolerations':[{'effect':'NoSchedule',"
        "'key':'dedicated','value':'test-team'}]}}}}");
    /* Changing one element: the server's order stays. */
    POD("{'spec':{'containers':[{'name':'a','image':'1'},{'name':'b',"
        "'image':'2'},{'name':'c','image':'3'}]}}",
        "{'spec':{'containers':[{'name':'b','image':'x'}]}}",
        "{'spec':{'containers':[{'name':'a','image':'1'},{'name':'b',"
        "'image':'x'},{'name':'c','image':'3'}]}}");
    /* "preserve the order from the patch in a merging list". */
    POD("{'spec':{'containers':[{'name':'1'},{'name':'2','value':'b'},"
        "{'name':'3'}]}}",
        "{'spec':{'containers':[{'name':'3','value':'c'},{'name':'1',"
        "'value':'a'},{'name':'2','other':'x'}]}}",
        "{'spec':{'containers':[{'name':'3','value':'c'},{'name':'1',"
        "'value':'a'},{'name':'2','value':'b','other':'x'}]}}");
    /* "... 2": a server-only element keeps its place. */
    POD("{'spec':{'containers':[{'name':'1'},{'name':'2','value':'b'},"
        "{'name':'3'}]}}",
        "{'spec':{'containers':[{'name':'3','value':'c'},{'name':'1',"
        "'value':'a'}]}}",
        "{'spec':{'containers':[{'name':'2','value':'b'},{'name':'3',"
        "'value':'c'},{'name':'1','value':'a'}]}}");
    /* Container ports by containerPort; numbers equal by value. */
    POD("{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80,"
        "'name':'http'},{'containerPort':443}]}]}}",
        "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80.0,"
        "'hostPort':8080}]}]}}",
        "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80,"
        "'name':'http','hostPort':8080},{'containerPort':443}]}]}}");
    /* volumeMounts by mountPath, in initContainers and ephemeralContainers. */
    POD("{'spec':{'initContainers':[{'name':'i','volumeMounts':[{'name':'v',"
        "'mountPath':'/a'}]}],'ephemeralContainers':[{'name':'e','env':["
        "{'name':'X','value':'1'}]}]}}",
        "{'spec':{'initContainers':[{'name':'i','volumeMounts':[{'mountPath':"
        "'/a','readOnly':true}]}],'ephemeralContainers':[{'name':'e','env':["
        "{'name':'X','value':'2'}]}]}}",
        "{'spec':{'initContainers':[{'name':'i','volumeMounts':[{'name':'v',"
        "'mountPath':'/a','readOnly':true}]}],'ephemeralContainers':[{'name':"
        "'e','env':[{'name':'X','value':'2'}]}]}}");
    /* A new element comes in without nulls and directives. */
    POD("{'spec':{'containers':[{'name':'a'}]}}",
        "{'spec':{'containers':[{'name':'b','image':null,'env':[{'name':'X',"
        "'$patch':'delete'},{'name':'Y','value':'1'}]}]}}",
        "{'spec':{'containers':[{'name':'b','env':[{'name':'Y','value':'1'}]},"
        "{'name':'a'}]}}");
    /* A list the target lacks is the patch's, cleaned up. */
    POD("{'spec':{}}",
        "{'spec':{'containers':[{'name':'a'},{'name':'gone','$patch':'delete'},"
        "{'$patch':'replace'}]}}",
        "{'spec':{'containers':[{'name':'a'}]}}");
    /* Patch elements with the same key merge into one (as Kubernetes). */
    POD("{'spec':{'containers':[{'name':'z'}]}}",
        "{'spec':{'containers':[{'name':'a','image':'1'},{'name':'a',"
        "'args':['x']}]}}",
        "{'spec':{'containers':[{'name':'a','image':'1','args':['x']},"
        "{'name':'z'}]}}");
    /* Empty lists. */
    POD("{'spec':{'containers':[]}}", "{'spec':{'containers':[]}}",
        "{'spec':{'containers':[]}}");
    POD("{'spec':{'containers':[{'name':'a'}]}}", "{'spec':{'containers':[]}}",
        "{'spec':{'containers':[{'name':'a'}]}}");
    /* null deletes a merge list as any field. */
    POD("{'spec':{'containers':[{'name':'a'}],'x':1}}",
        "{'spec':{'containers':null}}", "{'spec':{'x':1}}");

    /* $patch: delete by merge key, all duplicates. */
    POD("{'spec':{'containers':[{'name':'1'},{'name':'1'},{'name':'2',"
        "'value':'a'},{'name':'3'},{'name':'3'}]}}",
        "{'spec':{'containers':[{'name':'1','$patch':'delete'},{'name':'3',"
        "'$patch':'delete'}]}}",
        "{'spec':{'containers':[{'name':'2','value':'a'}]}}");
    /* ... of a missing element: nothing happens. */
    POD("{'spec':{'containers':[{'name':'a'}]}}",
        "{'spec':{'containers':[{'name':'x','$patch':'delete'}]}}",
        "{'spec':{'containers':[{'name':'a'}]}}");
    /* Deleting and adding in one list. */
    POD("{'spec':{'imagePullSecrets':[{'name':'a'},{'name':'b'}]}}",
        "{'spec':{'imagePullSecrets':[{'name':'a','$patch':'delete'},"
        "{'name':'c'}]}}",
        "{'spec':{'imagePullSecrets':[{'name':'c'},{'name':'b'}]}}");
    /* $patch: replace as an element: the list becomes the others. */
    POD("{'spec':{'containers':[{'name':'a','image':'1'},{'name':'b'}]}}",
        "{'spec':{'containers':[{'$patch':'replace'},{'name':'c','image':'2',"
        "'args':null}]}}",
        "{'spec':{'containers':[{'name':'c','image':'2'}]}}");
    POD("{'spec':{'containers':[{'name':'a'}]}}",
        "{'spec':{'containers':[{'$patch':'replace'}]}}",
        "{'spec':{'containers':[]}}");

    /* Conditions by type (a kubelet-style status patch). */
    EXPECT("", "Node",
           "{'status':{'conditions':[{'type':'Ready','status':'False'},"
           "{'type':'MemoryPressure','status':'False'}],'addresses':[{'type':"
           "'InternalIP','address':'10.0.0.1'}]}}",
           "{'status':{'$setElementOrder/conditions':[{'type':'Ready'},"
           "{'type':'MemoryPressure'}],'conditions':[{'type':'Ready',"
           "'status':'True','reason':'KubeletReady'}],'addresses':[{'type':"
           "'Hostname','address':'n1'}]}}",
           "{'status':{'conditions':[{'type':'Ready','status':'True','reason':"
           "'KubeletReady'},{'type':'MemoryPressure','status':'False'}],"
           "'addresses':[{'type':'Hostname','address':'n1'},{'type':"
           "'InternalIP','address':'10.0.0.1'}]}}");
    /* ownerReferences by uid. */
    EXPECT("", "ConfigMap",
           "{'metadata':{'ownerReferences':[{'uid':'u1','name':'a'}]}}",
           "{'metadata':{'ownerReferences':[{'uid':'u1','name':'b'},"
           "{'uid':'u2','name':'c'}]}}",
           "{'metadata':{'ownerReferences':[{'uid':'u1','name':'b'},"
           "{'uid':'u2','name':'c'}]}}");
    /* ServiceAccount secrets by name. */
    EXPECT("", "ServiceAccount", "{'secrets':[{'name':'a'}]}",
           "{'secrets':[{'name':'b'}]}",
           "{'secrets':[{'name':'b'},{'name':'a'}]}");
    /* Job and StatefulSet templates. */
    EXPECT("batch", "Job",
           "{'spec':{'template':{'spec':{'containers':[{'name':'a','env':["
           "{'name':'X','value':'1'}]}]}}}}",
           "{'spec':{'template':{'spec':{'containers':[{'name':'a','env':["
           "{'name':'Y','value':'2'}]}]}}}}",
           "{'spec':{'template':{'spec':{'containers':[{'name':'a','env':["
           "{'name':'Y','value':'2'},{'name':'X','value':'1'}]}]}}}}");
    EXPECT("apps", "StatefulSet",
           "{'spec':{'volumeClaimTemplates':[{'metadata':{'name':'d',"
           "'finalizers':['a']}}]}}",
           "{'spec':{'volumeClaimTemplates':[{'metadata':{'name':'d',"
           "'finalizers':['b']}}]}}",
           "{'spec':{'volumeClaimTemplates':[{'metadata':{'name':'d',"
           "'finalizers':['b']}}]}}");
}

/* ---- $setElementOrder --------------------------------------------------- */

static void test_set_element_order(void)
{
    /* Reorder only. */
    POD("{'spec':{'containers':[{'name':'a'},{'name':'b'},{'name':'c'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'c'},{'name':'a'},"
        "{'name':'b'}]}}",
        "{'spec':{'containers':[{'name':'c'},{'name':'a'},{'name':'b'}]}}");
    /* "add an item in a list and preserve order". */
    POD("{'spec':{'containers':[{'name':'1','other':'a'},{'name':'2',"
        "'value':'2','other':'b'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'3'},{'name':'1'},"
        "{'name':'2'}],'containers':[{'name':'3','value':'3'}]}}",
        "{'spec':{'containers':[{'name':'3','value':'3'},{'name':'1',"
        "'other':'a'},{'name':'2','value':'2','other':'b'}]}}");
    /* "add multiple items in a list and preserve order". */
    POD("{'spec':{'containers':[{'name':'1','other':'a'},{'name':'2',"
        "'value':'2','other':'b'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'1'},{'name':'4'},"
        "{'name':'2'},{'name':'3'}],'containers':[{'name':'4','value':'4'},"
        "{'name':'3','value':'3'}]}}",
        "{'spec':{'containers':[{'name':'1','other':'a'},{'name':'4',"
        "'value':'4'},{'name':'2','value':'2','other':'b'},{'name':'3',"
        "'value':'3'}]}}");
    /* "delete an item in a list and preserve order". */
    POD("{'spec':{'containers':[{'name':'1','other':'a'},{'name':'2',"
        "'value':'2','other':'b'},{'name':'3','value':'3'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'2'},{'name':'1'}],"
        "'containers':[{'name':'3','$patch':'delete'}]}}",
        "{'spec':{'containers':[{'name':'2','value':'2','other':'b'},"
        "{'name':'1','other':'a'}]}}");
    /* "set elements order in a list with server-only items" 1, 2, 3. */
    POD("{'spec':{'containers':[{'name':'1','other':'a'},{'name':'3'},"
        "{'name':'4'},{'name':'2'},{'name':'9'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'4'},{'name':'2'},"
        "{'name':'3'},{'name':'1'}]}}",
        "{'spec':{'containers':[{'name':'4'},{'name':'2'},{'name':'3'},"
        "{'name':'1','other':'a'},{'name':'9'}]}}");
    POD("{'spec':{'containers':[{'name':'1'},{'name':'2'},{'name':'9'},"
        "{'name':'3'},{'name':'4'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'2'},{'name':'1'},"
        "{'name':'4'},{'name':'3'}]}}",
        "{'spec':{'containers':[{'name':'2'},{'name':'1'},{'name':'9'},"
        "{'name':'4'},{'name':'3'}]}}");
    POD("{'spec':{'containers':[{'name':'1'},{'name':'2'},{'name':'7'},"
        "{'name':'9'},{'name':'8'},{'name':'3'},{'name':'4'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'2'},{'name':'1'},"
        "{'name':'4'},{'name':'3'}]}}",
        "{'spec':{'containers':[{'name':'2'},{'name':'1'},{'name':'7'},"
        "{'name':'9'},{'name':'8'},{'name':'4'},{'name':'3'}]}}");
    /* "behavior of set element order for a merging list with duplicate". */
    POD("{'spec':{'containers':[{'name':'1'},{'name':'2','value':'dup1'},"
        "{'name':'3'},{'name':'2','value':'dup2'},{'name':'4'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'2'},{'name':'1'},"
        "{'name':'4'},{'name':'3'},{'name':'2'}]}}",
        "{'spec':{'containers':[{'name':'2','value':'dup1'},{'name':'2',"
        "'value':'dup2'},{'name':'1'},{'name':'4'},{'name':'3'}]}}");
    /* A list the target lacks, ordered. */
    POD("{'spec':{}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'b'},{'name':'a'}],"
        "'containers':[{'name':'b'},{'name':'a'}]}}",
        "{'spec':{'containers':[{'name':'b'},{'name':'a'}]}}");
    /* Neither side has the list: nothing. */
    POD("{'spec':{}}", "{'spec':{'$setElementOrder/containers':[]}}",
        "{'spec':{}}");
    /* Order of a list of primitives. */
    POD("{'metadata':{'finalizers':['a','b','c']}}",
        "{'metadata':{'$setElementOrder/finalizers':['c','b','a']}}",
        "{'metadata':{'finalizers':['c','b','a']}}");
    /* "add an item in a int list and preserve order", on podCIDRs. */
    EXPECT("", "Node", "{'spec':{'podCIDRs':['1','2']}}",
           "{'spec':{'$setElementOrder/podCIDRs':['3','1','2'],"
           "'podCIDRs':['3']}}",
           "{'spec':{'podCIDRs':['3','1','2']}}");
    /* The int list cases of Kubernetes' tests, on podCIDRs: "add an item
     * in a list of primitives and preserve order", "delete an item ...",
     * "behavior of set element order for a merging int list with
     * duplicate". */
    EXPECT("", "Node", "{'spec':{'podCIDRs':[1,4,2]}}",
           "{'spec':{'$setElementOrder/podCIDRs':[3,1,2],'podCIDRs':[3]}}",
           "{'spec':{'podCIDRs':[3,1,4,2]}}");
    EXPECT("", "Node", "{'spec':{'podCIDRs':[1,2,3]}}",
           "{'spec':{'$setElementOrder/podCIDRs':[2,1],"
           "'$deleteFromPrimitiveList/podCIDRs':[3]}}",
           "{'spec':{'podCIDRs':[2,1]}}");
    EXPECT("", "Node", "{'spec':{'podCIDRs':[1,2,3,2,4]}}",
           "{'spec':{'$setElementOrder/podCIDRs':[2,1,4,3,2]}}",
           "{'spec':{'podCIDRs':[2,2,1,4,3]}}");
    /* Lists without metadata can be ordered too. */
    POD("{'spec':{'containers':[{'name':'a','args':['x','y']}]}}",
        "{'spec':{'containers':[{'name':'a','$setElementOrder/args':"
        "['y','x']}]}}",
        "{'spec':{'containers':[{'name':'a','args':['y','x']}]}}");
    /* ... and are replaced before. */
    POD("{'spec':{'containers':[{'name':'a','args':['x','y']}]}}",
        "{'spec':{'containers':[{'name':'a','$setElementOrder/args':"
        "['z','y'],'args':['z','y']}]}}",
        "{'spec':{'containers':[{'name':'a','args':['z','y']}]}}");
    /* The patch's order must agree with $setElementOrder. */
    EXPECT_ERR("", "Pod", "{'spec':{'containers':[{'name':'a'}]}}",
               "{'spec':{'containers':[{'name':'a','$setElementOrder/args':"
               "['y','z'],'args':['z','y']}]}}",
               "spec.containers[].args: the order in patch list [\"z\",\"y\"] "
               "doesn't match $setElementOrder list [\"y\",\"z\"]");
}

/* ---- lists of primitives ------------------------------------------------ */

static void test_primitive_lists(void)
{
    /* Union: "unique scalars when merging lists". */
    EXPECT("", "Secret", "{'metadata':{'finalizers':['a','b']}}",
           "{'metadata':{'finalizers':['b','c']}}",
           "{'metadata':{'finalizers':['a','b','c']}}");
    /* A new value goes first without $setElementOrder. */
    EXPECT("", "Secret", "{'metadata':{'finalizers':['a','b']}}",
           "{'metadata':{'finalizers':['c']}}",
           "{'metadata':{'finalizers':['c','a','b']}}");
    /* Duplicates collapse. */
    EXPECT("", "Secret", "{'metadata':{'finalizers':['a','a']}}",
           "{'metadata':{'finalizers':['a','a']}}",
           "{'metadata':{'finalizers':['a']}}");
    /* "preserve the order from the patch in a merging int list". */
    EXPECT("", "Node", "{'spec':{'podCIDRs':[1,2,3]}}",
           "{'spec':{'podCIDRs':[3,1]}}", "{'spec':{'podCIDRs':[2,3,1]}}");
    /* $deleteFromPrimitiveList. */
    EXPECT("", "Namespace", "{'metadata':{'finalizers':['a','b','c','b']}}",
           "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b','x']}}",
           "{'metadata':{'finalizers':['a','c']}}");
    /* ... of a missing list adds nothing; of an empty list likewise. */
    EXPECT("", "Namespace", "{'metadata':{}}",
           "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b']}}",
           "{'metadata':{}}");
    EXPECT("", "Namespace", "{'metadata':{'finalizers':[]}}",
           "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b']}}",
           "{'metadata':{'finalizers':[]}}");
    /* ... works on lists without merge strategy too. */
    POD("{'spec':{'containers':[{'name':'a','args':['x','y']}]}}",
        "{'spec':{'containers':[{'name':'a',"
        "'$deleteFromPrimitiveList/args':['x']}]}}",
        "{'spec':{'containers':[{'name':'a','args':['y']}]}}");
    /* kubectl apply: add one finalizer, drop another, keep the order. */
    EXPECT("", "ConfigMap", "{'metadata':{'finalizers':['a','b','c']}}",
           "{'metadata':{'$setElementOrder/finalizers':['a','c','d'],"
           "'$deleteFromPrimitiveList/finalizers':['b'],"
           "'finalizers':['d']}}",
           "{'metadata':{'finalizers':['a','c','d']}}");
}

/* Primitive values match by JSON value: 0 and -0.0, 1 and 1.0, null. */
static void test_primitive_values(void)
{
    EXPECT("", "Node", "{'spec':{'podCIDRs':[0,true,null]}}",
           "{'spec':{'podCIDRs':[-0.0,1.0,false,null]}}",
           "{'spec':{'podCIDRs':[0,1,false,true,null]}}");
    EXPECT("", "Node", "{'spec':{'podCIDRs':[1,'1',true]}}",
           "{'metadata':{},'$deleteFromPrimitiveList/x':[],"
           "'spec':{'$deleteFromPrimitiveList/podCIDRs':[1.0,true]}}",
           "{'spec':{'podCIDRs':['1']},'metadata':{}}");
    /* Merge keys: numbers and booleans are keys too. */
    POD("{'spec':{'containers':[{'name':true,'a':1},{'name':false,'b':1},"
        "{'name':2,'c':1}]}}",
        "{'spec':{'containers':[{'name':false,'y':1},{'name':2.0,'z':1}]}}",
        "{'spec':{'containers':[{'name':true,'a':1},{'name':false,"
        "'b':1,'y':1},{'name':2.0,'c':1,'z':1}]}}");
    /* A null merge key in the patch deletes the key, as any null does,
     * and the element without it can no longer be ordered. */
    EXPECT_ERR("", "Pod", "{'spec':{'containers':[{'name':null,'a':1}]}}",
               "{'spec':{'containers':[{'name':null,'x':1}]}}",
               "does not contain declared merge key: name");
    /* A null merge key matches a null one. */
    EXPECT("", "ServiceAccount",
           "{'secrets':[{'name':null,'a':1},{'name':"
           "'s'}]}",
           "{'secrets':[{'name':'s','b':2},{'name':null,'$patch':'delete'}]}",
           "{'secrets':[{'name':'s','b':2}]}");
}

/* Many directives of one kind in one map or list. */
static void test_many(void)
{
    char target[4096] = "{'spec':{'containers':[", patch[8192] =
                                                       "{'spec':{"
                                                       "'containers':[";
    char want[4096] = "{'spec':{'containers':[";
    size_t tl = strlen(target), pl = strlen(patch), wl = strlen(want);

    /* 40 containers, the even ones deleted one element at a time, each
     * odd one set through its own $setElementOrder on a primitive list. */
    for (int i = 0; i < 40; i++)
        tl += (size_t)snprintf(target + tl, sizeof(target) - tl,
                               "%s{'name':'c%d','args':['a','b']}",
                               i ? "," : "", i);
    for (int i = 0; i < 40; i++) {
        if (i % 2 == 0)
            pl += (size_t)snprintf(patch + pl, sizeof(patch) - pl,
                                   "%s{'name':'c%d','$patch':'delete'}",
                                   i ? "," : "", i);
        else
            pl += (size_t)snprintf(patch + pl, sizeof(patch) - pl,
                                   ",{'name':'c%d','$setElementOrder/args':"
                                   "['b','a']}",
                                   i);
    }
    for (int i = 1; i < 40; i += 2)
        wl += (size_t)snprintf(want + wl, sizeof(want) - wl,
                               "%s{'name':'c%d','args':['b','a']}",
                               i > 1 ? "," : "", i);
    snprintf(target + tl, sizeof(target) - tl, "]}}");
    snprintf(want + wl, sizeof(want) - wl, "]}}");
    /* ... and 20 lists ordered by their own directive in one map. */
    pl += (size_t)snprintf(patch + pl, sizeof(patch) - pl, "]");
    for (int i = 0; i < 20; i++)
        pl += (size_t)snprintf(patch + pl, sizeof(patch) - pl,
                               ",'$setElementOrder/l%d':[]", i);
    snprintf(patch + pl, sizeof(patch) - pl, "}}");
    POD(target, patch, want);
}

/* ---- $retainKeys -------------------------------------------------------- */

static void test_retain_keys(void)
{
    /* "retainKeys map should clear defaulted field". */
    DEPLOY("{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{}}}}",
           "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}",
           "{'spec':{'strategy':{'type':'Recreate'}}}");
    /* Nothing listed: everything goes. */
    DEPLOY("{'spec':{'strategy':{'type':'Recreate'}}}",
           "{'spec':{'strategy':{'$retainKeys':[]}}}",
           "{'spec':{'strategy':{}}}");
    /* Listed keys the patch does not set stay. */
    DEPLOY("{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':"
           "{'maxSurge':1},'x':1}}}",
           "{'spec':{'strategy':{'$retainKeys':['type','rollingUpdate'],"
           "'rollingUpdate':{'maxUnavailable':2}}}}",
           "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':"
           "{'maxSurge':1,'maxUnavailable':2}}}}");
    /* On an element of a merge list (volumes are merge,retainKeys). */
    POD("{'spec':{'volumes':[{'name':'v','secret':{'secretName':'s'}}]}}",
        "{'spec':{'volumes':[{'name':'v','$retainKeys':['name','emptyDir'],"
        "'emptyDir':{}}]}}",
        "{'spec':{'volumes':[{'name':'v','emptyDir':{}}]}}");
}

/* ---- errors ------------------------------------------------------------- */

static void test_errors(void)
{
    const char *pod = "{'spec':{'containers':[{'name':'a'}]}}";

    EXPECT_ERR("", "Pod", pod, "[]", "must be a JSON object");
    EXPECT_ERR("", "Pod", pod, "'x'", "must be a JSON object");
    EXPECT_ERR("", "Pod", "[1]", "{}", "not a map");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'$foo':1}}",
               "spec: unknown strategic merge patch directive \"$foo\"");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'x':{'$patches':1}}}",
               "unknown strategic merge patch directive");
    /* ... also where there is nothing to merge with. */
    EXPECT_ERR("", "Pod", pod, "{'spec':{'new':{'a':{'$bad':1}}}}",
               "spec.new.a: unknown strategic merge patch directive");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'$patch':'bogus'}}",
               "unknown patch type: \"bogus\"");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'$patch':1}}", "unknown patch type");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'new':[{'$patch':'bogus'}]}}",
               "unknown patch type");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'containers':[{'image':'nginx'}]}}",
               "spec.containers: map: {\"image\":\"nginx\"} does not contain "
               "declared merge key: name");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'containers':[{'$patch':'delete','image':'x'}]}}",
               "does not contain declared merge key: name");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'containers':[{'name':'a','$patch':'merge'}]}}",
               "merging lists cannot yet be specified in the patch");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'containers':[{'name':'a','$patch':'what'}]}}",
               "unknown patch type");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'containers':[{'name':{'x':1}}]}}",
               "merge key name");
    /* A server element without its key makes the list unmergeable. */
    EXPECT_ERR("", "Pod", "{'spec':{'containers':[{'image':'x'}]}}",
               "{'spec':{'containers':[{'name':'a'}]}}",
               "does not contain declared merge key: name");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'containers':['a']}}",
               "list element types are not identical");
    EXPECT_ERR("", "Secret", "{'metadata':{'finalizers':[['a']]}}",
               "{'metadata':{'finalizers':['b']}}",
               "lists of lists are not supported");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'$setElementOrder/containers':5}}",
               "invalid patch format of setElementOrder list");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'$setElementOrderX/containers':[]}}",
               "invalid patch format of setElementOrder list");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'$setElementOrder/':[]}}",
               "invalid patch format of setElementOrder list");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'$setElementOrder/containers':[{'name':'a'}],"
               "'containers':[{'name':'b'}]}}",
               "doesn't match $setElementOrder list");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'$setElementOrder/containers':[{'name':'b'},"
               "{'name':'a'}],'containers':[{'name':'a'},{'name':'b'}]}}",
               "doesn't match $setElementOrder list");
    EXPECT_ERR("", "Pod", pod, "{'spec':{'$setElementOrder/containers':['a']}}",
               "expected a map, but received a string");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'$setElementOrder/containers':[{'x':1}]}}",
               "does not contain declared merge key: name");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'$setElementOrder/containers':[],'containers':null}}",
               "expected a list");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'$setElementOrder/containers':[{'x':1}],"
               "'containers':[{'name':'a'}]}}",
               "does not contain declared merge key: name");
    EXPECT_ERR("", "Pod", "{'spec':{}}",
               "{'spec':{'$setElementOrder/containers':[],"
               "'containers':[{'x':1}]}}",
               "does not contain declared merge key: name");
    EXPECT_ERR("", "Secret", "{'metadata':{'finalizers':['a']}}",
               "{'metadata':{'$setElementOrder/finalizers':[{'x':1}]}}",
               "metadata.finalizers: expected a primitive, but received a map");
    EXPECT_ERR("", "Node", "{'spec':{'podCIDRs':[{'a':1}]}}",
               "{'spec':{'podCIDRs':[{'b':1}]}}",
               "cannot merge lists without merge key for spec.podCIDRs");
    EXPECT_ERR("", "Node", "{'spec':{'podCIDRs':[{'a':1}]}}",
               "{'spec':{'$deleteFromPrimitiveList/podCIDRs':['a']}}",
               "list element types are not identical");
    EXPECT_ERR("", "Pod", "{'spec':{'tolerations':[{'key':'a'}]}}",
               "{'spec':{'$setElementOrder/tolerations':[{'key':'a'}]}}",
               "cannot merge lists without merge key");
    EXPECT_ERR("", "Pod", pod,
               "{'metadata':{'$deleteFromPrimitiveList/finalizers':'a'}}",
               "invalid patch format of primitive list");
    EXPECT_ERR("", "Pod", pod,
               "{'metadata':{'$deleteFromPrimitiveList/finalizers':[{'a':1}]}}",
               "invalid patch format of primitive list");
    EXPECT_ERR("", "Pod", pod,
               "{'metadata':{'$deleteFromPrimitiveListfinalizers':['a']}}",
               "invalid patch format of primitive list");
    EXPECT_ERR("", "Pod", pod,
               "{'spec':{'containers':[{'name':'a',"
               "'$deleteFromPrimitiveList/args':null}]}}",
               "spec.containers[]: invalid patch format of primitive list: "
               "\"$deleteFromPrimitiveList/args\": null");
    EXPECT_ERR("apps", "Deployment", "{'spec':{'strategy':{}}}",
               "{'spec':{'strategy':{'$retainKeys':'type'}}}",
               "spec.strategy: invalid patch format of retainKeys");
    EXPECT_ERR("apps", "Deployment", "{'spec':{'strategy':{}}}",
               "{'spec':{'strategy':{'$retainKeys':[1]}}}",
               "invalid patch format of retainKeys");
    EXPECT_ERR("apps", "Deployment", "{'spec':{'strategy':{}}}",
               "{'spec':{'strategy':{'$retainKeys':['type'],"
               "'rollingUpdate':{}}}}",
               "invalid patch format of retainKeys");
    EXPECT_ERR("apps", "Deployment", "{'spec':{'strategy':{}}}",
               "{'spec':{'strategy':{'$retainKeys':null}}}",
               "invalid patch format of retainKeys");
}

/* A patch nested `levels` deep: {"a":{"a":...{}}}. */
static struct json_object *nested(int levels)
{
    struct json_object *v = json_object_new_object();

    for (int i = 1; i < levels; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "a", v);
        v = o;
    }
    return v;
}

static void test_limits(void)
{
    struct json_object *out = NULL, *deep, *target;
    char err[256];
    int rc;

    /* The depth cap holds both where the patch merges and where it is
     * copied, and exactly at SMP_MAX_DEPTH it still applies. */
    deep = nested(SMP_MAX_DEPTH + 1);
    rc = smp_apply("", "Pod", NULL, deep, &out, err, sizeof(err));
    CHECK_INT(rc, -KE_INVALID);
    CHECK(strstr(err, "nested deeper than") != NULL);
    target = nested(SMP_MAX_DEPTH);
    rc = smp_apply("", "Pod", target, deep, &out, err, sizeof(err));
    CHECK_INT(rc, -KE_INVALID);
    json_object_put(deep);
    deep = nested(SMP_MAX_DEPTH);
    out = NULL;
    rc = smp_apply("", "Pod", target, deep, &out, err, sizeof(err));
    CHECK_INT(rc, 0);
    CHECK(json_equal(out, deep));
    json_object_put(out);
    json_object_put(target);
    /* A target past the cap is refused, not copied. */
    target = nested(SMP_MAX_DEPTH + 1);
    out = NULL;
    rc = smp_apply("", "Pod", target, deep, &out, err, sizeof(err));
    CHECK_INT(rc, -KE_INVALID);
    CHECK(out == NULL);
    json_object_put(target);
    json_object_put(deep);

    /* Long lists merge (the hash indexes grow well past their first size):
     * 5,000 env vars against 5,000 in the opposite order. */
    enum { N = 5000 };
    struct json_object *env = json_object_new_array(),
                       *penv = json_object_new_array();
    for (int i = 0; i < N; i++) {
        char name[32];
        struct json_object *e = json_object_new_object(), *p;
        snprintf(name, sizeof(name), "V%d", i);
        json_object_object_add(e, "name", json_object_new_string(name));
        json_object_object_add(e, "value", json_object_new_string("old"));
        json_object_array_add(env, e);
        p = json_object_new_object();
        snprintf(name, sizeof(name), "V%d", N - 1 - i);
        json_object_object_add(p, "name", json_object_new_string(name));
        json_object_object_add(p, "value", json_object_new_string("new"));
        json_object_array_add(penv, p);
    }
    target = J("{'spec':{'containers':[{'name':'a'}]}}");
    json_object_object_add(
        json_object_array_get_idx(
            json_object_object_get(json_object_object_get(target, "spec"),
                                   "containers"),
            0),
        "env", env);
    struct json_object *patch = J("{'spec':{'containers':[{'name':'a'}]}}");
    json_object_object_add(
        json_object_array_get_idx(
            json_object_object_get(json_object_object_get(patch, "spec"),
                                   "containers"),
            0),
        "env", penv);
    out = NULL;
    rc = smp_apply("", "Pod", target, patch, &out, err, sizeof(err));
    CHECK_INT(rc, 0);
    struct json_object *got = json_object_object_get(
        json_object_array_get_idx(
            json_object_object_get(json_object_object_get(out, "spec"),
                                   "containers"),
            0),
        "env");
    CHECK_INT(json_object_array_length(got), N);
    /* The patch's order wins: the last name first. */
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(got, 0), "name")),
              "V4999");
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(got, N - 1), "value")),
              "new");
    json_object_put(out);
    json_object_put(target);
    json_object_put(patch);

    /* A tiny error buffer is fine; a NULL one too. */
    target = J("{}");
    patch = J("{'$x':1}");
    rc = smp_apply("", "Pod", target, patch, &out, err, 4);
    CHECK_INT(rc, -KE_INVALID);
    CHECK_INT(strlen(err), 3);
    rc = smp_apply("", "Pod", target, patch, &out, NULL, 0);
    CHECK_INT(rc, -KE_INVALID);
    json_object_put(target);
    json_object_put(patch);
}

/* The patch itself is never changed, even where it is copied. */
static void test_patch_unchanged(void)
{
    const char *ps = "{'spec':{'$setElementOrder/containers':[{'name':'b'},"
                     "{'name':'a'}],'containers':[{'name':'b','env':[{'name':"
                     "'X','value':null}],'$retainKeys':['name','env']},"
                     "{'name':'a','$patch':'delete'}],'new':{'x':null,"
                     "'l':[{'$patch':'replace'},1]}}}";
    struct json_object *t = J("{'spec':{'containers':[{'name':'a'},"
                              "{'name':'b','image':'i'}]}}");
    struct json_object *p = J(ps), *p0 = J(ps), *out = NULL;
    char err[256];
    int rc = smp_apply("", "Pod", t, p, &out, err, sizeof(err));

    CHECK_INT(rc, 0);
    CHECK(json_equal(p, p0));
    json_object_put(out);
    out = NULL;
    json_object_put(p);
    json_object_put(p0);
    ps = "{'spec':{'$setElementOrder/containers':[{'name':'b'},"
         "{'name':'a'}],'containers':[{'name':'b','env':[{'name':"
         "'X','value':null}],'$retainKeys':['name','env']},"
         "{'name':'a','$patch':'delete'}],'new':{'x':null,"
         "'l':[{'$patch':'replace'},{'k':1}]}}}";
    p = J(ps);
    p0 = J(ps);
    rc = smp_apply("", "Pod", t, p, &out, err, sizeof(err));
    CHECK_INT(rc, 0);
    CHECK(json_equal(p, p0));
    struct json_object *want = J("{'spec':{'containers':[{'name':'b','env':["
                                 "{'name':'X'}]}],'new':{'l':[{'k':1}]}}}");
    CHECK(json_equal(out, want));
    json_object_put(want);
    json_object_put(out);
    json_object_put(p);
    json_object_put(p0);
    json_object_put(t);
}

int main(void)
{
    test_schema();
    test_maps();
    test_atomic_lists();
    test_kubectl();
    test_merge_lists();
    test_set_element_order();
    test_primitive_lists();
    test_primitive_values();
    test_many();
    test_retain_keys();
    test_errors();
    test_limits();
    test_patch_unchanged();
    return unit_done("test_smp");
}
