/* attach.c: tracking in a process that was started without tally.
 *
 * `tally attach` (tools/attach.c) loads this library into the running
 * process with dlopen and calls tally_attach_start; `tally detach` calls
 * tally_attach_stop. The library was not preloaded, so its constructor
 * did nothing (init.c): no environment is read for the raw allocator, and
 * no signal is held. The raw allocator is glibc's, the one that made every
 * block the program holds: a block allocated before the attach, which the
 * books do not know, is simply handed back to glibc when freed
 * (shim_attached: no error is reported for it), and a block allocated
 * while attached stays a glibc block after the detach.
 *
 * Both entry points return a line for the user: "ok ..." or the reason it
 * failed, in a static buffer the tool reads from the process's memory. */
#include "shim/shim.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool shim_attached;
static bool detached;
static char message[1280];
static char output[1024]; /* the profile's path, for detach's answer */
static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static void *(*real_dlopen)(const char *, int);

static const char *say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return message;
}

/* A library loaded later gets the same routing as those loaded before. */
static void *attach_dlopen(const char *file, int mode)
{
    void *h = real_dlopen(file, mode);
    if (h) {
        tally_track_modules_changed();
        pthread_mutex_lock(&attach_lock);
        if (shim_attached && !detached)
            shim_got_route(false, NULL);
        pthread_mutex_unlock(&attach_lock);
    }
    return h;
}

static void attach_fork_child(void)
{
    if (shim_attached && !detached)
        tally_track_end_quietly();
}

/* "output=PATH\ndepth=N\n": the value of key, copied to out. */
static bool arg(const char *args, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = args; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, "\n");
            if (n >= cap)
                return false;
            memcpy(out, v, n);
            out[n] = 0;
            return true;
        }
    }
    return false;
}

static const char *start(const char *args)
{
    if (shim_attached)
        return say("this process was attached to already (a process is attached once)");
    if (__atomic_load_n((int *)&shim_state, __ATOMIC_ACQUIRE) != 0)
        return say("this process is tracked already: the shim was preloaded (tally run)");
    char depth[16];
    if (!arg(args, "output", output, sizeof output) || output[0] != '/')
        return say("no absolute output path given");
    tally_track_options opts = {.output = output, .interval_ms = 10};
    if (arg(args, "depth", depth, sizeof depth))
        opts.depth = atoi(depth);
    const backend_malloc_entries *e = tally_backend_malloc_entries("system");
    if (!e)
        return say("cannot bind glibc's allocator");
    int rc = shim_got_init((void *)attach_dlopen);
    if (rc != 0)
        return say("cannot find the shim's own functions: %s", strerror(rc));
    *(void **)&real_dlopen = shim_got_original("dlopen");
    if (!shim_got_original("malloc") || !real_dlopen)
        return say("malloc and dlopen are not glibc's here, or the shim is preloaded");
    shim_raw = *e;
    shim_attached = true;
    shim_pid = getpid();
    __atomic_store_n((int *)&shim_state, SHIM_READY, __ATOMIC_RELEASE);
    tally_track_say_init();
    rc = tally_track_start_attached(&opts);
    if (rc != 0) {
        detached = true;
        return say("cannot start tracking: %s", strerror(rc));
    }
    tally_track_name_pool(0, "malloc");
    shim_errors_init();
    (void)tally_track_capture(0, 0); /* warm-up: libunwind's first unwind allocates */
    pthread_atfork(NULL, NULL, attach_fork_child);
    int routed = 0;
    rc = shim_got_route(false, &routed);
    if (rc != 0) {
        shim_got_route(true, NULL); /* never half-routed */
        tally_track_end_quietly();
        detached = true;
        return say("cannot route the allocator calls: %s", strerror(rc));
    }
    return say("ok %d call sites routed", routed);
}

SHIM_EXPORT const char *tally_attach_start(const char *args)
{
    int saved = errno, busy = shim_thread.busy;
    shim_thread.busy = 1; /* what the start allocates is tally's, not the program's */
    pthread_mutex_lock(&attach_lock);
    const char *msg = start(args);
    pthread_mutex_unlock(&attach_lock);
    shim_thread.busy = busy;
    errno = saved;
    return msg;
}

/* The profile first, with every call still routed: a block freed while it
 * is written is booked, never left as a stale entry. Then the GOT entries
 * go back and tracking ends. */
static const char *stop(void)
{
    if (!shim_attached || detached)
        return say("this process is not attached (no tally attach, or detached already)");
    int rc = tally_track_detach();
    int err = shim_got_route(true, NULL);
    detached = true;
    if (err != 0)
        return say("cannot restore the allocator calls: %s", strerror(err));
    if (rc == EALREADY)
        return say("ok the profile was written already");
    if (rc != 0)
        return say("cannot write the profile: %s", strerror(rc));
    return say("ok %s", output);
}

SHIM_EXPORT const char *tally_attach_stop(void)
{
    int saved = errno, busy = shim_thread.busy;
    shim_thread.busy = 1;
    pthread_mutex_lock(&attach_lock);
    const char *msg = stop();
    pthread_mutex_unlock(&attach_lock);
    shim_thread.busy = busy;
    errno = saved;
    return msg;
}
