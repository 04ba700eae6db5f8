/*
 * Jobs (batch/v1): defaults from batch/v1 SetDefaults_Job plus the
 * generated selector (controller-uid labels), validation of create and
 * update with Kubernetes 1.32's texts, and the printer columns of
 * `kubectl get jobs`.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"
#include "resources/resource.h"
#include "resources/workload.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_LABEL_UID_LEGACY "controller-uid"
#define JOB_LABEL_NAME_LEGACY "job-name"
#define JOB_LABEL_UID "batch.kubernetes.io/controller-uid"
#define JOB_LABEL_NAME "batch.kubernetes.io/job-name"

/* Limits from pkg/apis/batch/validation. */
#define JOB_MAX_PARALLELISM_INDEXED 100000
#define JOB_MAX_FAILED_INDEXES 100000
#define JOB_COMPLETIONS_SOFT_LIMIT 100000
#define JOB_PARALLELISM_LIMIT_HIGH_COMPLETIONS 10000
#define JOB_MAX_FAILED_INDEXES_HIGH_COMPLETIONS 10000
#define JOB_MAX_POD_FAILURE_RULES 20
#define JOB_MAX_EXIT_CODE_VALUES 255
#define JOB_MAX_POD_CONDITION_PATTERNS 20
#define JOB_MAX_MANAGED_BY_BYTES 63
#define JOB_MAX_SUCCEEDED_INDEXES_BYTES (64 * 1024)
#define JOB_MAX_SUCCESS_RULES 20
/* Most list entries walked one by one; past the limits above an error is
 * already reported, so the rest need not be looked at. */
#define JOB_MAX_WALK 1024

static const struct table_column job_columns[] = {
    {"Name", "string", "name", WL_DESC_NAME, 0},
    {"Status", "string", "", "Status of the job.", 0},
    {"Completions", "string", "",
     "The number of pods which reached phase Succeeded. The value increases "
     "monotonically for a given spec. However, it may decrease in reaction "
     "to scale down of elastic indexed jobs.",
     0},
    {"Duration", "string", "", "Time required to complete the job.", 0},
    {"Age", "string", "", WL_DESC_AGE, 0},
    {"Containers", "string", "", WL_DESC_CONTAINERS, 1},
    {"Images", "string", "", WL_DESC_IMAGES, 1},
    {"Selector", "string", "",
     "A label query over pods that should match the pod count. Normally, the "
     "system sets this field for you. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
     "labels/#label-selectors",
     1},
};

/* hasJobCondition: the status of the first condition of `type` is True. */
static bool job_condition(struct json_object *obj, const char *type)
{
    struct json_object *conds = ju_arr(ju_obj(obj, "status"), "conditions");
    size_t n = conds ? json_object_array_length(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *t = ju_str(c, "type");
        if (t && !strcmp(t, type)) {
            const char *s = ju_str(c, "status");
            return s && !strcmp(s, "True");
        }
    }
    return false;
}

/* printJob. */
static void job_cells(struct json_object *obj, struct json_object *cells,
                      time_t now)
{
    struct json_object *spec = ju_obj(obj, "spec");
    struct json_object *status = ju_obj(obj, "status");
    const char *st, *start_s, *end_s;
    char completions[96], duration[64] = "";
    int64_t succeeded = wl_int_path(obj, "status.succeeded"), c, par = 0;

    wl_cell_name(obj, cells);
    if (job_condition(obj, "Complete"))
        st = "Complete";
    else if (job_condition(obj, "Failed"))
        st = "Failed";
    else if (wl_get(ju_obj(obj, "metadata"), "deletionTimestamp"))
        st = "Terminating";
    else if (job_condition(obj, "Suspended"))
        st = "Suspended";
    else if (job_condition(obj, "FailureTarget"))
        st = "FailureTarget";
    else
        st = "Running";
    print_cell_str(cells, st);

    if (ju_int(spec, "completions", &c)) {
        snprintf(completions, sizeof(completions), "%lld/%lld",
                 (long long)succeeded, (long long)c);
    } else {
        ju_int(spec, "parallelism", &par);
        if (par > 1)
            snprintf(completions, sizeof(completions), "%lld/1 of %lld",
                     (long long)succeeded, (long long)par);
        else
            snprintf(completions, sizeof(completions), "%lld/1",
                     (long long)succeeded);
    }
    print_cell_str(cells, completions);

    start_s = ju_str(status, "startTime");
    end_s = ju_str(status, "completionTime");
    if (start_s) {
        time_t start = print_parse_time(start_s);
        time_t end = end_s ? print_parse_time(end_s) : now;
        if (start >= 0 && end >= 0)
            print_duration(duration, sizeof(duration),
                           (long long)(end - start));
    }
    print_cell_str(cells, duration);
    wl_cell_age(obj, cells, now);
    wl_cells_containers(ju_obj(spec, "template"), cells);
    wl_cell_selector(wl_get(spec, "selector"), cells);
}

static void set_label_if_absent(struct json_object *labels, const char *key,
                                const char *value)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(labels, key, &v))
        ju_set_str(labels, key, value);
}

/*
 * generateSelector: the template gets job-name and controller-uid labels
 * (legacy and batch.kubernetes.io/ forms) unless set, and the selector
 * matches batch.kubernetes.io/controller-uid. Needs metadata.uid.
 */
static void job_generate_selector(struct json_object *obj,
                                  struct json_object *spec)
{
    struct json_object *meta = ju_obj(obj, "metadata");
    const char *uid = ju_str(meta, "uid"), *name = ju_str(meta, "name");
    struct json_object *labels, *sel, *ml;

    if (!uid || !uid[0])
        return;
    if (!name)
        name = "";
    labels = wl_ensure_obj(
        wl_ensure_obj(wl_ensure_obj(spec, "template"), "metadata"), "labels");
    if (labels) {
        set_label_if_absent(labels, JOB_LABEL_NAME_LEGACY, name);
        set_label_if_absent(labels, JOB_LABEL_NAME, name);
        set_label_if_absent(labels, JOB_LABEL_UID_LEGACY, uid);
        set_label_if_absent(labels, JOB_LABEL_UID, uid);
    }
    sel = wl_ensure_obj(spec, "selector");
    ml = wl_ensure_obj(sel, "matchLabels");
    if (ml)
        set_label_if_absent(ml, JOB_LABEL_UID, uid);
}

/* SetDefaults_Job, the generated selector, and the template's defaults. */
static void job_defaults(struct json_object *obj)
{
    struct json_object *spec = wl_ensure_obj(obj, "spec");
    struct json_object *tlabels, *meta, *pfp;
    bool share_labels = false, manual = false;

    if (!spec)
        return;
    if (!wl_get(spec, "completions") && !wl_get(spec, "parallelism")) {
        ju_set_int(spec, "completions", 1);
        ju_set_int(spec, "parallelism", 1);
    }
    ju_default_int(spec, "parallelism", 1);
    ju_default_int(spec, "backoffLimit",
                   wl_get(spec, "backoffLimitPerIndex") ? INT32_MAX : 6);

    /* The job takes its template's labels when it has none; in Kubernetes
     * both share one map, so the generated labels below land in both. */
    tlabels = ju_obj(ju_obj(ju_obj(spec, "template"), "metadata"), "labels");
    meta = ju_obj(obj, "metadata");
    if (tlabels && meta) {
        struct json_object *jl = wl_get(meta, "labels");
        share_labels = !jl || (json_object_is_type(jl, json_type_object) &&
                               json_object_object_length(jl) == 0);
    }

    ju_default_str(spec, "completionMode", "NonIndexed");
    ju_default_bool(spec, "suspend", false);
    pfp = ju_obj(spec, "podFailurePolicy");
    if (pfp) {
        struct json_object *rules = ju_arr(pfp, "rules");
        size_t n = rules ? json_object_array_length(rules) : 0;
        for (size_t i = 0; i < n && i < JOB_MAX_WALK; i++) {
            struct json_object *pats =
                ju_arr(json_object_array_get_idx(rules, i), "onPodConditions");
            size_t m = pats ? json_object_array_length(pats) : 0;
            for (size_t j = 0; j < m && j < JOB_MAX_WALK; j++) {
                struct json_object *p = json_object_array_get_idx(pats, j);
                const char *s = ju_str(p, "status");
                if (!wl_get(p, "status") || (s && !s[0]))
                    ju_set_str(p, "status", "True");
            }
        }
    }
    ju_default_str(spec, "podReplacementPolicy",
                   wl_get(spec, "podFailurePolicy") ? "Failed"
                                                    : "TerminatingOrFailed");
    ju_default_bool(spec, "manualSelector", false);

    if (ju_bool(spec, "manualSelector", &manual) && !manual)
        job_generate_selector(obj, spec);
    tlabels = ju_obj(ju_obj(ju_obj(spec, "template"), "metadata"), "labels");
    if (share_labels && tlabels) {
        struct json_object *copy = NULL;
        if (json_object_deep_copy(tlabels, &copy, NULL) == 0 && copy &&
            json_object_object_add(meta, "labels", copy) != 0)
            json_object_put(copy);
    }
    wl_template_defaults(spec);
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */

static void err_str(struct ferr *errs, enum ferr_type type, const char *path,
                    const char *value, const char *detail)
{
    struct json_object *v = json_object_new_string(value ? value : "");
    if (detail)
        ferr_add(errs, type, path, v, "%s", detail);
    else
        ferr_add(errs, type, path, v, NULL);
    json_object_put(v);
}

static void err_too_many(struct ferr *errs, const char *path, size_t n, int max)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "Too many: %zu: must have at most %d items", n,
             max);
    wl_err_text(errs, FERR_INVALID, path, msg);
}

/* ValidateHasLabel on the template's labels. */
static void has_label(struct json_object *labels, const char *key,
                      const char *expected, struct ferr *errs)
{
    char path[512], detail[512];
    const char *v;

    snprintf(path, sizeof(path), "spec.template.metadata.labels[%s]", key);
    snprintf(detail, sizeof(detail), "must be '%s'", expected);
    if (!wl_get(labels, key)) {
        ferr_add(errs, FERR_REQUIRED, path, NULL, "%s", detail);
        return;
    }
    v = ju_str(labels, key);
    if (!v || strcmp(v, expected) != 0) {
        struct buf b;
        buf_init(&b, 0);
        wl_go_string_map(&b, labels);
        wl_err_repr(errs, FERR_INVALID, path, b.data, detail);
        buf_free(&b);
    }
}

/* validateGeneratedSelector. */
static void validate_generated_selector(struct json_object *obj,
                                        struct json_object *spec, bool prefixed,
                                        struct ferr *errs)
{
    struct json_object *meta = ju_obj(obj, "metadata");
    struct json_object *sel = wl_get(spec, "selector");
    struct json_object *labels, *expected;
    struct label_selector *ls;
    const char *uid, *name;
    bool manual = false;

    if ((ju_bool(spec, "manualSelector", &manual) && manual) || !sel)
        return;
    uid = ju_str(meta, "uid");
    name = ju_str(meta, "name");
    if (!uid)
        uid = "";
    if (!name)
        name = "";
    if (!uid[0])
        ferr_required(errs, "metadata.uid");
    labels = ju_obj(ju_obj(ju_obj(spec, "template"), "metadata"), "labels");
    has_label(labels, JOB_LABEL_UID_LEGACY, uid, errs);
    has_label(labels, JOB_LABEL_NAME_LEGACY, name, errs);
    expected = json_object_new_object();
    if (!expected)
        return;
    if (prefixed) {
        has_label(labels, JOB_LABEL_UID, uid, errs);
        has_label(labels, JOB_LABEL_NAME, name, errs);
        ju_set_str(expected, JOB_LABEL_UID, uid);
        ju_set_str(expected, JOB_LABEL_NAME, name);
    }
    ju_set_str(expected, JOB_LABEL_UID_LEGACY, uid);
    ju_set_str(expected, JOB_LABEL_NAME_LEGACY, name);
    ls = wl_selector_compile(sel);
    if (ls && !label_selector_matches(ls, expected)) {
        struct buf b;
        buf_init(&b, 0);
        wl_go_label_selector(&b, sel);
        wl_err_repr(errs, FERR_INVALID, "spec.selector", b.data,
                    "`selector` not auto-generated");
        buf_free(&b);
    }
    label_selector_free(ls);
    json_object_put(expected);
}

/* Go's "%q" of a []string, as in `valid values: ["In" "NotIn"]`. */
static void valid_values(char *out, size_t len, const char *const *vals)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "valid values: [");
    for (size_t i = 0; vals[i]; i++) {
        if (i)
            buf_puts(&b, " ");
        wl_go_quote(&b, vals[i]);
    }
    buf_puts(&b, "]");
    snprintf(out, len, "%s", b.data ? b.data : "");
    buf_free(&b);
}

static bool in_list(const char *s, const char *const *vals)
{
    for (size_t i = 0; s && vals[i]; i++)
        if (!strcmp(s, vals[i]))
            return true;
    return false;
}

/* "supported values: "a", "b"" for a NULL-terminated list. */
static void supported_values(char *out, size_t len, const char *const *vals)
{
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "supported values: ");
    for (size_t i = 0; vals[i]; i++) {
        if (i)
            buf_puts(&b, ", ");
        wl_go_quote(&b, vals[i]);
    }
    snprintf(out, len, "%s", b.data ? b.data : "");
    buf_free(&b);
}

/* A required enum string at `path`: "" is Required with the valid values,
 * anything else outside `vals` NotSupported. */
static void check_enum(struct json_object *o, const char *key, const char *path,
                       const char *const *vals, struct ferr *errs)
{
    char detail[256];
    const char *v = wl_str(o, key, path, errs);

    if (!v && wl_get(o, key))
        return;
    if (!v || !v[0]) {
        valid_values(detail, sizeof(detail), vals);
        ferr_add(errs, FERR_REQUIRED, path, NULL, "%s", detail);
    } else if (!in_list(v, vals)) {
        supported_values(detail, sizeof(detail), vals);
        err_str(errs, FERR_NOT_SUPPORTED, path, v, detail);
    }
}

static bool name_in_containers(struct json_object *tspec, const char *name)
{
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        struct json_object *cs = ju_arr(tspec, lists[l]);
        size_t n = cs ? json_object_array_length(cs) : 0;
        for (size_t i = 0; i < n; i++) {
            const char *cn = ju_str(json_object_array_get_idx(cs, i), "name");
            if (cn && !strcmp(cn, name))
                return true;
        }
    }
    return false;
}

static void go_int32_slice(struct buf *b, struct json_object *arr)
{
    size_t n = json_object_array_length(arr);
    buf_puts(b, "[]int32{");
    for (size_t i = 0; i < n; i++) {
        int64_t v = 0;
        struct json_object *e = json_object_array_get_idx(arr, i);
        if (e && json_object_is_type(e, json_type_int))
            v = json_object_get_int64(e);
        buf_printf(b, "%s%lld", i ? ", " : "", (long long)v);
    }
    buf_puts(b, "}");
}

static void validate_on_exit_codes(struct json_object *oec, const char *base,
                                   struct json_object *tspec, struct ferr *errs)
{
    static const char *const ops[] = {"In", "NotIn", NULL};
    char path[600], vpath[640];
    struct json_object *values;
    const char *op, *cn;
    size_t n;
    bool ordered = true;
    int64_t prev = 0;

    snprintf(path, sizeof(path), "%s.operator", base);
    check_enum(oec, "operator", path, ops, errs);
    op = ju_str(oec, "operator");
    snprintf(path, sizeof(path), "%s.containerName", base);
    cn = wl_str(oec, "containerName", path, errs);
    if (cn && !name_in_containers(tspec, cn))
        err_str(errs, FERR_INVALID, path, cn,
                "must be one of the container or initContainer names in the "
                "pod template");
    snprintf(path, sizeof(path), "%s.values", base);
    values = wl_arr(oec, "values", path, errs);
    if (!values && wl_get(oec, "values"))
        return;
    n = values ? json_object_array_length(values) : 0;
    if (n == 0) {
        wl_err_repr(errs, FERR_INVALID, path,
                    values ? "[]int32{}" : "[]int32(nil)",
                    "at least one value is required");
    } else if (n > JOB_MAX_EXIT_CODE_VALUES) {
        err_too_many(errs, path, n, JOB_MAX_EXIT_CODE_VALUES);
    }
    for (size_t j = 0; j < n && j < JOB_MAX_WALK; j++) {
        struct json_object *e = json_object_array_get_idx(values, j);
        int64_t v;
        snprintf(vpath, sizeof(vpath), "%s[%zu]", path, j);
        if (!e || !json_object_is_type(e, json_type_int)) {
            wl_err_type(errs, vpath, e, "integer");
            continue;
        }
        v = json_object_get_int64(e);
        if (op && !strcmp(op, "In") && v == 0)
            wl_err_int(errs, vpath, v, "must not be 0 for the In operator");
        for (size_t k = 0; k < j; k++) {
            struct json_object *o = json_object_array_get_idx(values, k);
            if (o && json_object_is_type(o, json_type_int) &&
                json_object_get_int64(o) == v) {
                ferr_add(errs, FERR_DUPLICATE, vpath, e, NULL);
                break;
            }
        }
        if (j > 0 && prev > v)
            ordered = false;
        prev = v;
    }
    if (!ordered) {
        struct buf b;
        buf_init(&b, 0);
        go_int32_slice(&b, values);
        wl_err_repr(errs, FERR_INVALID, path, b.data, "must be ordered");
        buf_free(&b);
    }
}

static void validate_on_pod_conditions(struct json_object *pats,
                                       const char *base, struct ferr *errs)
{
    static const char *const statuses[] = {"False", "True", "Unknown", NULL};
    size_t n = json_object_array_length(pats);
    char path[640];

    if (n > JOB_MAX_POD_CONDITION_PATTERNS)
        err_too_many(errs, base, n, JOB_MAX_POD_CONDITION_PATTERNS);
    for (size_t j = 0; j < n && j < JOB_MAX_WALK; j++) {
        struct json_object *p = json_object_array_get_idx(pats, j);
        const char *type, *msg;
        snprintf(path, sizeof(path), "%s[%zu]", base, j);
        if (!p || !json_object_is_type(p, json_type_object)) {
            wl_err_type(errs, path, p, "object");
            continue;
        }
        snprintf(path, sizeof(path), "%s[%zu].type", base, j);
        type = wl_str(p, "type", path, errs);
        if (type || !wl_get(p, "type")) {
            msg = validate_qualified_name(type ? type : "");
            if (msg)
                err_str(errs, FERR_INVALID, path, type ? type : "", msg);
        }
        snprintf(path, sizeof(path), "%s[%zu].status", base, j);
        check_enum(p, "status", path, statuses, errs);
    }
}

/* validatePodFailurePolicy. */
static void validate_pod_failure_policy(struct json_object *spec,
                                        struct json_object *pfp,
                                        struct ferr *errs)
{
    static const char *const actions[] = {"Count", "FailIndex", "FailJob",
                                          "Ignore", NULL};
    const char *rpath = "spec.podFailurePolicy.rules";
    struct json_object *tspec = ju_obj(ju_obj(spec, "template"), "spec");
    struct json_object *rules = wl_arr(pfp, "rules", rpath, errs);
    size_t n = rules ? json_object_array_length(rules) : 0;
    char base[128], path[192], detail[256];

    if (n > JOB_MAX_POD_FAILURE_RULES)
        err_too_many(errs, rpath, n, JOB_MAX_POD_FAILURE_RULES);
    for (size_t i = 0; i < n && i < JOB_MAX_WALK; i++) {
        struct json_object *r = json_object_array_get_idx(rules, i);
        struct json_object *oec, *pats;
        const char *action;
        bool has_oec, has_pats;

        snprintf(base, sizeof(base), "%s[%zu]", rpath, i);
        if (!r || !json_object_is_type(r, json_type_object)) {
            wl_err_type(errs, base, r, "object");
            continue;
        }
        snprintf(path, sizeof(path), "%s.action", base);
        action = wl_str(r, "action", path, errs);
        if (!action && wl_get(r, "action")) {
            /* type error reported */
        } else if (!action || !action[0]) {
            valid_values(detail, sizeof(detail), actions);
            ferr_add(errs, FERR_REQUIRED, path, NULL, "%s", detail);
        } else if (!strcmp(action, "FailIndex")) {
            if (!wl_get(spec, "backoffLimitPerIndex"))
                err_str(errs, FERR_INVALID, path, action,
                        "requires the backoffLimitPerIndex to be set");
        } else if (!in_list(action, actions)) {
            supported_values(detail, sizeof(detail), actions);
            err_str(errs, FERR_NOT_SUPPORTED, path, action, detail);
        }
        snprintf(path, sizeof(path), "%s.onExitCodes", base);
        oec = wl_obj(r, "onExitCodes", path, errs);
        if (oec)
            validate_on_exit_codes(oec, path, tspec, errs);
        snprintf(path, sizeof(path), "%s.onPodConditions", base);
        pats = wl_arr(r, "onPodConditions", path, errs);
        if (pats && json_object_array_length(pats) > 0)
            validate_on_pod_conditions(pats, path, errs);
        has_oec = oec != NULL;
        has_pats = pats && json_object_array_length(pats) > 0;
        if (has_oec && has_pats)
            wl_err_text(errs, FERR_INVALID, base,
                        "Invalid value: specifying both OnExitCodes and "
                        "OnPodConditions is not supported");
        if (!has_oec && !has_pats)
            wl_err_text(errs, FERR_INVALID, base,
                        "Invalid value: specifying one of OnExitCodes and "
                        "OnPodConditions is required");
    }
}

/* Atoi of [start, end) of s; false unless all of it is [+-]digits. */
static bool atoi_span(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int64_t v = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 18)
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static void quote_span(struct buf *b, const char *s, size_t n)
{
    char *tmp = strndup(s, n);
    wl_go_quote(b, tmp ? tmp : "");
    free(tmp);
}

/*
 * validateIndexesFormat: "1,3-5,7" with increasing, non-overlapping
 * intervals below `completions`. Returns 0 and the number of indexes in
 * *total, or -1 with Kubernetes' message in err.
 */
static int parse_indexes_at(const char *s, int64_t completions, int64_t *total,
                            struct buf *err);

static int parse_indexes(const char *s, int64_t completions, int64_t *total,
                         struct buf *err)
{
    /* Like Kubernetes, a malformed list counts as zero indexes. */
    int rc = parse_indexes_at(s, completions, total, err);
    if (rc != 0)
        *total = 0;
    return rc;
}

static int parse_indexes_at(const char *s, int64_t completions, int64_t *total,
                            struct buf *err)
{
    const char *p = s;
    int64_t last = -1;
    bool have_last = false;

    *total = 0;
    if (!*s)
        return 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', n);
        int64_t x, y;

        if (dash && memchr(dash + 1, '-', n - (size_t)(dash + 1 - p))) {
            buf_puts(err, "the fragment ");
            quote_span(err, p, n);
            buf_puts(err, " violates the requirement that an index interval "
                          "can have at most two parts separated by '-'");
            return -1;
        }
        size_t n0 = dash ? (size_t)(dash - p) : n;
        if (!atoi_span(p, n0, &x)) {
            buf_puts(err, "cannot convert string to integer for index: ");
            quote_span(err, p, n0);
            return -1;
        }
        if (x >= completions) {
            buf_puts(err, "too large index: ");
            quote_span(err, p, n0);
            return -1;
        }
        y = x;
        if (dash) {
            size_t n1 = n - n0 - 1;
            if (!atoi_span(dash + 1, n1, &y)) {
                buf_puts(err, "cannot convert string to integer for index: ");
                quote_span(err, dash + 1, n1);
                return -1;
            }
            if (y >= completions) {
                buf_puts(err, "too large index: ");
                quote_span(err, dash + 1, n1);
                return -1;
            }
            if (x >= y) {
                buf_printf(err,
                           "non-increasing order, previous: %lld, current: "
                           "%lld",
                           (long long)x, (long long)y);
                return -1;
            }
        }
        if (have_last && last >= x) {
            buf_printf(err,
                       "non-increasing order, previous: %lld, current: %lld",
                       (long long)last, (long long)x);
            return -1;
        }
        *total += y - x + 1;
        last = y;
        have_last = true;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* validateSuccessPolicy (Indexed jobs only). */
static void validate_success_policy(struct json_object *sp, bool has_c,
                                    int64_t completions, struct ferr *errs)
{
    const char *rpath = "spec.successPolicy.rules";
    struct json_object *rules = wl_arr(sp, "rules", rpath, errs);
    size_t n = rules ? json_object_array_length(rules) : 0;
    char base[128], path[192], detail[192];

    if (!rules && wl_get(sp, "rules"))
        return;
    if (n == 0)
        ferr_add(errs, FERR_REQUIRED, rpath, NULL,
                 "at least one rules must be specified when the "
                 "successPolicy is specified");
    if (n > JOB_MAX_SUCCESS_RULES)
        err_too_many(errs, rpath, n, JOB_MAX_SUCCESS_RULES);
    for (size_t i = 0; i < n && i < JOB_MAX_WALK; i++) {
        struct json_object *r = json_object_array_get_idx(rules, i);
        const char *si;
        int64_t sc = 0, total = 0;
        bool has_sc;

        snprintf(base, sizeof(base), "%s[%zu]", rpath, i);
        if (!r || !json_object_is_type(r, json_type_object)) {
            wl_err_type(errs, base, r, "object");
            continue;
        }
        snprintf(path, sizeof(path), "%s.succeededIndexes", base);
        si = wl_str(r, "succeededIndexes", path, errs);
        snprintf(path, sizeof(path), "%s.succeededCount", base);
        has_sc = wl_int(r, "succeededCount", path, errs, &sc);
        if (!wl_get(r, "succeededCount") && !wl_get(r, "succeededIndexes"))
            ferr_add(errs, FERR_REQUIRED, base, NULL,
                     "at least one of succeededCount or succeededIndexes "
                     "must be specified");
        if (si) {
            snprintf(path, sizeof(path), "%s.succeededIndexes", base);
            if (strlen(si) > JOB_MAX_SUCCEEDED_INDEXES_BYTES)
                ferr_add(errs, FERR_TOO_LONG, path, NULL,
                         "must have at most %d bytes",
                         JOB_MAX_SUCCEEDED_INDEXES_BYTES);
            if (has_c) {
                struct buf e;
                buf_init(&e, 0);
                if (parse_indexes(si, completions, &total, &e) != 0)
                    ferr_add(errs, FERR_INVALID, path,
                             wl_get(r, "succeededIndexes"),
                             "error parsing succeededIndexes: %s",
                             e.data ? e.data : "");
                buf_free(&e);
            }
        }
        if (has_sc) {
            snprintf(path, sizeof(path), "%s.succeededCount", base);
            if (sc < 0)
                wl_err_int(errs, path, sc, WL_MSG_NONNEG);
            if (has_c && sc > completions) {
                snprintf(detail, sizeof(detail),
                         "must be less than or equal to %lld (the number of "
                         "specified completions)",
                         (long long)completions);
                wl_err_int(errs, path, sc, detail);
            }
            if (si && sc > total) {
                snprintf(detail, sizeof(detail),
                         "must be less than or equal to %lld (the number of "
                         "indexes in the specified succeededIndexes field)",
                         (long long)total);
                wl_err_int(errs, path, sc, detail);
            }
        }
    }
}

/* IsDomainPrefixedPath for spec.managedBy. */
static void validate_managed_by(const char *v, struct ferr *errs)
{
    const char *path = "spec.managedBy";
    const char *slash = strchr(v, '/');
    const char *msg;

    if (!v[0]) {
        ferr_required(errs, path);
    } else if (!slash || slash == v || !slash[1]) {
        err_str(errs, FERR_INVALID, path, v,
                "must be a domain-prefixed path (such as \"acme.io/foo\")");
    } else {
        char *host = strndup(v, (size_t)(slash - v));
        const char *rest = slash + 1;
        bool path_ok = true;
        if (host && (msg = validate_dns1123_subdomain(host)) != NULL)
            err_str(errs, FERR_INVALID, path, host, msg);
        free(host);
        for (const char *p = rest; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || strchr("/-._~%!$&'()*+,;=:", *p)))
                path_ok = false;
        if (!path_ok)
            err_str(errs, FERR_INVALID, path, rest,
                    "Invalid path (regex used for validation is "
                    "'[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')");
    }
    if (strlen(v) > JOB_MAX_MANAGED_BY_BYTES)
        ferr_add(errs, FERR_TOO_LONG, path, NULL, "may not be longer than %d",
                 JOB_MAX_MANAGED_BY_BYTES);
}

/* validateJobSpec and the rest of ValidateJobSpec. */
static void validate_spec(struct json_object *spec, struct ferr *errs)
{
    static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
    struct json_object *pfp, *sp, *tmpl, *sel;
    int64_t par = 0, comp = 0, bli = 0, mfi = 0;
    bool has_p, has_c, has_bli, has_mfi, indexed = false, flag;
    const char *mode, *mb, *prp;
    char detail[256];

    has_p = wl_int(spec, "parallelism", "spec.parallelism", errs, &par);
    if (has_p && par < 0)
        wl_err_int(errs, "spec.parallelism", par, WL_MSG_NONNEG);
    has_c = wl_int(spec, "completions", "spec.completions", errs, &comp);
    if (has_c && comp < 0)
        wl_err_int(errs, "spec.completions", comp, WL_MSG_NONNEG);
    wl_nonneg(spec, "activeDeadlineSeconds", "spec.activeDeadlineSeconds",
              errs);
    wl_nonneg(spec, "backoffLimit", "spec.backoffLimit", errs);
    wl_nonneg(spec, "ttlSecondsAfterFinished", "spec.ttlSecondsAfterFinished",
              errs);
    has_bli = wl_int(spec, "backoffLimitPerIndex", "spec.backoffLimitPerIndex",
                     errs, &bli);
    if (has_bli && bli < 0)
        wl_err_int(errs, "spec.backoffLimitPerIndex", bli, WL_MSG_NONNEG);
    has_mfi =
        wl_int(spec, "maxFailedIndexes", "spec.maxFailedIndexes", errs, &mfi);
    if (has_mfi) {
        if (mfi < 0)
            wl_err_int(errs, "spec.maxFailedIndexes", mfi, WL_MSG_NONNEG);
        if (!wl_get(spec, "backoffLimitPerIndex"))
            ferr_add(errs, FERR_REQUIRED, "spec.backoffLimitPerIndex", NULL,
                     "when maxFailedIndexes is specified");
    }
    mb = wl_str(spec, "managedBy", "spec.managedBy", errs);
    if (mb)
        validate_managed_by(mb, errs);
    mode = wl_str(spec, "completionMode", "spec.completionMode", errs);
    if (mode) {
        if (!in_list(mode, modes)) {
            supported_values(detail, sizeof(detail), modes);
            err_str(errs, FERR_NOT_SUPPORTED, "spec.completionMode", mode,
                    detail);
        }
        indexed = !strcmp(mode, "Indexed");
    }
    if (indexed) {
        if (!wl_get(spec, "completions"))
            ferr_add(errs, FERR_REQUIRED, "spec.completions", NULL,
                     "when completion mode is Indexed");
        if (has_p && par > JOB_MAX_PARALLELISM_INDEXED) {
            snprintf(detail, sizeof(detail),
                     "must be less than or equal to %d when completion mode "
                     "is Indexed",
                     JOB_MAX_PARALLELISM_INDEXED);
            wl_err_int(errs, "spec.parallelism", par, detail);
        }
        if (has_c && has_mfi && mfi > comp)
            wl_err_int(errs, "spec.maxFailedIndexes", mfi,
                       "must be less than or equal to completions");
        if (has_mfi && mfi > JOB_MAX_FAILED_INDEXES) {
            snprintf(detail, sizeof(detail), "must be less than or equal to %d",
                     JOB_MAX_FAILED_INDEXES);
            wl_err_int(errs, "spec.maxFailedIndexes", mfi, detail);
        }
        if (has_c && comp > JOB_COMPLETIONS_SOFT_LIMIT &&
            wl_get(spec, "backoffLimitPerIndex")) {
            if (!wl_get(spec, "maxFailedIndexes"))
                ferr_add(errs, FERR_REQUIRED, "spec.maxFailedIndexes", NULL,
                         "must be specified when completions is above %d",
                         JOB_COMPLETIONS_SOFT_LIMIT);
            if (has_p && par > JOB_PARALLELISM_LIMIT_HIGH_COMPLETIONS) {
                snprintf(detail, sizeof(detail),
                         "must be less than or equal to %d when completions "
                         "are above %d and used with backoff limit per index",
                         JOB_PARALLELISM_LIMIT_HIGH_COMPLETIONS,
                         JOB_COMPLETIONS_SOFT_LIMIT);
                wl_err_int(errs, "spec.parallelism", par, detail);
            }
            if (has_mfi && mfi > JOB_MAX_FAILED_INDEXES_HIGH_COMPLETIONS) {
                snprintf(detail, sizeof(detail),
                         "must be less than or equal to %d when completions "
                         "are above %d and used with backoff limit per index",
                         JOB_MAX_FAILED_INDEXES_HIGH_COMPLETIONS,
                         JOB_COMPLETIONS_SOFT_LIMIT);
                wl_err_int(errs, "spec.maxFailedIndexes", mfi, detail);
            }
        }
    }
    if (!mode || !strcmp(mode, "NonIndexed")) {
        if (has_bli)
            wl_err_int(errs, "spec.backoffLimitPerIndex", bli,
                       "requires indexed completion mode");
        if (has_mfi)
            wl_err_int(errs, "spec.maxFailedIndexes", mfi,
                       "requires indexed completion mode");
    }
    pfp = wl_obj(spec, "podFailurePolicy", "spec.podFailurePolicy", errs);
    if (pfp)
        validate_pod_failure_policy(spec, pfp, errs);
    sp = wl_obj(spec, "successPolicy", "spec.successPolicy", errs);
    if (sp) {
        if (!indexed) {
            struct buf b;
            buf_init(&b, 0);
            buf_puts(&b, json_object_to_json_string_ext(
                             sp, JSON_C_TO_STRING_PLAIN |
                                     JSON_C_TO_STRING_NOSLASHESCAPE));
            wl_err_repr(errs, FERR_INVALID, "spec.successPolicy", b.data,
                        "requires indexed completion mode");
            buf_free(&b);
        } else {
            validate_success_policy(sp, has_c, comp, errs);
        }
    }
    prp =
        wl_str(spec, "podReplacementPolicy", "spec.podReplacementPolicy", errs);
    if (prp) {
        static const char *const failed_only[] = {"Failed", NULL};
        static const char *const both[] = {"Failed", "TerminatingOrFailed",
                                           NULL};
        const char *const *allowed = pfp ? failed_only : both;
        if (!in_list(prp, allowed)) {
            supported_values(detail, sizeof(detail), allowed);
            err_str(errs, FERR_NOT_SUPPORTED, "spec.podReplacementPolicy", prp,
                    detail);
        }
    }
    /* Read with ju_bool elsewhere; report a wrong type once here. */
    wl_bool(spec, "manualSelector", "spec.manualSelector", errs, &flag);
    wl_bool(spec, "suspend", "spec.suspend", errs, &flag);

    tmpl = wl_template_validate(spec, "spec.template", errs);
    if (tmpl || !wl_get(spec, "template")) {
        const char *path = "spec.template.spec.restartPolicy";
        struct json_object *rpv = wl_get(ju_obj(tmpl, "spec"), "restartPolicy");
        const char *rp = rpv && json_object_is_type(rpv, json_type_string)
                             ? json_object_get_string(rpv)
                             : NULL;
        if (!rpv || (rp && (!rp[0] || !strcmp(rp, "Always")))) {
            ferr_add(errs, FERR_REQUIRED, path, NULL,
                     "valid values: \"OnFailure\", \"Never\"");
        } else if (!rp ||
                   (strcmp(rp, "OnFailure") != 0 && strcmp(rp, "Never") != 0)) {
            ferr_add(errs, FERR_NOT_SUPPORTED, path, rpv,
                     "supported values: \"OnFailure\", \"Never\"");
        } else if (pfp && strcmp(rp, "Never") != 0) {
            ferr_add(errs, FERR_INVALID, path, rpv,
                     "only \"Never\" is supported when podFailurePolicy is "
                     "specified");
        }
    }

    sel = wl_get(spec, "selector");
    bool usable = true;
    if (!sel)
        ferr_required(errs, "spec.selector");
    else
        usable = wl_validate_selector(sel, "spec.selector", errs);
    if (usable) {
        struct label_selector *ls = wl_selector_compile(sel);
        if (ls && !label_selector_matches(
                      ls, wl_get(ju_obj(tmpl, "metadata"), "labels")))
            wl_err_selector_mismatch(errs, "spec.template.metadata.labels",
                                     tmpl);
        label_selector_free(ls);
    }
}

/* ValidateImmutableField for spec[key]. */
static void immutable(struct json_object *spec, struct json_object *old_spec,
                      const char *key, const char *path, struct ferr *errs)
{
    struct json_object *nv = wl_get(spec, key);
    if (!wl_json_equal(nv, wl_get(old_spec, key)))
        ferr_add(errs, FERR_INVALID, path, nv, WL_MSG_IMMUTABLE);
}

/* Replaces dst[key] by a copy of src (or removes it when src is NULL). */
static void set_or_del(struct json_object *dst, const char *key,
                       struct json_object *src)
{
    struct json_object *copy = NULL;
    if (!dst)
        return;
    if (!src) {
        json_object_object_del(dst, key);
        return;
    }
    if (json_object_deep_copy(src, &copy, NULL) == 0 && copy &&
        json_object_object_add(dst, key, copy) != 0)
        json_object_put(copy);
}

/*
 * validatePodTemplateUpdate: the template is immutable, except that a job
 * that is suspended and never started may change its scheduling
 * directives (node affinity, node selector, tolerations, scheduling
 * gates) and template labels and annotations.
 */
static void template_update(struct json_object *spec,
                            struct json_object *old_spec,
                            struct json_object *old, struct ferr *errs)
{
    struct json_object *nt = wl_get(spec, "template");
    struct json_object *ot = wl_get(old_spec, "template");
    struct json_object *cmp = NULL;
    bool suspended = false;

    ju_bool(old_spec, "suspend", &suspended);
    if (suspended && !wl_get(ju_obj(old, "status"), "startTime") && ot &&
        json_object_is_type(ot, json_type_object) && nt &&
        json_object_is_type(nt, json_type_object) &&
        json_object_deep_copy(ot, &cmp, NULL) == 0 && cmp) {
        struct json_object *nmeta = ju_obj(nt, "metadata");
        struct json_object *nspec = ju_obj(nt, "spec");
        struct json_object *cmeta = wl_ensure_obj(cmp, "metadata");
        struct json_object *cspec = wl_ensure_obj(cmp, "spec");
        struct json_object *naff = ju_obj(nspec, "affinity");
        struct json_object *caff = ju_obj(cspec, "affinity");

        if (!naff && caff) {
            json_object_object_del(caff, "nodeAffinity");
            if (json_object_object_length(caff) == 0)
                json_object_object_del(cspec, "affinity");
        } else if (naff && !caff) {
            struct json_object *a = json_object_new_object();
            if (a && json_object_object_add(cspec, "affinity", a) == 0)
                set_or_del(a, "nodeAffinity", wl_get(naff, "nodeAffinity"));
            else
                json_object_put(a);
        } else if (naff && caff) {
            set_or_del(caff, "nodeAffinity", wl_get(naff, "nodeAffinity"));
        }
        set_or_del(cspec, "nodeSelector", wl_get(nspec, "nodeSelector"));
        set_or_del(cspec, "tolerations", wl_get(nspec, "tolerations"));
        set_or_del(cspec, "schedulingGates", wl_get(nspec, "schedulingGates"));
        set_or_del(cmeta, "annotations", wl_get(nmeta, "annotations"));
        set_or_del(cmeta, "labels", wl_get(nmeta, "labels"));
        ot = cmp;
    }
    if (!wl_json_equal(nt, ot))
        ferr_add(errs, FERR_INVALID, "spec.template", nt, WL_MSG_IMMUTABLE);
    json_object_put(cmp);
}

/* ValidateJobSpecUpdate beyond ValidateJobSpec. */
static void validate_update(struct json_object *spec, struct json_object *old,
                            struct ferr *errs)
{
    struct json_object *old_spec = ju_obj(old, "spec");
    const char *mode = ju_str(spec, "completionMode");
    struct json_object *nc = wl_get(spec, "completions");

    /* validateCompletions with elastic indexed jobs (GA in 1.31). */
    if (!mode || strcmp(mode, "Indexed") != 0) {
        immutable(spec, old_spec, "completions", "spec.completions", errs);
    } else if (!wl_json_equal(nc, wl_get(old_spec, "completions")) && nc) {
        int64_t c = 0, p = 0;
        ju_int(spec, "completions", &c);
        ju_int(spec, "parallelism", &p);
        if (c != p)
            ferr_add(errs, FERR_INVALID, "spec.completions", nc,
                     "can only be modified in tandem with spec.parallelism");
    }
    wl_selector_immutable(wl_get(spec, "selector"),
                          wl_get(old_spec, "selector"), "spec.selector", errs);
    template_update(spec, old_spec, old, errs);
    immutable(spec, old_spec, "completionMode", "spec.completionMode", errs);
    immutable(spec, old_spec, "podFailurePolicy", "spec.podFailurePolicy",
              errs);
    immutable(spec, old_spec, "backoffLimitPerIndex",
              "spec.backoffLimitPerIndex", errs);
    immutable(spec, old_spec, "managedBy", "spec.managedBy", errs);
    immutable(spec, old_spec, "successPolicy", "spec.successPolicy", errs);
}

/* ValidateJob (and ValidateJobUpdate when old is set). */
static void job_validate(struct json_object *obj, struct json_object *old,
                         struct ferr *errs)
{
    struct json_object *spec = wl_obj(obj, "spec", "spec", errs);
    bool prefixed = true;
    const char *mode;
    int64_t comp;

    if (!spec && wl_get(obj, "spec"))
        return;
    if (old) {
        /* Jobs created before the prefixed labels existed keep passing. */
        struct json_object *ol = ju_path(old, "spec.template.metadata.labels");
        prefixed = wl_get(ol, JOB_LABEL_NAME) && wl_get(ol, JOB_LABEL_UID);
    }
    validate_generated_selector(obj, spec, prefixed, errs);
    validate_spec(spec, errs);
    mode = ju_str(spec, "completionMode");
    if (mode && !strcmp(mode, "Indexed") &&
        ju_int(spec, "completions", &comp) && comp > 0) {
        const char *name = ju_str(ju_obj(obj, "metadata"), "name");
        char host[600];
        snprintf(host, sizeof(host), "%s-%lld", name ? name : "",
                 (long long)(comp - 1));
        if (validate_dns1123_label(host)) {
            char detail[700];
            snprintf(detail, sizeof(detail),
                     "will not able to create pod with invalid DNS label: %s",
                     host);
            err_str(errs, FERR_INVALID, "metadata.name", name ? name : "",
                    detail);
        }
    }
    if (old)
        validate_update(spec, old, errs);
}

const struct resource_type rt_jobs = {
    .group = "batch",
    .version = "v1",
    .resource = "jobs",
    .singular = "job",
    .kind = "Job",
    .namespaced = true,
    .short_names = {NULL},
    .in_all = true,
    .name_rule = NAME_SUBDOMAIN,
    .has_generation = true,
    .has_status = true,
    .has_scale = false,
    .has_binding = false,
    .field_selectors = NULL,
    .columns = job_columns,
    .ncolumns = (int)(sizeof(job_columns) / sizeof(job_columns[0])),
    .table_cells = job_cells,
    .prepare_create = wl_reset_status,
    .defaults = job_defaults,
    .validate = job_validate,
};
