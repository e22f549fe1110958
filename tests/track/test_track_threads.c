/* test_track_threads.c: 8 threads allocate and free at random from two
 * pools while the main thread dumps. Every dump's per-stack live bytes add
 * up to each pool's current bytes, and every pool is back at 0 after the
 * threads join. */
#include <config.h> /* _GNU_SOURCE: dladdr */

#include "check_main.h"
#include "track_test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define THREADS 8
#ifdef TALLY_SANITIZERS
#define OPS 50000 /* per thread: ASan unwinds slowly */
#else
#define OPS 200000
#endif
#define SLOTS 64

static tally_pool *pools[2];

typedef struct {
    uint8_t *p;
    int64_t size;
    int pool;
} slot;

__attribute__((noinline)) static void site_a(slot *s, uint64_t r)
{
    s->size = (int64_t)(r % 512) + 1;
    s->pool = 0;
    ck_assert_int_eq(tally_pool_allocate(pools[0], s->size, &s->p), 0);
}

__attribute__((noinline)) static void site_b(slot *s, uint64_t r)
{
    s->size = (int64_t)(r % 8192) + 1;
    s->pool = (int)(r >> 20) & 1;
    ck_assert_int_eq(tally_pool_allocate(pools[s->pool], s->size, &s->p), 0);
}

static void *worker(void *arg)
{
    uint64_t r = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
    slot slots[SLOTS] = {0};
    for (int i = 0; i < OPS; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        slot *s = &slots[r % SLOTS];
        if (s->p) {
            tally_pool_free(pools[s->pool], s->p, s->size);
            s->p = NULL;
        } else if (r & 0x100) {
            site_a(s, r >> 9);
        } else {
            site_b(s, r >> 9);
        }
    }
    for (int k = 0; k < SLOTS; k++)
        if (slots[k].p)
            tally_pool_free(pools[slots[k].pool], slots[k].p, slots[k].size);
    return NULL;
}

static void check_consistent(const prof_profile *p)
{
    for (size_t i = 0; i < p->npools; i++) {
        const prof_pool *pool = &p->pools[i];
        ck_assert_msg(pool_record_live_sum(p, pool->id) == pool->current,
                      "pool %s: stacks hold %lld, pool %lld", pool->name,
                      (long long)pool_record_live_sum(p, pool->id), (long long)pool->current);
    }
}

START_TEST(threads_books_add_up)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 10);
    pools[0] = tally_proxy_pool_new(NULL, "t0");
    pools[1] = tally_proxy_pool_new(NULL, "t1");
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    int dumps = 0;
    for (int k = 0; k < 5; k++) {
        prof_profile *p = dump_and_read();
        check_consistent(p);
        ck_assert_int_le(p->exactness_bytes, (int64_t)(THREADS + 1) * 64 * 1024);
        prof_free(p);
        dumps++;
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(dumps, 5);

    ck_assert_int_eq(tally_pool_bytes_allocated(pools[0]), 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(pools[1]), 0);
    prof_profile *p = dump_and_read();
    check_consistent(p);
    int64_t total = 0;
    for (int k = 0; k < 2; k++) {
        const prof_pool *pool = prof_find_pool(p, tally_pool_id(pools[k]));
        ck_assert_ptr_nonnull(pool);
        ck_assert_int_eq(pool->current, 0);
        ck_assert_int_eq(pool->live_count, 0);
        ck_assert_int_eq(pool->total_count, tally_pool_num_allocations(pools[k]));
        ck_assert_int_eq(pool->total_bytes, tally_pool_total_bytes_allocated(pools[k]));
        ck_assert_int_le(pool->peak, tally_pool_max_memory(pools[k]) + (THREADS + 1) * 65536);
        total += pool->total_count;
    }
    ck_assert_int_gt(total, (int64_t)THREADS * OPS / 3);
    ck_assert_int_eq(p->nleaks, 0);
    ck_assert_int_ge(p->threads, THREADS);
    ck_assert_uint_gt(p->npoints, 0);
    prof_free(p);
    unlink(test_profile);
}
END_TEST

/* A pending peak is settled at the thread's next fold, from the highest
 * point it noted. If the thread has come down far since, other threads'
 * growth of the meantime must not be counted as if it came at that point:
 * a thread that falls a batch (64 KiB) below its pending peak folds.
 * Sampled (with nothing sampled), so that frees change no site and do not
 * fold by themselves. A holds 120 KiB, then 180, then 60 while B holds
 * 1 MiB: the true peak is 1 MiB + 60 KiB. */
#define KIB60 (60 * 1024)
#define MIB1 (1024 * 1024)
static tally_pool *bp;
static pthread_mutex_t step_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cond = PTHREAD_COND_INITIALIZER;
static int step;
static prof_profile *seen;

static void wait_step(int want)
{
    pthread_mutex_lock(&step_lock);
    while (step < want)
        pthread_cond_wait(&step_cond, &step_lock);
    pthread_mutex_unlock(&step_lock);
}

static void set_step(int to)
{
    pthread_mutex_lock(&step_lock);
    step = to;
    pthread_cond_broadcast(&step_cond);
    pthread_mutex_unlock(&step_lock);
}

static void *fall_then_dump(void *arg)
{
    (void)arg;
    uint8_t *x1, *x2, *c;
    ck_assert_int_eq(tally_pool_allocate(bp, KIB60, &x1), 0);
    ck_assert_int_eq(tally_pool_allocate(bp, KIB60, &x2), 0); /* past a batch: folds */
    ck_assert_int_eq(tally_pool_allocate(bp, KIB60, &c), 0);  /* 180 KiB: pending */
    tally_pool_free(bp, x1, KIB60);
    tally_pool_free(bp, x2, KIB60); /* 120 KiB below it */
    set_step(1);
    wait_step(2);
    seen = dump_and_read();
    tally_pool_free(bp, c, KIB60);
    return NULL;
}

static void *grow_a_lot(void *arg)
{
    uint8_t **big = arg;
    ck_assert_int_eq(tally_pool_allocate(bp, MIB1, big), 0);
    return NULL;
}

START_TEST(fallen_thread_settles_its_peak)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(1LL << 40, 0); /* a 1 TiB mean: nothing here is sampled */
    bp = tally_proxy_pool_new(NULL, "fallen");
    pthread_t a, b;
    uint8_t *big = NULL;
    ck_assert_int_eq(pthread_create(&a, NULL, fall_then_dump, NULL), 0);
    wait_step(1);
    ck_assert_int_eq(pthread_create(&b, NULL, grow_a_lot, &big), 0);
    ck_assert_int_eq(pthread_join(b, NULL), 0);
    set_step(2);
    ck_assert_int_eq(pthread_join(a, NULL), 0);
    const int64_t truth = MIB1 + KIB60;
    /* Nothing else is held back here: the peak is exact to within one
     * batch, not the 120 KiB A came down. */
    ck_assert_int_le(seen->peak_bytes, truth + 64 * 1024);
    ck_assert_int_ge(seen->peak_bytes, truth - 64 * 1024);
    const prof_pool *pool = prof_find_pool(seen, tally_pool_id(bp));
    ck_assert_ptr_nonnull(pool);
    ck_assert_int_le(pool->peak, truth + 64 * 1024);
    prof_free(seen);
    tally_pool_free(bp, big, MIB1);
    unlink(test_profile);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("track_threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, threads_books_add_up);
    tcase_add_test(tc, fallen_thread_settles_its_peak);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
