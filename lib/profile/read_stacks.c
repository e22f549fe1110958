/* read_stacks.c: the stack sections into the tree read.h describes.
 *
 * Version 3 stores the tree itself: FRAMES (the distinct addresses), NODES
 * ((parent, frame) pairs, a parent before its children) and STACKS (an id
 * and its innermost node). Versions 1 and 2 store each stack as an array of
 * frames; those are made into the same tree here, so every consumer sees
 * one shape whatever the file's version. */
#include <config.h>

#include "profile/read_internal.h"

#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

static uint64_t le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

int prof_stacks_ensure_root(prof_reader *r)
{
    prof_profile *p = r->p;
    if (p->nodes)
        return 0;
    p->nodes = calloc(1, sizeof *p->nodes);
    if (!p->nodes) {
        prof_say(r->err, r->errlen, "out of memory reading STACKS");
        return -1;
    }
    p->nnodes = 1;
    return 0;
}

uint32_t prof_stack_frames(const prof_profile *p, const prof_stack *st, uint64_t *out, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t k = st->node; k != 0 && n < max; k = p->nodes[k].parent)
        out[n++] = prof_node_addr(p, k);
    return n;
}

/* ---- version 3 ----------------------------------------------------------------- */

int prof_parse_frames(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    p->addrs = prof_section_array(r, s, PROF_SEC_FRAMES, PROF_FRAME_MIN_BYTES, sizeof *p->addrs);
    if (!p->addrs)
        return -1;
    prof_cursor c = prof_cursor_of(s);
    uint64_t addr = 0;
    for (uint32_t i = 0; i < s->count; i++) {
        addr += (uint64_t)prof_svarint(&c);
        if (c.overrun)
            break;
        p->addrs[i] = addr;
        p->naddrs = i + 1;
    }
    return prof_finish(r, &c, PROF_SEC_FRAMES, 0);
}

int prof_parse_nodes(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (prof_count_fits(r, s, PROF_SEC_NODES, PROF_NODE_MIN_BYTES))
        return -1;
    p->nodes = malloc(((size_t)s->count + 1) * sizeof *p->nodes);
    if (!p->nodes) {
        prof_say(r->err, r->errlen, "out of memory reading NODES");
        return -1;
    }
    p->nodes[0] = (prof_node){0, 0, 0}; /* the root */
    p->nnodes = 1;
    prof_cursor c = prof_cursor_of(s);
    for (uint32_t k = 1; k <= s->count && k != 0; k++) {
        uint64_t up = prof_uvarint(&c), frame = prof_uvarint(&c);
        if (c.overrun)
            break;
        if (up == 0 || up > k) {
            prof_say(r->err, r->errlen,
                     "corrupt profile: node %u names a parent that is not before it", k);
            return -1;
        }
        if (frame >= p->naddrs) {
            prof_say(r->err, r->errlen,
                     "corrupt profile: node %u refers to frame %llu, which is not in the file", k,
                     (unsigned long long)frame);
            return -1;
        }
        uint32_t parent = k - (uint32_t)up, depth = p->nodes[parent].depth + 1;
        if (depth > PROF_MAX_FRAMES) {
            prof_say(r->err, r->errlen, "corrupt profile: node %u is %u frames deep (at most %d)",
                     k, depth, PROF_MAX_FRAMES);
            return -1;
        }
        p->nodes[k] = (prof_node){parent, (uint32_t)frame, depth};
        p->nnodes = (size_t)k + 1;
    }
    return prof_finish(r, &c, PROF_SEC_NODES, 0);
}

int prof_parse_stacks(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (prof_stacks_ensure_root(r))
        return -1;
    p->stacks = prof_section_array(r, s, PROF_SEC_STACKS, PROF_STACK_MIN_BYTES, sizeof *p->stacks);
    if (!p->stacks)
        return -1;
    prof_cursor c = prof_cursor_of(s);
    uint64_t id = 0, node = 0;
    for (uint32_t i = 0; i < s->count; i++) {
        uint64_t step = prof_uvarint(&c);
        node += (uint64_t)prof_svarint(&c);
        if (c.overrun)
            break;
        /* Ids ascend: a step of 0 repeats one, and the first is from 0. */
        if (step == 0) {
            if (i == 0)
                prof_say(r->err, r->errlen, "corrupt profile: a stack has id 0");
            else
                prof_say(r->err, r->errlen, "corrupt profile: stack id %llu appears twice",
                         (unsigned long long)id);
            return -1;
        }
        if (step > UINT32_MAX - id) {
            prof_say(r->err, r->errlen, "corrupt profile: a stack id is over 32 bits");
            return -1;
        }
        id += step;
        if (node >= p->nnodes) {
            prof_say(r->err, r->errlen,
                     "corrupt profile: stack %llu refers to node %llu, which is not in the file",
                     (unsigned long long)id, (unsigned long long)node);
            return -1;
        }
        p->stacks[i] = (prof_stack){(uint32_t)id, p->nodes[node].depth, (uint32_t)node};
        p->nstacks = i + 1;
    }
    return prof_finish(r, &c, PROF_SEC_STACKS, 0);
}

/* ---- versions 1 and 2: frame arrays into the tree --------------------------------- */

/* Nodes and frames as they are made, with an index over each: nodes by
 * (parent, address), frames by address. Arrays and indexes double. */
typedef struct {
    prof_profile *p;
    size_t node_cap, addr_cap;
    uint32_t *node_slots, *addr_slots; /* number (node) or index + 1 (frame); 0 empty */
    size_t node_nslots, addr_nslots;
} tree_builder;

static size_t node_slot(const tree_builder *b, const uint32_t *slots, size_t nslots,
                        uint32_t parent, uint64_t addr)
{
    const prof_profile *p = b->p;
    size_t mask = nslots - 1, j = base_hash_pair(addr, parent) & mask;
    while (slots[j] &&
           !(p->nodes[slots[j]].parent == parent && prof_node_addr(p, slots[j]) == addr))
        j = (j + 1) & mask;
    return j;
}

static size_t addr_slot(const tree_builder *b, const uint32_t *slots, size_t nslots, uint64_t addr)
{
    size_t mask = nslots - 1, j = base_hash_pair(addr, 0) & mask;
    while (slots[j] && b->p->addrs[slots[j] - 1] != addr)
        j = (j + 1) & mask;
    return j;
}

/* Room for one more node and one more frame, arrays and indexes (the
 * indexes at most half full). 0, or -1 when out of memory. */
static int builder_room(tree_builder *b)
{
    prof_profile *p = b->p;
    if (p->nnodes == b->node_cap) {
        size_t cap = b->node_cap * 2;
        prof_node *n = realloc(p->nodes, cap * sizeof *n);
        if (!n)
            return -1;
        p->nodes = n;
        b->node_cap = cap;
    }
    if (p->naddrs == b->addr_cap) {
        size_t cap = b->addr_cap * 2;
        uint64_t *a = realloc(p->addrs, cap * sizeof *a);
        if (!a)
            return -1;
        p->addrs = a;
        b->addr_cap = cap;
    }
    if ((p->nnodes + 1) * 2 > b->node_nslots) {
        size_t ns = b->node_nslots * 2;
        uint32_t *s = calloc(ns, sizeof *s);
        if (!s)
            return -1;
        for (uint32_t k = 1; k < p->nnodes; k++)
            s[node_slot(b, s, ns, p->nodes[k].parent, prof_node_addr(p, k))] = k;
        free(b->node_slots);
        b->node_slots = s;
        b->node_nslots = ns;
    }
    if ((p->naddrs + 1) * 2 > b->addr_nslots) {
        size_t ns = b->addr_nslots * 2;
        uint32_t *s = calloc(ns, sizeof *s);
        if (!s)
            return -1;
        for (size_t i = 0; i < p->naddrs; i++)
            s[addr_slot(b, s, ns, p->addrs[i])] = (uint32_t)i + 1;
        free(b->addr_slots);
        b->addr_slots = s;
        b->addr_nslots = ns;
    }
    return 0;
}

/* The node of addr under parent, made when new; 0 when out of memory. */
static uint32_t builder_child(tree_builder *b, uint32_t parent, uint64_t addr)
{
    prof_profile *p = b->p;
    if (p->nnodes >= UINT32_MAX || builder_room(b) != 0)
        return 0;
    size_t j = node_slot(b, b->node_slots, b->node_nslots, parent, addr);
    if (b->node_slots[j])
        return b->node_slots[j];
    size_t a = addr_slot(b, b->addr_slots, b->addr_nslots, addr);
    if (!b->addr_slots[a]) {
        p->addrs[p->naddrs++] = addr;
        b->addr_slots[a] = (uint32_t)p->naddrs;
    }
    uint32_t k = (uint32_t)p->nnodes++;
    p->nodes[k] = (prof_node){parent, b->addr_slots[a] - 1, p->nodes[parent].depth + 1};
    b->node_slots[j] = k;
    return k;
}

static int cmp_stack(const void *a, const void *b)
{
    uint32_t x = ((const prof_stack *)a)->id, y = ((const prof_stack *)b)->id;
    return (x > y) - (x < y);
}

/* Each stack's frames, outermost first, become a path from the root. A
 * stack that shares its outer frames with the one before it reuses that
 * one's nodes without a lookup: a tracked program's stacks come in the
 * order they were first met, and neighbours often share their callers. */
static int build_v2(prof_reader *r, const prof_section *s, tree_builder *b)
{
    prof_profile *p = r->p;
    uint32_t path[PROF_MAX_FRAMES], path_len = 0;
    prof_cursor c = prof_cursor_of(s);
    for (uint32_t i = 0; i < s->count; i++) {
        prof_stack *st = &p->stacks[i];
        if (c.left < PROF_STACK_V2_MIN_BYTES) {
            c.overrun = 1;
            break;
        }
        st->id = (uint32_t)le64(c.p) & UINT32_MAX;
        uint32_t n = (uint32_t)(le64(c.p) >> 32);
        c.p += PROF_STACK_V2_MIN_BYTES;
        c.left -= PROF_STACK_V2_MIN_BYTES;
        if (st->id == 0) {
            prof_say(r->err, r->errlen, "corrupt profile: a stack has id 0");
            return -1;
        }
        if (n > PROF_MAX_FRAMES) {
            prof_say(r->err, r->errlen, "corrupt profile: stack %u has %u frames (at most %d)",
                     st->id, n, PROF_MAX_FRAMES);
            return -1;
        }
        if ((size_t)n * 8 > c.left) {
            c.overrun = 1;
            break;
        }
        uint32_t node = 0, d = 0;
        while (d < n && d < path_len && prof_node_addr(p, path[d]) == le64(c.p + 8 * (n - 1 - d)))
            node = path[d++];
        for (; d < n; d++) {
            node = builder_child(b, node, le64(c.p + 8 * (n - 1 - d)));
            if (node == 0) {
                prof_say(r->err, r->errlen, "out of memory reading STACKS");
                return -1;
            }
            path[d] = node;
        }
        path_len = n;
        st->node = node;
        st->nframes = n;
        c.p += (size_t)n * 8;
        c.left -= (size_t)n * 8;
        p->nstacks = i + 1;
    }
    if (prof_finish(r, &c, PROF_SEC_STACKS, 0))
        return -1;
    qsort(p->stacks, p->nstacks, sizeof *p->stacks, cmp_stack);
    for (size_t i = 1; i < p->nstacks; i++)
        if (p->stacks[i].id == p->stacks[i - 1].id) {
            prof_say(r->err, r->errlen, "corrupt profile: stack id %u appears twice",
                     p->stacks[i].id);
            return -1;
        }
    return 0;
}

int prof_parse_stacks_v2(prof_reader *r, const prof_section *s)
{
    prof_profile *p = r->p;
    if (prof_count_fits(r, s, PROF_SEC_STACKS, PROF_STACK_V2_MIN_BYTES))
        return -1;
    tree_builder b = {
        .p = p, .node_cap = 64, .addr_cap = 64, .node_nslots = 128, .addr_nslots = 128};
    p->stacks = calloc(s->count ? s->count : 1, sizeof *p->stacks);
    p->nodes = malloc(b.node_cap * sizeof *p->nodes);
    p->addrs = malloc(b.addr_cap * sizeof *p->addrs);
    b.node_slots = calloc(b.node_nslots, sizeof *b.node_slots);
    b.addr_slots = calloc(b.addr_nslots, sizeof *b.addr_slots);
    int rc;
    if (!p->stacks || !p->nodes || !p->addrs || !b.node_slots || !b.addr_slots) {
        prof_say(r->err, r->errlen, "out of memory reading STACKS");
        rc = -1;
    } else {
        p->nodes[0] = (prof_node){0, 0, 0};
        p->nnodes = 1;
        rc = build_v2(r, s, &b);
    }
    free(b.node_slots);
    free(b.addr_slots);
    return rc;
}
