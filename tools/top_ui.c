/* top_ui.c: the live view on a terminal: raw mode (no echo, a key at a
 * time; ^C still a signal) on the alternate screen, a frame drawn with
 * ANSI escapes about once a second and at each key, and the keys: q quits,
 * p switches between the live and the peak view, s asks the process for a
 * snapshot profile (tally.PID.snapshot.N.prof in the current directory,
 * the first N free) and says where it went. The terminal is left as it
 * was found. No curses: cursor home, erase to the end of line and of
 * screen are all it takes. */
#include <config.h>

#include "top.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_NS 1000000000LL
#define SNAPSHOT_POLL_NS 100000000LL /* while a snapshot is asked for */
#define FRAME_CAP (256 * 1024)

struct top_ui {
    pid_t pid;
    top_source *src;
    int in, out;
    struct termios saved;
    int raw;
    top_view *view;
    prof_live_segment *copy;
    int peak, have_frame;
    int64_t next_ns; /* the next refresh */
    uint64_t token;  /* a snapshot asked for and not answered yet; 0: none */
    char snap[PATH_MAX];
    char status[PATH_MAX + 128];
    char *frame, *screen;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

top_ui *top_ui_new(pid_t pid, top_source *src, int in_fd, int out_fd)
{
    top_ui *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->pid = pid;
    u->src = src;
    u->in = in_fd;
    u->out = out_fd;
    u->view = top_view_new(pid);
    u->copy = malloc(sizeof *u->copy);
    u->frame = malloc(FRAME_CAP);
    u->screen = malloc(2 * FRAME_CAP);
    if (!u->view || !u->copy || !u->frame || !u->screen) {
        top_ui_end(u);
        return NULL;
    }
    snprintf(u->status, sizeof u->status, "q quit   p peak view   s snapshot profile");
    return u;
}

void top_ui_set_peak(top_ui *u, int peak)
{
    u->peak = peak;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

int top_ui_start(top_ui *u)
{
    if (tcgetattr(u->in, &u->saved) != 0)
        return errno;
    struct termios t = u->saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(u->in, TCSANOW, &t) != 0)
        return errno;
    u->raw = 1;
    /* the alternate screen, the cursor hidden */
    static const char enter[] = "\033[?1049h\033[?25l\033[H\033[2J";
    write_all(u->out, enter, sizeof enter - 1);
    u->next_ns = now_ns();
    return 0;
}

void top_ui_end(top_ui *u)
{
    if (!u)
        return;
    if (u->raw) {
        static const char leave[] = "\033[?25h\033[?1049l";
        write_all(u->out, leave, sizeof leave - 1);
        tcsetattr(u->in, TCSANOW, &u->saved);
    }
    top_source_close(u->src);
    top_view_free(u->view);
    free(u->copy);
    free(u->frame);
    free(u->screen);
    free(u);
}

static void draw(top_ui *u)
{
    struct winsize ws = {0};
    int rows = 24, cols = 80;
    if (ioctl(u->out, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        rows = ws.ws_row;
        cols = ws.ws_col;
    }
    top_view_render(u->view, u->peak, rows, cols, u->status, u->frame, FRAME_CAP);
    /* Home, each line erased to its end, then the rest of the screen. Raw
     * output keeps "\n" as it is: "\r\n" returns the cursor too. */
    size_t n = 0;
    memcpy(u->screen, "\033[H", 3);
    n = 3;
    for (const char *p = u->frame; *p && n + 8 < 2 * FRAME_CAP; p++) {
        if (*p == '\n') {
            if (p[1] == '\0') /* the last line: no scroll past the bottom */
                break;
            memcpy(u->screen + n, "\033[K\r\n", 5);
            n += 5;
        } else {
            u->screen[n++] = *p;
        }
    }
    memcpy(u->screen + n, "\033[K\033[J", 6);
    n += 6;
    write_all(u->out, u->screen, n);
}

/* A path for the next snapshot: ./tally.PID.snapshot.N.prof, absolute. */
static int snapshot_path(top_ui *u)
{
    char cwd[PATH_MAX - 64];
    if (!getcwd(cwd, sizeof cwd))
        return errno;
    for (int i = 1; i < 10000; i++) {
        struct stat st;
        snprintf(u->snap, sizeof u->snap, "%s/tally.%d.snapshot.%d.prof", cwd, (int)u->pid, i);
        if (lstat(u->snap, &st) != 0 && errno == ENOENT)
            return 0;
    }
    return EEXIST;
}

static void ask_snapshot(top_ui *u)
{
    if (!u->src) {
        snprintf(u->status, sizeof u->status, "no snapshot: the process has not published yet");
        return;
    }
    if (u->token)
        return; /* one at a time */
    int rc = snapshot_path(u);
    if (rc) {
        snprintf(u->status, sizeof u->status, "no snapshot: no file name here: %s", strerror(rc));
        return;
    }
    u->token = top_source_request(u->src, u->snap);
    snprintf(u->status, sizeof u->status,
             "snapshot asked for: %s (written at the process's next allocation)", u->snap);
}

static void check_snapshot(top_ui *u)
{
    int err;
    if (!u->token || !top_source_served(u->src, u->token, &err))
        return;
    u->token = 0;
    if (err)
        snprintf(u->status, sizeof u->status, "snapshot failed: %s: %s", u->snap, strerror(err));
    else
        snprintf(u->status, sizeof u->status, "snapshot written: %s", u->snap);
}

/* A new frame from the segment: 0, or TOP_UI_ENDED. */
static int refresh(top_ui *u)
{
    if (u->src && top_source_replaced(u->src) && top_source_alive(u->src)) {
        /* an exec: the new image's segment, when it has made it */
        top_source_close(u->src);
        u->src = NULL;
        u->token = 0;
    }
    if (!u->src) {
        char err[512];
        int rc = top_source_open(u->pid, &u->src, err, sizeof err);
        if (rc == TOP_NO_PROCESS)
            return TOP_UI_ENDED;
        if (rc != TOP_OK && rc != TOP_NOT_LIVE) {
            snprintf(u->status, sizeof u->status, "%s", err);
            return 0;
        }
    }
    if (u->src && top_source_read(u->src, u->copy) == 0 && u->copy->publications > 0)
        top_view_update(u->view, u->copy, top_rss_bytes(u->pid));
    if (u->src && !top_source_alive(u->src))
        return TOP_UI_ENDED;
    return 0;
}

int top_ui_step(top_ui *u, const sigset_t *mask)
{
    int64_t now = now_ns();
    if (now >= u->next_ns) {
        if (refresh(u) == TOP_UI_ENDED)
            return TOP_UI_ENDED;
        check_snapshot(u);
        draw(u);
        u->next_ns = now + REFRESH_NS;
    }
    int64_t wait = u->next_ns - now;
    if (u->token && wait > SNAPSHOT_POLL_NS)
        wait = SNAPSHOT_POLL_NS;
    struct timespec ts = {wait / 1000000000, wait % 1000000000};
    struct pollfd pfd = {u->in, POLLIN, 0};
    int r = ppoll(&pfd, 1, &ts, mask);
    if (r > 0 && (pfd.revents & POLLIN)) {
        char keys[16];
        ssize_t n = read(u->in, keys, sizeof keys);
        for (ssize_t i = 0; i < n; i++) {
            switch (keys[i]) {
            case 'q':
            case 'Q':
                return TOP_UI_QUIT;
            case 'p':
            case 'P':
                u->peak = !u->peak;
                break;
            case 's':
            case 'S':
                ask_snapshot(u);
                break;
            default:
                break;
            }
        }
        draw(u);
    } else if (r > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))) {
        return TOP_UI_QUIT; /* the terminal went away */
    }
    if (u->token && u->src) {
        uint64_t before = u->token;
        check_snapshot(u);
        if (before != u->token)
            draw(u);
    }
    return TOP_UI_GOING;
}
