/* resident.h: which pages of a range hold data, for the leak check's scan
 * of the program's anonymous mappings.
 *
 * A page counts when it is in memory or in swap: a page swapped out still
 * holds the program's pointers, and leaving it out would call the blocks
 * it holds lost. Pages never touched hold nothing (reading them would map
 * the zero page for nothing), and a mapping reserved whole is mostly those.
 *
 * The kernel's PAGEMAP_SCAN (Linux 6.7) answers in runs, passing over an
 * empty page-table level at once: the 14 TiB of a sanitizer's shadow cost
 * it little. Before 6.7, mincore answers a byte per page, in memory only. */
#ifndef TALLY_TRACK_RESIDENT_H
#define TALLY_TRACK_RESIDENT_H

#include <stdint.h>

/* Called for each run [lo, hi) of pages that hold data, in address order. */
typedef void (*tt_resident_fn)(void *ctx, uintptr_t lo, uintptr_t hi);

typedef struct {
    int pagemap_fd; /* /proc/self/pagemap while PAGEMAP_SCAN answers; -1: mincore */
} tt_resident_reader;

/* Nothing here allocates or takes a lock: the leak check calls it with the
 * other threads stopped. open and close are the only calls beside the
 * ioctl and mincore. */
void tt_resident_open(tt_resident_reader *r);
void tt_resident_close(tt_resident_reader *r);
/* Each run of pages of [lo, hi) (page-aligned) that hold data. */
void tt_resident_each(tt_resident_reader *r, uintptr_t lo, uintptr_t hi, tt_resident_fn fn,
                      void *ctx);
/* The same by mincore alone, whatever the kernel: pages in memory only
 * (tt_resident_each before Linux 6.7, and the tests). */
void tt_resident_each_by_mincore(uintptr_t lo, uintptr_t hi, tt_resident_fn fn, void *ctx);

#endif
