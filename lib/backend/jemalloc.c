/* jemalloc.c: the optional jemalloc backend.
 *
 * Unlike mimalloc, jemalloc cannot be loaded privately: its initial-exec TLS
 * does not fit glibc's static TLS surplus after start-up. It is linked
 * instead; its malloc stays behind glibc's in the symbol search order because
 * programs link libtally, not jemalloc. */
#include "backend/backend.h"

#include <config.h>

/* Not in libtally-attach.so: loaded into a running process, it has no
 * static TLS to give jemalloc. */
#if defined(TALLY_HAVE_JEMALLOC) && !defined(TALLY_ATTACH_BUILD)
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
    .reallocate = jemalloc_reallocate,
    .free = jemalloc_free,
    .usable_size = jemalloc_usable_size,
    .release_unused = jemalloc_release_unused,
};

const backend_ops *backend_jemalloc(void)
{
    return &jemalloc_backend;
}

const void *backend_jemalloc_code(void)
{
    return (const void *)mallocx;
}

#else

const backend_ops *backend_jemalloc(void)
{
    return NULL;
}

const void *backend_jemalloc_code(void)
{
    return NULL;
}

#endif
