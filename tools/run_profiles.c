/* run_profiles.c: what a run left. Every file that fits the run's
 * pattern and changed since the run began is one of its profiles (a
 * directory used before keeps its old files out of the table). The
 * summary is for the program tally started: the profiles with its pid are
 * its exec images, and the last of them is the one that ended the run.
 * Then, when there are others, a line per profile: who, its peak, its
 * leaks as the summary counts them (with the same suppressions), and how
 * its image ended. */
#include <config.h>

#include "reason.h"
#include "report.h"
#include "run.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One profile of the run, as the table shows it. */
typedef struct {
    char *path;
    long pid, n; /* from the name (or META for the pid); -1: not in it */
    struct timespec mtime;
    int readable, has_meta, classified;
    uint32_t reason;
    int64_t start_ns, duration_ns, peak;
    int64_t kind_bytes[PROF_LEAK_KINDS];
    char command[80];
} run_prof;

/* Whether name fits pattern, and the numbers %p and %n matched (-1 when
 * the pattern has none). %e matches a name without '/', %p and %n digits. */
static int match(const char *pat, const char *s, long *pid, long *n)
{
    if (!*pat)
        return !*s;
    if (pat[0] == '%' && pat[1] == '%')
        return *s == '%' && match(pat + 2, s + 1, pid, n);
    if (pat[0] == '%' && pat[1] == 'e') {
        for (const char *q = s; *q && *q != '/'; q++)
            if (match(pat + 2, q + 1, pid, n))
                return 1;
        return 0;
    }
    if (pat[0] == '%' && (pat[1] == 'p' || pat[1] == 'n')) {
        long *out = pat[1] == 'p' ? pid : n;
        long v = 0;
        for (const char *q = s; isdigit((unsigned char)*q) && v < 1000000000L; q++) {
            v = v * 10 + (*q - '0');
            if (match(pat + 2, q + 1, pid, n)) {
                *out = v;
                return 1;
            }
        }
        return 0;
    }
    return *pat == *s && match(pat + 1, s + 1, pid, n);
}

/* The pattern as a glob(3) pattern: conversions as '*', the rest literal. */
static void to_glob(const char *pat, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = pat; *p && n + 3 < cap; p++) {
        if (p[0] == '%' && p[1] && strchr("pen", p[1])) {
            out[n++] = '*';
            p++;
            continue;
        }
        if (p[0] == '%' && p[1] == '%')
            p++;
        if (strchr("*?[\\", *p))
            out[n++] = '\\';
        out[n++] = *p;
    }
    out[n] = '\0';
}

static int newer_or_same(struct timespec a, struct timespec b)
{
    return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec >= b.tv_nsec);
}

/* The command line for one table cell: control characters as '?', long
 * ones cut. */
static void set_command(run_prof *r, const prof_profile *p)
{
    const char *s = p->cmdline && *p->cmdline ? p->cmdline : p->exe && *p->exe ? p->exe : "?";
    size_t cap = sizeof r->command, n = 0;
    for (; *s && n + 1 < cap; s++, n++)
        r->command[n] = (unsigned char)*s < 0x20 ? '?' : *s;
    r->command[n] = '\0';
    if (*s)
        memcpy(r->command + cap - 4, "...", 4);
}

/* Reads one profile into r, with the summary's suppressions. */
static void load(run_prof *r, const run_leaks *o)
{
    report_ctx c = {0};
    c.out = stderr;
    /* One that cannot be read is said on stderr, and in the table. */
    report_open(&c, r->path, o->supp_files, o->nsupp, o->builtin);
    if (c.p && c.ready) {
        const prof_profile *p = c.p;
        r->readable = 1;
        r->has_meta = p->has_meta;
        r->classified = p->classified;
        r->reason = p->reason;
        r->start_ns = p->start_ns;
        r->duration_ns = p->duration_ns;
        r->peak = report_peak_total(&c);
        if (r->pid < 0 && p->has_meta)
            r->pid = p->pid;
        memcpy(r->kind_bytes, c.kind_bytes, sizeof r->kind_bytes);
        set_command(r, p);
    }
    report_close(&c);
}

/* The run's profiles, oldest image first; *count of them. */
static run_prof *collect(const run_output *o, const run_leaks *leaks, size_t *count)
{
    char g[PATH_MAX * 2];
    to_glob(o->pattern, g, sizeof g);
    glob_t gl;
    *count = 0;
    if (glob(g, GLOB_NOSORT, NULL, &gl) != 0)
        return NULL;
    run_prof *rs = calloc(gl.gl_pathc ? gl.gl_pathc : 1, sizeof *rs);
    for (size_t i = 0; rs && i < gl.gl_pathc; i++) {
        struct stat st;
        run_prof r = {.pid = -1, .n = -1};
        if (lstat(gl.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode) ||
            !newer_or_same(st.st_mtim, o->start) ||
            !match(o->pattern, gl.gl_pathv[i], &r.pid, &r.n))
            continue;
        r.path = strdup(gl.gl_pathv[i]);
        if (!r.path)
            continue;
        r.mtime = st.st_mtim;
        load(&r, leaks);
        rs[(*count)++] = r;
    }
    globfree(&gl);
    return rs;
}

static int cmp_prof(const void *a, const void *b)
{
    const run_prof *x = a, *y = b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return newer_or_same(y->mtime, x->mtime) ? -1 : 1;
}

/* The program's own profile: its pid, the last image: the one whose
 * tracking started last (an image's %n orders it only among images of
 * one executable, since %e is in the name too), then the highest %n, then
 * the newest file. */
static run_prof *main_profile(run_prof *rs, size_t n, pid_t child)
{
    run_prof *best = NULL;
    for (size_t i = 0; i < n; i++) {
        run_prof *r = &rs[i];
        if (r->pid != child)
            continue;
        if (!best || r->start_ns > best->start_ns ||
            (r->start_ns == best->start_ns &&
             (r->n > best->n || (r->n == best->n && newer_or_same(r->mtime, best->mtime)))))
            best = r;
    }
    return best;
}

/* -o FILE: the program's profile goes to FILE, unless something that is
 * not a regular file took the name meanwhile. */
static void move_to_final(const run_output *o, run_prof *r)
{
    struct stat st;
    char *to = strdup(o->final);
    if (!to)
        return;
    if (lstat(to, &st) == 0 && !S_ISREG(st.st_mode))
        fprintf(stderr, "tally run: %s is not a regular file: the profile stays in %s\n",
                run_output_shown(o, to), run_output_shown(o, r->path));
    else if (rename(r->path, to) != 0)
        fprintf(stderr, "tally run: cannot move %s to %s: %s\n", run_output_shown(o, r->path),
                run_output_shown(o, to), strerror(errno));
    else {
        free(r->path);
        r->path = to;
        return;
    }
    free(to);
}

/* A size in at most 8 characters: "512 B", "2.9 KiB", "418 KiB", "1023 MiB". */
static const char *cell_bytes(int64_t bytes, char buf[16])
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, 16, "%lld B", (long long)bytes);
    else
        snprintf(buf, 16, v < 9.95 ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

static const char *kind_cell(const run_prof *r, uint32_t kind, char buf[16])
{
    if (!r->classified && kind != PROF_LEAK_LIVE)
        return "-";
    return cell_bytes(r->kind_bytes[kind], buf);
}

/* A line per profile. The live column (blocks no leak check looked at)
 * only when some profile has any. */
static void table(const run_output *o, const run_prof *rs, size_t n, const run_prof *mine)
{
    size_t procs = 0;
    int live = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && rs[j].pid != rs[i].pid)
            j++;
        procs += j == i;
        live |= rs[i].readable && rs[i].kind_bytes[PROF_LEAK_LIVE] != 0;
    }
    fprintf(stderr, "tally: %zu %s of %zu %s in %s%s", n, n == 1 ? "profile" : "profiles", procs,
            procs == 1 ? "process" : "processes",
            run_output_shown(o, o->dir[0] ? o->dir : o->pattern), o->dir[0] ? "/" : "");
    if (mine && o->final[0] && !strcmp(mine->path, o->final))
        fprintf(stderr, " (the program's in %s)", run_output_shown(o, o->final));
    fputs(":\n", stderr);
    fprintf(stderr, " %7s %9s %9s %9s %9s %9s", "pid", "peak", "definite", "indirect", "possible",
            "reachable");
    if (live)
        fprintf(stderr, " %9s", "live");
    fprintf(stderr, "  %-11s %s\n", "ended", "command");
    for (size_t i = 0; i < n; i++) {
        const run_prof *r = &rs[i];
        char mark = r == mine ? '*' : ' ';
        if (!r->readable) {
            fprintf(stderr, "%c%7ld  cannot be read: %s\n", mark, r->pid,
                    run_output_shown(o, r->path));
            continue;
        }
        char peak[16], k[5][16], why[32];
        fprintf(stderr, "%c%7ld %9s %9s %9s %9s %9s", mark, r->pid, cell_bytes(r->peak, peak),
                kind_cell(r, PROF_LEAK_DEFINITE, k[0]), kind_cell(r, PROF_LEAK_INDIRECT, k[1]),
                kind_cell(r, PROF_LEAK_POSSIBLE, k[2]), kind_cell(r, PROF_LEAK_REACHABLE, k[3]));
        if (live)
            fprintf(stderr, " %9s", kind_cell(r, PROF_LEAK_LIVE, k[4]));
        fprintf(stderr, "  %-11s %s\n",
                r->has_meta ? cli_reason_word(r->reason, why, sizeof why) : "?", r->command);
    }
    if (mine)
        fprintf(stderr, "tally: * marks the summary's profile; tally report FILE shows any of "
                        "them in full\n");
}

/* Prints the summary of one profile; returns whether blocks of an error
 * kind remain (valgrind's --errors-for-leak-kinds). The program has run:
 * a suppressions file that cannot be read is said and the others apply. */
static int summarize(const run_output *out, const run_prof *r, const char *prog, const run_leaks *o)
{
    report_ctx c = {0};
    c.out = stderr;
    c.top = o->top;
    c.max_frames = 12; /* a summary: `tally report` shows whole stacks */
    c.show_reachable = o->show_reachable;
    report_open(&c, r->path, o->supp_files, o->nsupp, o->builtin);
    if (!c.p)
        return 0;
    int errors = 0;
    if (c.ready) {
        if (c.p->has_meta && prof_reason_kind(c.p->reason) != PROF_REASON_EXIT) {
            char why[128];
            fprintf(stderr, "tally: %s (pid %u): %s\n", prog, c.p->pid,
                    cli_reason_phrase(c.p->reason, c.p->duration_ns, why, sizeof why));
        }
        report_text_summary(&c);
        if (o->gate)
            run_gate_check(o->gate, &c);
        for (uint32_t k = PROF_LEAK_DEFINITE; k <= PROF_LEAK_REACHABLE; k++)
            errors |= (o->error_kinds >> k & 1) && c.kind_count[k] > 0;
    }
    const char *path = run_output_shown(out, r->path);
    fprintf(stderr, "tally: profile: %s (tally report %s shows it all)\n", path, path);
    report_close(&c);
    return errors;
}

int run_report(const run_output *o, pid_t child, const char *prog, const run_leaks *leaks)
{
    size_t n;
    run_prof *rs = collect(o, leaks, &n);
    if (rs)
        qsort(rs, n, sizeof *rs, cmp_prof);
    run_prof *mine = rs ? main_profile(rs, n, child) : NULL;
    if (mine && o->final[0])
        move_to_final(o, mine);
    /* Before anything can rebuild or delete the binaries: the profiles
     * stay readable without them, and a diff can match across a rebuild. */
    for (size_t i = 0; i < n; i++) {
        char err[512];
        if (cli_names_store(rs[i].path, err, sizeof err) < 0) /* an unreadable one: load says */
            fprintf(stderr, "tally: %s: names not stored: %s\n", run_output_shown(o, rs[i].path),
                    err);
    }
    int errors = 0;
    if (mine)
        errors = summarize(o, mine, prog, leaks);
    else
        fprintf(stderr, "tally run: %s (pid %d) wrote no profile (looked for %s)\n", prog,
                (int)child, run_output_shown(o, o->pattern));
    if (n > 1 || (n == 1 && !mine))
        table(o, rs, n, mine);
    for (size_t i = 0; i < n; i++)
        free(rs[i].path);
    free(rs);
    run_output_tidy(o);
    return errors;
}
