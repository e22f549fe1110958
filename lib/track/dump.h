/* dump.h: writing a profile and the exit summary. */
#ifndef TALLY_TRACK_DUMP_H
#define TALLY_TRACK_DUMP_H

#include "track/snapshot.h"

#include <stdbool.h>
#include <stddef.h>
#include <ucontext.h>

/* Why a profile was written: META's reason (docs/FORMAT.md). A fatal
 * signal's number rides in bits 8-15: TT_REASON_FATAL | sig << 8. */
enum {
    TT_REASON_EXIT = 0,
    TT_REASON_DUMP = 1,       /* tally_track_dump */
    TT_REASON_SIGNAL = 2,     /* the dump signal */
    TT_REASON_CHECKPOINT = 3, /* TALLY_CHECKPOINT */
    TT_REASON_EXEC = 4,       /* just before exec replaced the image */
    TT_REASON_FATAL = 5,      /* a fatal signal: the process ends next */
};
/* Writes a snapshot now: the one path every dump takes (dump.c). Exit
 * dumps print the summary too. `caller` holds the registers of the program
 * code that asked for the dump, taken in tally's outermost frame (NULL when
 * no program code asked: a checkpoint, the dump signal): the leak check scans the
 * calling thread from there up, never tally's own frames below it, whose
 * uninitialised slots may hold stale copies of the program's pointers. */
int tt_dump(const char *path, int reason, const ucontext_t *caller);
void tt_dump_lock(void);
void tt_dump_unlock(void);
void tt_dump_fork_child(void);

/* profile_write.c: the profile of s, published under the pattern's name
 * (output.h), which `path` receives: 0 or an errno value. */
int tt_profile_write(const tt_snapshot *s, const char *pattern, int reason, char *path, size_t cap);

/* summary.c */
void tt_summary_print(const tt_snapshot *s, const char *path, bool wrote);

#endif
