/*
 * Events in both APIs: core/v1 Event and events.k8s.io/v1 Event, which
 * Kubernetes serves from one internal type. Shared printer (printEvent)
 * and validation (legacyValidateEvent, plus the strict rules that apply
 * to events.k8s.io/v1), each reading its API's JSON field names.
 */
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "resources/kinds.h"
#include "resources/print.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define EV_REPORTING_INSTANCE_MAX 128
#define EV_ACTION_MAX 128
#define EV_REASON_MAX 128
#define EV_NOTE_MAX 1024

/* JSON names of the fields both APIs share, per API. */
struct ev_names {
    const char *regarding;  /* involvedObject | regarding */
    const char *message;    /* message | note */
    const char *first;      /* firstTimestamp | deprecatedFirstTimestamp */
    const char *last;       /* lastTimestamp | deprecatedLastTimestamp */
    const char *count;      /* count | deprecatedCount */
    const char *source;     /* source | deprecatedSource */
    const char *controller; /* reportingComponent | reportingController */
    bool strict;            /* events.k8s.io rules */
};

static const struct ev_names core_names = {
    "involvedObject", "message", "firstTimestamp",     "lastTimestamp",
    "count",          "source",  "reportingComponent", false};
static const struct ev_names v1_names = {"regarding",
                                         "note",
                                         "deprecatedFirstTimestamp",
                                         "deprecatedLastTimestamp",
                                         "deprecatedCount",
                                         "deprecatedSource",
                                         "reportingController",
                                         true};

static const struct table_column ev_columns[] = {
    {"Last Seen", "string", "",
     "The time at which the most recent occurrence of this event was "
     "recorded.",
     0},
    {"Type", "string", "", "Type of this event (Normal, Warning).", 0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the "
     "reason for the transition into the object's current status.",
     0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "",
     "The path to the part of the object the event is about.", 1},
    {"Source", "string", "", "The component reporting this event.", 1},
    {"Message", "string", "",
     "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "The time at which the event was first recorded.", 1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", "Name must be unique within a namespace.", 1},
};

/* ---- Table ---- */

static void ev_cells(const struct ev_names *nm, struct json_object *obj,
                     struct json_object *cells, time_t now)
{
    char first[64], last[64], buf[600];
    struct json_object *inv = ju_obj(obj, nm->regarding);
    const char *fts = ju_str(obj, nm->first);
    const char *lts = ju_str(obj, nm->last);
    int64_t count = 0;

    if (fts && fts[0])
        print_since(first, sizeof(first), fts, now);
    else
        print_since(first, sizeof(first), ju_str(obj, "eventTime"), now);
    if (lts && lts[0])
        print_since(last, sizeof(last), lts, now);
    else
        snprintf(last, sizeof(last), "%s", first);
    ju_int(obj, nm->count, &count);
    struct json_object *series = ju_obj(obj, "series");
    if (series) {
        print_since(last, sizeof(last), ju_str(series, "lastObservedTime"),
                    now);
        count = 0;
        ju_int(series, "count", &count);
    } else if (count == 0) {
        count = 1; /* singleton events of the new API carry no count */
    }

    const char *kind = ju_str(inv, "kind"), *name = ju_str(inv, "name");
    char lower[256];
    size_t i = 0;
    for (; kind && kind[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)kind[i]);
    lower[i] = '\0';
    if (name && name[0])
        snprintf(buf, sizeof(buf), "%s/%s", lower, name);
    else
        snprintf(buf, sizeof(buf), "%s", lower);

    print_cell_str(cells, last);
    print_cell_str(cells, ju_str(obj, "type"));
    print_cell_str(cells, ju_str(obj, "reason"));
    print_cell_str(cells, buf);
    print_cell_str(cells, ju_str(inv, "fieldPath"));

    struct json_object *src = ju_obj(obj, nm->source);
    const char *comp = ju_str(src, "component"), *host = ju_str(src, "host");
    if (!comp || !comp[0])
        comp = ju_str(obj, nm->controller);
    if (!host || !host[0])
        host = ju_str(obj, "reportingInstance");
    if (host && host[0])
        snprintf(buf, sizeof(buf), "%s, %s", comp ? comp : "", host);
    else
        snprintf(buf, sizeof(buf), "%s", comp ? comp : "");
    print_cell_str(cells, buf);

    /* strings.TrimSpace of the message. */
    const char *msg = ju_str(obj, nm->message);
    if (!msg)
        msg = "";
    while (*msg && isspace((unsigned char)*msg))
        msg++;
    size_t n = strlen(msg);
    while (n > 0 && isspace((unsigned char)msg[n - 1]))
        n--;
    json_object_array_add(cells, json_object_new_string_len(msg, (int)n));

    print_cell_str(cells, first);
    print_cell_int(cells, count);
    print_cell_str(cells, ju_str(ju_obj(obj, "metadata"), "name"));
}

static void core_ev_cells(struct json_object *obj, struct json_object *cells,
                          time_t now)
{
    ev_cells(&core_names, obj, cells, now);
}

static void v1_ev_cells(struct json_object *obj, struct json_object *cells,
                        time_t now)
{
    ev_cells(&v1_names, obj, cells, now);
}

/* ---- Validation ---- */

static void too_long(struct ferr *e, const char *field, const char *v,
                     size_t max)
{
    char msg[64];
    if (!v || strlen(v) <= max)
        return;
    snprintf(msg, sizeof(msg), "can have at most %zu characters", max);
    validate_invalid_str(e, field, "", msg);
}

static void required_nonempty(struct ferr *e, const char *field, const char *v)
{
    if (!v || !v[0])
        ferr_required(e, field);
}

static bool has_time(struct json_object *o, const char *key)
{
    const char *t = ju_str(o, key);
    return t && t[0];
}

static void ev_types(const struct ev_names *nm, struct json_object *obj,
                     struct ferr *e)
{
    struct json_object *inv = validate_opt_obj(obj, nm->regarding, "", e);
    static const char *const ref_fields[] = {
        "kind",       "namespace",       "name",      "uid",
        "apiVersion", "resourceVersion", "fieldPath", NULL};
    for (int i = 0; inv && ref_fields[i]; i++)
        validate_opt_str(inv, ref_fields[i], nm->regarding, e);
    validate_opt_obj(obj, "related", "", e);
    const char *strs[] = {nm->message, "reason",       "type",
                          "action",    nm->controller, "reportingInstance",
                          nm->first,   nm->last,       "eventTime"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        validate_opt_str(obj, strs[i], "", e);
    int64_t c;
    validate_opt_int(obj, nm->count, "", e, &c);
    struct json_object *src = validate_opt_obj(obj, nm->source, "", e);
    if (src) {
        validate_opt_str(src, "component", nm->source, e);
        validate_opt_str(src, "host", nm->source, e);
    }
    struct json_object *series = validate_opt_obj(obj, "series", "", e);
    if (series) {
        validate_opt_int(series, "count", "series", e, &c);
        validate_opt_str(series, "lastObservedTime", "series", e);
    }
}

/* legacyValidateEvent. */
static void ev_legacy(const struct ev_names *nm, struct json_object *obj,
                      struct ferr *e)
{
    const char *ns = ju_str(ju_obj(obj, "metadata"), "namespace");
    const char *ins = ju_str(ju_obj(obj, nm->regarding), "namespace");
    if (!ns)
        ns = "";
    if (!ins)
        ins = "";
    if (!has_time(obj, "eventTime")) {
        if (!ins[0]) {
            if (ns[0] && strcmp(ns, "default") != 0)
                validate_invalid_str(e, "involvedObject.namespace", ins,
                                     "does not match event.namespace");
        } else if (strcmp(ns, ins) != 0) {
            validate_invalid_str(e, "involvedObject.namespace", ins,
                                 "does not match event.namespace");
        }
        return;
    }
    if (!ins[0] && strcmp(ns, "default") != 0 && strcmp(ns, "kube-system") != 0)
        validate_invalid_str(e, "involvedObject.namespace", ins,
                             "does not match event.namespace");
    const char *rc = ju_str(obj, nm->controller);
    required_nonempty(e, nm->controller, rc);
    validate_field_qualified_name(e, nm->controller, rc ? rc : "");
    const char *ri = ju_str(obj, "reportingInstance");
    required_nonempty(e, "reportingInstance", ri);
    too_long(e, "reportingInstance", ri, EV_REPORTING_INSTANCE_MAX);
    const char *action = ju_str(obj, "action");
    required_nonempty(e, "action", action);
    too_long(e, "action", action, EV_ACTION_MAX);
    const char *reason = ju_str(obj, "reason");
    required_nonempty(e, "reason", reason);
    too_long(e, "reason", reason, EV_REASON_MAX);
    too_long(e, "message", ju_str(obj, nm->message), EV_NOTE_MAX);
}

/* The events.k8s.io rules on create. */
static void ev_strict(const struct ev_names *nm, struct json_object *obj,
                      struct ferr *e)
{
    struct json_object *series = ju_obj(obj, "series");
    if (series) {
        int64_t c = 0;
        ju_int(series, "count", &c);
        if (c < 2)
            validate_invalid_str(e, "series.count", "", "should be at least 2");
        if (!has_time(series, "lastObservedTime"))
            ferr_required(e, "series.lastObservedTime");
    }
    if (!has_time(obj, "eventTime"))
        ferr_required(e, "eventTime");
    const char *type = ju_str(obj, "type");
    if (!type || (strcmp(type, "Normal") && strcmp(type, "Warning"))) {
        char msg[300];
        snprintf(msg, sizeof(msg), "has invalid value: %s", type ? type : "");
        validate_invalid_str(e, "type", "", msg);
    }
    if (has_time(obj, nm->first))
        validate_invalid_str(e, "firstTimestamp", "", "needs to be unset");
    if (has_time(obj, nm->last))
        validate_invalid_str(e, "lastTimestamp", "", "needs to be unset");
    int64_t count = 0;
    if (ju_int(obj, nm->count, &count) && count != 0)
        validate_invalid_str(e, "count", "", "needs to be unset");
    struct json_object *src = ju_obj(obj, nm->source);
    const char *comp = ju_str(src, "component"), *host = ju_str(src, "host");
    if ((comp && comp[0]) || (host && host[0]))
        validate_invalid_str(e, "source", "", "needs to be unset");
}

/* The events.k8s.io rules on update: most fields are immutable (reported
 * under their internal names, as Kubernetes does). */
static void ev_strict_update(const struct ev_names *nm, struct json_object *obj,
                             struct json_object *old, struct ferr *e)
{
    const struct {
        const char *key, *field;
    } imm[] = {{nm->regarding, "involvedObject"},
               {"reason", "reason"},
               {nm->message, "message"},
               {nm->source, "source"},
               {nm->first, "firstTimestamp"},
               {nm->last, "lastTimestamp"},
               {nm->count, "count"},
               {"type", "type"},
               {"eventTime", "eventTime"},
               {"action", "action"},
               {"related", "related"},
               {nm->controller, "reportingController"},
               {"reportingInstance", "reportingInstance"}};
    for (size_t i = 0; i < sizeof(imm) / sizeof(imm[0]); i++) {
        struct json_object *a = NULL, *b = NULL;
        json_object_object_get_ex(obj, imm[i].key, &a);
        json_object_object_get_ex(old, imm[i].key, &b);
        validate_immutable(e, imm[i].field, a, b);
    }
    struct json_object *ns = ju_obj(obj, "series"), *os = ju_obj(old, "series");
    if (ns && !json_object_equal(ns, os)) {
        int64_t c = 0;
        ju_int(ns, "count", &c);
        if (c < 2)
            validate_invalid_str(e, "series.count", "", "should be at least 2");
        if (!has_time(ns, "lastObservedTime"))
            ferr_required(e, "series.lastObservedTime");
    }
}

static void ev_validate(const struct ev_names *nm, struct json_object *obj,
                        struct json_object *old, struct ferr *e)
{
    int before = e->n;
    ev_types(nm, obj, e);
    if (e->n != before)
        return;
    ev_legacy(nm, obj, e);
    if (!nm->strict)
        return;
    if (old)
        ev_strict_update(nm, obj, old, e);
    else
        ev_strict(nm, obj, e);
}

static void core_ev_validate(struct json_object *obj, struct json_object *old,
                             struct ferr *e)
{
    ev_validate(&core_names, obj, old, e);
}

static void v1_ev_validate(struct json_object *obj, struct json_object *old,
                           struct ferr *e)
{
    ev_validate(&v1_names, obj, old, e);
}

static const char *const core_ev_selectors[] = {
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    NULL};

static const char *const v1_ev_selectors[] = {"regarding.kind",
                                              "regarding.namespace",
                                              "regarding.name",
                                              "regarding.uid",
                                              "regarding.apiVersion",
                                              "regarding.resourceVersion",
                                              "regarding.fieldPath",
                                              "reason",
                                              "reportingController",
                                              "type",
                                              NULL};

const struct resource_type rt_events = {
    .group = "",
    .version = "v1",
    .resource = "events",
    .singular = "event",
    .kind = "Event",
    .namespaced = true,
    .short_names = {"ev", NULL},
    /* core/v1 events skip metadata validation beyond a usable name. */
    .name_rule = NAME_PATH_SEGMENT,
    .field_selectors = core_ev_selectors,
    .columns = ev_columns,
    .ncolumns = sizeof(ev_columns) / sizeof(ev_columns[0]),
    .table_cells = core_ev_cells,
    .validate = core_ev_validate,
};

/* events.k8s.io/v1 <-> core/v1 field names (the rest are the same). */
static const char *const ev_renames[][2] = {
    {"regarding", "involvedObject"},
    {"note", "message"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"},
    {"reportingController", "reportingComponent"},
};

static void ev_rename(struct json_object *obj, int from, int to)
{
    for (size_t i = 0; i < sizeof(ev_renames) / sizeof(ev_renames[0]); i++) {
        struct json_object *v = json_object_object_get(obj, ev_renames[i][from]);
        if (!v)
            continue;
        json_object_object_add(obj, ev_renames[i][to], json_object_get(v));
        json_object_object_del(obj, ev_renames[i][from]);
    }
}

static void v1_ev_to_storage(struct json_object *obj)
{
    ev_rename(obj, 0, 1);
    ju_set_str(obj, "apiVersion", "v1");
    ju_set_str(obj, "kind", "Event");
}

static void v1_ev_from_storage(struct json_object *obj)
{
    ev_rename(obj, 1, 0);
    ju_set_str(obj, "apiVersion", "events.k8s.io/v1");
    ju_set_str(obj, "kind", "Event");
}

const struct resource_type rt_events_v1 = {
    .storage = &rt_events,
    .to_storage = v1_ev_to_storage,
    .from_storage = v1_ev_from_storage,
    .group = "events.k8s.io",
    .version = "v1",
    .resource = "events",
    .singular = "event",
    .kind = "Event",
    .namespaced = true,
    .short_names = {NULL}, /* "ev" resolves to core events */
    .name_rule = NAME_SUBDOMAIN,
    .field_selectors = v1_ev_selectors,
    .columns = ev_columns,
    .ncolumns = sizeof(ev_columns) / sizeof(ev_columns[0]),
    .table_cells = v1_ev_cells,
    .validate = v1_ev_validate,
};
