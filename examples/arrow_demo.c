/* arrow_demo: the story end to end. Builds an int64 column with a builder,
 * slices it, shares it zero-copy through the Arrow C Data Interface, and
 * prints the pool's books at each step: slicing and sharing cost a few
 * control blocks, never a copy of the data. */
#include <tally/tally.h>

#include <stdio.h>

#define ROWS 1000000

static void show(const char *step, const tally_pool *pool)
{
    printf("%-44s bytes_allocated=%-9lld peak=%lld\n", step,
           (long long)tally_pool_bytes_allocated(pool), (long long)tally_pool_max_memory(pool));
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "arrow_demo: %s failed (error %d)\n", what, rc);
    return 1;
}

int main(void)
{
    tally_pool *pool = tally_proxy_pool_new(tally_default_pool(), "column");
    if (!pool)
        return fail("tally_proxy_pool_new", 0);
    show("start", pool);

    tally_builder *b;
    int rc = tally_builder_new(TALLY_TYPE_INT64, pool, &b);
    if (rc != 0)
        return fail("tally_builder_new", rc);
    for (int64_t i = 0; i < ROWS && rc == 0; i++)
        rc = i % 100 == 0 ? tally_builder_append_null(b) : tally_builder_append_int(b, i * i);
    if (rc != 0)
        return fail("append", rc);
    show("1M int64 appended (capacity doubles)", pool);

    tally_array *column;
    if ((rc = tally_builder_finish(b, &column)) != 0)
        return fail("tally_builder_finish", rc);
    tally_builder_destroy(b);
    show("finished: buffers shrunk to fit", pool);

    tally_array *window;
    if ((rc = tally_array_slice(column, 500000, 10, &window)) != 0)
        return fail("tally_array_slice", rc);
    show("sliced 10 rows (no copy)", pool);

    struct ArrowArray c_array;
    struct ArrowSchema c_schema;
    if ((rc = tally_array_export(window, &c_array, &c_schema)) != 0)
        return fail("tally_array_export", rc);
    tally_array_release(window);
    tally_array_release(column);
    show("exported; tally's own handles released", pool);

    /* The consumer side: any Arrow runtime could take c_array here. */
    tally_array *imported;
    if ((rc = tally_array_import_with_pool(pool, &c_array, &c_schema, &imported)) != 0)
        return fail("tally_array_import", rc);
    show("imported back (no copy)", pool);
    printf("format \"%s\", %lld rows from offset %lld, %lld nulls:\n",
           tally_type_format(TALLY_TYPE_INT64), (long long)tally_array_length(imported),
           (long long)tally_array_offset(imported), (long long)tally_array_null_count(imported));
    for (int64_t i = 0; i < tally_array_length(imported); i++) {
        if (tally_array_is_valid(imported, i))
            printf("  %lld\n", (long long)tally_array_get_int(imported, i));
        else
            printf("  null\n");
    }

    tally_array_release(imported);
    show("consumer released: every byte back", pool);
    tally_pool_destroy(pool);
    return 0;
}
