/* mappings.c: the program's own anonymous private mappings, as blocks of
 * the `mmap` pool (mappings.h says what is tracked and how it is booked).
 *
 * The ranges are a sorted array in mmap'd memory (tally's own mappings go
 * around the shim's wrapper: it skips calls from tally's modules). A
 * change first makes room for two more ranges, which is all one call can
 * add (a hole punched in one range, and the new range itself), so nothing
 * fails half-way. */
#include "track/mappings.h"

#include "base/mem.h"
#include "track/ledger.h"
#include "track/thread.h"

#include <string.h>

typedef struct {
    uintptr_t lo, hi; /* whole pages: [lo, hi) */
    uint32_t stack;
    int32_t pool;
} range;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static range *ranges;
static size_t nranges, cap;
static _Atomic int64_t mapped; /* the ranges' bytes */

void tt_mappings_lock(void)
{
    pthread_mutex_lock(&lock);
}

void tt_mappings_unlock(void)
{
    pthread_mutex_unlock(&lock);
}

void tt_mappings_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
}

static uintptr_t page_up(uintptr_t a)
{
    return a > UINTPTR_MAX - (BASE_PAGE - 1) ? UINTPTR_MAX & ~(uintptr_t)(BASE_PAGE - 1)
                                             : (a + BASE_PAGE - 1) & ~(uintptr_t)(BASE_PAGE - 1);
}

/* [addr, addr + len) in whole pages, as the kernel takes it. */
static void pages_of(const void *addr, size_t len, uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)addr & ~(uintptr_t)(BASE_PAGE - 1);
    uintptr_t end = (uintptr_t)addr + len < (uintptr_t)addr ? UINTPTR_MAX : (uintptr_t)addr + len;
    *hi = page_up(end);
}

/* Room for `more` ranges; false when tally is out of memory itself. */
static bool reserve(size_t more)
{
    if (nranges + more <= cap)
        return true;
    size_t ncap = cap ? 2 * cap : 1024;
    while (ncap < nranges + more)
        ncap *= 2;
    range *n = base_map(ncap * sizeof *n);
    if (!n)
        return false;
    if (nranges)
        memcpy(n, ranges, nranges * sizeof *n);
    base_unmap(ranges, cap * sizeof *ranges);
    ranges = n;
    cap = ncap;
    return true;
}

/* The first range that ends after a. */
static size_t first_ending_after(uintptr_t a)
{
    size_t lo = 0, hi = nranges;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ranges[mid].hi <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void book_release(tt_ledger_cache *c, const range *r, uintptr_t at, int64_t bytes,
                         int blocks)
{
    tt_block b = {at, bytes, r->stack, r->pool, TALLY_KIND_MALLOC, 0};
    tt_ledger_release(c, &b, blocks);
    atomic_fetch_sub_explicit(&mapped, bytes, memory_order_relaxed);
}

/* Pages [lo, hi) are no longer what the tracked ranges there mapped: each
 * range that overlaps them gives back exactly the overlap, and vanishes,
 * shrinks, or splits around a hole. */
static void release(tt_ledger_cache *c, uintptr_t lo, uintptr_t hi)
{
    size_t i = first_ending_after(lo);
    while (i < nranges && ranges[i].lo < hi) {
        range *r = &ranges[i];
        uintptr_t a = r->lo > lo ? r->lo : lo, b = r->hi < hi ? r->hi : hi;
        if (a == r->lo && b == r->hi) { /* all of it */
            book_release(c, r, r->lo, (int64_t)(b - a), 1);
            memmove(r, r + 1, (nranges - i - 1) * sizeof *r);
            nranges--;
            continue;
        }
        if (a == r->lo) { /* its head */
            book_release(c, r, a, (int64_t)(b - a), 0);
            r->lo = b;
        } else if (b == r->hi) { /* its tail */
            book_release(c, r, a, (int64_t)(b - a), 0);
            r->hi = a;
        } else { /* a hole: two ranges where there was one */
            TALLY_ASSERT(nranges < cap);
            memmove(r + 1, r, (nranges - i) * sizeof *r);
            nranges++;
            r[1].lo = b;
            r->hi = a;
            book_release(c, r, a, (int64_t)(b - a), -1);
        }
        i++;
    }
}

static void insert(uintptr_t lo, uintptr_t hi, uint32_t stack, int32_t pool)
{
    TALLY_ASSERT(nranges < cap);
    size_t i = first_ending_after(lo);
    TALLY_ASSERT(i == nranges || ranges[i].lo >= hi); /* released first */
    memmove(&ranges[i + 1], &ranges[i], (nranges - i) * sizeof *ranges);
    ranges[i] = (range){lo, hi, stack, pool};
    nranges++;
    /* A mapping is never sampled: one is rare and large, and its pages are
     * released a few at a time, which a weight could not follow. */
    tt_block b = {lo, (int64_t)(hi - lo), stack, pool, TALLY_KIND_MALLOC, 0};
    atomic_fetch_add_explicit(&mapped, b.size, memory_order_relaxed);
    tt_thread *t = tt_thread_enter();
    tt_ledger_alloc(&t->books, &b, TT_UNTABLED);
    tt_thread_leave(t);
}

static void release_pages(uintptr_t lo, uintptr_t hi)
{
    if (lo >= hi || nranges == 0)
        return;
    tt_thread *t = tt_thread_enter();
    release(&t->books, lo, hi);
    tt_thread_leave(t);
}

int64_t tt_mappings_bytes(void)
{
    return atomic_load_explicit(&mapped, memory_order_relaxed);
}

TALLY_INTERNAL bool tally_track_mmap_wanted(void)
{
    return tt_cfg.mmap;
}

/* The shim holds the lock around munmap's and mremap's system call and
 * their booking: once the kernel gives the pages back, another thread's
 * mmap may get them at once, and its booking must come after this one. */
TALLY_INTERNAL void tally_track_mappings_hold(void)
{
    pthread_mutex_lock(&lock);
}

TALLY_INTERNAL void tally_track_mappings_release(void)
{
    pthread_mutex_unlock(&lock);
}

TALLY_INTERNAL void tally_track_map(void *addr, size_t len, int32_t pool, tally_stack_id stack)
{
    uintptr_t lo, hi;
    pages_of(addr, len, &lo, &hi);
    if (!reserve(2)) /* a hole, and the new range */
        return;
    release_pages(lo, hi); /* MAP_FIXED replaced them */
    if (lo < hi)
        insert(lo, hi, stack, pool);
}

TALLY_INTERNAL void tally_track_unmap(void *addr, size_t len)
{
    uintptr_t lo, hi;
    pages_of(addr, len, &lo, &hi);
    if (reserve(1)) /* a hole */
        release_pages(lo, hi);
}

TALLY_INTERNAL void tally_track_remap(void *old, size_t old_len, void *addr, size_t len,
                                      bool keep_old, int32_t pool, tally_stack_id stack)
{
    uintptr_t olo, ohi, lo, hi;
    pages_of(old, old_len, &olo, &ohi);
    pages_of(addr, len, &lo, &hi);
    if (!reserve(3)) /* a hole at the source, one at the target, the new range */
        return;
    size_t i = first_ending_after(olo);
    bool tracked = i < nranges && ranges[i].lo <= olo;
    /* As realloc is booked: the old pages freed, the new ones allocated,
     * with the mremap's stack. MREMAP_DONTUNMAP leaves the old range
     * mapped (and empty). */
    if (!keep_old)
        release_pages(olo, ohi);
    release_pages(lo, hi); /* MREMAP_FIXED replaced what was there */
    if (tracked && lo < hi)
        insert(lo, hi, stack, pool);
}

/* The ranges are copied out under the lock, and fn called without it:
 * fn may map memory (a snapshot's buffer grows), and a mapping made while
 * this thread held the lock would wait for it forever if it were booked. */
void tt_mappings_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, uint32_t stack, int32_t pool,
                                    void *arg),
                         void *arg)
{
    size_t room = 0, n = 0, bytes = 0;
    range *copy = NULL;
    for (int tries = 0; tries < 4; tries++) {
        pthread_mutex_lock(&lock);
        n = nranges;
        if (n <= room) {
            if (n)
                memcpy(copy, ranges, n * sizeof *copy);
            pthread_mutex_unlock(&lock);
            break;
        }
        pthread_mutex_unlock(&lock);
        base_unmap(copy, bytes);
        room = n + n / 4 + 16;
        bytes = room * sizeof *copy;
        copy = base_map(bytes);
        if (!copy)
            return;
        n = 0;
    }
    if (n > room)
        n = 0; /* the ranges kept growing faster than the copy: none */
    for (size_t i = 0; i < n; i++)
        fn(copy[i].lo, copy[i].hi, copy[i].stack, copy[i].pool, arg);
    base_unmap(copy, bytes);
}
