/* `kedge cloud`: the control plane process. */
#ifndef KEDGE_CLOUD_CLOUD_H
#define KEDGE_CLOUD_CLOUD_H

/* Runs the command; returns the process exit status. */
int cloud_main(int argc, char **argv);

#endif
