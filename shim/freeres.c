/* freeres.c: no false leaks from the runtime's one-time allocations.
 *
 * glibc (stdio buffers, locale data, dlerror state) and libstdc++ (the
 * emergency exception pool) keep some blocks for the whole life of the
 * process. At exit they are live but are not the program's leaks. As
 * valgrind does, the shim asks both runtimes to free them, from an atexit
 * handler registered after the core's: handlers run last-in first-out, so
 * this runs after the program's own handlers and just before the core
 * writes the profile.
 *
 * The atexit handler of a shared library runs when that library is
 * finalised; the shim depends on libtally, so it is finalised first and
 * this runs before the core's own exit handler. */
#include "shim/shim.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

static int find_libstdcxx(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    return slash && strncmp(slash + 1, "libstdc++.so", 12) == 0;
}

/* Only when libstdc++ is loaded: a dlsym that fails allocates its error
 * message, at exit, with a stack (through the exit handlers) that tally's
 * own unwinder leaves to libunwind. In a C program that was most of what a
 * preloaded /bin/true cost. dl_iterate_phdr allocates nothing. */
static void free_cxx_pool(void)
{
    if (!dl_iterate_phdr(find_libstdcxx, NULL))
        return;
    void (*fn)(void);
    *(void **)&fn = dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv");
    if (fn)
        fn();
}

/* Both ways out free the runtimes' state only with no other thread left:
 * it is freed under any thread still using it (stdio, an exception in
 * flight), and a thread that forked meanwhile gave its child glibc's exit
 * lock held, the child hanging in its exit for good (tests/progs/leak_exit
 * fork: 4 of 20 runs left a child behind). Without this freeing, 7 runs
 * of 600 do, against 65 of 1600 with no tally at all: glibc's own race of
 * fork against exit, which tally no longer adds to. valgrind frees them
 * once the other threads are gone; here they stay, reachable from the
 * runtimes' own data. */
void shim_freeres_cxx(void)
{
    if (tally_track_alone())
        free_cxx_pool();
}

static void run_freeres(void)
{
    if (!tally_track_alone())
        return;
    /* libstdc++ first: its pool is freed with free(), which glibc's
     * freeres must not have torn down yet. */
    free_cxx_pool();
    void (*fn)(void);
    *(void **)&fn = dlsym(RTLD_DEFAULT, "__libc_freeres");
    if (fn)
        fn();
}

void shim_freeres_init(void)
{
    const char *e = getenv("TALLY_FREERES");
    if (e && e[0] == '0')
        return;
    atexit(run_freeres);
}
