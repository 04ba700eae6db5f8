/*
 * Unit tests for Go-style duration parsing (src/util/duration.c): every
 * unit, compound and fractional forms, and the garbage it must reject.
 */
#include "util/duration.h"
#include "util/errors.h"

#include "unit.h"

#include <stdint.h>

/* Parses s, which must succeed, and returns the milliseconds. */
static uint64_t ok(const char *s)
{
    uint64_t ms = 12345;
    int rc = duration_parse_ms(s, &ms);
    if (rc != 0)
        fprintf(stderr, "duration \"%s\" rejected\n", s);
    CHECK_INT(rc, 0);
    return ms;
}

/* s must be rejected with -KE_INVALID, leaving the out-value alone. */
static void bad(const char *s)
{
    uint64_t ms = 777;
    int rc = duration_parse_ms(s, &ms);
    if (rc != -KE_INVALID)
        fprintf(stderr, "duration \"%s\" accepted (%llu ms)\n",
                s ? s : "(null)", (unsigned long long)ms);
    CHECK_INT(rc, -KE_INVALID);
    CHECK_INT(ms, 777);
}

int main(void)
{
    CHECK_INT(ok("0"), 0);
    CHECK_INT(ok("+0"), 0);
    CHECK_INT(ok("0s"), 0);
    CHECK_INT(ok("40s"), 40000);
    CHECK_INT(ok("10m"), 600000);
    CHECK_INT(ok("1h"), 3600000);
    CHECK_INT(ok("1h30m"), 5400000);
    CHECK_INT(ok("2h45m30s"), 9930000);
    CHECK_INT(ok("250ms"), 250);
    CHECK_INT(ok("1s500ms"), 1500);
    CHECK_INT(ok("1.5h"), 5400000);
    CHECK_INT(ok("1.5s"), 1500);
    CHECK_INT(ok(".5s"), 500);
    CHECK_INT(ok("5.s"), 5000);
    CHECK_INT(ok("0.001s"), 1);
    CHECK_INT(ok("+3s"), 3000);
    CHECK_INT(ok("30s"), 30000);
    /* Below a millisecond truncates. */
    CHECK_INT(ok("999us"), 0);
    CHECK_INT(ok("1500us"), 1);
    CHECK_INT(ok("1500\xc2\xb5s"), 1);
    CHECK_INT(ok("2000000ns"), 2);
    /* Long fractions keep their precision where it matters. */
    CHECK_INT(ok("1.000000000000000000001s"), 1000);
    CHECK_INT(ok("0.1234567891234h"), 444444);
    /* The largest Go duration (about 292 years) is fine. */
    CHECK_INT(ok("2562047h"), 2562047ULL * 3600000ULL);

    bad(NULL);
    bad("");
    bad("s");
    bad("5");
    bad("10");
    bad("-5s");
    bad("-0");
    bad("+");
    bad(".");
    bad(".s");
    bad("5x");
    bad("5 s");
    bad(" 5s");
    bad("5s ");
    bad("5S");
    bad("1d");
    bad("5sec");
    bad("1h30");
    bad("1..5s");
    bad("abc");
    bad("3000000h");
    bad("99999999999999999999s");
    bad("9223372036854775808ns");

    return unit_done("test_duration");
}
