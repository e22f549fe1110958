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
#include <stddef.h>
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

/* The stack slot r->ip was read from: just below the CFA on x86-64. */
static inline const uintptr_t *tt_fast_slot(const tt_fast_regs *r)
{
    return (const uintptr_t *)(r->sp - sizeof(uintptr_t));
}

/* A rule packed in 64 bits, 0 meaning "not stored yet": the CFA's offset
 * in the low 32 bits, RBP's place (from the CFA) in the next 16. */
#define TT_RULE_PRESENT (1ull << 63)
#define TT_RULE_NOT_SIMPLE (1ull << 52)
#define TT_RULE_NO_FDE (1ull << 51) /* with TT_RULE_NOT_SIMPLE: no FDE covers the pc */
#define TT_RULE_OUTERMOST (1ull << 50)
#define TT_RULE_RBP_SAVED (1ull << 49)
#define TT_RULE_CFA_ON_RBP (1ull << 48)

/* The shared table's slot for pc (fast_unwind.c); a thread's cache takes
 * its low bits. */
#define TT_RULE_TABLE_BITS 17
static inline uint32_t tt_rule_hash(uintptr_t pc)
{
    return (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> (64 - TT_RULE_TABLE_BITS));
}

/* pc's rule from the shared table, looked up in the object's .eh_frame and
 * stored there the first time. */
uint64_t tt_fast_rule(uintptr_t pc);

/* One step outwards, through l1 (NULL: the shared table only): r becomes its caller's frame (r->ip
 * the return address read from tt_fast_slot(r)). 1 after a step; 0 at the outermost frame (r
 * unchanged or its return address 0); -1 when the frame's rule is missing or not simple, or the
 * stack does not look sane (each CFA above the last, within 1 GiB): the caller then asks libunwind.
 * Inline: a capture that misses its stack cache steps a few frames, and as a call each step took
 * r through memory; inlined, the walk keeps r in registers (callgrind, cc1 full: its misses cost
 * 10% fewer instructions). Reads other frames' stack slots, which the sanitizer would call
 * overflows. */
__attribute__((no_sanitize_address)) static inline int tt_fast_step(tt_fast_regs *r,
                                                                    tt_rule_cache *l1)
{
    /* The rule at the call instruction, not after it: the return address
     * may start another function's code (a call to a noreturn function). */
    uintptr_t pc = r->ip - 1;
    uint64_t rule;
    if (l1) {
        unsigned slot = tt_rule_hash(pc) & (TT_RULE_L1_SLOTS - 1);
        if (__builtin_expect(l1->e[slot].pc == pc, 1)) {
            rule = l1->e[slot].rule;
        } else {
            rule = tt_fast_rule(pc);
            l1->e[slot].pc = pc;
            l1->e[slot].rule = rule;
        }
    } else {
        rule = tt_fast_rule(pc);
    }
    if (__builtin_expect((rule & TT_RULE_NOT_SIMPLE) != 0, 0)) {
        /* Code with no unwind table, and no frame pointer to follow: the
         * loader's _dl_start_user, which calls the libraries' constructors
         * with RBP cleared. libunwind ends its walk there too, with this
         * frame. Whether it ends depends on RBP, so the stack cache checks
         * it (rbp_used). Anything else with no rule is libunwind's. */
        if ((rule & TT_RULE_NO_FDE) && r->rbp == 0) {
            r->rbp_used = true;
            return 0;
        }
        return -1;
    }
    if (rule & TT_RULE_OUTERMOST)
        return 0;
    r->rbp_used = (rule & TT_RULE_CFA_ON_RBP) != 0;
    uintptr_t cfa = (r->rbp_used ? r->rbp : r->sp) + (uintptr_t)(int64_t)(int32_t)rule;
    if (cfa <= r->sp || cfa - r->sp > ((uintptr_t)1 << 30) || (cfa & 7))
        return -1;
    r->rbp_from = NULL;
    if (rule & TT_RULE_RBP_SAVED) {
        r->rbp_from = (const uintptr_t *)(cfa + (uintptr_t)(int64_t)(int16_t)(rule >> 32));
        r->rbp = *r->rbp_from;
    }
    r->ip = *(const uintptr_t *)(cfa - sizeof(uintptr_t));
    r->sp = cfa;
    return r->ip != 0;
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
