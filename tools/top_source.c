/* top_source.c: a process's live segment (lib/profile/live.h), opened
 * with the checks a reader owes it and copied seqlock-style.
 *
 * The segment is /dev/shm/tally-UID-PID. Before mapping it: the process
 * exists (else a segment left by it, killed before its exit, is removed),
 * the file is a regular file of ours with mode 0600 (O_NOFOLLOW: never a
 * symlink someone left in the sticky /dev/shm), of the size this tally's
 * layout has, and it was made by this very process (the pid's start time
 * in /proc, not an earlier process of a reused pid). */
#include <config.h>

#include "top.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct top_source {
    pid_t pid;
    uint64_t proc_start;
    char path[64];
    prof_live_segment *seg; /* shared: the request words are written */
    dev_t dev;
    ino_t ino; /* the file mapped: an exec makes a new one */
    uint64_t token;
};

/* starttime (live.h); 0 when the process is gone. */
static uint64_t proc_start_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return prof_live_start_time(path);
}

static int fail(char *err, size_t cap, int rc, const char *fmt, pid_t pid, const char *extra)
{
    snprintf(err, cap, fmt, (int)pid, extra);
    return rc;
}

int top_source_open(pid_t pid, top_source **out, char *err, size_t cap)
{
    *out = NULL;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%d", (int)pid);
    struct stat pst;
    int running = pid > 0 && stat(proc, &pst) == 0;
    char path[64];
    snprintf(path, sizeof path, PROF_LIVE_DIR "/tally-%u-%d", (unsigned)getuid(), (int)pid);
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (!running)
            return fail(err, cap, TOP_NO_PROCESS, "no process %d%s", pid, "");
        if (pst.st_uid != getuid())
            return fail(err, cap, TOP_OTHER_USER,
                        "process %d is another user's: the live view reads only your own%s", pid,
                        "");
        if (errno == ELOOP)
            return fail(err, cap, TOP_BAD_SEGMENT, "%d: %s is a symbolic link, not a segment", pid,
                        path);
        return fail(err, cap, TOP_NOT_LIVE,
                    "process %d does not publish a live view: start it with `tally run --live`, "
                    "or with TALLY_LIVE=1 and tally's shim preloaded (%s is missing)",
                    pid, path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, cap, TOP_BAD_SEGMENT, "%d: %s is not a regular file", pid, path);
    }
    if (st.st_uid != getuid()) {
        close(fd);
        return fail(err, cap, TOP_OTHER_USER, "%d: %s is another user's: not read", pid, path);
    }
    if ((st.st_mode & 0777) != 0600) {
        close(fd);
        return fail(err, cap, TOP_BAD_SEGMENT, "%d: %s is not mode 0600: not read", pid, path);
    }
    uint64_t start = proc_start_of(pid);
    if (!start) {
        /* Left by a process that was killed (no exit to remove it): ours
         * to remove, whatever it holds. A kill can land between the
         * segment's creation and its sizing, so its contents are not
         * looked at first. */
        close(fd);
        unlink(path);
        return fail(err, cap, TOP_NO_PROCESS, "no process %d (its stale segment %s is removed)",
                    pid, path);
    }
    if (st.st_size != (off_t)sizeof(prof_live_segment)) {
        close(fd);
        return fail(err, cap, TOP_BAD_SEGMENT,
                    "%d: %s is not a live segment of this tally's version", pid, path);
    }
    prof_live_segment *seg = mmap(NULL, sizeof *seg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (seg == MAP_FAILED)
        return fail(err, cap, TOP_BAD_SEGMENT, "%d: cannot map %s", pid, path);
    int ready = __atomic_load_n(&seg->magic, __ATOMIC_ACQUIRE) == PROF_LIVE_MAGIC;
    if (ready && (seg->version != PROF_LIVE_VERSION || seg->size != sizeof *seg)) {
        munmap(seg, sizeof *seg);
        return fail(err, cap, TOP_BAD_SEGMENT,
                    "%d: %s is not a live segment of this tally's version", pid, path);
    }
    if (ready && (seg->pid != (int32_t)pid || seg->proc_start != start)) {
        /* Left by an earlier process of this pid: ours to remove. */
        munmap(seg, sizeof *seg);
        unlink(path);
        return fail(err, cap, TOP_NOT_LIVE,
                    "process %d does not publish a live view (a stale segment of an earlier "
                    "process %d was removed)",
                    pid, "");
    }
    top_source *s = calloc(1, sizeof *s);
    if (!s) {
        munmap(seg, sizeof *seg);
        return fail(err, cap, TOP_BAD_SEGMENT, "%d: out of memory%s", pid, "");
    }
    s->pid = pid;
    s->proc_start = start;
    s->seg = seg;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->token = atomic_load(&seg->request);
    *out = s;
    return TOP_OK;
}

void top_source_close(top_source *s)
{
    if (!s)
        return;
    munmap(s->seg, sizeof *s->seg);
    free(s);
}

int top_source_read(top_source *s, prof_live_segment *copy)
{
    for (int tries = 0; tries < 1000; tries++) {
        uint64_t a = atomic_load_explicit(&s->seg->seq, memory_order_acquire);
        if (a & 1) {
            usleep(100);
            continue;
        }
        memcpy(copy, (const void *)s->seg, sizeof *copy);
        atomic_thread_fence(memory_order_acquire);
        if (copy->magic != PROF_LIVE_MAGIC)
            return -1; /* being made */
        if (atomic_load_explicit(&s->seg->seq, memory_order_relaxed) == a)
            return 0;
        usleep(100);
    }
    return -1;
}

int top_source_replaced(const top_source *s)
{
    struct stat st;
    return lstat(s->path, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino;
}

int top_source_alive(const top_source *s)
{
    return proc_start_of(s->pid) == s->proc_start;
}

uint64_t top_source_request(top_source *s, const char *path)
{
    prof_live_segment *seg = s->seg;
    /* The process reads its path as a pattern: '%' as "%%". */
    size_t j = 0;
    for (const char *p = path; *p && j + 2 < sizeof seg->request_path; p++) {
        if (*p == '%')
            seg->request_path[j++] = '%';
        seg->request_path[j++] = *p;
    }
    seg->request_path[j] = '\0';
    uint64_t token = atomic_load(&seg->request) + 1;
    atomic_store_explicit(&seg->request, token, memory_order_release);
    return token;
}

int top_source_served(const top_source *s, uint64_t token, int *err)
{
    if (atomic_load_explicit(&s->seg->served, memory_order_acquire) != token)
        return 0;
    *err = s->seg->served_errno;
    return 1;
}
