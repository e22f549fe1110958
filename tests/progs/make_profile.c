/* make_profile.c: writes tally profiles (docs/FORMAT.md) for the CLI tests
 * through lib/profile's encoder, independent of the tracking core, so
 * reports can be checked against figures known in advance.
 *
 * The stacks hold real return addresses of this program's own functions and
 * the modules are this process's real mappings, so `tally report` can
 * symbolize them: the tests look up the MARK lines below in this file and
 * expect those file:line pairs in the reports. Build with -g.
 *
 *   make_profile basic OUT      pools, peak, an inlined frame, a libc frame, and leaks the
 *                               leak check classified, a group of each kind:
 *                                 definite   200 bytes in 2 blocks  leaky_leaf  malloc
 *                                 indirect    64 bytes in 1 block   inlined     malloc
 *                                 possible    32 bytes in 1 block   (no stack)  arena
 *                                 reachable  100 bytes in 1 block   leaky_leaf  malloc
 *                                 reachable 4096 bytes in 1 block   libc        malloc (suppressed
 *                                                                   by the built-in rules)
 *   make_profile live OUT       the same blocks, no leak check: all of them live
 *   make_profile addresses OUT  basic, with each block's address (LEAK_BLOCKS)
 *   make_profile v1 OUT         the same blocks in a version 1 profile (LEAKS per block, no kind)
 *   make_profile v2 OUT         basic in a version 2 profile (stacks as frame arrays, fixed-size
 *                               records)
 *   make_profile snap1 OUT      a snapshot (a dump: no leak check) ...
 *   make_profile snap2 OUT      ... and a later one: +12345 bytes at leaky_leaf, +1000 at peak_leaf
 *   make_profile cxx OUT        C++ frames (tests/progs/cxx_frames.cc), with and without debug info
 *   make_profile empty OUT      a program that allocated nothing: no stack, no record, no leak
 *   make_profile big N OUT      N unique stacks of 16 frames (the report benchmark)
 *   make_profile big-v2 N OUT   the same in a version 2 profile
 *   make_profile BAD OUT        a broken profile; BAD is one of: badversion badref dupsec
 *                               badcount longstr unknownpool deepstack zerostack trailing
 *                               badkind kindunclassified badblocks blockref badnode badframe
 *                               badstacknode badnames badnamesframe
 *
 * The current version goes through lib/profile's writer; versions 1 and 2,
 * which it no longer writes, are spelled here from docs/FORMAT.md, so the
 * tests check that today's reader still reads them.
 */
#define _GNU_SOURCE
#include "profile/leak_groups.h"
#include "profile/stack_tree.h"
#include "profile/write.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the writer: lib/profile's encoder -------------------------------------- */

static void finish_file(prof_writer *w, const char *path)
{
    int rc = prof_write_end(w);
    if (rc == 0)
        rc = prof_write_file(w, path);
    if (rc != 0) {
        fprintf(stderr, "make_profile: %s: %s\n", path, strerror(rc));
        exit(1);
    }
    prof_writer_free(w);
}

static void meta(prof_writer *w, uint32_t reason, int64_t peak, int64_t peak_ns)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    prof_meta m = {
        .pid = (uint32_t)getpid(),
        .reason = reason,
        .start_ns = 1700000000000000000ll,
        .duration_ns = 2000000000, /* 2 s */
        .sample_bytes = 0,
        .depth = 64,
        .threads = 1,
        .exactness_bytes = 0,
        .peak_bytes = peak,
        .peak_ns = peak_ns,
        .max_rss_bytes = 8 << 20,
        .exe = exe,
        .cmdline = "make_profile basic",
    };
    prof_write_meta(w, &m);
}

/* Every loaded object, with its real range and load bias. */
static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    prof_writer *w = arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    char path[4096];
    const char *name = info->dlpi_name;
    if (!name || !*name) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        path[n > 0 ? n : 0] = '\0';
        name = path;
    }
    if (lo >= hi || name[0] != '/')
        return 0;                                                 /* the vdso */
    prof_write_module(w, lo, hi, info->dlpi_addr, name, NULL, 0); /* no build-id */
    return 0;
}

static void modules(prof_writer *w)
{
    prof_section_begin(w, PROF_SEC_MODULES);
    dl_iterate_phdr(module_cb, w);
    prof_section_end(w);
}

static void pool(prof_writer *w, int32_t id, const char *name, int64_t cur, int64_t peak,
                 int64_t tb, int64_t tc, int64_t tmp, int64_t live)
{
    static const int64_t hist[] = {1, 2, 3};
    prof_pool_stats p = {id, name, cur, peak, tb, tc, tmp, live, 3, hist};
    prof_write_pool(w, &p);
}

/* The version being written: PROF_VERSION, or 1 or 2 in their layouts. */
static int file_version = PROF_VERSION;

static void record(prof_writer *w, uint32_t stack, int32_t pool_id, int64_t live,
                   int64_t live_count, int64_t tb, int64_t tc, int64_t tmp, int64_t peak,
                   int64_t pool_peak)
{
    prof_record r = {stack, pool_id, live, live_count, tb, tc, tmp, peak, pool_peak};
    if (file_version >= PROF_VERSION_TREE) {
        prof_write_record(w, &r);
        return;
    }
    /* versions 1 and 2: 64 bytes */
    static base_buf b; /* reused: a buffer is an mmap */
    b.len = 0;
    base_buf_u32(&b, r.stack_id);
    base_buf_u32(&b, (uint32_t)r.pool_id);
    const int64_t v[] = {live, live_count, tb, tc, tmp, peak, pool_peak};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        base_buf_u64(&b, (uint64_t)v[i]);
    prof_write_raw(w, b.data, b.len, 1);
}

/* A live block, as the tracking core's snapshot lists it. */
typedef struct {
    uint64_t addr;
    int64_t size;
    uint32_t stack;
    int32_t pool;
    uint32_t kind;
} block;

/* LEAKS grouped through lib/profile's grouping, as the tracking core writes
 * them; LEAK_BLOCKS too when addresses. bad breaks them on purpose. */
static void leaks(prof_writer *w, const block *b, size_t n, int addresses, const char *bad)
{
    prof_leak_groups g = {0};
    for (size_t i = 0; i < n; i++)
        prof_leak_group_add(&g, b[i].stack, b[i].pool, b[i].kind, b[i].size);
    prof_section_begin(w, PROF_SEC_LEAKS);
    for (size_t i = 0; i < g.n; i++) {
        const prof_leak *l = (const prof_leak *)g.groups.data + i;
        if (file_version >= PROF_VERSION_TREE) {
            prof_write_leak(w, l);
            continue;
        }
        static base_buf raw; /* version 2: 28 bytes; reused: a buffer is an mmap */
        raw.len = 0;
        base_buf_u32(&raw, l->stack_id);
        base_buf_u32(&raw, (uint32_t)l->pool_id);
        base_buf_u32(&raw, l->kind);
        base_buf_u64(&raw, (uint64_t)l->bytes);
        base_buf_u64(&raw, (uint64_t)l->count);
        prof_write_raw(w, raw.data, raw.len, 1);
    }
    if (bad && !strcmp(bad, "badkind")) { /* a kind the format does not have */
        prof_leak l = {1, 0, 9, 8, 1};
        prof_write_leak(w, &l);
    }
    prof_section_end(w);
    if (addresses) {
        prof_section_begin(w, PROF_SEC_LEAK_BLOCKS);
        for (size_t i = 0; i < n; i++) {
            prof_leak_block lb = {b[i].addr, b[i].size,
                                  prof_leak_group_find(&g, b[i].stack, b[i].pool, b[i].kind)};
            if (i == 0 && bad && !strcmp(bad, "badblocks"))
                lb.size++; /* no longer adds up to its group */
            if (i == 0 && bad && !strcmp(bad, "blockref"))
                lb.group = 99;
            prof_write_leak_block(w, &lb);
        }
        prof_section_end(w);
    }
    prof_leak_groups_free(&g);
}

/* Version 1's LEAKS: one record per block, no kind. */
static void leaks_v1(prof_writer *w, const block *b, size_t n)
{
    base_buf raw = {0};
    for (size_t i = 0; i < n; i++) {
        base_buf_u64(&raw, b[i].addr);
        base_buf_u64(&raw, (uint64_t)b[i].size);
        base_buf_u32(&raw, b[i].stack);
        base_buf_u32(&raw, (uint32_t)b[i].pool);
    }
    prof_write_section(w, PROF_SEC_LEAKS, (uint32_t)n, raw.data, raw.len);
    base_buf_free(&raw);
}

/* A record the writer would refuse to make, as raw bytes: one record. */
static void raw_record(prof_writer *w, base_buf *b)
{
    prof_write_raw(w, b->data, b->len, 1);
    base_buf_free(b);
}

/* ---- the call sites -------------------------------------------------------
 * Each function appends its own return address (the call of here()) and the
 * stacks are innermost first. The MARK comments are what the tests grep. */

typedef struct {
    uintptr_t f[32];
    uint32_t n;
} stk;

/* Distinct stores keep identical-code folding from merging the call sites. */
static volatile int sink;

__attribute__((noinline, noclone)) static uintptr_t here(void)
{
    uintptr_t a = (uintptr_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
    return a;
}

__attribute__((noinline, noclone)) static void leaky_leaf(stk *s)
{
    sink = 100;
    s->f[s->n++] = here(); /* MARK:leaky_leaf */
}

__attribute__((noinline, noclone)) static void leaky_mid(stk *s)
{
    sink = 101;
    leaky_leaf(s);
    s->f[s->n++] = here(); /* MARK:leaky_mid */
}

__attribute__((noinline, noclone)) static void peak_leaf(stk *s)
{
    sink = 102;
    s->f[s->n++] = here(); /* MARK:peak_leaf */
}

static inline __attribute__((always_inline)) void inlined_helper(stk *s)
{
    sink = 103;
    s->f[s->n++] = here(); /* MARK:inlined_helper */
}

__attribute__((noinline, noclone)) static void with_inline(stk *s)
{
    sink = 104;
    inlined_helper(s); /* MARK:with_inline */
}

__attribute__((noinline, noclone)) static void churn(stk *s)
{
    sink = 105;
    s->f[s->n++] = here(); /* MARK:churn */
}

__attribute__((noinline, noclone)) static void top(stk *s)
{
    sink = 106;
    s->f[s->n++] = here(); /* MARK:main */
}

/* Sixteen distinct call sites for the benchmark's stacks. */
#define SITE(k)                                                                                    \
    __attribute__((noinline, noclone)) static uintptr_t site##k(void)                              \
    {                                                                                              \
        sink = k;                                                                                  \
        return here();                                                                             \
    }                                                                                              \
    extern int site_unused_##k
SITE(0);
SITE(1);
SITE(2);
SITE(3);
SITE(4);
SITE(5);
SITE(6);
SITE(7);
SITE(8);
SITE(9);
SITE(10);
SITE(11);
SITE(12);
SITE(13);
SITE(14);
SITE(15);

/* Versions 1 and 2: a stack as its frame array. */
static void stack_v2(base_buf *b, uint32_t id, const uintptr_t *f, uint32_t n)
{
    base_buf_u32(b, id);
    base_buf_u32(b, n);
    for (uint32_t i = 0; i < n; i++)
        base_buf_u64(b, f[i]);
}

typedef struct {
    uint32_t id;
    stk s;
} stack_entry;

/* A tree that shares nothing, each stack a chain of its own from the root,
 * every frame listed once per use: what lib/profile's writer never makes,
 * for the broken profiles, and a second, naive encoder of the format's
 * FRAMES, NODES and STACKS that the reader must read the same. */
static void naive_tree(prof_writer *w, const stack_entry *e, size_t n, const char *bad)
{
    base_buf frames = {0}, nodes = {0}, stacks = {0};
    uint32_t nframes = 0, nnodes = 0;
    uint64_t last_addr = 0, last_id = 0, last_node = 0;
    for (size_t i = 0; i < n; i++) {
        for (uint32_t d = e[i].s.n; d-- > 0;) { /* the outermost frame first */
            uint64_t a = e[i].s.f[d];
            prof_put_svarint(&frames, (int64_t)(a - last_addr));
            last_addr = a;
            nnodes++;
            /* up: to the root for the outermost, else to the node just before */
            prof_put_uvarint(&nodes, d + 1 == e[i].s.n ? nnodes : 1);
            prof_put_uvarint(&nodes, bad && !strcmp(bad, "badframe") ? nframes + 1000 : nframes);
            nframes++;
        }
        uint64_t node = e[i].s.n ? nnodes : 0;
        if (bad && !strcmp(bad, "badstacknode") && i == 0)
            node = 1000;
        prof_put_uvarint(&stacks, e[i].id - last_id);
        prof_put_svarint(&stacks, (int64_t)(node - last_node));
        last_id = e[i].id;
        last_node = node;
    }
    if (bad && !strcmp(bad, "badnode")) { /* a parent after its child */
        prof_put_uvarint(&nodes, nnodes + 2);
        prof_put_uvarint(&nodes, 0);
        nnodes++;
    }
    prof_write_section(w, PROF_SEC_FRAMES, nframes, frames.data, frames.len);
    prof_write_section(w, PROF_SEC_NODES, nnodes, nodes.data, nodes.len);
    prof_write_section(w, PROF_SEC_STACKS, (uint32_t)n, stacks.data, stacks.len);
    base_buf_free(&frames);
    base_buf_free(&nodes);
    base_buf_free(&stacks);
}

static void stacks_out(prof_writer *w, const stack_entry *e, size_t n, const char *bad)
{
    if (file_version < PROF_VERSION_TREE) {
        base_buf b = {0};
        for (size_t i = 0; i < n; i++)
            stack_v2(&b, e[i].id, e[i].s.f, e[i].s.n);
        prof_write_section(w, PROF_SEC_STACKS, (uint32_t)n, b.data, b.len);
        base_buf_free(&b);
    } else if (bad) {
        naive_tree(w, e, n, bad);
    } else {
        prof_stack_tree t = {0};
        for (size_t i = 0; i < n; i++)
            prof_stack_tree_add(&t, e[i].id, e[i].s.f, e[i].s.n);
        prof_write_stack_tree(w, &t);
        prof_stack_tree_free(&t);
    }
}

enum { ST_LEAK = 1, ST_PEAK, ST_INLINE, ST_LIBC, ST_CHURN };

/* The basic profile's stacks; bad: a broken profile's. */
static void stacks(prof_writer *o, const char *bad)
{
    static stack_entry e[8];
    size_t n = 0;
    if (bad && !strcmp(bad, "zerostack")) { /* id 0 is not a stack */
        e[n].id = 0;
        e[n].s.n = 0;
        churn(&e[n].s);
        n++;
    }
    e[n] = (stack_entry){ST_LEAK, {.n = 0}};
    leaky_mid(&e[n].s);
    top(&e[n++].s);
    e[n] = (stack_entry){ST_PEAK, {.n = 0}};
    peak_leaf(&e[n].s);
    top(&e[n++].s);
    e[n] = (stack_entry){ST_INLINE, {.n = 0}};
    with_inline(&e[n].s);
    top(&e[n++].s);
    /* A libc one-time allocation, which the built-in suppressions hide. */
    e[n] = (stack_entry){ST_LIBC, {.n = 0}};
    void *doalloc = dlsym(RTLD_DEFAULT, "_IO_file_doallocate");
    e[n].s.f[e[n].s.n++] = (uintptr_t)(doalloc ? doalloc : (void *)&fopen) + 16;
    top(&e[n++].s);
    e[n] = (stack_entry){ST_CHURN, {.n = 0}};
    churn(&e[n].s);
    top(&e[n++].s);
    if (bad && !strcmp(bad, "deepstack")) { /* more frames than a stack may have */
        static uintptr_t deep[PROF_MAX_FRAMES + 44];
        for (size_t i = 0; i < sizeof deep / sizeof deep[0]; i++)
            deep[i] = 0x1000 + i;
        base_buf b = {0};
        if (file_version < PROF_VERSION_TREE) {
            for (size_t i = 0; i < n; i++)
                stack_v2(&b, e[i].id, e[i].s.f, e[i].s.n);
            stack_v2(&b, 99, deep, PROF_MAX_FRAMES + 44);
            prof_write_section(o, PROF_SEC_STACKS, (uint32_t)n + 1, b.data, b.len);
            base_buf_free(&b);
            return;
        }
        /* a chain of nodes, each under the one before */
        for (size_t i = 0; i < sizeof deep / sizeof deep[0]; i++) {
            prof_put_uvarint(&b, 1);
            prof_put_uvarint(&b, 0);
        }
        base_buf f = {0}, st = {0};
        prof_put_svarint(&f, 0x1000);
        prof_put_uvarint(&st, 99);
        prof_put_svarint(&st, PROF_MAX_FRAMES + 44);
        prof_write_section(o, PROF_SEC_FRAMES, 1, f.data, f.len);
        prof_write_section(o, PROF_SEC_NODES, PROF_MAX_FRAMES + 44, b.data, b.len);
        prof_write_section(o, PROF_SEC_STACKS, 1, st.data, st.len);
        base_buf_free(&b);
        base_buf_free(&f);
        base_buf_free(&st);
        return;
    }
    stacks_out(o, e, n,
               bad && strcmp(bad, "zerostack") && strcmp(bad, "badnode") &&
                       strcmp(bad, "badframe") && strcmp(bad, "badstacknode")
                   ? NULL
                   : bad);
}

/* What write_basic writes: basic by default. */
typedef struct {
    int snapshot; /* 0: basic; 1: snap1; 2: snap2 (snap1 + 12345 at leaky_leaf, +1000 at peak_leaf)
                   */
    int classified; /* the leak check ran (an exit profile); snapshots are dumps without it */
    int addresses;  /* LEAK_BLOCKS */
    int version;    /* PROF_VERSION, 2 or 1 */
    const char *bad;
} variant;

static void write_basic(const char *path, variant v)
{
    prof_writer o = {0};
    const char *bad = v.bad;
    int has = bad != NULL;
    uint32_t flags = v.classified ? PROF_FLAG_CLASSIFIED : 0;
    if (has && !strcmp(bad, "kindunclassified"))
        flags = 0;
    file_version = v.version;
    prof_write_begin(&o, v.version == 1 ? 0 : flags);
    o.buf.data[PROF_HEADER_VERSION_AT] = (uint8_t)v.version;
    if (has && !strcmp(bad, "badversion"))
        o.buf.data[PROF_HEADER_VERSION_AT] = PROF_VERSION + 1;
    int64_t add_leak = v.snapshot == 2 ? 12345 : 0, add_peak = v.snapshot == 2 ? 1000 : 0;
    meta(&o, v.snapshot ? 1 : 0, 1004960 + add_leak + add_peak, 1500000000);
    /* An unknown section: a reader skips it. */
    base_buf unknown = {0};
    base_buf_u64(&unknown, 0xdeadbeef);
    prof_write_section(&o, 42, 1, unknown.data, unknown.len);
    base_buf_free(&unknown);
    modules(&o);
    stacks(&o, bad);
    if (has && !strcmp(bad, "dupsec")) {
        prof_section_begin(&o, PROF_SEC_STACKS);
        prof_section_end(&o);
    }
    prof_section_begin(&o, PROF_SEC_POOLS);
    pool(&o, 0, "malloc", 4460 + add_leak, 504960 + add_leak, 5004460 + add_leak, 10006, 9000, 6);
    pool(&o, 3, "arena", 32 + add_peak, 1000000 + add_peak, 1000032 + add_peak, 2, 0, 1);
    if (has && !strcmp(bad, "longstr")) { /* a name over the limit, and nothing after it */
        base_buf b = {0};
        base_buf_u32(&b, 7);
        base_buf_u32(&b, 70000);
        for (int i = 0; i < 70000; i++)
            base_buf_put(&b, "x", 1);
        raw_record(&o, &b);
    }
    prof_section_end(&o);
    prof_section_begin(&o, PROF_SEC_RECORDS);
    record(&o, ST_LEAK, 0, 300 + add_leak, 3 + (add_leak > 0), 300 + add_leak, 3, 0, 300, 300);
    record(&o, ST_PEAK, 3, add_peak, add_peak > 0, 1000000 + add_peak, 1, 0, 1000000 + add_peak,
           1000000);
    record(&o, ST_INLINE, 0, 64, 1, 64, 1, 0, 64, 64);
    record(&o, ST_LIBC, 0, 4096, 1, 4096, 1, 0, 4096, 4096);
    record(&o, ST_CHURN, 0, 0, 0, 5000000, 10000, 9000, 500, 500000);
    if (has && !strcmp(bad, "badref"))
        record(&o, 77, 0, 0, 0, 0, 0, 0, 0, 0);
    if (has && !strcmp(bad, "unknownpool"))
        record(&o, ST_LEAK, 9, 0, 0, 0, 0, 0, 0, 0);
    prof_section_end(&o);
    if (has && !strcmp(bad, "badcount")) /* the RECORDS count no longer matches */
        o.buf.data[o.section + PROF_SECTION_COUNT_AT] ^= 0x40;
    prof_section_begin(&o, PROF_SEC_SERIES);
    static const int32_t series_pools[] = {0, 3};
    prof_write_series_pools(&o, series_pools, 2);
    int64_t pts[][4] = {{0, 1 << 20, 0, 0},
                        {500000000, 2 << 20, 2000, 0},
                        {1500000000, 3 << 20, 4960, 1000000},
                        {2000000000, 2 << 20, 4460 + add_leak, 32 + add_peak}};
    for (int i = 0; i < 4; i++)
        prof_write_series_point(&o, pts[i][0], pts[i][1], &pts[i][2], 2);
    prof_section_end(&o);

    /* The live blocks, with the kinds the leak check would give them. */
    block b[8] = {
        {0x10000, 100, ST_LEAK, 0, PROF_LEAK_DEFINITE},
        {0x10100, 100, ST_LEAK, 0, PROF_LEAK_DEFINITE},
        {0x10200, 100, ST_LEAK, 0, PROF_LEAK_REACHABLE},
        {0x40000, 64, ST_INLINE, 0, PROF_LEAK_INDIRECT},
        {0x50000, 4096, ST_LIBC, 0, PROF_LEAK_REACHABLE},
        {0x60000, 32, 0, 3, PROF_LEAK_POSSIBLE}, /* not sampled */
    };
    size_t n = 6;
    if (add_leak)
        b[n++] = (block){0x20000, add_leak, ST_LEAK, 0, PROF_LEAK_DEFINITE};
    if (add_peak)
        b[n++] = (block){0x30000, add_peak, ST_PEAK, 3, PROF_LEAK_DEFINITE};
    for (size_t i = 0; i < n && !v.classified; i++)
        b[i].kind = PROF_LEAK_LIVE;
    if (v.version == 1)
        leaks_v1(&o, b, n);
    else
        leaks(&o, b, n, v.addresses, bad);
    if (has && !strcmp(bad, "trailing")) {
        finish_file(&o, path);
        FILE *f = fopen(path, "ab");
        fputs("junk", f);
        fclose(f);
        return;
    }
    if (has && (!strcmp(bad, "badnames") || !strcmp(bad, "badnamesframe"))) {
        /* NAMES naming frame 0 with a string that is not there, or a
         * frame past FRAMES */
        static const char *const strings[] = {"leaky_leaf", "make_profile.c"};
        prof_name_ref ref = {1, 0, 2, 7, PROF_NAME_KNOWN};
        if (!strcmp(bad, "badnames"))
            ref.file = 3;
        prof_section_begin(&o, PROF_SEC_NAMES);
        prof_write_name_strings(&o, strings, 2);
        prof_write_named_frame(&o, !strcmp(bad, "badnames") ? 0 : 5000, &ref, 1);
        prof_section_end(&o);
    }
    finish_file(&o, path);
}

/* n stacks of 16 frames: the outer 11 the same, the inner 5 the digits of
 * the stack's number in base 16, so neighbours share all but their
 * innermost frames, as a program's stacks share their callers. */
static void write_big(const char *path, uint32_t n, int version)
{
    uintptr_t sites[16] = {site0(),  site1(),  site2(),  site3(), site4(),  site5(),
                           site6(),  site7(),  site8(),  site9(), site10(), site11(),
                           site12(), site13(), site14(), site15()};
    file_version = version;
    prof_writer o = {0};
    prof_write_begin(&o, 0);
    o.buf.data[PROF_HEADER_VERSION_AT] = (uint8_t)version;
    meta(&o, 0, (int64_t)n * 64, 1000);
    modules(&o);
    prof_stack_tree t = {0};
    base_buf v2 = {0};
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t f[16];
        for (int d = 0; d < 16; d++)
            f[d] = sites[d < 5 ? (i >> (4 * d)) & 15 : (uint32_t)d];
        if (version < PROF_VERSION_TREE)
            stack_v2(&v2, i + 1, f, 16);
        else
            prof_stack_tree_add(&t, i + 1, f, 16);
    }
    if (version < PROF_VERSION_TREE)
        prof_write_section(&o, PROF_SEC_STACKS, n, v2.data, v2.len);
    else
        prof_write_stack_tree(&o, &t);
    prof_stack_tree_free(&t);
    base_buf_free(&v2);
    prof_section_begin(&o, PROF_SEC_POOLS);
    pool(&o, 0, "malloc", (int64_t)n * 32, (int64_t)n * 64, (int64_t)n * 128, (int64_t)n * 2, 0, n);
    prof_section_end(&o);
    prof_section_begin(&o, PROF_SEC_RECORDS);
    for (uint32_t i = 0; i < n; i++)
        record(&o, i + 1, 0, 32, 1, 128, 2, 0, 64, 64);
    prof_section_end(&o);
    /* one live block of 32 bytes per stack */
    if (version < PROF_VERSION_TREE) {
        prof_section_begin(&o, PROF_SEC_LEAKS);
        for (uint32_t i = 0; i < n; i++) { /* version 2: 28 bytes a group */
            base_buf_u32(&o.buf, i + 1);
            base_buf_u32(&o.buf, 0);
            base_buf_u32(&o.buf, PROF_LEAK_LIVE);
            base_buf_u64(&o.buf, 32);
            base_buf_u64(&o.buf, 1);
            o.count++;
        }
        prof_section_end(&o);
    } else {
        prof_leak_groups g = {0};
        for (uint32_t i = 0; i < n; i++)
            prof_leak_group_add(&g, i + 1, 0, PROF_LEAK_LIVE, 32);
        prof_write_leak_groups(&o, &g);
        prof_leak_groups_free(&g);
    }
    finish_file(&o, path);
}

/* C++ frames (cxx_frames.cc), innermost first, then this file's top(): a
 * definite leak of 4096 bytes whose stack the reports must demangle. */
size_t cxx_frames(uintptr_t *out, size_t max);

static void write_cxx(const char *path)
{
    stk s;
    s.n = (uint32_t)cxx_frames(s.f, 16);
    top(&s);
    prof_writer o = {0};
    prof_write_begin(&o, PROF_FLAG_CLASSIFIED);
    meta(&o, 0, 4096, 1000);
    modules(&o);
    stack_entry e = {1, s};
    stacks_out(&o, &e, 1, NULL);
    prof_section_begin(&o, PROF_SEC_POOLS);
    pool(&o, 0, "malloc", 4096, 4096, 4096, 1, 0, 1);
    prof_section_end(&o);
    prof_section_begin(&o, PROF_SEC_RECORDS);
    record(&o, 1, 0, 4096, 1, 4096, 1, 0, 4096, 4096);
    prof_section_end(&o);
    block b = {0x70000, 4096, 1, 0, PROF_LEAK_DEFINITE};
    leaks(&o, &b, 1, 0, NULL);
    finish_file(&o, path);
}

static void write_empty(const char *path)
{
    prof_writer o = {0};
    prof_write_begin(&o, PROF_FLAG_CLASSIFIED);
    meta(&o, 0, 0, 0);
    modules(&o);
    prof_stack_tree t = {0};
    prof_write_stack_tree(&o, &t);
    prof_section_begin(&o, PROF_SEC_POOLS);
    pool(&o, 0, "malloc", 0, 0, 0, 0, 0, 0);
    prof_section_end(&o);
    prof_section_begin(&o, PROF_SEC_RECORDS);
    prof_section_end(&o);
    prof_section_begin(&o, PROF_SEC_LEAKS);
    prof_section_end(&o);
    finish_file(&o, path);
}

int main(int argc, char **argv)
{
    if (argc == 4 && (!strcmp(argv[1], "big") || !strcmp(argv[1], "big-v2"))) {
        write_big(argv[3], (uint32_t)strtoul(argv[2], NULL, 10),
                  !strcmp(argv[1], "big") ? PROF_VERSION : 2);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr,
                "usage: make_profile basic|live|addresses|v1|v2|snap1|snap2|cxx|empty|big N|"
                "big-v2 N|BAD OUT\n");
        return 2;
    }
    const char *kind = argv[1];
    variant v = {.classified = 1, .version = PROF_VERSION};
    if (!strcmp(kind, "cxx")) {
        write_cxx(argv[2]);
        return 0;
    }
    if (!strcmp(kind, "empty")) {
        write_empty(argv[2]);
        return 0;
    }
    if (!strcmp(kind, "live")) {
        v.classified = 0;
    } else if (!strcmp(kind, "addresses")) {
        v.addresses = 1;
    } else if (!strcmp(kind, "v2")) {
        v.version = 2;
    } else if (!strcmp(kind, "v1")) {
        v.version = 1;
        v.classified = 0;
    } else if (!strcmp(kind, "snap1") || !strcmp(kind, "snap2")) {
        v.snapshot = kind[4] - '0';
        v.classified = 0;
    } else if (strcmp(kind, "basic") != 0) {
        v.bad = kind;
        v.addresses = !strcmp(kind, "badblocks") || !strcmp(kind, "blockref");
    }
    write_basic(argv[2], v);
    return 0;
}
