/* trie.h: a tree of call-stack frames with a value per node, for the
 * massif heap tree and the HTML flame graph. A child is found by hashing
 * (parent, address, inline depth), so building stays linear in frames
 * however many siblings a node has. */
#ifndef TALLY_TRIE_H
#define TALLY_TRIE_H

#include <stddef.h>
#include <stdint.h>

#define TRIE_NONE UINT32_MAX

typedef struct {
    uint64_t addr;    /* the frame's return address (or a pool id for a pool node) */
    uint32_t k;       /* which of the address's inlined frames; TRIE_NONE: a pool node */
    uint32_t parent;  /* TRIE_NONE for the root */
    uint32_t child;   /* first child, TRIE_NONE when none */
    uint32_t sibling; /* next sibling */
    uint32_t nchildren;
    int64_t value;
} trie_node;

typedef struct {
    trie_node *n;
    size_t len, cap;
    uint32_t *slots; /* node index + 1; 0 empty */
    size_t nslots;
} trie;

/* 0, or -1 when out of memory. The root is node 0. */
int trie_init(trie *t);
void trie_free(trie *t);
/* The child of parent for (addr, k), created when absent; TRIE_NONE when out of memory. */
uint32_t trie_child(trie *t, uint32_t parent, uint64_t addr, uint32_t k);
/* Sorts every node's children by value, largest first. */
void trie_sort(trie *t);

#endif
