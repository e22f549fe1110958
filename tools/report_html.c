/* report_html.c: one self-contained page, no script and no network: the
 * memory over time per pool (a stacked area chart in inline SVG, from the
 * time series), the pools table, the peak and leak tables, and a flame
 * graph of the peak (SVG, drawn here). Hovering shows <title> tooltips. */
#include <config.h>

#include "base/hash.h"
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define NCOLORS (sizeof palette / sizeof palette[0])

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static void frame_text(FILE *out, const cli_sym_frame *f)
{
    esc(out, f->function);
    if (f->file) {
        fputs(" <span class=loc>", out);
        esc(out, f->file);
        fprintf(out, ":%d</span>", f->line);
    }
    if (f->inlined)
        fputs(" <i>(inlined)</i>", out);
}

/* The first frame as the cell's text, the whole stack in a <details>. */
static void stack_cell(report_ctx *c, uint32_t stack_id)
{
    const prof_stack *st = prof_find_stack(c->p, stack_id);
    if (!st || st->nframes == 0) {
        fputs("<td><i>not sampled</i></td>", c->out);
        return;
    }
    size_t n;
    const cli_sym_frame *fr = cli_sym_lookup(c->sym, prof_node_addr(c->p, st->node), &n);
    fputs("<td><details><summary>", c->out);
    frame_text(c->out, &fr[0]);
    fputs("</summary><ol>", c->out);
    for (uint32_t k = st->node; k != 0; k = c->p->nodes[k].parent) {
        fr = cli_sym_lookup(c->sym, prof_node_addr(c->p, k), &n);
        for (size_t k = 0; k < n; k++) {
            fputs("<li>", c->out);
            frame_text(c->out, &fr[k]);
            fputs("</li>", c->out);
        }
    }
    fputs("</ol></details></td>", c->out);
}

static void chart(report_ctx *c)
{
    const prof_profile *p = c->p;
    const double W = 900, H = 280, L = 70, T = 10;
    fputs("<h2>Memory over time</h2>\n", c->out);
    if (p->npoints < 2 || p->series_npools == 0) {
        fputs("<p id=chart-none>The profile has no time series.</p>\n", c->out);
        return;
    }
    uint32_t np = p->series_npools;
    size_t step = p->npoints / 2000 + 1; /* at most ~2000 points per area */
    int64_t max = 1, t0 = p->series_t_ns[0], t1 = p->series_t_ns[p->npoints - 1];
    for (size_t i = 0; i < p->npoints; i++) {
        int64_t s = 0;
        for (uint32_t j = 0; j < np; j++)
            s += p->series_bytes[i * np + j] > 0 ? p->series_bytes[i * np + j] : 0;
        if (s > max)
            max = s;
    }
    double span = t1 > t0 ? (double)(t1 - t0) : 1;
    char h[32];
    fprintf(c->out,
            "<svg id=chart xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
            "role='img' aria-label='live bytes per pool over time'>\n",
            W + L + 10, H + T + 40);
    for (uint32_t j = 0; j < np; j++) {
        /* Layer j spans the running sum of pools 0..j-1 up to 0..j. */
        fprintf(c->out, "<path class=area data-pool='");
        esc(c->out, prof_pool_name(p, p->series_pools[j]));
        fprintf(c->out, "' fill='%s' fill-opacity='0.85' d='", palette[j % NCOLORS]);
        int first = 1;
        for (size_t i = 0; i < p->npoints; i += step) {
            int64_t s = 0;
            for (uint32_t k = 0; k <= j; k++)
                s += p->series_bytes[i * np + k] > 0 ? p->series_bytes[i * np + k] : 0;
            fprintf(c->out, "%s%.1f %.1f ", first ? "M" : "L",
                    L + W * (double)(p->series_t_ns[i] - t0) / span,
                    T + H - H * (double)s / (double)max);
            first = 0;
        }
        for (size_t i = ((p->npoints - 1) / step) * step + step; i-- > 0;) {
            if (i % step)
                continue;
            int64_t s = 0;
            for (uint32_t k = 0; k < j; k++)
                s += p->series_bytes[i * np + k] > 0 ? p->series_bytes[i * np + k] : 0;
            fprintf(c->out, "L%.1f %.1f ", L + W * (double)(p->series_t_ns[i] - t0) / span,
                    T + H - H * (double)s / (double)max);
        }
        fputs("Z'><title>", c->out);
        esc(c->out, prof_pool_name(p, p->series_pools[j]));
        fputs("</title></path>\n", c->out);
    }
    fprintf(c->out,
            "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#333'/>"
            "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#333'/>\n",
            L, T + H, L + W, T + H, L, T, L, T + H);
    fprintf(c->out, "<text x='%.0f' y='%.0f' text-anchor='end' font-size='11'>%s</text>\n", L - 4,
            T + 10, report_human(max, h));
    fprintf(c->out, "<text x='%.0f' y='%.0f' text-anchor='end' font-size='11'>0</text>\n", L - 4,
            T + H);
    fprintf(c->out, "<text x='%.0f' y='%.0f' font-size='11'>%.3f s</text>\n", L, T + H + 14,
            (double)t0 / 1e9);
    fprintf(c->out, "<text x='%.0f' y='%.0f' text-anchor='end' font-size='11'>%.3f s</text>\n",
            L + W, T + H + 14, (double)t1 / 1e9);
    for (uint32_t j = 0; j < np; j++) {
        fprintf(c->out, "<rect x='%.0f' y='%.0f' width='10' height='10' fill='%s'/>", L + 120.0 * j,
                T + H + 24, palette[j % NCOLORS]);
        fprintf(c->out, "<text x='%.0f' y='%.0f' font-size='11'>", L + 120.0 * j + 14, T + H + 33);
        esc(c->out, prof_pool_name(p, p->series_pools[j]));
        fputs("</text>", c->out);
    }
    fputs("\n</svg>\n", c->out);
}

static void pools(report_ctx *c)
{
    const prof_profile *p = c->p;
    fputs("<h2>Pools</h2>\n<table id=pools><thead><tr><th>pool<th>current<th>peak<th>total"
          "<th>count<th>temporary</tr></thead><tbody>\n",
          c->out);
    for (size_t i = 0; i < p->npools; i++) {
        const prof_pool *pl = &p->pools[i];
        fputs("<tr><td>", c->out);
        esc(c->out, pl->name);
        fprintf(c->out, "<td>%lld<td>%lld<td>%lld<td>%lld<td>%lld</tr>\n", (long long)pl->current,
                (long long)pl->peak, (long long)pl->total_bytes, (long long)pl->total_count,
                (long long)pl->temporary_count);
    }
    fputs("</tbody></table>\n", c->out);
}

static void peak_table(report_ctx *c)
{
    char h[32];
    int64_t total = report_peak_total(c);
    fprintf(c->out, "<h2>Peak: %s (%lld bytes) at %.3f s</h2>\n", report_human(total, h),
            (long long)total, (double)c->p->peak_ns / 1e9);
    fputs("<table id=peak><thead><tr><th>bytes<th>share<th>pool<th>allocated at</tr></thead>"
          "<tbody>\n",
          c->out);
    size_t n = report_limit(c, c->npeak);
    for (size_t i = 0; i < n; i++) {
        const prof_record *r = c->by_peak[i];
        fprintf(c->out, "<tr><td>%lld<td>%.1f%%<td>", (long long)r->peak_bytes,
                total > 0 ? 100.0 * (double)r->peak_bytes / (double)total : 0.0);
        esc(c->out, prof_pool_name(c->p, r->pool_id));
        stack_cell(c, r->stack_id);
        fputs("</tr>\n", c->out);
    }
    fputs("</tbody></table>\n", c->out);
}

static void leak_rows(report_ctx *c, const char *id, const leak_list *L)
{
    fprintf(c->out,
            "<table id=%s class=leak><thead><tr><th>bytes<th>blocks<th>kind<th>pool<th>allocated "
            "at%s</tr></thead><tbody>\n",
            id, strcmp(id, "suppressed") ? "" : "<th>rule");
    size_t n = report_limit(c, L->n);
    for (size_t i = 0; i < n; i++) {
        const leak_group *g = &L->g[i];
        fprintf(c->out, "<tr><td>%lld<td>%lld<td>%s<td>", (long long)g->bytes, (long long)g->count,
                report_kind_phrase(g->kind));
        esc(c->out, prof_pool_name(c->p, g->pool_id));
        stack_cell(c, g->stack_id);
        if (g->rule) {
            fputs("<td>", c->out);
            esc(c->out, g->rule);
        }
        fputs("</tr>\n", c->out);
    }
    fputs("</tbody></table>\n", c->out);
}

/* "264 B (264 bytes) in 3 blocks from 2 stacks" */
static void amount(report_ctx *c, const leak_list *L)
{
    char h[32];
    fprintf(c->out, "%s (%lld bytes) in %lld blocks from %zu stacks", report_human(L->bytes, h),
            (long long)L->bytes, (long long)L->count, L->stacks);
}

static void leaks(report_ctx *c)
{
    const leak_list *L = c->lists;
    if (c->p->classified) {
        fputs("<h2>Leaks, definitely and indirectly lost: ", c->out);
        amount(c, &L[REPORT_LOST]);
        fputs("</h2>\n<p id=leak-kinds>", c->out);
        static const uint32_t order[] = {PROF_LEAK_DEFINITE, PROF_LEAK_INDIRECT, PROF_LEAK_POSSIBLE,
                                         PROF_LEAK_REACHABLE};
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
            fprintf(c->out, "%s%s: %lld bytes in %lld blocks", i ? "; " : "",
                    report_kind_phrase(order[i]), (long long)c->kind_bytes[order[i]],
                    (long long)c->kind_count[order[i]]);
        fputs("</p>\n", c->out);
        leak_rows(c, "leaks", &L[REPORT_LOST]);
        if (L[REPORT_POSSIBLE].n) {
            fputs("<h3>Possibly lost (only interior pointers reach them): ", c->out);
            amount(c, &L[REPORT_POSSIBLE]);
            fputs("</h3>\n", c->out);
            leak_rows(c, "possible", &L[REPORT_POSSIBLE]);
        }
        if (L[REPORT_REACHABLE].n) {
            fputs("<h3>Still reachable: ", c->out);
            amount(c, &L[REPORT_REACHABLE]);
            fputs("</h3>\n", c->out);
            if (c->show_reachable)
                leak_rows(c, "reachable", &L[REPORT_REACHABLE]);
            else
                fputs("<p id=reachable-note>Not listed: <code>--show-reachable</code> lists "
                      "them.</p>\n",
                      c->out);
        }
    }
    if (L[REPORT_LIVE].n || !c->p->classified) {
        fputs("<h2>Live blocks, not checked for leaks: ", c->out);
        amount(c, &L[REPORT_LIVE]);
        fputs("</h2>\n<p>No leak check ran: these blocks were live when the profile was written, "
              "and none is known to be lost.</p>\n",
              c->out);
        leak_rows(c, "live", &L[REPORT_LIVE]);
    }
    if (L[REPORT_SUPPRESSED].n) {
        fputs("<h3>Suppressed: ", c->out);
        amount(c, &L[REPORT_SUPPRESSED]);
        fputs("</h3>\n<ul id=rules>", c->out);
        for (size_t i = 0; i < c->nrules; i++) {
            fputs("<li><code>", c->out);
            esc(c->out, c->rules[i].rule);
            fprintf(c->out, "</code>%s: %lld bytes in %lld blocks</li>",
                    c->rules[i].builtin ? " (built in)" : "", (long long)c->rules[i].bytes,
                    (long long)c->rules[i].count);
        }
        fputs("</ul>\n", c->out);
        leak_rows(c, "suppressed", &L[REPORT_SUPPRESSED]);
    }
}

/* ---- flame graph of the peak ------------------------------------------------ */

/* Drawn from the profile's own stack tree, which is rooted at the outermost
 * frame as a flame graph is: per pool, each node's value is the bytes its
 * subtree held at the peak (one sweep up the nodes, children after their
 * parents), and only nodes at least half a pixel wide are walked. Each node
 * is as many boxes as its address has frames, the inlined ones on top. */
typedef struct {
    report_ctx *c;
    double width, row;
    int64_t total; /* everything at the peak: the "all" box */
    int maxdepth;
    int64_t *val;           /* per node: the pool's bytes at the peak under it */
    uint32_t *first, *next; /* per node: its first child, the next sibling; 0 for none */
    uint32_t *ninl;         /* per frame: how many frames its address has, 0 while unknown */
} flame;

static uint32_t inlined(flame *f, uint32_t frame)
{
    if (!f->ninl[frame]) {
        size_t n;
        cli_sym_lookup(f->c->sym, f->c->p->addrs[frame], &n);
        f->ninl[frame] = (uint32_t)n;
    }
    return f->ninl[frame];
}

static void box(flame *f, double x, int depth, int64_t value, const char *label,
                const cli_sym_frame *fr)
{
    double w = f->width * (double)value / (double)f->total;
    double y = (f->maxdepth - depth) * f->row;
    uint64_t h = base_hash_str(label);
    fprintf(f->c->out,
            "<g class=frame><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' rx='2' "
            "fill='hsl(%u,75%%,%u%%)'/><title>",
            x, y, w, f->row - 1, (unsigned)(10 + h % 40), (unsigned)(55 + (h >> 8) % 15));
    esc(f->c->out, label);
    if (fr && fr->file) {
        fputs(" (", f->c->out);
        esc(f->c->out, fr->file);
        fprintf(f->c->out, ":%d)", fr->line);
    }
    fprintf(f->c->out, ": %lld bytes (%.1f%%)</title>", (long long)value,
            100.0 * (double)value / (double)f->total);
    if (w > 40) {
        int chars = (int)(w / 7);
        fprintf(f->c->out, "<text x='%.1f' y='%.1f' font-size='11'>", x + 3, y + f->row - 5);
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", chars < 255 ? chars : 255, label);
        esc(f->c->out, buf);
        fputs("</text>", f->c->out);
    }
    fputs("</g>\n", f->c->out);
}

/* The pool's values into f->val; its total, the records without a stack
 * included (they stop at the pool's box). */
static int64_t pool_values(flame *f, int32_t pool)
{
    const prof_profile *p = f->c->p;
    int64_t total = 0;
    memset(f->val, 0, p->nnodes * sizeof *f->val);
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        if (r->pool_id != pool || r->peak_bytes <= 0)
            continue;
        total += r->peak_bytes;
        const prof_stack *st = prof_find_stack(p, r->stack_id);
        if (st)
            f->val[st->node] += r->peak_bytes;
    }
    for (size_t k = p->nnodes; k-- > 1;)
        f->val[p->nodes[k].parent] += f->val[k];
    return total;
}

/* The deepest box under node, whose boxes start at depth. */
static int deepest(flame *f, uint32_t node, int depth)
{
    int d = depth - 1;
    if (node != 0)
        d += (int)inlined(f, f->c->p->nodes[node].frame);
    int best = d;
    for (uint32_t k = f->first[node]; k != 0; k = f->next[k])
        if (f->val[k] > 0) {
            int dk = deepest(f, k, d + 1);
            if (dk > best)
                best = dk;
        }
    return best;
}

static int cmp_value(const void *a, const void *b, void *arg)
{
    const int64_t *val = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (val[x] != val[y])
        return val[x] > val[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* node's boxes from depth up, then its children's, largest first. */
static void draw(flame *f, uint32_t node, double x, int depth)
{
    const prof_profile *p = f->c->p;
    int64_t value = f->val[node];
    if (f->width * (double)value / (double)f->total < 0.5)
        return;
    if (node != 0) {
        size_t n;
        const cli_sym_frame *fr = cli_sym_lookup(f->c->sym, prof_node_addr(p, node), &n);
        for (size_t k = n; k-- > 0;) /* outermost first */
            box(f, x, depth++, value, fr[k].function, &fr[k]);
    }
    size_t nkids = 0;
    for (uint32_t k = f->first[node]; k != 0; k = f->next[k])
        nkids += f->val[k] > 0;
    uint32_t *kids = malloc((nkids ? nkids : 1) * sizeof *kids);
    if (!kids)
        return;
    nkids = 0;
    for (uint32_t k = f->first[node]; k != 0; k = f->next[k])
        if (f->val[k] > 0)
            kids[nkids++] = k;
    qsort_r(kids, nkids, sizeof *kids, cmp_value, f->val);
    for (size_t i = 0; i < nkids; i++) {
        draw(f, kids[i], x, depth);
        x += f->width * (double)f->val[kids[i]] / (double)f->total;
    }
    free(kids);
}

typedef struct {
    int32_t id;
    int64_t value;
} pool_total;

static int cmp_pool(const void *a, const void *b)
{
    const pool_total *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void flamegraph(report_ctx *c)
{
    const prof_profile *p = c->p;
    flame f = {.c = c, .width = 1180, .row = 17};
    fputs("<h2>Flame graph of the peak</h2>\n", c->out);
    f.val = malloc(p->nnodes * sizeof *f.val);
    f.first = calloc(p->nnodes, sizeof *f.first);
    f.next = calloc(p->nnodes, sizeof *f.next);
    f.ninl = calloc(p->naddrs ? p->naddrs : 1, sizeof *f.ninl);
    pool_total *pools = calloc(p->npools ? p->npools : 1, sizeof *pools);
    size_t npools = 0;
    if (!f.val || !f.first || !f.next || !f.ninl || !pools) {
        fprintf(stderr, "tally: out of memory: no flame graph\n");
        goto out;
    }
    for (size_t k = p->nnodes; k-- > 1;) { /* children in node order */
        f.next[k] = f.first[p->nodes[k].parent];
        f.first[p->nodes[k].parent] = (uint32_t)k;
    }
    for (size_t i = 0; i < p->npools; i++) {
        int64_t v = pool_values(&f, p->pools[i].id);
        if (v > 0) {
            pools[npools++] = (pool_total){p->pools[i].id, v};
            f.total += v;
        }
    }
    if (f.total <= 0) {
        fputs("<p id=flame-none>Nothing was live at the peak.</p>\n", c->out);
        goto out;
    }
    qsort(pools, npools, sizeof *pools, cmp_pool);
    f.maxdepth = 1; /* all, then the pools */
    for (size_t i = 0; i < npools; i++) {
        pool_values(&f, pools[i].id);
        int d = deepest(&f, 0, 2);
        if (d > f.maxdepth)
            f.maxdepth = d;
    }
    fprintf(c->out,
            "<svg id=flame xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
            "role='img' aria-label='flame graph of the peak'>\n",
            f.width, (f.maxdepth + 1) * f.row);
    box(&f, 0, 0, f.total, "all", NULL);
    double x = 0;
    for (size_t i = 0; i < npools; i++) {
        double w = f.width * (double)pools[i].value / (double)f.total;
        if (w >= 0.5) {
            char label[300];
            snprintf(label, sizeof label, "pool %s", prof_pool_name(p, pools[i].id));
            box(&f, x, 1, pools[i].value, label, NULL);
            pool_values(&f, pools[i].id);
            draw(&f, 0, x, 2);
        }
        x += w;
    }
    fputs("</svg>\n", c->out);
out:
    free(f.val);
    free(f.first);
    free(f.next);
    free(f.ninl);
    free(pools);
}

int report_html(report_ctx *c)
{
    const prof_profile *p = c->p;
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset='utf-8'>\n<title>tally: ", c->out);
    esc(c->out, p->exe && *p->exe ? p->exe : c->path);
    fputs("</title>\n<style>\n"
          "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
          "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}\n"
          "td:last-child,th:last-child{text-align:left}\n"
          "td:nth-child(3){text-align:left}\n#pools td:first-child{text-align:left}\n"
          ".leak td:nth-child(4){text-align:left}\n"
          ".loc{color:#666;font-size:12px}\nsummary{cursor:pointer}\n"
          "ol{margin:.3em 0;padding-left:2em;text-align:left}\n"
          "svg text{font-family:monospace;pointer-events:none}\n"
          "</style></head><body>\n<h1>tally report</h1>\n<p>",
          c->out);
    esc(c->out, c->path);
    if (p->has_meta) {
        fputs(": <code>", c->out);
        esc(c->out, p->cmdline && *p->cmdline ? p->cmdline : p->exe);
        fprintf(c->out, "</code>, pid %u, %.3f s", p->pid, (double)p->duration_ns / 1e9);
    }
    if (p->flags & PROF_FLAG_SAMPLED)
        fputs(" (sampled: per-stack figures are estimates)", c->out);
    fputs("</p>\n", c->out);
    if (c->want_pools) {
        chart(c);
        pools(c);
    }
    if (c->want_peak) {
        peak_table(c);
        flamegraph(c);
    }
    if (c->want_leaks)
        leaks(c);
    fputs("</body></html>\n", c->out);
    return CLI_EXIT_OK;
}
