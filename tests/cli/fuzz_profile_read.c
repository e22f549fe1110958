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

static void walk(const prof_profile *p)
{
    volatile uint64_t sink = 0;
    for (size_t i = 0; i < p->nrecords; i++) {
        const prof_stack *st = prof_find_stack(p, p->records[i].stack_id);
        for (uint32_t f = 0; st && f < st->nframes; f++)
            sink += st->frames[f];
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
