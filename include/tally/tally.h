/* tally.h: the whole public API of libtally. */
#ifndef TALLY_H
#define TALLY_H

#include <tally/pool.h>
#include <tally/buffer.h>
#include <tally/type.h>
#include <tally/array.h>
#include <tally/table.h>
#include <tally/c_data.h>
#include <tally/track.h>

#endif /* TALLY_H */
