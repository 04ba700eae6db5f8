/*
 * Namespace termination, the job of Kubernetes' namespace controller: a
 * namespace marked for deletion has its objects deleted shortly after
 * (asynchronously, so `kubectl delete -f` of a file holding a namespace
 * and its objects deletes each of them as on Kubernetes), and goes once
 * nothing is left. Objects with finalizers hold it until they are gone.
 * Terminations interrupted by a restart resume at start.
 */
#include "api/internal.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAMESPACE_FINISH_DELAY_MS 1000

static int collect(void *arg, const char *key, struct store_value *v,
                   int64_t rev)
{
    struct api_keys *k = arg;
    if (k->n == k->cap) {
        int cap = k->cap ? k->cap * 2 : 64;
        char **p = realloc(k->keys, (size_t)cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        k->keys = p;
        k->cap = cap;
    }
    k->keys[k->n] = strdup(key);
    if (!k->keys[k->n])
        return -ENOMEM;
    k->n++;
    return 0;
}

int api_keys_collect(struct store *st, const char *prefix, struct api_keys *k)
{
    memset(k, 0, sizeof(*k));
    int rc = store_list(st, prefix, NULL, 0, collect, k, NULL);
    if (rc)
        api_keys_free(k);
    return rc;
}

void api_keys_free(struct api_keys *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    memset(k, 0, sizeof(*k));
}

/* Deletes what is in namespace ns; returns how many objects remain. */
static int purge(struct apiserver *api, const char *ns)
{
    int remaining = 0;
    char err[128];
    for (int i = 0; resource_types[i] && resource_types[i]->resource; i++) {
        const struct resource_type *rt = resource_types[i];
        if (!rt->namespaced || rt->storage)
            continue;
        char prefix[API_KEY_MAX];
        api_collection_prefix(rt, ns, prefix, sizeof(prefix));
        struct api_keys keys;
        if (api_keys_collect(api->st, prefix, &keys) != 0) {
            remaining++;
            continue;
        }
        for (int k = 0; k < keys.n; k++) {
            struct store_value *v;
            int64_t rev;
            if (store_get(api->st, keys.keys[k], &v, &rev) != 0)
                continue;
            struct json_object *o = api_parse_json(v->data, v->len, err,
                                                   sizeof(err));
            store_value_unref(v);
            if (!o) {
                remaining++;
                continue;
            }
            struct json_object *res = NULL;
            /* Background, as Kubernetes' namespace deleter asks. */
            if (api_delete_object(api, rt, keys.keys[k], o, rev,
                                  API_PROPAGATE_BACKGROUND, false, &res) != 0 ||
                ju_len(ju_arr(ju_obj(o, "metadata"), "finalizers")) > 0)
                remaining++;
            json_object_put(res);
            json_object_put(o);
        }
        api_keys_free(&keys);
    }
    return remaining;
}

static void finish(struct apiserver *api, const char *key)
{
    struct store_value *v;
    int64_t rev;
    if (store_get(api->st, key, &v, &rev) != 0)
        return;
    char err[128];
    struct json_object *ns = api_parse_json(v->data, v->len, err, sizeof(err));
    store_value_unref(v);
    const char *name = api_meta_str(ns, "name");
    if (!ns || !name || !api_meta_str(ns, "deletionTimestamp")) {
        json_object_put(ns);
        return;
    }
    char nsname[API_NAME_MAX];
    snprintf(nsname, sizeof(nsname), "%s", name);
    if (purge(api, nsname) == 0 && store_get(api->st, key, NULL, &rev) == 0) {
        int64_t next = store_next_revision(api->st);
        api_set_rv(ns, next);
        size_t len;
        const char *json = api_json(ns, &len);
        int rc = store_delete(api->st, key, json, len, next, rev);
        if (rc == 0)
            log_info("api", "namespace %s deleted", nsname);
        else
            log_warn("api", "namespace %s: %s", nsname, ke_strerror(rc));
    }
    json_object_put(ns);
}

static void on_timer(uv_timer_t *t)
{
    struct apiserver *api = t->data;
    struct api_keys keys;
    if (api_keys_collect(api->st, "/registry/core/namespaces/", &keys) != 0)
        return;
    for (int i = 0; i < keys.n; i++)
        finish(api, keys.keys[i]);
    api_keys_free(&keys);
}

void api_namespaces_schedule(struct apiserver *api)
{
    if (api->ns_timer && !uv_is_active((uv_handle_t *)api->ns_timer))
        uv_timer_start(api->ns_timer, on_timer, NAMESPACE_FINISH_DELAY_MS, 0);
}

int api_namespaces_init(struct apiserver *api)
{
    api->ns_timer = malloc(sizeof(*api->ns_timer));
    if (!api->ns_timer)
        return -ENOMEM;
    uv_timer_init(api->loop, api->ns_timer);
    api->ns_timer->data = api;
    api_namespaces_schedule(api);
    return 0;
}

static void on_closed(uv_handle_t *h) { free(h); }

void api_namespaces_stop(struct apiserver *api)
{
    if (!api->ns_timer)
        return;
    uv_timer_stop(api->ns_timer);
    uv_close((uv_handle_t *)api->ns_timer, on_closed);
    api->ns_timer = NULL;
}
