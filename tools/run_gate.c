/* run_gate.c: `tally run --max-peak SIZE --max-leaked SIZE`, a gate for
 * test suites (as pytest-memray's limit_memory and limit_leaks are for
 * Python's). It reads the summary's session, after the summary: the peak
 * is the profile's global one; the leaked bytes are those of the kinds
 * --errors-for-leak-kinds names (by default definitely and indirectly
 * lost, what the summary calls leaks), suppressed blocks left out. A limit
 * exceeded is said with the stack that did it most, so that a failing
 * test names the code to look at; run.c decides the exit status. */
#include <config.h>

#include "report.h"
#include "run.h"

/* The frames of a gate's stack: enough to see the caller that matters. */
#define GATE_FRAMES 12

static void say_limit(const char *opt, int64_t limit, const char *what, int64_t value)
{
    char l[32], v[32];
    fprintf(stderr, "tally run: --%s %s exceeded: %s %s (%lld bytes, limit %lld)\n", opt,
            report_human(limit, l), what, report_human(value, v), (long long)value,
            (long long)limit);
}

static void check_peak(run_gate *g, report_ctx *c)
{
    int64_t peak = report_peak_total(c);
    if (peak <= g->max_peak)
        return;
    g->exceeded = 1;
    say_limit("max-peak", g->max_peak, "the peak was", peak);
    if (c->npeak == 0)
        return;
    /* by_peak is sorted: the first record held the most at the peak. */
    const prof_record *r = c->by_peak[0];
    char b[32];
    fprintf(stderr, "tally run: the stack with the most bytes at the peak, %s in pool %s:\n",
            report_human(r->peak_bytes, b), prof_pool_name(c->p, r->pool_id));
    report_print_stack(stderr, c->sym, c->p, r->stack_id, "    ", GATE_FRAMES);
}

static void check_leaked(run_gate *g, report_ctx *c)
{
    if (!c->p->classified) {
        /* A gate that cannot look must not pass. */
        g->exceeded = 1;
        fprintf(stderr, "tally run: --max-leaked cannot be checked: no leak check ran on the "
                        "program's profile\n");
        return;
    }
    int64_t leaked = 0;
    for (uint32_t k = 0; k < PROF_LEAK_KINDS; k++)
        if (g->leak_kinds >> k & 1)
            leaked += c->kind_bytes[k];
    if (leaked <= g->max_leaked)
        return;
    g->exceeded = 1;
    say_limit("max-leaked", g->max_leaked, "leaked", leaked);
    /* Each list is sorted largest first: its first group of a counted
     * kind is its largest. Suppressed groups are in none of these. */
    const leak_group *top = NULL;
    static const int lists[] = {REPORT_LOST, REPORT_POSSIBLE, REPORT_REACHABLE};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        const leak_list *l = &c->lists[lists[i]];
        for (size_t j = 0; j < l->n; j++)
            if (g->leak_kinds >> l->g[j].kind & 1) {
                if (!top || l->g[j].bytes > top->bytes)
                    top = &l->g[j];
                break;
            }
    }
    if (!top)
        return;
    char b[32];
    fprintf(stderr, "tally run: the largest leak, %s in %lld %s %s in pool %s:\n",
            report_human(top->bytes, b), (long long)top->count,
            top->count == 1 ? "block" : "blocks", report_kind_phrase(top->kind),
            prof_pool_name(c->p, top->pool_id));
    report_print_stack(stderr, c->sym, c->p, top->stack_id, "    ", GATE_FRAMES);
}

void run_gate_check(run_gate *g, report_ctx *c)
{
    g->checked = 1;
    if (g->max_peak >= 0)
        check_peak(g, c);
    if (g->max_leaked >= 0)
        check_leaked(g, c);
}
