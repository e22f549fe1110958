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
 * block), the mark keeps each block's start, end and record index in
 * address order (20 bytes), a slice index (1 byte), a state byte and at
 * most two mark-stack entries of 4 bytes: 30 bytes per live block, all
 * mmap'd. Nothing
 * here calls malloc or takes a lock: the other threads are stopped
 * (world.c), and one of them may hold any lock. */
#include "track/mark.h"

#include "base/mem.h"
#include "track/live_table.h"
#include "track/mark_index.h"
#include "track/resident.h"
#include "track/world.h"

#include "backend/backend.h"

#include "profile/format.h"

#include <errno.h>
#include <string.h>

enum { UNREACHED = 0, REACHABLE, POSSIBLE, INDIRECT };
/* A scan's mode is the state it gives (REACHABLE, POSSIBLE, INDIRECT), or
 * LIBC_DATA: libc's own writable segments, a root like the others but for
 * the chunk headers glibc's arena points at (glibc_next_header). */
enum { LIBC_DATA = INDIRECT + 1 };
/* With REACHABLE or POSSIBLE: marked in the root phase at or after the
 * sweep's cursor, and not scanned yet (see drain_roots). */
#define PENDING 0x80
/* On the mark stack, while sort_stack puts it in address order: set and
 * cleared there, never seen elsewhere. */
#define QUEUED 0x40

#define REDZONE 128    /* below a thread's stack pointer: x86-64's red zone */
#define TCB_BYTES 4096 /* the thread control block above the thread pointer */
#define SKIP_MAX (16384 + TT_WORLD_MAX_THREADS + 1) /* tally's ranges, then the stacks */

typedef struct {
    tt_block_index ix;        /* the blocks, by address */
    uintptr_t map_lo, map_hi; /* the mapping the last block scanned lay in */
    uint8_t *state;
    uint32_t *stack;
    size_t top, cap;
    /* stack[0, sorted) is in descending order (sort_stack): popped, it
     * gives blocks in address order. sort_at: how many entries above it
     * make the stack worth sorting again. */
    size_t sorted, sort_at;
    base_range *maps; /* readable mappings, by address */
    size_t nmaps;
    base_range *files, *text; /* file-backed mappings, and the executable ones */
    size_t nfiles, ntext;
    base_range *skip; /* not anonymous roots: tally's own memory, thread stacks */
    size_t nskip, skip_cap;
    uint32_t leader; /* in the clique phase */
    size_t cursor;   /* the root phase's sweep: blocks below it were passed */
    /* Open while the world is stopped: which pages of an anonymous mapping,
     * a root or a TALLY_MMAP block, hold data. */
    tt_resident_reader pages;
} marker;

static inline void push(marker *m, size_t i)
{
    TALLY_ASSERT(m->top < m->cap);
    m->stack[m->top++] = (uint32_t)i;
}

/* A block newly reachable or possibly lost, to be scanned in that state:
 * the sweep will reach it, or has passed it and the stack takes it. */
static inline void mark(marker *m, size_t i, uint8_t state)
{
    if (i >= m->cursor) {
        m->state[i] = state | PENDING;
    } else {
        m->state[i] = state;
        push(m, i);
    }
}

/* ---- memcheck's heuristics -------------------------------------------------------- */
/* Some interior pointers are how a program holds a block, and memcheck
 * (by default) counts them as pointers to its start. */
/* Ranges sorted by address and not overlapping: the index of the last one
 * starting at or below a, or n when none does. Every lookup of an address
 * among ranges here (mappings, tally's own memory) is this search. */
static size_t last_at_or_below(const base_range *r, size_t n, uintptr_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? lo - 1 : n;
}

static bool in_ranges(const base_range *r, size_t n, uintptr_t a)
{
    size_t k = last_at_or_below(r, n, a);
    return k < n && a < r[k].hi;
}

/* A vtable: in a file-backed mapping, and of its first 20 words, the ones
 * not NULL point into code, two of them at least. */
static bool is_vtable(const marker *m, uintptr_t p)
{
    if ((p & 7) || p < BASE_PAGE || !in_ranges(m->files, m->nfiles, p))
        return false;
    int fns = 0;
    for (int k = 0; k < 20 && in_ranges(m->files, m->nfiles, p + 8 * k + 7); k++) {
        uintptr_t fn = ((const uintptr_t *)p)[k];
        if (fn == 0)
            continue;
        if (!in_ranges(m->text, m->ntext, fn))
            return false;
        if (++fns == 2)
            return true;
    }
    return false;
}

static bool counts_as_start(const marker *m, size_t i, uintptr_t v)
{
    const uintptr_t *w = (const uintptr_t *)m->ix.start[i];
    uint64_t size = (uint64_t)m->ix.b[m->ix.idx[i]].size, off = v - m->ix.start[i];
    /* std::string's old layout: length, capacity, refcount, then the chars. */
    if (off == 24 && size >= 24 && 24 + w[1] + 1 == size && w[0] <= w[1])
        return true;
    /* new[]'s element count before the array, or a length prefix (sqlite),
     * which is the same test: what follows is a whole number of them. */
    if (off == 8 && size >= 8 && w[0] > 0 && (size - 8) % w[0] == 0)
        return true;
    /* A second base class of an object: a vtable pointer at both places. */
    return (v & 7) == 0 && off + 8 <= size && size >= 8 && is_vtable(m, *(const uintptr_t *)v) &&
           is_vtable(m, w[0]);
}

/* glibc's malloc keeps pointers to chunk headers in libc's own data (the
 * arena: its top chunk, its bins). A chunk's header is the 16 bytes before
 * its memory, where the chunk before it ends, and that chunk's block may
 * reach into them: a 24-byte block's chunk is 32 bytes, and the next
 * header starts 16 bytes in. Such a pointer is glibc's, not the program's
 * way to the block, and memcheck, which replaces malloc, never sees it: a
 * lost block next to the top chunk read as possibly lost. Block i's own
 * header says where its chunk ends (its size field, the word before it),
 * and whether glibc mmap'd it (no chunk follows then). Not for mimalloc's
 * blocks, nor for a block at a page's start (a mapping's), whose word
 * before may not be mapped. */
static bool glibc_next_header(const marker *m, size_t i, uintptr_t v)
{
    uintptr_t p = m->ix.start[i];
    if (p % 16 != 0 || p % BASE_PAGE < 16 || backend_mimalloc_owns((const void *)p))
        return false;
    uintptr_t size_field = ((const uintptr_t *)p)[-1];
    if (size_field & 2) /* IS_MMAPPED */
        return false;
    return v == p - 16 + (size_field & ~(uintptr_t)7);
}

/* ---- scanning ---------------------------------------------------------------------- */
/* A word that may point into a block. From a root or a reachable block
 * (mode REACHABLE or LIBC_DATA), a pointer to the block's start makes it
 * reachable; any other pointer makes an unreached block possibly lost
 * (but glibc's own, from LIBC_DATA). In the clique phase, any pointer
 * makes an unreached block (not the leader) indirect. */
static inline void consider(marker *m, uintptr_t v, int mode)
{
    size_t i = tt_block_index_find(&m->ix, v);
    if (i == m->ix.n)
        return;
    uint8_t *s = &m->state[i];
    if (mode == INDIRECT) {
        if (*s == UNREACHED && i != m->leader) {
            *s = INDIRECT;
            push(m, i);
        }
        return;
    }
    uint8_t now = *s & ~PENDING;
    if (now == REACHABLE)
        return;
    if (mode != POSSIBLE && (v == m->ix.start[i] || counts_as_start(m, i, v)))
        mark(m, i, REACHABLE);
    else if (now == UNREACHED && !(mode == LIBC_DATA && glibc_next_header(m, i, v)))
        mark(m, i, POSSIBLE);
}

/* Every aligned word of [lo, hi), which the caller knows to be readable. */
__attribute__((no_sanitize_address)) static void scan_words(marker *m, uintptr_t lo, uintptr_t hi,
                                                            int mode)
{
    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    /* The heap's bounds in registers: consider writes through m, so the
     * compiler would read them again for every word, and most words are
     * no pointer into the heap: this test is the scan. */
    const uintptr_t heap_lo = m->ix.lo, heap_hi = m->ix.hi;
    for (const uintptr_t *p = (const uintptr_t *)lo; (uintptr_t)(p + 1) <= hi; p++) {
        uintptr_t v = *p;
        if (TT_UNLIKELY(v >= heap_lo && v < heap_hi))
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
    size_t k = last_at_or_below(m->maps, m->nmaps, a);
    if (k == m->nmaps || a >= m->maps[k].hi)
        return false;
    *lo = m->maps[k].lo;
    *hi = m->maps[k].hi;
    return true;
}

/* A mapping of the program's (TALLY_MMAP, mappings.h) as a block: only its
 * pages that hold data (in memory or in swap, resident.h), each run of them
 * where it is still mapped readable. Reading the others would fault them
 * in, for zeros: a mapping of many GiB, mostly untouched, would become
 * resident. A swapped-out page is read, as the anonymous roots' are: what
 * only it points to is not lost. */
typedef struct {
    marker *m;
    uintptr_t hi; /* the block's end, within its last page */
    int mode;
} mapping_scan;

static void scan_mapping_run(void *ctx, uintptr_t lo, uintptr_t hi)
{
    mapping_scan *ms = ctx;
    scan_range(ms->m, lo, hi < ms->hi ? hi : ms->hi, ms->mode);
}

static void scan_resident(marker *m, uintptr_t lo, uintptr_t hi, int mode)
{
    TALLY_ASSERT(lo % BASE_PAGE == 0);
    mapping_scan ms = {m, hi, mode};
    tt_resident_each(&m->pages, lo, (hi + BASE_PAGE - 1) & ~(uintptr_t)(BASE_PAGE - 1),
                     scan_mapping_run, &ms);
}

/* A block's words. Blocks are live heap, mapped; the mapping is checked
 * all the same (a stale entry's memory may be gone), once per mapping run:
 * neighbouring blocks share one. */
static void scan_block(marker *m, size_t i, int mode)
{
    uintptr_t lo = m->ix.start[i], hi = m->ix.end[i];
    if (TT_UNLIKELY(m->ix.any_mapping) && (m->ix.b[m->ix.idx[i]].flags & TT_FLAG_MAPPING)) {
        scan_resident(m, lo, hi, mode);
        return;
    }
    if (lo >= m->map_lo && hi <= m->map_hi) {
        scan_words(m, lo, hi, mode);
        return;
    }
    uintptr_t mlo, mhi;
    if (mapping_of(m, lo, &mlo, &mhi) && hi <= mhi) {
        m->map_lo = mlo;
        m->map_hi = mhi;
        scan_words(m, lo, hi, mode);
    } else {
        scan_range(m, lo, hi, mode); /* across mappings, or partly unmapped */
    }
}

/* How a block of the root phase is scanned: as its state now is. */
static inline int root_mode(uint8_t state)
{
    return state == REACHABLE ? REACHABLE : POSSIBLE;
}

/* A block's first lines, asked for ahead of its scan. A prefetch never
 * faults, so a block freed under us costs nothing. */
static inline void prefetch_block(const marker *m, size_t i)
{
    __builtin_prefetch((const void *)m->ix.start[i]);
    if (m->ix.end[i] - m->ix.start[i] > 64) /* a second line: most small blocks' all */
        __builtin_prefetch((const void *)(m->ix.start[i] + 64));
}

/* The stack's entries in descending order, each block once, so that the
 * pops take them in address order and the heap streams in, as in the
 * root phase's sweep. Pushed in the order their pointers were found, they
 * lie anywhere: live-heavy's lost array pushes its million blocks in the
 * order the program allocated them, and the clique phase read them at a
 * cache miss a block, in start[] and end[] as in the blocks (62 ms of its
 * 83; the same bytes in address order stream in 12 ms). A counting sort
 * through the state bytes: each entry flags its block, then one pass over
 * the flagged range collects them. A block on the stack twice (possibly
 * lost, then reachable) is scanned once, in its state now, which does
 * all the earlier one would. */
#define STATE_FLAGS 0x4040404040404040ull /* QUEUED in each byte of a word */
static void sort_stack(marker *m)
{
    size_t lo = m->ix.n, hi = 0;
    for (size_t k = 0; k < m->top; k++) {
        size_t i = m->stack[k];
        m->state[i] |= QUEUED;
        lo = i < lo ? i : lo;
        hi = i > hi ? i : hi;
    }
    size_t top = 0;
    for (size_t i = lo; i <= hi;) {
        uint64_t w;
        if (i % 8 == 0 && i + 8 <= hi + 1) {
            memcpy(&w, &m->state[i], sizeof w);
            if (!(w & STATE_FLAGS)) { /* a sparse stack skips 8 blocks a read */
                i += 8;
                continue;
            }
        }
        if (m->state[i] & QUEUED) {
            m->state[i] &= (uint8_t)~QUEUED;
            m->stack[top++] = (uint32_t)i;
        }
        i++;
    }
    TALLY_ASSERT(top <= m->top);
    for (size_t a = 0, b = top; a + 1 < b; a++, b--) { /* ascending to descending */
        uint32_t t = m->stack[a];
        m->stack[a] = m->stack[b - 1];
        m->stack[b - 1] = t;
    }
    m->top = m->sorted = top;
}

/* Each block is asked for a few pops ahead: what the stack has not sorted
 * lies anywhere in the heap, and reading each one was a cache miss the scan
 * waited for. The stack is sorted once what was pushed since its last sort
 * is at least as much as what remains of that sort (so each entry is
 * sorted O(1) times, amortized), and at least sort_at: a pass over the
 * flagged range costs up to n/8 word reads, and sort_at (n/64 or more)
 * bounds how many passes a mark makes. */
#define PREFETCH_AHEAD 4
#define SORT_MIN 1024
static void drain(marker *m, int clique)
{
    while (m->top > 0) {
        size_t fresh = m->top - m->sorted;
        if (fresh >= m->sort_at && fresh >= m->sorted)
            sort_stack(m);
        if (m->top > PREFETCH_AHEAD)
            prefetch_block(m, m->stack[m->top - 1 - PREFETCH_AHEAD]);
        size_t i = m->stack[--m->top];
        if (m->top < m->sorted)
            m->sorted = m->top;
        int mode = clique ? INDIRECT : root_mode(m->state[i]);
        scan_block(m, i, mode);
    }
}

/* The root phase's marked blocks, in address order: a sweep takes each
 * pending block at or after its cursor, and the stack the few marked
 * behind it. In the order of a mark stack, a program's list of a million
 * blocks was read a cache miss per line (1.8M misses, most of the check's
 * time on live-heavy); in address order the heap streams in. The states
 * reached are the same in any order: a block only moves up, from
 * unreached to possibly lost to reachable, and is scanned again when it
 * does. */
#define SWEEP_AHEAD 8
static void drain_roots(marker *m)
{
    for (;;) {
        drain(m, 0);
        while (m->cursor < m->ix.n && !(m->state[m->cursor] & PENDING))
            m->cursor++;
        if (m->cursor == m->ix.n)
            return;
        size_t i = m->cursor++;
        if (i + SWEEP_AHEAD < m->ix.n)
            prefetch_block(m, i + SWEEP_AHEAD);
        m->state[i] &= (uint8_t)~PENDING;
        scan_block(m, i, root_mode(m->state[i]));
    }
}

/* ---- the threads' roots ------------------------------------------------------------- */
/* A thread's stack from sp up to the end of its mapping: for glibc's
 * threads that takes in the static TLS and the thread control block at the
 * top of the same mapping. Then the TLS below its thread pointer (the main
 * thread's is elsewhere), and the DTV, whose dynamic TLS blocks may be
 * ours while the DTV itself is the loader's. */
static void skip_later(marker *m, uintptr_t lo, uintptr_t hi)
{
    if (m->nskip < m->skip_cap)
        m->skip[m->nskip++] = (base_range){lo, hi};
}

static void scan_thread(marker *m, uintptr_t sp, uintptr_t tp, size_t static_tls)
{
    uintptr_t lo, hi;
    if (sp && mapping_of(m, sp, &lo, &hi)) {
        scan_range(m, sp > lo + REDZONE ? sp - REDZONE : lo, hi, REACHABLE);
        skip_later(m, lo, hi); /* below sp is dead: not a root */
    }
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

static void scan_threads(marker *m, const tt_world *w, const ucontext_t *caller, size_t static_tls)
{
    /* This thread: the program's registers and frames, from where it
     * called into tally; and its TLS. */
    uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
    if (caller) {
        scan_words(m, (uintptr_t)caller, (uintptr_t)(caller + 1), REACHABLE);
        scan_thread(m, (uintptr_t)caller, tp, static_tls);
    } else {
        scan_thread(m, 0, tp, static_tls);
    }
    for (int i = 0; w && i < w->n; i++) {
        const tt_world_thread *t = &w->threads[i];
        if (!t->stopped)
            continue; /* running on: no registers, no stack pointer */
        scan_words(m, (uintptr_t)&t->regs, (uintptr_t)(&t->regs + 1), REACHABLE);
        scan_thread(m, t->regs.rsp, t->regs.fs_base, static_tls);
    }
}

/* ---- memory the program mapped itself ------------------------------------------------ */
static void sort_ranges(base_range *r, size_t n) /* a few hundred: insertion sort */
{
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && r[k].lo < r[k - 1].lo; k--) {
            base_range t = r[k];
            r[k] = r[k - 1];
            r[k - 1] = t;
        }
}

/* The skip ranges do not overlap: the last one starting before the
 * page's end is the only one that can hold it. */
static bool in_skip(const marker *m, uintptr_t page)
{
    size_t k = last_at_or_below(m->skip, m->nskip, page + BASE_PAGE - 1);
    return k < m->nskip && m->skip[k].hi > page;
}

/* A live block lies on the page: the page is the allocator's heap, whose
 * blocks are scanned only when reached. */
static bool holds_block(const marker *m, uintptr_t page)
{
    if (page + BASE_PAGE <= m->ix.lo || page >= m->ix.hi)
        return false;
    uintptr_t probe = page < m->ix.lo ? m->ix.lo : page;
    if (tt_block_index_find(&m->ix, probe) != m->ix.n)
        return true;
    size_t lo = 0, hi = m->ix.n; /* the first block starting at or after probe */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->ix.start[mid] < probe)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->ix.n && m->ix.start[lo] < page + BASE_PAGE;
}

/* Attached (tally attach): glibc's heap pages hold the blocks of before
 * the attach, which the books do not know, beside the tracked ones. Those
 * are the program's memory and may point to tracked blocks (a list made
 * before the attach, grown after): the page is scanned around the tracked
 * blocks, which are scanned only when reached. */
static void scan_around_blocks(marker *m, uintptr_t page)
{
    uintptr_t end = page + BASE_PAGE, at = page;
    size_t lo = 0, hi = m->ix.n; /* the first block ending after the page's start */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->ix.end[mid] <= page)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < m->ix.n && m->ix.start[i] < end; i++) {
        if (m->ix.start[i] > at)
            scan_range(m, at, m->ix.start[i], REACHABLE);
        if (m->ix.end[i] > at)
            at = m->ix.end[i];
    }
    if (at < end)
        scan_range(m, at, end, REACHABLE);
}

/* The pages of the program's anonymous mappings that hold data (in memory
 * or in swap: resident.h), as memcheck scans
 * every mapping of its client: an interpreter's arenas, a compiler's GC
 * pages, any allocator of the program's own. Not roots: tally's memory,
 * its allocator's (mimalloc's segments, pages holding live blocks) and the
 * threads' stacks, which scan_thread read from their stack pointers. */
static void scan_anonymous_run(void *ctx, uintptr_t lo, uintptr_t hi)
{
    marker *m = ctx;
    for (uintptr_t page = lo; page < hi; page += BASE_PAGE) {
        if (in_skip(m, page) || backend_mimalloc_owns((const void *)page))
            continue;
        if (holds_block(m, page)) {
            if (tt_cfg.attached)
                scan_around_blocks(m, page);
            continue;
        }
        scan_range(m, page, page + BASE_PAGE, REACHABLE);
    }
}

static void scan_anonymous(marker *m, const base_range *anon, size_t nanon)
{
    for (size_t r = 0; r < nanon; r++)
        tt_resident_each(&m->pages, anon[r].lo, anon[r].hi, scan_anonymous_run, m);
}

/* ---- the classification ----------------------------------------------------------------- */
static const uint8_t kind_of[] = {
    [UNREACHED] = PROF_LEAK_DEFINITE,
    [REACHABLE] = PROF_LEAK_REACHABLE,
    [POSSIBLE] = PROF_LEAK_POSSIBLE,
    [INDIRECT] = PROF_LEAK_INDIRECT,
};

/* What the mark maps, all of it before the world stops (mapping takes the
 * registry's lock, which a stopped thread could hold). */
typedef struct {
    base_range *mods, *anon; /* mods: libc's segments first, nlibc of them */
    size_t nmods, nlibc, nanon, mods_bytes, anon_bytes, maps_bytes, files_bytes, text_bytes;
} roots;

/* Every root, then everything reachable from them. */
static void mark_from_roots(marker *m, const roots *r, const tt_world *w, const ucontext_t *caller,
                            size_t static_tls)
{
    for (size_t k = 0; k < r->nmods; k++)
        scan_range(m, r->mods[k].lo, r->mods[k].hi, k < r->nlibc ? LIBC_DATA : REACHABLE);
    scan_threads(m, w, caller, static_tls);
    sort_ranges(m->skip, m->nskip);
    scan_anonymous(m, r->anon, r->nanon);
    drain_roots(m);
}

/* Each block still unreached, in address order, leads a clique. */
static void sort_into_cliques(marker *m)
{
    for (size_t i = 0; i < m->ix.n; i++) {
        if (m->state[i] != UNREACHED)
            continue;
        m->leader = (uint32_t)i;
        scan_block(m, i, INDIRECT);
        drain(m, 1);
    }
}

#define MAPPED(field, count) (m->field = base_map_large((count) * sizeof *m->field)) != NULL

static bool take(marker *m, roots *r)
{
    m->cap = 2 * m->ix.n; /* a block is pushed once as possible, once more as reachable */
    m->sort_at = m->ix.n / 64 > SORT_MIN ? m->ix.n / 64 : SORT_MIN;
    m->skip_cap = SKIP_MAX;
    bool ok = MAPPED(state, m->ix.n) && MAPPED(stack, m->cap) && MAPPED(skip, m->skip_cap);
    m->maps = tt_roots_maps(TT_MAPS_READABLE, &m->nmaps, &r->maps_bytes);
    r->anon = tt_roots_maps(TT_MAPS_ANONYMOUS, &r->nanon, &r->anon_bytes);
    m->files = tt_roots_maps(TT_MAPS_FILE, &m->nfiles, &r->files_bytes);
    m->text = tt_roots_maps(TT_MAPS_TEXT, &m->ntext, &r->text_bytes);
    r->mods = tt_roots_modules(&r->nmods, &r->nlibc, &r->mods_bytes);
    return ok && m->maps && r->anon && m->files && m->text && r->mods;
}

static void give_back(marker *m, roots *r)
{
    base_unmap(m->state, m->ix.n * sizeof *m->state);
    base_unmap(m->stack, m->cap * sizeof *m->stack);
    base_unmap(m->skip, m->skip_cap * sizeof *m->skip);
    base_unmap(m->maps, r->maps_bytes);
    base_unmap(m->files, r->files_bytes);
    base_unmap(m->text, r->text_bytes);
    base_unmap(r->anon, r->anon_bytes);
    base_unmap(r->mods, r->mods_bytes);
    tt_block_index_free(&m->ix);
}

int tt_mark_classify(tt_snapshot *s, const ucontext_t *caller)
{
    TALLY_ASSERT(!s->grouped); /* a mark needs each block's bounds */
    if (s->nleaks == 0) {
        s->classified = true;
        return 0;
    }
    if (s->nleaks > UINT32_MAX / 2)
        return ENOMEM;
    marker m = {0};
    roots r = {0};
    size_t static_tls = tt_roots_static_tls();
    if (tt_block_index_init(&m.ix, s->leaks, s->nleaks, s->nsorted) != 0)
        return ENOMEM;
    if (!take(&m, &r)) {
        give_back(&m, &r);
        return ENOMEM;
    }
    tt_world *w = tt_world_stop();
    /* Opened and closed with the world stopped: the program never sees
     * the reader's descriptor. */
    tt_resident_open(&m.pages);
    /* Tally's own memory, the world's included (it holds the threads'
     * registers). When the registry cannot be read, no anonymous mapping
     * is taken for a root: fewer roots, never tally's tables. */
    size_t nown = base_own_ranges(m.skip, m.skip_cap - (TT_WORLD_MAX_THREADS + 1));
    if (nown == SIZE_MAX)
        r.nanon = 0;
    else
        m.nskip = nown;
    mark_from_roots(&m, &r, w, caller, static_tls);
    sort_into_cliques(&m);
    tt_resident_close(&m.pages);
    tt_world_resume(w);
    for (size_t i = 0; i < m.ix.n; i++) {
        TALLY_ASSERT(!(m.state[i] & (PENDING | QUEUED)));
        s->leaks[m.ix.idx[i]].kind = kind_of[m.state[i]];
    }
    s->classified = true;
    give_back(&m, &r);
    return 0;
}
