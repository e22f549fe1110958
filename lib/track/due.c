/* due.c: the flags and the time of the core's due work (due.h, api.h). */
#include "track/due.h"

TALLY_INTERNAL _Atomic int tally_track_due;
_Atomic int64_t tt_due_next_ns = INT64_MAX;

/* Async-signal-safe: one atomic or. */
TALLY_INTERNAL void tally_track_raise(int due_bits)
{
    atomic_fetch_or(&tally_track_due, due_bits);
}
