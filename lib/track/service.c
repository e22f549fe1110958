/* service.c: the core's timed work, done on the program's own threads.
 *
 * valgrind and LeakSanitizer add no thread to the program, and neither does
 * tally: a helper thread keeps a process alive after main's pthread_exit
 * (it ends only with the last thread), shows in /proc/self/task, and makes
 * unshare(CLONE_NEWUSER) fail. So the time series and the checkpoints are
 * driven by the allocation path itself. Every TT_CLOCK_CAPTURES stack
 * captures (entry.c) and at every fold of its books (at least every
 * TT_BATCH_OPS bookings) a thread reads the coarse vDSO clock (no system
 * call) and, when a point or a checkpoint is due, raises a bit; the next
 * allocation that returns to the program holding no lock of the core's
 * runs tally_track_service. A program that stops allocating gets no
 * new points, and needs none: its books do not change. A dump's snapshot
 * adds a last point (tt_series_tick_now(true)), so the series always reaches it.
 * The live view's publications (TALLY_LIVE, publish.c) are timed work of
 * the same kind, about once a second.
 *
 * The dump signal's handler (shim/signals.c) writes the dump at once when
 * its thread was outside tally; inside, it raises a bit the same way
 * (async-signal-safe) for the next allocating thread. */
#include "track/service.h"

#include "track/due.h"
#include "track/dump.h"
#include "track/publish.h"
#include "track/series.h"

#include <stdatomic.h>

static int64_t next_series_ns = INT64_MAX, next_checkpoint_ns = INT64_MAX;
/* The live view's next publication (TALLY_LIVE, publish.c). */
static int64_t next_publish_ns = INT64_MAX;
/* One thread services at a time; the others go back to the program. */
static _Atomic int servicing;

static int64_t after(int64_t now, int64_t period_ns)
{
    return period_ns > 0 ? now + period_ns : INT64_MAX;
}

static void rearm(void)
{
    int64_t next = next_series_ns < next_checkpoint_ns ? next_series_ns : next_checkpoint_ns;
    if (next_publish_ns < next)
        next = next_publish_ns;
    atomic_store_explicit(&tt_due_next_ns, next, memory_order_relaxed);
}

void tt_service_start(void)
{
    int64_t now = tt_now_ns();
    next_series_ns = after(now, (int64_t)tt_cfg.interval_ms * 1000000);
    next_checkpoint_ns = after(now, tt_cfg.checkpoint_ns);
    next_publish_ns = after(now, tt_cfg.live ? TT_PUBLISH_PERIOD_NS : 0);
    atomic_store(&servicing, 0);
    rearm();
}

static void on_clock(void)
{
    int64_t now = tt_now_ns();
    bool dumped = now >= next_checkpoint_ns;
    if (dumped) {
        tt_dump(NULL, PROF_REASON_CHECKPOINT, NULL); /* it records a point of its own */
        /* Counted from the end of the write: a slow disk never queues dumps. */
        next_checkpoint_ns = after(tt_now_ns(), tt_cfg.checkpoint_ns);
    }
    if (now >= next_series_ns) {
        if (!dumped)
            tt_series_tick_now(false);
        next_series_ns = after(now, (int64_t)tt_cfg.interval_ms * 1000000);
    }
    if (now >= next_publish_ns) {
        tt_publish_now(); /* and a snapshot profile, when the reader asked */
        next_publish_ns = after(tt_now_ns(), TT_PUBLISH_PERIOD_NS);
    }
    rearm();
}

TALLY_INTERNAL void tally_track_service(void)
{
    if (atomic_exchange(&servicing, 1))
        return;
    int due = atomic_exchange(&tally_track_due, 0);
    if (tally_track_is_on()) {
        if (due & TT_DUE_DUMP)
            tt_dump(NULL, PROF_REASON_DUMP_SIGNAL, NULL);
        if (due & TT_DUE_CLOCK)
            on_clock();
    }
    atomic_store(&servicing, 0);
}
