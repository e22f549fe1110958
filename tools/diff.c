/* diff.c: `tally diff A B`: what grew from A to B, per pool and per stack.
 *
 * Two profiles of one process (tally_track_dump snapshots) share stack ids
 * and addresses; two runs do not (ASLR, other ids). So stacks are matched
 * by their frames as (module path, offset in the module) and pools by name.
 * A module that was rebuilt between the two (the same path, another
 * build-id) has other offsets for the same code: its frames are matched by
 * their source frames' functions and files instead (not lines, which move
 * with any edit above them), from the names the profiles store (NAMES) or
 * else libdw's. The report says how many stacks matched that way.
 *
 * Both profiles' stack trees are merged into one: each frame gets an id for
 * its (module, offset), each node an id for (its parent's id, its frame's
 * id), so equal stacks of A and B end at the same merged node whatever their
 * addresses. A record is then keyed by (pool name, merged node): integers,
 * found in a hash, with no text made per stack. */
#include <config.h>

#include "base/hash.h"
#include "report.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- an index of 32-bit ids over a dense array that holds the keys ---------- */

typedef struct {
    uint32_t *slots; /* id + 1; 0 empty */
    size_t cap;      /* a power of two, kept at least twice the ids */
} id_index;

typedef int (*id_equal)(const void *keys, uint32_t id, const void *key);

static void *must(void *p)
{
    if (!p) {
        fprintf(stderr, "tally: out of memory\n");
        exit(CLI_EXIT_FAILURE);
    }
    return p;
}

/* The slot of key (found, or empty for it), growing the index first so that
 * n ids (the dense array's length) plus one fit at half load. */
static uint32_t *id_slot(id_index *x, size_t n, uint64_t h, const void *keys, const void *key,
                         id_equal eq, uint64_t (*rehash)(const void *keys, uint32_t id))
{
    if ((n + 1) * 2 > x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 1024;
        uint32_t *s = must(calloc(cap, sizeof *s));
        for (size_t i = 0; i < n; i++) {
            size_t j = rehash(keys, (uint32_t)i) & (cap - 1);
            while (s[j])
                j = (j + 1) & (cap - 1);
            s[j] = (uint32_t)i + 1;
        }
        free(x->slots);
        x->slots = s;
        x->cap = cap;
    }
    size_t j = h & (x->cap - 1);
    while (x->slots[j] && !eq(keys, x->slots[j] - 1, key))
        j = (j + 1) & (x->cap - 1);
    return &x->slots[j];
}

/* A merged node's key, one 64-bit word: parent << 32 | frame. */
static uint64_t word_hash(const void *keys, uint32_t id)
{
    return base_hash_u64(((const uint64_t *)keys)[id]);
}

static int word_equal(const void *keys, uint32_t id, const void *key)
{
    return ((const uint64_t *)keys)[id] == *(const uint64_t *)key;
}

/* A growable array of n items of size bytes. */
static void *grow(void *a, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return a;
    *cap = *cap ? *cap * 2 : 1024;
    return must(realloc(a, *cap * size));
}

/* ---- frames and nodes of both profiles, merged ------------------------------ */

typedef struct {
    /* 1 + an index in names, or 0: no module, offset is the address; with
     * BY_NAME, offset is the index in names of the frame's functions and
     * files (a rebuilt module) */
    uint32_t module;
    uint64_t offset;
} frame_key;
#define BY_NAME 0x80000000u

typedef struct {
    /* the strings met, once each: module paths and pool names */
    const char **names;
    size_t nnames, names_cap;
    id_index name_index;
    /* frames by (module, offset) */
    frame_key *frames;
    size_t nframes, frames_cap;
    id_index frame_index;
    /* merged nodes by (parent << 32 | frame); id 0 is the root */
    uint64_t *nodes;
    size_t nnodes, nodes_cap;
    id_index node_index;
    /* per side: each profile node's merged node */
    uint32_t *node_of[2];
    /* the modules rebuilt between A and B (paths, each once) */
    const char **rebuilt;
    size_t nrebuilt;
    /* the frames' name keys, made here and freed with the rest */
    char **owned;
    size_t nowned, owned_cap;
} merged;

static uint64_t name_hash(const void *keys, uint32_t id)
{
    return base_hash_str(((const char *const *)keys)[id]);
}

static int name_equal(const void *keys, uint32_t id, const void *key)
{
    return !strcmp(((const char *const *)keys)[id], (const char *)key);
}

static uint32_t name_id(merged *m, const char *name)
{
    uint32_t *slot = id_slot(&m->name_index, m->nnames, base_hash_str(name), m->names, name,
                             name_equal, name_hash);
    if (!*slot) {
        m->names = grow(m->names, &m->names_cap, m->nnames, sizeof *m->names);
        m->names[m->nnames] = name;
        *slot = (uint32_t)++m->nnames;
    }
    return *slot - 1;
}

static uint64_t frame_hash_of(const frame_key *k)
{
    return base_hash_u64(k->offset ^ (uint64_t)k->module << 48 ^ k->module);
}

static uint64_t frame_hash(const void *keys, uint32_t id)
{
    return frame_hash_of(&((const frame_key *)keys)[id]);
}

static int frame_equal(const void *keys, uint32_t id, const void *key)
{
    const frame_key *a = &((const frame_key *)keys)[id], *b = key;
    return a->module == b->module && a->offset == b->offset;
}

static uint32_t frame_id(merged *m, frame_key k)
{
    uint32_t *slot = id_slot(&m->frame_index, m->nframes, frame_hash_of(&k), m->frames, &k,
                             frame_equal, frame_hash);
    if (!*slot) {
        m->frames = grow(m->frames, &m->frames_cap, m->nframes, sizeof *m->frames);
        m->frames[m->nframes] = k;
        *slot = (uint32_t)++m->nframes;
    }
    return *slot - 1;
}

static uint32_t node_id(merged *m, uint32_t parent, uint32_t frame)
{
    uint64_t key = (uint64_t)parent << 32 | frame;
    uint32_t *slot = id_slot(&m->node_index, m->nnodes, base_hash_u64(key), m->nodes, &key,
                             word_equal, word_hash);
    if (!*slot) {
        m->nodes = grow(m->nodes, &m->nodes_cap, m->nnodes, sizeof *m->nodes);
        m->nodes[m->nnodes] = key;
        *slot = (uint32_t)++m->nnodes;
    }
    return *slot - 1;
}

/* The modules both profiles hold, under one path, with two build-ids. A
 * module without one on either side cannot be told rebuilt: its offsets
 * are matched as they are. */
static void find_rebuilt(merged *m, prof_profile *const p[2])
{
    m->rebuilt = must(calloc(p[0]->nmodules + 1, sizeof *m->rebuilt));
    for (size_t i = 0; i < p[0]->nmodules; i++) {
        const prof_module *a = &p[0]->modules[i];
        for (size_t j = 0; j < p[1]->nmodules; j++) {
            const prof_module *b = &p[1]->modules[j];
            if (strcmp(a->path, b->path) != 0 || !a->build_id_len || !b->build_id_len)
                continue;
            int same = a->build_id_len == b->build_id_len &&
                       !memcmp(a->build_id, b->build_id, a->build_id_len);
            size_t k = 0;
            while (k < m->nrebuilt && strcmp(m->rebuilt[k], a->path) != 0)
                k++;
            if (!same && k == m->nrebuilt)
                m->rebuilt[m->nrebuilt++] = a->path;
            break;
        }
    }
}

static int is_rebuilt(const merged *m, const char *path)
{
    for (size_t k = 0; k < m->nrebuilt; k++)
        if (!strcmp(m->rebuilt[k], path))
            return 1;
    return 0;
}

/* A frame of a rebuilt module by its source frames' functions and files:
 * the key's name id, or -1 when nothing names it (then its offset). */
static long name_key(merged *m, cli_symbolizer *sym, uint64_t addr)
{
    size_t n;
    const cli_sym_frame *fr = cli_sym_lookup(sym, addr, &n);
    size_t len = 1;
    int known = 0;
    for (size_t k = 0; k < n; k++) {
        known |= fr[k].known || fr[k].file;
        len += strlen(fr[k].function) + (fr[k].file ? strlen(fr[k].file) : 0) + 2;
    }
    if (!known)
        return -1;
    char *key = must(malloc(len)), *at = key;
    for (size_t k = 0; k < n; k++)
        at += sprintf(at, "%s\x1f%s\x1e", fr[k].function, fr[k].file ? fr[k].file : "");
    uint32_t before = (uint32_t)m->nnames, id = name_id(m, key);
    if (m->nnames == before) { /* met before: this copy is not kept */
        free(key);
        return id;
    }
    m->owned = grow(m->owned, &m->owned_cap, m->nowned, sizeof *m->owned);
    m->owned[m->nowned++] = key;
    return id;
}

/* Every node of side s into the merged tree: its frame's (module, offset),
 * or (module, its name) in a rebuilt module, worked out once per address, a
 * node after its parent. */
static void merge_side(merged *m, int s, const prof_profile *p, cli_symbolizer *sym)
{
    uint32_t *fid = must(malloc((p->naddrs ? p->naddrs : 1) * sizeof *fid));
    for (size_t f = 0; f < p->naddrs; f++) {
        const prof_module *mod = cli_sym_module(sym, p->addrs[f] - 1);
        frame_key k = {0, p->addrs[f]};
        if (mod) {
            k = (frame_key){1 + name_id(m, mod->path), p->addrs[f] - mod->base};
            long named = is_rebuilt(m, mod->path) ? name_key(m, sym, p->addrs[f]) : -1;
            if (named >= 0)
                k = (frame_key){k.module | BY_NAME, (uint64_t)named};
        }
        fid[f] = frame_id(m, k);
    }
    m->node_of[s] = must(malloc(p->nnodes * sizeof *m->node_of[s]));
    m->node_of[s][0] = 0;
    for (size_t k = 1; k < p->nnodes; k++)
        m->node_of[s][k] = node_id(m, m->node_of[s][p->nodes[k].parent], fid[p->nodes[k].frame]);
    free(fid);
}

static void merged_free(merged *m)
{
    free(m->names);
    free(m->name_index.slots);
    free(m->frames);
    free(m->frame_index.slots);
    free(m->nodes);
    free(m->node_index.slots);
    free(m->node_of[0]);
    free(m->node_of[1]);
    free(m->rebuilt);
    for (size_t i = 0; i < m->nowned; i++)
        free(m->owned[i]);
    free(m->owned);
}

/* ---- the entries: one per (pool name, merged node) -------------------------- */

typedef struct {
    uint64_t key; /* pool name id << 32 | merged node */
    int64_t live[2], count[2], total[2], peak[2];
    uint32_t stack_id[2]; /* 0 when absent from that side */
    const char *pool;
} entry;

typedef struct {
    entry *e;
    size_t n, cap;
    id_index index;
} table;

/* Per rebuilt module, how many stacks of both profiles matched by name
 * through one of its frames, said under the totals. */
static void say_by_name(FILE *out, const merged *m, const table *t, prof_profile *const p[2])
{
    for (size_t r = 0; r < m->nrebuilt; r++) {
        size_t matched = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (!t->e[i].stack_id[0] || !t->e[i].stack_id[1])
                continue;
            int by_name = 0;
            for (uint32_t node = (uint32_t)t->e[i].key; node != 0 && !by_name;
                 node = (uint32_t)(m->nodes[node] >> 32)) {
                const frame_key *k = &m->frames[(uint32_t)m->nodes[node]];
                by_name = (k->module & BY_NAME) &&
                          !strcmp(m->names[(k->module & ~BY_NAME) - 1], m->rebuilt[r]);
            }
            matched += by_name;
        }
        fprintf(out,
                "note: %s was rebuilt (another build-id): %zu stacks matched by function "
                "and source file\n",
                m->rebuilt[r], matched);
    }
    /* Without names of its own, the old build's frames are only offsets. */
    for (int side = 0; side < 2 && m->nrebuilt; side++)
        if (!p[side]->name_at)
            fprintf(out,
                    "note: %s stores no names: its frames in a rebuilt binary match nothing "
                    "(tally run stores them; tally report --store-names before a rebuild)\n",
                    side ? "B" : "A");
}

static uint64_t entry_hash(const void *keys, uint32_t id)
{
    return base_hash_u64(((const entry *)keys)[id].key);
}

static int entry_equal(const void *keys, uint32_t id, const void *key)
{
    return ((const entry *)keys)[id].key == *(const uint64_t *)key;
}

static entry *find(table *t, uint64_t key, const char *pool)
{
    uint32_t *slot =
        id_slot(&t->index, t->n, base_hash_u64(key), t->e, &key, entry_equal, entry_hash);
    if (!*slot) {
        t->e = grow(t->e, &t->cap, t->n, sizeof *t->e);
        t->e[t->n] = (entry){.key = key, .pool = pool};
        *slot = (uint32_t)++t->n;
    }
    return &t->e[*slot - 1];
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

/* Largest growth first; equal growths by pool name, then in the order the
 * stacks were met (A's, then B's new ones): the same output every run. */
static int cmp_growth(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int64_t gx = growth(x), gy = growth(y);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    int c = strcmp(x->pool, y->pool);
    if (c)
        return c;
    return (x->key > y->key) - (x->key < y->key);
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

static const char diff_synopsis[] = "usage: tally diff [options] A B";

/* Every option, one help line each (tally(1), DIFF OPTIONS, says more). */
static const cli_option diff_options[] = {
    {"top", required_argument, 't', "N", "at most N stacks (default 10)"},
    {"cost", required_argument, 'c', "live|peak|allocated",
     "what grew: live bytes (default), bytes at the peak, bytes allocated"},
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};
#define DIFF_SHORT ":t:h"

int cmd_diff(int argc, char **argv)
{
    long top = 10;
    int o;
    optind = 1;
    cost = 0;
    while ((o = cli_getopt(argc, argv, DIFF_SHORT, diff_options)) != -1) {
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
        } else if (o == 'h') {
            cli_help(stdout, diff_synopsis, DIFF_SHORT, diff_options);
            return CLI_EXIT_OK;
        } else {
            return cli_usage_error("diff", diff_synopsis);
        }
    }
    if (optind != argc - 2) {
        fprintf(stderr, "tally diff: wants two profiles, A and B\n");
        return cli_usage_error("diff", diff_synopsis);
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
    merged m = {0};
    table t = {0};
    /* Merged node 0 is the root: no stack's node may take its id. */
    node_id(&m, UINT32_MAX, UINT32_MAX);
    find_rebuilt(&m, p);
    for (int s = 0; s < 2; s++) {
        merge_side(&m, s, p[s], sym[s]);
        for (size_t i = 0; i < p[s]->nrecords; i++) {
            const prof_record *r = &p[s]->records[i];
            const char *pool = prof_pool_name(p[s], r->pool_id);
            const prof_stack *st = prof_find_stack(p[s], r->stack_id);
            uint64_t node = m.node_of[s][st ? st->node : 0];
            entry *e = find(&t, (uint64_t)name_id(&m, pool) << 32 | node, pool);
            e->live[s] += r->live_bytes;
            e->count[s] += r->live_count;
            e->total[s] += r->total_bytes;
            e->peak[s] += r->peak_bytes;
            e->stack_id[s] = r->stack_id;
            e->pool = pool;
        }
    }
    if (t.n) /* t.e is NULL when neither profile has a record */
        qsort(t.e, t.n, sizeof *t.e, cmp_growth);

    FILE *out = stdout;
    int64_t la = live_total(p[0]), lb = live_total(p[1]);
    fprintf(out, "tally diff: A = %s\n            B = %s\n", argv[optind], argv[optind + 1]);
    fprintf(out, "live bytes: %lld -> %lld (%+lld)\n", (long long)la, (long long)lb,
            (long long)(lb - la));
    say_by_name(out, &m, &t, p);
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
    free(t.e);
    free(t.index.slots);
    merged_free(&m);
    for (int s = 0; s < 2; s++) {
        cli_sym_free(sym[s]);
        prof_free(p[s]);
    }
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
