/* stack_cache.c: a thread's recent stacks, so that most captures need no
 * full unwind.
 *
 * A walk (fast_unwind.h) is a function of the registers it starts from and
 * of the memory it reads: each frame's return-address slot and, where the
 * frame saved it, the caller's RBP. So each walk is kept with those
 * addresses and the values read there, and a later walk that reaches the
 * same frame with the same registers, while every one of those places
 * still holds its value, would read what the kept one read: its frames
 * are the kept ones. Only an RBP that some later step uses (a frame whose
 * CFA is RBP-based) has to match: optimized code keeps anything in RBP,
 * and a saved value no step reads says nothing about the stack. Checking that is a load and a
 * compare or two per frame, from the thread's own stack, which is in cache; walking is a rule
 * lookup per frame. Two uses:
 *
 *   - the entries: a capture whose entry-point slot (ret_slot) and return
 *     address match an entry's, and whose recorded places all hold, is
 *     that entry's stack, with no walk at all;
 *   - the thread's last walk: a miss walks from its entry point outwards
 *     only until it meets a frame of the last walk in the same state, then
 *     takes the rest (deep stacks mostly change at their inner end: a
 *     compiler's passes, an interpreter's loop stay put while the leaf
 *     calls vary).
 *
 * A stack that tally's unwinder cannot walk (a signal frame, a DWARF
 * expression, code without unwind tables) goes to libunwind and is not
 * kept. TALLY_UNWIND=check compares every result with libunwind's. */
#include "track/fast_unwind.h"
#include "track/stack_table.h"
#include "track/unwind.h"

#include "base/mem.h"

#include <emmintrin.h> /* SSE2, which every x86-64 has */
#include <stdalign.h>
#include <string.h>

/* Entries kept: the last SC_ENTRIES distinct stacks a thread walked,
 * replaced in turn. 8 were too few for an interpreter's hot sites:
 * python3 full took 3.12 s with 8, 2.62 with 16 and 2.70 with 32, whose
 * walks (2 KiB each then) no longer fit the cache beside the program's data;
 * cc1 full moved within its noise (1.84-1.89 s against 1.87-1.93). */
#define SC_ENTRIES 16
#define SC_DEPTH 64 /* deeper stacks (TALLY_DEPTH > 64) are not cached */

/* A frame of a walk: its return address ip read from slot, its RBP read
 * from rbp_from (NULL: the RBP of the frame inside it, unchanged). All of
 * a frame in one record: a splice copies one array, not five, and a check
 * reads a frame's places from one line. */
typedef struct {
    uintptr_t ip;
    const uintptr_t *slot;
    uintptr_t rbp;
    const uintptr_t *rbp_from;
    /* The RBP is used by this frame's own step or by a later one before it
     * is read again from the stack (see walk_finish). */
    bool rbp_live;
    /* rbp_live and read here (rbp_from): a check compares it. */
    bool rbp_checked;
} sc_frame;

/* A walk from the entry point's caller outwards, frame 0 first. */
typedef struct {
    int n;
    bool truncated; /* cut at the depth limit; the stack went on */
    /* How the walk was made: its first `own` frames walked, the rest the
     * last walk's frames from `took` on (-1: not taken, or cut short). */
    int own, took;
    sc_frame f[SC_DEPTH];
} sc_walk;

/* An entry's key: its entry point's return-address slot and the address
 * found there. */
typedef struct {
    const uintptr_t *slot0; /* read only when the entry's tag is not 0 */
    uintptr_t ret0;
} sc_key;

typedef struct {
    uint32_t id;
    sc_walk w;
} sc_entry;

/* A turn: the last walk's stack (last_id) with its frames from `took` on
 * kept and `own` new ones put in front of them, and the id of the stack
 * that makes. The last id and took name the kept frames exactly, so a
 * turn is checked in its own line, where interning the stack would hash
 * all its frames and compare them with a stored record, cold more often
 * than not (cc1 full: 8.5% of the run). A program turns the same few ways
 * again and again: a compiler's pass allocates from the same few places in
 * the same order. */
#define SC_TURN_FRAMES 6 /* cc1: 95% of its turns put at most 6 frames in front */
typedef struct {
    alignas(64) uint32_t last_id; /* 0: empty */
    uint32_t id;
    uint8_t took, own;
    uintptr_t ips[SC_TURN_FRAMES];
} sc_turn;
/* A thread starts with 512 turns in its cache and gets 16384, in a table
 * of their own, once it has missed 1024 times: cc1 makes about 25k
 * distinct turns. Of cc1 300's 684k splices, 512 turns left 477k to be
 * interned, 4096 left 169k and 16384 leave 70k: an interning hashes the
 * whole stack and reads a stored record, cold more often than not, where
 * a turn is one line. A thread that turns little never maps the 1 MiB. */
#define SC_TURN_BITS_FIRST 9
#define SC_TURN_BITS_MOST 14

struct tt_stack_cache {
    /* A byte of each key's hash (0: empty), one SSE2 compare for all 16:
     * a capture reads only the keys whose byte matches, and a walk only
     * for the key that matches. Comparing every key cost cc1, whose
     * captures mostly miss, 149 instructions a capture. */
    alignas(16) uint8_t tag[SC_ENTRIES];
    uint32_t next; /* round-robin victim */
    /* The keys side by side, apart from the walks (2.5 KiB each). */
    sc_key key[SC_ENTRIES];
    sc_entry e[SC_ENTRIES];
    /* The thread's last walk: one entry's buffer (valid or not as an
     * entry), never the next victim's. Walks are written in place. */
    const sc_walk *last;
    uint32_t last_id;         /* last's stack id; 0: none */
    tt_rule_cache rules;      /* fast_unwind.h */
    tt_intern_cache interned; /* stack_table.h */
    /* The turns, direct-mapped: first_turns, then a table of their own. */
    sc_turn *turns;
    unsigned turn_bits, turn_misses;
    sc_turn first_turns[1 << SC_TURN_BITS_FIRST];
};

_Static_assert(SC_ENTRIES == 16, "the tags fill one SSE2 register");
_Static_assert(sizeof(sc_turn) == 64, "a turn is checked in one line");
_Static_assert(SC_DEPTH <= UINT8_MAX, "a turn's took fits a byte");

/* Never 0, which marks an empty entry. */
static inline uint8_t key_tag(const uintptr_t *slot0, uintptr_t ret0)
{
    return (uint8_t)((((uintptr_t)slot0 ^ ret0) * 0x9e3779b97f4a7c15ULL) >> 56) | 1;
}

/* The entries whose tag is tag, one bit each. */
static inline unsigned tag_matches(const tt_stack_cache *c, uint8_t tag)
{
    __m128i v = _mm_load_si128((const __m128i *)c->tag);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)tag)));
}

tt_stack_cache *tt_stack_cache_new(void)
{
    tt_stack_cache *c = base_map(sizeof(tt_stack_cache));
    if (c) {
        c->turns = c->first_turns;
        c->turn_bits = SC_TURN_BITS_FIRST;
    }
    return c;
}

void tt_stack_cache_clear(tt_stack_cache *c)
{
    memset(c->tag, 0, sizeof c->tag);
    c->last = NULL;
    c->last_id = 0;
}

/* The walk's pieces are inlined into the capture (a call each cost cc1's
 * misses their arguments and registers), and read other frames' stack
 * slots, which the sanitizer would call overflows. */
#define SC_INLINE __attribute__((always_inline, no_sanitize_address)) static inline

/* Every place w read from k on still holds what it read there. */
SC_INLINE bool walk_holds(const sc_walk *w, int k)
{
    for (const sc_frame *f = w->f + k, *end = w->f + w->n; f < end; f++)
        if (*f->slot != f->ip || (f->rbp_checked && *f->rbp_from != f->rbp))
            return false;
    return true;
}

static inline void walk_add(sc_walk *w, const tt_fast_regs *r)
{
    TALLY_ASSERT(w->n < SC_DEPTH);
    /* rbp_live and rbp_checked are known after the next step: walk_finish */
    w->f[w->n++] = (sc_frame){r->ip, tt_fast_slot(r), r->rbp, r->rbp_from, false, false};
}

/* rbp_live, and with it rbp_checked, for frames upto-1 down to 0 (the
 * frames from upto on have theirs already). used[k]: frame k's step used its RBP. A frame's RBP is
 * live when its step uses it, or when the next frame inherits it (reads
 * none) and it is live there. The last frame's step made no frame of the
 * walk, so nothing of the walk depends on it. */
SC_INLINE void walk_finish(sc_walk *w, const bool *used, int upto)
{
    for (int k = upto - 1; k >= 0; k--) {
        bool next = k + 1 < w->n;
        bool inherited = next && !w->f[k + 1].rbp_from && w->f[k + 1].rbp_live;
        w->f[k].rbp_live = (next && used[k]) || inherited;
        w->f[k].rbp_checked = w->f[k].rbp_live && w->f[k].rbp_from;
    }
}

/* Appends last's frames from k on to w, up to the depth limit; false when
 * that limit cut them short. */
static bool walk_take(sc_walk *w, const sc_walk *last, int k, int depth)
{
    int take = last->n - k;
    bool cut = w->n + take > depth;
    if (cut)
        take = depth - w->n;
    memcpy(w->f + w->n, last->f + k, (size_t)take * sizeof *w->f);
    w->n += take;
    w->truncated = cut || last->truncated;
    return !cut;
}

/* Walks from the entry point's caller (the frame whose return address is
 * at ret_slot) outwards into w; false when tally's unwinder cannot. */
SC_INLINE bool walk(tt_stack_cache *c, const uintptr_t *ret_slot, sc_walk *w)
{
    /* The entry point's caller, from ret_slot alone: the entry point keeps
     * a frame pointer (unwind.h), so the caller's RBP is the word its
     * prologue pushed just below the return address, as the entry point's
     * unwind rule would say. Stepping through tally's own frames up to
     * there took two rule lookups a capture, 134 instructions on cc1. */
    tt_fast_regs r = {.ip = *ret_slot, .sp = (uintptr_t)(ret_slot + 1), .rbp_from = ret_slot - 1};
    r.rbp = *r.rbp_from;
    static const sc_walk none;
    const sc_walk *last = c->last ? c->last : &none;
    TALLY_ASSERT(last != w);
    int depth = tt_cfg.depth, j = 0;
    bool used[SC_DEPTH];
    w->n = 0;
    w->truncated = false;
    w->took = -1;
    walk_add(w, &r);
    for (;;) {
        const uintptr_t *slot = tt_fast_slot(&r);
        while (j < last->n && last->f[j].slot < slot)
            j++;
        /* The same frame in the same state: the same slot and address, and
         * the same RBP if the rest of the last walk used it. */
        int rest = j < last->n ? last->n - (j + 1) : 0;
        const sc_frame *lf = &last->f[j];
        if (j < last->n && lf->slot == slot && lf->ip == r.ip &&
            (!lf->rbp_live || lf->rbp == r.rbp) && (w->n + rest >= depth || !last->truncated) &&
            walk_holds(last, j + 1)) {
            /* From here on this walk would read what the last one read.
             * Whether this frame's own step used RBP is not kept: say it
             * did when its RBP was live there (more checking, never less). */
            int mine = w->n;
            used[mine - 1] = lf->rbp_live;
            bool whole = walk_take(w, last, j + 1, depth);
            walk_finish(w, used, mine);
            w->own = mine;
            w->took = whole ? j + 1 : -1;
            return true;
        }
        if (w->n == depth) {
            w->truncated = tt_fast_step(&r, &c->rules) != 0; /* -1: maybe more */
            walk_finish(w, used, w->n);
            return true;
        }
        int step = tt_fast_step(&r, &c->rules);
        if (step < 0)
            return false;
        used[w->n - 1] = r.rbp_used;
        if (step == 0) {
            walk_finish(w, used, w->n);
            return true;
        }
        walk_add(w, &r);
    }
}

/* TALLY_UNWIND=check: libunwind's answer for the same capture. */
static __attribute__((noinline)) void check_walk(const uintptr_t *ret_slot, const sc_walk *w)
{
    uintptr_t frames[SC_DEPTH];
    const uintptr_t *slots[SC_DEPTH];
    int m = tt_unwind_slots(ret_slot, frames, slots);
    bool differ = m != w->n;
    for (int k = 0; !differ && k < m; k++)
        differ = frames[k] != w->f[k].ip || slots[k] != w->f[k].slot;
    tt_unwind_check_count(differ);
}

#ifdef TALLY_DEBUG
static bool names_frames(uint32_t id, const sc_walk *w)
{
    const tt_stack *s = tt_stack_get(id);
    if (!s || s->nframes != (uint32_t)w->n)
        return false;
    for (int k = 0; k < w->n; k++)
        if (s->frames[k] != w->f[k].ip)
            return false;
    return true;
}
#endif

/* A turn's slot is hashed from what a miss knows before it walks: the
 * last walk's id and the entry point's slot and return address (a walk's
 * frame 0). So the miss prefetches the turn's line as it starts, and the
 * walk hides the wait: keyed by the walk's own frames (taken after the
 * splice), the check of the turn's line was 23% of capture_miss's samples
 * on cc1 full, and a prefetch from the splice came too late to help. The
 * turn's contents still name it whole, so a turn that shares the slot is
 * only a miss. */
static inline sc_turn *turn_slot(const tt_stack_cache *c, uint32_t last_id, const uintptr_t *slot0,
                                 uintptr_t ret0)
{
    uint64_t h = ((uint64_t)last_id * 0x9e3779b97f4a7c15ULL) ^ (uintptr_t)slot0;
    h = (h ^ ret0) * 0xff51afd7ed558ccdULL;
    h ^= h >> 29;
    return &c->turns[(h * 0xc4ceb9fe1a85ec53ULL) >> (64 - c->turn_bits)];
}

/* The bigger table, once the first one has missed more than it holds
 * twice over; its turns are not moved (they come back as misses). */
static __attribute__((noinline)) void turns_grow(tt_stack_cache *c)
{
    sc_turn *more = base_map(sizeof(sc_turn) << SC_TURN_BITS_MOST);
    if (more) {
        c->turns = more;
        c->turn_bits = SC_TURN_BITS_MOST;
    } else {
        c->turn_misses = 0; /* asks again after as many misses */
    }
}

/* w's stack interned: its return addresses gathered from its frames. */
static uint32_t walk_intern(tt_stack_cache *c, const sc_walk *w)
{
    uintptr_t ips[SC_DEPTH];
    for (int k = 0; k < w->n; k++)
        ips[k] = w->f[k].ip;
    return tt_stack_intern_cached(&c->interned, ips, w->n);
}

/* The id of w's stack: from the thread's turns when w took the rest of
 * the last walk (whose id is last_id, and t the turn's slot for w, NULL
 * when last_id is 0), else interned. */
static uint32_t walk_stack_id(tt_stack_cache *c, const sc_walk *w, uint32_t last_id, sc_turn *t)
{
    if (w->took < 0 || last_id == 0 || w->own > SC_TURN_FRAMES)
        return walk_intern(c, w);
    TALLY_ASSERT(w->own >= 1 && t == turn_slot(c, last_id, w->f[0].slot, w->f[0].ip));
    bool same = t->last_id == last_id && t->took == (uint8_t)w->took && t->own == (uint8_t)w->own;
    for (int k = 0; same && k < w->own; k++)
        same = t->ips[k] == w->f[k].ip;
    if (same) {
        TALLY_ASSERT(names_frames(t->id, w));
        return t->id;
    }
    if (TT_UNLIKELY(++c->turn_misses == 2u << SC_TURN_BITS_FIRST) &&
        c->turn_bits < SC_TURN_BITS_MOST) {
        turns_grow(c);
        t = turn_slot(c, last_id, w->f[0].slot, w->f[0].ip);
    }
    uint32_t id = walk_intern(c, w);
    if (id) {
        t->last_id = last_id;
        t->id = id;
        t->took = (uint8_t)w->took;
        t->own = (uint8_t)w->own;
        for (int k = 0; k < w->own; k++)
            t->ips[k] = w->f[k].ip;
    }
    return id;
}

/* A miss: the walk is written into the next victim's buffer, and becomes
 * the thread's last walk. Kept out of tt_capture_from so that a hit does
 * not pay for the walk's frame: its arrays and the registers it saves
 * (callgrind: a hit cost 47 instructions there, most of them the miss's
 * prologue). */
static __attribute__((noinline, no_sanitize_address)) uint32_t
capture_miss(tt_stack_cache *c, const uintptr_t *ret_slot, int skip)
{
    uint32_t k = c->next++ % SC_ENTRIES;
    if (&c->e[k].w == c->last)
        k = c->next++ % SC_ENTRIES;
    sc_entry *e = &c->e[k];
    c->tag[k] = 0;
    sc_walk *w = &e->w;
    /* The turn's slot, from the walk's frame 0 before the walk is made */
    sc_turn *turn = c->last_id ? turn_slot(c, c->last_id, ret_slot, *ret_slot) : NULL;
    if (turn)
        __builtin_prefetch(turn);
    bool ours = tt_cfg.unwind != TT_UNWIND_LIBUNWIND && walk(c, ret_slot, w);
    if (!ours && tt_cfg.unwind == TT_UNWIND_CHECK)
        tt_unwind_check_fallback();
    uintptr_t frames[SC_DEPTH];
    const uintptr_t *slots[SC_DEPTH];
    int n;
    uint32_t id;
    if (ours) {
        n = w->n;
        if (tt_cfg.unwind == TT_UNWIND_CHECK)
            check_walk(ret_slot, w);
        id = walk_stack_id(c, w, c->last_id, turn);
        c->last = w;
        c->last_id = id;
    } else {
        n = tt_unwind_slots(ret_slot, frames, slots);
        if (n < 0)
            return tt_capture(skip);
        id = tt_stack_intern_cached(&c->interned, frames, n);
    }
    /* An entry must know every place its walk read, so libunwind's walks
     * are not kept. Tally's read the first frame's RBP from the stack too:
     * walk starts from the word below ret_slot. */
    if (ours && n > 0 && id) {
        TALLY_ASSERT(w->f[0].rbp_from == ret_slot - 1);
        e->id = id;
        c->key[k] = (sc_key){ret_slot, w->f[0].ip};
        c->tag[k] = key_tag(ret_slot, w->f[0].ip);
    }
    return id;
}

/* The entry whose walk the stack above ret_slot still holds, or NULL. */
SC_INLINE const sc_entry *cache_hit(const tt_stack_cache *c, const uintptr_t *ret_slot)
{
    uintptr_t ret0 = *ret_slot;
    for (unsigned m = tag_matches(c, key_tag(ret_slot, ret0)); m; m &= m - 1) {
        int i = __builtin_ctz(m);
        if (c->key[i].slot0 == ret_slot && c->key[i].ret0 == ret0 && walk_holds(&c->e[i].w, 0))
            return &c->e[i];
    }
    return NULL;
}

/* TALLY_UNWIND=check: each hit's walk is checked against libunwind's. */
static __attribute__((noinline, no_sanitize_address)) uint32_t
capture_checked(tt_stack_cache *c, const uintptr_t *ret_slot, int skip)
{
    const sc_entry *e = cache_hit(c, ret_slot);
    if (!e)
        return capture_miss(c, ret_slot, skip);
    check_walk(ret_slot, &e->w);
    return e->id;
}

/* The stack of the entry point's caller: from an entry, else walked. Every
 * way out but a plain hit is a tail call, and the hit reads the unwind
 * mode before it starts: so it saves no registers (8 of its instructions). */
__attribute__((noinline, no_sanitize_address)) uint32_t
tt_capture_from(tt_stack_cache *c, const uintptr_t *ret_slot, int skip)
{
    if (!c || !ret_slot || tt_cfg.unwind == TT_UNWIND_FP || tt_cfg.depth > SC_DEPTH)
        return tt_capture(skip);
    if (TT_UNLIKELY(tt_cfg.unwind == TT_UNWIND_CHECK))
        return capture_checked(c, ret_slot, skip);
    const sc_entry *e = cache_hit(c, ret_slot);
    return e ? e->id : capture_miss(c, ret_slot, skip);
}
