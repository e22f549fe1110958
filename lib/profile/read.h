/* read.h: reads a tally profile (docs/FORMAT.md, versions 1 to 3).
 *
 * The reader checks everything the format page lists under "What a reader
 * rejects" and never trusts a length or a count before checking it against
 * the bytes that are really there, so any input gives either a profile or
 * one message. It has no dependency beyond libc: it is built once, as a
 * convenience library (lib/profile/libtallyprofile.la) that the tally
 * command and the tests link without libtally.
 *
 * Stacks come as the format's tree whatever the version (the reader builds
 * it from an older file's frame arrays): each distinct return address once
 * (addrs), each chain of callers once (nodes), and a stack as the node of
 * its innermost frame. Walking a node's parents gives the stack innermost
 * first; a consumer that works per address or per node (symbolizing, a
 * suppression, a diff's key) does it once, not once per stack. */
#ifndef TALLY_PROFILE_READ_H
#define TALLY_PROFILE_READ_H

#include "profile/format.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t start, end, base;
    char *path;
    uint8_t *build_id;
    uint32_t build_id_len;
} prof_module;

/* A node of the stack tree: one frame under its caller's node. Node 0 is
 * the root, above every outermost frame; it has no frame of its own. */
typedef struct {
    uint32_t
        parent; /* the caller's node: smaller than this node's number; 0 for an outermost frame */
    uint32_t frame; /* its return address is addrs[frame] */
    uint32_t depth; /* frames from this node up to the root, itself included; 0 for the root */
} prof_node;

typedef struct {
    uint32_t id;
    uint32_t nframes; /* the node's depth */
    uint32_t node;    /* its innermost frame's node; 0 (the root) for an empty stack */
} prof_stack;

typedef struct {
    int32_t id;
    char *name;
    int64_t current, peak, total_bytes, total_count, temporary_count, live_count;
    uint32_t nbuckets;
    int64_t histogram[PROF_MAX_BUCKETS];
} prof_pool;

typedef struct prof_profile {
    uint32_t version, flags; /* flags: PROF_FLAG_SAMPLED, PROF_FLAG_CLASSIFIED */
    /* The leak check ran: each leak group's kind is its class. 0 for version
     * 1, whose leaks are all PROF_LEAK_LIVE. */
    int classified;
    /* META; all zero when the section is absent */
    int has_meta;
    uint32_t pid, reason, depth, threads;
    int64_t start_ns, duration_ns, sample_bytes, exactness_bytes;
    int64_t peak_bytes, peak_ns, max_rss_bytes;
    char *exe, *cmdline;

    size_t nmodules;
    prof_module *modules;
    size_t naddrs;
    uint64_t *addrs; /* the return addresses the stacks hold, each once */
    size_t nnodes;
    prof_node *nodes; /* nnodes of them, the root first: a parent before its children */
    size_t nstacks;
    prof_stack *stacks; /* sorted by id */
    size_t npools;
    prof_pool *pools; /* in file order */
    size_t nrecords;
    prof_record *records;
    /* LEAKS: groups by (stack, pool, kind), in file order. A version 1
     * profile's blocks come as groups of one, kind LIVE, each with its
     * block in blocks. */
    size_t nleaks;
    prof_leak *leaks;
    /* LEAK_BLOCKS: each block's address; absent unless asked for (and
     * always there in version 1). */
    size_t nblocks;
    prof_leak_block *blocks;

    /* NAMES (optional, version 3): the frames' names, stored when the binary
     * was still there. Address addrs[f] has the source frames names[k] for
     * name_at[f] <= k < name_at[f + 1], innermost (most inlined) first, and
     * none when the two are equal. name_at is NULL without the section. */
    size_t nnames;
    prof_name *names;
    uint32_t *name_at; /* naddrs + 1 entries */
    char *name_text;   /* the strings the names point into */

    /* SERIES: series_bytes[i * series_npools + j] is pool series_pools[j] at point i */
    uint32_t series_npools;
    int32_t *series_pools;
    size_t npoints;
    int64_t *series_t_ns, *series_rss, *series_bytes;
} prof_profile;

/* Skip the checksum check: for the fuzz target only, so mutations reach the
 * section parsers instead of stopping at the checksum. */
#define PROF_PARSE_NO_CHECKSUM 1u

/* Reads the profile at path. 0 and *out on success; otherwise -1, *out NULL
 * and a one-line message in err (without the path). */
int prof_read(const char *path, prof_profile **out, char *err, size_t errlen);
/* The same from memory. */
int prof_parse(const void *data, size_t len, unsigned flags, prof_profile **out, char *err,
               size_t errlen);
void prof_free(prof_profile *p);

/* Lookups by id; NULL when absent (stack id 0 is always absent). */
const prof_stack *prof_find_stack(const prof_profile *p, uint32_t id);
const prof_pool *prof_find_pool(const prof_profile *p, int32_t id);
/* The pool's name, or "?" for an unknown id. */
const char *prof_pool_name(const prof_profile *p, int32_t id);

/* The return address of a node other than the root. */
static inline uint64_t prof_node_addr(const prof_profile *p, uint32_t node)
{
    return p->addrs[p->nodes[node].frame];
}
/* The stored source frames of addrs[frame], innermost first, and *n of
 * them: NULL and 0 when the profile stores none for it. */
static inline const prof_name *prof_frame_names(const prof_profile *p, uint32_t frame, uint32_t *n)
{
    if (!p->name_at || frame >= p->naddrs || p->name_at[frame] == p->name_at[frame + 1]) {
        *n = 0;
        return NULL;
    }
    *n = p->name_at[frame + 1] - p->name_at[frame];
    return &p->names[p->name_at[frame]];
}
/* A stack's frames, innermost first, into out[max]: how many were written
 * (the innermost min(nframes, max)). */
uint32_t prof_stack_frames(const prof_profile *p, const prof_stack *st, uint64_t *out,
                           uint32_t max);

#endif
