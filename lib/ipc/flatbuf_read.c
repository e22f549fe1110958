/* flatbuf_read.c: every position is checked before it is read (flatbuf_read.h). */
#include "ipc/flatbuf_read.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"

static uint16_t load_u16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Whether n bytes from pos lie inside the buffer (64-bit sums: no wrap). */
static bool fits(const ipc_fb_buf *buf, uint64_t pos, uint64_t n)
{
    return pos <= buf->len && n <= buf->len - pos;
}

/* A table at pos: its vtable and inline part inside the buffer. */
static int open_table(ipc_fb_buf *buf, uint64_t pos, ipc_fb_table *out)
{
    if (--buf->budget < 0 || !fits(buf, pos, 4))
        return EINVAL;
    int64_t vt = (int64_t)pos - (int64_t)ipc_fb_load_i32(buf->data + pos);
    if (vt < 0 || !fits(buf, (uint64_t)vt, 4))
        return EINVAL;
    uint16_t vt_size = load_u16(buf->data + vt), size = load_u16(buf->data + vt + 2);
    if (vt_size < 4 || vt_size % 2 != 0 || !fits(buf, (uint64_t)vt, vt_size))
        return EINVAL;
    if (size < 4 || !fits(buf, pos, size))
        return EINVAL;
    out->buf = buf;
    out->pos = (uint32_t)pos;
    out->vtable = (uint32_t)vt;
    out->n_fields = (uint16_t)((vt_size - 4) / 2);
    out->size = size;
    return 0;
}

int ipc_fb_root(ipc_fb_buf *buf, const uint8_t *data, size_t len, int64_t budget, ipc_fb_table *out)
{
    if (!data || len < 8 || len > INT32_MAX)
        return EINVAL;
    buf->data = data;
    buf->len = (uint32_t)len;
    buf->budget = budget;
    return open_table(buf, load_u32(data), out);
}

/* The field's offset inside the table, 0 when absent; EINVAL when its n
 * bytes would pass the table's inline part. */
static int field_at(const ipc_fb_table *t, int field, uint32_t n, uint32_t *off)
{
    *off = 0;
    if (field < 0 || field >= t->n_fields)
        return 0;
    uint16_t o = load_u16(t->buf->data + t->vtable + 4 + 2 * field);
    if (o == 0)
        return 0;
    if (o < 4 || (uint32_t)o + n > t->size)
        return EINVAL;
    *off = o;
    return 0;
}

#define SCALAR_GETTER(name, type)                                                                  \
    int name(const ipc_fb_table *t, int field, type def, type *out)                                \
    {                                                                                              \
        uint32_t off;                                                                              \
        if (field_at(t, field, sizeof(type), &off) != 0)                                           \
            return EINVAL;                                                                         \
        if (off == 0)                                                                              \
            *out = def;                                                                            \
        else                                                                                       \
            memcpy(out, t->buf->data + t->pos + off, sizeof(type));                                \
        return 0;                                                                                  \
    }
SCALAR_GETTER(ipc_fb_u8, uint8_t)
SCALAR_GETTER(ipc_fb_i16, int16_t)
SCALAR_GETTER(ipc_fb_i32, int32_t)
SCALAR_GETTER(ipc_fb_i64, int64_t)

/* Follows the offset stored at pos to its target. */
static int follow(const ipc_fb_buf *buf, uint64_t pos, uint64_t *target)
{
    if (!fits(buf, pos, 4))
        return EINVAL;
    uint32_t rel = load_u32(buf->data + pos);
    if (rel == 0) /* would point at itself: never a valid object */
        return EINVAL;
    *target = pos + rel;
    return fits(buf, *target, 4) ? 0 : EINVAL;
}

/* The target of an offset field, 0 when absent. */
static int offset_field(const ipc_fb_table *t, int field, uint64_t *target)
{
    uint32_t off;
    *target = 0;
    if (field_at(t, field, 4, &off) != 0)
        return EINVAL;
    if (off == 0)
        return 0;
    return follow(t->buf, (uint64_t)t->pos + off, target);
}

int ipc_fb_table_field(const ipc_fb_table *t, int field, ipc_fb_table *out, bool *present)
{
    uint64_t target;
    *present = false;
    if (offset_field(t, field, &target) != 0)
        return EINVAL;
    if (target == 0)
        return 0;
    *present = true;
    return open_table(t->buf, target, out);
}

/* A vector at target: its count and count * elem_size bytes inside the buffer. */
static int open_vector(ipc_fb_buf *buf, uint64_t target, uint32_t elem_size, ipc_fb_vector *out)
{
    uint32_t count = load_u32(buf->data + target); /* follow checked 4 bytes */
    if (!fits(buf, target + 4, (uint64_t)count * elem_size))
        return EINVAL;
    out->buf = buf;
    out->pos = (uint32_t)(target + 4);
    out->count = count;
    return 0;
}

int ipc_fb_vector_field(const ipc_fb_table *t, int field, uint32_t elem_size, ipc_fb_vector *out)
{
    uint64_t target;
    out->buf = t->buf;
    out->pos = 0;
    out->count = 0;
    if (elem_size == 0 || offset_field(t, field, &target) != 0)
        return EINVAL;
    if (target == 0)
        return 0;
    return open_vector(t->buf, target, elem_size, out);
}

/* A string at target: count bytes and the NUL after them. */
static int open_string(const ipc_fb_buf *buf, uint64_t target, const char **s, uint32_t *len)
{
    uint32_t count = load_u32(buf->data + target);
    if (!fits(buf, target + 4, (uint64_t)count + 1) || buf->data[target + 4 + count] != 0)
        return EINVAL;
    *s = (const char *)buf->data + target + 4;
    *len = count;
    return 0;
}

int ipc_fb_string_field(const ipc_fb_table *t, int field, const char **s, uint32_t *len)
{
    uint64_t target;
    *s = NULL;
    *len = 0;
    if (offset_field(t, field, &target) != 0)
        return EINVAL;
    if (target == 0)
        return 0;
    return open_string(t->buf, target, s, len);
}

int ipc_fb_vector_table(const ipc_fb_vector *v, uint32_t i, ipc_fb_table *out)
{
    uint64_t target;
    if (i >= v->count || follow(v->buf, (uint64_t)v->pos + 4ull * i, &target) != 0)
        return EINVAL;
    return open_table(v->buf, target, out);
}

int ipc_fb_vector_string(const ipc_fb_vector *v, uint32_t i, const char **s, uint32_t *len)
{
    uint64_t target;
    if (i >= v->count || follow(v->buf, (uint64_t)v->pos + 4ull * i, &target) != 0)
        return EINVAL;
    return open_string(v->buf, target, s, len);
}

const uint8_t *ipc_fb_vector_at(const ipc_fb_vector *v, uint32_t i, uint32_t elem_size)
{
    TALLY_ASSERT(i < v->count);
    return v->buf->data + v->pos + (uint64_t)i * elem_size;
}
