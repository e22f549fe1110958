/* test_mem.c: lib/base/mem.c's registry of tally's own mappings, across
 * fork, and the large tables' mappings. */
#include <config.h>

#include "check_main.h"

#include "base/mem.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

static atomic_bool stop;

/* Maps and unmaps without pause: the registry's lock is taken twice a
 * round, so a fork from another thread often comes while it is held. */
static void *churn_mappings(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        void *p = base_map(4096);
        if (p)
            base_unmap(p, 4096);
    }
    return NULL;
}

/* The child's status, or -1 when it has not exited within the seconds
 * given (it is killed then). */
static int wait_for(pid_t pid, int seconds)
{
    struct timespec nap = {0, 1000000};
    for (long waited = 0; waited < seconds * 1000L; waited++) {
        int status;
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return status;
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* A child forked while another thread of its parent held the registry's
 * lock inherited it held, by a thread it does not have: its first
 * base_map spun for good. */
START_TEST(fork_while_another_thread_maps)
{
    atomic_store(&stop, false);
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, churn_mappings, NULL), 0);
    int hung = 0, forks = 2000;
    for (int i = 0; i < forks && hung == 0; i++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            void *p = base_map(4096);
            base_range r[64];
            size_t n = base_own_ranges(r, 64);
            _exit(p != NULL && n != SIZE_MAX ? 0 : 1);
        }
        int status = wait_for(pid, 10);
        if (status == -1)
            hung = i + 1;
        else
            ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "child %d: no mapping, or the registry unreadable", i);
    }
    atomic_store(&stop, true);
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    ck_assert_msg(hung == 0, "child %d of %d hung in base_map after fork", hung, forks);
}
END_TEST

/* The registry's range that holds p, or {0, 0}. */
static base_range own_range_of(const void *p)
{
    static base_range r[4096];
    size_t n = base_own_ranges(r, 4096);
    ck_assert_uint_ne(n, SIZE_MAX);
    for (size_t k = 0; k < n; k++)
        if (r[k].lo <= (uintptr_t)p && (uintptr_t)p < r[k].hi)
            return r[k];
    return (base_range){0, 0};
}

/* A large table starts on a huge page's boundary (else no huge page backs
 * its first stretch), zeroed, whole in the registry, which forgets it when
 * it is unmapped; a small one is a plain mapping. */
START_TEST(large_tables_start_on_a_huge_page)
{
    size_t bytes = ((size_t)8 << 20) + 100;
    uint8_t *p = base_map_large(bytes);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % ((size_t)2 << 20), 0);
    for (size_t k = 0; k < bytes; k += 4096)
        ck_assert_uint_eq(p[k], 0);
    ck_assert_uint_eq(p[bytes - 1], 0);
    memset(p, 0xab, bytes);
    base_range r = own_range_of(p);
    ck_assert_uint_eq(r.lo, (uintptr_t)p);
    ck_assert_uint_eq(r.hi, (uintptr_t)p + ((bytes + BASE_PAGE - 1) & ~(BASE_PAGE - 1)));
    base_unmap(p, bytes);
    ck_assert_uint_eq(own_range_of(p).hi, 0);

    uint8_t *q = base_map_large(100000);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq((uintptr_t)q % BASE_PAGE, 0);
    ck_assert_uint_eq(own_range_of(q).lo, (uintptr_t)q);
    base_unmap(q, 100000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("fork");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fork_while_another_thread_maps);
    tcase_add_test(tc, large_tables_start_on_a_huge_page);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
