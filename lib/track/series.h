/* series.h: each pool's current bytes and the RSS over time, in bounded
 * memory: when the buffer fills, every other point goes and the period
 * doubles. The hot path never touches it. */
#ifndef TALLY_TRACK_SERIES_H
#define TALLY_TRACK_SERIES_H

#include "track/config.h"

#include "profile/write.h"

/* Records a point now (service.c when one is due, dump.c before each
 * snapshot: `last`, kept even when the series is thinned). The RSS is read from /proc/self/statm: a
 * system call, on this slow path only, at most once per interval and dump. */
void tt_series_tick_now(bool last);
/* Appends the SERIES payload to out, with the columns of the pools that
 * `listed` accepts only: a profile names only the pools its snapshot holds,
 * and a pool that booked its first block after the snapshot may have a
 * column by the time the series is written. */
void tt_series_payload(prof_writer *out, bool (*listed)(int32_t pool, const void *arg),
                       const void *arg);
void tt_series_lock(void);
void tt_series_unlock(void);
void tt_series_fork_child(void);

#endif
