/* report_text.c: the default report, for people: pools, the peak, the
 * leaks, the top allocating stacks. */
#include <config.h>

#include "report.h"

#include <inttypes.h>

void report_print_stack(FILE *out, cli_symbolizer *sym, const prof_profile *p, uint32_t stack_id,
                        const char *indent, uint32_t max_frames)
{
    const prof_stack *st = prof_find_stack(p, stack_id);
    if (!st) {
        fprintf(out, "%s(not sampled: no stack was recorded)\n", indent);
        return;
    }
    if (st->nframes == 0)
        fprintf(out, "%s(empty stack)\n", indent);
    uint32_t shown = max_frames && max_frames < st->nframes ? max_frames : st->nframes;
    for (uint32_t f = 0; f < shown; f++) {
        size_t n;
        const cli_sym_frame *fr = cli_sym_lookup(sym, st->frames[f], &n);
        for (size_t k = 0; k < n; k++) {
            if (k == 0)
                fprintf(out, "%s#%-2u 0x%016" PRIx64 " %s", indent, f, st->frames[f],
                        fr[k].function);
            else
                fprintf(out, "%s                       %s", indent, fr[k].function);
            if (fr[k].file)
                fprintf(out, " %s:%d", fr[k].file, fr[k].line);
            else if (fr[k].module && fr[k].known)
                fprintf(out, " (%s)", fr[k].module);
            fprintf(out, "%s\n", fr[k].inlined ? " (inlined)" : "");
        }
    }
    if (shown < st->nframes)
        fprintf(out, "%s... %u more frames\n", indent, st->nframes - shown);
}

static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void header(report_ctx *c)
{
    const prof_profile *p = c->p;
    static const char *const reason[] = {"at exit", "by tally_track_dump", "on the dump signal"};
    fprintf(c->out, "tally report: %s\n", c->path);
    if (p->has_meta) {
        fprintf(c->out, "program: %s (pid %u), profile written %s after %.3f s\n",
                p->exe && *p->exe ? p->exe : "?", p->pid,
                p->reason < 3 ? reason[p->reason] : "for an unknown reason",
                (double)p->duration_ns / 1e9);
        if (p->cmdline && *p->cmdline)
            fprintf(c->out, "command: %s\n", p->cmdline);
    }
    if (p->flags & PROF_FLAG_SAMPLED)
        fprintf(c->out,
                "sampled: one stack per %lld bytes on average; per-stack figures are "
                "estimates\n",
                (long long)p->sample_bytes);
    if (p->exactness_bytes > 0)
        fprintf(c->out, "exactness: the global figures are within %lld bytes (several threads)\n",
                (long long)p->exactness_bytes);
}

static void pools(report_ctx *c)
{
    const prof_profile *p = c->p;
    fprintf(c->out, "\nPOOLS\n");
    fprintf(c->out, "  %-20s %14s %14s %16s %12s %12s\n", "pool", "current", "peak", "total",
            "count", "temporary");
    for (size_t i = 0; i < p->npools; i++) {
        const prof_pool *pl = &p->pools[i];
        fprintf(c->out, "  %-20s %14lld %14lld %16lld %12lld %12lld\n", pl->name,
                (long long)pl->current, (long long)pl->peak, (long long)pl->total_bytes,
                (long long)pl->total_count, (long long)pl->temporary_count);
    }
}

static void peak(report_ctx *c)
{
    char h[32];
    int64_t total = report_peak_total(c);
    fprintf(c->out, "\nPEAK: %lld bytes (%s)", (long long)total, report_human(total, h));
    if (c->p->has_meta)
        fprintf(c->out, " at %.3f s", (double)c->p->peak_ns / 1e9);
    fprintf(c->out, "; %zu %s held it\n", c->npeak, plural((int64_t)c->npeak, "stack", "stacks"));
    size_t shown = report_limit(c, c->npeak);
    for (size_t i = 0; i < shown; i++) {
        const prof_record *r = c->by_peak[i];
        fprintf(c->out, "  %lld bytes (%.1f%%) in pool %s, allocated at:\n",
                (long long)r->peak_bytes,
                total > 0 ? 100.0 * (double)r->peak_bytes / (double)total : 0,
                prof_pool_name(c->p, r->pool_id));
        report_print_stack(c->out, c->sym, c->p, r->stack_id, "    ", c->max_frames);
    }
    if (shown < c->npeak)
        fprintf(c->out, "  ... %zu more (--top N shows more)\n", c->npeak - shown);
}

static void groups(report_ctx *c, const leak_group *g, size_t n)
{
    size_t shown = report_limit(c, n);
    for (size_t i = 0; i < shown; i++) {
        fprintf(c->out, "  %lld bytes in %lld %s in pool %s", (long long)g[i].bytes,
                (long long)g[i].count, plural(g[i].count, "block", "blocks"),
                prof_pool_name(c->p, g[i].pool_id));
        if (g[i].rule)
            fprintf(c->out, ", suppressed by %s%s", g[i].rule, g[i].builtin ? " (built in)" : "");
        fprintf(c->out, ", allocated at:\n");
        report_print_stack(c->out, c->sym, c->p, g[i].stack_id, "    ", c->max_frames);
    }
    if (shown < n)
        fprintf(c->out, "  ... %zu more (--top N shows more)\n", n - shown);
}

static void leaks(report_ctx *c)
{
    char h[32];
    fprintf(c->out, "\nLEAKS: %lld bytes (%s) in %lld %s from %zu %s", (long long)c->leak_bytes,
            report_human(c->leak_bytes, h), (long long)c->leak_count,
            plural(c->leak_count, "block", "blocks"), c->nleaks,
            plural((int64_t)c->nleaks, "stack", "stacks"));
    if (c->supp_count)
        fprintf(c->out, "; %lld bytes in %lld %s suppressed", (long long)c->supp_bytes,
                (long long)c->supp_count, plural(c->supp_count, "block", "blocks"));
    fprintf(c->out, "\n");
    groups(c, c->leaks, c->nleaks);
    if (c->nsuppressed) {
        fprintf(c->out, "\nSUPPRESSED LEAKS: %lld bytes in %lld %s from %zu %s\n",
                (long long)c->supp_bytes, (long long)c->supp_count,
                plural(c->supp_count, "block", "blocks"), c->nsuppressed,
                plural((int64_t)c->nsuppressed, "stack", "stacks"));
        groups(c, c->suppressed, c->nsuppressed);
    }
}

static void top(report_ctx *c)
{
    fprintf(c->out, "\nTOP ALLOCATING STACKS (by bytes allocated)\n");
    size_t shown = report_limit(c, c->ntotal);
    for (size_t i = 0; i < shown; i++) {
        const prof_record *r = c->by_total[i];
        fprintf(c->out, "  %lld bytes in %lld %s (%lld temporary) in pool %s, allocated at:\n",
                (long long)r->total_bytes, (long long)r->total_count,
                plural(r->total_count, "allocation", "allocations"), (long long)r->temporary_count,
                prof_pool_name(c->p, r->pool_id));
        report_print_stack(c->out, c->sym, c->p, r->stack_id, "    ", c->max_frames);
    }
    if (shown < c->ntotal)
        fprintf(c->out, "  ... %zu more (--top N shows more)\n", c->ntotal - shown);
}

int report_text(report_ctx *c)
{
    header(c);
    if (c->want_pools)
        pools(c);
    if (c->want_peak)
        peak(c);
    if (c->want_leaks)
        leaks(c);
    if (c->want_top)
        top(c);
    return CLI_EXIT_OK;
}

void report_text_summary(report_ctx *c)
{
    char h[32];
    fprintf(c->out, "tally: %lld bytes leaked in %lld %s from %zu %s", (long long)c->leak_bytes,
            (long long)c->leak_count, plural(c->leak_count, "block", "blocks"), c->nleaks,
            plural((int64_t)c->nleaks, "stack", "stacks"));
    if (c->supp_count)
        fprintf(c->out, " (%lld bytes in %lld %s suppressed)", (long long)c->supp_bytes,
                (long long)c->supp_count, plural(c->supp_count, "block", "blocks"));
    int64_t peak_total = report_peak_total(c);
    fprintf(c->out, "; peak %s\n", report_human(peak_total, h));
    groups(c, c->leaks, c->nleaks);
}
