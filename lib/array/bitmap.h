/* bitmap.h: LSB-first bit runs, as Arrow lays out validity and bool values. */
#ifndef TALLY_ARRAY_BITMAP_H
#define TALLY_ARRAY_BITMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline int64_t tally_bitmap_bytes(int64_t bits)
{
    return bits / 8 + (bits % 8 != 0); /* (bits + 7) / 8 could overflow */
}

static inline bool tally_bit_get(const uint8_t *bits, int64_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}

static inline void tally_bit_put(uint8_t *bits, int64_t i, bool v)
{
    uint8_t mask = (uint8_t)(1u << (i & 7));
    bits[i >> 3] = v ? (uint8_t)(bits[i >> 3] | mask) : (uint8_t)(bits[i >> 3] & ~mask);
}

/* Sets or clears n bits from start. */
static inline void tally_bits_fill(uint8_t *bits, int64_t start, int64_t n, bool v)
{
    int64_t i = start, end = start + n;
    for (; i < end && (i & 7); i++)
        tally_bit_put(bits, i, v);
    int64_t whole = (end - i) / 8;
    if (whole > 0) {
        memset(bits + i / 8, v ? 0xff : 0, (size_t)whole);
        i += whole * 8;
    }
    for (; i < end; i++)
        tally_bit_put(bits, i, v);
}

/* The number of set bits among n from start. */
static inline int64_t tally_bits_count(const uint8_t *bits, int64_t start, int64_t n)
{
    int64_t count = 0, i = start, end = start + n;
    for (; i < end && (i & 7); i++)
        count += tally_bit_get(bits, i);
    for (; i + 64 <= end; i += 64) {
        uint64_t word;
        memcpy(&word, bits + i / 8, sizeof word);
        count += __builtin_popcountll(word);
    }
    for (; i < end; i++)
        count += tally_bit_get(bits, i);
    return count;
}

/* Clears the bits from `from` to the end of a bitmap of `bytes` bytes: the
 * padding Arrow consumers may read must not hold stale bits. */
static inline void tally_bits_clear_tail(uint8_t *bits, int64_t from, int64_t bytes)
{
    int64_t i = from;
    for (; (i & 7) && i / 8 < bytes; i++)
        tally_bit_put(bits, i, false);
    if (i / 8 < bytes)
        memset(bits + i / 8, 0, (size_t)(bytes - i / 8));
}

#endif
