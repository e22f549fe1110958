/* leak_list: a singly linked list whose head is dropped.
 * memcheck: the head is definitely lost (48 bytes in 1 block), the 9 nodes
 * it reaches indirectly lost (432 bytes in 9 blocks). */
#include "leak_common.h"

struct node {
    struct node *next;
    char payload[40];
}; /* 48 bytes */

LK_NOINLINE static void drop_list(int n)
{
    struct node *head = NULL;
    for (int i = 0; i < n; i++) {
        struct node *x = lk_escape(malloc(sizeof *x));
        memset(x->payload, 'a' + i, sizeof x->payload);
        x->next = head;
        head = x;
    }
    head = NULL; /* the whole list is gone */
}

int main(void)
{
    drop_list(10);
    lk_scrub();
    return 0;
}
