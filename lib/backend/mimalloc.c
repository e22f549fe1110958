/* mimalloc.c: the default backend.
 *
 * Debian's libmimalloc is built to override malloc: it exports malloc, free
 * and some forty other allocator names. Linking it would silently replace the
 * malloc of every program that links libtally, so it is loaded privately
 * (RTLD_LOCAL) and only its mi_* entry points are bound. */
#include "backend/backend.h"

#include <config.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

static struct {
    void *(*malloc_aligned)(size_t, size_t);
    void *(*realloc_aligned)(void *, size_t, size_t);
    void (*free_size_aligned)(void *, size_t, size_t);
    size_t (*usable_size)(const void *);
    void (*collect)(bool);
} mi;

static void *mimalloc_allocate(size_t size, size_t alignment)
{
    return mi.malloc_aligned(size, alignment);
}

static void *mimalloc_reallocate(void *ptr, size_t old_size, size_t new_size, size_t alignment)
{
    (void)old_size;
    return mi.realloc_aligned(ptr, new_size, alignment);
}

static void mimalloc_free(void *ptr, size_t size, size_t alignment)
{
    mi.free_size_aligned(ptr, size, alignment);
}

static size_t mimalloc_usable_size(const void *ptr)
{
    return mi.usable_size(ptr);
}

static void mimalloc_release_unused(void)
{
    mi.collect(true);
}

static const tally_backend mimalloc_backend = {
    .name = "mimalloc",
    .allocate = mimalloc_allocate,
    .reallocate = mimalloc_reallocate,
    .free = mimalloc_free,
    .usable_size = mimalloc_usable_size,
    .release_unused = mimalloc_release_unused,
};

static bool loaded;

static void load_mimalloc(void)
{
    void *h = dlopen(TALLY_MIMALLOC_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    void *syms[5] = {dlsym(h, "mi_malloc_aligned"), dlsym(h, "mi_realloc_aligned"),
                     dlsym(h, "mi_free_size_aligned"), dlsym(h, "mi_usable_size"),
                     dlsym(h, "mi_collect")};
    for (int i = 0; i < 5; i++)
        if (!syms[i])
            return; /* keep the handle: unloading an allocator is never safe */
    *(void **)&mi.malloc_aligned = syms[0];
    *(void **)&mi.realloc_aligned = syms[1];
    *(void **)&mi.free_size_aligned = syms[2];
    *(void **)&mi.usable_size = syms[3];
    *(void **)&mi.collect = syms[4];
    loaded = true;
}

const tally_backend *tally_backend_mimalloc(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_mimalloc);
    return loaded ? &mimalloc_backend : NULL;
}
