/* stack_tree.c: stacks into (parent, frame) nodes (see stack_tree.h).
 *
 * Two open-addressing indexes over dense arrays: nodes by (parent, address)
 * and frames by address. Both arrays are the file's order, so writing is a
 * walk over each. */
#include <config.h>

#include "profile/stack_tree.h"

#include "base/assert.h"
#include "base/hash.h"

#include <string.h>

typedef struct {
    uint64_t addr;
    uint32_t parent; /* 0: the root */
    uint32_t frame;  /* index in addrs */
} tree_node;

#define FIRST_SLOTS 1024u

static tree_node *node_at(const prof_stack_tree *t, uint32_t number)
{
    return (tree_node *)t->nodes.data + (number - 1);
}

static uint64_t *addr_at(const prof_stack_tree *t, uint32_t index)
{
    return (uint64_t *)t->addrs.data + index;
}

/* The slot holding node (parent, addr), or the empty one where it goes. */
static size_t node_slot(const prof_stack_tree *t, uint32_t parent, uint64_t addr)
{
    size_t mask = t->node_cap - 1, j = base_hash_pair(addr, parent) & mask;
    while (t->node_slots[j]) {
        const tree_node *x = node_at(t, t->node_slots[j]);
        if (x->parent == parent && x->addr == addr)
            break;
        j = (j + 1) & mask;
    }
    return j;
}

static size_t addr_slot(const prof_stack_tree *t, uint64_t addr)
{
    size_t mask = t->addr_cap - 1, j = base_hash_pair(addr, 0) & mask;
    while (t->addr_slots[j] && *addr_at(t, t->addr_slots[j] - 1) != addr)
        j = (j + 1) & mask;
    return j;
}

/* An index of cap slots (a power of two, at least twice the nodes) with
 * every node put back: the keys are known to differ, so each goes to the
 * first empty slot without a comparison. */
static bool resize_nodes(prof_stack_tree *t, size_t cap)
{
    uint32_t *slots = base_map(cap * sizeof *slots);
    if (!slots)
        return false;
    base_unmap(t->node_slots, t->node_cap * sizeof *t->node_slots);
    t->node_slots = slots;
    t->node_cap = cap;
    for (uint32_t k = 1; k <= t->nnodes; k++) {
        const tree_node *x = node_at(t, k);
        size_t j = base_hash_pair(x->addr, x->parent) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = k;
    }
    return true;
}

static bool grow_nodes(prof_stack_tree *t)
{
    return resize_nodes(t, t->node_cap ? 2 * t->node_cap : FIRST_SLOTS);
}

static bool grow_addrs(prof_stack_tree *t)
{
    size_t cap = t->addr_cap ? 2 * t->addr_cap : FIRST_SLOTS;
    uint32_t *slots = base_map(cap * sizeof *slots);
    if (!slots)
        return false;
    base_unmap(t->addr_slots, t->addr_cap * sizeof *t->addr_slots);
    t->addr_slots = slots;
    t->addr_cap = cap;
    for (uint32_t i = 0; i < t->naddrs; i++)
        t->addr_slots[addr_slot(t, *addr_at(t, i))] = i + 1;
    return true;
}

/* The frame index of addr, added when new; UINT32_MAX when out of memory. */
static uint32_t frame_of(prof_stack_tree *t, uint64_t addr)
{
    if ((size_t)(t->naddrs + 1) * 2 > t->addr_cap && !grow_addrs(t))
        return UINT32_MAX;
    size_t j = addr_slot(t, addr);
    if (!t->addr_slots[j]) {
        base_buf_put(&t->addrs, &addr, sizeof addr);
        if (t->addrs.failed)
            return UINT32_MAX;
        t->addr_slots[j] = ++t->naddrs;
    }
    return t->addr_slots[j] - 1;
}

/* The node of addr under parent, made when new; 0 when out of memory. */
static uint32_t child(prof_stack_tree *t, uint32_t parent, uint64_t addr)
{
    if ((size_t)(t->nnodes + 1) * 2 > t->node_cap &&
        (t->nnodes + 1 >= UINT32_MAX || !grow_nodes(t)))
        return 0;
    size_t j = node_slot(t, parent, addr);
    if (t->node_slots[j])
        return t->node_slots[j];
    uint32_t frame = frame_of(t, addr);
    if (frame == UINT32_MAX)
        return 0;
    tree_node x = {addr, parent, frame};
    base_buf_put(&t->nodes, &x, sizeof x);
    if (t->nodes.failed)
        return 0;
    t->node_slots[j] = ++t->nnodes;
    return t->nnodes;
}

void prof_stack_tree_add(prof_stack_tree *t, uint32_t id, const uintptr_t *frames, uint32_t nframes)
{
    TALLY_ASSERT(id != 0 && (t->nstacks == 0 || id > t->last_id));
    if (t->failed || id == 0 || (t->nstacks > 0 && id <= t->last_id))
        return;
    if (!t->path && !(t->path = base_map(PROF_MAX_FRAMES * sizeof *t->path))) {
        t->failed = true;
        return;
    }
    uint32_t n = nframes > PROF_MAX_FRAMES ? PROF_MAX_FRAMES : nframes; /* the innermost ones */
    /* From the outermost frame, frames[n - 1], in: the callers the last
     * stack shares are its nodes, found without a lookup. */
    uint32_t node = 0, d = 0;
    while (d < n && d < t->path_len && node_at(t, t->path[d])->addr == frames[n - 1 - d])
        node = t->path[d++];
    for (; d < n; d++) {
        node = child(t, node, frames[n - 1 - d]);
        if (node == 0) {
            t->failed = true;
            return;
        }
        t->path[d] = node;
    }
    t->path_len = n;
    uint32_t rec[2] = {id, node};
    base_buf_put(&t->stacks, rec, sizeof rec);
    t->failed |= t->stacks.failed;
    t->nstacks++;
    t->last_id = id;
}

void prof_write_stack_tree(prof_writer *w, const prof_stack_tree *t)
{
    base_buf *b = &w->buf;
    if (t->failed) {
        b->failed = true; /* prof_write_end says ENOMEM */
        return;
    }
    prof_section_begin(w, PROF_SEC_FRAMES);
    uint64_t last = 0;
    for (uint32_t i = 0; i < t->naddrs; i++) {
        uint64_t a = *addr_at(t, i);
        prof_put_svarint(b, (int64_t)(a - last));
        last = a;
    }
    w->count = t->naddrs;
    prof_section_end(w);

    prof_section_begin(w, PROF_SEC_NODES);
    for (uint32_t k = 1; k <= t->nnodes; k++) {
        const tree_node *x = node_at(t, k);
        prof_put_uvarint(b, k - x->parent); /* the parent comes before: at least 1 */
        prof_put_uvarint(b, x->frame);
    }
    w->count = t->nnodes;
    prof_section_end(w);

    prof_section_begin(w, PROF_SEC_STACKS);
    const uint32_t *s = (const uint32_t *)t->stacks.data;
    uint32_t last_id = 0, last_node = 0;
    for (uint32_t i = 0; i < t->nstacks; i++) {
        prof_put_uvarint(b, s[2 * i] - last_id);
        prof_put_svarint(b, (int64_t)s[2 * i + 1] - (int64_t)last_node);
        last_id = s[2 * i];
        last_node = s[2 * i + 1];
    }
    w->count = t->nstacks;
    prof_section_end(w);
}

void prof_stack_tree_free(prof_stack_tree *t)
{
    base_buf_free(&t->nodes);
    base_buf_free(&t->addrs);
    base_buf_free(&t->stacks);
    base_unmap(t->node_slots, t->node_cap * sizeof *t->node_slots);
    base_unmap(t->addr_slots, t->addr_cap * sizeof *t->addr_slots);
    base_unmap(t->path, PROF_MAX_FRAMES * sizeof *t->path);
    memset(t, 0, sizeof *t);
}
