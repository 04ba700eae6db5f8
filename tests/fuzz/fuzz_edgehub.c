/*
 * Fuzz target for the edge's handling of the cloud's messages
 * (edgehub_receive): the input is a session, one message per line, fed
 * after a hello to a hub over one edge store kept for the whole run.
 * Beyond memory errors it checks that nothing is ever written outside
 * /registry/ by the cloud (the outbox and pod IPs are the edge's own).
 */
#include "edgehub/edgehub.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct store *st;

static int sink(void *arg, const char *data, size_t len) { return 0; }

static int count_own(void *arg, const char *key, struct store_value *v,
                     int64_t rev)
{
    (*(int *)arg)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    if (!st) {
        char path[] = "/tmp/kedge-fuzz-edgehub-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
        struct store_backend *be;
        if (store_sqlite_open(path, false, &be) || store_open(be, 64, &st))
            abort();
        unlink(path);
    }
    struct edgehub_config cfg = {.node = "fuzz", .st = st};
    struct edgehub *hub;
    if (edgehub_new(NULL, &cfg, &hub))
        abort();
    edgehub_attach(hub, sink, NULL);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        edgehub_receive(hub, p, len);
        p += len + 1;
    }
    edgehub_detach(hub);
    edgehub_free(hub);
    int own = 0;
    store_list(st, "/kedge/", NULL, 0, count_own, &own, NULL);
    if (own != 0)
        abort();
    return 0;
}
