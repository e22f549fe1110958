/* series.c: the time series (series.h): each pool's current bytes and the
 * process RSS, a point each time service.c finds one due (every interval_ms
 * while the program allocates) and one at every dump. */
#include "track/series.h"

#include "track/ledger.h"

#include "profile/write.h"

#include <fcntl.h>
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
        tt_pool_books *p = tt_pool_books_get(scanned, false);
        if (!p || !atomic_load(&p->active))
            break; /* not yet: look again next time */
        p->series_col = ncols + 1;
        col_ids[ncols++] = scanned;
    }
    /* A pool id that never books must not hold up the ones after it. */
    while (scanned < max && ncols < COLS) {
        tt_pool_books *p = tt_pool_books_get(scanned, false);
        if (p && atomic_load(&p->active))
            break;
        scanned++;
    }
}

void tt_series_tick_now(bool last)
{
    if (tt_cfg.interval_ms <= 0)
        return;
    pthread_mutex_lock(&lock);
    if (!points)
        points = base_map(CAP * ROW * sizeof(int64_t));
    /* A thinned series keeps every stride-th point, and a dump's last one. */
    if (points && (ticks++ % stride == 0 || last)) {
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
            tt_pool_books *p = c < ncols ? tt_pool_books_get(col_ids[c], false) : NULL;
            row[2 + c] = p ? atomic_load_explicit(&p->current, memory_order_relaxed) : 0;
        }
        if (npoints > 0 && row[0] < points[(npoints - 1) * ROW])
            row[0] = points[(npoints - 1) * ROW];
        npoints++;
    }
    pthread_mutex_unlock(&lock);
}

void tt_series_payload(prof_writer *out, bool (*listed)(int32_t pool, const void *arg),
                       const void *arg)
{
    int cols[COLS], n = 0;
    int32_t ids[COLS];
    pthread_mutex_lock(&lock);
    for (int c = 0; c < ncols; c++) {
        if (listed(col_ids[c], arg)) {
            cols[n] = c;
            ids[n++] = col_ids[c];
        }
    }
    prof_write_series_pools(out, ids, (uint32_t)n);
    for (int i = 0; i < npoints; i++) {
        const int64_t *row = &points[i * ROW];
        int64_t bytes[COLS];
        for (int k = 0; k < n; k++)
            bytes[k] = row[2 + cols[k]];
        prof_write_series_point(out, row[0], row[1], bytes, (uint32_t)n);
    }
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

void tt_series_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
}
