/* attach.c: `tally attach [-o FILE] [--duration S] PID` and `tally detach PID`.
 *
 * attach loads the shim into a running process (dlopen, called inside it
 * through inject.c) and calls its tally_attach_start (shim/attach.c), which
 * starts the books and routes the program's allocator calls to the shim.
 * detach calls tally_attach_stop: the profile, the calls routed back,
 * tracking off. The process's exit writes the profile too, and --duration
 * detaches after S seconds. Each message the shim has for the user comes
 * back as a string of the process, read from its memory. */
#include <config.h>

#include "cli.h"
#include "inject.h"
#include "run.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char attach_synopsis[] = "usage: tally attach [options] PID";
static const char detach_synopsis[] = "usage: tally detach PID";

static const cli_option attach_options[] = {
    {"output", required_argument, 'o', "FILE",
     "write the profile to FILE (default tally.NAME.PID.prof here)"},
    {"duration", required_argument, 'd', "S", "detach after S seconds (default: at tally detach)"},
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};

static const cli_option detach_options[] = {
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};

static bool process_alive(pid_t pid)
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

static int parse_pid(const char *cmd, const char *text, pid_t *pid)
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
    if (!process_alive(*pid)) {
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
static void explain_eperm(const char *cmd, pid_t pid)
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
static int call_shim(const char *cmd, pid_t pid, uint64_t fn, const char *arg, char *reply,
                     size_t cap)
{
    inject_session s;
    char why[256];
    int rc = inject_begin(&s, pid, why, sizeof why);
    if (rc == EPERM) {
        explain_eperm(cmd, pid);
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

/* dlopen(shim, RTLD_NOW) inside pid, with dlerror's text on failure. */
static int load_shim(pid_t pid, const char *shim)
{
    uint64_t dlopen_fn, dlerror_fn;
    char libc[PATH_MAX];
    int rc = proc_symbol(pid, "/libc.so.6", "dlopen", &dlopen_fn, libc, sizeof libc);
    if (rc == EACCES || rc == EPERM) { /* its maps are as closed to us as ptrace */
        explain_eperm("attach", pid);
        return CLI_EXIT_BAD_INPUT;
    }
    if (rc != 0 || proc_symbol(pid, "/libc.so.6", "dlerror", &dlerror_fn, NULL, 0) != 0) {
        if (!*libc)
            fprintf(stderr,
                    "tally attach: process %d has no libc.so.6 mapped (a static program?): "
                    "tally attaches to programs linked with glibc\n",
                    (int)pid);
        else
            fprintf(stderr, "tally attach: no dlopen in %s (glibc 2.34 or later is needed)\n",
                    libc);
        return CLI_EXIT_FAILURE;
    }
    inject_session s;
    char why[256];
    rc = inject_begin(&s, pid, why, sizeof why);
    if (rc == EPERM) {
        explain_eperm("attach", pid);
        return CLI_EXIT_BAD_INPUT;
    }
    if (rc != 0) {
        fprintf(stderr, "tally attach: process %d: %s\n", (int)pid, why);
        return CLI_EXIT_FAILURE;
    }
    uint64_t handle = 0, err = 0;
    rc = inject_call(&s, dlopen_fn, shim, RTLD_NOW, &handle, why, sizeof why);
    char text[512] = "";
    if (rc == 0 && handle == 0 &&
        inject_call(&s, dlerror_fn, NULL, 0, &err, why, sizeof why) == 0 && err)
        inject_read_string(&s, err, text, sizeof text);
    inject_end(&s);
    if (rc != 0) {
        fprintf(stderr, "tally attach: process %d: %s\n", (int)pid, why);
        return CLI_EXIT_FAILURE;
    }
    if (handle == 0) {
        fprintf(stderr, "tally attach: process %d could not load %s: %s\n", (int)pid, shim,
                *text ? text : "dlopen failed");
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

static int detach_pid(const char *cmd, pid_t pid)
{
    uint64_t stop;
    char shim[PATH_MAX];
    int rc = proc_symbol(pid, "/libtally-attach.so", "tally_attach_stop", &stop, shim, sizeof shim);
    if (rc != 0) {
        fprintf(stderr, "tally %s: process %d is not attached (tally is not loaded in it)\n", cmd,
                (int)pid);
        return CLI_EXIT_FAILURE;
    }
    char reply[1280];
    rc = call_shim(cmd, pid, stop, NULL, reply, sizeof reply);
    if (rc != 0)
        return rc;
    if (strncmp(reply, "ok", 2) != 0) {
        fprintf(stderr, "tally %s: process %d: %s\n", cmd, (int)pid, reply);
        return CLI_EXIT_FAILURE;
    }
    printf("tally: detached from process %d; profile written to %s\n", (int)pid,
           reply[2] ? reply + 3 : "its output");
    return CLI_EXIT_OK;
}

/* The profile's absolute path: -o's, or tally.NAME.PID.prof here. */
static int output_path(const char *opt, pid_t pid, char *out, size_t cap)
{
    char cwd[PATH_MAX], comm[64] = "prog", name[64];
    if (!getcwd(cwd, sizeof cwd))
        return errno;
    if (!opt) {
        snprintf(name, sizeof name, "/proc/%d/comm", (int)pid);
        FILE *f = fopen(name, "re");
        if (f) {
            if (fgets(comm, sizeof comm, f))
                comm[strcspn(comm, "\n/ ")] = 0;
            fclose(f);
        }
        if ((size_t)snprintf(out, cap, "%s/tally.%s.%d.prof", cwd, comm, (int)pid) >= cap)
            return ENAMETOOLONG;
    } else if (opt[0] == '/') {
        snprintf(out, cap, "%s", opt);
    } else if ((size_t)snprintf(out, cap, "%s/%s", cwd, opt) >= cap) {
        return ENAMETOOLONG;
    }
    if (strchr(out, '\n'))
        return EINVAL;
    return 0;
}

int cmd_attach(int argc, char **argv)
{
    const char *output = NULL;
    double duration = -1;
    int o;
    optind = 1;
    while ((o = cli_getopt(argc, argv, "+:ho:", attach_options)) != -1) {
        switch (o) {
        case 'o':
            output = optarg;
            break;
        case 'd': {
            char *end;
            duration = strtod(optarg, &end);
            if (end == optarg || *end || !(duration > 0) || duration > 1e7) {
                fprintf(stderr, "tally attach: --duration wants seconds above 0, not '%s'\n",
                        optarg);
                return cli_usage_error("attach", attach_synopsis);
            }
            break;
        }
        case 'h':
            cli_help(stdout, attach_synopsis, "ho:", attach_options);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("attach", attach_synopsis);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "tally attach: one process id wanted\n");
        return cli_usage_error("attach", attach_synopsis);
    }
    pid_t pid;
    int rc = parse_pid("attach", argv[optind], &pid);
    if (rc != 0)
        return rc;
    if (proc_maps_has(pid, "/libtally.so") || proc_maps_has(pid, "/libtally-preload.so")) {
        fprintf(stderr,
                "tally attach: process %d has tally's libraries loaded already (tally run, "
                "LD_PRELOAD or linked): its books are kept by that copy, not attachable\n",
                (int)pid);
        return CLI_EXIT_FAILURE;
    }
    if (pid == getpid()) {
        fprintf(stderr, "tally attach: cannot attach to itself\n");
        return CLI_EXIT_BAD_INPUT;
    }
    char shim[PATH_MAX], out[PATH_MAX], args[PATH_MAX + 64];
    if (run_find_lib("libtally-attach.so", shim, sizeof shim) != 0) {
        fprintf(stderr, "tally attach: cannot find libtally-attach.so (set TALLY_ATTACH_LIB)\n");
        return CLI_EXIT_FAILURE;
    }
    rc = output_path(output, pid, out, sizeof out);
    if (rc != 0) {
        fprintf(stderr, "tally attach: -o %s: %s\n", output ? output : "", strerror(rc));
        return CLI_EXIT_BAD_INPUT;
    }
    rc = load_shim(pid, shim);
    if (rc != 0)
        return rc;
    uint64_t start;
    if (proc_symbol(pid, shim, "tally_attach_start", &start, NULL, 0) != 0) {
        fprintf(stderr, "tally attach: process %d loaded %s, but it has no tally_attach_start\n",
                (int)pid, shim);
        return CLI_EXIT_FAILURE;
    }
    snprintf(args, sizeof args, "output=%s\n", out);
    char reply[1280];
    rc = call_shim("attach", pid, start, args, reply, sizeof reply);
    if (rc != 0)
        return rc;
    if (strncmp(reply, "ok", 2) != 0) {
        fprintf(stderr, "tally attach: process %d: %s\n", (int)pid, reply);
        return CLI_EXIT_FAILURE;
    }
    printf("tally: attached to process %d (%s); profile at 'tally detach %d' or its exit: %s\n",
           (int)pid, reply + 3, (int)pid, out);
    fflush(stdout);
    if (duration < 0)
        return CLI_EXIT_OK;
    struct timespec tick = {0, 50 * 1000 * 1000};
    for (double waited = 0; waited < duration; waited += 0.05) {
        if (!process_alive(pid)) {
            printf("tally: process %d exited; its profile was written at exit: %s\n", (int)pid,
                   out);
            return CLI_EXIT_OK;
        }
        nanosleep(&tick, NULL);
    }
    return detach_pid("attach", pid);
}

int cmd_detach(int argc, char **argv)
{
    int o;
    optind = 1;
    while ((o = cli_getopt(argc, argv, "+:h", detach_options)) != -1) {
        if (o == 'h') {
            cli_help(stdout, detach_synopsis, "h", detach_options);
            return CLI_EXIT_OK;
        }
        return cli_usage_error("detach", detach_synopsis);
    }
    if (argc - optind != 1) {
        fprintf(stderr, "tally detach: one process id wanted\n");
        return cli_usage_error("detach", detach_synopsis);
    }
    pid_t pid;
    int rc = parse_pid("detach", argv[optind], &pid);
    if (rc != 0)
        return rc;
    return detach_pid("detach", pid);
}
