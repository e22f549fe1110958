/* test_resident.c: lib/track/resident.c finds exactly the pages of a
 * mapping that hold data, by PAGEMAP_SCAN where the kernel has it and by
 * mincore, and the two agree. */
#include <config.h>

#include "check_main.h"

#include "track/resident.h"

#include <stdbool.h>
#include <sys/mman.h>

enum { PAGE = 4096, NPAGES = 40 };

typedef struct {
    uintptr_t base;
    int npages;
    bool seen[NPAGES];
    int count, runs;
    bool in_order, outside;
    uintptr_t last;
} seen_pages;

static void note_run(void *ctx, uintptr_t lo, uintptr_t hi)
{
    seen_pages *s = ctx;
    s->runs++;
    if (lo >= hi)
        s->outside = true;
    for (uintptr_t page = lo; page < hi; page += PAGE) {
        if (page < s->base || page >= s->base + (uintptr_t)s->npages * PAGE || page % PAGE) {
            s->outside = true;
            return;
        }
        if (s->count > 0 && page <= s->last)
            s->in_order = false;
        s->last = page;
        s->seen[(page - s->base) / PAGE] = true;
        s->count++;
    }
}

/* Pages 0, 9, 10, 17 and 39 written; 25 written and then given back. Past
 * a whole word of mincore's bytes (9, 10, 17) and at both ends. */
static const int touched[] = {0, 9, 10, 17, 39};

static char *make_mapping(void)
{
    char *p = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    /* No huge page: it would make every page of the mapping resident. */
    madvise(p, NPAGES * PAGE, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < sizeof touched / sizeof touched[0]; i++)
        p[touched[i] * PAGE + 100] = 1;
    p[25 * PAGE] = 1;
    ck_assert_int_eq(madvise(p + 25 * PAGE, PAGE, MADV_DONTNEED), 0);
    return p;
}

static void check_exact(const seen_pages *s)
{
    ck_assert(!s->outside);
    ck_assert(s->in_order);
    ck_assert_int_eq(s->count, (int)(sizeof touched / sizeof touched[0]));
    for (size_t i = 0; i < sizeof touched / sizeof touched[0]; i++)
        ck_assert_msg(s->seen[touched[i]], "page %d not found", touched[i]);
    ck_assert_int_eq(s->runs, 4); /* 9 and 10 in one */
}

START_TEST(mincore_finds_the_written_pages)
{
    char *p = make_mapping();
    seen_pages s = {.base = (uintptr_t)p, .npages = NPAGES, .in_order = true};
    tt_resident_each_by_mincore((uintptr_t)p, (uintptr_t)p + NPAGES * PAGE, note_run, &s);
    check_exact(&s);
    munmap(p, NPAGES * PAGE);
}
END_TEST

START_TEST(reader_finds_the_written_pages)
{
    char *p = make_mapping();
    seen_pages s = {.base = (uintptr_t)p, .npages = NPAGES, .in_order = true};
    tt_resident_reader r;
    tt_resident_open(&r);
    tt_resident_each(&r, (uintptr_t)p, (uintptr_t)p + NPAGES * PAGE, note_run, &s);
    tt_resident_close(&r);
    ck_assert_int_eq(r.pagemap_fd, -1);
    check_exact(&s);
    munmap(p, NPAGES * PAGE);
}
END_TEST

/* A subrange that starts and ends inside the mapping sees only its pages. */
START_TEST(reader_keeps_to_the_range)
{
    char *p = make_mapping();
    seen_pages s = {.base = (uintptr_t)p + 9 * PAGE, .npages = 2, .in_order = true};
    tt_resident_reader r;
    tt_resident_open(&r);
    tt_resident_each(&r, (uintptr_t)p + 9 * PAGE, (uintptr_t)p + 11 * PAGE, note_run, &s);
    tt_resident_close(&r);
    ck_assert(!s.outside);
    ck_assert_int_eq(s.count, 2);
    munmap(p, NPAGES * PAGE);
}
END_TEST

/* Every other page of 600 written: more runs than one ioctl returns
 * (256), so the reader must go on from where the kernel stopped. */
enum { MANY = 600 };

typedef struct {
    uintptr_t base;
    int n;
    bool odd_seen; /* a page never written */
} every_other;

static void count_even(void *ctx, uintptr_t lo, uintptr_t hi)
{
    every_other *e = ctx;
    for (uintptr_t page = lo; page < hi; page += PAGE) {
        e->odd_seen |= ((page - e->base) / PAGE) % 2 == 1;
        e->n++;
    }
}

START_TEST(reader_continues_past_a_full_answer)
{
    char *p = mmap(NULL, MANY * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    madvise(p, MANY * PAGE, MADV_NOHUGEPAGE);
    for (int i = 0; i < MANY; i += 2)
        p[i * PAGE] = 1;
    every_other by_reader = {.base = (uintptr_t)p}, by_mincore = {.base = (uintptr_t)p};
    tt_resident_reader r;
    tt_resident_open(&r);
    tt_resident_each(&r, (uintptr_t)p, (uintptr_t)p + MANY * PAGE, count_even, &by_reader);
    tt_resident_close(&r);
    tt_resident_each_by_mincore((uintptr_t)p, (uintptr_t)p + MANY * PAGE, count_even, &by_mincore);
    ck_assert_int_eq(by_reader.n, MANY / 2);
    ck_assert_int_eq(by_mincore.n, MANY / 2);
    ck_assert(!by_reader.odd_seen && !by_mincore.odd_seen);
    munmap(p, MANY * PAGE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resident");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mincore_finds_the_written_pages);
    tcase_add_test(tc, reader_finds_the_written_pages);
    tcase_add_test(tc, reader_keeps_to_the_range);
    tcase_add_test(tc, reader_continues_past_a_full_answer);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
