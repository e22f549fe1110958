/* message_read.c: a Message flatbuffer, checked before anything is used. */
#include "ipc/ipc_internal.h"

#include <errno.h>

int ipc_open_message(ipc_message *m, const uint8_t *data, int64_t len, tally_error *error)
{
    m->body_length = 0;
    m->header_type = 0;
    /* Each table needs at least 8 bytes of the buffer (its vtable and its
     * distance to it): more visits than that means shared children. */
    if (ipc_fb_root(&m->fb, data, (size_t)len, len / 4 + 16, &m->msg) != 0)
        return ipc_fail(error, EINVAL, "IPC read: the message's metadata is not a flatbuffer");
    int16_t version;
    int64_t body_length;
    bool present;
    if (ipc_fb_i16(&m->msg, MESSAGE_VERSION, 0, &version) != 0 ||
        ipc_fb_u8(&m->msg, MESSAGE_HEADER_TYPE, 0, &m->header_type) != 0 ||
        ipc_fb_i64(&m->msg, MESSAGE_BODY_LENGTH, 0, &body_length) != 0 ||
        ipc_fb_table_field(&m->msg, MESSAGE_HEADER, &m->header, &present) != 0)
        return ipc_fail(error, EINVAL, "IPC read: a corrupt Message table");
    if (version < IPC_V5 - 1 || version > IPC_V5)
        return ipc_fail(error, EINVAL, "IPC read: metadata version %d (tally reads V4 and V5)",
                        version + 1);
    if (!present)
        return ipc_fail(error, EINVAL, "IPC read: a message without a header");
    if (body_length < 0)
        return ipc_fail(error, EINVAL, "IPC read: a negative body length");
    m->body_length = body_length;
    return 0;
}
