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

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

shim_raw_allocator shim_raw;
_Atomic int shim_state;

static void warn(const char *msg)
{
    ssize_t r = write(STDERR_FILENO, msg, strlen(msg));
    (void)r;
}

/* ---- system: the next allocator in the search order (normally glibc) ---- */
static void *(*next_memalign)(size_t, size_t);

static void *system_aligned(size_t size, size_t alignment)
{
    return next_memalign(alignment, size);
}

static bool bind_system(void)
{
    void *m = dlsym(RTLD_NEXT, "malloc"), *c = dlsym(RTLD_NEXT, "calloc");
    void *r = dlsym(RTLD_NEXT, "realloc"), *f = dlsym(RTLD_NEXT, "free");
    void *a = dlsym(RTLD_NEXT, "memalign"), *u = dlsym(RTLD_NEXT, "malloc_usable_size");
    if (!m || !c || !r || !f || !a || !u)
        return false;
    *(void **)&shim_raw.malloc = m;
    *(void **)&shim_raw.calloc = c;
    *(void **)&shim_raw.realloc = r;
    *(void **)&shim_raw.free = f;
    *(void **)&next_memalign = a;
    shim_raw.aligned = system_aligned;
    *(void **)&shim_raw.usable_size = u;
    shim_raw.good_size = NULL;
    return true;
}

/* ---- mimalloc, loaded privately ------------------------------------------- */
/* mimalloc 2.0.9 maps and unmaps each block over its 16 MiB segment limit and
 * each new segment size, which made 5-25 MiB blocks ~13x slower than glibc's
 * here. A committed (but untouched, so not resident) arena reserved at start
 * makes them faster than glibc's. MIMALLOC_RESERVE_OS_MEMORY, when set, is
 * mimalloc's own and wins; TALLY_MI_RESERVE_MB=0 turns ours off. */
#define DEFAULT_RESERVE_MB 1024

static void reserve_arena(void *h)
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
    int (*reserve)(size_t, bool, bool);
    *(void **)&reserve = dlsym(h, "mi_reserve_os_memory");
    if (mb > 0 && reserve)
        reserve((size_t)mb << 20, true, false);
}

static bool bind_mimalloc(void)
{
    void *(*real_dlopen)(const char *, int);
    *(void **)&real_dlopen = dlsym(RTLD_NEXT, "dlopen");
    void *h = real_dlopen ? real_dlopen(TALLY_MIMALLOC_SONAME, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!h)
        return false;
    static const char *const names[] = {"mi_malloc",   "mi_calloc",         "mi_realloc",
                                        "mi_free",     "mi_malloc_aligned", "mi_usable_size",
                                        "mi_good_size"};
    void *syms[7];
    for (int i = 0; i < 7; i++)
        if (!(syms[i] = dlsym(h, names[i])))
            return false; /* keep the handle: unloading an allocator is never safe */
    *(void **)&shim_raw.malloc = syms[0];
    *(void **)&shim_raw.calloc = syms[1];
    *(void **)&shim_raw.realloc = syms[2];
    *(void **)&shim_raw.free = syms[3];
    *(void **)&shim_raw.aligned = syms[4];
    *(void **)&shim_raw.usable_size = syms[5];
    *(void **)&shim_raw.good_size = syms[6];
    reserve_arena(h);
    return true;
}

static void bind_raw(void)
{
    const char *name = getenv("TALLY_BACKEND");
    if (name && strcmp(name, "system") == 0) {
        if (bind_system())
            return;
        warn("tally: cannot bind the system allocator\n");
        abort();
    }
    if (name && *name && strcmp(name, "mimalloc") != 0)
        warn("tally: TALLY_BACKEND: unknown backend for the preload shim, using mimalloc\n");
    if (bind_mimalloc())
        return;
    warn("tally: cannot load " TALLY_MIMALLOC_SONAME ", using the system allocator\n");
    if (!bind_system())
        abort();
}

static void start_tracking(void)
{
    shim_pools_init();
    shim_errors_init();
    tally_track_start_from_env();
    tally_track_use_shadow(shim_raw.usable_size);
    tally_track_name_pool(0, "malloc");
    shim_pools_name();
    /* Warm-up: libunwind's first unwind allocates and reads its caches; do
     * it now, with this thread's allocations still in the arena. */
    if (tally_track_is_on()) {
        shim_busy = 1;
        (void)tally_track_capture(0, 0);
        shim_busy = 0;
    }
    shim_process_init();
}

void shim_init(void)
{
    if (__atomic_load_n((int *)&shim_state, __ATOMIC_ACQUIRE) == SHIM_READY || shim_in_init)
        return;
    int expected = 0;
    if (!__atomic_compare_exchange_n((int *)&shim_state, &expected, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return; /* another thread is initialising: the caller uses the arena */
    shim_in_init = 1;
    bind_raw();
    __atomic_store_n((int *)&shim_state, SHIM_READY, __ATOMIC_RELEASE);
    start_tracking();
    shim_in_init = 0;
}

__attribute__((constructor)) static void shim_constructor(void)
{
    shim_init();
    shim_freeres_init();
}
