#include "join/token.h"
#include "util/errors.h"

#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

static bool all_of(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return false;
    return true;
}

int token_parse(const char *s, struct join_token *t, char *err, size_t errlen)
{
    const size_t hash_len = 64;
    if (!s || strncmp(s, "K10", 3) != 0) {
        snprintf(err, errlen, "the token must start with K10 (as printed "
                              "by `kedge token create`)");
        return -KE_INVALID;
    }
    s += 3;
    if (strlen(s) < hash_len || !all_of(s, hash_len, "0123456789abcdef")) {
        snprintf(err, errlen, "the token's CA hash (64 hex digits after "
                              "K10) is malformed");
        return -KE_INVALID;
    }
    memcpy(t->ca_hash, s, hash_len);
    t->ca_hash[hash_len] = 0;
    s += hash_len;
    if (strncmp(s, "::", 2) != 0) {
        snprintf(err, errlen, "the token lacks \"::\" after the CA hash");
        return -KE_INVALID;
    }
    s += 2;
    if (strlen(s) != TOKEN_ID_LEN + 1 + TOKEN_SECRET_LEN ||
        s[TOKEN_ID_LEN] != '.' || !all_of(s, TOKEN_ID_LEN, alphabet) ||
        !all_of(s + TOKEN_ID_LEN + 1, TOKEN_SECRET_LEN, alphabet)) {
        snprintf(err, errlen, "the token's credential must be <6 of "
                              "[a-z0-9]>.<16 of [a-z0-9]>");
        return -KE_INVALID;
    }
    memcpy(t->id, s, TOKEN_ID_LEN);
    t->id[TOKEN_ID_LEN] = 0;
    memcpy(t->secret, s + TOKEN_ID_LEN + 1, TOKEN_SECRET_LEN);
    t->secret[TOKEN_SECRET_LEN] = 0;
    return 0;
}

void token_format(const struct join_token *t, char *out, size_t len)
{
    snprintf(out, len, "K10%s::%s.%s", t->ca_hash, t->id, t->secret);
}

/* Uniform characters of the alphabet (rejection sampling). */
static int random_chars(char *out, size_t n)
{
    const unsigned limit = 256 - 256 % (sizeof(alphabet) - 1);
    size_t i = 0;
    while (i < n) {
        unsigned char b[32];
        if (RAND_bytes(b, sizeof(b)) != 1)
            return -KE_INVALID;
        for (size_t k = 0; k < sizeof(b) && i < n; k++)
            if (b[k] < limit)
                out[i++] = alphabet[b[k] % (sizeof(alphabet) - 1)];
    }
    out[n] = 0;
    return 0;
}

int token_generate(struct join_token *t)
{
    int rc = random_chars(t->id, TOKEN_ID_LEN);
    return rc ? rc : random_chars(t->secret, TOKEN_SECRET_LEN);
}
