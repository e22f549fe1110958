/* leak_cycle: unreachable cycles. Two 64-byte blocks pointing at each
 * other, three 96-byte blocks in a ring and a 24-byte block pointing at
 * itself, all dropped.
 * memcheck: one block of each cycle is definitely lost (the one with the
 * lowest address: it leads the clique) and the others indirectly lost:
 * definite 184 bytes in 3 blocks (64 + 96 + 24), indirect 256 bytes in 3
 * blocks (64 + 2 x 96). The blocks of a cycle have equal sizes, so the
 * bytes per class do not depend on which block the allocator put first. */
#include "leak_common.h"

struct pair {
    struct pair *other;
    char payload[56];
}; /* 64 */

struct ring {
    struct ring *next;
    char payload[88];
}; /* 96 */

struct self {
    struct self *me;
    char payload[16];
}; /* 24 */

LK_NOINLINE static void drop_cycles(void)
{
    struct pair *a = lk_escape(malloc(sizeof *a)), *b = lk_escape(malloc(sizeof *b));
    a->other = b;
    b->other = a;

    struct ring *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = lk_escape(malloc(sizeof *r[i]));
    for (int i = 0; i < 3; i++)
        r[i]->next = r[(i + 1) % 3];

    struct self *s = lk_escape(malloc(sizeof *s));
    s->me = s;
}

int main(void)
{
    drop_cycles();
    lk_scrub();
    return 0;
}
