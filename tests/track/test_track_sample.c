/* test_track_sample.c: sampling at a 512 KiB mean keeps the pools' own
 * counters exact, and its per-stack totals are within 10% of the truth
 * over 1 GiB of allocations; a thread's first block is sampled no more
 * often than any other. */
#include <config.h> /* _GNU_SOURCE: dladdr */

#include "check_main.h"
#include "track_test_util.h"

#include "track/api.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#define GIB (1LL << 30)
static tally_pool *sp;
static int64_t truth_small, truth_large, count_small, count_large;

TEST_FN void small_site(uint64_t r)
{
    int64_t n = (int64_t)(r % 7680) + 512;
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(sp, n, &p), 0);
    tally_pool_free(sp, p, n);
    truth_small += n;
    count_small++;
}

TEST_FN void large_site(uint64_t r)
{
    int64_t n = (int64_t)(r % (256 * 1024)) + 65536;
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(sp, n, &p), 0);
    tally_pool_free(sp, p, n);
    truth_large += n;
    count_large++;
}

START_TEST(sampled_estimates_within_10_percent)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(512 * 1024, 0);
    sp = tally_proxy_pool_new(NULL, "sampled");
    uint64_t r = 88172645463325252ULL;
    uint8_t *held;
    ck_assert_int_eq(tally_pool_allocate(sp, 1000, &held), 0);
    while (truth_small + truth_large < GIB) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        if (r % 48 != 0) /* both sites allocate about 512 MiB */
            small_site(r >> 6);
        else
            large_site(r >> 6);
    }
    prof_profile *p = dump_and_read();
    ck_assert_uint_eq(p->flags & PROF_FLAG_SAMPLED, PROF_FLAG_SAMPLED);
    ck_assert_int_eq(p->sample_bytes, 512 * 1024);
    const prof_pool *pool = prof_find_pool(p, tally_pool_id(sp));
    /* The pool's own books are exact. */
    ck_assert_int_eq(pool->total_bytes, truth_small + truth_large + 1000);
    ck_assert_int_eq(pool->total_count, count_small + count_large + 1);
    ck_assert_int_eq(pool->current, 1000);
    ck_assert_int_eq(pool->live_count, 1);
    const prof_record *rs = record_in(p, tally_pool_id(sp), "small_site");
    const prof_record *rl = record_in(p, tally_pool_id(sp), "large_site");
    ck_assert(rs && rl);
    double es = (double)rs->total_bytes / (double)truth_small;
    double el = (double)rl->total_bytes / (double)truth_large;
    ck_assert_msg(es > 0.9 && es < 1.1, "small: estimate/truth %.3f", es);
    ck_assert_msg(el > 0.9 && el < 1.1, "large: estimate/truth %.3f", el);
    double cs = (double)rs->total_count / (double)count_small;
    ck_assert_msg(cs > 0.9 && cs < 1.1, "small count: estimate/truth %.3f", cs);
    /* Freed blocks come off exactly what they put on. */
    ck_assert_int_eq(rs->live_bytes, 0);
    ck_assert_int_eq(rl->live_bytes, 0);
    prof_free(p);
    tally_pool_free(sp, held, 1000);
    unlink(test_profile);
}
END_TEST

#define FIRST_THREADS 64

TEST_FN void *first_block(void *arg)
{
    (void)arg;
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(sp, 32, &p), 0);
    tally_pool_free(sp, p, 32);
    return NULL;
}

/* Each thread's countdown starts at 0. Taken as a crossing, it sampled the
 * first block of every thread, and each such 32-byte block weighs about
 * the sampling mean: 64 threads read as 64 MiB allocated where 2 KiB were.
 * Drawn instead, the 64 blocks are sampled with probability 1 - exp(-2K/1M). */
START_TEST(first_block_of_a_thread_is_not_always_sampled)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(1 << 20, 0);
    sp = tally_proxy_pool_new(NULL, "first");
    for (int i = 0; i < FIRST_THREADS; i++) {
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, first_block, NULL), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
    }
    prof_profile *p = dump_and_read();
    const prof_pool *pool = prof_find_pool(p, tally_pool_id(sp));
    ck_assert_int_eq(pool->total_bytes, FIRST_THREADS * 32); /* the pool's books: exact */
    const prof_record *r = record_in(p, tally_pool_id(sp), "first_block");
    int64_t estimate = r ? r->total_bytes : 0;
    /* Unbiased: 0 almost always, one sample (~1 MiB) rarely; never 64. */
    ck_assert_msg(estimate <= 4 << 20, "64 first blocks of 32 bytes estimated at %lld bytes",
                  (long long)estimate);
    prof_free(p);
    unlink(test_profile);
}
END_TEST

/* Unsampled blocks change no site, so freeing one folds nothing: the peak
 * passed before it is settled later, at the fold, from the highest point
 * the thread noted. It must come out exact all the same. */
#define PIECE 1000
TEST_ALLOCATOR(unsampled_piece, sp, PIECE)

START_TEST(peak_exact_without_sampled_blocks)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(1LL << 40, 0); /* a 1 TiB mean: nothing here is sampled */
    sp = tally_proxy_pool_new(NULL, "unsampled");
    uint8_t *b[11];
    for (int i = 0; i < 10; i++)
        b[i] = unsampled_piece();
    tally_pool_free(sp, b[9], PIECE);
    tally_pool_free(sp, b[8], PIECE); /* 8 pieces, after 10 */
    b[8] = unsampled_piece();
    b[9] = unsampled_piece();
    b[10] = unsampled_piece(); /* 11: higher */
    tally_pool_free(sp, b[10], PIECE);
    tally_pool_free(sp, b[9], PIECE);
    prof_profile *p = dump_and_read();
    const prof_pool *pool = prof_find_pool(p, tally_pool_id(sp));
    ck_assert_ptr_null(record_in(p, tally_pool_id(sp), "unsampled_piece"));
    ck_assert_int_eq(p->peak_bytes, 11 * PIECE);
    ck_assert_int_eq(pool->peak, 11 * PIECE);
    ck_assert_int_eq(pool->current, 9 * PIECE);
    prof_free(p);
    for (int i = 0; i < 9; i++)
        tally_pool_free(sp, b[i], PIECE);
    unlink(test_profile);
}
END_TEST

/* The preload shim's unsampled blocks (no stack, pool 0) go to the shadow
 * map, and their books take a short path beside the ledger's (entry.c):
 * through folds, peaks passed and peaks pending, they must agree with a
 * model. Sizes from 1 byte (asked of malloc as 16, as the shim asks its
 * allocator: tally_track_use_shadow's promise, which ASan's malloc, whose
 * usable size is the size asked, would break) to past the shadow's limit
 * (those go to the table), in phases that grow and
 * shrink the heap, each reaching higher than the last. Another pool holds
 * 512 KiB through the middle third: the global peak is passed then without
 * pool 0's, and pool 0's after it without the global one. */
START_TEST(shadowed_books_match_a_model)
{
    enum { SLOTS = 4096, STEPS = 300000, PHASE = 25000, OTHER = 512 << 10 };
    static void *live[SLOTS];
    static int64_t size[SLOTS];
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(1LL << 40, 0); /* a 1 TiB mean: nothing here is sampled */
    tally_track_use_shadow(malloc_usable_size);
    tally_pool *other = tally_proxy_pool_new(NULL, "other");
    uint8_t *other_block = NULL;
    int64_t current = 0, peak = 0, total = 0, count = 0, nlive = 0, global_peak = 0;
    int pool_only = 0, global_only = 0; /* peaks passed apart: the test's point */
    uint64_t r = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < STEPS; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        if (i == STEPS / 3) {
            ck_assert_int_eq(tally_pool_allocate(other, OTHER, &other_block), 0);
            if (current + OTHER > global_peak)
                global_peak = current + OTHER;
        }
        if (i == 2 * STEPS / 3) {
            tally_pool_free(other, other_block, OTHER);
            other_block = NULL;
        }
        int phase = i / PHASE;
        int k = (int)(r % (SLOTS / 2 + SLOTS / 2 * (uint64_t)phase / (STEPS / PHASE)));
        bool growing = phase % 2 == 0;
        bool wants_alloc = (r >> 12) % 10 < (growing ? 7u : 3u);
        if (live[k] && !wants_alloc) {
            tally_block_info info;
            ck_assert(tally_track_free(live[k], &info));
            ck_assert_int_eq(info.size, size[k]);
            ck_assert_int_eq(info.stack, 0);
            ck_assert_int_eq(info.kind, TALLY_KIND_MALLOC);
            free(live[k]);
            live[k] = NULL;
            current -= size[k];
            nlive--;
        } else if (!live[k] && wants_alloc) {
            uint64_t pick = (r >> 20) % 100;
            int64_t n = pick == 0  ? 8192 + (int64_t)((r >> 28) % 20000)
                        : pick < 5 ? 1 + (int64_t)((r >> 28) % 15)
                                   : 16 + (int64_t)((r >> 28) % 3000);
            live[k] = malloc((size_t)(n < 16 ? 16 : n));
            ck_assert_ptr_nonnull(live[k]);
            tally_track_alloc(live[k], n, 0, 0, TALLY_KIND_MALLOC);
            size[k] = n;
            current += n;
            total += n;
            count++;
            nlive++;
            bool pool_passed = current > peak;
            bool global_passed = current + (other_block ? OTHER : 0) > global_peak;
            if (pool_passed)
                peak = current;
            if (global_passed)
                global_peak = current + (other_block ? OTHER : 0);
            pool_only += pool_passed && !global_passed;
            global_only += global_passed && !pool_passed;
        }
    }
    prof_profile *p = dump_and_read();
    const prof_pool *pool = prof_find_pool(p, 0);
    ck_assert_ptr_nonnull(pool);
    ck_assert_int_eq(pool->current, current);
    ck_assert_int_eq(pool->peak, peak);
    ck_assert_int_eq(pool->total_bytes, total);
    ck_assert_int_eq(pool->total_count, count);
    ck_assert_int_eq(pool->live_count, nlive);
    ck_assert_int_eq(p->peak_bytes, global_peak);
    ck_assert_int_gt(pool_only, 0);
    ck_assert_int_gt(global_only, 0);
    prof_free(p);
    tally_pool_destroy(other);
    void *gone = NULL;
    for (int k = 0; k < SLOTS; k++)
        if (live[k]) {
            ck_assert(tally_track_free(live[k], NULL));
            free(live[k]);
            gone = live[k];
        }
    ck_assert_ptr_nonnull(gone);
    ck_assert(!tally_track_free(gone, NULL)); /* freed twice: no block any more */
    unlink(test_profile);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("track_sample");
    TCase *tc = tcase_create("sample");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sampled_estimates_within_10_percent);
    tcase_add_test(tc, first_block_of_a_thread_is_not_always_sampled);
    tcase_add_test(tc, peak_exact_without_sampled_blocks);
    tcase_add_test(tc, shadowed_books_match_a_model);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
