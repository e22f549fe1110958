/* builder_bench: the cost of a builder over storing into a plain array.
 *
 * Appends 10M int64 values through tally_builder_append_int, and in the
 * same run stores the same values into a preallocated int64_t array: the
 * limit. The bulk path is measured against its own limit: append_values of
 * the whole source against memcpy of it into the preallocated array, and
 * the same in cache-resident batches of 4096. Rounds alternate so that all
 * see the same machine noise; medians and their ratios are printed.
 *
 * The builder is reset between rounds (reset keeps the capacity), so, like
 * the preallocated array, it is measured warm; a cold run (a new builder,
 * growth from 32 by doubling, and finish) is printed for reference. */
#include <tally/tally.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VALUES 10000000L
#define ROUNDS 9

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* The limit: a loop of stores the compiler may not elide. */
__attribute__((noinline)) static double run_raw(int64_t *dst, long n)
{
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        dst[i] = i * 3;
    __asm__ volatile("" : : "r"(dst) : "memory");
    return (now_ns() - t0) / n;
}

__attribute__((noinline)) static double run_append(tally_builder *b, long n)
{
    tally_builder_reset(b);
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (tally_builder_append_int(b, i * 3) != 0)
            abort();
    return (now_ns() - t0) / n;
}

__attribute__((noinline)) static double run_memcpy(int64_t *dst, const int64_t *src, long n)
{
    double t0 = now_ns();
    memcpy(dst, src, (size_t)n * sizeof *dst);
    __asm__ volatile("" : : "r"(dst) : "memory");
    return (now_ns() - t0) / n;
}

__attribute__((noinline)) static double run_bulk(tally_builder *b, const int64_t *src, long n)
{
    tally_builder_reset(b);
    double t0 = now_ns();
    if (tally_builder_append_values(b, src, NULL, n) != 0)
        abort();
    return (now_ns() - t0) / n;
}

/* Bulk appends as a parser would make them: the values of each batch are
 * produced into a small, cache-resident array, then appended in one call (or,
 * for the limit, copied into the preallocated array). */
#define BATCH 4096
static int64_t batch[BATCH];

static long fill_batch(long base, long n)
{
    long m = n - base < BATCH ? n - base : BATCH;
    for (long j = 0; j < m; j++)
        batch[j] = (base + j) * 3;
    return m;
}

__attribute__((noinline)) static double run_batched_raw(int64_t *dst, long n)
{
    double t0 = now_ns();
    for (long base = 0; base < n; base += BATCH) {
        long m = fill_batch(base, n);
        memcpy(dst + base, batch, (size_t)m * sizeof *dst);
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    return (now_ns() - t0) / n;
}

__attribute__((noinline)) static double run_batched(tally_builder *b, long n)
{
    tally_builder_reset(b);
    double t0 = now_ns();
    for (long base = 0; base < n; base += BATCH) {
        long m = fill_batch(base, n);
        if (tally_builder_append_values(b, batch, NULL, m) != 0)
            abort();
    }
    return (now_ns() - t0) / n;
}

static double run_cold(long n)
{
    double t0 = now_ns();
    tally_builder *b;
    tally_array *a;
    if (tally_builder_new(TALLY_TYPE_INT64, NULL, &b) != 0)
        abort();
    for (long i = 0; i < n; i++)
        if (tally_builder_append_int(b, i * 3) != 0)
            abort();
    if (tally_builder_finish(b, &a) != 0)
        abort();
    double t = (now_ns() - t0) / n;
    tally_array_release(a);
    tally_builder_destroy(b);
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double sorted[ROUNDS];
    memcpy(sorted, v, (size_t)n * sizeof *v);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
    return sorted[n / 2];
}

enum { RAW, APPEND, MEMCPY, BULK, BATCHED_RAW, BATCHED, COLD, N_RUNS };

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : VALUES;
    if (n <= 0) {
        fprintf(stderr, "usage: builder_bench [values]\n");
        return 1;
    }
    int64_t *dst = malloc((size_t)n * sizeof *dst), *src = malloc((size_t)n * sizeof *src);
    tally_builder *b;
    if (!dst || !src || tally_builder_new(TALLY_TYPE_INT64, NULL, &b) != 0) {
        fprintf(stderr, "builder_bench: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        src[i] = i * 3;

    /* Warm up: fault the array in and grow the builder to its capacity. */
    run_raw(dst, n);
    run_append(b, n);

    double t[N_RUNS][ROUNDS], append_ratio[ROUNDS], bulk_ratio[ROUNDS], batched_ratio[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        t[RAW][r] = run_raw(dst, n);
        t[APPEND][r] = run_append(b, n);
        t[MEMCPY][r] = run_memcpy(dst, src, n);
        t[BULK][r] = run_bulk(b, src, n);
        t[BATCHED_RAW][r] = run_batched_raw(dst, n);
        t[BATCHED][r] = run_batched(b, n);
        t[COLD][r] = run_cold(n);
        append_ratio[r] = t[APPEND][r] / t[RAW][r];
        bulk_ratio[r] = t[BULK][r] / t[MEMCPY][r];
        batched_ratio[r] = t[BATCHED][r] / t[BATCHED_RAW][r];
        if (getenv("TALLY_BENCH_VERBOSE")) {
            fprintf(stderr, "  round %d:", r);
            for (int k = 0; k < N_RUNS; k++)
                fprintf(stderr, " %.3f", t[k][r]);
            fprintf(stderr, "\n");
        }
    }
    if (tally_builder_length(b) != n) {
        fprintf(stderr, "builder_bench: wrong length\n");
        return 1;
    }
    double raw = median(t[RAW], ROUNDS);
    printf("builder_bench: %ld int64 values, %d rounds, medians in ns/value\n", n, ROUNDS);
    printf("  per value:  raw store into int64_t[]      %6.3f\n", raw);
    printf("              tally_builder_append_int      %6.3f   ratio %.2f  (target <= 3)\n",
           median(t[APPEND], ROUNDS), median(append_ratio, ROUNDS));
    printf("  bulk:       memcpy into int64_t[]         %6.3f\n", median(t[MEMCPY], ROUNDS));
    printf("              tally_builder_append_values   %6.3f   ratio %.2f  (target <= 1.2)\n",
           median(t[BULK], ROUNDS), median(bulk_ratio, ROUNDS));
    printf("  batches of %d: memcpy into int64_t[]    %6.3f\n", BATCH,
           median(t[BATCHED_RAW], ROUNDS));
    printf("              tally_builder_append_values   %6.3f   ratio %.2f  (%.2f vs raw store)\n",
           median(t[BATCHED], ROUNDS), median(batched_ratio, ROUNDS),
           median(t[BATCHED], ROUNDS) / raw);
    printf("  cold:       new builder, append, finish   %6.3f   ratio %.2f vs raw store\n",
           median(t[COLD], ROUNDS), median(t[COLD], ROUNDS) / raw);
    tally_builder_destroy(b);
    free(dst);
    free(src);
    return 0;
}
