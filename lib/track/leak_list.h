/* leak_list.h: a snapshot's live blocks as they are walked, kept one by one
 * or summed into (stack, pool) groups (tt_snap_leak, snapshot.h).
 *
 * A dump that classifies nothing and lists no addresses writes only the
 * groups: for it, a list of 1M blocks was 32 MB of fresh pages and 13 ms
 * of a 22 ms dump, to be summed at once into a few groups. Grouped here,
 * it costs the index (4 bytes a group) and one entry per group. Like
 * everything a dump takes, it is mmap'd: nothing here calls malloc. */
#ifndef TALLY_TRACK_LEAK_LIST_H
#define TALLY_TRACK_LEAK_LIST_H

#include "base/mem.h"
#include "track/snapshot.h"

typedef struct {
    base_buf entries; /* tt_snap_leak[] */
    bool grouped;
    /* Grouped only: an open-addressing index of each (stack, pool)'s
     * newest entry (index + 1, 0 when empty), at most half full. */
    uint32_t *slots;
    size_t cap, n;
    uint32_t last; /* the last block's entry + 1: neighbours share a site */
    bool failed;
} tt_leak_list;

/* One live block. flags (TT_FLAG_*) are kept for a block, not a group. */
void tt_leak_list_add(tt_leak_list *l, uint64_t address, int64_t size, uint32_t stack, int32_t pool,
                      uint8_t flags);
/* Hands the entries to s (leaks, nleaks and the mapping's size) and frees
 * the index. 0, or ENOMEM when an entry was lost: then s holds none. */
int tt_leak_list_finish(tt_leak_list *l, tt_snapshot *s);

#endif
