/* config.h: the tracking core's settings and what every file of it shares.
 *
 * Settings come from tally_track_start's options or the TALLY_* environment
 * (config.c is the one parser of both), and are fixed while tracking runs.
 * They are read at start, never later: at exit, the shim has run glibc's
 * __libc_freeres, which empties the environment. */
#ifndef TALLY_TRACK_CONFIG_H
#define TALLY_TRACK_CONFIG_H

#include <config.h> /* _GNU_SOURCE: mremap, dladdr, pthread_getattr_np */

#include "base/assert.h"
#include "track/api.h"

#include <tally/track.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define TT_TLS __attribute__((tls_model("initial-exec")))
#define TT_LIKELY(x) __builtin_expect(!!(x), 1)
#define TT_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TT_MAX_DEPTH 256
#define TT_DEFAULT_DEPTH 64
#define TT_NBUCKETS 64 /* size histogram: one bucket per power of two */

enum { TT_REPORT_SUMMARY, TT_REPORT_FULL, TT_REPORT_NONE };
/* TALLY_UNWIND: tally's own unwinder with libunwind behind it (the default),
 * libunwind alone, frame pointers, or both unwinders compared on every
 * capture (a test of the first: the mismatches are counted and reported). */
enum { TT_UNWIND_FAST, TT_UNWIND_LIBUNWIND, TT_UNWIND_FP, TT_UNWIND_CHECK };
/* TALLY_LEAK_CHECK: when the leaks are classified (mark.c). */
enum { TT_LEAK_CHECK_EXIT, TT_LEAK_CHECK_ALL, TT_LEAK_CHECK_OFF };

typedef struct {
    int depth;
    int64_t sample_bytes; /* 0: full tracking; else the mean sampling distance */
    int interval_ms;
    int64_t checkpoint_ns; /* TALLY_CHECKPOINT: 0, none */
    int report;
    int leak_check;
    bool leak_addresses; /* TALLY_LEAK_ADDRESSES: each leaked block's address in the profile */
    int unwind;          /* TALLY_UNWIND: a TT_UNWIND_* */
    bool shadow_allowed; /* TALLY_SHADOW is not 0 */
    bool mmap;           /* TALLY_MMAP: the program's anonymous mappings too (mappings.h) */
    bool live;           /* TALLY_LIVE: publish for `tally top` (publish.c) */
    bool started;        /* ever started: the exit profile is due */
    bool attached;       /* started by tally attach: glibc's heap holds blocks of before */
    int64_t start_realtime_ns;
    int64_t start_ns; /* CLOCK_MONOTONIC */
    /* Per-stack counts are kept in units of 1/count_scale, so that sampled
     * weights, which are fractional, stay unbiased. 1 when not sampling. */
    int64_t count_scale;
    char output[1024];
} tt_config;
extern tt_config tt_cfg;

/* Fills tt_cfg from opts, or from the environment when opts is NULL. */
void tt_configure(const tally_track_options *opts);

/* TALLY_CHECKPOINT's value, in ns: seconds ("10", "1.5", "10s"), or with
 * ms, m or h; -1 when it is not a positive duration. */
int64_t tt_parse_duration(const char *s);

/* A size with an optional k, m or g suffix (powers of 1024); dflt when s is
 * NULL, empty or not a number. */
int64_t tt_parse_size(const char *s, int64_t dflt);

static inline bool tt_sampling(void)
{
    return tt_cfg.sample_bytes > 0;
}

int64_t tt_now_ns(void); /* CLOCK_MONOTONIC */

#endif
