/* modules.h: the loaded objects, cached for the profile's MODULES section. */
#ifndef TALLY_TRACK_MODULES_H
#define TALLY_TRACK_MODULES_H

#include "track/config.h"

#include "profile/write.h"

/* Appends the MODULES records to out (rebuilt when modules changed). */
void tt_modules_payload(prof_writer *out);
const char *tt_exe_path(void);
struct dl_phdr_info;
/* The lowest and highest addresses an object's PT_LOAD segments map: hi is
 * 0 when it maps none. */
void tt_load_range(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi);

#endif
