/* test_pool_wrappers: logging, proxy, capped and debug pools. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check_main.h"

START_TEST(test_logging_pool_lines)
{
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    tally_pool *pool = tally_logging_pool_new(tally_mimalloc_pool(), log);
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate_aligned(pool, 100, 256, &p), 0);
    ck_assert_int_eq(tally_pool_reallocate_aligned(pool, 100, 5000, 256, &p), 0);
    ck_assert(((uintptr_t)p & 255) == 0); /* alignment forwarded on reallocate */
    uint8_t *q = (uint8_t *)0x1;
    ck_assert_int_eq(tally_pool_allocate(pool, INT64_MAX / 4, &q), ENOMEM);
    tally_pool_free_aligned(pool, p, 5000, 256);
    fflush(log);
    ck_assert_msg(strstr(text, "allocate size=100 alignment=256 -> 0x"), "%s", text);
    ck_assert_msg(strstr(text, "old_size=100 new_size=5000 alignment=256 -> 0x"), "%s", text);
    ck_assert_msg(strstr(text, "free 0x"), "%s", text);
    ck_assert_msg(strstr(text, "size=5000 alignment=256\n"), "%s", text);
    ck_assert_msg(strstr(text, "Cannot allocate memory"), "%s", text);
    int lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(lines, 4);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    ck_assert_int_eq(tally_pool_max_memory(pool), 5000);
    tally_pool_destroy(pool);
    fclose(log);
    free(text);
}
END_TEST

START_TEST(test_proxy_pool_books)
{
    tally_pool *parent = tally_proxy_pool_new(tally_mimalloc_pool(), "parent");
    tally_pool *proxy = tally_proxy_pool_new(parent, "child");
    ck_assert_str_eq(tally_pool_name(proxy), "child");
    ck_assert_str_eq(tally_pool_backend_name(proxy), "mimalloc");
    ck_assert_int_ne(tally_pool_id(proxy), tally_pool_id(parent));
    uint8_t *a, *b;
    ck_assert_int_eq(tally_pool_allocate(parent, 100, &a), 0);
    ck_assert_int_eq(tally_pool_allocate(proxy, 300, &b), 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(parent), 400);
    ck_assert_int_eq(tally_pool_bytes_allocated(proxy), 300);
    ck_assert_int_eq(tally_pool_num_allocations(parent), 2);
    ck_assert_int_eq(tally_pool_num_allocations(proxy), 1);
    tally_pool_free(proxy, b, 300);
    tally_pool_free(parent, a, 100);
    ck_assert_int_eq(tally_pool_bytes_allocated(parent), 0);
    ck_assert_int_eq(tally_pool_max_memory(parent), 400);
    ck_assert_int_eq(tally_pool_max_memory(proxy), 300);
    tally_pool_destroy(proxy);
    tally_pool_destroy(parent);
}
END_TEST

START_TEST(test_capped_pool_limit_is_inclusive)
{
    tally_pool *cap = tally_capped_pool_new(NULL, 1000);
    uint8_t *a, *b, *c = (uint8_t *)0x1;
    ck_assert_int_eq(tally_pool_allocate(cap, 600, &a), 0);
    ck_assert_int_eq(tally_pool_allocate(cap, 400, &b), 0); /* exactly at the limit */
    ck_assert_int_eq(tally_pool_allocate(cap, 1, &c), ENOMEM);
    ck_assert_ptr_eq(c, (uint8_t *)0x1);
    ck_assert_int_eq(tally_pool_bytes_allocated(cap), 1000);
    ck_assert_int_eq(tally_pool_num_allocations(cap), 2);
    ck_assert_int_eq(tally_pool_total_bytes_allocated(cap), 1000);
    /* Growing past the limit fails and keeps the block. */
    memset(a, 7, 600);
    uint8_t *old = a;
    ck_assert_int_eq(tally_pool_reallocate(cap, 600, 601, &a), ENOMEM);
    ck_assert_ptr_eq(a, old);
    ck_assert_int_eq(a[599], 7);
    /* Shrinking at the limit always succeeds. */
    ck_assert_int_eq(tally_pool_reallocate(cap, 600, 100, &a), 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(cap), 500);
    ck_assert_int_eq(tally_pool_reallocate(cap, 100, 600, &a), 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(cap), 1000);
    tally_pool_free(cap, a, 600);
    tally_pool_free(cap, b, 400);
    ck_assert_int_eq(tally_pool_bytes_allocated(cap), 0);
    ck_assert_ptr_null(tally_capped_pool_new(NULL, -1));
    tally_pool_destroy(cap);
}
END_TEST

#define CAP_LIMIT 40000
static _Atomic int64_t worst_seen;
static _Atomic int64_t refusals;

static void *hammer(void *arg)
{
    tally_pool *cap = arg;
    unsigned seed = (unsigned)(uintptr_t)pthread_self();
    uint8_t *held[32] = {0};
    int64_t sizes[32];
    for (int i = 0; i < 200000; i++) {
        int slot = rand_r(&seed) % 32;
        if (held[slot]) {
            tally_pool_free(cap, held[slot], sizes[slot]);
            held[slot] = NULL;
            continue;
        }
        sizes[slot] = 1 + rand_r(&seed) % 2000;
        if (tally_pool_allocate(cap, sizes[slot], &held[slot]) != 0) {
            held[slot] = NULL;
            atomic_fetch_add(&refusals, 1);
        }
        int64_t now = tally_pool_bytes_allocated(cap);
        int64_t worst = atomic_load(&worst_seen);
        while (now > worst && !atomic_compare_exchange_weak(&worst_seen, &worst, now))
            ;
    }
    for (int slot = 0; slot < 32; slot++)
        if (held[slot])
            tally_pool_free(cap, held[slot], sizes[slot]);
    return NULL;
}

START_TEST(test_capped_pool_threads_never_pass_limit)
{
    /* 4 threads could hold up to 4*32*2000 = 256000 bytes: far over the cap. */
    tally_pool *cap = tally_capped_pool_new(NULL, CAP_LIMIT);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, cap);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_le(atomic_load(&worst_seen), CAP_LIMIT);
    ck_assert_int_le(tally_pool_max_memory(cap), CAP_LIMIT);
    ck_assert_int_gt(atomic_load(&refusals), 0); /* the limit really was pressed */
    ck_assert_int_eq(tally_pool_bytes_allocated(cap), 0);
    tally_pool_destroy(cap);
}
END_TEST

START_TEST(test_debug_pool_overrun_warns)
{
    tally_pool *dbg = tally_debug_pool_new(tally_mimalloc_pool(), TALLY_DEBUG_WARN);
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(dbg, 10, &p), 0);
    ck_assert(((uintptr_t)p & 63) == 0);
    p[10] = 'x'; /* one past the end: lands in the guard */
    stderr_capture cap;
    capture_stderr(&cap);
    tally_pool_free(dbg, p, 10);
    ck_assert_str_eq(captured_stderr(&cap), "tally: heap overrun after block of 10 bytes\n");
    ck_assert_int_eq(tally_pool_bytes_allocated(dbg), 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(tally_mimalloc_pool()), 0);
    tally_pool_destroy(dbg);
}
END_TEST

START_TEST(test_debug_pool_wrong_size_warns)
{
    tally_pool *dbg = tally_debug_pool_new(tally_mimalloc_pool(), TALLY_DEBUG_WARN);
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate_aligned(dbg, 100, 8, &p), 0);
    stderr_capture cap;
    capture_stderr(&cap);
    tally_pool_free_aligned(dbg, p, 64, 8);
    ck_assert_str_eq(captured_stderr(&cap),
                     "tally: wrong size on deallocation: given 64, actual 100\n");
    /* The real size was released: the books balance. */
    ck_assert_int_eq(tally_pool_bytes_allocated(dbg), 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(tally_mimalloc_pool()), 0);
    tally_pool_destroy(dbg);
}
END_TEST

START_TEST(test_debug_pool_clean_use_is_silent_and_keeps_data)
{
    tally_pool *dbg = tally_debug_pool_new(tally_system_pool(), TALLY_DEBUG_ABORT);
    uint8_t *p;
    stderr_capture cap;
    capture_stderr(&cap);
    ck_assert_int_eq(tally_pool_allocate_aligned(dbg, 100, 128, &p), 0);
    ck_assert(((uintptr_t)p & 127) == 0);
    memset(p, 3, 100);
    ck_assert_int_eq(tally_pool_reallocate_aligned(dbg, 100, 1000, 128, &p), 0);
    ck_assert(((uintptr_t)p & 127) == 0);
    ck_assert_int_eq(p[99], 3);
    memset(p, 4, 1000);
    ck_assert_int_eq(tally_pool_reallocate_aligned(dbg, 1000, 10, 128, &p), 0);
    ck_assert_int_eq(p[9], 4);
    ck_assert_int_eq(tally_pool_bytes_allocated(dbg), 10);
    tally_pool_free_aligned(dbg, p, 10, 128);
    ck_assert_str_eq(captured_stderr(&cap), "");
    ck_assert_int_eq(tally_pool_bytes_allocated(dbg), 0);
    ck_assert_int_eq(tally_pool_max_memory(dbg), 1000);
    tally_pool_destroy(dbg);
}
END_TEST

START_TEST(test_debug_pool_poisons_freed_memory)
{
    /* A proxy parent keeps the freed block in a pool we control: the debug
     * pool poisons before handing it back, so check through a parent that
     * delays the real free. */
    tally_pool *dbg = tally_debug_pool_new(tally_mimalloc_pool(), TALLY_DEBUG_WARN);
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(dbg, 4096, &p), 0);
    memset(p, 0x11, 4096);
    tally_pool_free(dbg, p, 4096);
    /* mimalloc keeps the freed block mapped and only writes its free-list link
     * at the block's start, which is the debug header, not the user bytes. */
    int poisoned = 0;
    for (int i = 64; i < 4096; i++)
        poisoned += p[i] == 0xdd;
    ck_assert_int_eq(poisoned, 4096 - 64);
    tally_pool_destroy(dbg);
}
END_TEST

START_TEST(test_debug_pool_abort)
{
    tally_pool *dbg = tally_debug_pool_new(NULL, TALLY_DEBUG_ABORT);
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(dbg, 10, &p), 0);
    p[12] = 0;
    tally_pool_free(dbg, p, 10); /* raises SIGABRT */
}
END_TEST

START_TEST(test_debug_pool_trap)
{
    tally_pool *dbg = tally_debug_pool_new(NULL, TALLY_DEBUG_TRAP);
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(dbg, 10, &p), 0);
    tally_pool_free(dbg, p, 11); /* raises SIGTRAP */
}
END_TEST

START_TEST(test_debug_pool_from_env)
{
    setenv("TALLY_DEBUG_POOL", "warn", 1);
    ck_assert_str_eq(tally_pool_name(NULL), "debug(mimalloc)");
    ck_assert_str_eq(tally_pool_backend_name(NULL), "mimalloc");
    uint8_t *p;
    ck_assert_int_eq(tally_pool_allocate(NULL, 16, &p), 0);
    p[16] = 1;
    stderr_capture cap;
    capture_stderr(&cap);
    tally_pool_free(NULL, p, 16);
    ck_assert_str_eq(captured_stderr(&cap), "tally: heap overrun after block of 16 bytes\n");
}
END_TEST

START_TEST(test_debug_pool_env_invalid)
{
    setenv("TALLY_DEBUG_POOL", "loud", 1);
    stderr_capture cap;
    capture_stderr(&cap);
    const char *name = tally_pool_name(NULL);
    ck_assert_str_eq(captured_stderr(&cap),
                     "tally: invalid TALLY_DEBUG_POOL 'loud' (valid: abort, trap, warn, none)\n");
    ck_assert_str_eq(name, "mimalloc");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool_wrappers");
    TCase *tc = tcase_create("wrappers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_logging_pool_lines);
    tcase_add_test(tc, test_proxy_pool_books);
    tcase_add_test(tc, test_capped_pool_limit_is_inclusive);
    tcase_add_test(tc, test_capped_pool_threads_never_pass_limit);
    tcase_add_test(tc, test_debug_pool_overrun_warns);
    tcase_add_test(tc, test_debug_pool_wrong_size_warns);
    tcase_add_test(tc, test_debug_pool_clean_use_is_silent_and_keeps_data);
    tcase_add_test(tc, test_debug_pool_poisons_freed_memory);
    tcase_add_test_raise_signal(tc, test_debug_pool_abort, SIGABRT);
    tcase_add_test_raise_signal(tc, test_debug_pool_trap, SIGTRAP);
    tcase_add_test(tc, test_debug_pool_from_env);
    tcase_add_test(tc, test_debug_pool_env_invalid);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
