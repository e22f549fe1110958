/* top.h: `tally top PID` and `tally run --live`: the live view of a
 * process that publishes its books (TALLY_LIVE=1, lib/profile/live.h).
 * top_source.c opens and copies the process's segment; top_view.c makes
 * the text of one frame; top_ui.c owns the terminal (raw mode, the keys,
 * the refresh); top.c is the command. */
#ifndef TALLY_TOOLS_TOP_H
#define TALLY_TOOLS_TOP_H

#include "profile/live.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- top_source.c ------------------------------------------------------------ */
typedef struct top_source top_source;

enum {
    TOP_OK = 0,
    TOP_NO_PROCESS,  /* no such process (a stale segment of it is removed) */
    TOP_NOT_LIVE,    /* a process without a segment: not under tally with TALLY_LIVE=1 */
    TOP_OTHER_USER,  /* the process, or the segment, is another user's */
    TOP_BAD_SEGMENT, /* not a segment of this tally's layout */
};
/* Opens pid's segment. TOP_OK, or another TOP_* with the reason in err (one
 * line, without "tally top: "). */
int top_source_open(pid_t pid, top_source **out, char *err, size_t cap);
void top_source_close(top_source *s);
/* A consistent copy of the segment (retried while the process writes):
 * 0, or -1 when none could be had (the process writes without pause). */
int top_source_read(top_source *s, prof_live_segment *copy);
/* Whether the segment's file is gone or another: the process exec'd (the
 * new image makes its own) or ended. */
int top_source_replaced(const top_source *s);
/* Whether the process that made the segment still runs. */
int top_source_alive(const top_source *s);
/* Asks the process for a snapshot profile at path (absolute) at its next
 * publication; returns the request's token. */
uint64_t top_source_request(top_source *s, const char *path);
/* 1 when the request `token` was answered, with its errno value (0: the
 * profile is written); 0 while it waits. */
int top_source_served(const top_source *s, uint64_t token, int *err);

/* ---- top_view.c -------------------------------------------------------------- */
typedef struct top_view top_view;

top_view *top_view_new(pid_t pid);
void top_view_free(top_view *v);
/* A new copy of the segment, read at rss_bytes of the process's RSS (-1:
 * unknown): the previous one stays for the rates and the growth. */
void top_view_update(top_view *v, const prof_live_segment *seg, int64_t rss_bytes);
/* The frame as text, at most rows lines of at most cols columns (0: no
 * limit), into buf (NUL-terminated, cut at cap). peak: the peak view.
 * status: a last line (keys, a snapshot's path) or NULL. Lines end in "\n". */
void top_view_render(top_view *v, int peak, int rows, int cols, const char *status, char *buf,
                     size_t cap);

/* The process's RSS from /proc/PID/status (VmRSS), or -1. */
int64_t top_rss_bytes(pid_t pid);

/* ---- top_ui.c ---------------------------------------------------------------- */
typedef struct top_ui top_ui;

/* The view of pid on a terminal: keys read from in_fd, frames written to
 * out_fd. src: the segment, opened already (the ui closes it), or NULL:
 * opened when it appears (tally run --live starts the program meanwhile). */
top_ui *top_ui_new(pid_t pid, top_source *src, int in_fd, int out_fd);
/* Starts in the peak view (peak 1) or the live one. */
void top_ui_set_peak(top_ui *u, int peak);
/* Raw mode and the alternate screen: 0 or an errno value. */
int top_ui_start(top_ui *u);
enum { TOP_UI_GOING = 0, TOP_UI_QUIT, TOP_UI_ENDED };
/* Waits for a key or the next refresh (ppoll: `mask` while waiting, NULL
 * for the current one), acts on it and draws. TOP_UI_QUIT after q,
 * TOP_UI_ENDED when the process has ended. */
int top_ui_step(top_ui *u, const sigset_t *mask);
/* The terminal as it was; frees u and its source. */
void top_ui_end(top_ui *u);

#endif
