/* libunwind_load.c: libunwind, loaded at tally's start and started on
 * first use.
 *
 * tally's own unwinder (fast_unwind.c) walks nearly every stack; libunwind
 * takes the rest (a signal frame, a DWARF expression, code without unwind
 * tables that is not the loader's first frame). Starting it cost every
 * process 15 system calls (its caches mapped, its pipe made, signals
 * blocked around it); the start now waits for the first walk that needs
 * it, and a program such as ls, python3 or cc1 never gets there.
 *
 * The load itself cannot wait: the first walk that needs libunwind is
 * often a signal handler's (a signal frame is the common reason), and
 * dlopen there, which allocates and takes the loader's lock, broke the
 * interrupted thread's allocator (test_shim_process's signal case crashed
 * in one run out of seven). So libunwind is dlopen'ed when tracking
 * starts, before the program runs. It is loaded privately (RTLD_LOCAL), so
 * that none of its names (it exports a weak `backtrace`) can stand in for
 * the program's, and libtally.so does not link it.
 *
 * The start (unw_set_caching_policy, where libunwind takes its own lock
 * with signals blocked) runs under start_lock, which the fork takes first:
 * no child inherits a start half done. libunwind's range is known before
 * it starts, for the shim's pipe2, which moves the pipe it makes above the
 * program's descriptors. */
#include <config.h>

#include "track/libunwind_load.h"

#include "track/modules.h"
#include "track/say.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define NAME_(x) #x
#define NAME(x) NAME_(x) /* the name a libunwind.h macro stands for */

tt_libunwind_fns tt_lu;
_Atomic int tt_libunwind_state;

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
/* This thread is inside the start: a signal handler that interrupted it,
 * and walks, would wait on itself. */
static __thread bool starting TT_TLS;
static uintptr_t libunwind_lo, libunwind_hi;

TALLY_INTERNAL bool tally_track_in_libunwind(const void *pc)
{
    return (uintptr_t)pc - libunwind_lo < libunwind_hi - libunwind_lo;
}

static int (*set_caching_policy)(unw_addr_space_t, unw_caching_policy_t);
static unw_addr_space_t *local_addr_space;
static bool loaded;
static char load_error[256];

/* Binds tt_lu and the start's two names, and finds libunwind's range (for
 * the shim's pipe2, before the start makes the pipe). Nothing is used
 * before tt_libunwind_state says started. */
static bool load(void)
{
    void *h = dlopen(TALLY_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return false;
    tt_lu = (tt_libunwind_fns){
        .backtrace = (int (*)(void **, int))dlsym(h, "unw_backtrace"),
        .getcontext = (int (*)(unw_context_t *))dlsym(h, NAME(unw_tdep_getcontext)),
        .init_local = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(h, NAME(unw_init_local)),
        .step = (int (*)(unw_cursor_t *))dlsym(h, NAME(unw_step)),
        .get_reg = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))dlsym(h, NAME(unw_get_reg)),
    };
    set_caching_policy =
        (int (*)(unw_addr_space_t, unw_caching_policy_t))dlsym(h, NAME(unw_set_caching_policy));
    local_addr_space = dlsym(h, NAME(unw_local_addr_space));
    return tt_lu.backtrace && tt_lu.getcontext && tt_lu.init_local && tt_lu.step && tt_lu.get_reg &&
           set_caching_policy && local_addr_space &&
           tt_module_range((const void *)tt_lu.backtrace, &libunwind_lo, &libunwind_hi);
}

void tt_libunwind_load(void)
{
    loaded = load();
    if (!loaded) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "%s", why ? why : "a name is missing");
    }
}

__attribute__((noinline)) bool tt_libunwind_start(void)
{
    int state = atomic_load_explicit(&tt_libunwind_state, memory_order_acquire);
    if (state != TT_LIBUNWIND_NOT_YET)
        return state == TT_LIBUNWIND_STARTED;
    if (starting)
        return false;
    starting = true;
    pthread_mutex_lock(&start_lock);
    state = atomic_load_explicit(&tt_libunwind_state, memory_order_relaxed);
    if (state == TT_LIBUNWIND_NOT_YET) {
        if (loaded) {
            set_caching_policy(*local_addr_space, UNW_CACHE_PER_THREAD);
            state = TT_LIBUNWIND_STARTED;
        } else {
            tt_say(tally_track_say_fd(),
                   "tally: %s could not be loaded (%s): a stack tally's own unwinder cannot "
                   "walk is booked under tally's frame that asked for it\n",
                   TALLY_LIBUNWIND_SONAME, load_error);
            state = TT_LIBUNWIND_MISSING;
        }
        atomic_store_explicit(&tt_libunwind_state, state, memory_order_release);
    }
    pthread_mutex_unlock(&start_lock);
    starting = false;
    return state == TT_LIBUNWIND_STARTED;
}

void tt_libunwind_lock(void)
{
    pthread_mutex_lock(&start_lock);
}

void tt_libunwind_unlock(void)
{
    pthread_mutex_unlock(&start_lock);
}

void tt_libunwind_fork_child(void)
{
    pthread_mutex_init(&start_lock, NULL);
}
