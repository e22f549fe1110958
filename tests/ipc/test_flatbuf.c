/* test_flatbuf: lib/ipc's flatbuffers, encoder and verifier-first decoder,
 * on their own (compiled into this test: they are internal to libtally).
 *
 * A table of every kind of field is written and read back; then each check
 * of the decoder is met by a buffer built to break it, placed flush against
 * a PROT_NONE page: the decoder must answer EINVAL without reading a byte
 * past the end. */
#include <config.h>
#include <tally/tally.h>

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc/flatbuf_read.h"
#include "ipc/flatbuf_write.h"
#include "lib/pool_fixture.h"

/* fields of the test table */
enum { F_U8, F_I16, F_I32, F_I64, F_NAME, F_CHILD, F_VEC, F_STRUCTS };

static uint8_t *area;
static size_t area_size;

/* A copy of n bytes ending where a PROT_NONE page starts. */
static const uint8_t *flush(const uint8_t *data, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (n + page - 1) / page + 1;
    area_size = (pages + 1) * page;
    area = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(area, MAP_FAILED);
    ck_assert_int_eq(mprotect(area + pages * page, page, PROT_NONE), 0);
    uint8_t *p = area + pages * page - n;
    memcpy(p, data, n);
    return p;
}

static void unflush(void)
{
    munmap(area, area_size);
}

/* The test table: scalars, a string, a child table, a vector of offsets to
 * three child tables and a vector of 16-byte structs. */
static void build(ipc_fbw *w, uint32_t *vec_pos, uint32_t *child_pos)
{
    ipc_fbw_init(w, test_pool);
    uint32_t root = ipc_fbw_root_slot(w);
    ipc_fbw_table t;
    ipc_fbw_table_start(&t);
    ipc_fbw_u8(&t, F_U8, 200);
    ipc_fbw_i16(&t, F_I16, -300);
    ipc_fbw_i32(&t, F_I32, -70000);
    ipc_fbw_i64(&t, F_I64, -5000000000LL);
    ipc_fbw_offset(&t, F_NAME);
    ipc_fbw_offset(&t, F_CHILD);
    ipc_fbw_offset(&t, F_VEC);
    ipc_fbw_offset(&t, F_STRUCTS);
    ipc_fbw_patch(w, root, ipc_fbw_table_end(w, &t));
    ipc_fbw_patch(w, t.slot[F_NAME], ipc_fbw_string(w, "hello", 5));
    ipc_fbw_table c;
    ipc_fbw_table_start(&c);
    ipc_fbw_i32(&c, 0, 42);
    *child_pos = ipc_fbw_table_end(w, &c);
    ipc_fbw_patch(w, t.slot[F_CHILD], *child_pos);
    *vec_pos = ipc_fbw_vector(w, 4, 4, 3, NULL);
    ipc_fbw_patch(w, t.slot[F_VEC], *vec_pos);
    for (uint32_t i = 0; i < 3; i++) {
        ipc_fbw_table_start(&c);
        ipc_fbw_i32(&c, 0, (int32_t)i);
        ipc_fbw_patch(w, *vec_pos + 4 + 4 * i, ipc_fbw_table_end(w, &c));
    }
    const int64_t structs[4] = {1, 2, 3, 4};
    ipc_fbw_patch(w, t.slot[F_STRUCTS], ipc_fbw_vector(w, 16, 8, 2, structs));
    ck_assert_int_eq(w->err, 0);
}

START_TEST(test_round_trip)
{
    ipc_fbw w;
    uint32_t vec, child;
    build(&w, &vec, &child);
    const uint8_t *p = flush(w.data, (size_t)w.len);
    ipc_fb_buf buf;
    ipc_fb_table t, c;
    ck_assert_int_eq(ipc_fb_root(&buf, p, (size_t)w.len, 100, &t), 0);
    uint8_t u8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    ck_assert_int_eq(ipc_fb_u8(&t, F_U8, 0, &u8), 0);
    ck_assert_int_eq(ipc_fb_i16(&t, F_I16, 0, &i16), 0);
    ck_assert_int_eq(ipc_fb_i32(&t, F_I32, 0, &i32), 0);
    ck_assert_int_eq(ipc_fb_i64(&t, F_I64, 0, &i64), 0);
    ck_assert_int_eq(u8, 200);
    ck_assert_int_eq(i16, -300);
    ck_assert_int_eq(i32, -70000);
    ck_assert_int_eq(i64, -5000000000LL);
    ck_assert_int_eq(ipc_fb_i32(&t, 20, 7, &i32), 0); /* absent: the default */
    ck_assert_int_eq(i32, 7);
    const char *s;
    uint32_t len;
    ck_assert_int_eq(ipc_fb_string_field(&t, F_NAME, &s, &len), 0);
    ck_assert_int_eq(len, 5);
    ck_assert_mem_eq(s, "hello", 5);
    bool present;
    ck_assert_int_eq(ipc_fb_table_field(&t, F_CHILD, &c, &present), 0);
    ck_assert(present);
    ck_assert_int_eq(ipc_fb_i32(&c, 0, 0, &i32), 0);
    ck_assert_int_eq(i32, 42);
    ipc_fb_vector v;
    ck_assert_int_eq(ipc_fb_vector_field(&t, F_VEC, 4, &v), 0);
    ck_assert_int_eq(v.count, 3);
    for (uint32_t i = 0; i < 3; i++) {
        ck_assert_int_eq(ipc_fb_vector_table(&v, i, &c), 0);
        ck_assert_int_eq(ipc_fb_i32(&c, 0, -1, &i32), 0);
        ck_assert_int_eq(i32, (int32_t)i);
    }
    ck_assert_int_eq(ipc_fb_vector_table(&v, 3, &c), EINVAL);
    ck_assert_int_eq(ipc_fb_vector_field(&t, F_STRUCTS, 16, &v), 0);
    ck_assert_int_eq(v.count, 2);
    ck_assert_int_eq(ipc_fb_load_i64(ipc_fb_vector_at(&v, 1, 16) + 8), 4);
    unflush();
    ipc_fbw_free(&w);
}
END_TEST

static volatile int64_t sink; /* loads kept, so an over-read faults */

/* Reads everything the test table has; 0 only if all of it checks out. */
static int read_all(const uint8_t *data, size_t n, int64_t budget)
{
    ipc_fb_buf buf;
    ipc_fb_table t, c;
    bool present;
    const char *s;
    uint32_t len;
    int32_t i32;
    int64_t i64;
    ipc_fb_vector v;
    int rc = ipc_fb_root(&buf, data, n, budget, &t);
    if (rc == 0)
        rc = ipc_fb_i64(&t, F_I64, 0, &i64);
    if (rc == 0)
        rc = ipc_fb_string_field(&t, F_NAME, &s, &len);
    if (rc == 0 && len > 0)
        sink = s[len - 1];
    if (rc == 0)
        rc = ipc_fb_table_field(&t, F_CHILD, &c, &present);
    if (rc == 0 && present)
        rc = ipc_fb_i32(&c, 0, 0, &i32);
    if (rc == 0)
        rc = ipc_fb_vector_field(&t, F_VEC, 4, &v);
    for (uint32_t i = 0; rc == 0 && i < v.count; i++)
        if ((rc = ipc_fb_vector_table(&v, i, &c)) == 0)
            rc = ipc_fb_i32(&c, 0, 0, &i32);
    if (rc == 0 && (rc = ipc_fb_vector_field(&t, F_STRUCTS, 16, &v)) == 0 && v.count > 0)
        sink = ipc_fb_load_i64(ipc_fb_vector_at(&v, v.count - 1, 16) + 8);
    return rc;
}

static uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void store_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Where field f's offset slot of the root table lies. */
static uint32_t slot_of(const ipc_fbw *w, int f)
{
    uint32_t table = load_u32(w->data);
    int32_t back;
    memcpy(&back, w->data + table, 4);
    uint16_t off;
    memcpy(&off, w->data + table - back + 4 + 2 * f, 2);
    return table + off;
}

/* One way to break the buffer: a change, then n bytes of it kept. */
static void expect_refused(ipc_fbw *w, void (*breakit)(ipc_fbw *w, uint32_t vec, uint32_t child),
                           uint32_t vec, uint32_t child, int64_t budget)
{
    uint8_t *saved = malloc((size_t)w->len);
    memcpy(saved, w->data, (size_t)w->len);
    breakit(w, vec, child);
    const uint8_t *p = flush(w->data, (size_t)w->len);
    ck_assert_int_eq(read_all(p, (size_t)w->len, budget), EINVAL);
    unflush();
    memcpy(w->data, saved, (size_t)w->len);
    free(saved);
}

static void root_past_end(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    store_u32(w->data, (uint32_t)w->len - 2);
}

static void vtable_before_start(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    uint32_t table = load_u32(w->data);
    store_u32(w->data + table, table + 8); /* the vtable 8 bytes before the buffer */
}

static void vtable_past_end(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    uint32_t table = load_u32(w->data);
    store_u32(w->data + table, (uint32_t)(table - (w->len - 2)));
}

static void vtable_too_long(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    uint32_t table = load_u32(w->data);
    int32_t back;
    memcpy(&back, w->data + table, 4);
    uint16_t big = 0xfffe;
    memcpy(w->data + table - back, &big, 2);
}

static void table_too_long(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    uint32_t table = load_u32(w->data);
    int32_t back;
    memcpy(&back, w->data + table, 4);
    uint16_t big = 0xfff0;
    memcpy(w->data + table - back + 2, &big, 2);
}

static void field_past_table(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    uint32_t table = load_u32(w->data);
    int32_t back;
    memcpy(&back, w->data + table, 4);
    uint16_t size;
    memcpy(&size, w->data + table - back + 2, 2);
    uint16_t off = (uint16_t)(size - 4); /* an int64 there would pass the table's end */
    memcpy(w->data + table - back + 4 + 2 * F_I64, &off, 2);
}

static void string_past_end(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    uint32_t slot = slot_of(w, F_NAME);
    store_u32(w->data + slot + load_u32(w->data + slot), 0x7fffffff);
}

static void string_without_nul(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    uint32_t slot = slot_of(w, F_NAME);
    w->data[slot + load_u32(w->data + slot) + 4 + 5] = 'x';
}

static void vector_past_end(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)child;
    (void)vec;
    uint32_t slot = slot_of(w, F_STRUCTS);
    uint32_t at = slot + load_u32(w->data + slot);
    store_u32(w->data + at, 3); /* 3 structs of 16 bytes where 2 are */
}

static void vector_count_huge(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)child;
    store_u32(w->data + vec, 0x40000001); /* count * 4 wraps 32 bits */
}

static void offset_to_itself(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)vec, (void)child;
    store_u32(w->data + slot_of(w, F_CHILD), 0);
}

static void offset_past_end(ipc_fbw *w, uint32_t vec, uint32_t child)
{
    (void)child;
    store_u32(w->data + vec + 8, (uint32_t)w->len);
}

START_TEST(test_each_check)
{
    ipc_fbw w;
    uint32_t vec, child;
    build(&w, &vec, &child);
    /* the untouched buffer reads through, flush against the guard */
    const uint8_t *p = flush(w.data, (size_t)w.len);
    ck_assert_int_eq(read_all(p, (size_t)w.len, 100), 0);
    unflush();
    for (size_t n = 0; n < (size_t)w.len; n++) { /* every truncation */
        p = flush(w.data, n);
        ck_assert_int_eq(read_all(p, n, 100), EINVAL);
        unflush();
    }
    expect_refused(&w, root_past_end, vec, child, 100);
    expect_refused(&w, vtable_before_start, vec, child, 100);
    expect_refused(&w, vtable_past_end, vec, child, 100);
    expect_refused(&w, vtable_too_long, vec, child, 100);
    expect_refused(&w, table_too_long, vec, child, 100);
    expect_refused(&w, field_past_table, vec, child, 100);
    expect_refused(&w, string_past_end, vec, child, 100);
    expect_refused(&w, string_without_nul, vec, child, 100);
    expect_refused(&w, vector_past_end, vec, child, 100);
    expect_refused(&w, vector_count_huge, vec, child, 100);
    expect_refused(&w, offset_to_itself, vec, child, 100);
    expect_refused(&w, offset_past_end, vec, child, 100);
    /* The budget counts table visits (the root, the child, three in the
     * vector): one fewer is refused, shared children or not. */
    p = flush(w.data, (size_t)w.len);
    ck_assert_int_eq(read_all(p, (size_t)w.len, 5), 0);
    ck_assert_int_eq(read_all(p, (size_t)w.len, 4), EINVAL);
    unflush();
    ipc_fbw_free(&w);
}
END_TEST

/* The encoder's refusals: a pool that refuses leaves err set and nothing held. */
START_TEST(test_encoder_refused)
{
    tally_pool *pool = capped(100);
    ipc_fbw w;
    ipc_fbw_init(&w, pool);
    ipc_fbw_root_slot(&w);
    ck_assert_int_eq(w.err, ENOMEM); /* the first block is 256 bytes */
    ck_assert_int_eq(ipc_fbw_string(&w, "x", 1), 0);
    ipc_fbw_free(&w);
    ck_assert_int_eq(tally_pool_bytes_allocated(pool), 0);
    tally_pool_destroy(pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flatbuf");
    TCase *tc = accounted_tcase("flatbuffers");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_each_check);
    tcase_add_test(tc, test_encoder_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
