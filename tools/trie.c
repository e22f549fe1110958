/* trie.c: the frame tree (see trie.h). */
#include <config.h>

#include "trie.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(uint32_t parent, uint64_t addr, uint32_t k)
{
    uint64_t h = addr * 0x9e3779b97f4a7c15ull ^ ((uint64_t)parent << 32 | k);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

int trie_init(trie *t)
{
    memset(t, 0, sizeof *t);
    t->cap = 256;
    t->n = malloc(t->cap * sizeof *t->n);
    t->nslots = 512;
    t->slots = calloc(t->nslots, sizeof *t->slots);
    if (!t->n || !t->slots) {
        trie_free(t);
        return -1;
    }
    t->n[0] = (trie_node){0, 0, TRIE_NONE, TRIE_NONE, TRIE_NONE, 0, 0};
    t->len = 1;
    return 0;
}

void trie_free(trie *t)
{
    free(t->n);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static int rehash(trie *t)
{
    size_t ns = t->nslots * 2;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 1; i < t->len; i++) {
        const trie_node *x = &t->n[i];
        size_t j = hash(x->parent, x->addr, x->k) & (ns - 1);
        while (s[j])
            j = (j + 1) & (ns - 1);
        s[j] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = s;
    t->nslots = ns;
    return 0;
}

uint32_t trie_child(trie *t, uint32_t parent, uint64_t addr, uint32_t k)
{
    size_t j = hash(parent, addr, k) & (t->nslots - 1);
    while (t->slots[j]) {
        const trie_node *x = &t->n[t->slots[j] - 1];
        if (x->parent == parent && x->addr == addr && x->k == k)
            return t->slots[j] - 1;
        j = (j + 1) & (t->nslots - 1);
    }
    if (t->len + 1 >= UINT32_MAX)
        return TRIE_NONE;
    if (t->len == t->cap) {
        trie_node *n = realloc(t->n, t->cap * 2 * sizeof *n);
        if (!n)
            return TRIE_NONE;
        t->n = n;
        t->cap *= 2;
    }
    uint32_t id = (uint32_t)t->len++;
    t->n[id] = (trie_node){addr, k, parent, TRIE_NONE, t->n[parent].child, 0, 0};
    t->n[parent].child = id;
    t->n[parent].nchildren++;
    t->slots[j] = id + 1;
    if (t->len * 2 > t->nslots && rehash(t) != 0) {
        t->len--; /* undo: the table cannot hold it */
        t->n[parent].child = t->n[id].sibling;
        t->n[parent].nchildren--;
        return TRIE_NONE;
    }
    return id;
}

static int cmp_value(const void *a, const void *b, void *arg)
{
    const trie_node *n = arg;
    int64_t x = n[*(const uint32_t *)a].value, y = n[*(const uint32_t *)b].value;
    return (x < y) - (x > y);
}

void trie_sort(trie *t)
{
    uint32_t buf[64], *kids = buf;
    size_t cap = 64;
    for (size_t i = 0; i < t->len; i++) {
        trie_node *x = &t->n[i];
        if (x->nchildren < 2)
            continue;
        if (x->nchildren > cap) {
            uint32_t *k = kids == buf ? malloc(x->nchildren * sizeof *k)
                                      : realloc(kids, x->nchildren * sizeof *k);
            if (!k)
                break;
            kids = k;
            cap = x->nchildren;
        }
        size_t n = 0;
        for (uint32_t c = x->child; c != TRIE_NONE; c = t->n[c].sibling)
            kids[n++] = c;
        qsort_r(kids, n, sizeof *kids, cmp_value, t->n);
        x->child = kids[0];
        for (size_t c = 0; c + 1 < n; c++)
            t->n[kids[c]].sibling = kids[c + 1];
        t->n[kids[n - 1]].sibling = TRIE_NONE;
    }
    if (kids != buf)
        free(kids);
}
