/* inject.h: calling a function inside another running process (tally
 * attach and detach). proc_elf.c finds the function: a mapped object's
 * load address in /proc/PID/maps and a symbol in the object's dynamic
 * symbol table, read from the file the process mapped. inject.c makes the
 * call with ptrace on one of the process's threads, stopped at a moment
 * when it holds none of glibc's allocator or loader locks, and puts the
 * thread back exactly as it was. */
#ifndef TALLY_TOOLS_INJECT_H
#define TALLY_TOOLS_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

/* ---- proc_elf.c -------------------------------------------------------------- */
/* The address in process pid of symbol `name` of the mapped object whose
 * path contains `object` (a path fragment such as "/libc.so.6", or a whole
 * path). 0, ENOENT when the object is not mapped (path_out empty) or has no
 * such symbol, or another errno value. path_out, when not NULL, receives
 * the object's path. */
int proc_symbol(pid_t pid, const char *object, const char *name, uint64_t *addr, char *path_out,
                size_t cap);
/* True when a mapping of pid's path contains `object`. */
bool proc_maps_has(pid_t pid, const char *object);

/* ---- inject.c ---------------------------------------------------------------- */
typedef struct {
    pid_t pid, tid;
    struct user_regs_struct regs; /* the thread's registers when it was stopped */
    unsigned char xstate[16384];  /* its FPU, SSE and AVX state */
    size_t xstate_len;
    int pending_sig; /* a signal that was being delivered when it stopped */
    int mem;         /* /proc/PID/mem */
    bool seized;
    sigset_t held; /* the tool's signal mask before: put back at the end */
} inject_session;

/* Stops a thread of pid at a safe moment (not inside glibc or the loader,
 * not in the middle of brk, mmap and their kin), retrying for a while. 0;
 * or an errno value with a reason in why: EPERM from ptrace, ESRCH, EAGAIN
 * when no thread came to a safe moment. */
int inject_begin(inject_session *s, pid_t pid, char *why, size_t cap);
/* Calls fn(str copied to the thread's stack or NULL, a1) in the stopped
 * thread and returns its rax in *ret. 0, or an errno value with why. */
int inject_call(inject_session *s, uint64_t fn, const char *str, uint64_t a1, uint64_t *ret,
                char *why, size_t cap);
/* Reads a NUL-terminated string of the process. */
int inject_read_string(inject_session *s, uint64_t addr, char *out, size_t cap);
/* Puts the thread's registers back (a system call it was in restarts as
 * if nothing happened) and lets it go. Between inject_begin and this, the
 * signals that would end tally (INT, TERM, HUP, QUIT) are held: tally
 * ending there would leave the thread to return from the call into
 * address 0 and die. */
void inject_end(inject_session *s);

#endif
