/* live_prog: a program with exact books for the live view's tests
 * (tests/cli/test_cli_top.sh), run with TALLY_LIVE=1.
 *
 *   live_prog BLOCKS SIZE DIR
 *
 * hold_blocks keeps BLOCKS blocks of SIZE bytes, keep_small 10 of 100
 * bytes; then it waits, allocating and freeing an empty block 64 times
 * every 10 ms (live bytes unchanged) so that the process goes on
 * publishing. When DIR/more exists, hold_more keeps BLOCKS blocks of SIZE
 * more (once); when DIR/stop exists, it frees nothing and returns from
 * main. No stdio: the books hold exactly these blocks. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BLOCKS 4096

static void *held[2 * MAX_BLOCKS + 10];
static int nheld;

__attribute__((noinline)) static void hold_blocks(int n, size_t size)
{
    for (int i = 0; i < n; i++) {
        held[nheld] = malloc(size); /* MARK:hold_blocks */
        memset(held[nheld++], 1, size);
    }
}

__attribute__((noinline)) static void hold_more(int n, size_t size)
{
    for (int i = 0; i < n; i++) {
        held[nheld] = malloc(size); /* MARK:hold_more */
        memset(held[nheld++], 2, size);
    }
}

__attribute__((noinline)) static void keep_small(void)
{
    for (int i = 0; i < 10; i++)
        held[nheld++] = malloc(100);
}

__attribute__((noinline)) static void heartbeat(void)
{
    for (int i = 0; i < 64; i++) {
        void *volatile p = malloc(0);
        free(p);
    }
}

static int exists(const char *dir, const char *name)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n + strlen(name) + 2 > sizeof path)
        return 0;
    memcpy(path, dir, n);
    path[n] = '/';
    strcpy(path + n + 1, name);
    return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    int n = atoi(argv[1]);
    size_t size = strtoul(argv[2], NULL, 10);
    if (n < 0 || n > MAX_BLOCKS || size == 0)
        return 2;
    hold_blocks(n, size);
    keep_small();
    int more = 0;
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 6000 && !exists(argv[3], "stop"); i++) { /* at most a minute */
        heartbeat();
        if (!more && exists(argv[3], "more")) {
            hold_more(n, size);
            more = 1;
        }
        nanosleep(&tick, NULL);
    }
    return 0;
}
