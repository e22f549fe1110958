/* test_c_table: nested arrays, schemas and record batches through the Arrow
 * C Data Interface: round trips, the trees tally produces, the checks on
 * what it consumes (and a fuzz of them), and the pools charged. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "table_fixture.h"

/* list<struct<a: int64, b: string>>: 4 lists over sample_structs(12). */
static tally_array *list_of_structs(void)
{
    tally_array *child = sample_structs(12);
    tally_datatype *t = list_of(tally_datatype_retain(tally_array_datatype(child)));
    const int32_t offsets[] = {0, 3, 3, 10, 12};
    const uint8_t validity[] = {0x0B}; /* element 2 null */
    tally_buffer *bufs[2];
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, validity, 1, &bufs[0]), 0);
    ck_assert_int_eq(tally_buffer_copy_from(test_pool, offsets, sizeof offsets, &bufs[1]), 0);
    tally_array *a;
    ck_assert_int_eq(tally_array_make_typed(test_pool, t, 4, 0, -1, bufs, 2, &child, 1, NULL, &a),
                     0);
    tally_buffer_release(bufs[0]);
    tally_buffer_release(bufs[1]);
    tally_array_release(child);
    tally_datatype_release(t);
    return a;
}

START_TEST(test_nested_array_round_trip)
{
    tally_array *a = list_of_structs(), *sl, *back;
    ck_assert_int_eq(tally_array_slice(a, 1, 3, &sl), 0);
    struct ArrowArray arr;
    struct ArrowSchema sch;
    ck_assert_int_eq(tally_array_export(sl, &arr, &sch), 0);
    /* The trees as the spec lays them out. */
    ck_assert_str_eq(sch.format, "+l");
    ck_assert_int_eq(sch.n_children, 1);
    ck_assert_str_eq(sch.children[0]->format, "+s");
    ck_assert_str_eq(sch.children[0]->name, "item");
    ck_assert_int_eq(sch.children[0]->flags, ARROW_FLAG_NULLABLE);
    ck_assert_int_eq(sch.children[0]->n_children, 2);
    ck_assert_str_eq(sch.children[0]->children[1]->name, "b");
    ck_assert_str_eq(sch.children[0]->children[1]->format, "u");
    ck_assert_int_eq(arr.length, 3);
    ck_assert_int_eq(arr.offset, 1);
    ck_assert_int_eq(arr.null_count, 1);
    ck_assert_int_eq(arr.n_buffers, 2);
    ck_assert_int_eq(arr.n_children, 1);
    ck_assert_int_eq(arr.children[0]->n_buffers, 1);
    ck_assert_int_eq(arr.children[0]->n_children, 2);
    ck_assert_int_eq(arr.children[0]->length, 12);
    tally_array *a_child = tally_array_child(tally_array_child(a, 0), 0);
    ck_assert_ptr_eq(arr.children[0]->children[0]->buffers[1],
                     tally_buffer_data(tally_array_buffer(a_child, 1))); /* zero-copy */
    tally_array_release(sl);
    tally_array_release(a);

    tally_pool *p = tally_proxy_pool_new(test_pool, "import");
    tally_error err = {{0}};
    ck_assert_int_eq(tally_array_import_ex(p, &arr, &sch, &err, &back), 0);
    ck_assert_ptr_null(arr.release); /* moved */
    ck_assert_ptr_null(sch.release); /* released */
    ck_assert_int_gt(tally_pool_bytes_allocated(p), 0);
    a = list_of_structs();
    ck_assert_int_eq(tally_array_slice(a, 1, 3, &sl), 0);
    ck_assert(tally_array_equals(back, sl));
    ck_assert(tally_datatype_equals(tally_array_datatype(back), tally_array_datatype(a)));
    tally_array_release(sl);
    tally_array_release(a);
    tally_array_release(back);
    ck_assert_int_eq(tally_pool_bytes_allocated(p), 0);
    tally_pool_destroy(p);
}
END_TEST

/* The spec lets a consumer move a child out and release it on its own. */
START_TEST(test_exported_child_outlives_its_parent)
{
    tally_array *a = sample_structs(20);
    struct ArrowArray arr, moved;
    struct ArrowSchema sch, moved_schema;
    ck_assert_int_eq(tally_array_export(a, &arr, &sch), 0);
    moved = *arr.children[1];
    arr.children[1]->release = NULL;
    moved_schema = *sch.children[1];
    sch.children[1]->release = NULL;
    tally_array_release(a);
    arr.release(&arr);
    sch.release(&sch);
    ck_assert_str_eq(moved_schema.name, "b");
    ck_assert_int_gt(tally_pool_bytes_allocated(test_pool), 0);
    const int32_t *offsets = moved.buffers[1];
    ck_assert_int_eq(offsets[4] - offsets[3], 3); /* element 3: "sss" */
    tally_array *b;
    ck_assert_int_eq(tally_array_import_with_pool(test_pool, &moved, &moved_schema, &b), 0);
    ck_assert_int_eq(tally_array_length(b), 20);
    tally_array_release(b);
}
END_TEST

static tally_record_batch *sample_batch(int rows)
{
    tally_kv md[] = {{"unit", "m"}}, top[] = {{"origin", "tally"}, {"rows", "n"}};
    tally_field *f[3] = {NULL, NULL, NULL};
    ck_assert_int_eq(tally_field_new(test_pool, "id", prim(TALLY_TYPE_INT64), false, md, 1, &f[0]),
                     0);
    tally_array *st = sample_structs(rows), *ids, *lists = NULL;
    f[1] = field_of("pt", tally_array_datatype(st), true);
    tally_datatype *lt = list_of(prim(TALLY_TYPE_INT32));
    f[2] = field_of("l", lt, true);
    tally_builder *b;
    ck_assert_int_eq(tally_builder_new(TALLY_TYPE_INT64, test_pool, &b), 0);
    for (int i = 0; i < rows; i++)
        ck_assert_int_eq(tally_builder_append_int(b, i * 3), 0);
    ids = finish_and_destroy(b);
    ck_assert_int_eq(tally_builder_new_typed(lt, test_pool, &b), 0);
    for (int i = 0; i < rows; i++) {
        for (int j = 0; j < i % 4; j++)
            ck_assert_int_eq(tally_builder_append_int(tally_builder_child(b, 0), j), 0);
        ck_assert_int_eq(
            i % 5 == 4 ? tally_builder_append_null(b) : tally_builder_append_element(b), 0);
    }
    lists = finish_and_destroy(b);
    tally_datatype_release(lt);
    tally_schema *s;
    ck_assert_int_eq(tally_schema_new(test_pool, f, 3, top, 2, &s), 0);
    tally_array *cols[3] = {ids, st, lists};
    tally_record_batch *rb;
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, rows, cols, 3, NULL, &rb), 0);
    for (int k = 0; k < 3; k++) {
        tally_field_release(f[k]);
        tally_array_release(cols[k]);
    }
    tally_schema_release(s);
    return rb;
}

START_TEST(test_record_batch_round_trip)
{
    tally_record_batch *rb = sample_batch(30), *sl, *back;
    ck_assert_int_eq(tally_record_batch_slice(rb, 7, 20, &sl), 0);
    struct ArrowArray arr;
    struct ArrowSchema sch;
    ck_assert_int_eq(tally_record_batch_export(sl, &arr, &sch), 0);
    ck_assert_str_eq(sch.format, "+s");
    ck_assert_int_eq(sch.n_children, 3);
    ck_assert_int_eq(sch.children[0]->flags, 0); /* not nullable */
    ck_assert_int_eq(sch.children[2]->flags, ARROW_FLAG_NULLABLE);
    /* The metadata in the spec's binary form. */
    const char *md = sch.children[0]->metadata;
    int32_t n, klen;
    memcpy(&n, md, 4);
    memcpy(&klen, md + 4, 4);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(klen, 4);
    ck_assert(memcmp(md + 8, "unit", 4) == 0);
    ck_assert_int_eq(arr.length, 20);
    ck_assert_int_eq(arr.null_count, 0);
    ck_assert_int_eq(arr.n_buffers, 1);
    ck_assert_ptr_null(arr.buffers[0]);
    ck_assert_int_eq(arr.children[0]->offset, 7);

    /* p beside test_pool, both over the default pool: the import's bytes all
     * go to p; test_pool only gets back the exported schema (released). */
    tally_pool *p = tally_proxy_pool_new(tally_default_pool(), "batches");
    int64_t test_before = tally_pool_bytes_allocated(test_pool);
    int64_t default_before = tally_pool_bytes_allocated(NULL);
    ck_assert_int_eq(tally_record_batch_import(p, &arr, &sch, NULL, &back), 0);
    int64_t test_delta = tally_pool_bytes_allocated(test_pool) - test_before;
    ck_assert_int_lt(test_delta, 0);
    ck_assert_int_eq(tally_pool_bytes_allocated(NULL) - default_before,
                     tally_pool_bytes_allocated(p) + test_delta);
    ck_assert(tally_record_batch_equals(back, sl));
    ck_assert(tally_schema_equals(tally_record_batch_schema(back), tally_record_batch_schema(rb),
                                  true)); /* metadata included */
    ck_assert_ptr_eq(tally_buffer_data(tally_array_buffer(tally_record_batch_column(back, 0), 1)),
                     tally_buffer_data(tally_array_buffer(tally_record_batch_column(rb, 0), 1)));
    tally_record_batch_release(sl);
    tally_record_batch_release(rb);
    /* The imported batch keeps the exported memory alive. */
    ck_assert_int_eq(tally_array_get_int(tally_record_batch_column(back, 0), 19), 26 * 3);
    tally_record_batch_release(back);
    ck_assert_int_eq(tally_pool_bytes_allocated(p), 0);
    tally_pool_destroy(p);
}
END_TEST

START_TEST(test_schema_round_trip)
{
    tally_record_batch *rb = sample_batch(3);
    tally_schema *s = tally_record_batch_schema(rb), *back;
    struct ArrowSchema sch;
    ck_assert_int_eq(tally_schema_export(s, &sch), 0);
    ck_assert_int_eq(tally_schema_import(test_pool, &sch, NULL, &back), 0);
    ck_assert_ptr_nonnull(sch.release); /* a copy: still the caller's */
    ck_assert(tally_schema_equals(s, back, true));
    ck_assert_str_eq(tally_schema_metadata(back, 1)->key, "rows");
    tally_schema_release(back);
    /* A non-struct top is refused. */
    struct ArrowSchema *leaf = sch.children[0];
    tally_error err = {{0}};
    ck_assert_int_eq(tally_schema_import(test_pool, leaf, &err, &back), EINVAL);
    ck_assert_str_eq(err.message, "a schema travels as a struct (\"+s\"), not \"l\"");
    sch.release(&sch);
    ck_assert_ptr_null(sch.release);
    tally_record_batch_release(rb);
}
END_TEST

START_TEST(test_export_out_of_memory)
{
    tally_record_batch *rb = sample_batch(10);
    tally_array *a = list_of_structs();
    int failures = 0;
    for (int64_t limit = 0; limit < 4096; limit += 16) {
        tally_pool *pool = capped(limit);
        tally_record_batch *copy;
        ck_assert_int_eq(tally_record_batch_slice(rb, 0, 10, &copy), 0);
        struct ArrowArray arr = {0};
        struct ArrowSchema sch = {0};
        /* Import into the capped pool: each failure leaves the export intact. */
        ck_assert_int_eq(tally_record_batch_export(copy, &arr, &sch), 0);
        tally_record_batch *back = NULL;
        int rc = tally_record_batch_import(pool, &arr, &sch, NULL, &back);
        ck_assert(rc == 0 || rc == ENOMEM);
        if (rc == 0)
            ck_assert(tally_record_batch_equals(back, rb));
        else
            failures++;
        tally_record_batch_release(back);
        if (arr.release)
            arr.release(&arr);
        if (sch.release)
            sch.release(&sch);
        tally_record_batch_release(copy);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_pool_destroy(pool);
    }
    ck_assert_int_gt(failures, 20);
    tally_array_release(a);
    tally_record_batch_release(rb);
}
END_TEST

/* ---- a foreign producer, for the import checks --------------------------------------- */

/* struct<a: int32, l: list<item: int32>> over static memory, room for 64
 * rows whatever the lengths say, so that mutated lengths never read out of
 * bounds; only what the spec lets a consumer check is mutated. */
static int foreign_releases;
static void foreign_release(struct ArrowArray *a)
{
    foreign_releases++;
    a->release = NULL;
}
static void foreign_child_release(struct ArrowArray *a)
{
    a->release = NULL;
}
static void foreign_schema_release(struct ArrowSchema *s)
{
    s->release = NULL;
}

enum { ROOM = 64, ITEMS = 256 };
static uint8_t all_valid[ROOM / 8], some_valid[ROOM / 8];
/* Twice the room an int32 needs: "l" (int64) may be swapped in. */
static int32_t a_values[2 * ROOM], item_values[2 * ITEMS], list_offsets[ROOM + 1];

struct foreign_tree {
    struct ArrowArray top, a, l, item;
    struct ArrowArray *top_kids[4], *l_kids[4], *leaf_kids[4]; /* room for n_children < 4 */
    const void *top_bufs[4], *a_bufs[4], *l_bufs[4], *item_bufs[4];
    struct ArrowSchema stop, sa, sl, sitem;
    struct ArrowSchema *stop_kids[4], *sl_kids[4], *sleaf_kids[4];
};

static void foreign_tree_init(struct foreign_tree *t, int64_t rows)
{
    memset(all_valid, 0xff, sizeof all_valid);
    memset(some_valid, 0xff, sizeof some_valid);
    some_valid[0] = 0xfb; /* row 2 null */
    for (int i = 0; i < 2 * ROOM; i++)
        a_values[i] = i;
    for (int i = 0; i < 2 * ITEMS; i++)
        item_values[i] = -i;
    for (int i = 0; i <= ROOM; i++)
        list_offsets[i] = 2 * i;
    memset(t, 0, sizeof *t);
    t->top_bufs[0] = NULL;
    t->a_bufs[0] = some_valid;
    t->a_bufs[1] = a_values;
    t->l_bufs[0] = all_valid;
    t->l_bufs[1] = list_offsets;
    t->item_bufs[0] = NULL;
    t->item_bufs[1] = item_values;
    t->a = (struct ArrowArray){.length = rows,
                               .null_count = rows > 2,
                               .n_buffers = 2,
                               .buffers = t->a_bufs,
                               .release = foreign_child_release};
    t->item = (struct ArrowArray){.length = 2 * rows,
                                  .n_buffers = 2,
                                  .buffers = t->item_bufs,
                                  .release = foreign_child_release};
    for (int k = 0; k < 4; k++) {
        t->l_kids[k] = t->leaf_kids[k] = &t->item;
        t->top_kids[k] = &t->l;
        t->sl_kids[k] = t->sleaf_kids[k] = &t->sitem;
        t->stop_kids[k] = &t->sl;
    }
    t->l = (struct ArrowArray){.length = rows,
                               .n_buffers = 2,
                               .buffers = t->l_bufs,
                               .n_children = 1,
                               .children = t->l_kids,
                               .release = foreign_child_release};
    t->top_kids[0] = &t->a;
    t->top = (struct ArrowArray){.length = rows,
                                 .n_buffers = 1,
                                 .buffers = t->top_bufs,
                                 .n_children = 2,
                                 .children = t->top_kids,
                                 .release = foreign_release};
    t->sitem = (struct ArrowSchema){.format = "i",
                                    .name = "item",
                                    .flags = ARROW_FLAG_NULLABLE,
                                    .release = foreign_schema_release};
    t->sl = (struct ArrowSchema){.format = "+l",
                                 .name = "l",
                                 .flags = ARROW_FLAG_NULLABLE,
                                 .n_children = 1,
                                 .children = t->sl_kids,
                                 .release = foreign_schema_release};
    t->sa = (struct ArrowSchema){.format = "i",
                                 .name = "a",
                                 .flags = ARROW_FLAG_NULLABLE,
                                 .release = foreign_schema_release};
    t->stop_kids[0] = &t->sa;
    t->stop = (struct ArrowSchema){.format = "+s",
                                   .name = "",
                                   .n_children = 2,
                                   .children = t->stop_kids,
                                   .release = foreign_schema_release};
}

/* Import must refuse: EINVAL with a message, nothing released, nothing kept. */
static void assert_refused(struct foreign_tree *t, const char *why)
{
    int releases = foreign_releases;
    void (*array_release)(struct ArrowArray *) = t->top.release;
    void (*schema_release)(struct ArrowSchema *) = t->stop.release;
    int64_t before = tally_pool_bytes_allocated(test_pool);
    tally_error err = {{0}};
    tally_array *a = NULL;
    tally_record_batch *rb = NULL;
    ck_assert_msg(tally_array_import_ex(test_pool, &t->top, &t->stop, &err, &a) == EINVAL, "%s",
                  why);
    ck_assert_msg(strlen(err.message) > 0, "%s: no message", why);
    err.message[0] = '\0';
    ck_assert_msg(tally_record_batch_import(test_pool, &t->top, &t->stop, &err, &rb) == EINVAL,
                  "%s (batch)", why);
    ck_assert_msg(strlen(err.message) > 0, "%s: no message (batch)", why);
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(rb);
    ck_assert_msg(t->top.release == array_release && t->stop.release == schema_release,
                  "%s: a release changed", why);
    ck_assert_int_eq(foreign_releases, releases);
    ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), before);
}

START_TEST(test_foreign_tree_imports)
{
    struct foreign_tree t;
    foreign_tree_init(&t, 10);
    tally_record_batch *rb;
    ck_assert_int_eq(tally_record_batch_import(test_pool, &t.top, &t.stop, NULL, &rb), 0);
    ck_assert_ptr_null(t.top.release);
    ck_assert_int_eq(tally_record_batch_n_rows(rb), 10);
    tally_array *l = tally_record_batch_column(rb, 1), *v;
    ck_assert_int_eq(tally_array_list_value(l, 3, &v), 0);
    ck_assert_int_eq(tally_array_get_int(v, 1), -7);
    ck_assert_int_eq(tally_array_null_count(tally_record_batch_column(rb, 0)), 1);
    tally_array_release(v);
    ck_assert_int_eq(foreign_releases, 0);
    tally_record_batch_release(rb);
    ck_assert_int_eq(foreign_releases, 1);

    /* A top offset reaches the columns. */
    foreign_tree_init(&t, 10);
    t.top.offset = 4;
    t.top.length = 6;
    ck_assert_int_eq(tally_record_batch_import(test_pool, &t.top, &t.stop, NULL, &rb), 0);
    ck_assert_int_eq(tally_array_get_int(tally_record_batch_column(rb, 0), 0), 4);
    ck_assert_int_eq(tally_array_null_count(tally_record_batch_column(rb, 0)), 0);
    tally_record_batch_release(rb);
    ck_assert_int_eq(foreign_releases, 2);
    foreign_releases = 0;
}
END_TEST

START_TEST(test_foreign_tree_refusals)
{
    struct foreign_tree t;
#define REFUSE(change)                                                                             \
    do {                                                                                           \
        foreign_tree_init(&t, 10);                                                                 \
        change;                                                                                    \
        assert_refused(&t, #change);                                                               \
    } while (0)
    REFUSE(t.top.n_children = 3);                                              /* schema says 2 */
    REFUSE(t.stop.n_children = 3);                                             /* array says 2 */
    REFUSE((t.top.n_children = 1, t.stop.n_children = 1, t.sa.format = "+s")); /* "+s" with 0 */
    REFUSE(t.sl.n_children = 2);                       /* a list has one child */
    REFUSE((t.sl.n_children = 0, t.l.n_children = 0)); /* and not zero */
    REFUSE(t.l.n_buffers = 3);
    REFUSE(t.top.n_buffers = 2);
    REFUSE(t.a.n_buffers = 1);
    REFUSE(t.top.children = NULL);
    REFUSE(t.stop.children = NULL);
    REFUSE(t.top_kids[1] = NULL);
    REFUSE(t.stop_kids[0] = NULL);
    REFUSE(t.a.release = NULL); /* a released child */
    REFUSE(t.sa.release = NULL);
    REFUSE(t.stop.release = NULL);
    REFUSE(t.sa.format = "+w"); /* unknown formats */
    REFUSE(t.sa.format = "+m");
    REFUSE(t.sl.format = "+L"); /* large list: not supported */
    REFUSE(t.sa.format = "ii");
    REFUSE(t.sa.format = NULL);
    REFUSE(t.sa.dictionary = &t.sitem);
    REFUSE(t.a.dictionary = &t.item);
    REFUSE(t.a.length = 9);   /* struct child shorter than the struct */
    REFUSE(t.top.offset = 1); /* ... than offset + length */
    REFUSE(t.a.length = -1);
    REFUSE(t.top.offset = -1);
    REFUSE(t.a.null_count = 0); /* wrong null count */
    REFUSE(t.a.null_count = 11);
    REFUSE(t.a.buffers = NULL);
    REFUSE(t.a_bufs[1] = NULL);  /* values missing */
    REFUSE(t.item.length = 19);  /* list offsets past the child */
    REFUSE(list_offsets[3] = 1); /* offsets going down */
    REFUSE(list_offsets[0] = -1);
    REFUSE(t.l_bufs[1] = NULL);
    REFUSE((t.top_bufs[0] = some_valid, t.top.null_count = 0)); /* it has 1 */
    REFUSE(t.top.length = INT64_MAX);
    REFUSE(t.sa.metadata = "\xff\xff\xff\xff");                   /* a negative pair count */
    REFUSE(t.sa.metadata = "\x01\0\0\0\x02\0\0\0k\0\x01\0\0\0v"); /* a NUL in a key */
    /* A child that is its own parent: refused by depth, not a crash. */
    REFUSE((t.sl_kids[0] = &t.sl, t.l_kids[0] = &t.l));
#undef REFUSE
}
END_TEST

/* What only the record batch refuses: null rows, a non-struct top, nulls
 * under a non-nullable field. */
START_TEST(test_batch_refusals)
{
    struct foreign_tree t;
    tally_error err;
    tally_record_batch *rb = NULL;
    foreign_tree_init(&t, 10);
    t.top_bufs[0] = some_valid;
    t.top.null_count = 1;
    ck_assert_int_eq(tally_record_batch_import(test_pool, &t.top, &t.stop, &err, &rb), EINVAL);
    ck_assert_str_eq(err.message, "a record batch has no null rows; this struct array has 1");
    t.top.null_count = -1;
    ck_assert_int_eq(tally_record_batch_import(test_pool, &t.top, &t.stop, &err, &rb), EINVAL);
    /* As an array it imports. */
    tally_array *a;
    ck_assert_int_eq(tally_array_import_ex(test_pool, &t.top, &t.stop, &err, &a), 0);
    ck_assert_int_eq(tally_array_null_count(a), 1);
    tally_array_release(a);

    foreign_tree_init(&t, 10);
    t.sa.flags = 0; /* a: not nullable, but row 2 is null */
    ck_assert_int_eq(tally_record_batch_import(test_pool, &t.top, &t.stop, &err, &rb), EINVAL);
    ck_assert_str_eq(err.message, "column 0 (a) is not nullable but holds nulls");
    ck_assert_ptr_nonnull(t.top.release);
    t.top.offset = 3; /* the null row sliced away: fine */
    t.top.length = 7;
    ck_assert_int_eq(tally_record_batch_import(test_pool, &t.top, &t.stop, &err, &rb), 0);
    ck_assert(!tally_field_nullable(tally_schema_field(tally_record_batch_schema(rb), 0)));
    tally_record_batch_release(rb);
    rb = NULL;

    foreign_tree_init(&t, 10);
    ck_assert_int_eq(tally_record_batch_import(test_pool, &t.l, &t.sl, &err, &rb), EINVAL);
    ck_assert_str_eq(err.message, "a schema travels as a struct (\"+s\"), not \"+l\"");
    ck_assert_ptr_null(rb);
    foreign_releases = 0;
}
END_TEST

/* Random damage to the checkable parts of a foreign tree: every import either
 * succeeds and gives the memory back on release, or refuses with EINVAL and
 * leaves the producer's structs alone. */
START_TEST(test_import_fuzz)
{
    srand(1515);
    struct foreign_tree t;
    struct ArrowArray *nodes[] = {&t.top, &t.a, &t.l, &t.item};
    struct ArrowSchema *schemas[] = {&t.stop, &t.sa, &t.sl, &t.sitem};
    const char *formats[] = {"i", "+s", "+l", "l", "u", "+w", "b", "s", "C"};
    int accepted = 0, refused = 0;
    for (int round = 0; round < 3000; round++) {
        foreign_tree_init(&t, 1 + rand() % 30);
        int changes = 1 + rand() % 3;
        for (int c = 0; c < changes; c++) {
            int k = rand() % 4;
            struct ArrowArray *n = nodes[k];
            switch (rand() % 9) {
            case 0: /* lengths within the room: never an over-read */
                n->length = rand() % (k == 3 ? ITEMS : ROOM);
                n->offset = rand() % ((k == 3 ? ITEMS : ROOM) - n->length + 1);
                break;
            case 1: /* the leaves get a children vector too */
                n->n_children = rand() % 4 - (rand() % 5 == 0);
                if (!n->children && rand() % 2)
                    n->children = t.leaf_kids;
                break;
            case 2:
                schemas[k]->n_children = rand() % 4;
                if (!schemas[k]->children && rand() % 2)
                    schemas[k]->children = t.sleaf_kids;
                break;
            case 3: /* the buffers have room for the widest */
                schemas[k]->format = formats[rand() % 9];
                break;
            case 4:
                n->n_buffers = rand() % 5;
                break;
            case 5:
                n->null_count = rand() % 8 - 2;
                break;
            case 6:
                list_offsets[rand() % (ROOM + 1)] = rand() % 300 - 20;
                break;
            case 7:
                schemas[k]->flags = rand() % 2 ? ARROW_FLAG_NULLABLE : 0;
                break;
            default:
                n->buffers[rand() % 2] = NULL;
                break;
            }
        }
        /* Strings need their data within bounds: "u" reads its offsets as
         * string offsets and data; give it a third buffer of room. */
        static const char text[2 * ITEMS + 8];
        for (int k = 0; k < 4; k++)
            nodes[k]->buffers[2] = text;
        int releases = foreign_releases;
        int64_t before = tally_pool_bytes_allocated(test_pool);
        tally_array *a = NULL;
        tally_record_batch *rb = NULL;
        int rc = rand() % 2 ? tally_array_import_ex(test_pool, &t.top, &t.stop, NULL, &a)
                            : tally_record_batch_import(test_pool, &t.top, &t.stop, NULL, &rb);
        if (rc == 0) {
            accepted++;
            ck_assert_ptr_null(t.top.release);
            tally_array_release(a);
            tally_record_batch_release(rb);
            ck_assert_int_eq(foreign_releases, releases + 1);
        } else {
            refused++;
            ck_assert_int_eq(rc, EINVAL);
            ck_assert_int_eq(foreign_releases, releases);
        }
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), before);
    }
    ck_assert_int_gt(accepted, 100);
    ck_assert_int_gt(refused, 100);
    foreign_releases = 0;
}
END_TEST

/* Zero columns and zero rows travel too. */
START_TEST(test_empty_batches_round_trip)
{
    tally_schema *s;
    ck_assert_int_eq(tally_schema_new(test_pool, NULL, 0, NULL, 0, &s), 0);
    tally_record_batch *rb, *back;
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 7, NULL, 0, NULL, &rb), 0);
    tally_schema_release(s);
    struct ArrowArray arr;
    struct ArrowSchema sch;
    ck_assert_int_eq(tally_record_batch_export(rb, &arr, &sch), 0);
    ck_assert_int_eq(arr.n_children, 0);
    ck_assert_int_eq(tally_record_batch_import(test_pool, &arr, &sch, NULL, &back), 0);
    /* Nothing points into the producer's memory: released at once. */
    ck_assert_ptr_null(arr.release);
    ck_assert_int_eq(tally_record_batch_n_rows(back), 7);
    ck_assert_int_eq(tally_record_batch_n_columns(back), 0);
    ck_assert(tally_record_batch_equals(rb, back));
    tally_record_batch_release(back);
    tally_record_batch_release(rb);

    rb = sample_batch(0);
    ck_assert_int_eq(tally_record_batch_export(rb, &arr, &sch), 0);
    ck_assert_int_eq(tally_record_batch_import(test_pool, &arr, &sch, NULL, &back), 0);
    ck_assert_int_eq(tally_record_batch_n_rows(back), 0);
    ck_assert(tally_record_batch_equals(rb, back));
    tally_record_batch_release(back);
    tally_record_batch_release(rb);
}
END_TEST

/* Each call that allocates has an inverse that gives back exactly what it
 * took, in the pool it took it from. */
START_TEST(test_each_call_gives_back_exactly)
{
    tally_record_batch *rb = sample_batch(25);
    tally_array *pt = tally_record_batch_column(rb, 1), *l = tally_record_batch_column(rb, 2), *x;
    int64_t base = tally_pool_bytes_allocated(test_pool);
#define EXACT(take, give_back)                                                                     \
    do {                                                                                           \
        take;                                                                                      \
        ck_assert_int_gt(tally_pool_bytes_allocated(test_pool), base);                             \
        give_back;                                                                                 \
        ck_assert_int_eq(tally_pool_bytes_allocated(test_pool), base);                             \
    } while (0)
    EXACT(ck_assert_int_eq(tally_array_slice(pt, 3, 9, &x), 0), tally_array_release(x));
    EXACT(ck_assert_int_eq(tally_array_struct_field(pt, 1, &x), 0), tally_array_release(x));
    EXACT(ck_assert_int_eq(tally_array_list_value(l, 3, &x), 0), tally_array_release(x));
    EXACT(ck_assert_int_eq(tally_array_concat(&pt, 1, test_pool, NULL, &x), 0),
          tally_array_release(x));
    tally_record_batch *y;
    EXACT(ck_assert_int_eq(tally_record_batch_slice(rb, 1, 2, &y), 0),
          tally_record_batch_release(y));
    struct ArrowArray arr;
    struct ArrowSchema sch;
    EXACT(ck_assert_int_eq(tally_array_export(pt, &arr, &sch), 0),
          (arr.release(&arr), sch.release(&sch)));
    EXACT(ck_assert_int_eq(tally_record_batch_export(rb, &arr, &sch), 0),
          (sch.release(&sch), arr.release(&arr)));
    EXACT(
        {
            ck_assert_int_eq(tally_array_export(l, &arr, &sch), 0);
            ck_assert_int_eq(tally_array_import_with_pool(test_pool, &arr, &sch, &x), 0);
        },
        tally_array_release(x));
    EXACT(
        {
            ck_assert_int_eq(tally_record_batch_export(rb, &arr, &sch), 0);
            ck_assert_int_eq(tally_record_batch_import(test_pool, &arr, &sch, NULL, &y), 0);
        },
        tally_record_batch_release(y));
    tally_builder *b;
    EXACT(ck_assert_int_eq(tally_builder_new_typed(tally_array_datatype(l), test_pool, &b), 0),
          tally_builder_destroy(b));
    tally_schema *z;
    EXACT(
        {
            ck_assert_int_eq(tally_schema_export(tally_record_batch_schema(rb), &sch), 0);
            ck_assert_int_eq(tally_schema_import(test_pool, &sch, NULL, &z), 0);
        },
        (sch.release(&sch), tally_schema_release(z)));
#undef EXACT
    tally_record_batch_release(rb);
}
END_TEST

/* More members than the calls keep on the stack (8): the vectors come from
 * the pool, and every failure of theirs leaves nothing behind. */
static tally_datatype *wide_struct(void)
{
    tally_field *f[10];
    char name[8];
    for (int k = 0; k < 10; k++) {
        snprintf(name, sizeof name, "m%d", k);
        f[k] = field_of(name, prim(k % 2 ? TALLY_TYPE_STRING : TALLY_TYPE_INT32), true);
    }
    tally_datatype *t;
    ck_assert_int_eq(tally_datatype_struct(test_pool, f, 10, &t), 0);
    for (int k = 0; k < 10; k++)
        tally_field_release(f[k]);
    return t;
}

/* rows elements, every fourth null; ENOMEM passed on. */
static int build_wide(tally_pool *pool, tally_datatype *t, int rows, tally_array **out)
{
    tally_builder *b = NULL;
    int rc = tally_builder_new_typed(t, pool, &b);
    for (int i = 0; rc == 0 && i < rows; i++) {
        if (i % 4 == 3) {
            rc = tally_builder_append_null(b);
            continue;
        }
        for (int k = 0; rc == 0 && k < 10; k++) {
            tally_builder *c = tally_builder_child(b, k);
            rc = k % 2 ? tally_builder_append_bytes(c, "wide", k % 5)
                       : tally_builder_append_int(c, i * k);
        }
        if (rc == 0)
            rc = tally_builder_append_element(b);
    }
    if (rc == 0)
        rc = tally_builder_finish(b, out);
    tally_builder_destroy(b);
    return rc;
}

START_TEST(test_wide_structs)
{
    tally_datatype *t = wide_struct();
    tally_array *a, *b;
    ck_assert_int_eq(build_wide(test_pool, t, 20, &a), 0);
    ck_assert_int_eq(tally_array_n_children(a), 10);
    ck_assert_int_eq(tally_array_null_count(a), 5);
    ck_assert_int_eq(build_wide(test_pool, t, 20, &b), 0);
    ck_assert(tally_array_equals(a, b));
    tally_array_release(b);
    /* A batch of its members, through the C Data Interface. */
    tally_field *fields[10];
    tally_array *cols[10];
    for (int k = 0; k < 10; k++) {
        fields[k] = tally_datatype_field(t, k);
        ck_assert_int_eq(tally_array_struct_field(a, k, &cols[k]), 0);
    }
    tally_schema *s;
    ck_assert_int_eq(tally_schema_new(test_pool, fields, 10, NULL, 0, &s), 0);
    tally_record_batch *rb;
    ck_assert_int_eq(tally_record_batch_make(test_pool, s, 20, cols, 10, NULL, &rb), 0);
    tally_schema_release(s);
    for (int k = 0; k < 10; k++)
        tally_array_release(cols[k]);
    int failures = 0;
    for (int64_t limit = 0;; limit += 64) {
        tally_pool *pool = capped(limit);
        tally_array *built = NULL, *joined = NULL, *parts[2] = {a, a}, *imported = NULL;
        tally_record_batch *back = NULL;
        struct ArrowArray arr = {0};
        struct ArrowSchema sch = {0};
        int rc = build_wide(pool, t, 20, &built);
        if (rc == 0)
            rc = tally_array_concat(parts, 2, pool, NULL, &joined);
        if (rc == 0)
            rc = tally_array_export(a, &arr, &sch); /* in test_pool */
        if (rc == 0)
            rc = tally_array_import_with_pool(pool, &arr, &sch, &imported);
        if (arr.release)
            arr.release(&arr);
        if (sch.release)
            sch.release(&sch);
        if (rc == 0)
            rc = tally_record_batch_export(rb, &arr, &sch);
        if (rc == 0)
            rc = tally_record_batch_import(pool, &arr, &sch, NULL, &back);
        if (arr.release)
            arr.release(&arr);
        if (sch.release)
            sch.release(&sch);
        ck_assert(rc == 0 || rc == ENOMEM);
        if (rc == 0) {
            ck_assert(tally_array_equals(built, a));
            ck_assert(tally_array_equals(imported, a));
            ck_assert_int_eq(tally_array_length(joined), 40);
            ck_assert(tally_record_batch_equals(back, rb));
        }
        tally_array_release(built);
        tally_array_release(joined);
        tally_array_release(imported);
        tally_record_batch_release(back);
        ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
        tally_pool_destroy(pool);
        if (rc == 0)
            break;
        failures++;
    }
    ck_assert_int_gt(failures, 30);
    tally_record_batch_release(rb);
    tally_array_release(a);
    tally_datatype_release(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("c_table");
    TCase *tc = accounted_tcase("c_table");
    tcase_add_test(tc, test_nested_array_round_trip);
    tcase_add_test(tc, test_exported_child_outlives_its_parent);
    tcase_add_test(tc, test_record_batch_round_trip);
    tcase_add_test(tc, test_schema_round_trip);
    tcase_add_test(tc, test_export_out_of_memory);
    tcase_add_test(tc, test_foreign_tree_imports);
    tcase_add_test(tc, test_foreign_tree_refusals);
    tcase_add_test(tc, test_batch_refusals);
    tcase_add_test(tc, test_import_fuzz);
    tcase_add_test(tc, test_empty_batches_round_trip);
    tcase_add_test(tc, test_each_call_gives_back_exactly);
    tcase_add_test(tc, test_wide_structs);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
