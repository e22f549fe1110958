/* symbolize.h: the tools' view of a profile's names: those it stores
 * (NAMES), then the shared symbolizer (lib/symbolize) offline, over the
 * modules the profile lists, with libdw linked. C++ names
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
/* The frames of one return address, innermost (most inlined) first; *n >= 1:
 * the names the profile stores for it, else libdw's (started at the first
 * address that needs it). The result lives as long as the symbolizer. */
const cli_sym_frame *cli_sym_lookup(cli_symbolizer *s, uint64_t return_address, size_t *n);
/* The names the profile stores for one return address, or NULL. */
const cli_sym_frame *cli_sym_stored(const cli_symbolizer *s, uint64_t return_address, size_t *n);
/* The profile module holding addr, or NULL. */
const prof_module *cli_sym_module(const cli_symbolizer *s, uint64_t addr);

/* Stores the names of every frame of the profile at path in it (its NAMES
 * section, replacing one there), rewritten atomically: a temporary file in
 * the same directory renamed over it. For `tally run`, right after the
 * program ends, and `tally report --store-names`. 0; 1 when the file cannot
 * be read as a profile, -1 when its names cannot be stored; the reason in
 * err, one line. A profile whose frames are all named already is left as
 * it is. */
int cli_names_store(const char *path, char *err, size_t errlen);

#endif
