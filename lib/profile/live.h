/* live.h: the live view's shared-memory segment, written by a tracked
 * process (lib/track/live.c, with TALLY_LIVE=1) and read by `tally top`
 * (tools/top*.c).
 *
 * One segment per process, /dev/shm/tally-UID-PID, owned by the user, mode
 * 0600, unlinked at exit. The process rewrites it about once a second on
 * its own threads (service.c); nothing in it is written on the hot path.
 * Readers take a consistent copy seqlock-style: `seq` is odd while the
 * process writes, and a copy made while it changed is taken again. The
 * request words are the reader's: it writes a path and a new token, and
 * the process writes a profile there at its next publication, then sets
 * `served` to the token.
 *
 * Both sides are the same machine and the same build of the layout: a
 * reader refuses a segment whose magic, version or size differ. */
#ifndef TALLY_PROFILE_LIVE_H
#define TALLY_PROFILE_LIVE_H

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* A process's starttime, the 22nd field of its /proc/PID/stat (stat_path);
 * 0 when it cannot be read. A pid and this number name one process for
 * good: the writer stores it, and a reader compares, to tell a stale
 * segment of a reused pid. One parse for both sides. */
static inline uint64_t prof_live_start_time(const char *stat_path)
{
    char buf[1024];
    int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    uint64_t v = 0;
    for (p = p ? p + 1 : ""; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

#define PROF_LIVE_MAGIC 0x31766c796c6c6174ULL /* "tallylv1" */
#define PROF_LIVE_VERSION 1
#define PROF_LIVE_POOLS 64       /* the first pools that booked anything */
#define PROF_LIVE_STACKS 100     /* per list */
#define PROF_LIVE_DEPTH 32       /* frames kept per stack, innermost first */
#define PROF_LIVE_MODULES 1024   /* loaded objects */
#define PROF_LIVE_STRINGS 262144 /* their paths */
#define PROF_LIVE_PATH 1024      /* a snapshot's path */
/* The file name: PROF_LIVE_DIR "/tally-" UID "-" PID. */
#define PROF_LIVE_DIR "/dev/shm"

/* The two lists of stacks: by live bytes now, and by bytes at the peak. */
enum { PROF_LIVE_NOW = 0, PROF_LIVE_AT_PEAK = 1 };

typedef struct {
    int32_t id;
    uint32_t wrapper; /* its blocks are its parent pool's too */
    char name[64];
    int64_t current, peak, live_blocks, total_bytes, total_count;
} prof_live_pool;

typedef struct {
    uint32_t stack; /* the process's stack id: the same stack across publications */
    int32_t pool;
    int64_t bytes, blocks; /* live now */
    int64_t peak_bytes;    /* live at the last global peak */
    uint32_t nframes, truncated;
    uint64_t frames[PROF_LIVE_DEPTH]; /* return addresses */
} prof_live_stack;

typedef struct {
    uint64_t start, end, base; /* what it maps; its load bias */
    uint32_t path;             /* offset into strings */
    uint32_t build_id_len;     /* 0: none */
    uint8_t build_id[32];
} prof_live_module;

typedef struct {
    /* Set once, before the segment is named. */
    uint64_t magic;
    uint32_t version, size; /* size: sizeof(prof_live_segment) */
    int32_t pid;
    uint32_t uid;
    uint64_t proc_start; /* /proc/PID/stat's starttime: tells a reused pid apart */
    int64_t start_realtime_ns;

    /* The reader's request for a snapshot profile, and the answer. */
    _Atomic uint64_t request; /* a new token asks; 0: never asked */
    _Atomic uint64_t served;  /* the last token answered */
    int32_t served_errno;     /* 0: written to request_path */
    char request_path[PROF_LIVE_PATH];

    /* Publications: odd while one is written. */
    _Atomic uint64_t seq;
    uint64_t publications;
    int64_t now_ns; /* since start, CLOCK_MONOTONIC */
    int64_t current, peak, peak_ns;
    int64_t sample_bytes; /* 0: every allocation has its stack */
    uint32_t threads;
    uint32_t npools, nstacks[2], nmodules;
    prof_live_pool pools[PROF_LIVE_POOLS];
    prof_live_stack stacks[2][PROF_LIVE_STACKS];
    prof_live_module modules[PROF_LIVE_MODULES];
    char strings[PROF_LIVE_STRINGS];
} prof_live_segment;

#endif
