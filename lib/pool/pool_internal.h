/* pool_internal.h: what every pool kind shares.
 *
 * The public entry points (pool.c) validate arguments and keep the books;
 * a pool kind only moves memory, through its vtable. Wrapper kinds forward
 * to their parent through the public entry points, so the parent keeps its
 * own books too. */
#ifndef TALLY_POOL_INTERNAL_H
#define TALLY_POOL_INTERNAL_H

#include <tally/pool.h>

#include "backend/backend.h"
#include "pool/stats.h"

struct pool_vtable {
    int (*allocate)(tally_pool *pool, int64_t size, int64_t alignment, uint8_t **out);
    int (*reallocate)(tally_pool *pool, int64_t old_size, int64_t new_size, int64_t alignment,
                      uint8_t **ptr);
    /* Returns the number of bytes really released, which the books subtract:
     * the debug pool knows better than a caller who passed the wrong size. */
    int64_t (*free)(tally_pool *pool, uint8_t *ptr, int64_t size, int64_t alignment);
    void (*release_unused)(tally_pool *pool);
    /* Frees what the kind added to the struct; NULL when there is nothing. */
    void (*destroy)(tally_pool *pool);
};

struct tally_pool {
    const struct pool_vtable *vt;
    const backend_ops *backend; /* at the bottom of the chain; pool structs live there */
    tally_pool *parent;         /* NULL for backend pools */
    int64_t limit;              /* INT64_MAX unless capped */
    int32_t id;
    size_t struct_size; /* made by *_new (nonzero): tally_pool_destroy frees it */
    char name[64];
    pool_stats stats;
};

/* For kinds that only add books on top of their parent (proxy, capped). */
extern const struct pool_vtable pool_forwarding_vtable;

/* The sentinel handed out for zero-size requests. */
extern uint8_t pool_zero_size_area[];

/* Fills the parts every kind shares; the struct itself is the caller's. */
void pool_init(tally_pool *pool, const struct pool_vtable *vt, tally_pool *parent,
               const backend_ops *backend, const char *name);

/* Allocates a wrapper pool's struct of struct_size bytes from parent's backend.
 * Pool structs are not charged to any pool: a proxy of 300 bytes over a parent
 * of 100 leaves the parent at exactly 400. */
tally_pool *pool_new_wrapper(size_t struct_size, const struct pool_vtable *vt, tally_pool *parent,
                             const char *name);

/* parent or the default pool. */
tally_pool *pool_resolve(tally_pool *pool);

/* Every pool gets a small integer id, for profiles. 0 is kept for "malloc". */
int32_t pool_next_id(void);

#endif
