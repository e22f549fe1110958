/* leak_fork: each process has its own answer.
 * Before the fork the parent keeps a 701-byte block in a global and drops a
 * 702-byte one. The child inherits both, keeps a 703-byte block, drops a
 * 704-byte one and exits 0. The parent waits for it, drops a 705-byte block
 * and exits with the child's status.
 *   parent: definite 702 + 705 = 1407 bytes in 2 blocks, reachable 701 in 1
 *   child:  definite 702 + 704 = 1406 bytes in 2 blocks,
 *           reachable 701 + 703 = 1404 in 2
 * The child writes "child <pid>\n" to stdout, so a test can tell its
 * profile from the parent's. */
#include "leak_common.h"

#include <sys/wait.h>

void *kept_before, *kept_in_child;

static void say_pid(pid_t pid)
{
    char buf[32], *p = buf + sizeof buf;
    *--p = '\n';
    do
        *--p = (char)('0' + pid % 10);
    while ((pid /= 10) > 0);
    static const char tag[] = "child ";
    p -= sizeof tag - 1;
    memcpy(p, tag, sizeof tag - 1);
    ssize_t r = write(1, p, (size_t)(buf + sizeof buf - p));
    (void)r;
}

LK_NOINLINE static void before(void)
{
    kept_before = lk_escape(malloc(701));
    lk_escape(malloc(702));
}

LK_NOINLINE static void in_child(void)
{
    kept_in_child = lk_escape(malloc(703));
    lk_escape(malloc(704));
    say_pid(getpid());
}

LK_NOINLINE static void after(void)
{
    lk_escape(malloc(705));
}

int main(void)
{
    before();
    lk_scrub();
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    if (pid == 0) {
        in_child();
        lk_scrub();
        exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return 4;
    after();
    lk_scrub();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 5;
}
