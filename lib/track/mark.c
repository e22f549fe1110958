/* mark.c: valgrind memcheck's leak classes, by a conservative mark.
 *
 * Every aligned word of the roots (the writable segments of the loaded
 * modules, every thread's registers, stack and TLS) and of the blocks
 * reached from them is taken for a pointer if it points into a live block:
 *
 *   - still reachable: reached from a root by a chain of pointers to
 *     blocks' starts;
 *   - possibly lost: reached, but only through some interior pointer;
 *   - definitely lost: reached by no pointer from a root or a live block;
 *   - indirectly lost: reached only from lost blocks.
 *
 * Lost blocks are sorted into cliques as memcheck does: blocks are taken in
 * address order, and each still unreached one leads a clique of everything
 * it reaches that is unreached too, earlier leaders included. A leader that
 * no other lost block reaches stays definitely lost; the rest of its clique
 * is indirect. So of a cycle that nothing reaches, the block at the lowest
 * address is the definite one, and of a lost list, its head.
 *
 * Memory: besides the snapshot's leak list (already there, 32 bytes a
 * block), the mark keeps each block's start and record index in address
 * order (12 bytes), a state byte and at most two mark-stack entries of 4
 * bytes: 21 bytes per live block, and 256 KiB of slice index, all mmap'd. Nothing
 * here calls malloc or takes a lock: the other threads are stopped
 * (world.c), and one of them may hold any lock. */
#include "track/mark.h"

#include "base/mem.h"
#include "track/world.h"

#include "profile/format.h"

#include <errno.h>
#include <string.h>
#include <ucontext.h>

enum { UNREACHED = 0, REACHABLE, POSSIBLE, INDIRECT };

#define REDZONE 128    /* below a thread's stack pointer: x86-64's red zone */
#define TCB_BYTES 4096 /* the thread control block above the thread pointer */

#define NBUCKETS (1u << 16)

typedef struct {
    tt_snap_leak *b; /* the blocks, by address */
    size_t n;
    uintptr_t lo, hi; /* the lowest start and the highest end */
    /* A candidate word is looked up in the blocks' starts alone (8 bytes
     * each, not the 32-byte leak records: a quarter of the cache misses),
     * within the range of one of NBUCKETS equal slices of [lo, hi). */
    uintptr_t *start;
    uint32_t *idx;    /* the leak record of each start */
    uint32_t *bucket; /* NBUCKETS + 1: the first block starting in each slice */
    unsigned shift;
    uint8_t *state;
    uint32_t *stack;
    size_t top, cap;
    tt_range *maps; /* readable mappings, by address */
    size_t nmaps;
    uint32_t leader; /* in the clique phase */
} marker;

/* ---- the blocks, by address --------------------------------------------------- */
static inline uintptr_t block_end(const tt_snap_leak *l)
{
    return (uintptr_t)l->address + (l->size > 0 ? (uintptr_t)l->size : 1);
}

/* Blocks are sorted by a counting sort over NBUCKETS equal slices of
 * [lo, hi) (two passes), then each slice on its own: a heap's blocks spread
 * over many slices, so each holds a few. The leak records stay where they
 * are: start[] and idx[] are the sorted view. */
static inline void swap_at(marker *m, size_t i, size_t j)
{
    uintptr_t s = m->start[i];
    m->start[i] = m->start[j];
    m->start[j] = s;
    uint32_t x = m->idx[i];
    m->idx[i] = m->idx[j];
    m->idx[j] = x;
}

/* Quicksort of [from, to) (median of three, the smaller side recursed):
 * O(log n) stack, for a slice that holds many blocks. */
static void sort_slice(marker *m, size_t from, size_t to)
{
    while (to - from > 16) {
        size_t mid = from + (to - from) / 2, last = to - 1;
        if (m->start[mid] < m->start[from])
            swap_at(m, mid, from);
        if (m->start[last] < m->start[from])
            swap_at(m, last, from);
        if (m->start[last] < m->start[mid])
            swap_at(m, last, mid);
        uintptr_t pivot = m->start[mid];
        size_t i = from, j = last;
        for (;;) {
            while (m->start[i] < pivot)
                i++;
            while (m->start[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap_at(m, i++, j--);
        }
        if (j + 1 - from < to - (j + 1)) {
            sort_slice(m, from, j + 1);
            from = j + 1;
        } else {
            sort_slice(m, j + 1, to);
            to = j + 1;
        }
    }
    for (size_t i = from + 1; i < to; i++)
        for (size_t k = i; k > from && m->start[k] < m->start[k - 1]; k--)
            swap_at(m, k, k - 1);
}

static void index_blocks(marker *m)
{
    unsigned shift = 0;
    while (((m->hi - m->lo) >> shift) >= NBUCKETS)
        shift++;
    m->shift = shift;
    for (size_t i = 0; i < m->n; i++)
        m->bucket[((uintptr_t)m->b[i].address - m->lo) >> shift]++;
    uint32_t at = 0;
    for (uint32_t k = 0; k <= NBUCKETS; k++) { /* counts -> each slice's first position */
        uint32_t count = m->bucket[k];
        m->bucket[k] = at;
        at += count;
    }
    for (size_t i = 0; i < m->n; i++) {
        uintptr_t a = (uintptr_t)m->b[i].address;
        uint32_t *next = &m->bucket[(a - m->lo) >> shift];
        m->start[*next] = a;
        m->idx[(*next)++] = (uint32_t)i;
    }
    /* Each slice's position moved to its end, the next slice's start. */
    for (uint32_t k = NBUCKETS; k > 0; k--)
        m->bucket[k] = m->bucket[k - 1];
    m->bucket[0] = 0;
    for (uint32_t k = 0; k < NBUCKETS; k++)
        if (m->bucket[k + 1] - m->bucket[k] > 1)
            sort_slice(m, m->bucket[k], m->bucket[k + 1]);
}

/* The block that holds address a (lo <= a < hi), or n: the last block
 * starting at or below a, if a falls before its end. */
static inline size_t find(const marker *m, uintptr_t a)
{
    uintptr_t k = (a - m->lo) >> m->shift;
    size_t lo = m->bucket[k], hi = m->bucket[k + 1];
    if (lo == hi || m->start[lo] > a) { /* it starts in an earlier slice */
        if (lo == 0)
            return m->n;
        lo--;
    } else {
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (m->start[mid] <= a)
                lo = mid;
            else
                hi = mid;
        }
    }
    return a < block_end(&m->b[m->idx[lo]]) ? lo : m->n;
}

static inline void push(marker *m, size_t i)
{
    TALLY_ASSERT(m->top < m->cap);
    m->stack[m->top++] = (uint32_t)i;
}

/* ---- scanning ---------------------------------------------------------------------- */
/* A word that may point into a block. From a root or a reachable block
 * (`definite`), a pointer to the block's start makes it reachable; any
 * other pointer makes an unreached block possibly lost. In the clique
 * phase, any pointer makes an unreached block (not the leader) indirect. */
static inline void consider(marker *m, uintptr_t v, int mode)
{
    size_t i = find(m, v);
    if (i == m->n)
        return;
    uint8_t *s = &m->state[i];
    if (mode == INDIRECT) {
        if (*s == UNREACHED && i != m->leader) {
            *s = INDIRECT;
            push(m, i);
        }
    } else if (mode == REACHABLE && v == m->start[i]) {
        if (*s != REACHABLE) {
            *s = REACHABLE;
            push(m, i);
        }
    } else if (*s == UNREACHED) {
        *s = POSSIBLE;
        push(m, i);
    }
}

/* Every aligned word of [lo, hi), which the caller knows to be readable. */
__attribute__((no_sanitize_address)) static void scan_words(marker *m, uintptr_t lo, uintptr_t hi,
                                                            int mode)
{
    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    for (const uintptr_t *p = (const uintptr_t *)lo; (uintptr_t)(p + 1) <= hi; p++) {
        uintptr_t v = *p;
        if (v >= m->lo && v < m->hi)
            consider(m, v, mode);
    }
}

/* [lo, hi) where it is mapped readable: a root range may run past its
 * mapping (a guess at a TLS block), and memory may be unmapped under us. */
static void scan_range(marker *m, uintptr_t lo, uintptr_t hi, int mode)
{
    size_t a = 0, b = m->nmaps;
    while (a < b) { /* the first mapping that ends after lo */
        size_t mid = (a + b) / 2;
        if (m->maps[mid].hi <= lo)
            a = mid + 1;
        else
            b = mid;
    }
    for (size_t k = a; k < m->nmaps && m->maps[k].lo < hi; k++) {
        uintptr_t s = lo > m->maps[k].lo ? lo : m->maps[k].lo;
        uintptr_t e = hi < m->maps[k].hi ? hi : m->maps[k].hi;
        if (s < e)
            scan_words(m, s, e, mode);
    }
}

/* The mapping that holds a, as [lo, hi); false when none does. */
static bool mapping_of(const marker *m, uintptr_t a, uintptr_t *lo, uintptr_t *hi)
{
    for (size_t k = 0; k < m->nmaps; k++)
        if (a >= m->maps[k].lo && a < m->maps[k].hi) {
            *lo = m->maps[k].lo;
            *hi = m->maps[k].hi;
            return true;
        }
    return false;
}

static void drain(marker *m, int clique)
{
    while (m->top > 0) {
        size_t i = m->stack[--m->top];
        int mode = clique ? INDIRECT : m->state[i] == REACHABLE ? REACHABLE : POSSIBLE;
        scan_range(m, m->start[i], block_end(&m->b[m->idx[i]]), mode);
    }
}

/* ---- the threads' roots ------------------------------------------------------------- */
/* A thread's stack from sp up to the end of its mapping: for glibc's
 * threads that takes in the static TLS and the thread control block at the
 * top of the same mapping. Then the TLS below its thread pointer (the main
 * thread's is elsewhere), and the DTV, whose dynamic TLS blocks may be
 * ours while the DTV itself is the loader's. */
static void scan_thread(marker *m, uintptr_t sp, uintptr_t tp, size_t static_tls)
{
    uintptr_t lo, hi;
    if (sp && mapping_of(m, sp, &lo, &hi))
        scan_range(m, sp > lo + REDZONE ? sp - REDZONE : lo, hi, REACHABLE);
    if (!tp)
        return;
    scan_range(m, tp > static_tls ? tp - static_tls : 0, tp + TCB_BYTES, REACHABLE);
    uintptr_t dtv_at = tp + sizeof(uintptr_t); /* tcbhead_t: tcb, dtv */
    if (!mapping_of(m, dtv_at, &lo, &hi))
        return;
    uintptr_t dtv = *(const uintptr_t *)dtv_at;
    if (dtv > 16 && mapping_of(m, dtv - 16, &lo, &hi)) {
        size_t len = *(const size_t *)(dtv - 16); /* dtv[-1].counter */
        if (len < 65536)
            scan_range(m, dtv - 16, dtv + 16 * (len + 1), REACHABLE);
    }
}

static __attribute__((noinline)) void scan_threads(marker *m, const tt_world *w, size_t static_tls)
{
    /* This thread: its registers saved here, on its own stack. */
    ucontext_t uc;
    getcontext(&uc);
    scan_words(m, (uintptr_t)&uc, (uintptr_t)(&uc + 1), REACHABLE);
    scan_thread(m, (uintptr_t)&uc, (uintptr_t)__builtin_thread_pointer(), static_tls);
    for (int i = 0; w && i < w->n; i++) {
        const tt_world_thread *t = &w->threads[i];
        if (!t->stopped)
            continue; /* running on: no registers, no stack pointer */
        scan_words(m, (uintptr_t)&t->regs, (uintptr_t)(&t->regs + 1), REACHABLE);
        scan_thread(m, t->regs.rsp, t->regs.fs_base, static_tls);
    }
}

/* ---- the classification ----------------------------------------------------------------- */
static const uint8_t kind_of[] = {
    [UNREACHED] = PROF_LEAK_DEFINITE,
    [REACHABLE] = PROF_LEAK_REACHABLE,
    [POSSIBLE] = PROF_LEAK_POSSIBLE,
    [INDIRECT] = PROF_LEAK_INDIRECT,
};

int tt_mark_classify(tt_snapshot *s)
{
    marker m = {.b = s->leaks, .n = s->nleaks};
    if (m.n == 0) {
        s->classified = true;
        return 0;
    }
    if (m.n > UINT32_MAX / 2)
        return ENOMEM;
    m.lo = UINTPTR_MAX;
    for (size_t i = 0; i < m.n; i++) {
        if ((uintptr_t)m.b[i].address < m.lo)
            m.lo = (uintptr_t)m.b[i].address;
        if (block_end(&m.b[i]) > m.hi)
            m.hi = block_end(&m.b[i]);
    }
    m.cap = 2 * m.n; /* a block is pushed once as possible, once more as reachable */
    size_t state_bytes = m.n, stack_bytes = m.cap * sizeof *m.stack;
    size_t start_bytes = m.n * sizeof *m.start, idx_bytes = m.n * sizeof *m.idx;
    size_t bucket_bytes = (NBUCKETS + 1) * sizeof *m.bucket;
    m.start = base_map(start_bytes);
    m.idx = base_map(idx_bytes);
    m.bucket = base_map(bucket_bytes);
    size_t maps_bytes = 0, mods_bytes = 0, nmods = 0;
    m.state = base_map(state_bytes);
    m.stack = base_map(stack_bytes);
    m.maps = tt_roots_readable(&m.nmaps, &maps_bytes);
    tt_range *mods = tt_roots_modules(&nmods, &mods_bytes);
    size_t static_tls = tt_roots_static_tls();
    int rc = ENOMEM;
    if (m.state && m.stack && m.start && m.idx && m.bucket && m.maps && mods) {
        index_blocks(&m);
        tt_world *w = tt_world_stop();
        for (size_t k = 0; k < nmods; k++)
            scan_range(&m, mods[k].lo, mods[k].hi, REACHABLE);
        scan_threads(&m, w, static_tls);
        drain(&m, 0);
        for (size_t i = 0; i < m.n; i++) {
            if (m.state[i] != UNREACHED)
                continue;
            m.leader = (uint32_t)i;
            scan_range(&m, m.start[i], block_end(&m.b[m.idx[i]]), INDIRECT);
            drain(&m, 1);
        }
        tt_world_resume(w);
        for (size_t i = 0; i < m.n; i++)
            m.b[m.idx[i]].kind = kind_of[m.state[i]];
        s->classified = true;
        rc = 0;
    }
    base_unmap(m.start, start_bytes);
    base_unmap(m.idx, idx_bytes);
    base_unmap(m.bucket, bucket_bytes);
    base_unmap(m.state, state_bytes);
    base_unmap(m.stack, stack_bytes);
    base_unmap(m.maps, maps_bytes);
    base_unmap(mods, mods_bytes);
    return rc;
}
