/* modules.c: the loaded objects, for the profile's MODULES section.
 *
 * dl_iterate_phdr is never called per allocation: the list is built once,
 * kept as the section's payload, and rebuilt at the next profile after
 * tally_track_modules_changed (the shim calls it from its dlopen and dlclose
 * hooks). */
#include "track/modules.h"

#include "profile/write.h"

#include "track/unwind.h"

#include <link.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static prof_writer cache; /* the MODULES records, built when stale */
static _Atomic int stale = 1;
static _Atomic unsigned generation; /* bumped at each change, for the live view */
static char exe[4096];

const char *tt_exe_path(void)
{
    if (!exe[0]) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
    }
    return exe;
}

/* The GNU build-id note among the object's PT_NOTE segments, if any. */
static size_t build_id(const struct dl_phdr_info *info, const uint8_t **id)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *n;
            const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
            if (desc + n->n_descsz > end)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
                *id = desc;
                return n->n_descsz;
            }
            p = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    return 0;
}

/* The lowest and highest addresses an object's PT_LOAD segments map:
 * hi is 0 when it maps none. */
void tt_load_range(const struct dl_phdr_info *info, uintptr_t *lo_out, uintptr_t *hi_out)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t s = info->dlpi_addr + ph->p_vaddr;
        if (s < lo)
            lo = s;
        if (s + ph->p_memsz > hi)
            hi = s + ph->p_memsz;
    }
    *lo_out = lo;
    *hi_out = hi;
}

struct find_range {
    uintptr_t addr, lo, hi;
    bool found;
};

static int find_range_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct find_range *f = arg;
    uintptr_t lo, hi;
    tt_load_range(info, &lo, &hi);
    if (f->addr >= lo && f->addr < hi) {
        if (info->dlpi_name && info->dlpi_name[0]) {
            f->lo = lo;
            f->hi = hi;
            f->found = true;
        }
        return 1;
    }
    return 0;
}

bool tt_module_range(const void *addr, uintptr_t *lo, uintptr_t *hi)
{
    struct find_range f = {.addr = (uintptr_t)addr};
    dl_iterate_phdr(find_range_cb, &f);
    *lo = f.lo;
    *hi = f.hi;
    return f.found;
}

typedef struct {
    tt_module_fn *fn;
    void *arg;
    bool first;
} visit;

static int visit_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    visit *v = arg;
    const char *path = info->dlpi_name;
    if (v->first && (!path || !path[0]))
        path = tt_exe_path(); /* the main program comes first, unnamed */
    v->first = false;
    if (!path || !path[0])
        return 0;
    tt_module m = {.base = info->dlpi_addr, .path = path};
    tt_load_range(info, &m.start, &m.end);
    if (m.end == 0)
        return 0;
    m.build_id_len = build_id(info, &m.build_id);
    v->fn(&m, v->arg);
    return 0;
}

void tt_modules_each(tt_module_fn *fn, void *arg)
{
    visit v = {fn, arg, true};
    dl_iterate_phdr(visit_module, &v);
}

static void add_module(const tt_module *m, void *arg)
{
    (void)arg;
    prof_write_module(&cache, m->start, m->end, m->base, m->path, m->build_id,
                      (uint32_t)m->build_id_len);
}

void tt_modules_payload(prof_writer *out)
{
    pthread_mutex_lock(&lock);
    if (atomic_exchange(&stale, 0)) {
        cache.buf.len = 0;
        cache.buf.failed = false;
        cache.count = 0;
        tt_modules_each(add_module, NULL);
    }
    prof_write_raw(out, cache.buf.data, cache.buf.len, cache.count);
    pthread_mutex_unlock(&lock);
}

TALLY_INTERNAL void tally_track_modules_changed(void)
{
    atomic_fetch_add(&generation, 1);
    atomic_store(&stale, 1);
}

unsigned tt_modules_generation(void)
{
    return atomic_load(&generation);
}
