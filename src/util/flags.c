/* Flag parsing and usage text for the subcommands. */
#include "util/flags.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void flags_usage(FILE *out, const char *cmd, const char *summary,
                 const struct flag *flags)
{
    fprintf(out, "Usage: kedge %s [flags]\n\n%s\n\nFlags:\n", cmd, summary);
    for (const struct flag *f = flags; f->name; f++) {
        char left[64];
        const char *arg = f->type == FLAG_STRING ? " string"
                          : f->type == FLAG_INT  ? " int"
                                                 : "";
        snprintf(left, sizeof(left), "--%s%s", f->name, arg);
        fprintf(out, "  %-28s %s", left, f->help);
        if (f->type == FLAG_STRING && *(const char **)f->target)
            fprintf(out, " (default \"%s\")", *(const char **)f->target);
        else if (f->type == FLAG_INT)
            fprintf(out, " (default %d)", *(int *)f->target);
        fputc('\n', out);
    }
    fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
}

static const struct flag *find(const struct flag *flags, const char *name,
                               size_t len)
{
    for (const struct flag *f = flags; f->name; f++)
        if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
            return f;
    return NULL;
}

int flags_parse(const char *cmd, const char *summary, const struct flag *flags,
                int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            flags_usage(stdout, cmd, summary, flags);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "kedge %s: unexpected argument \"%s\" (see kedge "
                            "%s --help)\n", cmd, a, cmd);
            return 2;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct flag *f = find(flags, name, nlen);
        if (!f) {
            fprintf(stderr, "kedge %s: unknown flag --%.*s (see kedge %s "
                            "--help)\n", cmd, (int)nlen, name, cmd);
            return 2;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (f->type == FLAG_BOOL) {
            bool v = true;
            if (val) {
                if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
                    v = true;
                else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
                    v = false;
                else {
                    fprintf(stderr, "kedge %s: --%s takes true or false, not "
                                    "\"%s\"\n", cmd, f->name, val);
                    return 2;
                }
            }
            *(bool *)f->target = v;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kedge %s: flag --%s needs a value\n", cmd,
                        f->name);
                return 2;
            }
            val = argv[++i];
        }
        if (f->type == FLAG_STRING) {
            *(const char **)f->target = val;
        } else {
            char *end;
            errno = 0;
            long v = strtol(val, &end, 10);
            if (errno || *end || !*val || v < INT_MIN || v > INT_MAX) {
                fprintf(stderr, "kedge %s: --%s takes an integer, not \"%s\"\n",
                        cmd, f->name, val);
                return 2;
            }
            *(int *)f->target = (int)v;
        }
    }
    return 0;
}
