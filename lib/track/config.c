/* config.c: the TALLY_* settings, parsed in one place. */
#include "track/config.h"

#include "track/output.h"
#include "track/say.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

TALLY_INTERNAL _Atomic int tally_track_on;
TALLY_INTERNAL bool tally_track_sampled_run;
tt_config tt_cfg = {.depth = TT_DEFAULT_DEPTH, .interval_ms = 10, .count_scale = 1};

int64_t tt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t tt_parse_size(const char *s, int64_t dflt)
{
    if (!s || !*s)
        return dflt;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0)
        return dflt;
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        break;
    default:
        break;
    }
    return v;
}

int64_t tt_parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    double unit = 1e9;
    if (strcmp(end, "ms") == 0)
        unit = 1e6;
    else if (strcmp(end, "m") == 0)
        unit = 60e9;
    else if (strcmp(end, "h") == 0)
        unit = 3600e9;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    if (end == s || !(v > 0) || v * unit > 1e18)
        return -1;
    return (int64_t)(v * unit);
}

void tt_configure(const tally_track_options *opts)
{
    const char *output = NULL;
    tt_cfg.depth = TT_DEFAULT_DEPTH;
    tt_cfg.sample_bytes = 0;
    tt_cfg.interval_ms = 10;
    if (opts) {
        if (opts->depth > 0)
            tt_cfg.depth = opts->depth;
        tt_cfg.sample_bytes = opts->sample_bytes > 0 ? opts->sample_bytes : 0;
        tt_cfg.interval_ms = opts->interval_ms >= 0 ? opts->interval_ms : 10;
        output = opts->output;
    } else {
        tt_cfg.depth = (int)tt_parse_size(getenv("TALLY_DEPTH"), TT_DEFAULT_DEPTH);
        tt_cfg.sample_bytes = tt_parse_size(getenv("TALLY_SAMPLE"), 0);
        tt_cfg.interval_ms = (int)tt_parse_size(getenv("TALLY_INTERVAL"), 10);
        output = getenv("TALLY_OUTPUT");
    }
    if (tt_cfg.depth <= 0)
        tt_cfg.depth = TT_DEFAULT_DEPTH;
    if (tt_cfg.depth > TT_MAX_DEPTH)
        tt_cfg.depth = TT_MAX_DEPTH;
    tt_cfg.count_scale = tt_cfg.sample_bytes > 0 ? 1024 : 1;
    tally_track_sampled_run = tt_cfg.sample_bytes > 0;
    snprintf(tt_cfg.output, sizeof tt_cfg.output, "%s",
             output && *output ? output : "tally.%e.%p.prof");
    /* Resolved once, now: a process that chdir()s later, and its forked
     * children, still write to the directory the run started in. */
    tt_output_resolve(tt_cfg.output, sizeof tt_cfg.output);

    /* Checkpoints: a profile replaced every so often, so that a SIGKILL or
     * the OOM killer leaves the last one (service.c). */
    const char *checkpoint = getenv("TALLY_CHECKPOINT");
    tt_cfg.checkpoint_ns = 0;
    if (checkpoint && *checkpoint && strcmp(checkpoint, "0") != 0) {
        tt_cfg.checkpoint_ns = tt_parse_duration(checkpoint);
        if (tt_cfg.checkpoint_ns < 0) {
            tt_say(tally_track_say_fd(),
                   "tally: TALLY_CHECKPOINT=%s: not a duration (10, 1.5s, 500ms, 2m): no "
                   "checkpoints\n",
                   checkpoint);
            tt_cfg.checkpoint_ns = 0;
        }
    }

    const char *report = getenv("TALLY_REPORT");
    tt_cfg.report = TT_REPORT_SUMMARY;
    if (report && strcmp(report, "full") == 0)
        tt_cfg.report = TT_REPORT_FULL;
    else if (report && strcmp(report, "none") == 0)
        tt_cfg.report = TT_REPORT_NONE;
    /* exit (the default): classify the leaks at exit; all: at every dump
     * too; off: never (leaks are only "live"). */
    const char *check = getenv("TALLY_LEAK_CHECK");
    tt_cfg.leak_check = TT_LEAK_CHECK_EXIT;
    if (check && strcmp(check, "all") == 0)
        tt_cfg.leak_check = TT_LEAK_CHECK_ALL;
    else if (check && (strcmp(check, "off") == 0 || strcmp(check, "0") == 0))
        tt_cfg.leak_check = TT_LEAK_CHECK_OFF;
    /* 20 bytes a block more in the profile: off unless asked for (a
     * debugger, a heap dump). */
    const char *addresses = getenv("TALLY_LEAK_ADDRESSES");
    tt_cfg.leak_addresses = addresses && *addresses && *addresses != '0';
    const char *unwind = getenv("TALLY_UNWIND");
    tt_cfg.unwind = !unwind                            ? TT_UNWIND_FAST
                    : strcmp(unwind, "fp") == 0        ? TT_UNWIND_FP
                    : strcmp(unwind, "libunwind") == 0 ? TT_UNWIND_LIBUNWIND
                    : strcmp(unwind, "check") == 0     ? TT_UNWIND_CHECK
                                                       : TT_UNWIND_FAST;
    const char *shadow = getenv("TALLY_SHADOW");
    tt_cfg.shadow_allowed = !(shadow && shadow[0] == '0');
    /* The preload shim books the program's own anonymous private mappings
     * in the pool "mmap" (shim/entry_mmap.c, mappings.h); off by default. */
    const char *mmap = getenv("TALLY_MMAP");
    tt_cfg.mmap = mmap && *mmap && strcmp(mmap, "0") != 0;
    /* The live view's segment (publish.c): off unless asked for. */
    const char *live = getenv("TALLY_LIVE");
    tt_cfg.live = live && *live && *live != '0';
}
