/*
 * Joining edge nodes: the `kedge token` command (token_cmd.c), the
 * cloud's join endpoint (hub side, join_server.c) and the edge's join
 * client (join_client.c).
 */
#ifndef KEDGE_JOIN_JOIN_H
#define KEDGE_JOIN_JOIN_H

int token_main(int argc, char **argv);

#endif
