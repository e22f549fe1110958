/* report_json.c: the text report's content, machine-readable. The schema
 * is docs/report.schema.json; keep the two in step. */
#include <config.h>

#include "reason.h"
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void jstr(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Stacks are written once, in "stacks", and their frames once per address,
 * in "locations": entries refer to a stack by id. Inline, 100k stacks of 16
 * frames in three lists came to 850 MB; this way to a few tens. */
static uint8_t *used; /* per index in p->stacks */

static void stack_ref(report_ctx *c, uint32_t stack_id)
{
    const prof_stack *st = prof_find_stack(c->p, stack_id);
    if (st && used)
        used[st - c->p->stacks] = 1;
    fprintf(c->out, "\"stack\": %u", st ? stack_id : 0);
}

/* "0x..." as the JSON wants an address, without printf: a report of a
 * million stacks writes sixteen million of them. */
static void put_addr(FILE *out, uint64_t a)
{
    char buf[24], *e = buf + sizeof buf, *q = e;
    do {
        *--q = "0123456789abcdef"[a & 15];
        a >>= 4;
    } while (a);
    *--q = 'x';
    *--q = '0';
    *--q = '"';
    fwrite_unlocked(q, 1, (size_t)(e - q), out);
    putc_unlocked('"', out);
}

/* Frame indexes by their address. */
static int cmp_frame(const void *a, const void *b, void *arg)
{
    const uint64_t *addrs = arg;
    uint64_t x = addrs[*(const uint32_t *)a], y = addrs[*(const uint32_t *)b];
    return (x > y) - (x < y);
}

static void location(report_ctx *c, uint64_t addr)
{
    size_t n;
    const cli_sym_frame *fr = cli_sym_lookup(c->sym, addr, &n);
    fprintf(c->out, "\"0x%" PRIx64 "\": [", addr);
    for (size_t k = 0; k < n; k++) {
        fputs(k ? ", {\"function\": " : "{\"function\": ", c->out);
        jstr(c->out, fr[k].function);
        fputs(", \"file\": ", c->out);
        jstr(c->out, fr[k].file);
        if (fr[k].file)
            fprintf(c->out, ", \"line\": %d", fr[k].line);
        else
            fputs(", \"line\": null", c->out);
        fprintf(c->out, ", \"inlined\": %s, \"module\": ", fr[k].inlined ? "true" : "false");
        jstr(c->out, fr[k].module);
        if (fr[k].system_name && strcmp(fr[k].system_name, fr[k].function) != 0) {
            fputs(", \"system_name\": ", c->out); /* the mangled C++ name */
            jstr(c->out, fr[k].system_name);
        }
        fputc('}', c->out);
    }
    fputc(']', c->out);
}

/* The stacks the entries named, and each address they hold, once: the
 * nodes a stack shares with one listed before are not walked again. */
static void tables(report_ctx *c)
{
    const prof_profile *p = c->p;
    uint8_t *seen = calloc(p->nnodes, 1);
    uint32_t *frames = malloc((p->naddrs ? p->naddrs : 1) * sizeof *frames);
    uint8_t *frame_used = calloc(p->naddrs ? p->naddrs : 1, 1);
    fputs(",\n  \"stacks\": {", c->out);
    int first = 1;
    for (size_t i = 0; i < p->nstacks; i++) {
        if (!used[i])
            continue;
        const prof_stack *st = &p->stacks[i];
        fprintf(c->out, "%s\n    \"%u\": [", first ? "" : ",", st->id);
        first = 0;
        for (uint32_t k = st->node; k != 0; k = p->nodes[k].parent) {
            if (k != st->node)
                fputs(", ", c->out);
            put_addr(c->out, prof_node_addr(p, k));
        }
        fputc(']', c->out);
        for (uint32_t k = st->node; seen && frame_used && k != 0 && !seen[k];
             k = p->nodes[k].parent) {
            seen[k] = 1;
            frame_used[p->nodes[k].frame] = 1;
        }
    }
    fputs("\n  },\n  \"locations\": {", c->out);
    if (seen && frames && frame_used) {
        size_t n = 0;
        for (size_t f = 0; f < p->naddrs; f++)
            if (frame_used[f])
                frames[n++] = (uint32_t)f;
        qsort_r(frames, n, sizeof *frames, cmp_frame, p->addrs);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && p->addrs[frames[i]] == p->addrs[frames[i - 1]])
                continue; /* an address FRAMES lists twice */
            fputs(i ? ",\n    " : "\n    ", c->out);
            location(c, p->addrs[frames[i]]);
        }
    } else {
        fprintf(stderr, "tally: out of memory: the locations are left out\n");
    }
    free(seen);
    free(frames);
    free(frame_used);
    fputs("\n  }", c->out);
}

static void meta(report_ctx *c)
{
    const prof_profile *p = c->p;
    /* reason: how the image ended (reason.h); signal: the one that killed it. */
    char sig[16] = "null";
    if (prof_reason_signal(p->reason))
        snprintf(sig, sizeof sig, "%d", prof_reason_signal(p->reason));
    fprintf(c->out,
            "  \"meta\": {\"version\": %u, \"sampled\": %s, \"pid\": %u, \"reason\": %u, "
            "\"signal\": %s, \"start_ns\": %lld, \"duration_ns\": %lld, \"sample_bytes\": %lld, "
            "\"depth\": %u, \"threads\": %u, \"exactness_bytes\": %lld, \"peak_bytes\": %lld, "
            "\"peak_ns\": %lld, \"max_rss_bytes\": %lld, \"exe\": ",
            p->version, p->flags & PROF_FLAG_SAMPLED ? "true" : "false", p->pid,
            prof_reason_kind(p->reason), sig, (long long)p->start_ns, (long long)p->duration_ns,
            (long long)p->sample_bytes, p->depth, p->threads, (long long)p->exactness_bytes,
            (long long)p->peak_bytes, (long long)p->peak_ns, (long long)p->max_rss_bytes);
    jstr(c->out, p->exe);
    fputs(", \"cmdline\": ", c->out);
    jstr(c->out, p->cmdline);
    fputs("}", c->out);
}

static void pools(report_ctx *c)
{
    const prof_profile *p = c->p;
    fputs(",\n  \"pools\": [", c->out);
    for (size_t i = 0; i < p->npools; i++) {
        const prof_pool *pl = &p->pools[i];
        fprintf(c->out, "%s\n    {\"id\": %d, \"name\": ", i ? "," : "", pl->id);
        jstr(c->out, pl->name);
        fprintf(
            c->out,
            ", \"current\": %lld, \"peak\": %lld, \"total_bytes\": %lld, \"total_count\": %lld, "
            "\"temporary_count\": %lld, \"live_count\": %lld, \"histogram\": [",
            (long long)pl->current, (long long)pl->peak, (long long)pl->total_bytes,
            (long long)pl->total_count, (long long)pl->temporary_count, (long long)pl->live_count);
        for (uint32_t b = 0; b < pl->nbuckets; b++)
            fprintf(c->out, "%s%lld", b ? ", " : "", (long long)pl->histogram[b]);
        fputs("]}", c->out);
    }
    fputs("\n  ]", c->out);
}

static void peak(report_ctx *c)
{
    fprintf(c->out, ",\n  \"peak\": {\"bytes\": %lld, \"ns\": %lld, \"stacks\": [",
            (long long)report_peak_total(c), (long long)c->p->peak_ns);
    size_t n = report_limit(c, c->npeak);
    for (size_t i = 0; i < n; i++) {
        const prof_record *r = c->by_peak[i];
        fprintf(c->out, "%s\n    {\"bytes\": %lld, \"pool\": ", i ? "," : "",
                (long long)r->peak_bytes);
        jstr(c->out, prof_pool_name(c->p, r->pool_id));
        fputs(", ", c->out);
        stack_ref(c, r->stack_id);
        fputc('}', c->out);
    }
    fputs("\n  ]}", c->out);
}

/* The groups of lists[from..to), each list cut by --top: one JSON array. */
static void groups(report_ctx *c, int from, int to)
{
    fputs("\"groups\": [", c->out);
    int first = 1;
    for (int l = from; l < to; l++) {
        const leak_list *L = &c->lists[l];
        size_t n = report_limit(c, L->n);
        for (size_t i = 0; i < n; i++) {
            const leak_group *g = &L->g[i];
            fprintf(
                c->out,
                "%s\n      {\"bytes\": %lld, \"count\": %lld, \"kind\": \"%s\", \"sampled\": %s, "
                "\"pool\": ",
                first ? "" : ",", (long long)g->bytes, (long long)g->count,
                report_kind_name(g->kind), g->stack_id ? "true" : "false");
            first = 0;
            jstr(c->out, prof_pool_name(c->p, g->pool_id));
            if (g->rule) {
                fputs(", \"rule\": ", c->out);
                jstr(c->out, g->rule);
                fprintf(c->out, ", \"builtin\": %s", g->builtin ? "true" : "false");
            }
            fputs(", ", c->out);
            stack_ref(c, g->stack_id);
            fputc('}', c->out);
        }
    }
    fputs("]", c->out);
}

static void kinds(report_ctx *c)
{
    fputs("\"kinds\": {", c->out);
    static const uint32_t order[] = {PROF_LEAK_DEFINITE, PROF_LEAK_INDIRECT, PROF_LEAK_POSSIBLE,
                                     PROF_LEAK_REACHABLE, PROF_LEAK_LIVE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        fprintf(c->out, "%s\"%s\": {\"bytes\": %lld, \"count\": %lld}", i ? ", " : "",
                report_kind_name(order[i]), (long long)c->kind_bytes[order[i]],
                (long long)c->kind_count[order[i]]);
    fputs("}", c->out);
}

static void rules(report_ctx *c)
{
    fputs(", \"rules\": [", c->out);
    for (size_t i = 0; i < c->nrules; i++) {
        const report_rule_use *u = &c->rules[i];
        fputs(i ? ", {\"rule\": " : "{\"rule\": ", c->out);
        jstr(c->out, u->rule);
        fprintf(c->out, ", \"builtin\": %s, \"bytes\": %lld, \"count\": %lld}",
                u->builtin ? "true" : "false", (long long)u->bytes, (long long)u->count);
    }
    fputs("]", c->out);
}

/* With TALLY_LEAK_ADDRESSES (or from a version 1 profile): every block. */
static void blocks(report_ctx *c)
{
    const prof_profile *p = c->p;
    if (!p->nblocks)
        return;
    fputs(",\n    \"blocks\": [", c->out);
    for (size_t i = 0; i < p->nblocks; i++) {
        const prof_leak_block *b = &p->blocks[i];
        const prof_leak *g = &p->leaks[b->group];
        fprintf(c->out,
                "%s\n      {\"address\": \"0x%" PRIx64 "\", \"size\": %lld, \"kind\": \"%s\", "
                "\"pool\": ",
                i ? "," : "", b->address, (long long)b->size, report_kind_name(g->kind));
        jstr(c->out, prof_pool_name(p, g->pool_id));
        fputs(", ", c->out);
        stack_ref(c, g->stack_id);
        fputc('}', c->out);
    }
    fputs("]", c->out);
}

/* The lost groups (definitely and indirectly) are the leaks: their totals
 * head the object. "groups" has every class not suppressed, each with its
 * kind, the lost first; "kinds" each class's totals. */
static void leaks(report_ctx *c)
{
    const leak_list *L = &c->lists[REPORT_LOST], *S = &c->lists[REPORT_SUPPRESSED];
    fprintf(c->out,
            ",\n  \"leaks\": {\"classified\": %s, \"bytes\": %lld, \"count\": %lld, "
            "\"stacks\": %zu,\n    ",
            c->p->classified ? "true" : "false", (long long)L->bytes, (long long)L->count,
            L->stacks);
    kinds(c);
    fputs(",\n    ", c->out);
    groups(c, REPORT_LOST, REPORT_SUPPRESSED);
    fprintf(c->out, ",\n    \"suppressed\": {\"bytes\": %lld, \"count\": %lld, \"stacks\": %zu",
            (long long)S->bytes, (long long)S->count, S->stacks);
    rules(c);
    fputs(", ", c->out);
    groups(c, REPORT_SUPPRESSED, REPORT_LISTS);
    fputs("}", c->out);
    blocks(c);
    fputs("}", c->out);
}

/* The top list, as the text report's: --sort, --merge site and
 * --filter-function shape it. stacks: how many records a row sums. */
static int top(report_ctx *c)
{
    if (report_rows(c) != 0)
        return -1;
    fprintf(c->out, ",\n  \"top_order\": \"%s\", \"top_merged\": %s, \"top\": [",
            c->sort == SORT_CALLS       ? "calls"
            : c->sort == SORT_TEMPORARY ? "temporary"
            : c->sort == SORT_PEAK      ? "peak"
            : c->sort == SORT_LEAKED    ? "leaked"
                                        : "bytes",
            c->merge_site ? "true" : "false");
    size_t n = report_limit(c, c->nrows);
    for (size_t i = 0; i < n; i++) {
        const report_row *r = &c->rows[i];
        fprintf(c->out,
                "%s\n    {\"total_bytes\": %lld, \"total_count\": %lld, \"temporary_count\": %lld, "
                "\"temporary_bytes\": %lld, \"live_bytes\": %lld, \"live_count\": %lld, "
                "\"peak_bytes\": %lld, \"leaked_bytes\": %lld, \"stacks\": %u, \"pool\": ",
                i ? "," : "", (long long)r->total_bytes, (long long)r->total_count,
                (long long)r->temporary_count, (long long)r->temporary_bytes,
                (long long)r->live_bytes, (long long)r->live_count, (long long)r->peak_bytes,
                (long long)r->leaked_bytes, r->stacks);
        jstr(c->out, prof_pool_name(c->p, r->pool_id));
        fputs(", ", c->out);
        stack_ref(c, r->stack_id);
        fputc('}', c->out);
    }
    fputs("\n  ]", c->out);
    return 0;
}

static void series(report_ctx *c)
{
    const prof_profile *p = c->p;
    fputs(",\n  \"series\": {\"pools\": [", c->out);
    for (uint32_t j = 0; j < p->series_npools; j++) {
        fputs(j ? ", " : "", c->out);
        jstr(c->out, prof_pool_name(p, p->series_pools[j]));
    }
    fputs("], \"points\": [", c->out);
    for (size_t i = 0; i < p->npoints; i++) {
        fprintf(c->out, "%s\n    {\"t_ns\": %lld, \"rss_bytes\": %lld, \"bytes\": [", i ? "," : "",
                (long long)p->series_t_ns[i], (long long)p->series_rss[i]);
        for (uint32_t j = 0; j < p->series_npools; j++)
            fprintf(c->out, "%s%lld", j ? ", " : "",
                    (long long)p->series_bytes[i * p->series_npools + j]);
        fputs("]}", c->out);
    }
    fputs("]}", c->out);
}

int report_json(report_ctx *c)
{
    used = calloc(c->p->nstacks ? c->p->nstacks : 1, 1);
    if (!used) {
        fprintf(stderr, "tally: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    fputs("{\n  \"tally_report\": 1,\n  \"profile\": ", c->out);
    jstr(c->out, c->path);
    fputs(",\n", c->out);
    meta(c);
    if (c->want_pools || c->want_histogram) /* each pool carries its histogram */
        pools(c);
    if (c->want_peak)
        peak(c);
    if (c->want_leaks)
        leaks(c);
    int rc = CLI_EXIT_OK;
    if (c->want_top) {
        if (top(c) != 0)
            rc = CLI_EXIT_FAILURE;
        series(c);
    }
    if (used)
        tables(c);
    free(used);
    used = NULL;
    fputs("\n}\n", c->out);
    return rc;
}
