/* c_table.c: schemas and record batches through the C Data Interface, as a
 * struct array of their columns. */
#include <tally/c_data.h>

#include "array/array_internal.h"

#include <errno.h>

int tally_schema_export(const tally_schema *s, struct ArrowSchema *out)
{
    (void)s;
    (void)out;
    return ENOSYS; /* not yet */
}

int tally_schema_import(tally_pool *pool, const struct ArrowSchema *schema, tally_error *error,
                        tally_schema **out)
{
    (void)pool;
    (void)schema;
    (void)error;
    (void)out;
    return ENOSYS; /* not yet */
}

int tally_record_batch_export(const tally_record_batch *rb, struct ArrowArray *out_array,
                              struct ArrowSchema *out_schema)
{
    (void)rb;
    (void)out_array;
    (void)out_schema;
    return ENOSYS; /* not yet */
}

int tally_record_batch_import(tally_pool *pool, struct ArrowArray *array,
                              struct ArrowSchema *schema, tally_error *error,
                              tally_record_batch **out)
{
    (void)pool;
    (void)array;
    (void)schema;
    (void)error;
    (void)out;
    return ENOSYS; /* not yet */
}
