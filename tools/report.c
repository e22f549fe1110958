/* report.c: `tally report`: options; and the report session `tally run`
 * shares: loading, and the lists every format derives from a profile. */
#include <config.h>

#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

prof_profile *report_load(const char *path)
{
    prof_profile *p;
    char err[256];
    if (prof_read(path, &p, err, sizeof err) != 0) {
        fprintf(stderr, "tally: %s: %s\n", path, err);
        return NULL;
    }
    return p;
}

const char *report_human(int64_t bytes, char buf[32])
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)(bytes < 0 ? -bytes : bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, 32, "%s%lld B", bytes < 0 ? "-" : "",
                 (long long)(bytes < 0 ? -bytes : bytes));
    else
        snprintf(buf, 32, "%s%.1f %s", bytes < 0 ? "-" : "", v, unit[u]);
    return buf;
}

size_t report_limit(const report_ctx *c, size_t n)
{
    return c->top < 0 || (size_t)c->top >= n ? n : (size_t)c->top;
}

int64_t report_peak_total(const report_ctx *c)
{
    if (c->p->has_meta && c->p->peak_bytes > 0)
        return c->p->peak_bytes;
    int64_t sum = 0;
    for (size_t i = 0; i < c->npeak; i++)
        sum += c->by_peak[i]->peak_bytes;
    return sum;
}

static const char *const kind_name[PROF_LEAK_KINDS] = {
    [PROF_LEAK_LIVE] = "live",           [PROF_LEAK_DEFINITE] = "definite",
    [PROF_LEAK_INDIRECT] = "indirect",   [PROF_LEAK_POSSIBLE] = "possible",
    [PROF_LEAK_REACHABLE] = "reachable",
};
static const char *const kind_phrase[PROF_LEAK_KINDS] = {
    [PROF_LEAK_LIVE] = "live",
    [PROF_LEAK_DEFINITE] = "definitely lost",
    [PROF_LEAK_INDIRECT] = "indirectly lost",
    [PROF_LEAK_POSSIBLE] = "possibly lost",
    [PROF_LEAK_REACHABLE] = "still reachable",
};

const char *report_kind_name(uint32_t kind)
{
    return kind < PROF_LEAK_KINDS ? kind_name[kind] : "?";
}

const char *report_kind_phrase(uint32_t kind)
{
    return kind < PROF_LEAK_KINDS ? kind_phrase[kind] : "?";
}

int report_parse_kinds(const char *text, unsigned *mask)
{
    unsigned m = 0;
    if (!strcmp(text, "all")) {
        *mask = 1u << PROF_LEAK_DEFINITE | 1u << PROF_LEAK_INDIRECT | 1u << PROF_LEAK_POSSIBLE |
                1u << PROF_LEAK_REACHABLE;
        return 0;
    }
    if (!strcmp(text, "none")) {
        *mask = 0;
        return 0;
    }
    for (const char *p = text;;) {
        size_t n = strcspn(p, ",");
        uint32_t k = PROF_LEAK_DEFINITE;
        while (k <= PROF_LEAK_REACHABLE &&
               !(strlen(kind_name[k]) == n && !strncmp(p, kind_name[k], n)))
            k++;
        if (k > PROF_LEAK_REACHABLE)
            return EINVAL; /* an unknown word, an empty one, or "all" in a list */
        m |= 1u << k;
        if (!p[n])
            break;
        p += n + 1;
    }
    *mask = m;
    return 0;
}

static int cmp_leak_key(const void *a, const void *b)
{
    const prof_leak *x = a, *y = b;
    if (x->stack_id != y->stack_id)
        return x->stack_id < y->stack_id ? -1 : 1;
    if (x->pool_id != y->pool_id)
        return x->pool_id < y->pool_id ? -1 : 1;
    return (x->kind > y->kind) - (x->kind < y->kind);
}

static int cmp_group(const void *a, const void *b)
{
    const leak_group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->kind != y->kind) /* definite before indirect at the same size */
        return x->kind < y->kind ? -1 : 1;
    if (x->stack_id != y->stack_id)
        return x->stack_id < y->stack_id ? -1 : 1;
    return (x->pool_id > y->pool_id) - (x->pool_id < y->pool_id);
}

static int cmp_rule(const void *a, const void *b)
{
    const report_rule_use *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->rule, y->rule);
}

static int list_of(uint32_t kind)
{
    switch (kind) {
    case PROF_LEAK_DEFINITE:
    case PROF_LEAK_INDIRECT:
        return REPORT_LOST;
    case PROF_LEAK_POSSIBLE:
        return REPORT_POSSIBLE;
    case PROF_LEAK_REACHABLE:
        return REPORT_REACHABLE;
    default:
        return REPORT_LIVE;
    }
}

/* Counts a suppressed group against its rule. 0, or -1 when out of memory. */
static int rule_used(report_ctx *c, const leak_group *g, size_t cap)
{
    size_t i = 0;
    while (i < c->nrules && c->rules[i].rule != g->rule)
        i++;
    if (i == c->nrules) {
        if (i == cap)
            return -1;
        c->rules[c->nrules++] = (report_rule_use){g->rule, g->builtin, 0, 0};
    }
    c->rules[i].bytes += g->bytes;
    c->rules[i].count += g->count;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* How many stacks a list's groups come from; ids: room for L->n of them. */
static size_t distinct_stacks(const leak_list *L, uint32_t *ids)
{
    for (size_t i = 0; i < L->n; i++)
        ids[i] = L->g[i].stack_id;
    qsort(ids, L->n, sizeof *ids, cmp_u32);
    size_t n = 0;
    for (size_t i = 0; i < L->n; i++)
        n += i == 0 || ids[i] != ids[i - 1];
    return n;
}

uint32_t report_stack_path(const prof_profile *p, uint32_t node, uint32_t *out)
{
    uint32_t n = p->nodes[node].depth;
    for (uint32_t i = n; i-- > 0; node = p->nodes[node].parent)
        out[i] = node;
    return n;
}

/* Which suppression hides a stack, worked out once per node and once per
 * address, since a million stacks share a few thousand addresses:
 * node_memo[k] is 0 while unknown, else 1 + (the rule's index + 1, or 0 for
 * none); addr_memo the same per frame. */
typedef struct {
    uint32_t *node_memo, *addr_memo;
} supp_memo;

static long supp_of_node(report_ctx *c, supp_memo *m, uint32_t node)
{
    const prof_profile *p = c->p;
    uint32_t k = node, found = 1; /* none, unless a frame matches */
    /* Innermost first: the first frame a rule matches decides. Nodes on the
     * way without a match of their own take the answer of the one above. */
    while (k != 0 && m->node_memo[k] == 0) {
        uint32_t f = p->nodes[k].frame;
        if (m->addr_memo[f] == 0)
            m->addr_memo[f] = (uint32_t)(2 + cli_supp_match_address(c->supp, c->sym, p->addrs[f]));
        if (m->addr_memo[f] > 1) {
            m->node_memo[k] = m->addr_memo[f];
            break;
        }
        k = p->nodes[k].parent;
    }
    if (k != 0)
        found = m->node_memo[k];
    for (uint32_t j = node; j != k; j = p->nodes[j].parent)
        m->node_memo[j] = found;
    return (long)found - 2;
}

/* The rule that suppresses the stack, or NULL; a stack that is not in the
 * profile (not sampled) is never suppressed. */
static const char *supp_of_stack(report_ctx *c, supp_memo *m, uint32_t stack_id, int *builtin)
{
    const prof_stack *st = prof_find_stack(c->p, stack_id);
    if (!st || cli_supp_count(c->supp) == 0)
        return NULL;
    long r = supp_of_node(c, m, st->node);
    return r < 0 ? NULL : cli_supp_rule(c->supp, r, builtin);
}

/* The profile's leak groups into the report's lists. A version 1 profile
 * (a group per block) and any repeated (stack, pool, kind) merge here. */
static int prepare_leaks(report_ctx *c)
{
    const prof_profile *p = c->p;
    size_t n = p->nleaks ? p->nleaks : 1;
    prof_leak *sorted = malloc(n * sizeof *sorted);
    supp_memo memo = {calloc(p->nnodes, sizeof(uint32_t)),
                      calloc(p->naddrs ? p->naddrs : 1, sizeof(uint32_t))};
    c->rules = calloc(n, sizeof *c->rules);
    for (int l = 0; l < REPORT_LISTS; l++)
        c->lists[l].g = calloc(n, sizeof *c->lists[l].g);
    int oom = !sorted || !c->rules || !memo.node_memo || !memo.addr_memo;
    for (int l = 0; l < REPORT_LISTS; l++)
        oom |= !c->lists[l].g;
    if (oom) {
        free(sorted);
        free(memo.node_memo);
        free(memo.addr_memo);
        return -1;
    }
    if (p->nleaks) /* p->leaks is NULL without a LEAKS section */
        memcpy(sorted, p->leaks, p->nleaks * sizeof *sorted);
    qsort(sorted, p->nleaks, sizeof *sorted, cmp_leak_key);
    for (size_t i = 0; i < p->nleaks;) {
        leak_group g = {sorted[i].stack_id, sorted[i].pool_id, sorted[i].kind, 0, 0, NULL, 0};
        for (; i < p->nleaks && sorted[i].stack_id == g.stack_id &&
               sorted[i].pool_id == g.pool_id && sorted[i].kind == g.kind;
             i++) {
            g.bytes += sorted[i].bytes;
            g.count += sorted[i].count;
        }
        g.rule = supp_of_stack(c, &memo, g.stack_id, &g.builtin);
        int l = g.rule ? REPORT_SUPPRESSED : list_of(g.kind);
        if (g.rule && rule_used(c, &g, n) != 0) {
            free(sorted);
            free(memo.node_memo);
            free(memo.addr_memo);
            return -1;
        }
        if (!g.rule && g.kind < PROF_LEAK_KINDS) {
            c->kind_bytes[g.kind] += g.bytes;
            c->kind_count[g.kind] += g.count;
        }
        leak_list *L = &c->lists[l];
        L->g[L->n++] = g;
        L->bytes += g.bytes;
        L->count += g.count;
    }
    free(memo.node_memo);
    free(memo.addr_memo);
    for (int l = 0; l < REPORT_LISTS; l++)
        c->lists[l].stacks = distinct_stacks(&c->lists[l], (uint32_t *)sorted);
    free(sorted);
    for (int l = 0; l < REPORT_LISTS; l++)
        qsort(c->lists[l].g, c->lists[l].n, sizeof *c->lists[l].g, cmp_group);
    qsort(c->rules, c->nrules, sizeof *c->rules, cmp_rule);
    return 0;
}

static int cmp_peak(const void *a, const void *b)
{
    const prof_record *x = *(const prof_record *const *)a;
    const prof_record *y = *(const prof_record *const *)b;
    if (x->peak_bytes != y->peak_bytes)
        return x->peak_bytes > y->peak_bytes ? -1 : 1;
    return (x->stack_id > y->stack_id) - (x->stack_id < y->stack_id);
}

static int cmp_total(const void *a, const void *b)
{
    const prof_record *x = *(const prof_record *const *)a;
    const prof_record *y = *(const prof_record *const *)b;
    if (x->total_bytes != y->total_bytes)
        return x->total_bytes > y->total_bytes ? -1 : 1;
    return (x->stack_id > y->stack_id) - (x->stack_id < y->stack_id);
}

/* Fills the derived lists. 0, or -1 when out of memory. */
static int prepare(report_ctx *c)
{
    const prof_profile *p = c->p;
    if (prepare_leaks(c) != 0)
        return -1;
    c->by_peak = malloc((p->nrecords ? p->nrecords : 1) * sizeof *c->by_peak);
    c->by_total = malloc((p->nrecords ? p->nrecords : 1) * sizeof *c->by_total);
    if (!c->by_peak || !c->by_total)
        return -1;
    for (size_t i = 0; i < p->nrecords; i++) {
        if (p->records[i].peak_bytes > 0)
            c->by_peak[c->npeak++] = &p->records[i];
        c->by_total[c->ntotal++] = &p->records[i];
    }
    qsort(c->by_peak, c->npeak, sizeof *c->by_peak, cmp_peak);
    qsort(c->by_total, c->ntotal, sizeof *c->by_total, cmp_total);
    return 0;
}

int report_open(report_ctx *c, const char *path, const char *const *files, int nfiles, int builtin)
{
    c->path = path;
    c->p = report_load(path);
    if (!c->p)
        return CLI_EXIT_BAD_INPUT;
    int rc = CLI_EXIT_OK;
    c->supp = cli_supp_new(builtin);
    for (int i = 0; i < nfiles && c->supp; i++) {
        char err[512];
        if (cli_supp_load(c->supp, files[i], err, sizeof err) != 0) {
            fprintf(stderr, "tally: %s\n", err);
            rc = CLI_EXIT_BAD_INPUT;
        }
    }
    c->sym = cli_sym_new(c->p);
    if (!c->supp || !c->sym || prepare(c) != 0) {
        fprintf(stderr, "tally: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    c->ready = 1;
    return rc;
}

void report_close(report_ctx *c)
{
    for (int l = 0; l < REPORT_LISTS; l++) {
        free(c->lists[l].g);
        c->lists[l] = (leak_list){0};
    }
    free(c->rules);
    c->rules = NULL;
    c->nrules = 0;
    free(c->by_peak);
    free(c->by_total);
    cli_sym_free(c->sym);
    cli_supp_free(c->supp);
    prof_free(c->p);
    c->by_peak = c->by_total = NULL;
    c->sym = NULL;
    c->supp = NULL;
    c->p = NULL;
    c->ready = 0;
}

/* --store-names: the frames' names into each profile, for one written
 * without `tally run` (which stores them itself). */
static int report_store_names(int n, char **paths)
{
    if (n < 1) {
        fprintf(stderr, "tally report: --store-names wants at least one profile\n");
        return CLI_EXIT_BAD_INPUT;
    }
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < n; i++) {
        char err[512];
        if (cli_names_store(paths[i], err, sizeof err) != 0) {
            fprintf(stderr, "tally: %s: %s\n", paths[i], err);
            rc = CLI_EXIT_BAD_INPUT;
        }
    }
    return rc;
}

static const char report_synopsis[] =
    "usage: tally report [options] PROFILE\n       tally report --store-names PROFILE...";

/* Every option, one help line each: an option added here is parsed and
 * listed by --help (tally(1), REPORT OPTIONS, says more). */
static const cli_option report_options[] = {
    {"format", required_argument, 'f', "FMT",
     "text (default), json, folded, massif, pprof or html"},
    {"output", required_argument, 'o', "FILE", "write the report to FILE, not standard output"},
    {"leaks", no_argument, 'L', NULL, "only the leaks section (combines with --peak, --pools)"},
    {"peak", no_argument, 'P', NULL, "only the peak section"},
    {"pools", no_argument, 'p', NULL, "only the pools section"},
    {"top", required_argument, 't', "N", "at most N entries per list (text 10, html 50, else all)"},
    {"frames", required_argument, 'F', "N", "text: only the innermost N frames of a stack"},
    {"show-reachable", no_argument, 'R', NULL,
     "list the still reachable blocks, not only their total"},
    {"suppressions", required_argument, 's', "FILE", "leak suppressions (LeakSanitizer's format)"},
    {"no-default-suppressions", no_argument, 'N', NULL,
     "no built-in suppressions of libc's own blocks"},
    {"cost", required_argument, 'c', "COST",
     "folded: leaked, live, peak, allocated (default) or temporary"},
    {"store-names", no_argument, 'S', NULL,
     "store the frames' names in each PROFILE given (no report), so it outlives its binaries"},
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};
#define REPORT_SHORT ":f:o:t:s:c:h"

int cmd_report(int argc, char **argv)
{
    const char *format = "text", *output = NULL;
    int store_names = 0;
    const char *supp_files[64];
    int nsupp = 0, builtin = 1, top_given = 0;
    report_ctx c = {0};
    c.top = 10;
    c.cost = COST_ALLOCATED;
    int o;
    optind = 1;
    while ((o = cli_getopt(argc, argv, REPORT_SHORT, report_options)) != -1) {
        switch (o) {
        case 'f':
            format = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'L':
            c.want_leaks = 1;
            break;
        case 'P':
            c.want_peak = 1;
            break;
        case 'p':
            c.want_pools = 1;
            break;
        case 't': {
            long n;
            if (cli_parse_count("report", "top", "a count", optarg, 0, LONG_MAX, &n))
                return CLI_EXIT_BAD_INPUT;
            c.top = n;
            top_given = 1;
            break;
        }
        case 'F': {
            /* Deep stacks (an interpreter's) bury the frames that matter:
             * like valgrind's --num-callers, show only the innermost N. */
            long n;
            if (cli_parse_count("report", "frames", "a count from 0 (all) to 256", optarg, 0, 256,
                                &n))
                return CLI_EXIT_BAD_INPUT;
            c.max_frames = (uint32_t)n;
            break;
        }
        case 's':
            if (nsupp == 64) {
                fprintf(stderr, "tally report: too many --suppressions\n");
                return CLI_EXIT_BAD_INPUT;
            }
            supp_files[nsupp++] = optarg;
            break;
        case 'N':
            builtin = 0;
            break;
        case 'R':
            c.show_reachable = 1;
            break;
        case 'c':
            if (!strcmp(optarg, "allocated"))
                c.cost = COST_ALLOCATED;
            else if (!strcmp(optarg, "leaked"))
                c.cost = COST_LEAKED;
            else if (!strcmp(optarg, "live"))
                c.cost = COST_LIVE;
            else if (!strcmp(optarg, "peak"))
                c.cost = COST_PEAK;
            else if (!strcmp(optarg, "temporary"))
                c.cost = COST_TEMPORARY;
            else {
                fprintf(stderr,
                        "tally report: --cost is leaked, live, peak, allocated or temporary, "
                        "not '%s'\n",
                        optarg);
                return CLI_EXIT_BAD_INPUT;
            }
            break;
        case 'S':
            store_names = 1;
            break;
        case 'h':
            cli_help(stdout, report_synopsis, REPORT_SHORT, report_options);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("report", report_synopsis);
        }
    }
    if (store_names)
        return report_store_names(argc - optind, argv + optind);
    if (optind != argc - 1) {
        fprintf(stderr, "tally report: %s\n",
                optind == argc ? "no profile" : "one profile at a time");
        return cli_usage_error("report", report_synopsis);
    }
    static const struct {
        const char *name;
        int (*fn)(report_ctx *);
        int binary;
    } formats[] = {
        {"text", report_text, 0},     {"json", report_json, 0},   {"folded", report_folded, 0},
        {"massif", report_massif, 0}, {"pprof", report_pprof, 1}, {"html", report_html, 0},
    };
    int (*fn)(report_ctx *) = NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (!strcmp(format, formats[i].name))
            fn = formats[i].fn;
    if (!fn) {
        fprintf(stderr, "tally report: unknown format '%s'\n", format);
        return CLI_EXIT_BAD_INPUT;
    }
    if (!c.want_leaks && !c.want_peak && !c.want_pools)
        c.want_leaks = c.want_peak = c.want_pools = c.want_top = 1;
    if (!top_given && !strcmp(format, "html"))
        c.top = 50; /* a page for people: the tables stay readable */
    else if (!top_given && strcmp(format, "text") != 0)
        c.top = -1; /* machine formats carry everything unless asked */

    int rc = report_open(&c, argv[optind], supp_files, nsupp, builtin);
    if (rc == CLI_EXIT_OK) {
        c.out = output ? fopen(output, "wb") : stdout;
        if (!c.out) {
            perror(output);
            rc = CLI_EXIT_BAD_INPUT;
        } else {
            /* A report of a million stacks is hundreds of megabytes: a
             * megabyte at a time, not stdio's page at a time. */
            static char big[1 << 20];
            setvbuf(c.out, big, _IOFBF, sizeof big);
        }
    }
    if (rc == CLI_EXIT_OK)
        rc = fn(&c);
    if (c.out && c.out != stdout && fclose(c.out) != 0) {
        perror(output);
        rc = CLI_EXIT_FAILURE;
    } else if (c.out == stdout && fflush(stdout) != 0) {
        rc = CLI_EXIT_FAILURE;
    }
    report_close(&c);
    return rc;
}
