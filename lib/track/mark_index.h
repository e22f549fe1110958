/* mark_index.h: the leak check's blocks in address order, and the block
 * that holds an address (mark.c looks up every candidate word here).
 *
 * A candidate word is looked up in the blocks' starts alone (8 bytes each,
 * not the 32-byte leak records: a quarter of the cache misses), within the
 * range of one of nbuckets equal slices of [lo, hi). The leak records stay
 * where they are: start[], end[] and idx[] are the sorted view. Its arrays
 * are mmap'd: the leak check calls no malloc. */
#ifndef TALLY_TRACK_MARK_INDEX_H
#define TALLY_TRACK_MARK_INDEX_H

#include "track/snapshot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const tt_snap_leak *b; /* the records, in the snapshot's order */
    size_t n;
    uintptr_t lo, hi; /* the lowest start and the highest end */
    uintptr_t *start;
    uint32_t *idx;     /* the leak record of each start */
    uintptr_t *end;    /* each start's block end, alongside: no trip to the record */
    uint32_t *bucket;  /* nbuckets + 1: the first block starting in each slice */
    uint32_t nbuckets; /* a power of two, about a quarter of the blocks */
    unsigned shift;
    /* Some block is a mapping (TALLY_MMAP): only then does the mark's
     * scan read each block's leak record, a cache miss a block (a third
     * of the scan of a million small blocks). */
    bool any_mapping;
} tt_block_index;

/* The n records b (at least one, at most UINT32_MAX / 2) in address order.
 * nsorted: how many of them lead in address order (tt_snapshot.nsorted),
 * a claim the build checks rather than trusts. 0, or ENOMEM. */
int tt_block_index_init(tt_block_index *x, const tt_snap_leak *b, size_t n, size_t nsorted);
void tt_block_index_free(tt_block_index *x);

/* The block that holds address a (lo <= a < hi), or n: the last block
 * starting at or below a, if a falls before its end. */
static inline size_t tt_block_index_find(const tt_block_index *x, uintptr_t a)
{
    uintptr_t k = (a - x->lo) >> x->shift;
    size_t lo = x->bucket[k], hi = x->bucket[k + 1];
    if (lo == hi || x->start[lo] > a) { /* it starts in an earlier slice */
        if (lo == 0)
            return x->n;
        lo--;
    } else {
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (x->start[mid] <= a)
                lo = mid;
            else
                hi = mid;
        }
    }
    return a < x->end[lo] ? lo : x->n;
}

#endif
