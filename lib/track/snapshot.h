/* snapshot.h: one consistent copy of the books, for the profile writer and
 * the exit summary. It lives in mmap'd memory; taking it allocates nothing
 * through malloc. */
#ifndef TALLY_TRACK_SNAPSHOT_H
#define TALLY_TRACK_SNAPSHOT_H

#include "track/config.h"

#include <stddef.h>

typedef struct {
    int32_t id;
    bool wrapper;
    char name[64];
    int64_t current, peak, total_bytes, total_count, temp, live_count;
    int64_t hist[TT_NBUCKETS];
} tt_snap_pool;
typedef struct {
    uint32_t stack;
    int32_t pool;
    int64_t live_bytes, live_count, total_bytes, total_count, temp, peak_bytes, pool_peak_bytes;
    int64_t temp_bytes; /* bytes of the temporaries */
} tt_snap_rec;
/* Live blocks: one block (count 1), or in a snapshot taken without blocks,
 * all those of one (stack, pool), size being their bytes in all (a group of
 * more than UINT32_MAX blocks is split). Grouping spares a dump that
 * classifies nothing a copy of every block: 32 MB and about half the time
 * of a dump of 1M live blocks. */
typedef struct {
    uint64_t address; /* a block's; 0 in a group */
    int64_t size;
    uint32_t stack;
    int32_t pool;
    uint32_t count;
    uint8_t flags; /* TT_FLAG_* of a block (live_table.h); 0 in a group */
    uint8_t kind;  /* PROF_LEAK_* (lib/profile/format.h); LIVE unless classified */
} tt_snap_leak;
_Static_assert(sizeof(tt_snap_leak) == 32, "a block's copy stays 32 bytes");
typedef struct {
    int64_t peak_bytes, peak_ns, now_ns;
    uint32_t threads;
    bool classified; /* the leak check ran: every leak has its kind */
    bool grouped;    /* leaks are (stack, pool) groups, not blocks */
    tt_snap_pool *pools;
    size_t npools;
    tt_snap_rec *recs;
    size_t nrecs;
    tt_snap_leak *leaks;
    size_t nleaks;
    size_t nsorted; /* leaks[0, nsorted) are blocks in address order */
    size_t map_bytes[3];
} tt_snapshot;
/* blocks: a leak per live block, as the leak check and
 * TALLY_LEAK_ADDRESSES need; otherwise a leak per (stack, pool). */
int tt_snapshot_take(tt_snapshot *s, bool blocks);
void tt_snapshot_free(tt_snapshot *s);
const tt_snap_pool *tt_snapshot_pool(const tt_snapshot *s, int32_t id);

#endif
