/* provider_view.c — a peer's lend arena seen from a borrower: the peer's refcount table mapped
 * read-only, with the further table pools it grew by as they are announced (loans are
 * checked in it without its lock: every read is bounds-checked, so a
 * peer that scribbles on its own table can only make its own loans fail), the data pools
 * the peer announced, mapped read-only and unmapped once retired and unused (a count, not
 * the view's lock, tells when: a borrowed object lets go of its pool without it), and the set of
 * loans already borrowed (a loan is borrowed once). Nothing here writes to the peer. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lend.h"
#include "plock.h"

/* A view maps at most SHMIPC_LEND_POOLS_MAX pools (shmipc.h): a peer announcing pools
 * without end could otherwise use up our descriptors and address space (a lend arena of
 * 4096 pools of 16 MiB holds 64 GiB). */

struct shmipc_view_pool {
    shmipc_pool *pool; /* read-only */
    atomic_long refs;  /* 1 while listed (announced, not retired), plus one per borrowed
                          object whose bytes are in it: the last to go unmaps it */
};

struct claim {
    uint64_t loan, gen; /* gen 0: empty slot */
};

struct shmipc_view {
    shmipc_plock lock;
    struct shmipc_view_pool **pools;
    size_t npools, cap;
    struct claim *claims; /* open addressing, a power of two */
    size_t nclaims, capclaims;
    uint64_t lost_id; /* the last announced pool that could not be taken */
    int lost_rc;
    int lost_fd; /* its descriptor, if it came: taken again at the next borrow */
    char lost_why[256];
};

int shmipc__view_create(shmipc_pool *table, shmipc_arena **out)
{
    shmipc_arena *a = calloc(1, sizeof *a);
    struct shmipc_view *v = calloc(1, sizeof *v);
    int rc;

    if (!a || !v) {
        free(a);
        free(v);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a view");
    }
    a->pool = table;
    a->hdr = (struct arena_hdr *)table->base;
    a->crit.base = table->base;
    a->crit.size = table->size;
    atomic_init(&a->refs, 1);
    a->ops = &shmipc__view_ops;
    a->view = v;
    v->lost_fd = -1;
    shmipc__plock_init(&v->lock);
    if (table->size < ARENA_MIN_SIZE || (rc = shmipc__tlsf_validate_header(a)) != 0) {
        rc = shmipc__fail(SHMIPC_ECORRUPT, "the peer's refcount table is not an arena");
        free(v);
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* Drop one count of vp: unmapped with its last. */
static void pool_put(struct shmipc_view_pool *vp)
{
    if (atomic_fetch_sub_explicit(&vp->refs, 1, memory_order_acq_rel) == 1) {
        shmipc_pool_close(vp->pool);
        free(vp);
    }
}

void shmipc__view_destroy(shmipc_arena *a)
{
    struct shmipc_view *v = a->view;

    for (unsigned i = 0; i < SHMIPC_TABLE_SEGS; i++)
        shmipc_arena_close(atomic_exchange(&a->seg[i], NULL));
    for (size_t i = 0; i < v->npools; i++)
        pool_put(v->pools[i]);
    free(v->pools);
    free(v->claims);
    if (v->lost_fd >= 0)
        close(v->lost_fd);
    free(v);
    a->view = NULL;
}

static struct shmipc_view_pool *find_pool(struct shmipc_view *v, uint64_t id, size_t *index)
{
    for (size_t i = 0; i < v->npools; i++) {
        if (v->pools[i]->pool->id == id) {
            if (index)
                *index = i;
            return v->pools[i];
        }
    }
    return NULL;
}

void shmipc__view_pool_lost(shmipc_arena *a, uint64_t pool_id, int rc, int fd)
{
    struct shmipc_view *v = a->view;
    char why[sizeof v->lost_why];
    int keep, old;

    snprintf(why, sizeof why, "%s", shmipc_error_detail());
    keep = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    shmipc__plock_lock(&v->lock);
    v->lost_id = pool_id;
    v->lost_rc = rc;
    memcpy(v->lost_why, why, sizeof why);
    old = v->lost_fd;
    v->lost_fd = keep;
    shmipc__plock_unlock(&v->lock);
    if (old >= 0)
        close(old);
}

/* The lost pool pool_id, if its descriptor was kept: take it again (what failed may have
 * been passing: no memory, no descriptor to spare for a moment). */
static void retake_lost(shmipc_arena *a, uint64_t pool_id)
{
    struct shmipc_view *v = a->view;
    int fd = -1, rc;

    shmipc__plock_lock(&v->lock);
    if (v->lost_fd >= 0 && v->lost_id == pool_id) {
        fd = v->lost_fd;
        v->lost_fd = -1;
    }
    shmipc__plock_unlock(&v->lock);
    if (fd < 0)
        return;
    if ((rc = shmipc__view_add_pool(a, fd)) != 0)
        shmipc__view_pool_lost(a, pool_id, rc, fd);
    close(fd);
}

int shmipc__view_add_pool(shmipc_arena *a, int fd)
{
    struct shmipc_view *v = a->view;
    struct shmipc_view_pool *vp = calloc(1, sizeof *vp);
    int rc;

    if (!vp)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a pool of a view");
    atomic_init(&vp->refs, 1);
    if ((rc = shmipc__pool_from_peer_fd(fd, SHMIPC_RDONLY, &vp->pool)) != 0) {
        free(vp);
        return rc;
    }
    shmipc__plock_lock(&v->lock);
    if (find_pool(v, vp->pool->id, NULL)) {
        rc = 0; /* announced twice: keep the first mapping */
    } else if (v->npools >= SHMIPC_LEND_POOLS_MAX) {
        rc = shmipc__fail(SHMIPC_ENOMEM,
                          "the peer announced more than SHMIPC_LEND_POOLS_MAX "
                          "(%d) pools; refused",
                          SHMIPC_LEND_POOLS_MAX);
    } else if (v->npools == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 8;
        struct shmipc_view_pool **grown = realloc(v->pools, cap * sizeof *grown);
        if (grown) {
            v->pools = grown;
            v->cap = cap;
        } else {
            rc = shmipc__fail(SHMIPC_ENOMEM, "out of memory for a pool of a view");
        }
    }
    if (rc == 0 && !find_pool(v, vp->pool->id, NULL)) {
        v->pools[v->npools++] = vp;
        vp = NULL;
    }
    shmipc__plock_unlock(&v->lock);
    if (vp) {
        shmipc_pool_close(vp->pool);
        free(vp);
    }
    return rc;
}

int shmipc__view_add_table(shmipc_arena *a, unsigned seg, int fd)
{
    struct shmipc_view *v = a->view;
    shmipc_arena *view = NULL;
    shmipc_pool *pool;
    int rc;

    if (seg < 1 || seg > SHMIPC_TABLE_SEGS)
        return shmipc__fail(SHMIPC_EBADBLOB,
                            "the peer announced table pool %u (they are "
                            "1 to %d)",
                            seg, SHMIPC_TABLE_SEGS);
    if ((rc = shmipc__pool_from_peer_fd(fd, SHMIPC_RDONLY, &pool)) != 0)
        return rc;
    if ((rc = shmipc__view_create(pool, &view)) != 0) {
        shmipc_pool_close(pool);
        return rc;
    }
    shmipc__plock_lock(&v->lock);
    if (!atomic_load(&a->seg[seg - 1])) { /* announced twice: keep the first */
        atomic_store_explicit(&a->seg[seg - 1], view, memory_order_release);
        view = NULL;
    }
    shmipc__plock_unlock(&v->lock);
    shmipc_arena_close(view);
    return 0;
}

void shmipc__view_retire_pool(shmipc_arena *a, uint64_t pool_id)
{
    struct shmipc_view *v = a->view;
    struct shmipc_view_pool *vp;
    size_t i;

    shmipc__plock_lock(&v->lock);
    if ((vp = find_pool(v, pool_id, &i)) != NULL)
        v->pools[i] = v->pools[--v->npools]; /* no new borrow finds it */
    shmipc__plock_unlock(&v->lock);
    if (vp)
        pool_put(vp); /* the list's count: unmapped now, or by its last borrowed object */
}

void shmipc__view_unmap(struct shmipc_view_pool *vp)
{
    pool_put(vp);
}

/* ---- claims ----------------------------------------------------------------------------- */

static size_t slot_of(const struct shmipc_view *v, uint64_t loan)
{
    return (size_t)((loan >> 4) * UINT64_C(0x9e3779b97f4a7c15) >> 20) & (v->capclaims - 1);
}

static void put_claim(struct shmipc_view *v, uint64_t loan, uint64_t gen)
{
    size_t i = slot_of(v, loan);

    while (v->claims[i].gen)
        i = (i + 1) & (v->capclaims - 1);
    v->claims[i].loan = loan;
    v->claims[i].gen = gen;
    v->nclaims++;
}

/* Keep only the claims whose loan the owner still has, in a table sized for them. */
static int sweep_claims(shmipc_arena *a, struct shmipc_view *v)
{
    struct claim *old = v->claims;
    size_t oldcap = v->capclaims, cap = 64, live = 0;
    struct shmipc_payload pl;

    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].gen &&
            shmipc__loan_peek(a, old[i].loan, old[i].gen, a->ep, 0, &pl) == SHMIPC_ESTALE)
            old[i].gen = 0;
        live += old[i].gen != 0;
    }
    while (cap < 4 * (live + 1))
        cap *= 2;
    if (!(v->claims = calloc(cap, sizeof *v->claims))) {
        v->claims = old;
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for the borrowed-loan set");
    }
    v->capclaims = cap;
    v->nclaims = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].gen)
            put_claim(v, old[i].loan, old[i].gen);
    free(old);
    return 0;
}

/* Under the lock, with room: claim (loan, gen), or EBADBLOB if it was claimed. A record
 * holds one loan at a time, and this loan was just found live in it: a claim of another
 * generation at the same offset is of a loan that is gone, and this one takes its slot
 * (the allocator reuses the same offsets over and over: left there, such claims would
 * pile up on a few slots and make every claim a long walk). */
static int claim_slot(struct shmipc_view *v, uint64_t loan, uint64_t gen)
{
    for (size_t i = slot_of(v, loan); v->claims[i].gen; i = (i + 1) & (v->capclaims - 1)) {
        if (v->claims[i].loan != loan)
            continue;
        if (v->claims[i].gen == gen)
            return shmipc__fail(SHMIPC_EBADBLOB, "the blob was already borrowed");
        v->claims[i].gen = gen;
        return 0;
    }
    put_claim(v, loan, gen);
    return 0;
}

/* Under the lock: claim (loan, gen), making room first. */
static int claim(shmipc_arena *a, struct shmipc_view *v, uint64_t loan, uint64_t gen)
{
    int rc = 0;

    if (2 * (v->nclaims + 1) > v->capclaims)
        rc = sweep_claims(a, v);
    return rc ? rc : claim_slot(v, loan, gen);
}

int shmipc__view_map(shmipc_arena *a, const struct shmipc_payload *pl, uint64_t loan,
                     uint64_t gen, const void **ptr, struct shmipc_view_pool **out)
{
    struct shmipc_view *v = a->view;
    struct shmipc_view_pool *vp;
    int rc;

    shmipc__plock_lock(&v->lock);
    if (SHMIPC_UNLIKELY(v->lost_fd >= 0 && v->lost_id == pl->pool_id)) {
        shmipc__plock_unlock(&v->lock);
        retake_lost(a, pl->pool_id);
        shmipc__plock_lock(&v->lock);
    }
    vp = find_pool(v, pl->pool_id, NULL);
    if (!vp && v->lost_rc && pl->pool_id == v->lost_id)
        rc = shmipc__fail(v->lost_rc,
                          "the object's pool was announced but could not be "
                          "taken: %s",
                          v->lost_why);
    else if (!vp)
        rc = SHMIPC_ENOENT; /* not announced yet, or retired */
    else if (pl->data > vp->pool->size || pl->size > vp->pool->size - pl->data || pl->size == 0)
        rc = shmipc__fail(SHMIPC_EBADBLOB, "the loan's bytes lie outside its pool");
    else if ((rc = claim(a, v, loan, gen)) == 0) {
        atomic_fetch_add_explicit(&vp->refs, 1, memory_order_relaxed); /* listed: alive */
        *ptr = vp->pool->base + pl->data;
        *out = vp;
    }
    shmipc__plock_unlock(&v->lock);
    return rc;
}

size_t shmipc__view_claims_cap(shmipc_arena *a)
{
    struct shmipc_view *v = a->view;
    size_t cap;

    shmipc__plock_lock(&v->lock);
    cap = v->capclaims;
    shmipc__plock_unlock(&v->lock);
    return cap;
}

/* ---- the operations table (arena.c dispatches to it): nothing here writes ------------ */

static void *view_alloc(shmipc_arena *a, size_t size)
{
    (void)size;
    shmipc__arena_lacks(a, "shmipc_alloc");
    return NULL;
}

static void view_free(shmipc_arena *a, void *ptr)
{
    (void)a, (void)ptr;
}

static int view_stats(shmipc_arena *a, struct shmipc_arena_stats *out)
{
    (void)a, (void)out;
    return shmipc__fail(SHMIPC_ENOTSUP, "a peer's lend arena: its figures are its owner's");
}

static int view_check(shmipc_arena *a)
{
    (void)a;
    return shmipc__fail(SHMIPC_ENOTSUP, "a peer's lend arena is checked by its owner");
}

static int view_obj_new(shmipc_arena *a, size_t size, uint64_t *hold)
{
    (void)a, (void)size, (void)hold;
    return shmipc__fail(SHMIPC_ENOTSUP,
                        "this arena is a peer's lend arena, read-only here: "
                        "only its owner makes objects in it (with the lend provider, app-scope "
                        "objects are made by the server)");
}

/* Borrowed bytes are mapped through shmipc__view_map, and only their owner frees them. */
static void *view_payload_ptr(shmipc_arena *a, const struct shmipc_payload *pl)
{
    (void)a, (void)pl;
    return NULL;
}

const struct shmipc_arena_ops shmipc__view_ops = {
    .what = "a peer's lend arena, read-only here",
    .provider = SHMIPC_PROVIDER_LEND,
    .writable = 0,
    .named = 0,
    .alloc = view_alloc,
    .free = view_free,
    .alloc_size = shmipc__arena_no_alloc_size,
    .stats = view_stats,
    .check = view_check,
    .to_poolrel = shmipc__arena_no_poolrel,
    .from_poolrel = shmipc__arena_no_from_poolrel,
    .obj_new = view_obj_new,
    .payload_ptr = view_payload_ptr,
    .payload_free = shmipc__arena_no_payload_free,
    .destroy = shmipc__view_destroy,
};
