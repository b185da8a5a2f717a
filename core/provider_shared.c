/* provider_shared.c — the shared provider: every process that maps the pool allocates and
 * frees in it under the arena's robust lock (the allocator of tlsf.c), objects are records
 * of the refcount table followed by their bytes, and pointers travel as pool-relative
 * offsets. Its operations table is what arena.c dispatches to for a shared arena. */
#include "arena.h"

static void *shared_alloc(shmipc_arena *a, size_t size)
{
    uint64_t off;

    if (shmipc__arena_lock(a) != 0)
        return NULL;
    off = shmipc__tlsf_alloc(a, size);
    shmipc__arena_unlock(a);
    if (!off) {
        shmipc__fail(size ? SHMIPC_ENOMEM : SHMIPC_EINVAL,
                     "arena has no free block of %zu "
                     "bytes",
                     size);
        return NULL;
    }
    return arena_at(a, off);
}

static void shared_free(shmipc_arena *a, void *ptr)
{
    uint64_t off;

    if (shmipc__arena_lock(a) != 0)
        return;
    off = shmipc__arena_offset(a, ptr);
    if (off && shmipc__tlsf_is_live(a, off)) {
        shmipc__tlsf_free(a, off);
    } else {
        arena_store(a, &a->hdr->bad_frees, a->hdr->bad_frees + 1);
        shmipc__fail(SHMIPC_EINVAL,
                     "shmipc_free(%p): not an allocation of this arena "
                     "(foreign, interior or already freed); ignored",
                     ptr);
    }
    shmipc__arena_unlock(a);
}

static size_t shared_alloc_size(shmipc_arena *a, const void *ptr)
{
    uint64_t off, size = 0;

    if (shmipc__arena_lock(a) != 0)
        return 0;
    off = shmipc__arena_offset(a, ptr);
    if (off && shmipc__tlsf_is_live(a, off))
        size = shmipc__tlsf_payload_size(a, off);
    shmipc__arena_unlock(a);
    return size;
}

static int shared_stats(shmipc_arena *a, struct shmipc_arena_stats *out)
{
    struct arena_hdr *h = a->hdr;
    int rc;

    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    out->lock_recoveries = h->lock_recoveries;
    out->bad_frees = h->bad_frees;
    out->capacity = h->heap_end - h->heap_start;
    out->used = arena_used(h);
    out->free = out->capacity - out->used;
    out->largest_free = shmipc__tlsf_largest_free(a);
    out->allocations = arena_user_allocations(h, shmipc__reftable_holds(a));
    out->named = h->named;
    shmipc__arena_unlock(a);
    return 0;
}

int shmipc__shared_check(shmipc_arena *a)
{
    int rc;

    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    rc = shmipc__arena_check_locked(a);
    shmipc__arena_unlock(a);
    return rc;
}

static int shared_to_poolrel(shmipc_arena *a, const void *ptr, shmipc_poolrel *out)
{
    uint64_t off = shmipc__arena_offset(a, ptr);

    if (!off)
        return shmipc__fail(SHMIPC_EINVAL, "%p lies outside the arena's pools", ptr);
    out->pool_id = a->pool->id;
    out->offset = off;
    return 0;
}

static void *shared_from_poolrel(shmipc_arena *a, shmipc_poolrel r)
{
    if (r.pool_id != a->pool->id || r.offset == 0 || r.offset >= a->crit.size)
        return NULL;
    return arena_at(a, r.offset);
}

static void *shared_payload_ptr(shmipc_arena *a, const struct shmipc_payload *pl)
{
    return arena_at(a, pl->data);
}

static void shared_destroy(shmipc_arena *a)
{
    (void)a;
}

const struct shmipc_arena_ops shmipc__shared_ops = {
    .what = "a shared arena",
    .provider = SHMIPC_PROVIDER_SHARED,
    .writable = 1,
    .named = 1,
    .alloc = shared_alloc,
    .free = shared_free,
    .alloc_size = shared_alloc_size,
    .stats = shared_stats,
    .check = shmipc__shared_check,
    .to_poolrel = shared_to_poolrel,
    .from_poolrel = shared_from_poolrel,
    .obj_new = shmipc__obj_alloc,
    .payload_ptr = shared_payload_ptr,
    .payload_free = shmipc__arena_no_payload_free, /* bytes follow their record */
    .destroy = shared_destroy,
};
