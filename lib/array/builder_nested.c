/* builder_nested.c: list and struct builders: child builders, elements. */
#include "array/builder_internal.h"
#include "array/array_internal.h"
#include "array/layout.h"

#include <errno.h>

int tally_builder_new_typed(tally_datatype *type, tally_pool *pool, tally_builder **out)
{
    if (!type || !out)
        return EINVAL;
    if (!tally_type_is_nested(type->id))
        return tally_builder_new(type->id, pool, out);
    return ENOSYS; /* not yet */
}

int tally_builder_n_children(const tally_builder *b)
{
    (void)b;
    return 0;
}

tally_builder *tally_builder_child(tally_builder *b, int k)
{
    (void)b;
    (void)k;
    return NULL;
}

int tally_builder_append_element(tally_builder *b)
{
    return b ? EINVAL : EINVAL;
}

tally_datatype *tally_builder_datatype(const tally_builder *b)
{
    return b ? tally_datatype_of(b->type) : NULL;
}
