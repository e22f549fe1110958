/* backend_pool.c: one pool per backend, living as long as the process. */
#include "pool/pool_internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static int backend_allocate(tally_pool *pool, int64_t size, int64_t alignment, uint8_t **out)
{
    uint8_t *p = pool->backend->allocate((size_t)size, (size_t)alignment);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

static int backend_reallocate(tally_pool *pool, int64_t old_size, int64_t new_size,
                              int64_t alignment, uint8_t **ptr)
{
    uint8_t *p =
        pool->backend->reallocate(*ptr, (size_t)old_size, (size_t)new_size, (size_t)alignment);
    if (!p)
        return ENOMEM;
    *ptr = p;
    return 0;
}

static int64_t backend_free(tally_pool *pool, uint8_t *ptr, int64_t size, int64_t alignment)
{
    pool->backend->free(ptr, (size_t)size, (size_t)alignment);
    return size;
}

static void backend_release_unused(tally_pool *pool)
{
    pool->backend->release_unused();
}

static const struct pool_vtable backend_vtable = {
    .allocate = backend_allocate,
    .reallocate = backend_reallocate,
    .free = backend_free,
    .release_unused = backend_release_unused,
};

enum { SYSTEM, MIMALLOC, JEMALLOC, N_KINDS };
static tally_pool backend_pools[N_KINDS];
static pthread_once_t backend_pools_once = PTHREAD_ONCE_INIT;

static void init_backend_pools(void)
{
    const backend_ops *backends[N_KINDS] = {
        [SYSTEM] = backend_system(),
        [MIMALLOC] = backend_mimalloc(),
        [JEMALLOC] = backend_jemalloc(),
    };
    for (int k = 0; k < N_KINDS; k++)
        if (backends[k])
            pool_init(&backend_pools[k], &backend_vtable, NULL, backends[k], backends[k]->name);
}

static tally_pool *backend_pool(int kind)
{
    pthread_once(&backend_pools_once, init_backend_pools);
    return backend_pools[kind].vt ? &backend_pools[kind] : NULL;
}

tally_pool *tally_system_pool(void)
{
    return backend_pool(SYSTEM);
}

tally_pool *tally_mimalloc_pool(void)
{
    return backend_pool(MIMALLOC);
}

tally_pool *tally_jemalloc_pool(void)
{
    return backend_pool(JEMALLOC);
}

tally_pool *tally_backend_pool(const char *name)
{
    const backend_ops *b = backend_find(name);
    if (!b)
        return NULL;
    for (int k = 0; k < N_KINDS; k++) {
        tally_pool *p = backend_pool(k);
        if (p && p->backend == b)
            return p;
    }
    return NULL;
}

const char *const *tally_supported_backends(void)
{
    return backend_names();
}
