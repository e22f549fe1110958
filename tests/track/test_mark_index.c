/* test_mark_index.c: the leak check's blocks in address order
 * (track/mark_index.h), built into the test: its functions are internal.
 * The snapshot hands its blocks over in address order but for a few; the
 * index merges those few in, and sorts everything when the claim is false
 * or the few are many. Every way must give the same index. */
#include <config.h>

#include "check_main.h"

#include "base/mem.h"
#include "track/live_table.h"
#include "track/mark_index.h"

#define N 60000

static unsigned rng = 12345;

static unsigned next_random(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* N blocks in address order with gaps between them, sizes 1 to 400 (0 for
 * a few: a block of 0 bytes holds its start). */
static tt_snap_leak *blocks_in_order(void)
{
    tt_snap_leak *b = base_map(N * sizeof *b);
    ck_assert_ptr_nonnull(b);
    uint64_t at = 0x7f0000001000;
    for (size_t i = 0; i < N; i++) {
        int64_t size = i % 997 == 0 ? 0 : 1 + (int64_t)(next_random() % 400);
        b[i] = (tt_snap_leak){.address = at, .size = size, .stack = (uint32_t)i, .count = 1};
        at += (uint64_t)(size > 0 ? size : 1) + 16 * (next_random() % 3);
    }
    return b;
}

static void swap(tt_snap_leak *b, size_t i, size_t j)
{
    tt_snap_leak t = b[i];
    b[i] = b[j];
    b[j] = t;
}

/* Moves k blocks from random places to the end, in random order: the rest
 * stays a run in address order. */
static void move_some_to_the_end(tt_snap_leak *b, size_t k)
{
    for (size_t m = 0; m < k; m++) {
        size_t from = next_random() % (N - m);
        tt_snap_leak t = b[from];
        memmove(&b[from], &b[from + 1], (N - 1 - from) * sizeof *b);
        b[N - 1] = t;
    }
    for (size_t m = 0; m < k; m++)
        swap(b, N - k + m, N - k + next_random() % k);
}

static uintptr_t end_of(const tt_snap_leak *l)
{
    return (uintptr_t)l->address + (l->size > 0 ? (uintptr_t)l->size : 1);
}

/* The index of b, however it was built: starts ascending, each naming its
 * record once, and every address in a block (first byte, last byte) found
 * there, every address in a gap found nowhere. */
static void check_index(const tt_snap_leak *b, size_t nsorted)
{
    tt_block_index x;
    ck_assert_int_eq(tt_block_index_init(&x, b, N, nsorted), 0);
    static bool seen[N];
    memset(seen, 0, sizeof seen);
    for (size_t k = 0; k < N; k++) {
        const tt_snap_leak *l = &b[x.idx[k]];
        ck_assert(!seen[x.idx[k]]);
        seen[x.idx[k]] = true;
        ck_assert_uint_eq(x.start[k], l->address);
        ck_assert_uint_eq(x.end[k], end_of(l));
        if (k > 0)
            ck_assert_uint_lt(x.start[k - 1], x.start[k]);
        ck_assert_uint_eq(tt_block_index_find(&x, x.start[k]), k);
        ck_assert_uint_eq(tt_block_index_find(&x, x.end[k] - 1), k);
        if (k + 1 < N && x.end[k] < x.start[k + 1])
            ck_assert_uint_eq(tt_block_index_find(&x, x.end[k]), N);
    }
    ck_assert_uint_eq(x.lo, x.start[0]);
    ck_assert_uint_eq(x.hi, x.end[N - 1]);
    tt_block_index_free(&x);
}

START_TEST(any_order_is_sorted)
{
    tt_snap_leak *b = blocks_in_order();
    for (size_t i = N - 1; i > 0; i--)
        swap(b, i, next_random() % (i + 1));
    check_index(b, 0);
    base_unmap(b, N * sizeof *b);
}
END_TEST

/* A run with a few after it, placed between its blocks: merged. */
START_TEST(a_few_after_the_run_are_merged_in)
{
    tt_snap_leak *b = blocks_in_order();
    move_some_to_the_end(b, N / 20);
    check_index(b, N - N / 20);
    base_unmap(b, N * sizeof *b);
}
END_TEST

START_TEST(all_in_order)
{
    tt_snap_leak *b = blocks_in_order();
    check_index(b, N);
    check_index(b, N / 2); /* a claim that undersells: still right */
    base_unmap(b, N * sizeof *b);
}
END_TEST

/* The claim is checked, not trusted: a run out of order, anywhere in it. */
START_TEST(a_false_claim_is_caught)
{
    tt_snap_leak *b = blocks_in_order();
    swap(b, 10, 11);
    check_index(b, N);
    swap(b, 10, 11);
    swap(b, N - 2, N - 1);
    check_index(b, N);
    swap(b, N - 2, N - 1);
    move_some_to_the_end(b, 100);
    swap(b, 0, N / 2);
    check_index(b, N - 100);
    base_unmap(b, N * sizeof *b);
}
END_TEST

/* A mapping (TALLY_MMAP) must be noticed wherever it is. */
START_TEST(a_mapping_is_noticed)
{
    tt_snap_leak *b = blocks_in_order();
    tt_block_index x;
    ck_assert_int_eq(tt_block_index_init(&x, b, N, N), 0);
    ck_assert(!x.any_mapping);
    tt_block_index_free(&x);
    b[N / 3].flags = TT_FLAG_MAPPING;
    ck_assert_int_eq(tt_block_index_init(&x, b, N, N), 0);
    ck_assert(x.any_mapping);
    tt_block_index_free(&x);
    move_some_to_the_end(b, 10);
    ck_assert_int_eq(tt_block_index_init(&x, b, N, N - 10), 0);
    ck_assert(x.any_mapping);
    tt_block_index_free(&x);
    base_unmap(b, N * sizeof *b);
}
END_TEST

START_TEST(one_block)
{
    tt_snap_leak b = {.address = 0x1000, .size = 8, .count = 1};
    tt_block_index x;
    for (size_t sorted = 0; sorted <= 1; sorted++) {
        ck_assert_int_eq(tt_block_index_init(&x, &b, 1, sorted), 0);
        ck_assert_uint_eq(tt_block_index_find(&x, 0x1000), 0);
        ck_assert_uint_eq(tt_block_index_find(&x, 0x1007), 0);
        ck_assert_uint_eq(tt_block_index_find(&x, 0x1008), 1);
        tt_block_index_free(&x);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mark_index");
    TCase *tc = tcase_create("index");
    tcase_add_test(tc, any_order_is_sorted);
    tcase_add_test(tc, a_few_after_the_run_are_merged_in);
    tcase_add_test(tc, all_in_order);
    tcase_add_test(tc, a_false_claim_is_caught);
    tcase_add_test(tc, a_mapping_is_noticed);
    tcase_add_test(tc, one_block);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
