/* c_schema.c: data types and fields as ArrowSchema trees, both ways.
 *
 * The metadata travels in the spec's binary form: an int32 pair count, then
 * per pair an int32 length and the key's bytes, an int32 length and the
 * value's bytes, in native byte order. */
#include "array/c_internal.h"
#include "array/layout.h"

#include <errno.h>
#include <string.h>

/* ---- export -------------------------------------------------------------------------- */

struct schema_node {
    tally_pool *pool;
    int64_t bytes;
};

static bool metadata_bytes(const tally_kv *pairs, int n, int64_t *bytes)
{
    if (n == 0) {
        *bytes = 0;
        return true;
    }
    int64_t total = 4;
    for (int i = 0; i < n; i++) {
        size_t k = strlen(pairs[i].key), v = strlen(pairs[i].value);
        if (k > INT32_MAX || v > INT32_MAX)
            return false;
        total += 8 + (int64_t)k + (int64_t)v;
    }
    *bytes = total;
    return true;
}

static void put_int32(char **p, int64_t v)
{
    int32_t x = (int32_t)v;
    memcpy(*p, &x, 4);
    *p += 4;
}

static void encode_metadata(const tally_kv *pairs, int n, char *p)
{
    put_int32(&p, n);
    for (int i = 0; i < n; i++) {
        size_t k = strlen(pairs[i].key), v = strlen(pairs[i].value);
        put_int32(&p, (int64_t)k);
        memcpy(p, pairs[i].key, k);
        p += k;
        put_int32(&p, (int64_t)v);
        memcpy(p, pairs[i].value, v);
        p += v;
    }
}

static void release_schema_node(struct ArrowSchema *s)
{
    if (!s || !s->release)
        return;
    for (int64_t k = 0; k < s->n_children; k++)
        if (s->children[k]->release)
            s->children[k]->release(s->children[k]);
    struct schema_node *node = s->private_data;
    tally_pool_free(node->pool, (uint8_t *)node, node->bytes);
    s->release = NULL;
}

int tally_c_export_schema(tally_pool *pool, const char *format, const char *name, int64_t flags,
                          const tally_kv *metadata, int n_metadata, tally_field *const *children,
                          int n_children, struct ArrowSchema *out)
{
    int64_t md_bytes, name_bytes = (int64_t)strlen(name) + 1;
    if (!metadata_bytes(metadata, n_metadata, &md_bytes))
        return EINVAL;
    int64_t head = tally_align_ptr(sizeof(struct schema_node));
    int64_t kids = tally_align_ptr(
        (int64_t)(sizeof(struct ArrowSchema *) + sizeof(struct ArrowSchema)) * n_children);
    int64_t bytes = head + kids + name_bytes + md_bytes;
    uint8_t *block;
    int rc = tally_pool_allocate(pool, bytes, &block);
    if (rc != 0)
        return rc;
    struct schema_node *node = (struct schema_node *)block;
    node->pool = pool;
    node->bytes = bytes;
    struct ArrowSchema *structs = (struct ArrowSchema *)(block + head);
    struct ArrowSchema **ptrs = (struct ArrowSchema **)(structs + n_children);
    char *name_copy = (char *)block + head + kids;
    memcpy(name_copy, name, (size_t)name_bytes);
    char *md = NULL;
    if (md_bytes > 0) {
        md = name_copy + name_bytes;
        encode_metadata(metadata, n_metadata, md);
    }
    for (int k = 0; k < n_children; k++) {
        ptrs[k] = &structs[k];
        rc = tally_c_export_field(pool, children[k], &structs[k]);
        if (rc != 0) {
            while (k-- > 0)
                structs[k].release(&structs[k]);
            tally_pool_free(pool, block, bytes);
            return rc;
        }
    }
    *out = (struct ArrowSchema){
        .format = format,
        .name = name_copy,
        .metadata = md,
        .flags = flags,
        .n_children = n_children,
        .children = n_children > 0 ? ptrs : NULL,
        .dictionary = NULL,
        .release = release_schema_node,
        .private_data = node,
    };
    return 0;
}

int tally_c_export_field(tally_pool *pool, const tally_field *f, struct ArrowSchema *out)
{
    const tally_datatype *t = f->type;
    return tally_c_export_schema(pool, tally_type_format(t->id), f->name,
                                 f->nullable ? ARROW_FLAG_NULLABLE : 0, f->metadata, f->n_metadata,
                                 t->fields, t->n_fields, out);
}

/* ---- import -------------------------------------------------------------------------- */

static int32_t get_int32(const char **p)
{
    int32_t v;
    memcpy(&v, *p, 4);
    *p += 4;
    return v;
}

/* Walks the metadata blob: its pair count and the bytes its strings need
 * (NULs included); EINVAL for negative lengths or embedded NULs. */
static int scan_metadata(const char *blob, int *n, int64_t *text)
{
    *n = 0;
    *text = 0;
    if (!blob)
        return 0;
    const char *p = blob;
    int32_t count = get_int32(&p);
    if (count < 0)
        return EINVAL;
    for (int32_t i = 0; i < 2 * count; i++) {
        int32_t len = get_int32(&p);
        if (len < 0 || memchr(p, '\0', (size_t)len))
            return EINVAL;
        p += len;
        *text += len + 1;
    }
    *n = count;
    return 0;
}

int tally_c_import_metadata(tally_pool *pool, const char *blob, tally_kv **pairs, int *n,
                            int64_t *bytes)
{
    int64_t text;
    int rc = scan_metadata(blob, n, &text);
    if (rc != 0)
        return rc;
    *pairs = NULL;
    *bytes = 0;
    if (*n == 0)
        return 0;
    *bytes = (int64_t)sizeof(tally_kv) * *n + text;
    uint8_t *block;
    rc = tally_pool_allocate(pool, *bytes, &block);
    if (rc != 0)
        return rc;
    tally_kv *kv = (tally_kv *)block;
    char *out = (char *)(kv + *n);
    const char *p = blob + 4;
    for (int i = 0; i < 2 * *n; i++) {
        int32_t len = get_int32(&p);
        memcpy(out, p, (size_t)len);
        out[len] = '\0';
        if (i % 2 == 0)
            kv[i / 2].key = out;
        else
            kv[i / 2].value = out;
        out += len + 1;
        p += len;
    }
    *pairs = kv;
    return 0;
}

int tally_c_check_schema(const struct ArrowSchema *s, int depth, tally_error *error)
{
    if (depth > TALLY_C_MAX_DEPTH)
        return tally_fail(error, "schema nested deeper than %d levels", TALLY_C_MAX_DEPTH);
    if (!s || !s->release)
        return tally_fail(error, "schema missing or already released");
    tally_type type;
    if (tally_type_from_format(s->format, &type) != 0)
        return tally_fail(error, "unsupported format \"%.32s\"", s->format ? s->format : "(null)");
    if (s->dictionary)
        return tally_fail(error, "dictionaries are not supported");
    int64_t want = type == TALLY_TYPE_LIST ? 1 : 0;
    if (type == TALLY_TYPE_STRUCT ? s->n_children < 0 || s->n_children > INT32_MAX
                                  : s->n_children != want)
        return tally_fail(error, "format \"%s\" with %lld children", s->format,
                          (long long)s->n_children);
    if (s->n_children > 0 && !s->children)
        return tally_fail(error, "children missing");
    int n;
    int64_t text;
    if (scan_metadata(s->metadata, &n, &text) != 0)
        return tally_fail(error, "unreadable metadata");
    for (int64_t k = 0; k < s->n_children; k++) {
        int rc = tally_c_check_schema(s->children[k], depth + 1, error);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tally_c_import_type(tally_pool *pool, const struct ArrowSchema *s, tally_datatype **out)
{
    tally_type type;
    tally_type_from_format(s->format, &type); /* checked */
    if (!tally_type_is_nested(type)) {
        *out = tally_datatype_of(type);
        return 0;
    }
    int n = (int)s->n_children;
    tally_field **fields;
    int rc = tally_c_import_children(pool, s, &fields);
    if (rc != 0)
        return rc;
    rc = type == TALLY_TYPE_LIST ? tally_datatype_list(pool, fields[0], out)
                                 : tally_datatype_struct(pool, fields, n, out);
    tally_c_release_children(pool, fields, n, n);
    return rc;
}

int tally_c_import_children(tally_pool *pool, const struct ArrowSchema *s, tally_field ***out)
{
    int n = (int)s->n_children;
    *out = NULL;
    if (n == 0)
        return 0;
    uint8_t *block;
    int rc = tally_pool_allocate(pool, (int64_t)sizeof(tally_field *) * n, &block);
    if (rc != 0)
        return rc;
    tally_field **fields = (tally_field **)block;
    for (int made = 0; made < n; made++) {
        rc = tally_c_import_field(pool, s->children[made], &fields[made]);
        if (rc != 0) {
            tally_c_release_children(pool, fields, made, n);
            return rc;
        }
    }
    *out = fields;
    return 0;
}

void tally_c_release_children(tally_pool *pool, tally_field **fields, int made, int n)
{
    for (int k = 0; k < made; k++)
        tally_field_release(fields[k]);
    if (fields)
        tally_pool_free(pool, (uint8_t *)fields, (int64_t)sizeof *fields * n);
}

int tally_c_import_field(tally_pool *pool, const struct ArrowSchema *s, tally_field **out)
{
    tally_datatype *t;
    int rc = tally_c_import_type(pool, s, &t);
    if (rc != 0)
        return rc;
    tally_kv *md;
    int n;
    int64_t bytes;
    rc = tally_c_import_metadata(pool, s->metadata, &md, &n, &bytes);
    if (rc == 0) {
        rc = tally_field_new(pool, s->name ? s->name : "", t, (s->flags & ARROW_FLAG_NULLABLE) != 0,
                             md, n, out);
        if (md)
            tally_pool_free(pool, (uint8_t *)md, bytes);
    }
    tally_datatype_release(t);
    return rc;
}
