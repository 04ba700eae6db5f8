/* `kedge edge`: an edge node (edge.c). */
#ifndef KEDGE_EDGE_EDGE_H
#define KEDGE_EDGE_EDGE_H

int edge_main(int argc, char **argv);

#endif
