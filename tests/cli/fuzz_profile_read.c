/* fuzz_profile_read.c: libFuzzer target for the profile reader.
 *
 * Each input is parsed twice: once skipping the checksum, so mutations
 * reach the section parsers (a random change almost never keeps a valid
 * FNV-1a), and once as `tally report` does. Any profile that parses is
 * walked through the lookups the reports use. Built by
 * tests/cli/test_cli_fuzz.sh with clang -fsanitize=fuzzer,address,undefined. */
#include "profile/read.h"

#include <stddef.h>
#include <stdint.h>

#include <stdlib.h>

/* The tree's promises: the root first, a parent before its child, a depth
 * one more than the parent's and at most the limit, a frame that exists,
 * and each stack as deep as its node. Broken, they would send the reports
 * out of bounds, so the target aborts (libFuzzer reports it). */
static void check_tree(const prof_profile *p)
{
    if (p->nnodes < 1 || p->nodes[0].depth != 0)
        abort();
    for (size_t k = 1; k < p->nnodes; k++) {
        const prof_node *n = &p->nodes[k];
        if (n->parent >= k || n->frame >= p->naddrs || n->depth != p->nodes[n->parent].depth + 1 ||
            n->depth > PROF_MAX_FRAMES)
            abort();
    }
    for (size_t i = 0; i < p->nstacks; i++)
        if (p->stacks[i].node >= p->nnodes ||
            p->stacks[i].nframes != p->nodes[p->stacks[i].node].depth ||
            (i > 0 && p->stacks[i].id <= p->stacks[i - 1].id))
            abort();
}

static void walk(const prof_profile *p)
{
    volatile uint64_t sink = 0;
    check_tree(p);
    uint64_t frames[PROF_MAX_FRAMES];
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_stack *st = prof_find_stack(p, p->records[i].stack_id);
        uint32_t n = st ? prof_stack_frames(p, st, frames, PROF_MAX_FRAMES) : 0;
        if (st && n != st->nframes)
            abort();
        for (uint32_t f = 0; f < n; f++)
            sink += frames[f];
        sink += (uint64_t)prof_pool_name(p, p->records[i].pool_id)[0];
    }
    for (size_t i = 0; i < p->nleaks; i++)
        sink += (prof_find_stack(p, p->leaks[i].stack_id) != NULL) + p->leaks[i].kind;
    for (size_t i = 0; i < p->nblocks; i++) /* a block's group is one of the leaks */
        sink += (uint64_t)p->leaks[p->blocks[i].group].bytes + p->blocks[i].address;
    for (size_t i = 0; i < p->npoints * p->series_npools; i++)
        sink += (uint64_t)p->series_bytes[i];
    for (size_t i = 0; i < p->nmodules; i++)
        sink += p->modules[i].path[0] + p->modules[i].build_id_len;
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    prof_profile *p = NULL;
    if (prof_parse(data, size, PROF_PARSE_NO_CHECKSUM, &p, err, sizeof err) == 0) {
        walk(p);
        prof_free(p);
    }
    if (prof_parse(data, size, 0, &p, err, sizeof err) == 0) {
        walk(p);
        prof_free(p);
    }
    return 0;
}
