/* sink.c: where the writer's bytes go, a descriptor or a memory stream. */
#include "ipc/ipc_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const uint8_t ipc_zeros[IPC_ALIGN];

/* writev takes at most IOV_MAX pieces; a batch may have more. */
#define PIECES_PER_CALL 512

static int fd_writev(ipc_sink *s, struct iovec *iov, int n, tally_error *error)
{
    while (n > 0) {
        int chunk = n < PIECES_PER_CALL ? n : PIECES_PER_CALL;
        ssize_t done = writev(s->fd, iov, chunk);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            int rc = errno;
            return ipc_fail(error, rc, "IPC write to fd %d failed: %s", s->fd, strerror(rc));
        }
        s->pos += done;
        /* Step over what went out; a short write resumes mid-piece. */
        while (n > 0 && (size_t)done >= iov->iov_len) {
            done -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0 && done > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + done;
            iov->iov_len -= (size_t)done;
        }
    }
    return 0;
}

int ipc_sink_writev(ipc_sink *s, struct iovec *iov, int n, tally_error *error)
{
    if (s->fd >= 0)
        return fd_writev(s, iov, n, error);
    for (int i = 0; i < n; i++) {
        int rc = tally_stream_write(s->stream, iov[i].iov_base, (int64_t)iov[i].iov_len);
        if (rc != 0)
            return ipc_fail(error, rc, "IPC write to memory: the pool refused %zu bytes",
                            iov[i].iov_len);
        s->pos += (int64_t)iov[i].iov_len;
    }
    return 0;
}
