#include "unit.h"
#include "util/duration.h"
#include "util/errors.h"

static uint64_t ms(const char *s)
{
    uint64_t v = 12345;
    CHECK_INT(duration_parse_ms(s, &v), 0);
    return v;
}

int main(void)
{
    CHECK_INT((int)ms("0"), 0);
    CHECK_INT((int)ms("40s"), 40000);
    CHECK_INT((int)ms("10m"), 600000);
    CHECK_INT((int)ms("1h30m"), 5400000);
    CHECK_INT((int)ms("300ms"), 300);
    CHECK_INT((int)ms("1.5s"), 1500);
    CHECK_INT((int)ms("2h45m10s"), 9910000);
    CHECK_INT((int)ms("1500us"), 1);
    const char *bad[] = {"", "10", "s", "-1s", "1x", "1.2.3s", "1 s", "m5",
                         "99999999999999999h", NULL};
    for (int i = 0; bad[i]; i++) {
        uint64_t v = 7;
        CHECK_INT(duration_parse_ms(bad[i], &v), -KE_INVALID);
        CHECK_INT((int)v, 7);
    }
    return unit_done("test_duration");
}
