/* kv.c: key/value metadata copied into one block with its owner, and the
 * error sentences of the table calls. */
#include "array/type_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool tally_kv_bytes(const tally_kv *pairs, int n, int64_t *bytes)
{
    if (n < 0 || (n > 0 && !pairs))
        return false;
    int64_t total = (int64_t)sizeof(tally_kv) * n;
    for (int i = 0; i < n; i++) {
        if (!pairs[i].key || !pairs[i].value)
            return false;
        int64_t k = (int64_t)strlen(pairs[i].key) + 1, v = (int64_t)strlen(pairs[i].value) + 1;
        if (__builtin_add_overflow(total, k + v, &total))
            return false;
    }
    *bytes = total;
    return true;
}

tally_kv *tally_kv_copy(const tally_kv *pairs, int n, uint8_t *dst)
{
    tally_kv *copy = (tally_kv *)dst;
    char *text = (char *)(copy + n);
    for (int i = 0; i < n; i++) {
        size_t k = strlen(pairs[i].key) + 1, v = strlen(pairs[i].value) + 1;
        memcpy(text, pairs[i].key, k);
        copy[i].key = text;
        text += k;
        memcpy(text, pairs[i].value, v);
        copy[i].value = text;
        text += v;
    }
    return copy;
}

bool tally_kv_equals(const tally_kv *a, int na, const tally_kv *b, int nb)
{
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i].key, b[i].key) != 0 || strcmp(a[i].value, b[i].value) != 0)
            return false;
    return true;
}

int tally_fail(tally_error *error, const char *fmt, ...)
{
    if (error) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(error->message, sizeof error->message, fmt, ap);
        va_end(ap);
    }
    return EINVAL;
}
