/* provider_lend.c — the lend provider's arenas, owner side: a dedicated jemalloc arena whose
 * extents come from memfd pools that only this process maps writable, sealed
 * F_SEAL_FUTURE_WRITE before any peer sees them, so peers can only ever map them
 * read-only. Owns the jemalloc arena's life, objects' bytes (from jemalloc, or dedicated
 * pools for objects of at least a pool's size, returned to the OS when they die), the
 * arena's figures, its operations table, and its refcount table (a shared arena of its own
 * in a pool of its own, read-only to peers, grown by further table pools as it fills). The data pools and the extent hooks are
 * lend_pools.c's, the per-thread tcaches lend_tcache.c's, the peers that report releases
 * lend_sources.c's.
 *
 * Why dedicated pools: the kernel refuses to punch holes (MADV_REMOVE, FALLOC_FL_PUNCH_HOLE)
 * in a memfd sealed F_SEAL_FUTURE_WRITE (EPERM, measured), so pages of a sealed pool cannot
 * be given back one by one. jemalloc reuses the pages of regular pools; a big object gets a
 * pool of its own, and its pages go back to the OS when the object dies and every process
 * has unmapped the pool. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "lend.h"
#include "lend_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define SHMIPC_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHMIPC_LSAN 1
#endif
#endif
#ifdef SHMIPC_LSAN
#include <sanitizer/lsan_interface.h>
#define LSAN_ROOT(p, n) __lsan_register_root_region(p, n)
#define LSAN_UNROOT(p, n) __lsan_unregister_root_region(p, n)
#else
#define LSAN_ROOT(p, n) ((void)(p), (void)(n))
#define LSAN_UNROOT(p, n) ((void)(p), (void)(n))
#endif

/* The refcount table's first pool (64 MiB, ~520k records); each further one (reftable.c's
 * segments) is twice the last. Virtual: pages are touched as records are made. */
size_t shmipc__lend_table_size = (size_t)64 << 20;

#ifdef SHMIPC_HAVE_JEMALLOC

/* ---- arena life ------------------------------------------------------------------------ */

static int set_arena_knob(unsigned arena, const char *knob, const void *val, size_t len)
{
    char name[64];

    snprintf(name, sizeof name, "arena.%u.%s", arena, knob);
    return JE(mallctl)(name, NULL, NULL, (void *)val, len);
}

/* l's memory: mapped, not malloc'd, so that its span table (RANGES_MAX entries, one per
 * regular pool: 64 KiB) takes pages only as pools come; calloc would clear all of it.
 * Under LeakSanitizer the mapping is a root region: what l points to is not a leak (a
 * child after fork exits with its inherited, never closed, copies). */
static struct shmipc_lend *lend_alloc(void)
{
    void *m = mmap(NULL, sizeof(struct shmipc_lend), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (m == MAP_FAILED)
        return NULL;
    LSAN_ROOT(m, sizeof(struct shmipc_lend));
    return m;
}

static void lend_unmap(struct shmipc_lend *l)
{
    LSAN_UNROOT(l, sizeof *l);
    munmap(l, sizeof *l);
}

static void lend_free(struct shmipc_lend *l)
{
    while (l->npools)
        shmipc__lend_retire_pool(l, &l->pools[l->npools - 1]);
    free(l->pools);
    pthread_mutex_destroy(&l->lock);
    pthread_mutex_destroy(&l->make_lock);
    shmipc__sources_free(l->sources);
    lend_unmap(l);
}

/* A jemalloc arena over l's hooks; its metadata (~90 KiB of bins and extent sets) is
 * carved from l's first pool too. (jemalloc 5.3's experimental.arenas_create_ext could keep
 * it in private memory instead, but then each destroyed arena leaks its metadata block's
 * 2 MiB of address space and 4 KiB of RSS, measured: the churn of sessions would creep.) */
static int je_arena_create(struct shmipc_lend *l)
{
    extent_hooks_t *hp = &l->hooks;
    size_t sz = sizeof l->je_arena;

    return JE(mallctl)("arenas.create", &l->je_arena, &sz, &hp, sizeof hp);
}

/* How long freed pages stay in a jemalloc arena before they go back to the pools. */
#define LEND_DIRTY_DECAY_MS 1000

/* jemalloc had no room for `size` bytes (0: unsaid) of `what`: ENOMEM, with the reason the
 * last new data pool could not be made, if it could not. */
static int no_room(struct shmipc_lend *l, const char *what, size_t size)
{
    char why[sizeof l->grow_why] = "no memory for a new pool?", bytes[48] = "";

    pthread_mutex_lock(&l->lock);
    if (l->grow_rc != 0)
        memcpy(why, l->grow_why, sizeof why);
    pthread_mutex_unlock(&l->lock);
    if (size)
        snprintf(bytes, sizeof bytes, " of %zu bytes", size);
    return shmipc__fail(SHMIPC_ENOMEM, "lend arena: no room for %s%s (%s)", what, bytes, why);
}

/* Make l's jemalloc arena (and so its first pool), once: at the first allocation, not
 * with l, since a session's arena on a side that never lends needs neither (a connect
 * would pay ~30 page faults of jemalloc's metadata and a 16 MiB memfd on each side). */
static __attribute__((noinline)) int je_make(struct shmipc_lend *l)
{
    ssize_t zero = 0, dirty_ms = LEND_DIRTY_DECAY_MS;
    int rc = 0;

    pthread_mutex_lock(&l->make_lock);
    if (atomic_load_explicit(&l->je_made, memory_order_relaxed))
        goto out;
    if (je_arena_create(l) != 0) {
        rc = no_room(l, "jemalloc's metadata of the arena", 0); /* in its first pool */
        goto out;
    }
    /* Freed pages stay in the arena a while (their pool's pages stay committed anyway:
     * see above), so that an arena with few objects live does not make and unmake a slab
     * through the hooks with each object; the figures purge first. Growth asks for at most
     * a pool at a time. */
    set_arena_knob(l->je_arena, "dirty_decay_ms", &dirty_ms, sizeof dirty_ms);
    set_arena_knob(l->je_arena, "muzzy_decay_ms", &zero, sizeof zero);
    set_arena_knob(l->je_arena, "retain_grow_limit", &l->chunk, sizeof l->chunk);
    atomic_store_explicit(&l->je_made, 1, memory_order_release);
out:
    pthread_mutex_unlock(&l->make_lock);
    return rc;
}

/* 0 once l's jemalloc arena exists (made now if need be), else the error. */
static inline int je_ready(struct shmipc_lend *l)
{
    return atomic_load_explicit(&l->je_made, memory_order_acquire) ? 0 : je_make(l);
}

static int lend_new(size_t chunk, struct shmipc_lend **out)
{
    struct shmipc_lend *l = lend_alloc();
    int rc;

    if (!l)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a lend arena");
    pthread_mutex_t *const locks[] = {&l->lock, &l->make_lock};
    l->hooks = shmipc__lend_hooks;
    l->chunk = chunk;
    l->uid = shmipc__lend_next_uid();
    if ((rc = shmipc__sources_new(&l->sources)) != 0) {
        lend_unmap(l);
        return rc;
    }
    if ((rc = shmipc__mutexes_init(locks, 2, "a lend arena")) != 0) {
        shmipc__sources_free(l->sources);
        lend_unmap(l);
        return rc;
    }
    if (shmipc__lend_register(l) != 0) {
        lend_free(l);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a lend arena");
    }
    *out = l;
    return 0;
}

static void lend_destroy(struct shmipc_lend *l)
{
    char name[64];

    shmipc__lend_unregister(l);
    if (atomic_load(&l->je_made)) {
        snprintf(name, sizeof name, "arena.%u.destroy", l->je_arena);
        JE(mallctl)(name, NULL, NULL, NULL, 0);
    }
    lend_free(l);
}

/* ---- the shmipc_arena of the lend provider ----------------------------------------- */

int shmipc__lend_supported(void)
{
    return 0;
}

/* The table is full and its next pool (of `size` bytes) could not be made: say so. */
static int cannot_grow(int rc, shmipc_arena *a, unsigned pools, size_t size)
{
    char why[256];

    snprintf(why, sizeof why, "%s", shmipc_error_detail());
    return shmipc__fail(rc,
                        "lend arena: its refcount table is full (%llu handles and loans "
                        "in %u pools) and cannot grow by a pool of %zu MiB: %s",
                        (unsigned long long)shmipc__reftable_holds(a), pools, size >> 20, why);
}

/* The table's growth (reftable.c calls it under the table's lock when it is full): its
 * next pool, twice the last, sealed like the first before any peer can see it. */
static int table_grow(shmipc_arena *a)
{
    unsigned n = 0;
    shmipc_pool *p;
    shmipc_arena *seg;
    size_t size;
    int rc;

    while (n < SHMIPC_TABLE_SEGS && atomic_load(&a->seg[n]))
        n++;
    if (n == SHMIPC_TABLE_SEGS)
        return shmipc__fail(SHMIPC_ENOMEM,
                            "lend arena: its refcount table is full (%llu "
                            "handles and loans in %u pools, its most)",
                            (unsigned long long)shmipc__reftable_holds(a), n + 1);
    size = a->pool->size << (n + 1);
    if ((rc = shmipc_pool_create(NULL, size, 0, &p)) != 0)
        return cannot_grow(rc, a, n + 1, size);
    if ((rc = shmipc_arena_create(p, &seg)) != 0) {
        shmipc_pool_close(p);
        return cannot_grow(rc, a, n + 1, size);
    }
    if ((rc = shmipc__pool_seal_owner(p)) != 0) {
        shmipc_arena_close(seg);
        return cannot_grow(rc, a, n + 1, size);
    }
    shmipc__arena_owner_only(seg);
    atomic_store_explicit(&a->seg[n], seg, memory_order_release);
    return 0;
}

int shmipc__lend_arena_create(size_t pool_size, shmipc_arena **out)
{
    struct shmipc_lend *l = NULL;
    shmipc_pool *tpool;
    shmipc_arena *a;
    int rc;

    if (pool_size < ARENA_MIN_SIZE)
        pool_size = ARENA_MIN_SIZE;
    if ((rc = shmipc_pool_create(NULL, shmipc__lend_table_size, 0, &tpool)) != 0)
        return rc;
    if ((rc = shmipc_arena_create(tpool, &a)) != 0) {
        shmipc_pool_close(tpool);
        return rc;
    }
    if ((rc = shmipc__pool_seal_owner(tpool)) != 0 || (rc = lend_new(pool_size, &l)) != 0) {
        shmipc_arena_close(a);
        return rc;
    }
    shmipc__arena_owner_only(a);
    a->ops = &shmipc__lend_ops;
    a->lend = l;
    a->pools_seq = &l->pools_seq;
    a->grow = table_grow;
    *out = a;
    return 0;
}

/* A forked child's copy of its parent's arena: jemalloc's state of it lives in the shared
 * data pools and points at l's hooks, so no jemalloc call may touch it (no tcache or arena
 * destroy), l stays (on the forgotten list) and the regular pools stay mapped (jemalloc
 * walks every arena it knows at fork); only their descriptors and dedicated pools go. */
static void lend_forget(struct shmipc_lend *l)
{
    for (size_t i = 0; i < l->npools;) {
        if (l->pools[i].dedicated) {
            shmipc_pool_close(l->pools[i].pool);
            l->pools[i] = l->pools[--l->npools];
        } else {
            close(l->pools[i].pool->fd);
            l->pools[i++].pool->fd = -1;
        }
    }
    shmipc__lend_keep_forgotten(l);
}

void shmipc__lend_arena_destroy(shmipc_arena *a)
{
    struct shmipc_lend *l = a->lend;

    shmipc__sources_clear(l->sources);
    if (arena_inherited(a))
        lend_forget(l);
    else
        lend_destroy(l);
    a->lend = NULL;
    a->pools_seq = NULL;
    for (unsigned i = 0; i < SHMIPC_TABLE_SEGS; i++)
        shmipc_arena_close(atomic_exchange(&a->seg[i], NULL));
}

int shmipc__lend_owns(shmipc_arena *a, const void *p)
{
    return shmipc__lend_in_regular_pool(a->lend, p);
}

size_t shmipc__lend_pool_count(shmipc_arena *a)
{
    size_t n;

    pthread_mutex_lock(&a->lend->lock);
    n = a->lend->npools;
    pthread_mutex_unlock(&a->lend->lock);
    return n;
}

void *shmipc__lend_alloc(shmipc_arena *a, size_t size)
{
    void *p;

    if (!size) {
        shmipc__fail(SHMIPC_EINVAL, "lend arena: no room for 0 bytes");
        return NULL;
    }
    if (je_ready(a->lend) != 0)
        return NULL;
    if (!(p = JE(mallocx)(size, shmipc__lend_flags(a->lend))))
        no_room(a->lend, "an allocation", size);
    return p;
}

void shmipc__lend_free(shmipc_arena *a, void *p)
{
    if (shmipc__lend_in_regular_pool(a->lend, p)) {
        JE(dallocx)(p, shmipc__lend_flags(a->lend));
        return;
    }
    shmipc__fail(SHMIPC_EINVAL,
                 "shmipc_free(%p): not an allocation of this lend arena; "
                 "ignored",
                 p);
}

/* ---- objects' bytes ------------------------------------------------------------------ */

/* RAM and swap, in bytes: no object can be larger. */
static size_t machine_memory(void)
{
    struct sysinfo si;

    if (sysinfo(&si) != 0)
        return SIZE_MAX;
    return (size_t)((uint64_t)(si.totalram + si.totalswap) * si.mem_unit);
}

/* Objects' bytes skip the tcaches: freed at once, whichever thread frees them, so that
 * the arena's figures are exact. */
static int object_flags(const struct shmipc_lend *l)
{
    return (int)MALLOCX_ARENA(l->je_arena) | MALLOCX_TCACHE_NONE;
}

/* jemalloc drops a slab as its last block is freed and builds one at the next allocation:
 * an arena with one small object alive at a time (a session's, lending one object per
 * message) would make and unmake a slab with every object. So the bytes of the small object
 * freed last are held back, and the next object of their size class takes them without
 * jemalloc (with many sessions each arena is cold: its bin, slab and lookups are cache
 * misses), or they go back when the next one is freed. The figures give them back first
 * (`used` stays exact). */
#define KEEP_MAX 8192

/* 1 if the small object held back fits `size` bytes exactly as jemalloc would: then it is
 * the new object's (*pl, *ptr). */
static int take_kept(struct shmipc_lend *l, size_t size, struct shmipc_payload *pl, void **ptr)
{
    size_t class = size <= KEEP_MAX ? JE(nallocx)(size, 0) : 0;
    int taken;

    if (!class || atomic_load_explicit(&l->kept_class, memory_order_relaxed) != class)
        return 0; /* nothing kept, or not of this class: no lock taken */
    pthread_mutex_lock(&l->lock);
    taken = l->kept && class == atomic_load_explicit(&l->kept_class, memory_order_relaxed);
    if (taken) {
        *ptr = l->kept;
        *pl = l->kept_pl;
        pl->size = size;
        l->kept = NULL;
        atomic_store_explicit(&l->kept_class, 0, memory_order_relaxed);
    }
    pthread_mutex_unlock(&l->lock);
    return taken;
}

int shmipc__lend_payload_new(shmipc_arena *a, size_t size, struct shmipc_payload *pl,
                             void **ptr)
{
    struct shmipc_lend *l = a->lend;
    struct lend_pool *lp = NULL;
    void *p = NULL;
    int rc = 0;

    /* the system call only for an object of a pool of its own: smaller ones come from
     * pools of l->chunk bytes, which jemalloc's hooks make or fail to make */
    if (size >= l->chunk && size > machine_memory())
        return shmipc__fail(SHMIPC_ENOMEM,
                            "an object of %zu bytes is larger than this "
                            "machine's memory",
                            size);
    if (size >= l->chunk) { /* a pool of its own, returned to the OS when the object dies */
        pthread_mutex_lock(&l->lock);
        if ((rc = shmipc__lend_add_pool(l, size, 0, 1, &lp)) == 0) {
            lp->in_use = size;
            l->dedicated_bytes += size;
            l->dedicated_count++;
            p = lp->pool->base;
        }
    } else if (take_kept(l, size, pl, ptr)) {
        return 0;
    } else {
        if ((rc = je_ready(l)) != 0)
            return rc;
        p = JE(mallocx)(size, object_flags(l));
        pthread_mutex_lock(&l->lock);
        lp = p ? shmipc__lend_pool_of_addr(l, p) : NULL;
    }
    if (lp) {
        pl->pool_id = lp->pool->id;
        pl->data = (uint64_t)((char *)p - lp->pool->base);
        pl->size = size;
    }
    pthread_mutex_unlock(&l->lock);
    if (rc != 0)
        return rc;
    if (!lp)
        return no_room(l, "an object", size);
    *ptr = p;
    return 0;
}

void shmipc__lend_payload_free(shmipc_arena *a, const struct shmipc_payload *pl)
{
    struct shmipc_lend *l = a->lend;
    struct lend_pool *lp;
    void *p = NULL;

    pthread_mutex_lock(&l->lock);
    if ((lp = shmipc__lend_pool_of_id(l, pl->pool_id)) != NULL && lp->dedicated) {
        l->dedicated_bytes -= lp->in_use;
        l->dedicated_count--;
        shmipc__lend_retire_pool(l, lp);
    } else if (lp) {
        p = lp->pool->base + pl->data;
        if (pl->size <= KEEP_MAX) {
            void *older = l->kept;
            l->kept = p;
            l->kept_pl = *pl;
            atomic_store_explicit(&l->kept_class, JE(nallocx)(pl->size, 0),
                                  memory_order_relaxed);
            p = older;
        }
    }
    pthread_mutex_unlock(&l->lock);
    if (p)
        JE(dallocx)(p, object_flags(l));
}

void *shmipc__lend_payload_ptr(shmipc_arena *a, const struct shmipc_payload *pl)
{
    struct shmipc_lend *l = a->lend;
    struct lend_pool *lp;
    void *p = NULL;

    pthread_mutex_lock(&l->lock);
    if ((lp = shmipc__lend_pool_of_id(l, pl->pool_id)) != NULL)
        p = lp->pool->base + pl->data;
    pthread_mutex_unlock(&l->lock);
    return p;
}

int shmipc__lend_pool_fd(shmipc_arena *a, uint64_t pool_id)
{
    struct lend_pool *lp;
    int fd;

    pthread_mutex_lock(&a->lend->lock);
    lp = shmipc__lend_pool_of_id(a->lend, pool_id);
    fd = lp ? lp->pool->fd : -1;
    pthread_mutex_unlock(&a->lend->lock);
    return fd;
}

int shmipc__lend_has_pool(shmipc_arena *a, uint64_t pool_id)
{
    return shmipc__lend_pool_fd(a, pool_id) >= 0;
}

int shmipc__lend_table_fd(shmipc_arena *a, unsigned seg)
{
    shmipc_arena *s = seg >= 1 && seg <= SHMIPC_TABLE_SEGS ? atomic_load(&a->seg[seg - 1])
                                                           : NULL;

    return s ? s->pool->fd : -1;
}

/* ---- releases reported by peers: lend_sources.c's ---------------------------------- */

int shmipc__lend_add_source(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                            uint32_t peer_ep, int peer_pidfd, uint64_t check_every_ns)
{
    return shmipc__sources_add(a->lend->sources, a, ctrl, kind, peer_ep, peer_pidfd,
                               check_every_ns);
}

void shmipc__lend_source_closed(shmipc_arena *a, struct shmipc_ctrl *ctrl)
{
    if (arena_inherited(a)) /* a child's copy: its sources go with it */
        return;
    /* A source done with (its peer holds nothing, or died) goes now, with its control
     * segment and pidfd: not at the next drain, which an app arena with no other session
     * would never see. Only its own: a walk through all would make closing N sessions
     * O(N^2). */
    shmipc__sources_closed(a->lend->sources, a, ctrl);
}

void shmipc__lend_drain(shmipc_arena *a)
{
    shmipc__sources_drain(a->lend->sources, a, 0);
}

void shmipc__lend_tend(shmipc_arena *a)
{
    shmipc__sources_drain(a->lend->sources, a, 1);
}

void shmipc__lend_drain_peer(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                             uint32_t peer_ep)
{
    shmipc__sources_drain_peer(a, ctrl, kind, peer_ep);
}

/* ---- figures ------------------------------------------------------------------------ */

/* A figure of l's jemalloc arena: 0 before it is made. */
static uint64_t je_stat(struct shmipc_lend *l, const char *what)
{
    char name[96];
    uint64_t v = 0;
    size_t vz = sizeof v;

    if (!atomic_load(&l->je_made))
        return 0;
    snprintf(name, sizeof name, "stats.arenas.%u.%s", l->je_arena, what);
    if (JE(mallctl)(name, &v, &vz, NULL, 0) != 0)
        return 0;
    return v;
}

static size_t je_size_stat(struct shmipc_lend *l, const char *what)
{
    char name[96];
    size_t v = 0, vz = sizeof v;

    if (!atomic_load(&l->je_made))
        return 0;
    snprintf(name, sizeof name, "stats.arenas.%u.%s", l->je_arena, what);
    if (JE(mallctl)(name, &v, &vz, NULL, 0) != 0)
        return 0;
    return v;
}

int shmipc__lend_stats(shmipc_arena *a, struct shmipc_arena_stats *out)
{
    struct shmipc_lend *l = a->lend;
    uint64_t epoch = 1;
    size_t ez = sizeof epoch, largest = 0, capacity = 0;
    char name[64];
    void *kept;

    shmipc__lend_drain(a);
    /* The small object held back and this thread's cached blocks are free, not used: give
     * them back first, and the arena's freed pages to the pools. */
    pthread_mutex_lock(&l->lock);
    kept = l->kept;
    l->kept = NULL;
    atomic_store_explicit(&l->kept_class, 0, memory_order_relaxed);
    pthread_mutex_unlock(&l->lock);
    if (kept)
        JE(dallocx)(kept, object_flags(l));
    if (atomic_load(&l->je_made)) { /* else nothing was ever allocated */
        shmipc__lend_tcache_flush(l);
        snprintf(name, sizeof name, "arena.%u.purge", l->je_arena);
        JE(mallctl)(name, NULL, NULL, NULL, 0);
        JE(mallctl)("epoch", &epoch, &ez, &epoch, sizeof epoch);
    }
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < l->npools; i++) {
        capacity += l->pools[i].pool->size;
        for (struct range *r = l->pools[i].free; r; r = r->next)
            largest = r->len > largest ? r->len : largest;
    }
    out->capacity = capacity;
    out->used = je_size_stat(l, "small.allocated") + je_size_stat(l, "large.allocated") +
                l->dedicated_bytes;
    out->allocations = (size_t)(je_stat(l, "small.nmalloc") - je_stat(l, "small.ndalloc") +
                                je_stat(l, "large.nmalloc") - je_stat(l, "large.ndalloc") +
                                l->dedicated_count);
    pthread_mutex_unlock(&l->lock);
    out->free = out->capacity > out->used ? out->capacity - out->used : 0;
    out->largest_free = largest;
    out->named = 0;
    return 0;
}

#else /* no jemalloc: the lend provider is not available */

int shmipc__lend_supported(void)
{
    return shmipc__fail(SHMIPC_ENOTSUP,
                        "the lend provider needs jemalloc, and this build of "
                        "shmipc has none (configure found no jemalloc, or --without-jemalloc)");
}

int shmipc__lend_arena_create(size_t pool_size, shmipc_arena **out)
{
    (void)pool_size;
    (void)out;
    return shmipc__lend_supported();
}

/* Never reached: no lend arena exists in this build. */
void shmipc__lend_arena_destroy(shmipc_arena *a)
{
    (void)a;
}
void *shmipc__lend_alloc(shmipc_arena *a, size_t size)
{
    (void)a, (void)size;
    return NULL;
}
void shmipc__lend_free(shmipc_arena *a, void *p)
{
    (void)a, (void)p;
}
int shmipc__lend_payload_new(shmipc_arena *a, size_t size, struct shmipc_payload *pl,
                             void **ptr)
{
    (void)a, (void)size, (void)pl, (void)ptr;
    return SHMIPC_ENOTSUP;
}
void shmipc__lend_payload_free(shmipc_arena *a, const struct shmipc_payload *pl)
{
    (void)a, (void)pl;
}
void *shmipc__lend_payload_ptr(shmipc_arena *a, const struct shmipc_payload *pl)
{
    (void)a, (void)pl;
    return NULL;
}
int shmipc__lend_pool_fd(shmipc_arena *a, uint64_t pool_id)
{
    (void)a, (void)pool_id;
    return -1;
}
int shmipc__lend_has_pool(shmipc_arena *a, uint64_t pool_id)
{
    (void)a, (void)pool_id;
    return 0;
}
int shmipc__lend_table_fd(shmipc_arena *a, unsigned seg)
{
    (void)a, (void)seg;
    return -1;
}
int shmipc__lend_add_source(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                            uint32_t peer_ep, int peer_pidfd, uint64_t check_every_ns)
{
    (void)a, (void)ctrl, (void)kind, (void)peer_ep, (void)peer_pidfd, (void)check_every_ns;
    return SHMIPC_ENOTSUP;
}
void shmipc__lend_source_closed(shmipc_arena *a, struct shmipc_ctrl *ctrl)
{
    (void)a, (void)ctrl;
}
int shmipc__lend_owns(shmipc_arena *a, const void *p)
{
    (void)a, (void)p;
    return 0;
}
size_t shmipc__lend_pool_count(shmipc_arena *a)
{
    (void)a;
    return 0;
}
void shmipc__lend_drain(shmipc_arena *a)
{
    (void)a;
}
void shmipc__lend_tend(shmipc_arena *a)
{
    (void)a;
}
void shmipc__lend_drain_peer(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                             uint32_t peer_ep)
{
    (void)a, (void)ctrl, (void)kind, (void)peer_ep;
}
int shmipc__lend_stats(shmipc_arena *a, struct shmipc_arena_stats *out)
{
    (void)a, (void)out;
    return SHMIPC_ENOTSUP;
}

#endif

/* ---- the operations table (arena.c dispatches to it) --------------------------------- */

/* jemalloc's figures, and the table's lock counters. */
static int lend_stats(shmipc_arena *a, struct shmipc_arena_stats *out)
{
    int rc = shmipc__lend_stats(a, out);

    if (rc != 0 || (rc = shmipc__arena_lock(a)) != 0)
        return rc;
    out->lock_recoveries = a->hdr->lock_recoveries;
    out->bad_frees = a->hdr->bad_frees;
    shmipc__arena_unlock(a);
    return 0;
}

/* An object: its bytes from jemalloc (or a pool of their own), its record in the table. */
static int lend_obj_new(shmipc_arena *a, size_t size, uint64_t *hold)
{
    struct shmipc_payload pl;
    void *ptr;
    int rc;

    shmipc__lend_tend(a); /* take the releases peers reported: room comes back */
    if ((rc = shmipc__lend_payload_new(a, size, &pl, &ptr)) == SHMIPC_ENOMEM) {
        shmipc__lend_drain(a); /* and those of the last ~1 ms, before giving up */
        rc = shmipc__lend_payload_new(a, size, &pl, &ptr);
    }
    if (rc != 0)
        return rc;
    if ((rc = shmipc__obj_record(a, &pl, hold)) != 0)
        shmipc__lend_payload_free(a, &pl);
    return rc;
}

const struct shmipc_arena_ops shmipc__lend_ops = {
    .what = "a lend arena",
    .provider = SHMIPC_PROVIDER_LEND,
    .writable = 1,
    .named = 0,
    .alloc = shmipc__lend_alloc,
    .free = shmipc__lend_free,
    .alloc_size = shmipc__arena_no_alloc_size,
    .stats = lend_stats,
    .check = shmipc__shared_check,
    .to_poolrel = shmipc__arena_no_poolrel,
    .from_poolrel = shmipc__arena_no_from_poolrel,
    .obj_new = lend_obj_new,
    .payload_ptr = shmipc__lend_payload_ptr,
    .payload_free = shmipc__lend_payload_free,
    .destroy = shmipc__lend_arena_destroy,
};
