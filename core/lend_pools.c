/* lend_pools.c — a lend arena's data pools: regular pools that jemalloc carves extents
 * from (each a sorted list of free ranges, first fit), grown on demand, and dedicated pools
 * for objects of at least a pool's size; and the extent hooks through which jemalloc takes
 * and gives back the ranges. Every pool is a memfd only this process maps writable, sealed
 * F_SEAL_FUTURE_WRITE before any peer sees it (see provider_lend.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lend_internal.h"

#ifdef SHMIPC_HAVE_JEMALLOC

#define CHUNK_ALIGN ((size_t)2 << 20) /* jemalloc asks for huge-page-aligned metadata */

/* ---- pools ------------------------------------------------------------------------- */

struct lend_pool *shmipc__lend_pool_of_addr(struct shmipc_lend *l, const void *p)
{
    for (size_t i = 0; i < l->npools; i++) {
        const char *b = l->pools[i].pool->base;
        if ((const char *)p >= b && (const char *)p < b + l->pools[i].pool->size)
            return &l->pools[i];
    }
    return NULL;
}

struct lend_pool *shmipc__lend_pool_of_id(struct shmipc_lend *l, uint64_t id)
{
    for (size_t i = 0; i < l->npools; i++)
        if (l->pools[i].pool->id == id)
            return &l->pools[i];
    return NULL;
}

int shmipc__lend_add_pool(struct shmipc_lend *l, size_t size, size_t align, int dedicated,
                          struct lend_pool **out)
{
    struct lend_pool *lp;
    shmipc_pool *p = NULL;
    struct range *r = NULL;
    int rc;

    if (l->npools == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        struct lend_pool *grown = realloc(l->pools, cap * sizeof *grown);
        if (!grown)
            return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a lend arena's pool list");
        l->pools = grown;
        l->cap = cap;
    }
    if (!dedicated && atomic_load(&l->nspans) == SHMIPC_LEND_POOLS_MAX)
        return shmipc__fail(SHMIPC_ENOMEM,
                            "the arena has SHMIPC_LEND_POOLS_MAX (%d) data "
                            "pools of %zu KiB, its most",
                            SHMIPC_LEND_POOLS_MAX, l->chunk >> 10);
    if (!dedicated && !(r = malloc(sizeof *r)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a lend arena's free range");
    if ((rc = shmipc__pool_create_aligned(size, align, &p)) != 0 ||
        (rc = shmipc__pool_seal_owner(p)) != 0) {
        shmipc_pool_close(p); /* NULL if it was not made */
        free(r);
        return rc;
    }
    lp = &l->pools[l->npools++];
    lp->pool = p;
    lp->dedicated = dedicated;
    lp->in_use = 0;
    lp->fresh = 0;
    lp->free = r;
    if (r) {
        size_t n = atomic_load(&l->nspans);
        r->next = NULL;
        r->off = 0;
        r->len = p->size;
        atomic_store(&l->spans[n].start, (uintptr_t)p->base);
        atomic_store(&l->spans[n].end, (uintptr_t)p->base + p->size);
        atomic_store_explicit(&l->nspans, n + 1, memory_order_release);
    }
    *out = lp;
    return 0;
}

void shmipc__lend_retire_pool(struct shmipc_lend *l, struct lend_pool *lp)
{
    while (lp->free) {
        struct range *r = lp->free;
        lp->free = r->next;
        free(r);
    }
    shmipc_pool_close(lp->pool);
    *lp = l->pools[--l->npools];
    atomic_fetch_add(&l->pools_seq, 1);
}

/* First fit of `size` bytes aligned to `align` in a regular pool's free ranges; zeroed if
 * *zero (only the part that was handed out before: the rest is the memfd's own zeroes, and
 * stays untouched, so unused pages cost nothing). */
static void *take_range(struct lend_pool *lp, size_t size, size_t align, int zero)
{
    uintptr_t base = (uintptr_t)lp->pool->base;

    for (struct range **rp = &lp->free; *rp; rp = &(*rp)->next) {
        struct range *r = *rp;
        size_t at = ((base + r->off + align - 1) & ~(uintptr_t)(align - 1)) - base;
        size_t pad = at - r->off;
        if (pad > r->len || r->len - pad < size)
            continue;
        if (pad > 0) { /* keep the head as its own range */
            struct range *head = malloc(sizeof *head);
            if (!head)
                return NULL;
            head->off = r->off;
            head->len = pad;
            head->next = r;
            *rp = head;
            rp = &head->next;
        }
        r->off = at + size;
        r->len -= pad + size;
        if (r->len == 0) {
            *rp = r->next;
            free(r);
        }
        lp->in_use += size;
        if (zero && at < lp->fresh)
            memset((void *)(base + at), 0,
                   (at + size < lp->fresh ? at + size : lp->fresh) - at);
        if (at + size > lp->fresh)
            lp->fresh = at + size;
        return (void *)(base + at);
    }
    return NULL;
}

/* Give [p, p + size) back to its regular pool, merging with neighbours. */
static int give_range(struct lend_pool *lp, void *p, size_t size)
{
    size_t off = (size_t)((char *)p - lp->pool->base);
    struct range **rp = &lp->free, *prev = NULL, *r;

    while (*rp && (*rp)->off < off) {
        prev = *rp;
        rp = &(*rp)->next;
    }
    if (prev && prev->off + prev->len == off) {
        prev->len += size;
        r = prev;
    } else {
        if (!(r = malloc(sizeof *r)))
            return -1; /* the range stays lost to the allocator: a leak, not a fault */
        r->off = off;
        r->len = size;
        r->next = *rp;
        *rp = r;
    }
    if (r->next && r->off + r->len == r->next->off) {
        struct range *n = r->next;
        r->len += n->len;
        r->next = n->next;
        free(n);
    }
    lp->in_use -= size;
    return 0;
}

/* ---- extent hooks (called by jemalloc, from any thread that allocates) -------------- */

static struct shmipc_lend *lend_of(extent_hooks_t *h)
{
    return (struct shmipc_lend *)h;
}

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align,
                        bool *zero, bool *commit, unsigned arena_ind)
{
    struct shmipc_lend *l = lend_of(h);
    void *p = NULL;

    (void)arena_ind;
    if (new_addr) /* growing an extent in place: not from our pools */
        return NULL;
    if (align < 4096)
        align = 4096;
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < l->npools && !p; i++)
        if (!l->pools[i].dedicated)
            p = take_range(&l->pools[i], size, align, *zero);
    if (!p) {
        size_t want = size + align > l->chunk ? size + align : l->chunk;
        struct lend_pool *lp;
        l->grow_rc = shmipc__lend_add_pool(l, want, CHUNK_ALIGN, 0, &lp);
        if (l->grow_rc == 0)
            p = take_range(lp, size, align, *zero);
        else /* for the caller of jemalloc, who gets only NULL */
            snprintf(l->grow_why, sizeof l->grow_why, "%s", shmipc_error_detail());
    }
    pthread_mutex_unlock(&l->lock);
    *commit = true;
    return p;
}

static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
                        unsigned arena_ind)
{
    struct shmipc_lend *l = lend_of(h);
    struct lend_pool *lp;
    int rc = -1;

    (void)committed;
    (void)arena_ind;
    pthread_mutex_lock(&l->lock);
    lp = shmipc__lend_pool_of_addr(l, addr);
    if (lp && !lp->dedicated)
        rc = give_range(lp, addr, size);
    pthread_mutex_unlock(&l->lock);
    return rc != 0; /* false: taken back */
}

static void hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
                         unsigned arena_ind)
{
    hook_dalloc(h, addr, size, committed, arena_ind);
}

/* Pages stay committed: a sealed memfd cannot punch holes (see the top of provider_lend.c). */
static bool hook_commit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
                        unsigned arena_ind)
{
    (void)h, (void)addr, (void)size, (void)off, (void)len, (void)arena_ind;
    return false;
}

static bool hook_refuse(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
                        unsigned arena_ind)
{
    (void)h, (void)addr, (void)size, (void)off, (void)len, (void)arena_ind;
    return true;
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a, size_t size_b,
                       bool committed, unsigned arena_ind)
{
    (void)h, (void)addr, (void)size, (void)size_a, (void)size_b, (void)committed,
        (void)arena_ind;
    return false;
}

/* Two extents may be merged only inside one pool: pools that happen to be adjacent in our
 * address space are not adjacent in a peer's. */
static bool hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
                       size_t size_b, bool committed, unsigned arena_ind)
{
    struct shmipc_lend *l = lend_of(h);
    int same;

    (void)size_a, (void)size_b, (void)committed, (void)arena_ind;
    pthread_mutex_lock(&l->lock);
    same = shmipc__lend_pool_of_addr(l, addr_a) == shmipc__lend_pool_of_addr(l, addr_b);
    pthread_mutex_unlock(&l->lock);
    return !same;
}

const extent_hooks_t shmipc__lend_hooks = {
    .alloc = hook_alloc,
    .dalloc = hook_dalloc,
    .destroy = hook_destroy,
    .commit = hook_commit,
    .decommit = hook_refuse,
    .purge_lazy = hook_refuse,
    .purge_forced = hook_refuse,
    .split = hook_split,
    .merge = hook_merge,
};

int shmipc__lend_in_regular_pool(struct shmipc_lend *l, const void *p)
{
    size_t n = atomic_load_explicit(&l->nspans, memory_order_acquire);
    uintptr_t q = (uintptr_t)p;

    for (size_t i = 0; i < n; i++)
        if (q >= atomic_load_explicit(&l->spans[i].start, memory_order_relaxed) &&
            q < atomic_load_explicit(&l->spans[i].end, memory_order_relaxed))
            return 1;
    return 0;
}

#endif
