/* leak_xor: a pointer kept only XOR-ed with a key is no pointer: memcheck
 * calls its 333-byte block definitely lost. A 444-byte block kept plainly
 * is still reachable. The key flips the top bits, so the hidden value is
 * not a canonical address and cannot point into the heap by chance. */
#include "leak_common.h"

#define KEY ((uintptr_t)0xa5a5a5a5a5a5a5a5ull)

uintptr_t hidden;
void *plain;

LK_NOINLINE static void hide(void)
{
    hidden = (uintptr_t)lk_escape(malloc(333)) ^ KEY;
    plain = lk_escape(malloc(444));
}

int main(void)
{
    hide();
    lk_scrub();
    /* The block is still there for whoever knows the key. */
    return ((char *)(hidden ^ KEY) == NULL);
}
