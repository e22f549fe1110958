/* report_html.c: one self-contained, interactive page (docs/ARCHITECTURE.md,
 * "The HTML page"). This file writes the profile's data once, as one JSON
 * blob in <script type="application/json" id=tally-data>, and inlines the
 * page's script and styles (tools/html/report.js, report.css) and
 * d3-flame-graph, all built into the binary by tools/html/embed.sh, so the
 * page needs no network and the tally command no data files.
 *
 * The page, not this file, draws: the flame graph in each cost mode, the
 * top-down and bottom-up trees, the tables, the chart and the histogram all
 * come from the same few arrays, so a mode switch or "hide irrelevant
 * frames" recomputes in the browser instead of writing every view for every
 * mode here (the page would grow with each mode).
 *
 * What is written: the stack tree as it is in the profile (parent and
 * address per node), each address as its symbolized frames (inlined ones
 * too, outermost first) given as (index, line) pairs, the index into a
 * table of distinct (function, file) pairs, so identical frames of different addresses merge
 * in the page; each pair says whether it is "irrelevant" (allocator, libc,
 * libstdc++, tally's own). The records and leak groups point at nodes. The
 * series gets the exact peak inserted, each pool's share of it from the
 * records' bytes at the peak. */
#include <config.h>

#include "base/hash.h"
#include "html_assets.h"
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string, with '<' escaped so no "</script>" can end the blob. */
static void jstr(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&')
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else
            fputc(*s, out);
    }
}

static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path;
}

/* A frame that is not the user's code: the allocator's entries, tally's own
 * shim and tracker, libc, libstdc++ (its code, and its headers' code inlined
 * into the user's binary: std::allocator's allocate in new_allocator.h), the
 * loader and libgcc. The page folds them away by default and labels a stack
 * by its innermost frame that is not one of them. */
static int irrelevant(const cli_sym_frame *f)
{
    static const char *const modules[] = {"libc.so",     "libc-",     "libstdc++", "libtally",
                                          "ld-linux",    "libgcc_s",  "libm.so",   "libmimalloc",
                                          "libjemalloc", "libpthread"};
    static const char *const functions[] = {
        "malloc",         "calloc",          "realloc", "reallocarray", "free",   "aligned_alloc",
        "posix_memalign", "memalign",        "valloc",  "pvalloc",      "strdup", "strndup",
        "operator new",   "operator delete", "tally_",  "shim_",        "tt_",    "__libc_",
        "_dl_",           "_start",          "__GI_",   "_IO_",         "std::",  "__gnu_cxx::",
        "__cxa_"};
    static const char *const files[] = {"/usr/include/c++/", "/usr/lib/gcc/"};
    const char *m = base_name(f->module);
    for (size_t i = 0; m && i < sizeof modules / sizeof modules[0]; i++)
        if (has_prefix(m, modules[i]))
            return 1;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (has_prefix(f->file, files[i]))
            return 1;
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        size_t n = strlen(functions[i]);
        if (strncmp(f->function, functions[i], n) == 0 &&
            (functions[i][n - 1] == '_' || functions[i][n - 1] == ':' || f->function[n] == '\0' ||
             f->function[n] == '(' || f->function[n] == '['))
            return 1;
    }
    return 0;
}

/* The distinct (function, file) pairs: an open-addressed set of indices. */
typedef struct {
    const cli_sym_frame **f; /* the first frame seen of each pair */
    size_t n, cap;
    uint32_t *slot; /* index + 1; 0 empty */
    size_t nslots;
} func_set;

static uint64_t func_hash(const cli_sym_frame *f)
{
    return base_hash_str(f->function) * 31 + (f->file ? base_hash_str(f->file) : 0);
}

static int same_func(const cli_sym_frame *a, const cli_sym_frame *b)
{
    if (strcmp(a->function, b->function))
        return 0;
    if (!a->file || !b->file)
        return a->file == b->file;
    return strcmp(a->file, b->file) == 0;
}

static int func_grow(func_set *s)
{
    size_t nslots = s->nslots ? s->nslots * 2 : 1024;
    uint32_t *slot = calloc(nslots, sizeof *slot);
    const cli_sym_frame **f = realloc(s->f, nslots / 2 * sizeof *f);
    if (!slot || !f) {
        free(slot);
        if (f)
            s->f = f;
        return -1;
    }
    s->f = f;
    s->cap = nslots / 2;
    for (size_t i = 0; i < s->n; i++) {
        size_t h = func_hash(f[i]) & (nslots - 1);
        while (slot[h])
            h = (h + 1) & (nslots - 1);
        slot[h] = (uint32_t)i + 1;
    }
    free(s->slot);
    s->slot = slot;
    s->nslots = nslots;
    return 0;
}

/* The pair's index, added when new; -1 when out of memory. */
static long func_id(func_set *s, const cli_sym_frame *f)
{
    if (s->n >= s->cap && func_grow(s))
        return -1;
    size_t h = func_hash(f) & (s->nslots - 1);
    for (; s->slot[h]; h = (h + 1) & (s->nslots - 1))
        if (same_func(s->f[s->slot[h] - 1], f))
            return (long)s->slot[h] - 1;
    s->f[s->n] = f;
    s->slot[h] = (uint32_t)++s->n;
    return (long)s->n - 1;
}

/* "name":[a,b,...] from an int64 column of stride elements */
static void column(FILE *out, const char *name, const int64_t *v, size_t n, size_t stride)
{
    fprintf(out, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%" PRId64, i ? "," : "", v[i * stride]);
    fputs("]", out);
}

static uint32_t node_of(const prof_profile *p, uint32_t stack_id)
{
    const prof_stack *st = prof_find_stack(p, stack_id);
    return st ? st->node : 0;
}

/* The series with the exact peak inserted where its time falls: the
 * writer's points are samples, and the peak mostly falls between them. */
static void series(report_ctx *c, FILE *out)
{
    const prof_profile *p = c->p;
    uint32_t np = p->series_npools;
    int64_t *at_peak = calloc(np ? np : 1, sizeof *at_peak);
    if (!at_peak) {
        fputs("\"series\":null", out);
        return;
    }
    for (size_t i = 0; i < p->nrecords; i++)
        for (uint32_t j = 0; j < np; j++)
            if (p->records[i].pool_id == p->series_pools[j] && p->records[i].peak_bytes > 0)
                at_peak[j] += p->records[i].peak_bytes;
    int insert = p->has_meta && p->peak_bytes > 0 && np > 0;
    size_t at = 0; /* the peak goes before point at */
    while (at < p->npoints && p->series_t_ns[at] <= p->peak_ns)
        at++;
    fputs("\"series\":{\"pools\":[", out);
    for (uint32_t j = 0; j < np; j++)
        fprintf(out, "%s%" PRId32, j ? "," : "", p->series_pools[j]);
    fprintf(out, "],\"peak_index\":%ld,\"points\":[", insert ? (long)at : -1L);
    int first = 1;
    for (size_t i = 0; i <= p->npoints; i++) {
        if (insert && i == at) {
            /* RSS is not sampled at the peak: the last point's, at least. */
            fprintf(out, "%s[%" PRId64 ",%" PRId64, first ? "" : ",", p->peak_ns,
                    at > 0 ? p->series_rss[at - 1] : 0);
            for (uint32_t j = 0; j < np; j++)
                fprintf(out, ",%" PRId64, at_peak[j]);
            fputs("]", out);
            first = 0;
        }
        if (i == p->npoints)
            break;
        fprintf(out, "%s[%" PRId64 ",%" PRId64, first ? "" : ",", p->series_t_ns[i],
                p->series_rss[i]);
        for (uint32_t j = 0; j < np; j++)
            fprintf(out, ",%" PRId64, p->series_bytes[i * np + j]);
        fputs("]", out);
        first = 0;
    }
    fputs("]}", out);
    free(at_peak);
}

static int data(report_ctx *c, FILE *out)
{
    const prof_profile *p = c->p;
    func_set fs = {0};
    /* per address: its frames' pair indices, outermost first, as JSON text
     * written right away; the pairs table comes after */
    fputs("{\"path\":", out);
    jstr(out, c->path);
    fputs(",\"exe\":", out);
    jstr(out, p->exe);
    fputs(",\"cmdline\":", out);
    jstr(out, p->cmdline);
    /* "pid": with a space, as the json format spells it: the version tests
     * normalise the pid out of every format with one pattern */
    fprintf(out,
            ",\"pid\": %u,\"duration_ns\":%" PRId64 ",\"sampled\":%d,\"classified\":%d,"
            "\"has_meta\":%d,\"peak_bytes\":%" PRId64 ",\"peak_ns\":%" PRId64
            ",\"max_rss\":%" PRId64 ",\"peak_total\":%" PRId64 ",\"show_reachable\":%d",
            p->pid, p->duration_ns, (p->flags & PROF_FLAG_SAMPLED) != 0, p->classified, p->has_meta,
            p->peak_bytes, p->peak_ns, p->max_rss_bytes, report_peak_total(c), c->show_reachable);
    fprintf(out, ",\"top\":%ld,\"sections\":{\"pools\":%d,\"peak\":%d,\"leaks\":%d}", c->top,
            c->want_pools, c->want_peak, c->want_leaks);
    fputs(",\"pools\":[", out);
    for (size_t i = 0; i < p->npools; i++) {
        const prof_pool *pl = &p->pools[i];
        fprintf(out, "%s{\"id\":%" PRId32 ",\"name\":", i ? "," : "", pl->id);
        jstr(out, pl->name);
        fprintf(out,
                ",\"current\":%" PRId64 ",\"peak\":%" PRId64 ",\"total_bytes\":%" PRId64
                ",\"total_count\":%" PRId64 ",\"temporary_count\":%" PRId64 ",",
                pl->current, pl->peak, pl->total_bytes, pl->total_count, pl->temporary_count);
        column(out, "histogram", pl->histogram, pl->nbuckets, 1);
        fputs("}", out);
    }
    fputs("],", out);
    series(c, out);

    fputs(",\"addrs\":[", out);
    for (size_t a = 0; a < p->naddrs; a++) {
        size_t n;
        const cli_sym_frame *fr = cli_sym_lookup(c->sym, p->addrs[a], &n);
        fputs(a ? ",[" : "[", out);
        for (size_t k = n; k-- > 0;) {
            long id = func_id(&fs, &fr[k]);
            if (id < 0)
                goto oom;
            fprintf(out, "%s%ld,%d", k + 1 < n ? "," : "", id, fr[k].line);
        }
        fputs("]", out);
    }
    fputs("],\"funcs\":[", out);
    for (size_t i = 0; i < fs.n; i++) {
        fputs(i ? ",[" : "[", out);
        jstr(out, fs.f[i]->function);
        fputs(",", out);
        jstr(out, fs.f[i]->file);
        fprintf(out, ",%d]", irrelevant(fs.f[i]));
    }
    fputs("],\"parent\":[", out);
    for (size_t k = 0; k < p->nnodes; k++)
        fprintf(out, "%s%" PRIu32, k ? "," : "", p->nodes[k].parent);
    fputs("],\"frame\":[", out);
    for (size_t k = 0; k < p->nnodes; k++)
        fprintf(out, "%s%" PRIu32, k ? "," : "", p->nodes[k].frame);
    fputs("],\"records\":{\"node\":[", out);
    for (size_t i = 0; i < p->nrecords; i++)
        fprintf(out, "%s%" PRIu32, i ? "," : "", node_of(p, p->records[i].stack_id));
    fputs("],\"pool\":[", out);
    for (size_t i = 0; i < p->nrecords; i++)
        fprintf(out, "%s%" PRId32, i ? "," : "", p->records[i].pool_id);
    const size_t stride = sizeof(prof_record) / sizeof(int64_t);
    fputs("],", out);
    column(out, "live_bytes", &p->records[0].live_bytes, p->nrecords, stride);
    fputs(",", out);
    column(out, "total_bytes", &p->records[0].total_bytes, p->nrecords, stride);
    fputs(",", out);
    column(out, "total_count", &p->records[0].total_count, p->nrecords, stride);
    fputs(",", out);
    column(out, "temporary_count", &p->records[0].temporary_count, p->nrecords, stride);
    fputs(",", out);
    column(out, "peak_bytes", &p->records[0].peak_bytes, p->nrecords, stride);
    fputs("},\"leaks\":[", out);
    int first = 1;
    for (int l = 0; l < REPORT_LISTS; l++)
        for (size_t i = 0; i < c->lists[l].n; i++) {
            const leak_group *g = &c->lists[l].g[i];
            fprintf(out, "%s[%d,%" PRIu32 ",%" PRId32 ",%" PRIu32 ",%" PRId64 ",%" PRId64 ",",
                    first ? "" : ",", l, g->stack_id ? node_of(p, g->stack_id) : 0, g->pool_id,
                    g->kind, g->bytes, g->count);
            jstr(out, g->rule);
            fprintf(out, ",%d]", g->stack_id == 0);
            first = 0;
        }
    fputs("],\"lists\":[", out);
    for (int l = 0; l < REPORT_LISTS; l++)
        fprintf(out, "%s[%" PRId64 ",%" PRId64 ",%zu]", l ? "," : "", c->lists[l].bytes,
                c->lists[l].count, c->lists[l].stacks);
    fputs("],\"kind_bytes\":[", out);
    for (int k = 0; k < PROF_LEAK_KINDS; k++)
        fprintf(out, "%s%" PRId64, k ? "," : "", c->kind_bytes[k]);
    fputs("],\"kind_count\":[", out);
    for (int k = 0; k < PROF_LEAK_KINDS; k++)
        fprintf(out, "%s%" PRId64, k ? "," : "", c->kind_count[k]);
    fputs("],\"rules\":[", out);
    for (size_t i = 0; i < c->nrules; i++) {
        fputs(i ? ",[" : "[", out);
        jstr(out, c->rules[i].rule);
        fprintf(out, ",%d,%" PRId64 ",%" PRId64 "]", c->rules[i].builtin, c->rules[i].bytes,
                c->rules[i].count);
    }
    fputs("]}", out);
    free(fs.f);
    free(fs.slot);
    return 0;
oom:
    free(fs.f);
    free(fs.slot);
    return -1;
}

int report_html(report_ctx *c)
{
    const prof_profile *p = c->p;
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset='utf-8'>\n<title>tally: ", c->out);
    esc(c->out, p->exe && *p->exe ? p->exe : c->path);
    fputs("</title>\n<style>\n", c->out);
    fputs(report_html_flamegraph_css, c->out);
    fputs(report_html_report_css, c->out);
    fputs("</style></head><body>\n<noscript>This page draws its views with JavaScript; "
          "<code>tally report --format text</code> gives the same figures.</noscript>\n"
          "<script type='application/json' id=tally-data>",
          c->out);
    if (data(c, c->out)) {
        fprintf(stderr, "tally: out of memory writing the page\n");
        return CLI_EXIT_FAILURE;
    }
    fputs("</script>\n<script>\n", c->out);
    fputs(report_html_selection_js, c->out);
    fputs("\n</script>\n<script>\n", c->out);
    fputs(report_html_flamegraph_js, c->out);
    fputs("\n</script>\n<script>\n", c->out);
    fputs(report_html_report_js, c->out);
    fputs("\n</script>\n</body></html>\n", c->out);
    return CLI_EXIT_OK;
}
