/* inspect.c — pools and arenas read without writing to them: a pool mapped read-only, its
 * header (who made it, when), the arena it may hold seen through a read-only view (the
 * arena header's counters and the refcount table's endpoints, read without the lock), and
 * the pools a process maps through its descriptors (a server's arenas, data pools and
 * control segments). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lend.h"
#include "tool.h"

#define MEMFD_POOL_LINK "/memfd:shmipc-pool (deleted)"
#define FREE_WALK_MAX 4096 /* free blocks looked at for the largest one */

/* A word another process may be writing. */
static uint64_t peek(const uint64_t *w)
{
    return __atomic_load_n(w, __ATOMIC_RELAXED);
}

/* The largest free block, as the allocator would find it (the longest block of its
 * highest non-empty free list), read without the lock: every offset is checked to lie in
 * the heap and every block to be tagged free, so a list changing under us can only make
 * the answer approximate. */
static uint64_t largest_free(shmipc_arena *a)
{
    const struct arena_hdr *h = a->hdr;
    uint64_t fl_map = peek(&h->fl_bitmap), sl_map, start = peek(&h->heap_start);
    uint64_t end = peek(&h->heap_end), best = 0, off;
    unsigned fl, sl;

    if (!fl_map || (fl = 63u - (unsigned)__builtin_clzll(fl_map)) >= TLSF_FL_COUNT ||
        !(sl_map = peek(&h->sl_bitmap[fl])))
        return 0;
    sl = 63u - (unsigned)__builtin_clzll(sl_map);
    if (sl >= TLSF_SL_COUNT)
        return 0;
    off = peek(&h->heads[fl][sl]);
    for (int n = 0; n < FREE_WALK_MAX && off; n++) {
        const struct block *b;
        uint64_t st;
        if (off < start || off >= end || off % TLSF_ALIGN || end - off < sizeof *b)
            break;
        b = arena_at(a, off);
        st = peek(&b->size_tag);
        if (st >> TAG_SHIFT != TAG_FREE)
            break;
        if ((st & SIZE_MASK) > best)
            best = st & SIZE_MASK;
        off = peek(&b->next_free);
    }
    return best > BLOCK_HDR ? best - BLOCK_HDR : 0;
}

/* The heap's figures, computed as shmipc_arena_stats does. */
static void read_heap(shmipc_arena *a, struct arena_info *ai)
{
    const struct arena_hdr *h = a->hdr;
    uint64_t start = peek(&h->heap_start), end = peek(&h->heap_end);
    uint64_t allocs = peek(&h->allocations), holds = peek(&h->holds);

    ai->has_heap = 1;
    ai->capacity = end - start;
    ai->used = peek(&h->used);
    ai->free = ai->capacity > ai->used ? ai->capacity - ai->used : 0;
    ai->largest_free = largest_free(a);
    ai->named = peek(&h->named);
    /* Not counted: the allocator's own blocks (name directory, refcount table). */
    ai->allocations = allocs > 2 + ai->named + holds ? allocs - 2 - ai->named - holds : 0;
}

/* Read the arena that pool holds (taking the pool, whatever happens). ECORRUPT if none. */
static int arena_info_read(shmipc_pool *pool, int lend, struct arena_info **out)
{
    struct arena_info *ai = calloc(1, sizeof *ai);
    shmipc_arena *a;
    int rc;

    if (!ai) {
        shmipc_pool_close(pool);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory");
    }
    if ((rc = shmipc__view_create(pool, &a)) != 0) {
        shmipc_pool_close(pool);
        free(ai);
        return rc;
    }
    ai->provider = lend ? SHMIPC_PROVIDER_LEND : SHMIPC_PROVIDER_SHARED;
    if (!lend)
        read_heap(a, ai);
    ai->lock_recoveries = peek(&a->hdr->lock_recoveries);
    ai->bad_frees = peek(&a->hdr->bad_frees);
    ai->corrupt = peek(&a->hdr->corrupt) != 0;
    if (shmipc__reftable_snapshot(a, ai->eps, SHMIPC_EP_MAX, &ai->neps) != 0)
        ai->neps = 0;
    shmipc_arena_close(a);
    *out = ai;
    return 0;
}

/* 1 if the memfd is sealed against new writable mappings: a lend pool. */
static int sealed_for_readers(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    return seals > 0 && (seals & F_SEAL_FUTURE_WRITE);
}

int pool_info_read(int fd, int is_memfd, struct pool_info *out)
{
    shmipc_pool *pool;
    int rc, lend;

    memset(out, 0, sizeof *out);
    if ((rc = shmipc_pool_from_fd(fd, SHMIPC_RDONLY, &pool)) != 0)
        return rc;
    out->id = shmipc_pool_id(pool);
    out->size = shmipc_pool_size(pool);
    shmipc__pool_origin(pool, &out->origin);
    out->origin.pid = frame_pid(out->origin.pid, out->origin.frame);
    out->creator_alive = out->origin.pid > 0 ? proc_alive(out->origin.pid, out->origin.start) : -1;
    lend = is_memfd && sealed_for_readers(fd);
    if (arena_info_read(pool, lend, &out->arena) == 0)
        out->kind = POOL_ARENA;
    else
        out->kind = !is_memfd ? POOL_PLAIN : lend ? POOL_DATA : POOL_CONTROL;
    return 0;
}

void pool_info_free(struct pool_info *p)
{
    free(p->arena);
    p->arena = NULL;
}

/* ---- the pools of a process ------------------------------------------------------------- */

static int held_has(const struct held_pools *h, uint64_t id)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].id == id)
            return 1;
    return 0;
}

static int held_add(struct held_pools *h, struct pool_info *p)
{
    if (held_has(h, p->id)) { /* a second descriptor of a pool already seen */
        pool_info_free(p);
        return 0;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        struct pool_info *grown = realloc(h->v, cap * sizeof *grown);
        if (!grown) {
            pool_info_free(p);
            return -1;
        }
        h->v = grown;
        h->cap = cap;
    }
    h->v[h->n++] = *p;
    return 0;
}

/* 1 if descriptor `name` of the directory dfd is a shmipc memfd pool. */
static int is_pool_fd(int dfd, const char *name)
{
    char link[sizeof MEMFD_POOL_LINK + 1];
    ssize_t len = readlinkat(dfd, name, link, sizeof link);

    return len == (ssize_t)sizeof MEMFD_POOL_LINK - 1 &&
           memcmp(link, MEMFD_POOL_LINK, (size_t)len) == 0;
}

/* Open descriptor `name` of the directory dfd (its own file, read-only) and read it. */
static int read_held(int dfd, const char *name, struct held_pools *out)
{
    struct pool_info p;
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0) {
        out->unreadable++;
        return 0;
    }
    rc = pool_info_read(fd, 1, &p);
    close(fd);
    if (rc != 0) {
        out->unreadable++;
        return 0;
    }
    return held_add(out, &p);
}

int held_pools_read(long pid, struct held_pools *out)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int rc = 0;

    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    if (!(d = opendir(path)))
        return -1;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && is_pool_fd(dirfd(d), e->d_name))
            rc = read_held(dirfd(d), e->d_name, out);
    closedir(d);
    if (rc != 0)
        errno = ENOMEM;
    return rc;
}

void held_pools_free(struct held_pools *h)
{
    for (size_t i = 0; i < h->n; i++)
        pool_info_free(&h->v[i]);
    free(h->v);
    memset(h, 0, sizeof *h);
}
