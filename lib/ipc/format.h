/* format.h: the numbers of Arrow's IPC format that the reader and writer share.
 *
 * From Arrow's format/Schema.fbs, Message.fbs and File.fbs: field ids are
 * the order of a table's fields (a union takes two: its type byte, then its
 * value); union type ids count from 1 (0 is NONE).
 *
 * Framing (the encapsulated message): 0xFFFFFFFF, a 32-bit metadata length
 * (the flatbuffer and its padding), the flatbuffer Message, padding to 8,
 * then the body. A stream is messages (the schema first) and an end marker
 * (0xFFFFFFFF then 0). A file is "ARROW1", two zero bytes, a stream, the
 * Footer flatbuffer, its 32-bit length and "ARROW1". */
#ifndef TALLY_IPC_FORMAT_H
#define TALLY_IPC_FORMAT_H

#include <stdint.h>

#define IPC_CONTINUATION 0xFFFFFFFFu
#define IPC_MAGIC "ARROW1"
#define IPC_MAGIC_LEN 6
/* Where this writer puts buffers: on 64 bytes, in the body and in the file. */
#define IPC_ALIGN 64
/* Nesting deeper than this is refused: it bounds the reader's recursion. */
#define IPC_MAX_DEPTH 64

enum { IPC_V5 = 4 }; /* MetadataVersion */

/* MessageHeader union */
enum { IPC_HEADER_SCHEMA = 1, IPC_HEADER_DICTIONARY = 2, IPC_HEADER_RECORD_BATCH = 3 };

/* Type union */
enum {
    IPC_TYPE_NULL = 1,
    IPC_TYPE_INT = 2,
    IPC_TYPE_FLOAT = 3,
    IPC_TYPE_BINARY = 4,
    IPC_TYPE_UTF8 = 5,
    IPC_TYPE_BOOL = 6,
    IPC_TYPE_LIST = 12,
    IPC_TYPE_STRUCT = 13,
};

enum { IPC_PRECISION_HALF = 0, IPC_PRECISION_SINGLE = 1, IPC_PRECISION_DOUBLE = 2 };

/* Field ids per table. */
enum { MESSAGE_VERSION, MESSAGE_HEADER_TYPE, MESSAGE_HEADER, MESSAGE_BODY_LENGTH };
enum { SCHEMA_ENDIANNESS, SCHEMA_FIELDS, SCHEMA_METADATA, SCHEMA_FEATURES };
enum {
    FIELD_NAME,
    FIELD_NULLABLE,
    FIELD_TYPE_TYPE,
    FIELD_TYPE,
    FIELD_DICTIONARY,
    FIELD_CHILDREN,
    FIELD_METADATA
};
enum { KV_KEY, KV_VALUE };
enum { INT_BIT_WIDTH, INT_IS_SIGNED };
enum { FLOAT_PRECISION };
enum { BATCH_LENGTH, BATCH_NODES, BATCH_BUFFERS, BATCH_COMPRESSION, BATCH_VARIADIC };
enum { FOOTER_VERSION, FOOTER_SCHEMA, FOOTER_DICTIONARIES, FOOTER_BATCHES };

/* Structs inside vectors. */
#define IPC_FIELD_NODE_SIZE 16 /* length, null_count: int64 each */
#define IPC_BUFFER_SIZE 16     /* offset, length: int64 each */
#define IPC_BLOCK_SIZE 24      /* offset int64, metadata length int32 (+4), body length int64 */

#endif
