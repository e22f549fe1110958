/* dump.h: writing a profile and the exit summary. */
#ifndef TALLY_TRACK_DUMP_H
#define TALLY_TRACK_DUMP_H

#include "track/snapshot.h"

#include <stdbool.h>
#include <stddef.h>

enum { TT_REASON_EXIT = 0, TT_REASON_DUMP = 1, TT_REASON_SIGNAL = 2 };
/* Writes a snapshot now: the one path every dump takes (dump.c). Exit
 * dumps print the summary too. */
int tt_dump(const char *path, int reason);
void tt_dump_lock(void);
void tt_dump_unlock(void);
void tt_dump_fork_child(void);

/* profile_write.c */
int tt_profile_write(const tt_snapshot *s, const char *path, int reason);
/* TALLY_OUTPUT's pattern with %p (pid), %e (program name), %% expanded. */
void tt_expand_output(const char *pattern, char *out, size_t cap);

/* summary.c */
void tt_summary_print(const tt_snapshot *s, const char *path, bool wrote);

#endif
