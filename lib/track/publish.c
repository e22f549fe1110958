/* publish.c: the live view's segment (lib/profile/live.h), written by the
 * tracked process for `tally top`.
 *
 * With TALLY_LIVE=1 the process makes /dev/shm/tally-UID-PID at start
 * (O_EXCL, O_NOFOLLOW, mode 0600, its pages reserved with fallocate so that
 * a full /dev/shm is an error now, never a SIGBUS later) and rewrites it
 * about once a second: service.c calls tt_publish_now from the allocation
 * path, on the program's own thread, holding no lock of the core's. So
 * there is no thread, no signal and no timer: a reader only reads, and a
 * process that does not allocate does not publish (its books do not change
 * either, but for what its threads still hold back: ledger.h's batch).
 *
 * A publication reads the shared books without the fold lock, as the time
 * series does: each figure is a recent value, not all of one instant (a
 * view refreshed every second needs no more; a snapshot profile, `s`, is
 * exact). The top stacks come from one walk of the sites with two heaps
 * of PROF_LIVE_STACKS: by live bytes now, and by bytes at the last peak.
 * Nothing here allocates: the segment is mmap'd, the heaps static. */
#include "track/publish.h"

#include "profile/live.h"
#include "track/dump.h"
#include "track/ledger.h"
#include "track/modules.h"
#include "track/say.h"
#include "track/stack_table.h"
#include "track/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static prof_live_segment *seg;
/* Unlinked by tt_publish_stop, and still mapped: another thread may be
 * publishing into it (publications are serialized by service.c, a stop is
 * not), and an exec or the exit unmaps it anyway. */
static _Atomic bool unlinked;
static pid_t seg_pid;
static char seg_path[64];
static _Atomic int said;
static unsigned modules_seen;

static void say_once(const char *what, int err)
{
    if (!atomic_exchange(&said, 1))
        tt_say(tally_track_say_fd(), "tally: TALLY_LIVE: cannot %s %s: %s: no live view\n", what,
               seg_path, strerror(err));
}

static void make_segment(void)
{
    pid_t pid = getpid();
    snprintf(seg_path, sizeof seg_path, PROF_LIVE_DIR "/tally-%u-%d", (unsigned)getuid(), (int)pid);
    int fd = open(seg_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    /* One there already is a dead process's of the same pid, or this
     * process's before an exec: ours to replace. Another user's cannot be
     * unlinked (/dev/shm is sticky), and stays. */
    if (fd < 0 && errno == EEXIST && unlink(seg_path) == 0)
        fd = open(seg_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        say_once("make", errno);
        return;
    }
    size_t size = sizeof(prof_live_segment);
    void *m = MAP_FAILED;
    int rc = fchmod(fd, 0600) != 0 ? errno : 0;
    while (rc == 0 && fallocate(fd, 0, 0, (off_t)size) != 0 && (rc = errno) == EINTR)
        rc = 0; /* a signal of the program's came: again */
    if (rc == 0) {
        m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        rc = m == MAP_FAILED ? errno : 0;
    }
    close(fd);
    if (rc != 0) {
        unlink(seg_path);
        say_once("map", rc);
        return;
    }
    prof_live_segment *s = m;
    s->version = PROF_LIVE_VERSION;
    s->size = (uint32_t)size;
    s->pid = (int32_t)pid;
    s->uid = (uint32_t)getuid();
    s->proc_start = prof_live_start_time("/proc/self/stat");
    s->start_realtime_ns = tt_cfg.start_realtime_ns;
    s->sample_bytes = tt_cfg.sample_bytes;
    /* The magic last: a reader takes the segment for one only then. */
    __atomic_store_n(&s->magic, PROF_LIVE_MAGIC, __ATOMIC_RELEASE);
    modules_seen = tt_modules_generation() - 1;
    seg_pid = pid;
    atomic_store(&unlinked, false);
    seg = s;
}

void tt_publish_start(void)
{
    if (tt_cfg.live && (!seg || seg_pid != getpid()))
        make_segment();
}

void tt_publish_stop(void)
{
    /* Not from a vfork child, which shares our memory but not our pid. */
    if (!seg || seg_pid != getpid() || atomic_exchange(&unlinked, true))
        return;
    unlink(seg_path);
}

/* The mapping let go: only where no other thread can be publishing. */
static void unmap(void)
{
    if (seg)
        munmap(seg, sizeof *seg);
    seg = NULL;
}

void tt_publish_fork_child(void)
{
    unmap(); /* the parent's: it stays the parent's */
    tt_publish_start();
}

/* ---- the top stacks: a min-heap per list ------------------------------------------ */
typedef struct {
    const tt_site_books *site;
    int64_t key;
} pick;
static pick heaps[2][PROF_LIVE_STACKS];
static int nheap[2];

static void heap_down(pick *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].key < h[m].key)
            m = l;
        if (r < n && h[r].key < h[m].key)
            m = r;
        if (m == i)
            return;
        pick t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void offer(int which, const tt_site_books *site, int64_t key)
{
    pick *h = heaps[which];
    int n = nheap[which];
    if (key <= 0)
        return;
    if (n < PROF_LIVE_STACKS) {
        int i = n;
        h[i] = (pick){site, key};
        while (i > 0 && h[(i - 1) / 2].key > h[i].key) {
            pick t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        nheap[which] = n + 1;
    } else if (key > h[0].key) {
        h[0] = (pick){site, key};
        heap_down(h, n, 0);
    }
}

static int64_t load64(const int64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int64_t unscale(int64_t count)
{
    int64_t k = tt_cfg.count_scale;
    return k <= 1 ? count : (count + k / 2) / k;
}

static void fill_stack(prof_live_stack *out, const tt_site_books *r, uint64_t epoch)
{
    int64_t live = load64(&r->live_bytes);
    out->stack = r->stack;
    out->pool = r->pool;
    out->bytes = live;
    out->blocks = unscale(load64(&r->live_count));
    out->peak_bytes =
        __atomic_load_n(&r->saved_epoch, __ATOMIC_RELAXED) == epoch ? load64(&r->saved_peak) : live;
    const tt_stack *st = tt_stack_get(r->stack);
    uint32_t n = st ? st->nframes : 0;
    out->truncated = n > PROF_LIVE_DEPTH;
    out->nframes = n > PROF_LIVE_DEPTH ? PROF_LIVE_DEPTH : n;
    for (uint32_t i = 0; i < out->nframes; i++)
        out->frames[i] = st->frames[i];
}

static void publish_stacks(prof_live_segment *s)
{
    nheap[0] = nheap[1] = 0;
    uint64_t epoch = atomic_load(&tt_g.epoch);
    for (const tt_site_books *r = tt_site_books_first(); r; r = r->next_all) {
        /* A wrapper pool's blocks are its parent's too: listed once. */
        if (__atomic_load_n(&r->pool_books->wrapper, __ATOMIC_RELAXED))
            continue;
        int64_t live = load64(&r->live_bytes);
        offer(PROF_LIVE_NOW, r, live);
        offer(PROF_LIVE_AT_PEAK, r,
              __atomic_load_n(&r->saved_epoch, __ATOMIC_RELAXED) == epoch ? load64(&r->saved_peak)
                                                                          : live);
    }
    for (int w = 0; w < 2; w++) {
        int n = nheap[w];
        s->nstacks[w] = (uint32_t)n;
        /* Popped smallest first, so filled from the end: largest first. */
        while (n > 0) {
            fill_stack(&s->stacks[w][n - 1], heaps[w][0].site, epoch);
            heaps[w][0] = heaps[w][--n];
            heap_down(heaps[w], n, 0);
        }
    }
}

static void publish_pools(prof_live_segment *s)
{
    uint32_t n = 0;
    int32_t max = tt_pool_max_id();
    for (int32_t id = 0; id < max && n < PROF_LIVE_POOLS; id++) {
        tt_pool_books *p = tt_pool_books_get(id, false);
        if (!p || !atomic_load(&p->active))
            continue;
        prof_live_pool *q = &s->pools[n++];
        base_spin_lock(&p->lock);
        q->id = id;
        q->wrapper = p->wrapper;
        memcpy(q->name, p->name, sizeof q->name);
        q->current = atomic_load(&p->current);
        q->peak = atomic_load(&p->peak);
        q->live_blocks = p->live;
        q->total_bytes = p->total;
        q->total_count = p->count;
        base_spin_unlock(&p->lock);
    }
    s->npools = n;
}

static size_t strings_used;

static void add_module(const tt_module *m, void *arg)
{
    prof_live_segment *s = arg;
    size_t used = strings_used;
    size_t len = strlen(m->path) + 1;
    if (s->nmodules == PROF_LIVE_MODULES || used + len > PROF_LIVE_STRINGS)
        return;
    prof_live_module *q = &s->modules[s->nmodules++];
    q->start = m->start;
    q->end = m->end;
    q->base = m->base;
    q->path = (uint32_t)used;
    memcpy(&s->strings[used], m->path, len);
    strings_used = used + len;
    q->build_id_len = m->build_id_len <= sizeof q->build_id ? (uint32_t)m->build_id_len : 0;
    memcpy(q->build_id, m->build_id, q->build_id_len);
}

/* A reader's request: a profile written where it asked (an absolute path,
 * no pattern: the reader escapes its '%'), as a checkpoint is. */
static void serve_request(prof_live_segment *s)
{
    uint64_t want = atomic_load_explicit(&s->request, memory_order_acquire);
    if (want == atomic_load_explicit(&s->served, memory_order_relaxed))
        return;
    char path[PROF_LIVE_PATH];
    memcpy(path, s->request_path, sizeof path);
    path[sizeof path - 1] = '\0';
    s->served_errno = path[0] == '/' ? tt_dump(path, PROF_REASON_CHECKPOINT, NULL) : EINVAL;
    atomic_store_explicit(&s->served, want, memory_order_release);
}

void tt_publish_now(void)
{
    if (!tt_cfg.live)
        return;
    if (seg && atomic_load(&unlinked))
        unmap(); /* an exec that failed: this image goes on, with a new segment */
    if (!seg || seg_pid != getpid())
        make_segment(); /* or after a first failure (said once) */
    prof_live_segment *s = seg;
    if (!s)
        return;
    tt_thread_fold_self();
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);

    s->now_ns = tt_now_ns() - tt_cfg.start_ns;
    s->current = atomic_load(&tt_g.current);
    s->peak = atomic_load(&tt_g.peak);
    s->peak_ns = __atomic_load_n(&tt_g.peak_ns, __ATOMIC_RELAXED);
    s->threads = (uint32_t)atomic_load(&tt_g.threads);
    publish_pools(s);
    publish_stacks(s);
    unsigned gen = tt_modules_generation();
    if (gen != modules_seen) {
        modules_seen = gen;
        s->nmodules = 0;
        strings_used = 0;
        tt_modules_each(add_module, s);
    }
    s->publications++;

    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
    serve_request(s);
}
