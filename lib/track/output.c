/* output.c: the profile's path, and publishing a profile there.
 *
 * A profile is written whole to <name>.tmp.<pid> (made with O_EXCL, so a
 * file or symlink planted under that name is never written through), then
 * published: renamed over the name when that is a regular file or free,
 * never when it is anything else (a device, a fifo, a socket, a directory,
 * a symlink, which lstat sees as itself). Replacing such a node was the
 * harm: as root, TALLY_OUTPUT=/dev/full turned the device into a file.
 *
 * %n claims a name without replacing anything: link(2) of the finished
 * temporary file to each candidate in turn, the first that does not exist
 * winning; a number, once claimed, is this process image's for its later
 * profiles. Every call comes from a dump, under the dump's lock. No stdio
 * streams, no malloc. */
#include <config.h> /* _GNU_SOURCE: renameat2 */

#include "track/output.h"

#include "track/modules.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The last number %n tries: past it, something is wrong with the directory. */
#define MAX_NUMBER 100000

/* The number this process image claimed for a pattern with %n. */
static struct {
    bool valid;
    unsigned long n;
    char pattern[1024];
} claim;

void tt_output_resolve(char *pattern, size_t cap)
{
    if (!pattern[0] || pattern[0] == '/')
        return;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return; /* no working directory (removed): left relative */
    size_t c = strlen(cwd), p = strlen(pattern);
    size_t sep = cwd[c - 1] == '/' ? 0 : 1;
    if (c + sep + p + 1 > cap)
        return;
    memmove(pattern + c + sep, pattern, p + 1);
    memcpy(pattern, cwd, c);
    if (sep)
        pattern[c] = '/';
}

static void append(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len + 1 < cap) {
        size_t room = cap - 1 - *len;
        memcpy(out + *len, s, n < room ? n : room);
    }
    *len += n;
}

size_t tt_output_expand(const char *pattern, unsigned long n, char *out, size_t cap)
{
    const char *exe = tt_exe_path();
    const char *slash = strrchr(exe, '/');
    const char *name = slash ? slash + 1 : exe;
    if (!*name)
        name = "prog";
    size_t len = 0;
    for (const char *p = pattern; *p; p++) {
        char piece[32];
        const char *add = piece;
        switch (p[0] == '%' ? p[1] : 0) {
        case 'p':
            snprintf(piece, sizeof piece, "%d", (int)getpid());
            break;
        case 'n':
            snprintf(piece, sizeof piece, "%lu", n);
            break;
        case 'e':
            add = name;
            break;
        case '%':
            add = "%";
            break;
        default:
            append(out, cap, &len, p, 1);
            continue;
        }
        p++;
        append(out, cap, &len, add, strlen(add));
    }
    if (cap > 0)
        out[len < cap ? len : cap - 1] = '\0';
    return len;
}

static bool has_number(const char *pattern)
{
    for (const char *p = pattern; *p; p++)
        if (p[0] == '%' && p[1]) {
            if (p[1] == 'n')
                return true;
            p++; /* %%n is a percent sign and an n */
        }
    return false;
}

static bool claimed(const char *pattern)
{
    return claim.valid && strcmp(claim.pattern, pattern) == 0;
}

void tt_output_name(const char *pattern, char *out, size_t cap)
{
    tt_output_expand(pattern, claimed(pattern) ? claim.n : 0, out, cap);
}

void tt_output_fork_child(void)
{
    claim.valid = false;
}

/* ---- the temporary file ------------------------------------------------------------ */
static int temp_name(const char *path, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s.tmp.%d", path, (int)getpid());
    return n < 0 || (size_t)n >= cap ? ENAMETOOLONG : 0;
}

static int open_temp(const char *tmp)
{
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0644);
    if (fd < 0 && errno == EEXIST) {
        /* Left by a process with the same pid that died while writing, or
         * planted: unlink removes the name (a symlink itself, never what it
         * points to), and the name is made afresh. */
        unlink(tmp);
        fd = open(tmp, flags, 0644);
    }
    return fd;
}

/* 0, or an errno value and no temporary file left behind. */
static int write_temp(const char *tmp, const void *data, size_t len)
{
    int fd = open_temp(tmp);
    if (fd < 0)
        return errno;
    int rc = 0;
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 && rc == 0)
        rc = errno;
    if (rc)
        unlink(tmp);
    return rc;
}

/* ---- publishing ------------------------------------------------------------------------ */
/* The filesystem has no hard links (or no renameat2): the error says so. */
static bool unsupported(int e)
{
    return e == EPERM || e == EOPNOTSUPP || e == ENOSYS || e == EINVAL;
}

/* tmp renamed onto path: over a regular file, or where nothing is. A name
 * that appears between the look and the rename is looked at again. */
static int put_in_place(const char *tmp, const char *path)
{
    for (int tries = 0; tries < 3; tries++) {
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (!S_ISREG(st.st_mode))
                return EEXIST;
            return rename(tmp, path) == 0 ? 0 : errno;
        }
        if (errno != ENOENT)
            return errno;
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EEXIST)
            continue;
        if (!unsupported(errno))
            return errno;
        if (link(tmp, path) == 0) {
            unlink(tmp);
            return 0;
        }
        if (errno != EEXIST)
            return errno;
    }
    return EEXIST;
}

/* A link to tmp under the smallest number whose name is free (without a
 * hard link: an empty file made there with O_EXCL, then tmp renamed over
 * it); tmp is gone after. */
static int claim_number(const char *tmp, const char *pattern, char *path, size_t cap,
                        unsigned long *claimed_n)
{
    int rc = EMLINK; /* every number up to MAX_NUMBER taken */
    for (unsigned long n = 0; n <= MAX_NUMBER; n++) {
        if (tt_output_expand(pattern, n, path, cap) >= cap) {
            rc = ENAMETOOLONG;
            break;
        }
        if (link(tmp, path) == 0) {
            *claimed_n = n;
            rc = 0;
            break;
        }
        if (errno == EEXIST)
            continue;
        if (!unsupported(errno)) {
            rc = errno;
            break;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            rc = errno;
            break;
        }
        close(fd);
        if (rename(tmp, path) == 0) {
            *claimed_n = n;
            return 0;
        }
        rc = errno;
        unlink(path); /* the empty file just made */
        break;
    }
    unlink(tmp);
    return rc;
}

int tt_output_publish(const void *data, size_t len, const char *pattern, char *path, size_t cap)
{
    bool numbered = has_number(pattern), again = claimed(pattern);
    unsigned long n = again ? claim.n : 0;
    if (tt_output_expand(pattern, n, path, cap) >= cap)
        return ENAMETOOLONG;
    char tmp[PATH_MAX];
    int rc = temp_name(path, tmp, sizeof tmp);
    if (rc == 0)
        rc = write_temp(tmp, data, len);
    if (rc == EEXIST) {
        /* Something under the temporary name that unlink cannot remove (a
         * directory): that is the name refused. */
        snprintf(path, cap, "%s", tmp);
        return rc;
    }
    if (rc)
        return rc;
    if (numbered && !again) {
        rc = claim_number(tmp, pattern, path, cap, &n);
        if (rc == 0 && strlen(pattern) < sizeof claim.pattern) {
            memcpy(claim.pattern, pattern, strlen(pattern) + 1);
            claim.n = n;
            claim.valid = true;
        }
        return rc;
    }
    rc = put_in_place(tmp, path);
    if (rc)
        unlink(tmp);
    return rc;
}
