/* report.h: what every report format shares: the loaded profile, the
 * symbolizer, the suppressions and the derived lists (leak groups by class,
 * what each suppression hid, the stacks that held the peak, the top
 * allocating stacks). */
#ifndef TALLY_REPORT_H
#define TALLY_REPORT_H

#include "cli.h"
#include "profile/read.h"
#include "suppress.h"
#include "symbolize.h"

#include <stdint.h>
#include <stdio.h>

/* What folded counts: bytes allocated, lost (definitely and indirectly),
 * live at the end, held at the peak, or temporary allocations. */
typedef enum { COST_ALLOCATED, COST_LEAKED, COST_LIVE, COST_PEAK, COST_TEMPORARY } report_cost;

/* Live blocks with one stack, pool and kind (a profile's LEAKS group). */
typedef struct {
    uint32_t stack_id; /* 0: not sampled */
    int32_t pool_id;
    uint32_t kind; /* PROF_LEAK_*: LIVE when no leak check ran */
    int64_t bytes, count;
    const char *rule; /* the suppression that matched, or NULL */
    int builtin;
} leak_group;

/* A list of groups, largest first, and its totals. */
typedef struct {
    leak_group *g;
    size_t n;
    size_t stacks; /* distinct stacks: a stack's blocks may fall in two kinds */
    int64_t bytes, count;
} leak_list;

/* The lists a report shows, memcheck's way: the lost blocks (definitely and
 * indirectly) are the leaks; possibly lost are listed apart; still reachable
 * are a total unless asked for; live blocks (no leak check ran) are not
 * called leaks at all. Suppressed groups, of any kind, go to their own list. */
enum {
    REPORT_LOST,
    REPORT_POSSIBLE,
    REPORT_REACHABLE,
    REPORT_LIVE,
    REPORT_SUPPRESSED,
    REPORT_LISTS
};

/* What one suppression rule hid. */
typedef struct {
    const char *rule;
    int builtin;
    int64_t bytes, count;
} report_rule_use;

typedef struct report_ctx {
    /* The session: report_open opens these, report_close closes them. */
    const char *path;
    prof_profile *p;
    cli_symbolizer *sym;
    cli_suppressions *supp;
    int ready; /* the lists below are derived: the session can report */

    /* The caller's. */
    FILE *out;
    int want_pools, want_peak, want_leaks, want_top; /* the sections asked for */
    long top;                                        /* list limit; < 0: no limit */
    report_cost cost;                                /* folded only */
    uint32_t max_frames;                             /* text: frames shown per stack; 0: all */
    int show_reachable; /* text, html: list the still reachable groups, not only their total */

    /* Derived once, by report_open. */
    leak_list lists[REPORT_LISTS];
    /* per PROF_LEAK_* kind, the groups not suppressed */
    int64_t kind_bytes[PROF_LEAK_KINDS], kind_count[PROF_LEAK_KINDS];
    report_rule_use *rules; /* the rules that hid something, most bytes first */
    size_t nrules;
    const prof_record **by_peak; /* records with peak_bytes > 0, largest first */
    size_t npeak;
    const prof_record **by_total; /* every record, most bytes allocated first */
    size_t ntotal;
} report_ctx;

/* Opens a report session on the profile at path, for `tally report` and
 * `tally run`: reads the profile, the suppressions (libc's built-in ones when
 * builtin, then each of files[nfiles]), starts the symbolizer and derives the
 * lists. Returns an exit status, its message printed:
 *   CLI_EXIT_OK          the session is ready
 *   CLI_EXIT_BAD_INPUT   the profile could not be read (c->p is NULL), or a
 *                        suppressions file could not (the others and the
 *                        rest of the session are ready all the same)
 *   CLI_EXIT_FAILURE     out of memory
 * c->ready says whether the session can report. report_close closes what
 * report_open opened, whatever it returned. */
int report_open(report_ctx *c, const char *path, const char *const *files, int nfiles, int builtin);
void report_close(report_ctx *c);
/* A kind's name in JSON, pprof labels and --errors-for-leak-kinds:
 * "definite", "indirect", "possible", "reachable", or "live". */
const char *report_kind_name(uint32_t kind);
/* A kind as memcheck words it for people: "definitely lost", "indirectly
 * lost", "possibly lost", "still reachable", or "live". */
const char *report_kind_phrase(uint32_t kind);
/* A set of kinds as valgrind's --errors-for-leak-kinds takes it: a comma
 * list of definite, indirect, possible, reachable, or all, or none. 0 and
 * *mask (bit 1 << PROF_LEAK_*), or EINVAL. */
int report_parse_kinds(const char *text, unsigned *mask);
#define REPORT_KIND_NAMES "definite, indirect, possible, reachable, all or none"
/* How many of n items a list shows under --top. */
size_t report_limit(const report_ctx *c, size_t n);
/* "1.5 MiB" etc. */
const char *report_human(int64_t bytes, char buf[32]);
/* The global peak: META's, or the sum of the records' peak bytes when META has none. */
int64_t report_peak_total(const report_ctx *c);

/* The nodes from the root down to node, outermost frame first, into
 * out[PROF_MAX_FRAMES]: how many (the node's depth). */
uint32_t report_stack_path(const prof_profile *p, uint32_t node, uint32_t *out);

/* Prints a stack, one line per frame (inlined frames on lines of their own):
 *   INDENT#1 0x000055d0c1a0b2a3 leaky_mid /src/x.c:42
 * or "INDENT(not sampled)" for stack 0. max_frames: 0 for all. */
void report_print_stack(FILE *out, cli_symbolizer *sym, const prof_profile *p, uint32_t stack_id,
                        const char *indent, uint32_t max_frames);

/* The formats: each writes to c->out and returns an exit status (cli.h). */
int report_text(report_ctx *c);
int report_json(report_ctx *c);
int report_folded(report_ctx *c);
int report_massif(report_ctx *c);
int report_pprof(report_ctx *c);
int report_html(report_ctx *c);
/* The short form `tally run` prints: a line with each class's total, the
 * lost stacks (up to c->top), the possibly lost ones apart, what each
 * suppression hid, and the peak. */
void report_text_summary(report_ctx *c);

/* Loads a profile for a command; prints "tally: PATH: message" and returns
 * NULL on failure (the caller exits CLI_EXIT_BAD_INPUT). report_open uses it;
 * diff, which needs neither suppressions nor the lists, calls it directly. */
prof_profile *report_load(const char *path);

#endif
