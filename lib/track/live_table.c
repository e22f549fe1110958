/* live_table.c: every live tracked block, by address.
 *
 * 64 shards (by 4 MiB region: live_table.h says why), each an
 * open-addressing table with linear probing and backward-shift deletion (no
 * tombstones), 16 bytes per slot (see "A slot" below), at most 1/4 full
 * while small and 3/4 once big, grown into fresh mmap'd memory (backed in
 * one call before the rehash writes it all); from 2 MiB
 * on, in transparent huge pages, because a big table read at random
 * otherwise costs a TLB miss on top of the cache miss of nearly every
 * lookup. A shard's spin lock is held for a probe, never while unwinding.
 * In a sampled run, each shard also counts its blocks in TT_LIVE_FILTER
 * (64) address buckets: a zero count proves an address is not here, which
 * lets the run skip the lock for the many blocks it did not sample.
 *
 * A block booked by a wrapper pool and by its parent has one entry per pool,
 * so one address may appear twice, with different pool ids. */
#include "track/live_table.h"

#include "base/spin.h"
#include "base/mem.h"

#include <stdalign.h>
#include <string.h>

#define MIN_SLOTS 256
/* Below this many slots a shard is kept at most 1/4 full (doubling), above
 * it 3/4 (growing by half). A small table costs little memory however
 * sparse, and a sparse one short probe runs: a program with a few thousand
 * blocks that it frees and allocates again and again (shim_bignum) spent
 * 30% more time in the table at 3/4 than at 1/4. */
#define SPARSE_SLOTS 16384
#define BIG_LOAD_NUM 3 /* a big shard grows at 3/4 full */
#define BIG_LOAD_DEN 4
#define BIG_GROW_NUM 3 /* by half */
#define BIG_GROW_DEN 2

/* A slot: two words, 16 bytes, where tt_entry's fields would take 24.
 *
 *   key:  address in bits 0-47 (no user-space address is wider), its
 *         distance from its home slot in 48-55, kind 56-59, flags 60-63.
 *         0: an empty slot (no block lives at address 0).
 *   data: size in bits 0-31, stack 32-55, pool 56-63.
 *
 * A block whose size, stack or pool does not fit (4 GiB or more, the 16M-th
 * stack, pool 255 on) is "wide": its pool field reads WIDE_POOL and the
 * rest of data indexes a record of its shard's wide list holding all three
 * in full. That keeps every entry exact at the cost of one more load for
 * the rare block that needs it. */
typedef struct {
    uint64_t key, data;
} slot;
_Static_assert(sizeof(slot) == 16, "a slot is two words");

#define ADDR_BITS 48
#define ADDR_MASK ((1ULL << ADDR_BITS) - 1)
#define DISP_SHIFT 48
#define KIND_SHIFT 56
#define FLAGS_SHIFT 60
#define SIZE_BITS 32
#define STACK_SHIFT 32
#define STACK_BITS 24
#define POOL_SHIFT 56
#define WIDE_POOL 255u

typedef struct {
    int64_t size;
    uint32_t stack;
    int32_t pool; /* or, on the free list, the next free record's index + 1 */
} wide;

typedef struct {
    alignas(64) base_spin lock;
    uint32_t n; /* slots, 0 before the first insert */
    uint64_t used;
    uint64_t limit; /* used may reach this before the shard grows */
    slot *slots;
    size_t bytes; /* mapped for slots: n of them */
    wide *wides;  /* the wide records; grown by doubling, freed ones listed */
    uint32_t nwide, wide_cap, wide_free; /* wide_free: first free index + 1 */
} shard;

static shard shards[TT_LIVE_SHARDS];
/* Written under the shard's lock (a plain increment), read without it. */
_Atomic uint32_t tt_live_filter[TT_LIVE_SHARDS][TT_LIVE_FILTER];

#define mix tt_live_mix

static inline shard *shard_of(uintptr_t addr)
{
    return &shards[tt_live_shard_index(addr)];
}
static inline uintptr_t slot_addr(const slot *e)
{
    return (uintptr_t)(e->key & ADDR_MASK);
}
static inline unsigned slot_flags(const slot *e)
{
    return (unsigned)(e->key >> FLAGS_SHIFT);
}
static inline uint32_t slot_pool_field(const slot *e)
{
    return (uint32_t)(e->data >> POOL_SHIFT);
}
/* A wide slot's record, by its index in the rest of data. */
static inline uint32_t wide_index(const slot *e)
{
    return (uint32_t)(e->data & ((1ULL << POOL_SHIFT) - 1));
}
static inline const wide *slot_wide(const shard *s, const slot *e)
{
    TALLY_ASSERT(wide_index(e) < s->nwide);
    return &s->wides[wide_index(e)];
}
static inline int32_t slot_pool(const shard *s, const slot *e)
{
    uint32_t p = slot_pool_field(e);
    return p == WIDE_POOL ? slot_wide(s, e)->pool : (int32_t)p;
}
/* The caller's view of a slot. */
static inline tt_entry entry_of(const shard *s, const slot *e)
{
    tt_entry out = {.addr = slot_addr(e),
                    .kind = (uint8_t)((e->key >> KIND_SHIFT) & 0xf),
                    .flags = (uint8_t)slot_flags(e)};
    if (slot_pool_field(e) == WIDE_POOL) {
        const wide *w = slot_wide(s, e);
        out.size = w->size, out.stack = w->stack, out.pool = w->pool;
    } else {
        out.size = (int64_t)(e->data & ((1ULL << SIZE_BITS) - 1));
        out.stack = (uint32_t)(e->data >> STACK_SHIFT) & ((1u << STACK_BITS) - 1);
        out.pool = (int32_t)slot_pool_field(e);
    }
    return out;
}
/* A wide record for the block, from the free list or the end; false when
 * its list cannot grow (out of memory). */
__attribute__((noinline)) static bool wide_add(shard *s, int64_t size, uint32_t stack, int32_t pool,
                                               uint64_t *data)
{
    uint32_t k;
    if (s->wide_free) {
        k = s->wide_free - 1;
        s->wide_free = (uint32_t)s->wides[k].pool;
    } else {
        if (s->nwide == s->wide_cap) {
            uint32_t cap = s->wide_cap ? s->wide_cap * 2 : 64;
            wide *fresh = base_map((size_t)cap * sizeof(wide));
            if (!fresh)
                return false;
            if (s->wides) {
                memcpy(fresh, s->wides, (size_t)s->nwide * sizeof(wide));
                base_unmap(s->wides, (size_t)s->wide_cap * sizeof(wide));
            }
            s->wides = fresh, s->wide_cap = cap;
        }
        k = s->nwide++;
    }
    s->wides[k] = (wide){size, stack, pool};
    *data = (uint64_t)WIDE_POOL << POOL_SHIFT | k;
    return true;
}
static void wide_drop(shard *s, const slot *e)
{
    if (slot_pool_field(e) != WIDE_POOL)
        return;
    uint32_t k = wide_index(e);
    s->wides[k].pool = (int32_t)s->wide_free;
    s->wide_free = k + 1;
}
/* data for a block: packed when it fits, else a wide record's index. */
static inline bool pack_data(shard *s, int64_t size, uint32_t stack, int32_t pool, uint64_t *data)
{
    /* One test for the three (a negative pool is a huge unsigned one). */
    if (TT_LIKELY(((uint64_t)size >> SIZE_BITS | stack >> STACK_BITS) == 0 &&
                  (uint32_t)pool < WIDE_POOL)) {
        *data = (uint64_t)size | (uint64_t)stack << STACK_SHIFT | (uint64_t)pool << POOL_SHIFT;
        return true;
    }
    return wide_add(s, size, stack, pool, data);
}

/* A big table grows by half (not doubling), so it stays between 1/2 and 3/4
 * full: 21 to 32 bytes per live block. The home slot maps 32 bits of
 * the hash onto [0, n) by a multiply. Those bits come from the hash mixed
 * once more: within one shard (fixed low bits) the hash's own high bits take
 * few values, which made probe runs hundreds of slots long. */
static inline uint32_t home_n(uint64_t h, uint32_t n)
{
    uint64_t w = (h * 0x9e3779b97f4a7c15ULL) >> 32;
    return (uint32_t)(w * n >> 32);
}
static inline uint32_t home(const shard *s, uint64_t h)
{
    return home_n(h, s->n);
}
static inline uint32_t next_slot(uint32_t i, uint32_t n)
{
    return i + 1 == n ? 0 : i + 1;
}

/* Each entry keeps its distance from its home slot (DISP_FAR: that far or
 * more, then computed), so a removal's backward shift decides whether an
 * entry may move without hashing its address again: at 1/2 to 3/4 full a
 * run is several slots long, and rehashing each one made removal most of a
 * churning program's cost. */
#define DISP_FAR 255u
static inline uint32_t disp_of(const slot *e)
{
    return (uint32_t)(e->key >> DISP_SHIFT) & 0xff;
}
static inline void disp_set(slot *e, uint32_t d)
{
    uint64_t v = d < DISP_FAR ? d : DISP_FAR;
    e->key = (e->key & ~((uint64_t)0xff << DISP_SHIFT)) | v << DISP_SHIFT;
}
/* Slots from a to b, going forward round the table. */
static inline uint32_t distance(uint32_t a, uint32_t b, uint32_t n)
{
    return b >= a ? b - a : b + n - a;
}
/* A shard's own filter slot: only that shard's lock holder writes it.
 * Only a sampled run reads the filter (tally_track_pool_free): a full run
 * keeps it at zero rather than write one more line on every insert and
 * remove, a line that threads freeing each other's blocks (larson) pass
 * between their cores. */
static inline void filter_add(const shard *s, uint64_t h, int d)
{
    if (!tt_sampling())
        return;
    _Atomic uint32_t *f = &tt_live_filter[s - shards][tt_live_filter_slot(h)];
    atomic_store_explicit(f, atomic_load_explicit(f, memory_order_relaxed) + (uint32_t)d,
                          memory_order_relaxed);
}

/* From here a shard's slots ask for huge pages (see base_map_huge). A
 * table takes its own size, not whole 2 MiB pages: rounded to those, a
 * shard grew from 2 MiB straight to 4, and 1M blocks of 32 bytes (8 shards
 * of 125k) cost 32 bytes each where 24 suffice. */
#define HUGE_TABLE_BYTES ((size_t)2 << 20)

static bool grow(shard *s)
{
    uint32_t nslots =
        !s->n ? MIN_SLOTS
        : s->n < SPARSE_SLOTS
            ? s->n * 2
            : (uint32_t)(((uint64_t)s->n * BIG_GROW_NUM / BIG_GROW_DEN + 63) & ~63ull);
    size_t bytes = (size_t)nslots * sizeof(slot);
    slot *fresh = bytes >= HUGE_TABLE_BYTES ? base_map_huge(bytes) : base_map(bytes);
    if (!fresh)
        return false;
    if (s->slots) {
        base_populate(fresh, bytes); /* the rehash writes every page of it */
        for (uint32_t i = 0; i < s->n; i++) {
            const slot *e = &s->slots[i];
            if (!e->key)
                continue;
            uint32_t j = home_n(mix(slot_addr(e)), nslots), d = 0;
            while (fresh[j].key) {
                j = next_slot(j, nslots);
                d++;
            }
            fresh[j] = *e;
            disp_set(&fresh[j], d);
        }
        base_unmap(s->slots, s->bytes);
    }
    /* Atomic stores for tt_live_prefetch, which reads them without the lock. */
    __atomic_store_n(&s->slots, fresh, __ATOMIC_RELAXED);
    __atomic_store_n(&s->n, nslots, __ATOMIC_RELAXED);
    s->bytes = bytes;
    s->limit = nslots < SPARSE_SLOTS ? nslots / 4 : (uint64_t)nslots * BIG_LOAD_NUM / BIG_LOAD_DEN;
    return true;
}

void tt_live_prefetch(uintptr_t addr)
{
    uint64_t h = mix(addr);
    const shard *s = shard_of(addr);
    /* Unlocked: slots and n may be a grow apart, and then the prefetch is
     * of the wrong line. A prefetch never faults, so that costs nothing. */
    const slot *slots = __atomic_load_n(&s->slots, __ATOMIC_RELAXED);
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_RELAXED);
    if (slots)
        __builtin_prefetch(&slots[home_n(h, n)], 1, 3);
}

void tt_live_insert(uintptr_t addr, int64_t size, uint32_t stack, int32_t pool, unsigned kind,
                    unsigned flags)
{
    /* No machine maps 2^48 bytes, so no block is that large; kind and flags
     * fit their 4 bits each. */
    TALLY_ASSERT(size >= 0 && (uint64_t)size < TT_ENTRY_MAX_SIZE);
    TALLY_ASSERT(kind <= 0xf && flags <= 0xf);
    /* Only 5-level paging with a high mmap hint gives an address past 2^48:
     * such a block goes untracked, like one met when out of memory. */
    if (addr - 1 >= ADDR_MASK) /* 0, or past 2^48 */
        return;
    uint64_t h = mix(addr);
    shard *s = shard_of(addr);
    base_spin_lock(&s->lock);
    if (TT_UNLIKELY(s->used >= s->limit)) {
        if (!grow(s)) {
            base_spin_unlock(&s->lock);
            return; /* out of memory: the block goes untracked */
        }
    }
    uint64_t data;
    if (!pack_data(s, size, stack, pool, &data)) {
        base_spin_unlock(&s->lock);
        return; /* out of memory for a wide record: untracked too */
    }
    uint32_t i = home(s, h), d = 0;
    while (s->slots[i].key) {
        slot *e = &s->slots[i];
        if (slot_addr(e) == addr) {
            if (slot_pool(s, e) == pool) { /* a stale entry: the block was freed untracked */
                wide_drop(s, e);
                filter_add(s, h, -1);
                s->used--;
                break;
            }
            e->key |= (uint64_t)TT_FLAG_COVERED << FLAGS_SHIFT;
        }
        i = next_slot(i, s->n);
        d++;
    }
    s->slots[i] =
        (slot){addr | (uint64_t)kind << KIND_SHIFT | (uint64_t)flags << FLAGS_SHIFT, data};
    disp_set(&s->slots[i], d);
    s->used++;
    filter_add(s, h, 1);
    base_spin_unlock(&s->lock);
}

/* The slot of (addr, pool) in s, or -1. With TT_ANY_POOL, an entry no wrapper
 * shadows wins: that is the pool the caller sees. */
static inline int64_t probe(const shard *s, uint64_t h, uintptr_t addr, int32_t pool)
{
    if (!s->slots)
        return -1;
    int64_t any = -1;
    for (uint32_t i = home(s, h); s->slots[i].key; i = next_slot(i, s->n)) {
        const slot *e = &s->slots[i];
        if (slot_addr(e) != addr)
            continue;
        if (pool != TT_ANY_POOL) {
            if (slot_pool(s, e) == pool)
                return i;
        } else if (!(slot_flags(e) & TT_FLAG_COVERED)) {
            return i;
        } else if (any < 0) {
            any = i;
        }
    }
    return any;
}

bool tt_live_remove(uintptr_t addr, int32_t pool, tt_entry *out)
{
    uint64_t h = mix(addr);
    shard *s = shard_of(addr);
    base_spin_lock(&s->lock);
    int64_t at = probe(s, h, addr, pool);
    if (at < 0) {
        base_spin_unlock(&s->lock);
        return false;
    }
    if (out)
        *out = entry_of(s, &s->slots[at]);
    wide_drop(s, &s->slots[at]);
    /* Backward shift: pull later members of the probe run into the hole,
     * each that may sit there (its home is not after the hole). */
    uint32_t i = (uint32_t)at, j = i;
    for (;;) {
        j = next_slot(j, s->n);
        slot *e = &s->slots[j];
        if (!e->key)
            break;
        uint32_t d = disp_of(e), gap = distance(i, j, s->n);
        if (d == DISP_FAR)
            d = distance(home(s, mix(slot_addr(e))), j, s->n);
        TALLY_ASSERT(d == distance(home(s, mix(slot_addr(e))), j, s->n));
        if (d < gap)
            continue; /* its home lies after the hole */
        s->slots[i] = *e;
        disp_set(&s->slots[i], d - gap);
        i = j;
    }
    s->slots[i].key = 0;
    s->used--;
    filter_add(s, h, -1);
    base_spin_unlock(&s->lock);
    return true;
}

bool tt_live_find(uintptr_t addr, int32_t pool, tt_entry *out)
{
    uint64_t h = mix(addr);
    shard *s = shard_of(addr);
    base_spin_lock(&s->lock);
    int64_t at = probe(s, h, addr, pool);
    if (at >= 0 && out)
        *out = entry_of(s, &s->slots[at]);
    base_spin_unlock(&s->lock);
    return at >= 0;
}

typedef struct {
    uintptr_t addr;
    bool found;
    tt_entry e;
} containing;

static void contains(const tt_entry *e, void *arg)
{
    containing *c = arg;
    if (e->addr > c->addr || c->addr - e->addr >= (uint64_t)tt_entry_size(e))
        return;
    /* Live blocks do not overlap: a second hit is the same block in another
     * pool, and the one no wrapper covers is the one the program sees. */
    if (!c->found || (tt_entry_flags(&c->e) & TT_FLAG_COVERED))
        c->e = *e;
    c->found = true;
}

bool tt_live_find_containing(uintptr_t addr, tt_entry *out)
{
    containing c = {.addr = addr};
    tt_live_foreach(contains, &c);
    if (c.found && out)
        *out = c.e;
    return c.found;
}

void tt_live_foreach(void (*fn)(const tt_entry *e, void *arg), void *arg)
{
    for (int k = 0; k < TT_LIVE_SHARDS; k++) {
        shard *s = &shards[k];
        base_spin_lock(&s->lock);
        if (s->slots)
            for (uint32_t i = 0; i < s->n; i++)
                if (s->slots[i].key) {
                    tt_entry e = entry_of(s, &s->slots[i]);
                    fn(&e, arg);
                }
        base_spin_unlock(&s->lock);
    }
}

int64_t tt_live_count(void)
{
    int64_t n = 0;
    for (int k = 0; k < TT_LIVE_SHARDS; k++)
        n += (int64_t)__atomic_load_n(&shards[k].used, __ATOMIC_RELAXED);
    return n;
}

void tt_live_lock_all(void)
{
    for (int k = 0; k < TT_LIVE_SHARDS; k++)
        base_spin_lock(&shards[k].lock);
}

void tt_live_unlock_all(void)
{
    for (int k = 0; k < TT_LIVE_SHARDS; k++)
        base_spin_unlock(&shards[k].lock);
}
