/* live_prog: a program with exact books for the live view's tests
 * (tests/cli/test_cli_top.sh), run with TALLY_LIVE=1.
 *
 *   live_prog BLOCKS SIZE DIR [fork]
 *
 * hold_blocks keeps BLOCKS blocks of SIZE bytes, keep_small 10 of 100
 * bytes; then it waits, allocating and freeing an empty block 64 times
 * every 10 ms (live bytes unchanged) so that the process goes on
 * publishing. When DIR/more exists, hold_more keeps BLOCKS blocks of SIZE
 * more (once); when DIR/stop exists, it frees nothing and returns from
 * main. With `fork`, it forks after keep_small and the child (its pid in
 * DIR/child) holds BLOCKS blocks of SIZE more in hold_more at once; both
 * wait for DIR/stop. No stdio: the books hold exactly these blocks. */
#include <fcntl.h>
#include <stdio.h>
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

/* DIR/child holds the child's pid, written with write(2). */
static void note_child(const char *dir, pid_t pid)
{
    char path[4096], num[32];
    if (snprintf(path, sizeof path, "%s/child.tmp", dir) >= (int)sizeof path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    int n = snprintf(num, sizeof num, "%d\n", (int)pid);
    if (write(fd, num, (size_t)n) != n)
        n = -1;
    close(fd);
    char final[4096];
    snprintf(final, sizeof final, "%s/child", dir);
    if (n > 0)
        rename(path, final);
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "fork")))
        return 2;
    int n = atoi(argv[1]);
    size_t size = strtoul(argv[2], NULL, 10);
    if (n < 0 || n > MAX_BLOCKS || size == 0)
        return 2;
    hold_blocks(n, size);
    keep_small();
    int more = 0;
    if (argc == 5) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            hold_more(n, size);
            more = 1;
        } else {
            note_child(argv[3], pid);
            more = 1; /* the parent never holds more */
        }
    }
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
