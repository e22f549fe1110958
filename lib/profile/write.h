/* write.h: the profile encoder (docs/FORMAT.md, version 3).
 *
 * A profile is built in memory, section by section, then written to a file
 * in one go:
 *
 *     prof_writer w = {0};
 *     prof_write_begin(&w, flags);
 *     prof_write_meta(&w, &meta);
 *     prof_section_begin(&w, PROF_SEC_RECORDS);
 *     prof_write_record(&w, &rec);           (one call per record)
 *     prof_section_end(&w);
 *     prof_write_stack_tree(&w, &tree);      (the stacks: stack_tree.h)
 *     ...
 *     rc = prof_write_end(&w);
 *     if (rc == 0) rc = prof_write_file(&w, path);
 *     prof_writer_free(&w);
 *
 * The writer knows the format and nothing of who fills it: the tracking
 * core (lib/track/profile_write.c) and the tests' profile generator both
 * call it. It never calls malloc, since under the preload shim malloc is the
 * tracked path: the buffer is mmap'd. After an mmap failure the buffer
 * drops everything and prof_write_end reports ENOMEM. */
#ifndef TALLY_PROFILE_WRITE_H
#define TALLY_PROFILE_WRITE_H

#include "base/mem.h"
#include "profile/format.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    base_buf buf;   /* mmap'd (lib/base/mem.h) */
    size_t section; /* where the open (or else the last) section's header starts */
    uint32_t count; /* records in the open section */
    bool open;      /* a section is open */
    /* The open section's last stack id: RECORDS and LEAKS store each
     * record's as the step from the one before. */
    uint32_t last_stack;
} prof_writer;

/* META, as the writer takes it; strings are NUL-terminated. */
typedef struct {
    uint32_t pid, reason;
    int64_t start_ns, duration_ns, sample_bytes;
    uint32_t depth, threads;
    int64_t exactness_bytes, peak_bytes, peak_ns, max_rss_bytes;
    const char *exe, *cmdline;
} prof_meta;

/* A POOLS record, as the writer takes it. */
typedef struct {
    int32_t id;
    const char *name;
    int64_t current, peak, total_bytes, total_count, temporary_count, live_count;
    uint32_t nbuckets;
    const int64_t *histogram; /* nbuckets of them */
} prof_pool_stats;

/* The header; flags: PROF_FLAG_SAMPLED, PROF_FLAG_CLASSIFIED or 0. */
void prof_write_begin(prof_writer *w, uint32_t flags);
/* The META section, whole. */
void prof_write_meta(prof_writer *w, const prof_meta *m);

/* A section of records: begin, one call per record, end. The end fills in
 * the section's count and length. */
void prof_section_begin(prof_writer *w, uint32_t tag);
void prof_section_end(prof_writer *w);
/* In PROF_SEC_MODULES: one loaded object. */
void prof_write_module(prof_writer *w, uint64_t start, uint64_t end, uint64_t base,
                       const char *path, const void *build_id, uint32_t build_id_len);
/* In PROF_SEC_POOLS. */
void prof_write_pool(prof_writer *w, const prof_pool_stats *p);
/* In PROF_SEC_RECORDS. */
void prof_write_record(prof_writer *w, const prof_record *r);
/* In PROF_SEC_SERIES: the pool ids once, first, then one call per point
 * with bytes[n] in the same order. */
void prof_write_series_pools(prof_writer *w, const int32_t *ids, uint32_t n);
void prof_write_series_point(prof_writer *w, int64_t t_ns, int64_t rss_bytes, const int64_t *bytes,
                             uint32_t n);
/* In PROF_SEC_LEAKS: one group. */
void prof_write_leak(prof_writer *w, const prof_leak *l);
/* In PROF_SEC_LEAK_BLOCKS: one block of a group written before. */
void prof_write_leak_block(prof_writer *w, const prof_leak_block *b);
/* In PROF_SEC_NAMES: the strings once, first (the k-th, from 1, is
 * referred to as k; 0 is none), then one call per named frame, in ascending
 * FRAMES index order, with its source frames innermost first. */
typedef struct {
    uint32_t function, system_name, file; /* string references */
    uint32_t line, flags;                 /* flags: PROF_NAME_* */
} prof_name_ref;
void prof_write_name_strings(prof_writer *w, const char *const *strings, uint32_t n);
void prof_write_named_frame(prof_writer *w, uint32_t frame, const prof_name_ref *src, uint32_t n);
/* Varints (format.h): unsigned, and signed through zigzag. */
void prof_put_uvarint(base_buf *b, uint64_t v);
void prof_put_svarint(base_buf *b, int64_t v);
/* Bytes appended to the open section as `records` records, unchecked: for a
 * test that needs a file no writer function would make. */
void prof_write_raw(prof_writer *w, const void *p, size_t n, uint32_t records);

/* A whole section from a ready payload of count records. */
void prof_write_section(prof_writer *w, uint32_t tag, uint32_t count, const void *payload,
                        size_t len);

/* Appends the end section and its checksum: 0, or ENOMEM when the buffer
 * lost bytes on the way (nothing is complete then). */
int prof_write_end(prof_writer *w);
/* Writes the finished profile to path.tmp.<pid> and renames it onto path,
 * so no reader sees half a file: 0 or an errno value. No stdio. For the
 * tests' profile generator: the tracking core publishes its profiles itself
 * (lib/track/output.c), never over anything but a regular file. */
int prof_write_file(const prof_writer *w, const char *path);
void prof_writer_free(prof_writer *w);

#endif
