/* scan_bench: a heap for a leak check at exit to scan.
 *
 *   scan_bench reachable [N]   N blocks (default 1M) of 16-80 bytes, all
 *                              reachable (from an array a global points to)
 *   scan_bench lost [N]        the same N blocks, half of them dropped: N/2
 *                              definitely lost, N/2 reachable
 *   scan_bench shuffled [N]    the same N blocks, all reachable, the array
 *                              in a random order: a check that reads blocks
 *                              in the order it finds them misses the cache
 *                              on every one, as a program's pointer graph
 *                              makes it do
 *
 * Then it returns from main without freeing anything: the time of the run
 * beyond a plain run is the tool's, and with a leak check at exit on and
 * off the difference is the check's. Sizes come from a fixed sequence, so
 * every run and every tool sees the same heap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void **blocks;

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "reachable") != 0 && strcmp(argv[1], "lost") != 0 &&
                     strcmp(argv[1], "shuffled") != 0)) {
        fprintf(stderr, "usage: scan_bench reachable|lost|shuffled [blocks]\n");
        return 2;
    }
    int lose = strcmp(argv[1], "lost") == 0, shuffle = strcmp(argv[1], "shuffled") == 0;
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    blocks = malloc((size_t)n * sizeof *blocks);
    if (!blocks)
        return 1;
    unsigned x = 12345;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        size_t size = 16 + (x >> 16) % 65; /* 16..80 */
        blocks[i] = malloc(size);
        if (!blocks[i])
            return 1;
        memset(blocks[i], 0, size);
    }
    for (long i = n - 1; shuffle && i > 0; i--) { /* Fisher-Yates, from the same sequence */
        x = x * 1103515245u + 12345u;
        long j = (long)(x % (unsigned long)(i + 1));
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
    if (lose)
        for (long i = 0; i < n; i += 2)
            blocks[i] = NULL; /* every other block: lost */
    return 0;
}
