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

/* A rule packed in 64 bits, 0 meaning "not stored yet". */
#define R_PRESENT (1ull << 63)
#define R_NOT_SIMPLE (1ull << 52)
#define R_NO_FDE (1ull << 51) /* with R_NOT_SIMPLE: no FDE covers the pc */
#define R_OUTERMOST (1ull << 50)
#define R_RBP_SAVED (1ull << 49)
#define R_CFA_ON_RBP (1ull << 48)

#define TABLE_BITS 17
#define TABLE_SIZE (1u << TABLE_BITS)
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
        return R_PRESENT | R_NOT_SIMPLE | (r->no_fde ? R_NO_FDE : 0);
    return R_PRESENT | (uint32_t)r->cfa_offset | (uint64_t)(uint16_t)r->rbp_offset << 32 |
           (r->cfa_on_rbp ? R_CFA_ON_RBP : 0) | (r->rbp_saved ? R_RBP_SAVED : 0) |
           (r->outermost ? R_OUTERMOST : 0);
}

static __attribute__((noinline)) uint64_t compute(uintptr_t pc)
{
    tt_frame_rule r = {0};
    return pack(tt_eh_frame_rule(pc, &r), &r);
}

static inline uint32_t hash_pc(uintptr_t pc)
{
    return (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> (64 - TABLE_BITS));
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

static inline uint64_t rule_for(uintptr_t pc)
{
    uint32_t h = hash_pc(pc);
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

/* Reads other frames' stack slots, which the sanitizer would call overflows. */
__attribute__((no_sanitize_address)) int tt_fast_step(tt_fast_regs *r, tt_rule_cache *l1)
{
    /* The rule at the call instruction, not after it: the return address
     * may start another function's code (a call to a noreturn function). */
    uintptr_t pc = r->ip - 1;
    uint64_t rule;
    if (l1) {
        unsigned slot = hash_pc(pc) & (TT_RULE_L1_SLOTS - 1);
        if (__builtin_expect(l1->e[slot].pc == pc, 1)) {
            rule = l1->e[slot].rule;
        } else {
            rule = rule_for(pc);
            l1->e[slot].pc = pc;
            l1->e[slot].rule = rule;
        }
    } else {
        rule = rule_for(pc);
    }
    if (rule & R_NOT_SIMPLE) {
        /* Code with no unwind table, and no frame pointer to follow: the
         * loader's _dl_start_user, which calls the libraries' constructors
         * with RBP cleared. libunwind ends its walk there too, with this
         * frame. Whether it ends depends on RBP, so the stack cache checks
         * it (rbp_used). Anything else with no rule is libunwind's. */
        if ((rule & R_NO_FDE) && r->rbp == 0) {
            r->rbp_used = true;
            return 0;
        }
        return -1;
    }
    if (rule & R_OUTERMOST)
        return 0;
    r->rbp_used = (rule & R_CFA_ON_RBP) != 0;
    uintptr_t cfa = (r->rbp_used ? r->rbp : r->sp) + (uintptr_t)(int64_t)(int32_t)rule;
    if (cfa <= r->sp || cfa - r->sp > ((uintptr_t)1 << 30) || (cfa & 7))
        return -1;
    r->rbp_from = NULL;
    if (rule & R_RBP_SAVED) {
        r->rbp_from = (const uintptr_t *)(cfa + (uintptr_t)(int64_t)(int16_t)(rule >> 32));
        r->rbp = *r->rbp_from;
    }
    r->ip = *(const uintptr_t *)(cfa - sizeof(uintptr_t));
    r->sp = cfa;
    return r->ip != 0;
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
