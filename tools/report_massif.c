/* report_massif.c: valgrind's massif format, for ms_print and massif
 * visualizers. Header first (heaptrack's export writes it last, which
 * ms_print rejects), then one snapshot per time-series point, with the
 * peak's heap tree in the snapshot at the peak and the tree of what was
 * still live in the last one (massif's own last snapshot: the heap, whatever
 * its blocks' leak kinds). In a massif tree the root is the allocation functions
 * and each node's children are its callers. */
#include <config.h>

#include "report.h"
#include "trie.h"

#include <inttypes.h>
#include <string.h>

/* ms_print strips everything after '#' as a comment. */
static void put_clean(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == '#' || *s == '\n' ? '_' : *s, out);
}

/* Like massif's own --threshold=1.0: children under 1% of the snapshot are
 * folded into one "in N places" line, which keeps big profiles readable. */
static int significant(const trie *t, uint32_t id, int64_t total)
{
    return t->n[id].value * 100 >= total;
}

static void node_line(report_ctx *c, const trie *t, uint32_t id, int depth, int64_t total)
{
    const trie_node *x = &t->n[id];
    uint32_t shown = 0, folded = 0;
    int64_t folded_bytes = 0;
    for (uint32_t k = x->child; k != TRIE_NONE; k = t->n[k].sibling) {
        if (significant(t, k, total))
            shown++;
        else {
            folded++;
            folded_bytes += t->n[k].value;
        }
    }
    fprintf(c->out, "%*sn%u: %lld ", depth, "", shown + (folded > 0), (long long)x->value);
    if (id == 0) {
        fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n", c->out);
    } else if (x->k == TRIE_NONE) {
        fputs("(not sampled)\n", c->out);
    } else {
        size_t n;
        const cli_sym_frame *fr = cli_sym_lookup(c->sym, x->addr, &n);
        const cli_sym_frame *f = &fr[x->k < n ? x->k : 0];
        fprintf(c->out, "0x%" PRIX64 ": ", x->addr);
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
    for (uint32_t k = x->child; k != TRIE_NONE; k = t->n[k].sibling)
        if (significant(t, k, total))
            node_line(c, t, k, depth + 1, total);
    if (folded)
        fprintf(c->out, "%*sn0: %lld in %u place%s, all below massif's threshold (1.00%%)\n",
                depth + 1, "", (long long)folded_bytes, folded, folded == 1 ? "" : "s");
}

/* The tree of one figure (peak_bytes or live_bytes) over every record. */
static int tree(report_ctx *c, int live)
{
    trie t;
    if (trie_init(&t) != 0)
        return -1;
    const prof_profile *p = c->p;
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        int64_t v = live ? r->live_bytes : r->peak_bytes;
        if (v <= 0)
            continue;
        t.n[0].value += v;
        const prof_stack *st = prof_find_stack(p, r->stack_id);
        uint32_t at = 0;
        if (!st) {
            at = trie_child(&t, 0, 0, TRIE_NONE);
            if (at != TRIE_NONE)
                t.n[at].value += v;
            continue;
        }
        for (uint32_t f = 0; f < st->nframes && at != TRIE_NONE; f++) {
            size_t n;
            cli_sym_lookup(c->sym, st->frames[f], &n);
            for (size_t k = 0; k < n && at != TRIE_NONE; k++) {
                at = trie_child(&t, at, st->frames[f], (uint32_t)k);
                if (at != TRIE_NONE)
                    t.n[at].value += v;
            }
        }
    }
    trie_sort(&t);
    node_line(c, &t, 0, 0, t.n[0].value);
    trie_free(&t);
    return 0;
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
