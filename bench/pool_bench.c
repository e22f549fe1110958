/* pool_bench: the cost of a pool's books over raw mimalloc.
 *
 * 10M allocate/free pairs, sizes 8..4096 bytes, 64-byte aligned, through
 * tally_pool_allocate on the mimalloc pool and, in the same run, through
 * mi_malloc_aligned/mi_free. Rounds alternate between the two so that both
 * see the same machine noise; the medians and their ratio are printed. */
#include <tally/pool.h>

#include <mimalloc.h>
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

static double run_raw(long pairs)
{
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        uint32_t n = sizes[i & (N_SIZES - 1)];
        uint8_t *p = mi_malloc_aligned(n, 64);
        *(volatile uint8_t *)p = 1;
        mi_free(p);
    }
    return (now_ns() - t0) / pairs;
}

static double run_pool(tally_pool *pool, long pairs)
{
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        uint32_t n = sizes[i & (N_SIZES - 1)];
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

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : PAIRS;
    tally_pool *pool = tally_mimalloc_pool();
    if (!pool) {
        fprintf(stderr, "pool_bench: the mimalloc backend is not available\n");
        return 1;
    }
    srand(42);
    for (int i = 0; i < N_SIZES; i++)
        sizes[i] = 8 + (uint32_t)(rand() % 4089);

    run_raw(pairs / 10); /* warm both paths up */
    run_pool(pool, pairs / 10);
    double raw[ROUNDS], pooled[ROUNDS], ratio[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        raw[r] = run_raw(pairs);
        pooled[r] = run_pool(pool, pairs);
        ratio[r] = pooled[r] / raw[r];
        if (getenv("TALLY_BENCH_VERBOSE"))
            fprintf(stderr, "  round %d: raw %.2f pool %.2f\n", r, raw[r], pooled[r]);
    }
    qsort(raw, ROUNDS, sizeof(double), cmp_double);
    qsort(pooled, ROUNDS, sizeof(double), cmp_double);
    qsort(ratio, ROUNDS, sizeof(double), cmp_double);
    printf("pool_bench: %ld allocate/free pairs, sizes 8..4096, %d rounds (medians)\n", pairs,
           ROUNDS);
    printf("  raw mi_malloc_aligned/mi_free   %7.2f ns/pair\n", raw[ROUNDS / 2]);
    printf("  tally_pool_allocate (mimalloc)  %7.2f ns/pair\n", pooled[ROUNDS / 2]);
    printf("  ratio pool/raw                  %7.3f  (target <= 1.15)\n", ratio[ROUNDS / 2]);
    if (tally_pool_bytes_allocated(pool) != 0) {
        fprintf(stderr, "pool_bench: books do not balance\n");
        return 1;
    }
    return 0;
}
