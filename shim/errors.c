/* errors.c: reports of the program's own allocator errors, in the shape of
 * valgrind's: what happened, the offending stack, then the block and where it
 * was allocated. The program goes on (TALLY_ERRORS=abort stops it), and the
 * block in question is never handed to a free it does not belong to.
 *
 * Each kind of error from each stack is reported once; its repeats are only
 * counted, and the exit summary gives the counts (tally_track_errors). As
 * valgrind does, after 1000 different errors, or 10,000,000 in all, no new
 * one is reported. Reports go to tally's own descriptor (lib/track/say.c).
 *
 * Reports are rare, so they may unwind and call dladdr; they still avoid
 * stdio and malloc (the caller is inside free): the table of contexts is
 * static and lock-free. */
#include "shim/shim.h"

#include "base/hash.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static bool abort_on_error;

static void errors_fork_child(void);

void shim_errors_init(void)
{
    const char *e = getenv("TALLY_ERRORS");
    abort_on_error = e && strcmp(e, "abort") == 0;
    pthread_atfork(NULL, NULL, errors_fork_child);
}

/* ---- recently freed blocks (shim_thread.freed): a double free told apart */
static const shim_freed_block *find_freed(const void *ptr)
{
    for (unsigned i = 0; i < SHIM_FREED_RING; i++) {
        const shim_freed_block *f =
            &shim_thread.freed[(shim_thread.freed_next - 1 - i) % SHIM_FREED_RING];
        if (f->key == shim_freed_key(ptr))
            return f;
    }
    return NULL;
}

/* ---- each (kind, stack) once -------------------------------------------------- */
#define MAX_CONTEXTS 1000
#define MAX_ERRORS 10000000
#define CONTEXT_SLOTS 2048 /* a power of two, over twice MAX_CONTEXTS: never full */
#define MAX_FRAMES 32

typedef enum {
    ERR_USABLE_SIZE = 1,
    ERR_DOUBLE_FREE,
    ERR_INVALID_FREE,
    ERR_MISMATCH,
    ERR_BAD_SIZE,
} error_kind;

/* The stack that made the error, innermost first, the shim's own frames too
 * (the same entry point gives the same ones). */
typedef struct {
    void *frames[MAX_FRAMES];
    int n;
} offender;

/* A context's key: a hash of its kind and stack, never 0 (an empty slot). */
static _Atomic uint64_t contexts[CONTEXT_SLOTS];
static _Atomic uint32_t contexts_taken; /* at most MAX_CONTEXTS */
static _Atomic int told_contexts, told_errors;

static void say(const char *m)
{
    tally_track_say_text(m, strlen(m));
}

/* Not reported: counted in no context. The first time a limit is reached,
 * says so. */
static bool over_limit(_Atomic int *told, const char *m)
{
    atomic_fetch_add(&tally_track_errors.unassigned, 1);
    if (!atomic_exchange(told, 1))
        say(m);
    return false;
}

/* Counts one error and captures its stack. True when it is the first of its
 * context (to be reported); false for a repeat, or past a limit. */
static bool first_of_its_kind(error_kind kind, shim_dealloc_kind how, offender *o)
{
    uint64_t n = atomic_fetch_add(&tally_track_errors.errors, 1) + 1;
    o->n = 0;
    if (n > MAX_ERRORS && !abort_on_error)
        return over_limit(
            &told_errors,
            "tally: more than 10000000 errors: later ones are counted, not reported\n");
    o->n = tally_track_backtrace(o->frames, MAX_FRAMES); /* 0 or more */
    uint64_t key = base_hash_bytes(o->frames, (size_t)o->n * sizeof o->frames[0]) ^
                   base_hash_u64((uint64_t)kind << 8 | (uint64_t)how);
    if (key == 0)
        key = 1;
    for (uint32_t i = (uint32_t)key & (CONTEXT_SLOTS - 1);; i = (i + 1) & (CONTEXT_SLOTS - 1)) {
        uint64_t k = atomic_load(&contexts[i]);
        if (k == key)
            return abort_on_error; /* a repeat */
        if (k != 0)
            continue;
        /* A slot is taken only with a reservation, so at most MAX_CONTEXTS
         * are: the probe always ends. */
        if (atomic_fetch_add(&contexts_taken, 1) >= MAX_CONTEXTS) {
            atomic_fetch_sub(&contexts_taken, 1);
            if (abort_on_error)
                return true;
            return over_limit(&told_contexts, "tally: more than 1000 different errors: new "
                                              "ones are counted, not reported\n");
        }
        if (atomic_compare_exchange_strong(&contexts[i], &k, key)) {
            atomic_fetch_add(&tally_track_errors.contexts, 1);
            return true;
        }
        atomic_fetch_sub(&contexts_taken, 1); /* another thread took the slot */
        if (k == key)
            return abort_on_error;
    }
}

/* A forked child is a process of its own: its errors, its reports, its
 * summary. */
static void errors_fork_child(void)
{
    if (atomic_load(&contexts_taken) > 0)
        memset((void *)contexts, 0, sizeof contexts);
    atomic_store(&contexts_taken, 0);
    atomic_store(&told_contexts, 0);
    atomic_store(&told_errors, 0);
    atomic_store(&tally_track_errors.errors, 0);
    atomic_store(&tally_track_errors.contexts, 0);
    atomic_store(&tally_track_errors.unassigned, 0);
}

/* ---- a report, built in one buffer and written at once -------------------- */
typedef struct {
    char buf[8192];
    size_t len;
} report;

static void put(report *r, const char *s)
{
    size_t n = strlen(s);
    if (n > sizeof r->buf - r->len)
        n = sizeof r->buf - r->len;
    memcpy(r->buf + r->len, s, n);
    r->len += n;
}

static void put_num(report *r, uint64_t v, int base)
{
    char tmp[24];
    int i = sizeof tmp;
    tmp[--i] = 0;
    do {
        tmp[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && i > 0);
    if (base == 16)
        put(r, "0x");
    put(r, tmp + i);
}

static void put_frame(report *r, uintptr_t addr, bool first)
{
    put(r, first ? "tally:    at " : "tally:    by ");
    put_num(r, addr, 16);
    put(r, ": ");
    Dl_info di;
    /* addr is a return address: the call is the byte before it. */
    if (dladdr((void *)(addr - 1), &di) && di.dli_fname) {
        put(r, di.dli_sname ? di.dli_sname : "???");
        put(r, " (");
        const char *base = strrchr(di.dli_fname, '/');
        put(r, base ? base + 1 : di.dli_fname);
        put(r, "+");
        put_num(r, addr - (uintptr_t)di.dli_fbase, 16);
        put(r, ")\n");
    } else {
        put(r, "???\n");
    }
}

/* The offending stack, without the shim's own frames. */
static void put_offender(report *r, const offender *o)
{
    Dl_info self;
    dladdr((void *)put_offender, &self);
    bool first = true;
    for (int i = 0; i < o->n; i++) {
        Dl_info di;
        if (dladdr((char *)o->frames[i] - 1, &di) && di.dli_fbase == self.dli_fbase)
            continue;
        put_frame(r, (uintptr_t)o->frames[i], first);
        first = false;
    }
}

static void put_stack(report *r, tally_stack_id id)
{
    const uintptr_t *frames;
    int n = id ? tally_track_stack_frames(id, &frames) : 0;
    if (n <= 0) {
        put(r, "tally:    (stack not recorded: unsampled)\n");
        return;
    }
    for (int i = 0; i < n && i < 32; i++)
        put_frame(r, frames[i], i == 0);
}

static const char *const family_name[] = {"malloc()", "operator new", "operator new[]",
                                          "tally_pool_allocate"};

static void finish(report *r)
{
    tally_track_say_text(r->buf, r->len);
    if (abort_on_error) {
        say("tally: TALLY_ERRORS=abort: aborting\n");
        abort();
    }
}

static void put_block(report *r, const void *ptr, int64_t size, uint8_t kind, const char *what)
{
    put(r, "tally:  Address ");
    put_num(r, (uintptr_t)ptr, 16);
    put(r, " is 0 bytes inside a block of size ");
    put_num(r, (uint64_t)size, 10);
    put(r, what);
    put(r, " by ");
    put(r, kind < 4 ? family_name[kind] : "?");
    put(r, " at\n");
}

void shim_report_invalid(const void *ptr, shim_dealloc_kind how)
{
    const shim_freed_block *f = find_freed(ptr);
    error_kind kind = how == SHIM_DEALLOC_USABLE_SIZE ? ERR_USABLE_SIZE
                      : f                             ? ERR_DOUBLE_FREE
                                                      : ERR_INVALID_FREE;
    offender o;
    if (!first_of_its_kind(kind, how, &o))
        return;
    report r = {.len = 0};
    if (kind == ERR_USABLE_SIZE)
        put(&r, "tally: Invalid malloc_usable_size()\n");
    else if (kind == ERR_DOUBLE_FREE)
        put(&r, "tally: Invalid free() / delete / delete[] / realloc(): double free\n");
    else
        put(&r, "tally: Invalid free() / delete / delete[] / realloc()\n");
    put_offender(&r, &o);
    uintptr_t start;
    tally_block_info in;
    if (f) {
        put_block(&r, ptr, f->size, f->kind, " free'd, allocated");
        put_stack(&r, f->stack);
    } else if (tally_track_find_containing(ptr, &start, &in)) {
        /* An interior pointer: the block it points into, and its birth. */
        put(&r, "tally:  Address ");
        put_num(&r, (uintptr_t)ptr, 16);
        put(&r, " is ");
        put_num(&r, (uintptr_t)ptr - start, 10);
        put(&r, " bytes inside a block of ");
        put_num(&r, (uint64_t)in.size, 10);
        put(&r, " bytes allocated at\n");
        put_stack(&r, in.stack);
    } else {
        put(&r, "tally:  Address ");
        put_num(&r, (uintptr_t)ptr, 16);
        put(&r, " is not a live heap block (never allocated here, or freed long ago)\n");
    }
    finish(&r);
}

void shim_report_mismatch(const void *ptr, const tally_block_info *info, shim_dealloc_kind how)
{
    offender o;
    if (!first_of_its_kind(ERR_MISMATCH, how, &o))
        return;
    report r = {.len = 0};
    put(&r, "tally: Mismatched free() / delete / delete []");
    put(&r, how == SHIM_DEALLOC_REALLOC ? ": realloc()\n" : "\n");
    put_offender(&r, &o);
    put_block(&r, ptr, info->size, info->kind, " alloc'd");
    put_stack(&r, info->stack);
    finish(&r);
}

void shim_report_bad_size(const void *ptr, const tally_block_info *info, size_t size)
{
    offender o;
    if (!first_of_its_kind(ERR_BAD_SIZE, SHIM_DEALLOC_DELETE, &o))
        return;
    report r = {.len = 0};
    put(&r, "tally: Mismatched new/delete size value: ");
    put_num(&r, size, 10);
    put(&r, "\n");
    put_offender(&r, &o);
    put_block(&r, ptr, info->size, info->kind, " alloc'd");
    put_stack(&r, info->stack);
    finish(&r);
}
