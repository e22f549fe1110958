/* reentry.c: the per-thread re-entry flags, and frees deferred while busy.
 *
 * Initial-exec TLS lives in the static TLS block, so reading it never calls
 * __tls_get_addr (which may allocate) and it survives until the thread's
 * last TLS destructor has run: blocks freed during thread teardown are still
 * booked. */
#include "shim/shim.h"

__thread int shim_busy __attribute__((tls_model("initial-exec")));
__thread int shim_in_init __attribute__((tls_model("initial-exec")));
__thread int shim_deferred_count __attribute__((tls_model("initial-exec")));

/* A signal handler that frees tracked blocks while its thread is inside the
 * live table would deadlock on the table's lock; such frees wait here until
 * the interrupted call is done. A handful is plenty: handlers are short. */
#define DEFERRED_MAX 32
static __thread void *deferred[DEFERRED_MAX] __attribute__((tls_model("initial-exec")));

void shim_defer_free(void *ptr)
{
    /* Beyond the limit the block is leaked, never freed unbooked: a stale
     * entry in the live table would later shadow a new block at that address. */
    if (shim_deferred_count < DEFERRED_MAX)
        deferred[shim_deferred_count++] = ptr;
}

void shim_run_deferred(void)
{
    while (shim_deferred_count > 0 && !shim_busy) {
        void *p = deferred[--shim_deferred_count];
        shim_release(p, SHIM_DEALLOC_FREE, 0);
    }
}
