/* inspect.c — the private inspect API (include/shmipc/inspect.h): what the `shmipc` tool
 * shows of pools and arenas it does not attach to. A pool is read from its header; an
 * arena through a read-only view (provider_view.c), without its lock: the heap's figures as
 * shmipc_arena_stats computes them, the refcount table's endpoints (reftable.c) and the name
 * directory (named.c), every offset bounds-checked; a grown table's further pools are
 * found among the descriptors the caller offers. Pids recorded in shared memory are
 * judged only in the pid frame they were recorded in (proc.c). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "lend.h"

#define FREE_WALK_MAX 4096 /* free blocks looked at for the largest one */

int shmipc__inspect_alive(long pid, uint64_t start)
{
    struct shmipc_proc_id id;

    if (pid <= 0 || pid > INT_MAX)
        return 0;
    id = shmipc__proc_id((pid_t)pid); /* as it is now, in this process's pid frame */
    if (start != 0)
        id.start = start;
    return id.start != 0 && !shmipc__proc_gone(&id, -1);
}

/* A pid recorded in pid frame `frame` as this process knows it: 0 if it was recorded in
 * another pid namespace, or could not be recorded. */
static long pid_here(uint64_t pid, uint64_t frame)
{
    return frame != 0 && frame == shmipc__pid_frame() ? (long)pid : 0;
}

/* 1, 0, or -1 when pid (as pid_here gives it) means nothing here. */
static int alive_here(long pid, uint64_t start)
{
    return pid > 0 ? shmipc__inspect_alive(pid, start) : -1;
}

void shmipc__inspect_pool(const shmipc_pool *p, struct shmipc_inspect_pool *out)
{
    struct shmipc_pool_origin o;

    shmipc__pool_origin(p, &o);
    memset(out, 0, sizeof *out);
    out->id = shmipc_pool_id(p);
    out->size = shmipc_pool_size(p);
    out->pid = pid_here((uint64_t)o.pid, o.frame);
    out->start = o.start;
    out->alive = alive_here(out->pid, o.start);
    out->uid = o.uid;
    out->created_ns = o.created_ns;
    memcpy(out->label, o.name, sizeof out->label);
}

/* The largest free block, as the allocator would find it (the longest block of its
 * highest non-empty free list), read without the lock: every offset is checked to lie in
 * the heap and every block to be tagged free, so a list changing under us can only make
 * the answer approximate. */
static uint64_t largest_free(shmipc_arena *a)
{
    const struct arena_hdr *h = a->hdr;
    uint64_t fl_map = arena_peek(&h->fl_bitmap), sl_map, best = 0, off;
    unsigned fl, sl;

    if (!fl_map || (fl = 63u - (unsigned)__builtin_clzll(fl_map)) >= TLSF_FL_COUNT ||
        !(sl_map = arena_peek(&h->sl_bitmap[fl])))
        return 0;
    sl = 63u - (unsigned)__builtin_clzll(sl_map);
    if (sl >= TLSF_SL_COUNT)
        return 0;
    off = arena_peek(&h->heads[fl][sl]);
    for (int n = 0; n < FREE_WALK_MAX && off; n++) {
        const struct block *b;
        uint64_t st;
        if (!arena_inside(a, off, sizeof *b))
            break;
        b = arena_at(a, off);
        st = arena_peek(&b->size_tag);
        if (st >> TAG_SHIFT != TAG_FREE)
            break;
        if ((st & SIZE_MASK) > best)
            best = st & SIZE_MASK;
        off = arena_peek(&b->next_free);
    }
    return best > BLOCK_HDR ? best - BLOCK_HDR : 0;
}

/* The heap's figures, computed as shmipc_arena_stats does. */
static void read_heap(shmipc_arena *a, struct shmipc_inspect_arena *ai)
{
    const struct arena_hdr *h = a->hdr;
    uint64_t start = arena_peek(&h->heap_start), end = arena_peek(&h->heap_end);

    ai->has_heap = 1;
    ai->capacity = end > start ? end - start : 0;
    ai->used = arena_used(h);
    ai->free = ai->capacity > ai->used ? ai->capacity - ai->used : 0;
    ai->largest_free = largest_free(a);
    ai->named = arena_peek(&h->named);
    ai->allocations = arena_user_allocations(h, shmipc__reftable_holds(a));
}

/* The endpoints in use, their pids as this process sees them. */
static int read_endpoints(shmipc_arena *a, struct shmipc_inspect_arena *ai)
{
    size_t cap = shmipc__ep_high(a), n = 0;
    struct shmipc_ep_info *raw;

    cap = cap && cap <= SHMIPC_EP_MAX ? cap : SHMIPC_EP_MAX; /* as many as the table has */
    if (!(raw = calloc(cap, sizeof *raw)) || !(ai->eps = calloc(cap, sizeof *ai->eps))) {
        free(raw);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory");
    }
    if (shmipc__reftable_snapshot(a, raw, cap, &n) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        struct shmipc_inspect_ep *e = &ai->eps[i];
        e->ep = raw[i].ep;
        e->open = raw[i].ep != 0 && raw[i].open;
        e->pid = pid_here((uint64_t)raw[i].pid, raw[i].frame);
        e->start = raw[i].start;
        e->alive = raw[i].ep == 0 ? 0 : alive_here(e->pid, e->start);
        e->held = raw[i].held;
        e->held_bytes = raw[i].held_bytes;
        e->lent = raw[i].lent;
        e->lent_bytes = raw[i].lent_bytes;
    }
    ai->neps = n;
    free(raw);
    return 0;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(((const struct shmipc_inspect_name *)x)->name,
                  ((const struct shmipc_inspect_name *)y)->name);
}

/* n >= 1 sorted names without the second of two equal ones (an entry moved by a resize
 * while the snapshot ran can be read twice); the new count. */
static size_t drop_twins(struct shmipc_inspect_name *v, size_t n)
{
    size_t kept = 1;

    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i].name, v[kept - 1].name) != 0)
            v[kept++] = v[i];
    return kept;
}

/* The named allocations, by name (at most as many as the header counts, and as fit in the
 * heap: every name takes at least its SHMIPC_NAME_MAX + 1 bytes there). */
static int read_names(shmipc_arena *a, struct shmipc_inspect_arena *ai)
{
    uint64_t fit = ai->capacity / (SHMIPC_NAME_MAX + 1);
    size_t cap = (size_t)(ai->named < fit ? ai->named : fit);

    if (cap && !(ai->names = calloc(cap, sizeof *ai->names)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory");
    if (shmipc__named_snapshot(a, ai->names, cap, &ai->nnames, &ai->dir_buckets,
                               &ai->dir_probes) != 0 ||
        ai->nnames == 0)
        return 0;
    qsort(ai->names, ai->nnames, sizeof *ai->names, by_name);
    ai->nnames = drop_twins(ai->names, ai->nnames);
    return 0;
}

/* The pool of a's table segment seg among the process's descriptors, added to the view:
 * 1, or 0 if none is it. */
static int add_seg(shmipc_arena *a, unsigned seg, uint64_t id,
                   const struct shmipc_inspect_fds *fds)
{
    int fd, found = 0;

    for (size_t i = 0; !found && (fd = fds->fd(fds->ctx, i)) != -2; i++) {
        shmipc_pool *p;
        if (fd < 0)
            continue;
        if (shmipc_pool_from_fd(fd, SHMIPC_RDONLY, &p) == 0) {
            found = shmipc_pool_id(p) == id && shmipc__view_add_table(a, seg, fd) == 0;
            shmipc_pool_close(p);
        }
        close(fd);
    }
    return found;
}

/* A grown table's further pools, mapped read-only into the view, for its records. */
static void add_segs(shmipc_arena *a, const struct shmipc_inspect_fds *fds)
{
    uint64_t id;

    for (unsigned seg = 1; fds && (id = shmipc__reftable_seg_pool(a, seg)) != 0; seg++)
        if (!add_seg(a, seg, id, fds))
            return;
}

int shmipc__inspect_arena(shmipc_pool *pool, int lend, const struct shmipc_inspect_fds *fds,
                          struct shmipc_inspect_arena **out)
{
    struct shmipc_inspect_arena *ai = calloc(1, sizeof *ai);
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
    ai->lock_recoveries = arena_peek(&a->hdr->lock_recoveries);
    ai->bad_frees = arena_peek(&a->hdr->bad_frees);
    ai->corrupt = arena_peek(&a->hdr->corrupt) != 0;
    if (lend)
        add_segs(a, fds);
    rc = read_endpoints(a, ai);
    if (rc == 0 && !lend)
        rc = read_names(a, ai);
    shmipc_arena_close(a);
    if (rc != 0) {
        shmipc__inspect_arena_free(ai);
        return rc;
    }
    *out = ai;
    return 0;
}

void shmipc__inspect_arena_free(struct shmipc_inspect_arena *a)
{
    if (!a)
        return;
    free(a->eps);
    free(a->names);
    free(a);
}
