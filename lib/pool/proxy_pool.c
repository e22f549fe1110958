/* proxy_pool.c: its own books under its own name; the memory is the parent's. */
#include "pool/pool_internal.h"

static int proxy_allocate(tally_pool *pool, int64_t size, int64_t alignment, uint8_t **out)
{
    return tally_pool_allocate_aligned(pool->parent, size, alignment, out);
}

static int proxy_reallocate(tally_pool *pool, int64_t old_size, int64_t new_size, int64_t alignment,
                            uint8_t **ptr)
{
    return tally_pool_reallocate_aligned(pool->parent, old_size, new_size, alignment, ptr);
}

static int64_t proxy_free(tally_pool *pool, uint8_t *ptr, int64_t size, int64_t alignment)
{
    tally_pool_free_aligned(pool->parent, ptr, size, alignment);
    return size;
}

static void proxy_release_unused(tally_pool *pool)
{
    tally_pool_release_unused(pool->parent);
}

/* Shared by every kind that adds only books on top of its parent. */
const struct pool_vtable pool_forwarding_vtable = {
    .allocate = proxy_allocate,
    .reallocate = proxy_reallocate,
    .free = proxy_free,
    .release_unused = proxy_release_unused,
};

tally_pool *tally_proxy_pool_new(tally_pool *parent, const char *name)
{
    return pool_new_wrapper(sizeof(tally_pool), &pool_forwarding_vtable, parent,
                            name ? name : "proxy");
}
