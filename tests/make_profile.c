/* make_profile.c: writes tally profiles (docs/FORMAT.md) for the CLI tests,
 * independent of the tracking core, so reports can be checked against
 * figures known in advance.
 *
 * The stacks hold real return addresses of this program's own functions and
 * the modules are this process's real mappings, so `tally report` can
 * symbolize them: the tests look up the MARK lines below in this file and
 * expect those file:line pairs in the reports. Build with -g.
 *
 *   make_profile basic OUT      pools, peak, leaks, an inlined frame, a libc frame
 *   make_profile snap1 OUT      a snapshot ...
 *   make_profile snap2 OUT      ... and a later one: +12345 bytes at leaky_leaf, +1000 at peak_leaf
 *   make_profile big N OUT      N unique stacks of 16 frames (the report benchmark)
 *   make_profile BAD OUT        a broken profile; BAD is one of: version2 badref dupsec
 *                               badcount longstr unknownpool deepstack zerostack trailing
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the writer ---------------------------------------------------------- */

typedef struct {
    uint8_t *b;
    size_t n, cap;
    size_t sec_start; /* where the open section's header starts */
    uint32_t sec_count;
} out;

static void put(out *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 4096;
        o->b = realloc(o->b, o->cap);
        if (!o->b)
            abort();
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void u32(out *o, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(o, b, 4);
}

static void u64(out *o, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(o, b, 8);
}

static void str(out *o, const char *s)
{
    u32(o, (uint32_t)strlen(s));
    put(o, s, strlen(s));
}

static void begin(out *o, uint32_t tag)
{
    o->sec_start = o->n;
    o->sec_count = 0;
    u32(o, tag);
    u32(o, 0);
    u64(o, 0);
}

static void end(out *o)
{
    size_t len = o->n - o->sec_start - 16;
    for (int i = 0; i < 4; i++)
        o->b[o->sec_start + 4 + i] = (uint8_t)(o->sec_count >> (8 * i));
    for (int i = 0; i < 8; i++)
        o->b[o->sec_start + 8 + i] = (uint8_t)((uint64_t)len >> (8 * i));
}

static void finish_file(out *o, const char *path)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < o->n; i++) {
        h ^= o->b[i];
        h *= 0x100000001b3ull;
    }
    u32(o, 0xFFFFFFFFu);
    u32(o, 0);
    u64(o, 8);
    u64(o, h);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(o->b, 1, o->n, f) != o->n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    free(o->b);
}

static void header(out *o, uint32_t version, uint32_t flags)
{
    put(o, "TALLYPRF", 8);
    u32(o, version);
    u32(o, flags);
}

static void meta(out *o, int64_t peak, int64_t peak_ns)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    begin(o, 1);
    u32(o, (uint32_t)getpid());
    u32(o, 0);
    u64(o, 1700000000000000000ull);
    u64(o, 2000000000); /* 2 s */
    u64(o, 0);
    u32(o, 64);
    u32(o, 1);
    u64(o, 0);
    u64(o, (uint64_t)peak);
    u64(o, (uint64_t)peak_ns);
    u64(o, 8 << 20);
    str(o, exe);
    str(o, "make_profile basic");
    o->sec_count = 1;
    end(o);
}

/* Every loaded object, with its real range and load bias. */
static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    out *o = arg;
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
        return 0; /* the vdso */
    u64(o, lo);
    u64(o, hi);
    u64(o, info->dlpi_addr);
    str(o, name);
    u32(o, 0); /* no build-id */
    o->sec_count++;
    return 0;
}

static void modules(out *o)
{
    begin(o, 2);
    dl_iterate_phdr(module_cb, o);
    end(o);
}

static void pool(out *o, int32_t id, const char *name, int64_t cur, int64_t peak, int64_t tb,
                 int64_t tc, int64_t tmp, int64_t live)
{
    u32(o, (uint32_t)id);
    str(o, name);
    u64(o, (uint64_t)cur);
    u64(o, (uint64_t)peak);
    u64(o, (uint64_t)tb);
    u64(o, (uint64_t)tc);
    u64(o, (uint64_t)tmp);
    u64(o, (uint64_t)live);
    u32(o, 3);
    u64(o, 1);
    u64(o, 2);
    u64(o, 3);
    o->sec_count++;
}

static void record(out *o, uint32_t stack, int32_t pool_id, int64_t live, int64_t live_count,
                   int64_t tb, int64_t tc, int64_t tmp, int64_t peak, int64_t pool_peak)
{
    u32(o, stack);
    u32(o, (uint32_t)pool_id);
    int64_t v[] = {live, live_count, tb, tc, tmp, peak, pool_peak};
    for (size_t i = 0; i < 7; i++)
        u64(o, (uint64_t)v[i]);
    o->sec_count++;
}

static void leak(out *o, uint64_t addr, int64_t size, uint32_t stack, int32_t pool_id)
{
    u64(o, addr);
    u64(o, (uint64_t)size);
    u32(o, stack);
    u32(o, (uint32_t)pool_id);
    o->sec_count++;
}

/* ---- the call sites -------------------------------------------------------
 * Each function appends its own return address (the call of here()) and the
 * stacks are innermost first. The MARK comments are what the tests grep. */

typedef struct {
    uint64_t f[32];
    uint32_t n;
} stk;

/* Distinct stores keep identical-code folding from merging the call sites. */
static volatile int sink;

__attribute__((noinline, noclone)) static uint64_t here(void)
{
    uint64_t a = (uint64_t)__builtin_return_address(0);
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
    __attribute__((noinline, noclone)) static uint64_t site##k(void)                               \
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

static void stack_out(out *o, uint32_t id, const stk *s)
{
    u32(o, id);
    u32(o, s->n);
    for (uint32_t i = 0; i < s->n; i++)
        u64(o, s->f[i]);
    o->sec_count++;
}

enum { ST_LEAK = 1, ST_PEAK, ST_INLINE, ST_LIBC, ST_CHURN };

static void stacks(out *o, int deep)
{
    stk s;
    begin(o, 3);
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
    s.f[s.n++] = (uint64_t)(uintptr_t)(doalloc ? doalloc : (void *)&fopen) + 16;
    top(&s);
    stack_out(o, ST_LIBC, &s);
    s.n = 0;
    churn(&s);
    top(&s);
    stack_out(o, ST_CHURN, &s);
    if (deep) { /* nframes over the limit */
        u32(o, 99);
        u32(o, 300);
        for (int i = 0; i < 300; i++)
            u64(o, 0x1000);
        o->sec_count++;
    }
    end(o);
}

/* snapshot 0: basic; 1: snap1; 2: snap2 (snap1 + 12345 at leaky_leaf, +1000 at peak_leaf). */
static void write_basic(const char *path, int snapshot, const char *bad)
{
    out o = {0};
    int has = bad != NULL;
    header(&o, has && !strcmp(bad, "version2") ? 2 : 1, 0);
    int64_t add_leak = snapshot == 2 ? 12345 : 0, add_peak = snapshot == 2 ? 1000 : 0;
    meta(&o, 1004960 + add_leak + add_peak, 1500000000);
    /* An unknown section: a version 1 reader skips it. */
    begin(&o, 42);
    u64(&o, 0xdeadbeef);
    o.sec_count = 1;
    end(&o);
    modules(&o);
    stacks(&o, has && !strcmp(bad, "deepstack"));
    if (has && !strcmp(bad, "dupsec")) {
        begin(&o, 3);
        end(&o);
    }
    begin(&o, 4);
    pool(&o, 0, "malloc", 4460 + add_leak, 504960 + add_leak, 5004460 + add_leak, 10006, 9000, 6);
    pool(&o, 3, "arena", 32 + add_peak, 1000000 + add_peak, 1000032 + add_peak, 2, 0, 1);
    if (has && !strcmp(bad, "longstr")) {
        u32(&o, 7);
        u32(&o, 70000);
        for (int i = 0; i < 70000; i++)
            put(&o, "x", 1);
        o.sec_count++;
    }
    end(&o);
    begin(&o, 5);
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
    end(&o);
    if (has && !strcmp(bad, "badcount"))
        o.b[o.sec_start + 4] ^= 0x40; /* the RECORDS count no longer matches */
    begin(&o, 6);
    u32(&o, 2);
    u32(&o, 0);
    u32(&o, 3);
    int64_t pts[][4] = {{0, 1 << 20, 0, 0},
                        {500000000, 2 << 20, 2000, 0},
                        {1500000000, 3 << 20, 4960, 1000000},
                        {2000000000, 2 << 20, 4460 + add_leak, 32 + add_peak}};
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 4; k++)
            u64(&o, (uint64_t)pts[i][k]);
        o.sec_count++;
    }
    end(&o);
    begin(&o, 7);
    for (int i = 0; i < 3; i++)
        leak(&o, 0x10000 + 0x100 * (uint64_t)i, 100, ST_LEAK, 0);
    if (add_leak)
        leak(&o, 0x20000, add_leak, ST_LEAK, 0);
    if (add_peak)
        leak(&o, 0x30000, add_peak, ST_PEAK, 3);
    leak(&o, 0x40000, 64, ST_INLINE, 0);
    leak(&o, 0x50000, 4096, ST_LIBC, 0);
    leak(&o, 0x60000, 32, 0, 3); /* not sampled */
    end(&o);
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
    uint64_t sites[16] = {site0(),  site1(),  site2(),  site3(), site4(),  site5(),
                          site6(),  site7(),  site8(),  site9(), site10(), site11(),
                          site12(), site13(), site14(), site15()};
    out o = {0};
    header(&o, 1, 0);
    meta(&o, (int64_t)n * 64, 1000);
    modules(&o);
    begin(&o, 3);
    for (uint32_t i = 0; i < n; i++) {
        stk s = {.n = 16};
        /* Distinct digits in base 16 make distinct stacks. */
        for (int d = 0; d < 16; d++)
            s.f[d] = sites[d < 5 ? (i >> (4 * d)) & 15 : (uint32_t)d];
        stack_out(&o, i + 1, &s);
    }
    end(&o);
    begin(&o, 4);
    pool(&o, 0, "malloc", (int64_t)n * 32, (int64_t)n * 64, (int64_t)n * 128, (int64_t)n * 2, 0, n);
    end(&o);
    begin(&o, 5);
    for (uint32_t i = 0; i < n; i++)
        record(&o, i + 1, 0, 32, 1, 128, 2, 0, 64, 64);
    end(&o);
    begin(&o, 7);
    for (uint32_t i = 0; i < n; i++)
        leak(&o, 0x100000 + 64 * (uint64_t)i, 32, i + 1, 0);
    end(&o);
    finish_file(&o, path);
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "big")) {
        write_big(argv[3], (uint32_t)strtoul(argv[2], NULL, 10));
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: make_profile basic|snap1|snap2|big N|BAD OUT\n");
        return 2;
    }
    if (!strcmp(argv[1], "basic"))
        write_basic(argv[2], 0, NULL);
    else if (!strcmp(argv[1], "snap1"))
        write_basic(argv[2], 1, NULL);
    else if (!strcmp(argv[1], "snap2"))
        write_basic(argv[2], 2, NULL);
    else
        write_basic(argv[2], 0, argv[1]);
    return 0;
}
