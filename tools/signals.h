/* signals.h: signal names both ways, as kill(1) spells them, for
 * `tally run --dump-signal` and for reports that say which signal a
 * profile was written on. */
#ifndef TALLY_TOOLS_SIGNALS_H
#define TALLY_TOOLS_SIGNALS_H

#include <stddef.h>

/* "TERM", "SIGTERM", "term", "RTMIN+3", "SIGRTMAX-1" or a number: the
 * signal, or -1 for anything that is not one of this system's (glibc's
 * own two real-time signals, 32 and 33, are not the program's). */
int cli_signal_parse(const char *text);
/* "SIGTERM", "SIGRTMIN+3", or "signal 99" for a number with no name. */
const char *cli_signal_name(int sig, char *buf, size_t cap);
/* The names, for messages: "HUP, INT, ..., SYS, RTMIN+N, RTMAX-N";
 * without KILL and STOP when catchable_only. */
void cli_signal_list(char *buf, size_t cap, int catchable_only);

#endif
