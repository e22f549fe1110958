/* eh_frame.h: the unwind rule at one code address, read from the loaded
 * object's own .eh_frame (through its .eh_frame_hdr search table).
 *
 * The rule is what an x86-64 unwinder needs to go from one frame to its
 * caller when the frame's CFA is RSP or RBP plus an offset: where the CFA
 * is, and where the caller's RBP was saved. Everything else DWARF can say
 * (expressions, registers copied to other registers, signal frames) is
 * "not simple", and its caller falls back to libunwind. */
#ifndef TALLY_TRACK_EH_FRAME_H
#define TALLY_TRACK_EH_FRAME_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int32_t cfa_offset; /* CFA = (cfa_on_rbp ? RBP : RSP) + cfa_offset */
    int16_t rbp_offset; /* the caller's RBP is at CFA + rbp_offset, when rbp_saved */
    bool cfa_on_rbp;
    bool rbp_saved;
    bool outermost; /* the return address is undefined: no caller */
    bool no_fde;    /* (when false is returned) no FDE covers pc at all */
} tt_frame_rule;

/* The rule in force at pc (for a return address, pass the address of the
 * call: return address - 1). false when pc has no FDE (out->no_fde set) or
 * its rule is not simple. Cold path: takes the loader's lock
 * (dl_iterate_phdr) and parses. */
bool tt_eh_frame_rule(uintptr_t pc, tt_frame_rule *out);

#endif
