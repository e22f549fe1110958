// align_prog: the aligned allocation entry points, huge requests and
// mallinfo2, run plain and under the shim (tests/shim/test_shim_align.sh).
//
//   align_prog grid      the unaligned entry points (malloc, calloc, realloc,
//                        operator new) at 16 bytes, glibc's for every block
//                        however small; then every power-of-two alignment
//                        from 1 to 1 MiB times a set of sizes, through
//                        posix_memalign, aligned_alloc, memalign, every
//                        aligned operator new, valloc and pvalloc: each
//                        block must be aligned, hold its size
//                        (malloc_usable_size) and go back through its own
//                        release. Exit 1 and a line per bad block otherwise.
//   align_prog huge      one line per entry point and impossible size: what
//                        the call returned (ok, NULL and errno, bad_alloc).
//                        The test compares these lines with a plain run's.
//   align_prog mallinfo  mallinfo2's and mallinfo's uordblks grow by 10 MB of
//                        live blocks and fall back when they are freed.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>
#include <string>
#include <unistd.h>
#include <vector>

static int bad;

// The compiler may not see through these: no allocation is elided or
// assumed to succeed.
static void *volatile sink;
static volatile size_t opaque_zero;

static void complain(const char *entry, size_t alignment, size_t size, const void *p,
                     const char *what)
{
    if (++bad <= 40)
        std::printf("FAIL %s alignment %zu size %zu: %p %s (address mod alignment %zu, usable "
                    "%zu)\n",
                    entry, alignment, size, p, what,
                    alignment ? (size_t)((uintptr_t)p % alignment) : 0,
                    p ? malloc_usable_size(const_cast<void *>(p)) : 0);
}

// A block from entry must be aligned, usable for size bytes, and writable
// end to end (its first and last 64 KiB, for the big ones).
static void check(const char *entry, size_t alignment, size_t size, void *p)
{
    if (!p) {
        complain(entry, alignment, size, p, "NULL");
        return;
    }
    if ((uintptr_t)p & (alignment - 1))
        complain(entry, alignment, size, p, "misaligned");
    if (malloc_usable_size(p) < size)
        complain(entry, alignment, size, p, "too small");
    unsigned char *b = static_cast<unsigned char *>(p);
    size_t head = size < 65536 ? size : 65536;
    memset(b, 0xa5, head);
    if (size > head)
        memset(b + size - 65536, 0x5a, 65536);
    if (size && (b[0] != 0xa5 || b[size - 1] != (size > head ? 0x5a : 0xa5)))
        complain(entry, alignment, size, p, "lost its contents");
    sink = p;
}

// The entry points that take an alignment; each with its own release.
enum Entry {
    POSIX_MEMALIGN,
    ALIGNED_ALLOC,
    MEMALIGN,
    NEW,
    NEW_ARRAY,
    NEW_NOTHROW,
    NEW_ARRAY_NOTHROW,
    N_ENTRIES
};
static const char *const entry_names[N_ENTRIES] = {
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "operator new(align_val_t)",
    "operator new[](align_val_t)",
    "operator new(align_val_t, nothrow)",
    "operator new[](align_val_t, nothrow)",
};

static void *allocate(Entry e, size_t alignment, size_t size)
{
    std::align_val_t al = static_cast<std::align_val_t>(alignment);
    switch (e) {
    case POSIX_MEMALIGN: {
        void *p = reinterpret_cast<void *>(0x1);
        int rc = posix_memalign(&p, alignment, size);
        // glibc: EINVAL unless the alignment is a multiple of sizeof(void *).
        int want = alignment % sizeof(void *) ? EINVAL : 0;
        if (rc != want) {
            complain("posix_memalign", alignment, size, p, rc == EINVAL ? "EINVAL" : "failed");
            return NULL;
        }
        if (rc != 0) {
            if (p != reinterpret_cast<void *>(0x1))
                complain("posix_memalign", alignment, size, p, "touched *memptr on failure");
            return NULL;
        }
        return p;
    }
    case ALIGNED_ALLOC:
        return aligned_alloc(alignment, size);
    case MEMALIGN:
        return memalign(alignment, size);
    case NEW:
        return ::operator new(size, al);
    case NEW_ARRAY:
        return ::operator new[](size, al);
    case NEW_NOTHROW:
        return ::operator new(size, al, std::nothrow);
    case NEW_ARRAY_NOTHROW:
        return ::operator new[](size, al, std::nothrow);
    default:
        return NULL;
    }
}

static void release(Entry e, size_t alignment, size_t size, void *p)
{
    std::align_val_t al = static_cast<std::align_val_t>(alignment);
    switch (e) {
    case NEW:
        ::operator delete(p, size, al);
        break;
    case NEW_ARRAY:
        ::operator delete[](p, al);
        break;
    case NEW_NOTHROW:
        ::operator delete(p, al, std::nothrow);
        break;
    case NEW_ARRAY_NOTHROW:
        ::operator delete[](p, size, al);
        break;
    default:
        free(p);
    }
}

// 0, 1, around the alignment, the sizes mimalloc 2.0.9 gets wrong (powers
// of two from 256 to 1024) and their neighbours, and big ones: past a page,
// past mimalloc's small and large object limits.
static std::vector<size_t> sizes_for(size_t alignment)
{
    std::vector<size_t> s = {
        0,    1,     alignment - 1, alignment,     alignment + 1, 2 * alignment, 255,  256,
        257,  320,   384,           448,           500,           511,           512,  513,
        640,  768,   896,           1000,          1023,          1024,          1025, 2048,
        4096, 65536, 1 << 20,       (1 << 20) + 1, 3 << 20,       40 << 20};
    return s;
}

// Several blocks of one shape live at once, so that they come from
// different places in the allocator's pages.
enum { REPEAT = 3 };

// The entry points without an alignment: glibc aligns every block of theirs
// to 16 bytes on x86-64, however small (mimalloc and jemalloc give blocks
// of 8 bytes or less only 8). Each is checked at 16 for sizes around it.
enum Plain {
    MALLOC,
    CALLOC,
    REALLOC_NEW,
    REALLOC_SHRINK,
    REALLOC_GROW,
    PLAIN_NEW,
    PLAIN_NEW_ARRAY,
    PLAIN_NEW_NOTHROW,
    N_PLAIN
};
static const char *const plain_names[N_PLAIN] = {
    "malloc",
    "calloc",
    "realloc(NULL)",
    "realloc to smaller",
    "realloc to larger",
    "operator new",
    "operator new[]",
    "operator new(nothrow)",
};

static void *allocate_plain(Plain e, size_t size)
{
    switch (e) {
    case MALLOC:
        return malloc(size);
    case CALLOC:
        return calloc(1, size);
    case REALLOC_NEW:
        return realloc(NULL, size);
    case REALLOC_SHRINK: {
        void *p = malloc(4096);
        void *q = realloc(p, size ? size : 1); /* realloc to 0 frees */
        if (!q)
            free(p);
        return q;
    }
    case REALLOC_GROW:
        return realloc(malloc(1), size ? size : 1);
    case PLAIN_NEW:
        return ::operator new(size);
    case PLAIN_NEW_ARRAY:
        return ::operator new[](size);
    case PLAIN_NEW_NOTHROW:
        return ::operator new(size, std::nothrow);
    default:
        return NULL;
    }
}

static void release_plain(Plain e, void *p)
{
    if (e == PLAIN_NEW || e == PLAIN_NEW_NOTHROW)
        ::operator delete(p);
    else if (e == PLAIN_NEW_ARRAY)
        ::operator delete[](p);
    else
        free(p);
}

static long plain_grid(void)
{
    long checked = 0;
    std::vector<size_t> sizes = {100, 255, 1000, 4096, 70000};
    for (size_t s = 0; s <= 64; s++)
        sizes.push_back(s);
    for (size_t size : sizes)
        for (int e = 0; e < N_PLAIN; e++) {
            void *p[REPEAT];
            for (int r = 0; r < REPEAT; r++) {
                p[r] = allocate_plain(static_cast<Plain>(e), size);
                check(plain_names[e], 16, size, p[r]);
                checked++;
            }
            for (int r = 0; r < REPEAT; r++)
                if (p[r])
                    release_plain(static_cast<Plain>(e), p[r]);
        }
    return checked;
}

static int grid(void)
{
    long checked = plain_grid();
    for (size_t alignment = 1; alignment <= (1 << 20); alignment <<= 1)
        for (size_t size : sizes_for(alignment))
            for (int e = 0; e < N_ENTRIES; e++) {
                void *p[REPEAT];
                for (int r = 0; r < REPEAT; r++) {
                    p[r] = allocate(static_cast<Entry>(e), alignment, size);
                    if (e == POSIX_MEMALIGN && alignment % sizeof(void *))
                        continue; /* EINVAL, checked in allocate */
                    check(entry_names[e], alignment, size, p[r]);
                    checked++;
                }
                for (int r = 0; r < REPEAT; r++)
                    if (p[r])
                        release(static_cast<Entry>(e), alignment, size, p[r]);
            }
    // valloc and pvalloc: the page is the alignment; pvalloc rounds the size
    // up to whole pages.
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t size : sizes_for(page)) {
        void *p[REPEAT], *q[REPEAT];
        for (int r = 0; r < REPEAT; r++) {
            p[r] = valloc(size);
            check("valloc", page, size, p[r]);
            q[r] = pvalloc(size);
            check("pvalloc", page, (size + page - 1) & ~(page - 1), q[r]);
            checked += 2;
        }
        for (int r = 0; r < REPEAT; r++) {
            free(p[r]);
            free(q[r]);
        }
    }
    // C++ new of over-aligned types: the compiler passes their alignment.
    struct alignas(256) A256 {
        char c[256];
    };
    struct alignas(512) A512 {
        char c[512];
    };
    struct alignas(1024) A1024 {
        char c[1024];
    };
    struct alignas(4096) A4096 {
        char c[100];
    };
    for (int r = 0; r < 8; r++) {
        A256 *a = new A256;
        A512 *b = new A512;
        A1024 *c = new A1024[3];
        A4096 *d = new A4096;
        check("new alignas(256)", 256, sizeof *a, a);
        check("new alignas(512)", 512, sizeof *b, b);
        check("new alignas(1024)[3]", 1024, 3 * sizeof *c, c);
        check("new alignas(4096)", 4096, sizeof *d, d);
        checked += 4;
        delete a;
        delete b;
        delete[] c;
        delete d;
    }
    std::printf("grid: %ld blocks checked, %d bad\n", checked, bad);
    return bad ? 1 : 0;
}

// ---- huge requests ---------------------------------------------------------------------
static std::string errno_name(int e)
{
    switch (e) {
    case 0:
        return "errno 0";
    case ENOMEM:
        return "ENOMEM";
    case EINVAL:
        return "EINVAL";
    case EOVERFLOW:
        return "EOVERFLOW";
    default:
        return "errno " + std::to_string(e);
    }
}

// "ok" (and the block freed) or "NULL <errno>".
static void report_c(const char *call, void *p)
{
    int e = errno;
    if (p) {
        std::printf("%s: ok\n", call);
        free(p);
    } else {
        std::printf("%s: NULL %s\n", call, errno_name(e).c_str());
    }
}

// realloc and reallocarray of a live 100-byte block: on failure the block
// must be left as it was.
static void report_realloc(const char *call, void *(*fn)(void *, size_t, size_t), size_t a,
                           size_t b)
{
    unsigned char *old = static_cast<unsigned char *>(malloc(100));
    for (int i = 0; i < 100; i++)
        old[i] = (unsigned char)i;
    errno = 0;
    void *p = fn(old, a, b);
    int e = errno;
    if (p) {
        std::printf("%s: ok\n", call);
        free(p);
        return;
    }
    int kept = 1;
    for (int i = 0; i < 100; i++)
        kept &= old[i] == (unsigned char)i;
    std::printf("%s: NULL %s, old block %s\n", call, errno_name(e).c_str(),
                kept ? "kept" : "changed");
    free(old);
}

static void *call_realloc(void *p, size_t a, size_t b)
{
    return realloc(p, a * b);
}

static void *call_reallocarray(void *p, size_t a, size_t b)
{
    return reallocarray(p, a, b);
}

// posix_memalign: its return value, and *memptr untouched on failure.
static void report_posix_memalign(const char *call, size_t alignment, size_t size)
{
    void *p = reinterpret_cast<void *>(0x1);
    errno = 0;
    int rc = posix_memalign(&p, alignment, size);
    if (rc == 0) {
        std::printf("%s: ok\n", call);
        free(p);
        return;
    }
    std::printf("%s: returns %s, *memptr %s\n", call, errno_name(rc).c_str(),
                p == reinterpret_cast<void *>(0x1) ? "untouched" : "changed");
}

// A throwing operator new: "ok" (and the block released by release) or
// "bad_alloc".
template <typename New, typename Delete>
static void report_new(const char *call, New allocate, Delete release)
{
    try {
        void *p = allocate();
        sink = p;
        std::printf("%s: ok\n", call);
        release(p);
    } catch (const std::bad_alloc &) {
        std::printf("%s: bad_alloc\n", call);
    }
}

// A nothrow operator new: "ok" (and the block released) or "NULL".
template <typename Delete> static void report_nothrow(const char *call, void *p, Delete release)
{
    sink = p;
    std::printf("%s: %s\n", call, p ? "ok" : "NULL");
    if (p)
        release(p);
}

static int huge(void)
{
    const struct {
        const char *name;
        size_t n;
    } sizes[] = {
        {"1<<30", (size_t)1 << 30}, /* glibc gives it here: so must tally */
        {"1<<40", (size_t)1 << 40},
        {"1<<46", (size_t)1 << 46},
        {"PTRDIFF_MAX+1", (size_t)PTRDIFF_MAX + 1},
    };
    char call[128];
    for (const auto &s : sizes) {
        size_t n = s.n + opaque_zero;
        const char *x = s.name;
#define CALL(...) (std::snprintf(call, sizeof call, __VA_ARGS__), call)
        errno = 0;
        report_c(CALL("malloc(%s)", x), malloc(n));
        errno = 0;
        report_c(CALL("calloc(1, %s)", x), calloc(1, n));
        errno = 0;
        report_c(CALL("calloc(%s, 1)", x), calloc(n, 1));
        errno = 0;
        report_c(CALL("calloc(%s/4096, 4096)", x), calloc(n / 4096, 4096));
        report_realloc(CALL("realloc(p, %s)", x), call_realloc, n, 1);
        report_realloc(CALL("reallocarray(p, %s, 1)", x), call_reallocarray, n, 1);
        report_realloc(CALL("reallocarray(p, %s/8, 8)", x), call_reallocarray, n / 8, 8);
        errno = 0;
        report_c(CALL("memalign(64, %s)", x), memalign(64, n));
        errno = 0;
        report_c(CALL("memalign(%s, 100)", x), memalign(n, 100));
        errno = 0;
        report_c(CALL("aligned_alloc(4096, %s)", x), aligned_alloc(4096, n));
        errno = 0;
        report_c(CALL("aligned_alloc(%s, 100)", x), aligned_alloc(n, 100));
        report_posix_memalign(CALL("posix_memalign(&p, 256, %s)", x), 256, n);
        report_posix_memalign(CALL("posix_memalign(&p, %s, 100)", x), n, 100);
        errno = 0;
        report_c(CALL("valloc(%s)", x), valloc(n));
        errno = 0;
        report_c(CALL("pvalloc(%s)", x), pvalloc(n));
        auto del = [](void *p) { ::operator delete(p); };
        auto del_array = [](void *p) { ::operator delete[](p); };
        std::align_val_t a64 = std::align_val_t(64), big = std::align_val_t(n);
        auto del64 = [=](void *p) { ::operator delete(p, a64); };
        auto del64_array = [=](void *p) { ::operator delete[](p, a64); };
        auto del_big = [=](void *p) { ::operator delete(p, big); };
        report_new(
            CALL("operator new(%s)", x), [n] { return ::operator new(n); }, del);
        report_new(
            CALL("operator new[](%s)", x), [n] { return ::operator new[](n); }, del_array);
        report_new(
            CALL("new char[%s]", x), [n] { return static_cast<void *>(new char[n]); }, del_array);
        report_nothrow(CALL("operator new(%s, nothrow)", x), ::operator new(n, std::nothrow), del);
        report_nothrow(CALL("operator new[](%s, nothrow)", x), ::operator new[](n, std::nothrow),
                       del_array);
        report_new(
            CALL("operator new(%s, align 64)", x), [=] { return ::operator new(n, a64); }, del64);
        report_new(
            CALL("operator new[](%s, align 64)", x), [=] { return ::operator new[](n, a64); },
            del64_array);
        report_new(
            CALL("operator new(100, align %s)", x), [=] { return ::operator new(100, big); },
            del_big);
        report_nothrow(CALL("operator new(%s, align 64, nothrow)", x),
                       ::operator new(n, a64, std::nothrow), del64);
        report_nothrow(CALL("operator new[](%s, align 64, nothrow)", x),
                       ::operator new[](n, a64, std::nothrow), del64_array);
        report_nothrow(CALL("operator new(100, align %s, nothrow)", x),
                       ::operator new(100, big, std::nothrow), del_big);
#undef CALL
    }
    // The product overflows: no request at all.
    size_t half = SIZE_MAX / 2 + opaque_zero;
    errno = 0;
    report_c("calloc(SIZE_MAX/2, 3)", calloc(half, 3));
    report_realloc("reallocarray(p, SIZE_MAX/2, 3)", call_reallocarray, half, 3);
    return 0;
}

// ---- mallinfo ---------------------------------------------------------------------------
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static int mallinfo_test(void)
{
    enum { BLOCKS = 10240, SIZE = 1024 }; // 10 MiB in blocks that glibc keeps in its arena
    const long need = 10 * 1000 * 1000;
    std::vector<void *> blocks(BLOCKS); // before the first reading: its own block stays
    struct mallinfo2 before = mallinfo2();
    struct mallinfo old_before = mallinfo();
    for (auto &b : blocks) {
        b = malloc(SIZE);
        memset(b, 1, SIZE);
    }
    struct mallinfo2 during = mallinfo2();
    struct mallinfo old_during = mallinfo();
    for (auto &b : blocks)
        free(b);
    struct mallinfo2 after = mallinfo2();
    struct mallinfo old_after = mallinfo();
    std::printf("mallinfo2 uordblks %zu -> %zu -> %zu, arena %zu -> %zu -> %zu\n", before.uordblks,
                during.uordblks, after.uordblks, before.arena, during.arena, after.arena);
    std::printf("mallinfo uordblks %d -> %d -> %d\n", old_before.uordblks, old_during.uordblks,
                old_after.uordblks);
    int rc = 0;
    if ((long)(during.uordblks - before.uordblks) < need) {
        std::printf("FAIL: mallinfo2's uordblks grew by less than 10 MB\n");
        rc = 1;
    }
    if ((long)(during.uordblks - after.uordblks) < need) {
        std::printf("FAIL: mallinfo2's uordblks fell by less than 10 MB after the frees\n");
        rc = 1;
    }
    if (during.arena < during.uordblks) {
        std::printf("FAIL: mallinfo2's arena is smaller than its uordblks\n");
        rc = 1;
    }
    if ((long)old_during.uordblks - old_before.uordblks < need ||
        (long)old_during.uordblks - old_after.uordblks < need) {
        std::printf("FAIL: mallinfo's uordblks did not follow mallinfo2's\n");
        rc = 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "grid")
        return grid();
    if (mode == "huge")
        return huge();
    if (mode == "mallinfo")
        return mallinfo_test();
    std::fprintf(stderr, "usage: align_prog grid|huge|mallinfo\n");
    return 2;
}
