/* due.h: when the core's timed work falls due (the time series, the
 * checkpoints), checked from the allocation path; service.c does the work.
 * Kept apart from service.c, which writes dumps, so that the ledger can
 * look at the clock without depending on the dump. */
#ifndef TALLY_TRACK_DUE_H
#define TALLY_TRACK_DUE_H

#include "track/config.h"

#include <stdatomic.h>
#include <time.h>

/* The earliest time (CLOCK_MONOTONIC ns) that timed work is due. */
extern _Atomic int64_t tt_due_next_ns;

/* entry.c calls this every TT_CLOCK_CAPTURES stack captures of a thread,
 * and the ledger at every fold: one read of the coarse clock (vDSO, no
 * system call; its few ms of resolution are enough for periods of 10 ms
 * and more). When something is due it
 * raises tally_track_due; the next entry point that returns to the program
 * does the work (tally_track_service). */
static inline int64_t tt_due_check_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (TT_UNLIKELY(now >= atomic_load_explicit(&tt_due_next_ns, memory_order_relaxed)))
        atomic_fetch_or_explicit(&tally_track_due, TT_DUE_CLOCK, memory_order_relaxed);
    return now; /* the clock read, for a caller that needs the time too */
}

#endif
