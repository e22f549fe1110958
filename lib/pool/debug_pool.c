/* debug_pool.c: guards around every block, checked on free.
 *
 * Each block is laid out as [prefix | user bytes | guard]. The header at the
 * end of the prefix remembers the real size and alignment, so a free with the
 * wrong size is caught, and the guard catches a write past the end. The prefix
 * is a whole multiple of the alignment, so the user bytes keep it. */
#include "pool/pool_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_MAGIC 0x7a11eb10cca7ed01ull
#define GUARD_SIZE 16
#define GUARD_BYTE 0xab
#define POISON_BYTE 0xdd

typedef struct {
    uint64_t magic;
    int64_t size;
    int64_t alignment; /* of the underlying block */
    int64_t prefix;
} block_header;

typedef struct {
    tally_pool base;
    tally_debug_action action;
} debug_pool;

static int64_t block_alignment(int64_t alignment)
{
    return alignment > (int64_t)sizeof(block_header) ? alignment : (int64_t)sizeof(block_header);
}

static block_header *header_of(uint8_t *user)
{
    return (block_header *)(user - sizeof(block_header));
}

static void act(const debug_pool *dp)
{
    switch (dp->action) {
    case TALLY_DEBUG_ABORT:
        abort();
    case TALLY_DEBUG_TRAP:
        raise(SIGTRAP);
        break;
    case TALLY_DEBUG_WARN:
        break;
    }
}

static int debug_allocate(tally_pool *pool, int64_t size, int64_t alignment, uint8_t **out)
{
    int64_t align = block_alignment(alignment), prefix = align;
    uint8_t *base;
    int rc = tally_pool_allocate_aligned(pool->parent, prefix + size + GUARD_SIZE, align, &base);
    if (rc != 0)
        return rc;
    uint8_t *user = base + prefix;
    *header_of(user) = (block_header){HEADER_MAGIC, size, align, prefix};
    memset(user + size, GUARD_BYTE, GUARD_SIZE);
    *out = user;
    return 0;
}

static bool guard_intact(const uint8_t *user, int64_t size)
{
    for (int i = 0; i < GUARD_SIZE; i++)
        if (user[size + i] != GUARD_BYTE)
            return false;
    return true;
}

/* Reports what is wrong with a block about to be released; false when the
 * block is not ours at all and must not be touched. */
static bool check_block(debug_pool *dp, uint8_t *user, int64_t given_size)
{
    block_header *h = header_of(user);
    if (h->magic != HEADER_MAGIC) {
        fprintf(stderr, "tally: invalid or double free of %p in debug pool '%s'\n", (void *)user,
                dp->base.name);
        act(dp);
        return false;
    }
    if (given_size != h->size) {
        fprintf(stderr, "tally: wrong size on deallocation: given %lld, actual %lld\n",
                (long long)given_size, (long long)h->size);
        act(dp);
    }
    if (!guard_intact(user, h->size)) {
        fprintf(stderr, "tally: heap overrun after block of %lld bytes\n", (long long)h->size);
        act(dp);
    }
    return true;
}

/* Poisons the block, so a use after free reads garbage, and hands it back. */
static void release_block(tally_pool *pool, uint8_t *user)
{
    block_header h = *header_of(user);
    uint8_t *base = user - h.prefix;
    memset(base, POISON_BYTE, (size_t)(h.prefix + h.size + GUARD_SIZE));
    tally_pool_free_aligned(pool->parent, base, h.prefix + h.size + GUARD_SIZE, h.alignment);
}

static int64_t debug_free(tally_pool *pool, uint8_t *ptr, int64_t size, int64_t alignment)
{
    (void)alignment;
    debug_pool *dp = (debug_pool *)pool;
    if (!check_block(dp, ptr, size))
        return 0;
    int64_t actual = header_of(ptr)->size;
    release_block(pool, ptr);
    return actual;
}

static int debug_reallocate(tally_pool *pool, int64_t old_size, int64_t new_size, int64_t alignment,
                            uint8_t **ptr)
{
    debug_pool *dp = (debug_pool *)pool;
    if (!check_block(dp, *ptr, old_size))
        return EINVAL;
    /* The guard moves with the end of the block, so always move the block. */
    uint8_t *fresh;
    int rc = debug_allocate(pool, new_size, alignment, &fresh);
    if (rc != 0)
        return rc;
    int64_t actual = header_of(*ptr)->size;
    memcpy(fresh, *ptr, (size_t)(actual < new_size ? actual : new_size));
    release_block(pool, *ptr);
    *ptr = fresh;
    return 0;
}

static void debug_release_unused(tally_pool *pool)
{
    tally_pool_release_unused(pool->parent);
}

static const struct pool_vtable debug_vtable = {
    .allocate = debug_allocate,
    .reallocate = debug_reallocate,
    .free = debug_free,
    .release_unused = debug_release_unused,
};

tally_pool *tally_debug_pool_new(tally_pool *parent, tally_debug_action action)
{
    if (action != TALLY_DEBUG_ABORT && action != TALLY_DEBUG_TRAP && action != TALLY_DEBUG_WARN)
        return NULL;
    char name[64];
    snprintf(name, sizeof name, "debug(%s)", tally_pool_name(parent));
    debug_pool *dp = (debug_pool *)pool_new_wrapper(sizeof *dp, &debug_vtable, parent, name);
    if (dp)
        dp->action = action;
    return &dp->base;
}
