/* gate_prog: a program for tests/cli/test_cli_gate.sh, run under
 * `tally run --max-peak/--max-leaked`.
 *
 *   gate_prog PEAK LEAK STATUS
 *
 * leaks LEAK bytes in one block from leak_some (definitely lost: the only
 * pointer is overwritten), holds PEAK bytes at once in hold_peak (freed
 * before it returns), and exits with STATUS. */
#include <stdlib.h>
#include <string.h>

static void *volatile last;

__attribute__((noinline)) static void hold_peak(size_t n)
{
    char *big = malloc(n); /* MARK:hold_peak */
    if (big)
        memset(big, 1, n);
    last = big;
    free(big);
    last = NULL;
}

__attribute__((noinline)) static void leak_some(size_t n)
{
    last = malloc(n); /* MARK:leak_some */
    if (last)
        memset(last, 2, n);
    last = NULL; /* the block's only pointer: now definitely lost */
}

/* Clears the stack below main, where malloc's frames may have left a
 * copy of the leaked pointer that the exit's own frames would keep live. */
__attribute__((noinline)) static void scrub(void)
{
    volatile char pad[16384];
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    size_t peak = strtoul(argv[1], NULL, 10), leak = strtoul(argv[2], NULL, 10);
    if (leak)
        leak_some(leak);
    scrub();
    if (peak)
        hold_peak(peak);
    scrub();
    return atoi(argv[3]);
}
