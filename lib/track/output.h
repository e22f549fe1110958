/* output.h: where a profile is written, and how it gets there.
 *
 * TALLY_OUTPUT (or tally_track_start's `output`) is a pattern: %p the pid,
 * %e the program's name, %n a number that makes the name new, %% a percent
 * sign. A relative pattern is made absolute at start, so every process of a
 * run writes to the run's directory, even after a chdir. A profile is
 * written to a temporary file and then published under its name; nothing
 * that is not a regular file (a device, a fifo, a socket, a directory, a
 * symlink) is ever replaced. */
#ifndef TALLY_TRACK_OUTPUT_H
#define TALLY_TRACK_OUTPUT_H

#include <stddef.h>

/* A relative pattern made absolute against the working directory now, in
 * place; unchanged when it is absolute, or when the result would not fit
 * cap bytes. */
void tt_output_resolve(char *pattern, size_t cap);

/* The pattern expanded, with %n as `n`: the length it needs (without the
 * NUL); out holds at most cap - 1 bytes of it. */
size_t tt_output_expand(const char *pattern, unsigned long n, char *out, size_t cap);

/* The name the next profile of this pattern gets: the number this process
 * image claimed for it, else %n as 0. */
void tt_output_name(const char *pattern, char *out, size_t cap);

/* Publishes len bytes as a profile under the pattern's name, which `path`
 * receives (the one refused, on failure): 0, or an errno value. EEXIST: the
 * name is taken by something that is not a regular file, left as it was.
 * With %n, the first write of a process image claims the smallest number
 * whose name is unused, without replacing anything, and later writes
 * (checkpoints, the exit profile) replace that file. */
int tt_output_publish(const void *data, size_t len, const char *pattern, char *path, size_t cap);

/* In a forked child: the parent's claimed number is the parent's. */
void tt_output_fork_child(void);

#endif
