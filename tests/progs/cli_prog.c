/* cli_prog: a program for tests/cli/test_cli_run.sh, run under `tally run`.
 * It links libtally only for tally_track_dump (the snapshots of "snap");
 * everything else is plain malloc, which the preloaded shim tracks.
 *
 *   cli_prog leaks        3 x 1000 bytes leaked in leak_thousand, a 4 MiB peak in make_peak
 *   cli_prog exit N       no leak, exit status N
 *   cli_prog snap A B     dumps A, adds 12345 bytes in grow_big and 7 x 1000 in grow_small, dumps B
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tally/tally.h>

static void *volatile kept[64];
static int nkept;

/* Each call's block is lost when the next call overwrites `last`, the last
 * one when main clears it: 3 blocks definitely lost, as memcheck says. */
static void *volatile last;

__attribute__((noinline)) static void leak_thousand(void)
{
    last = malloc(1000); /* MARK:leak_thousand */
}

__attribute__((noinline)) static void make_peak(void)
{
    char *big = malloc(4 << 20); /* MARK:make_peak */
    memset(big, 1, 4 << 20);
    kept[63] = big;
    free(big);
    kept[63] = NULL;
}

__attribute__((noinline)) static void grow_big(void)
{
    kept[nkept++] = malloc(12345); /* MARK:grow_big */
}

__attribute__((noinline)) static void grow_small(void)
{
    volatile int n = 7;
    for (int i = 0; i < n; i++)
        kept[nkept++] = malloc(1000); /* MARK:grow_small */
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "leaks")) {
        volatile int n = 3; /* one call site: no unrolling into three stacks */
        for (int i = 0; i < n; i++)
            leak_thousand();
        last = NULL;
        make_peak();
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "exit"))
        return atoi(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "snap")) {
        int rc = tally_track_dump(argv[2]);
        if (rc != 0) {
            fprintf(stderr, "cli_prog: tally_track_dump: %s\n", strerror(rc));
            return 3;
        }
        grow_big();
        grow_small();
        rc = tally_track_dump(argv[3]);
        for (int i = 0; i < nkept; i++)
            free(kept[i]);
        return rc == 0 ? 0 : 3;
    }
    fprintf(stderr, "usage: cli_prog leaks | exit N | snap A B\n");
    return 2;
}
