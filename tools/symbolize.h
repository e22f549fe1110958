/* symbolize.h: return addresses to functions, file:line and inlined frames.
 *
 * Offline, from the modules a profile lists: libdw reads each object's
 * DWARF (or its separate debug file) and, without debug info, its symbol
 * table. Results are cached per address: stacks share most of their frames.
 * C++ names come demangled (demangle.h), the mangled one kept beside. */
#ifndef TALLY_SYMBOLIZE_H
#define TALLY_SYMBOLIZE_H

#include "profile/read.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* never NULL: a name, or "module+0xoffset", or "0xaddress"; C++ names
     * demangled (tally_test::Widget::make(int) const) */
    const char *function;
    const char *file;   /* NULL when unknown */
    int line;           /* 0 when unknown */
    int inlined;        /* 1: inlined into the next frame of the same address */
    const char *module; /* the object's path, or NULL */
    int known;          /* 1 when a symbol was found */
    /* the name as the object spells it: C++'s mangled linkage name
     * (_ZNK10tally_test6Widget4makeEi); the same as function otherwise */
    const char *system_name;
} cli_sym_frame;

typedef struct cli_symbolizer cli_symbolizer;

cli_symbolizer *cli_sym_new(const prof_profile *p);
void cli_sym_free(cli_symbolizer *s);
/* The frames of one return address, innermost (most inlined) first; *n >= 1.
 * The result lives as long as the symbolizer. */
const cli_sym_frame *cli_sym_lookup(cli_symbolizer *s, uint64_t return_address, size_t *n);
/* The profile module holding addr, or NULL. */
const prof_module *cli_sym_module(const cli_symbolizer *s, uint64_t addr);

#endif
