/* profile_read.h: reads a tally profile (docs/FORMAT.md, version 1).
 *
 * The reader checks everything the format page lists under "What a reader
 * rejects" and never trusts a length or a count before checking it against
 * the bytes that are really there, so any input gives either a profile or
 * one message. It has no dependency beyond libc, so tests and the fuzz
 * target can link it alone. */
#ifndef TALLY_PROFILE_READ_H
#define TALLY_PROFILE_READ_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_PROFILE_VERSION 1
#define TALLY_PROFILE_MAX_FRAMES 256
#define TALLY_PROFILE_MAX_BUCKETS 64

typedef struct {
    uint64_t start, end, base;
    char *path;
    uint8_t *build_id;
    uint32_t build_id_len;
} tally_prof_module;

typedef struct {
    uint32_t id;
    uint32_t nframes;
    const uint64_t *frames; /* innermost first; points into the profile's frame pool */
} tally_prof_stack;

typedef struct {
    int32_t id;
    char *name;
    int64_t current, peak, total_bytes, total_count, temporary_count, live_count;
    uint32_t nbuckets;
    int64_t histogram[TALLY_PROFILE_MAX_BUCKETS];
} tally_prof_pool;

typedef struct {
    uint32_t stack_id;
    int32_t pool_id;
    int64_t live_bytes, live_count, total_bytes, total_count, temporary_count;
    int64_t peak_bytes, pool_peak_bytes;
} tally_prof_record;

typedef struct {
    uint64_t address;
    int64_t size;
    uint32_t stack_id; /* 0: not sampled */
    int32_t pool_id;
} tally_prof_leak;

typedef struct tally_profile {
    uint32_t version, flags; /* flags bit 0: sampled estimates */
    /* META; all zero when the section is absent */
    int has_meta;
    uint32_t pid, reason, depth, threads;
    int64_t start_ns, duration_ns, sample_bytes, exactness_bytes;
    int64_t peak_bytes, peak_ns, max_rss_bytes;
    char *exe, *cmdline;

    size_t nmodules;
    tally_prof_module *modules;
    size_t nstacks;
    tally_prof_stack *stacks; /* sorted by id after reading */
    size_t npools;
    tally_prof_pool *pools; /* in file order */
    size_t nrecords;
    tally_prof_record *records;
    size_t nleaks;
    tally_prof_leak *leaks;

    /* SERIES: series_bytes[i * series_npools + j] is pool series_pools[j] at point i */
    uint32_t series_npools;
    int32_t *series_pools;
    size_t npoints;
    int64_t *series_t_ns, *series_rss, *series_bytes;

    uint64_t *frame_pool; /* every stack's frames, one allocation */
} tally_profile;

/* Skip the checksum check: for the fuzz target only, so mutations reach the
 * section parsers instead of stopping at the checksum. */
#define TALLY_PROFILE_NO_CHECKSUM 1u

/* Reads the profile at path. 0 and *out on success; otherwise -1, *out NULL
 * and a one-line message in err (without the path). */
int tally_profile_read(const char *path, tally_profile **out, char *err, size_t errlen);
/* The same from memory. */
int tally_profile_parse(const void *data, size_t len, unsigned flags, tally_profile **out,
                        char *err, size_t errlen);
void tally_profile_free(tally_profile *p);

/* Lookups by id; NULL when absent (stack id 0 is always absent). */
const tally_prof_stack *tally_profile_stack(const tally_profile *p, uint32_t id);
const tally_prof_pool *tally_profile_pool(const tally_profile *p, int32_t id);
/* The pool's name, or "?" for an unknown id. */
const char *tally_profile_pool_name(const tally_profile *p, int32_t id);

/* 64-bit FNV-1a, as the format's checksum. */
uint64_t tally_profile_fnv1a(const void *data, size_t len);

#endif
