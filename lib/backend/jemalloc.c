/* jemalloc.c: the optional jemalloc backend, libtally-jemalloc.so.
 *
 * Unlike mimalloc, jemalloc cannot be loaded privately: its initial-exec TLS
 * does not fit glibc's static TLS surplus after start-up. It must be linked.
 * It is linked into a library of its own, not into libtally.so, because
 * everything libtally.so needs, the preload shim loads into every program:
 * jemalloc and the libstdc++ it needs cost a preloaded /bin/true 1.5 ms and
 * 2.5 MB, for a backend the shim never uses. A program that wants jemalloc
 * pools links libtally-jemalloc too (pkg-config tally gives both, the
 * second without --as-needed), and libtally finds it through a weak
 * reference (backend.c). Its malloc stays behind glibc's in the symbol
 * search order because programs link these libraries, not jemalloc. */
#include "backend/backend.h"

#include <jemalloc/jemalloc.h>

static void *jemalloc_allocate(size_t size, size_t alignment)
{
    return mallocx(size ? size : 1, MALLOCX_ALIGN(alignment));
}

static void *jemalloc_reallocate(void *ptr, size_t old_size, size_t new_size, size_t alignment)
{
    (void)old_size;
    return rallocx(ptr, new_size ? new_size : 1, MALLOCX_ALIGN(alignment));
}

static void jemalloc_free(void *ptr, size_t size, size_t alignment)
{
    /* sdallocx needs the size the block was allocated with; size 0 went in as 1. */
    sdallocx(ptr, size ? size : 1, MALLOCX_ALIGN(alignment));
}

static size_t jemalloc_usable_size(const void *ptr)
{
    return sallocx((void *)ptr, 0);
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static void jemalloc_release_unused(void)
{
    mallctl("arena." STRINGIFY(MALLCTL_ARENAS_ALL) ".purge", NULL, NULL, NULL, 0);
}

static const backend_ops jemalloc_backend = {
    .name = "jemalloc",
    .allocate = jemalloc_allocate,
    .allocate_default_aligned = jemalloc_allocate,
    .reallocate = jemalloc_reallocate,
    .free = jemalloc_free,
    .usable_size = jemalloc_usable_size,
    .release_unused = jemalloc_release_unused,
};

TALLY_INTERNAL const backend_ops *tally_backend_jemalloc_ops(void)
{
    return &jemalloc_backend;
}

TALLY_INTERNAL const void *tally_backend_jemalloc_code(void)
{
    return (const void *)mallocx;
}
