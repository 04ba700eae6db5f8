/*
 * core/v1 Pod: printer columns (printPod), create-time status and QoS,
 * pod-level defaults (including what the ServiceAccount and Priority
 * admission plugins add) and create/update validation.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/pod.h"
#include "resources/print.h"

#include <stdio.h>
#include <string.h>

static const char *const pod_field_selectors[] = {"spec.nodeName",
                                                  "spec.restartPolicy",
                                                  "spec.schedulerName",
                                                  "spec.serviceAccountName",
                                                  "spec.hostNetwork",
                                                  "status.phase",
                                                  "status.podIP",
                                                  "status.nominatedNodeName",
                                                  NULL};

static const struct table_column pod_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Ready", "string", "",
     "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "",
     "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted "
     "and when the last container in this pod has restarted.",
     0},
    {"Age", "string", "", "Time since the object was created.", 0},
    {"IP", "string", "", "IP address allocated to the pod.", 1},
    {"Node", "string", "", "The node the pod is bound to.", 1},
    {"Nominated Node", "string", "",
     "The node the scheduler nominated for preemption.", 1},
    {"Readiness Gates", "string", "", "Pod readiness gates.", 1},
};

/* ---- Table ---- */

static bool cond_true(struct json_object *conds, const char *type)
{
    for (size_t i = 0; i < ju_len(conds) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *c = ju_idx_obj(conds, i);
        const char *t = ju_str(c, "type"), *s = ju_str(c, "status");
        if (t && strcmp(t, type) == 0 && s && strcmp(s, "True") == 0)
            return true;
    }
    return false;
}

/* Finished-at of a status's last termination, -1 if none. */
static time_t last_terminated(struct json_object *cs)
{
    struct json_object *t = ju_obj(ju_obj(cs, "lastState"), "terminated");
    if (!t)
        return -1;
    return print_parse_time(ju_str(t, "finishedAt"));
}

static bool init_restartable(struct json_object *spec, const char *name)
{
    struct json_object *ics = ju_arr(spec, "initContainers");
    for (size_t i = 0; name && i < ju_len(ics) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *c = ju_idx_obj(ics, i);
        const char *n = ju_str(c, "name"), *rp = ju_str(c, "restartPolicy");
        if (n && strcmp(n, name) == 0)
            return rp && strcmp(rp, "Always") == 0;
    }
    return false;
}

static void pod_cells(struct json_object *obj, struct json_object *cells,
                      time_t now)
{
    struct json_object *md = ju_obj(obj, "metadata");
    struct json_object *spec = ju_obj(obj, "spec");
    struct json_object *st = ju_obj(obj, "status");
    struct json_object *conds = ju_arr(st, "conditions");
    char reason[256], buf[128];
    long long restarts = 0, sidecar_restarts = 0;
    long long total = (long long)ju_len(ju_arr(spec, "containers")), ready = 0;
    time_t last_restart = -1, sidecar_last = -1;
    const char *phase = ju_str(st, "phase");

    snprintf(reason, sizeof(reason), "%s", phase ? phase : "");
    if (ju_str(st, "reason") && ju_str(st, "reason")[0])
        snprintf(reason, sizeof(reason), "%s", ju_str(st, "reason"));
    for (size_t i = 0; i < ju_len(conds) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *c = ju_idx_obj(conds, i);
        const char *t = ju_str(c, "type"), *r = ju_str(c, "reason");
        if (t && r && strcmp(t, "PodScheduled") == 0 &&
            strcmp(r, "SchedulingGated") == 0)
            snprintf(reason, sizeof(reason), "SchedulingGated");
    }

    struct json_object *ics = ju_arr(spec, "initContainers");
    for (size_t i = 0; i < ju_len(ics) && i < VALIDATE_MAX_ITEMS; i++) {
        const char *rp = ju_str(ju_idx_obj(ics, i), "restartPolicy");
        if (rp && strcmp(rp, "Always") == 0)
            total++;
    }

    bool initializing = false;
    struct json_object *iss = ju_arr(st, "initContainerStatuses");
    size_t nics = ju_len(ics);
    for (size_t i = 0; i < ju_len(iss) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *cs = ju_idx_obj(iss, i);
        struct json_object *state = ju_obj(cs, "state");
        struct json_object *term = ju_obj(state, "terminated");
        struct json_object *wait = ju_obj(state, "waiting");
        int64_t rc = 0, code = 0, sig = 0;
        bool started = false, cready = false;
        ju_int(cs, "restartCount", &rc);
        restarts += rc;
        time_t lt = last_terminated(cs);
        if (lt > last_restart)
            last_restart = lt;
        bool sidecar = init_restartable(spec, ju_str(cs, "name"));
        if (sidecar) {
            sidecar_restarts += rc;
            if (lt > sidecar_last)
                sidecar_last = lt;
        }
        ju_int(term, "exitCode", &code);
        ju_int(term, "signal", &sig);
        ju_bool(cs, "started", &started);
        ju_bool(cs, "ready", &cready);
        const char *tr = ju_str(term, "reason");
        const char *wr = ju_str(wait, "reason");
        if (term && code == 0)
            continue;
        if (sidecar && started) {
            if (cready)
                ready++;
            continue;
        }
        if (term) {
            if (!tr || !tr[0]) {
                if (sig != 0)
                    snprintf(reason, sizeof(reason), "Init:Signal:%lld",
                             (long long)sig);
                else
                    snprintf(reason, sizeof(reason), "Init:ExitCode:%lld",
                             (long long)code);
            } else {
                snprintf(reason, sizeof(reason), "Init:%s", tr);
            }
        } else if (wr && wr[0] && strcmp(wr, "PodInitializing") != 0) {
            snprintf(reason, sizeof(reason), "Init:%s", wr);
        } else {
            snprintf(reason, sizeof(reason), "Init:%zu/%zu", i, nics);
        }
        initializing = true;
        break;
    }

    if (!initializing || cond_true(conds, "Initialized")) {
        restarts = sidecar_restarts;
        last_restart = sidecar_last;
        bool has_running = false;
        struct json_object *css = ju_arr(st, "containerStatuses");
        size_t n = ju_len(css);
        if (n > VALIDATE_MAX_ITEMS)
            n = VALIDATE_MAX_ITEMS;
        for (size_t k = n; k-- > 0;) {
            struct json_object *cs = ju_idx_obj(css, k);
            struct json_object *state = ju_obj(cs, "state");
            struct json_object *term = ju_obj(state, "terminated");
            struct json_object *wait = ju_obj(state, "waiting");
            int64_t rc = 0, code = 0, sig = 0;
            bool cready = false;
            ju_int(cs, "restartCount", &rc);
            restarts += rc;
            time_t lt = last_terminated(cs);
            if (lt > last_restart)
                last_restart = lt;
            ju_bool(cs, "ready", &cready);
            const char *wr = ju_str(wait, "reason");
            const char *tr = ju_str(term, "reason");
            if (wait && wr && wr[0]) {
                snprintf(reason, sizeof(reason), "%s", wr);
            } else if (term && tr && tr[0]) {
                snprintf(reason, sizeof(reason), "%s", tr);
            } else if (term) {
                ju_int(term, "exitCode", &code);
                ju_int(term, "signal", &sig);
                if (sig != 0)
                    snprintf(reason, sizeof(reason), "Signal:%lld",
                             (long long)sig);
                else
                    snprintf(reason, sizeof(reason), "ExitCode:%lld",
                             (long long)code);
            } else if (cready && ju_obj(state, "running")) {
                has_running = true;
                ready++;
            }
        }
        if (strcmp(reason, "Completed") == 0 && has_running)
            snprintf(reason, sizeof(reason), "%s",
                     cond_true(conds, "Ready") ? "Running" : "NotReady");
    }

    bool deleting = ju_str(md, "deletionTimestamp") != NULL;
    const char *sreason = ju_str(st, "reason");
    bool terminal = phase && (strcmp(phase, "Succeeded") == 0 ||
                              strcmp(phase, "Failed") == 0);
    if (deleting && sreason && strcmp(sreason, "NodeLost") == 0)
        snprintf(reason, sizeof(reason), "Unknown");
    else if (deleting && !terminal)
        snprintf(reason, sizeof(reason), "Terminating");

    print_cell_str(cells, ju_str(md, "name"));
    snprintf(buf, sizeof(buf), "%lld/%lld", ready, total);
    print_cell_str(cells, buf);
    print_cell_str(cells, reason);
    if (restarts != 0 && last_restart != (time_t)-1) {
        char ago[64];
        print_duration(ago, sizeof(ago),
                       (long long)now - (long long)last_restart);
        snprintf(buf, sizeof(buf), "%lld (%s ago)", restarts, ago);
    } else {
        snprintf(buf, sizeof(buf), "%lld", restarts);
    }
    print_cell_str(cells, buf);
    print_age(buf, sizeof(buf), obj, now);
    print_cell_str(cells, buf);

    const char *ip = ju_str(ju_idx_obj(ju_arr(st, "podIPs"), 0), "ip");
    if (!ip || !ip[0])
        ip = ju_str(st, "podIP");
    const char *node = ju_str(spec, "nodeName");
    const char *nom = ju_str(st, "nominatedNodeName");
    print_cell_str(cells, ip && ip[0] ? ip : "<none>");
    print_cell_str(cells, node && node[0] ? node : "<none>");
    print_cell_str(cells, nom && nom[0] ? nom : "<none>");
    struct json_object *gates = ju_arr(spec, "readinessGates");
    if (ju_len(gates) == 0) {
        print_cell_str(cells, "<none>");
        return;
    }
    long long ok = 0;
    for (size_t g = 0; g < ju_len(gates) && g < VALIDATE_MAX_ITEMS; g++) {
        const char *ct = ju_str(ju_idx_obj(gates, g), "conditionType");
        for (size_t i = 0; ct && i < ju_len(conds) && i < VALIDATE_MAX_ITEMS;
             i++) {
            struct json_object *c = ju_idx_obj(conds, i);
            const char *t = ju_str(c, "type");
            if (t && strcmp(t, ct) == 0) {
                const char *s = ju_str(c, "status");
                if (s && strcmp(s, "True") == 0)
                    ok++;
                break;
            }
        }
    }
    snprintf(buf, sizeof(buf), "%lld/%zu", ok, ju_len(gates));
    print_cell_str(cells, buf);
}

/* ---- Create and defaults ---- */

/* SetDefaults_Pod: a container's limits become its requests where no
 * request is given. */
static void requests_from_limits(struct json_object *arr)
{
    for (size_t i = 0; i < ju_len(arr) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *res = ju_obj(ju_idx_obj(arr, i), "resources");
        struct json_object *lim = ju_obj(res, "limits");
        if (!lim)
            continue;
        if (!ju_has(res, "requests"))
            ju_obj_ensure(res, "requests");
        struct json_object *req = ju_obj(res, "requests");
        if (!req)
            continue;
        json_object_object_foreach(lim, k, v)
        {
            if (!ju_has(req, k) && v)
                json_object_object_add(req, k, json_object_get(v));
        }
    }
}

static void pod_prepare_create(struct json_object *obj)
{
    if (!json_object_is_type(obj, json_type_object))
        return;
    struct json_object *spec = ju_obj(obj, "spec");
    struct json_object *st = json_object_new_object();
    json_object_object_add(st, "phase", json_object_new_string("Pending"));
    json_object_object_add(st, "qosClass",
                           json_object_new_string(pod_qos_class(spec)));
    if (ju_len(ju_arr(spec, "schedulingGates")) > 0) {
        struct json_object *conds = json_object_new_array();
        struct json_object *c = json_object_new_object();
        ju_set_str(c, "type", "PodScheduled");
        ju_set_str(c, "status", "False");
        json_object_object_add(c, "lastProbeTime", NULL);
        ju_set_str(c, "reason", "SchedulingGated");
        ju_set_str(c, "message",
                   "Scheduling is blocked due to non-empty scheduling gates");
        json_object_array_add(conds, c);
        json_object_object_add(st, "conditions", conds);
    }
    json_object_object_add(obj, "status", st);
}

/* Container ports of a host-network pod default hostPort to
 * containerPort. */
static void host_network_ports(struct json_object *arr)
{
    for (size_t i = 0; i < ju_len(arr) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *ports = ju_arr(ju_idx_obj(arr, i), "ports");
        for (size_t p = 0; p < ju_len(ports) && p < VALIDATE_MAX_ITEMS; p++) {
            struct json_object *port = ju_idx_obj(ports, p);
            int64_t cp;
            if (!ju_has(port, "hostPort") && ju_int(port, "containerPort", &cp))
                ju_set_int(port, "hostPort", cp);
        }
    }
}

static void pod_defaults(struct json_object *obj)
{
    if (!ju_has(obj, "spec"))
        ju_obj_ensure(obj, "spec");
    struct json_object *spec = ju_obj(obj, "spec");
    if (!spec)
        return;
    pod_spec_defaults(spec);
    requests_from_limits(ju_arr(spec, "containers"));
    requests_from_limits(ju_arr(spec, "initContainers"));
    ju_default_bool(spec, "enableServiceLinks", true);
    bool hn = false;
    if (ju_bool(spec, "hostNetwork", &hn) && hn) {
        host_network_ports(ju_arr(spec, "containers"));
        host_network_ports(ju_arr(spec, "initContainers"));
    }
    /* What the ServiceAccount and Priority admission plugins add. */
    const char *sa = ju_str(spec, "serviceAccountName");
    if (!sa || !sa[0]) {
        const char *dep = ju_str(spec, "serviceAccount");
        ju_set_str(spec, "serviceAccountName", dep && dep[0] ? dep : "default");
    }
    if (!ju_str(spec, "serviceAccount") && !ju_has(spec, "serviceAccount"))
        ju_set_str(spec, "serviceAccount", ju_str(spec, "serviceAccountName"));
    ju_default_int(spec, "priority", 0);
    ju_default_str(spec, "preemptionPolicy", "PreemptLowerPriority");
}

/* ---- Validation ---- */

#define POD_UPDATE_MSG                                                         \
    "pod updates may not change fields other than "                            \
    "`spec.containers[*].image`,`spec.initContainers[*].image`,"               \
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "      \
    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it "    \
    "to be set to 1 if it was previously negative)"

/* Images may change; returns true when validation must stop. */
static bool container_updates(struct json_object *nspec,
                              struct json_object *ospec, const char *key,
                              struct ferr *e)
{
    char path[64], p[VALIDATE_PATH_MAX], f[VALIDATE_PATH_MAX];
    struct json_object *na = ju_arr(nspec, key), *oa = ju_arr(ospec, key);
    snprintf(path, sizeof(path), "spec.%s", key);
    if (ju_len(na) != ju_len(oa)) {
        ferr_forbidden(e, path, "pod updates may not add or remove containers");
        return true;
    }
    for (size_t i = 0; i < ju_len(na) && i < VALIDATE_MAX_ITEMS; i++) {
        struct json_object *c = ju_idx_obj(na, i);
        const char *img = ju_str(c, "image");
        vpath_child(f, sizeof(f), vpath_index(p, sizeof(p), path, i), "image");
        if (!img || !img[0]) {
            /* pod_spec_validate already reported a missing image. */
            continue;
        }
        size_t n = strlen(img);
        if (img[0] == ' ' || img[0] == '\t' || img[0] == '\n' ||
            img[n - 1] == ' ' || img[n - 1] == '\t' || img[n - 1] == '\n')
            validate_invalid_str(e, f, img,
                                 "must not have leading or trailing "
                                 "whitespace");
    }
    return false;
}

/* Tolerations equal except for tolerationSeconds. */
static bool toleration_same(struct json_object *a, struct json_object *b)
{
    static const char *const keys[] = {"key", "operator", "value", "effect"};
    for (int i = 0; i < 4; i++) {
        const char *x = ju_str(a, keys[i]), *y = ju_str(b, keys[i]);
        if (strcmp(x ? x : "", y ? y : "") != 0)
            return false;
    }
    return true;
}

static void pod_validate_update(struct json_object *obj,
                                struct json_object *old, struct ferr *e)
{
    struct json_object *nspec = ju_obj(obj, "spec");
    struct json_object *ospec = ju_obj(old, "spec");
    if (!nspec || !ospec)
        return;
    if (container_updates(nspec, ospec, "containers", e))
        return;
    if (container_updates(nspec, ospec, "initContainers", e))
        return;

    int64_t nads, oads;
    bool has_n = ju_int(nspec, "activeDeadlineSeconds", &nads);
    bool has_o = ju_int(ospec, "activeDeadlineSeconds", &oads);
    if (has_n) {
        if (nads < 0 || nads > 2147483647) {
            validate_invalid_int(e, "spec.activeDeadlineSeconds", nads,
                                 "must be between 0 and 2147483647, "
                                 "inclusive");
            return;
        }
        if (has_o && oads < nads) {
            validate_invalid_int(e, "spec.activeDeadlineSeconds", nads,
                                 "must be less than or equal to previous "
                                 "value");
            return;
        }
    } else if (has_o) {
        ferr_add(e, FERR_INVALID, "spec.activeDeadlineSeconds", NULL,
                 "must not update from a positive integer to nil value");
    }

    struct json_object *nt = ju_arr(nspec, "tolerations");
    struct json_object *ot = ju_arr(ospec, "tolerations");
    for (size_t i = 0; i < ju_len(ot) && i < VALIDATE_MAX_ITEMS; i++) {
        bool found = false;
        for (size_t k = 0; !found && k < ju_len(nt) && k < VALIDATE_MAX_ITEMS;
             k++)
            found = toleration_same(ju_idx_obj(ot, i), ju_idx_obj(nt, k));
        if (!found) {
            ferr_forbidden(e, "spec.tolerations",
                           "existing toleration can not be modified except "
                           "its tolerationSeconds");
            break;
        }
    }

    struct json_object *ng = ju_arr(nspec, "schedulingGates");
    struct json_object *og = ju_arr(ospec, "schedulingGates");
    for (size_t i = 0; i < ju_len(ng) && i < VALIDATE_MAX_ITEMS; i++) {
        const char *name = ju_str(ju_idx_obj(ng, i), "name");
        bool found = false;
        for (size_t k = 0; !found && k < ju_len(og) && k < VALIDATE_MAX_ITEMS;
             k++) {
            const char *o = ju_str(ju_idx_obj(og, k), "name");
            found = o && name && strcmp(o, name) == 0;
        }
        if (!found) {
            char msg[512];
            snprintf(msg, sizeof(msg),
                     "only deletion is allowed, but found new scheduling "
                     "gate '%s'",
                     name ? name : "");
            ferr_forbidden(e, "spec.schedulingGates", msg);
            break;
        }
    }

    if (json_object_equal(nspec, ospec))
        return;
    /* Compare with the updatable fields taken from the old spec. */
    struct json_object *m = NULL;
    if (json_object_deep_copy(nspec, &m, NULL) != 0 || !m)
        return;
    static const char *const lists[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        struct json_object *ma = ju_arr(m, lists[l]);
        struct json_object *oa = ju_arr(ospec, lists[l]);
        for (size_t i = 0; i < ju_len(ma) && i < ju_len(oa); i++) {
            struct json_object *mc = ju_idx_obj(ma, i);
            struct json_object *oc = ju_idx_obj(oa, i);
            struct json_object *img = NULL;
            if (!mc || !oc)
                continue;
            if (json_object_object_get_ex(oc, "image", &img) && img)
                json_object_object_add(mc, "image", json_object_get(img));
            else
                json_object_object_del(mc, "image");
        }
    }
    static const char *const copied[] = {"activeDeadlineSeconds", "tolerations",
                                         "schedulingGates"};
    for (int i = 0; i < 3; i++) {
        struct json_object *v = NULL;
        if (json_object_object_get_ex(ospec, copied[i], &v) && v)
            json_object_object_add(m, copied[i], json_object_get(v));
        else
            json_object_object_del(m, copied[i]);
    }
    int64_t og_tgps, ng_tgps;
    if (ju_int(ospec, "terminationGracePeriodSeconds", &og_tgps) &&
        og_tgps < 0 && ju_int(m, "terminationGracePeriodSeconds", &ng_tgps) &&
        ng_tgps == 1)
        ju_set_int(m, "terminationGracePeriodSeconds", og_tgps);
    if (!json_object_equal(m, ospec))
        ferr_forbidden(e, "spec", POD_UPDATE_MSG);
    json_object_put(m);
}

static void pod_validate(struct json_object *obj, struct json_object *old,
                         struct ferr *errs)
{
    struct json_object *spec = NULL;
    if (!json_object_object_get_ex(obj, "spec", &spec) || !spec) {
        struct json_object *empty = json_object_new_object();
        pod_spec_validate(empty, "spec", errs);
        json_object_put(empty);
        return;
    }
    pod_spec_validate(spec, "spec", errs);
    validate_opt_obj(obj, "status", "", errs);
    if (!old) {
        if (ju_len(ju_arr(spec, "ephemeralContainers")) > 0)
            ferr_forbidden(errs, "spec.ephemeralContainers",
                           "cannot be set on create");
        return;
    }
    pod_validate_update(obj, old, errs);
}

const struct resource_type rt_pods = {
    .group = "",
    .version = "v1",
    .resource = "pods",
    .singular = "pod",
    .kind = "Pod",
    .namespaced = true,
    .short_names = {"po", NULL},
    .in_all = true,
    .name_rule = NAME_SUBDOMAIN,
    .has_generation = false,
    .has_status = true,
    .has_scale = false,
    .has_binding = true,
    .field_selectors = pod_field_selectors,
    .columns = pod_columns,
    .ncolumns = sizeof(pod_columns) / sizeof(pod_columns[0]),
    .table_cells = pod_cells,
    .prepare_create = pod_prepare_create,
    .defaults = pod_defaults,
    .validate = pod_validate,
};
