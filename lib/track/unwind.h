/* unwind.h: the caller's return addresses, and the stack cache that skips
 * the unwind when the same call site allocates again. No lock is taken. */
#ifndef TALLY_TRACK_UNWIND_H
#define TALLY_TRACK_UNWIND_H

#include "track/config.h"

void tt_unwind_init(void);
/* TALLY_UNWIND=check: one line on how tally's unwinder compared. */
void tt_unwind_report(void);
/* Return addresses of the caller, innermost first, with tally's own leading
 * frames dropped and then `skip` more. */
int tt_unwind(uintptr_t *frames, int depth, int skip);
void tt_unwind_add_own(uintptr_t lo, uintptr_t hi);
/* Unwinds (tally's frames and `skip` more dropped) and interns the stack. */
uint32_t tt_capture(int skip);

/* libunwind's walk from the frame whose return address is at ret_slot
 * outwards, with the slot each return address was read from; -1 when
 * ret_slot is not among the first 17 slots. */
int tt_unwind_slots(const uintptr_t *ret_slot, uintptr_t *frames, const uintptr_t **slots);
/* TALLY_UNWIND=check's counters: a compared capture, a walk left to libunwind. */
void tt_unwind_check_count(bool differ);
void tt_unwind_check_fallback(void);

/* A thread's cache of recent stacks, and of what walking them read
 * (stack_cache.c). */
typedef struct tt_stack_cache tt_stack_cache;
tt_stack_cache *tt_stack_cache_new(void); /* NULL when out of memory */
void tt_stack_cache_clear(tt_stack_cache *c);
/* tt_capture for the caller of the function whose return address is at
 * *ret_slot, through the calling thread's cache c (NULL: plain unwind).
 * That function keeps a frame pointer: ret_slot - 1 holds the RBP its
 * prologue pushed (shim_ret_slot gives only such slots). */
uint32_t tt_capture_from(tt_stack_cache *c, const uintptr_t *ret_slot, int skip);

#endif
