/*
 * `kedge token create|list|delete`: join tokens, kept by the running
 * cloud as bootstrap-token Secrets in kube-system and managed through its
 * API with the admin credentials in the data directory.
 */
#include "join/join.h"
#include "join/token.h"
#include "pki/pki.h"
#include "resources/jsonutil.h"
#include "util/duration.h"
#include "util/errors.h"
#include "util/flags.h"
#include "util/https.h"
#include "util/b64.h"

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRETS_PATH "/api/v1/namespaces/kube-system/secrets"

struct admin {
    char url[512];
    char ca[4096], cert[4096], key[4096];
};

/* The cloud's URL from DIR/admin.kubeconfig and the admin credentials. */
static int admin_load(const char *dir, struct admin *a)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/admin.kubeconfig", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "kedge token: cannot read %s: is --data-dir the "
                        "cloud's data directory?\n", path);
        return -1;
    }
    char line[1024];
    a->url[0] = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, " server: %511s", a->url) == 1)
            break;
    fclose(f);
    /* The value may be quoted. */
    size_t n = strlen(a->url);
    if (n >= 2 && a->url[0] == '"' && a->url[n - 1] == '"') {
        memmove(a->url, a->url + 1, n - 2);
        a->url[n - 2] = 0;
    }
    if (!a->url[0]) {
        fprintf(stderr, "kedge token: %s names no server\n", path);
        return -1;
    }
    snprintf(a->ca, sizeof(a->ca), "%s/pki/ca.crt", dir);
    snprintf(a->cert, sizeof(a->cert), "%s/pki/admin.crt", dir);
    snprintf(a->key, sizeof(a->key), "%s/pki/admin.key", dir);
    return 0;
}

/* A request to the cloud's API; prints the problem and returns -1 unless
 * the answer is one of the statuses the caller handles (>= 0 returned). */
static int admin_call(const struct admin *a, const char *method,
                      const char *path, struct json_object *body,
                      struct json_object **out)
{
    char url[1024], err[512];
    snprintf(url, sizeof(url), "%s%s", a->url, path);
    struct https_opts o = {.ca_file = a->ca, .cert_file = a->cert,
                           .key_file = a->key};
    struct buf ans;
    buf_init(&ans, 0);
    size_t len = 0;
    const char *data = body ? json_object_to_json_string_length(
                                  body, JSON_C_TO_STRING_PLAIN, &len)
                            : NULL;
    int code = https_request(method, url, &o, data ? "application/json" : NULL,
                             data, len, &ans, err, sizeof(err));
    if (code < 0) {
        fprintf(stderr, "kedge token: cannot reach kedge cloud at %s: %s "
                        "(is it running?)\n", a->url, err);
        buf_free(&ans);
        return -1;
    }
    *out = ans.len ? json_tokener_parse(ans.data) : NULL;
    buf_free(&ans);
    return code;
}

static const char *status_message(struct json_object *st)
{
    const char *m = ju_str(st, "message");
    return m ? m : "unexpected answer";
}

static int token_create(const struct admin *a, const char *dir,
                        const char *ttl, const char *description)
{
    uint64_t ttl_ms;
    if (duration_parse_ms(ttl, &ttl_ms)) {
        fprintf(stderr, "kedge token: --ttl must be a duration like 24h or "
                        "30m (0: never expires), not \"%s\"\n", ttl);
        return 2;
    }
    struct join_token t;
    char ca_file[4200], err[512];
    snprintf(ca_file, sizeof(ca_file), "%s/pki/ca.crt", dir);
    if (pki_cert_fingerprint(ca_file, t.ca_hash, sizeof(t.ca_hash), err,
                             sizeof(err))) {
        fprintf(stderr, "kedge token: %s\n", err);
        return 1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        if (token_generate(&t)) {
            fprintf(stderr, "kedge token: no randomness available\n");
            return 1;
        }
        char name[64], expires[32] = "";
        snprintf(name, sizeof(name), "bootstrap-token-%s", t.id);
        struct json_object *s = json_object_new_object();
        ju_set_str(s, "apiVersion", "v1");
        ju_set_str(s, "kind", "Secret");
        ju_set_str(s, "type", "bootstrap.kubernetes.io/token");
        struct json_object *md = ju_obj_ensure(s, "metadata");
        ju_set_str(md, "name", name);
        ju_set_str(md, "namespace", "kube-system");
        struct json_object *sd = ju_obj_ensure(s, "stringData");
        ju_set_str(sd, "token-id", t.id);
        ju_set_str(sd, "token-secret", t.secret);
        ju_set_str(sd, "usage-bootstrap-authentication", "true");
        ju_set_str(sd, "auth-extra-groups", "system:bootstrappers:kedge:edge");
        ju_set_str(sd, "description", description);
        if (ttl_ms) {
            time_t when = time(NULL) + (time_t)(ttl_ms / 1000);
            struct tm tm;
            gmtime_r(&when, &tm);
            strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
            ju_set_str(sd, "expiration", expires);
        }
        struct json_object *ans = NULL;
        int code = admin_call(a, "POST", SECRETS_PATH, s, &ans);
        json_object_put(s);
        if (code == 409) {
            json_object_put(ans);
            continue; /* that id exists already: draw another */
        }
        if (code != 201) {
            if (code > 0)
                fprintf(stderr, "kedge token: the cloud refused: %s\n",
                        status_message(ans));
            json_object_put(ans);
            return 1;
        }
        json_object_put(ans);
        char text[TOKEN_MAX];
        token_format(&t, text, sizeof(text));
        printf("%s\n", text);
        return 0;
    }
    fprintf(stderr, "kedge token: could not find a free token id\n");
    return 1;
}

static int token_list(const struct admin *a)
{
    struct json_object *ans = NULL;
    int code = admin_call(a, "GET", SECRETS_PATH, NULL, &ans);
    if (code != 200) {
        if (code > 0)
            fprintf(stderr, "kedge token: %s\n", status_message(ans));
        json_object_put(ans);
        return 1;
    }
    printf("%-8s %-22s %s\n", "TOKEN-ID", "EXPIRES", "DESCRIPTION");
    struct json_object *items = ju_arr(ans, "items");
    for (size_t i = 0; i < ju_len(items); i++) {
        struct json_object *s = ju_idx_obj(items, i);
        const char *type = ju_str(s, "type");
        if (!type || strcmp(type, "bootstrap.kubernetes.io/token") != 0)
            continue;
        struct json_object *d = ju_obj(s, "data");
        char id[64] = "?", exp[64] = "never", desc[512] = "";
        if (ju_str(d, "token-id"))
            b64_decode_str(ju_str(d, "token-id"), id, sizeof(id));
        if (ju_str(d, "expiration"))
            b64_decode_str(ju_str(d, "expiration"), exp, sizeof(exp));
        if (ju_str(d, "description"))
            b64_decode_str(ju_str(d, "description"), desc, sizeof(desc));
        printf("%-8s %-22s %s\n", id, exp, desc);
    }
    json_object_put(ans);
    return 0;
}

static int token_delete(const struct admin *a, const char *which)
{
    /* A whole token or just its id. */
    char id[TOKEN_ID_LEN + 1];
    struct join_token t;
    char err[256];
    if (token_parse(which, &t, err, sizeof(err)) == 0)
        memcpy(id, t.id, sizeof(id));
    else if ((strlen(which) == TOKEN_ID_LEN ||
              (strlen(which) > TOKEN_ID_LEN && which[TOKEN_ID_LEN] == '.')) &&
             strspn(which, "abcdefghijklmnopqrstuvwxyz0123456789") ==
                 TOKEN_ID_LEN)
        snprintf(id, sizeof(id), "%.6s", which);
    else {
        fprintf(stderr, "kedge token: \"%s\" is neither a token nor a "
                        "token id (6 of [a-z0-9], optionally .secret)\n",
                which);
        return 2;
    }
    char path[256];
    snprintf(path, sizeof(path), SECRETS_PATH "/bootstrap-token-%s", id);
    struct json_object *ans = NULL;
    int code = admin_call(a, "DELETE", path, NULL, &ans);
    if (code == 404)
        fprintf(stderr, "kedge token: no token with id %s\n", id);
    else if (code != 200 && code > 0)
        fprintf(stderr, "kedge token: %s\n", status_message(ans));
    json_object_put(ans);
    if (code != 200)
        return 1;
    printf("token %s deleted\n", id);
    return 0;
}

int token_main(int argc, char **argv)
{
    const char *usage = "Usage: kedge token create|list|delete [ID] "
                        "--data-dir DIR [flags]\n";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        printf("%s", argc < 2 ? "" :
               "\n  create   print a new join token for `kedge edge --token`\n"
               "  list     list the tokens (id, expiry, description)\n"
               "  delete   revoke a token (by id or the whole token)\n"
               "\nRun `kedge token create --help` for the flags.\n");
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 &&
        strcmp(sub, "delete") != 0) {
        fprintf(stderr, "kedge token: unknown subcommand \"%s\"\n%s", sub,
                usage);
        return 2;
    }
    const char *which = NULL;
    char **args = argv + 1;
    int nargs = argc - 1;
    if (strcmp(sub, "delete") == 0 && nargs > 1 && args[1][0] != '-') {
        which = args[1];
        /* Drop the positional so the flags parser sees only flags. */
        for (int i = 1; i + 1 < nargs; i++)
            args[i] = args[i + 1];
        nargs--;
    }
    const char *dir = NULL, *ttl = "24h", *description = "";
    const struct flag flags[] = {
        {"data-dir", FLAG_STRING, &dir, "the cloud's data directory (required)"},
        {"ttl", FLAG_STRING, &ttl, "create: how long the token is valid "
                                   "(0: forever)"},
        {"description", FLAG_STRING, &description,
         "create: a note shown by list"},
        {0},
    };
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "token %s", sub);
    int rc = flags_parse(cmd, "Manages the tokens edge nodes join with.",
                         flags, nargs, args);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!dir || !dir[0]) {
        fprintf(stderr, "kedge token: --data-dir is required\n");
        return 2;
    }
    if (strcmp(sub, "delete") == 0 && !which) {
        fprintf(stderr, "kedge token: delete needs a token id\n");
        return 2;
    }
    struct admin a;
    if (admin_load(dir, &a))
        return 1;
    if (strcmp(sub, "create") == 0)
        return token_create(&a, dir, ttl, description);
    if (strcmp(sub, "list") == 0)
        return token_list(&a);
    return token_delete(&a, which);
}
