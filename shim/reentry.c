/* reentry.c: this thread's state (shim_thread), and the work deferred while
 * busy.
 *
 * Initial-exec TLS lives in the static TLS block, so reading it never calls
 * __tls_get_addr (which may allocate) and it survives until the thread's
 * last TLS destructor has run: blocks freed during thread teardown are still
 * booked. */
#include "shim/shim.h"

__thread shim_thread_state shim_thread __attribute__((tls_model("initial-exec")));

/* A signal handler that frees tracked blocks while its thread is inside the
 * live table would deadlock on the table's lock; such frees wait here until
 * the interrupted call is done. A handful is plenty: handlers are short. */
#define DEFERRED_MAX 32
static __thread void *deferred[DEFERRED_MAX] __attribute__((tls_model("initial-exec")));
static __thread int ndeferred __attribute__((tls_model("initial-exec")));

void shim_defer_free(void *ptr)
{
    /* Beyond the limit the block is leaked, never freed unbooked: a stale
     * entry in the live table would later shadow a new block at that address. */
    if (ndeferred < DEFERRED_MAX) {
        deferred[ndeferred++] = ptr;
        shim_thread.pending = 1;
    }
}

void shim_run_pending(void)
{
    if (shim_thread.busy)
        return;
    shim_thread.pending = 0;
    while (ndeferred > 0 && !shim_thread.busy) {
        void *p = deferred[--ndeferred];
        /* Not left behind: this TLS is a root to the leak check, and the
         * next block at p would look reachable (shim_freed_key says why). */
        deferred[ndeferred] = NULL;
        shim_release(p, SHIM_DEALLOC_FREE, 0);
    }
    shim_signals_act();
}
