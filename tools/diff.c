/* diff.c: `tally diff A B`: what grew from A to B, per pool and per stack.
 *
 * Two profiles of one process (tally_track_dump snapshots) share stack ids
 * and addresses; two runs do not (ASLR, other ids). So stacks are matched
 * by their frames as (module path, offset in the module) and pools by name. */
#include <config.h>

#include "base/hash.h"
#include "report.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    uint64_t hash;
    int64_t live[2], count[2], total[2], peak[2];
    uint32_t stack_id[2]; /* 0 when absent from that side */
    const char *pool;
} entry;

typedef struct {
    entry *e;
    size_t n, cap;
    size_t *slots; /* index + 1; 0 empty */
    size_t nslots;
} table;

static void key_add(char **buf, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text) + 1; /* with the separator */
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) {
            fprintf(stderr, "tally: out of memory\n");
            exit(CLI_EXIT_FAILURE);
        }
    }
    memcpy(*buf + *len, text, n - 1);
    (*buf)[*len + n - 1] = '\n';
    *len += n;
    (*buf)[*len] = '\0';
}

/* The stack's identity across processes. */
static char *stack_key(const prof_profile *p, cli_symbolizer *sym, uint32_t stack_id,
                       const char *pool)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    key_add(&buf, &len, &cap, pool);
    const prof_stack *st = prof_find_stack(p, stack_id);
    for (uint32_t f = 0; st && f < st->nframes; f++) {
        char text[4200];
        const prof_module *m = cli_sym_module(sym, st->frames[f] - 1);
        if (m)
            snprintf(text, sizeof text, "%s+%" PRIx64, m->path, st->frames[f] - m->base);
        else
            snprintf(text, sizeof text, "%" PRIx64, st->frames[f]);
        key_add(&buf, &len, &cap, text);
    }
    return buf;
}

static entry *find(table *t, char *key)
{
    uint64_t h = base_hash_str(key);
    if ((t->n + 1) * 2 > t->nslots) {
        size_t ns = t->nslots ? t->nslots * 2 : 1024;
        size_t *s = calloc(ns, sizeof *s);
        entry *e = realloc(t->e, ns / 2 * sizeof *e);
        if (!s || !e) {
            fprintf(stderr, "tally: out of memory\n");
            exit(CLI_EXIT_FAILURE);
        }
        t->e = e;
        for (size_t i = 0; i < t->n; i++) {
            size_t j = t->e[i].hash & (ns - 1);
            while (s[j])
                j = (j + 1) & (ns - 1);
            s[j] = i + 1;
        }
        free(t->slots);
        t->slots = s;
        t->nslots = ns;
    }
    size_t j = h & (t->nslots - 1);
    while (t->slots[j]) {
        entry *e = &t->e[t->slots[j] - 1];
        if (e->hash == h && !strcmp(e->key, key)) {
            free(key);
            return e;
        }
        j = (j + 1) & (t->nslots - 1);
    }
    entry *e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->hash = h;
    t->slots[j] = ++t->n;
    return e;
}

/* What "growth" measures: live bytes (snapshots), or, to compare two exit
 * profiles whose live bytes are only the leaks, bytes at the peak or ever
 * allocated (--cost). */
static int cost = 0; /* 0 live, 1 peak, 2 allocated */
static const char *const cost_name[] = {"live bytes", "bytes at the peak", "bytes allocated"};

static int64_t metric(const entry *e, int side)
{
    return cost == 1 ? e->peak[side] : cost == 2 ? e->total[side] : e->live[side];
}

static int64_t growth(const entry *e)
{
    return metric(e, 1) - metric(e, 0);
}

static int cmp_growth(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int64_t gx = growth(x), gy = growth(y);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    return strcmp(x->key, y->key);
}

typedef struct {
    const char *name;
    const prof_pool *side[2];
} pool_pair;

static int64_t field(const prof_pool *p, int which)
{
    if (!p)
        return 0;
    switch (which) {
    case 0:
        return p->current;
    case 1:
        return p->peak;
    case 2:
        return p->total_bytes;
    default:
        return p->total_count;
    }
}

static int cmp_pool_growth(const void *a, const void *b)
{
    const pool_pair *x = a, *y = b;
    int64_t gx = field(x->side[1], 0) - field(x->side[0], 0);
    int64_t gy = field(y->side[1], 0) - field(y->side[0], 0);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void pools(FILE *out, prof_profile *const p[2])
{
    size_t cap = p[0]->npools + p[1]->npools, n = 0;
    pool_pair *pp = calloc(cap ? cap : 1, sizeof *pp);
    if (!pp)
        return;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < p[s]->npools; i++) {
            size_t k = 0;
            while (k < n && strcmp(pp[k].name, p[s]->pools[i].name) != 0)
                k++;
            if (k == n)
                pp[n++].name = p[s]->pools[i].name;
            pp[k].side[s] = &p[s]->pools[i];
        }
    qsort(pp, n, sizeof *pp, cmp_pool_growth);
    fprintf(out, "\nPOOLS (B - A), most grown first\n");
    fprintf(out, "  %-20s %14s %14s %16s %12s\n", "pool", "current", "peak", "total", "count");
    for (size_t k = 0; k < n; k++) {
        fprintf(out, "  %-20s", pp[k].name);
        int widths[] = {14, 14, 16, 12};
        for (int w = 0; w < 4; w++)
            fprintf(out, " %+*lld", widths[w],
                    (long long)(field(pp[k].side[1], w) - field(pp[k].side[0], w)));
        fprintf(out, "%s\n",
                !pp[k].side[0]   ? "  (new in B)"
                : !pp[k].side[1] ? "  (gone in B)"
                                 : "");
    }
    free(pp);
}

static void show(FILE *out, const entry *e, cli_symbolizer *const sym[2], prof_profile *const p[2])
{
    if (cost == 0)
        fprintf(out, "  %+lld bytes (%+lld blocks) in pool %s: %lld -> %lld live, allocated at:\n",
                (long long)growth(e), (long long)(e->count[1] - e->count[0]), e->pool,
                (long long)e->live[0], (long long)e->live[1]);
    else
        fprintf(out, "  %+lld bytes in pool %s: %lld -> %lld %s, allocated at:\n",
                (long long)growth(e), e->pool, (long long)metric(e, 0), (long long)metric(e, 1),
                cost == 1 ? "at the peak" : "allocated");
    int s = e->stack_id[1] ? 1 : 0;
    report_print_stack(out, sym[s], p[s], e->stack_id[s], "    ", 0);
}

static int64_t live_total(const prof_profile *p)
{
    int64_t sum = 0;
    for (size_t i = 0; i < p->npools; i++)
        sum += p->pools[i].current;
    return sum;
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        {"top", required_argument, NULL, 't'},
        {"cost", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long top = 10;
    int o;
    optind = 1;
    cost = 0;
    while ((o = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        if (o == 'c') {
            if (!strcmp(optarg, "live"))
                cost = 0;
            else if (!strcmp(optarg, "peak"))
                cost = 1;
            else if (!strcmp(optarg, "allocated"))
                cost = 2;
            else {
                fprintf(stderr, "tally diff: --cost is live, peak or allocated, not '%s'\n",
                        optarg);
                return CLI_EXIT_BAD_INPUT;
            }
        } else if (o == 't') {
            char *end;
            top = strtol(optarg, &end, 10);
            if (*end || top < 0) {
                fprintf(stderr, "tally diff: --top wants a count, not '%s'\n", optarg);
                return CLI_EXIT_BAD_INPUT;
            }
        } else {
            fprintf(stderr, "usage: tally diff A B [--top N] [--cost live|peak|allocated]\n");
            return o == 'h' ? CLI_EXIT_OK : CLI_EXIT_BAD_INPUT;
        }
    }
    if (optind != argc - 2) {
        fprintf(stderr, "usage: tally diff A B [--top N] [--cost live|peak|allocated]\n");
        return CLI_EXIT_BAD_INPUT;
    }
    prof_profile *p[2] = {report_load(argv[optind]), NULL};
    if (!p[0])
        return CLI_EXIT_BAD_INPUT;
    p[1] = report_load(argv[optind + 1]);
    if (!p[1]) {
        prof_free(p[0]);
        return CLI_EXIT_BAD_INPUT;
    }
    cli_symbolizer *sym[2] = {cli_sym_new(p[0]), cli_sym_new(p[1])};
    if (!sym[0] || !sym[1]) {
        fprintf(stderr, "tally: out of memory\n");
        exit(CLI_EXIT_FAILURE);
    }
    table t = {0};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < p[s]->nrecords; i++) {
            const prof_record *r = &p[s]->records[i];
            const char *pool = prof_pool_name(p[s], r->pool_id);
            entry *e = find(&t, stack_key(p[s], sym[s], r->stack_id, pool));
            e->live[s] += r->live_bytes;
            e->count[s] += r->live_count;
            e->total[s] += r->total_bytes;
            e->peak[s] += r->peak_bytes;
            e->stack_id[s] = r->stack_id;
            e->pool = pool;
        }
    qsort(t.e, t.n, sizeof *t.e, cmp_growth);

    FILE *out = stdout;
    int64_t la = live_total(p[0]), lb = live_total(p[1]);
    fprintf(out, "tally diff: A = %s\n            B = %s\n", argv[optind], argv[optind + 1]);
    fprintf(out, "live bytes: %lld -> %lld (%+lld)\n", (long long)la, (long long)lb,
            (long long)(lb - la));
    pools(out, p);

    size_t grew = 0, shrank = 0;
    for (size_t i = 0; i < t.n; i++) {
        int64_t g = growth(&t.e[i]);
        grew += g > 0;
        shrank += g < 0;
    }
    fprintf(out, "\nGROWTH BY STACK (%s, B - A), largest first: %zu grew, %zu shrank\n",
            cost_name[cost], grew, shrank);
    /* Sorted by growth: the grown stacks lead, the shrunk ones trail with the
     * largest loss last. */
    size_t shown = 0;
    for (size_t i = 0; i < grew && (top < 0 || (long)shown < top); i++, shown++)
        show(out, &t.e[i], sym, p);
    if (shown < grew)
        fprintf(out, "  ... %zu more stacks grew (--top N shows more)\n", grew - shown);
    if (shrank) {
        fprintf(out, "\nSHRANK (%s, B - A), largest loss first: %zu\n", cost_name[cost], shrank);
        shown = 0;
        for (size_t i = t.n; i-- > t.n - shrank && (top < 0 || (long)shown < top); shown++)
            show(out, &t.e[i], sym, p);
        if (shown < shrank)
            fprintf(out, "  ... %zu more stacks shrank\n", shrank - shown);
    }
    for (size_t i = 0; i < t.n; i++)
        free(t.e[i].key);
    free(t.e);
    free(t.slots);
    for (int s = 0; s < 2; s++) {
        cli_sym_free(sym[s]);
        prof_free(p[s]);
    }
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
