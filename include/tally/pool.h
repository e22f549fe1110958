/* tally/pool.h: memory pools with exact statistics.
 *
 * Every byte libtally uses is allocated through a pool. A pool counts what
 * it hands out in *requested* bytes: current, peak, total and number of
 * allocations. A NULL pool argument always means the default pool.
 *
 * Fallible calls return 0 or an errno value (EINVAL, ENOMEM, ...). */
#ifndef TALLY_POOL_H
#define TALLY_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TALLY_API __attribute__((visibility("default")))
#else
#define TALLY_API
#endif

/* The alignment of tally_pool_allocate: enough for any SIMD load. */
#define TALLY_DEFAULT_ALIGNMENT 64

typedef struct tally_pool tally_pool;

/* ---- Backend pools and the default pool --------------------------------- */
TALLY_API tally_pool *tally_default_pool(void);
/* NULL restores the default chosen from the environment at start-up. */
TALLY_API int tally_set_default_pool(tally_pool *pool);
TALLY_API tally_pool *tally_system_pool(void);
TALLY_API tally_pool *tally_mimalloc_pool(void);
/* NULL unless the program links libtally-jemalloc (pkg-config tally does). */
TALLY_API tally_pool *tally_jemalloc_pool(void);
/* NULL for an unknown or unbuilt name. */
TALLY_API tally_pool *tally_backend_pool(const char *name);
/* NULL-terminated, in preference order. */
TALLY_API const char *const *tally_supported_backends(void);

/* ---- Allocation ------------------------------------------------------------ */
/* 64-byte aligned. Size 0 gives a shared non-NULL sentinel; freeing it does nothing. */
TALLY_API int tally_pool_allocate(tally_pool *pool, int64_t size, uint8_t **out);
/* alignment must be a power of two (EINVAL otherwise). */
TALLY_API int tally_pool_allocate_aligned(tally_pool *pool, int64_t size, int64_t alignment,
                                          uint8_t **out);
/* Keeps the contents up to min(old, new) and the alignment. On failure *ptr and
 * the statistics are unchanged. */
TALLY_API int tally_pool_reallocate(tally_pool *pool, int64_t old_size, int64_t new_size,
                                    uint8_t **ptr);
TALLY_API int tally_pool_reallocate_aligned(tally_pool *pool, int64_t old_size, int64_t new_size,
                                            int64_t alignment, uint8_t **ptr);
TALLY_API void tally_pool_free(tally_pool *pool, uint8_t *ptr, int64_t size);
TALLY_API void tally_pool_free_aligned(tally_pool *pool, uint8_t *ptr, int64_t size,
                                       int64_t alignment);

/* ---- Statistics (requested bytes, atomic) ---------------------------------- */
TALLY_API int64_t tally_pool_bytes_allocated(const tally_pool *pool);
TALLY_API int64_t tally_pool_max_memory(const tally_pool *pool);
TALLY_API int64_t tally_pool_total_bytes_allocated(const tally_pool *pool);
TALLY_API int64_t tally_pool_num_allocations(const tally_pool *pool);
TALLY_API const char *tally_pool_backend_name(const tally_pool *pool); /* "mimalloc", ... */
TALLY_API const char *tally_pool_name(const tally_pool *pool);
/* Returns cached memory to the OS; never changes bytes_allocated. */
TALLY_API void tally_pool_release_unused(tally_pool *pool);
TALLY_API void tally_pool_print_stats(const tally_pool *pool, FILE *out);
/* The small integer that identifies the pool in profiles (0 is "malloc"). */
TALLY_API int32_t tally_pool_id(const tally_pool *pool);

/* ---- Wrapper pools: each forwards memory to its parent ----------------------- */
/* One line per call on out: operation, size, alignment, result. */
TALLY_API tally_pool *tally_logging_pool_new(tally_pool *parent, FILE *out);
/* Own statistics under its own name; the parent counts the bytes too. */
TALLY_API tally_pool *tally_proxy_pool_new(tally_pool *parent, const char *name);
/* Refuses (ENOMEM) any allocation that would take bytes_allocated above limit. */
TALLY_API tally_pool *tally_capped_pool_new(tally_pool *parent, int64_t limit);
typedef enum { TALLY_DEBUG_ABORT, TALLY_DEBUG_TRAP, TALLY_DEBUG_WARN } tally_debug_action;
/* Guards each block: overruns and wrong sizes on free are reported; freed memory is poisoned. */
TALLY_API tally_pool *tally_debug_pool_new(tally_pool *parent, tally_debug_action action);
/* For pools made with *_new. Live allocations left behind are reported on stderr. */
TALLY_API void tally_pool_destroy(tally_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_POOL_H */
