/* leak_wide: two arrays that each hold more blocks than tally's mark sorts
 * its stack at (1024 pushed since its last sort, lib/track/mark.c), in an
 * order that has nothing to do with the blocks' addresses. Each array is
 * made after its 1500 blocks, so above them under mimalloc as under glibc,
 * and every third block also holds a pointer 8 bytes into a block of 24
 * zero bytes that nothing else points to: a block the mark's sort lost
 * would not be scanned, and its small block would change class.
 *
 * - The kept array, reached from a global, holds blocks of 40 bytes. The
 *   root phase's sweep has passed them when it reaches the array, and
 *   pushes them all.
 * - The dropped array holds blocks of 56 bytes. The clique phase pushes
 *   them all, whichever of them leads first.
 *
 * And a block of 64 MiB, kept (never touched): the heap's range grows to
 * take it in, so each of the mark's slices of that range (a 65536th of it)
 * holds many blocks, which it sorts by address when their records are not
 * in order (TALLY_SHADOW=0 books every block in the live table, whose
 * order is its hash's).
 *
 * memcheck: the dropped array definitely lost (12000 bytes in 1 block);
 * its blocks and their small ones indirectly lost (84000 + 12000 bytes in
 * 1500 + 500 blocks); the kept blocks' small ones possibly lost (12000
 * bytes in 500); the kept array, its blocks and the big block still
 * reachable (12000 + 60000 + 67108864 bytes in 1 + 1500 + 1). */
#include "leak_common.h"

#define WIDE 1500
#define STRIDE 7919 /* prime, so i * STRIDE % WIDE visits every slot once */

void **kept;
void *kept_big;

LK_NOINLINE static void **fill(size_t size)
{
    void *b[WIDE];
    for (int i = 0; i < WIDE; i++) {
        void **p = lk_escape(calloc(1, size));
        if (i % 3 == 0)
            p[1] = (char *)lk_escape(calloc(1, 24)) + 8;
        b[i] = p;
    }
    void **array = lk_escape(malloc(WIDE * sizeof *array));
    for (int i = 0; i < WIDE; i++)
        array[(size_t)i * STRIDE % WIDE] = b[i];
    memset(b, 0, sizeof b);
    return array;
}

int main(void)
{
    kept_big = lk_escape(malloc((size_t)64 << 20));
    kept = fill(40);
    fill(56); /* dropped */
    lk_scrub();
    return 0;
}
