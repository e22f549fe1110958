/* flatbuf_write.c: front-to-back flatbuffers (flatbuf_write.h). */
#include "ipc/flatbuf_write.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"

/* The metadata of one message is small; anything near 2 GiB is a bug. */
#define MAX_LEN ((int64_t)INT32_MAX / 2)

void ipc_fbw_init(ipc_fbw *w, tally_pool *pool)
{
    memset(w, 0, sizeof *w);
    w->pool = pool;
}

void ipc_fbw_free(ipc_fbw *w)
{
    if (w->data)
        tally_pool_free(w->pool, w->data, w->cap);
    w->data = NULL;
    w->len = w->cap = 0;
}

/* n zeroed bytes at the end; their position, or 0 after a failure. */
static uint32_t grow(ipc_fbw *w, int64_t n)
{
    if (w->err)
        return 0;
    if (w->len + n > MAX_LEN) {
        w->err = EOVERFLOW;
        return 0;
    }
    if (w->len + n > w->cap) {
        int64_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *p = w->data;
        int rc = tally_pool_reallocate(w->pool, w->cap, cap, &p);
        if (rc != 0) {
            w->err = rc;
            return 0;
        }
        w->data = p;
        w->cap = cap;
    }
    uint32_t pos = (uint32_t)w->len;
    memset(w->data + pos, 0, (size_t)n);
    w->len += n;
    return pos;
}

/* Zero padding until the next object's position p satisfies p % align == rem. */
static void pad_to(ipc_fbw *w, uint32_t align, uint32_t rem)
{
    int64_t n = ((int64_t)rem - w->len % align + align) % align;
    if (n)
        grow(w, n);
}

uint32_t ipc_fbw_root_slot(ipc_fbw *w)
{
    TALLY_ASSERT(w->len == 0);
    return grow(w, 4);
}

void ipc_fbw_table_start(ipc_fbw_table *t)
{
    memset(t, 0, sizeof *t);
}

static void set_field(ipc_fbw_table *t, int field, uint8_t size, uint64_t v)
{
    TALLY_ASSERT(field >= 0 && field < IPC_FBW_MAX_FIELDS);
    t->size[field] = size;
    t->value[field] = v;
}

void ipc_fbw_u8(ipc_fbw_table *t, int field, uint8_t v)
{
    set_field(t, field, 1, v);
}

void ipc_fbw_i16(ipc_fbw_table *t, int field, int16_t v)
{
    set_field(t, field, 2, (uint16_t)v);
}

void ipc_fbw_i32(ipc_fbw_table *t, int field, int32_t v)
{
    set_field(t, field, 4, (uint32_t)v);
}

void ipc_fbw_i64(ipc_fbw_table *t, int field, int64_t v)
{
    set_field(t, field, 8, (uint64_t)v);
}

void ipc_fbw_offset(ipc_fbw_table *t, int field)
{
    set_field(t, field, 4, 0);
}

uint32_t ipc_fbw_table_end(ipc_fbw *w, ipc_fbw_table *t)
{
    int n_fields = 0, inline_size = 4;
    bool has8 = false;
    for (int f = 0; f < IPC_FBW_MAX_FIELDS; f++)
        if (t->size[f]) {
            n_fields = f + 1;
            inline_size += t->size[f];
            has8 |= t->size[f] == 8;
        }
    uint32_t vt_size = 4 + 2 * (uint32_t)n_fields;
    /* The vtable, then the table at 4 mod 8: after its 4-byte distance to
     * the vtable, the fields (largest first) all fall on their alignment. */
    pad_to(w, 2, 0);
    int64_t table = w->len + vt_size;
    while (table % (has8 ? 8 : 4) != (has8 ? 4 : 0))
        table++;
    uint32_t vt = grow(w, table - w->len + inline_size);
    if (w->err)
        return 0;
    uint8_t *d = w->data;
    uint16_t u16 = (uint16_t)vt_size;
    memcpy(d + vt, &u16, 2);
    u16 = (uint16_t)inline_size;
    memcpy(d + vt + 2, &u16, 2);
    int32_t back = (int32_t)(table - vt);
    memcpy(d + table, &back, 4);
    uint32_t at = 4;
    for (int size = 8; size >= 1; size /= 2)
        for (int f = 0; f < n_fields; f++) {
            if (t->size[f] != size)
                continue;
            u16 = (uint16_t)at;
            memcpy(d + vt + 4 + 2 * f, &u16, 2);
            uint64_t v = t->value[f];
            memcpy(d + table + at, &v, (size_t)size); /* little-endian: the low bytes */
            t->slot[f] = (uint32_t)table + at;
            at += (uint32_t)size;
        }
    TALLY_ASSERT(at == (uint32_t)inline_size);
    return (uint32_t)table;
}

void ipc_fbw_patch(ipc_fbw *w, uint32_t slot, uint32_t target)
{
    if (w->err)
        return;
    TALLY_ASSERT(target > slot && (int64_t)slot + 4 <= w->len);
    uint32_t rel = target - slot;
    memcpy(w->data + slot, &rel, 4);
}

uint32_t ipc_fbw_string(ipc_fbw *w, const char *s, uint32_t len)
{
    pad_to(w, 4, 0);
    uint32_t pos = grow(w, 4 + (int64_t)len + 1);
    if (w->err)
        return 0;
    memcpy(w->data + pos, &len, 4);
    if (len)
        memcpy(w->data + pos + 4, s, len);
    return pos;
}

uint32_t ipc_fbw_vector(ipc_fbw *w, uint32_t elem_size, uint32_t align, uint32_t count,
                        const void *data)
{
    TALLY_ASSERT(align >= 4 && (align & (align - 1)) == 0);
    pad_to(w, align, align - 4);
    uint32_t pos = grow(w, 4 + (int64_t)count * elem_size);
    if (w->err)
        return 0;
    memcpy(w->data + pos, &count, 4);
    if (data && count)
        memcpy(w->data + pos + 4, data, (size_t)count * elem_size);
    return pos;
}
