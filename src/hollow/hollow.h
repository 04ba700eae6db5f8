/* `kedge hollow`: simulated edge nodes for scale tests (hollow.c). */
#ifndef KEDGE_HOLLOW_HOLLOW_H
#define KEDGE_HOLLOW_HOLLOW_H

int hollow_main(int argc, char **argv);

#endif
