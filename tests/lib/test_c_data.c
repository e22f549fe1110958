/* test_c_data: the Arrow C Data Interface: export, import, and the release
 * protocol between tally and another runtime. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>

#include "pool_fixture.h"

/* ---- helpers ------------------------------------------------------------------ */

/* An array of every type: two values, a null, two values. */
static tally_array *sample(tally_type type)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(type, test_pool, &b), 0);
    for (int i = 0; i < 5; i++) {
        int rc;
        if (i == 2)
            rc = tally_builder_append_null(b);
        else if (type == TALLY_TYPE_BOOL)
            rc = tally_builder_append_bool(b, i % 2);
        else if (type == TALLY_TYPE_STRING || type == TALLY_TYPE_BINARY)
            rc = tally_builder_append_bytes(b, "xyzzy", i);
        else if (type == TALLY_TYPE_FLOAT || type == TALLY_TYPE_DOUBLE)
            rc = tally_builder_append_double(b, i + 0.5);
        else
            rc = tally_builder_append_int(b, 10 + i);
        ck_assert_int_eq(rc, 0);
    }
    tally_array *a;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    tally_builder_destroy(b);
    return a;
}

/* Counts the release calls of structs that tally exported, and forwards. */
static int exported_array_releases, exported_schema_releases;
static void (*tally_release_array)(struct ArrowArray *);
static void (*tally_release_schema)(struct ArrowSchema *);

static void counting_release_array(struct ArrowArray *a)
{
    exported_array_releases++;
    tally_release_array(a);
}

static void counting_release_schema(struct ArrowSchema *s)
{
    exported_schema_releases++;
    tally_release_schema(s);
}

static void count_releases(struct ArrowArray *a, struct ArrowSchema *s)
{
    tally_release_array = a->release;
    tally_release_schema = s->release;
    a->release = counting_release_array;
    s->release = counting_release_schema;
}

/* A foreign producer, with static memory and counters instead of tally. */
static int foreign_array_releases, foreign_schema_releases;

static void foreign_release_array(struct ArrowArray *a)
{
    foreign_array_releases++;
    a->release = NULL;
}

static void foreign_release_schema(struct ArrowSchema *s)
{
    foreign_schema_releases++;
    s->release = NULL;
}

struct foreign {
    struct ArrowArray array;
    struct ArrowSchema schema;
    const void *buffers[3];
};

static const int32_t foreign_ints[5] = {1, 2, 3, 4, 5};
static const uint8_t foreign_validity[1] = {0x1B}; /* 1,1,0,1,1 */
static const int32_t foreign_offsets[4] = {0, 1, 3, 6};
static const char foreign_chars[] = "abbccc";

static void foreign_init(struct foreign *f, const char *format, int64_t length, int64_t null_count,
                         const void *b0, const void *b1, const void *b2)
{
    memset(f, 0, sizeof *f);
    f->buffers[0] = b0;
    f->buffers[1] = b1;
    f->buffers[2] = b2;
    f->array = (struct ArrowArray){.length = length,
                                   .null_count = null_count,
                                   .n_buffers = b2 ? 3 : 2,
                                   .buffers = f->buffers,
                                   .release = foreign_release_array};
    f->schema = (struct ArrowSchema){
        .format = format, .flags = ARROW_FLAG_NULLABLE, .release = foreign_release_schema};
}

static void foreign_int32(struct foreign *f)
{
    foreign_init(f, "i", 5, 1, foreign_validity, foreign_ints, NULL);
}

static void foreign_string(struct foreign *f)
{
    foreign_init(f, "u", 3, 0, NULL, foreign_offsets, foreign_chars);
}

/* ---- export ------------------------------------------------------------------------ */

START_TEST(test_format_strings)
{
    const struct {
        tally_type type;
        const char *format;
    } cases[] = {{TALLY_TYPE_BOOL, "b"},   {TALLY_TYPE_INT8, "c"},   {TALLY_TYPE_INT16, "s"},
                 {TALLY_TYPE_INT32, "i"},  {TALLY_TYPE_INT64, "l"},  {TALLY_TYPE_UINT8, "C"},
                 {TALLY_TYPE_UINT16, "S"}, {TALLY_TYPE_UINT32, "I"}, {TALLY_TYPE_UINT64, "L"},
                 {TALLY_TYPE_FLOAT, "f"},  {TALLY_TYPE_DOUBLE, "g"}, {TALLY_TYPE_STRING, "u"},
                 {TALLY_TYPE_BINARY, "z"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tally_array *a = sample(cases[i].type);
        struct ArrowArray out;
        struct ArrowSchema schema;
        ck_assert_int_eq(tally_array_export(a, &out, &schema), 0);
        ck_assert_str_eq(schema.format, cases[i].format);
        ck_assert_str_eq(tally_type_format(cases[i].type), cases[i].format);
        ck_assert_int_eq(schema.n_children, 0);
        ck_assert_ptr_null(schema.dictionary);
        ck_assert_int_eq(schema.flags, ARROW_FLAG_NULLABLE);
        ck_assert_int_eq(out.n_buffers, cases[i].type >= TALLY_TYPE_STRING ? 3 : 2);
        ck_assert_int_eq(out.n_children, 0);
        ck_assert_ptr_null(out.dictionary);
        tally_array_release(a);
        schema.release(&schema);
        ck_assert_ptr_null(schema.release);
        out.release(&out);
        ck_assert_ptr_null(out.release);
    }
    ck_assert_ptr_null(tally_type_format((tally_type)(TALLY_TYPE_STRUCT + 1)));
}
END_TEST

START_TEST(test_export_is_zero_copy_and_outlives_the_exporter)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT64, test_pool, &b), 0);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(
            i % 10 == 0 ? tally_builder_append_null(b) : tally_builder_append_int(b, i * 7), 0);
    tally_array *a, *slice;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    tally_builder_destroy(b);
    ck_assert_int_eq(tally_array_slice(a, 15, 30, &slice), 0);

    int64_t before = tally_pool_bytes_allocated(test_pool);
    struct ArrowArray out;
    struct ArrowSchema schema;
    ck_assert_int_eq(tally_array_export(slice, &out, &schema), 0);
    /* The private data is charged to the array's pool. */
    ck_assert_int_gt(tally_pool_bytes_allocated(test_pool), before);
    ck_assert_int_eq(out.length, 30);
    ck_assert_int_eq(out.offset, 15);
    ck_assert_int_eq(out.null_count, 3);
    ck_assert_int_eq(out.n_buffers, 2);
    ck_assert_ptr_eq(out.buffers[0], tally_buffer_data(tally_array_buffer(a, 0)));
    ck_assert_ptr_eq(out.buffers[1], tally_buffer_data(tally_array_buffer(a, 1)));

    tally_array_release(slice);
    tally_array_release(a);
    /* The exporter is gone; the consumer's view is not. */
    ck_assert_int_gt(tally_pool_bytes_allocated(test_pool), 800);
    const int64_t *values = out.buffers[1];
    const uint8_t *validity = out.buffers[0];
    for (int64_t i = out.offset; i < out.offset + out.length; i++) {
        ck_assert_int_eq((validity[i / 8] >> (i % 8)) & 1, i % 10 != 0);
        if (i % 10)
            ck_assert_int_eq(values[i], i * 7);
    }
    schema.release(&schema);
    out.release(&out);
    ck_assert_ptr_null(out.release);
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), 0);
}
END_TEST

START_TEST(test_export_without_nulls_has_no_validity)
{
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_DOUBLE, test_pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_double(b, 1), 0);
    tally_array *a;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    tally_builder_destroy(b);
    struct ArrowArray out;
    struct ArrowSchema schema;
    ck_assert_int_eq(tally_array_export(a, &out, &schema), 0);
    ck_assert_ptr_null(out.buffers[0]);
    ck_assert_int_eq(out.null_count, 0);
    /* A consumer may move the struct; the moved copy releases. */
    struct ArrowArray moved = out;
    out.release = NULL;
    tally_array_release(a);
    moved.release(&moved);
    ck_assert_ptr_null(moved.release);
    schema.release(&schema);

    ck_assert_int_eq(tally_array_export(NULL, &out, &schema), EINVAL);
    ck_assert_int_eq(tally_array_export(a = sample(TALLY_TYPE_INT8), NULL, &schema), EINVAL);
    ck_assert_int_eq(tally_array_export(a, &out, NULL), EINVAL);
    tally_array_release(a);
}
END_TEST

/* ---- round trips ----------------------------------------------------------------- */

START_TEST(test_exported_arrays_import_back_equal)
{
    for (int t = TALLY_TYPE_BOOL; t <= TALLY_TYPE_BINARY; t++) {
        tally_array *a = sample((tally_type)t), *slice;
        ck_assert_int_eq(tally_array_slice(a, 1, 3, &slice), 0);
        tally_array *sources[] = {a, slice};
        for (int k = 0; k < 2; k++) {
            exported_array_releases = exported_schema_releases = 0;
            struct ArrowArray out;
            struct ArrowSchema schema;
            ck_assert_int_eq(tally_array_export(sources[k], &out, &schema), 0);
            count_releases(&out, &schema);
            tally_array *back;
            ck_assert_int_eq(tally_array_import_with_pool(test_pool, &out, &schema, &back), 0);
            /* A move: the caller's structs are marked released. */
            ck_assert_ptr_null(out.release);
            ck_assert_ptr_null(schema.release);
            ck_assert_int_eq(exported_schema_releases, 1);
            ck_assert_int_eq(exported_array_releases, 0);
            ck_assert_msg(tally_array_equals(back, sources[k]), "type %s",
                          tally_type_name((tally_type)t));
            ck_assert_int_eq(tally_array_null_count(back), tally_array_null_count(sources[k]));
            /* Zero-copy both ways. */
            ck_assert_ptr_eq(tally_buffer_data(tally_array_buffer(back, 1)),
                             tally_buffer_data(tally_array_buffer(sources[k], 1)));
            tally_array_release(back);
            ck_assert_int_eq(exported_array_releases, 1);
        }
        tally_array_release(slice);
        tally_array_release(a);
    }
}
END_TEST

START_TEST(test_reexport_of_an_imported_array)
{
    tally_array *a = sample(TALLY_TYPE_STRING);
    struct ArrowArray out;
    struct ArrowSchema schema;
    tally_array *once, *twice;
    ck_assert_int_eq(tally_array_export(a, &out, &schema), 0);
    ck_assert_int_eq(tally_array_import(&out, &schema, &once), 0);
    ck_assert_int_eq(tally_array_export(once, &out, &schema), 0);
    tally_array_release(once);
    ck_assert_int_eq(tally_array_import_with_pool(test_pool, &out, &schema, &twice), 0);
    tally_array_release(a);
    ck_assert(tally_array_equals(twice, twice));
    int64_t len;
    ck_assert_int_eq(memcmp(tally_array_get_bytes(twice, 4, &len), "xyzz", 4), 0);
    ck_assert_int_eq(len, 4);
    tally_array_release(twice);
}
END_TEST

/* ---- import from a foreign producer ---------------------------------------------------- */

START_TEST(test_import_foreign_arrays)
{
    struct foreign f;
    foreign_int32(&f);
    tally_array *a;
    ck_assert_int_eq(tally_array_import_with_pool(test_pool, &f.array, &f.schema, &a), 0);
    ck_assert_int_eq(foreign_schema_releases, 1);
    ck_assert_int_eq(foreign_array_releases, 0);
    ck_assert_int_eq(tally_array_type(a), TALLY_TYPE_INT32);
    ck_assert_int_eq(tally_array_null_count(a), 1);
    ck_assert_ptr_eq(tally_buffer_data(tally_array_buffer(a, 1)), (const uint8_t *)foreign_ints);
    ck_assert(!tally_array_is_valid(a, 2));
    ck_assert_int_eq(tally_array_get_int(a, 4), 5);
    /* A buffer kept after the array still pins the foreign memory. */
    tally_buffer *kept = tally_buffer_retain(tally_array_buffer(a, 1));
    tally_array_release(a);
    ck_assert_int_eq(foreign_array_releases, 0);
    tally_buffer_release(kept);
    ck_assert_int_eq(foreign_array_releases, 1);

    foreign_string(&f);
    ck_assert_int_eq(tally_array_import_with_pool(test_pool, &f.array, &f.schema, &a), 0);
    int64_t len;
    ck_assert_int_eq(memcmp(tally_array_get_bytes(a, 2, &len), "ccc", 3), 0);
    ck_assert_int_eq(len, 3);
    tally_array_release(a);
    ck_assert_int_eq(foreign_array_releases, 2);
    ck_assert_int_eq(foreign_schema_releases, 2);

    /* null_count -1 (unknown) is counted; an empty array may have no buffers. */
    foreign_int32(&f);
    f.array.null_count = -1;
    ck_assert_int_eq(tally_array_import_with_pool(test_pool, &f.array, &f.schema, &a), 0);
    ck_assert_int_eq(tally_array_null_count(a), 1);
    tally_array_release(a);
    foreign_init(&f, "l", 0, 0, NULL, NULL, NULL);
    ck_assert_int_eq(tally_array_import_with_pool(test_pool, &f.array, &f.schema, &a), 0);
    ck_assert_int_eq(tally_array_length(a), 0);
    tally_array_release(a);
    ck_assert_int_eq(foreign_array_releases, 4);

    /* An offset into the foreign buffers. */
    foreign_int32(&f);
    f.array.offset = 3;
    f.array.length = 2;
    f.array.null_count = 0;
    ck_assert_int_eq(tally_array_import_with_pool(test_pool, &f.array, &f.schema, &a), 0);
    ck_assert_int_eq(tally_array_get_int(a, 0), 4);
    tally_array_release(a);
}
END_TEST

typedef void (*mutation)(struct foreign *f);
struct named_mutation {
    mutation mutate;
    const char *name;
};
#define CASE(fn)                                                                                   \
    {                                                                                              \
        fn, #fn                                                                                    \
    }

static void bad_format_null(struct foreign *f)
{
    f->schema.format = NULL;
}
static void bad_format_unknown(struct foreign *f)
{
    f->schema.format = "x";
}
static void bad_format_long(struct foreign *f)
{
    f->schema.format = "ii";
}
static void bad_format_empty(struct foreign *f)
{
    f->schema.format = "";
}
static void bad_format_struct(struct foreign *f)
{
    f->schema.format = "+s";
}
static void bad_schema_children(struct foreign *f)
{
    f->schema.n_children = 1;
}
static void bad_array_children(struct foreign *f)
{
    f->array.n_children = 1;
}
static void bad_dictionary(struct foreign *f)
{
    f->array.dictionary = &f->array;
}
static void bad_schema_dictionary(struct foreign *f)
{
    f->schema.dictionary = &f->schema;
}
static void bad_n_buffers_low(struct foreign *f)
{
    f->array.n_buffers = 1;
}
static void bad_n_buffers_high(struct foreign *f)
{
    f->array.n_buffers = 3;
}
static void bad_buffers_null(struct foreign *f)
{
    f->array.buffers = NULL;
}
static void bad_length(struct foreign *f)
{
    f->array.length = -1;
}
static void bad_offset(struct foreign *f)
{
    f->array.offset = -1;
}
static void bad_offset_overflow(struct foreign *f)
{
    f->array.offset = INT64_MAX;
}
static void bad_null_count_low(struct foreign *f)
{
    f->array.null_count = -2;
}
static void bad_null_count_high(struct foreign *f)
{
    f->array.null_count = 6;
}
static void bad_null_count_wrong(struct foreign *f)
{
    f->array.null_count = 2;
}
static void bad_null_count_no_bitmap(struct foreign *f)
{
    f->buffers[0] = NULL;
}
static void bad_values_null(struct foreign *f)
{
    f->buffers[1] = NULL;
}
static void bad_array_released(struct foreign *f)
{
    f->array.release = NULL;
}
static void bad_schema_released(struct foreign *f)
{
    f->schema.release = NULL;
}

static const int32_t decreasing[4] = {0, 3, 1, 6};
static const int32_t negative[4] = {-1, 1, 3, 6};
static void bad_offsets_decreasing(struct foreign *f)
{
    f->buffers[1] = decreasing;
}
static void bad_offsets_negative(struct foreign *f)
{
    f->buffers[1] = negative;
}
/* The C Data Interface carries no buffer sizes: the last offset is the size
 * of the data, so "past the data" can only mean data that is not there. */
static void bad_data_null(struct foreign *f)
{
    f->buffers[2] = NULL;
}
static void bad_string_two_buffers(struct foreign *f)
{
    f->array.n_buffers = 2;
}

static void check_rejected(void (*init)(struct foreign *), mutation mutate, const char *name,
                           int expected)
{
    struct foreign f;
    init(&f);
    mutate(&f);
    struct ArrowArray array_before = f.array;
    struct ArrowSchema schema_before = f.schema;
    foreign_array_releases = foreign_schema_releases = 0;
    tally_array *a = (tally_array *)0x1;
    int rc = tally_array_import_with_pool(test_pool, &f.array, &f.schema, &a);
    ck_assert_msg(rc == expected, "%s: %d, expected %d", name, rc, expected);
    ck_assert_ptr_eq(a, (tally_array *)0x1);
    /* Nothing taken: the structs are as they were, nothing released or kept. */
    ck_assert_int_eq(memcmp(&f.array, &array_before, sizeof f.array), 0);
    ck_assert_int_eq(memcmp(&f.schema, &schema_before, sizeof f.schema), 0);
    ck_assert_int_eq(foreign_array_releases, 0);
    ck_assert_int_eq(foreign_schema_releases, 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), 0);
    if (f.array.release)
        f.array.release(&f.array);
    if (f.schema.release)
        f.schema.release(&f.schema);
}

START_TEST(test_import_rejects_bad_input)
{
    const struct named_mutation int32_cases[] = {
        CASE(bad_format_null),
        CASE(bad_format_unknown),
        CASE(bad_format_long),
        CASE(bad_format_empty),
        CASE(bad_format_struct),
        CASE(bad_schema_children),
        CASE(bad_array_children),
        CASE(bad_dictionary),
        CASE(bad_schema_dictionary),
        CASE(bad_n_buffers_low),
        CASE(bad_n_buffers_high),
        CASE(bad_buffers_null),
        CASE(bad_length),
        CASE(bad_offset),
        CASE(bad_offset_overflow),
        CASE(bad_null_count_low),
        CASE(bad_null_count_high),
        CASE(bad_null_count_wrong),
        CASE(bad_null_count_no_bitmap),
        CASE(bad_values_null),
        CASE(bad_array_released),
        CASE(bad_schema_released),
    };
    for (size_t i = 0; i < sizeof int32_cases / sizeof int32_cases[0]; i++)
        check_rejected(foreign_int32, int32_cases[i].mutate, int32_cases[i].name, EINVAL);
    const struct named_mutation string_cases[] = {
        CASE(bad_offsets_decreasing), CASE(bad_offsets_negative), CASE(bad_data_null),
        CASE(bad_string_two_buffers), CASE(bad_values_null),
    };
    for (size_t i = 0; i < sizeof string_cases / sizeof string_cases[0]; i++)
        check_rejected(foreign_string, string_cases[i].mutate, string_cases[i].name, EINVAL);

    struct foreign f;
    foreign_int32(&f);
    tally_array *a;
    ck_assert_int_eq(tally_array_import(NULL, &f.schema, &a), EINVAL);
    ck_assert_int_eq(tally_array_import(&f.array, NULL, &a), EINVAL);
    ck_assert_int_eq(tally_array_import(&f.array, &f.schema, NULL), EINVAL);
    ck_assert_ptr_nonnull(f.array.release);
    f.array.release(&f.array);
    f.schema.release(&f.schema);
}
END_TEST

START_TEST(test_import_out_of_memory_takes_nothing)
{
    bool imported = false;
    for (int64_t limit = 0; !imported; limit += 8) {
        tally_pool *pool = capped(limit);
        struct foreign f;
        foreign_int32(&f);
        struct ArrowArray array_before = f.array;
        foreign_array_releases = foreign_schema_releases = 0;
        tally_array *a;
        int rc = tally_array_import_with_pool(pool, &f.array, &f.schema, &a);
        if (rc == 0) {
            imported = true;
            ck_assert_int_eq(tally_array_get_int(a, 1), 2);
            tally_array_release(a);
            ck_assert_int_eq(foreign_array_releases, 1);
        } else {
            ck_assert_int_eq(rc, ENOMEM);
            ck_assert_int_eq(memcmp(&f.array, &array_before, sizeof f.array), 0);
            ck_assert_int_eq(foreign_array_releases, 0);
            ck_assert_int_eq(foreign_schema_releases, 0);
            f.array.release(&f.array);
            f.schema.release(&f.schema);
        }
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_pool_destroy(pool);
    }
}
END_TEST

START_TEST(test_export_out_of_memory)
{
    tally_pool *pool = capped(1 << 16);
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT8, pool, &b), 0);
    ck_assert_int_eq(tally_builder_append_int(b, 1), 0);
    tally_array *a;
    ck_assert_int_eq(tally_builder_finish(b, &a), 0);
    tally_builder_destroy(b);
    int64_t used = tally_pool_bytes_allocated(pool);
    uint8_t *filler;
    ck_assert_int_eq(tally_pool_allocate(pool, (1 << 16) - used, &filler), 0);
    struct ArrowArray out = {.length = 42};
    struct ArrowSchema schema = {.n_children = 42};
    ck_assert_int_eq(tally_array_export(a, &out, &schema), ENOMEM);
    ck_assert_int_eq(out.length, 42); /* untouched */
    ck_assert_int_eq(schema.n_children, 42);
    tally_pool_free(pool, filler, (1 << 16) - used);
    tally_array_release(a);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("c_data");
    TCase *tc = accounted_tcase("core");
    tcase_add_test(tc, test_format_strings);
    tcase_add_test(tc, test_export_is_zero_copy_and_outlives_the_exporter);
    tcase_add_test(tc, test_export_without_nulls_has_no_validity);
    tcase_add_test(tc, test_exported_arrays_import_back_equal);
    tcase_add_test(tc, test_reexport_of_an_imported_array);
    tcase_add_test(tc, test_import_foreign_arrays);
    tcase_add_test(tc, test_import_rejects_bad_input);
    tcase_add_test(tc, test_import_out_of_memory_takes_nothing);
    tcase_add_test(tc, test_export_out_of_memory);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
