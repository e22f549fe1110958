/* mark.h: valgrind memcheck's leak classes, by a conservative mark. */
#ifndef TALLY_TRACK_MARK_H
#define TALLY_TRACK_MARK_H

#include "track/snapshot.h"

/* Classifies every leak of s (sets each one's kind and s->classified),
 * stopping the process's other threads while it scans. 0, or ENOMEM (then s is left unclassified). */
int tt_mark_classify(tt_snapshot *s);

/* ---- roots.c: where the mark starts ------------------------------------------- */
typedef struct {
    uintptr_t lo, hi;
} tt_range;

/* The readable mappings of the process, in address order, from
 * /proc/self/maps; and the writable segments of every loaded module but
 * tally's own and its allocator's. Both mmap'd; count in *n. */
tt_range *tt_roots_readable(size_t *n, size_t *map_bytes);
tt_range *tt_roots_modules(size_t *n, size_t *map_bytes);
/* The static TLS block's size below the thread pointer (glibc's
 * _dl_get_tls_static_info), or a guess when it is not there. */
size_t tt_roots_static_tls(void);

#endif
