/* service.h: the core's timed work (the time series, checkpoints) and the
 * dumps a signal asked for, done by the program's own allocating threads:
 * tally runs no thread of its own (service.c). */
#ifndef TALLY_TRACK_SERVICE_H
#define TALLY_TRACK_SERVICE_H

#include "track/config.h"

/* Arms the clock (due.h) from the settings: at start and in a forked child. */
void tt_service_start(void);

#endif
