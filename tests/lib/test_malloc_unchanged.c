/* test_malloc_unchanged: linking libtally must not change the program's malloc.
 *
 * Debian's libmimalloc and libjemalloc both export malloc. If either came
 * before glibc in the symbol search order, every malloc of the program would
 * silently move to it. */
#include <config.h>
#include <tally/tally.h>

#include <dlfcn.h>

#include "check_main.h"

static void assert_from_libc(const char *name)
{
    void *sym = dlsym(RTLD_DEFAULT, name);
    ck_assert_ptr_nonnull(sym);
    Dl_info info;
    ck_assert(dladdr(sym, &info));
    ck_assert_msg(!strstr(info.dli_fname, "mimalloc") && !strstr(info.dli_fname, "jemalloc"),
                  "%s resolves to %s", name, info.dli_fname);
#ifdef TALLY_SANITIZERS
    /* ASan interposes the allocator itself; it must still be ASan's. */
    ck_assert_msg(strstr(info.dli_fname, "libc.so") || strstr(info.dli_fname, "libasan"),
                  "%s resolves to %s", name, info.dli_fname);
#else
    ck_assert_msg(strstr(info.dli_fname, "libc.so"), "%s resolves to %s", name, info.dli_fname);
#endif
}

static const char *const allocator_names[] = {
    "malloc",   "free",           "calloc",
    "realloc",  "posix_memalign", "aligned_alloc",
    "memalign", "valloc",         "malloc_usable_size",
};

START_TEST(test_malloc_is_glibc_after_using_every_backend)
{
    for (const char *const *b = tally_supported_backends(); *b; b++) {
        uint8_t *p;
        ck_assert_int_eq(tally_pool_allocate(tally_backend_pool(*b), 1000, &p), 0);
        tally_pool_free(tally_backend_pool(*b), p, 1000);
    }
    for (size_t i = 0; i < sizeof allocator_names / sizeof allocator_names[0]; i++)
        assert_from_libc(allocator_names[i]);
}
END_TEST

START_TEST(test_mimalloc_is_not_global)
{
    ck_assert_ptr_nonnull(tally_mimalloc_pool());
    /* Loaded privately: its own names are not visible to the program. */
    ck_assert_ptr_null(dlsym(RTLD_DEFAULT, "mi_malloc"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("malloc_unchanged");
    TCase *tc = tcase_create("symbols");
    tcase_add_test(tc, test_malloc_is_glibc_after_using_every_backend);
    tcase_add_test(tc, test_mimalloc_is_not_global);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
