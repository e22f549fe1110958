/* mapping.c: a file or memfd mapped read-only and read in place.
 *
 * The mapping is one wrapped buffer whose release unmaps it: the reader and
 * every array buffer sliced from it hold it, so it lives until the last of
 * them is released. While it lives its bytes are booked (pool/foreign.h) to
 * a child of the reader's pool named "ipc mmap", and so to the reader's
 * pool too: the books show a file's bytes, and under which name. */
#include "config.h"

#include "ipc/reader_internal.h"
#include "pool/foreign.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAPPING_POOL_NAME "ipc mmap"

typedef struct mapping {
    void *addr;
    int64_t size;
    tally_pool *pool;     /* the reader's: this struct came from it */
    tally_pool *map_pool; /* its child, where the bytes are booked */
} mapping;

static void unmap(void *ctx)
{
    mapping *m = ctx;
    munmap(m->addr, (size_t)m->size);
    pool_unbook_foreign(m->map_pool, m->size);
    tally_pool_destroy(m->map_pool);
    tally_pool_free(m->pool, (uint8_t *)m, sizeof *m);
}

/* The whole of fd, mapped and booked, as a buffer. */
static int map_fd(tally_pool *pool, int fd, tally_buffer **out, tally_pool **map_pool,
                  tally_error *error)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return ipc_fail(error, errno, "IPC read: cannot stat fd %d: %s", fd, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ipc_fail(error, EINVAL, "IPC read: fd %d is not a regular file (or memfd)", fd);
    if (st.st_size == 0)
        return ipc_fail(error, EINVAL, "IPC read: fd %d is empty", fd);
    mapping *m;
    int rc = tally_pool_allocate(pool, sizeof *m, (uint8_t **)&m);
    if (rc != 0)
        return ipc_fail(error, rc, "IPC read: the pool refused the mapping's record");
    m->pool = pool;
    m->size = st.st_size;
    m->map_pool = tally_proxy_pool_new(pool, MAPPING_POOL_NAME);
    if (!m->map_pool) {
        tally_pool_free(pool, (uint8_t *)m, sizeof *m);
        return ipc_fail(error, ENOMEM, "IPC read: cannot make the mapping's pool");
    }
    if ((rc = pool_book_foreign(m->map_pool, m->size)) != 0) {
        tally_pool_destroy(m->map_pool);
        tally_pool_free(pool, (uint8_t *)m, sizeof *m);
        return ipc_fail(error, rc, "IPC read: the pool refused a mapping of %lld bytes",
                        (long long)st.st_size);
    }
    m->addr = mmap(NULL, (size_t)m->size, PROT_READ, MAP_SHARED, fd, 0);
    if (m->addr == MAP_FAILED) {
        rc = errno;
        pool_unbook_foreign(m->map_pool, m->size);
        tally_pool_destroy(m->map_pool);
        tally_pool_free(pool, (uint8_t *)m, sizeof *m);
        return ipc_fail(error, rc, "IPC read: cannot map fd %d: %s", fd, strerror(rc));
    }
    if ((rc = tally_buffer_wrap_with_pool(pool, m->addr, m->size, unmap, m, out)) != 0) {
        unmap(m);
        return ipc_fail(error, rc, "IPC read: the pool refused the mapping's buffer");
    }
    *map_pool = m->map_pool;
    return 0;
}

int tally_ipc_reader_map_fd(tally_pool *pool, int fd, tally_error *error, tally_ipc_reader **out)
{
    if (fd < 0 || !out)
        return ipc_fail(error, EINVAL, "IPC read: a descriptor and out are required");
    tally_ipc_reader *r;
    int rc = ipc_reader_new(pool, &r, error);
    if (rc != 0)
        return rc;
    if ((rc = map_fd(r->pool, fd, &r->data, &r->map_pool, error)) == 0) {
        r->map = tally_buffer_data(r->data);
        r->map_size = tally_buffer_size(r->data);
        rc = ipc_reader_open_bytes(r, error);
    }
    if (rc != 0) {
        tally_ipc_reader_destroy(r);
        return rc;
    }
    *out = r;
    return 0;
}

int tally_ipc_reader_map_file(tally_pool *pool, const char *path, tally_error *error,
                              tally_ipc_reader **out)
{
    if (!path)
        return ipc_fail(error, EINVAL, "IPC read: a path is required");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ipc_fail(error, errno, "IPC read: cannot open %s: %s", path, strerror(errno));
    int rc = tally_ipc_reader_map_fd(pool, fd, error, out);
    close(fd);
    return rc;
}

const uint8_t *tally_ipc_reader_mapping(const tally_ipc_reader *r, int64_t *size)
{
    if (size)
        *size = r && r->map ? r->map_size : 0;
    return r ? r->map : NULL;
}

tally_pool *tally_ipc_reader_mapping_pool(const tally_ipc_reader *r)
{
    return r ? r->map_pool : NULL;
}
