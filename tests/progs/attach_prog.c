/* attach_prog: a program started without tally, for tally attach
 * (tests/cli/test_cli_attach.sh). It allocates before the attach, says
 * "ready" and reads commands from stdin, one a line:
 *   go    free the blocks of before the attach (glibc's: no error may be
 *         reported), realloc one of them, and leak known sizes from
 *         named functions: 3 x 1000 (malloc), 770 (calloc 10 x 77),
 *         5000 (a realloc of a 100-byte block); free a 123-byte block;
 *         hang a chain of 5 x 1000 bytes (grow_chain) on a block allocated
 *         before the attach, which a global points to: still reachable.
 *         Then "done".
 *   again the same leaks once more, then "done" (after a detach they are
 *         no longer tracked).
 *   exit  exit with status 3.
 * Every answer is a line on stdout, flushed.
 *
 * attach_prog traced: a child that is traced by this process already
 * (PTRACE_TRACEME) runs the same loop, and its pid is the first line;
 * attaching to it is not permitted (the test of tally's EPERM message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static void *keep[4];

struct link {
    struct link *next;
    char pad[992];
};
static struct link *anchor; /* allocated before the attach */

__attribute__((noinline)) static void leak_malloc(void)
{
    for (int i = 0; i < 3; i++) {
        void *volatile p = malloc(1000);
        memset(p, 1, 1000);
    }
}

__attribute__((noinline)) static void leak_calloc(void)
{
    void *volatile p = calloc(10, 77);
    (void)p;
}

__attribute__((noinline)) static void leak_realloc(void)
{
    char *p = malloc(100);
    memset(p, 2, 100);
    void *volatile q = realloc(p, 5000);
    (void)q;
}

__attribute__((noinline)) static void churn(void)
{
    void *volatile p = malloc(123);
    free(p);
}

__attribute__((noinline)) static void grow_chain(void)
{
    for (int i = 0; i < 5; i++) {
        struct link *l = malloc(sizeof *l); /* not calloc: that skips the cache */
        l->next = anchor->next;
        anchor->next = l;
    }
}

/* The leak functions' dead frames, cleared: no old copy of a lost
 * pointer is left where the next calls' frames (fgets, read) will sit
 * while the leak check scans them. */
__attribute__((noinline)) static void clear_stack(void)
{
    volatile char buf[8192];
    memset((char *)buf, 0, sizeof buf);
}

static void leak_all(void)
{
    leak_malloc();
    leak_calloc();
    leak_realloc();
    churn();
    clear_stack();
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "traced") == 0) {
        pid_t child = fork();
        if (child == 0) {
            if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
                return 9;
        } else {
            printf("%d\n", (int)child);
            fflush(stdout);
            int status;
            waitpid(child, &status, 0);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 8;
        }
    }
    for (int i = 0; i < 4; i++)
        keep[i] = malloc(64 + (size_t)i);
    printf("ready\n");
    fflush(stdout);
    /* The anchor, then 5 blocks of a link's size after it, freed into
     * glibc's per-thread cache (up to 7 of a size, never merged): it gives
     * them back to grow_chain, so the anchor's page holds tracked blocks,
     * which used to make the leak check skip it as the allocator's, and
     * the chain looked lost. 1000 bytes: a size the attach itself does not
     * allocate. */
    anchor = calloc(1, sizeof *anchor);
    void *spare[5];
    for (int i = 0; i < 5; i++)
        spare[i] = malloc(sizeof *anchor);
    for (int i = 4; i >= 0; i--)
        free(spare[i]);
    explicit_bzero(spare, sizeof spare); /* main's frame lives on: no stale copies */
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "go", 2) == 0) {
            keep[0] = realloc(keep[0], 4096); /* a block of before, grown now */
            for (int i = 0; i < 4; i++) {
                free(keep[i]);
                keep[i] = NULL;
            }
            grow_chain();
            leak_all();
        } else if (strncmp(line, "again", 5) == 0) {
            leak_all();
        } else if (strncmp(line, "exit", 4) == 0) {
            return 3;
        }
        printf("done\n");
        fflush(stdout);
    }
    return 1;
}
