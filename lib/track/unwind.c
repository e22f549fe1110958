/* unwind.c: the caller's return addresses.
 *
 * tally's own unwinder (fast_unwind.h) by default: each return address's
 * rule read once from .eh_frame, then a probe and two loads a frame. A
 * frame it cannot follow (a signal frame, a DWARF expression, code without
 * unwind tables other than the loader's first frame) hands the whole stack
 * to libunwind's unw_backtrace, with its per-thread cache; libunwind is
 * started then, on first use (libunwind_load.c). A warm-up
 * walk at start, through the loader's frames, was a third of what a
 * preloaded /bin/true cost. TALLY_UNWIND=libunwind
 * uses libunwind alone; TALLY_UNWIND=fp walks frame pointers (cheap, but
 * only right where the program and its libraries keep them);
 * TALLY_UNWIND=check runs tally's and libunwind's on every capture and
 * reports at exit how many differed. No lock is taken here. */
#include "track/unwind.h"

#include "track/fast_unwind.h"
#include "track/modules.h"
#include "track/say.h"
#include "track/stack_table.h"

#include "track/libunwind_load.h"

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

/* How many of a walk's n leading frames are tally's own. */
static int own_frames(void *const *buf, int n)
{
    int i = 0;
    while (i < n && is_own((uintptr_t)buf[i]))
        i++;
    return i;
}

TALLY_INTERNAL void tally_track_own_module(const void *addr)
{
    uintptr_t lo, hi;
    if (tt_module_range(addr, &lo, &hi))
        tt_unwind_add_own(lo, hi);
}

void tt_unwind_init(void)
{
    tally_track_own_module((const void *)&tt_unwind);
    tt_libunwind_load();
}

/* The shim's error reports: libunwind's walk of the caller, without
 * libtally's own leading frames. */
TALLY_INTERNAL int tally_track_backtrace(void **frames, int max)
{
    if (!tt_libunwind_ready())
        return 0;
    int n = tt_lu.backtrace(frames, max);
    if (n <= 0)
        return 0;
    int i = own_frames(frames, n);
    memmove(frames, frames + i, (size_t)(n - i) * sizeof *frames);
    return n - i;
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

void tt_unwind_check_count(bool differ)
{
    atomic_fetch_add(&check_captures, 1);
    if (differ)
        atomic_fetch_add(&check_differ, 1);
}

void tt_unwind_check_fallback(void)
{
    atomic_fetch_add(&check_fallbacks, 1);
}

/* TALLY_UNWIND=check: both unwinders from the same function; the frames
 * each keeps (tally's own and `skip` dropped) must be equal. */
static __attribute__((noinline)) void check_against_libunwind(const uintptr_t *mine, int n_mine,
                                                              int skip)
{
    void *buf[TT_MAX_DEPTH + 48];
    int n = tt_libunwind_ready() ? tt_lu.backtrace(buf, (int)(sizeof buf / sizeof buf[0])) : 0;
    /* unw_backtrace's first frame is this function's caller (tt_unwind or
     * tt_capture_from): the same place tally's walk starts from. */
    int i = own_frames(buf, n) + skip;
    bool same = n - i >= n_mine;
    for (int k = 0; same && k < n_mine; k++)
        same = (uintptr_t)buf[i + k] == mine[k];
    tt_unwind_check_count(!same);
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
        tt_fast_regs r = {0};
        tt_fast_unwind_regs(&r);
        buf[0] = (void *)r.ip;
        int n = tt_fast_unwind(&r, (uintptr_t *)buf + 1, NULL, max - 1, NULL);
        if (n >= 0)
            return n + 1;
        if (tt_cfg.unwind == TT_UNWIND_CHECK)
            tt_unwind_check_fallback();
    }
    return tt_libunwind_ready() ? tt_lu.backtrace(buf, max) : 0;
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
    int i = own_frames(buf, n) + skip;
    int kept = 0;
    for (; i < n && kept < depth; i++)
        frames[kept++] = (uintptr_t)buf[i];
    if (tt_cfg.unwind == TT_UNWIND_CHECK && kept < depth)
        check_against_libunwind(frames, kept, skip);
    return kept;
}

/* ---- for the stack cache (stack_cache.c) ------------------------------------ */
int tt_unwind_slots(const uintptr_t *ret_slot, uintptr_t *frames, const uintptr_t **slots)
{
    unw_context_t uc;
    unw_cursor_t cur;
    if (!tt_libunwind_ready() || tt_lu.getcontext(&uc) != 0 || tt_lu.init_local(&cur, &uc) != 0)
        return -1;
    int n = 0, steps = 0;
    bool found = false;
    while (n < tt_cfg.depth && tt_lu.step(&cur) > 0) {
        unw_word_t ip, sp;
        if (tt_lu.get_reg(&cur, UNW_REG_IP, &ip) != 0 || tt_lu.get_reg(&cur, UNW_REG_SP, &sp) != 0)
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
        n++;
    }
    return found ? n : -1;
}
