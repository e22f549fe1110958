/* datatype.c: data types: the static primitives, list and struct. */
#include "array/type_internal.h"
#include "array/layout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buffer/buffer_internal.h"

#define PRIMITIVE(t)                                                                               \
    {                                                                                              \
        .pool = NULL, .id = (t), .n_fields = 0, .fields = NULL                                     \
    }

static struct tally_datatype primitives[] = {
    PRIMITIVE(TALLY_TYPE_BOOL),   PRIMITIVE(TALLY_TYPE_INT8),   PRIMITIVE(TALLY_TYPE_INT16),
    PRIMITIVE(TALLY_TYPE_INT32),  PRIMITIVE(TALLY_TYPE_INT64),  PRIMITIVE(TALLY_TYPE_UINT8),
    PRIMITIVE(TALLY_TYPE_UINT16), PRIMITIVE(TALLY_TYPE_UINT32), PRIMITIVE(TALLY_TYPE_UINT64),
    PRIMITIVE(TALLY_TYPE_FLOAT),  PRIMITIVE(TALLY_TYPE_DOUBLE), PRIMITIVE(TALLY_TYPE_STRING),
    PRIMITIVE(TALLY_TYPE_BINARY),
};

tally_datatype *tally_datatype_of(tally_type type)
{
    if ((int)type < 0 || (size_t)type >= sizeof primitives / sizeof primitives[0])
        return NULL;
    return &primitives[type];
}

static int64_t block_bytes(int n_fields)
{
    return tally_align_ptr(sizeof(struct tally_datatype)) +
           (int64_t)sizeof(tally_field *) * n_fields;
}

static int make_nested(tally_pool *pool, tally_type id, tally_field *const *fields, int n_fields,
                       tally_datatype **out)
{
    if (!out || n_fields < 0 || (n_fields > 0 && !fields))
        return EINVAL;
    for (int k = 0; k < n_fields; k++)
        if (!fields[k])
            return EINVAL;
    pool = tally_buffer_resolve_pool(pool);
    uint8_t *block;
    int rc = tally_pool_allocate(pool, block_bytes(n_fields), &block);
    if (rc != 0)
        return rc;
    tally_datatype *t = (tally_datatype *)block;
    atomic_init(&t->refcount, 1);
    t->pool = pool;
    t->id = id;
    t->n_fields = n_fields;
    t->fields = (tally_field **)(block + tally_align_ptr(sizeof *t));
    for (int k = 0; k < n_fields; k++)
        t->fields[k] = tally_field_retain(fields[k]);
    *out = t;
    return 0;
}

int tally_datatype_list(tally_pool *pool, tally_field *value_field, tally_datatype **out)
{
    if (!value_field)
        return EINVAL;
    return make_nested(pool, TALLY_TYPE_LIST, &value_field, 1, out);
}

int tally_datatype_struct(tally_pool *pool, tally_field *const *fields, int n_fields,
                          tally_datatype **out)
{
    return make_nested(pool, TALLY_TYPE_STRUCT, fields, n_fields, out);
}

tally_datatype *tally_datatype_retain(tally_datatype *t)
{
    if (t && t->pool)
        atomic_fetch_add_explicit(&t->refcount, 1, memory_order_relaxed);
    return t;
}

void tally_datatype_release(tally_datatype *t)
{
    if (!t || !t->pool || atomic_fetch_sub_explicit(&t->refcount, 1, memory_order_acq_rel) != 1)
        return;
    for (int k = 0; k < t->n_fields; k++)
        tally_field_release(t->fields[k]);
    tally_pool_free(t->pool, (uint8_t *)t, block_bytes(t->n_fields));
}

tally_type tally_datatype_id(const tally_datatype *t)
{
    return t ? t->id : (tally_type)-1;
}

int tally_datatype_n_fields(const tally_datatype *t)
{
    return t ? t->n_fields : 0;
}

tally_field *tally_datatype_field(const tally_datatype *t, int k)
{
    return t && k >= 0 && k < t->n_fields ? t->fields[k] : NULL;
}

int tally_datatype_field_index(const tally_datatype *t, const char *name)
{
    if (!t || !name)
        return -1;
    for (int k = 0; k < t->n_fields; k++)
        if (strcmp(tally_field_name(t->fields[k]), name) == 0)
            return k;
    return -1;
}

bool tally_datatype_equals(const tally_datatype *a, const tally_datatype *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->id != b->id || a->n_fields != b->n_fields)
        return false;
    for (int k = 0; k < a->n_fields; k++)
        if (!tally_field_equals(a->fields[k], b->fields[k], false))
            return false;
    return true;
}

/* snprintf's contract over a running position. */
struct out {
    char *buf;
    int64_t size, len;
};

static void put(struct out *o, const char *s)
{
    int64_t n = (int64_t)strlen(s);
    if (o->len < o->size) {
        int64_t room = o->size - 1 - o->len, k = n < room ? n : room;
        memcpy(o->buf + o->len, s, (size_t)k);
        o->buf[o->len + k] = '\0';
    }
    o->len += n;
}

static void describe(const tally_datatype *t, struct out *o)
{
    put(o, tally_type_name(t->id));
    if (!tally_type_is_nested(t->id))
        return;
    put(o, "<");
    for (int k = 0; k < t->n_fields; k++) {
        if (k > 0)
            put(o, ", ");
        put(o, tally_field_name(t->fields[k]));
        put(o, ": ");
        describe(tally_field_type(t->fields[k]), o);
    }
    put(o, ">");
}

int64_t tally_datatype_describe(const tally_datatype *t, char *buf, int64_t size)
{
    struct out o = {buf, buf ? size : 0, 0};
    if (o.size > 0)
        buf[0] = '\0';
    if (!t) {
        put(&o, "(null)");
        return o.len;
    }
    describe(t, &o);
    return o.len;
}
