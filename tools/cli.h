/* cli.h: the tally command's subcommands and exit statuses (tally(1),
 * EXIT STATUS), and what their option parsing shares. tally.c dispatches to
 * the cmd_* functions; each returns the status tally exits with. */
#ifndef TALLY_CLI_H
#define TALLY_CLI_H

#include <stdio.h>

/* report and diff exit with these; so does run when it fails itself. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,   /* out of memory, output that could not be written */
    CLI_EXIT_BAD_INPUT = 2, /* a profile that cannot be read, a usage error */
    /* run: a --max-peak or --max-leaked limit was exceeded by a program
     * that itself exited 0 (--error-exitcode N replaces it). */
    CLI_EXIT_LIMIT = 3,
};
/* Otherwise run exits with the program's status, as a shell gives it. */
enum {
    CLI_EXIT_CANNOT_EXEC = 126,
    CLI_EXIT_NOT_FOUND = 127,
    CLI_EXIT_SIGNAL_BASE = 128, /* + the number of the signal that killed it */
};

int cmd_run(int argc, char **argv);    /* run.c */
int cmd_report(int argc, char **argv); /* report.c */
int cmd_diff(int argc, char **argv);   /* diff.c */
int cmd_top(int argc, char **argv);    /* top.c */
int cmd_attach(int argc, char **argv); /* attach.c */
int cmd_detach(int argc, char **argv); /* attach.c */

/* Parses an option's whole-number argument in [lo, hi]. On anything else it
 * says so on stderr ("tally CMD: --OPT wants WANTS, not 'TEXT'") and
 * returns -1. */
int cli_parse_count(const char *cmd, const char *opt, const char *wants, const char *text, long lo,
                    long hi, long *out);

/* One option of a subcommand: what getopt_long needs, and its line in the
 * help. A command's options live in one such table, so that --help lists
 * exactly what the parser takes (tests/cli/test_cli_help.sh checks it). */
typedef struct {
    const char *name; /* the long name, without "--" */
    int has_arg;      /* no_argument or required_argument */
    int val;          /* what cli_getopt returns; also a short option when in shortopts */
    const char *arg;  /* the value's name in the help ("FILE"); NULL without one */
    const char *help; /* one line */
} cli_option;

/* getopt_long over a table ending in a row with a NULL name (at most
 * CLI_MAX_OPTIONS rows). An unknown option ('?') or one without its value
 * (':', when shortopts starts with ':' or "+:") is said on stderr as
 * "tally CMD: ...", CMD being argv[0]. */
#define CLI_MAX_OPTIONS 63
int cli_getopt(int argc, char **argv, const char *shortopts, const cli_option *table);
/* The help: the synopsis as given, then a line per option of the table
 * ("  -o, --output FILE   Write the report to FILE"), then a pointer to
 * tally(1). */
void cli_help(FILE *f, const char *synopsis, const char *shortopts, const cli_option *table);
/* A bad command line of `tally CMD` (NULL: of tally itself): the message
 * is said already; the synopsis and how to get the help go to stderr.
 * Returns CLI_EXIT_BAD_INPUT. */
int cli_usage_error(const char *cmd, const char *synopsis);

#endif
