/* series.c: the time series, and the thread that writes requested dumps.
 *
 * A background thread samples each pool's current bytes and the process RSS
 * every interval_ms. Memory is bounded: when the buffer fills, every other
 * point is dropped and the period doubles. The hot path never touches this.
 * The same thread writes the snapshot a dump signal asks for: a signal
 * handler may only set a flag. */
#include "track/track_internal.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CAP 2048 /* points */
#define COLS 64  /* pools in the series: the first 64 that booked anything */
#define ROW (2 + COLS)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t *points; /* CAP rows: t_ns, rss, bytes[COLS] */
static int npoints, stride = 1, ticks;
static int32_t col_ids[COLS];
static int ncols;
static int32_t scanned; /* pool ids below this have been given a column or not */
static _Atomic int running;
_Atomic int tt_dump_requested;

static int64_t rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strchr(buf, ' ');
    int64_t pages = 0;
    for (p = p ? p + 1 : buf; *p >= '0' && *p <= '9'; p++)
        pages = pages * 10 + (*p - '0');
    return pages * sysconf(_SC_PAGESIZE);
}

static void assign_columns(void)
{
    int32_t max = tt_pool_max_id();
    for (; scanned < max && ncols < COLS; scanned++) {
        tt_pool *p = tt_pool_get(scanned, false);
        if (!p || !atomic_load(&p->active))
            break; /* not yet: look again next time */
        p->series_col = ncols + 1;
        col_ids[ncols++] = scanned;
    }
    /* A pool id that never books must not hold up the ones after it. */
    while (scanned < max && ncols < COLS) {
        tt_pool *p = tt_pool_get(scanned, false);
        if (p && atomic_load(&p->active))
            break;
        scanned++;
    }
}

static void record(void)
{
    pthread_mutex_lock(&lock);
    if (!points)
        points = tt_map(CAP * ROW * sizeof(int64_t));
    if (points && ticks++ % stride == 0) {
        if (npoints == CAP) {
            for (int i = 0; i < CAP / 2; i++)
                memcpy(&points[i * ROW], &points[2 * i * ROW], ROW * sizeof(int64_t));
            npoints = CAP / 2;
            stride *= 2;
        }
        assign_columns();
        int64_t *row = &points[npoints * ROW];
        row[0] = tt_now_ns() - tt_cfg.start_ns;
        row[1] = rss_bytes();
        for (int c = 0; c < COLS; c++) {
            tt_pool *p = c < ncols ? tt_pool_get(col_ids[c], false) : NULL;
            row[2 + c] = p ? atomic_load_explicit(&p->current, memory_order_relaxed) : 0;
        }
        if (npoints > 0 && row[0] < points[(npoints - 1) * ROW])
            row[0] = points[(npoints - 1) * ROW];
        npoints++;
    }
    pthread_mutex_unlock(&lock);
}

static void *series_main(void *arg)
{
    (void)arg;
    int64_t next = tt_now_ns();
    for (;;) {
        int interval = tt_cfg.interval_ms;
        int nap = interval > 0 && interval < 20 ? interval : 20;
        struct timespec ts = {0, (long)nap * 1000000L};
        nanosleep(&ts, NULL);
        if (atomic_exchange(&tt_dump_requested, 0))
            tt_dump(NULL, TT_REASON_SIGNAL);
        int64_t now = tt_now_ns();
        if (interval > 0 && now >= next && tally_track_is_on()) {
            record();
            next = now + (int64_t)interval * 1000000;
        }
    }
    return NULL;
}

void tt_series_start(void)
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
    if (pthread_create(&th, &attr, series_main, NULL) != 0)
        atomic_store(&running, 0);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void tt_series_payload(tt_buf *out, uint32_t *count)
{
    pthread_mutex_lock(&lock);
    tt_buf_u32(out, (uint32_t)ncols);
    for (int c = 0; c < ncols; c++)
        tt_buf_u32(out, (uint32_t)col_ids[c]);
    for (int i = 0; i < npoints; i++) {
        const int64_t *row = &points[i * ROW];
        for (int k = 0; k < 2 + ncols; k++)
            tt_buf_u64(out, (uint64_t)row[k]);
    }
    *count = (uint32_t)npoints;
    pthread_mutex_unlock(&lock);
}

void tt_series_lock(void)
{
    pthread_mutex_lock(&lock);
}

void tt_series_unlock(void)
{
    pthread_mutex_unlock(&lock);
}

/* The thread did not survive the fork; the next dump request or fold of the
 * child's books starts a new one. */
void tt_series_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    atomic_store(&running, 0);
}

TALLY_INTERNAL void tally_track_request_dump(void)
{
    atomic_store(&tt_dump_requested, 1);
}
