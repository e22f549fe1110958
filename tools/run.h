/* run.h: the parts of `tally run`. run.c reads the options and puts the
 * run together; run_output.c decides where the run's profiles go;
 * run_child.c starts the program, relays signals to it and waits;
 * run_profiles.c finds what the run wrote, picks the profile the summary
 * is about and prints the table of every process. */
#ifndef TALLY_TOOLS_RUN_H
#define TALLY_TOOLS_RUN_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* ---- run.c ------------------------------------------------------------------- */
/* The library lib (libtally-preload.so, libtally-attach.so) next to this
 * tally (TALLY_PRELOAD, TALLY_ATTACH_LIB override): its absolute path in
 * out, 0; -1 when there is none. */
int run_find_lib(const char *lib, char *out, size_t cap);

/* ---- run_output.c ------------------------------------------------------------ */

/* Where one run's profiles go. */
typedef struct {
    /* TALLY_OUTPUT: an absolute pattern (%p pid, %e program name, %n the
     * image's number, %% a percent sign). Empty until the child's pid is
     * known when the directory is named after it (the default). */
    char pattern[PATH_MAX];
    /* The run's own directory, absolute, when tally makes it (the default,
     * and -o DIR/): removed at the end if the run left nothing in it. With
     * a pid in its name, dir_prefix + pid + ".d". */
    char dir[PATH_MAX];
    char dir_prefix[PATH_MAX];
    /* -o FILE: where the program's own profile is moved at the end. */
    char final[PATH_MAX];
    int dir_per_pid;
    int made_dir;
    /* Only files changed since then are the run's. */
    struct timespec start;
    char cwd[PATH_MAX]; /* paths under it are shown relative to it */
} run_output;

/* From -o's value (NULL: the default) and the program's name. 0, or a
 * message on stderr and CLI_EXIT_BAD_INPUT / CLI_EXIT_FAILURE. */
int run_output_init(run_output *o, const char *opt, const char *prog);
/* Names the per-pid directory and the pattern for the child's pid; in the
 * child, makes the directory too. 0 or an errno value. */
int run_output_for_pid(run_output *o, pid_t pid, int make);
/* The run's directory, when it has one, is removed if empty. */
void run_output_tidy(const run_output *o);
/* A path as the user is shown it: relative when it is under the current
 * directory. */
const char *run_output_shown(const run_output *o, const char *path);

/* ---- run_child.c ------------------------------------------------------------- */

typedef struct {
    char *const *argv;
    run_output *out; /* the child names its directory when out->dir_per_pid */
    int dump_signal; /* relayed too when not 0 */
    /* --live: the view is drawn on this terminal (/dev/tty) while the
     * program runs, and the program's standard streams that are that
     * terminal go elsewhere (run_live_output); -1: no view. */
    int live_tty;
} run_child_spec;

/* --live: where the program's output goes while the view owns the
 * terminal: DIR/tally.PROGRAM.PID.out. */
void run_live_output(char *out, size_t cap, const char *dir, const char *prog, pid_t pid);

/* Starts argv[0] with the environment as it is (TALLY_OUTPUT added in the
 * child when the directory is per pid), relays SIGHUP, SIGINT, SIGQUIT,
 * SIGTERM, SIGUSR1, SIGUSR2 and the dump signal to it (not when the
 * terminal sent them to the whole group, nor when the program's own
 * processes did) and waits for it. 0 and its wait status, or an exit
 * status with the message printed when it could not be started. */
int run_child(const run_child_spec *spec, pid_t *pid, int *status);
/* Ends tally as the program ended: with its exit status, or killed by the
 * same signal (without a core dump of tally's own). Returns 128 + the
 * signal only if the signal did not end tally. */
int run_exit_like(int status);

/* ---- run_gate.c ----------------------------------------------------------------- */

/* --max-peak and --max-leaked: a test suite's gate on the program's profile. */
typedef struct {
    int64_t max_peak, max_leaked; /* bytes; -1: no limit */
    unsigned leak_kinds;          /* what counts as leaked: --errors-for-leak-kinds */
    int checked;                  /* out: a profile was there to check */
    int exceeded;                 /* out: a limit was exceeded */
} run_gate;

struct report_ctx;
/* Checks the limits against the summary's open session (a report_ctx):
 * for each one exceeded, says on stderr which, by how much, and the stack
 * that did it most, symbolized. Sets g->checked and g->exceeded. */
void run_gate_check(run_gate *g, struct report_ctx *c);

/* ---- run_profiles.c ------------------------------------------------------------ */

/* The summary's options and which leak kinds are errors. */
typedef struct {
    const char *const *supp_files;
    int nsupp, builtin, show_reachable;
    long top;
    unsigned error_kinds; /* bit 1 << PROF_LEAK_*; LIVE never: unchecked is not lost */
    run_gate *gate;       /* the limits, checked in the summary's session; NULL: none */
} run_leaks;

/* Finds the profiles the run wrote, prints the summary of the program's
 * (the child's pid, its last exec image) and, when the run left others,
 * a line per profile. Returns whether the summarized profile has blocks
 * of an error kind. */
int run_report(const run_output *o, pid_t child, const char *prog, const run_leaks *leaks);

#endif
