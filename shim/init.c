/* init.c: choosing and binding the raw allocator, then starting the books.
 *
 * Initialisation runs on the first allocator call (often before the shim's
 * constructor: other libraries' constructors allocate first) and again from
 * the constructor. While it runs, this thread's allocations come from the
 * bootstrap arena: dlopen and dlsym allocate, and the tracking core's own
 * start-up must not be booked as the program's. Other threads are never made
 * to wait (they might hold the loader lock the initialising thread needs):
 * they too are served from the arena until the raw allocator is bound. */
#include "shim/shim.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

backend_malloc_entries shim_raw;
_Atomic int shim_state;

static void warn(const char *msg)
{
    tally_track_say_text(msg, strlen(msg)); /* tally's descriptor, not fd 2 */
}

/* mimalloc 2.0.9 maps and unmaps each block over its 16 MiB segment limit and
 * each new segment size, which made 5-25 MiB blocks ~13x slower than glibc's
 * here. A committed (but untouched, so not resident) arena reserved at start
 * makes them faster than glibc's. MIMALLOC_RESERVE_OS_MEMORY, when set, is
 * mimalloc's own and wins; TALLY_MI_RESERVE_MB=0 turns ours off. */
#define DEFAULT_RESERVE_MB 1024

static void reserve_arena(void)
{
    if (getenv("MIMALLOC_RESERVE_OS_MEMORY"))
        return;
    long mb = DEFAULT_RESERVE_MB;
    const char *env = getenv("TALLY_MI_RESERVE_MB");
    if (env)
        mb = strtol(env, NULL, 10);
    /* Never more than a quarter of the machine: commit charge is counted. */
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0 && mb > pages / 4 * psize / (1 << 20))
        mb = pages / 4 * psize / (1 << 20);
    if (mb > 0)
        tally_backend_mimalloc_reserve((size_t)mb << 20);
}

/* The raw allocator comes from lib/backend, in malloc's shape: mimalloc
 * (loaded privately) by default, glibc's with TALLY_BACKEND=system. */
static bool bind(const char *name)
{
    const backend_malloc_entries *e = tally_backend_malloc_entries(name);
    if (!e)
        return false;
    shim_raw = *e;
    return true;
}

static void bind_raw(void)
{
    const char *name = getenv("TALLY_BACKEND");
    if (name && strcmp(name, "system") == 0) {
        if (bind("system"))
            return;
        warn("tally: cannot bind the system allocator\n");
        abort();
    }
    if (name && *name && strcmp(name, "mimalloc") != 0)
        warn("tally: TALLY_BACKEND: unknown backend for the preload shim, using mimalloc\n");
    if (bind("mimalloc")) {
        reserve_arena();
        return;
    }
    warn("tally: cannot load " TALLY_MIMALLOC_SONAME ", using the system allocator\n");
    if (!bind("system"))
        abort();
}

/* libunwind keeps a pipe open for good (it checks memory with it), made at
 * start on the lowest free descriptors and then moved far above them
 * (entry_pipe.c). A program started with stdin, stdout or stderr closed
 * expects its next open() to land there, so even for that moment the
 * closed ones among 0, 1 and 2 are held (/dev/null) while tracking starts,
 * and given back after. */
static int hold_std_fds(int held[3])
{
    int n = 0, fd;
    while (n < 3 && (fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
        if (fd > 2) {
            close(fd);
            break;
        }
        held[n++] = fd;
    }
    return n;
}

static void start_tracking(void)
{
    int held[3];
    int nheld = hold_std_fds(held);
    shim_pools_init();
    shim_errors_init();
    tally_track_start_from_env();
    tally_track_use_shadow(shim_raw.usable_size);
    tally_track_name_pool(0, "malloc");
    shim_pools_name();
    shim_mmap_init();
    while (nheld > 0)
        close(held[--nheld]);
    shim_process_init();
}

bool shim_ready_slow(void)
{
    if (__atomic_load_n((int *)&shim_state, __ATOMIC_ACQUIRE) != SHIM_READY || shim_thread.in_init)
        return false;
    shim_thread.ready = 1;
    return true;
}

void shim_init(void)
{
    if (__atomic_load_n((int *)&shim_state, __ATOMIC_ACQUIRE) == SHIM_READY || shim_thread.in_init)
        return;
    int expected = 0;
    if (!__atomic_compare_exchange_n((int *)&shim_state, &expected, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return; /* another thread is initialising: the caller uses the arena */
    shim_thread.in_init = 1;
    tally_track_say_init(); /* stderr as it is now, before any message */
    bind_raw();
    __atomic_store_n((int *)&shim_state, SHIM_READY, __ATOMIC_RELEASE);
    start_tracking();
    shim_thread.in_init = 0;
}

__attribute__((constructor)) static void shim_constructor(void)
{
#ifdef TALLY_ATTACH_BUILD
    /* libtally-attach.so, loaded by tally attach's dlopen: not the program's
     * malloc (glibc's is found first). It starts nothing on its own (no
     * environment, no signals, no exit handler): tally_attach_start does
     * what is needed (attach.c). */
    return;
#endif
    shim_init();
    shim_freeres_init();
}
