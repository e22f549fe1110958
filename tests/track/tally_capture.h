/* tally_capture.h: capturing tally's own messages in a test.
 *
 * tally writes them to a duplicate of stderr it took at start, never to
 * whatever a program later puts on fd 2 (lib/track/say.c), so a capture of
 * fd 2 alone no longer sees them: tally's descriptor is pointed at the
 * capture, and back at the restored stderr after. */
#ifndef TALLY_TEST_TALLY_CAPTURE_H
#define TALLY_TEST_TALLY_CAPTURE_H

#include "check_main.h"

#include "track/api.h"

static inline void capture_tally(stderr_capture *c)
{
    capture_stderr(c);
    tally_track_say_to(STDERR_FILENO);
}

/* Restores both and returns what tally (and the test) wrote. */
static inline const char *captured_tally(stderr_capture *c)
{
    const char *text = captured_stderr(c);
    tally_track_say_to(STDERR_FILENO);
    return text;
}

#endif
