/* tally.c: the `tally` command: run a program under the preload shim,
 * report on a profile, or compare two; and the option parsing the
 * subcommands share. */
#include <config.h>

#include "cli.h"

#include <errno.h>
#include <getopt.h>
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

int cli_getopt(int argc, char **argv, const char *shortopts, const cli_option *table)
{
    /* getopt_long keeps its place in argv between calls, not in the array
     * of options: it is built again only for another table. */
    static struct option longs[CLI_MAX_OPTIONS + 1];
    static const cli_option *built;
    if (built != table) {
        size_t n = 0;
        for (; table[n].name && n < CLI_MAX_OPTIONS; n++)
            longs[n] = (struct option){table[n].name, table[n].has_arg, NULL, table[n].val};
        longs[n] = (struct option){NULL, 0, NULL, 0};
        built = table;
    }
    opterr = 0; /* tally's own messages, below */
    int o = getopt_long(argc, argv, shortopts, longs, NULL);
    if (o == '?' && optopt)
        fprintf(stderr, "tally %s: unknown option '-%c'\n", argv[0], optopt);
    else if (o == '?')
        fprintf(stderr, "tally %s: unknown option '%s'\n", argv[0], argv[optind - 1]);
    else if (o == ':')
        fprintf(stderr, "tally %s: %s wants a value\n", argv[0], argv[optind - 1]);
    return o;
}

void cli_help(FILE *f, const char *synopsis, const char *shortopts, const cli_option *table)
{
    fputs(synopsis, f);
    fputs("\noptions:\n", f);
    for (const cli_option *o = table; o->name; o++) {
        char left[80];
        int n = o->val > 0 && o->val < 128 && o->val != ':' && strchr(shortopts, o->val)
                    ? snprintf(left, sizeof left, "-%c, ", o->val)
                    : snprintf(left, sizeof left, "    "); /* "--" under the others' */
        snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(f, "  %-32s %s\n", left, o->help);
    }
    fputs("See tally(1) for the details.\n", f);
}

int cli_usage_error(const char *cmd, const char *synopsis)
{
    fputs(synopsis, stderr);
    if (cmd)
        fprintf(stderr, "\n'tally %s --help' lists the options.\n", cmd);
    else
        fputs("\n'tally --help' lists the commands.\n", stderr);
    return CLI_EXIT_BAD_INPUT;
}

static const char synopsis[] = "usage: tally run [options] [--] PROGRAM [ARGS]\n"
                               "       tally report [options] PROFILE\n"
                               "       tally diff [options] A B\n"
                               "       tally top [options] PID\n"
                               "       tally attach [options] PID\n"
                               "       tally detach PID\n"
                               "       tally help [COMMAND]";

/* The subcommands, one line each in the help. */
static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"run", cmd_run, "run a program under the shim; print its leaks and peak"},
    {"report", cmd_report, "print a profile as text, json, folded, massif, pprof or html"},
    {"diff", cmd_diff, "show what grew from profile A to profile B, by pool and stack"},
    {"top", cmd_top, "watch the pools and top stacks of a process run with --live"},
    {"attach", cmd_attach, "start tracking in a running process (ptrace)"},
    {"detach", cmd_detach, "stop tracking an attached process; write its profile"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void help(void)
{
    printf("%s\n\ncommands:\n", synopsis);
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-30s %s\n", commands[i].name, commands[i].help);
    printf("  %-30s %s\n", "help [COMMAND]", "this help, or a command's (as tally COMMAND --help)");
    printf("\noptions:\n");
    printf("  %-30s %s\n", "-h, --help", "this help, on standard output");
    printf("  %-30s %s\n", "--version", "the version");
    printf("'tally COMMAND --help' lists a command's options. See tally(1).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL, synopsis);
    const char *cmd = argv[1];
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    if (!strcmp(cmd, "help") && argc > 3) {
        fprintf(stderr, "tally help: one command at a time\n");
        return cli_usage_error(NULL, synopsis);
    }
    if (!strcmp(cmd, "help") && argc == 3) {
        /* tally help CMD: CMD --help */
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                char *args[] = {argv[2], "--help", NULL};
                return commands[i].fn(2, args);
            }
        fprintf(stderr, "tally help: unknown command '%s'\n", argv[2]);
        return cli_usage_error(NULL, synopsis);
    }
    if ((argc == 2 && !strcmp(cmd, "help")) || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        help();
        return CLI_EXIT_OK;
    }
    if (argc == 2 && !strcmp(cmd, "--version")) {
        printf("tally %s\n", PACKAGE_VERSION);
        return CLI_EXIT_OK;
    }
    if (cmd[0] == '-')
        fprintf(stderr, "tally: unknown option '%s'\n", cmd);
    else
        fprintf(stderr, "tally: unknown command '%s'\n", cmd);
    return cli_usage_error(NULL, synopsis);
}
