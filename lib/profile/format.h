/* format.h: the tally profile format (docs/FORMAT.md), version 4.
 *
 * The one place its numbers are spelled: the magic, the version, the
 * section tags, the layout of the header, of a section and of the end, the
 * limits, the sizes of the records and the checksum. The writer (write.c)
 * and the reader (read.c) both take them from here; a change to the layout
 * bumps PROF_VERSION. */
#ifndef TALLY_PROFILE_FORMAT_H
#define TALLY_PROFILE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* header := magic[8] u32 version u32 flags */
#define PROF_MAGIC "TALLYPRF"
#define PROF_MAGIC_BYTES 8
#define PROF_VERSION 4
/* The oldest version a reader still reads: version 1's LEAKS list blocks,
 * not groups, and carry no kind (read.c turns each into a LIVE group).
 * Versions 1 and 2 store each stack as an array of frames, fixed-size
 * RECORDS and LEAKS; read_stacks.c turns their stacks into the tree. */
#define PROF_VERSION_OLDEST 1
/* The first version with the stack tree (FRAMES, NODES) and varint records. */
#define PROF_VERSION_TREE 3
/* The first version whose RECORDS carry temporary bytes (a tenth varint). */
#define PROF_VERSION_TEMP_BYTES 4
#define PROF_HEADER_BYTES 16
#define PROF_HEADER_VERSION_AT 8
#define PROF_HEADER_FLAGS_AT 12
/* flags bit 0: the per-stack figures are sampled estimates */
#define PROF_FLAG_SAMPLED 1u
/* flags bit 1 (version 2): the leak check ran, so each LEAKS group's kind is
 * its class. Without it every group is PROF_LEAK_LIVE: live at that moment,
 * not known to be leaked (a dump without the check, a run with it off). */
#define PROF_FLAG_CLASSIFIED 2u

/* section := u32 tag u32 count u64 length payload[length] */
#define PROF_SECTION_HEADER_BYTES 16
#define PROF_SECTION_COUNT_AT 4
#define PROF_SECTION_LENGTH_AT 8
enum {
    PROF_SEC_META = 1,
    PROF_SEC_MODULES = 2,
    PROF_SEC_STACKS = 3,
    PROF_SEC_POOLS = 4,
    PROF_SEC_RECORDS = 5,
    PROF_SEC_SERIES = 6,
    PROF_SEC_LEAKS = 7,
    PROF_SEC_LEAK_BLOCKS = 8, /* version 2, only when asked for (TALLY_LEAK_ADDRESSES=1) */
    PROF_SEC_FRAMES = 9,      /* version 3: the distinct return addresses */
    PROF_SEC_NODES = 10,      /* version 3: the stack tree, each node (parent, frame) */
    PROF_SEC_NAMES = 11,      /* version 3, optional: the frames' symbolized names */
    PROF_SEC_KNOWN_LAST = PROF_SEC_NAMES,
};
/* end := u32 tag u32 count = 0 u64 length = 8 u64 checksum */
#define PROF_SEC_END 0xFFFFFFFFu
#define PROF_END_LENGTH 8
#define PROF_END_BYTES (PROF_SECTION_HEADER_BYTES + PROF_END_LENGTH)

/* Limits: a reader rejects more. */
#define PROF_MAX_STRING 65536u /* bytes in a str */
#define PROF_MAX_FRAMES 256    /* frames in a stack */
#define PROF_MAX_BUCKETS 64    /* histogram buckets in a pool */
#define PROF_MAX_INLINED 64    /* NAMES: source frames (an inlined chain) of one address */

/* Record sizes: fixed, or the least a record with strings, arrays or
 * varints takes (a varint takes 1 to PROF_VARINT_MAX_BYTES bytes). */
#define PROF_MODULE_MIN_BYTES 32   /* start, end, base, two empty strs */
#define PROF_STACK_V2_MIN_BYTES 8  /* versions 1 and 2: id, nframes = 0 */
#define PROF_STACK_MIN_BYTES 2     /* two varints: id step, node step */
#define PROF_FRAME_MIN_BYTES 1     /* one varint: the step from the last address */
#define PROF_NODE_MIN_BYTES 2      /* two varints: up, frame */
#define PROF_POOL_MIN_BYTES 60     /* id, an empty name, six i64, nbuckets = 0 */
#define PROF_RECORD_V2_BYTES 64    /* versions 1 and 2 */
#define PROF_RECORD_V3_MIN_BYTES 9 /* version 3: nine varints */
#define PROF_RECORD_MIN_BYTES 10   /* ten varints */
#define PROF_LEAK_V2_BYTES 28      /* version 2, a group: stack, pool, kind, bytes, count */
#define PROF_LEAK_MIN_BYTES 5      /* five varints */
#define PROF_LEAK_V1_BYTES 24      /* version 1, a block: address, size, stack, pool */
#define PROF_LEAK_BLOCK_BYTES 20   /* address, size, group */
#define PROF_NAMED_MIN_BYTES 7     /* NAMES: frame, nframes, one source frame of five varints */
#define PROF_NAME_MIN_BYTES 5      /* NAMES: a source frame: function, system, file, line, flags */
#define PROF_SERIES_POINT_BYTES(npools) (16 + 8 * (size_t)(npools))
#define PROF_VARINT_MAX_BYTES 10

/* Varints (version 3): LEB128, seven bits a byte, low bits first, the top
 * bit set on every byte but the last. A signed value goes through zigzag
 * first (0, -1, 1, -2, ... as 0, 1, 2, 3, ...), so small magnitudes of
 * either sign take one byte. Steps between neighbours (ids, addresses,
 * node numbers) are signed and wrap modulo 2^64. */
static inline uint64_t prof_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t prof_unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* The checksum: 64-bit FNV-1a over every byte before the end section. */
static inline uint64_t prof_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* What a live block is, by valgrind memcheck's classes, once the leak check
 * (lib/track/mark.c) has looked; PROF_LEAK_LIVE when no check ran (a dump
 * without it, a run with it off): only "live at that moment". */
enum {
    PROF_LEAK_LIVE = 0,
    PROF_LEAK_DEFINITE = 1, /* no pointer reaches it */
    PROF_LEAK_INDIRECT = 2, /* reached only from lost blocks */
    PROF_LEAK_POSSIBLE = 3, /* reached only through interior pointers */
    PROF_LEAK_REACHABLE = 4 /* reached from a root by a chain of start pointers */
};
#define PROF_LEAK_KINDS 5

/* Why a profile was written: META's reason. The low 8 bits are one of
 * these; bits 8-15 hold PROF_REASON_FATAL's signal. */
enum {
    PROF_REASON_EXIT = 0,
    PROF_REASON_DUMP = 1,        /* tally_track_dump() */
    PROF_REASON_DUMP_SIGNAL = 2, /* TALLY_DUMP_SIGNAL: the program went on */
    PROF_REASON_CHECKPOINT = 3,  /* TALLY_CHECKPOINT: the last one left */
    PROF_REASON_EXEC = 4,        /* just before the image called exec */
    PROF_REASON_FATAL = 5,       /* written, then the signal ended the process */
    PROF_REASON_DETACH = 6       /* tally detach (or attach --duration): tracking ended */
};

static inline uint32_t prof_reason_kind(uint32_t reason)
{
    return reason & 0xff;
}

/* The signal of a PROF_REASON_FATAL profile; 0 for any other. */
static inline int prof_reason_signal(uint32_t reason)
{
    return prof_reason_kind(reason) == PROF_REASON_FATAL ? (int)(reason >> 8 & 0xff) : 0;
}

static inline uint32_t prof_reason_fatal(int sig)
{
    return PROF_REASON_FATAL | (uint32_t)(sig & 0xff) << 8;
}

/* The fixed-size records, as the writer takes them and the reader gives them. */
typedef struct {
    uint32_t stack_id;
    int32_t pool_id;
    int64_t live_bytes, live_count, total_bytes, total_count, temporary_count;
    int64_t peak_bytes, pool_peak_bytes;
    int64_t temporary_bytes; /* version 4; 0 (unknown) before */
} prof_record;               /* RECORDS */

typedef struct {
    uint32_t stack_id; /* 0: not sampled */
    int32_t pool_id;
    uint32_t kind; /* PROF_LEAK_* */
    int64_t bytes, count;
} prof_leak; /* LEAKS: one group of blocks with the same stack, pool and kind */

typedef struct {
    uint64_t address;
    int64_t size;
    uint32_t group; /* its LEAKS group: an index in file order */
} prof_leak_block;  /* LEAK_BLOCKS */

/* NAMES: one source frame of a return address, as a symbolizer gave it when
 * the binary was still there. A flags bit of a source frame: */
#define PROF_NAME_INLINED 1u /* inlined into the next source frame of the same address */
#define PROF_NAME_KNOWN 2u   /* a symbol was found (else function is "module+0xoffset") */
#define PROF_NAME_FLAGS (PROF_NAME_INLINED | PROF_NAME_KNOWN)
typedef struct {
    const char *function;    /* never NULL */
    const char *system_name; /* as the object spells it (C++: mangled); NULL: function's text */
    const char *file;        /* NULL when unknown */
    uint32_t line;           /* 0 when unknown */
    uint32_t flags;          /* PROF_NAME_* */
} prof_name;

#endif
