/* modules.h: the loaded objects, cached for the profile's MODULES section
 * and listed for the exit summary's names. */
#ifndef TALLY_TRACK_MODULES_H
#define TALLY_TRACK_MODULES_H

#include "track/config.h"

#include "profile/write.h"

/* Appends the MODULES records to out (rebuilt when modules changed). */
void tt_modules_payload(prof_writer *out);
const char *tt_exe_path(void);
/* A number that changes whenever the loaded objects do (dlopen, dlclose). */
unsigned tt_modules_generation(void);

/* A loaded object, as dl_iterate_phdr sees it: what its PT_LOAD segments
 * map, its load bias, its file (the main program's from /proc/self/exe)
 * and its GNU build-id, pointing into its own mapping. */
typedef struct {
    uintptr_t start, end, base;
    const char *path;
    const uint8_t *build_id;
    size_t build_id_len;
} tt_module;
typedef void tt_module_fn(const tt_module *m, void *arg);
/* Calls fn for each object loaded now, the main program first, under the
 * loader's lock: fn must not dlopen or dlclose. */
void tt_modules_each(tt_module_fn *fn, void *arg);
struct dl_phdr_info;
/* The lowest and highest addresses an object's PT_LOAD segments map: hi is
 * 0 when it maps none. */
void tt_load_range(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);
/* The mapped range of the loaded object that holds addr; false (and 0, 0)
 * when none does, or when it is the main program: a libtally linked
 * statically has no range of its own. Takes the loader's lock. */
bool tt_module_range(const void *addr, uintptr_t *lo, uintptr_t *hi);

#endif
