/* leak_interior: blocks reached only through pointers into their middle.
 * memcheck ("possibly lost": reached only through interior pointers):
 * - a 200-byte block, a global points at its byte 100;
 * - a 120-byte block, a still-reachable 64-byte block points at its byte 60;
 * - a 256-byte block, a global points at its byte 40, and the 80-byte block
 *   that block points to by its start: reached from a possibly lost block,
 *   it is possibly lost too;
 * - two 72-byte blocks: a global points into the lower one (byte 40) and
 *   by its start to the higher one, which points to the lower one by its
 *   start; the lower one points to a 48-byte block by its start. All three
 *   are still reachable. tally's check takes blocks in address order, so
 *   it reads the lower block first as possibly lost, and must read it
 *   again once the higher one makes it reachable, or its 48-byte child
 *   stays possibly lost.
 * possible 656 bytes in 4 blocks, reachable 256 bytes in 4 blocks.
 * The offsets are not 8 (memcheck's new[] and length64 heuristics look at
 * byte 8) and the blocks hold no vtable pointers (its multiple-inheritance
 * heuristic), so no heuristic makes them reachable. */
#include "leak_common.h"

char *into_middle;     /* -> byte 100 of 200 */
struct holder *holder; /* -> 64-byte reachable block */
char *into_parent;     /* -> byte 40 of 256 */
char *into_lower;      /* -> byte 40 of the lower 72-byte block */
void **higher;         /* -> the higher 72-byte block */

struct holder {
    char *inside; /* -> byte 60 of 120 */
    char payload[56];
}; /* 64 */

struct parent {
    char payload[40];
    void *child; /* -> the 80-byte block, by its start */
    char rest[208];
}; /* 256 */

LK_NOINLINE static void keep_interior(void)
{
    into_middle = (char *)lk_escape(malloc(200)) + 100;

    holder = lk_escape(malloc(sizeof *holder));
    memset(holder->payload, 1, sizeof holder->payload);
    holder->inside = (char *)lk_escape(malloc(120)) + 60;

    struct parent *p = lk_escape(malloc(sizeof *p));
    memset(p, 0, sizeof *p);
    p->child = lk_escape(calloc(1, 80));
    into_parent = (char *)p + 40;

    void **x = lk_escape(calloc(1, 72)), **y = lk_escape(calloc(1, 72));
    void **lower = x < y ? x : y;
    higher = x < y ? y : x;
    lower[2] = lk_escape(calloc(1, 48));
    higher[0] = lower;
    into_lower = (char *)lower + 40;
}

int main(void)
{
    keep_interior();
    lk_scrub();
    return 0;
}
