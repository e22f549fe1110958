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
 *   make_profile snap1 OUT      a snapshot (a dump: no leak check) ...
 *   make_profile snap2 OUT      ... and a later one: +12345 bytes at leaky_leaf, +1000 at peak_leaf
 *   make_profile cxx OUT        C++ frames (tests/progs/cxx_frames.cc), with and without debug info
 *   make_profile big N OUT      N unique stacks of 16 frames (the report benchmark)
 *   make_profile BAD OUT        a broken profile; BAD is one of: version3 badref dupsec
 *                               badcount longstr unknownpool deepstack zerostack trailing
 *                               badkind kindunclassified badblocks blockref
 */
#define _GNU_SOURCE
#include "profile/leak_groups.h"
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

static void record(prof_writer *w, uint32_t stack, int32_t pool_id, int64_t live,
                   int64_t live_count, int64_t tb, int64_t tc, int64_t tmp, int64_t peak,
                   int64_t pool_peak)
{
    prof_record r = {stack, pool_id, live, live_count, tb, tc, tmp, peak, pool_peak};
    prof_write_record(w, &r);
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
    for (size_t i = 0; i < g.n; i++)
        prof_write_leak(w, (const prof_leak *)g.groups.data + i);
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

static void stack_out(prof_writer *w, uint32_t id, const stk *s)
{
    prof_write_stack(w, id, s->f, s->n);
}

enum { ST_LEAK = 1, ST_PEAK, ST_INLINE, ST_LIBC, ST_CHURN };

static void stacks(prof_writer *o, const char *bad)
{
    stk s;
    prof_section_begin(o, PROF_SEC_STACKS);
    s.n = 0;
    leaky_mid(&s);
    top(&s);
    stack_out(o, ST_LEAK, &s);
    s.n = 0;
    peak_leaf(&s);
    top(&s);
    stack_out(o, ST_PEAK, &s);
    s.n = 0;
    with_inline(&s);
    top(&s);
    stack_out(o, ST_INLINE, &s);
    /* A libc one-time allocation, which the built-in suppressions hide. */
    s.n = 0;
    void *doalloc = dlsym(RTLD_DEFAULT, "_IO_file_doallocate");
    s.f[s.n++] = (uintptr_t)(doalloc ? doalloc : (void *)&fopen) + 16;
    top(&s);
    stack_out(o, ST_LIBC, &s);
    s.n = 0;
    churn(&s);
    top(&s);
    stack_out(o, ST_CHURN, &s);
    if (bad && !strcmp(bad, "deepstack")) { /* nframes over the limit */
        base_buf b = {0};
        base_buf_u32(&b, 99);
        base_buf_u32(&b, PROF_MAX_FRAMES + 44);
        for (int i = 0; i < PROF_MAX_FRAMES + 44; i++)
            base_buf_u64(&b, 0x1000);
        raw_record(o, &b);
    }
    if (bad && !strcmp(bad, "zerostack")) /* id 0 is not a stack */
        stack_out(o, 0, &s);
    prof_section_end(o);
}

/* What write_basic writes: basic by default. */
typedef struct {
    int snapshot; /* 0: basic; 1: snap1; 2: snap2 (snap1 + 12345 at leaky_leaf, +1000 at peak_leaf)
                   */
    int classified; /* the leak check ran (an exit profile); snapshots are dumps without it */
    int addresses;  /* LEAK_BLOCKS */
    int version;    /* 2, or 1 */
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
    prof_write_begin(&o, v.version == 1 ? 0 : flags);
    if (v.version == 1)
        o.buf.data[PROF_HEADER_VERSION_AT] = 1;
    if (has && !strcmp(bad, "version3"))
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
    finish_file(&o, path);
}

static void write_big(const char *path, uint32_t n)
{
    uintptr_t sites[16] = {site0(),  site1(),  site2(),  site3(), site4(),  site5(),
                           site6(),  site7(),  site8(),  site9(), site10(), site11(),
                           site12(), site13(), site14(), site15()};
    prof_writer o = {0};
    prof_write_begin(&o, 0);
    meta(&o, 0, (int64_t)n * 64, 1000);
    modules(&o);
    prof_section_begin(&o, PROF_SEC_STACKS);
    for (uint32_t i = 0; i < n; i++) {
        stk s = {.n = 16};
        /* Distinct digits in base 16 make distinct stacks. */
        for (int d = 0; d < 16; d++)
            s.f[d] = sites[d < 5 ? (i >> (4 * d)) & 15 : (uint32_t)d];
        stack_out(&o, i + 1, &s);
    }
    prof_section_end(&o);
    prof_section_begin(&o, PROF_SEC_POOLS);
    pool(&o, 0, "malloc", (int64_t)n * 32, (int64_t)n * 64, (int64_t)n * 128, (int64_t)n * 2, 0, n);
    prof_section_end(&o);
    prof_section_begin(&o, PROF_SEC_RECORDS);
    for (uint32_t i = 0; i < n; i++)
        record(&o, i + 1, 0, 32, 1, 128, 2, 0, 64, 64);
    prof_section_end(&o);
    prof_leak_groups g = {0};
    for (uint32_t i = 0; i < n; i++)
        prof_leak_group_add(&g, i + 1, 0, PROF_LEAK_LIVE, 32);
    prof_write_leak_groups(&o, &g);
    prof_leak_groups_free(&g);
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
    prof_section_begin(&o, PROF_SEC_STACKS);
    stack_out(&o, 1, &s);
    prof_section_end(&o);
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

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "big")) {
        write_big(argv[3], (uint32_t)strtoul(argv[2], NULL, 10));
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr,
                "usage: make_profile basic|live|addresses|v1|snap1|snap2|cxx|big N|BAD OUT\n");
        return 2;
    }
    const char *kind = argv[1];
    variant v = {.classified = 1, .version = 2};
    if (!strcmp(kind, "cxx")) {
        write_cxx(argv[2]);
        return 0;
    }
    if (!strcmp(kind, "live")) {
        v.classified = 0;
    } else if (!strcmp(kind, "addresses")) {
        v.addresses = 1;
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
