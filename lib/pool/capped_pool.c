/* capped_pool.c: a forwarding pool with a limit on its bytes_allocated.
 *
 * The limit is enforced where the books are kept (pool_stats_reserve), so
 * the check and the booking are one atomic step. */
#include "pool/pool_internal.h"

tally_pool *tally_capped_pool_new(tally_pool *parent, int64_t limit)
{
    if (limit < 0)
        return NULL;
    char name[64];
    snprintf(name, sizeof name, "capped(%lld)", (long long)limit);
    tally_pool *pool = pool_new_wrapper(sizeof(tally_pool), &pool_forwarding_vtable, parent, name);
    if (pool)
        pool->limit = limit;
    return pool;
}
