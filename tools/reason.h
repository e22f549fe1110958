/* reason.h: why a profile was written (META's reason, docs/FORMAT.md),
 * in words, for the text report and `tally run`'s table. */
#ifndef TALLY_TOOLS_REASON_H
#define TALLY_TOOLS_REASON_H

#include "profile/format.h"

#include <stddef.h>
#include <stdint.h>

/* How the profile's process image ended, in a word or two: "exit",
 * "dump", "dump signal", "checkpoint", "exec", "SIGTERM". */
const char *cli_reason_word(uint32_t reason, char *buf, size_t cap);
/* A sentence for people, with the time since tracking started:
 * "written at exit after 2.000 s", "checkpoint at 30.0 s; the process did
 * not exit", "written on SIGTERM at 12.3 s; the process was killed by it",
 * "written before exec at 1.2 s". */
const char *cli_reason_phrase(uint32_t reason, int64_t ns, char *buf, size_t cap);

#endif
