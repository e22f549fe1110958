/* resident.c: the pages of a range that hold data (resident.h). */
#include <config.h>

#include "track/resident.h"

#include "base/assert.h"
#include "base/mem.h"

#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The kernel's ABI for PAGEMAP_SCAN (linux/fs.h from 6.7 on), spelled out
 * here because the C library's headers may predate it. */
struct tt_page_region {
    uint64_t start, end, categories;
};
struct tt_pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define TT_PAGE_IS_PRESENT (1u << 3)
#define TT_PAGE_IS_SWAPPED (1u << 4)
#define TT_PAGEMAP_SCAN _IOWR('f', 16, struct tt_pm_scan_arg)

/* Asks for runs of pages in memory or in swap over [lo, hi) into vec;
 * returns how many, -1 when the kernel refused, and sets *walk_end to
 * where the kernel stopped (before hi when vec filled up). */
static long scan_runs(int fd, uintptr_t lo, uintptr_t hi, struct tt_page_region *vec, size_t n,
                      uintptr_t *walk_end)
{
    struct tt_pm_scan_arg arg = {
        .size = sizeof arg,
        .start = lo,
        .end = hi,
        .vec = (uint64_t)(uintptr_t)vec,
        .vec_len = n,
        .category_anyof_mask = TT_PAGE_IS_PRESENT | TT_PAGE_IS_SWAPPED,
        .return_mask = TT_PAGE_IS_PRESENT | TT_PAGE_IS_SWAPPED,
    };
    long got = ioctl(fd, TT_PAGEMAP_SCAN, &arg);
    *walk_end = (uintptr_t)arg.walk_end;
    return got;
}

void tt_resident_open(tt_resident_reader *r)
{
    r->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (r->pagemap_fd < 0)
        return;
    /* A kernel before 6.7 knows no such ioctl (ENOTTY); one page at 0 asks. */
    struct tt_page_region one;
    uintptr_t walk_end;
    if (scan_runs(r->pagemap_fd, 0, BASE_PAGE, &one, 1, &walk_end) < 0) {
        close(r->pagemap_fd);
        r->pagemap_fd = -1;
    }
}

void tt_resident_close(tt_resident_reader *r)
{
    if (r->pagemap_fd >= 0)
        close(r->pagemap_fd);
    r->pagemap_fd = -1;
}

/* The first page at or after pg that mincore marked resident, or n. A big
 * sparse mapping is almost all zeros, passed over eight pages to a load:
 * read a byte at a time, the 14 TiB of ASan's shadow cost each exit 8 s. */
static size_t next_resident(const unsigned char *vec, size_t pg, size_t n)
{
    const uint64_t resident_bits = 0x0101010101010101ULL; /* bit 0 of each byte */
    for (; pg + 8 <= n; pg += 8) {
        uint64_t word;
        memcpy(&word, vec + pg, sizeof word);
        word &= resident_bits;
        if (word != 0)
            return pg + (size_t)__builtin_ctzll(word) / 8; /* little-endian: lowest byte first */
    }
    while (pg < n && !(vec[pg] & 1))
        pg++;
    return pg;
}

void tt_resident_each_by_mincore(uintptr_t lo, uintptr_t hi, tt_resident_fn fn, void *ctx)
{
    enum { CHUNK_PAGES = 4096 };
    unsigned char vec[CHUNK_PAGES];
    TALLY_ASSERT(lo % BASE_PAGE == 0 && hi % BASE_PAGE == 0);
    for (uintptr_t at = lo; at < hi; at += CHUNK_PAGES * BASE_PAGE) {
        size_t len = hi - at < CHUNK_PAGES * BASE_PAGE ? hi - at : CHUNK_PAGES * BASE_PAGE;
        if (mincore((void *)at, len, vec) != 0)
            continue;
        size_t npages = len / BASE_PAGE;
        for (size_t pg = next_resident(vec, 0, npages); pg < npages;) {
            size_t end = pg + 1;
            while (end < npages && (vec[end] & 1))
                end++;
            fn(ctx, at + pg * BASE_PAGE, at + end * BASE_PAGE);
            pg = next_resident(vec, end, npages);
        }
    }
}

void tt_resident_each(tt_resident_reader *r, uintptr_t lo, uintptr_t hi, tt_resident_fn fn,
                      void *ctx)
{
    TALLY_ASSERT(lo % BASE_PAGE == 0 && hi % BASE_PAGE == 0);
    if (r->pagemap_fd < 0)
        return tt_resident_each_by_mincore(lo, hi, fn, ctx);
    enum { RUNS = 256 };
    struct tt_page_region runs[RUNS];
    uintptr_t at = lo;
    while (at < hi) {
        uintptr_t walk_end;
        long got = scan_runs(r->pagemap_fd, at, hi, runs, RUNS, &walk_end);
        if (got < 0) /* the mapping changed under us, or the kernel ran short: page by page */
            return tt_resident_each_by_mincore(at, hi, fn, ctx);
        for (long i = 0; i < got; i++) {
            TALLY_ASSERT(runs[i].start >= at && runs[i].end <= hi && runs[i].start < runs[i].end);
            fn(ctx, (uintptr_t)runs[i].start, (uintptr_t)runs[i].end);
        }
        if (walk_end <= at) /* no progress: the rest page by page, never a loop */
            return tt_resident_each_by_mincore(at, hi, fn, ctx);
        at = walk_end;
    }
}
