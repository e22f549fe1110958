/* mmap_churn.c: the worst case for TALLY_MMAP, for bench/mmap_bench.sh:
 * nothing but mappings. N times (default 200000): map 64 KiB, touch its
 * first page, unmap its second half, then the rest. Each round is two
 * bookings and two releases for tally, and four system calls. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    for (long i = 0; i < n; i++) {
        char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 1;
        p[0] = 1;
        if (munmap(p + 32768, 32768) != 0 || munmap(p, 32768) != 0)
            return 1;
    }
    return 0;
}
