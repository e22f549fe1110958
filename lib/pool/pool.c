/* pool.c: the public pool entry points.
 *
 * Arguments are checked here once, for every pool kind, and the books are
 * kept here: a kind's vtable only moves memory. A capped pool books on its
 * shared books (stats.h), where the limit check and the booking are one
 * atomic step; every other pool books through this thread's cache
 * (thread_books.h), and a read folds the reader's own share first. */
#include "pool/foreign.h"
#include "pool/pool_internal.h"
#include "pool/thread_books.h"
#include "track/api.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

alignas(TALLY_DEFAULT_ALIGNMENT) uint8_t pool_zero_size_area[1];

/* The largest request we pass on: anything bigger cannot be satisfied, and
 * size + alignment must never overflow a backend's arithmetic. */
#define MAX_REQUEST (INT64_MAX / 2)

static bool valid_alignment(int64_t alignment)
{
    return alignment > 0 && (alignment & (alignment - 1)) == 0;
}

static bool too_large(int64_t size, int64_t alignment)
{
    return size > MAX_REQUEST - alignment;
}

static bool is_zero_size_area(const uint8_t *ptr)
{
    return ptr == pool_zero_size_area;
}

static inline bool is_capped(const tally_pool *pool)
{
    return pool->limit != INT64_MAX;
}

/* Books n more bytes on a pool without a limit: through this thread's cache.
 * (A capped pool reserves and commits on its shared books instead.) */
static inline __attribute__((always_inline)) void book_grow(tally_pool *pool, int64_t n,
                                                            bool new_block)
{
    pool_books_alloc(pool_books_lookup(&pool->stats, pool->id), &pool->stats, pool->id, n,
                     new_block);
}

/* Books n bytes given back by a pool without a limit. */
static inline __attribute__((always_inline)) void book_shrink(tally_pool *pool, int64_t n,
                                                              bool whole_block)
{
    pool_books_release(pool_books_lookup(&pool->stats, pool->id), &pool->stats, pool->id, n,
                       whole_block);
}

/* Books n bytes given back, where the pool keeps its books: a capped pool's
 * limit check reads the shared books, so it books there directly. */
static inline __attribute__((always_inline)) void book_release(tally_pool *pool, int64_t n,
                                                               bool whole_block)
{
    if (is_capped(pool))
        pool_stats_release(&pool->stats, n, whole_block);
    else
        book_shrink(pool, n, whole_block);
}

/* A block from a backend pool's backend: at the default alignment or
 * below, through the call that may skip what only larger ones need. */
static inline __attribute__((always_inline)) uint8_t *
backend_allocate(const backend_ops *backend, int64_t size, int64_t alignment)
{
    return alignment <= TALLY_DEFAULT_ALIGNMENT
               ? backend->allocate_default_aligned((size_t)size, (size_t)alignment)
               : backend->allocate((size_t)size, (size_t)alignment);
}

/* A backend pool's block back to its backend. */
static inline __attribute__((always_inline)) void
backend_free(const backend_ops *backend, uint8_t *ptr, int64_t size, int64_t alignment)
{
    if (backend->free_unsized)
        backend->free_unsized(ptr);
    else
        backend->free(ptr, (size_t)size, (size_t)alignment);
}

/* The shared books, after this thread's unfolded share went into them. */
static pool_stats *books_for_read(const tally_pool **pool)
{
    tally_pool *p = pool_resolve((tally_pool *)*pool);
    pool_books_flush(&p->stats, p->id);
    *pool = p;
    return &p->stats;
}

int32_t pool_next_id(void)
{
    static _Atomic int32_t next_id = 1;
    return atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
}

void pool_init(tally_pool *pool, const struct pool_vtable *vt, tally_pool *parent,
               const backend_ops *backend, const char *name)
{
    memset(pool, 0, sizeof *pool);
    pool->vt = vt;
    pool->parent = parent;
    pool->backend = backend;
    pool->limit = INT64_MAX;
    pool->id = pool_next_id();
    snprintf(pool->name, sizeof pool->name, "%s", name ? name : "");
    tally_track_name_pool(pool->id, pool->name);
}

tally_pool *pool_new_wrapper(size_t struct_size, const struct pool_vtable *vt, tally_pool *parent,
                             const char *name)
{
    parent = pool_resolve(parent);
    if (!parent)
        return NULL;
    tally_pool *pool = parent->backend->allocate(struct_size, alignof(tally_pool));
    if (!pool)
        return NULL;
    memset(pool, 0, struct_size);
    pool_init(pool, vt, parent, parent->backend, name);
    pool->struct_size = struct_size;
    return pool;
}

tally_pool *pool_resolve(tally_pool *pool)
{
    return pool ? pool : tally_default_pool();
}

/* Everything but an untracked backend pool's allocation: a wrapper's call
 * through its vtable, a capped pool's reservation, and the tracking layer's
 * hooks. Out of line, so that the hot path keeps few registers live across
 * its one call (measured: each saved register cost the pool path more than
 * its books did). */
static __attribute__((noinline)) int allocate_slow(tally_pool *pool, int64_t size,
                                                   int64_t alignment, uint8_t **out)
{
    uint8_t *p;
    if (pool->parent == NULL) {
        p = backend_allocate(pool->backend, size, alignment);
        if (__builtin_expect(!p, 0))
            return ENOMEM;
        book_grow(pool, size, true);
    } else if (!is_capped(pool)) {
        int rc = pool->vt->allocate(pool, size, alignment, &p);
        if (rc != 0)
            return rc;
        book_grow(pool, size, true);
    } else {
        int64_t now;
        if (!pool_stats_reserve(&pool->stats, size, pool->limit, &now))
            return ENOMEM;
        int rc = pool->vt->allocate(pool, size, alignment, &p);
        if (rc != 0) {
            pool_stats_unreserve(&pool->stats, size);
            return rc;
        }
        pool_stats_commit(&pool->stats, size, now, true);
    }
    if (tally_track_is_on()) {
        if (!pool->parent) /* a wrapper's block is its parent's, scrubbed there */
            tally_track_scrub(p, size);
        tally_track_pool_alloc(pool->id, p, size, pool->parent != NULL);
        if (tally_track_service_due()) /* the core's timed work, on this thread */
            tally_track_service();
    }
    *out = p;
    return 0;
}

/* The body of both allocate entry points, inlined into each so that
 * tally_pool_allocate gets a copy specialised for the constant default
 * alignment: this is the hottest path in the library. Its fast case is a
 * backend pool (no limit, so it books after the call and reserves nothing)
 * with tracking off: the vtable is skipped. */
static inline __attribute__((always_inline)) int allocate_impl(tally_pool *pool, int64_t size,
                                                               int64_t alignment, uint8_t **out)
{
    if (__builtin_expect(!out || size < 0 || !valid_alignment(alignment), 0))
        return EINVAL;
    if (size == 0 && alignment <= TALLY_DEFAULT_ALIGNMENT) {
        *out = pool_zero_size_area;
        return 0;
    }
    if (__builtin_expect(too_large(size, alignment), 0))
        return ENOMEM;
    pool = pool_resolve(pool);
    if (__builtin_expect(pool->parent != NULL || tally_track_is_on(), 0))
        return allocate_slow(pool, size, alignment, out);

    uint8_t *p = backend_allocate(pool->backend, size, alignment);
    if (__builtin_expect(!p, 0))
        return ENOMEM;
    book_grow(pool, size, true);
    *out = p;
    return 0;
}

int tally_pool_allocate(tally_pool *pool, int64_t size, uint8_t **out)
{
    return allocate_impl(pool, size, TALLY_DEFAULT_ALIGNMENT, out);
}

int tally_pool_allocate_aligned(tally_pool *pool, int64_t size, int64_t alignment, uint8_t **out)
{
    return allocate_impl(pool, size, alignment, out);
}

int tally_pool_reallocate(tally_pool *pool, int64_t old_size, int64_t new_size, uint8_t **ptr)
{
    return tally_pool_reallocate_aligned(pool, old_size, new_size, TALLY_DEFAULT_ALIGNMENT, ptr);
}

int tally_pool_reallocate_aligned(tally_pool *pool, int64_t old_size, int64_t new_size,
                                  int64_t alignment, uint8_t **ptr)
{
    if (!ptr || old_size < 0 || new_size < 0 || !valid_alignment(alignment))
        return EINVAL;
    /* From nothing: an allocation. NULL is accepted for nothing as well. */
    if (*ptr == NULL || is_zero_size_area(*ptr)) {
        if (old_size != 0)
            return EINVAL;
        return tally_pool_allocate_aligned(pool, new_size, alignment, ptr);
    }
    if (new_size == 0 && alignment <= TALLY_DEFAULT_ALIGNMENT) {
        tally_pool_free_aligned(pool, *ptr, old_size, alignment);
        *ptr = pool_zero_size_area;
        return 0;
    }
    if (too_large(new_size, alignment))
        return ENOMEM;
    pool = pool_resolve(pool);

    int64_t grow = new_size - old_size, now = 0;
    bool capped = is_capped(pool);
    if (capped && grow > 0 && !pool_stats_reserve(&pool->stats, grow, pool->limit, &now))
        return ENOMEM;
    uint8_t *p = *ptr;
    int rc = pool->vt->reallocate(pool, old_size, new_size, alignment, &p);
    if (rc != 0) {
        if (capped && grow > 0)
            pool_stats_unreserve(&pool->stats, grow);
        return rc;
    }
    if (grow > 0 && capped)
        pool_stats_commit(&pool->stats, grow, now, false);
    else if (grow > 0)
        book_grow(pool, grow, false);
    else if (grow < 0)
        book_release(pool, -grow, false);
    if (tally_track_is_on())
        tally_track_pool_realloc(pool->id, *ptr, old_size, p, new_size, pool->parent != NULL);
    *ptr = p;
    return 0;
}

/* A wrapper's free, and any free while tracking is on. */
static __attribute__((noinline)) void free_slow(tally_pool *pool, uint8_t *ptr, int64_t size,
                                                int64_t alignment)
{
    if (tally_track_is_on()) /* before the backend may hand the address out again */
        tally_track_pool_free(pool->id, ptr, size, pool->parent != NULL);
    if (pool->parent == NULL) {
        book_shrink(pool, size, true);
        backend_free(pool->backend, ptr, size, alignment);
        return;
    }
    book_release(pool, pool->vt->free(pool, ptr, size, alignment), true);
}

/* Inlined into both free entry points, like allocate_impl. A backend pool
 * books first: a free cannot fail, and the backend's free is then a tail
 * call, with nothing kept across it. */
static inline __attribute__((always_inline)) void free_impl(tally_pool *pool, uint8_t *ptr,
                                                            int64_t size, int64_t alignment)
{
    if (!ptr || is_zero_size_area(ptr))
        return;
    if (__builtin_expect(size < 0 || !valid_alignment(alignment), 0)) {
        /* Freeing with a size we cannot trust could corrupt the heap: leak instead. */
        fprintf(stderr, "tally: invalid free of %p (size %lld, alignment %lld): block not freed\n",
                (void *)ptr, (long long)size, (long long)alignment);
        return;
    }
    pool = pool_resolve(pool);
    if (__builtin_expect(pool->parent != NULL || tally_track_is_on(), 0)) {
        free_slow(pool, ptr, size, alignment);
        return;
    }
    book_shrink(pool, size, true);
    backend_free(pool->backend, ptr, size, alignment);
}

void tally_pool_free(tally_pool *pool, uint8_t *ptr, int64_t size)
{
    free_impl(pool, ptr, size, TALLY_DEFAULT_ALIGNMENT);
}

void tally_pool_free_aligned(tally_pool *pool, uint8_t *ptr, int64_t size, int64_t alignment)
{
    free_impl(pool, ptr, size, alignment);
}

int64_t tally_pool_bytes_allocated(const tally_pool *pool)
{
    return atomic_load_explicit(&books_for_read(&pool)->current, memory_order_relaxed);
}

int64_t tally_pool_max_memory(const tally_pool *pool)
{
    return atomic_load_explicit(&books_for_read(&pool)->peak, memory_order_relaxed);
}

int64_t tally_pool_total_bytes_allocated(const tally_pool *pool)
{
    return atomic_load_explicit(&books_for_read(&pool)->total, memory_order_relaxed);
}

int64_t tally_pool_num_allocations(const tally_pool *pool)
{
    return atomic_load_explicit(&books_for_read(&pool)->count, memory_order_relaxed);
}

const char *tally_pool_backend_name(const tally_pool *pool)
{
    pool = pool_resolve((tally_pool *)pool);
    return pool->backend->name;
}

const char *tally_pool_name(const tally_pool *pool)
{
    pool = pool_resolve((tally_pool *)pool);
    return pool->name;
}

int32_t tally_pool_id(const tally_pool *pool)
{
    pool = pool_resolve((tally_pool *)pool);
    return pool->id;
}

void tally_pool_release_unused(tally_pool *pool)
{
    pool = pool_resolve(pool);
    pool->vt->release_unused(pool);
}

void tally_pool_print_stats(const tally_pool *pool, FILE *out)
{
    const pool_stats *s = books_for_read(&pool);
    if (!out)
        out = stderr;
    fprintf(out,
            "pool %s (backend %s): bytes_allocated=%lld max_memory=%lld "
            "total_bytes_allocated=%lld num_allocations=%lld live_blocks=%lld\n",
            pool->name, pool->backend->name,
            (long long)atomic_load_explicit(&s->current, memory_order_relaxed),
            (long long)atomic_load_explicit(&s->peak, memory_order_relaxed),
            (long long)atomic_load_explicit(&s->total, memory_order_relaxed),
            (long long)atomic_load_explicit(&s->count, memory_order_relaxed),
            (long long)atomic_load_explicit(&s->live, memory_order_relaxed));
}

void tally_pool_destroy(tally_pool *pool)
{
    if (!pool || pool->struct_size == 0)
        return; /* backend pools and the default pool live as long as the process */
    /* No thread's cache may name the pool once its memory is freed. */
    pool_books_forget(&pool->stats, pool->id);
    int64_t live = atomic_load_explicit(&pool->stats.live, memory_order_relaxed);
    int64_t bytes = atomic_load_explicit(&pool->stats.current, memory_order_relaxed);
    if (live != 0 || bytes != 0) {
        fprintf(stderr, "tally: pool '%s' destroyed with %lld live allocations (%lld bytes)\n",
                pool->name, (long long)live, (long long)bytes);
        if (tally_track_is_on())
            tally_track_pool_destroyed(pool->id); /* their stacks */
    }
    if (pool->vt->destroy)
        pool->vt->destroy(pool);
    pool->backend->free(pool, pool->struct_size, alignof(tally_pool));
}

int pool_book_foreign(tally_pool *pool, int64_t size)
{
    if (size < 0)
        return EINVAL;
    tally_pool *first = pool_resolve(pool);
    for (tally_pool *p = first; p; p = p->parent) {
        if (!is_capped(p)) {
            book_grow(p, size, true);
            continue;
        }
        int64_t now;
        if (!pool_stats_reserve(&p->stats, size, p->limit, &now)) {
            for (tally_pool *q = first; q != p; q = q->parent)
                book_release(q, size, true);
            return ENOMEM;
        }
        pool_stats_commit(&p->stats, size, now, true);
    }
    return 0;
}

void pool_unbook_foreign(tally_pool *pool, int64_t size)
{
    for (tally_pool *p = pool_resolve(pool); p; p = p->parent)
        book_release(p, size, true);
}
