/* attach.c: `tally attach [-o FILE] [--duration S] PID`.
 *
 * Loads libtally-attach.so into a running process (dlopen, called inside
 * it through inject.c) and calls its tally_attach_start (shim/attach.c),
 * which starts the books and routes the program's allocator calls to the
 * shim. tally detach (detach.c) ends it; so does the process's exit, and
 * --duration detaches after S seconds. Each message the shim has for the
 * user comes back as a string of the process, read from its memory. */
#include <config.h>

#include "attach.h"
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

static const cli_option attach_options[] = {
    {"output", required_argument, 'o', "FILE",
     "write the profile to FILE (default tally.NAME.PID.prof here)"},
    {"duration", required_argument, 'd', "S", "detach after S seconds (default: at tally detach)"},
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};

/* dlopen(shim, RTLD_NOW) inside pid, with dlerror's text on failure. */
static int load_shim(pid_t pid, const char *shim)
{
    uint64_t dlopen_fn, dlerror_fn;
    char libc[PATH_MAX];
    int rc = proc_symbol(pid, "/libc.so.6", "dlopen", &dlopen_fn, libc, sizeof libc);
    if (rc == EACCES || rc == EPERM) { /* its maps are as closed to us as ptrace */
        attach_explain_eperm("attach", pid);
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
        attach_explain_eperm("attach", pid);
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
    int rc = attach_parse_pid("attach", argv[optind], &pid);
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
    rc = attach_call_shim("attach", pid, start, args, reply, sizeof reply);
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
        if (!attach_process_alive(pid)) {
            printf("tally: process %d exited; its profile was written at exit: %s\n", (int)pid,
                   out);
            return CLI_EXIT_OK;
        }
        nanosleep(&tick, NULL);
    }
    return attach_detach_pid("attach", pid);
}
