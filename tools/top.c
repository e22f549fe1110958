/* top.c: `tally top [options] PID`: the live view of a process that runs
 * under tally with TALLY_LIVE=1 (tally run --live sets it).
 *
 * It reads what the process publishes in its segment (top_source.c): no
 * signal, no ptrace, the process is never stopped. On a terminal, the view
 * refreshes every second until q or the process's end (top_ui.c); with
 * --once, one frame as plain text on standard output, for scripts. */
#include <config.h>

#include "cli.h"
#include "top.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char top_synopsis[] = "usage: tally top [options] PID";

static const cli_option top_options[] = {
    {"once", no_argument, '1', NULL,
     "print one frame as plain text on standard output and exit (no terminal needed)"},
    {"peak", no_argument, 'p', NULL, "start in the peak view: the top stacks at the peak"},
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};
#define TOP_SHORT "+:ph"

/* Seconds --once waits for the process's first publication. */
#define ONCE_WAIT_MS 5000

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static int once(top_source *src, pid_t pid, int peak)
{
    prof_live_segment *copy = malloc(sizeof *copy);
    top_view *v = top_view_new(pid);
    char *frame = malloc(256 * 1024);
    int rc = CLI_EXIT_FAILURE;
    if (!copy || !v || !frame) {
        fprintf(stderr, "tally top: out of memory\n");
        goto out;
    }
    for (int waited = 0;; waited += 50) {
        if (top_source_read(src, copy) == 0 && copy->publications > 0)
            break;
        if (waited >= ONCE_WAIT_MS || !top_source_alive(src)) {
            fprintf(stderr,
                    "tally top: process %d has published nothing yet (it does while it "
                    "allocates)\n",
                    (int)pid);
            goto out;
        }
        struct timespec tick = {0, 50 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    top_view_update(v, copy, top_rss_bytes(pid));
    top_view_render(v, peak, 0, 0, NULL, frame, 256 * 1024);
    fputs(frame, stdout);
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
out:
    free(copy);
    top_view_free(v);
    free(frame);
    return rc;
}

int cmd_top(int argc, char **argv)
{
    int one = 0, peak = 0, o;
    optind = 1;
    while ((o = cli_getopt(argc, argv, TOP_SHORT, top_options)) != -1) {
        switch (o) {
        case '1':
            one = 1;
            break;
        case 'p':
            peak = 1;
            break;
        case 'h':
            cli_help(stdout, top_synopsis, TOP_SHORT, top_options);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("top", top_synopsis);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "tally top: %s\n", optind >= argc ? "no PID" : "one PID at a time");
        return cli_usage_error("top", top_synopsis);
    }
    char *end;
    errno = 0;
    long pid = strtol(argv[optind], &end, 10);
    if (errno || end == argv[optind] || *end || pid < 1 || pid > INT32_MAX) {
        fprintf(stderr, "tally top: PID is a process id (a positive number), not '%s'\n",
                argv[optind]);
        return cli_usage_error("top", top_synopsis);
    }
    if (!one && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "tally top: the view needs a terminal; --once prints one frame\n");
        return CLI_EXIT_BAD_INPUT;
    }
    top_source *src;
    char err[512];
    if (top_source_open((pid_t)pid, &src, err, sizeof err) != TOP_OK) {
        fprintf(stderr, "tally top: %s\n", err);
        return CLI_EXIT_BAD_INPUT;
    }
    if (one) {
        int rc = once(src, (pid_t)pid, peak);
        top_source_close(src);
        return rc;
    }

    top_ui *u = top_ui_new((pid_t)pid, src, STDIN_FILENO, STDOUT_FILENO);
    if (!u) {
        top_source_close(src);
        fprintf(stderr, "tally top: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int rc = top_ui_start(u);
    if (rc) {
        top_ui_end(u);
        fprintf(stderr, "tally top: cannot use the terminal: %s\n", strerror(rc));
        return CLI_EXIT_FAILURE;
    }
    top_ui_set_peak(u, peak);
    int how = TOP_UI_GOING;
    while (!stop && (how = top_ui_step(u, NULL)) == TOP_UI_GOING)
        ;
    top_ui_end(u);
    if (how == TOP_UI_ENDED)
        printf("tally top: process %ld has ended\n", pid);
    return CLI_EXIT_OK;
}
