/* unwind_prog.c: stacks that tally's unwinder must get right, for
 * tests/shim/test_shim_unwind.sh (run with TALLY_UNWIND=check, which
 * compares every capture with libunwind's).
 *
 *   unwind_prog N
 *
 * N allocations from varied stacks: recursion of varying depth through
 * functions with and without frame pointers, alloca of varying sizes at
 * the same call sites (the stack cache's blind spot), calls from a signal
 * handler's frame, and from a second thread. Prints the sum of what it
 * allocated, so that a run is checked for the same output. */
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long total;
static unsigned seed = 12345;

static unsigned next_rand(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

static __attribute__((noinline)) void leaf(size_t n)
{
    char *p = malloc(n);
    if (p) {
        memset(p, 1, n);
        total += n;
    }
    free(p);
}

/* Frame pointer or not, alternately, so that both kinds of CFA rule occur. */
static __attribute__((noinline, optimize("no-omit-frame-pointer"))) void down_fp(int depth,
                                                                                 size_t grow);
static __attribute__((noinline, optimize("omit-frame-pointer"))) void down_sp(int depth,
                                                                              size_t grow)
{
    volatile char pad[24];
    pad[0] = (char)depth;
    if (depth <= 0)
        leaf(16 + grow % 200);
    else
        down_fp(depth - 1, grow);
    (void)pad[0];
}

static __attribute__((noinline, optimize("no-omit-frame-pointer"))) void down_fp(int depth,
                                                                                 size_t grow)
{
    /* A frame whose size differs from one call to the next at the same pc. */
    char *a = alloca(grow % 512 + 1);
    a[0] = (char)depth;
    if (depth <= 0)
        leaf(32 + grow % 300);
    else
        down_sp(depth - 1, grow);
    __asm__ volatile("" : : "r"(a) : "memory");
}

static void on_signal(int sig)
{
    (void)sig;
    down_sp(3, 7); /* malloc in a handler: the unwind crosses the signal frame */
}

static void *second_thread(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++)
        down_fp((int)(next_rand() % 20), next_rand());
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    signal(SIGUSR1, on_signal);
    for (int i = 0; i < n; i++) {
        unsigned r = next_rand();
        down_sp((int)(r % 40), r >> 8);
        if (i % 1000 == 0)
            raise(SIGUSR1);
    }
    pthread_t t;
    int m = n / 4;
    if (pthread_create(&t, NULL, second_thread, &m) == 0)
        pthread_join(t, NULL);
    printf("%llu\n", total);
    return 0;
}
