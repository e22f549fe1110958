/* tcache.c: the registry, the memory and the life cycle of per-thread
 * caches (tcache.h). Locks: the class's registry lock, then a cache's own
 * lock, never the reverse. */
#include <config.h>

#include "base/tcache.h"

#include "base/assert.h"
#include "base/mem.h"

#include <string.h>

#define CHUNK_BYTES (64 * 1024)
/* Caches start this far into each chunk: allocators keep their hot metadata
 * at small page offsets, and a store here that shares an address's low 12
 * bits with their next load stalls it (4K aliasing). */
#define CHUNK_SKEW (13 * 64)

static size_t cache_bytes(const base_tcache_class *c)
{
    return (c->size + 63) & ~(size_t)63; /* two threads never share a line */
}

/* Caller holds c->lock. */
static void move_to_free_list(base_tcache_class *c, base_tcache_head *h, bool by_owner)
{
    for (base_tcache_head **pp = &c->live; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    if (c->recycle)
        c->recycle(h, by_owner);
    else
        memset(h + 1, 0, c->size - sizeof *h);
    h->tls = NULL;
    h->dead = NULL;
    h->next = c->free_list;
    c->free_list = h;
}

/* The key's destructor, on the exiting thread: pthread_join returns after
 * it, so a joiner reads books with everything the thread did. */
static void thread_exit(void *arg)
{
    base_tcache_head *h = arg;
    base_tcache_class *c = h->cls;
    *h->dead = true;
    *h->tls = NULL;
    base_tcache_lock(h);
    c->fold(h);
    base_tcache_unlock(h);
    pthread_mutex_lock(&c->lock);
    move_to_free_list(c, h, true);
    pthread_mutex_unlock(&c->lock);
}

/* Caller holds c->lock. */
static base_tcache_head *take(base_tcache_class *c)
{
    base_tcache_head *h = c->free_list;
    if (h) {
        c->free_list = h->next;
        return h;
    }
    size_t bytes = cache_bytes(c);
    if ((size_t)(c->chunk_end - c->chunk_cur) < bytes) {
        size_t n = bytes + CHUNK_SKEW > CHUNK_BYTES ? bytes + CHUNK_SKEW : CHUNK_BYTES;
        uint8_t *p = base_map(n);
        if (!p)
            return NULL;
        c->chunk_cur = p + CHUNK_SKEW;
        c->chunk_end = p + n;
    }
    h = (base_tcache_head *)c->chunk_cur; /* zero from mmap */
    c->chunk_cur += bytes;
    return h;
}

base_tcache_head *base_tcache_attach(base_tcache_class *c, void **tls, bool *dead)
{
    if (*dead)
        return NULL;
    pthread_mutex_lock(&c->lock);
    if (c->key_state == 0)
        c->key_state = pthread_key_create(&c->key, thread_exit) == 0 ? 1 : -1;
    base_tcache_head *h = c->key_state > 0 ? take(c) : NULL;
    if (h) {
        h->cls = c;
        h->tls = tls;
        h->dead = dead;
        h->next = c->live;
        c->live = h;
    }
    pthread_mutex_unlock(&c->lock);
    if (!h)
        return NULL;
    if (pthread_setspecific(c->key, h) != 0) {
        pthread_mutex_lock(&c->lock);
        move_to_free_list(c, h, true);
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    *tls = h;
    return h;
}

void base_tcache_foreach(base_tcache_class *c, void (*fn)(base_tcache_head *h, void *arg),
                         void *arg)
{
    pthread_mutex_lock(&c->lock);
    for (base_tcache_head *h = c->live; h; h = h->next)
        fn(h, arg);
    pthread_mutex_unlock(&c->lock);
}

/* No fold may be half done in the child: take every cache's lock. */
void base_tcache_fork_prepare(base_tcache_class *c)
{
    pthread_mutex_lock(&c->lock);
    for (base_tcache_head *h = c->live; h; h = h->next)
        base_tcache_lock(h);
}

void base_tcache_fork_parent(base_tcache_class *c)
{
    for (base_tcache_head *h = c->live; h; h = h->next)
        base_tcache_unlock(h);
    pthread_mutex_unlock(&c->lock);
}

/* Only the forking thread lives on in the child: the others' unfolded
 * changes describe memory the child inherited, so fold them, and free their
 * caches (their TLS blocks are gone: nothing of theirs is touched). */
int base_tcache_fork_child(base_tcache_class *c, base_tcache_head *self)
{
    int alive = 0;
    base_tcache_head *h = c->live;
    while (h) {
        base_tcache_head *next = h->next;
        base_spin_reset(&h->lock);
        if (h == self) {
            alive++;
        } else {
            c->fold(h);
            move_to_free_list(c, h, false);
        }
        h = next;
    }
    TALLY_ASSERT(alive <= 1);
    pthread_mutex_init(&c->lock, NULL);
    return alive;
}
