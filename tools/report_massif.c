/* report_massif.c: valgrind's massif format, for ms_print and massif
 * visualizers. Header first (heaptrack's export writes it last, which
 * ms_print rejects), then one snapshot per time-series point, with the
 * peak's heap tree in the snapshot at the peak and the tree of what was
 * still live in the last one (massif's own last snapshot: the heap, whatever
 * its blocks' leak kinds). In a massif tree the root is the allocation functions
 * and each node's children are its callers. */
#include <config.h>

#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ms_print strips everything after '#' as a comment. */
static void put_clean(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == '#' || *s == '\n' ? '_' : *s, out);
}

/* The tree is made level by level, and only where it is printed: a
 * record's value goes down the frames of its stack, innermost first, and a
 * node's children are its records grouped by their next frame. Children
 * under 1% of the snapshot are folded into one line (massif's own
 * --threshold=1.0) and never expanded, so a million stacks cost a grouping
 * at the few levels that are shown, not a node per frame per stack. */
typedef struct {
    uint64_t addr; /* the frame's return address; 0 when not sampled */
    int64_t value; /* the record's bytes */
    uint32_t node; /* its profile node; NOT_SAMPLED for a record without a stack */
    uint32_t k;    /* which of the address's inlined frames: 0 the innermost */
} item;

#define NOT_SAMPLED UINT32_MAX

typedef struct {
    size_t lo, hi; /* its items */
    int64_t value;
} child;

static int cmp_key(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

/* Largest first; equal values by frame, for a stable output. */
static int cmp_child(const void *a, const void *b, void *arg)
{
    const child *x = a, *y = b;
    const item *it = arg;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return cmp_key(&it[x->lo], &it[y->lo]);
}

/* Moves an item to its next frame: the next inlined one, or the caller's.
 * false when the stack has no more. */
static bool advance(report_ctx *c, item *x)
{
    const prof_profile *p = c->p;
    if (x->node == NOT_SAMPLED)
        return false;
    size_t n;
    cli_sym_lookup(c->sym, x->addr, &n);
    if (x->k + 1 < n) {
        x->k++;
        return true;
    }
    x->node = p->nodes[x->node].parent;
    if (x->node == 0)
        return false;
    x->addr = prof_node_addr(p, x->node);
    x->k = 0;
    return true;
}

static void label(report_ctx *c, const item *key)
{
    if (!key) {
        fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n", c->out);
        return;
    }
    if (key->node == NOT_SAMPLED) {
        fputs("(not sampled)\n", c->out);
        return;
    }
    size_t n;
    const cli_sym_frame *fr = cli_sym_lookup(c->sym, key->addr, &n);
    const cli_sym_frame *f = &fr[key->k < n ? key->k : 0];
    fprintf(c->out, "0x%" PRIX64 ": ", key->addr);
    put_clean(c->out, f->function);
    if (f->file) {
        fputs(" (", c->out);
        put_clean(c->out, f->file);
        fprintf(c->out, ":%d)", f->line);
    } else if (f->module) {
        fputs(" (in ", c->out);
        put_clean(c->out, f->module);
        fputs(")", c->out);
    }
    fputc('\n', c->out);
}

/* One node's line, then its significant children's, depth first. it[0..n)
 * are its records, each at the frame below this node; key is the node's
 * frame (NULL for the root). 0, or -1 when out of memory. */
static int node_out(report_ctx *c, item *it, size_t n, int depth, int64_t value, const item *key,
                    int64_t total)
{
    size_t same = 1;
    while (same < n && cmp_key(&it[0], &it[same]) == 0)
        same++;
    if (same < n) /* a chain of one frame, the common case deep down, needs no sort */
        qsort(it, n, sizeof *it, cmp_key);
    size_t nch = 0;
    for (size_t i = 0; i < n; i++)
        nch += i == 0 || cmp_key(&it[i - 1], &it[i]) != 0;
    child *ch = malloc((nch ? nch : 1) * sizeof *ch);
    if (!ch)
        return -1;
    nch = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || cmp_key(&it[i - 1], &it[i]) != 0)
            ch[nch++] = (child){i, i, 0};
        ch[nch - 1].hi = i + 1;
        ch[nch - 1].value += it[i].value;
    }
    qsort_r(ch, nch, sizeof *ch, cmp_child, it);
    uint32_t shown = 0, folded = 0;
    int64_t folded_bytes = 0;
    for (size_t i = 0; i < nch; i++) {
        if (ch[i].value * 100 >= total) {
            shown++;
        } else {
            folded++;
            folded_bytes += ch[i].value;
        }
    }
    fprintf(c->out, "%*sn%u: %lld ", depth, "", shown + (folded > 0), (long long)value);
    label(c, key);
    int rc = 0;
    for (size_t i = 0; i < nch && rc == 0; i++) {
        if (ch[i].value * 100 < total)
            continue;
        item *sub = it + ch[i].lo, frame = sub[0];
        size_t kept = 0;
        for (size_t j = 0; j < ch[i].hi - ch[i].lo; j++) {
            item x = sub[j];
            if (advance(c, &x))
                sub[kept++] = x;
        }
        rc = node_out(c, sub, kept, depth + 1, ch[i].value, &frame, total);
    }
    if (folded)
        fprintf(c->out, "%*sn0: %lld in %u place%s, all below massif's threshold (1.00%%)\n",
                depth + 1, "", (long long)folded_bytes, folded, folded == 1 ? "" : "s");
    free(ch);
    return rc;
}

/* The tree of one figure (peak_bytes or live_bytes) over every record. */
static int tree(report_ctx *c, int live)
{
    const prof_profile *p = c->p;
    item *it = malloc((p->nrecords ? p->nrecords : 1) * sizeof *it);
    if (!it)
        return -1;
    size_t n = 0;
    int64_t total = 0;
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        int64_t v = live ? r->live_bytes : r->peak_bytes;
        if (v <= 0)
            continue;
        total += v;
        const prof_stack *st = prof_find_stack(p, r->stack_id);
        if (!st)
            it[n++] = (item){0, v, NOT_SAMPLED, NOT_SAMPLED};
        else if (st->node != 0) /* an empty stack counts at the root only */
            it[n++] = (item){prof_node_addr(p, st->node), v, st->node, 0};
    }
    int rc = node_out(c, it, n, 0, total, NULL, total);
    free(it);
    return rc;
}

static void snapshot(report_ctx *c, int num, int64_t t_ns, int64_t heap, const char *kind)
{
    fprintf(c->out,
            "#-----------\nsnapshot=%d\n#-----------\ntime=%lld\nmem_heap_B=%lld\n"
            "mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n",
            num, (long long)(t_ns / 1000000), (long long)heap, kind);
}

static int64_t sum_records(const prof_profile *p, int live)
{
    int64_t s = 0;
    for (size_t i = 0; i < p->nrecords; i++)
        s += live ? p->records[i].live_bytes : p->records[i].peak_bytes;
    return s;
}

int report_massif(report_ctx *c)
{
    const prof_profile *p = c->p;
    fprintf(c->out, "desc: tally report --format massif %s\ncmd: ", c->path);
    put_clean(c->out, p->cmdline && *p->cmdline ? p->cmdline : p->exe ? p->exe : "(unknown)");
    fputs("\ntime_unit: ms\n", c->out);

    /* The tree's nodes may not exceed the snapshot's total (ms_print checks). */
    int64_t peak_heap = report_peak_total(c), peak_tree = sum_records(p, 0);
    if (peak_tree > peak_heap)
        peak_heap = peak_tree;
    int64_t end_heap = 0, end_tree = sum_records(p, 1);
    for (size_t i = 0; i < p->npools; i++)
        end_heap += p->pools[i].current;
    if (end_tree > end_heap)
        end_heap = end_tree;
    int64_t peak_ns = p->has_meta ? p->peak_ns : 0, end_ns = p->has_meta ? p->duration_ns : 0;

    int num = 0, peak_done = 0;
    for (size_t i = 0; i < p->npoints; i++) {
        int64_t t = p->series_t_ns[i];
        if (!peak_done && t > peak_ns) {
            snapshot(c, num++, peak_ns, peak_heap, "peak");
            tree(c, 0);
            peak_done = 1;
        }
        int64_t heap = 0;
        for (uint32_t j = 0; j < p->series_npools; j++)
            heap += p->series_bytes[i * p->series_npools + j];
        snapshot(c, num++, t, heap, "empty");
    }
    if (!peak_done) {
        snapshot(c, num++, peak_ns, peak_heap, "peak");
        tree(c, 0);
    }
    if (end_ns < peak_ns)
        end_ns = peak_ns;
    if (p->npoints > 0 && end_ns < p->series_t_ns[p->npoints - 1])
        end_ns = p->series_t_ns[p->npoints - 1];
    snapshot(c, num++, end_ns, end_heap, "detailed");
    if (tree(c, 1) != 0) {
        fprintf(stderr, "tally: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}
