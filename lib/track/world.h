/* world.h: the other threads of the process, stopped for the leak check.
 *
 * A pointer may live only in another thread's registers or on its stack
 * while that thread runs: to see it, the thread must stand still and its
 * registers must be read. As LeakSanitizer does, a helper task sharing our
 * memory (clone without CLONE_THREAD) attaches to every other thread with
 * ptrace, reads its registers and holds it until the check is done. No
 * signal handler is installed and no signal reaches the program: a signal
 * that arrives meanwhile is handed back to its thread on detach. Where
 * ptrace is refused (a sandbox), the threads run on and are scanned as
 * they are, without their registers. */
#ifndef TALLY_TRACK_WORLD_H
#define TALLY_TRACK_WORLD_H

#include "track/config.h"

#include <sys/types.h>
#include <sys/user.h>

typedef struct {
    pid_t tid;
    bool stopped;       /* regs are valid */
    int pending_signal; /* caught while stopping it: handed back on resume */
    struct user_regs_struct regs;
} tt_world_thread;

typedef struct {
    pid_t tracer;
    void *tracer_stack;
    _Atomic int stage;
    int n;
    tt_world_thread threads[]; /* every thread but the caller */
} tt_world;

/* Stops every other thread; NULL when there is none (or no memory).
 * Threads that could not be stopped have stopped == false. Takes no lock
 * and does not allocate through malloc: the state is mmap'd, and shared
 * with the helper. */
tt_world *tt_world_stop(void);
/* Lets them run again and frees the state (unless the helper did not
 * answer: then its memory is left to it). */
void tt_world_resume(tt_world *w);

#endif
