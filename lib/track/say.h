/* say.h: a line of text to a descriptor, for tally's own messages. */
#ifndef TALLY_TRACK_SAY_H
#define TALLY_TRACK_SAY_H

#include "track/config.h"

/* Writes a formatted line (at most 1 KiB) to fd with write(2): not stdio,
 * whose buffer and locks are the program's. */
void tt_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
