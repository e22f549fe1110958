/* symbolize.h: the tools' view of the shared symbolizer (lib/symbolize):
 * offline, over the modules a profile lists, with libdw linked. C++ names
 * come demangled (sym_frame.function), the mangled one in system_name. */
#ifndef TALLY_SYMBOLIZE_H
#define TALLY_SYMBOLIZE_H

#include "profile/read.h"
#include "symbolize/symbolize.h"

#include <stddef.h>
#include <stdint.h>

typedef sym_frame cli_sym_frame;
typedef struct cli_symbolizer cli_symbolizer;

cli_symbolizer *cli_sym_new(const prof_profile *p);
void cli_sym_free(cli_symbolizer *s);
/* The frames of one return address, innermost (most inlined) first; *n >= 1.
 * The result lives as long as the symbolizer. */
const cli_sym_frame *cli_sym_lookup(cli_symbolizer *s, uint64_t return_address, size_t *n);
/* The profile module holding addr, or NULL. */
const prof_module *cli_sym_module(const cli_symbolizer *s, uint64_t addr);

#endif
