/* reason.h: why a profile was written (META's reason, docs/FORMAT.md),
 * in words, for the text report and `tally run`'s table. */
#ifndef TALLY_TOOLS_REASON_H
#define TALLY_TOOLS_REASON_H

#include <stddef.h>
#include <stdint.h>

/* The low 8 bits of META's reason; bits 8..15 hold the signal for
 * CLI_REASON_FATAL_SIGNAL. */
enum {
    CLI_REASON_EXIT = 0,
    CLI_REASON_DUMP = 1,        /* tally_track_dump() */
    CLI_REASON_DUMP_SIGNAL = 2, /* the program went on */
    CLI_REASON_CHECKPOINT = 3,  /* the last one left: the process never wrote another */
    CLI_REASON_EXEC = 4,        /* written just before the image called exec */
    CLI_REASON_FATAL_SIGNAL = 5 /* written, then the signal killed the process */
};

static inline uint32_t cli_reason_kind(uint32_t reason)
{
    return reason & 0xff;
}

/* The signal of a CLI_REASON_FATAL_SIGNAL profile; 0 for any other. */
static inline int cli_reason_signal(uint32_t reason)
{
    return cli_reason_kind(reason) == CLI_REASON_FATAL_SIGNAL ? (int)(reason >> 8 & 0xff) : 0;
}

/* How the profile's process image ended, in a word or two: "exit",
 * "dump", "dump signal", "checkpoint", "exec", "SIGTERM". */
const char *cli_reason_word(uint32_t reason, char *buf, size_t cap);
/* A sentence for people, with the time since tracking started:
 * "written at exit after 2.000 s", "checkpoint at 30.0 s; the process did
 * not exit", "written on SIGTERM at 12.3 s; the process was killed by it",
 * "written before exec at 1.2 s". */
const char *cli_reason_phrase(uint32_t reason, int64_t ns, char *buf, size_t cap);

#endif
