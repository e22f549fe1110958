/* leak_list.h: a snapshot's live blocks as they are walked, kept one by one
 * or summed into (stack, pool) groups (tt_snap_leak, snapshot.h).
 *
 * A dump that classifies nothing and lists no addresses writes only the
 * groups: for it, a list of 1M blocks was 32 MB of fresh pages and about
 * 13 ms of a 22-26 ms dump, to be summed at once into a few groups.
 * Grouped here, through the profile writer's own index
 * (profile/leak_groups.h), it costs that index and one entry per group.
 * Like everything a dump takes, it is mmap'd: nothing here calls malloc. */
#ifndef TALLY_TRACK_LEAK_LIST_H
#define TALLY_TRACK_LEAK_LIST_H

#include "base/mem.h"
#include "profile/leak_groups.h"
#include "track/snapshot.h"

typedef struct {
    bool grouped;
    size_t sorted;           /* blocks[0, sorted) are in address order */
    base_buf blocks;         /* not grouped: tt_snap_leak[] */
    prof_leak_groups groups; /* grouped: the sums, every one PROF_LEAK_LIVE */
} tt_leak_list;

/* One live block. flags (TT_FLAG_*) are kept for a block, not a group. */
void tt_leak_list_add(tt_leak_list *l, uint64_t address, int64_t size, uint32_t stack, int32_t pool,
                      uint8_t flags);
/* The blocks added so far came in address order (the snapshot's nsorted). */
void tt_leak_list_sorted_so_far(tt_leak_list *l);
/* Hands the entries to s (leaks, nleaks and the mapping's size) and frees
 * the rest. 0, or ENOMEM when an entry was lost: then s holds none. */
int tt_leak_list_finish(tt_leak_list *l, tt_snapshot *s);

#endif
