/* report_folded.c: collapsed stacks ("a;b;c 123"), the input of
 * flamegraph.pl, inferno and speedscope. The root frame is the pool, so a
 * flame graph splits by pool first; inlined frames are frames of their own.
 * --cost leaked counts the lost blocks (definitely and indirectly, not
 * suppressed) from the leak groups; every other cost comes from the records. */
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
        return r->temporary_count;
    default:
        return r->total_bytes;
    }
}

/* A frame name without the folded format's separators: ';' splits frames
 * and the last space splits off the count. */
static void put_name(FILE *out, const char *name)
{
    for (const char *p = name; *p; p++)
        fputc(*p == ';' ? ':' : *p == '\n' ? ' ' : *p, out);
}

static void line(report_ctx *c, int32_t pool_id, uint32_t stack_id, int64_t v)
{
    const prof_profile *p = c->p;
    fputs("pool:", c->out);
    put_name(c->out, prof_pool_name(p, pool_id));
    const prof_stack *st = prof_find_stack(p, stack_id);
    if (!st)
        fputs(";[not sampled]", c->out);
    for (uint32_t f = st ? st->nframes : 0; f-- > 0;) {
        size_t n;
        const cli_sym_frame *fr = cli_sym_lookup(c->sym, st->frames[f], &n);
        for (size_t k = n; k-- > 0;) { /* outermost first: the inlined frames last */
            fputc(';', c->out);
            put_name(c->out, fr[k].function);
        }
    }
    fprintf(c->out, " %lld\n", (long long)v);
}

int report_folded(report_ctx *c)
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
            line(c, L->g[i].pool_id, L->g[i].stack_id, L->g[i].bytes);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        int64_t v = cost(c, r);
        if (v > 0)
            line(c, r->pool_id, r->stack_id, v);
    }
    return CLI_EXIT_OK;
}
