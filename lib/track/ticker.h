/* ticker.h: the tracking core's one background thread (ticker.c). */
#ifndef TALLY_TRACK_TICKER_H
#define TALLY_TRACK_TICKER_H

#include "track/config.h"

void tt_ticker_start(void); /* idempotent */
void tt_ticker_fork_child(void);

#endif
