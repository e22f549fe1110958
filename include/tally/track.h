/* tally/track.h: tracking, from inside the program.
 *
 * While tracking is on, every allocation through a pool (and, under the
 * preload shim, every malloc) is booked to its pool and to its call stack.
 * At exit, on tally_track_dump() or on the dump signal, a profile is written
 * (docs/FORMAT.md) and, at exit, a summary of the leaks goes to stderr.
 * A program that links libtally and runs with TALLY_TRACK=1 tracks from its
 * first allocation, with no code change. */
#ifndef TALLY_TRACK_H
#define TALLY_TRACK_H

#include <tally/pool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int depth;            /* frames kept per stack; default 64, at most 256 */
    int64_t sample_bytes; /* 0: a stack for every allocation; N: sample by bytes, mean N */
    const char
        *output;     /* profile path; %p = pid, %e = executable name; default "tally.%e.%p.prof" */
    int interval_ms; /* time-series period; default 10; 0 = none */
} tally_track_options;

/* NULL: the defaults, overridden by the TALLY_* environment (TALLY_DEPTH,
 * TALLY_SAMPLE, TALLY_OUTPUT, TALLY_INTERVAL). With options, a zero depth or
 * a NULL output means the default. EBUSY when tracking is already on. */
TALLY_API int tally_track_start(const tally_track_options *opts);
/* Stops booking. The books are kept: the exit profile still reports them. */
TALLY_API void tally_track_stop(void);
TALLY_API bool tally_track_active(void);
/* Writes a profile now; NULL = the configured output. 0 or an errno value;
 * EINVAL when tracking never started. */
TALLY_API int tally_track_dump(const char *path);

/* Charges this thread's untyped allocations (malloc, under the shim) to pool,
 * until the matching pop. Scopes nest (up to 64; EOVERFLOW beyond). */
TALLY_API int tally_scope_push(tally_pool *pool);
TALLY_API void tally_scope_pop(void);

#ifdef __cplusplus
}
#endif

#endif /* TALLY_TRACK_H */
