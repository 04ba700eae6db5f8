/*
 * The verbs on resources: get, list, create, update, patch, delete and
 * deletecollection, with Kubernetes' metadata rules (uid, timestamps,
 * generation, resourceVersion preconditions, generateName, finalizers,
 * namespace existence), status and scale subresources, pod binding,
 * service cluster IPs and namespace termination.
 */
#include "api/internal.h"
#include "api/ipalloc.h"
#include "api/patch.h"
#include "api/selector.h"
#include "api/smp.h"
#include "api/validation.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_MAX_LIST_LIMIT 100000

static void respond_bad_request(struct api_req *r, const char *msg)
{
    api_respond_status(r, 400, "BadRequest", NULL, NULL, "%s", msg);
}

static const char *method(struct api_req *r) { return r->http->method; }

/* ---- reading ---------------------------------------------------------- */

/* Loads the stored object named by the target. */
static int load_object(struct api_req *r, struct json_object **obj,
                       int64_t *rev)
{
    char key[API_KEY_MAX];
    int rc = api_object_key(r->t.rt, r->t.ns, r->t.name, key, sizeof(key));
    if (rc)
        return -KE_NOTFOUND;
    struct store_value *v;
    rc = store_get(r->api->st, key, &v, rev);
    if (rc)
        return rc;
    char err[256];
    *obj = api_decode(r->t.rt, v->data, v->len, err, sizeof(err));
    store_value_unref(v);
    if (!*obj) {
        log_error("api", "stored object %s is not valid JSON: %s", key, err);
        return -KE_CORRUPT;
    }
    return 0;
}

/* Parses the request body as a JSON object; responds 400 on failure. */
static struct json_object *parse_body(struct api_req *r)
{
    struct http_request *h = r->http;
    const char *ct = http_header(h, "Content-Type");
    if (ct && strncmp(ct, "application/vnd.kubernetes.protobuf", 35) == 0) {
        api_respond_status(r, 415, "UnsupportedMediaType", NULL, NULL,
                           "the body of the request was in an unknown format "
                           "- accepted media types include: application/json,"
                           " application/yaml");
        return NULL;
    }
    if (ct && strncmp(ct, "application/json", 16) != 0 &&
        strncmp(ct, "*/*", 3) != 0) {
        api_respond_status(r, 415, "UnsupportedMediaType", NULL, NULL,
                           "the body of the request was in an unknown format "
                           "- accepted media types include: application/json "
                           "(got %.64s)",
                           ct);
        return NULL;
    }
    if (h->body.len == 0) {
        respond_bad_request(r, "the request body is empty");
        return NULL;
    }
    char err[256];
    struct json_object *obj =
        api_parse_json(h->body.data, h->body.len, err, sizeof(err));
    if (!obj) {
        char msg[400];
        snprintf(msg, sizeof(msg), "the request body is not valid JSON: %s",
                 err);
        respond_bad_request(r, msg);
        return NULL;
    }
    return obj;
}

static void respond_object(struct api_req *r, int code,
                           struct json_object *obj)
{
    if (r->table) {
        struct buf b;
        buf_init(&b, 0);
        if (api_table_single(r->t.rt, r->include, obj, &b) == 0)
            api_respond_raw(r, code, b.data, b.len);
        else
            api_respond_status(r, 500, "InternalError", NULL, NULL,
                               "out of memory");
        buf_free(&b);
        return;
    }
    api_respond_json(r, code, obj);
}

/*
 * Stamps obj with the next revision and stores it at key: a create when
 * expect_rev < 0, else an update of revision expect_rev. Then answers
 * `code` with the object, reusing the stored bytes when the answer is the
 * same JSON. Returns 0, or the store error (already answered).
 */
static int write_and_respond(struct api_req *r, const char *key,
                             struct json_object *obj, int64_t expect_rev,
                             int code)
{
    int64_t rev = store_next_revision(r->api->st);
    api_set_rv(obj, rev);
    size_t len;
    struct json_object *tmp;
    const char *json = api_encode(r->t.rt, obj, &len, &tmp);
    int rc = -ENOMEM;
    if (json)
        rc = expect_rev < 0
                 ? store_create(r->api->st, key, json, len, rev)
                 : store_update(r->api->st, key, json, len, rev, expect_rev);
    if (rc)
        api_respond_store_error(r, rc, r->t.name);
    else if (!r->table && !tmp)
        api_respond_raw(r, code, json, len);
    else
        respond_object(r, code, obj);
    json_object_put(tmp);
    return rc;
}

static void handle_get(struct api_req *r)
{
    struct json_object *obj;
    int64_t rev;
    int rc = load_object(r, &obj, &rev);
    if (rc) {
        api_respond_store_error(r, rc, r->t.name);
        return;
    }
    respond_object(r, 200, obj);
    json_object_put(obj);
}

/* ---- selectors and listing -------------------------------------------- */

/* Parses labelSelector and fieldSelector; responds 400 on error. */
int api_parse_selectors(struct api_req *r, struct list_query *q)
{
    char text[8192], err[512];
    memset(q, 0, sizeof(*q));
    int rc = http_query(r->http, "labelSelector", text, sizeof(text));
    if (rc == -KE_TOOBIG) {
        respond_bad_request(r, "labelSelector is too long");
        return -1;
    }
    if (rc == 0 &&
        label_selector_parse(text, &q->labels, err, sizeof(err)) != 0) {
        respond_bad_request(r, err);
        return -1;
    }
    rc = http_query(r->http, "fieldSelector", text, sizeof(text));
    if (rc == -KE_TOOBIG) {
        respond_bad_request(r, "fieldSelector is too long");
        api_list_query_free(q);
        return -1;
    }
    if (rc == 0) {
        if (field_selector_parse(text, &q->fields, err, sizeof(err)) != 0) {
            respond_bad_request(r, err);
            api_list_query_free(q);
            return -1;
        }
        if (field_selector_check(q->fields, r->t.rt->field_selectors, err,
                                 sizeof(err)) != 0) {
            /* Kinds with only the metadata fields say so, as Kubernetes. */
            const char *f = strstr(err, "supported: ");
            if (!r->t.rt->field_selectors && f)
                snprintf(err, sizeof(err),
                         "\"%.200s\" is not a known field selector: only "
                         "\"metadata.name\", \"metadata.namespace\"",
                         f + 11);
            respond_bad_request(r, err);
            api_list_query_free(q);
            return -1;
        }
    }
    return 0;
}

void api_list_query_free(struct list_query *q)
{
    label_selector_free(q->labels);
    field_selector_free(q->fields);
    q->labels = NULL;
    q->fields = NULL;
}

bool api_list_matches(const struct list_query *q, struct json_object *obj)
{
    if (q->labels &&
        !label_selector_matches(q->labels, ju_obj(ju_obj(obj, "metadata"),
                                                  "labels")))
        return false;
    if (q->fields && !field_selector_matches(q->fields, obj))
        return false;
    return true;
}

struct list_ctx {
    const struct resource_type *rt;
    struct list_query *q;
    bool table;                /* rows of a Table, else list items */
    enum table_include include;
    time_t now;
    struct buf *out;           /* items or rows, comma-separated */
    int count;
    char last_key[API_KEY_MAX];
    int err;
};

static int list_one(void *arg, const char *key, struct store_value *v,
                    int64_t rev)
{
    struct list_ctx *c = arg;
    bool convert = c->rt->from_storage != NULL;
    bool need_parse = c->table || c->q->labels || c->q->fields || convert;
    struct json_object *obj = NULL;
    if (need_parse) {
        char err[128];
        obj = api_decode(c->rt, v->data, v->len, err, sizeof(err));
        if (!obj)
            return 1; /* logged by the store's consumers; skip */
        if (!api_list_matches(c->q, obj)) {
            json_object_put(obj);
            return 1;
        }
    }
    if (c->table) {
        if (api_table_row(c->rt, c->include, obj, c->now, c->count == 0,
                          c->out) != 0)
            c->err = -ENOMEM;
    } else {
        if (c->count)
            buf_puts(c->out, ",");
        size_t len = v->len;
        const char *data = convert ? api_json(obj, &len) : v->data;
        if (buf_append(c->out, data, len) != 0)
            c->err = -ENOMEM;
    }
    json_object_put(obj);
    c->count++;
    snprintf(c->last_key, sizeof(c->last_key), "%s", key);
    return c->err;
}

/* Continue tokens: base64 of {"rv":N,"start":"<key>"}. */
static char *encode_continue(int64_t rv, const char *key)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "v", json_object_new_string("meta.k8s.io/v1"));
    json_object_object_add(o, "rv", json_object_new_int64(rv));
    json_object_object_add(o, "start", json_object_new_string(key));
    size_t len;
    const char *s = api_json(o, &len);
    char *out = malloc(4 * (len / 3 + 2) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
                        (int)len);
    json_object_put(o);
    return out;
}

static int decode_continue(const char *token, const char *prefix, char *key,
                           size_t keylen, int64_t *rv)
{
    size_t tlen = strlen(token);
    if (tlen == 0 || tlen > 4096 || tlen % 4)
        return -EINVAL;
    unsigned char dec[4096];
    int n = EVP_DecodeBlock(dec, (const unsigned char *)token, (int)tlen);
    if (n <= 0)
        return -EINVAL;
    while (n > 0 && dec[n - 1] == 0)
        n--;
    char err[64];
    struct json_object *o =
        api_parse_json((const char *)dec, (size_t)n, err, sizeof(err));
    const char *start = ju_str(o, "start");
    int rc = -EINVAL;
    if (start && strncmp(start, prefix, strlen(prefix)) == 0 &&
        strlen(start) < keylen && ju_int(o, "rv", rv) && *rv > 0) {
        snprintf(key, keylen, "%s", start);
        rc = 0;
    }
    json_object_put(o);
    return rc;
}

static void handle_list(struct api_req *r)
{
    struct list_query q;
    if (api_parse_selectors(r, &q))
        return;
    char prefix[API_KEY_MAX], start[API_KEY_MAX] = "", text[4200];
    api_collection_prefix(r->t.rt, r->t.ns, prefix, sizeof(prefix));
    long limit = 0;
    if (http_query(r->http, "limit", text, sizeof(text)) == 0 && text[0]) {
        char *end;
        limit = strtol(text, &end, 10);
        if (*end || limit < 0) {
            respond_bad_request(r, "limit must be a non-negative integer");
            goto out;
        }
        if (limit > API_MAX_LIST_LIMIT)
            limit = API_MAX_LIST_LIMIT;
    }
    int64_t rev = store_revision(r->api->st);
    if (http_query(r->http, "continue", text, sizeof(text)) == 0 && text[0]) {
        if (decode_continue(text, prefix, start, sizeof(start), &rev) != 0) {
            api_respond_status(r, 400, "BadRequest", NULL, NULL,
                               "invalid continue token: continue key is not "
                               "valid: the token could not be decoded");
            goto out;
        }
    } else if (http_query(r->http, "resourceVersionMatch", text,
                          sizeof(text)) == 0 &&
               strcmp(text, "Exact") == 0) {
        char rvs[32];
        char *end = NULL;
        long long v = -1;
        if (http_query(r->http, "resourceVersion", rvs, sizeof(rvs)) == 0)
            v = strtoll(rvs, &end, 10);
        if (v <= 0 || !end || *end) {
            respond_bad_request(r, "resourceVersionMatch=Exact needs a "
                                   "resourceVersion");
            goto out;
        }
        if (v > rev) {
            api_respond_status(r, 504, "Timeout", NULL, NULL,
                               "Too large resource version: %lld, current: "
                               "%lld",
                               v, (long long)rev);
            goto out;
        }
        rev = v;
    }
    char rvs[24];
    snprintf(rvs, sizeof(rvs), "%lld", (long long)rev);
    struct buf out;
    buf_init(&out, 0);
    struct list_ctx c = {.rt = r->t.rt, .q = &q, .table = r->table,
                         .include = r->include, .now = time(NULL),
                         .out = &out};
    /* Items (or rows) come first and metadata last: the continue token is
     * known only at the end, and this way the list is built in one buffer
     * without copying it again. */
    if (c.table) {
        api_table_begin(r->t.rt, &out);
    } else {
        char av[64];
        buf_printf(&out, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\","
                         "\"items\":[",
                   r->t.rt->kind, resource_api_version(r->t.rt, av, sizeof(av)));
    }
    bool more = false;
    int rc = store_list_at(r->api->st, prefix, start, limit, rev, list_one,
                           &c, &more);
    if (rc == 0)
        rc = c.err;
    if (rc == -KE_EXPIRED) {
        api_respond_status(r, 410, "Expired", NULL, NULL,
                           "The provided continue parameter is too old to "
                           "display a consistent list result. You can start "
                           "a new list without the continue parameter.");
        goto done;
    }
    if (rc) {
        api_respond_store_error(r, rc, "");
        goto done;
    }
    char *cont = more ? encode_continue(rev, c.last_key) : NULL;
    if (c.table) {
        api_table_end(&out, rvs, cont);
    } else {
        buf_printf(&out, "],\"metadata\":{\"resourceVersion\":\"%s\"", rvs);
        if (cont)
            buf_printf(&out, ",\"continue\":\"%s\"", cont);
        buf_puts(&out, "}}");
    }
    free(cont);
    api_respond_raw(r, 200, out.data, out.len);
done:
    buf_free(&out);
out:
    api_list_query_free(&q);
}

/* ---- writing ---------------------------------------------------------- */

/* Checks kind/apiVersion of a body against the target, filling them when
 * absent. Responds 400 and returns -1 on mismatch. */
static int check_type_meta(struct api_req *r, struct json_object *obj,
                           const char *kind, const char *api_version)
{
    if (!json_object_is_type(obj, json_type_object)) {
        respond_bad_request(r, "the request body must be a JSON object");
        return -1;
    }
    struct json_object *k = json_object_object_get(obj, "kind");
    struct json_object *av = json_object_object_get(obj, "apiVersion");
    if ((k && !json_object_is_type(k, json_type_string)) ||
        (av && !json_object_is_type(av, json_type_string))) {
        respond_bad_request(r, "kind and apiVersion must be strings");
        return -1;
    }
    if (k && json_object_get_string_len(k) &&
        strcmp(json_object_get_string(k), kind) != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL,
                           "the kind in the body (%s) does not match the "
                           "expected kind (%s)",
                           json_object_get_string(k), kind);
        return -1;
    }
    if (av && json_object_get_string_len(av) &&
        strcmp(json_object_get_string(av), api_version) != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL,
                           "the API version in the data (%s) does not match "
                           "the expected API version (%s)",
                           json_object_get_string(av), api_version);
        return -1;
    }
    ju_set_str(obj, "kind", kind);
    ju_set_str(obj, "apiVersion", api_version);
    struct json_object *md = json_object_object_get(obj, "metadata");
    if (md && !json_object_is_type(md, json_type_object)) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL,
                           "metadata must be an object");
        return -1;
    }
    ju_obj_ensure(obj, "metadata");
    return 0;
}

static void random_suffix(char out[6])
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    unsigned char b[5];
    RAND_bytes(b, sizeof(b));
    for (int i = 0; i < 5; i++)
        out[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
    out[5] = 0;
}

/* The namespace an object is written to must exist and not be ending. */
static int check_namespace(struct api_req *r, const char *ns)
{
    char key[API_KEY_MAX];
    snprintf(key, sizeof(key), "/registry/core/namespaces/%s", ns);
    struct store_value *v;
    if (store_get(r->api->st, key, &v, NULL) != 0) {
        api_respond_status(r, 404, "NotFound", ns, "namespaces",
                           "namespaces \"%s\" not found", ns);
        return -1;
    }
    bool terminating = strstr(v->data, "\"deletionTimestamp\"") != NULL;
    store_value_unref(v);
    if (terminating) {
        api_respond_status(r, 403, "Forbidden", r->t.name, r->t.rt->resource,
                           "%s \"%s\" is forbidden: unable to create new "
                           "content in namespace %s because it is being "
                           "terminated",
                           r->t.rt->resource, r->t.name, ns);
        return -1;
    }
    return 0;
}

static bool is_services(const struct resource_type *rt)
{
    return rt->group[0] == 0 && strcmp(rt->resource, "services") == 0;
}

/* Allocates or reserves the cluster IP of a new service. On failure adds
 * a field error. *allocated gets the address to release if the write
 * fails. */
static void service_assign_ip(struct api_req *r, struct json_object *obj,
                              struct ferr *errs, char *allocated, size_t len)
{
    allocated[0] = 0;
    struct json_object *spec = ju_obj(obj, "spec");
    if (!spec)
        return;
    const char *type = ju_str(spec, "type");
    if (type && strcmp(type, "ExternalName") == 0)
        return;
    const char *ip = ju_str(spec, "clusterIP");
    if (ip && strcmp(ip, "None") == 0) {
        struct json_object *ips = json_object_new_array();
        json_object_array_add(ips, json_object_new_string("None"));
        json_object_object_add(spec, "clusterIPs", ips);
        return;
    }
    char buf[64];
    if (!ip || !ip[0]) {
        if (ipalloc_allocate(r->api->svc_ips, buf, sizeof(buf)) != 0) {
            ferr_add(errs, FERR_INVALID, "spec.clusterIPs", NULL,
                     "failed to allocate a serviceIP: range is full");
            return;
        }
        snprintf(allocated, len, "%s", buf);
        ju_set_str(spec, "clusterIP", buf);
    } else {
        snprintf(buf, sizeof(buf), "%s", ip);
        int rc = ipalloc_reserve(r->api->svc_ips, buf);
        if (rc) {
            struct json_object *v = json_object_new_string(buf);
            ferr_add(errs, FERR_INVALID, "spec.clusterIPs", v,
                     "failed to allocate IP %s: %s", buf,
                     rc == -EEXIST ? "provided IP is already allocated"
                     : rc == -ERANGE
                         ? "the provided IP is not in the valid range"
                         : "not a valid IP address");
            json_object_put(v);
            return;
        }
        snprintf(allocated, len, "%s", buf);
    }
    struct json_object *ips = json_object_new_array();
    json_object_array_add(ips, json_object_new_string(buf));
    json_object_object_add(spec, "clusterIPs", ips);
}

static void handle_create(struct api_req *r, struct json_object *obj)
{
    const struct resource_type *rt = r->t.rt;
    char av[64];
    char allocated_ip[64] = "";
    struct ferr errs;
    ferr_init(&errs);
    if (check_type_meta(r, obj, rt->kind, resource_api_version(rt, av, sizeof(av))))
        goto out;
    struct json_object *md = ju_obj(obj, "metadata");
    const char *body_ns = ju_str(md, "namespace");
    if (rt->namespaced) {
        if (body_ns && body_ns[0] && strcmp(body_ns, r->t.ns) != 0) {
            respond_bad_request(r, "the namespace of the provided object does "
                                   "not match the namespace sent on the "
                                   "request");
            goto out;
        }
        ju_set_str(md, "namespace", r->t.ns);
    } else {
        json_object_object_del(md, "namespace");
    }
    const char *rv = ju_str(md, "resourceVersion");
    if (rv && rv[0]) {
        respond_bad_request(r, "resourceVersion should not be set on objects "
                               "to be created");
        goto out;
    }
    const char *name = ju_str(md, "name");
    const char *gen = ju_str(md, "generateName");
    if ((!name || !name[0]) && gen && gen[0]) {
        char suffix[6], full[API_NAME_MAX + 8];
        random_suffix(suffix);
        /* Kubernetes trims the prefix so the result stays <= 63. */
        snprintf(full, sizeof(full), "%.*s%s", 58, gen, suffix);
        ju_set_str(md, "name", full);
    }
    name = ju_str(md, "name");
    snprintf(r->t.name, sizeof(r->t.name), "%s", name ? name : "");

    if (rt->prepare_create)
        rt->prepare_create(obj);
    char uid[37], ts[32];
    api_new_uid(uid);
    api_now_rfc3339(ts);
    ju_set_str(md, "uid", uid);
    ju_set_str(md, "creationTimestamp", ts);
    json_object_object_del(md, "deletionTimestamp");
    json_object_object_del(md, "deletionGracePeriodSeconds");
    json_object_object_del(md, "managedFields");
    if (rt->has_generation)
        ju_set_int(md, "generation", 1);
    else
        json_object_object_del(md, "generation");
    if (rt->defaults)
        rt->defaults(obj);
    validate_object_meta(obj, rt, &errs);
    if (rt->validate)
        rt->validate(obj, NULL, &errs);
    if (errs.n == 0 && is_services(rt) && !r->dry_run)
        service_assign_ip(r, obj, &errs, allocated_ip, sizeof(allocated_ip));
    if (errs.n) {
        api_respond_invalid(r, r->t.name, &errs);
        goto release;
    }
    if (rt->namespaced && check_namespace(r, r->t.ns))
        goto release;
    char key[API_KEY_MAX];
    if (api_object_key(rt, r->t.ns, r->t.name, key, sizeof(key))) {
        respond_bad_request(r, "name is too long");
        goto release;
    }
    if (r->dry_run) {
        if (store_get(r->api->st, key, NULL, NULL) == 0) {
            api_respond_store_error(r, -KE_EXISTS, r->t.name);
            goto out;
        }
        respond_object(r, 201, obj);
        goto out;
    }
    if (write_and_respond(r, key, obj, -1, 201) != 0)
        goto release;
    goto out;
release:
    if (allocated_ip[0])
        ipalloc_release(r->api->svc_ips, allocated_ip);
out:
    ferr_free(&errs);
}

/* A copy of obj without metadata and status: what "spec changed" means
 * for generation. */
static struct json_object *spec_part(struct json_object *obj)
{
    struct json_object *c = json_clone(obj);
    json_object_object_del(c, "metadata");
    json_object_object_del(c, "status");
    return c;
}

static const char *const preserved_meta[] = {
    "uid", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "generation", NULL};


/* An object being deleted may lose finalizers but not gain them. */
static void check_new_finalizers(struct json_object *obj,
                                 struct json_object *old, struct ferr *errs)
{
    struct json_object *omd = ju_obj(old, "metadata");
    if (!ju_str(omd, "deletionTimestamp"))
        return;
    struct json_object *now = ju_arr(ju_obj(obj, "metadata"), "finalizers");
    struct json_object *was = ju_arr(omd, "finalizers");
    /* Listed the way Kubernetes prints them: []string{"a", "b"}. */
    struct buf added;
    buf_init(&added, 4096);
    int n = 0;
    for (size_t i = 0; i < ju_len(now); i++) {
        struct json_object *f = json_object_array_get_idx(now, i);
        bool found = false;
        for (size_t k = 0; k < ju_len(was) && !found; k++)
            found = json_equal(f, json_object_array_get_idx(was, k));
        if (!found) {
            size_t len;
            const char *q = api_json(f, &len);
            buf_puts(&added, n++ ? ", " : "");
            buf_append(&added, q, len);
        }
    }
    if (n > 0)
        ferr_add(errs, FERR_FORBIDDEN, "metadata.finalizers", NULL,
                 "no new finalizers can be added if the object is being "
                 "deleted, found new finalizers []string{%s}",
                 added.data);
    buf_free(&added);
}

enum update_mode { UPDATE_MAIN, UPDATE_STATUS };

/*
 * Writes `obj` as the new state of the stored object `old` (at revision
 * old_rev) and responds. Takes no ownership.
 */
static void do_update(struct api_req *r, struct json_object *obj,
                      struct json_object *old, int64_t old_rev,
                      enum update_mode mode)
{
    const struct resource_type *rt = r->t.rt;
    struct ferr errs;
    ferr_init(&errs);
    struct json_object *result = NULL;
    struct json_object *md = ju_obj(obj, "metadata");
    const char *name = ju_str(md, "name");
    if (name && name[0] && strcmp(name, r->t.name) != 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL,
                           "the name of the object (%s) does not match the "
                           "name on the URL (%s)",
                           name, r->t.name);
        goto out;
    }
    const char *ns = ju_str(md, "namespace");
    if (rt->namespaced && ns && ns[0] && strcmp(ns, r->t.ns) != 0) {
        respond_bad_request(r, "the namespace of the provided object does not "
                               "match the namespace sent on the request");
        goto out;
    }
    int64_t want_rev = api_object_rv(obj);
    if (want_rev < 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL,
                           "metadata.resourceVersion: Invalid value: \"%s\": "
                           "must be an integer",
                           ju_str(md, "resourceVersion"));
        goto out;
    }
    if (want_rev > 0 && want_rev != old_rev) {
        api_respond_store_error(r, -KE_CONFLICT, r->t.name);
        goto out;
    }
    if (mode == UPDATE_STATUS) {
        /* Only status changes; everything else stays as stored. */
        result = json_clone(old);
        struct json_object *st = json_object_object_get(obj, "status");
        if (st)
            json_object_object_add(result, "status", json_clone(st));
        else
            json_object_object_del(result, "status");
    } else {
        result = json_clone(obj);
        struct json_object *rmd = ju_obj_ensure(result, "metadata");
        struct json_object *omd = ju_obj(old, "metadata");
        ju_set_str(rmd, "name", r->t.name);
        if (rt->namespaced)
            ju_set_str(rmd, "namespace", r->t.ns);
        for (int i = 0; preserved_meta[i]; i++) {
            struct json_object *v = json_object_object_get(omd, preserved_meta[i]);
            if (v)
                json_object_object_add(rmd, preserved_meta[i], json_clone(v));
            else
                json_object_object_del(rmd, preserved_meta[i]);
        }
        json_object_object_del(rmd, "managedFields");
        if (rt->has_status) {
            struct json_object *st = json_object_object_get(old, "status");
            if (st)
                json_object_object_add(result, "status", json_clone(st));
            else
                json_object_object_del(result, "status");
        }
        char av[64];
        ju_set_str(result, "kind", rt->kind);
        ju_set_str(result, "apiVersion",
                   resource_api_version(rt, av, sizeof(av)));
        if (rt->defaults)
            rt->defaults(result);
        validate_object_meta(result, rt, &errs);
        check_new_finalizers(result, old, &errs);
        if (rt->validate)
            rt->validate(result, old, &errs);
        if (errs.n) {
            api_respond_invalid(r, r->t.name, &errs);
            goto out;
        }
        if (rt->has_generation) {
            struct json_object *a = spec_part(result), *b = spec_part(old);
            int64_t g = 1;
            ju_int(omd, "generation", &g);
            if (!json_equal(a, b))
                g++;
            ju_set_int(rmd, "generation", g);
            json_object_put(a);
            json_object_put(b);
        }
    }
    api_set_rv(result, old_rev);
    if (json_equal(result, old)) {
        /* Nothing changed: no write, no new revision. */
        respond_object(r, 200, old);
        goto out;
    }
    char key[API_KEY_MAX];
    api_object_key(rt, r->t.ns, r->t.name, key, sizeof(key));
    /* The last finalizer of an object being deleted is gone: delete it. */
    struct json_object *rmd = ju_obj(result, "metadata");
    if (ju_str(rmd, "deletionTimestamp") &&
        ju_len(ju_arr(rmd, "finalizers")) == 0) {
        if (!r->dry_run) {
            int rc = api_remove_object(r->api, rt, key, result, old_rev);
            if (rc) {
                api_respond_store_error(r, rc, r->t.name);
                goto out;
            }
        }
        respond_object(r, 200, result);
        goto out;
    }
    if (r->dry_run) {
        respond_object(r, 200, result);
        goto out;
    }
    write_and_respond(r, key, result, old_rev, 200);
out:
    json_object_put(result);
    ferr_free(&errs);
}

/* ---- scale ------------------------------------------------------------ */

static struct json_object *scale_of(const struct resource_type *rt,
                                    struct json_object *obj)
{
    struct json_object *s = json_object_new_object();
    json_object_object_add(s, "kind", json_object_new_string("Scale"));
    json_object_object_add(s, "apiVersion",
                           json_object_new_string("autoscaling/v1"));
    struct json_object *md = json_object_new_object();
    struct json_object *omd = ju_obj(obj, "metadata");
    static const char *const copy[] = {"name", "namespace", "uid",
                                       "resourceVersion",
                                       "creationTimestamp", NULL};
    for (int i = 0; copy[i]; i++) {
        struct json_object *v = json_object_object_get(omd, copy[i]);
        if (v)
            json_object_object_add(md, copy[i], json_clone(v));
    }
    json_object_object_add(s, "metadata", md);
    int64_t want = 0, have = 0;
    ju_int(ju_obj(obj, "spec"), "replicas", &want);
    ju_int(ju_obj(obj, "status"), "replicas", &have);
    struct json_object *spec = json_object_new_object();
    json_object_object_add(spec, "replicas", json_object_new_int64(want));
    json_object_object_add(s, "spec", spec);
    struct json_object *st = json_object_new_object();
    json_object_object_add(st, "replicas", json_object_new_int64(have));
    struct label_selector *sel = NULL;
    char err[128];
    if (label_selector_from_json(ju_obj(ju_obj(obj, "spec"), "selector"), &sel,
                                 err, sizeof(err)) == 0 && sel) {
        char *text = label_selector_string(sel);
        if (text)
            json_object_object_add(st, "selector", json_object_new_string(text));
        free(text);
        label_selector_free(sel);
    }
    json_object_object_add(s, "status", st);
    return s;
}

/* Applies a Scale body to the object: a new spec.replicas. */
static void scale_update(struct api_req *r, struct json_object *scale,
                         struct json_object *old, int64_t old_rev)
{
    struct json_object *spec = ju_obj(scale, "spec");
    struct json_object *rep = spec ? json_object_object_get(spec, "replicas")
                                   : NULL;
    struct ferr errs;
    ferr_init(&errs);
    if (rep && !json_object_is_type(rep, json_type_int))
        ferr_add(&errs, FERR_TYPE, "spec.replicas", rep, "must be an integer");
    else if (rep && json_object_get_int64(rep) < 0)
        ferr_add(&errs, FERR_INVALID, "spec.replicas", rep,
                 "must be greater than or equal to 0");
    if (errs.n) {
        /* Kubernetes reports Scale errors against the Scale kind. */
        const struct resource_type *saved = r->t.rt;
        struct resource_type scale_rt = *saved;
        scale_rt.kind = "Scale";
        r->t.rt = &scale_rt;
        api_respond_invalid(r, r->t.name, &errs);
        r->t.rt = saved;
        ferr_free(&errs);
        return;
    }
    ferr_free(&errs);
    int64_t want_rev = api_object_rv(scale);
    if (want_rev > 0 && want_rev != old_rev) {
        api_respond_store_error(r, -KE_CONFLICT, r->t.name);
        return;
    }
    struct json_object *obj = json_clone(old);
    json_object_object_del(ju_obj(obj, "metadata"), "resourceVersion");
    ju_set_int(ju_obj_ensure(obj, "spec"), "replicas",
               rep ? json_object_get_int64(rep) : 0);
    char key[API_KEY_MAX];
    api_object_key(r->t.rt, r->t.ns, r->t.name, key, sizeof(key));
    if (!json_equal(obj, old) && !r->dry_run) {
        struct json_object *a = spec_part(obj), *b = spec_part(old);
        int64_t g = 1;
        ju_int(ju_obj(old, "metadata"), "generation", &g);
        if (r->t.rt->has_generation && !json_equal(a, b))
            ju_set_int(ju_obj(obj, "metadata"), "generation", g + 1);
        json_object_put(a);
        json_object_put(b);
        int64_t rev = store_next_revision(r->api->st);
        api_set_rv(obj, rev);
        size_t len;
        const char *json = api_json(obj, &len);
        int rc = store_update(r->api->st, key, json, len, rev, old_rev);
        if (rc) {
            api_respond_store_error(r, rc, r->t.name);
            json_object_put(obj);
            return;
        }
    } else {
        api_set_rv(obj, old_rev);
    }
    struct json_object *s = scale_of(r->t.rt, obj);
    api_respond_json(r, 200, s);
    json_object_put(s);
    json_object_put(obj);
}

/* ---- patch ------------------------------------------------------------ */

static void handle_patch(struct api_req *r, struct json_object *old,
                         int64_t old_rev)
{
    const char *ct = http_header(r->http, "Content-Type");
    char ctype[128] = "";
    if (ct) {
        snprintf(ctype, sizeof(ctype), "%s", ct);
        char *semi = strchr(ctype, ';');
        if (semi)
            *semi = 0;
    }
    bool merge = strcmp(ctype, "application/merge-patch+json") == 0;
    bool jsonp = strcmp(ctype, "application/json-patch+json") == 0;
    bool smp = strcmp(ctype, "application/strategic-merge-patch+json") == 0;
    if (!merge && !jsonp && !smp) {
        api_respond_status(r, 415, "UnsupportedMediaType", NULL, NULL,
                           "the body of the request was in an unknown format "
                           "- accepted media types include: "
                           "application/json-patch+json, "
                           "application/merge-patch+json, "
                           "application/strategic-merge-patch+json (%s is "
                           "not supported yet)",
                           ctype[0] ? ctype : "no Content-Type");
        return;
    }
    if (r->http->body.len == 0) {
        respond_bad_request(r, "the patch body is empty");
        return;
    }
    char err[512];
    struct json_object *patch =
        api_parse_json(r->http->body.data, r->http->body.len, err, sizeof(err));
    if (!patch) {
        char msg[600];
        snprintf(msg, sizeof(msg), "the patch is not valid JSON: %s", err);
        respond_bad_request(r, msg);
        return;
    }
    if (jsonp && !json_object_is_type(patch, json_type_array)) {
        respond_bad_request(r, "json: cannot unmarshal object into Go value "
                               "of type jsonpatch.Patch (a JSON patch is an "
                               "array of operations)");
        json_object_put(patch);
        return;
    }
    bool scale = strcmp(r->t.sub, "scale") == 0;
    struct json_object *base = scale ? scale_of(r->t.rt, old) : json_object_get(old);
    struct json_object *patched = NULL;
    int rc;
    if (smp)
        rc = scale ? smp_apply("autoscaling", "Scale", base, patch, &patched,
                               err, sizeof(err))
                   : smp_apply(r->t.rt->group, r->t.rt->kind, base, patch,
                               &patched, err, sizeof(err));
    else if (merge)
        rc = patch_merge(base, patch, &patched, err, sizeof(err));
    else
        rc = patch_json(base, patch, &patched, err, sizeof(err));
    json_object_put(patch);
    json_object_put(base);
    if (rc && smp) {
        api_respond_status(r, rc == -KE_INVALID ? 400 : 500,
                           rc == -KE_INVALID ? "BadRequest" : "InternalError",
                           NULL, NULL, "%s", err);
        return;
    }
    if (rc) {
        if (rc == -KE_TOOBIG)
            api_respond_status(r, 413, "RequestEntityTooLarge", NULL, NULL,
                               "%s", err);
        else
            api_respond_status(r, rc == -KE_INVALID ? 422 : 500,
                               rc == -KE_INVALID ? "Invalid" : "InternalError",
                               NULL, NULL, "%s", err);
        return;
    }
    if (!json_object_is_type(patched, json_type_object)) {
        respond_bad_request(r, "the patched object is not a JSON object");
        json_object_put(patched);
        return;
    }
    if (scale) {
        scale_update(r, patched, old, old_rev);
    } else {
        /* A patch that does not mention resourceVersion is applied to the
         * current object unconditionally. */
        char av[64];
        if (check_type_meta(r, patched, r->t.rt->kind,
                            resource_api_version(r->t.rt, av, sizeof(av))) == 0)
            do_update(r, patched, old, old_rev,
                      strcmp(r->t.sub, "status") == 0 ? UPDATE_STATUS
                                                      : UPDATE_MAIN);
    }
    json_object_put(patched);
}

/* ---- delete ----------------------------------------------------------- */

static bool is_namespaces(const struct resource_type *rt)
{
    return rt->group[0] == 0 && strcmp(rt->resource, "namespaces") == 0;
}


int api_remove_object(struct apiserver *api, const struct resource_type *rt,
                         const char *key, struct json_object *obj,
                         int64_t expect_rev)
{
    int64_t rev = store_next_revision(api->st);
    api_set_rv(obj, rev);
    size_t len;
    struct json_object *tmp;
    const char *json = api_encode(rt, obj, &len, &tmp);
    int rc = json ? store_delete(api->st, key, json, len, rev, expect_rev)
                  : -ENOMEM;
    json_object_put(tmp);
    if (rc)
        return rc;
    if (is_services(rt)) {
        const char *ip = ju_str(ju_obj(obj, "spec"), "clusterIP");
        if (ip && strcmp(ip, "None") != 0)
            ipalloc_release(api->svc_ips, ip);
    }
    /* The last object of a terminating namespace lets it go. */
    if (rt->namespaced)
        api_namespaces_schedule(api);
    return 0;
}

/* Whether the JSON array arr holds the string v. */
static bool array_has_str(struct json_object *arr, const char *v)
{
    for (size_t i = 0; i < ju_len(arr); i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        if (json_object_is_type(e, json_type_string) &&
            strcmp(json_object_get_string(e), v) == 0)
            return true;
    }
    return false;
}

/*
 * Sets the garbage collector's finalizers of md for propagation prop, as
 * Kubernetes' registry does on delete: Orphan wants "orphan", Foreground
 * "foregroundDeletion", Background neither; DEFAULT leaves them as they
 * are. Returns whether the finalizers changed.
 */
static bool set_gc_finalizers(struct json_object *md, enum api_propagation prop)
{
    if (prop == API_PROPAGATE_DEFAULT)
        return false;
    const char *want = prop == API_PROPAGATE_ORPHAN       ? API_FINALIZER_ORPHAN
                       : prop == API_PROPAGATE_FOREGROUND ? API_FINALIZER_FOREGROUND
                                                          : NULL;
    struct json_object *was = ju_arr(md, "finalizers");
    struct json_object *now = json_object_new_array();
    bool changed = false;
    for (size_t i = 0; i < ju_len(was); i++) {
        struct json_object *e = json_object_array_get_idx(was, i);
        const char *f = json_object_is_type(e, json_type_string)
                            ? json_object_get_string(e)
                            : "";
        if ((strcmp(f, API_FINALIZER_ORPHAN) == 0 ||
             strcmp(f, API_FINALIZER_FOREGROUND) == 0) &&
            (!want || strcmp(f, want) != 0)) {
            changed = true;
            continue;
        }
        json_object_array_add(now, json_object_get(e));
    }
    if (want && !array_has_str(now, want)) {
        json_object_array_add(now, json_object_new_string(want));
        changed = true;
    }
    if (!changed)
        json_object_put(now);
    else if (json_object_array_length(now) == 0) {
        json_object_put(now);
        json_object_object_del(md, "finalizers");
    } else {
        json_object_object_add(md, "finalizers", now);
    }
    return changed;
}

/*
 * Deletes (or, with finalizers, marks for deletion) one stored object.
 * prop sets the garbage collector's finalizers first (Foreground and
 * Orphan hold the object until the collector has dealt with its
 * dependents; namespaces ignore it). *result is the object as returned to
 * the client (caller puts).
 */
int api_delete_object(struct apiserver *api, const struct resource_type *rt,
                      const char *key, struct json_object *obj, int64_t rev,
                      enum api_propagation prop, bool dry_run,
                      struct json_object **result)
{
    struct json_object *md = ju_obj_ensure(obj, "metadata");
    bool ns_obj = is_namespaces(rt);
    bool changed = ns_obj ? false : set_gc_finalizers(md, prop);
    bool has_finalizers = ju_len(ju_arr(md, "finalizers")) > 0;
    *result = json_object_get(obj);
    if (!has_finalizers && !ns_obj) {
        if (dry_run)
            return 0;
        return api_remove_object(api, rt, key, obj, rev);
    }
    if (!ju_str(md, "deletionTimestamp")) {
        char ts[32];
        api_now_rfc3339(ts);
        ju_set_str(md, "deletionTimestamp", ts);
        ju_set_int(md, "deletionGracePeriodSeconds", 0);
        int64_t gen;
        if (rt->has_generation && ju_int(md, "generation", &gen) && gen > 0)
            ju_set_int(md, "generation", gen + 1);
        if (ns_obj)
            ju_set_str(ju_obj_ensure(obj, "status"), "phase", "Terminating");
        changed = true;
    }
    if (changed && !dry_run) {
        int64_t nrev = store_next_revision(api->st);
        api_set_rv(obj, nrev);
        size_t len;
        struct json_object *tmp;
        const char *json = api_encode(rt, obj, &len, &tmp);
        int rc = json ? store_update(api->st, key, json, len, nrev, rev)
                      : -ENOMEM;
        json_object_put(tmp);
        if (rc)
            return rc;
    }
    if (ns_obj && !dry_run)
        api_namespaces_schedule(api);
    return 0;
}

/* What a DeleteOptions (body or query) asks for. */
struct delete_options {
    enum api_propagation prop;
    char uid[80];          /* preconditions.uid, "" if none */
    char rv[32];           /* preconditions.resourceVersion, "" if none */
    bool has_uid, has_rv;
};

/* Go's strconv.ParseBool, which the query parameter codec uses. */
static int parse_go_bool(const char *s, bool *out)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(s, t[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, f[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Answers 422 for DeleteOptions that fail validation, as Kubernetes does
 * (DeleteOptions.meta.k8s.io "" is invalid: ...). */
static void respond_invalid_options(struct api_req *r, const struct ferr *errs)
{
    const struct resource_type *saved = r->t.rt;
    struct resource_type opts = *saved; /* metrics count the resource */
    opts.group = "meta.k8s.io";
    opts.kind = "DeleteOptions";
    r->t.rt = &opts;
    api_respond_invalid(r, "", errs);
    r->t.rt = saved;
}

/*
 * Reads the request's DeleteOptions: the body when there is one, else the
 * query (?propagationPolicy=, ?orphanDependents=), as Kubernetes' delete
 * handlers do, and validates them. Returns 0, or -1 after answering the
 * request (400 for an unreadable body or parameter, 422 for a policy
 * Kubernetes refuses).
 */
static int parse_delete_options(struct api_req *r, struct delete_options *o)
{
    memset(o, 0, sizeof(*o));
    char policy[64] = "";
    bool has_policy = false, has_orphan = false, orphan = false;
    int rc = -1;
    struct json_object *opts = NULL;
    if (r->http->body.len > 0) {
        char err[256];
        opts = api_parse_json(r->http->body.data, r->http->body.len, err,
                              sizeof(err));
        if (!opts || !json_object_is_type(opts, json_type_object)) {
            char msg[400];
            snprintf(msg, sizeof(msg),
                     "the DeleteOptions body is not valid: %s",
                     opts ? "not an object" : err);
            respond_bad_request(r, msg);
            goto out;
        }
        struct json_object *v;
        if (json_object_object_get_ex(opts, "propagationPolicy", &v) && v) {
            if (!json_object_is_type(v, json_type_string)) {
                respond_bad_request(r, "json: cannot unmarshal into Go struct "
                                       "field DeleteOptions.propagationPolicy "
                                       "of type v1.DeletionPropagation");
                goto out;
            }
            snprintf(policy, sizeof(policy), "%s", json_object_get_string(v));
            has_policy = true;
        }
        if (json_object_object_get_ex(opts, "orphanDependents", &v) && v) {
            if (!json_object_is_type(v, json_type_boolean)) {
                respond_bad_request(r, "json: cannot unmarshal into Go struct "
                                       "field DeleteOptions.orphanDependents "
                                       "of type bool");
                goto out;
            }
            orphan = json_object_get_boolean(v);
            has_orphan = true;
        }
        struct json_object *pre = ju_obj(opts, "preconditions");
        const char *uid = ju_str(pre, "uid");
        const char *prv = ju_str(pre, "resourceVersion");
        if (uid) {
            snprintf(o->uid, sizeof(o->uid), "%s", uid);
            o->has_uid = true;
        }
        if (prv) {
            snprintf(o->rv, sizeof(o->rv), "%s", prv);
            o->has_rv = true;
        }
    } else {
        char v[64];
        int q = http_query(r->http, "propagationPolicy", policy,
                           sizeof(policy));
        if (q == -KE_TOOBIG) {
            /* No policy is that long; say so rather than misquote it. */
            respond_bad_request(r, "propagationPolicy: value too long");
            goto out;
        }
        has_policy = q == 0;
        if (http_query(r->http, "orphanDependents", v, sizeof(v)) == 0) {
            if (parse_go_bool(v, &orphan) != 0) {
                char msg[160];
                snprintf(msg, sizeof(msg),
                         "strconv.ParseBool: parsing \"%.40s\": invalid "
                         "syntax",
                         v);
                respond_bad_request(r, msg);
                goto out;
            }
            has_orphan = true;
        }
    }
    struct ferr errs;
    ferr_init(&errs);
    struct json_object *pv = json_object_new_string(policy);
    if (has_orphan && has_policy)
        ferr_invalid(&errs, "propagationPolicy", pv,
                     "orphanDependents and deletionPropagation cannot be both "
                     "set");
    if (has_policy && strcmp(policy, "Foreground") != 0 &&
        strcmp(policy, "Background") != 0 && strcmp(policy, "Orphan") != 0)
        ferr_add(&errs, FERR_NOT_SUPPORTED, "propagationPolicy", pv,
                 "supported values: \"Foreground\", \"Background\", "
                 "\"Orphan\", \"nil\"");
    json_object_put(pv);
    if (errs.n) {
        respond_invalid_options(r, &errs);
        ferr_free(&errs);
        goto out;
    }
    ferr_free(&errs);
    if (has_orphan)
        o->prop = orphan ? API_PROPAGATE_ORPHAN : API_PROPAGATE_BACKGROUND;
    else if (has_policy)
        o->prop = strcmp(policy, "Orphan") == 0 ? API_PROPAGATE_ORPHAN
                  : strcmp(policy, "Foreground") == 0 ? API_PROPAGATE_FOREGROUND
                                                      : API_PROPAGATE_BACKGROUND;
    rc = 0;
out:
    json_object_put(opts);
    return rc;
}

/* The DeleteOptions preconditions against the stored object. Returns 0,
 * or -1 after answering 409. */
static int check_preconditions(struct api_req *r, const struct delete_options *o,
                               struct json_object *obj, int64_t rev)
{
    const char *have_uid = api_meta_str(obj, "uid");
    if (o->has_uid && strcmp(o->uid, have_uid ? have_uid : "") != 0) {
        api_respond_status(r, 409, "Conflict", r->t.name, r->t.rt->resource,
                           "Operation cannot be fulfilled on %s \"%s\": the "
                           "UID in the precondition (%s) does not match the "
                           "UID in record (%s). The object might have been "
                           "deleted and then recreated",
                           r->t.rt->kind, r->t.name, o->uid,
                           have_uid ? have_uid : "");
        return -1;
    }
    if (o->has_rv && strtoll(o->rv, NULL, 10) != rev) {
        api_respond_status(r, 409, "Conflict", r->t.name, r->t.rt->resource,
                           "Operation cannot be fulfilled on %s \"%s\": the "
                           "ResourceVersion in the precondition (%s) does "
                           "not match the ResourceVersion in record (%lld). "
                           "The object might have been modified",
                           r->t.rt->kind, r->t.name, o->rv, (long long)rev);
        return -1;
    }
    return 0;
}

static void handle_delete(struct api_req *r)
{
    struct delete_options opts;
    if (parse_delete_options(r, &opts))
        return;
    struct json_object *obj;
    int64_t rev;
    int rc = load_object(r, &obj, &rev);
    if (rc) {
        api_respond_store_error(r, rc, r->t.name);
        return;
    }
    if (check_preconditions(r, &opts, obj, rev)) {
        json_object_put(obj);
        return;
    }
    char key[API_KEY_MAX];
    api_object_key(r->t.rt, r->t.ns, r->t.name, key, sizeof(key));
    struct json_object *result = NULL;
    rc = api_delete_object(r->api, r->t.rt, key, obj, rev, opts.prop,
                           r->dry_run, &result);
    if (rc)
        api_respond_store_error(r, rc, r->t.name);
    else
        respond_object(r, 200, result);
    json_object_put(result);
    json_object_put(obj);
}

static void handle_deletecollection(struct api_req *r)
{
    struct delete_options opts;
    if (parse_delete_options(r, &opts))
        return;
    struct list_query q;
    if (api_parse_selectors(r, &q))
        return;
    char prefix[API_KEY_MAX];
    api_collection_prefix(r->t.rt, r->t.ns, prefix, sizeof(prefix));
    struct api_keys keys;
    int rc = api_keys_collect(r->api->st, prefix, &keys);
    struct json_object *items = json_object_new_array();
    for (int k = 0; rc == 0 && k < keys.n; k++) {
        struct store_value *v;
        int64_t rev;
        if (store_get(r->api->st, keys.keys[k], &v, &rev) != 0)
            continue;
        char err[128];
        struct json_object *o =
            api_decode(r->t.rt, v->data, v->len, err, sizeof(err));
        store_value_unref(v);
        if (!o)
            continue;
        if (api_list_matches(&q, o)) {
            struct json_object *res = NULL;
            rc = api_delete_object(r->api, r->t.rt, keys.keys[k], o, rev,
                                   opts.prop, r->dry_run, &res);
            if (rc == 0)
                json_object_array_add(items, res);
            else
                json_object_put(res);
        }
        json_object_put(o);
    }
    api_keys_free(&keys);
    if (rc) {
        api_respond_store_error(r, rc, "");
    } else {
        char av[64], kind[96], rvs[24];
        struct json_object *list = json_object_new_object();
        snprintf(kind, sizeof(kind), "%sList", r->t.rt->kind);
        json_object_object_add(list, "kind", json_object_new_string(kind));
        json_object_object_add(list, "apiVersion", json_object_new_string(
                                   resource_api_version(r->t.rt, av, sizeof(av))));
        struct json_object *md = json_object_new_object();
        snprintf(rvs, sizeof(rvs), "%lld", (long long)store_revision(r->api->st));
        json_object_object_add(md, "resourceVersion", json_object_new_string(rvs));
        json_object_object_add(list, "metadata", md);
        json_object_object_add(list, "items", json_object_get(items));
        api_respond_json(r, 200, list);
        json_object_put(list);
    }
    json_object_put(items);
    api_list_query_free(&q);
}

/* ---- binding ---------------------------------------------------------- */

static void handle_binding(struct api_req *r, struct json_object *body)
{
    struct json_object *target = ju_obj(body, "target");
    const char *node = ju_str(target, "name");
    if (!node || !node[0]) {
        struct ferr errs;
        ferr_init(&errs);
        ferr_required(&errs, "target.name");
        const struct resource_type *saved = r->t.rt;
        struct resource_type b = *saved;
        b.kind = "Binding";
        r->t.rt = &b;
        api_respond_invalid(r, r->t.name, &errs);
        r->t.rt = saved;
        ferr_free(&errs);
        return;
    }
    struct json_object *obj;
    int64_t rev;
    int rc = load_object(r, &obj, &rev);
    if (rc) {
        api_respond_store_error(r, rc, r->t.name);
        return;
    }
    struct json_object *spec = ju_obj_ensure(obj, "spec");
    const char *cur = ju_str(spec, "nodeName");
    if (cur && cur[0]) {
        api_respond_status(r, 409, "Conflict", r->t.name, "pods",
                           "Operation cannot be fulfilled on pods/binding "
                           "\"%s\": pod %s is already assigned to node \"%s\"",
                           r->t.name, r->t.name, cur);
        json_object_put(obj);
        return;
    }
    ju_set_str(spec, "nodeName", node);
    /* As Kubernetes' binding does: PodScheduled=True. */
    struct json_object *pst = ju_obj_ensure(obj, "status");
    struct json_object *conds = ju_arr(pst, "conditions");
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; i < ju_len(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *t = ju_str(c, "type");
        if (!t || strcmp(t, "PodScheduled") != 0)
            json_object_array_add(list, json_object_get(c));
    }
    struct json_object *cond = json_object_new_object();
    char ts[32];
    api_now_rfc3339(ts);
    ju_set_str(cond, "type", "PodScheduled");
    ju_set_str(cond, "status", "True");
    json_object_object_add(cond, "lastProbeTime", NULL);
    ju_set_str(cond, "lastTransitionTime", ts);
    json_object_array_add(list, cond);
    json_object_object_add(pst, "conditions", list);
    char key[API_KEY_MAX];
    api_object_key(r->t.rt, r->t.ns, r->t.name, key, sizeof(key));
    if (!r->dry_run) {
        int64_t nrev = store_next_revision(r->api->st);
        api_set_rv(obj, nrev);
        size_t len;
        const char *json = api_json(obj, &len);
        rc = store_update(r->api->st, key, json, len, nrev, rev);
    }
    json_object_put(obj);
    if (rc) {
        api_respond_store_error(r, rc, r->t.name);
        return;
    }
    struct json_object *st = api_status_object(201, NULL, "");
    json_object_object_del(st, "message");
    api_respond_json(r, 201, st);
    json_object_put(st);
}

/* ---- dispatch --------------------------------------------------------- */

static bool sub_allowed(const struct resource_type *rt, const char *sub)
{
    if (!sub[0])
        return true;
    if (strcmp(sub, "status") == 0)
        return rt->has_status;
    if (strcmp(sub, "scale") == 0)
        return rt->has_scale;
    if (strcmp(sub, "binding") == 0)
        return rt->has_binding;
    return false;
}

bool api_query_is_watch(struct http_request *h)
{
    char v[16];
    if (http_query(h, "watch", v, sizeof(v)) != 0)
        return false;
    return strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
           strcmp(v, "True") == 0;
}

static void method_not_allowed(struct api_req *r)
{
    api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL,
                       "the server does not allow this method on the "
                       "requested resource");
}

void api_handle_resource(struct api_req *r)
{
    const char *m = method(r);
    struct api_target *t = &r->t;
    if (!sub_allowed(t->rt, t->sub)) {
        api_respond_status(r, 404, "NotFound", NULL, NULL,
                           "the server could not find the requested resource");
        return;
    }
    bool collection = t->name[0] == 0;
    if (strcmp(m, "GET") == 0) {
        if (r->verb && strcmp(r->verb, "watch") == 0) {
            api_handle_watch(r);
        } else if (collection) {
            if (api_query_is_watch(r->http)) {
                r->verb = "watch";
                api_handle_watch(r);
            } else {
                r->verb = "list";
                handle_list(r);
            }
        } else if (strcmp(t->sub, "scale") == 0) {
            r->verb = "get";
            struct json_object *obj;
            int64_t rev;
            int rc = load_object(r, &obj, &rev);
            if (rc) {
                api_respond_store_error(r, rc, t->name);
                return;
            }
            struct json_object *s = scale_of(t->rt, obj);
            api_respond_json(r, 200, s);
            json_object_put(s);
            json_object_put(obj);
        } else {
            r->verb = "get";
            handle_get(r);
        }
        return;
    }
    if (strcmp(m, "POST") == 0) {
        r->verb = "create";
        if (!collection && strcmp(t->sub, "binding") != 0) {
            method_not_allowed(r);
            return;
        }
        struct json_object *body = parse_body(r);
        if (!body)
            return;
        if (collection)
            handle_create(r, body);
        else
            handle_binding(r, body);
        json_object_put(body);
        return;
    }
    if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
        bool put = m[1] == 'U';
        r->verb = put ? "update" : "patch";
        if (collection || strcmp(t->sub, "binding") == 0) {
            method_not_allowed(r);
            return;
        }
        /* A PUT body is read and checked against the URL before the
         * object is looked up, as Kubernetes does. */
        struct json_object *body = NULL;
        if (put) {
            body = parse_body(r);
            if (!body)
                return;
            const char *bname = ju_str(ju_obj(body, "metadata"), "name");
            if (!t->sub[0] && bname && bname[0] &&
                strcmp(bname, t->name) != 0) {
                api_respond_status(r, 400, "BadRequest", NULL, NULL,
                                   "the name of the object (%s) does not "
                                   "match the name on the URL (%s)",
                                   bname, t->name);
                json_object_put(body);
                return;
            }
        }
        struct json_object *old;
        int64_t rev;
        int rc = load_object(r, &old, &rev);
        if (rc) {
            api_respond_store_error(r, rc, t->name);
            json_object_put(body);
            return;
        }
        if (!put) {
            handle_patch(r, old, rev);
        } else {
            char av[64];
            if (strcmp(t->sub, "scale") == 0)
                scale_update(r, body, old, rev);
            else if (check_type_meta(r, body, t->rt->kind,
                                     resource_api_version(t->rt, av,
                                                          sizeof(av))) == 0)
                do_update(r, body, old, rev,
                          t->sub[0] ? UPDATE_STATUS : UPDATE_MAIN);
        }
        json_object_put(body);
        json_object_put(old);
        return;
    }
    if (strcmp(m, "DELETE") == 0) {
        if (t->sub[0]) {
            method_not_allowed(r);
            return;
        }
        if (collection) {
            r->verb = "deletecollection";
            handle_deletecollection(r);
        } else {
            r->verb = "delete";
            handle_delete(r);
        }
        return;
    }
    method_not_allowed(r);
}
