/*
 * Label and field selectors: Kubernetes' selector grammar and messages
 * (k8s.io/apimachinery labels and fields packages), matching against JSON
 * labels and objects, and canonical printing. No recursion; every input
 * size is capped (see selector.h).
 */
#include "api/selector.h"
#include "util/buf.h"
#include "util/errors.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of an offending input a message echoes before "...". */
#define SELECTOR_ECHO_MAX_BYTES 96
/* Room for an echoed input once escaped (\xNN is 4 bytes per byte). */
#define SELECTOR_ECHO_BUF_BYTES (SELECTOR_ECHO_MAX_BYTES * 4 + 8)
/* Room for the joined reasons a key or value is invalid. */
#define SELECTOR_WHY_BYTES 1024

#define LABEL_NAME_MAX_BYTES 63
#define LABEL_PREFIX_MAX_BYTES 253
#define LABEL_VALUE_MAX_BYTES 63

/* Kubernetes' validation texts (k8s.io/apimachinery/pkg/util/validation). */
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_ERR                                                          \
    "must consist of alphanumeric characters, '-', '_' or '.', and must "  \
    "start and end with an alphanumeric character (e.g. 'MyName',  or "    \
    "'my.name',  or '123-abc', regex used for validation is '" QNAME_FMT   \
    "')"
#define DNS1123_SUBDOMAIN_ERR                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case "           \
    "alphanumeric characters, '-' or '.', and must start and end with an " \
    "alphanumeric character (e.g. 'example.com', regex used for "          \
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"  \
    "[a-z0-9])?)*')"
#define LABEL_VALUE_ERR                                                    \
    "a valid label must be an empty string or consist of alphanumeric "    \
    "characters, '-', '_' or '.', and must start and end with an "         \
    "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "         \
    "'12345', regex used for validation is '(" QNAME_FMT ")?')"

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */
/* ------------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void clear_err(char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = 0;
}

/*
 * Renders n bytes of input for a message into dst (capacity cap): printable
 * ASCII as is, other bytes as \xNN, cut after SELECTOR_ECHO_MAX_BYTES with
 * "...". `quoted` wraps it in double quotes and escapes '"' and '\' (Go %q
 * style); unquoted text is meant for '...' contexts.
 */
static void render(char *dst, size_t cap, const char *p, size_t n,
                   bool quoted)
{
    size_t o = 0;
    if (cap == 0)
        return;
    dst[0] = 0;
    if (cap < 16)
        return;
    /* Room kept for the closing quote, "..." and the NUL. */
    size_t stop = cap - 6;
    if (quoted)
        dst[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (i == SELECTOR_ECHO_MAX_BYTES || o + 4 > stop) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c >= 0x7f) {
            snprintf(dst + o, cap - o, "\\x%02x", c);
            o += 4;
        } else if (quoted && (c == '"' || c == '\\')) {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else {
            dst[o++] = (char)c;
        }
    }
    if (quoted)
        dst[o++] = '"';
    dst[o] = 0;
}

/* Renders a JSON value for an "Invalid value: <v>" message, without
 * touching the object (json-c caches serialisations inside it). */
static void render_json(char *dst, size_t cap, struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        snprintf(dst, cap, "null");
        break;
    case json_type_boolean:
        snprintf(dst, cap, "%s", json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int:
        snprintf(dst, cap, "%" PRId64, json_object_get_int64(v));
        break;
    case json_type_double:
        snprintf(dst, cap, "%g", json_object_get_double(v));
        break;
    case json_type_string:
        render(dst, cap, json_object_get_string(v),
               (size_t)json_object_get_string_len(v), true);
        break;
    case json_type_object:
        snprintf(dst, cap, "{...}");
        break;
    case json_type_array:
        snprintf(dst, cap, "[...]");
        break;
    }
}

/* Appends one reason to a "; "-joined list in why. */
static void why_add(char *why, size_t whylen, const char *prefix,
                    const char *msg)
{
    size_t used = strnlen(why, whylen);
    if (used + 1 >= whylen)
        return;
    snprintf(why + used, whylen - used, "%s%s%s", used ? "; " : "", prefix,
             msg);
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over exactly n bytes. */
static bool matches_qname(const char *p, size_t n)
{
    if (n == 0 || !is_alnum((unsigned char)p[0]) ||
        !is_alnum((unsigned char)p[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

/* A lowercase RFC 1123 subdomain's pattern (length checked apart). */
static bool matches_dns1123_subdomain(const char *p, size_t n)
{
    size_t start = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.')
            continue;
        size_t len = i - start;
        if (len == 0)
            return false;
        for (size_t j = start; j < i; j++) {
            char c = p[j];
            bool edge = j == start || j == i - 1;
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      (!edge && c == '-');
            if (!ok)
                return false;
        }
        start = i + 1;
    }
    return true;
}

/*
 * Checks a label key (a qualified name with an optional DNS subdomain
 * prefix). Returns true if valid; else writes Kubernetes' reasons, joined
 * with "; ", into why.
 */
static bool label_key_valid(const char *p, size_t n, char *why, size_t whylen)
{
    const char *name = p;
    size_t name_len = n;
    const char *slash = memchr(p, '/', n);

    why[0] = 0;
    if (slash) {
        const char *prefix = p;
        size_t prefix_len = (size_t)(slash - p);
        name = slash + 1;
        name_len = n - prefix_len - 1;
        if (memchr(name, '/', name_len)) {
            why_add(why, whylen, "a qualified name ",
                    QNAME_ERR " with an optional DNS subdomain prefix and "
                              "'/' (e.g. 'example.com/MyName')");
            return false;
        }
        if (prefix_len == 0) {
            why_add(why, whylen, "prefix part ", "must be non-empty");
        } else {
            if (prefix_len > LABEL_PREFIX_MAX_BYTES)
                why_add(why, whylen, "prefix part ",
                        "must be no more than 253 characters");
            if (!matches_dns1123_subdomain(prefix, prefix_len))
                why_add(why, whylen, "prefix part ", DNS1123_SUBDOMAIN_ERR);
        }
    }
    if (name_len == 0)
        why_add(why, whylen, "name part ", "must be non-empty");
    else if (name_len > LABEL_NAME_MAX_BYTES)
        why_add(why, whylen, "name part ",
                "must be no more than 63 characters");
    if (!matches_qname(name, name_len))
        why_add(why, whylen, "name part ", QNAME_ERR);
    return why[0] == 0;
}

/* Checks a label value; as label_key_valid. */
static bool label_value_valid(const char *p, size_t n, char *why,
                              size_t whylen)
{
    why[0] = 0;
    if (n > LABEL_VALUE_MAX_BYTES)
        why_add(why, whylen, "", "must be no more than 63 characters");
    if (n > 0 && !matches_qname(p, n))
        why_add(why, whylen, "", LABEL_VALUE_ERR);
    return why[0] == 0;
}

/* Go's strconv.ParseInt(s, 10, 64): optional sign, digits, no overflow. */
static bool parse_int64(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0;
    uint64_t limit = (uint64_t)INT64_MAX;

    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    if (neg)
        limit += 1;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return true;
}

/* ------------------------------------------------------------------ */
/* Label selectors: representation                                     */
/* ------------------------------------------------------------------ */

enum lsel_op {
    LSEL_EXISTS,
    LSEL_DOES_NOT_EXIST,
    LSEL_EQUALS,
    LSEL_DOUBLE_EQUALS,
    LSEL_NOT_EQUALS,
    LSEL_IN,
    LSEL_NOT_IN,
    LSEL_GT,
    LSEL_LT,
};

/* A growable list of owned strings. */
struct strvec {
    char **v;
    size_t n;
    size_t cap;
};

struct lsel_req {
    char *key;
    enum lsel_op op;
    char **values;  /* sorted, no duplicates */
    size_t nvalues;
    size_t order;   /* position in the input, to keep sorting stable */
};

struct label_selector {
    struct lsel_req *reqs;
    size_t n;
    size_t cap;
    bool nothing;   /* from a NULL metav1.LabelSelector: matches nothing */
};

static void strvec_free(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

/* Appends a copy of n bytes; -KE_TOOBIG past SELECTOR_MAX_VALUES. */
static int strvec_push(struct strvec *sv, const char *p, size_t n)
{
    if (sv->n >= SELECTOR_MAX_VALUES)
        return -KE_TOOBIG;
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 4;
        char **v = realloc(sv->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        sv->v = v;
        sv->cap = cap;
    }
    char *copy = strndup(p, n);
    if (!copy)
        return -ENOMEM;
    sv->v[sv->n++] = copy;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts (bytewise, as Go does) and drops duplicates. */
static void strvec_sort_unique(struct strvec *sv)
{
    if (sv->n < 2)
        return;
    qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
    size_t o = 1;
    for (size_t i = 1; i < sv->n; i++) {
        if (strcmp(sv->v[i], sv->v[o - 1]) == 0)
            free(sv->v[i]);
        else
            sv->v[o++] = sv->v[i];
    }
    sv->n = o;
}

void label_selector_free(struct label_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->reqs[i].key);
        for (size_t j = 0; j < s->reqs[i].nvalues; j++)
            free(s->reqs[i].values[j]);
        free(s->reqs[i].values);
    }
    free(s->reqs);
    free(s);
}

/*
 * Adds a requirement on the key of n bytes at key; takes the values from
 * vals (sorting them and leaving vals empty) whatever the outcome.
 * Returns 0, -ENOMEM or -KE_TOOBIG past SELECTOR_MAX_TERMS.
 */
static int lsel_add(struct label_selector *s, const char *key, size_t n,
                    enum lsel_op op, struct strvec *vals)
{
    int rc = 0;
    char *k = NULL;

    if (s->n >= SELECTOR_MAX_TERMS) {
        rc = -KE_TOOBIG;
        goto out;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        struct lsel_req *r = realloc(s->reqs, cap * sizeof(*r));
        if (!r) {
            rc = -ENOMEM;
            goto out;
        }
        s->reqs = r;
        s->cap = cap;
    }
    k = strndup(key, n);
    if (!k) {
        rc = -ENOMEM;
        goto out;
    }
    strvec_sort_unique(vals);
    s->reqs[s->n] = (struct lsel_req){
        .key = k,
        .op = op,
        .values = vals->v,
        .nvalues = vals->n,
        .order = s->n,
    };
    s->n++;
    vals->v = NULL;
    vals->n = vals->cap = 0;
out:
    strvec_free(vals);
    return rc;
}

static int cmp_req(const void *a, const void *b)
{
    const struct lsel_req *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void lsel_sort(struct label_selector *s)
{
    if (s->n > 1)
        qsort(s->reqs, s->n, sizeof(*s->reqs), cmp_req);
}

/* ------------------------------------------------------------------ */
/* Label selectors: lexer                                              */
/* ------------------------------------------------------------------ */

enum ltok {
    LT_EOS,
    LT_IDENT,
    LT_COMMA,
    LT_OPEN,
    LT_CLOSE,
    LT_NOT,     /* ! */
    LT_EQ,      /* = */
    LT_DEQ,     /* == */
    LT_NEQ,     /* != */
    LT_GT,      /* > */
    LT_LT,      /* < */
    LT_IN,      /* in */
    LT_NOTIN,   /* notin */
};

struct ltoken {
    enum ltok t;
    const char *p;  /* the literal, not NUL-terminated */
    size_t n;
};

struct llexer {
    const char *s;
    size_t len;
    size_t pos;
};

/* Where a token is read: in values and key positions "in" and "notin"
 * are plain identifiers, only after a key are they operators. */
enum lctx { LCTX_VALUE, LCTX_OPERATOR };

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    switch (c) {
    case '=': case '!': case '(': case ')': case ',': case '>': case '<':
        return true;
    default:
        return false;
    }
}

static struct ltoken lex_next(struct llexer *lx, enum lctx ctx)
{
    struct ltoken tk;

    while (lx->pos < lx->len && is_blank(lx->s[lx->pos]))
        lx->pos++;
    tk.p = lx->s + lx->pos;
    if (lx->pos >= lx->len) {
        tk.t = LT_EOS;
        tk.n = 0;
        return tk;
    }
    char c = lx->s[lx->pos];
    char c2 = lx->pos + 1 < lx->len ? lx->s[lx->pos + 1] : 0;
    if (is_special(c)) {
        tk.n = 1;
        if (c == '!' && c2 == '=') {
            tk.t = LT_NEQ;
            tk.n = 2;
        } else if (c == '=' && c2 == '=') {
            tk.t = LT_DEQ;
            tk.n = 2;
        } else {
            switch (c) {
            case '=': tk.t = LT_EQ; break;
            case '!': tk.t = LT_NOT; break;
            case '(': tk.t = LT_OPEN; break;
            case ')': tk.t = LT_CLOSE; break;
            case ',': tk.t = LT_COMMA; break;
            case '>': tk.t = LT_GT; break;
            default: tk.t = LT_LT; break;
            }
        }
        lx->pos += tk.n;
        return tk;
    }
    size_t start = lx->pos;
    while (lx->pos < lx->len && !is_blank(lx->s[lx->pos]) &&
           !is_special(lx->s[lx->pos]))
        lx->pos++;
    tk.n = lx->pos - start;
    tk.t = LT_IDENT;
    if (ctx == LCTX_OPERATOR && tk.n == 2 && memcmp(tk.p, "in", 2) == 0)
        tk.t = LT_IN;
    else if (ctx == LCTX_OPERATOR && tk.n == 5 &&
             memcmp(tk.p, "notin", 5) == 0)
        tk.t = LT_NOTIN;
    return tk;
}

static struct ltoken lex_peek(struct llexer *lx, enum lctx ctx)
{
    size_t pos = lx->pos;
    struct ltoken tk = lex_next(lx, ctx);
    lx->pos = pos;
    return tk;
}

/* ------------------------------------------------------------------ */
/* Label selectors: parser                                             */
/* ------------------------------------------------------------------ */

#define REQ_ERR "unable to parse requirement: "

/* Writes "<prefix>found '<literal>', expected: <what>" into err. */
static int found_err(char *err, size_t errlen, const char *prefix,
                     struct ltoken tk, const char *what)
{
    char lit[SELECTOR_ECHO_BUF_BYTES];
    render(lit, sizeof(lit), tk.p, tk.n, false);
    set_err(err, errlen, "%sfound '%s', expected: %s", prefix, lit, what);
    return -KE_INVALID;
}

/* Reads "( v1, v2, ... )" after in/notin into vals; empty items are "". */
static int parse_value_set(struct llexer *lx, struct strvec *vals, char *err,
                           size_t errlen)
{
    struct ltoken tk = lex_next(lx, LCTX_VALUE);
    if (tk.t != LT_OPEN)
        return found_err(err, errlen, REQ_ERR, tk, "'('");
    for (;;) {
        int rc;
        tk = lex_next(lx, LCTX_VALUE);
        if (tk.t == LT_IDENT) {
            rc = strvec_push(vals, tk.p, tk.n);
            tk = lex_next(lx, LCTX_VALUE);
            if (tk.t != LT_COMMA && tk.t != LT_CLOSE && rc == 0)
                return found_err(err, errlen, REQ_ERR, tk, "',' or ')'");
        } else if (tk.t == LT_COMMA || tk.t == LT_CLOSE) {
            rc = strvec_push(vals, "", 0);
        } else {
            return found_err(err, errlen, REQ_ERR, tk,
                             "',', ')' or identifier");
        }
        if (rc == -KE_TOOBIG) {
            set_err(err, errlen,
                    REQ_ERR "too many values in a set: more than %d",
                    SELECTOR_MAX_VALUES);
            return -KE_INVALID;
        }
        if (rc)
            return rc;
        if (tk.t == LT_CLOSE)
            return 0;
    }
}

/* Checks the values of a parsed requirement as NewRequirement does. */
static int check_values(const char *key, size_t keylen, enum lsel_op op,
                        const struct strvec *vals, char *err, size_t errlen)
{
    char why[SELECTOR_WHY_BYTES];
    char lit[SELECTOR_ECHO_BUF_BYTES];
    char k[SELECTOR_ECHO_BUF_BYTES];
    int64_t ignored;

    if (op == LSEL_GT || op == LSEL_LT) {
        if (!parse_int64(vals->v[0], strlen(vals->v[0]), &ignored)) {
            render(lit, sizeof(lit), vals->v[0], strlen(vals->v[0]), true);
            set_err(err, errlen,
                    REQ_ERR "values[0]: Invalid value: %s: for 'Gt', 'Lt' "
                            "operators, the value must be an integer",
                    lit);
            return -KE_INVALID;
        }
    }
    for (size_t i = 0; i < vals->n; i++) {
        size_t n = strlen(vals->v[i]);
        if (label_value_valid(vals->v[i], n, why, sizeof(why)))
            continue;
        render(lit, sizeof(lit), vals->v[i], n, true);
        render(k, sizeof(k), key, keylen, false);
        set_err(err, errlen, REQ_ERR "values[%zu][%s]: Invalid value: %s: %s",
                i, k, lit, why);
        return -KE_INVALID;
    }
    return 0;
}

/* Parses one requirement: [!] KEY [ op value | in/notin (set) ]. */
static int parse_requirement(struct llexer *lx, struct label_selector *s,
                             char *err, size_t errlen)
{
    struct strvec vals = {0};
    char why[SELECTOR_WHY_BYTES];
    char lit[SELECTOR_ECHO_BUF_BYTES];
    bool negated = false;
    enum lsel_op op;
    int rc;

    struct ltoken tk = lex_next(lx, LCTX_VALUE);
    if (tk.t == LT_NOT) {
        negated = true;
        tk = lex_next(lx, LCTX_VALUE);
    }
    if (tk.t != LT_IDENT)
        return found_err(err, errlen, REQ_ERR, tk, "identifier");
    struct ltoken key = tk;
    if (!label_key_valid(key.p, key.n, why, sizeof(why))) {
        render(lit, sizeof(lit), key.p, key.n, true);
        set_err(err, errlen, REQ_ERR "key: Invalid value: %s: %s", lit, why);
        return -KE_INVALID;
    }

    tk = lex_peek(lx, LCTX_VALUE);
    if (negated || tk.t == LT_EOS || tk.t == LT_COMMA) {
        /* "!key" takes no operator; what follows is the caller's. */
        op = negated ? LSEL_DOES_NOT_EXIST : LSEL_EXISTS;
        goto add;
    }

    tk = lex_next(lx, LCTX_OPERATOR);
    switch (tk.t) {
    case LT_IN: op = LSEL_IN; break;
    case LT_NOTIN: op = LSEL_NOT_IN; break;
    case LT_EQ: op = LSEL_EQUALS; break;
    case LT_DEQ: op = LSEL_DOUBLE_EQUALS; break;
    case LT_NEQ: op = LSEL_NOT_EQUALS; break;
    case LT_GT: op = LSEL_GT; break;
    case LT_LT: op = LSEL_LT; break;
    default:
        return found_err(err, errlen, REQ_ERR, tk,
                         "in, notin, =, ==, !=, gt, lt");
    }

    if (op == LSEL_IN || op == LSEL_NOT_IN) {
        rc = parse_value_set(lx, &vals, err, errlen);
    } else {
        tk = lex_peek(lx, LCTX_VALUE);
        if (tk.t == LT_EOS || tk.t == LT_COMMA) {
            rc = strvec_push(&vals, "", 0);
        } else {
            tk = lex_next(lx, LCTX_VALUE);
            if (tk.t == LT_IDENT)
                rc = strvec_push(&vals, tk.p, tk.n);
            else
                rc = found_err(err, errlen, REQ_ERR, tk, "identifier");
        }
    }
    if (rc == 0)
        rc = check_values(key.p, key.n, op, &vals, err, errlen);
    if (rc) {
        strvec_free(&vals);
        return rc;
    }
add:
    rc = lsel_add(s, key.p, key.n, op, &vals);
    if (rc == -KE_TOOBIG) {
        set_err(err, errlen, "too many requirements: more than %d",
                SELECTOR_MAX_TERMS);
        rc = -KE_INVALID;
    }
    return rc;
}

static struct label_selector *lsel_new(void)
{
    return calloc(1, sizeof(struct label_selector));
}

int label_selector_parse(const char *text, struct label_selector **out,
                         char *err, size_t errlen)
{
    struct label_selector *s = NULL;
    int rc = 0;

    *out = NULL;
    clear_err(err, errlen);
    s = lsel_new();
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    if (!text)
        goto out;
    size_t len = strnlen(text, SELECTOR_MAX_TEXT_BYTES + 1);
    if (len > SELECTOR_MAX_TEXT_BYTES) {
        set_err(err, errlen, "label selector is too long: more than %d bytes",
                SELECTOR_MAX_TEXT_BYTES);
        rc = -KE_INVALID;
        goto out;
    }

    struct llexer lx = {.s = text, .len = len, .pos = 0};
    struct ltoken tk = lex_peek(&lx, LCTX_VALUE);
    if (tk.t != LT_EOS && tk.t != LT_IDENT && tk.t != LT_NOT) {
        rc = found_err(err, errlen, "", tk,
                       "!, identifier, or 'end of string'");
        goto out;
    }
    while (tk.t != LT_EOS) {
        rc = parse_requirement(&lx, s, err, errlen);
        if (rc)
            goto out;
        tk = lex_next(&lx, LCTX_VALUE);
        if (tk.t == LT_EOS)
            break;
        if (tk.t != LT_COMMA) {
            rc = found_err(err, errlen, "", tk, "',' or 'end of string'");
            goto out;
        }
        tk = lex_peek(&lx, LCTX_VALUE);
        if (tk.t != LT_IDENT && tk.t != LT_NOT) {
            rc = found_err(err, errlen, "", tk, "identifier after ','");
            goto out;
        }
    }
    lsel_sort(s);
out:
    if (rc == -ENOMEM)
        set_err(err, errlen, "out of memory");
    if (rc) {
        label_selector_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Label selectors: from JSON                                          */
/* ------------------------------------------------------------------ */

/* Adds key=value requirements for a {k: v} map; `field` names the map in
 * messages (NULL: no message). */
static int add_map(struct label_selector *s, struct json_object *map,
                   const char *field, char *err, size_t errlen)
{
    char why[SELECTOR_WHY_BYTES];
    char lit[SELECTOR_ECHO_BUF_BYTES];
    char k[SELECTOR_ECHO_BUF_BYTES];
    const char *f = field ? field : "selector";

    if (!json_object_is_type(map, json_type_object)) {
        render_json(lit, sizeof(lit), map);
        set_err(err, errlen, "%s: Invalid value: %s: must be an object", f,
                lit);
        return -KE_INVALID;
    }
    json_object_object_foreach(map, key, val)
    {
        size_t keylen = strlen(key);
        render(k, sizeof(k), key, keylen, false);
        if (!label_key_valid(key, keylen, why, sizeof(why))) {
            render(lit, sizeof(lit), key, keylen, true);
            set_err(err, errlen, "%s: Invalid value: %s: %s", f, lit, why);
            return -KE_INVALID;
        }
        if (!json_object_is_type(val, json_type_string)) {
            render_json(lit, sizeof(lit), val);
            set_err(err, errlen, "%s[%s]: Invalid value: %s: must be a string",
                    f, k, lit);
            return -KE_INVALID;
        }
        const char *v = json_object_get_string(val);
        size_t vlen = (size_t)json_object_get_string_len(val);
        if (strlen(v) != vlen ||
            !label_value_valid(v, vlen, why, sizeof(why))) {
            if (strlen(v) != vlen)
                snprintf(why, sizeof(why), "%s", LABEL_VALUE_ERR);
            render(lit, sizeof(lit), v, vlen, true);
            set_err(err, errlen, "%s[%s]: Invalid value: %s: %s", f, k, lit,
                    why);
            return -KE_INVALID;
        }
        struct strvec vals = {0};
        int rc = strvec_push(&vals, v, vlen);
        if (rc == 0)
            rc = lsel_add(s, key, keylen, LSEL_EQUALS, &vals);
        strvec_free(&vals);
        if (rc == -KE_TOOBIG) {
            set_err(err, errlen, "%s: too many requirements: more than %d", f,
                    SELECTOR_MAX_TERMS);
            return -KE_INVALID;
        }
        if (rc)
            return rc;
    }
    return 0;
}

#define SUPPORTED_OPS "\"In\", \"NotIn\", \"Exists\", \"DoesNotExist\""

/* Adds one matchExpressions[i] entry. */
static int add_expression(struct label_selector *s, struct json_object *e,
                          size_t i, char *err, size_t errlen)
{
    char why[SELECTOR_WHY_BYTES];
    char lit[SELECTOR_ECHO_BUF_BYTES];
    struct strvec vals = {0};
    struct json_object *jkey = NULL, *jop = NULL, *jvals = NULL;
    const char *key = "";
    size_t keylen = 0;
    enum lsel_op op;
    int rc = -KE_INVALID;

    if (!json_object_is_type(e, json_type_object)) {
        render_json(lit, sizeof(lit), e);
        set_err(err, errlen,
                "matchExpressions[%zu]: Invalid value: %s: must be an object",
                i, lit);
        goto out;
    }
    json_object_object_get_ex(e, "key", &jkey);
    json_object_object_get_ex(e, "operator", &jop);
    json_object_object_get_ex(e, "values", &jvals);

    if (jkey && !json_object_is_type(jkey, json_type_string)) {
        render_json(lit, sizeof(lit), jkey);
        set_err(err, errlen,
                "matchExpressions[%zu].key: Invalid value: %s: must be a "
                "string", i, lit);
        goto out;
    }
    if (jkey) {
        key = json_object_get_string(jkey);
        keylen = (size_t)json_object_get_string_len(jkey);
    }
    /* An embedded NUL makes the C string shorter than the JSON one. */
    if (strlen(key) != keylen ||
        !label_key_valid(key, keylen, why, sizeof(why))) {
        if (strlen(key) != keylen)
            snprintf(why, sizeof(why), "name part %s", QNAME_ERR);
        render(lit, sizeof(lit), key, keylen, true);
        set_err(err, errlen, "matchExpressions[%zu].key: Invalid value: %s: %s",
                i, lit, why);
        goto out;
    }

    if (!jop) {
        set_err(err, errlen, "matchExpressions[%zu].operator: Required value",
                i);
        goto out;
    }
    const char *ops = json_object_is_type(jop, json_type_string)
                          ? json_object_get_string(jop)
                          : NULL;
    if (ops && strcmp(ops, "In") == 0) {
        op = LSEL_IN;
    } else if (ops && strcmp(ops, "NotIn") == 0) {
        op = LSEL_NOT_IN;
    } else if (ops && strcmp(ops, "Exists") == 0) {
        op = LSEL_EXISTS;
    } else if (ops && strcmp(ops, "DoesNotExist") == 0) {
        op = LSEL_DOES_NOT_EXIST;
    } else {
        render_json(lit, sizeof(lit), jop);
        set_err(err, errlen,
                "matchExpressions[%zu].operator: Unsupported value: %s: "
                "supported values: " SUPPORTED_OPS, i, lit);
        goto out;
    }

    if (jvals && !json_object_is_type(jvals, json_type_array)) {
        render_json(lit, sizeof(lit), jvals);
        set_err(err, errlen,
                "matchExpressions[%zu].values: Invalid value: %s: must be an "
                "array", i, lit);
        goto out;
    }
    size_t nvals = jvals ? json_object_array_length(jvals) : 0;
    if ((op == LSEL_IN || op == LSEL_NOT_IN) && nvals == 0) {
        set_err(err, errlen,
                "matchExpressions[%zu].values: Required value: must be "
                "specified when `operator` is 'In' or 'NotIn'", i);
        goto out;
    }
    if ((op == LSEL_EXISTS || op == LSEL_DOES_NOT_EXIST) && nvals > 0) {
        set_err(err, errlen,
                "matchExpressions[%zu].values: Forbidden: may not be "
                "specified when `operator` is 'Exists' or 'DoesNotExist'", i);
        goto out;
    }
    if (nvals > SELECTOR_MAX_VALUES) {
        set_err(err, errlen,
                "matchExpressions[%zu].values: Too many: %zu: must have at "
                "most %d items", i, nvals, SELECTOR_MAX_VALUES);
        goto out;
    }
    for (size_t j = 0; j < nvals; j++) {
        struct json_object *v = json_object_array_get_idx(jvals, j);
        if (!json_object_is_type(v, json_type_string)) {
            render_json(lit, sizeof(lit), v);
            set_err(err, errlen,
                    "matchExpressions[%zu].values[%zu]: Invalid value: %s: "
                    "must be a string", i, j, lit);
            goto out;
        }
        const char *sv = json_object_get_string(v);
        size_t svlen = (size_t)json_object_get_string_len(v);
        if (strlen(sv) != svlen ||
            !label_value_valid(sv, svlen, why, sizeof(why))) {
            if (strlen(sv) != svlen)
                snprintf(why, sizeof(why), "%s", LABEL_VALUE_ERR);
            render(lit, sizeof(lit), sv, svlen, true);
            set_err(err, errlen,
                    "matchExpressions[%zu].values[%zu]: Invalid value: %s: %s",
                    i, j, lit, why);
            goto out;
        }
        int prc = strvec_push(&vals, sv, svlen);
        if (prc) {
            rc = prc;
            goto out;
        }
    }
    rc = lsel_add(s, key, keylen, op, &vals);
    if (rc == -KE_TOOBIG) {
        set_err(err, errlen, "matchExpressions: too many requirements: more "
                             "than %d", SELECTOR_MAX_TERMS);
        rc = -KE_INVALID;
    }
out:
    strvec_free(&vals);
    return rc;
}

int label_selector_from_json(struct json_object *sel,
                             struct label_selector **out, char *err,
                             size_t errlen)
{
    struct label_selector *s = NULL;
    struct json_object *ml = NULL, *me = NULL;
    char lit[SELECTOR_ECHO_BUF_BYTES];
    int rc = 0;

    *out = NULL;
    clear_err(err, errlen);
    s = lsel_new();
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    if (!sel) {
        s->nothing = true;
        goto out;
    }
    if (!json_object_is_type(sel, json_type_object)) {
        render_json(lit, sizeof(lit), sel);
        set_err(err, errlen, "Invalid value: %s: a label selector must be an "
                             "object", lit);
        rc = -KE_INVALID;
        goto out;
    }
    json_object_object_get_ex(sel, "matchLabels", &ml);
    json_object_object_get_ex(sel, "matchExpressions", &me);
    if (ml) {
        rc = add_map(s, ml, "matchLabels", err, errlen);
        if (rc)
            goto out;
    }
    if (me) {
        if (!json_object_is_type(me, json_type_array)) {
            render_json(lit, sizeof(lit), me);
            set_err(err, errlen, "matchExpressions: Invalid value: %s: must "
                                 "be an array", lit);
            rc = -KE_INVALID;
            goto out;
        }
        size_t n = json_object_array_length(me);
        for (size_t i = 0; i < n; i++) {
            rc = add_expression(s, json_object_array_get_idx(me, i), i, err,
                                errlen);
            if (rc)
                goto out;
        }
    }
    lsel_sort(s);
out:
    if (rc == -ENOMEM)
        set_err(err, errlen, "out of memory");
    if (rc) {
        label_selector_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int label_selector_from_map(struct json_object *map,
                            struct label_selector **out)
{
    struct label_selector *s = lsel_new();
    int rc = 0;

    *out = NULL;
    if (!s)
        return -ENOMEM;
    if (map)
        rc = add_map(s, map, NULL, NULL, 0);
    if (rc) {
        label_selector_free(s);
        return rc;
    }
    lsel_sort(s);
    *out = s;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Label selectors: matching and printing                              */
/* ------------------------------------------------------------------ */

static bool req_has_value(const struct lsel_req *r, const char *v)
{
    return bsearch(&v, r->values, r->nvalues, sizeof(*r->values), cmp_str) !=
           NULL;
}

static bool req_matches(const struct lsel_req *r, struct json_object *labels)
{
    struct json_object *jv = NULL;
    bool has = labels && json_object_is_type(labels, json_type_object) &&
               json_object_object_get_ex(labels, r->key, &jv);
    /* A non-string value (or one holding a NUL) exists but equals no
     * requirement value. */
    const char *v = NULL;
    if (has && json_object_is_type(jv, json_type_string)) {
        v = json_object_get_string(jv);
        if (strlen(v) != (size_t)json_object_get_string_len(jv))
            v = NULL;
    }
    int64_t lv, rv;

    switch (r->op) {
    case LSEL_EXISTS:
        return has;
    case LSEL_DOES_NOT_EXIST:
        return !has;
    case LSEL_EQUALS:
    case LSEL_DOUBLE_EQUALS:
    case LSEL_IN:
        return v && req_has_value(r, v);
    case LSEL_NOT_EQUALS:
    case LSEL_NOT_IN:
        return !has || !v || !req_has_value(r, v);
    case LSEL_GT:
    case LSEL_LT:
        if (!v || r->nvalues != 1 || !parse_int64(v, strlen(v), &lv) ||
            !parse_int64(r->values[0], strlen(r->values[0]), &rv))
            return false;
        return r->op == LSEL_GT ? lv > rv : lv < rv;
    }
    return false;
}

bool label_selector_matches(const struct label_selector *s,
                            struct json_object *labels)
{
    if (!s || s->nothing)
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (!req_matches(&s->reqs[i], labels))
            return false;
    return true;
}

bool label_selector_empty(const struct label_selector *s)
{
    return s && !s->nothing && s->n == 0;
}

static const char *op_text(enum lsel_op op)
{
    switch (op) {
    case LSEL_EQUALS: return "=";
    case LSEL_DOUBLE_EQUALS: return "==";
    case LSEL_NOT_EQUALS: return "!=";
    case LSEL_IN: return " in ";
    case LSEL_NOT_IN: return " notin ";
    case LSEL_GT: return ">";
    case LSEL_LT: return "<";
    case LSEL_EXISTS:
    case LSEL_DOES_NOT_EXIST:
        break;
    }
    return "";
}

char *label_selector_string(const struct label_selector *s)
{
    struct buf b;
    int rc;

    buf_init(&b, 0);
    /* Makes the buffer hold "" even when nothing else is appended. */
    rc = buf_append(&b, "", 0);
    for (size_t i = 0; s && !s->nothing && i < s->n && rc == 0; i++) {
        const struct lsel_req *r = &s->reqs[i];
        bool set = r->op == LSEL_IN || r->op == LSEL_NOT_IN;
        if (i > 0)
            rc = rc ? rc : buf_puts(&b, ",");
        if (r->op == LSEL_DOES_NOT_EXIST)
            rc = rc ? rc : buf_puts(&b, "!");
        rc = rc ? rc : buf_puts(&b, r->key);
        if (r->op == LSEL_EXISTS || r->op == LSEL_DOES_NOT_EXIST)
            continue;
        rc = rc ? rc : buf_puts(&b, op_text(r->op));
        if (set)
            rc = rc ? rc : buf_puts(&b, "(");
        for (size_t j = 0; j < r->nvalues; j++) {
            if (j > 0)
                rc = rc ? rc : buf_puts(&b, ",");
            rc = rc ? rc : buf_puts(&b, r->values[j]);
        }
        if (set)
            rc = rc ? rc : buf_puts(&b, ")");
    }
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, NULL);
}

/* ------------------------------------------------------------------ */
/* Field selectors                                                     */
/* ------------------------------------------------------------------ */

struct fsel_term {
    char *field;
    char *value;    /* unescaped */
    bool negated;   /* != */
    size_t order;
};

struct field_selector {
    struct fsel_term *terms;
    size_t n;
    size_t cap;
};

void field_selector_free(struct field_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->terms[i].field);
        free(s->terms[i].value);
    }
    free(s->terms);
    free(s);
}

/* A field path: [A-Za-z0-9_-] segments joined by single dots. */
static bool field_name_valid(const char *p, size_t n)
{
    if (n == 0 || n > SELECTOR_MAX_FIELD_BYTES || p[0] == '.' ||
        p[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '.' && p[i + 1] == '.')
            return false;
        if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
            return false;
    }
    return true;
}

/*
 * Unescapes a value as fields.UnescapeValue does into *out (caller frees).
 * Returns 0, -ENOMEM, or -KE_INVALID with the message in err.
 */
static int unescape_value(const char *p, size_t n, char **out, char *err,
                          size_t errlen)
{
    char *v = malloc(n + 1);
    size_t o = 0;
    char lit[SELECTOR_ECHO_BUF_BYTES];

    *out = NULL;
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 == n) {
                set_err(err, errlen, "invalid field selector: invalid escape "
                                     "sequence: \\");
                goto invalid;
            }
            c = p[++i];
            if (c != '\\' && c != ',' && c != '=') {
                render(lit, sizeof(lit), p + i, 1, false);
                set_err(err, errlen, "invalid field selector: invalid escape "
                                     "sequence: \\%s", lit);
                goto invalid;
            }
        } else if (c == ',' || c == '=') {
            set_err(err, errlen, "invalid field selector: unescaped "
                                 "character in value: '%c'", c);
            goto invalid;
        }
        v[o++] = c;
    }
    v[o] = 0;
    *out = v;
    return 0;
invalid:
    free(v);
    return -KE_INVALID;
}

/* Parses one non-empty term of the selector `text` and adds it to s. */
static int parse_term(struct field_selector *s, const char *text,
                      size_t textlen, const char *p, size_t n, char *err,
                      size_t errlen)
{
    char whole[SELECTOR_ECHO_BUF_BYTES];
    char part[SELECTOR_ECHO_BUF_BYTES];
    size_t i, oplen = 0;
    bool negated = false;
    char *field = NULL, *value = NULL;
    int rc;

    /* Splits at the first operator; the field takes no escapes. */
    for (i = 0; i < n; i++) {
        if (p[i] == '!' && i + 1 < n && p[i + 1] == '=') {
            negated = true;
            oplen = 2;
            break;
        }
        if (p[i] == '=') {
            oplen = i + 1 < n && p[i + 1] == '=' ? 2 : 1;
            break;
        }
    }
    if (oplen == 0) {
        render(whole, sizeof(whole), text, textlen, false);
        render(part, sizeof(part), p, n, false);
        set_err(err, errlen, "invalid selector: '%s'; can't understand '%s'",
                whole, part);
        return -KE_INVALID;
    }
    if (!field_name_valid(p, i)) {
        render(whole, sizeof(whole), p, i, false);
        render(part, sizeof(part), p, n, false);
        set_err(err, errlen, "invalid field selector: invalid field name '%s' "
                             "in '%s'", whole, part);
        return -KE_INVALID;
    }
    rc = unescape_value(p + i + oplen, n - i - oplen, &value, err, errlen);
    if (rc)
        return rc;
    if (s->n >= SELECTOR_MAX_TERMS) {
        set_err(err, errlen, "invalid field selector: too many terms: more "
                             "than %d", SELECTOR_MAX_TERMS);
        rc = -KE_INVALID;
        goto out;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        struct fsel_term *t = realloc(s->terms, cap * sizeof(*t));
        if (!t) {
            rc = -ENOMEM;
            goto out;
        }
        s->terms = t;
        s->cap = cap;
    }
    field = strndup(p, i);
    if (!field) {
        rc = -ENOMEM;
        goto out;
    }
    s->terms[s->n] = (struct fsel_term){
        .field = field,
        .value = value,
        .negated = negated,
        .order = s->n,
    };
    s->n++;
    return 0;
out:
    free(value);
    return rc;
}

static int cmp_term(const void *a, const void *b)
{
    const struct fsel_term *x = a, *y = b;
    int c = strcmp(x->field, y->field);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

int field_selector_parse(const char *text, struct field_selector **out,
                         char *err, size_t errlen)
{
    struct field_selector *s = NULL;
    int rc = 0;

    *out = NULL;
    clear_err(err, errlen);
    s = calloc(1, sizeof(*s));
    if (!s) {
        rc = -ENOMEM;
        goto out;
    }
    if (!text)
        goto out;
    size_t len = strnlen(text, SELECTOR_MAX_TEXT_BYTES + 1);
    if (len > SELECTOR_MAX_TEXT_BYTES) {
        set_err(err, errlen, "invalid field selector: too long: more than %d "
                             "bytes", SELECTOR_MAX_TEXT_BYTES);
        rc = -KE_INVALID;
        goto out;
    }
    /* Terms end at commas not escaped by a backslash. */
    size_t start = 0;
    bool escaped = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && escaped) {
            escaped = false;
            continue;
        }
        if (i < len && text[i] == '\\') {
            escaped = true;
            continue;
        }
        if (i < len && text[i] != ',')
            continue;
        if (i > start) {
            rc = parse_term(s, text, len, text + start, i - start, err,
                            errlen);
            if (rc)
                goto out;
        }
        start = i + 1;
    }
    if (s->n > 1)
        qsort(s->terms, s->n, sizeof(*s->terms), cmp_term);
out:
    if (rc == -ENOMEM)
        set_err(err, errlen, "out of memory");
    if (rc) {
        field_selector_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int field_selector_check(const struct field_selector *s,
                         const char *const *allowed, char *err,
                         size_t errlen)
{
    clear_err(err, errlen);
    for (size_t i = 0; s && i < s->n; i++) {
        const char *f = s->terms[i].field;
        bool ok = strcmp(f, "metadata.name") == 0 ||
                  strcmp(f, "metadata.namespace") == 0;
        for (size_t j = 0; !ok && allowed && allowed[j]; j++)
            ok = strcmp(f, allowed[j]) == 0;
        if (!ok) {
            /* Field names are plain [A-Za-z0-9._-], safe to echo. */
            set_err(err, errlen, "field label not supported: %s", f);
            return -KE_INVALID;
        }
    }
    return 0;
}

/* Shortest decimal text that reads back as d ("2.5", "3", "1e+21"). */
static void format_double(double d, char *out, size_t cap)
{
    if (!isfinite(d)) {
        snprintf(out, cap, "%g", d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

/*
 * The comparable text of the value at a dotted path, as described at
 * field_selector_matches; NULL for objects and arrays. *len receives its
 * length (strings may hold NUL bytes). Number text goes into scratch.
 */
static const char *field_value(struct json_object *obj, const char *path,
                               char *scratch, size_t cap, size_t *len)
{
    char seg[SELECTOR_MAX_FIELD_BYTES + 1];
    struct json_object *cur = obj;
    const char *p = path;
    const char *v = "";

    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(seg) || !cur ||
            !json_object_is_type(cur, json_type_object))
            goto found;
        memcpy(seg, p, n);
        seg[n] = 0;
        struct json_object *next = NULL;
        if (!json_object_object_get_ex(cur, seg, &next) || !next)
            goto found;
        cur = next;
        if (!dot)
            break;
        p = dot + 1;
    }
    switch (json_object_get_type(cur)) {
    case json_type_string:
        *len = (size_t)json_object_get_string_len(cur);
        return json_object_get_string(cur);
    case json_type_boolean:
        v = json_object_get_boolean(cur) ? "true" : "false";
        break;
    case json_type_int: {
        int64_t i = json_object_get_int64(cur);
        if (i == INT64_MAX)
            snprintf(scratch, cap, "%" PRIu64, json_object_get_uint64(cur));
        else
            snprintf(scratch, cap, "%" PRId64, i);
        v = scratch;
        break;
    }
    case json_type_double:
        format_double(json_object_get_double(cur), scratch, cap);
        v = scratch;
        break;
    case json_type_object:
    case json_type_array:
        return NULL;
    case json_type_null:
        break;
    }
found:
    *len = strlen(v);
    return v;
}

bool field_selector_matches(const struct field_selector *s,
                            struct json_object *obj)
{
    char scratch[64];

    for (size_t i = 0; s && i < s->n; i++) {
        const struct fsel_term *t = &s->terms[i];
        size_t len = 0;
        const char *v = field_value(obj, t->field, scratch, sizeof(scratch),
                                    &len);
        bool eq = v && len == strlen(t->value) &&
                  memcmp(v, t->value, len) == 0;
        if (eq == t->negated)
            return false;
    }
    return true;
}

const char *field_selector_exact(const struct field_selector *s,
                                 const char *field)
{
    for (size_t i = 0; s && field && i < s->n; i++)
        if (!s->terms[i].negated && strcmp(s->terms[i].field, field) == 0)
            return s->terms[i].value;
    return NULL;
}

bool field_selector_empty(const struct field_selector *s)
{
    return !s || s->n == 0;
}

char *field_selector_string(const struct field_selector *s)
{
    struct buf b;
    int rc;

    buf_init(&b, 0);
    rc = buf_append(&b, "", 0);
    for (size_t i = 0; s && i < s->n && rc == 0; i++) {
        const struct fsel_term *t = &s->terms[i];
        if (i > 0)
            rc = buf_puts(&b, ",");
        rc = rc ? rc : buf_puts(&b, t->field);
        rc = rc ? rc : buf_puts(&b, t->negated ? "!=" : "=");
        for (const char *c = t->value; *c && rc == 0; c++) {
            if (*c == '\\' || *c == ',' || *c == '=')
                rc = buf_append(&b, "\\", 1);
            rc = rc ? rc : buf_append(&b, c, 1);
        }
    }
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, NULL);
}
