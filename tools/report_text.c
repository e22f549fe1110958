/* report_text.c: the default report, for people: pools, the peak, the
 * leaks, the top allocating stacks. */
#include <config.h>

#include "reason.h"
#include "report.h"

#include <inttypes.h>

void report_print_node(FILE *out, cli_symbolizer *sym, const prof_profile *p, uint32_t node,
                       const char *indent, uint32_t max_frames)
{
    uint32_t nframes = p->nodes[node].depth;
    if (nframes == 0)
        fprintf(out, "%s(empty stack)\n", indent);
    uint32_t shown = max_frames && max_frames < nframes ? max_frames : nframes;
    for (uint32_t f = 0; f < shown; f++, node = p->nodes[node].parent) {
        size_t n;
        uint64_t addr = prof_node_addr(p, node);
        const cli_sym_frame *fr = cli_sym_lookup(sym, addr, &n);
        for (size_t k = 0; k < n; k++) {
            if (k == 0)
                fprintf(out, "%s#%-2u 0x%016" PRIx64 " %s", indent, f, addr, fr[k].function);
            else
                fprintf(out, "%s                       %s", indent, fr[k].function);
            if (fr[k].file)
                fprintf(out, " %s:%d", fr[k].file, fr[k].line);
            else if (fr[k].module && fr[k].known)
                fprintf(out, " (%s)", fr[k].module);
            fprintf(out, "%s\n", fr[k].inlined ? " (inlined)" : "");
        }
    }
    if (shown < nframes)
        fprintf(out, "%s... %u more frame%s\n", indent, nframes - shown,
                nframes - shown == 1 ? "" : "s");
}

void report_print_stack(FILE *out, cli_symbolizer *sym, const prof_profile *p, uint32_t stack_id,
                        const char *indent, uint32_t max_frames)
{
    const prof_stack *st = prof_find_stack(p, stack_id);
    if (!st) {
        fprintf(out, "%s(not sampled: no stack was recorded)\n", indent);
        return;
    }
    report_print_node(out, sym, p, st->node, indent, max_frames);
}

static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void header(report_ctx *c)
{
    const prof_profile *p = c->p;
    fprintf(c->out, "tally report: %s\n", c->path);
    if (p->has_meta) {
        char why[128];
        fprintf(c->out, "program: %s (pid %u): %s\n", p->exe && *p->exe ? p->exe : "?", p->pid,
                cli_reason_phrase(p->reason, p->duration_ns, why, sizeof why));
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
    if (c->p->max_rss_bytes > 0) /* the process's, allocator overhead and all: getrusage's */
        fprintf(c->out, "PEAK RSS: %lld bytes (%s)\n", (long long)c->p->max_rss_bytes,
                report_human(c->p->max_rss_bytes, h));
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

/* "200 bytes in 2 blocks" */
static void amount(FILE *out, int64_t bytes, int64_t count)
{
    fprintf(out, "%lld bytes in %lld %s", (long long)bytes, (long long)count,
            plural(count, "block", "blocks"));
}

static void groups(report_ctx *c, const leak_list *L)
{
    size_t shown = report_limit(c, L->n);
    for (size_t i = 0; i < shown; i++) {
        const leak_group *g = &L->g[i];
        fputs("  ", c->out);
        amount(c->out, g->bytes, g->count);
        fprintf(c->out, " %s in pool %s", report_kind_phrase(g->kind),
                prof_pool_name(c->p, g->pool_id));
        if (g->rule)
            fprintf(c->out, ", suppressed by %s%s", g->rule, g->builtin ? " (built in)" : "");
        fprintf(c->out, ", allocated at:\n");
        report_print_stack(c->out, c->sym, c->p, g->stack_id, "    ", c->max_frames);
    }
    if (shown < L->n)
        fprintf(c->out, "  ... %zu more (--top N shows more)\n", L->n - shown);
}

/* memcheck's LEAK SUMMARY on one line: each class, then what was suppressed.
 * Without a leak check only the live total: none of it is known to be lost. */
static void class_line(report_ctx *c)
{
    FILE *out = c->out;
    if (c->p->classified) {
        static const uint32_t order[] = {PROF_LEAK_DEFINITE, PROF_LEAK_INDIRECT, PROF_LEAK_POSSIBLE,
                                         PROF_LEAK_REACHABLE};
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            fprintf(out, "%s%s: ", i ? "; " : "", report_kind_phrase(order[i]));
            amount(out, c->kind_bytes[order[i]], c->kind_count[order[i]]);
        }
        if (c->kind_count[PROF_LEAK_LIVE]) { /* blocks the check did not look at */
            fputs("; live, not checked: ", out);
            amount(out, c->kind_bytes[PROF_LEAK_LIVE], c->kind_count[PROF_LEAK_LIVE]);
        }
    } else {
        fputs("no leak check ran, so no block is known to be lost; live: ", out);
        amount(out, c->kind_bytes[PROF_LEAK_LIVE], c->kind_count[PROF_LEAK_LIVE]);
    }
    const leak_list *S = &c->lists[REPORT_SUPPRESSED];
    if (S->count) {
        fputs("; suppressed: ", out);
        amount(out, S->bytes, S->count);
    }
    fputc('\n', out);
}

/* A list's heading: "NAME: 264 bytes (264 B) in 3 blocks from 2 stacks". */
static void heading(report_ctx *c, const char *name, const leak_list *L, const char *tail)
{
    char h[32];
    fprintf(c->out, "\n%s: %lld bytes (%s) in %lld %s from %zu %s%s\n", name, (long long)L->bytes,
            report_human(L->bytes, h), (long long)L->count, plural(L->count, "block", "blocks"),
            L->stacks, plural((int64_t)L->stacks, "stack", "stacks"), tail);
}

static void rules(report_ctx *c, const char *indent)
{
    for (size_t i = 0; i < c->nrules; i++) {
        const report_rule_use *u = &c->rules[i];
        fprintf(c->out, "%sby %s%s: ", indent, u->rule, u->builtin ? " (built in)" : "");
        amount(c->out, u->bytes, u->count);
        fputc('\n', c->out);
    }
}

static void leaks(report_ctx *c)
{
    const leak_list *L = c->lists;
    fputs("\nLEAKS: ", c->out);
    class_line(c);
    if (c->p->classified) {
        heading(c, "LOST", &L[REPORT_LOST], ", definitely and indirectly");
        groups(c, &L[REPORT_LOST]);
        if (L[REPORT_POSSIBLE].n) {
            heading(c, "POSSIBLY LOST", &L[REPORT_POSSIBLE], ", only interior pointers reach them");
            groups(c, &L[REPORT_POSSIBLE]);
        }
        if (L[REPORT_REACHABLE].n) {
            heading(c, "STILL REACHABLE", &L[REPORT_REACHABLE],
                    c->show_reachable ? "" : " (--show-reachable lists them)");
            if (c->show_reachable)
                groups(c, &L[REPORT_REACHABLE]);
        }
    }
    if (L[REPORT_LIVE].n) {
        heading(c, "LIVE", &L[REPORT_LIVE], " when the profile was written, not checked for leaks");
        groups(c, &L[REPORT_LIVE]);
    }
    if (L[REPORT_SUPPRESSED].n) {
        heading(c, "SUPPRESSED", &L[REPORT_SUPPRESSED], "");
        rules(c, "  ");
        groups(c, &L[REPORT_SUPPRESSED]);
    }
}

/* The sorted cost when the line does not already show it. */
static void row_extra(report_ctx *c, const report_row *r)
{
    switch (c->sort) {
    case SORT_TEMPORARY:
        fprintf(c->out, ", %lld temporary bytes", (long long)r->temporary_bytes);
        break;
    case SORT_PEAK:
        fprintf(c->out, ", %lld bytes at the peak", (long long)r->peak_bytes);
        break;
    case SORT_LEAKED:
        fprintf(c->out, ", %lld bytes lost", (long long)r->leaked_bytes);
        break;
    default:
        break;
    }
}

static int top(report_ctx *c)
{
    if (report_rows(c) != 0)
        return CLI_EXIT_FAILURE;
    fprintf(c->out, "\nTOP ALLOCATING %s (by %s)", c->merge_site ? "SITES" : "STACKS",
            report_sort_phrase(c->sort));
    if (c->filter_function)
        fprintf(c->out, ", stacks with a function matching '%s'", c->filter_function);
    fputc('\n', c->out);
    size_t shown = report_limit(c, c->nrows);
    for (size_t i = 0; i < shown; i++) {
        const report_row *r = &c->rows[i];
        fprintf(c->out, "  %lld bytes in %lld %s (%lld temporary)", (long long)r->total_bytes,
                (long long)r->total_count, plural(r->total_count, "allocation", "allocations"),
                (long long)r->temporary_count);
        row_extra(c, r);
        fprintf(c->out, " in pool %s", prof_pool_name(c->p, r->pool_id));
        if (c->merge_site)
            fprintf(c->out, " from %u %s, allocated at the site:\n", r->stacks,
                    plural(r->stacks, "stack", "stacks"));
        else
            fputs(", allocated at:\n", c->out);
        if (r->node || prof_find_stack(c->p, r->stack_id))
            report_print_node(c->out, c->sym, c->p, r->node, "    ", c->max_frames);
        else
            report_print_stack(c->out, c->sym, c->p, r->stack_id, "    ", c->max_frames);
    }
    if (shown < c->nrows)
        fprintf(c->out, "  ... %zu more (--top N shows more)\n", c->nrows - shown);
    return CLI_EXIT_OK;
}

/* Request sizes, per pool: the power-of-two buckets the pools keep (bucket
 * k holds sizes 2^k to 2^(k+1)-1; bucket 0 sizes 0 and 1). */
static void histogram(report_ctx *c)
{
    const prof_profile *p = c->p;
    fprintf(c->out, "\nREQUEST SIZES (allocations per size range)\n");
    for (size_t i = 0; i < p->npools; i++) {
        const prof_pool *pl = &p->pools[i];
        int64_t most = 0, sum = 0;
        for (uint32_t b = 0; b < pl->nbuckets; b++) {
            sum += pl->histogram[b];
            most = pl->histogram[b] > most ? pl->histogram[b] : most;
        }
        if (sum == 0)
            continue;
        fprintf(c->out, "  pool %s: %lld %s\n", pl->name, (long long)sum,
                plural(sum, "allocation", "allocations"));
        for (uint32_t b = 0; b < pl->nbuckets; b++) {
            if (!pl->histogram[b])
                continue;
            char range[64];
            uint64_t lo = b == 0 ? 0 : (uint64_t)1 << b,
                     hi = b >= 63 ? UINT64_MAX : (2ull << b) - 1;
            snprintf(range, sizeof range, "%" PRIu64 " - %" PRIu64 " B", lo, b == 0 ? 1 : hi);
            int bar = (int)(40 * pl->histogram[b] / most);
            fprintf(c->out, "    %-24s %12lld %5.1f%% %.*s\n", range, (long long)pl->histogram[b],
                    100.0 * (double)pl->histogram[b] / (double)sum, bar > 0 ? bar : 1,
                    "########################################");
        }
    }
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
    if (c->want_histogram)
        histogram(c);
    if (c->want_top)
        return top(c);
    return CLI_EXIT_OK;
}

void report_text_summary(report_ctx *c)
{
    char h[32];
    const leak_list *L = c->lists;
    fputs("tally: ", c->out);
    class_line(c);
    if (c->p->classified) {
        groups(c, &L[REPORT_LOST]);
        if (L[REPORT_POSSIBLE].n) {
            fputs("tally: possibly lost, only interior pointers reach them:\n", c->out);
            groups(c, &L[REPORT_POSSIBLE]);
        }
        if (L[REPORT_REACHABLE].n && c->show_reachable) {
            fputs("tally: still reachable:\n", c->out);
            groups(c, &L[REPORT_REACHABLE]);
        } else if (L[REPORT_REACHABLE].n) {
            fputs("tally: still reachable blocks (a pointer to their start was found) are not "
                  "listed: --show-reachable lists them\n",
                  c->out);
        }
    }
    if (L[REPORT_LIVE].n && c->p->classified) /* blocks the check did not look at */
        fputs("tally: live, not checked:\n", c->out);
    groups(c, &L[REPORT_LIVE]);
    rules(c, "tally: suppressed ");
    fprintf(c->out, "tally: peak %s\n", report_human(report_peak_total(c), h));
}
