/* leak_tree: a binary tree of 15 nodes whose root is dropped while a global
 * keeps the root's left subtree.
 * memcheck: the root definitely lost (40 bytes in 1 block), its right
 * subtree indirectly lost (280 bytes in 7 blocks), the left subtree still
 * reachable (280 bytes in 7 blocks). */
#include "leak_common.h"

struct tree {
    struct tree *left, *right;
    char payload[24];
}; /* 40 bytes */

struct tree *kept_subtree;

LK_NOINLINE static struct tree *build(int depth)
{
    if (depth == 0)
        return NULL;
    struct tree *t = lk_escape(malloc(sizeof *t));
    memset(t->payload, depth, sizeof t->payload);
    t->left = build(depth - 1);
    t->right = build(depth - 1);
    return t;
}

LK_NOINLINE static void keep_left(void)
{
    struct tree *root = build(4);
    kept_subtree = root->left;
    root = NULL;
}

int main(void)
{
    keep_left();
    lk_scrub();
    return 0;
}
