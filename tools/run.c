/* run.c: `tally run [options] -- PROGRAM [ARGS]`.
 *
 * Checks every option before anything runs (a bad value is exit 2 and a
 * message with the values it may take), preloads the shim into PROGRAM
 * with the TALLY_* variables the options map onto, waits for it while
 * relaying the signals tally gets (run_child.c), then prints the summary
 * of the program's profile and a line per profile of the run
 * (run_profiles.c), and ends as the program did. tally itself never loads
 * the shim: it only finds its path and reads the files it leaves. */
#include <config.h>

#include "report.h"
#include "run.h"
#include "signals.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* A library of tally's next to this tally: in a build tree tally is
 * tools/tally (or, were it ever a libtool wrapper, tools/.libs/tally) and
 * the shim is .libs/libtally-preload.so at the top; installed, both sit
 * under one prefix. TALLY_PRELOAD overrides the search for the shim,
 * TALLY_ATTACH_LIB for libtally-attach.so. */
int run_find_lib(const char *lib, char *out, size_t cap)
{
    const char *env = getenv(strcmp(lib, SHIM_NAME) == 0 ? "TALLY_PRELOAD" : "TALLY_ATTACH_LIB");
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
            if (snprintf(out, cap, "%s%s%s", exe, rel[i], lib) >= (int)cap)
                continue;
            if (usable(out)) {
                char real[PATH_MAX];
                if (realpath(out, real))
                    snprintf(out, cap, "%s", real);
                return 0;
            }
        }
    }
    snprintf(out, cap, "%s/%s", TALLY_LIBDIR, lib);
    return usable(out) ? 0 : -1;
}

static const char run_synopsis[] = "usage: tally run [options] [--] PROGRAM [ARGS]";

/* Every option, in the help's order (tally(1), RUN OPTIONS, says more). */
static const cli_option run_options[] = {
    {"output", required_argument, 'o', "FILE|DIR/|PATTERN",
     "where the run's profiles go (default: a new tally.PROGRAM.PID.d/)"},
    {"backend", required_argument, 'b', "mimalloc|system", "the allocator under the shim"},
    {"depth", required_argument, 'd', "N", "frames kept per stack, 1 to 256 (default 64)"},
    {"sample", required_argument, 's', "BYTES",
     "a stack per BYTES allocated on average (k, M, G; default 0: every allocation)"},
    {"pools", required_argument, 'p', "RULES",
     "pools by call site: modules, or NAME=PATTERN[,PATTERN...];... (fn:NAME for functions)"},
    {"mmap", no_argument, 'M', NULL,
     "the program's own anonymous mappings too, in the pool mmap (pymalloc's arenas, JIT heaps)"},
    {"interval", required_argument, 'i', "MS", "the time series' period, 0 for none (default 10)"},
    {"dump-signal", required_argument, 'D', "SIG", "write a profile whenever the program gets SIG"},
    {"checkpoint", required_argument, 'C', "DURATION",
     "replace the profile with a fresh one every DURATION (10, 500ms, 2m)"},
    {"no-follow-exec", no_argument, 'F', NULL, "do not track the programs the program executes"},
    {"leak-check", required_argument, 'l', "exit|all|off",
     "classify leaks at exit (default), at every dump too, or never"},
    {"show-reachable", no_argument, 'R', NULL,
     "list the still reachable blocks, not only their total"},
    {"leak-addresses", no_argument, 'A', NULL, "keep each live block's address in the profile"},
    {"suppressions", required_argument, 'S', "FILE", "leak suppressions (LeakSanitizer's format)"},
    {"no-default-suppressions", no_argument, 'N', NULL,
     "no built-in suppressions of libc's own blocks"},
    {"top", required_argument, 't', "N", "at most N stacks per list in the summary (default 5)"},
    {"errors-for-leak-kinds", required_argument, 'k', "SET",
     "the leak kinds that are errors (default definite,indirect)"},
    {"error-exitcode", required_argument, 'e', "N",
     "exit N when there are leak errors or a limit is exceeded"},
    {"max-peak", required_argument, 'P', "SIZE",
     "fail (exit 3) when the program's peak exceeds SIZE (k, M, G, T)"},
    {"max-leaked", required_argument, 'L', "SIZE",
     "fail (exit 3) when its leaks of the error kinds exceed SIZE (k, M, G, T)"},
    {"live", no_argument, 'V', NULL,
     "show the live view (tally top) while it runs; its terminal output goes to a file"},
    {"help", no_argument, 'h', NULL, "this help, on standard output"},
    {NULL, 0, 0, NULL, NULL},
};
#define RUN_SHORT "+:o:h"

/* ---- the values options take --------------------------------------------------- */

/* "4096", "64k", "1M", "2G", "1T": bytes (powers of 1024), 0 to max. */
static int parse_bytes(const char *text, long long max, long long *out)
{
    char *end;
    errno = 0;
    if (!*text || *text == '-' || *text == '+')
        return -1;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text)
        return -1;
    int shift = 0;
    if (*end) {
        const char *units = "kmgt";
        const char *u = strchr(units, tolower((unsigned char)*end));
        if (!u || end[1])
            return -1;
        shift = 10 * (int)(u - units + 1);
    }
    if (v > max >> shift)
        return -1;
    *out = v << shift;
    return 0;
}

/* "10", "10s", "1.5", "500ms", "2m", "1h": whole milliseconds, at least 1. */
static int parse_duration(const char *text, long long *ms)
{
    /* Digits and one point: strtod alone would take "1e3", "0x10", "inf". */
    size_t digits = strspn(text, "0123456789.");
    const char *point = memchr(text, '.', digits);
    if (digits == 0 || (point && memchr(point + 1, '.', digits - (size_t)(point + 1 - text))))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end != text + digits || !isfinite(v))
        return -1;
    double scale;
    if (!*end || !strcmp(end, "s"))
        scale = 1000;
    else if (!strcmp(end, "ms"))
        scale = 1;
    else if (!strcmp(end, "m"))
        scale = 60000;
    else if (!strcmp(end, "h"))
        scale = 3600000;
    else
        return -1;
    double r = v * scale + 0.5; /* rounded to the millisecond below */
    if (!(r >= 1 && r < INT_MAX))
        return -1;
    *ms = (long long)r;
    return 0;
}

/* TALLY_POOLS as the shim reads it (shim/pools.c): "modules", or rules
 * NAME=PATTERN[,PATTERN...] separated by ';', at most 32 rules and 128
 * patterns in 4095 bytes. */
static int valid_pools(const char *text)
{
    if (!strcmp(text, "modules"))
        return 1;
    size_t len = strlen(text);
    if (len == 0 || len >= 4096)
        return 0;
    int rules = 0, patterns = 0;
    for (const char *r = text;;) {
        size_t rl = strcspn(r, ";");
        const char *eq = memchr(r, '=', rl);
        if (!eq || eq == r || eq + 1 == r + rl)
            return 0;
        rules++;
        for (const char *p = eq + 1; p < r + rl;) {
            size_t pl = strcspn(p, ",;");
            if (pl == 0 || (pl == 3 && !strncmp(p, "fn:", 3)))
                return 0;
            patterns++;
            p += pl + (p[pl] == ',');
        }
        if (!r[rl])
            break;
        r += rl + 1;
    }
    return rules <= 32 && patterns <= 128;
}

static int bad(const char *opt, const char *wants, const char *text)
{
    fprintf(stderr, "tally run: --%s wants %s, not '%s'\n", opt, wants, text);
    return CLI_EXIT_BAD_INPUT;
}

/* ---- the command ----------------------------------------------------------------- */

/* --option N within [lo, hi] into the environment variable env; nonzero
 * (with the message said) when optarg is not such a number. */
static int set_count(const char *env, const char *option, const char *wants, long lo, long hi)
{
    long v;
    if (cli_parse_count("run", option, wants, optarg, lo, hi, &v))
        return 1;
    char num[32];
    snprintf(num, sizeof num, "%ld", v);
    setenv(env, num, 1);
    return 0;
}

/* --max-peak or --max-leaked SIZE into the gate. */
static int set_limit(run_gate *g, int peak)
{
    long long v;
    if (parse_bytes(optarg, 1LL << 50, &v) != 0) {
        bad(peak ? "max-peak" : "max-leaked",
            "a number of bytes from 0 to 1024T, with an optional k, M, G or T suffix", optarg);
        return 1;
    }
    *(peak ? &g->max_peak : &g->max_leaked) = v;
    return 0;
}

/* The status of a run with limits: the program's own when it failed (its
 * failure says more than the limit's), else the limit's when one was
 * exceeded, or when there was no profile to check them against. */
static int gate_status(const run_gate *g, const char *prog, int status, int error_exitcode)
{
    int failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    if (!g->checked && !failed)
        fprintf(stderr, "tally run: no profile of %s to check the limits against\n", prog);
    if (failed || (g->checked && !g->exceeded))
        return run_exit_like(status);
    return error_exitcode >= 0 ? error_exitcode : CLI_EXIT_LIMIT;
}

int cmd_run(int argc, char **argv)
{
    const char *supp_files[64];
    int nsupp = 0, error_exitcode = -1, dump_signal = 0;
    /* LeakSanitizer's choice, and the issue's: the lost blocks are the errors. */
    run_leaks leaks = {supp_files, 0, 1, 0, 5, 1u << PROF_LEAK_DEFINITE | 1u << PROF_LEAK_INDIRECT,
                       NULL};
    run_gate gate = {-1, -1, 0, 0, 0};
    const char *output = NULL;
    char num[32];
    int o, live = 0;
    optind = 1;
    /* '+': stop at the program's name, so its own options stay its own.
     * ':': a missing value is told apart from an unknown option. */
    while ((o = cli_getopt(argc, argv, RUN_SHORT, run_options)) != -1) {
        switch (o) {
        case 'o':
            output = optarg;
            break;
        case 'b':
            /* The shim's allocators (lib/backend's malloc-shaped entries). */
            if (strcmp(optarg, "mimalloc") && strcmp(optarg, "system"))
                return bad("backend", "mimalloc or system", optarg);
            setenv("TALLY_BACKEND", optarg, 1);
            break;
        case 'd':
            if (set_count("TALLY_DEPTH", "depth", "a number of frames from 1 to 256", 1, 256))
                return CLI_EXIT_BAD_INPUT;
            break;
        case 's': {
            long long v;
            if (parse_bytes(optarg, 1LL << 30, &v) != 0)
                return bad("sample",
                           "a mean number of bytes from 0 (every allocation) to 1G, "
                           "with an optional k, M or G suffix",
                           optarg);
            snprintf(num, sizeof num, "%lld", v);
            setenv("TALLY_SAMPLE", num, 1);
            break;
        }
        case 'p':
            if (!valid_pools(optarg))
                return bad("pools",
                           "modules, or NAME=PATTERN[,PATTERN...] rules separated by ';' (at "
                           "most 32 rules and 128 patterns; fn:NAME matches a function)",
                           optarg);
            setenv("TALLY_POOLS", optarg, 1);
            break;
        case 'i':
            if (set_count("TALLY_INTERVAL", "interval",
                          "milliseconds from 0 (no time series) to 3600000", 0, 3600000))
                return CLI_EXIT_BAD_INPUT;
            break;
        case 'D': {
            int sig = cli_signal_parse(optarg);
            if (sig <= 0 || sig == SIGKILL || sig == SIGSTOP) {
                char names[512], wants[640];
                cli_signal_list(names, sizeof names, 1);
                snprintf(wants, sizeof wants,
                         "a signal the program can catch, by name (%s; SIG is optional) or "
                         "number",
                         names);
                return bad("dump-signal", wants, optarg);
            }
            dump_signal = sig;
            snprintf(num, sizeof num, "%d", sig);
            setenv("TALLY_DUMP_SIGNAL", num, 1);
            break;
        }
        case 'C': {
            long long ms;
            if (parse_duration(optarg, &ms) != 0)
                return bad("checkpoint",
                           "a duration of at least 1ms, such as 10, 10s, 1.5, 500ms, 2m or 1h "
                           "(seconds without a unit)",
                           optarg);
            snprintf(num, sizeof num, "%lldms", ms);
            setenv("TALLY_CHECKPOINT", num, 1);
            break;
        }
        case 'F':
            setenv("TALLY_FOLLOW_EXEC", "0", 1);
            break;
        case 'S': {
            /* Read now: a file that cannot be is said before the program runs. */
            if (nsupp == 64) {
                fprintf(stderr, "tally run: at most 64 --suppressions\n");
                return CLI_EXIT_BAD_INPUT;
            }
            char err[512];
            cli_suppressions *s = cli_supp_new(0);
            if (!s) {
                fprintf(stderr, "tally run: out of memory\n");
                return CLI_EXIT_FAILURE;
            }
            int rc = cli_supp_load(s, optarg, err, sizeof err);
            cli_supp_free(s);
            if (rc != 0) {
                fprintf(stderr, "tally run: %s\n", err);
                return CLI_EXIT_BAD_INPUT;
            }
            supp_files[nsupp++] = optarg;
            break;
        }
        case 'N':
            leaks.builtin = 0;
            break;
        case 'k':
            if (report_parse_kinds(optarg, &leaks.error_kinds) != 0)
                return bad("errors-for-leak-kinds", "a comma-separated list of " REPORT_KIND_NAMES,
                           optarg);
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
        case 'M':
            setenv("TALLY_MMAP", "1", 1);
            break;
        case 'e': {
            long v;
            if (cli_parse_count("run", "error-exitcode", "0..255", optarg, 0, 255, &v))
                return CLI_EXIT_BAD_INPUT;
            error_exitcode = (int)v;
            break;
        }
        case 't':
            if (cli_parse_count("run", "top", "a count", optarg, 0, LONG_MAX, &leaks.top))
                return CLI_EXIT_BAD_INPUT;
            break;
        case 'P':
        case 'L':
            if (set_limit(&gate, o == 'P'))
                return CLI_EXIT_BAD_INPUT;
            break;
        case 'V':
            live = 1;
            break;
        case 'h':
            cli_help(stdout, run_synopsis, RUN_SHORT, run_options);
            return CLI_EXIT_OK;
        default: /* said by cli_getopt */
            return cli_usage_error("run", run_synopsis);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "tally run: no program to run\n");
        return cli_usage_error("run", run_synopsis);
    }
    if (gate.max_leaked >= 0 &&
        !strcmp(getenv("TALLY_LEAK_CHECK") ? getenv("TALLY_LEAK_CHECK") : "", "off")) {
        fprintf(stderr, "tally run: --max-leaked needs the leak check, not --leak-check off\n");
        return CLI_EXIT_BAD_INPUT;
    }
    gate.leak_kinds = leaks.error_kinds;
    if (gate.max_peak >= 0 || gate.max_leaked >= 0)
        leaks.gate = &gate;
    char **prog = argv + optind;
    char shim[PATH_MAX];
    if (run_find_lib(SHIM_NAME, shim, sizeof shim) != 0) {
        fprintf(stderr, "tally run: cannot find %s next to tally nor in %s\n", SHIM_NAME,
                TALLY_LIBDIR);
        return CLI_EXIT_BAD_INPUT;
    }
    run_output out;
    int rc = run_output_init(&out, output, prog[0]);
    if (rc != 0)
        return rc;
    if (!out.dir_per_pid)
        setenv("TALLY_OUTPUT", out.pattern, 1);
    /* tally prints the summaries itself, symbolized, with suppressions and
     * once: not one per process of the run. */
    setenv("TALLY_REPORT", "none", 1);
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(shim) + (old ? strlen(old) : 0) + 2;
    char *preload = malloc(len);
    if (!preload)
        return CLI_EXIT_FAILURE;
    snprintf(preload, len, "%s%s%s", shim, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    free(preload);

    run_child_spec spec = {prog, &out, dump_signal, -1};
    if (live) {
        /* The view's terminal: the controlling one, whatever the standard
         * streams are. The program publishes for it (TALLY_LIVE). */
        spec.live_tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (spec.live_tty < 0) {
            fprintf(stderr, "tally run: --live needs a terminal: /dev/tty: %s\n", strerror(errno));
            return CLI_EXIT_BAD_INPUT;
        }
        setenv("TALLY_LIVE", "1", 1);
    }
    pid_t pid;
    int status;
    rc = run_child(&spec, &pid, &status);
    if (spec.live_tty >= 0) {
        char path[PATH_MAX];
        run_live_output(path, sizeof path, out.cwd, prog[0], pid);
        if (rc == 0 && access(path, F_OK) == 0)
            fprintf(stderr, "tally run: %s's output is in %s\n", prog[0],
                    run_output_shown(&out, path));
        close(spec.live_tty);
    }
    if (rc != 0)
        return rc;
    if (WIFSIGNALED(status)) {
        char name[32];
        fprintf(stderr, "tally run: %s was killed by %s%s\n", prog[0],
                cli_signal_name(WTERMSIG(status), name, sizeof name),
                WCOREDUMP(status) ? " (core dumped)" : "");
    }
    leaks.nsupp = nsupp;
    int errors = run_report(&out, pid, prog[0], &leaks);
    if (errors && error_exitcode >= 0)
        return error_exitcode;
    if (leaks.gate)
        return gate_status(&gate, prog[0], status, error_exitcode);
    return run_exit_like(status);
}
