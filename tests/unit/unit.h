/*
 * A minimal unit-test harness: CHECK records a failure and goes on,
 * unit_done() prints the summary and gives the exit status.
 */
#ifndef KEDGE_TESTS_UNIT_H
#define KEDGE_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond)                                                        \
    do {                                                                   \
        unit_checks++;                                                     \
        if (!(cond)) {                                                     \
            unit_failures++;                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
        }                                                                  \
    } while (0)

#define CHECK_INT(a, b)                                                    \
    do {                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);              \
        unit_checks++;                                                     \
        if (va_ != vb_) {                                                  \
            unit_failures++;                                               \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",          \
                    __FILE__, __LINE__, #a, va_, vb_);                     \
        }                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *sa_ = (a), *sb_ = (b);                                 \
        unit_checks++;                                                     \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                       \
            unit_failures++;                                               \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",      \
                    __FILE__, __LINE__, #a, sa_ ? sa_ : "(null)",          \
                    sb_ ? sb_ : "(null)");                                 \
        }                                                                  \
    } while (0)

static inline int unit_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}

#endif
