/* mappings.h: the program's own anonymous private mappings (TALLY_MMAP).
 *
 * The shim reports each mmap, munmap and mremap of the program (never the
 * raw allocator's or tally's own, shim/entry_mmap.c). Each tracked mapping
 * is a range of whole pages with the stack and pool of the call that made
 * it, kept here in address order under one lock: these calls are system
 * calls already, so a lock costs little, and none is held while unwinding
 * (the shim captures the stack first). Every change is booked in the
 * ledger at once: a new mapping as an allocation of its pages; released
 * pages as a free of exactly those pages from the site that mapped them,
 * the range shrinking, vanishing or splitting in two. At a dump the live
 * ranges join the snapshot's live blocks (TT_FLAG_MAPPING), so the leak
 * check and the reports see them as blocks. */
#ifndef TALLY_TRACK_MAPPINGS_H
#define TALLY_TRACK_MAPPINGS_H

#include "track/config.h"

/* Calls fn for every tracked range [lo, hi), in address order, as they
 * were at one instant (a copy: fn is called without the lock). */
void tt_mappings_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, uint32_t stack, int32_t pool,
                                    void *arg),
                         void *arg);
/* The tracked ranges' bytes now (exact: kept beside the ranges, not
 * folded), for what must count the heap alone (mallinfo2). */
int64_t tt_mappings_bytes(void);
/* fork: the lock, taken before the threads' and the ledger's (a booking
 * holds it while it books); in the child, a fresh one. */
void tt_mappings_lock(void);
void tt_mappings_unlock(void);
void tt_mappings_fork_child(void);

#endif
