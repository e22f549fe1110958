/* run_output.c: where `tally run` puts a run's profiles.
 *
 * Every process of the run writes TALLY_OUTPUT, expanded by the core (%p
 * its pid, %e its program's name, %n the number of its image, so that an
 * exec chain leaves one profile per image). The pattern is made absolute
 * here, once, so that a child that changes directory still writes where
 * the others do. Without -o the run gets a directory of its own in the
 * current one, named after the program and its pid: a wrapper script that
 * runs twenty shells leaves one directory, not twenty files. */
#include <config.h>

#include "cli.h"
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The core keeps TALLY_OUTPUT in a buffer of this size (lib/track/config.h). */
#define PATTERN_MAX 1024
#define FILE_PATTERN "%e.%p.%n.prof"

/* Appends s to out[cap] at *n with every '%' doubled: a literal path in a
 * pattern. 0, or ENAMETOOLONG. */
static int append_literal(char *out, size_t cap, size_t *n, const char *s)
{
    for (; *s; s++) {
        size_t need = *s == '%' ? 2 : 1;
        if (*n + need >= cap)
            return ENAMETOOLONG;
        out[(*n)++] = *s;
        if (*s == '%')
            out[(*n)++] = '%';
    }
    out[*n] = '\0';
    return 0;
}

static int append_raw(char *out, size_t cap, size_t *n, const char *s)
{
    size_t k = strlen(s);
    if (*n + k >= cap)
        return ENAMETOOLONG;
    memcpy(out + *n, s, k + 1);
    *n += k;
    return 0;
}

/* dir (a literal path) + "/%e.%p.%n.prof" into o->pattern. */
static int pattern_in(run_output *o, const char *dir)
{
    size_t n = 0;
    o->pattern[0] = '\0';
    if (append_literal(o->pattern, PATTERN_MAX, &n, dir) ||
        append_raw(o->pattern, PATTERN_MAX, &n, strcmp(dir, "/") ? "/" : "") ||
        append_raw(o->pattern, PATTERN_MAX, &n, FILE_PATTERN))
        return ENAMETOOLONG;
    return 0;
}

/* Checks a pattern's conversions: %p, %e, %n and %%. *bad: the first
 * unknown one; *in_dir: the first one before the last '/' (the directory,
 * which no process makes); *any: whether it has %p, %e or %n at all. */
static void conversions(const char *pat, const char **bad, const char **in_dir, int *any)
{
    const char *slash = strrchr(pat, '/');
    *bad = *in_dir = NULL;
    *any = 0;
    for (const char *p = pat; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        if (!p[1] || !strchr("pen", p[1])) {
            *bad = p;
            return;
        }
        *any = 1;
        if (!*in_dir && slash && p < slash)
            *in_dir = p;
        p++;
    }
}

/* A pattern's literal text: %% as %. */
static void unescape(const char *pat, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = pat; *p && n + 1 < cap; p++) {
        out[n++] = *p;
        if (p[0] == '%' && p[1] == '%')
            p++;
    }
    out[n] = '\0';
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int run_output_init(run_output *o, const char *opt, const char *prog)
{
    memset(o, 0, sizeof *o);
    /* The clock file times are taken from: a file of this run is never older. */
    clock_gettime(CLOCK_REALTIME_COARSE, &o->start);
    char *cwd = o->cwd;
    if (!getcwd(o->cwd, sizeof o->cwd)) {
        perror("tally run: the current directory");
        return CLI_EXIT_FAILURE;
    }
    const char *slash = strrchr(prog, '/');
    const char *name = slash ? slash + 1 : prog;
    if (!*name)
        name = "prog";

    if (!opt) {
        o->dir_per_pid = o->made_dir = 1;
        if (snprintf(o->dir_prefix, sizeof o->dir_prefix, "%s%stally.%s.", cwd,
                     strcmp(cwd, "/") ? "/" : "", name) >= (int)sizeof o->dir_prefix - 16) {
            fprintf(stderr, "tally run: the current directory's path is too long\n");
            return CLI_EXIT_FAILURE;
        }
        /* Named now with the largest pid, so that a path too long is said
         * before the program runs. */
        int rc = run_output_for_pid(o, INT_MAX, 0);
        o->dir[0] = o->pattern[0] = '\0';
        if (rc) {
            fprintf(stderr, "tally run: the current directory's path is too long\n");
            return CLI_EXIT_FAILURE;
        }
        return 0;
    }

    if (!*opt) {
        fprintf(stderr, "tally run: -o wants a file pattern or a directory, not ''\n");
        return CLI_EXIT_BAD_INPUT;
    }
    char abs[PATH_MAX];
    int k = opt[0] == '/'
                ? snprintf(abs, sizeof abs, "%s", opt)
                : snprintf(abs, sizeof abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", opt);
    if (k >= (int)sizeof abs) {
        fprintf(stderr, "tally run: -o %s: the path is too long\n", opt);
        return CLI_EXIT_BAD_INPUT;
    }

    size_t len = strlen(opt);
    if (opt[len - 1] == '/' || is_dir(opt)) {
        /* A directory: the run's profiles go in it, as in the default one. */
        size_t n = strlen(abs);
        while (n > 1 && abs[n - 1] == '/')
            abs[--n] = '\0';
        snprintf(o->dir, sizeof o->dir, "%s", abs);
        if (pattern_in(o, o->dir) != 0) {
            fprintf(stderr, "tally run: -o %s: the path is too long\n", opt);
            return CLI_EXIT_BAD_INPUT;
        }
        if (!is_dir(o->dir)) {
            if (mkdir(o->dir, 0777) != 0) {
                fprintf(stderr, "tally run: -o %s: cannot make the directory: %s\n", opt,
                        strerror(errno));
                return CLI_EXIT_BAD_INPUT;
            }
            o->made_dir = 1;
        }
        return 0;
    }

    const char *bad, *in_dir;
    int any;
    conversions(opt, &bad, &in_dir, &any);
    if (bad) {
        fprintf(stderr,
                "tally run: -o %s: '%.2s' is not a conversion: %%p (pid), %%e (program name), "
                "%%n (image number) or %%%% (a percent sign)\n",
                opt, bad);
        return CLI_EXIT_BAD_INPUT;
    }
    if (in_dir) {
        fprintf(stderr,
                "tally run: -o %s: %%p, %%e and %%n name files, not directories (no process "
                "makes the directory)\n",
                opt);
        return CLI_EXIT_BAD_INPUT;
    }
    char plain[PATH_MAX], dir[PATH_MAX];
    unescape(opt, dir, sizeof dir);
    if (opt[0] == '/')
        snprintf(plain, sizeof plain, "%s", dir);
    else if (snprintf(plain, sizeof plain, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", dir) >=
             (int)sizeof plain) {
        fprintf(stderr, "tally run: -o %s: the path is too long\n", opt);
        return CLI_EXIT_BAD_INPUT;
    }
    snprintf(dir, sizeof dir, "%s", plain);
    *strrchr(dir, '/') = '\0';
    if (!is_dir(*dir ? dir : "/")) {
        fprintf(stderr, "tally run: -o %s: no directory %s\n", opt, *dir ? dir : "/");
        return CLI_EXIT_BAD_INPUT;
    }

    if (any) {
        /* A pattern, as TALLY_OUTPUT takes it: every process of the run
         * writes there. The current directory in front is literal. */
        size_t n = 0;
        int rc = 0;
        if (opt[0] != '/') {
            rc = append_literal(o->pattern, PATTERN_MAX, &n, cwd);
            rc = rc ? rc : append_raw(o->pattern, PATTERN_MAX, &n, strcmp(cwd, "/") ? "/" : "");
        }
        if (rc || append_raw(o->pattern, PATTERN_MAX, &n, opt)) {
            fprintf(stderr, "tally run: -o %s: the path is too long\n", opt);
            return CLI_EXIT_BAD_INPUT;
        }
        return 0;
    }

    /* One file: the program's profile ends there; the run's others go to
     * FILE.d. Never a device, a fifo or a link that a rename would replace. */
    struct stat st;
    if (lstat(plain, &st) == 0 && !S_ISREG(st.st_mode)) {
        fprintf(stderr,
                "tally run: -o %s: exists and is not a regular file; tally replaces only "
                "regular files\n",
                opt);
        return CLI_EXIT_BAD_INPUT;
    }
    snprintf(o->final, sizeof o->final, "%s", plain);
    if (snprintf(o->dir, sizeof o->dir, "%s.d", plain) >= (int)sizeof o->dir ||
        pattern_in(o, o->dir) != 0) {
        fprintf(stderr, "tally run: -o %s: the path is too long\n", opt);
        return CLI_EXIT_BAD_INPUT;
    }
    if (!is_dir(o->dir)) {
        if (mkdir(o->dir, 0777) != 0) {
            fprintf(stderr, "tally run: -o %s: cannot make the directory %s: %s\n", opt, o->dir,
                    strerror(errno));
            return CLI_EXIT_BAD_INPUT;
        }
        o->made_dir = 1;
    }
    return 0;
}

int run_output_for_pid(run_output *o, pid_t pid, int make)
{
    if (!o->dir_per_pid)
        return 0;
    if (snprintf(o->dir, sizeof o->dir, "%s%d.d", o->dir_prefix, (int)pid) >= (int)sizeof o->dir)
        return ENAMETOOLONG;
    int rc = pattern_in(o, o->dir);
    if (rc || !make)
        return rc;
    if (mkdir(o->dir, 0777) != 0 && (errno != EEXIST || !is_dir(o->dir)))
        return errno == EEXIST ? ENOTDIR : errno;
    return 0;
}

void run_output_tidy(const run_output *o)
{
    if (o->made_dir && o->dir[0])
        rmdir(o->dir); /* only if the run left nothing there */
}

const char *run_output_shown(const run_output *o, const char *path)
{
    size_t n = strlen(o->cwd);
    if (n > 1 && !strncmp(path, o->cwd, n) && path[n] == '/' && path[n + 1])
        return path + n + 1;
    return path;
}
