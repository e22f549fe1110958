/* reason.c: META's reason in words. */
#include <config.h>

#include "reason.h"

#include "signals.h"

#include <stdio.h>

const char *cli_reason_word(uint32_t reason, char *buf, size_t cap)
{
    static const char *const words[] = {
        [PROF_REASON_EXIT] = "exit",
        [PROF_REASON_DUMP] = "dump",
        [PROF_REASON_DUMP_SIGNAL] = "dump signal",
        [PROF_REASON_CHECKPOINT] = "checkpoint",
        [PROF_REASON_EXEC] = "exec",
        [PROF_REASON_DETACH] = "detach",
    };
    uint32_t kind = prof_reason_kind(reason);
    if (kind == PROF_REASON_FATAL)
        return cli_signal_name(prof_reason_signal(reason), buf, cap);
    if (kind < sizeof words / sizeof words[0])
        snprintf(buf, cap, "%s", words[kind]);
    else
        snprintf(buf, cap, "reason %u", kind);
    return buf;
}

const char *cli_reason_phrase(uint32_t reason, int64_t ns, char *buf, size_t cap)
{
    /* Three decimals for a short run, one past a second: "0.004 s", "30.0 s". */
    double s = (double)ns / 1e9;
    int prec = s < 1 ? 3 : 1;
    char sig[32];
    switch (prof_reason_kind(reason)) {
    case PROF_REASON_EXIT:
        snprintf(buf, cap, "written at exit after %.*f s", prec, s);
        break;
    case PROF_REASON_DUMP:
        snprintf(buf, cap, "written by tally_track_dump at %.*f s", prec, s);
        break;
    case PROF_REASON_DUMP_SIGNAL:
        snprintf(buf, cap, "written on the dump signal at %.*f s", prec, s);
        break;
    case PROF_REASON_CHECKPOINT:
        snprintf(buf, cap, "checkpoint at %.*f s; the process did not exit", prec, s);
        break;
    case PROF_REASON_EXEC:
        snprintf(buf, cap, "written before exec at %.*f s", prec, s);
        break;
    case PROF_REASON_DETACH:
        snprintf(buf, cap, "written at detach after %.*f s; the process went on", prec, s);
        break;
    case PROF_REASON_FATAL:
        snprintf(buf, cap, "written on %s at %.*f s; the process was killed by it",
                 cli_signal_name(prof_reason_signal(reason), sig, sizeof sig), prec, s);
        break;
    default:
        snprintf(buf, cap, "written for an unknown reason (%u) at %.*f s", prof_reason_kind(reason),
                 prec, s);
        break;
    }
    return buf;
}
