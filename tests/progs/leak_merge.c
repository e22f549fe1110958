/* leak_merge: chains of small blocks with a medium one (16 KiB) every 25th
 * link. Under the shim the small blocks are in the shadow map and the
 * medium ones in the live table, so the leak check merges a few blocks of
 * the table into the shadow map's run in address order (mark.c
 * merge_run); with TALLY_SHADOW=0 it sorts them all. A block misplaced by
 * either breaks a chain, and the links past it read as lost.
 * memcheck: the kept chain (3000 links: 2880 small of 32 bytes, 120 of
 * 16384) is still reachable; of the dropped one (1000 links: 960 small, 40
 * medium) the head is definitely lost (32 bytes) and the rest indirectly. */
#include "leak_common.h"

#define MEDIUM 16384
#define SMALL 32

void *kept;

/* A chain of n links, each pointing at the next with its first word; the
 * head is small. */
LK_NOINLINE static void *make_chain(int n)
{
    void *head = NULL, **last = &head;
    for (int i = 0; i < n; i++) {
        size_t size = i % 25 == 12 ? MEDIUM : SMALL;
        void **x = lk_escape(malloc(size));
        if (!x)
            exit(99);
        memset(x, 0, size); /* no allocator leftovers read as pointers */
        *last = x;
        last = (void **)x;
    }
    return head;
}

LK_NOINLINE static void drop_chain(int n)
{
    lk_escape(make_chain(n));
}

int main(void)
{
    kept = make_chain(3000);
    drop_chain(1000);
    lk_scrub();
    return 0;
}
