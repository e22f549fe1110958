/* roots.c: where the mark starts. The threads' own roots (stacks,
 * registers, TLS) are mark.c's, with the world stopped; these are gathered
 * before that, since dl_iterate_phdr and dlsym take the loader's lock,
 * which a stopped thread might hold. */
#include "track/mark.h"

#include "base/mem.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

static base_range *add(base_buf *b, uintptr_t lo, uintptr_t hi)
{
    base_range r = {lo, hi};
    if (hi > lo)
        base_buf_put(b, &r, sizeof r);
    return (base_range *)b->data;
}

static base_range *finish(base_buf *b, size_t *n, size_t *map_bytes)
{
    if (b->failed) {
        base_buf_free(b);
        return NULL;
    }
    *n = b->len / sizeof(base_range);
    *map_bytes = b->cap;
    return (base_range *)b->data;
}

static uintptr_t hex(const char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v << 4 | (uintptr_t)d;
    }
}

/* After the permissions: offset, device, inode, then the path, if any. */
static bool is_anonymous(const char *p)
{
    for (int field = 0; field < 4 && *p; field++) {
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    return *p == '\0' || strcmp(p, "[heap]") == 0;
}

/* "lo-hi rwxp ...", one mapping a line; read with read(2), not stdio. */
base_range *tt_roots_maps(int which, size_t *n, size_t *map_bytes)
{
    base_buf text = {0}, out = {0};
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char chunk[8192];
    ssize_t got;
    while ((got = read(fd, chunk, sizeof chunk)) > 0)
        base_buf_put(&text, chunk, (size_t)got);
    close(fd);
    base_buf_put(&text, "", 1);
    if (text.failed) {
        base_buf_free(&text);
        return NULL;
    }
    for (char *line = (char *)text.data; *line;) {
        char *nl = strchr(line, '\n');
        char *next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = '\0';
        const char *p = line;
        uintptr_t lo = hex(&p);
        p += *p == '-';
        uintptr_t hi = hex(&p);
        p += *p == ' ';
        /* [vvar] and device mappings can fault on read: only private,
         * readable memory is scanned. */
        bool readable =
            p[0] == 'r' && p[3] == 'p' && !strstr(p, "[vvar]") && !strstr(p, "[vsyscall]");
        bool wanted = which == TT_MAPS_READABLE    ? readable
                      : which == TT_MAPS_ANONYMOUS ? readable && p[1] == 'w' && is_anonymous(p)
                      : which == TT_MAPS_FILE      ? readable && !is_anonymous(p) && !strchr(p, '[')
                                                   : readable && p[2] == 'x' && !is_anonymous(p);
        if (wanted)
            add(&out, lo, hi);
        line = next;
    }
    base_buf_free(&text);
    return finish(&out, n, map_bytes);
}

/* Tally's own modules and its allocator's keep tally's books, full of
 * block addresses: they are not the program's roots. */
static bool is_own(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libtally", 8) == 0 || strncmp(base, "libmimalloc", 11) == 0 ||
           strncmp(base, "libjemalloc", 11) == 0;
}

static bool is_libc(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so", 7) == 0;
}

typedef struct {
    base_buf out;
    bool libc; /* libc's segments now, else every other module's */
} module_walk;

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    module_walk *mw = arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (is_own(name) || is_libc(name) != mw->libc)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            add(&mw->out, lo, lo + ph->p_memsz); /* .data, .bss and relro */
        }
    }
    return 0;
}

base_range *tt_roots_modules(size_t *n, size_t *nlibc, size_t *map_bytes)
{
    module_walk mw = {.libc = true};
    dl_iterate_phdr(add_module, &mw);
    *nlibc = mw.out.len / sizeof(base_range);
    mw.libc = false;
    dl_iterate_phdr(add_module, &mw);
    return finish(&mw.out, n, map_bytes);
}

size_t tt_roots_static_tls(void)
{
    void (*info)(size_t *, size_t *);
    *(void **)&info = dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
    size_t size = 0, align = 0;
    if (info)
        info(&size, &align);
    return size ? size : 64 * 1024; /* clipped to the mapping by the scan */
}
