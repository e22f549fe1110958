/* entry.c: every booking entry point (api.h), for the preload shim and
 * lib/pool.
 *
 * Each decides once whether a block is sampled (sample_hit), then hands it
 * to the ledger: into the live table with its stack, or, in a sampled run,
 * without a table entry (the shadow map keeps the shim's blocks; a pool
 * passes its block's size back on free). No lock is held while unwinding:
 * the late state's lock is released around every capture. */
#include "track/api.h"

#include "track/due.h"

#include "track/live_table.h"
#include "track/mappings.h"
#include "track/sample.h"
#include "track/shadow.h"
#include "track/thread.h"
#include "track/unwind.h"

/* ---- sampling: the one decision ------------------------------------------------ */
/* Does this block of size bytes get a stack? Each thread counts down an
 * exponential distance; the block that crosses zero is sampled. */
TALLY_INTERNAL __thread int64_t tally_track_sample_left TT_TLS;
/* A thread's countdown starts at 0, not at a drawn distance (TLS starts
 * zeroed): its first crossing draws the distance to the first sample
 * point instead of sampling. Sampling the first block of every thread
 * would weigh one small block as about sample_bytes (its weight is 1/p),
 * for every thread, in a profile that is meant to be unbiased. */
static __thread bool sample_started TT_TLS;

static __attribute__((noinline)) bool sample_crossed(tt_thread *t, int64_t size)
{
    if (!sample_started) {
        sample_started = true;
        tally_track_sample_left = tt_sample_next(&t->rng) - size;
        if (tally_track_sample_left > 0)
            return false;
    }
    tally_track_sample_left = tt_sample_next(&t->rng);
    return true;
}

static inline bool sample_hit(tt_thread *t, int64_t size)
{
    if (size <= 0)
        return false;
    tally_track_sample_left -= size;
    if (TT_LIKELY(tally_track_sample_left > 0))
        return false;
    return sample_crossed(t, size);
}

/* True when a block of size bytes is to be captured: always in a full run. */
static inline bool captured(int64_t size)
{
    if (!tt_sampling())
        return true;
    tt_thread *t = tt_thread_enter();
    bool hit = sample_hit(t, size);
    tt_thread_leave(t);
    return hit;
}

static inline tally_block_info block_info(int64_t size, uint32_t stack, int32_t pool, unsigned kind)
{
    return (tally_block_info){size, stack, pool, (uint8_t)kind};
}

/* ---- the clock ------------------------------------------------------------------ */
/* A thread that captures stacks looks at the clock every TT_CLOCK_CAPTURES
 * captures (due.h): in a full run every allocation captures, so a
 * checkpoint or a series point is at most that many allocations late; in a
 * sampled run the ledger's fold looks too, at least every TT_BATCH_OPS
 * bookings. A capture costs far more than the countdown. */
#define TT_CLOCK_CAPTURES 64

static inline void clock_tick(tt_thread *t)
{
    if (TT_UNLIKELY(t->clock_countdown-- == 0)) {
        t->clock_countdown = TT_CLOCK_CAPTURES;
        tt_due_check_clock();
    }
}

/* ---- the preload shim ------------------------------------------------------------ */
/* api.h's tally_track_capture_at makes the common "not sampled" case of
 * sample_hit inline in the shim; it calls here for every other case. */
TALLY_INTERNAL tally_stack_id tally_track_capture(int64_t size, int skip)
{
    if (!captured(size))
        return 0;
    tt_thread *t = tt_thread_current();
    if (t)
        clock_tick(t);
    return tt_capture(skip);
}

/* tally_track_capture_from's every case but a full run's common one: a
 * sampled run, a block bound for the table, a thread without its state or
 * stack cache yet, the clock's turn. */
static __attribute__((noinline)) tally_stack_id
capture_from_slow(int64_t size, const uintptr_t *ret_slot, const void *ptr)
{
    if (!captured(size))
        return 0;
    /* The block's live-table slot is a cache miss, and in a big table a TLB
     * miss too: let it load while the stack is unwound. */
    if (ptr && !tt_shadow_keeps_stacks(size))
        tt_live_prefetch((uintptr_t)ptr);
    tt_thread *t = tt_thread_current();
    if (t)
        clock_tick(t);
    /* The fallback unwind skips the entry point that called us. */
    return tt_capture_from(t ? tt_thread_stack_cache(t) : NULL, ret_slot, 1);
}

/* A full run's small block from a thread with its stack cache: a tail
 * call, and every other case a tail call too, so the way through saves no
 * registers (16 of this function's 33 instructions a capture on churn). */
TALLY_INTERNAL tally_stack_id tally_track_capture_from(int64_t size, const uintptr_t *ret_slot,
                                                       const void *ptr)
{
    tt_thread *t = tt_thread_current();
    if (TT_UNLIKELY(tt_sampling() || (ptr && !tt_shadow_keeps_stacks(size)) || !t ||
                    !t->stack_cache || t->clock_countdown == 0))
        return capture_from_slow(size, ret_slot, ptr);
    t->clock_countdown--;
    return tt_capture_from(t->stack_cache, ret_slot, 1);
}

/* A mapping's stack: always captured (mappings.h says why). */
TALLY_INTERNAL tally_stack_id tally_track_capture_mapping(const uintptr_t *ret_slot)
{
    tt_thread *t = tt_thread_current();
    if (t)
        clock_tick(t);
    return tt_capture_from(t ? tt_thread_stack_cache(t) : NULL, ret_slot, 1);
}

TALLY_INTERNAL void tally_track_use_shadow(size_t (*usable_size)(void *))
{
    if (tt_cfg.shadow_allowed && usable_size) {
        tt_shadow_usable_size = usable_size;
        tt_shadow_on = tt_sampling() ? TT_SHADOW_BARE : TT_SHADOW_STACKS;
    }
}

/* ---- a sampled run's unsampled blocks ---------------------------------------------
 * Nearly every block of a sampled run is an unsampled block of the shim's
 * pool 0: it gets a shadow entry and a few additions in this thread's
 * books. tally_track_alloc and tally_track_free take that case straight
 * through, and leave every other case (the table, a first booking, a peak,
 * a fold) by a tail call to a function beside them. So they save no
 * registers, which was a fifth of their instructions. */

/* Every block the live table keeps: sampled, of a pool, or too big to shadow. */
static __attribute__((noinline)) void alloc_tabled(void *ptr, int64_t size, int32_t pool_id,
                                                   tally_stack_id stack, tally_alloc_kind kind)
{
    tt_block b = {(uintptr_t)ptr, size, stack, pool_id, (uint8_t)kind, 0};
    if (tt_shadow_on)
        tt_shadow_forget(ptr); /* a stale entry must not stand for this block */
    if (stack && tt_sampling())
        b.flags = TT_FLAG_SAMPLED;
    tt_thread *t = tt_thread_enter();
    tt_ledger_alloc(&t->books, &b, TT_IN_TABLE);
    tt_thread_leave(t);
}

static __attribute__((noinline)) bool free_tabled(void *ptr, tally_block_info *info)
{
    tt_entry e;
    tt_thread *t = tt_thread_enter();
    bool known = tt_ledger_free_tabled(&t->books, (uintptr_t)ptr, TT_ANY_POOL, &e);
    tt_thread_leave(t);
    if (known && info)
        *info = block_info(tt_entry_size(&e), e.stack, e.pool, tt_entry_kind(&e));
    return known;
}

/* The shadowed block's books on the thread's first booking, or before its
 * cache has a slot for pool 0. */
static __attribute__((noinline)) void shadowed_alloc_books(void *ptr, int64_t size, unsigned kind)
{
    tt_block b = {(uintptr_t)ptr, size, 0, 0, (uint8_t)kind, 0};
    tt_thread *t = tt_thread_enter();
    tt_ledger_alloc(&t->books, &b, TT_UNTABLED);
    tt_thread_leave(t);
}

/* The block passed a peak that was not pending: it becomes pending. */
static __attribute__((noinline)) void shadowed_alloc_peak(tt_ledger_cache *c, tt_pool_delta *d,
                                                          void *ptr, int64_t size)
{
    tt_after_grow(c, d, (uintptr_t)ptr, size, false);
}

/* The first block in its part of the map (which is mapped here), or one
 * the map cannot take (not 16-aligned, or its part cannot be mapped). */
static __attribute__((noinline)) void shadowed_alloc_unusual(void *ptr, int64_t size,
                                                             tally_alloc_kind kind)
{
    if (tt_bare_put(ptr, size, kind))
        shadowed_alloc_books(ptr, size, kind);
    else
        alloc_tabled(ptr, size, 0, 0, kind);
}

/* A full run's small block of pool 0 (TT_SHADOW_STACKS): its stack first,
 * then its entry, then its books, with its stack, as a table's block's. */
static bool shadowed_with_stack(void *ptr, int64_t size, tally_stack_id stack,
                                tally_alloc_kind kind)
{
    uint16_t *e = tt_shadow_entry_for(ptr, size);
    if (!e || !tt_shadow_stack_put(e, ptr, size, stack))
        return false;
    tt_shadow_store(e, ptr, size, kind);
    tt_block b = {(uintptr_t)ptr, size, stack, 0, (uint8_t)kind, 0};
    tt_thread *t = tt_thread_enter();
    tt_ledger_alloc(&t->books, &b, TT_UNTABLED);
    tt_thread_leave(t);
    return true;
}

/* Every block but a sampled run's unsampled ones. */
static __attribute__((noinline)) void alloc_elsewhere(void *ptr, int64_t size, int32_t pool_id,
                                                      tally_stack_id stack, tally_alloc_kind kind)
{
    if (pool_id == 0 && tt_shadow_keeps_stacks(size) && shadowed_with_stack(ptr, size, stack, kind))
        return;
    alloc_tabled(ptr, size, pool_id, stack, kind);
}

TALLY_INTERNAL void tally_track_alloc(void *ptr, int64_t size, int32_t pool_id,
                                      tally_stack_id stack, tally_alloc_kind kind)
{
    if (stack != 0 || pool_id != 0 || tt_shadow_on != TT_SHADOW_BARE || size >= TT_SHADOW_MAX_SIZE)
        return alloc_elsewhere(ptr, size, pool_id, stack, kind);
    uint8_t *e = tt_bare_find(ptr);
    if (TT_UNLIKELY(!e || ((uintptr_t)ptr & 15)))
        return shadowed_alloc_unusual(ptr, size, kind);
    tt_bare_store(e, ptr, size, kind);
    tt_thread *t = tt_thread_current();
    tt_pool_delta *d = t ? tt_pool_delta_hit(&t->books, 0) : NULL;
    if (TT_UNLIKELY(!d))
        return shadowed_alloc_books(ptr, size, kind);
    tt_ledger_cache *c = &t->books;
    tt_pool_grow(c, d, size);
    if (TT_UNLIKELY(!tt_after_grow_plain(c, d, (uintptr_t)ptr, size)))
        return shadowed_alloc_peak(c, d, ptr, size);
    if (TT_UNLIKELY(tt_must_fold(c, d)))
        return tt_ledger_fold(c);
}

static __attribute__((noinline)) bool shadowed_free_books(void *ptr, int64_t size)
{
    tt_thread *t = tt_thread_enter();
    tt_ledger_free_untabled(&t->books, (uintptr_t)ptr, size, 0, 0, 0);
    tt_thread_leave(t);
    return true;
}

/* A full run's shadowed block: its books take its stack back. */
static __attribute__((noinline)) bool shadowed_free_with_stack(const uint16_t *e, void *ptr,
                                                               int64_t size, unsigned kind,
                                                               tally_block_info *info)
{
    uint32_t stack = tt_shadow_stack_of(e, ptr, size);
    if (info)
        *info = block_info(size, stack, 0, kind);
    tt_thread *t = tt_thread_enter();
    tt_ledger_free_untabled(&t->books, (uintptr_t)ptr, size, 0, stack, 0);
    tt_thread_leave(t);
    return true;
}

static __attribute__((noinline)) bool fold_after_free(tt_ledger_cache *c)
{
    tt_ledger_fold(c);
    return true;
}

TALLY_INTERNAL bool tally_track_free(void *ptr, tally_block_info *info)
{
    if (tt_shadow_on != TT_SHADOW_BARE) {
        uint16_t *e = tt_shadow_on ? tt_shadow_find(ptr) : NULL;
        uint16_t v = e ? __atomic_load_n(e, __ATOMIC_RELAXED) : 0;
        if (!tt_shadow_starts(v, ptr))
            return free_tabled(ptr, info);
        __atomic_store_n(e, 0, __ATOMIC_RELAXED); /* before the block can be reused */
        return shadowed_free_with_stack(e, ptr, tt_shadow_size(v), tt_shadow_kind(v), info);
    }
    uint8_t *e = tt_bare_find(ptr);
    uint8_t v = e ? __atomic_load_n(e, __ATOMIC_RELAXED) : 0;
    if (!tt_bare_starts(v, ptr))
        return free_tabled(ptr, info);
    int64_t size = tt_bare_size(e, v);
    __atomic_store_n(e, 0, __ATOMIC_RELAXED); /* before the block can be reused */
    if (info)
        *info = block_info(size, 0, 0, tt_shadow_kind(v));
    tt_thread *t = tt_thread_current();
    tt_pool_delta *d = t ? tt_pool_delta_hit(&t->books, 0) : NULL;
    if (TT_UNLIKELY(!d))
        return shadowed_free_books(ptr, size);
    tt_pool_shrink(&t->books, d, (uintptr_t)ptr, size, false);
    if (TT_UNLIKELY(tt_must_fold(&t->books, d)))
        return fold_after_free(&t->books);
    return true;
}

TALLY_INTERNAL bool tally_track_find(const void *ptr, tally_block_info *info)
{
    tally_block_info found;
    tt_entry e;
    tt_shadowed b;
    if (tt_shadow_on && tt_shadow_start_in((uintptr_t)ptr & ~(uintptr_t)15, &b) &&
        b.addr == (uintptr_t)ptr) {
        found = block_info(b.size, b.stack, 0, b.kind);
    } else if (tt_live_find((uintptr_t)ptr, TT_ANY_POOL, &e)) {
        found = block_info(tt_entry_size(&e), e.stack, e.pool, tt_entry_kind(&e));
    } else {
        return false;
    }
    if (info)
        *info = found;
    return true;
}

/* The shadowed block whose bytes hold ptr: the nearest block start at or
 * below ptr is the only candidate (blocks do not overlap), and a shadowed
 * block is shorter than TT_SHADOW_MAX_SIZE, so the walk back is short. */
static bool shadow_containing(uintptr_t a, uintptr_t *start, tally_block_info *found)
{
    uintptr_t g = a & ~(uintptr_t)15;
    for (int k = 0; k <= TT_SHADOW_MAX_SIZE / 16 && g >= 16; k++, g -= 16) {
        tt_shadowed b;
        if (!tt_shadow_start_in(g, &b) || b.addr > a)
            continue; /* none starts here, or it starts after ptr, in ptr's own granule */
        if (a - b.addr >= (uint64_t)b.size)
            return false;
        *start = b.addr;
        *found = block_info(b.size, b.stack, 0, b.kind);
        return true;
    }
    return false;
}

TALLY_INTERNAL bool tally_track_find_containing(const void *ptr, uintptr_t *start,
                                                tally_block_info *info)
{
    uintptr_t a = (uintptr_t)ptr, s;
    tt_entry e;
    tally_block_info found;
    if (tt_live_find_containing(a, &e)) {
        s = e.addr;
        found = block_info(tt_entry_size(&e), e.stack, e.pool, tt_entry_kind(&e));
    } else if (!(tt_shadow_on && shadow_containing(a, &s, &found))) {
        return false;
    }
    if (start)
        *start = s;
    if (info)
        *info = found;
    return true;
}

TALLY_INTERNAL int64_t tally_track_live_bytes(void)
{
    if (tally_track_is_on())
        tt_thread_fold_self();
    /* The heap's blocks: the program's own mappings (TALLY_MMAP) are not. */
    return atomic_load_explicit(&tt_g.current, memory_order_relaxed) - tt_mappings_bytes();
}

TALLY_INTERNAL void tally_track_forget(const void *ptr)
{
    if (tt_shadow_on)
        tt_shadow_forget(ptr);
}

/* ---- lib/pool --------------------------------------------------------------------- */
/* A wrapper pool's block was booked by its parent just before, on this
 * thread, with the same stack: reuse it rather than decide and unwind twice. */
TALLY_INTERNAL void tally_track_pool_alloc(int32_t pool_id, void *ptr, int64_t size, bool wrapper)
{
    tt_thread *t = tt_thread_enter();
    bool sampled = wrapper ? t->last_sampled : !tt_sampling() || sample_hit(t, size);
    tt_block b = {(uintptr_t)ptr,
                  size,
                  wrapper ? t->last_stack : 0,
                  pool_id,
                  TALLY_KIND_POOL,
                  wrapper ? TT_FLAG_WRAPPER : 0};
    if (!sampled) {
        /* Unsampled pool blocks stay out of the table: the pool knows their size. */
        if (!wrapper) {
            t->last_stack = 0;
            t->last_sampled = false;
        }
        if (!tt_ledger_alloc_fast(&t->books, pool_id, b.addr, size, wrapper)) {
            b.stack = 0;
            tt_ledger_alloc(&t->books, &b, TT_UNTABLED);
        }
        tt_thread_leave(t);
        return;
    }
    if (!wrapper) {
        clock_tick(t);
        tt_thread_leave(t);
        b.stack = tt_capture(0); /* no lock held while unwinding */
        t = tt_thread_enter();
        t->last_stack = b.stack;
        t->last_sampled = true;
    }
    if (tt_sampling())
        b.flags |= TT_FLAG_SAMPLED;
    tt_ledger_alloc(&t->books, &b, TT_IN_TABLE);
    tt_thread_leave(t);
}

TALLY_INTERNAL void tally_track_pool_free(int32_t pool_id, void *ptr, int64_t size, bool wrapper)
{
    uintptr_t addr = (uintptr_t)ptr;
    unsigned flags = wrapper ? TT_FLAG_WRAPPER : 0;
    tt_thread *t = tt_thread_enter();
    if (tt_sampling() && !tt_live_maybe(addr)) {
        if (!tt_ledger_free_fast(&t->books, pool_id, addr, size, wrapper))
            tt_ledger_free_untabled(&t->books, addr, size, pool_id, 0, flags);
    } else {
        tt_entry e;
        /* Not in the table: unsampled (sampled run), or allocated before
         * tracking started (full run, and then not booked at all). */
        if (!tt_ledger_free_tabled(&t->books, addr, pool_id, &e) && tt_sampling())
            tt_ledger_free_untabled(&t->books, addr, size, pool_id, 0, flags);
    }
    tt_thread_leave(t);
}

TALLY_INTERNAL void tally_track_pool_realloc(int32_t pool_id, void *old_ptr, int64_t old_size,
                                             void *new_ptr, int64_t new_size, bool wrapper)
{
    tally_track_pool_free(pool_id, old_ptr, old_size, wrapper);
    tally_track_pool_alloc(pool_id, new_ptr, new_size, wrapper);
}
