/* run.c: `tally run [options] -- PROGRAM [ARGS]`.
 *
 * Preloads the shim into PROGRAM with the TALLY_* variables the options
 * map onto, waits for it, then reads the profile it wrote and prints the
 * leak summary (memcheck's classes), symbolized and with the suppressions
 * applied, and the profile's path. tally itself never loads the shim (DESIGN.md): it only
 * finds its path and reads the file it leaves. */
#include <config.h>

#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TALLY_LIBDIR
#define TALLY_LIBDIR "/usr/local/lib"
#endif

#define SHIM_NAME "libtally-preload.so"

static int usable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The shim next to this tally: in a build tree tally is tools/tally (or,
 * were it ever a libtool wrapper, tools/.libs/tally) and the shim is
 * .libs/libtally-preload.so at the top; installed, both sit under one
 * prefix. TALLY_PRELOAD overrides the search. */
static int find_shim(char *out, size_t cap)
{
    const char *env = getenv("TALLY_PRELOAD");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return usable(out) ? 0 : -1;
    }
    char exe[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        static const char *const rel[] = {
            "/../.libs/",     "/../../.libs/", "/../lib/",
            "/../lib/tally/", "/../lib64/",    "/../lib/x86_64-linux-gnu/",
        };
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            if (snprintf(out, cap, "%s%s%s", exe, rel[i], SHIM_NAME) >= (int)cap)
                continue;
            if (usable(out)) {
                char real[PATH_MAX];
                if (realpath(out, real))
                    snprintf(out, cap, "%s", real);
                return 0;
            }
        }
    }
    snprintf(out, cap, "%s/%s", TALLY_LIBDIR, SHIM_NAME);
    return usable(out) ? 0 : -1;
}

/* The profile the program wrote: the output pattern with %p as its pid and
 * %e as whatever executable it ran as (a script's interpreter, say), the
 * newest if exec left several. */
static int find_profile(const char *pattern, pid_t pid, char *out, size_t cap)
{
    char g[PATH_MAX];
    size_t n = 0;
    for (const char *p = pattern; *p && n + 24 < sizeof g; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            n += (size_t)snprintf(g + n, sizeof g - n, "%d", (int)pid);
            p++;
        } else if (p[0] == '%' && p[1] == 'e') {
            g[n++] = '*';
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            g[n++] = '%';
            p++;
        } else {
            if (strchr("*?[\\", *p))
                g[n++] = '\\';
            g[n++] = *p;
        }
    }
    g[n] = '\0';
    glob_t gl;
    if (glob(g, 0, NULL, &gl) != 0)
        return -1;
    time_t best = 0;
    int found = -1;
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        struct stat st;
        if (stat(gl.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode) &&
            (found < 0 || st.st_mtime >= best)) {
            best = st.st_mtime;
            snprintf(out, cap, "%s", gl.gl_pathv[i]);
            found = 0;
        }
    }
    globfree(&gl);
    return found;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tally run [-o FILE] [--backend NAME] [--depth N] [--sample BYTES]\n"
            "                 [--pools RULES] [--interval MS] [--no-follow-exec]\n"
            "                 [--leak-check exit|all|off] [--show-reachable] [--leak-addresses]\n"
            "                 [--suppressions FILE] [--no-default-suppressions]\n"
            "                 [--error-exitcode N] [--errors-for-leak-kinds SET]\n"
            "                 -- PROGRAM [ARGS]\n");
}

/* What the summary shows and which kinds count as errors. */
typedef struct {
    const char *const *supp_files;
    int nsupp, builtin, show_reachable;
    unsigned error_kinds; /* bit 1 << PROF_LEAK_*; LIVE never: unchecked is not lost */
} run_leaks;

/* Prints the summary and returns whether any block not suppressed is of an
 * error kind (valgrind's --errors-for-leak-kinds). The program has run: a
 * suppressions file that cannot be read is said and the others still apply. */
static int summarize(const char *path, const run_leaks *o)
{
    report_ctx c = {0};
    c.out = stderr;
    c.top = 5;
    c.max_frames = 12; /* a summary: `tally report` shows whole stacks */
    c.show_reachable = o->show_reachable;
    report_open(&c, path, o->supp_files, o->nsupp, o->builtin);
    if (!c.p)
        return 0;
    int errors = 0;
    if (c.ready) {
        report_text_summary(&c);
        for (uint32_t k = PROF_LEAK_DEFINITE; k <= PROF_LEAK_REACHABLE; k++)
            errors |= (o->error_kinds >> k & 1) && c.kind_count[k] > 0;
    }
    fprintf(stderr, "tally: profile: %s (tally report %s shows it all)\n", path, path);
    report_close(&c);
    return errors;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"backend", required_argument, NULL, 'b'},
        {"depth", required_argument, NULL, 'd'},
        {"sample", required_argument, NULL, 's'},
        {"pools", required_argument, NULL, 'p'},
        {"interval", required_argument, NULL, 'i'},
        {"no-follow-exec", no_argument, NULL, 'F'},
        {"suppressions", required_argument, NULL, 'S'},
        {"no-default-suppressions", no_argument, NULL, 'N'},
        {"error-exitcode", required_argument, NULL, 'e'},
        {"errors-for-leak-kinds", required_argument, NULL, 'k'},
        {"leak-check", required_argument, NULL, 'l'},
        {"show-reachable", no_argument, NULL, 'R'},
        {"leak-addresses", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *supp_files[64];
    int nsupp = 0, error_exitcode = -1;
    /* LeakSanitizer's choice, and the issue's: the lost blocks are the errors. */
    run_leaks leaks = {supp_files, 0, 1, 0, 1u << PROF_LEAK_DEFINITE | 1u << PROF_LEAK_INDIRECT};
    const char *output = NULL;
    int o;
    optind = 1;
    /* '+': stop at the program's name, so its own options stay its own. */
    while ((o = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (o) {
        case 'o':
            output = optarg;
            break;
        case 'b':
            setenv("TALLY_BACKEND", optarg, 1);
            break;
        case 'd':
            setenv("TALLY_DEPTH", optarg, 1);
            break;
        case 's':
            setenv("TALLY_SAMPLE", optarg, 1);
            break;
        case 'p':
            setenv("TALLY_POOLS", optarg, 1);
            break;
        case 'i':
            setenv("TALLY_INTERVAL", optarg, 1);
            break;
        case 'F':
            setenv("TALLY_FOLLOW_EXEC", "0", 1);
            break;
        case 'S':
            if (nsupp == 64 || access(optarg, R_OK) != 0) {
                fprintf(stderr, "tally run: cannot read suppressions %s\n", optarg);
                return CLI_EXIT_BAD_INPUT;
            }
            supp_files[nsupp++] = optarg;
            break;
        case 'N':
            leaks.builtin = 0;
            break;
        case 'k':
            if (report_parse_kinds(optarg, &leaks.error_kinds) != 0) {
                fprintf(stderr, "tally run: --errors-for-leak-kinds wants %s, not '%s'\n",
                        "a comma-separated list of " REPORT_KIND_NAMES, optarg);
                return CLI_EXIT_BAD_INPUT;
            }
            break;
        case 'l':
            /* exit: classify at exit (the default); all: every dump too;
             * off: no mark, the blocks left are only "live". */
            if (strcmp(optarg, "exit") && strcmp(optarg, "all") && strcmp(optarg, "off")) {
                fprintf(stderr, "tally run: --leak-check is exit, all or off, not '%s'\n", optarg);
                return CLI_EXIT_BAD_INPUT;
            }
            setenv("TALLY_LEAK_CHECK", optarg, 1);
            break;
        case 'R':
            leaks.show_reachable = 1;
            break;
        case 'A':
            setenv("TALLY_LEAK_ADDRESSES", "1", 1);
            break;
        case 'e': {
            long v;
            if (cli_parse_count("run", "error-exitcode", "0..255", optarg, 0, 255, &v))
                return CLI_EXIT_BAD_INPUT;
            error_exitcode = (int)v;
            break;
        }
        case 'h':
            usage();
            return CLI_EXIT_OK;
        default:
            usage();
            return CLI_EXIT_BAD_INPUT;
        }
    }
    if (optind >= argc) {
        usage();
        return CLI_EXIT_BAD_INPUT;
    }
    char shim[PATH_MAX];
    if (find_shim(shim, sizeof shim) != 0) {
        fprintf(stderr, "tally run: cannot find %s next to tally nor in %s\n", SHIM_NAME,
                TALLY_LIBDIR);
        return CLI_EXIT_BAD_INPUT;
    }
    if (!output)
        output = getenv("TALLY_OUTPUT");
    if (!output || !*output)
        output = "tally.%e.%p.prof";
    setenv("TALLY_OUTPUT", output, 1);
    /* tally prints the summary itself, symbolized and with suppressions. */
    if (!getenv("TALLY_REPORT"))
        setenv("TALLY_REPORT", "none", 1);
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(shim) + (old ? strlen(old) : 0) + 2;
    char *preload = malloc(len);
    if (!preload)
        return CLI_EXIT_FAILURE;
    snprintf(preload, len, "%s%s%s", shim, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    free(preload);

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("tally run: fork");
        return CLI_EXIT_FAILURE;
    }
    if (pid == 0) {
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "tally run: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(errno == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC);
    }
    /* Like system(3): a ^C is the program's to handle, not ours. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    int rc;
    if (WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
    } else {
        rc = CLI_EXIT_SIGNAL_BASE + WTERMSIG(status);
        fprintf(stderr, "tally run: %s was killed by signal %d (%s)\n", argv[optind],
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    }
    char path[PATH_MAX];
    if (find_profile(output, pid, path, sizeof path) != 0) {
        fprintf(stderr, "tally run: no profile was written (looked for %s with pid %d)\n", output,
                (int)pid);
        return rc;
    }
    leaks.nsupp = nsupp;
    int errors = summarize(path, &leaks);
    return errors && error_exitcode >= 0 ? error_exitcode : rc;
}
