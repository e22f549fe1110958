/* ticker.c: the background thread that records the time series and writes
 * the dumps a signal asked for (a signal handler may only set a flag). */
#include "track/ticker.h"

#include "track/dump.h"
#include "track/series.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

static _Atomic int running;
static _Atomic int dump_requested;

static void *ticker_main(void *arg)
{
    (void)arg;
    for (;;) {
        int interval = tt_cfg.interval_ms;
        int nap = interval > 0 && interval < 20 ? interval : 20;
        struct timespec ts = {0, (long)nap * 1000000L};
        nanosleep(&ts, NULL);
        if (atomic_exchange(&dump_requested, 0))
            tt_dump(NULL, TT_REASON_SIGNAL, NULL);
        if (tally_track_is_on())
            tt_series_tick();
    }
    return NULL;
}

void tt_ticker_start(void)
{
    if (atomic_exchange(&running, 1))
        return;
    /* Process-directed signals must go to the program's threads, not here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t th;
    if (pthread_create(&th, &attr, ticker_main, NULL) != 0)
        atomic_store(&running, 0);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The thread did not survive the fork: the child starts its own. */
void tt_ticker_fork_child(void)
{
    atomic_store(&running, 0);
}

/* Async-signal-safe: one atomic store. */
TALLY_INTERNAL void tally_track_request_dump(void)
{
    atomic_store(&dump_requested, 1);
}
