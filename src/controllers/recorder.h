/*
 * Event aggregation state of the controller manager (recorder.c), kept by
 * the manager (manager.c).
 */
#ifndef KEDGE_CONTROLLERS_RECORDER_H
#define KEDGE_CONTROLLERS_RECORDER_H

#include "controllers/ctrl.h"

struct recorder;

/* Where the manager keeps the recorder (created on first use). */
struct recorder **ctrl_recorder_slot(struct ctrl *c);
void recorder_free(struct recorder *r);

#endif
