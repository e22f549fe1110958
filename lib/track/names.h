/* names.h: stacks printed with function names and file:line in the
 * process (the exit summary, a destroyed pool's listing). */
#ifndef TALLY_TRACK_NAMES_H
#define TALLY_TRACK_NAMES_H

#include "track/config.h"

typedef struct tt_names tt_names;

/* A symbolizer over the objects loaded now, or NULL when libdw cannot be
 * loaded (or memory is short): the stacks are then printed with dladdr's
 * names. Allocates: never on the hot path. */
tt_names *tt_names_open(void);
void tt_names_close(tt_names *n);
/* Writes an interned stack's frames to fd, one line each, inlined frames
 * included: "    #3 0x55d0c8e0a1b5 in parse_args src/args.c:42". n may be
 * NULL (dladdr). */
void tt_names_print_stack(int fd, tt_names *n, uint32_t stack);

#endif
