/* fast_unwind.c: tally's own x86-64 unwinder (see fast_unwind.h).
 *
 * The rule table is open-addressed and insert-only, shared by all threads
 * without a lock: a slot's key is claimed with a compare-and-swap, then its
 * rule is published with a release store. A reader that finds the key but
 * not yet the rule computes the rule itself, so no one waits. The table
 * lives in .bss: pages are touched only as rules are stored. When it is
 * full, rules are computed each time (slow, still right). */
#include "track/fast_unwind.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/assert.h"
#include "track/eh_frame.h"

__asm__(".text\n"
        ".globl tt_fast_unwind_regs\n"
        ".hidden tt_fast_unwind_regs\n"
        ".type tt_fast_unwind_regs,@function\n"
        "tt_fast_unwind_regs:\n"
        ".cfi_startproc\n"
        "    movq (%rsp), %rax\n"
        "    movq %rax, 0(%rdi)\n" /* ip: where the caller resumes */
        "    leaq 8(%rsp), %rax\n"
        "    movq %rax, 8(%rdi)\n"  /* sp: the caller's, once we return */
        "    movq %rbp, 16(%rdi)\n" /* rbp: untouched by this function */
        "    ret\n"
        ".cfi_endproc\n"
        ".size tt_fast_unwind_regs, .-tt_fast_unwind_regs\n");

#define TABLE_SIZE (1u << TT_RULE_TABLE_BITS)
#define MAX_PROBE 32

typedef struct {
    _Atomic uintptr_t pc;
    _Atomic uint64_t rule;
} rule_slot;

static rule_slot table[TABLE_SIZE];
static _Atomic uint64_t cached;

static uint64_t pack(bool simple, const tt_frame_rule *r)
{
    if (!simple)
        return TT_RULE_PRESENT | TT_RULE_NOT_SIMPLE | (r->no_fde ? TT_RULE_NO_FDE : 0);
    return TT_RULE_PRESENT | (uint32_t)r->cfa_offset | (uint64_t)(uint16_t)r->rbp_offset << 32 |
           (r->cfa_on_rbp ? TT_RULE_CFA_ON_RBP : 0) | (r->rbp_saved ? TT_RULE_RBP_SAVED : 0) |
           (r->outermost ? TT_RULE_OUTERMOST : 0);
}

static __attribute__((noinline)) uint64_t compute(uintptr_t pc)
{
    tt_frame_rule r = {0};
    return pack(tt_eh_frame_rule(pc, &r), &r);
}

static __attribute__((noinline)) uint64_t rule_slow(uint32_t h, uintptr_t pc)
{
    uint64_t rule = compute(pc);
    for (uint32_t i = 0; i < MAX_PROBE; i++) {
        rule_slot *s = &table[(h + i) & (TABLE_SIZE - 1)];
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&s->pc, &expected, pc, memory_order_relaxed,
                                                    memory_order_relaxed)) {
            atomic_store_explicit(&s->rule, rule, memory_order_release);
            atomic_fetch_add_explicit(&cached, 1, memory_order_relaxed);
            return rule;
        }
        if (expected == pc) /* another thread stored it, or is storing it */
            return rule;
    }
    return rule;
}

uint64_t tt_fast_rule(uintptr_t pc)
{
    uint32_t h = tt_rule_hash(pc);
    for (uint32_t i = 0; i < MAX_PROBE; i++) {
        rule_slot *s = &table[(h + i) & (TABLE_SIZE - 1)];
        uintptr_t k = atomic_load_explicit(&s->pc, memory_order_relaxed);
        if (k == pc) {
            uint64_t rule = atomic_load_explicit(&s->rule, memory_order_acquire);
            if (rule)
                return rule;
            break;
        }
        if (k == 0)
            break;
    }
    return rule_slow(h, pc);
}

uint64_t tt_fast_unwind_rules_cached(void)
{
    return atomic_load_explicit(&cached, memory_order_relaxed);
}

int tt_fast_unwind(const tt_fast_regs *start, uintptr_t *ips, const uintptr_t **slots, int max,
                   tt_rule_cache *l1)
{
    tt_fast_regs r = *start;
    int n = 0, step;
    while (n < max && (step = tt_fast_step(&r, l1)) != 0) {
        if (step < 0)
            return -1;
        ips[n] = r.ip;
        if (slots)
            slots[n] = tt_fast_slot(&r);
        n++;
    }
    return n;
}
