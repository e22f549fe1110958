/* unwind.c: the caller's return addresses.
 *
 * tally's own unwinder (fast_unwind.h) by default: each return address's
 * rule read once from .eh_frame, then a probe and two loads a frame. A
 * frame it cannot follow (a signal frame, a DWARF expression, code without
 * unwind tables) hands the whole stack to libunwind's unw_backtrace, with
 * its per-thread cache, warmed up at start so that its first real use does
 * not read the unwind tables under the program's feet. TALLY_UNWIND=libunwind
 * uses libunwind alone; TALLY_UNWIND=fp walks frame pointers (cheap, but
 * only right where the program and its libraries keep them);
 * TALLY_UNWIND=check runs tally's and libunwind's on every capture and
 * reports at exit how many differed. No lock is taken here. */
#include "track/unwind.h"

#include "base/mem.h"
#include "track/fast_unwind.h"
#include "track/modules.h"
#include "track/say.h"
#include "track/stack_table.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <string.h>

/* Modules whose leading frames are tally's own, never the program's. */
#define MAX_OWN 4
static uintptr_t own_lo[MAX_OWN], own_hi[MAX_OWN];
static _Atomic int nown;

void tt_unwind_add_own(uintptr_t lo, uintptr_t hi)
{
    int n = atomic_load(&nown);
    for (int i = 0; i < n; i++)
        if (own_lo[i] == lo)
            return;
    if (n == MAX_OWN)
        return;
    own_lo[n] = lo;
    own_hi[n] = hi;
    atomic_store(&nown, n + 1);
}

static inline bool is_own(uintptr_t a)
{
    int n = atomic_load_explicit(&nown, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (a >= own_lo[i] && a < own_hi[i])
            return true;
    return false;
}

/* The mapped range of the object that holds `addr`, unless it is the main
 * program: a libtally linked statically has no range of its own. */
struct find_range {
    uintptr_t addr, lo, hi;
    bool found;
};

static int find_range_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct find_range *f = arg;
    uintptr_t lo, hi;
    tt_load_range(info, &lo, &hi);
    if (f->addr >= lo && f->addr < hi) {
        if (info->dlpi_name && info->dlpi_name[0]) {
            f->lo = lo;
            f->hi = hi;
            f->found = true;
        }
        return 1;
    }
    return 0;
}

TALLY_INTERNAL void tally_track_own_module(const void *addr)
{
    struct find_range f = {.addr = (uintptr_t)addr};
    dl_iterate_phdr(find_range_cb, &f);
    if (f.found)
        tt_unwind_add_own(f.lo, f.hi);
}

static __attribute__((noinline)) int warm_up(void)
{
    void *buf[8];
    return unw_backtrace(buf, 8);
}

void tt_unwind_init(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    tally_track_own_module((const void *)&tt_unwind);
    (void)warm_up();
}

/* ---- frame pointers ---------------------------------------------------------- */
static __thread uintptr_t stack_hi TT_TLS;

static uintptr_t thread_stack_hi(void)
{
    if (!stack_hi) {
        pthread_attr_t attr;
        void *addr;
        size_t size;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &size) == 0)
                stack_hi = (uintptr_t)addr + size;
            pthread_attr_destroy(&attr);
        }
        if (!stack_hi)
            stack_hi = 1; /* unknown: walk nothing */
    }
    return stack_hi;
}

/* Reads saved frame pointers that the sanitizer considers other frames'. */
__attribute__((noinline, no_sanitize_address)) static int fp_walk(void **buf, int max)
{
    uintptr_t hi = thread_stack_hi();
    uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t lo = (uintptr_t)fp;
    int n = 0;
    while (n < max) {
        uintptr_t f = (uintptr_t)fp;
        if (f < lo || f + 2 * sizeof(uintptr_t) > hi || (f & 7))
            break;
        uintptr_t ret = fp[1];
        if (!ret)
            break;
        buf[n++] = (void *)ret;
        uintptr_t *next = (uintptr_t *)fp[0];
        if (next <= fp)
            break;
        lo = f;
        fp = next;
    }
    return n;
}

/* Stack 0 means "not sampled": a block that was captured must never get
 * it, or its bytes would be in its pool's books and in no stack's (a full
 * run's per-stack books add up to the pools' exactly). When the unwind
 * yields nothing, the stack is the one frame that asked for it, in tally. */
__attribute__((noinline)) uint32_t tt_capture(int skip)
{
    uintptr_t frames[TT_MAX_DEPTH];
    int n = tt_unwind(frames, tt_cfg.depth, skip);
    if (TT_UNLIKELY(n <= 0)) {
        frames[0] = (uintptr_t)__builtin_return_address(0);
        n = 1;
    }
    return tt_stack_intern(frames, n); /* 0 only when out of memory */
}

static _Atomic uint64_t check_captures, check_differ, check_fallbacks;

/* TALLY_UNWIND=check: both unwinders from the same function; the frames
 * each keeps (tally's own and `skip` dropped) must be equal. */
static __attribute__((noinline)) void check_against_libunwind(const uintptr_t *mine, int n_mine,
                                                              int skip)
{
    void *buf[TT_MAX_DEPTH + 48];
    int n = unw_backtrace(buf, (int)(sizeof buf / sizeof buf[0]));
    /* unw_backtrace's first frame is this function's caller (tt_unwind or
     * tt_capture_from): the same place tally's walk starts from. */
    int i = 0;
    while (i < n && is_own((uintptr_t)buf[i]))
        i++;
    i += skip;
    bool same = n - i >= n_mine;
    for (int k = 0; same && k < n_mine; k++)
        same = (uintptr_t)buf[i + k] == mine[k];
    atomic_fetch_add(&check_captures, 1);
    if (!same)
        atomic_fetch_add(&check_differ, 1);
}

void tt_unwind_report(void)
{
    if (tt_cfg.unwind != TT_UNWIND_CHECK)
        return;
    tt_say(tally_track_say_fd(),
           "tally: unwind check: %llu captures, %llu differ from libunwind, %llu left to it, "
           "%llu rules cached\n",
           (unsigned long long)atomic_load(&check_captures),
           (unsigned long long)atomic_load(&check_differ),
           (unsigned long long)atomic_load(&check_fallbacks),
           (unsigned long long)tt_fast_unwind_rules_cached());
}

/* Every return address from the caller's caller outwards, tally's own
 * unwinder first; n or 0. */
static __attribute__((noinline)) int walk_all(void **buf, int max)
{
    if (tt_cfg.unwind == TT_UNWIND_FP)
        return fp_walk(buf, max);
    if (tt_cfg.unwind != TT_UNWIND_LIBUNWIND) {
        /* buf[0] is in this function, as unw_backtrace's would be. */
        tt_fast_regs r;
        tt_fast_unwind_regs(&r);
        buf[0] = (void *)r.ip;
        int n = tt_fast_unwind(&r, (uintptr_t *)buf + 1, NULL, max - 1, NULL);
        if (n >= 0)
            return n + 1;
        if (tt_cfg.unwind == TT_UNWIND_CHECK)
            atomic_fetch_add(&check_fallbacks, 1);
    }
    return unw_backtrace(buf, max);
}

__attribute__((noinline)) int tt_unwind(uintptr_t *frames, int depth, int skip)
{
    /* Room for tally's own frames on top of the kept ones. */
    void *buf[TT_MAX_DEPTH + 32];
    int max = depth + skip + 16;
    if (max > (int)(sizeof buf / sizeof buf[0]))
        max = (int)(sizeof buf / sizeof buf[0]);
    int n = walk_all(buf, max);
    /* walk_all's first frame is in this function: the same one libunwind's
     * unw_backtrace, called from here, reports first. */
    int i = 0;
    while (i < n && is_own((uintptr_t)buf[i]))
        i++;
    i += skip;
    int kept = 0;
    for (; i < n && kept < depth; i++)
        frames[kept++] = (uintptr_t)buf[i];
    if (tt_cfg.unwind == TT_UNWIND_CHECK && kept < depth)
        check_against_libunwind(frames, kept, skip);
    return kept;
}

/* ---- the per-thread stack cache ------------------------------------------------
 *
 * On x86-64 a frame's return address sits just below its caller's CFA, so
 * after each unw_step the slot that held the frame's return address is
 * SP - 8. For an allocation whose innermost slot (the entry point's own)
 * is at the same address and holds the same return address as a cached
 * stack, and whose every other cached slot still holds the same return
 * address, the frames are the cached ones: a frame's CFA follows from its
 * callee's CFA and the return address in it (the unwind rule at that pc),
 * frame by frame outwards. The check is a load and a compare per frame,
 * against ~7 ns per frame for unw_backtrace. What it cannot see: a function
 * whose frame size at the call differs from one call to the next at the
 * same pc (alloca or a VLA) while every cached slot happens to hold the same
 * address again, as stale stack memory can. A stack with a signal frame is
 * never cached (the interrupted pc is not in a return-address slot). */
#define SC_ENTRIES 8
#define SC_DEPTH 64 /* deeper stacks (TALLY_DEPTH > 64) are not cached */

typedef struct {
    const uintptr_t *slot0;
    uintptr_t ret0;
    uint32_t id;
    uint32_t n;
    const uintptr_t *slots[SC_DEPTH];
    uintptr_t rets[SC_DEPTH];
} sc_entry;

/* The thread's last walk, from its ret_slot outwards: where the next walk
 * may stop and take the rest (see miss_fast). */
typedef struct {
    int n;          /* 0: none */
    bool truncated; /* n is the depth limit, and the stack went on */
    uintptr_t ips[SC_DEPTH];
    const uintptr_t *slots[SC_DEPTH];
} sc_last;

struct tt_stack_cache {
    uint32_t next; /* round-robin victim */
    sc_entry e[SC_ENTRIES];
    sc_last last;
    tt_rule_cache rules;      /* fast_unwind.h */
    tt_intern_cache interned; /* stack_table.h */
};

tt_stack_cache *tt_stack_cache_new(void)
{
    return base_map(sizeof(tt_stack_cache));
}

void tt_stack_cache_clear(tt_stack_cache *c)
{
    for (int i = 0; i < SC_ENTRIES; i++)
        c->e[i].slot0 = NULL;
    c->last.n = 0;
}

__attribute__((no_sanitize_address)) static inline bool sc_holds(const sc_entry *e)
{
    for (uint32_t k = 1; k < e->n; k++)
        if (*e->slots[k] != e->rets[k])
            return false;
    return true;
}

/* True when each of last's slots from k on still holds its address. */
__attribute__((no_sanitize_address)) static bool last_holds(const sc_last *last, int k)
{
    for (; k < last->n; k++)
        if (*last->slots[k] != last->ips[k])
            return false;
    return true;
}

/* The frames from the one whose return address is at ret_slot outwards,
 * with the slots they were read from; -1 when ret_slot is not among the
 * first 17 slots, or a frame's rule is not simple.
 *
 * Deep stacks mostly change at their inner end: a compiler's passes, an
 * interpreter's eval loop stay put while the leaf calls vary. So the walk
 * stops at the first frame that is also in the thread's last walk, at the
 * same slot with the same return address, when every later slot of that
 * walk still holds its address, and takes the rest from it. That is the
 * stack cache's reasoning (see above), applied to the outer part of the
 * stack, with the same blind spot; TALLY_UNWIND=check compares the result
 * with libunwind's on every capture. */
static int miss_fast(tt_stack_cache *c, const uintptr_t *ret_slot, uintptr_t *frames,
                     const uintptr_t **slots)
{
    enum { LEAD = 17 }; /* tally's frames above ret_slot: a few, never this many */
    tt_fast_regs r;
    tt_fast_unwind_regs(&r);
    for (int lead = 0;; lead++) {
        if (lead == LEAD || tt_fast_step(&r, &c->rules) <= 0)
            return -1;
        if (tt_fast_slot(&r) == ret_slot)
            break;
    }
    sc_last *last = &c->last;
    int depth = tt_cfg.depth, n = 0, j = 0, step = 1;
    bool truncated = false;
    for (;;) {
        frames[n] = r.ip;
        slots[n] = tt_fast_slot(&r);
        n++;
        while (j < last->n && last->slots[j] < slots[n - 1])
            j++;
        if (j < last->n && last->slots[j] == slots[n - 1] && last->ips[j] == frames[n - 1]) {
            int rest = last->n - (j + 1);
            int take = n + rest > depth ? depth - n : rest;
            /* A last walk cut at the depth limit has nothing past its end. */
            bool complete = take < rest || !last->truncated;
            if (complete && last_holds(last, j + 1)) {
                memcpy(frames + n, last->ips + j + 1, (size_t)take * sizeof *frames);
                memcpy(slots + n, last->slots + j + 1, (size_t)take * sizeof *slots);
                n += take;
                truncated = take < rest || last->truncated;
                break;
            }
        }
        if (n == depth) {
            truncated = tt_fast_step(&r, &c->rules) != 0; /* -1: maybe more */
            break;
        }
        step = tt_fast_step(&r, &c->rules);
        if (step < 0)
            return -1;
        if (step == 0)
            break;
    }
    memcpy(last->ips, frames, (size_t)n * sizeof *frames);
    memcpy(last->slots, slots, (size_t)n * sizeof *slots);
    last->n = n;
    last->truncated = truncated;
    return n;
}

/* miss_fast's answer from libunwind's unw_step, which can also follow
 * signal frames and DWARF expressions; *cacheable false for a stack the
 * cache's check could not follow. */
static int miss_libunwind(const uintptr_t *ret_slot, uintptr_t *frames, const uintptr_t **slots,
                          bool *cacheable)
{
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0)
        return -1;
    int n = 0, steps = 0;
    bool found = false;
    while (n < tt_cfg.depth && unw_step(&cur) > 0) {
        unw_word_t ip, sp;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || unw_get_reg(&cur, UNW_REG_SP, &sp) != 0)
            break;
        const uintptr_t *slot = (const uintptr_t *)(sp - sizeof(uintptr_t));
        if (!found) {
            if (slot != ret_slot) {
                if (++steps > 16)
                    break;
                continue;
            }
            found = true;
        }
        frames[n] = ip;
        slots[n] = slot;
        /* Each slot above the last, holding the frame's address: else a signal
         * frame or a stack switch, which the check could not follow. */
        if (*cacheable &&
            ((n > 0 && slot <= slots[n - 1]) || *slot != ip || unw_is_signal_frame(&cur) > 0))
            *cacheable = false;
        n++;
    }
    return found ? n : -1;
}

/* Reads return-address slots of the caller's frames. */
__attribute__((noinline, no_sanitize_address)) uint32_t
tt_capture_from(tt_stack_cache *c, const uintptr_t *ret_slot, int skip)
{
    if (!c || !ret_slot || tt_cfg.unwind == TT_UNWIND_FP || tt_cfg.depth > SC_DEPTH)
        return tt_capture(skip);
    uintptr_t ret0 = *ret_slot;
    for (int i = 0; i < SC_ENTRIES; i++) {
        sc_entry *e = &c->e[i];
        if (e->slot0 == ret_slot && e->ret0 == ret0 && sc_holds(e))
            return e->id;
    }

    /* A miss: unwind, noting where each return address was. */
    uintptr_t frames[SC_DEPTH];
    const uintptr_t *slots[SC_DEPTH];
    bool cacheable = true;
    int n = -1;
    if (tt_cfg.unwind != TT_UNWIND_LIBUNWIND) {
        n = miss_fast(c, ret_slot, frames, slots);
        if (n < 0 && tt_cfg.unwind == TT_UNWIND_CHECK)
            atomic_fetch_add(&check_fallbacks, 1);
    }
    if (tt_cfg.unwind == TT_UNWIND_CHECK && n >= 0) {
        uintptr_t theirs[SC_DEPTH];
        const uintptr_t *their_slots[SC_DEPTH];
        bool their_cacheable = true;
        int m = miss_libunwind(ret_slot, theirs, their_slots, &their_cacheable);
        atomic_fetch_add(&check_captures, 1);
        if (m != n || memcmp(theirs, frames, (size_t)n * sizeof *frames) != 0 ||
            memcmp(their_slots, slots, (size_t)n * sizeof *slots) != 0)
            atomic_fetch_add(&check_differ, 1);
    }
    if (n < 0)
        n = miss_libunwind(ret_slot, frames, slots, &cacheable);
    if (n < 0)
        return tt_capture(skip);
    uint32_t id = tt_stack_intern_cached(&c->interned, frames, n);
    if (cacheable && n > 0 && id) {
        sc_entry *e = &c->e[c->next++ % SC_ENTRIES];
        e->slot0 = NULL;
        e->ret0 = frames[0];
        e->n = (uint32_t)n;
        e->id = id;
        memcpy(e->slots, slots, (size_t)n * sizeof *slots);
        memcpy(e->rets, frames, (size_t)n * sizeof *frames);
        e->slot0 = ret_slot;
    }
    return id;
}
