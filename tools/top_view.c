/* top_view.c: one frame of the live view, as text.
 *
 * From the last two publications of the process (the segment copied by
 * top_source.c): the totals, the elapsed time and the RSS; each pool's
 * current bytes, peak, live blocks and allocations a second (the change of
 * its allocation count between the two publications, or the average since
 * start while there is one); the top stacks by live bytes with their
 * growth since the last publication, or, in the peak view, by the bytes
 * each held at the process's peak. Stacks are named by the tools'
 * symbolizer (symbolize.c) over the module list the segment carries. Bytes
 * are exact figures: the view is for reading and for scripts alike. */
#include <config.h>

#include "symbolize.h"
#include "top.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct top_view {
    pid_t pid;
    prof_live_segment *cur, *prev; /* prev: NULL before a second publication */
    int64_t rss;
    /* the symbolizer over cur's modules, made again when they change */
    cli_symbolizer *sym;
    prof_profile prof;
    uint64_t modules_hash;
    /* the text being made */
    char *buf;
    size_t cap, len;
    int rows, cols, lines;
};

top_view *top_view_new(pid_t pid)
{
    top_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->pid = pid;
    v->rss = -1;
    return v;
}

static void drop_symbolizer(top_view *v)
{
    cli_sym_free(v->sym);
    v->sym = NULL;
    for (size_t i = 0; i < v->prof.nmodules; i++) {
        free(v->prof.modules[i].path);
        free(v->prof.modules[i].build_id);
    }
    free(v->prof.modules);
    memset(&v->prof, 0, sizeof v->prof);
}

void top_view_free(top_view *v)
{
    if (!v)
        return;
    drop_symbolizer(v);
    free(v->cur);
    free(v->prev);
    free(v);
}

static uint64_t modules_hash(const prof_live_segment *s)
{
    uint64_t h = 1469598103934665603ULL ^ s->nmodules;
    for (uint32_t i = 0; i < s->nmodules; i++)
        h = (h ^ s->modules[i].start ^ (uint64_t)s->modules[i].path << 40) * 1099511628211ULL;
    return h;
}

/* The tools' symbolizer takes a profile: one with only the modules. */
static void make_symbolizer(top_view *v)
{
    const prof_live_segment *s = v->cur;
    uint64_t h = modules_hash(s);
    if (v->sym && h == v->modules_hash)
        return;
    drop_symbolizer(v);
    v->modules_hash = h;
    v->prof.modules = calloc(s->nmodules ? s->nmodules : 1, sizeof *v->prof.modules);
    if (!v->prof.modules)
        return;
    for (uint32_t i = 0; i < s->nmodules && i < PROF_LIVE_MODULES; i++) {
        const prof_live_module *m = &s->modules[i];
        if (m->path >= PROF_LIVE_STRINGS)
            continue;
        prof_module *q = &v->prof.modules[v->prof.nmodules];
        q->path = strndup(&s->strings[m->path], PROF_LIVE_STRINGS - m->path);
        if (!q->path)
            break;
        q->start = m->start;
        q->end = m->end;
        q->base = m->base;
        q->build_id_len = m->build_id_len <= sizeof m->build_id ? m->build_id_len : 0;
        q->build_id = q->build_id_len ? malloc(q->build_id_len) : NULL;
        if (q->build_id)
            memcpy(q->build_id, m->build_id, q->build_id_len);
        else
            q->build_id_len = 0;
        v->prof.nmodules++;
    }
    v->sym = cli_sym_new(&v->prof);
}

int64_t top_rss_bytes(pid_t pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, "\nVmRSS:");
    long long kb;
    if (!p || sscanf(p + 7, "%lld", &kb) != 1)
        return -1;
    return kb * 1024;
}

void top_view_update(top_view *v, const prof_live_segment *seg, int64_t rss_bytes)
{
    v->rss = rss_bytes;
    if (v->cur && v->cur->publications == seg->publications)
        return; /* no new publication: the rates stay those of the last two */
    if (!v->prev)
        v->prev = malloc(sizeof *v->prev);
    if (!v->prev)
        return;
    if (v->cur) {
        prof_live_segment *t = v->prev;
        v->prev = v->cur;
        v->cur = t;
    } else {
        free(v->prev);
        v->prev = NULL;
        v->cur = malloc(sizeof *v->cur);
        if (!v->cur)
            return;
    }
    memcpy(v->cur, seg, sizeof *seg);
}

/* ---- the text ------------------------------------------------------------------ */
static void put(top_view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(top_view *v, const char *fmt, ...)
{
    if (v->rows > 0 && v->lines >= v->rows)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (v->cols > 0 && n > v->cols)
        n = v->cols;
    if (v->len + (size_t)n + 2 > v->cap)
        return;
    memcpy(v->buf + v->len, line, (size_t)n);
    v->len += (size_t)n;
    v->buf[v->len++] = '\n';
    v->buf[v->len] = '\0';
    v->lines++;
}

static const char *human(int64_t bytes, char *buf, size_t cap)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)bytes;
    int u = 0;
    while ((x >= 1024 || x <= -1024) && u < 4) {
        x /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%lld B", (long long)bytes);
    else
        snprintf(buf, cap, "%.1f %s", x, units[u]);
    return buf;
}

static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path;
}

/* A stack as "function (file:line) < caller (file:line) < ...": as many
 * frames as fit in room. */
static void describe(top_view *v, const prof_live_stack *st, char *out, size_t room)
{
    size_t len = 0;
    out[0] = '\0';
    if (st->nframes == 0)
        snprintf(out, room, "(no stack)");
    for (uint32_t i = 0; i < st->nframes && i < PROF_LIVE_DEPTH && len + 4 < room; i++) {
        size_t n = 1;
        const cli_sym_frame *fr = v->sym ? cli_sym_lookup(v->sym, st->frames[i], &n) : NULL;
        char one[512];
        if (!fr)
            snprintf(one, sizeof one, "0x%llx", (unsigned long long)st->frames[i]);
        else if (fr[0].file && fr[0].line > 0)
            snprintf(one, sizeof one, "%s (%s:%d)", fr[0].function, base_name(fr[0].file),
                     fr[0].line);
        else
            snprintf(one, sizeof one, "%s", fr[0].function);
        int w = snprintf(out + len, room - len, "%s%s", i ? " < " : "", one);
        if (w < 0 || (size_t)w >= room - len)
            break;
        len += (size_t)w;
    }
}

static const prof_live_pool *pool_in(const prof_live_segment *s, int32_t id)
{
    for (uint32_t i = 0; s && i < s->npools && i < PROF_LIVE_POOLS; i++)
        if (s->pools[i].id == id)
            return &s->pools[i];
    return NULL;
}

static const prof_live_stack *stack_in(const prof_live_segment *s, int which,
                                       const prof_live_stack *st)
{
    for (uint32_t i = 0; s && i < s->nstacks[which] && i < PROF_LIVE_STACKS; i++)
        if (s->stacks[which][i].stack == st->stack && s->stacks[which][i].pool == st->pool)
            return &s->stacks[which][i];
    return NULL;
}

void top_view_render(top_view *v, int peak, int rows, int cols, const char *status, char *buf,
                     size_t cap)
{
    v->buf = buf;
    v->cap = cap;
    v->len = 0;
    v->rows = rows;
    v->cols = cols;
    v->lines = 0;
    if (cap)
        buf[0] = '\0';
    const prof_live_segment *s = v->cur, *p = v->prev;
    char a[32], b[32];
    if (!s) {
        put(v,
            "tally top: process %d: waiting for its first publication (it publishes about "
            "once a second while it allocates)",
            (int)v->pid);
        if (status)
            put(v, "%s", status);
        return;
    }
    make_symbolizer(v);
    const char *exe = s->nmodules ? &s->strings[s->modules[0].path] : "?";
    put(v, "tally top: process %d  %s", (int)v->pid, exe);
    /* Elapsed: now, not at the last publication (a process that stops
     * allocating stops publishing). */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t up = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - s->start_realtime_ns;
    put(v, "elapsed %.1f s   RSS %s (%lld bytes)   threads that allocated %u   %s",
        (double)up / 1e9, v->rss >= 0 ? human(v->rss, a, sizeof a) : "?", (long long)v->rss,
        s->threads, s->sample_bytes ? "sampled" : "every allocation");
    put(v, "live %lld bytes (%s)   peak %lld bytes (%s) at %.1f s   (as published at %.1f s)",
        (long long)s->current, human(s->current, a, sizeof a), (long long)s->peak,
        human(s->peak, b, sizeof b), (double)s->peak_ns / 1e9, (double)s->now_ns / 1e9);
    put(v, "%s", "");
    put(v, "%-24s %14s %14s %10s %10s", "POOL", "CURRENT", "PEAK", "BLOCKS", "ALLOCS/S");
    double secs = p ? (double)(s->now_ns - p->now_ns) / 1e9 : (double)s->now_ns / 1e9;
    for (uint32_t i = 0; i < s->npools && i < PROF_LIVE_POOLS; i++) {
        const prof_live_pool *q = &s->pools[i];
        const prof_live_pool *o = pool_in(p, q->id);
        int64_t calls = q->total_count - (o ? o->total_count : 0);
        char name[80];
        snprintf(name, sizeof name, "%.*s%s", 60, q->name[0] ? q->name : "?",
                 q->wrapper ? " (wrapper)" : "");
        put(v, "%-24s %14lld %14lld %10lld %10.0f", name, (long long)q->current, (long long)q->peak,
            (long long)q->live_blocks, secs > 0 ? (double)calls / secs : 0.0);
    }
    put(v, "%s", "");
    int which = peak ? PROF_LIVE_AT_PEAK : PROF_LIVE_NOW;
    put(v, "%s",
        peak ? "TOP STACKS AT THE PEAK (the bytes each held when the total was highest)"
             : "TOP STACKS BY LIVE BYTES (growth: since the last refresh)");
    put(v, "%14s %10s %12s  %-12s %s", "BYTES", "BLOCKS", "GROWTH", "POOL", "STACK");
    int keep = status ? 1 : 0; /* the status line's row */
    for (uint32_t i = 0; i < s->nstacks[which] && i < PROF_LIVE_STACKS; i++) {
        if (v->rows > 0 && v->lines >= v->rows - keep)
            break;
        const prof_live_stack *st = &s->stacks[which][i];
        const prof_live_stack *o = stack_in(p, which, st);
        int64_t bytes = peak ? st->peak_bytes : st->bytes;
        int64_t before = o ? (peak ? o->peak_bytes : o->bytes) : 0;
        const prof_live_pool *q = pool_in(s, st->pool);
        char growth[32], blocks[32], where[2048];
        if (peak)
            snprintf(blocks, sizeof blocks, "-"); /* the peak's block counts are not kept */
        else
            snprintf(blocks, sizeof blocks, "%lld", (long long)st->blocks);
        if (p)
            snprintf(growth, sizeof growth, "%+lld", (long long)(bytes - before));
        else
            snprintf(growth, sizeof growth, "-");
        describe(v, st, where, sizeof where);
        put(v, "%14lld %10s %12s  %-12.12s %s", (long long)bytes, blocks, growth, q ? q->name : "?",
            where);
    }
    if (s->nstacks[which] == 0)
        put(v, "(none yet)");
    if (status) {
        while (v->rows > 0 && v->lines < v->rows - 1)
            put(v, "%s", "");
        put(v, "%s", status);
    }
}
