/*
 * EdgeHub message handling without sockets: hello, snapshot with cleanup
 * of keys the snapshot did not name, incremental puts and deletes with
 * local revisions, identical puts that write nothing, the cloud revision
 * persisted with the changes, acks, bad messages, and the durable outbox
 * (queued offline, coalesced reports, reloaded after a restart, sent in
 * order after hello, removed on response).
 */
#include "edgehub/edgehub.h"
#include "resources/jsonutil.h"
#include "util/errors.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/kedge-edgehub-XXXXXX";
static char path[256];

struct sent {
    char msgs[32][2048];
    int n;
};

static int capture(void *arg, const char *data, size_t len)
{
    struct sent *s = arg;
    if (s->n < 32)
        snprintf(s->msgs[s->n++], sizeof(s->msgs[0]), "%.*s", (int)len, data);
    return 0;
}

static int rx(struct edgehub *hub, const char *msg)
{
    return edgehub_receive(hub, msg, strlen(msg));
}

static struct store *open_store(void)
{
    struct store_backend *be;
    struct store *st;
    if (store_sqlite_open(path, false, &be) || store_open(be, 100, &st))
        return NULL;
    return st;
}

static int64_t meta_rev(struct store *st)
{
    int64_t v = -1;
    store_meta_get_int(st, EDGEHUB_META_CLOUD_REV, &v);
    return v;
}

static const char *value_of(struct store *st, const char *key, char *out,
                            size_t len)
{
    struct store_value *v = NULL;
    if (store_get(st, key, &v, NULL) != 0)
        return NULL;
    snprintf(out, len, "%s", v->data);
    store_value_unref(v);
    return out;
}

static int got_code = -1;
static void on_answer(void *arg, int code, struct json_object *body)
{
    got_code = code;
}

static void test_sync(void)
{
    struct store *st = open_store();
    CHECK(st != NULL);
    if (!st)
        return;
    /* A key the cloud will not name in its snapshot. */
    const char *stale = "{\"metadata\":{\"name\":\"old\"}}";
    CHECK_INT(store_create(st, "/registry/core/configmaps/default/old", stale,
                           strlen(stale), store_next_revision(st)), 0);
    struct edgehub_config cfg = {.node = "n1", .st = st};
    struct edgehub *hub;
    CHECK_INT(edgehub_new(NULL, &cfg, &hub), 0);
    struct sent s = {0};
    edgehub_attach(hub, capture, &s);
    CHECK_INT(s.n, 1);
    CHECK(strstr(s.msgs[0], "\"type\":\"hello\"") != NULL);
    CHECK(strstr(s.msgs[0], "\"node\":\"n1\"") != NULL);
    CHECK(strstr(s.msgs[0], "\"rev\":0") != NULL);

    CHECK_INT(rx(hub, "{\"type\":\"welcome\",\"rev\":5,\"snapshot\":true}"), 0);
    CHECK_INT(rx(hub, "{\"type\":\"snapshot-begin\",\"rev\":5}"), 0);
    CHECK_INT(rx(hub, "{\"type\":\"put\",\"rev\":3,\"key\":\"/registry/core/"
                      "pods/default/a\",\"object\":{\"kind\":\"Pod\","
                      "\"metadata\":{\"name\":\"a\",\"resourceVersion\":"
                      "\"3\"}}}"), 0);
    CHECK_INT(rx(hub, "{\"type\":\"put\",\"rev\":4,\"key\":\"/registry/core/"
                      "configmaps/default/b\",\"object\":{\"kind\":"
                      "\"ConfigMap\",\"metadata\":{\"name\":\"b\"}}}"), 0);
    /* nothing persisted or acked in the middle of a snapshot */
    CHECK_INT(meta_rev(st), -1);
    CHECK_INT(s.n, 1);
    CHECK(!edgehub_ready(hub));
    CHECK_INT(rx(hub, "{\"type\":\"snapshot-end\",\"rev\":5}"), 0);
    CHECK(edgehub_ready(hub));
    CHECK_INT(meta_rev(st), 5);
    CHECK_INT(s.n, 2);
    CHECK_STR(s.msgs[1], "{\"type\":\"ack\",\"rev\":5}");
    CHECK_INT(store_get(st, "/registry/core/configmaps/default/old", NULL,
                        NULL), -KE_NOTFOUND);
    char buf[1024];
    /* objects carry the local revision */
    int64_t lrev = 0;
    CHECK_INT(store_get(st, "/registry/core/pods/default/a", NULL, &lrev), 0);
    char want[128];
    snprintf(want, sizeof(want), "\"resourceVersion\":\"%lld\"",
             (long long)lrev);
    CHECK(value_of(st, "/registry/core/pods/default/a", buf, sizeof(buf)) &&
          strstr(buf, want));

    /* an identical put writes nothing, but the revision moves on */
    int64_t before = store_revision(st);
    CHECK_INT(rx(hub, "{\"type\":\"put\",\"rev\":6,\"key\":\"/registry/core/"
                      "pods/default/a\",\"object\":{\"kind\":\"Pod\","
                      "\"metadata\":{\"name\":\"a\",\"resourceVersion\":"
                      "\"6\"}}}"), 0);
    CHECK_INT(store_revision(st), before);
    CHECK_STR(s.msgs[s.n - 1], "{\"type\":\"ack\",\"rev\":6}");
    /* the same object in another key order writes nothing either */
    CHECK_INT(rx(hub, "{\"type\":\"put\",\"rev\":6,\"key\":\"/registry/core/"
                      "pods/default/a\",\"object\":{\"metadata\":{"
                      "\"resourceVersion\":\"6\",\"name\":\"a\"},\"kind\":"
                      "\"Pod\"}}"), 0);
    CHECK_INT(store_revision(st), before);
    /* a change is written with its cloud revision */
    CHECK_INT(rx(hub, "{\"type\":\"put\",\"rev\":7,\"key\":\"/registry/core/"
                      "pods/default/a\",\"object\":{\"kind\":\"Pod\","
                      "\"metadata\":{\"name\":\"a\"},\"status\":{\"phase\":"
                      "\"Running\"}}}"), 0);
    CHECK_INT(store_revision(st), before + 1);
    CHECK_INT(meta_rev(st), 7);
    CHECK(value_of(st, "/registry/core/pods/default/a", buf, sizeof(buf)) &&
          strstr(buf, "Running"));
    CHECK_INT(rx(hub, "{\"type\":\"delete\",\"rev\":8,\"key\":\"/registry/"
                      "core/configmaps/default/b\"}"), 0);
    CHECK_INT(store_get(st, "/registry/core/configmaps/default/b", NULL, NULL),
              -KE_NOTFOUND);
    CHECK_INT(meta_rev(st), 8);
    before = store_revision(st);
    CHECK_INT(rx(hub, "{\"type\":\"delete\",\"rev\":9,\"key\":\"/registry/"
                      "core/configmaps/default/b\"}"), 0);
    CHECK_INT(store_revision(st), before);
    /* keys outside /registry/ are not the cloud's to write */
    CHECK_INT(rx(hub, "{\"type\":\"put\",\"rev\":10,\"key\":\"/kedge/outbox/"
                      "1\",\"object\":{}}"), 0);
    CHECK_INT(store_get(st, "/kedge/outbox/1", NULL, NULL), -KE_NOTFOUND);
    /* sync persists the revision */
    CHECK_INT(rx(hub, "{\"type\":\"sync\",\"rev\":12}"), 0);
    CHECK_INT(meta_rev(st), 12);
    CHECK_INT(edgehub_cloud_rev(hub), 12);
    /* unknown types are ignored, malformed messages refused */
    CHECK_INT(rx(hub, "{\"type\":\"future\",\"x\":1}"), 0);
    CHECK_INT(rx(hub, "{\"type\":"), -KE_PARSE);
    CHECK_INT(rx(hub, "[1,2]"), -KE_PARSE);
    CHECK_INT(rx(hub, "{} trailing"), -KE_PARSE);

    /* offline: a GET fails at once, writes are queued durably */
    edgehub_detach(hub);
    got_code = -1;
    CHECK_INT(edgehub_request(hub, "GET", "/api/v1/nodes/n1", NULL, NULL,
                              on_answer, NULL), 0);
    CHECK_INT(got_code, 0);
    CHECK_INT(edgehub_request(hub, "POST", "/api/v1/nodes", NULL,
                              "{\"kind\":\"Node\"}", NULL, NULL), 0);
    CHECK_INT(edgehub_report(hub, "/api/v1/namespaces/d/pods/a/status",
                             "{\"status\":{\"phase\":\"Pending\"}}"), 0);
    CHECK_INT(edgehub_report(hub, "/api/v1/namespaces/d/pods/a/status",
                             "{\"status\":{\"phase\":\"Running\"}}"), 0);
    CHECK_INT(edgehub_outbox_len(hub), 2);
    CHECK_INT(edgehub_request(hub, "BREW", "/x", NULL, NULL, NULL, NULL),
              -EINVAL);
    CHECK_INT(edgehub_request(hub, "POST", "/x", NULL, "[1]", NULL, NULL),
              -EINVAL);
    edgehub_free(hub);
    store_close(st);

    /* after a restart: the outbox and the revision are still there */
    st = open_store();
    CHECK(st != NULL);
    if (!st)
        return;
    cfg.st = st;
    CHECK_INT(edgehub_new(NULL, &cfg, &hub), 0);
    CHECK_INT(edgehub_outbox_len(hub), 2);
    memset(&s, 0, sizeof(s));
    edgehub_attach(hub, capture, &s);
    CHECK_INT(s.n, 3);
    CHECK(strstr(s.msgs[0], "\"rev\":12") != NULL);
    CHECK(strstr(s.msgs[1], "\"method\":\"POST\"") &&
          strstr(s.msgs[1], "\"id\":1"));
    CHECK(strstr(s.msgs[2], "\"method\":\"PATCH\"") &&
          strstr(s.msgs[2], "Running") && !strstr(s.msgs[2], "Pending") &&
          strstr(s.msgs[2], "\"id\":2") &&
          strstr(s.msgs[2], "application/merge-patch+json"));
    CHECK_INT(rx(hub, "{\"type\":\"response\",\"id\":1,\"code\":201,"
                      "\"body\":{}}"), 0);
    CHECK_INT(edgehub_outbox_len(hub), 1);
    /* while connected a request goes out at once */
    got_code = -1;
    CHECK_INT(edgehub_request(hub, "GET", "/api/v1/nodes/n1", NULL, NULL,
                              on_answer, NULL), 0);
    CHECK_INT(s.n, 4);
    CHECK(strstr(s.msgs[3], "\"id\":3") && strstr(s.msgs[3], "GET"));
    CHECK_INT(rx(hub, "{\"type\":\"response\",\"id\":3,\"code\":200,"
                      "\"body\":{\"kind\":\"Node\"}}"), 0);
    CHECK_INT(got_code, 200);
    CHECK_INT(rx(hub, "{\"type\":\"response\",\"id\":2,\"code\":200,"
                      "\"body\":{}}"), 0);
    CHECK_INT(edgehub_outbox_len(hub), 0);
    edgehub_free(hub);
    store_close(st);
}

static int count_fn(void *arg, const char *key, struct store_value *v,
                    int64_t rev)
{
    (*(int *)arg)++;
    return 0;
}

static void test_outbox_empty(void)
{
    struct store *st = open_store();
    if (!st)
        return;
    int n = 0;
    CHECK_INT(store_list(st, EDGEHUB_OUTBOX_PREFIX, NULL, 0, count_fn, &n,
                         NULL), 0);
    CHECK_INT(n, 0);
    store_close(st);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/edge.db", dir);
    test_sync();
    test_outbox_empty();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return unit_done("edgehub");
}
