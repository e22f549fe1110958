/* backend.c: the registry of raw allocators, in preference order. */
#include "backend/backend.h"

#include <pthread.h>
#include <string.h>

typedef const backend_ops *(*backend_getter)(void);

/* Preference order: mimalloc is the fastest at small sizes, jemalloc the most
 * frugal with long-lived heaps, and the system allocator is always there. */
static const backend_getter all_backends[] = {
    backend_mimalloc,
    backend_jemalloc,
    backend_system,
};
#define N_BACKENDS (sizeof all_backends / sizeof all_backends[0])

static const char *available_names[N_BACKENDS + 1];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void collect_names(void)
{
    size_t n = 0;
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const backend_ops *b = all_backends[i]();
        if (b)
            available_names[n++] = b->name;
    }
    available_names[n] = NULL;
}

/* libtally-jemalloc.so's, when the program linked it (jemalloc.c says why
 * it is a library of its own): weak, so that they are NULL without it. */
TALLY_INTERNAL const backend_ops *tally_backend_jemalloc_ops(void) __attribute__((weak));
TALLY_INTERNAL const void *tally_backend_jemalloc_code(void) __attribute__((weak));

const backend_ops *backend_jemalloc(void)
{
    return tally_backend_jemalloc_ops ? tally_backend_jemalloc_ops() : NULL;
}

const void *backend_jemalloc_code(void)
{
    return tally_backend_jemalloc_code ? tally_backend_jemalloc_code() : NULL;
}

const char *const *backend_names(void)
{
    pthread_once(&names_once, collect_names);
    return available_names;
}

const backend_ops *backend_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const backend_ops *b = all_backends[i]();
        if (b && strcmp(b->name, name) == 0)
            return b;
    }
    return NULL;
}

const backend_ops *backend_preferred(void)
{
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const backend_ops *b = all_backends[i]();
        if (b)
            return b;
    }
    return NULL; /* unreachable: the system backend always exists */
}

const backend_malloc_entries *tally_backend_malloc_entries(const char *name)
{
    if (name && strcmp(name, "system") == 0)
        return backend_system_entries();
    if (name && strcmp(name, "mimalloc") == 0)
        return backend_mimalloc_entries();
    return NULL;
}

size_t tally_backend_code(const void **out, size_t max)
{
    const void *code[] = {backend_mimalloc_code(), backend_jemalloc_code()};
    size_t n = 0;
    for (size_t i = 0; i < sizeof code / sizeof code[0] && n < max; i++)
        if (code[i])
            out[n++] = code[i];
    return n;
}
