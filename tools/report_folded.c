/* report_folded.c: collapsed stacks ("a;b;c 123"), the input of
 * flamegraph.pl, inferno and speedscope. The root frame is the pool, so a
 * flame graph splits by pool first; inlined frames are frames of their own. */
#include <config.h>

#include "report.h"

#include <stdlib.h>
#include <string.h>

static int64_t cost(const report_ctx *c, const prof_record *r)
{
    switch (c->cost) {
    case COST_LEAKED:
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

int report_folded(report_ctx *c)
{
    const prof_profile *p = c->p;
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        int64_t v = cost(c, r);
        if (v <= 0)
            continue;
        fputs("pool:", c->out);
        put_name(c->out, prof_pool_name(p, r->pool_id));
        const prof_stack *st = prof_find_stack(p, r->stack_id);
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
    return CLI_EXIT_OK;
}
