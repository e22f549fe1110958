/* logging_pool.c: a line per call, then forwards to the parent. */
#include "pool/pool_internal.h"

#include <string.h>

typedef struct {
    tally_pool base;
    FILE *out;
} logging_pool;

static const char *result_name(int rc)
{
    return rc == 0 ? "ok" : strerror(rc);
}

static int logging_allocate(tally_pool *pool, int64_t size, int64_t alignment, uint8_t **out)
{
    logging_pool *lp = (logging_pool *)pool;
    int rc = tally_pool_allocate_aligned(pool->parent, size, alignment, out);
    fprintf(lp->out, "tally: %s: allocate size=%lld alignment=%lld -> %p %s\n", pool->name,
            (long long)size, (long long)alignment, rc == 0 ? (void *)*out : NULL, result_name(rc));
    return rc;
}

static int logging_reallocate(tally_pool *pool, int64_t old_size, int64_t new_size,
                              int64_t alignment, uint8_t **ptr)
{
    logging_pool *lp = (logging_pool *)pool;
    void *old = *ptr;
    int rc = tally_pool_reallocate_aligned(pool->parent, old_size, new_size, alignment, ptr);
    fprintf(lp->out,
            "tally: %s: reallocate %p old_size=%lld new_size=%lld alignment=%lld -> %p %s\n",
            pool->name, old, (long long)old_size, (long long)new_size, (long long)alignment,
            (void *)*ptr, result_name(rc));
    return rc;
}

static int64_t logging_free(tally_pool *pool, uint8_t *ptr, int64_t size, int64_t alignment)
{
    logging_pool *lp = (logging_pool *)pool;
    tally_pool_free_aligned(pool->parent, ptr, size, alignment);
    fprintf(lp->out, "tally: %s: free %p size=%lld alignment=%lld\n", pool->name, (void *)ptr,
            (long long)size, (long long)alignment);
    return size;
}

static void logging_release_unused(tally_pool *pool)
{
    tally_pool_release_unused(pool->parent);
}

static const struct pool_vtable logging_vtable = {
    .allocate = logging_allocate,
    .reallocate = logging_reallocate,
    .free = logging_free,
    .release_unused = logging_release_unused,
};

tally_pool *tally_logging_pool_new(tally_pool *parent, FILE *out)
{
    char name[64];
    snprintf(name, sizeof name, "logging(%s)", tally_pool_name(parent));
    logging_pool *lp = (logging_pool *)pool_new_wrapper(sizeof *lp, &logging_vtable, parent, name);
    if (lp)
        lp->out = out ? out : stderr;
    return &lp->base;
}
