/* fast_unwind.h: tally's own x86-64 unwinder, for the common frames.
 *
 * Each return address's unwind rule (eh_frame.h) is looked up once, in the
 * object's .eh_frame, and kept in a process-wide table keyed by the address.
 * After that, a step from one frame to its caller is a hash probe and two
 * loads: no lock, no system call. libunwind's unw_step, by contrast, blocks
 * every signal around its lookups on each step (two rt_sigprocmask calls),
 * which dominated full tracking on programs with deep, varied stacks. */
#ifndef TALLY_TRACK_FAST_UNWIND_H
#define TALLY_TRACK_FAST_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

/* The registers an unwind starts from: a return address in the function
 * that called tt_fast_unwind_regs, and that function's RSP and RBP just
 * after the call. */
typedef struct {
    uintptr_t ip, sp, rbp;
    /* Set by each step: where rbp was just read from, NULL when the step
     * kept it. With the slot ip was read from, all the memory a step
     * reads: a walk that reads the same values from the same places from
     * the same registers is the same walk. */
    const uintptr_t *rbp_from;
    /* Set by each step: the step used the frame's RBP (its CFA is RBP
     * plus an offset). A value of RBP no step uses does not matter. */
    bool rbp_used;
} tt_fast_regs;

/* Fills r's ip, sp and rbp for its caller. Written in assembly: no compiler may move RBP or
 * RSP between the call and the capture. */
void tt_fast_unwind_regs(tt_fast_regs *r);

/* A thread's direct-mapped copy of the rules it used last: the shared
 * table is large enough that each probe of it is a cache miss. Zeroed
 * memory is an empty cache. */
#define TT_RULE_L1_SLOTS 1024
typedef struct {
    struct {
        uintptr_t pc;
        uint64_t rule;
    } e[TT_RULE_L1_SLOTS];
} tt_rule_cache;

/* One step outwards, through l1 (NULL: the shared table only): r becomes its caller's frame (r->ip
 * the return address read from tt_fast_slot(r)). 1 after a step; 0 at the outermost frame (r
 * unchanged or its return address 0); -1 when the frame's rule is missing or not simple, or the
 * stack does not look sane (each CFA above the last, within 1 GiB): the caller then asks libunwind.
 */
int tt_fast_step(tt_fast_regs *r, tt_rule_cache *l1);

/* The stack slot r->ip was read from: just below the CFA on x86-64. */
static inline const uintptr_t *tt_fast_slot(const tt_fast_regs *r)
{
    return (const uintptr_t *)(r->sp - sizeof(uintptr_t));
}

/* Walks outwards from r: ips[i] is the i-th caller's return address and
 * slots[i] the stack slot it was read from (ips[0] is r's caller's return
 * address); slots may be NULL. At most max frames. Returns the number of
 * frames, or -1 when a step returns -1. */
int tt_fast_unwind(const tt_fast_regs *r, uintptr_t *ips, const uintptr_t **slots, int max,
                   tt_rule_cache *l1);

/* Rules looked up and kept, for tests and the bench notes. */
uint64_t tt_fast_unwind_rules_cached(void);

#endif
