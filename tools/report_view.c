/* report_view.c: heaptrack_print's views of the top stacks: ranked by any
 * cost (--sort), merged by allocation site (--merge site) and filtered by
 * function (--filter-function). The rows are made once, from the records,
 * and the text and JSON reports print them. */
#include <config.h>

#include "report.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Allocator internals: a frame here is how a block was allocated, not
 * where. Globs on the symbolized function name, then on the file. */
static const char *const internal_functions[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "__libc_*", "_int_*", "strdup", "strndup", "__strdup",
    "__strndup", "operator new*", "operator delete*", "__gnu_cxx::new_allocator<*",
    "std::__new_allocator<*", "std::allocator<*", "std::allocator_traits<*", "tally_*",
    /* CPython's allocators: the site is the object code that asked */
    "PyMem_*", "_PyMem_*", "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc",
    "_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc", "pymalloc_*", "arena_map_*",
    "new_arena", "allocate_from_new_pool"};
static const char *const internal_files[] = {"*/new_allocator.h", "*/alloc_traits.h",
                                             "*/allocator.h", "*/obmalloc.c"};

static int glob_any(const char *const *globs, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], s, 0) == 0)
            return 1;
    return 0;
}

static int internal_frame(const cli_sym_frame *f)
{
    if (f->module) {
        const char *base = strrchr(f->module, '/');
        if (!strncmp(base ? base + 1 : f->module, "libtally", 8))
            return 1;
    }
    if (glob_any(internal_functions, sizeof internal_functions / sizeof *internal_functions,
                 f->function))
        return 1;
    return f->file &&
           glob_any(internal_files, sizeof internal_files / sizeof *internal_files, f->file);
}

/* An address is internal when all of its frames, inlined ones too, are. */
static int internal_addr(report_ctx *c, uint32_t frame)
{
    if (!c->internal_memo[frame]) {
        size_t n;
        const cli_sym_frame *fr = cli_sym_lookup(c->sym, c->p->addrs[frame], &n);
        int all = 1;
        for (size_t k = 0; k < n && all; k++)
            all = internal_frame(&fr[k]);
        c->internal_memo[frame] = (uint8_t)(1 + all);
    }
    return c->internal_memo[frame] == 2;
}

uint32_t report_site_node(report_ctx *c, uint32_t stack_id)
{
    const prof_stack *st = prof_find_stack(c->p, stack_id);
    if (!st)
        return 0;
    for (uint32_t k = st->node; k != 0; k = c->p->nodes[k].parent)
        if (!internal_addr(c, c->p->nodes[k].frame))
            return k;
    return st->node;
}

static int addr_matches(report_ctx *c, uint32_t frame)
{
    size_t n;
    const cli_sym_frame *fr = cli_sym_lookup(c->sym, c->p->addrs[frame], &n);
    for (size_t k = 0; k < n; k++)
        if (fnmatch(c->filter_function, fr[k].function, 0) == 0)
            return 1;
    return 0;
}

/* A node matches when its address or a caller's does: each node is
 * decided once, walking up to the first one already known. */
int report_stack_kept(report_ctx *c, uint32_t stack_id)
{
    if (!c->filter_function)
        return 1;
    const prof_stack *st = prof_find_stack(c->p, stack_id);
    if (!st)
        return 0;
    const prof_node *nodes = c->p->nodes;
    uint32_t k = st->node;
    uint8_t found = 1;
    while (k != 0 && !c->match_memo[k]) {
        if (addr_matches(c, nodes[k].frame)) {
            c->match_memo[k] = 2;
            break;
        }
        k = nodes[k].parent;
    }
    if (k != 0)
        found = c->match_memo[k];
    for (uint32_t j = st->node; j != k; j = nodes[j].parent)
        c->match_memo[j] = found;
    return found == 2;
}

const char *report_sort_phrase(report_sort s)
{
    switch (s) {
    case SORT_CALLS:
        return "allocations";
    case SORT_TEMPORARY:
        return "temporary bytes";
    case SORT_PEAK:
        return "bytes at the peak";
    case SORT_LEAKED:
        return "bytes lost";
    default:
        return "bytes allocated";
    }
}

static int64_t key_of(report_sort s, const report_row *r)
{
    switch (s) {
    case SORT_CALLS:
        return r->total_count;
    case SORT_TEMPORARY:
        return r->temporary_bytes;
    case SORT_PEAK:
        return r->peak_bytes;
    case SORT_LEAKED:
        return r->leaked_bytes;
    default:
        return r->total_bytes;
    }
}

static report_sort sort_by; /* qsort has no argument */

static int cmp_rank(const void *a, const void *b)
{
    const report_row *x = a, *y = b;
    int64_t kx = key_of(sort_by, x), ky = key_of(sort_by, y);
    if (kx != ky)
        return kx > ky ? -1 : 1;
    if (x->total_bytes != y->total_bytes)
        return x->total_bytes > y->total_bytes ? -1 : 1;
    if (x->stack_id != y->stack_id)
        return x->stack_id < y->stack_id ? -1 : 1;
    return (x->pool_id > y->pool_id) - (x->pool_id < y->pool_id);
}

/* Merging: rows with one site address and pool next to each other. */
static const prof_node *merge_nodes;

static int cmp_site(const void *a, const void *b)
{
    const report_row *x = a, *y = b;
    uint32_t fx = x->node ? merge_nodes[x->node].frame + 1 : 0;
    uint32_t fy = y->node ? merge_nodes[y->node].frame + 1 : 0;
    if (fx != fy)
        return fx < fy ? -1 : 1;
    if (x->pool_id != y->pool_id)
        return x->pool_id < y->pool_id ? -1 : 1;
    return cmp_rank(a, b); /* the costliest first: it is the one shown */
}

static int same_site(const report_row *x, const report_row *y)
{
    uint32_t fx = x->node ? merge_nodes[x->node].frame + 1 : 0;
    uint32_t fy = y->node ? merge_nodes[y->node].frame + 1 : 0;
    return fx == fy && x->pool_id == y->pool_id;
}

static int cmp_lost(const void *a, const void *b)
{
    const leak_group *x = a, *y = b;
    if (x->stack_id != y->stack_id)
        return x->stack_id < y->stack_id ? -1 : 1;
    return (x->pool_id > y->pool_id) - (x->pool_id < y->pool_id);
}

static size_t merge(report_ctx *c, report_row *rows, size_t n)
{
    merge_nodes = c->p->nodes;
    for (size_t i = 0; i < n; i++)
        rows[i].node = report_site_node(c, rows[i].stack_id);
    qsort(rows, n, sizeof *rows, cmp_site);
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        report_row m = rows[i];
        for (i++; i < n && same_site(&m, &rows[i]); i++) {
            m.stacks += rows[i].stacks;
            m.total_bytes += rows[i].total_bytes;
            m.total_count += rows[i].total_count;
            m.temporary_count += rows[i].temporary_count;
            m.temporary_bytes += rows[i].temporary_bytes;
            m.peak_bytes += rows[i].peak_bytes;
            m.live_bytes += rows[i].live_bytes;
            m.live_count += rows[i].live_count;
            m.leaked_bytes += rows[i].leaked_bytes;
        }
        rows[out++] = m;
    }
    return out;
}

int report_rows(report_ctx *c)
{
    if (c->rows)
        return 0;
    const prof_profile *p = c->p;
    const leak_list *L = &c->lists[REPORT_LOST];
    leak_group *lost = malloc((L->n ? L->n : 1) * sizeof *lost);
    c->rows = malloc((p->nrecords ? p->nrecords : 1) * sizeof *c->rows);
    c->internal_memo = calloc(p->naddrs ? p->naddrs : 1, 1);
    c->match_memo = calloc(p->nnodes ? p->nnodes : 1, 1);
    if (!lost || !c->rows || !c->internal_memo || !c->match_memo) {
        free(lost);
        fprintf(stderr, "tally: out of memory\n");
        return -1;
    }
    /* The lost groups of a (stack, pool), looked up by record; a stack's
     * definite and indirect groups sit next to each other once sorted. */
    if (L->n)
        memcpy(lost, L->g, L->n * sizeof *lost);
    qsort(lost, L->n, sizeof *lost, cmp_lost);
    size_t n = 0;
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_record *r = &p->records[i];
        if (!report_stack_kept(c, r->stack_id))
            continue;
        const prof_stack *st = prof_find_stack(p, r->stack_id);
        report_row w = {r->stack_id,    r->pool_id,     st ? st->node : 0,  1,
                        r->total_bytes, r->total_count, r->temporary_count, r->temporary_bytes,
                        r->peak_bytes,  r->live_bytes,  r->live_count,      0};
        leak_group key = {.stack_id = r->stack_id, .pool_id = r->pool_id};
        leak_group *g = bsearch(&key, lost, L->n, sizeof *lost, cmp_lost);
        while (g && g > lost && cmp_lost(g - 1, &key) == 0)
            g--;
        for (; g && g < lost + L->n && cmp_lost(g, &key) == 0; g++)
            w.leaked_bytes += g->bytes;
        c->rows[n++] = w;
    }
    free(lost);
    sort_by = c->sort;
    if (c->merge_site)
        n = merge(c, c->rows, n);
    qsort(c->rows, n, sizeof *c->rows, cmp_rank);
    c->nrows = n;
    return 0;
}

void report_view_free(report_ctx *c)
{
    free(c->rows);
    free(c->internal_memo);
    free(c->match_memo);
    c->rows = NULL;
    c->internal_memo = c->match_memo = NULL;
    c->nrows = 0;
}
