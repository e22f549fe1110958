/* shim_bignum: small-object arithmetic. Fibonacci numbers as linked lists of
 * 32-bit limbs, each limb its own 16-byte node: millions of tiny
 * allocations, most short-lived. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct limb {
    uint32_t v;
    struct limb *next;
} limb;

static limb *add(const limb *a, const limb *b)
{
    limb *head = NULL, **tail = &head;
    uint64_t carry = 0;
    while (a || b || carry) {
        uint64_t s = carry + (a ? a->v : 0) + (b ? b->v : 0);
        limb *n = malloc(sizeof *n);
        n->v = (uint32_t)s;
        n->next = NULL;
        *tail = n;
        tail = &n->next;
        carry = s >> 32;
        a = a ? a->next : NULL;
        b = b ? b->next : NULL;
    }
    return head;
}

static void drop(limb *a)
{
    while (a) {
        limb *n = a->next;
        free(a);
        a = n;
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    limb *a = calloc(1, sizeof(limb)), *b = calloc(1, sizeof(limb));
    b->v = 1;
    for (int i = 0; i < n; i++) {
        limb *c = add(a, b);
        drop(a);
        a = b;
        b = c;
    }
    int limbs = 0;
    for (limb *x = b; x; x = x->next)
        limbs++;
    printf("%d limbs\n", limbs);
    drop(a);
    drop(b);
    return 0;
}
