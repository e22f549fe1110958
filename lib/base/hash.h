/* hash.h: a general-purpose hash of bytes, for in-memory hash tables.
 *
 * 64-bit FNV-1a: short keys (names, stack keys) hash fast and spread well
 * enough for open addressing. Nothing is stored with it: a table may change
 * it freely. The profile's checksum is defined by the format, not here
 * (lib/profile/format.h). */
#ifndef TALLY_BASE_HASH_H
#define TALLY_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t base_hash_bytes(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A 64-bit key (an address, an id) mixed so that its high and low bits
 * both depend on all of it: half of murmur3's finaliser, enough to spread
 * aligned addresses over a power-of-two table. */
static inline uint64_t base_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Two keys at once (a parent and an address, a stack and a pool): each
 * spread by its own odd multiplier before the mix, so (a, b) and (b, a)
 * differ. */
static inline uint64_t base_hash_pair(uint64_t a, uint64_t b)
{
    return base_hash_u64(a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full);
}

static inline uint64_t base_hash_str(const char *s)
{
    return base_hash_bytes(s, strlen(s));
}

#endif
