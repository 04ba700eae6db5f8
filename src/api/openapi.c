/*
 * OpenAPI v3 discovery: /openapi/v3 lists one document per group version;
 * each document holds the paths of that version's resources with their
 * operations, the x-kubernetes-group-version-kind of each, and the
 * fieldValidation parameter on writes (which is how kubectl learns that the
 * server validates fields itself). Schemas name each kind; the detailed
 * per-field schemas come with the kubectl-completeness milestone.
 */
#include "api/internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static struct json_object *gvk(const char *g, const char *v, const char *k)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "group", json_object_new_string(g));
    json_object_object_add(o, "version", json_object_new_string(v));
    json_object_object_add(o, "kind", json_object_new_string(k));
    return o;
}

static struct json_object *param(const char *name, const char *in,
                                 const char *type, bool required,
                                 const char *desc)
{
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "name", json_object_new_string(name));
    json_object_object_add(p, "in", json_object_new_string(in));
    json_object_object_add(p, "description", json_object_new_string(desc));
    if (required)
        json_object_object_add(p, "required", json_object_new_boolean(1));
    struct json_object *s = json_object_new_object();
    json_object_object_add(s, "type", json_object_new_string(type));
    json_object_object_add(p, "schema", s);
    return p;
}

static char *schema_name(const struct resource_type *rt, char *out, size_t len)
{
    /* io.k8s.api.<group-short>.<version>.<Kind>, as Kubernetes names them. */
    char g[64];
    if (!rt->group[0])
        snprintf(g, sizeof(g), "core");
    else {
        snprintf(g, sizeof(g), "%s", rt->group);
        char *dot = strchr(g, '.');
        if (dot)
            *dot = 0;
    }
    snprintf(out, len, "io.k8s.api.%s.%s.%s", g, rt->version, rt->kind);
    return out;
}

static struct json_object *ref_response(const char *schema)
{
    char ref[256];
    snprintf(ref, sizeof(ref), "#/components/schemas/%s", schema);
    struct json_object *s = json_object_new_object();
    json_object_object_add(s, "$ref", json_object_new_string(ref));
    struct json_object *media = json_object_new_object();
    json_object_object_add(media, "schema", s);
    struct json_object *content = json_object_new_object();
    json_object_object_add(content, "application/json", media);
    struct json_object *ok = json_object_new_object();
    json_object_object_add(ok, "description", json_object_new_string("OK"));
    json_object_object_add(ok, "content", content);
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "200", ok);
    return r;
}

static struct json_object *operation(const struct resource_type *rt,
                                     const char *action, const char *opid,
                                     const char *schema, bool write)
{
    struct json_object *op = json_object_new_object();
    json_object_object_add(op, "operationId", json_object_new_string(opid));
    json_object_object_add(op, "x-kubernetes-action",
                           json_object_new_string(action));
    json_object_object_add(op, "x-kubernetes-group-version-kind",
                           gvk(rt->group, rt->version, rt->kind));
    struct json_object *params = json_object_new_array();
    if (write) {
        json_object_array_add(
            params, param("dryRun", "query", "string", false,
                          "When present, indicates that modifications should "
                          "not be persisted."));
        json_object_array_add(
            params, param("fieldManager", "query", "string", false,
                          "A name associated with the actor making the "
                          "change."));
        json_object_array_add(
            params, param("fieldValidation", "query", "string", false,
                          "How the server handles unknown or duplicate "
                          "fields: Ignore, Warn or Strict."));
    }
    json_object_object_add(op, "parameters", params);
    json_object_object_add(op, "responses", ref_response(schema));
    return op;
}

static struct json_object *gv_document(const char *group, const char *version)
{
    struct json_object *paths = json_object_new_object();
    struct json_object *schemas = json_object_new_object();
    char base[128];
    if (group[0])
        snprintf(base, sizeof(base), "/apis/%s/%s", group, version);
    else
        snprintf(base, sizeof(base), "/api/%s", version);
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (strcmp(rt->group, group) != 0 || strcmp(rt->version, version) != 0)
            continue;
        char schema[160], coll[256], item[300], opid[160];
        schema_name(rt, schema, sizeof(schema));
        if (rt->namespaced)
            snprintf(coll, sizeof(coll), "%s/namespaces/{namespace}/%s", base,
                     rt->resource);
        else
            snprintf(coll, sizeof(coll), "%s/%s", base, rt->resource);
        snprintf(item, sizeof(item), "%s/{name}", coll);

        struct json_object *cp = json_object_new_object();
        snprintf(opid, sizeof(opid), "list%s", rt->kind);
        json_object_object_add(cp, "get", operation(rt, "list", opid, schema, false));
        snprintf(opid, sizeof(opid), "create%s", rt->kind);
        json_object_object_add(cp, "post", operation(rt, "post", opid, schema, true));
        snprintf(opid, sizeof(opid), "deletecollection%s", rt->kind);
        json_object_object_add(cp, "delete", operation(rt, "deletecollection", opid, schema, false));
        json_object_object_add(paths, coll, cp);

        struct json_object *ip = json_object_new_object();
        snprintf(opid, sizeof(opid), "read%s", rt->kind);
        json_object_object_add(ip, "get", operation(rt, "get", opid, schema, false));
        snprintf(opid, sizeof(opid), "replace%s", rt->kind);
        json_object_object_add(ip, "put", operation(rt, "put", opid, schema, true));
        snprintf(opid, sizeof(opid), "patch%s", rt->kind);
        json_object_object_add(ip, "patch", operation(rt, "patch", opid, schema, true));
        snprintf(opid, sizeof(opid), "delete%s", rt->kind);
        json_object_object_add(ip, "delete", operation(rt, "delete", opid, schema, false));
        json_object_object_add(paths, item, ip);

        struct json_object *s = json_object_new_object();
        json_object_object_add(s, "type", json_object_new_string("object"));
        char desc[200];
        snprintf(desc, sizeof(desc), "%s (%s).", rt->kind,
                 rt->group[0] ? rt->group : "core");
        json_object_object_add(s, "description", json_object_new_string(desc));
        json_object_object_add(s, "x-kubernetes-preserve-unknown-fields",
                               json_object_new_boolean(1));
        struct json_object *gvks = json_object_new_array();
        json_object_array_add(gvks, gvk(rt->group, rt->version, rt->kind));
        json_object_object_add(s, "x-kubernetes-group-version-kind", gvks);
        json_object_object_add(schemas, schema, s);
    }
    struct json_object *doc = json_object_new_object();
    json_object_object_add(doc, "openapi", json_object_new_string("3.0.0"));
    struct json_object *info = json_object_new_object();
    json_object_object_add(info, "title", json_object_new_string("Kubernetes"));
    json_object_object_add(info, "version", json_object_new_string("v1.32.0"));
    json_object_object_add(doc, "info", info);
    json_object_object_add(doc, "paths", paths);
    struct json_object *comp = json_object_new_object();
    json_object_object_add(comp, "schemas", schemas);
    json_object_object_add(doc, "components", comp);
    return doc;
}

/* Hex digest of a document, used in the root's URLs so clients cache. */
static void doc_hash(struct json_object *doc, char out[33])
{
    size_t len;
    const char *s = api_json(doc, &len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02X", md[i]);
}

/*
 * /openapi/v2: a minimal Swagger 2.0 document (no definitions). kubectl
 * up to 1.28 fetches it (as protobuf, the gnostic OpenAPIv2 Document) for
 * apply and falls back to its built-in type metadata for kinds the
 * document does not describe; the per-field schemas live in v3.
 */
static void openapi_v2(struct api_req *r)
{
    const char *accept = http_header(r->http, "Accept");
    if (accept && strstr(accept, "protobuf")) {
        /* Document{swagger:"2.0", info:{title, version}, paths:{}} */
        static const char pb[] = "\x0a\x03" "2.0"
                                 "\x12\x15"
                                 "\x0a\x0a" "Kubernetes"
                                 "\x12\x07" "v1.32.0"
                                 "\x42\x00";
        metrics_observe(&r->api->metrics, "get", "", 200, 0);
        http_respond(r->http, 200,
                     "application/com.github.proto-openapi.spec.v2.v1.0+"
                     "protobuf",
                     NULL, pb, sizeof(pb) - 1);
        return;
    }
    static const char doc[] =
        "{\"swagger\":\"2.0\",\"info\":{\"title\":\"Kubernetes\","
        "\"version\":\"v1.32.0\"},\"paths\":{},\"definitions\":{}}";
    api_respond_raw(r, 200, doc, sizeof(doc) - 1);
}

int api_openapi(struct api_req *r, const char *path)
{
    r->verb = "get";
    if (strcmp(path, "/openapi/v2") == 0) {
        openapi_v2(r);
        return 0;
    }
    if (strcmp(path, "/openapi/v3") == 0 || strcmp(path, "/openapi/v3/") == 0) {
        struct json_object *paths = json_object_new_object();
        const char *seen[32];
        int nseen = 0;
        for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
            const struct resource_type *rt = resource_types[i];
            bool dup = false;
            for (int k = 0; k < nseen; k++)
                if (strcmp(seen[k], rt->group) == 0)
                    dup = true;
            if (dup || nseen == 32)
                continue;
            seen[nseen++] = rt->group;
            char key[128], url[256], hash[33];
            if (rt->group[0])
                snprintf(key, sizeof(key), "apis/%s/%s", rt->group, rt->version);
            else
                snprintf(key, sizeof(key), "api/%s", rt->version);
            struct json_object *doc = gv_document(rt->group, rt->version);
            doc_hash(doc, hash);
            json_object_put(doc);
            snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%s", key, hash);
            struct json_object *e = json_object_new_object();
            json_object_object_add(e, "serverRelativeURL",
                                   json_object_new_string(url));
            json_object_object_add(paths, key, e);
        }
        struct json_object *root = json_object_new_object();
        json_object_object_add(root, "paths", paths);
        api_respond_json(r, 200, root);
        json_object_put(root);
        return 0;
    }
    char group[128] = "", version[64] = "";
    if (sscanf(path, "/openapi/v3/api/%63[^/]", version) == 1) {
        group[0] = 0;
    } else if (sscanf(path, "/openapi/v3/apis/%127[^/]/%63[^/]", group,
                      version) != 2) {
        return -1;
    }
    bool known = false;
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++)
        if (strcmp(resource_types[i]->group, group) == 0 &&
            strcmp(resource_types[i]->version, version) == 0)
            known = true;
    if (!known)
        return -1;
    struct json_object *doc = gv_document(group, version);
    api_respond_json(r, 200, doc);
    json_object_put(doc);
    return 0;
}
