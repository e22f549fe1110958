/* track_bench: what tracking costs per allocate/free pair.
 *
 * 5M pairs of random sizes (8..4096 bytes) from two call sites about ten
 * frames deep, four ways in one run: through tally_pool_allocate on the
 * mimalloc pool with tracking off, with full tracking (a stack for every
 * allocation), with sampling (mean 512 KiB), and raw mi_malloc_aligned /
 * mi_free. With 1 and with 2 threads (each thread does the full count; the
 * figure is wall time over all pairs). Rounds alternate the ways so that all
 * see the same machine noise; medians and ratios to raw are printed.
 *
 *   bench/track_bench [pairs] [rounds] [way]   TALLY_UNWIND=fp: frame pointers
 * A way (off, full, sampled, raw) runs that way alone, 1 thread, for profiling. */
#include <tally/tally.h>

#include <mimalloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_SIZES 65536
#define BATCH 1024 /* pairs per descent to a call site */
#define DEPTH 8    /* chain frames above each site: ~10 with the site and the loop */

enum { OFF, FULL, SAMPLED, RAW, NWAYS };
static const char *way_names[NWAYS] = {"off", "full", "sampled", "raw"};

static uint32_t sizes[N_SIZES];
static long pairs_per_thread;
static int way;
static tally_pool *pool;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* The two call sites: the same loop, distinct return addresses. */
#define SITE(name)                                                                                 \
    __attribute__((noinline)) static void name(long start, long n)                                 \
    {                                                                                              \
        for (long i = start; i < start + n; i++) {                                                 \
            uint32_t sz = sizes[i & (N_SIZES - 1)];                                                \
            if (way == RAW) {                                                                      \
                uint8_t *p = mi_malloc_aligned(sz, 64);                                            \
                *(volatile uint8_t *)p = 1;                                                        \
                mi_free(p);                                                                        \
            } else {                                                                               \
                uint8_t *p;                                                                        \
                if (tally_pool_allocate(pool, sz, &p) != 0)                                        \
                    abort();                                                                       \
                *(volatile uint8_t *)p = 1;                                                        \
                tally_pool_free(pool, p, sz);                                                      \
            }                                                                                      \
        }                                                                                          \
        __asm__ volatile("" ::: "memory");                                                         \
    }
SITE(site_a)
SITE(site_b)

__attribute__((noinline)) static void chain(int depth, int which, long start, long n)
{
    if (depth > 0)
        chain(depth - 1, which, start, n);
    else if (which)
        site_b(start, n);
    else
        site_a(start, n);
    __asm__ volatile("" ::: "memory"); /* no tail call: keep the frames */
}

static void *worker(void *arg)
{
    long seed = (long)(intptr_t)arg;
    for (long done = 0; done < pairs_per_thread; done += BATCH)
        chain(DEPTH, (int)((done / BATCH) & 1), seed + done, BATCH);
    return NULL;
}

static double run(int w, int threads)
{
    way = w;
    if (w == FULL || w == SAMPLED) {
        tally_track_options o = {.sample_bytes = w == SAMPLED ? 512 * 1024 : 0,
                                 .output = "/tmp/track_bench.%p.prof",
                                 .interval_ms = 10};
        if (tally_track_start(&o) != 0)
            abort();
    }
    pthread_t th[2];
    double t0 = now_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)(i * 7919));
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double ns = (now_ns() - t0) / ((double)pairs_per_thread * threads);
    if (w == FULL || w == SAMPLED)
        tally_track_stop();
    return ns;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : 5000000L;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds > 15)
        rounds = 15;
    pairs_per_thread = pairs;
    setenv("TALLY_REPORT", "none", 0);
    srand(42);
    for (int i = 0; i < N_SIZES; i++)
        sizes[i] = 8 + (uint32_t)(rand() % 4089);
    pool = tally_mimalloc_pool();
    if (argc > 3) {
        for (int w = 0; w < NWAYS; w++)
            if (strcmp(argv[3], way_names[w]) == 0)
                printf("%s: %.1f ns per pair\n", way_names[w], run(w, 1));
        return 0;
    }
    const char *unwind = getenv("TALLY_UNWIND");
    printf("track_bench: %ld pairs per thread, sizes 8..4096, %d rounds, unwind %s\n", pairs,
           rounds, unwind && strcmp(unwind, "fp") == 0 ? "fp" : "libunwind");

    double med[3][NWAYS];
    for (int threads = 1; threads <= 2; threads++) {
        double t[NWAYS][15];
        for (int r = 0; r < rounds; r++)
            for (int w = 0; w < NWAYS; w++)
                t[w][r] = run(w, threads);
        for (int w = 0; w < NWAYS; w++) {
            qsort(t[w], (size_t)rounds, sizeof(double), cmp_double);
            med[threads][w] = t[w][rounds / 2];
        }
        printf("\n%d thread%s  (ns per pair, median; ratio to raw mimalloc)\n", threads,
               threads == 1 ? "" : "s");
        for (int w = 0; w < NWAYS; w++)
            printf("  %-8s %8.1f ns  %6.2fx\n", way_names[w], med[threads][w],
                   med[threads][w] / med[threads][RAW]);
    }
    printf("\n2 threads / 1 thread throughput:");
    for (int w = 0; w < NWAYS; w++)
        printf("  %s %.2fx", way_names[w], med[1][w] / med[2][w]);
    printf("\n");
    return 0;
}
