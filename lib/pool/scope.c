/* scope.c: which pool this thread's untyped allocations (malloc) go to.
 *
 * A small stack in initial-exec TLS: the shim reads it inside malloc, where
 * a TLS access that could allocate would recurse. */
#include <config.h>

#include "pool/scope.h"

#include <tally/pool.h>
#include <tally/track.h>

#include <errno.h>

#define MAX_SCOPES 64

static __thread int32_t scope_ids[MAX_SCOPES] __attribute__((tls_model("initial-exec")));
static __thread int scope_depth __attribute__((tls_model("initial-exec")));
TALLY_INTERNAL __thread int32_t tally_scope_current_plus_one
    __attribute__((tls_model("initial-exec")));

int tally_scope_push(tally_pool *pool)
{
    if (scope_depth == MAX_SCOPES)
        return EOVERFLOW;
    int32_t id = tally_pool_id(pool);
    scope_ids[scope_depth++] = id;
    tally_scope_current_plus_one = id + 1;
    return 0;
}

void tally_scope_pop(void)
{
    if (scope_depth > 0)
        scope_depth--;
    tally_scope_current_plus_one = scope_depth > 0 ? scope_ids[scope_depth - 1] + 1 : 0;
}
