/* leak_roots MODE: one block held only by one kind of root, and one block
 * dropped beside it (definitely lost, 99 bytes), so that each mode checks
 * one root:
 *   data          an initialised global (.data)              reachable 101 bytes
 *   bss           a zero-initialised global (.bss)           reachable 102 bytes
 *   static_local  a function's static variable (.bss)        reachable 103 bytes
 *   lib_bss       a shared library's static (its .bss)       reachable 104 bytes
 *   tls           __thread in the executable (static TLS)    reachable 105 bytes
 *   lib_tls       __thread in a shared library (static TLS)  reachable 106 bytes
 *   all           all six at once                            reachable 621 bytes in 6 blocks
 *   anon_mmap     an anonymous mapping of the program's own, reachable 107 bytes
 *                 on its tenth page, the nine before it never
 *                 touched (not resident)
 */
#include "leak_common.h"

#include <sys/mman.h>

void leak_lib_keep_bss(void *p);
void leak_lib_keep_tls(void *p);
int leak_lib_holds(void);

static int placeholder;
void *in_data = &placeholder; /* .data: initialised to a non-zero address */
void *in_bss;
__thread void *in_tls;

LK_NOINLINE static void keep_in_static_local(void *p)
{
    static void *kept;
    kept = p;
    __asm__ volatile("" : : "r"(&kept) : "memory");
}

LK_NOINLINE static int run(int argc, char **argv)
{
    int all = lk_mode(argc, argv, "all"), any = all;
    if (all || lk_mode(argc, argv, "data"))
        in_data = lk_escape(malloc(101)), any = 1;
    if (all || lk_mode(argc, argv, "bss"))
        in_bss = lk_escape(malloc(102)), any = 1;
    if (all || lk_mode(argc, argv, "static_local"))
        keep_in_static_local(lk_escape(malloc(103))), any = 1;
    if (all || lk_mode(argc, argv, "lib_bss"))
        leak_lib_keep_bss(lk_escape(malloc(104))), any = 1;
    if (all || lk_mode(argc, argv, "tls"))
        in_tls = lk_escape(malloc(105)), any = 1;
    if (all || lk_mode(argc, argv, "lib_tls"))
        leak_lib_keep_tls(lk_escape(malloc(106))), any = 1;
    if (lk_mode(argc, argv, "anon_mmap")) {
        enum { PAGE = 4096, HELD_ON = 9 }; /* past a whole word of mincore's bytes */
        char *pages =
            mmap(NULL, 11 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (pages == MAP_FAILED)
            return 1;
        void *block = lk_escape(malloc(107));
        memcpy(pages + HELD_ON * PAGE + 8, &block, sizeof block);
        block = NULL;
        any = 1;
    }
    if (!any)
        return lk_usage("leak_roots");
    lk_escape(malloc(99)); /* dropped */
    return 0;
}

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    lk_scrub();
    return rc + (leak_lib_holds() < 0);
}
