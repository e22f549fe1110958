/* entry_pipe.c: pipe2, so that the pipe libunwind keeps for good sits
 * above the program's descriptors.
 *
 * libunwind makes a pipe when it starts (it checks memory with it: a write
 * of the byte fails if the address is not mapped) and keeps it to the end,
 * on the lowest two free descriptors. Left there, a program's first open()
 * returned 5 where it returns 3 without tally. A pipe2 that libunwind
 * makes inside tally's own work (shim_thread.busy, or the shim starting) is moved
 * up, to where tally keeps its own descriptor (say.c); libunwind keeps the
 * numbers it is given. Every other call, a signal handler's that
 * interrupts tally included, is glibc's: the same system call, the same
 * result and errno. */
#include "shim/shim.h"

#include <sys/syscall.h>
#include <unistd.h>

SHIM_EXPORT int pipe2(int fds[2], int flags)
{
    if (syscall(SYS_pipe2, fds, flags) != 0)
        return -1;
    if (SHIM_UNLIKELY(shim_thread.busy || shim_thread.in_init) &&
        tally_track_in_libunwind(__builtin_return_address(0))) {
        fds[0] = tally_track_fd_out_of_sight(fds[0]);
        fds[1] = tally_track_fd_out_of_sight(fds[1]);
    }
    return 0;
}
