/* test_pool_threads: the books kept per thread and folded (lib/pool/thread_books.h).
 *
 * One thread's reads are exact at every step; several threads' current and
 * peak are within threads x 64 KiB, and all but the peak exact after they
 * join; destroying a
 * pool that other threads' caches still name never writes into it; fork
 * neither deadlocks nor loses the other threads' unfolded books. */
#include <config.h>
#include <tally/tally.h>

#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

#include "check_main.h"

#define BATCH (64 * 1024)

/* A pool whose struct comes from the system allocator, so that ASan sees a
 * write into it after tally_pool_destroy. */
static tally_pool *fresh_pool(const char *name)
{
    tally_pool *pool = tally_proxy_pool_new(tally_system_pool(), name);
    ck_assert_ptr_nonnull(pool);
    return pool;
}

typedef struct {
    int64_t cur, peak, total, count;
} books;

static void expect_books(tally_pool *pool, const books *b)
{
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), b->cur);
    ck_assert_int_eq(tally_pool_max_memory(pool), b->peak);
    ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), b->total);
    ck_assert_int_eq(tally_pool_num_allocations(pool), b->count);
}

/* Every read agrees with a model of the books, through thousands of calls:
 * far more than one batch of bytes or calls, with the peak made inside
 * batches. */
START_TEST(test_one_thread_exact_at_every_read)
{
    tally_pool *pool = fresh_pool("every-read");
    uint8_t *held[64] = {0};
    int64_t sizes[64] = {0};
    books m = {0};
    unsigned seed = 7;
    for (int i = 0; i < 20000; i++) {
        int slot = rand_r(&seed) % 64;
        if (held[slot]) {
            if (rand_r(&seed) % 4 == 0) {
                int64_t n = 1 + rand_r(&seed) % 30000;
                ck_assert_int_eq(tally_pool_reallocate(pool, sizes[slot], n, &held[slot]), 0);
                if (n > sizes[slot]) {
                    m.total += n - sizes[slot];
                    m.count++;
                }
                m.cur += n - sizes[slot];
                sizes[slot] = n;
            } else {
                tally_pool_free(pool, held[slot], sizes[slot]);
                m.cur -= sizes[slot];
                held[slot] = NULL;
            }
        } else {
            sizes[slot] = 1 + rand_r(&seed) % 3000;
            ck_assert_int_eq(tally_pool_allocate(pool, sizes[slot], &held[slot]), 0);
            m.cur += sizes[slot];
            m.total += sizes[slot];
            m.count++;
        }
        if (m.cur > m.peak)
            m.peak = m.cur;
        if (i % 7 == 0)
            expect_books(pool, &m);
    }
    for (int slot = 0; slot < 64; slot++)
        if (held[slot])
            tally_pool_free(pool, held[slot], sizes[slot]);
    m.cur = 0;
    expect_books(pool, &m);
    tally_pool_destroy(pool);
}
END_TEST

/* More pools than a thread's cache has slots, used in turn: each one's books
 * survive being folded out of its slot. */
START_TEST(test_one_thread_many_pools)
{
    enum { N = 40 };
    tally_pool *pools[N];
    uint8_t *p[N];
    for (int k = 0; k < N; k++)
        pools[k] = fresh_pool("many");
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < N; k++) {
            ck_assert_int_eq(tally_pool_allocate(pools[k], 100 + k, &p[k]), 0);
            if (round < 2)
                tally_pool_free(pools[k], p[k], 100 + k);
        }
    for (int k = 0; k < N; k++) {
        books b = {100 + k, 100 + k, 3 * (100 + k), 3};
        expect_books(pools[k], &b);
        tally_pool_free(pools[k], p[k], 100 + k);
        tally_pool_destroy(pools[k]);
    }
}
END_TEST

static void *peak_inside_batch(void *arg)
{
    tally_pool *pool = arg;
    uint8_t *a, *b;
    ck_assert_int_eq(tally_pool_allocate(pool, 30000, &a), 0);
    tally_pool_free(pool, a, 30000);
    ck_assert_int_eq(tally_pool_allocate(pool, 20000, &b), 0);
    tally_pool_free(pool, b, 20000);
    return NULL;
}

/* A thread's exit folds what it held back, its batch's peak included. */
START_TEST(test_join_folds_the_peak)
{
    tally_pool *pool = fresh_pool("join");
    pthread_t t;
    pthread_create(&t, NULL, peak_inside_batch, pool);
    pthread_join(t, NULL);
    books b = {0, 30000, 50000, 2};
    expect_books(pool, &b);
    tally_pool_destroy(pool);
}
END_TEST

typedef struct {
    tally_pool *pool;
    pthread_barrier_t *held, *go;
    uint8_t *blocks[256];
} holder_arg;

/* Allocates 1 MiB in 4 KiB blocks and holds it until released. */
static void *hold_a_mebibyte(void *arg)
{
    holder_arg *h = arg;
    for (int i = 0; i < 256; i++)
        ck_assert_int_eq(tally_pool_allocate(h->pool, 4096, &h->blocks[i]), 0);
    pthread_barrier_wait(h->held);
    pthread_barrier_wait(h->go);
    for (int i = 0; i < 256; i++)
        tally_pool_free(h->pool, h->blocks[i], 4096);
    return NULL;
}

/* While two threads hold memory, another thread's reads are within the
 * documented bound, threads x 64 KiB; after they join, exact. */
START_TEST(test_reader_within_bound_while_threads_run)
{
    tally_pool *pool = fresh_pool("bound");
    pthread_barrier_t held, go;
    pthread_barrier_init(&held, NULL, 3);
    pthread_barrier_init(&go, NULL, 3);
    holder_arg h[2] = {{pool, &held, &go, {0}}, {pool, &held, &go, {0}}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, hold_a_mebibyte, &h[i]);
    pthread_barrier_wait(&held);
    const int64_t truth = 2 * 256 * 4096, bound = 2 * BATCH;
    int64_t cur = tally_pool_bytes_allocated(pool), peak = tally_pool_max_memory(pool);
    ck_assert_int_le(truth - bound, cur);
    ck_assert_int_le(cur, truth + bound);
    ck_assert_int_le(truth - bound, peak);
    ck_assert_int_le(peak, truth + bound);
    pthread_barrier_wait(&go);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    peak = tally_pool_max_memory(pool); /* made by two threads: within the bound still */
    ck_assert_int_le(truth - bound, peak);
    ck_assert_int_le(peak, truth + bound);
    ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), truth);
    ck_assert_int_eq(tally_pool_num_allocations(pool), 512);
    pthread_barrier_destroy(&held);
    pthread_barrier_destroy(&go);
    tally_pool_destroy(pool);
}
END_TEST

typedef struct {
    tally_pool *doomed;
    tally_pool *next[40];
    pthread_barrier_t barrier;
    uint8_t *a, *b;
} doomed_arg;

/* Books two blocks in the doomed pool (unfolded), waits while it is
 * destroyed, then fills every slot of its cache with other pools. */
static void *outlive_a_pool(void *arg)
{
    doomed_arg *d = arg;
    ck_assert_int_eq(tally_pool_allocate(d->doomed, 100, &d->a), 0);
    ck_assert_int_eq(tally_pool_allocate(d->doomed, 28, &d->b), 0);
    pthread_barrier_wait(&d->barrier); /* booked */
    pthread_barrier_wait(&d->barrier); /* destroyed, next[] made */
    for (int k = 0; k < 40; k++) {
        uint8_t *p;
        ck_assert_int_eq(tally_pool_allocate(d->next[k], 10, &p), 0);
        tally_pool_free(d->next[k], p, 10);
    }
    return NULL;
}

/* Destroying a pool folds every thread's share first (so the report is
 * exact) and leaves no cache naming it: under ASan a fold into the freed
 * struct would be a use after free. */
START_TEST(test_destroy_while_other_caches_name_the_pool)
{
    doomed_arg d = {.doomed = fresh_pool("doomed")};
    pthread_barrier_init(&d.barrier, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, outlive_a_pool, &d);
    pthread_barrier_wait(&d.barrier);
    stderr_capture cap;
    capture_stderr(&cap);
    tally_pool_destroy(d.doomed);
    const char *text = captured_stderr(&cap);
    ck_assert_msg(strstr(text, "'doomed' destroyed with 2 live allocations (128 bytes)"), "got: %s",
                  text);
    for (int k = 0; k < 40; k++) /* one of them likely reuses the doomed struct */
        d.next[k] = fresh_pool("next");
    pthread_barrier_wait(&d.barrier);
    pthread_join(t, NULL);
    tally_pool_free(tally_system_pool(), d.a, 100);
    tally_pool_free(tally_system_pool(), d.b, 28);
    for (int k = 0; k < 40; k++) {
        books b = {0, 10, 10, 1};
        expect_books(d.next[k], &b);
        tally_pool_destroy(d.next[k]);
    }
    pthread_barrier_destroy(&d.barrier);
}
END_TEST

/* In a child only the forking thread lives on: the others' unfolded books
 * describe memory the child inherited, and count there. */
START_TEST(test_fork_keeps_other_threads_books)
{
    tally_pool *pool = fresh_pool("fork");
    pthread_barrier_t held, go;
    pthread_barrier_init(&held, NULL, 2);
    pthread_barrier_init(&go, NULL, 2);
    holder_arg h = {pool, &held, &go, {0}};
    pthread_t t;
    pthread_create(&t, NULL, hold_a_mebibyte, &h);
    pthread_barrier_wait(&held);
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t *p;
        bool ok = tally_pool_allocate(pool, 10, &p) == 0 &&
                  tally_pool_bytes_allocated(pool) == 256 * 4096 + 10 &&
                  tally_pool_num_allocations(pool) == 257;
        _exit(ok ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pthread_barrier_wait(&go);
    pthread_join(t, NULL);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    pthread_barrier_destroy(&held);
    pthread_barrier_destroy(&go);
    tally_pool_destroy(pool);
}
END_TEST

static _Atomic bool stop_churn;

static void *churn_until_stopped(void *arg)
{
    tally_pool *pool = arg;
    for (unsigned i = 0; !stop_churn; i++) {
        int64_t n = 1 + (i * 2654435761u) % (3 * BATCH); /* some single calls fold */
        uint8_t *p;
        ck_assert_int_eq(tally_pool_allocate(pool, n, &p), 0);
        tally_pool_free(pool, p, n);
    }
    return NULL;
}

/* fork while other threads fold all the time: no lock may stay held in the
 * child. Over mimalloc only: ASan's malloc (gcc 12) has no fork handlers, so
 * a child could hang in it whatever tally does. */
START_TEST(test_fork_while_threads_fold)
{
    tally_pool *pool = tally_proxy_pool_new(tally_mimalloc_pool(), "fork-churn");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn_until_stopped, i ? pool : tally_mimalloc_pool());
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            uint8_t *p;
            for (int j = 0; j < 10000; j++) { /* a few folds of its own */
                if (tally_pool_allocate(pool, 100, &p) != 0)
                    _exit(2);
                tally_pool_free(pool, p, 100);
            }
            _exit(tally_pool_num_allocations(pool) >= 10000 ? 0 : 1);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    stop_churn = true;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool_threads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_one_thread_exact_at_every_read);
    tcase_add_test(tc, test_one_thread_many_pools);
    tcase_add_test(tc, test_join_folds_the_peak);
    tcase_add_test(tc, test_reader_within_bound_while_threads_run);
    tcase_add_test(tc, test_destroy_while_other_caches_name_the_pool);
    tcase_add_test(tc, test_fork_keeps_other_threads_books);
    tcase_add_test(tc, test_fork_while_threads_fold);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
