/* kedge: one binary, several roles; this file only dispatches. */
#include "cloud/cloud.h"
#include "edge/edge.h"
#include "hollow/hollow.h"
#include "join/join.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"cloud", cloud_main,
     "run the control plane (Kubernetes API server and storage)"},
    {"edge", edge_main,
     "run an edge node (joins the cloud, local store and API, runs pods)"},
    {"token", token_main, "create, list and delete join tokens for edges"},
    {"hollow", hollow_main,
     "simulate many edge nodes (real protocol, fake runtime) for scale tests"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: kedge <command> [flags]\n\n"
                 "kedge runs Kubernetes workloads and devices at the edge.\n\n"
                 "Commands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version");
    fprintf(out, "\nRun 'kedge <command> --help' for the flags of a "
                 "command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("kedge %s (Kubernetes API v1.32)\n", KEDGE_GIT_COMMIT);
        return 0;
    }
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "kedge: unknown command \"%s\" (see kedge --help)\n",
            argv[1]);
    return 2;
}
