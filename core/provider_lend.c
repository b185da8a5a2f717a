/* provider_lend.c — the lend provider's arenas, owner side: a dedicated jemalloc arena whose
 * extents come from memfd pools that only this process maps writable, sealed
 * F_SEAL_FUTURE_WRITE before any peer sees them, so peers can only ever map them
 * read-only. Owns the extent hooks, the data pools (regular pools that jemalloc carves,
 * grown on demand, and dedicated pools for objects of at least a pool's size, returned to
 * the OS when they die), the per-thread explicit tcaches, and the arena's refcount table
 * (a shared arena of its own in a pool of its own, read-only to peers). The peers that
 * report releases are lend_sources.c's.
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

#ifdef SHMIPC_HAVE_JEMALLOC
/* jemalloc by its je_ names, whatever its symbols' prefix: the bundled one's shmipc_je_
 * (deps/jemalloc, static and hidden in libshmipc: no initial-exec TLS, no malloc
 * replacement, so the library loads into any process at any time), or none for a system
 * jemalloc (./configure --with-system-jemalloc). */
#define JEMALLOC_NO_DEMANGLE
#include <jemalloc/jemalloc.h>

#define JE(f) je_##f

#define TABLE_SIZE ((size_t)64 << 20) /* virtual; pages are touched as records are made */
#define CHUNK_ALIGN ((size_t)2 << 20) /* jemalloc asks for huge-page-aligned metadata */
#define TLS_SLOTS 8
#define RANGES_MAX 4096 /* regular pools an arena may grow to */

/* A free range of a regular pool, in a sorted singly linked list. */
struct range {
    struct range *next;
    size_t off, len;
};

struct lend_pool {
    shmipc_pool *pool;
    struct range *free; /* regular pools: free ranges, sorted by offset */
    size_t in_use;      /* bytes handed out (to jemalloc or to a dedicated object) */
    int dedicated;
};

/* A tcache created for one thread's use of one arena. */
struct tcache_reg {
    struct tcache_reg *next;
    unsigned tc;
};

/* The address range of a regular pool, readable without the lock (regular pools are only
 * ever added while the arena lives): the raw free path checks ownership with it. */
struct span {
    _Atomic uintptr_t start, end;
};

struct shmipc_lend {
    extent_hooks_t hooks; /* first member: the hooks get it back as their first argument */
    unsigned je_arena;
    uint64_t uid;         /* never reused: tells a thread's cached tcache of a dead arena */
    size_t chunk;         /* size of a regular pool; objects this large get their own */
    pthread_mutex_t lock; /* pools */
    struct lend_pool *pools;
    size_t npools, cap;
    atomic_ullong pools_seq; /* bumps when a pool is retired */
    struct tcache_reg *tcaches; /* guarded by tc_lock */
    size_t dedicated_bytes;     /* guarded by lock */
    uint64_t dedicated_count;
    struct span spans[RANGES_MAX];
    atomic_size_t nspans;
    struct shmipc_lend_sources *sources; /* peers that report releases (lend_sources.c) */
    struct shmipc_lend *forgotten_next; /* in a child: see lend_forget */
};

/* ---- pools ------------------------------------------------------------------------- */

static struct lend_pool *pool_of_addr(struct shmipc_lend *l, const void *p)
{
    for (size_t i = 0; i < l->npools; i++) {
        const char *b = l->pools[i].pool->base;
        if ((const char *)p >= b && (const char *)p < b + l->pools[i].pool->size)
            return &l->pools[i];
    }
    return NULL;
}

static struct lend_pool *pool_of_id(struct shmipc_lend *l, uint64_t id)
{
    for (size_t i = 0; i < l->npools; i++)
        if (l->pools[i].pool->id == id)
            return &l->pools[i];
    return NULL;
}

/* Create, map (aligned), seal and register a pool of `size` usable bytes.
 * @return 0, or the error of what failed (its detail set). */
static int add_pool(struct shmipc_lend *l, size_t size, size_t align, int dedicated,
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
    if (!dedicated && atomic_load(&l->nspans) == RANGES_MAX)
        return shmipc__fail(SHMIPC_ENOMEM, "lend arena: already %d pools", RANGES_MAX);
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

/* Unmap and forget a pool (its pages go once peers have unmapped it too). */
static void retire_pool(struct shmipc_lend *l, struct lend_pool *lp)
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

/* First fit of `size` bytes aligned to `align` in a regular pool's free ranges. */
static void *take_range(struct lend_pool *lp, size_t size, size_t align)
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
            p = take_range(&l->pools[i], size, align);
    if (!p) {
        size_t want = size + align > l->chunk ? size + align : l->chunk;
        struct lend_pool *lp;
        if (add_pool(l, want, CHUNK_ALIGN, 0, &lp) == 0)
            p = take_range(lp, size, align);
    }
    pthread_mutex_unlock(&l->lock);
    if (p && *zero)
        memset(p, 0, size); /* a reused range holds old bytes */
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
    lp = pool_of_addr(l, addr);
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

/* Pages stay committed: a sealed memfd cannot punch holes (see the top of this file). */
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

static bool hook_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
                       size_t size_b, bool committed, unsigned arena_ind)
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
    same = pool_of_addr(l, addr_a) == pool_of_addr(l, addr_b);
    pthread_mutex_unlock(&l->lock);
    return !same;
}

static const extent_hooks_t hooks_template = {
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

/* ---- per-thread explicit tcaches ----------------------------------------------------- */
/* jemalloc's automatic tcache would hand this arena blocks cached from other arenas (they
 * would lie outside our pools), and an explicit tcache serves one thread at a time: each
 * thread gets its own per arena, found in a small thread-local table keyed by the arena's
 * never-reused uid. A closing arena destroys every tcache made for it; a thread's entry
 * for a dead arena is never matched again. */

static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong next_uid = 1;

struct tls_slot {
    uint64_t uid;
    unsigned tc;
    struct shmipc_lend *lend;
};

static _Thread_local struct tls_slot tls[TLS_SLOTS];
static _Thread_local unsigned tls_next;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

/* Destroy tc if it is still registered with l (under tc_lock). */
static void drop_tcache_locked(struct shmipc_lend *l, unsigned tc)
{
    for (struct tcache_reg **rp = &l->tcaches; *rp; rp = &(*rp)->next) {
        if ((*rp)->tc == tc) {
            struct tcache_reg *r = *rp;
            *rp = r->next;
            JE(mallctl)("tcache.destroy", NULL, NULL, &tc, sizeof tc);
            free(r);
            return;
        }
    }
}

/* Registry of live arenas, so that a thread's slot can tell a live arena from a dead one
 * when the thread exits (under tc_lock). */
static struct shmipc_lend **live;
static size_t nlive, caplive;

static int is_live_locked(struct shmipc_lend *l, uint64_t uid)
{
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == l && l->uid == uid)
            return 1;
    return 0;
}

static void release_slot(struct tls_slot *s)
{
    if (!s->uid)
        return;
    pthread_mutex_lock(&tc_lock);
    if (is_live_locked(s->lend, s->uid))
        drop_tcache_locked(s->lend, s->tc);
    pthread_mutex_unlock(&tc_lock);
    s->uid = 0;
}

static void thread_exit(void *unused)
{
    (void)unused;
    for (unsigned i = 0; i < TLS_SLOTS; i++)
        release_slot(&tls[i]);
}

static void tls_init(void)
{
    pthread_key_create(&tls_key, thread_exit);
}

/* This thread's tcache for l, made on first use; -1 if none can be made. */
static int thread_tcache(struct shmipc_lend *l)
{
    struct tls_slot *s;
    struct tcache_reg *reg;
    unsigned tc;
    size_t sz = sizeof tc;

    for (unsigned i = 0; i < TLS_SLOTS; i++)
        if (tls[i].uid == l->uid)
            return (int)tls[i].tc;
    pthread_once(&tls_once, tls_init);
    pthread_setspecific(tls_key, tls); /* non-NULL: run thread_exit */
    s = &tls[tls_next++ % TLS_SLOTS];
    release_slot(s);
    if (!(reg = malloc(sizeof *reg)))
        return -1;
    if (JE(mallctl)("tcache.create", &tc, &sz, NULL, 0) != 0) {
        free(reg);
        return -1;
    }
    reg->tc = tc;
    pthread_mutex_lock(&tc_lock);
    reg->next = l->tcaches;
    l->tcaches = reg;
    pthread_mutex_unlock(&tc_lock);
    s->uid = l->uid;
    s->tc = tc;
    s->lend = l;
    return (int)tc;
}

static int flags_of(struct shmipc_lend *l)
{
    int tc = thread_tcache(l);
    return (int)MALLOCX_ARENA(l->je_arena) | (tc >= 0 ? MALLOCX_TCACHE(tc) : MALLOCX_TCACHE_NONE);
}

/* ---- arena life ------------------------------------------------------------------------ */

static int set_arena_knob(unsigned arena, const char *knob, const void *val, size_t len)
{
    char name[64];

    snprintf(name, sizeof name, "arena.%u.%s", arena, knob);
    return JE(mallctl)(name, NULL, NULL, (void *)val, len);
}

/* At fork, tc_lock is held so that the child gets the registry whole; the child forgets
 * the parent's arenas, so that no slot of the forking thread ever destroys one of their
 * tcaches (whose blocks are the parent's). */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void tc_prefork(void)
{
    pthread_mutex_lock(&tc_lock);
}

static void tc_postfork_parent(void)
{
    pthread_mutex_unlock(&tc_lock);
}

static void tc_postfork_child(void)
{
    nlive = 0;
    pthread_mutex_unlock(&tc_lock);
}

static void register_atfork(void)
{
    pthread_atfork(tc_prefork, tc_postfork_parent, tc_postfork_child);
}

static int register_live(struct shmipc_lend *l)
{
    int rc = 0;

    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&tc_lock);
    if (nlive == caplive) {
        size_t cap = caplive ? 2 * caplive : 16;
        struct shmipc_lend **grown = realloc(live, cap * sizeof *grown);
        if (grown) {
            live = grown;
            caplive = cap;
        }
    }
    if (nlive < caplive)
        live[nlive++] = l;
    else
        rc = -1;
    pthread_mutex_unlock(&tc_lock);
    return rc;
}

static void unregister_live(struct shmipc_lend *l)
{
    pthread_mutex_lock(&tc_lock);
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == l)
            live[i] = live[--nlive];
    while (l->tcaches)
        drop_tcache_locked(l, l->tcaches->tc);
    pthread_mutex_unlock(&tc_lock);
}

static void lend_free(struct shmipc_lend *l)
{
    while (l->npools)
        retire_pool(l, &l->pools[l->npools - 1]);
    free(l->pools);
    pthread_mutex_destroy(&l->lock);
    shmipc__sources_free(l->sources);
    free(l);
}

static int lend_new(size_t chunk, struct shmipc_lend **out)
{
    struct shmipc_lend *l = calloc(1, sizeof *l);
    extent_hooks_t *hp;
    ssize_t zero = 0;
    size_t sz = sizeof l->je_arena;
    int rc;

    if (!l)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a lend arena");
    pthread_mutex_t *const locks[] = {&l->lock};
    l->hooks = hooks_template;
    l->chunk = chunk;
    l->uid = atomic_fetch_add(&next_uid, 1);
    if ((rc = shmipc__sources_new(&l->sources)) != 0) {
        free(l);
        return rc;
    }
    if ((rc = shmipc__mutexes_init(locks, 1, "a lend arena")) != 0) {
        shmipc__sources_free(l->sources);
        free(l);
        return rc;
    }
    hp = &l->hooks;
    if (JE(mallctl)("arenas.create", &l->je_arena, &sz, &hp, sizeof hp) != 0) {
        lend_free(l);
        return shmipc__fail(SHMIPC_ENOMEM, "jemalloc could not create an arena (its pools "
                            "could not be made?)");
    }
    /* Freed extents come back to the hooks at once (no decay), and growth asks for at
     * most a pool at a time. */
    set_arena_knob(l->je_arena, "dirty_decay_ms", &zero, sizeof zero);
    set_arena_knob(l->je_arena, "muzzy_decay_ms", &zero, sizeof zero);
    set_arena_knob(l->je_arena, "retain_grow_limit", &chunk, sizeof chunk);
    if (register_live(l) != 0) {
        set_arena_knob(l->je_arena, "destroy", NULL, 0);
        lend_free(l);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a lend arena");
    }
    *out = l;
    return 0;
}

static void lend_destroy(struct shmipc_lend *l)
{
    char name[64];

    unregister_live(l);
    snprintf(name, sizeof name, "arena.%u.destroy", l->je_arena);
    JE(mallctl)(name, NULL, NULL, NULL, 0);
    lend_free(l);
}

/* ---- the shmipc_arena of the lend provider ----------------------------------------- */

int shmipc__lend_supported(void)
{
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
    if ((rc = shmipc_pool_create(NULL, TABLE_SIZE, 0, &tpool)) != 0)
        return rc;
    if ((rc = shmipc_arena_create(tpool, &a)) != 0) {
        shmipc_pool_close(tpool);
        return rc;
    }
    if ((rc = shmipc__pool_seal_owner(tpool)) != 0 || (rc = lend_new(pool_size, &l)) != 0) {
        shmipc_arena_close(a);
        return rc;
    }
    a->ops = &shmipc__lend_ops;
    a->lend = l;
    *out = a;
    return 0;
}

/* A forked child's copies of its parent's arenas, kept: jemalloc still knows them. */
static struct shmipc_lend *forgotten;

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
    pthread_mutex_lock(&tc_lock);
    l->forgotten_next = forgotten;
    forgotten = l;
    pthread_mutex_unlock(&tc_lock);
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
}

/* 1 if p lies in one of l's regular pools (no lock: spans are only ever added). */
static int in_regular_pool(struct shmipc_lend *l, const void *p)
{
    size_t n = atomic_load_explicit(&l->nspans, memory_order_acquire);
    uintptr_t q = (uintptr_t)p;

    for (size_t i = 0; i < n; i++)
        if (q >= atomic_load_explicit(&l->spans[i].start, memory_order_relaxed) &&
            q < atomic_load_explicit(&l->spans[i].end, memory_order_relaxed))
            return 1;
    return 0;
}

int shmipc__lend_owns(shmipc_arena *a, const void *p)
{
    return in_regular_pool(a->lend, p);
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
    void *p = size ? JE(mallocx)(size, flags_of(a->lend)) : NULL;

    if (!p)
        shmipc__fail(size ? SHMIPC_ENOMEM : SHMIPC_EINVAL, "lend arena: no room for %zu "
                     "bytes", size);
    return p;
}

void shmipc__lend_free(shmipc_arena *a, void *p)
{
    if (in_regular_pool(a->lend, p)) {
        JE(dallocx)(p, flags_of(a->lend));
        return;
    }
    shmipc__fail(SHMIPC_EINVAL, "shmipc_free(%p): not an allocation of this lend arena; "
                 "ignored", p);
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

int shmipc__lend_payload_new(shmipc_arena *a, size_t size, struct shmipc_payload *pl,
                             void **ptr)
{
    struct shmipc_lend *l = a->lend;
    struct lend_pool *lp = NULL;
    void *p = NULL;
    int rc = 0;

    if (size > machine_memory())
        return shmipc__fail(SHMIPC_ENOMEM, "an object of %zu bytes is larger than this "
                            "machine's memory", size);
    if (size >= l->chunk) { /* a pool of its own, returned to the OS when the object dies */
        pthread_mutex_lock(&l->lock);
        if ((rc = add_pool(l, size, 0, 1, &lp)) == 0) {
            lp->in_use = size;
            l->dedicated_bytes += size;
            l->dedicated_count++;
            p = lp->pool->base;
        }
    } else {
        p = JE(mallocx)(size, object_flags(l));
        pthread_mutex_lock(&l->lock);
        lp = p ? pool_of_addr(l, p) : NULL;
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
        return shmipc__fail(SHMIPC_ENOMEM, "lend arena: no room for an object of %zu bytes "
                            "(no memory for a new pool?)", size);
    *ptr = p;
    return 0;
}

void shmipc__lend_payload_free(shmipc_arena *a, const struct shmipc_payload *pl)
{
    struct shmipc_lend *l = a->lend;
    struct lend_pool *lp;
    void *p = NULL;

    pthread_mutex_lock(&l->lock);
    if ((lp = pool_of_id(l, pl->pool_id)) != NULL && lp->dedicated) {
        l->dedicated_bytes -= lp->in_use;
        l->dedicated_count--;
        retire_pool(l, lp);
    } else if (lp) {
        p = lp->pool->base + pl->data;
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
    if ((lp = pool_of_id(l, pl->pool_id)) != NULL)
        p = lp->pool->base + pl->data;
    pthread_mutex_unlock(&l->lock);
    return p;
}

int shmipc__lend_pool_fd(shmipc_arena *a, uint64_t pool_id)
{
    struct lend_pool *lp;
    int fd;

    pthread_mutex_lock(&a->lend->lock);
    lp = pool_of_id(a->lend, pool_id);
    fd = lp ? lp->pool->fd : -1;
    pthread_mutex_unlock(&a->lend->lock);
    return fd;
}

uint64_t shmipc__lend_pools_seq(shmipc_arena *a)
{
    return atomic_load(&a->lend->pools_seq);
}

int shmipc__lend_has_pool(shmipc_arena *a, uint64_t pool_id)
{
    return shmipc__lend_pool_fd(a, pool_id) >= 0;
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
    if (!arena_inherited(a)) /* a child's copy: its sources go with it */
        shmipc__sources_closed(a->lend->sources, ctrl);
}

void shmipc__lend_drain(shmipc_arena *a)
{
    shmipc__sources_drain(a->lend->sources, a);
}

/* ---- figures ------------------------------------------------------------------------ */

static uint64_t je_stat(unsigned arena, const char *what)
{
    char name[96];
    uint64_t v = 0;
    size_t vz = sizeof v;

    snprintf(name, sizeof name, "stats.arenas.%u.%s", arena, what);
    if (JE(mallctl)(name, &v, &vz, NULL, 0) != 0)
        return 0;
    return v;
}

static size_t je_size_stat(unsigned arena, const char *what)
{
    char name[96];
    size_t v = 0, vz = sizeof v;

    snprintf(name, sizeof name, "stats.arenas.%u.%s", arena, what);
    if (JE(mallctl)(name, &v, &vz, NULL, 0) != 0)
        return 0;
    return v;
}

int shmipc__lend_stats(shmipc_arena *a, struct shmipc_arena_stats *out)
{
    struct shmipc_lend *l = a->lend;
    uint64_t epoch = 1;
    size_t ez = sizeof epoch, largest = 0, capacity = 0;
    int tc;

    shmipc__lend_drain(a);
    /* This thread's cached blocks are free, not used: give them back first. */
    for (unsigned i = 0; i < TLS_SLOTS; i++)
        if (tls[i].uid == l->uid && (tc = (int)tls[i].tc) >= 0)
            JE(mallctl)("tcache.flush", NULL, NULL, &tc, sizeof tc);
    JE(mallctl)("epoch", &epoch, &ez, &epoch, sizeof epoch);
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < l->npools; i++) {
        capacity += l->pools[i].pool->size;
        for (struct range *r = l->pools[i].free; r; r = r->next)
            largest = r->len > largest ? r->len : largest;
    }
    out->capacity = capacity;
    out->used = je_size_stat(l->je_arena, "small.allocated") +
                je_size_stat(l->je_arena, "large.allocated") + l->dedicated_bytes;
    out->allocations = (size_t)(je_stat(l->je_arena, "small.nmalloc") -
                                je_stat(l->je_arena, "small.ndalloc") +
                                je_stat(l->je_arena, "large.nmalloc") -
                                je_stat(l->je_arena, "large.ndalloc") + l->dedicated_count);
    pthread_mutex_unlock(&l->lock);
    out->free = out->capacity > out->used ? out->capacity - out->used : 0;
    out->largest_free = largest;
    out->named = 0;
    return 0;
}

#else /* no jemalloc: the lend provider is not available */

int shmipc__lend_supported(void)
{
    return shmipc__fail(SHMIPC_ENOTSUP, "the lend provider needs jemalloc, and this build of "
                        "shmipc has none (configure found no jemalloc, or --without-jemalloc)");
}

int shmipc__lend_arena_create(size_t pool_size, shmipc_arena **out)
{
    (void)pool_size;
    (void)out;
    return shmipc__lend_supported();
}

/* Never reached: no lend arena exists in this build. */
void shmipc__lend_arena_destroy(shmipc_arena *a) { (void)a; }
void *shmipc__lend_alloc(shmipc_arena *a, size_t size) { (void)a, (void)size; return NULL; }
void shmipc__lend_free(shmipc_arena *a, void *p) { (void)a, (void)p; }
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
int shmipc__lend_pool_fd(shmipc_arena *a, uint64_t pool_id) { (void)a, (void)pool_id; return -1; }
uint64_t shmipc__lend_pools_seq(shmipc_arena *a) { (void)a; return 0; }
int shmipc__lend_has_pool(shmipc_arena *a, uint64_t pool_id) { (void)a, (void)pool_id; return 0; }
int shmipc__lend_add_source(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                            uint32_t peer_ep, int peer_pidfd, uint64_t check_every_ns)
{
    (void)a, (void)ctrl, (void)kind, (void)peer_ep, (void)peer_pidfd, (void)check_every_ns;
    return SHMIPC_ENOTSUP;
}
void shmipc__lend_source_closed(shmipc_arena *a, struct shmipc_ctrl *ctrl) { (void)a, (void)ctrl; }
int shmipc__lend_owns(shmipc_arena *a, const void *p) { (void)a, (void)p; return 0; }
size_t shmipc__lend_pool_count(shmipc_arena *a) { (void)a; return 0; }
void shmipc__lend_drain(shmipc_arena *a) { (void)a; }
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

    shmipc__lend_drain(a); /* take the releases peers reported: room comes back */
    if ((rc = shmipc__lend_payload_new(a, size, &pl, &ptr)) != 0)
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
