/* report_folded.c: collapsed stacks ("a;b;c 123"), the input of
 * flamegraph.pl, inferno and speedscope. The root frame is the pool, so a
 * flame graph splits by pool first; inlined frames are frames of their own.
 * --cost leaked counts the lost blocks (definitely and indirectly, not
 * suppressed) from the leak groups; every other cost comes from the records
 * (--cost temporary their temporary bytes, temporary-calls their count).
 * --filter-function keeps the stacks with a matching frame. */
#include <config.h>

#include "report.h"

#include <stdlib.h>
#include <string.h>

static int64_t cost(const report_ctx *c, const prof_record *r)
{
    switch (c->cost) {
    case COST_LIVE:
        return r->live_bytes;
    case COST_PEAK:
        return r->peak_bytes;
    case COST_TEMPORARY:
        return r->temporary_bytes;
    case COST_TEMPORARY_CALLS:
        return r->temporary_count;
    default:
        return r->total_bytes;
    }
}

/* A frame name without the folded format's separators, appended to a
 * line: ';' splits frames and the last space splits off the count. */
typedef struct {
    char *b;
    size_t n, cap;
    int oom;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        size_t cap = (t->n + n + 1) * 2;
        char *b = realloc(t->b, cap);
        if (!b) {
            t->oom = 1;
            return;
        }
        t->b = b;
        t->cap = cap;
    }
    memcpy(t->b + t->n, s, n);
    t->n += n;
}

static void put_name(text *t, const char *name)
{
    size_t start = t->n;
    put(t, name, strlen(name));
    if (t->oom)
        return;
    for (size_t i = start; i < t->n; i++)
        t->b[i] = t->b[i] == ';' ? ':' : t->b[i] == '\n' ? ' ' : t->b[i];
}

/* Each address's part of a line, ";outer;...;inner" over its inlined
 * frames, made once: a million lines share a few thousand addresses. */
typedef struct {
    report_ctx *c;
    uint32_t *at; /* per frame index: offset in parts + 1, 0 while not made */
    uint32_t *len;
    text parts, line;
    uint32_t path[PROF_MAX_FRAMES];
} folded;

static void put_frame(folded *F, uint32_t frame)
{
    if (!F->at[frame]) {
        size_t start = F->parts.n, n;
        const cli_sym_frame *fr = cli_sym_lookup(F->c->sym, F->c->p->addrs[frame], &n);
        for (size_t k = n; k-- > 0;) { /* outermost first: the inlined frames last */
            put(&F->parts, ";", 1);
            put_name(&F->parts, fr[k].function);
        }
        if (F->parts.oom || F->parts.n >= UINT32_MAX) {
            F->parts.oom = 1;
            return;
        }
        F->at[frame] = (uint32_t)start + 1;
        F->len[frame] = (uint32_t)(F->parts.n - start);
    }
    put(&F->line, F->parts.b + F->at[frame] - 1, F->len[frame]);
}

static void line(folded *F, int32_t pool_id, uint32_t stack_id, int64_t v)
{
    const prof_profile *p = F->c->p;
    F->line.n = 0;
    put(&F->line, "pool:", 5);
    put_name(&F->line, prof_pool_name(p, pool_id));
    const prof_stack *st = prof_find_stack(p, stack_id);
    if (!st)
        put(&F->line, ";[not sampled]", 14);
    uint32_t n = st ? report_stack_path(p, st->node, F->path) : 0;
    for (uint32_t i = 0; i < n; i++)
        put_frame(F, p->nodes[F->path[i]].frame);
    char count[32];
    put(&F->line, count, (size_t)snprintf(count, sizeof count, " %lld\n", (long long)v));
    if (!F->line.oom)
        fwrite_unlocked(F->line.b, 1, F->line.n, F->c->out);
}

static int lines(report_ctx *c, folded *F)
{
    const prof_profile *p = c->p;
    if (c->cost == COST_LEAKED) {
        if (!p->classified)
            fprintf(stderr,
                    "tally report: %s: no leak check ran, so nothing is known to be lost "
                    "(--cost live counts the live bytes)\n",
                    c->path);
        const leak_list *L = &c->lists[REPORT_LOST];
        for (size_t i = 0; i < L->n; i++)
            if (report_stack_kept(c, L->g[i].stack_id))
                line(F, L->g[i].pool_id, L->g[i].stack_id, L->g[i].bytes);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        int64_t v = cost(c, r);
        if (v > 0 && report_stack_kept(c, r->stack_id))
            line(F, r->pool_id, r->stack_id, v);
    }
    return CLI_EXIT_OK;
}

int report_folded(report_ctx *c)
{
    if (c->filter_function && report_rows(c) != 0) /* the filter's memos */
        return CLI_EXIT_FAILURE;
    size_t nf = c->p->naddrs ? c->p->naddrs : 1;
    folded F = {.c = c, .at = calloc(nf, sizeof(uint32_t)), .len = calloc(nf, sizeof(uint32_t))};
    int rc = F.at && F.len ? lines(c, &F) : CLI_EXIT_FAILURE;
    if (rc == CLI_EXIT_OK && (F.parts.oom || F.line.oom))
        rc = CLI_EXIT_FAILURE;
    if (rc != CLI_EXIT_OK)
        fprintf(stderr, "tally: out of memory\n");
    free(F.at);
    free(F.len);
    free(F.parts.b);
    free(F.line.b);
    return rc;
}
