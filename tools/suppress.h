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
/* How many rules there are. */
size_t cli_supp_count(const cli_suppressions *s);
/* The first rule that matches one of the return address's frames (inlined
 * ones first, as the symbolizer lists them), or -1. A stack is suppressed
 * by the first of its frames, innermost first, that a rule matches: the
 * caller walks the stack and asks once per address, so a report with a
 * million stacks over a few thousand addresses matches a few thousand
 * times. */
long cli_supp_match_address(const cli_suppressions *s, cli_symbolizer *sym, uint64_t addr);
/* Rule i as written ("leak:..."); *builtin says whether it is one of ours. */
const char *cli_supp_rule(const cli_suppressions *s, long i, int *builtin);

#endif
