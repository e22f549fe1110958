/* attach_target.c: the process tally attach and detach work on: its pid
 * checked, ptrace's EPERM explained in one message, and a call of one of
 * the shim's entry points (they answer with a string of the process). */
#include <config.h>

#include "attach.h"
#include "cli.h"
#include "inject.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool attach_process_alive(pid_t pid)
{
    char name[64], state = 0;
    snprintf(name, sizeof name, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(name, "re");
    if (!f)
        return false;
    /* pid (comm) state: comm may hold spaces and parentheses */
    char line[1024];
    if (fgets(line, sizeof line, f)) {
        char *close = strrchr(line, ')');
        if (close && close[1] == ' ')
            state = close[2];
    }
    fclose(f);
    return state && state != 'Z' && state != 'X';
}

int attach_parse_pid(const char *cmd, const char *text, pid_t *pid)
{
    long v;
    char *end;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v <= 0 || v > INT32_MAX) {
        fprintf(stderr, "tally %s: '%s' is not a process id\n", cmd, text);
        return CLI_EXIT_BAD_INPUT;
    }
    *pid = (pid_t)v;
    if (!attach_process_alive(*pid)) {
        fprintf(stderr, "tally %s: no process %ld\n", cmd, v);
        return CLI_EXIT_BAD_INPUT;
    }
    return 0;
}

/* A field of /proc/PID/status ("Uid:", "TracerPid:"): its first number. */
static long status_field(pid_t pid, const char *key)
{
    char name[64], line[256];
    snprintf(name, sizeof name, "/proc/%d/status", (int)pid);
    FILE *f = fopen(name, "re");
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0) {
            v = strtol(line + n, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return v;
}

static bool have_cap_sys_ptrace(void)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "re");
    unsigned long long caps = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "CapEff:", 7) == 0)
            caps = strtoull(line + 7, NULL, 16);
    if (f)
        fclose(f);
    return caps & (1ULL << 19); /* CAP_SYS_PTRACE */
}

/* ptrace said EPERM: one message that says why and what to change. */
void attach_explain_eperm(const char *cmd, pid_t pid)
{
    fprintf(stderr, "tally %s: not permitted to trace process %d (ptrace: %s): ", cmd, (int)pid,
            strerror(EPERM));
    long tracer = status_field(pid, "TracerPid:");
    long uid = status_field(pid, "Uid:");
    int scope = -1;
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (f) {
        if (fscanf(f, "%d", &scope) != 1)
            scope = -1;
        fclose(f);
    }
    bool cap = have_cap_sys_ptrace();
    if (tracer > 0)
        fprintf(stderr,
                "it is traced already, by process %ld (a debugger, strace, another tally attach): "
                "end or detach that first\n",
                tracer);
    else if (uid >= 0 && (uid_t)uid != geteuid() && !cap)
        fprintf(stderr,
                "it belongs to user %ld and you are user %ld: run tally %s as that user, or as "
                "root\n",
                uid, (long)geteuid(), cmd);
    else if (scope == 3)
        fprintf(stderr, "Yama's kernel.yama.ptrace_scope is 3: no process may be traced until "
                        "the next boot\n");
    else if (scope == 2 && !cap)
        fprintf(stderr,
                "Yama's kernel.yama.ptrace_scope is 2: only with CAP_SYS_PTRACE: run tally %s as "
                "root\n",
                cmd);
    else if (scope == 1 && !cap)
        fprintf(stderr,
                "Yama's kernel.yama.ptrace_scope is 1: only a process's ancestors may trace it: "
                "run tally %s as root (or with CAP_SYS_PTRACE), or allow it with "
                "'sysctl kernel.yama.ptrace_scope=0'\n",
                cmd);
    else
        fprintf(stderr,
                "a missing capability (CAP_SYS_PTRACE, or the process is not dumpable) or a "
                "security module (SELinux, AppArmor, a container's seccomp profile) forbids it: "
                "run tally %s as root, or give the container --cap-add=SYS_PTRACE\n",
                cmd);
}

/* Calls fn(str) inside pid and reads back the string it returns. */
int attach_call_shim(const char *cmd, pid_t pid, uint64_t fn, const char *arg, char *reply,
                     size_t cap)
{
    inject_session s;
    char why[256];
    int rc = inject_begin(&s, pid, why, sizeof why);
    if (rc == EPERM) {
        attach_explain_eperm(cmd, pid);
        return CLI_EXIT_BAD_INPUT;
    }
    if (rc != 0) {
        fprintf(stderr, "tally %s: process %d: %s\n", cmd, (int)pid, why);
        return CLI_EXIT_FAILURE;
    }
    uint64_t ret = 0;
    rc = inject_call(&s, fn, arg, 0, &ret, why, sizeof why);
    if (rc == 0 && (ret == 0 || inject_read_string(&s, ret, reply, cap) != 0))
        snprintf(reply, cap, "no answer from the shim");
    inject_end(&s);
    if (rc != 0) {
        fprintf(stderr, "tally %s: process %d: %s\n", cmd, (int)pid, why);
        return CLI_EXIT_FAILURE;
    }
    return 0;
}
