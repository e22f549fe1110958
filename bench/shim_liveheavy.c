/* shim_liveheavy: N allocations of random small sizes from a call site
 * about ten frames deep, every other one freed at once, so that N/2 blocks
 * are live at the end (the tracking issue's live-heavy run: 2M
 * allocations, 1M frees, 1M blocks left live). The live blocks are left to
 * the exit, as a program that keeps its data does. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *site(int depth, size_t n)
{
    if (depth > 0)
        return site(depth - 1, n);
    return malloc(n);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    void **keep = malloc((size_t)(n / 2 + 1) * sizeof *keep);
    if (!keep)
        return 1;
    unsigned s = 12345;
    long kept = 0;
    for (long i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        char *p = site(8, 16 + (s >> 16) % 256);
        if (!p)
            return 1;
        p[0] = (char)i;
        if (i & 1)
            free(p);
        else
            keep[kept++] = p;
    }
    printf("%ld blocks live\n", kept);
    return 0;
}
