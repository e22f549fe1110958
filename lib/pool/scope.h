/* scope.h: which pool a thread's untyped allocations (malloc) are charged
 * to, for the preload shim. */
#ifndef TALLY_POOL_SCOPE_H
#define TALLY_POOL_SCOPE_H

#include <stdint.h>

#include "base/export.h"

/* The pool set by this thread's innermost tally_scope_push, or -1.
 * Initial-exec TLS: safe inside malloc. */
TALLY_INTERNAL int32_t tally_scope_pool_id(void);

#endif
