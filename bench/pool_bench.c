/* pool_bench: the cost of a pool's books over raw mimalloc.
 *
 * 10M allocate/free pairs, sizes 8..4096 bytes, 64-byte aligned, through
 * tally_pool_allocate on the mimalloc pool and, in the same run, through
 * mi_malloc_aligned/mi_free. Rounds alternate between the two so that both
 * see the same machine noise; the medians and their ratio are printed.
 *
 * Then the same with 2 threads, both allocating through the same pool (and
 * both through mimalloc): each thread does all the pairs, ns per pair is the
 * wall time over all pairs, and 2T/1T is the gain in throughput. A pool whose
 * books bounced one cache line between the cores would fall below 1x.
 *
 * The target's peer is mi_malloc_aligned, what an Arrow-style pool over
 * mimalloc calls. tally's mimalloc pool gets its 64-byte alignment more
 * cheaply, from mi_malloc of the size rounded up to 64 (lib/backend/
 * mimalloc.c), so one more row, on 1 thread, times that same mimalloc call
 * raw: the pool's own cost, its books and checks, is the ratio against it.
 *
 *   bench/pool_bench [pairs] [threads]   threads: 1 or 2 only (default both) */
#include <tally/pool.h>

#include <mimalloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PAIRS 10000000L
#define ROUNDS 7
#define N_SIZES 65536

static uint32_t sizes[N_SIZES];

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static double run_raw(long pairs, long offset)
{
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        uint32_t n = sizes[(i + offset) & (N_SIZES - 1)];
        uint8_t *p = mi_malloc_aligned(n, 64);
        *(volatile uint8_t *)p = 1;
        mi_free(p);
    }
    return (now_ns() - t0) / pairs;
}

static double run_rounded(long pairs, long offset)
{
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        uint32_t n = sizes[(i + offset) & (N_SIZES - 1)];
        uint8_t *p = mi_malloc((n + 63) & ~63u);
        *(volatile uint8_t *)p = 1;
        mi_free(p);
    }
    return (now_ns() - t0) / pairs;
}

static double run_pool(tally_pool *pool, long pairs, long offset)
{
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        uint32_t n = sizes[(i + offset) & (N_SIZES - 1)];
        uint8_t *p;
        if (tally_pool_allocate(pool, n, &p) != 0)
            abort();
        *(volatile uint8_t *)p = 1;
        tally_pool_free(pool, p, n);
    }
    return (now_ns() - t0) / pairs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

typedef struct {
    tally_pool *pool; /* NULL: raw mimalloc */
    long pairs, offset;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    if (j->pool)
        run_pool(j->pool, j->pairs, j->offset);
    else
        run_raw(j->pairs, j->offset);
    return NULL;
}

/* ns per pair over all threads' pairs, by wall time. */
static double run_threads(tally_pool *pool, long pairs, int threads)
{
    pthread_t th[2];
    job jobs[2];
    double t0 = now_ns();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){pool, pairs, i * 7919L};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    return (now_ns() - t0) / ((double)pairs * threads);
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : PAIRS;
    int only = argc > 2 ? atoi(argv[2]) : 0;
    if (only < 0 || only > 2)
        only = 0;
    tally_pool *pool = tally_mimalloc_pool();
    if (!pool) {
        fprintf(stderr, "pool_bench: the mimalloc backend is not available\n");
        return 1;
    }
    srand(42);
    for (int i = 0; i < N_SIZES; i++)
        sizes[i] = 8 + (uint32_t)(rand() % 4089);

    run_raw(pairs / 10, 0); /* warm both paths up */
    run_pool(pool, pairs / 10, 0);
    bool verbose = getenv("TALLY_BENCH_VERBOSE") != NULL;
    double raw[2][ROUNDS], pooled[2][ROUNDS], ratio[2][ROUNDS], med_raw[2], med_pool[2];
    double rounded[ROUNDS], own[ROUNDS];
    for (int threads = 1; threads <= 2; threads++) {
        if (only && threads != only)
            continue;
        int t = threads - 1;
        for (int r = 0; r < ROUNDS; r++) {
            raw[t][r] = run_threads(NULL, pairs, threads);
            pooled[t][r] = run_threads(pool, pairs, threads);
            ratio[t][r] = pooled[t][r] / raw[t][r];
            if (threads == 1) {
                rounded[r] = run_rounded(pairs, 0);
                own[r] = pooled[t][r] / rounded[r];
            }
            if (verbose)
                fprintf(stderr, "  %dT round %d: raw %.2f pool %.2f\n", threads, r, raw[t][r],
                        pooled[t][r]);
        }
        med_raw[t] = median(raw[t], ROUNDS);
        med_pool[t] = median(pooled[t], ROUNDS);
        printf("pool_bench: %ld allocate/free pairs per thread, %d thread%s, sizes 8..4096, "
               "%d rounds (medians)\n",
               pairs, threads, threads == 1 ? "" : "s", ROUNDS);
        printf("  raw mi_malloc_aligned/mi_free   %7.2f ns/pair\n", med_raw[t]);
        printf("  tally_pool_allocate (mimalloc)  %7.2f ns/pair\n", med_pool[t]);
        double r = median(ratio[t], ROUNDS);
        printf("  ratio pool/raw                  %7.3f%s\n", r,
               threads > 1 ? ""
               : r <= 1.15 ? "  (target <= 1.15: met)"
                           : "  (target <= 1.15: MISSED)");
        if (threads == 1) {
            printf("  raw mi_malloc(size rounded to 64) %5.2f ns/pair\n", median(rounded, ROUNDS));
            printf("  ratio pool/that                 %7.3f  (the pool's own cost)\n",
                   median(own, ROUNDS));
        }
    }
    if (!only)
        printf("2 threads / 1 thread throughput: raw %.2fx  pool %.2fx\n", med_raw[0] / med_raw[1],
               med_pool[0] / med_pool[1]);
    if (tally_pool_bytes_allocated(pool) != 0) {
        fprintf(stderr, "pool_bench: books do not balance\n");
        return 1;
    }
    return 0;
}
