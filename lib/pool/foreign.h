/* foreign.h: booking memory a pool did not allocate (a file mapping).
 *
 * A mapping made for a pool's user is that user's memory as much as a block
 * is: it is booked on the pool and on each of its parents, as a block the
 * wrapper chain had allocated would be, and a capped pool refuses it past
 * its limit. No backend is called and tracking records nothing (the bytes
 * may be read-only: nothing may scrub them). */
#ifndef TALLY_POOL_FOREIGN_H
#define TALLY_POOL_FOREIGN_H

#include <tally/pool.h>

/* 0, or ENOMEM when a capped pool on the chain would pass its limit (then
 * nothing is booked anywhere); EINVAL for a negative size. */
int pool_book_foreign(tally_pool *pool, int64_t size);
/* Gives back what pool_book_foreign booked, on the same pool. */
void pool_unbook_foreign(tally_pool *pool, int64_t size);

#endif
