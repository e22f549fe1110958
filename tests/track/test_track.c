/* test_track.c: the tracking core under lib/pool: leaks, exact peak
 * attribution, scopes, a destroyed pool's report, failed writes, fork. */
#include <config.h> /* _GNU_SOURCE: dladdr */

#include "check_main.h"
#include "tally_capture.h"
#include "track_test_util.h"

#include "pool/scope.h"
#include "track/api.h"
#include "track/shadow.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/wait.h>

static tally_pool *p1;
uint8_t *volatile kept[4];

TEST_FN void leak_a(void)
{
    uint8_t *p;
    if (tally_pool_allocate(p1, 100, &p) == 0)
        kept[0] = p;
}

TEST_FN void leak_b(void)
{
    uint8_t *p;
    if (tally_pool_allocate(p1, 28, &p) == 0)
        kept[1] = p;
}

TEST_FN void churn(void)
{
    uint8_t *p[32];
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 32; i++)
            ck_assert_int_eq(tally_pool_allocate(p1, 8 + i * 24, &p[i]), 0);
        for (int i = 0; i < 32; i++)
            tally_pool_free(p1, p[i], 8 + i * 24);
    }
}

START_TEST(leaks_named_in_profile_and_summary)
{
    setenv("TALLY_REPORT", "full", 1);
    start_tracking(0, 10);
    p1 = tally_proxy_pool_new(NULL, "p1");
    leak_a();
    leak_b();
    churn();

    prof_profile *p = dump_and_read();
    int32_t id = tally_pool_id(p1);
    const prof_pool *pool = prof_find_pool(p, id);
    ck_assert_ptr_nonnull(pool);
    ck_assert_str_eq(pool->name, "p1");
    ck_assert_int_eq(pool->current, 128);
    ck_assert_int_eq(pool->live_count, 2);
    ck_assert_int_eq(pool->total_count, 2 + 50 * 32);
    const prof_record *a = record_in(p, id, "leak_a");
    const prof_record *b = record_in(p, id, "leak_b");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(a->live_bytes, 100);
    ck_assert_int_eq(a->live_count, 1);
    ck_assert_int_eq(b->live_bytes, 28);
    ck_assert_int_eq(b->live_count, 1);
    /* The leaks: each block once, in its outermost pool; a group per stack,
     * live (a dump runs no leak check unless asked). */
    int64_t leaked = 0;
    for (size_t i = 0; i < p->nleaks; i++) {
        ck_assert_int_eq(p->leaks[i].pool_id, id);
        ck_assert_int_eq(p->leaks[i].count, 1);
        ck_assert_uint_eq(p->leaks[i].kind, PROF_LEAK_LIVE);
        const char *fn = frame0_name(p, p->leaks[i].stack_id);
        ck_assert(strcmp(fn, p->leaks[i].bytes == 100 ? "leak_a" : "leak_b") == 0);
        leaked += p->leaks[i].bytes;
    }
    ck_assert_int_eq(p->nleaks, 2);
    ck_assert_int_eq(leaked, 128);
    ck_assert(!p->classified);
    ck_assert_int_eq(p->flags & PROF_FLAG_SAMPLED, 0);
    ck_assert(p->has_meta);
    ck_assert_int_eq(p->pid, getpid());
    ck_assert_int_eq(p->reason, 1);
    ck_assert_int_eq(p->depth, 64);
    ck_assert_uint_gt(p->nmodules, 0);
    prof_free(p);

    stderr_capture c;
    capture_tally(&c);
    tally_track_at_exit();
    const char *out = captured_tally(&c);
    /* The leak check ran at exit: kept[] is a global, so both blocks are
     * still reachable, listed with TALLY_REPORT=full. */
    ck_assert_msg(strstr(out, "tally: definitely lost: 0 bytes in 0 blocks; indirectly lost: 0 "
                              "bytes in 0 blocks; possibly lost: 0 bytes in 0 blocks; still "
                              "reachable: 128 bytes in 2 blocks; peak ") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "  pool p1: still reachable 128 bytes in 2 blocks\n") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "100 bytes in 1 block still reachable in pool p1") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "28 bytes in 1 block still reachable in pool p1") != NULL, "%s", out);
    /* Named by libdw in the process: function and file:line. */
    ck_assert_msg(strstr(out, " in leak_a ") != NULL && strstr(out, " in leak_b ") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "/test_track.c:") != NULL, "%s", out);
    ck_assert(!tally_track_active());
    unlink(test_profile);
}
END_TEST

/* Peak: big() allocates and frees; then mid() and small() hold less at once. */
#define BIG (10 << 20)
#define MID (6 << 20)
#define SMALL (3 << 20)
static tally_pool *pk;

TEST_FN void big(void)
{
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(pk, BIG, &p), 0);
    p[0] = 1;
    tally_pool_free(pk, p, BIG);
}

TEST_ALLOCATOR(mid, pk, MID)
TEST_ALLOCATOR(small, pk, SMALL)

START_TEST(peak_belongs_to_big)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    pk = tally_proxy_pool_new(NULL, "peak");
    big();
    uint8_t *m = mid();
    uint8_t *s = small();

    prof_profile *p = dump_and_read();
    int32_t id = tally_pool_id(pk);
    ck_assert_int_eq(p->peak_bytes, BIG);
    ck_assert_int_eq(prof_find_pool(p, id)->peak, BIG);
    ck_assert_int_eq(prof_find_pool(p, id)->current, MID + SMALL);
    const prof_record *rb = record_in(p, id, "big");
    const prof_record *rm = record_in(p, id, "mid");
    const prof_record *rs = record_in(p, id, "small");
    ck_assert(rb && rm && rs);
    ck_assert_int_eq(rb->peak_bytes, BIG);
    ck_assert_int_eq(rb->pool_peak_bytes, BIG);
    ck_assert_int_eq(rb->live_bytes, 0);
    ck_assert_int_eq(rm->peak_bytes, 0);
    ck_assert_int_eq(rs->peak_bytes, 0);
    ck_assert_int_eq(rm->live_bytes, MID);
    ck_assert_int_eq(rs->live_bytes, SMALL);
    /* The parent (default) pool books the same blocks with the same stacks. */
    int32_t parent = tally_pool_id(NULL);
    ck_assert_int_eq(record_in(p, parent, "big")->peak_bytes, BIG);
    int64_t at_peak = 0;
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i].pool_id == id)
            at_peak += p->records[i].peak_bytes;
    ck_assert_int_eq(at_peak, BIG);
    prof_free(p);

    /* A new peak moves the attribution. */
    uint8_t *m2 = mid();
    p = dump_and_read();
    ck_assert_int_eq(p->peak_bytes, 2 * MID + SMALL);
    ck_assert_int_eq(record_in(p, id, "big")->peak_bytes, 0);
    /* mid() was called from two places: two stacks, MID each at the peak. */
    int64_t mid_at_peak = 0;
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i].pool_id == id &&
            strcmp(frame0_name(p, p->records[i].stack_id), "mid") == 0)
            mid_at_peak += p->records[i].peak_bytes;
    ck_assert_int_eq(mid_at_peak, 2 * MID);
    ck_assert_int_eq(record_in(p, id, "small")->peak_bytes, SMALL);
    prof_free(p);
    tally_pool_free(pk, m, MID);
    tally_pool_free(pk, m2, MID);
    tally_pool_free(pk, s, SMALL);
    unlink(test_profile);
}
END_TEST

/* A peak made of blocks smaller than the fold batch: no fold raises it,
 * it is settled when bytes first go back, at its exact height. */
#define PIECE 1000
TEST_ALLOCATOR(piece, pk, PIECE)

START_TEST(small_peak_settles_before_free)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    pk = tally_proxy_pool_new(NULL, "pieces");
    uint8_t *b[11];
    for (int i = 0; i < 10; i++)
        b[i] = piece();
    tally_pool_free(pk, b[9], PIECE); /* settles at 10 pieces */
    b[9] = piece();
    b[10] = piece(); /* 11 pieces: higher */
    tally_pool_free(pk, b[10], PIECE);
    tally_pool_free(pk, b[9], PIECE);

    prof_profile *p = dump_and_read();
    int32_t id = tally_pool_id(pk);
    ck_assert_int_eq(p->peak_bytes, 11 * PIECE);
    ck_assert_int_eq(prof_find_pool(p, id)->peak, 11 * PIECE);
    ck_assert_int_eq(prof_find_pool(p, id)->current, 9 * PIECE);
    /* piece() is called from three places: three stacks. */
    int64_t at_peak = 0, at_pool_peak = 0;
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i].pool_id == id &&
            strcmp(frame0_name(p, p->records[i].stack_id), "piece") == 0) {
            at_peak += p->records[i].peak_bytes;
            at_pool_peak += p->records[i].pool_peak_bytes;
        }
    ck_assert_int_eq(at_peak, 11 * PIECE);
    ck_assert_int_eq(at_pool_peak, 11 * PIECE);
    prof_free(p);
    for (int i = 0; i < 9; i++)
        tally_pool_free(pk, b[i], PIECE);
    unlink(test_profile);
}
END_TEST

/* A growing program that gives bytes back between its allocations, from
 * four sites at random, checked against a model: the peak's height, the
 * first moment it was reached, and each site's bytes at that moment, in
 * the proxy pool (its own peak) and globally (the default pool books the
 * same blocks, nothing else). Most peaks here are settled long after the
 * frees and allocations that follow them. With path bits, each site
 * allocates from 2^bits stacks (each bit picks one of two calls on the
 * way down): far more than a thread's site cache holds, so deltas noted at
 * a peak are pushed out among the victims, and the victims overflow. The
 * stacks differ in a frame the stack depth keeps, however deep: a plain
 * recursion's deeper stacks would all be the same 64 innermost frames. */
#define MODEL_SITES 4
#define MODEL_OPS 20000
#define MODEL_LIVE 4096
#define MODEL_SITE(k)                                                                              \
    TEST_FN uint8_t *model_site##k(unsigned path, int bits, int64_t n)                             \
    {                                                                                              \
        uint8_t *p;                                                                                \
        if (bits > 0) {                                                                            \
            /* Two calls, each its own return address: the asm keeps the                           \
             * compiler from merging them. */                                                      \
            if (path & 1) {                                                                        \
                __asm__ volatile("nop" ::: "memory");                                              \
                p = model_site##k(path >> 1, bits - 1, n);                                         \
                __asm__ volatile("nop" ::: "memory");                                              \
            } else {                                                                               \
                __asm__ volatile("nop; nop" ::: "memory");                                         \
                p = model_site##k(path >> 1, bits - 1, n);                                         \
                __asm__ volatile("nop; nop" ::: "memory");                                         \
            }                                                                                      \
            return p;                                                                              \
        }                                                                                          \
        ck_assert_int_eq(tally_pool_allocate(pk, n, &p), 0);                                       \
        return p;                                                                                  \
    }
MODEL_SITE(0)
MODEL_SITE(1)
MODEL_SITE(2)
MODEL_SITE(3)

/* Sums the records of pool whose innermost frame is fn, over all stacks. */
static void model_sums(const prof_profile *p, int32_t pool, const char *fn, int64_t *live,
                       int64_t *peak, int64_t *pool_peak)
{
    *live = *peak = *pool_peak = 0;
    for (size_t i = 0; i < p->nrecords; i++)
        if (p->records[i].pool_id == pool &&
            strcmp(frame0_name(p, p->records[i].stack_id), fn) == 0) {
            *live += p->records[i].live_bytes;
            *peak += p->records[i].peak_bytes;
            *pool_peak += p->records[i].pool_peak_bytes;
        }
}

static void run_model(int bits, int max_size)
{
    static uint8_t *(*const site[MODEL_SITES])(unsigned, int, int64_t) = {model_site0, model_site1,
                                                                          model_site2, model_site3};
    static const char *const name[MODEL_SITES] = {"model_site0", "model_site1", "model_site2",
                                                  "model_site3"};
    static uint8_t *block[MODEL_LIVE];
    static int64_t size[MODEL_LIVE];
    static int of[MODEL_LIVE];
    int64_t bytes[MODEL_SITES] = {0}, at_peak[MODEL_SITES] = {0}, current = 0, peak = 0;
    int live = 0;
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    pk = tally_proxy_pool_new(NULL, "model");
    srand(12345);
    for (int op = 0; op < MODEL_OPS; op++) {
        /* Grows on the whole, in steps smaller than a fold's batch. */
        if (live < MODEL_LIVE && (live == 0 || rand() % 100 < 55)) {
            int k = rand() % MODEL_SITES;
            int64_t n = 1 + rand() % max_size;
            block[live] = site[k]((unsigned)rand() & ((1u << bits) - 1), bits, n);
            size[live] = n;
            of[live] = k;
            live++;
            bytes[k] += n;
            current += n;
            if (current > peak) {
                peak = current;
                memcpy(at_peak, bytes, sizeof bytes);
            }
        } else {
            int i = rand() % live;
            tally_pool_free(pk, block[i], size[i]);
            bytes[of[i]] -= size[i];
            current -= size[i];
            live--;
            block[i] = block[live];
            size[i] = size[live];
            of[i] = of[live];
        }
    }

    prof_profile *p = dump_and_read();
    int32_t id = tally_pool_id(pk), parent = tally_pool_id(NULL);
    ck_assert_int_eq(prof_find_pool(p, id)->peak, peak);
    ck_assert_int_eq(prof_find_pool(p, id)->current, current);
    ck_assert_int_eq(p->peak_bytes, peak);
    for (int k = 0; k < MODEL_SITES; k++) {
        int64_t l, pk_global, pk_pool;
        model_sums(p, id, name[k], &l, &pk_global, &pk_pool);
        ck_assert_int_eq(l, bytes[k]);
        ck_assert_int_eq(pk_pool, at_peak[k]);
        ck_assert_int_eq(pk_global, at_peak[k]);
        model_sums(p, parent, name[k], &l, &pk_global, &pk_pool);
        ck_assert_int_eq(l, bytes[k]);
        ck_assert_int_eq(pk_pool, at_peak[k]);
        ck_assert_int_eq(pk_global, at_peak[k]);
    }
    prof_free(p);
    for (int i = 0; i < live; i++)
        tally_pool_free(pk, block[i], size[i]);
    unlink(test_profile);
}

START_TEST(peak_sites_match_a_model)
{
    run_model(0, 3000);
}
END_TEST

/* 4 x 1024 stacks, in the proxy pool and its parent: 8192 sites for the
 * 2048 slots, each site booked a few times. Blocks of up to 300 bytes, so
 * that the peaks settle after the victims filled up. Dropping a victim's
 * note fails it (so it did at 10 and 11 path bits, not at 8, 9 or 12: with
 * fewer sites none is pushed out, with more none is booked again). */
START_TEST(peak_sites_match_a_model_many_stacks)
{
    run_model(10, 300);
}
END_TEST

START_TEST(scopes_nest)
{
    tally_pool *a = tally_proxy_pool_new(NULL, "a");
    tally_pool *b = tally_proxy_pool_new(NULL, "b");
    ck_assert_int_eq(tally_scope_pool_id(), -1);
    ck_assert_int_eq(tally_scope_push(a), 0);
    ck_assert_int_eq(tally_scope_pool_id(), tally_pool_id(a));
    ck_assert_int_eq(tally_scope_push(b), 0);
    ck_assert_int_eq(tally_scope_pool_id(), tally_pool_id(b));
    ck_assert_int_eq(tally_scope_push(NULL), 0); /* the default pool */
    ck_assert_int_eq(tally_scope_pool_id(), tally_pool_id(NULL));
    tally_scope_pop();
    ck_assert_int_eq(tally_scope_pool_id(), tally_pool_id(b));
    tally_scope_pop();
    ck_assert_int_eq(tally_scope_pool_id(), tally_pool_id(a));
    tally_scope_pop();
    ck_assert_int_eq(tally_scope_pool_id(), -1);
    tally_scope_pop(); /* one pop too many is harmless */
    ck_assert_int_eq(tally_scope_pool_id(), -1);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = tally_scope_push(a);
    ck_assert_int_eq(rc, EOVERFLOW);
    tally_pool_destroy(a);
    tally_pool_destroy(b);
}
END_TEST

/* Scopes are per thread. */
static void *scope_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)tally_scope_pool_id();
}

START_TEST(scopes_are_per_thread)
{
    tally_pool *a = tally_proxy_pool_new(NULL, "a");
    ck_assert_int_eq(tally_scope_push(a), 0);
    pthread_t t;
    void *ret;
    pthread_create(&t, NULL, scope_thread, NULL);
    pthread_join(t, &ret);
    ck_assert_int_eq((intptr_t)ret, -1);
    ck_assert_int_eq(tally_scope_pool_id(), tally_pool_id(a));
    tally_scope_pop();
    tally_pool_destroy(a);
}
END_TEST

/* Threads one after another: each takes over the books of the one before
 * (its site slots kept, warm: tt_ledger_cache_reset), frees what that one
 * kept, keeps blocks of its own and churns. Every site's books stay exact
 * across the hand-overs. */
#define TURN_THREADS 30
#define TURN_KEPT 40
static tally_pool *pt;
static uint8_t *turn_kept[TURN_KEPT];

TEST_FN uint8_t *turn_keep(int64_t n)
{
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(pt, n, &p), 0);
    return p;
}

TEST_FN void turn_churn(int rounds)
{
    uint8_t *p;
    for (int i = 0; i < rounds; i++) {
        ck_assert_int_eq(tally_pool_allocate(pt, 24 + i, &p), 0);
        tally_pool_free(pt, p, 24 + i);
    }
}

static void *turn_thread(void *arg)
{
    int64_t size = (int64_t)(intptr_t)arg;
    for (int i = 0; i < TURN_KEPT; i++) {
        if (turn_kept[i])
            tally_pool_free(pt, turn_kept[i], size - 1); /* the last thread's size */
        turn_kept[i] = turn_keep(size);
    }
    turn_churn(100);
    return NULL;
}

START_TEST(threads_in_turn_keep_exact_books)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    pt = tally_proxy_pool_new(NULL, "turns");
    for (int t = 0; t < TURN_THREADS; t++) {
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, turn_thread, (void *)(intptr_t)(100 + t)), 0);
        ck_assert_int_eq(pthread_join(th, NULL), 0);
    }
    prof_profile *p = dump_and_read();
    int32_t id = tally_pool_id(pt);
    const prof_record *keep = record_in(p, id, "turn_keep");
    const prof_record *churned = record_in(p, id, "turn_churn");
    ck_assert_ptr_nonnull(keep);
    ck_assert_ptr_nonnull(churned);
    int64_t last = 100 + TURN_THREADS - 1, all = 0;
    for (int t = 0; t < TURN_THREADS; t++)
        all += TURN_KEPT * (100 + t);
    ck_assert_int_eq(keep->live_bytes, TURN_KEPT * last);
    ck_assert_int_eq(keep->live_count, TURN_KEPT);
    ck_assert_int_eq(keep->total_bytes, all);
    ck_assert_int_eq(keep->total_count, TURN_KEPT * TURN_THREADS);
    ck_assert_int_eq(churned->live_bytes, 0);
    ck_assert_int_eq(churned->total_count, 100 * TURN_THREADS);
    ck_assert_int_eq(churned->total_bytes, TURN_THREADS * (100 * 24 + 99 * 100 / 2));
    ck_assert_int_eq(prof_find_pool(p, id)->current, TURN_KEPT * last);
    ck_assert_int_eq(prof_find_pool(p, id)->peak, TURN_KEPT * last + 24 + 99); /* churn's last */
    prof_free(p);
    for (int i = 0; i < TURN_KEPT; i++)
        tally_pool_free(pt, turn_kept[i], last);
    unlink(test_profile);
}
END_TEST

TEST_FN void forgotten(tally_pool *pool)
{
    uint8_t *p;
    if (tally_pool_allocate(pool, 77, &p) == 0)
        kept[2] = p;
}

START_TEST(destroyed_pool_lists_live_blocks)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    tally_pool *d = tally_proxy_pool_new(NULL, "doomed");
    forgotten(d);
    stderr_capture c;
    capture_stderr(&c);
    tally_pool_destroy(d);
    const char *out = captured_stderr(&c);
    ck_assert_msg(strstr(out, "pool 'doomed' destroyed with 1 live allocations (77 bytes)"), "%s",
                  out);
    ck_assert_msg(strstr(out, "77 bytes at 0x") != NULL, "%s", out);
    ck_assert_msg(strstr(out, " in forgotten ") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "/test_track.c:") != NULL, "%s", out);
    tally_pool_free(NULL, kept[2], 77);
}
END_TEST

TEST_FN void forgotten_wide(tally_pool *pool, int64_t size)
{
    uint8_t *p;
    if (tally_pool_allocate(pool, size, &p) == 0)
        kept[3] = p;
}

/* A pool id past 254 and a size from 4 GiB do not fit the live table's
 * packed slot: such a block is kept whole beside it and must read back
 * exactly, here through a destroyed pool's list of its blocks. */
START_TEST(wide_blocks_read_back_whole)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    enum { FILLERS = 300 };
    tally_pool *fillers[FILLERS];
    for (int i = 0; i < FILLERS; i++)
        ck_assert_ptr_nonnull(fillers[i] = tally_proxy_pool_new(NULL, "filler"));
    tally_pool *d = tally_proxy_pool_new(NULL, "wide");
    const int64_t big = (4LL << 30) + 77;
    forgotten_wide(d, big);
    ck_assert_ptr_nonnull(kept[3]);
    stderr_capture c;
    capture_stderr(&c);
    tally_pool_destroy(d);
    const char *out = captured_stderr(&c);
    ck_assert_msg(strstr(out, "pool 'wide' destroyed with 1 live allocations (4294967373 bytes)"),
                  "%s", out);
    ck_assert_msg(strstr(out, "4294967373 bytes at 0x") != NULL, "%s", out);
    ck_assert_msg(strstr(out, " in forgotten_wide ") != NULL, "%s", out);
    tally_pool_free(NULL, kept[3], big);
    for (int i = 0; i < FILLERS; i++)
        tally_pool_destroy(fillers[i]);
}
END_TEST

START_TEST(failed_write_warns_once)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(NULL, 10, &p), 0);
    stderr_capture c;
    capture_tally(&c);
    int rc1 = tally_track_dump("/nonexistent-dir/x.prof");
    int rc2 = tally_track_dump("/nonexistent-dir/y.prof");
    const char *out = captured_tally(&c);
    ck_assert_int_eq(rc1, ENOENT);
    ck_assert_int_eq(rc2, ENOENT);
    const char *first = strstr(out, "tally: cannot write the profile");
    ck_assert_msg(first != NULL, "%s", out);
    ck_assert_ptr_null(strstr(first + strlen("tally: cannot write"), "cannot write"));
    /* The program goes on, still tracked. */
    tally_pool_free(NULL, p, 10);
    ck_assert(tally_track_active());
    ck_assert_int_eq(access("/nonexistent-dir", F_OK), -1);
}
END_TEST

START_TEST(dump_before_start_is_refused)
{
    ck_assert(!tally_track_active());
    ck_assert_int_eq(tally_track_dump("/tmp/never.prof"), EINVAL);
}
END_TEST

START_TEST(child_tracks_into_its_own_file)
{
    setenv("TALLY_REPORT", "none", 1);
    char pattern[256];
    snprintf(pattern, sizeof pattern, "/tmp/tally-fork.%d.%%p.prof", (int)getpid());
    tally_track_options o = {.output = pattern, .interval_ms = 5};
    ck_assert_int_eq(tally_track_start(&o), 0);
    tally_pool *f = tally_proxy_pool_new(NULL, "forked");
    pid_t child = fork();
    if (child == 0) {
        forgotten(f);
        exit(0); /* the exit profile: the child's own, with its leak */
    }
    int status;
    waitpid(child, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char path[300];
    snprintf(path, sizeof path, "/tmp/tally-fork.%d.%d.prof", (int)getpid(), (int)child);
    prof_profile *p = NULL;
    char err[256];
    ck_assert_msg(prof_read(path, &p, err, sizeof err) == 0, "%s: %s", path, err);
    ck_assert_int_eq(p->pid, child);
    ck_assert_int_eq(p->reason, 0);
    ck_assert_int_eq(prof_find_pool(p, tally_pool_id(f))->current, 77);
    ck_assert_int_eq(p->nleaks, 1);
    ck_assert_str_eq(frame0_name(p, p->leaks[0].stack_id), "forgotten");
    prof_free(p);
    unlink(path);
    tally_pool_destroy(f);
}
END_TEST

/* A full run keeps the preload shim's small blocks (pool 0, at most
 * TT_SHADOW_STACK_MAX bytes) in the shadow map, with their stacks (in the
 * stack map under 48 bytes, in the map's own entries from 48): each is
 * found, freed and listed with its stack, and its site's books are exact,
 * as a block of the table's (the big one here) is. */
TEST_FN uint8_t *shadowed_site(size_t n)
{
    uint8_t *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    tally_track_alloc(p, (int64_t)n, 0, tally_track_capture((int64_t)n, 0), TALLY_KIND_MALLOC);
    return p;
}

TEST_FN uint8_t *tabled_site(size_t n)
{
    uint8_t *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    tally_track_alloc(p, (int64_t)n, 0, tally_track_capture((int64_t)n, 0), TALLY_KIND_MALLOC);
    return p;
}

TEST_FN uint8_t *mid_site(size_t n)
{
    uint8_t *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    tally_track_alloc(p, (int64_t)n, 0, tally_track_capture((int64_t)n, 0), TALLY_KIND_MALLOC);
    return p;
}

static const prof_leak *leak_group(const prof_profile *p, uint32_t stack)
{
    for (size_t i = 0; i < p->nleaks; i++)
        if (p->leaks[i].stack_id == stack)
            return &p->leaks[i];
    return NULL;
}

START_TEST(full_run_shadows_small_blocks_with_their_stacks)
{
    setenv("TALLY_REPORT", "none", 1);
    start_tracking(0, 0);
    tally_track_use_shadow(malloc_usable_size);
    enum { N = 10 };
    uint8_t *small[N];
    int64_t total = 0, live = 0;
    for (int i = 0; i < N; i++) {
        small[i] = shadowed_site((size_t)(16 + i * 5)); /* 16 to 61 bytes */
        total += 16 + i * 5;
    }
    uint8_t *big = tabled_site(TT_SHADOW_STACK_MAX + 1);
    /* The map's biggest blocks: the walk back from an interior pointer
     * crosses every granule of the block. */
    uint8_t *mid = mid_site(TT_SHADOW_STACK_MAX);
    tally_block_info info;
    ck_assert(tally_track_find(small[3], &info));
    uint32_t stack = info.stack;
    ck_assert_uint_ne(stack, 0);
    ck_assert_int_eq(info.size, 31);
    ck_assert_int_eq(info.pool_id, 0);
    ck_assert(tally_track_find(big, &info));
    ck_assert_uint_ne(info.stack, stack);
    for (int i = 0; i < N; i += 2) {
        ck_assert(tally_track_free(small[i], &info));
        ck_assert_uint_eq(info.stack, stack);
        ck_assert_int_eq(info.size, 16 + i * 5);
        ck_assert(!tally_track_find(small[i], NULL));
        free(small[i]);
    }
    for (int i = 1; i < N; i += 2)
        live += 16 + i * 5;
    uintptr_t start;
    ck_assert(tally_track_find_containing(small[5] + 20, &start, &info));
    ck_assert_uint_eq(start, (uintptr_t)small[5]);
    ck_assert_uint_eq(info.stack, stack);
    /* 51 bytes and up: the stack in the map's own entries (shadow.h). */
    ck_assert(tally_track_find_containing(small[9] + 40, &start, &info));
    ck_assert_uint_eq(start, (uintptr_t)small[9]);
    ck_assert_uint_eq(info.stack, stack);
    ck_assert_int_eq(info.size, 61);
    ck_assert(!tally_track_find(small[9] + 16, NULL)); /* its stack's bits are no block */
    ck_assert(!tally_track_find(small[9] + 32, NULL));
    ck_assert(tally_track_find_containing(mid + TT_SHADOW_STACK_MAX - 1, &start, &info));
    ck_assert_uint_eq(start, (uintptr_t)mid);
    ck_assert_int_eq(info.size, TT_SHADOW_STACK_MAX);
    ck_assert_uint_ne(info.stack, 0);
    ck_assert_uint_ne(info.stack, stack);

    prof_profile *p = dump_and_read();
    const prof_record *r = record_in(p, 0, "shadowed_site");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->stack_id, stack);
    ck_assert_int_eq(r->live_bytes, live);
    ck_assert_int_eq(r->live_count, N / 2);
    ck_assert_int_eq(r->total_bytes, total);
    ck_assert_int_eq(r->total_count, N);
    ck_assert_int_eq(r->peak_bytes, total);
    const prof_leak *g = leak_group(p, stack);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->bytes, live);
    ck_assert_int_eq(g->count, N / 2);
    ck_assert_ptr_nonnull(leak_group(p, record_in(p, 0, "tabled_site")->stack_id));
    prof_free(p);
    for (int i = 1; i < N; i += 2) {
        ck_assert(tally_track_free(small[i], NULL));
        free(small[i]);
    }
    ck_assert(tally_track_free(big, NULL));
    free(big);
    ck_assert(tally_track_free(mid, &info));
    ck_assert_int_eq(info.size, TT_SHADOW_STACK_MAX);
    free(mid);
    unlink(test_profile);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("track");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, leaks_named_in_profile_and_summary);
    tcase_add_test(tc, peak_belongs_to_big);
    tcase_add_test(tc, small_peak_settles_before_free);
    tcase_add_test(tc, peak_sites_match_a_model);
    tcase_add_test(tc, peak_sites_match_a_model_many_stacks);
    tcase_add_test(tc, threads_in_turn_keep_exact_books);
    tcase_add_test(tc, scopes_nest);
    tcase_add_test(tc, scopes_are_per_thread);
    tcase_add_test(tc, destroyed_pool_lists_live_blocks);
    tcase_add_test(tc, wide_blocks_read_back_whole);
    tcase_add_test(tc, failed_write_warns_once);
    tcase_add_test(tc, dump_before_start_is_refused);
    tcase_add_test(tc, child_tracks_into_its_own_file);
    tcase_add_test(tc, full_run_shadows_small_blocks_with_their_stacks);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
