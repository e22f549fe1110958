/* kernel_grants.c: would glibc's malloc be given this many bytes?
 *
 * glibc serves a huge request with its own mapping (mmap, or brk when that
 * fails): private, anonymous, readable and writable, and so counted by the
 * kernel's overcommit check. Asking the kernel for the same mapping, and
 * giving it back at once, gets the answer glibc would get, under whatever
 * vm.overcommit_memory and rlimits the process runs with. */
#include "backend/backend.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* glibc's chunk header and size rounding on top of the request. */
#define CHUNK_OVERHEAD 32

bool backend_kernel_grants(size_t bytes)
{
    if (bytes > PTRDIFF_MAX - CHUNK_OVERHEAD) /* glibc's own limit: never asks */
        return false;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t len = (bytes + CHUNK_OVERHEAD + page - 1) & ~(page - 1);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    munmap(p, len);
    return true;
}
