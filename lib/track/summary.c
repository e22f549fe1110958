/* summary.c: the exit summary on stderr, LSan-like, and stack printing.
 *
 *   tally: 128 bytes leaked in 2 allocations; peak 1.5 MiB; profile tally.prog.4242.prof
 *
 * then the leaks per pool, then the largest leak stacks (5, or all with
 * TALLY_REPORT=full), named in the process (names.c). The text goes out
 * with write(2), not stdio: the program's stderr buffer and locks are its
 * own. */
#include "track/dump.h"

#include "base/mem.h"
#include "track/live_table.h"
#include "track/names.h"
#include "track/say.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void human(char *out, size_t cap, int64_t bytes)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(out, cap, "%lld bytes", (long long)bytes);
        return;
    }
    double v = (double)bytes;
    int u = -1;
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    snprintf(out, cap, "%.1f %s", v, units[u]);
}

/* Leaks grouped by (stack, pool). */
typedef struct {
    uint32_t stack;
    int32_t pool;
    int64_t bytes, count;
} group;

static bool group_less(const group *a, const group *b)
{
    return a->bytes != b->bytes ? a->bytes < b->bytes : a->count < b->count;
}

static bool leak_less(const tt_snap_leak *a, const tt_snap_leak *b)
{
    return a->stack != b->stack ? a->stack < b->stack : a->pool < b->pool;
}

/* Heap sorts: qsort may allocate, and this runs where malloc is tracked. */
#define DEFINE_HEAPSORT(name, T, less)                                                             \
    static void name##_sift(T *a, size_t n, size_t i)                                              \
    {                                                                                              \
        for (;;) {                                                                                 \
            size_t m = i, l = 2 * i + 1, r = l + 1;                                                \
            if (l < n && less(&a[m], &a[l]))                                                       \
                m = l;                                                                             \
            if (r < n && less(&a[m], &a[r]))                                                       \
                m = r;                                                                             \
            if (m == i)                                                                            \
                return;                                                                            \
            T t = a[i];                                                                            \
            a[i] = a[m];                                                                           \
            a[m] = t;                                                                              \
            i = m;                                                                                 \
        }                                                                                          \
    }                                                                                              \
    static void name(T *a, size_t n)                                                               \
    {                                                                                              \
        for (size_t i = n / 2; i-- > 0;)                                                           \
            name##_sift(a, n, i);                                                                  \
        for (size_t k = n; k-- > 1;) {                                                             \
            T t = a[0];                                                                            \
            a[0] = a[k];                                                                           \
            a[k] = t;                                                                              \
            name##_sift(a, k, 0);                                                                  \
        }                                                                                          \
    }
DEFINE_HEAPSORT(sort_leaks, tt_snap_leak, leak_less)
DEFINE_HEAPSORT(sort_groups, group, group_less)

static const char *pool_name(const tt_snapshot *s, int32_t id)
{
    const tt_snap_pool *p = tt_snapshot_pool(s, id);
    return p && p->name[0] ? p->name : "?";
}

static void print_groups(int fd, const tt_snapshot *s, group *g, size_t n, bool estimated)
{
    sort_groups(g, n); /* ascending: the largest last */
    size_t shown = tt_cfg.report == TT_REPORT_FULL ? n : (n < 5 ? n : 5);
    tt_names *names = shown ? tt_names_open() : NULL;
    for (size_t i = 0; i < shown; i++) {
        const group *x = &g[n - 1 - i];
        tt_say(fd, "%s%lld bytes in %lld allocation%s in pool %s, allocated at:\n",
               estimated ? "~" : "", (long long)x->bytes, (long long)x->count,
               x->count == 1 ? "" : "s", pool_name(s, x->pool));
        tt_names_print_stack(fd, names, x->stack);
    }
    tt_names_close(names);
    if (shown < n)
        tt_say(fd, "tally: %zu more leak stack%s in the profile (TALLY_REPORT=full lists them)\n",
               n - shown, n - shown == 1 ? "" : "s");
}

static void print_exact(int fd, const tt_snapshot *s, const char *head)
{
    tt_snap_leak *l = s->leaks;
    size_t n = s->nleaks;
    int64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += l[i].size;
    if (n == 0) {
        tt_say(fd, "tally: no leaks; %s\n", head);
        return;
    }
    tt_say(fd, "tally: %lld bytes leaked in %zu allocation%s; %s\n", (long long)bytes, n,
           n == 1 ? "" : "s", head);
    for (size_t k = 0; k < s->npools; k++) {
        int64_t pb = 0, pc = 0;
        for (size_t i = 0; i < n; i++)
            if (l[i].pool == s->pools[k].id) {
                pb += l[i].size;
                pc++;
            }
        if (pc)
            tt_say(fd, "  pool %s: %lld bytes in %lld allocation%s\n", s->pools[k].name,
                   (long long)pb, (long long)pc, pc == 1 ? "" : "s");
    }
    sort_leaks(l, n);
    size_t bytes_needed = n * sizeof(group);
    group *g = base_map(bytes_needed);
    if (!g)
        return;
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (ng == 0 || g[ng - 1].stack != l[i].stack || g[ng - 1].pool != l[i].pool)
            g[ng++] = (group){l[i].stack, l[i].pool, 0, 0};
        g[ng - 1].bytes += l[i].size;
        g[ng - 1].count++;
    }
    print_groups(fd, s, g, ng, false);
    base_unmap(g, bytes_needed);
}

/* Sampled: the pools' own books are exact; per stack, estimates. */
static void print_sampled(int fd, const tt_snapshot *s, const char *head)
{
    int64_t bytes = 0, count = 0;
    for (size_t k = 0; k < s->npools; k++)
        if (!s->pools[k].wrapper) {
            bytes += s->pools[k].current;
            count += s->pools[k].live_count;
        }
    tt_say(fd, "tally: %lld bytes leaked in %lld allocation%s; %s\n", (long long)bytes,
           (long long)count, count == 1 ? "" : "s", head);
    for (size_t k = 0; k < s->npools; k++)
        if (s->pools[k].live_count)
            tt_say(fd, "  pool %s: %lld bytes in %lld allocation%s\n", s->pools[k].name,
                   (long long)s->pools[k].current, (long long)s->pools[k].live_count,
                   s->pools[k].live_count == 1 ? "" : "s");
    size_t bytes_needed = (s->nrecs + 1) * sizeof(group);
    group *g = base_map(bytes_needed);
    if (!g)
        return;
    size_t ng = 0;
    for (size_t i = 0; i < s->nrecs; i++)
        if (s->recs[i].live_bytes > 0)
            g[ng++] = (group){s->recs[i].stack, s->recs[i].pool, s->recs[i].live_bytes,
                              s->recs[i].live_count};
    if (ng)
        tt_say(fd, "tally: per-stack figures are estimates (sampled, mean %lld bytes)\n",
               (long long)tt_cfg.sample_bytes);
    print_groups(fd, s, g, ng, true);
    base_unmap(g, bytes_needed);
}

void tt_summary_print(const tt_snapshot *s, const char *path, bool wrote)
{
    if (tt_cfg.report == TT_REPORT_NONE)
        return;
    char peak[32], head[1200];
    human(peak, sizeof peak, s->peak_bytes);
    snprintf(head, sizeof head, "peak %s; profile %s%s", peak, path, wrote ? "" : " (not written)");
    if (tt_cfg.sample_bytes > 0)
        print_sampled(STDERR_FILENO, s, head);
    else
        print_exact(STDERR_FILENO, s, head);
}

/* ---- a pool destroyed with live blocks ------------------------------------------- */
#define DESTROY_SHOWN 10
typedef struct {
    int32_t pool;
    int shown, total;
    tt_entry blocks[DESTROY_SHOWN];
} destroy_walk;

static void collect_block(const tt_entry *e, void *arg)
{
    destroy_walk *w = arg;
    if (e->pool != w->pool)
        return;
    w->total++;
    if (w->shown < DESTROY_SHOWN)
        w->blocks[w->shown++] = *e;
}

TALLY_INTERNAL void tally_track_pool_destroyed(int32_t pool_id)
{
    destroy_walk w = {.pool = pool_id};
    tt_live_foreach(collect_block, &w);
    /* Named after the walk: the names take the loader's lock and allocate,
     * never under a shard's lock. */
    tt_names *names = w.shown ? tt_names_open() : NULL;
    for (int i = 0; i < w.shown; i++) {
        tt_say(STDERR_FILENO, "tally:   %lld bytes at %p, allocated at:\n",
               (long long)tt_entry_size(&w.blocks[i]), (void *)w.blocks[i].addr);
        tt_names_print_stack(STDERR_FILENO, names, w.blocks[i].stack);
    }
    tt_names_close(names);
    if (w.total > w.shown)
        tt_say(STDERR_FILENO, "tally:   ... and %d more live blocks\n", w.total - w.shown);
}
