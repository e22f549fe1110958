/* tally.c: the `tally` command: run a program under the preload shim,
 * report on a profile, or compare two; and the option parsing the
 * subcommands share. */
#include <config.h>

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_count(const char *cmd, const char *opt, const char *wants, const char *text, long lo,
                    long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        fprintf(stderr, "tally %s: --%s wants %s, not '%s'\n", cmd, opt, wants, text);
        return -1;
    }
    *out = v;
    return 0;
}

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
        return CLI_EXIT_BAD_INPUT;
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
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("tally %s\n", PACKAGE_VERSION);
        return CLI_EXIT_OK;
    }
    fprintf(stderr, "tally: unknown command '%s'\n", cmd);
    usage(stderr);
    return CLI_EXIT_BAD_INPUT;
}
