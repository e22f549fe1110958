/* publish.h: the live view's segment (lib/profile/live.h), published by the
 * tracked process itself with TALLY_LIVE=1 for `tally top` (publish.c). */
#ifndef TALLY_TRACK_PUBLISH_H
#define TALLY_TRACK_PUBLISH_H

#include "track/config.h"

/* How often service.c publishes (about once a second: the view's refresh). */
#define TT_PUBLISH_PERIOD_NS 1000000000LL

/* At start (lifecycle.c), with tt_cfg.live: the segment made and a first
 * publication; a message on tally's descriptor when it cannot be. */
void tt_publish_start(void);
/* A publication, and a snapshot profile when a reader asked for one: from
 * service.c, on a program thread that holds no lock of the core's. */
void tt_publish_now(void);
/* The segment unlinked (still mapped until the exec or the exit, for a
 * publication under way in another thread): at exit, before an exec (a
 * failed exec makes a new one at the next publication), on a fatal signal
 * (async-signal-safe: an atomic exchange and unlink). */
void tt_publish_stop(void);
/* In a forked child: the parent's mapping let go (not unlinked), and a
 * segment of the child's own. */
void tt_publish_fork_child(void);

#endif
