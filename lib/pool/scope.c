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

int tally_scope_push(tally_pool *pool)
{
    if (scope_depth == MAX_SCOPES)
        return EOVERFLOW;
    scope_ids[scope_depth++] = tally_pool_id(pool);
    return 0;
}

void tally_scope_pop(void)
{
    if (scope_depth > 0)
        scope_depth--;
}

TALLY_INTERNAL int32_t tally_scope_pool_id(void)
{
    int d = scope_depth;
    return d > 0 ? scope_ids[d - 1] : -1;
}
