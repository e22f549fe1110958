/* cli.h: the tally command's subcommands and exit statuses (tally(1),
 * EXIT STATUS), and what their option parsing shares. tally.c dispatches to
 * the cmd_* functions; each returns the status tally exits with. */
#ifndef TALLY_CLI_H
#define TALLY_CLI_H

/* report and diff exit with these; so does run when it fails itself. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,   /* out of memory, output that could not be written */
    CLI_EXIT_BAD_INPUT = 2, /* a profile that cannot be read, a usage error */
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

/* Parses an option's whole-number argument in [lo, hi]. On anything else it
 * says so on stderr ("tally CMD: --OPT wants WANTS, not 'TEXT'") and
 * returns -1. */
int cli_parse_count(const char *cmd, const char *opt, const char *wants, const char *text, long lo,
                    long hi, long *out);

#endif
