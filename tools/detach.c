/* detach.c: `tally detach PID`: the shim's tally_attach_stop called in
 * the process (shim/attach.c): the profile written, the allocator calls
 * routed back to glibc, tracking off. tally attach --duration ends so. */
#include <config.h>

#include "attach.h"
#include "cli.h"
#include "inject.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char detach_synopsis[] = "usage: tally detach PID";

static const cli_option detach_options[] = {
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};

int attach_detach_pid(const char *cmd, pid_t pid)
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
    rc = attach_call_shim(cmd, pid, stop, NULL, reply, sizeof reply);
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
    int rc = attach_parse_pid("detach", argv[optind], &pid);
    if (rc != 0)
        return rc;
    return attach_detach_pid("detach", pid);
}
