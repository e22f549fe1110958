/* summary.c: the exit summary on stderr, in memcheck's classes.
 *
 * When the leak check ran (tt_snapshot.classified), every live block has
 * its class, and the summary reads as valgrind's and LeakSanitizer's do:
 *
 *   tally: definitely lost: 600 bytes in 3 blocks; indirectly lost: 0 bytes in 0 blocks;
 *          possibly lost: 64 bytes in 1 block; still reachable: 1200 bytes in 12 blocks;
 *          peak 1.5 MiB; profile tally.prog.4242.prof            (one line)
 *
 * then the classes per pool, then the leaks: definitely and indirectly lost,
 * grouped by stack, pool and class, largest first (5, or all with
 * TALLY_REPORT=full); possibly lost apart; still reachable as that total
 * only, its stacks listed with TALLY_REPORT=full. Without the check (turned
 * off, or a run where it could not run) nothing is called lost: the blocks
 * are "live at exit", listed as before.
 *
 * Stacks are named in the process (names.c: libdw, loaded now). The text
 * goes out with write(2), not stdio: the program's stderr buffer and locks
 * are its own. */
#include "track/dump.h"

#include "base/mem.h"
#include "profile/format.h"
#include "profile/leak_groups.h"
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

static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static const char *const kind_name[PROF_LEAK_KINDS] = {
    [PROF_LEAK_LIVE] = "live",
    [PROF_LEAK_DEFINITE] = "definitely lost",
    [PROF_LEAK_INDIRECT] = "indirectly lost",
    [PROF_LEAK_POSSIBLE] = "possibly lost",
    [PROF_LEAK_REACHABLE] = "still reachable",
};

static unsigned kind_of(const tt_snap_leak *l)
{
    return l->kind < PROF_LEAK_KINDS ? l->kind : PROF_LEAK_LIVE;
}

/* Leaks grouped by (stack, pool, kind). */
typedef struct {
    uint32_t stack;
    int32_t pool;
    unsigned kind;
    int64_t bytes, count;
} group;

static bool group_less(const group *a, const group *b)
{
    return a->bytes != b->bytes ? a->bytes < b->bytes : a->count < b->count;
}

static bool site_less(const group *a, const group *b)
{
    if (a->stack != b->stack)
        return a->stack < b->stack;
    if (a->pool != b->pool)
        return a->pool < b->pool;
    return a->kind < b->kind;
}

static bool rec_less(const tt_snap_rec *const *a, const tt_snap_rec *const *b)
{
    return (*a)->stack != (*b)->stack ? (*a)->stack < (*b)->stack : (*a)->pool < (*b)->pool;
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
DEFINE_HEAPSORT(sort_by_site, group, site_less)
DEFINE_HEAPSORT(sort_groups, group, group_less)
DEFINE_HEAPSORT(sort_recs, const tt_snap_rec *, rec_less)

static const char *name_of(const tt_snap_pool *p)
{
    return p && p->name[0] ? p->name : "?";
}

static const char *pool_name(const tt_snapshot *s, int32_t id)
{
    return name_of(tt_snapshot_pool(s, id));
}

typedef struct {
    int64_t bytes, count;
} figure;

/* What one summary prints from: the groups, largest first; the totals per
 * class, of every leak and of each pool (the snapshot's k-th pool at
 * by_pool[k * PROF_LEAK_KINDS]; NULL in a sampled run, whose pool lines
 * come from the pools' own books, and without memory: no line per pool);
 * and the names (opened for the first stack printed: libdw is loaded only
 * when needed). */
typedef struct {
    int fd;
    const tt_snapshot *s;
    group *g;
    size_t ng;
    figure all[PROF_LEAK_KINDS];
    figure *by_pool;
    bool estimated;
    tt_names *names;
    bool names_tried;
} printer;

/* The totals, in one pass over the leaks. A pass per pool made the summary
 * quadratic: a program with 1000 pools and 200k live blocks spent 220 ms
 * of its exit there. A leak whose pool the snapshot does not hold (booked
 * while it was taken) counts in the totals only, as before. */
static void count_leaks(printer *p, size_t by_pool_bytes)
{
    const tt_snapshot *s = p->s;
    p->by_pool = s->npools && !p->estimated ? base_map(by_pool_bytes) : NULL;
    for (size_t i = 0; i < s->nleaks; i++) {
        const tt_snap_leak *l = &s->leaks[i];
        unsigned kind = kind_of(l);
        p->all[kind].bytes += l->size;
        p->all[kind].count += l->count;
        const tt_snap_pool *pool = p->by_pool ? tt_snapshot_pool(s, l->pool) : NULL;
        if (pool) {
            figure *f = &p->by_pool[(size_t)(pool - s->pools) * PROF_LEAK_KINDS + kind];
            f->bytes += l->size;
            f->count += l->count;
        }
    }
}

/* A pool's figures summed over the classes. */
static figure pool_total(const printer *p, size_t k)
{
    figure t = {0, 0};
    for (unsigned c = 0; c < PROF_LEAK_KINDS; c++) {
        t.bytes += p->by_pool[k * PROF_LEAK_KINDS + c].bytes;
        t.count += p->by_pool[k * PROF_LEAK_KINDS + c].count;
    }
    return t;
}

static void print_stack(printer *p, uint32_t stack)
{
    if (!p->names_tried) {
        p->names = tt_names_open();
        p->names_tried = true;
    }
    tt_names_print_stack(p->fd, p->names, stack);
}

/* Prints the groups of the kinds in mask (1 << kind), largest first: at
 * most `limit` (0: all), then how many more there are. Returns how many
 * groups it printed. */
static size_t print_groups(printer *p, unsigned mask, size_t limit, const char *more_what)
{
    size_t total = 0, shown = 0;
    for (size_t i = p->ng; i-- > 0;) { /* sorted ascending: the largest last */
        const group *x = &p->g[i];
        if (!(mask & (1u << x->kind)))
            continue;
        total++;
        if (limit && shown == limit)
            continue;
        shown++;
        const char *est = p->estimated ? "~" : "";
        if (x->kind == PROF_LEAK_LIVE)
            tt_say(p->fd, "%s%lld bytes in %lld %s in pool %s, allocated at:\n", est,
                   (long long)x->bytes, (long long)x->count,
                   plural(x->count, "allocation", "allocations"), pool_name(p->s, x->pool));
        else
            tt_say(p->fd, "%s%lld bytes in %lld %s %s in pool %s, allocated at:\n", est,
                   (long long)x->bytes, (long long)x->count, plural(x->count, "block", "blocks"),
                   kind_name[x->kind], pool_name(p->s, x->pool));
        print_stack(p, x->stack);
    }
    if (shown < total)
        tt_say(p->fd, "tally: %zu more %s %s in the profile (TALLY_REPORT=full lists them)\n",
               total - shown, more_what, plural((int64_t)(total - shown), "stack", "stacks"));
    return shown;
}

/* Groups the leaks by (stack, pool, kind), in that order (scale_groups
 * reads them so). Hashed, then the groups sorted: heap-sorting the leaks
 * themselves took 6 ms of a summary of 1M blocks, and wrote into the
 * snapshot. With no memory for the index, no group: the summary lists no
 * stacks. */
static size_t group_leaks(const tt_snapshot *s, group *g, bool with_stack_only)
{
    prof_leak_groups index = {0};
    for (size_t i = 0; i < s->nleaks; i++) {
        const tt_snap_leak *l = &s->leaks[i];
        if (!with_stack_only || l->stack != 0)
            prof_leak_group_add_n(&index, l->stack, l->pool, kind_of(l), l->size, l->count);
    }
    size_t ng = 0;
    if (!index.failed) {
        const prof_leak *x = (const prof_leak *)index.groups.data;
        for (; ng < index.n; ng++)
            g[ng] = (group){x[ng].stack_id, x[ng].pool_id, x[ng].kind, x[ng].bytes, x[ng].count};
    }
    prof_leak_groups_free(&index);
    sort_by_site(g, ng);
    return ng;
}

/* Sampled: a (stack, pool)'s sampled blocks stand for its record's
 * estimate; each class gets its share of it. */
static void scale_groups(const tt_snapshot *s, group *g, size_t ng)
{
    size_t bytes = (s->nrecs + 1) * sizeof(const tt_snap_rec *);
    const tt_snap_rec **r = base_map(bytes);
    if (!r)
        return;
    for (size_t i = 0; i < s->nrecs; i++)
        r[i] = &s->recs[i];
    sort_recs(r, s->nrecs);
    size_t j = 0;
    for (size_t a = 0; a < ng;) { /* groups are in (stack, pool) order */
        size_t b = a;
        int64_t seen_bytes = 0, seen_count = 0;
        for (; b < ng && g[b].stack == g[a].stack && g[b].pool == g[a].pool; b++) {
            seen_bytes += g[b].bytes;
            seen_count += g[b].count;
        }
        while (j < s->nrecs &&
               (r[j]->stack < g[a].stack || (r[j]->stack == g[a].stack && r[j]->pool < g[a].pool)))
            j++;
        if (j < s->nrecs && r[j]->stack == g[a].stack && r[j]->pool == g[a].pool)
            for (size_t k = a; k < b; k++) {
                g[k].bytes = seen_bytes ? (int64_t)((double)r[j]->live_bytes * (double)g[k].bytes /
                                                        (double)seen_bytes +
                                                    0.5)
                                        : 0;
                g[k].count = seen_count ? (int64_t)((double)r[j]->live_count * (double)g[k].count /
                                                        (double)seen_count +
                                                    0.5)
                                        : 0;
            }
        a = b;
    }
    base_unmap(r, bytes);
}

static int say_figure(char *out, size_t cap, const char *sep, const char *what, figure f,
                      const char *colon)
{
    return snprintf(out, cap, "%s%s%s %lld bytes in %lld %s", sep, what, colon, (long long)f.bytes,
                    (long long)f.count, plural(f.count, "block", "blocks"));
}

/* "definitely lost 600 bytes in 3 blocks; ..." for the nonzero classes of
 * the snapshot's pool number i. */
static void print_pool_classes(const printer *p, size_t i)
{
    const figure *k = &p->by_pool[i * PROF_LEAK_KINDS];
    char line[512];
    size_t len = 0;
    for (unsigned c = PROF_LEAK_DEFINITE; c < PROF_LEAK_KINDS; c++)
        if (k[c].count && len < sizeof line) {
            int n =
                say_figure(line + len, sizeof line - len, len ? "; " : "", kind_name[c], k[c], "");
            len += n > 0 ? (size_t)n : 0;
        }
    if (len)
        tt_say(p->fd, "  pool %s: %s\n", name_of(&p->s->pools[i]), line);
}

/* The check ran: the four classes, the leaks, possibly lost apart. */
static void print_classified(printer *p, const char *head)
{
    const tt_snapshot *s = p->s;
    const figure *k = p->all;
    char line[512];
    size_t len = 0;
    for (unsigned c = PROF_LEAK_DEFINITE; c < PROF_LEAK_KINDS && len < sizeof line; c++) {
        int n = say_figure(line + len, sizeof line - len, len ? "; " : "", kind_name[c], k[c], ":");
        len += n > 0 ? (size_t)n : 0;
    }
    /* A sampled run's unsampled pool blocks are booked without an address
     * (untabled): the check cannot see them. */
    figure unseen = {0, 0};
    if (tt_cfg.sample_bytes > 0) {
        for (size_t i = 0; i < s->npools; i++)
            if (!s->pools[i].wrapper) {
                unseen.bytes += s->pools[i].current;
                unseen.count += s->pools[i].live_count;
            }
        for (unsigned c = 0; c < PROF_LEAK_KINDS; c++) {
            unseen.bytes -= k[c].bytes;
            unseen.count -= k[c].count;
        }
        if (unseen.bytes > 0 && unseen.count > 0 && len < sizeof line) {
            int n = say_figure(line + len, sizeof line - len, "; ", "not checked (sampled)", unseen,
                               ":");
            len += n > 0 ? (size_t)n : 0;
        }
    }
    tt_say(p->fd, "tally: %s; %s\n", line, head);

    if (tt_cfg.sample_bytes > 0) {
        for (size_t i = 0; i < s->npools; i++)
            if (s->pools[i].live_count)
                tt_say(p->fd, "  pool %s: %lld bytes in %lld %s live\n", s->pools[i].name,
                       (long long)s->pools[i].current, (long long)s->pools[i].live_count,
                       plural(s->pools[i].live_count, "block", "blocks"));
    } else if (p->by_pool) {
        for (size_t i = 0; i < s->npools; i++)
            print_pool_classes(p, i);
    }
    if (p->estimated && p->ng)
        tt_say(p->fd, "tally: per-stack figures are estimates (sampled, mean %lld bytes)\n",
               (long long)tt_cfg.sample_bytes);

    bool full = tt_cfg.report == TT_REPORT_FULL;
    print_groups(p, 1u << PROF_LEAK_DEFINITE | 1u << PROF_LEAK_INDIRECT, full ? 0 : 5, "leak");
    if (k[PROF_LEAK_POSSIBLE].count) {
        tt_say(p->fd, "tally: possibly lost (reached only through interior pointers):\n");
        print_groups(p, 1u << PROF_LEAK_POSSIBLE, full ? 0 : 5, "possibly lost");
    }
    if (k[PROF_LEAK_REACHABLE].count) {
        if (full) {
            tt_say(p->fd, "tally: still reachable:\n");
            print_groups(p, 1u << PROF_LEAK_REACHABLE, 0, "still reachable");
        } else {
            tt_say(p->fd, "tally: still reachable blocks are not listed (TALLY_REPORT=full "
                          "lists them)\n");
        }
    }
}

/* No check: every block is "live at exit", listed as one class. */
static void print_unclassified(printer *p, const char *head)
{
    const tt_snapshot *s = p->s;
    int64_t bytes = 0, count = 0;
    if (tt_cfg.sample_bytes > 0) { /* the pools' own books are exact */
        for (size_t k = 0; k < s->npools; k++)
            if (!s->pools[k].wrapper) {
                bytes += s->pools[k].current;
                count += s->pools[k].live_count;
            }
    } else {
        for (unsigned c = 0; c < PROF_LEAK_KINDS; c++) {
            bytes += p->all[c].bytes;
            count += p->all[c].count;
        }
    }
    if (count == 0) {
        tt_say(p->fd, "tally: no leaks; %s\n", head);
        return;
    }
    tt_say(p->fd, "tally: %lld bytes live at exit in %lld %s; %s\n", (long long)bytes,
           (long long)count, plural(count, "allocation", "allocations"), head);
    for (size_t k = 0; k < s->npools; k++) {
        int64_t pb = 0, pc = 0;
        if (tt_cfg.sample_bytes > 0) {
            pb = s->pools[k].current;
            pc = s->pools[k].live_count;
        } else if (p->by_pool) {
            figure t = pool_total(p, k);
            pb = t.bytes;
            pc = t.count;
        }
        if (pc)
            tt_say(p->fd, "  pool %s: %lld bytes in %lld %s\n", s->pools[k].name, (long long)pb,
                   (long long)pc, plural(pc, "allocation", "allocations"));
    }
    if (p->estimated && p->ng)
        tt_say(p->fd, "tally: per-stack figures are estimates (sampled, mean %lld bytes)\n",
               (long long)tt_cfg.sample_bytes);
    print_groups(p, 1u << PROF_LEAK_LIVE, tt_cfg.report == TT_REPORT_FULL ? 0 : 5, "leak");
}

TALLY_INTERNAL tally_error_counts tally_track_errors;

/* valgrind's last line: the program's allocator errors, when it made any. */
static void print_errors(int fd)
{
    uint64_t n = atomic_load(&tally_track_errors.errors);
    uint64_t contexts = atomic_load(&tally_track_errors.contexts);
    uint64_t past = atomic_load(&tally_track_errors.unassigned);
    if (n == 0)
        return;
    char more[96] = "";
    if (past)
        snprintf(more, sizeof more, ", and %llu past the report limits", (unsigned long long)past);
    tt_say(fd, "tally: ERROR SUMMARY: %llu error%s from %llu context%s%s\n", (unsigned long long)n,
           n == 1 ? "" : "s", (unsigned long long)contexts, contexts == 1 ? "" : "s", more);
}

void tt_summary_print(const tt_snapshot *s, const char *path, bool wrote)
{
    if (tt_cfg.report == TT_REPORT_NONE)
        return;
    char peak[32], head[1200];
    human(peak, sizeof peak, s->peak_bytes);
    snprintf(head, sizeof head, "peak %s; profile %s%s", peak, path, wrote ? "" : " (not written)");
    printer p = {.fd = tally_track_say_fd(), .s = s, .estimated = tt_cfg.sample_bytes > 0};
    size_t by_pool_bytes = s->npools * PROF_LEAK_KINDS * sizeof(figure);
    count_leaks(&p, by_pool_bytes);
    size_t bytes = (s->nleaks + s->nrecs + 1) * sizeof(group);
    p.g = base_map(bytes);
    if (p.g) {
        if (p.estimated && !s->classified) {
            /* Unclassified and sampled: the records' estimates, as ever. */
            for (size_t i = 0; i < s->nrecs; i++)
                if (s->recs[i].live_bytes > 0)
                    p.g[p.ng++] = (group){s->recs[i].stack, s->recs[i].pool, PROF_LEAK_LIVE,
                                          s->recs[i].live_bytes, s->recs[i].live_count};
        } else {
            p.ng = group_leaks(s, p.g, p.estimated);
            if (p.estimated)
                scale_groups(s, p.g, p.ng);
        }
        sort_groups(p.g, p.ng);
    }
    if (s->classified)
        print_classified(&p, head);
    else
        print_unclassified(&p, head);
    tt_names_close(p.names);
    if (p.g)
        base_unmap(p.g, bytes);
    base_unmap(p.by_pool, by_pool_bytes);
    print_errors(p.fd);
}

/* ---- a pool destroyed with live blocks ------------------------------------------- */
/* The blocks follow lib/pool's own line ("pool '...' destroyed with ...",
 * written to the program's stderr by the library the program linked and
 * called), so they go to fd 2 as well, not to tally's descriptor: one
 * report, one stream. Only a program that uses libtally's pools gets it. */
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
