/* lend_internal.h — the parts of the lend provider's owner side (provider_lend.c: the
 * jemalloc arena; lend_pools.c: its data pools and extent hooks; lend_tcache.c: the
 * per-thread tcaches) as they see each other, and jemalloc's entry points.
 * Only with jemalloc (SHMIPC_HAVE_JEMALLOC). */
#ifndef SHMIPC_LEND_INTERNAL_H
#define SHMIPC_LEND_INTERNAL_H

#ifdef SHMIPC_HAVE_JEMALLOC
/* jemalloc by its je_ names, whatever its symbols' prefix: the bundled one's shmipc_je_
 * (deps/jemalloc, static and hidden in libshmipc: no initial-exec TLS, no malloc
 * replacement, so the library loads into any process at any time), or none for a system
 * jemalloc (./configure --with-system-jemalloc). */
#define JEMALLOC_NO_DEMANGLE
#include <jemalloc/jemalloc.h>

#include "arena.h"
#include "lend.h"

#define JE(f) je_##f

/* A free range of a regular pool, in a sorted singly linked list. */
struct range {
    struct range *next;
    size_t off, len;
};

struct lend_pool {
    shmipc_pool *pool;
    struct range *free; /* regular pools: free ranges, sorted by offset */
    size_t in_use;      /* bytes handed out (to jemalloc or to a dedicated object) */
    size_t fresh;       /* regular pools: no byte from here on was ever handed out (the
                         * memfd's own zeroes: jemalloc's zeroed extents need no memset) */
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
    unsigned je_arena;    /* made at the first allocation (provider_lend.c's je_ready) */
    atomic_int je_made;   /* 1 once je_arena is: written under make_lock */
    pthread_mutex_t make_lock;
    uint64_t uid;         /* never reused: tells a thread's cached tcache of a dead arena */
    size_t chunk;         /* size of a regular pool; objects this large get their own */
    pthread_mutex_t lock; /* pools */
    struct lend_pool *pools;
    size_t npools, cap;
    atomic_ullong pools_seq;    /* bumps when a pool is retired */
    struct tcache_reg *tcaches; /* guarded by tc_lock */
    size_t dedicated_bytes;     /* guarded by lock */
    void *kept; /* lock: the small object's bytes freed last (provider_lend.c) */
    struct shmipc_payload kept_pl; /* lock: where they are */
    atomic_size_t kept_class;      /* written under lock: their size class (jemalloc's nallocx),
                               * 0 when none is kept; read without it to skip the lock */
    uint64_t dedicated_count;
    int grow_rc; /* lock: why the last new regular pool could not be made */
    char grow_why[256];
    struct span spans[SHMIPC_LEND_POOLS_MAX]; /* of the regular pools */
    atomic_size_t nspans;
    struct shmipc_lend_sources *sources; /* peers that report releases (lend_sources.c) */
    struct shmipc_lend *forgotten_next;  /* in a child: see lend_forget */
};

/* ---- data pools and extent hooks (lend_pools.c; pools under l->lock) -------------------- */
/* What jemalloc calls for l's extents: copied into l->hooks. */
SHMIPC_HIDDEN extern const extent_hooks_t shmipc__lend_hooks;
SHMIPC_HIDDEN struct lend_pool *shmipc__lend_pool_of_addr(struct shmipc_lend *l, const void *p);
SHMIPC_HIDDEN struct lend_pool *shmipc__lend_pool_of_id(struct shmipc_lend *l, uint64_t id);
/* Create, map (aligned), seal and register a pool of `size` usable bytes.
 * @return 0, or the error of what failed (its detail set). */
SHMIPC_HIDDEN int shmipc__lend_add_pool(struct shmipc_lend *l, size_t size, size_t align,
                                        int dedicated, struct lend_pool **out);
/* Unmap and forget a pool (its pages go once peers have unmapped it too). */
SHMIPC_HIDDEN void shmipc__lend_retire_pool(struct shmipc_lend *l, struct lend_pool *lp);
/* 1 if p lies in one of l's regular pools (no lock: spans are only ever added). */
SHMIPC_HIDDEN int shmipc__lend_in_regular_pool(struct shmipc_lend *l, const void *p);

/* ---- per-thread explicit tcaches (lend_tcache.c) ---------------------------------------- */
/* A never-reused arena uid. */
SHMIPC_HIDDEN uint64_t shmipc__lend_next_uid(void);
/* Register l as live (its tcaches can be made); -1 if out of memory. */
SHMIPC_HIDDEN int shmipc__lend_register(struct shmipc_lend *l);
/* Unregister l and destroy every tcache made for it. */
SHMIPC_HIDDEN void shmipc__lend_unregister(struct shmipc_lend *l);
/* mallocx/dallocx flags for l: its arena, this thread's tcache for it. */
SHMIPC_HIDDEN int shmipc__lend_flags(struct shmipc_lend *l);
/* Give this thread's cached blocks of l back to the arena. */
SHMIPC_HIDDEN void shmipc__lend_tcache_flush(struct shmipc_lend *l);
/* Keep a forked child's copy of its parent's arena on the forgotten list. */
SHMIPC_HIDDEN void shmipc__lend_keep_forgotten(struct shmipc_lend *l);

#endif
#endif
