/* mark.h: valgrind memcheck's leak classes, by a conservative mark. */
#ifndef TALLY_TRACK_MARK_H
#define TALLY_TRACK_MARK_H

#include "track/snapshot.h"

#include "base/mem.h"

#include <ucontext.h>

/* Classifies every leak of s (sets each one's kind and s->classified),
 * stopping the process's other threads while it scans. The calling
 * thread's roots are caller's registers and its stack from caller up
 * (tt_dump says why); none when caller is NULL. 0, or ENOMEM (then s is left unclassified). */
int tt_mark_classify(tt_snapshot *s, const ucontext_t *caller);

/* ---- roots.c: where the mark starts ------------------------------------------- */

/* Mappings of the process from /proc/self/maps, in address order: every
 * readable one; the writable anonymous ones and the brk heap (memory the
 * program mapped itself, which memcheck scans as roots: an interpreter's
 * arenas, a compiler's GC pages); the readable file-backed ones; the
 * executable file-backed ones (where a vtable's entries point).
 * And the writable segments of every loaded module but tally's own and its
 * allocator's, libc's first (*nlibc of them). All mmap'd; count in *n. */
enum { TT_MAPS_READABLE, TT_MAPS_ANONYMOUS, TT_MAPS_FILE, TT_MAPS_TEXT };
base_range *tt_roots_maps(int which, size_t *n, size_t *map_bytes);
base_range *tt_roots_modules(size_t *n, size_t *nlibc, size_t *map_bytes);
/* The static TLS block's size below the thread pointer (glibc's
 * _dl_get_tls_static_info), or a guess when it is not there. */
size_t tt_roots_static_tls(void);

#endif
