/* leak_relinked: blocks freed, handed out again at the same addresses,
 * and then half of them dropped.
 *
 * Blocks of 8 and of 24 bytes go round the allocator's free lists many
 * times; of the last round, half are kept in a global array and half are
 * dropped. Two kinds of stale address could make a dropped block read as
 * reachable to a conservative scan:
 *   - the allocator's free-list links, left in the first words of the kept
 *     blocks it handed out again (tally clears them: shim_scrub);
 *   - the addresses of the blocks freed last, which tally remembers for its
 *     double-free reports, in TLS that is a root (kept bit-inverted:
 *     shim_freed_key). Kept plain, they hid 32 of the 24-byte blocks.
 * memcheck (its blocks are never reused this soon): the dropped ones
 * definitely lost, the kept ones still reachable. */
#include "leak_common.h"

#define BLOCKS 64  /* kept, and dropped, per size */
#define ROUNDS 200 /* enough that the last round's blocks were all freed before */

static void *kept[2 * BLOCKS];

LK_NOINLINE static void relink(size_t size, void **keep)
{
    void *b[2 * BLOCKS];
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < 2 * BLOCKS; i++)
            b[i] = lk_escape(malloc(size));
        for (int i = 0; i < 2 * BLOCKS; i++)
            free(b[i]);
    }
    for (int i = 0; i < 2 * BLOCKS; i++) {
        void *p = lk_escape(malloc(size));
        if (i % 2 == 0)
            keep[i / 2] = p;
    }
    memset(b, 0, sizeof b);
}

int main(void)
{
    relink(8, kept);
    relink(24, kept + BLOCKS);
    lk_scrub();
    return 0;
}
