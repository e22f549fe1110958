/* mark_index.c: see mark_index.h. */
#include <config.h>

#include "track/mark_index.h"

#include "base/assert.h"
#include "base/mem.h"
#include "track/live_table.h"

#include <errno.h>
#include <string.h>

static inline uintptr_t block_end(const tt_snap_leak *l)
{
    return (uintptr_t)l->address + (l->size > 0 ? (uintptr_t)l->size : 1);
}

/* Two ways to order the blocks. Most often the snapshot hands them over
 * in address order but for a few (the shadow map's walk, then the live
 * table's and the mappings'): those few are sorted and merged in
 * (merge_run). Else a counting sort over nbuckets equal slices of [lo, hi)
 * (two passes), then each slice on its own: a heap's blocks spread over
 * many slices, so each holds a few (sort_blocks). */
static inline void swap_at(tt_block_index *x, size_t i, size_t j)
{
    uintptr_t s = x->start[i];
    x->start[i] = x->start[j];
    x->start[j] = s;
    uintptr_t e = x->end[i];
    x->end[i] = x->end[j];
    x->end[j] = e;
    uint32_t t = x->idx[i];
    x->idx[i] = x->idx[j];
    x->idx[j] = t;
}

/* Quicksort of [from, to) (median of three, the smaller side recursed):
 * O(log n) stack, for a slice that holds many blocks. */
static void sort_slice(tt_block_index *x, size_t from, size_t to)
{
    while (to - from > 16) {
        size_t mid = from + (to - from) / 2, last = to - 1;
        if (x->start[mid] < x->start[from])
            swap_at(x, mid, from);
        if (x->start[last] < x->start[from])
            swap_at(x, last, from);
        if (x->start[last] < x->start[mid])
            swap_at(x, last, mid);
        uintptr_t pivot = x->start[mid];
        size_t i = from, j = last;
        for (;;) {
            while (x->start[i] < pivot)
                i++;
            while (x->start[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap_at(x, i++, j--);
        }
        if (j + 1 - from < to - (j + 1)) {
            sort_slice(x, from, j + 1);
            from = j + 1;
        } else {
            sort_slice(x, j + 1, to);
            to = j + 1;
        }
    }
    for (size_t i = from + 1; i < to; i++)
        for (size_t k = i; k > from && x->start[k] < x->start[k - 1]; k--)
            swap_at(x, k, k - 1);
}

static inline size_t slice_of(const tt_block_index *x, uintptr_t a)
{
    return (a - x->lo) >> x->shift;
}

/* Counts per slice -> each slice's first position (bucket[nbuckets]: n). */
static void slice_starts(tt_block_index *x)
{
    uint32_t at = 0;
    for (uint32_t k = 0; k <= x->nbuckets; k++) {
        uint32_t count = x->bucket[k];
        x->bucket[k] = at;
        at += count;
    }
}

/* The slices' width: nbuckets of them cover [lo, hi). */
static void choose_shift(tt_block_index *x)
{
    unsigned shift = 0;
    while (((x->hi - x->lo) >> shift) >= x->nbuckets)
        shift++;
    x->shift = shift;
}

/* lo, hi and any_mapping over the records [from, to). */
static void bound(tt_block_index *x, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if ((uintptr_t)x->b[i].address < x->lo)
            x->lo = (uintptr_t)x->b[i].address;
        if (block_end(&x->b[i]) > x->hi)
            x->hi = block_end(&x->b[i]);
        if (x->b[i].flags & TT_FLAG_MAPPING)
            x->any_mapping = true;
    }
}

/* Any order: a counting sort by slice, then each slice sorted. */
static void sort_blocks(tt_block_index *x)
{
    bound(x, 0, x->n);
    choose_shift(x);
    for (size_t i = 0; i < x->n; i++)
        x->bucket[slice_of(x, (uintptr_t)x->b[i].address)]++;
    slice_starts(x);
    for (size_t i = 0; i < x->n; i++) {
        uintptr_t a = (uintptr_t)x->b[i].address;
        uint32_t *next = &x->bucket[slice_of(x, a)];
        x->start[*next] = a;
        x->end[*next] = block_end(&x->b[i]); /* here, where the record is read anyway */
        x->idx[(*next)++] = (uint32_t)i;
    }
    /* Each slice's position moved to its end, the next slice's start. */
    for (uint32_t k = x->nbuckets; k > 0; k--)
        x->bucket[k] = x->bucket[k - 1];
    x->bucket[0] = 0;
    for (uint32_t k = 0; k < x->nbuckets; k++)
        if (x->bucket[k + 1] - x->bucket[k] > 1)
            sort_slice(x, x->bucket[k], x->bucket[k + 1]);
}

/* The records b[0, run), said to be in address order, and the few after
 * them: those are sorted at the front of start[], end[] and idx[], then
 * merged with the run from the back. The merge writes at position
 * i + j - 1 (i entries of the run and j of the others left): above the
 * others' unread entries [0, j) while i > 0, and once i is 0 those are in
 * place. Each record is read once, in order (the counting sort reads them
 * twice and scatters them). False, with nothing counted, when the run is
 * not in order after all, or holds a mapping (any_mapping is taken from
 * the rest). */
static bool merge_run(tt_block_index *x, size_t run)
{
    size_t rest = x->n - run;
    bound(x, run, x->n);
    for (size_t k = 0; k < rest; k++) {
        x->start[k] = (uintptr_t)x->b[run + k].address;
        x->end[k] = block_end(&x->b[run + k]);
        x->idx[k] = (uint32_t)(run + k);
    }
    sort_slice(x, 0, rest);
    size_t i = run, j = rest;
    uintptr_t above = UINTPTR_MAX; /* the run's record read last */
    for (size_t k = x->n; i > 0;) {
        k--;
        TALLY_ASSERT(k == i + j - 1 && k >= j);
        uintptr_t a = (uintptr_t)x->b[i - 1].address;
        if (j > 0 && x->start[j - 1] > a) {
            j--;
            x->start[k] = x->start[j];
            x->end[k] = x->end[j];
            x->idx[k] = x->idx[j];
            continue;
        }
        if (a > above || (x->b[i - 1].flags & TT_FLAG_MAPPING)) /* mappings come after */
            return false;
        above = a;
        i--;
        uintptr_t end = block_end(&x->b[i]);
        x->start[k] = a;
        x->end[k] = end;
        x->idx[k] = (uint32_t)i;
        if (end > x->hi)
            x->hi = end;
    }
    if (x->start[0] < x->lo)
        x->lo = x->start[0];
    choose_shift(x);
    for (size_t k = 0; k < x->n; k++)
        x->bucket[slice_of(x, x->start[k])]++;
    slice_starts(x);
    return true;
}

/* start[], end[] and idx[] in address order, and the slices over them.
 * sorted: how many records lead in address order (tt_snapshot.nsorted).
 * Merged when at most one block in 16 comes after them: sorting those few
 * costs less than the counting sort's scatter of all of them. */
static void index_blocks(tt_block_index *x, size_t sorted)
{
    if ((x->n - sorted) * 16 > x->n || !merge_run(x, sorted)) {
        x->lo = UINTPTR_MAX;
        x->hi = 0;
        x->any_mapping = false;
        sort_blocks(x);
    }
#ifdef TALLY_DEBUG
    for (size_t k = 1; k < x->n; k++)
        TALLY_ASSERT(x->start[k - 1] <= x->start[k]);
#endif
}

#define MAPPED(field, count) (x->field = base_map_large((count) * sizeof *x->field)) != NULL

int tt_block_index_init(tt_block_index *x, const tt_snap_leak *b, size_t n, size_t nsorted)
{
    TALLY_ASSERT(n > 0 && n <= UINT32_MAX / 2 && nsorted <= n);
    memset(x, 0, sizeof *x);
    x->b = b;
    x->n = n;
    x->lo = UINTPTR_MAX;
    x->nbuckets = 1u << 16;
    while (x->nbuckets < n / 4 && x->nbuckets < (1u << 28))
        x->nbuckets <<= 1;
    if (!(MAPPED(start, n) && MAPPED(end, n) && MAPPED(idx, n) &&
          MAPPED(bucket, x->nbuckets + 1))) {
        tt_block_index_free(x);
        return ENOMEM;
    }
    index_blocks(x, nsorted);
    return 0;
}

void tt_block_index_free(tt_block_index *x)
{
    base_unmap(x->start, x->n * sizeof *x->start);
    base_unmap(x->end, x->n * sizeof *x->end);
    base_unmap(x->idx, x->n * sizeof *x->idx);
    base_unmap(x->bucket, (x->nbuckets + 1) * sizeof *x->bucket);
    memset(x, 0, sizeof *x);
}
