/* tally.c: the `tally` command: run a program under the preload shim,
 * report on a profile, or compare two. */
#include <config.h>

#include "report.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: tally run [options] -- PROGRAM [ARGS]\n"
               "       tally report FILE [--format text|json|folded|massif|pprof|html] [options]\n"
               "       tally diff A B\n"
               "See tally(1).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TALLY_EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "diff"))
        return cmd_diff(argc - 1, argv + 1);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("tally %s\n", PACKAGE_VERSION);
        return 0;
    }
    fprintf(stderr, "tally: unknown command '%s'\n", cmd);
    usage(stderr);
    return TALLY_EXIT_BAD_INPUT;
}
