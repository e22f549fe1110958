/* leak_alloc: realloc, calloc and aligned allocations; each block's size at
 * exit is the last one asked for.
 * definite: realloc 10 -> 1000, realloc 5000 -> 50 (shrunk), calloc(7, 13)
 *           = 91, aligned_alloc(256, 512): 1653 bytes in 4 blocks;
 * reachable: realloc(NULL, 77), posix_memalign(64, 200), a block grown by
 *           realloc 16 bytes at a time to 320: 597 bytes in 3 blocks;
 * possible: memalign(4096, 300) kept by a pointer to its byte 150: 300
 *           bytes in 1 block. */
#include "leak_common.h"

#include <malloc.h>

void *from_null, *aligned, *grown;
char *aligned_middle;

LK_NOINLINE static void allocate(void)
{
    void *p = lk_escape(malloc(10));
    p = lk_escape(realloc(p, 1000)); /* lost */
    p = lk_escape(malloc(5000));
    p = lk_escape(realloc(p, 50));          /* lost */
    p = lk_escape(calloc(7, 13));           /* lost */
    p = lk_escape(aligned_alloc(256, 512)); /* lost */
    p = NULL;

    from_null = lk_escape(realloc(NULL, 77));
    if (posix_memalign(&aligned, 64, 200) != 0)
        exit(3);
    lk_escape(aligned);
    grown = NULL;
    for (size_t n = 16; n <= 320; n += 16)
        grown = lk_escape(realloc(grown, n));
    aligned_middle = (char *)lk_escape(memalign(4096, 300)) + 150;
}

int main(void)
{
    allocate();
    lk_scrub();
    return 0;
}
