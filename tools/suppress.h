/* suppress.h: leak suppressions in LeakSanitizer's format.
 *
 *   # a comment
 *   leak:<glob>
 *
 * A glob matches a stack when it matches any frame's function (a C++ one
 * demangled, or mangled), source file or module, as a substring unless anchored with ^ or $ (LSan's
 * rules);
 * '*' and '?' are wildcards. Lines of other kinds (race:, ...) are ignored,
 * so one file can serve several tools. */
#ifndef TALLY_SUPPRESS_H
#define TALLY_SUPPRESS_H

#include "symbolize.h"

#include <stddef.h>

typedef struct cli_suppressions cli_suppressions;

/* builtin: start with the suppressions for libc's one-time allocations. */
cli_suppressions *cli_supp_new(int builtin);
void cli_supp_free(cli_suppressions *s);
/* Adds a file's rules. 0, or -1 with a message in err. */
int cli_supp_load(cli_suppressions *s, const char *path, char *err, size_t errlen);
/* The rule ("leak:...") that suppresses the stack, or NULL; *builtin says
 * whether it is one of ours. A NULL stack (not sampled) is never suppressed. */
const char *cli_supp_match(const cli_suppressions *s, cli_symbolizer *sym, const prof_stack *st,
                           int *builtin);

#endif
