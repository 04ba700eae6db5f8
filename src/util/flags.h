/*
 * Command-line flags for kedge's subcommands: --name value or
 * --name=value, generated --help text, and a clear error (exit status 2)
 * for unknown flags and bad values.
 */
#ifndef KEDGE_UTIL_FLAGS_H
#define KEDGE_UTIL_FLAGS_H

#include <stdbool.h>
#include <stdio.h>

enum flag_type { FLAG_STRING, FLAG_INT, FLAG_BOOL };

struct flag {
    const char *name;   /* without the dashes: "data-dir" */
    enum flag_type type;
    void *target;       /* const char **, int *, or bool * */
    const char *help;
};

/*
 * Parses argv (argv[0] is the command name) into the flags' targets, which
 * hold their defaults on entry. Returns 0 on success, 1 when --help was
 * given (usage printed to stdout), 2 on error (message on stderr).
 */
int flags_parse(const char *cmd, const char *summary, const struct flag *flags,
                int argc, char **argv);

void flags_usage(FILE *out, const char *cmd, const char *summary,
                 const struct flag *flags);

#endif
