/* unwind.c: the caller's return addresses.
 *
 * libunwind's unw_backtrace by default, with its per-thread cache and a
 * warm-up unwind at start so that its first real use does not read the
 * unwind tables under the program's feet. TALLY_UNWIND=fp walks frame
 * pointers instead: about 20x cheaper, but only right where the program (and
 * the libraries it calls through) keep them. No lock is taken here. */
#include "track/track_internal.h"

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
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr;
        if (s < lo)
            lo = s;
        if (s + ph->p_memsz > hi)
            hi = s + ph->p_memsz;
    }
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
