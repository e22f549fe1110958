/* system.c: glibc's malloc.
 *
 * The functions are bound through a handle on libc.so.6 rather than by name:
 * under the preload shim, the names malloc and free resolve to the shim
 * itself, and the system backend must reach glibc. Sanitizer builds call the
 * plain names so that ASan sees (and checks) every block. */
#include "backend/backend.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* glibc's malloc and realloc already return blocks aligned to this. */
#define MALLOC_ALIGNMENT alignof(max_align_t)

static struct {
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    void *(*memalign)(size_t, size_t);
    size_t (*malloc_usable_size)(void *);
} libc;

static void *system_allocate(size_t size, size_t alignment)
{
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    void *p = NULL;
    if (libc.posix_memalign(&p, alignment, size ? size : 1) != 0)
        return NULL;
    return p;
}

static void *system_reallocate(void *ptr, size_t old_size, size_t new_size, size_t alignment)
{
    if (alignment <= MALLOC_ALIGNMENT)
        return libc.realloc(ptr, new_size ? new_size : 1);
    /* realloc may move the block to an address with less alignment, and by
     * then the old block is gone: allocate, copy and free instead. */
    void *p = system_allocate(new_size, alignment);
    if (!p)
        return NULL;
    memcpy(p, ptr, old_size < new_size ? old_size : new_size);
    libc.free(ptr);
    return p;
}

static void system_free(void *ptr, size_t size, size_t alignment)
{
    (void)size;
    (void)alignment;
    libc.free(ptr);
}

static size_t system_usable_size(const void *ptr)
{
    return libc.malloc_usable_size((void *)ptr);
}

static void system_release_unused(void)
{
    malloc_trim(0);
}

static const backend_ops system_backend = {
    .name = "system",
    .allocate = system_allocate,
    .allocate_default_aligned = system_allocate,
    .reallocate = system_reallocate,
    .free = system_free,
    .usable_size = system_usable_size,
    .release_unused = system_release_unused,
};

/* glibc's memalign: the shim's aligned entry takes (size, alignment). */
static void *system_aligned(size_t size, size_t alignment)
{
    return libc.memalign(alignment, size);
}

static backend_malloc_entries system_entries;

/* glibc's figures are true when glibc serves every block. */
static struct mallinfo2 (*libc_mallinfo2)(void);

static void bind_libc(void)
{
    libc.posix_memalign = posix_memalign;
    libc.malloc = malloc;
    libc.calloc = calloc;
    libc.realloc = realloc;
    libc.free = free;
    libc.memalign = memalign;
    libc.malloc_usable_size = malloc_usable_size;
    libc_mallinfo2 = mallinfo2;
#ifndef TALLY_SANITIZERS
    void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (h) {
        static const char *const names[] = {"posix_memalign",    "malloc", "calloc",
                                            "realloc",           "free",   "memalign",
                                            "malloc_usable_size"};
        enum { N = sizeof names / sizeof names[0] };
        _Static_assert(sizeof libc == N * sizeof(void *), "one name per entry, in order");
        void *syms[N];
        bool all = true;
        for (int i = 0; i < N; i++)
            all &= (syms[i] = dlsym(h, names[i])) != NULL;
        if (all) /* else keep the plain names: nothing interposes them then */
            memcpy(&libc, syms, sizeof libc);
        void *mallinfo2_sym = dlsym(h, "mallinfo2");
        if (mallinfo2_sym)
            *(void **)&libc_mallinfo2 = mallinfo2_sym;
        dlclose(h);
    }
#endif
    system_entries = (backend_malloc_entries){
        .malloc = libc.malloc,
        .calloc = libc.calloc,
        .realloc = libc.realloc,
        .free = libc.free,
        .aligned = system_aligned,
        .usable_size = libc.malloc_usable_size,
        .mallinfo2 = libc_mallinfo2,
    };
}

const backend_ops *backend_system(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, bind_libc);
    return &system_backend;
}

const backend_malloc_entries *backend_system_entries(void)
{
    backend_system();
    return &system_entries;
}
