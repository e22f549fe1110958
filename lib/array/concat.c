/* concat.c: one array from many, every buffer new in the caller's pool. */
#include "array/array_internal.h"

#include <errno.h>

int tally_array_concat(tally_array *const *arrays, int n, tally_pool *pool, tally_error *error,
                       tally_array **out)
{
    (void)arrays;
    (void)n;
    (void)pool;
    (void)error;
    (void)out;
    return ENOSYS; /* not yet */
}
