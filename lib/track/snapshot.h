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
typedef struct {
    uint64_t address;
    int64_t size;
    uint32_t stack;
    int32_t pool;
    unsigned flags;
    uint8_t kind; /* PROF_LEAK_* (lib/profile/format.h); LIVE unless classified */
} tt_snap_leak;
typedef struct {
    int64_t peak_bytes, peak_ns, now_ns;
    uint32_t threads;
    bool classified; /* the leak check ran: every leak has its kind */
    tt_snap_pool *pools;
    size_t npools;
    tt_snap_rec *recs;
    size_t nrecs;
    tt_snap_leak *leaks;
    size_t nleaks;
    size_t map_bytes[3];
} tt_snapshot;
int tt_snapshot_take(tt_snapshot *s);
void tt_snapshot_free(tt_snapshot *s);
const tt_snap_pool *tt_snapshot_pool(const tt_snapshot *s, int32_t id);

#endif
