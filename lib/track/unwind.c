/* unwind.c: the caller's return addresses.
 *
 * libunwind's unw_backtrace by default, with its per-thread cache and a
 * warm-up unwind at start so that its first real use does not read the
 * unwind tables under the program's feet. TALLY_UNWIND=fp walks frame
 * pointers instead: about 20x cheaper, but only right where the program (and
 * the libraries it calls through) keep them. No lock is taken here. */
#include "track/unwind.h"

#include "base/mem.h"
#include "track/modules.h"
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

int tt_unwind(uintptr_t *frames, int depth, int skip)
{
    /* Room for tally's own frames on top of the kept ones. */
    void *buf[TT_MAX_DEPTH + 32];
    int max = depth + skip + 16;
    if (max > (int)(sizeof buf / sizeof buf[0]))
        max = (int)(sizeof buf / sizeof buf[0]);
    int n = tt_cfg.unwind_fp ? fp_walk(buf, max) : unw_backtrace(buf, max);
    int i = 0;
    while (i < n && is_own((uintptr_t)buf[i]))
        i++;
    i += skip;
    int kept = 0;
    for (; i < n && kept < depth; i++)
        frames[kept++] = (uintptr_t)buf[i];
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

struct tt_stack_cache {
    uint32_t next; /* round-robin victim */
    sc_entry e[SC_ENTRIES];
};

tt_stack_cache *tt_stack_cache_new(void)
{
    return base_map(sizeof(tt_stack_cache));
}

void tt_stack_cache_clear(tt_stack_cache *c)
{
    for (int i = 0; i < SC_ENTRIES; i++)
        c->e[i].slot0 = NULL;
}

__attribute__((no_sanitize_address)) static inline bool sc_holds(const sc_entry *e)
{
    for (uint32_t k = 1; k < e->n; k++)
        if (*e->slots[k] != e->rets[k])
            return false;
    return true;
}

/* Reads return-address slots of the caller's frames. */
__attribute__((noinline, no_sanitize_address)) uint32_t
tt_capture_from(tt_stack_cache *c, const uintptr_t *ret_slot, int skip)
{
    if (!c || !ret_slot || tt_cfg.unwind_fp || tt_cfg.depth > SC_DEPTH)
        return tt_capture(skip);
    uintptr_t ret0 = *ret_slot;
    for (int i = 0; i < SC_ENTRIES; i++) {
        sc_entry *e = &c->e[i];
        if (e->slot0 == ret_slot && e->ret0 == ret0 && sc_holds(e))
            return e->id;
    }

    /* A miss: unwind step by step, noting where each return address was. */
    uintptr_t frames[SC_DEPTH];
    const uintptr_t *slots[SC_DEPTH];
    unw_context_t uc;
    unw_cursor_t cur;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0)
        return tt_capture(skip);
    int n = 0, steps = 0;
    bool found = false, cacheable = true;
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
        if (cacheable &&
            ((n > 0 && slot <= slots[n - 1]) || *slot != ip || unw_is_signal_frame(&cur) > 0))
            cacheable = false;
        n++;
    }
    if (!found)
        return tt_capture(skip);
    uint32_t id = tt_stack_intern(frames, n);
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
