/* test_pool: the semantics of backend pools, the default pool and the books. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"

static bool aligned(const void *p, int64_t alignment)
{
    return ((uintptr_t)p & (uintptr_t)(alignment - 1)) == 0;
}

/* Every built backend pool, for tests that must hold on each. */
static int backend_pools(tally_pool **pools)
{
    int n = 0;
    for (const char *const *b = tally_supported_backends(); *b; b++)
        pools[n++] = tally_backend_pool(*b);
    return n;
}

START_TEST(test_backend_order_and_names)
{
    const char *const *names = tally_supported_backends();
    ck_assert_str_eq(names[0], "mimalloc");
    int i = 1;
#ifdef TALLY_HAVE_JEMALLOC
    ck_assert_str_eq(names[i++], "jemalloc");
    ck_assert_ptr_nonnull(tally_jemalloc_pool());
#else
    ck_assert_ptr_null(tally_jemalloc_pool());
#endif
    ck_assert_str_eq(names[i++], "system");
    ck_assert_ptr_null(names[i]);
    ck_assert_ptr_eq(tally_backend_pool("mimalloc"), tally_mimalloc_pool());
    ck_assert_ptr_eq(tally_backend_pool("system"), tally_system_pool());
    ck_assert_ptr_null(tally_backend_pool("tcmalloc"));
    ck_assert_ptr_null(tally_backend_pool(NULL));
    ck_assert_str_eq(tally_pool_backend_name(tally_system_pool()), "system");
    ck_assert_str_eq(tally_pool_backend_name(tally_mimalloc_pool()), "mimalloc");
    /* Without TALLY_DEFAULT_POOL the preferred backend is the default. */
    ck_assert_str_eq(tally_pool_backend_name(NULL), "mimalloc");
}
END_TEST

START_TEST(test_default_alignment_every_backend)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    for (int k = 0; k < n; k++)
        for (int64_t size = 1; size < 100000; size = size * 3 + 1) {
            uint8_t *p;
            ck_assert_int_eq(tally_pool_allocate(pools[k], size, &p), 0);
            ck_assert_msg(aligned(p, 64), "%s: %p not 64-aligned", tally_pool_name(pools[k]),
                          (void *)p);
            p[size - 1] = 1;
            tally_pool_free(pools[k], p, size);
        }
}
END_TEST

/* Every size up to 64 KiB, 64 blocks live at a time so that they come from
 * every position in the backend's pages: the mimalloc pool takes its default
 * alignment from mimalloc's layout, not from mi_malloc_aligned, and must
 * never hand out a block that is not 64-aligned or that is too small. */
START_TEST(test_default_alignment_every_size)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    enum { LIVE = 64, MAX = 64 * 1024 };
    for (int k = 0; k < n; k++) {
        uint8_t *ring[LIVE] = {0};
        const int64_t before = tally_pool_bytes_allocated(pools[k]);
        int64_t ring_size[LIVE] = {0}, live_bytes = before;
        for (int64_t size = 1; size <= MAX; size++) {
            int i = (int)(size % LIVE);
            if (ring[i]) {
                tally_pool_free(pools[k], ring[i], ring_size[i]);
                live_bytes -= ring_size[i];
            }
            ck_assert_int_eq(tally_pool_allocate(pools[k], size, &ring[i]), 0);
            ck_assert_msg(aligned(ring[i], 64), "%s: %lld bytes at %p, not 64-aligned",
                          tally_pool_name(pools[k]), (long long)size, (void *)ring[i]);
            ring[i][0] = 1;
            ring[i][size - 1] = 1;
            ring_size[i] = size;
            live_bytes += size;
        }
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), live_bytes);
        for (int i = 0; i < LIVE; i++)
            tally_pool_free(pools[k], ring[i], ring_size[i]);
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), before);
    }
}
END_TEST

START_TEST(test_explicit_alignment)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    const int64_t good[] = {1, 2, 8, 16, 128, 4096, 1 << 16};
    const int64_t bad[] = {0, 3, 48, 100, -64, INT64_MIN};
    for (int k = 0; k < n; k++) {
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
            uint8_t *p;
            ck_assert_int_eq(tally_pool_allocate_aligned(pools[k], 100, good[i], &p), 0);
            ck_assert(aligned(p, good[i]));
            tally_pool_free_aligned(pools[k], p, 100, good[i]);
        }
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            uint8_t *p = (uint8_t *)0x1;
            ck_assert_int_eq(tally_pool_allocate_aligned(pools[k], 100, bad[i], &p), EINVAL);
            ck_assert_ptr_eq(p, (uint8_t *)0x1);
            ck_assert_int_eq(tally_pool_reallocate_aligned(pools[k], 0, 100, bad[i], &p), EINVAL);
        }
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), 0);
    }
}
END_TEST

START_TEST(test_reallocate_keeps_alignment_and_contents)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    for (int k = 0; k < n; k++) {
        const int64_t alignment = 4096;
        uint8_t *p;
        int64_t size = 10;
        ck_assert_int_eq(tally_pool_allocate_aligned(pools[k], size, alignment, &p), 0);
        for (int64_t i = 0; i < size; i++)
            p[i] = (uint8_t)i;
        /* Grow, with other blocks in between so the block must move, then shrink. */
        uint8_t *others[16];
        for (int step = 0; step < 16; step++) {
            ck_assert_int_eq(tally_pool_allocate(pools[k], 64, &others[step]), 0);
            int64_t new_size = size * 2 + 1;
            ck_assert_int_eq(tally_pool_reallocate_aligned(pools[k], size, new_size, alignment, &p),
                             0);
            ck_assert_msg(aligned(p, alignment), "%s lost alignment on grow",
                          tally_pool_name(pools[k]));
            int64_t bad = 0;
            for (int64_t i = 0; i < size; i++)
                bad += p[i] != (uint8_t)i;
            ck_assert_int_eq(bad, 0);
            for (int64_t i = size; i < new_size; i++)
                p[i] = (uint8_t)i;
            size = new_size;
        }
        ck_assert_int_eq(tally_pool_reallocate_aligned(pools[k], size, 100, alignment, &p), 0);
        ck_assert(aligned(p, alignment));
        for (int64_t i = 0; i < 100; i++)
            ck_assert_int_eq(p[i], (uint8_t)i);
        tally_pool_free_aligned(pools[k], p, 100, alignment);
        for (int step = 0; step < 16; step++)
            tally_pool_free(pools[k], others[step], 64);
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), 0);
    }
}
END_TEST

/* Every power-of-two alignment up to 1 MiB, with sizes around it, the ones
 * mimalloc 2.0.9's mi_malloc_aligned got wrong (powers of two from 256 to
 * 1024 at alignments of 256 to 1024: lib/backend/mimalloc.c) and big ones,
 * on every backend: each block is aligned, holds its size without
 * overlapping the others alive with it, and keeps both through reallocate. */
enum { GRID_LIVE = 4 };

static void fill(uint8_t *p, int64_t size, uint8_t v)
{
    int64_t head = size < 65536 ? size : 65536;
    memset(p, v, (size_t)head);
    if (size > head)
        memset(p + size - 65536, v, 65536);
}

/* The first kept bytes of a block filled with v over filled bytes (as
 * fill writes them) still hold v. */
static bool holds(const uint8_t *p, int64_t filled, int64_t kept, uint8_t v)
{
    int64_t head = filled < 65536 ? filled : 65536;
    for (int64_t i = 0; i < head && i < kept; i++)
        if (p[i] != v)
            return false;
    for (int64_t i = filled - (filled - head < 65536 ? filled - head : 65536); i < kept; i++)
        if (p[i] != v)
            return false;
    return true;
}

static int grid_sizes(int64_t alignment, int64_t *sizes)
{
    static const int64_t fixed[] = {255,  256,  257,  384,  500,  511,  512,   513,     768,
                                    1000, 1023, 1024, 1025, 2048, 4096, 65536, 1 << 20, 3 << 20};
    int n = 0;
    sizes[n++] = 0;
    sizes[n++] = 1;
    sizes[n++] = alignment - 1;
    sizes[n++] = alignment;
    sizes[n++] = alignment + 1;
    sizes[n++] = 2 * alignment;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        sizes[n++] = fixed[i];
    return n;
}

START_TEST(test_alignment_grid_every_backend)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    for (int k = 0; k < n; k++) {
        const char *name = tally_pool_name(pools[k]);
        for (int64_t alignment = 1; alignment <= (1 << 20); alignment *= 2) {
            int64_t sizes[32];
            int nsizes = grid_sizes(alignment, sizes);
            for (int i = 0; i < nsizes; i++) {
                int64_t size = sizes[i];
                uint8_t *p[GRID_LIVE];
                for (int r = 0; r < GRID_LIVE; r++) {
                    ck_assert_int_eq(tally_pool_allocate_aligned(pools[k], size, alignment, &p[r]),
                                     0);
                    ck_assert_msg(aligned(p[r], alignment),
                                  "%s: allocate %lld aligned to %lld gave %p, %llu mod it", name,
                                  (long long)size, (long long)alignment, (void *)p[r],
                                  (unsigned long long)((uintptr_t)p[r] % (uintptr_t)alignment));
                    fill(p[r], size, (uint8_t)(r + 1));
                }
                for (int r = 0; r < GRID_LIVE; r++)
                    ck_assert_msg(holds(p[r], size, size, (uint8_t)(r + 1)),
                                  "%s: blocks of %lld aligned to %lld overlap", name,
                                  (long long)size, (long long)alignment);
                /* Shrink, grow past the next size class, and back: alignment
                 * and the bytes in common stay. */
                const int64_t next[] = {size / 2, size + 1, 2 * size + alignment + 100, 1024};
                for (int r = 0; r < GRID_LIVE; r++) {
                    int64_t cur = size;
                    for (size_t j = 0; j < sizeof next / sizeof next[0]; j++) {
                        int64_t want = next[j];
                        ck_assert_int_eq(
                            tally_pool_reallocate_aligned(pools[k], cur, want, alignment, &p[r]),
                            0);
                        ck_assert_msg(aligned(p[r], alignment),
                                      "%s: reallocate %lld to %lld aligned to %lld gave %p", name,
                                      (long long)cur, (long long)want, (long long)alignment,
                                      (void *)p[r]);
                        int64_t kept = cur < want ? cur : want;
                        ck_assert_msg(holds(p[r], cur, kept, (uint8_t)(r + 1)),
                                      "%s: reallocate %lld to %lld aligned to %lld lost bytes",
                                      name, (long long)cur, (long long)want, (long long)alignment);
                        fill(p[r], want, (uint8_t)(r + 1));
                        cur = want;
                    }
                    tally_pool_free_aligned(pools[k], p[r], cur, alignment);
                }
            }
        }
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), 0);
    }
}
END_TEST

START_TEST(test_bad_sizes)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    for (int k = 0; k < n; k++) {
        tally_pool *pool = pools[k];
        int64_t before = tally_pool_num_allocations(pool);
        uint8_t *p = (uint8_t *)0x1;
        ck_assert_int_eq(tally_pool_allocate(pool, -1, &p), EINVAL);
        ck_assert_int_eq(tally_pool_allocate(pool, INT64_MIN, &p), EINVAL);
        ck_assert_int_eq(tally_pool_allocate(pool, INT64_MAX, &p), ENOMEM);
        ck_assert_int_eq(tally_pool_allocate(pool, INT64_MAX - 63, &p), ENOMEM);
        ck_assert_int_eq(tally_pool_allocate_aligned(pool, INT64_MAX - 63, 1 << 20, &p), ENOMEM);
        /* Not representable in the int64_t API: converted, SIZE_MAX-127 is -128,
         * a negative size. */
        ck_assert_int_eq(tally_pool_allocate(pool, (int64_t)(SIZE_MAX - 127), &p), EINVAL);
        /* Within int64_t but far beyond any machine: the backend says no. */
        ck_assert_int_eq(tally_pool_allocate(pool, INT64_MAX / 4, &p), ENOMEM);
        ck_assert_ptr_eq(p, (uint8_t *)0x1);
        ck_assert_int_eq(tally_pool_allocate(pool, 10, NULL), EINVAL);
        ck_assert_int_eq(tally_pool_num_allocations(pool), before);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    }
}
END_TEST

START_TEST(test_zero_size_sentinel)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    uint8_t *first = NULL;
    for (int k = 0; k < n; k++) {
        int64_t count = tally_pool_num_allocations(pools[k]);
        uint8_t *a, *b;
        ck_assert_int_eq(tally_pool_allocate(pools[k], 0, &a), 0);
        ck_assert_int_eq(tally_pool_allocate_aligned(pools[k], 0, 8, &b), 0);
        ck_assert_ptr_nonnull(a);
        ck_assert(aligned(a, 64));
        ck_assert_ptr_eq(a, b);
        if (!first)
            first = a;
        ck_assert_ptr_eq(a, first); /* shared across pools too */
        tally_pool_free(pools[k], a, 0);
        tally_pool_free(pools[k], a, 0); /* freeing it again does nothing either */
        ck_assert_int_eq(tally_pool_num_allocations(pools[k]), count);
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), 0);
        /* Growing the sentinel allocates; shrinking to zero gives it back. */
        ck_assert_int_eq(tally_pool_reallocate(pools[k], 0, 32, &a), 0);
        ck_assert_ptr_ne(a, first);
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), 32);
        ck_assert_int_eq(tally_pool_reallocate(pools[k], 32, 0, &a), 0);
        ck_assert_ptr_eq(a, first);
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), 0);
    }
    tally_pool_free(NULL, NULL, 100); /* NULL does nothing */
}
END_TEST

/* The worked example, on a fresh pool over each backend. */
START_TEST(test_exact_statistics)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    for (int k = 0; k < n; k++) {
        tally_pool *pool = tally_proxy_pool_new(pools[k], "stats");
        int64_t backend_total = tally_pool_total_bytes_allocated(pools[k]);
        uint8_t *a, *b;
        ck_assert_int_eq(tally_pool_allocate(pool, 100, &a), 0);
        ck_assert_int_eq(tally_pool_allocate(pool, 50, &b), 0);
        tally_pool_free(pool, b, 50);
        ck_assert_int_eq(tally_pool_max_memory(pool), 150);
        ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), 150);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 100);
        ck_assert_int_eq(tally_pool_num_allocations(pool), 2);

        ck_assert_int_eq(tally_pool_reallocate(pool, 100, 150, &a), 0);
        ck_assert_int_eq(tally_pool_max_memory(pool), 150);
        ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), 200);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 150);
        ck_assert_int_eq(tally_pool_num_allocations(pool), 3);

        ck_assert_int_eq(tally_pool_reallocate(pool, 150, 50, &a), 0);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 50);
        ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), 200);
        ck_assert_int_eq(tally_pool_num_allocations(pool), 3);

        tally_pool_free(pool, a, 50);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        ck_assert_int_eq(tally_pool_max_memory(pool), 150);
        ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), 200);
        ck_assert_int_eq(tally_pool_num_allocations(pool), 3);
        /* The backend pool saw the same bytes. */
        ck_assert_int_eq(tally_pool_total_bytes_allocated(pools[k]) - backend_total, 200);
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), 0);
        tally_pool_destroy(pool);
    }
}
END_TEST

START_TEST(test_failed_reallocate_changes_nothing)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    for (int k = 0; k < n; k++) {
        tally_pool *pool = tally_proxy_pool_new(pools[k], "fail");
        uint8_t *p;
        ck_assert_int_eq(tally_pool_allocate(pool, 64, &p), 0);
        memset(p, 0x5a, 64);
        uint8_t *old = p;
        ck_assert_int_eq(tally_pool_reallocate(pool, 64, INT64_MAX / 4, &p), ENOMEM);
        ck_assert_int_eq(tally_pool_reallocate(pool, 64, INT64_MAX, &p), ENOMEM);
        ck_assert_int_eq(tally_pool_reallocate(pool, -1, 10, &p), EINVAL);
        ck_assert_ptr_eq(p, old);
        for (int i = 0; i < 64; i++)
            ck_assert_int_eq(p[i], 0x5a);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 64);
        ck_assert_int_eq(tally_pool_max_memory(pool), 64);
        ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), 64);
        ck_assert_int_eq(tally_pool_num_allocations(pool), 1);
        tally_pool_free(pool, p, 64);
        tally_pool_destroy(pool);
    }
}
END_TEST

START_TEST(test_release_unused_keeps_books)
{
    tally_pool *pools[4];
    int n = backend_pools(pools);
    for (int k = 0; k < n; k++) {
        uint8_t *blocks[64];
        for (int i = 0; i < 64; i++)
            ck_assert_int_eq(tally_pool_allocate(pools[k], 100000, &blocks[i]), 0);
        for (int i = 0; i < 64; i += 2)
            tally_pool_free(pools[k], blocks[i], 100000);
        int64_t before = tally_pool_bytes_allocated(pools[k]);
        tally_pool_release_unused(pools[k]);
        ck_assert_int_eq(tally_pool_bytes_allocated(pools[k]), before);
        ck_assert_int_eq(before, 32 * 100000);
        for (int i = 1; i < 64; i += 2)
            tally_pool_free(pools[k], blocks[i], 100000);
    }
}
END_TEST

START_TEST(test_destroy_reports_live_blocks)
{
    tally_pool *pool = tally_proxy_pool_new(NULL, "leaky");
    ck_assert_str_eq(tally_pool_name(pool), "leaky");
    uint8_t *a, *b;
    ck_assert_int_eq(tally_pool_allocate(pool, 100, &a), 0);
    ck_assert_int_eq(tally_pool_allocate(pool, 28, &b), 0);
    stderr_capture cap;
    capture_stderr(&cap);
    tally_pool_destroy(pool);
    const char *text = captured_stderr(&cap);
    ck_assert_msg(strstr(text, "'leaky' destroyed with 2 live allocations (128 bytes)"), "got: %s",
                  text);
    tally_pool_free(NULL, a, 100);
    tally_pool_free(NULL, b, 28);
}
END_TEST

START_TEST(test_destroy_clean_pool_is_silent)
{
    tally_pool *pool = tally_proxy_pool_new(NULL, "clean");
    uint8_t *a;
    ck_assert_int_eq(tally_pool_allocate(pool, 100, &a), 0);
    tally_pool_free(pool, a, 100);
    stderr_capture cap;
    capture_stderr(&cap);
    tally_pool_destroy(pool);
    tally_pool_destroy(tally_system_pool()); /* backend pools are never destroyed */
    ck_assert_str_eq(captured_stderr(&cap), "");
    ck_assert_int_eq(tally_pool_allocate(tally_system_pool(), 8, &a), 0);
    tally_pool_free(tally_system_pool(), a, 8);
}
END_TEST

/* Each Check test runs in a fresh child, so the default pool is still unchosen. */
START_TEST(test_env_default_pool)
{
    setenv("TALLY_DEFAULT_POOL", "system", 1);
    ck_assert_ptr_eq(tally_default_pool(), tally_system_pool());
    setenv("TALLY_DEFAULT_POOL", "jemalloc", 1); /* read once: no effect now */
    ck_assert_ptr_eq(tally_default_pool(), tally_system_pool());
    ck_assert_int_eq(tally_set_default_pool(tally_mimalloc_pool()), 0);
    ck_assert_ptr_eq(tally_default_pool(), tally_mimalloc_pool());
    ck_assert_int_eq(tally_set_default_pool(NULL), 0);
    ck_assert_ptr_eq(tally_default_pool(), tally_system_pool());
}
END_TEST

START_TEST(test_env_unknown_backend_falls_back)
{
    setenv("TALLY_DEFAULT_POOL", "tcmalloc", 1);
    stderr_capture cap;
    capture_stderr(&cap);
    tally_pool *pool = tally_default_pool();
    const char *text = captured_stderr(&cap);
#ifdef TALLY_HAVE_JEMALLOC
    ck_assert_str_eq(text, "tally: unsupported backend 'tcmalloc' in TALLY_DEFAULT_POOL "
                           "(supported: mimalloc, jemalloc, system)\n");
#else
    ck_assert_str_eq(text, "tally: unsupported backend 'tcmalloc' in TALLY_DEFAULT_POOL "
                           "(supported: mimalloc, system)\n");
#endif
    ck_assert_ptr_eq(pool, tally_mimalloc_pool());
}
END_TEST

typedef struct {
    tally_pool *pool;
    int seed;
} worker_arg;

static void *churn(void *arg)
{
    worker_arg *w = arg;
    unsigned seed = (unsigned)w->seed;
    uint8_t *held[16] = {0};
    int64_t sizes[16] = {0};
    for (int i = 0; i < 100000; i++) {
        int slot = rand_r(&seed) % 16;
        if (held[slot]) {
            tally_pool_free(w->pool, held[slot], sizes[slot]);
            held[slot] = NULL;
        } else {
            sizes[slot] = 1 + rand_r(&seed) % 2000;
            if (tally_pool_allocate(w->pool, sizes[slot], &held[slot]) != 0)
                return (void *)1;
        }
    }
    for (int slot = 0; slot < 16; slot++)
        if (held[slot])
            tally_pool_free(w->pool, held[slot], sizes[slot]);
    return NULL;
}

START_TEST(test_statistics_exact_under_threads)
{
    tally_pool *pool = tally_proxy_pool_new(NULL, "threads");
    pthread_t t[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){pool, i + 1};
        pthread_create(&t[i], NULL, churn, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        ck_assert_ptr_null(rc);
    }
    /* Replay the same pseudo-random sequences to know the exact totals. */
    int64_t count = 0, total = 0;
    for (int i = 0; i < 4; i++) {
        unsigned seed = (unsigned)(i + 1);
        bool held[16] = {0};
        for (int j = 0; j < 100000; j++) {
            int slot = rand_r(&seed) % 16;
            if (held[slot]) {
                held[slot] = false;
            } else {
                total += 1 + rand_r(&seed) % 2000;
                count++;
                held[slot] = true;
            }
        }
    }
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    ck_assert_int_eq(tally_pool_num_allocations(pool), count);
    ck_assert_int_eq(tally_pool_total_bytes_allocated(pool), total);
    ck_assert_int_le(tally_pool_max_memory(pool), 4 * 16 * 2000);
    tally_pool_destroy(pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_backend_order_and_names);
    tcase_add_test(tc, test_default_alignment_every_backend);
    tcase_add_test(tc, test_default_alignment_every_size);
    tcase_add_test(tc, test_explicit_alignment);
    tcase_add_test(tc, test_reallocate_keeps_alignment_and_contents);
    tcase_add_test(tc, test_alignment_grid_every_backend);
    tcase_add_test(tc, test_bad_sizes);
    tcase_add_test(tc, test_zero_size_sentinel);
    tcase_add_test(tc, test_exact_statistics);
    tcase_add_test(tc, test_failed_reallocate_changes_nothing);
    tcase_add_test(tc, test_release_unused_keeps_books);
    tcase_add_test(tc, test_destroy_reports_live_blocks);
    tcase_add_test(tc, test_destroy_clean_pool_is_silent);
    tcase_add_test(tc, test_env_default_pool);
    tcase_add_test(tc, test_env_unknown_backend_falls_back);
    tcase_add_test(tc, test_statistics_exact_under_threads);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
