/* say.c: tally's messages, written with write(2) to a descriptor it owns.
 *
 * The duplicate of stderr is taken once per process image, above the low
 * numbers that programs reuse and close-on-exec (an exec'd image takes its
 * own). A program may still close it (closefrom) or dup2 another file over
 * its number: the file's identity (device and inode), kept from the start,
 * is checked before each message, so tally never writes into a file that is
 * not the stderr the process started with. No lock (a message may come
 * from inside free, or a forked child): the descriptor and its identity
 * change only in adopt, which hides the descriptor while it changes them. */
#include "track/say.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The lowest number tried: far above what programs open themselves. */
#define HIGH_FD 1000

static _Atomic int taken;       /* stderr's duplicate taken (or being taken) */
static _Atomic int msg_fd = -1; /* -1: say nothing */
static bool owned;              /* msg_fd is our duplicate, not fd 2 itself */
static dev_t msg_dev;
static ino_t msg_ino;

/* The lowest number for the duplicate: HIGH_FD, or a quarter below the
 * descriptor limit when that is lower. */
static int high_fd(void)
{
    struct rlimit rl;
    int low = HIGH_FD;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur - rl.rlim_cur / 4 < (rlim_t)low)
        low = (int)(rl.rlim_cur - rl.rlim_cur / 4);
    return low < 3 ? 3 : low;
}

TALLY_INTERNAL int tally_track_fd_out_of_sight(int fd)
{
    int saved = errno;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, high_fd());
    if (high >= 0)
        close(fd);
    errno = saved;
    return high >= 0 ? high : fd;
}

/* Messages go to a duplicate of `from` from now on; nowhere when it is not
 * open. */
static void adopt(int from)
{
    struct stat st;
    int fd = -1;
    bool dup_ok = false;
    if (from >= 0 && fstat(from, &st) == 0) {
        fd = fcntl(from, F_DUPFD_CLOEXEC, high_fd());
        if (fd < 0)
            fd = fcntl(from, F_DUPFD_CLOEXEC, 3);
        dup_ok = fd >= 0;
        if (!dup_ok && from == STDERR_FILENO)
            fd = STDERR_FILENO; /* no descriptor left: fd 2 itself, still checked */
    }
    int old = atomic_exchange(&msg_fd, -1);
    bool old_owned = owned;
    if (fd >= 0) {
        msg_dev = st.st_dev;
        msg_ino = st.st_ino;
        owned = dup_ok;
        atomic_store(&msg_fd, fd);
    }
    if (old >= 0 && old_owned && old != fd)
        close(old);
}

/* Once per process image. Not pthread_once: a thread that finds another
 * one taking it (or a forked child of that moment) does not wait, it says
 * nothing this once. */
TALLY_INTERNAL void tally_track_say_init(void)
{
    if (atomic_load_explicit(&taken, memory_order_acquire) == 0 && !atomic_exchange(&taken, 1))
        adopt(STDERR_FILENO);
}

TALLY_INTERNAL void tally_track_say_to(int fd)
{
    tally_track_say_init();
    adopt(fd);
}

static bool is_ours(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == msg_dev && st.st_ino == msg_ino;
}

TALLY_INTERNAL int tally_track_say_fd(void)
{
    tally_track_say_init();
    int fd = atomic_load(&msg_fd);
    if (fd < 0)
        return -1;
    if (is_ours(fd))
        return fd;
    if (fd != STDERR_FILENO && is_ours(STDERR_FILENO))
        return STDERR_FILENO; /* ours was closed, fd 2 still is the file */
    return -1;
}

/* errno is kept: a message may come from inside free. */
static void write_all(int fd, const char *s, size_t n)
{
    int saved = errno;
    for (size_t done = 0; fd >= 0 && done < n;) {
        ssize_t w = write(fd, s + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    errno = saved;
}

TALLY_INTERNAL void tally_track_say_text(const char *s, size_t n)
{
    write_all(tally_track_say_fd(), s, n);
}

void tt_say(int fd, const char *fmt, ...)
{
    if (fd < 0)
        return;
    int saved = errno;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    errno = saved;
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    write_all(fd, line, (size_t)n);
}
