/* scope.h: which pool a thread's untyped allocations (malloc) are charged
 * to, for the preload shim. */
#ifndef TALLY_POOL_SCOPE_H
#define TALLY_POOL_SCOPE_H

#include <stdint.h>

#include "base/export.h"

/* The id of the pool set by this thread's innermost tally_scope_push, plus
 * one (0: no scope, so that the TLS starts zeroed). Initial-exec TLS: the
 * shim reads it inside malloc without a call, and reaching it never
 * allocates. */
extern TALLY_INTERNAL __thread int32_t tally_scope_current_plus_one
    __attribute__((tls_model("initial-exec")));

/* The pool set by this thread's innermost tally_scope_push, or -1. */
static inline int32_t tally_scope_pool_id(void)
{
    return tally_scope_current_plus_one - 1;
}

#endif
