/* attach.h: what tally attach (attach.c) and tally detach (detach.c)
 * share (attach_target.c). */
#ifndef TALLY_TOOLS_ATTACH_H
#define TALLY_TOOLS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The process exists and is not a zombie. */
bool attach_process_alive(pid_t pid);
/* A pid argument of tally CMD: 0, or a message and CLI_EXIT_BAD_INPUT. */
int attach_parse_pid(const char *cmd, const char *text, pid_t *pid);
/* ptrace was not permitted: one line on stderr, why and what to change. */
void attach_explain_eperm(const char *cmd, pid_t pid);
/* Calls the shim's fn(arg) inside pid; its answer in reply. 0, or the
 * message said and the exit status (CLI_EXIT_BAD_INPUT for EPERM). */
int attach_call_shim(const char *cmd, pid_t pid, uint64_t fn, const char *arg, char *reply,
                     size_t cap);
/* tally detach's work, for tally CMD: the exit status. */
int attach_detach_pid(const char *cmd, pid_t pid);

#endif
