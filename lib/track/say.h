/* say.h: tally's own messages, on a descriptor tally owns.
 *
 * At start tally takes a duplicate of stderr above the low numbers, marked
 * close-on-exec, and writes every message of its own there: a program that
 * closes fd 2 and opens a data file (which then gets fd 2) never finds
 * tally's lines in its data. */
#ifndef TALLY_TRACK_SAY_H
#define TALLY_TRACK_SAY_H

#include "track/config.h"

/* tally_track_say_init, _fd, _to and _text: api.h (the shim calls them). */

/* Writes a formatted line (at most 1 KiB) to fd with write(2): not stdio,
 * whose buffer and locks are the program's. Nothing when fd < 0. */
void tt_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
