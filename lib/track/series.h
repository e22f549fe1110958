/* series.h: each pool's current bytes and the RSS over time, in bounded
 * memory: when the buffer fills, every other point goes and the period
 * doubles. The hot path never touches it. */
#ifndef TALLY_TRACK_SERIES_H
#define TALLY_TRACK_SERIES_H

#include "track/config.h"

#include "profile/write.h"

/* Records one point if its period has come (ticker.c calls it). */
void tt_series_tick(void);
/* Appends the SERIES payload to out. */
void tt_series_payload(prof_writer *out);
void tt_series_lock(void);
void tt_series_unlock(void);
void tt_series_fork_child(void);

#endif
