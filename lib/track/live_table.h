/* live_table.h: every live block booked with its address, by address.
 *
 * The entry of a block holds its size, kind, flags, stack and pool. Only
 * the ledger inserts and removes entries (ledger.c); readers (the leak
 * list, a destroyed pool's blocks) walk it one shard at a time. */
#ifndef TALLY_TRACK_LIVE_TABLE_H
#define TALLY_TRACK_LIVE_TABLE_H

#include "track/config.h"

#include "base/hash.h"

#include <stdatomic.h>

enum {
    TT_FLAG_WRAPPER = 1, /* booked to a wrapper pool: the memory is its parent's too */
    TT_FLAG_COVERED = 2, /* a wrapper pool booked the same block on top of this one */
    TT_FLAG_SAMPLED = 4, /* per-stack books carry a sampling weight */
    TT_FLAG_MAPPING = 8, /* a snapshot's block that is a mapping of the program's (mappings.h) */
};
/* A live block as the table's readers see it. The table itself keeps each
 * in 16 bytes (live_table.c, "A slot") and hands out these copies. */
typedef struct {
    uintptr_t addr;
    int64_t size;
    uint32_t stack;
    int32_t pool;
    uint8_t kind, flags;
} tt_entry;
#define TT_ENTRY_MAX_SIZE (1ULL << 48)
#define TT_ANY_POOL INT32_MIN
static inline int64_t tt_entry_size(const tt_entry *e)
{
    return e->size;
}
static inline unsigned tt_entry_kind(const tt_entry *e)
{
    return e->kind;
}
static inline unsigned tt_entry_flags(const tt_entry *e)
{
    return e->flags;
}
void tt_live_insert(uintptr_t addr, int64_t size, uint32_t stack, int32_t pool, unsigned kind,
                    unsigned flags);
bool tt_live_remove(uintptr_t addr, int32_t pool, tt_entry *out);
bool tt_live_find(uintptr_t addr, int32_t pool, tt_entry *out);
/* The entry of the block whose bytes hold addr (its start or inside it), an
 * entry no wrapper covers first. Walks every shard: for an error report,
 * never the hot path. */
bool tt_live_find_containing(uintptr_t addr, tt_entry *out);
/* Blocks are sharded by the 4 MiB region of address space they lie in, not
 * each by its own address: an allocator gives each thread its own regions
 * (mimalloc's segments, glibc's per-thread heaps), so two threads mostly
 * lock different shards, and a shard's lock and filter lines stay in the
 * cache of the core that uses them. Sharded by block, every insert took a
 * line the other core had just written (churn on 2 threads: 1.67x the
 * throughput of 1). In a sampled run, each shard also counts its blocks in
 * TT_LIVE_FILTER address buckets: a zero count proves an address is not in
 * the table, without the shard's lock. */
#define TT_LIVE_SHARDS 64
#define TT_LIVE_REGION_SHIFT 22
#define TT_LIVE_FILTER 64
extern _Atomic uint32_t tt_live_filter[TT_LIVE_SHARDS][TT_LIVE_FILTER];
static inline uint64_t tt_live_mix(uintptr_t a)
{
    return base_hash_u64((uint64_t)a);
}
static inline uint32_t tt_live_shard_index(uintptr_t a)
{
    return (uint32_t)base_hash_u64((uint64_t)(a >> TT_LIVE_REGION_SHIFT)) & (TT_LIVE_SHARDS - 1);
}
static inline uint32_t tt_live_filter_slot(uint64_t h)
{
    return (uint32_t)(h >> 40) & (TT_LIVE_FILTER - 1);
}
/* False only when addr is surely not in the table: one relaxed load. A
 * sampled run's only: a full run does not keep the filter (live_table.c). */
static inline bool tt_live_maybe(uintptr_t addr)
{
    TALLY_ASSERT(tt_sampling());
    return atomic_load_explicit(
               &tt_live_filter[tt_live_shard_index(addr)][tt_live_filter_slot(tt_live_mix(addr))],
               memory_order_relaxed) != 0;
}
/* Starts loading addr's home slot into the cache, for an insert or a
 * remove soon after: no lock, no effect on the table. */
void tt_live_prefetch(uintptr_t addr);
/* Calls fn for every entry, one shard locked at a time. */
void tt_live_foreach(void (*fn)(const tt_entry *e, void *arg), void *arg);
int64_t tt_live_count(void);
void tt_live_lock_all(void);
void tt_live_unlock_all(void);

#endif
