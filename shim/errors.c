/* errors.c: reports of the program's own allocator errors, in the shape of
 * valgrind's: what happened, the offending stack, then the block and where it
 * was allocated. The program goes on (TALLY_ERRORS=abort stops it), and the
 * block in question is never handed to a free it does not belong to.
 *
 * Reports are rare, so they may unwind and call dladdr; they still avoid
 * stdio and malloc (the caller is inside free). */
#include "shim/shim.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

static bool abort_on_error;

void shim_errors_init(void)
{
    const char *e = getenv("TALLY_ERRORS");
    abort_on_error = e && strcmp(e, "abort") == 0;
}

/* ---- recently freed blocks, per thread: tells a double free apart -------- */
#define FREED_RING 64
typedef struct {
    const void *ptr;
    int64_t size;
    tally_stack_id stack;
    uint8_t kind;
} freed_block;
static __thread freed_block freed[FREED_RING] __attribute__((tls_model("initial-exec")));
static __thread unsigned freed_next __attribute__((tls_model("initial-exec")));

void shim_errors_note_freed(const void *ptr, const tally_block_info *info)
{
    freed_block *f = &freed[freed_next++ % FREED_RING];
    f->ptr = ptr;
    f->size = info->size;
    f->stack = info->stack;
    f->kind = info->kind;
}

static const freed_block *find_freed(const void *ptr)
{
    for (unsigned i = 0; i < FREED_RING; i++) {
        const freed_block *f = &freed[(freed_next - 1 - i) % FREED_RING];
        if (f->ptr == ptr)
            return f;
    }
    return NULL;
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

/* The calling stack, without the shim's own frames. */
static void put_current_stack(report *r)
{
    void *frames[32];
    int n = unw_backtrace(frames, 32);
    Dl_info self;
    dladdr((void *)put_current_stack, &self);
    bool first = true;
    for (int i = 0; i < n; i++) {
        Dl_info di;
        if (dladdr((char *)frames[i] - 1, &di) && di.dli_fbase == self.dli_fbase)
            continue;
        put_frame(r, (uintptr_t)frames[i], first);
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
    ssize_t w = write(STDERR_FILENO, r->buf, r->len);
    (void)w;
    if (abort_on_error) {
        const char *m = "tally: TALLY_ERRORS=abort: aborting\n";
        w = write(STDERR_FILENO, m, strlen(m));
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
    report r = {.len = 0};
    const freed_block *f = find_freed(ptr);
    if (how == SHIM_DEALLOC_USABLE_SIZE)
        put(&r, "tally: Invalid malloc_usable_size()\n");
    else if (f)
        put(&r, "tally: Invalid free() / delete / delete[] / realloc(): double free\n");
    else
        put(&r, "tally: Invalid free() / delete / delete[] / realloc()\n");
    put_current_stack(&r);
    if (f) {
        put_block(&r, ptr, f->size, f->kind, " free'd, allocated");
        put_stack(&r, f->stack);
    } else {
        put(&r, "tally:  Address ");
        put_num(&r, (uintptr_t)ptr, 16);
        put(&r, " is not a live heap block (never allocated here, or freed long ago)\n");
    }
    finish(&r);
}

void shim_report_mismatch(const void *ptr, const tally_block_info *info, shim_dealloc_kind how)
{
    report r = {.len = 0};
    put(&r, "tally: Mismatched free() / delete / delete []");
    put(&r, how == SHIM_DEALLOC_REALLOC ? ": realloc()\n" : "\n");
    put_current_stack(&r);
    put_block(&r, ptr, info->size, info->kind, " alloc'd");
    put_stack(&r, info->stack);
    finish(&r);
}

void shim_report_bad_size(const void *ptr, const tally_block_info *info, size_t size)
{
    report r = {.len = 0};
    put(&r, "tally: Mismatched new/delete size value: ");
    put_num(&r, size, 10);
    put(&r, "\n");
    put_current_stack(&r);
    put_block(&r, ptr, info->size, info->kind, " alloc'd");
    put_stack(&r, info->stack);
    finish(&r);
}
