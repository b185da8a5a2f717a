/* arena.c — the public arena API: named shared allocators found or created by name and
 * scope, arenas over existing pools, the arena's recovery policy, and the allocation,
 * statistics and pool-relative pointer entry points, dispatched to the arena's provider
 * (a->ops: provider_shared.c, provider_lend.c, provider_view.c). The allocator itself is
 * in tlsf.c, the name directory in named.c, the refcount table in reftable.c. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"

#define OPEN_RACE_TRIES 16

int shmipc__arena_check_locked(shmipc_arena *a)
{
    int rc = shmipc__tlsf_check(a);

    if (rc == 0)
        rc = shmipc__named_check(a);
    if (rc == 0)
        rc = shmipc__reftable_check(a);
    return rc;
}

/* The recovery policy after a lock holder died (its operation is rolled back): the
 * allocator rebuilds its free lists and the table counts its spares (state derived, not
 * logged), then everything in the arena must hold. */
static int recover(shmipc_arena *a)
{
    shmipc__tlsf_rebuild(a);
    shmipc__reftable_recount(a);
    return shmipc__arena_check_locked(a);
}

static int wrap(shmipc_pool *pool, shmipc_arena **out)
{
    shmipc_arena *a;

    if (!pool || !out)
        return shmipc__fail(SHMIPC_EINVAL, "pool or out is NULL");
    if (shmipc__inherited(pool->fork_gen))
        return shmipc__fail_inherited("pool");
    if (!pool->writable)
        return shmipc__fail(SHMIPC_EINVAL, "a shared arena needs its pool mapped read-write");
    if (pool->size < ARENA_MIN_SIZE)
        return shmipc__fail(SHMIPC_EINVAL,
                            "pool of %zu bytes is too small for an arena "
                            "(at least %zu)",
                            pool->size, ARENA_MIN_SIZE);
    a = calloc(1, sizeof *a);
    if (!a)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for an arena handle");
    a->pool = pool;
    a->hdr = (struct arena_hdr *)pool->base;
    a->crit.r = &a->hdr->robust;
    a->crit.base = pool->base;
    a->crit.size = pool->size;
    atomic_init(&a->refs, 1);
    a->ops = &shmipc__shared_ops;
    a->recover = recover;
    *out = a;
    return 0;
}

/* Build a new arena in a's pool; the magic goes last, so nobody attaches to half of it. */
static int init_arena(shmipc_arena *a)
{
    int rc = shmipc__tlsf_init(a);

    if (rc == 0)
        rc = shmipc__named_init(a);
    if (rc == 0)
        rc = shmipc__reftable_init(a);
    if (rc != 0)
        return rc;
    __atomic_store_n(&a->hdr->magic, ARENA_MAGIC, __ATOMIC_RELEASE); /* last: whole or none */
    return 0;
}

int shmipc_arena_create(shmipc_pool *pool, shmipc_arena **out)
{
    shmipc_arena *a = NULL;
    int rc;

    if ((rc = wrap(pool, &a)) != 0)
        return rc;
    if ((rc = init_arena(a)) != 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int shmipc_arena_attach(shmipc_pool *pool, shmipc_arena **out)
{
    shmipc_arena *a = NULL;
    int rc;

    if ((rc = wrap(pool, &a)) != 0)
        return rc;
    if ((rc = shmipc__tlsf_validate_header(a)) != 0) {
        free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void shmipc__arena_owner_only(shmipc_arena *a)
{
    shmipc__plock_init(&a->owner_lock);
    a->owner_only = 1;
}

shmipc_pool *shmipc_arena_pool(const shmipc_arena *a)
{
    return a ? a->pool : NULL;
}

shmipc_arena *shmipc__arena_ref(shmipc_arena *a)
{
    atomic_fetch_add(&a->refs, 1);
    return a;
}

void shmipc_arena_close(shmipc_arena *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    a->ops->destroy(a);
    shmipc_pool_close(a->pool);
    free(a);
}

int shmipc_arena_provider(const shmipc_arena *a)
{
    if (!a)
        return shmipc__fail(SHMIPC_EINVAL, "arena is NULL");
    return a->ops->provider;
}

int shmipc_arena_writable(const shmipc_arena *a)
{
    return a && a->ops->writable;
}

int shmipc__arena_lacks(const shmipc_arena *a, const char *what)
{
    return shmipc__fail(SHMIPC_ENOTSUP, "%s: only shared arenas have it (this is %s)", what,
                        a->ops->what);
}

size_t shmipc__arena_no_alloc_size(shmipc_arena *a, const void *ptr)
{
    (void)ptr;
    shmipc__arena_lacks(a, "shmipc_alloc_size");
    return 0;
}

int shmipc__arena_no_poolrel(shmipc_arena *a, const void *ptr, shmipc_poolrel *out)
{
    (void)ptr, (void)out;
    return shmipc__arena_lacks(a, "pool-relative pointers");
}

void *shmipc__arena_no_from_poolrel(shmipc_arena *a, shmipc_poolrel r)
{
    (void)a, (void)r;
    return NULL;
}

void shmipc__arena_no_payload_free(shmipc_arena *a, const struct shmipc_payload *pl)
{
    (void)a, (void)pl;
}

/* ---- the refcount table's drops ---------------------------------------------------- */

/* After the table is unlocked: free the bytes of an object that died, if they live
 * elsewhere. */
static void free_dead(shmipc_arena *a, const struct shmipc_payload *dead)
{
    if (dead->size)
        a->ops->payload_free(a, dead);
}

static void close_ep(shmipc_arena *a, uint32_t ep, int peer_died,
                     const struct shmipc_proc_id *id)
{
    struct shmipc_payload dead;

    /* Loans never borrowed can no longer be: they go. A dead endpoint's handles too. */
    for (int handles = 0; handles <= !!peer_died; handles++)
        while (shmipc__ep_drop_one(a, ep, handles, id, &dead))
            free_dead(a, &dead);
    shmipc__ep_end(a, ep, id);
}

void shmipc__ep_close(shmipc_arena *a, uint32_t ep, int peer_died)
{
    close_ep(a, ep, peer_died, NULL);
}

void shmipc__ep_close_peer(shmipc_arena *a, uint32_t ep, struct shmipc_proc_id id)
{
    close_ep(a, ep, 1, &id);
}

/* The processes a reap has looked at, and whether each is gone: a session's two
 * endpoints are neighbours, and a process's sessions too, so a few answer for a run of
 * endpoints with one look at /proc each. */
#define REAP_SEEN 4
struct reap_seen {
    struct shmipc_proc_id id[REAP_SEEN];
    int gone[REAP_SEEN];
    unsigned n;
};

static int gone_seen(struct reap_seen *r, const struct shmipc_proc_id *id)
{
    unsigned i, slot;

    for (i = 0; i < r->n && i < REAP_SEEN; i++)
        if (r->id[i].pid == id->pid && r->id[i].start == id->start &&
            r->id[i].frame == id->frame)
            return r->gone[i];
    slot = r->n++ % REAP_SEEN;
    r->id[slot] = *id;
    return r->gone[slot] = shmipc__proc_gone(id, -1);
}

int shmipc__ep_reap(shmipc_arena *a, int all)
{
    uint32_t eps[REAP_BATCH], cursor = __atomic_load_n(&a->reap_next, __ATOMIC_RELAXED);
    struct shmipc_proc_id ids[REAP_BATCH];
    uint64_t left = shmipc__ep_high(a); /* one turn of the table at most */
    struct reap_seen seen = {.n = 0};
    int reaped = 0;

    do {
        size_t n = shmipc__ep_ids(a, &cursor, &left, eps, ids, REAP_BATCH);
        for (size_t i = 0; i < n; i++) {
            /* Only an endpoint whose process this one can verify gone (proc.c); the others
             * end with their session's hang-up. */
            if (gone_seen(&seen, &ids[i])) {
                /* only if it is still the dead one's when closed (it may go meanwhile) */
                shmipc__ep_close_peer(a, eps[i], ids[i]);
                reaped++;
            }
        }
    } while (all && left > 0);
    __atomic_store_n(&a->reap_next, cursor, __ATOMIC_RELAXED);
    return reaped;
}

void shmipc__hold_release(shmipc_arena *a, uint64_t hold)
{
    struct shmipc_payload dead;

    shmipc__hold_drop(a, hold, &dead);
    free_dead(a, &dead);
}

int shmipc__loan_release(shmipc_arena *a, uint64_t loan, uint64_t gen, uint32_t peer_ep)
{
    struct shmipc_payload dead;
    int rc = shmipc__loan_drop(a, loan, gen, peer_ep, &dead);

    free_dead(a, &dead);
    return rc;
}

/* ---- named arenas ------------------------------------------------------------------ */

/* The pool name of arena `name` in `scope`. */
static int scoped_name(const char *name, int scope, char *buf, size_t cap)
{
    int pkg, rc;

    if (scope == SHMIPC_SCOPE_NODE) {
        snprintf(buf, cap, "%s", name);
        return 0;
    }
    if (scope != SHMIPC_SCOPE_SOCKET)
        return shmipc__fail(SHMIPC_EINVAL, "unknown arena scope %d", scope);
    if ((rc = shmipc_cpu_package(&pkg)) != 0)
        return rc;
    snprintf(buf, cap, "%s@s%d", name, pkg);
    return 0;
}

/* Create the arena under a temporary name, build it, then publish it. EEXIST if another
 * process published first. */
static int create_named(const char *pname, size_t size, shmipc_arena **out)
{
    shmipc_pool *pool;
    shmipc_arena *a;
    int rc;

    if ((rc = shmipc__pool_create_unpublished(pname, size, 0600, &pool)) != 0)
        return rc;
    if ((rc = shmipc_arena_create(pool, &a)) != 0) {
        shmipc_pool_close(pool);
        return rc;
    }
    if ((rc = shmipc__pool_publish(pool)) != 0) {
        shmipc_arena_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

static int attach_named(const char *pname, shmipc_arena **out)
{
    shmipc_pool *pool;
    int rc = shmipc__pool_open(pname, 0, &pool);

    if (rc == 0 && (rc = shmipc_arena_attach(pool, out)) != 0)
        shmipc_pool_close(pool);
    return rc;
}

int shmipc_arena_open(const char *name, size_t size, int scope, shmipc_arena **out)
{
    char pname[SHMIPC_NAME_MAX + 32];
    int rc;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if ((rc = shmipc__check_name(name, "arena")) != 0 ||
        (rc = scoped_name(name, scope, pname, sizeof pname)) != 0)
        return rc;
    if (size < ARENA_MIN_SIZE)
        return shmipc__fail(SHMIPC_EINVAL, "arena size %zu is below the minimum %zu", size,
                            ARENA_MIN_SIZE);
    for (int i = 0; i < OPEN_RACE_TRIES; i++) {
        rc = attach_named(pname, out);
        if (rc != SHMIPC_ENOENT)
            return rc;
        rc = create_named(pname, size, out);
        if (rc != SHMIPC_EEXIST)
            return rc;
    }
    return shmipc__fail(SHMIPC_ETIMEDOUT,
                        "arena '%s' kept being created and removed by "
                        "others during %d tries",
                        pname, OPEN_RACE_TRIES);
}

/* Remove "<name>@s<N>" pools of every package. Returns how many went. */
static int unlink_socket_scopes(const char *name)
{
    char prefix[SHMIPC_NAME_MAX + 64];
    DIR *dir = opendir(shmipc__shm_dir());
    struct dirent *e;
    int removed = 0, user_len, plen;

    if (!dir)
        return 0;
    user_len = snprintf(prefix, sizeof prefix, "shmipc.%u.", (unsigned)getuid());
    plen = user_len +
           snprintf(prefix + user_len, sizeof prefix - (size_t)user_len, "%s@s", name);
    while ((e = readdir(dir)) != NULL)
        if (strncmp(e->d_name, prefix, (size_t)plen) == 0 &&
            shmipc__pool_unlink(e->d_name + user_len) == 0)
            removed++;
    closedir(dir);
    return removed;
}

int shmipc_arena_unlink(const char *name)
{
    int rc, removed;

    if ((rc = shmipc__check_name(name, "arena")) != 0)
        return rc;
    rc = shmipc__pool_unlink(name);
    removed = unlink_socket_scopes(name);
    if (rc == SHMIPC_ENOENT && removed > 0)
        return 0;
    return rc;
}

int shmipc_arena_check(shmipc_arena *a)
{
    int rc;

    if (!a)
        return shmipc__fail(SHMIPC_EINVAL, "arena is NULL");
    if ((rc = ARENA_NOT_INHERITED(a, "shmipc_arena_check")) != 0)
        return rc;
    return a->ops->check(a);
}

void *shmipc_alloc(shmipc_arena *a, size_t size)
{
    if (!a) {
        shmipc__fail(SHMIPC_EINVAL, "arena is NULL");
        return NULL;
    }
    if (ARENA_NOT_INHERITED(a, "shmipc_alloc") != 0)
        return NULL;
    return a->ops->alloc(a, size);
}

uint64_t shmipc__arena_offset(shmipc_arena *a, const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr, base = (uintptr_t)a->crit.base;

    return p > base && p < base + a->crit.size ? p - base : 0;
}

void shmipc_free(shmipc_arena *a, void *ptr)
{
    if (!a || !ptr || ARENA_NOT_INHERITED(a, "shmipc_free") != 0)
        return;
    a->ops->free(a, ptr);
}

size_t shmipc_alloc_size(shmipc_arena *a, const void *ptr)
{
    if (!a || !ptr || ARENA_NOT_INHERITED(a, "shmipc_alloc_size") != 0)
        return 0;
    return a->ops->alloc_size(a, ptr);
}

int shmipc_arena_stats(shmipc_arena *a, struct shmipc_arena_stats *out)
{
    int rc;

    if (!a || !out)
        return shmipc__fail(SHMIPC_EINVAL, "arena or out is NULL");
    if ((rc = ARENA_NOT_INHERITED(a, "shmipc_arena_stats")) != 0)
        return rc;
    return a->ops->stats(a, out);
}

int shmipc_arena_to_poolrel(shmipc_arena *a, const void *ptr, shmipc_poolrel *out)
{
    int rc;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if (!a)
        return shmipc__fail(SHMIPC_EINVAL, "arena is NULL");
    if ((rc = ARENA_NOT_INHERITED(a, "shmipc_arena_to_poolrel")) != 0)
        return rc;
    return a->ops->to_poolrel(a, ptr, out);
}

void *shmipc_arena_from_poolrel(shmipc_arena *a, shmipc_poolrel r)
{
    if (!a || ARENA_NOT_INHERITED(a, "shmipc_arena_from_poolrel") != 0)
        return NULL;
    return a->ops->from_poolrel(a, r);
}
