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

static void (*mi_collect_fn)(bool);

static void mimalloc_release_unused(void)
{
    mi_collect_fn(true);
}

/* Filled at load time with mimalloc's own entry points where their signatures
 * match ours, so a pool allocation costs no extra call. */
static backend_ops mimalloc_backend = {
    .name = "mimalloc",
    .release_unused = mimalloc_release_unused,
};

/* mi_free_size_aligned only forwards to mi_free through two PLT hops. */
static void (*mi_free_fn)(void *);

static void mimalloc_free(void *ptr, size_t size, size_t alignment)
{
    (void)size;
    (void)alignment;
    mi_free_fn(ptr);
}

/* mi_realloc_aligned takes no old size; adapt it. */
static void *(*mi_realloc_aligned_fn)(void *, size_t, size_t);

static void *mimalloc_reallocate(void *ptr, size_t old_size, size_t new_size, size_t alignment)
{
    (void)old_size;
    return mi_realloc_aligned_fn(ptr, new_size, alignment);
}

/* The malloc-shaped entries are mimalloc's own. */
static backend_malloc_entries mimalloc_entries;
static int (*mi_reserve_fn)(size_t, bool, bool);
static bool (*mi_in_heap_fn)(const void *);

static bool loaded;

static void load_mimalloc(void)
{
    void *h = dlopen(TALLY_MIMALLOC_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    static const char *const names[] = {"mi_malloc_aligned",
                                        "mi_realloc_aligned",
                                        "mi_free",
                                        "mi_usable_size",
                                        "mi_collect",
                                        "mi_malloc",
                                        "mi_calloc",
                                        "mi_realloc",
                                        "mi_good_size",
                                        "mi_reserve_os_memory",
                                        "mi_is_in_heap_region"};
    enum { N = sizeof names / sizeof names[0] };
    void *syms[N];
    for (int i = 0; i < N; i++)
        if (!(syms[i] = dlsym(h, names[i])))
            return; /* keep the handle: unloading an allocator is never safe */
    *(void **)&mimalloc_backend.allocate = syms[0];
    *(void **)&mi_realloc_aligned_fn = syms[1];
    mimalloc_backend.reallocate = mimalloc_reallocate;
    *(void **)&mi_free_fn = syms[2];
    mimalloc_backend.free = mimalloc_free;
    mimalloc_backend.free_unsized = mi_free_fn;
    *(void **)&mimalloc_backend.usable_size = syms[3];
    *(void **)&mi_collect_fn = syms[4];
    *(void **)&mimalloc_entries.malloc = syms[5];
    *(void **)&mimalloc_entries.calloc = syms[6];
    *(void **)&mimalloc_entries.realloc = syms[7];
    mimalloc_entries.free = mi_free_fn;
    *(void **)&mimalloc_entries.aligned = syms[0];
    *(void **)&mimalloc_entries.usable_size = syms[3];
    *(void **)&mimalloc_entries.good_size = syms[8];
    *(void **)&mi_reserve_fn = syms[9];
    *(void **)&mi_in_heap_fn = syms[10];
    loaded = true;
}

const backend_ops *backend_mimalloc(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_mimalloc);
    return loaded ? &mimalloc_backend : NULL;
}

const backend_malloc_entries *backend_mimalloc_entries(void)
{
    return backend_mimalloc() ? &mimalloc_entries : NULL;
}

bool tally_backend_mimalloc_reserve(size_t bytes)
{
    return backend_mimalloc() && mi_reserve_fn(bytes, true, false) == 0;
}

bool backend_mimalloc_owns(const void *p)
{
    return loaded && mi_in_heap_fn(p);
}
