/* lend.h — the lend provider as the rest of the core sees it: the owner's arena
 * (provider_lend.c: jemalloc over memfd pools only the owner can write) and a peer's
 * read-only view of one (provider_view.c). Built without jemalloc, creating a lend arena
 * fails with ENOTSUP and nothing else here is ever reached. */
#ifndef SHMIPC_LEND_H
#define SHMIPC_LEND_H

#include "arena.h"

struct shmipc_ctrl;

/* ---- the owner's lend arena (provider_lend.c) -------------------------------------------- */
/* The size of a lend arena's table's first pool (tests make it small to see it grow). */
SHMIPC_HIDDEN extern size_t shmipc__lend_table_size;
/* 0 if this build has the lend provider, else ENOTSUP with the reason. */
SHMIPC_HIDDEN int shmipc__lend_supported(void);
/* A lend arena whose regular data pools are pool_size bytes. ENOTSUP without jemalloc. */
SHMIPC_HIDDEN int shmipc__lend_arena_create(size_t pool_size, shmipc_arena **out);
SHMIPC_HIDDEN void shmipc__lend_arena_destroy(shmipc_arena *a);
/* Raw allocations (shmipc_alloc/shmipc_free on a lend arena): jemalloc, this thread's
 * tcache. A pointer that is not from the arena's pools is refused, never passed on. */
SHMIPC_HIDDEN void *shmipc__lend_alloc(shmipc_arena *a, size_t size);
SHMIPC_HIDDEN void shmipc__lend_free(shmipc_arena *a, void *p);
/* 1 if p lies in one of the arena's regular data pools. */
SHMIPC_HIDDEN int shmipc__lend_owns(shmipc_arena *a, const void *p);
/* How many data pools the arena has now. */
SHMIPC_HIDDEN size_t shmipc__lend_pool_count(shmipc_arena *a);
/* An object's bytes: from jemalloc, or a pool of their own when they are at least a
 * pool's size. *ptr is where the owner writes them. */
SHMIPC_HIDDEN int shmipc__lend_payload_new(shmipc_arena *a, size_t size,
                                           struct shmipc_payload *pl, void **ptr);
SHMIPC_HIDDEN void shmipc__lend_payload_free(shmipc_arena *a, const struct shmipc_payload *pl);
SHMIPC_HIDDEN void *shmipc__lend_payload_ptr(shmipc_arena *a, const struct shmipc_payload *pl);
/* The descriptor of data pool `pool_id` (owned by the arena), to announce it to a peer; -1
 * if the arena has no such pool. */
SHMIPC_HIDDEN int shmipc__lend_pool_fd(shmipc_arena *a, uint64_t pool_id);
/* Changes whenever a data pool is retired (a session then looks for the pools it
 * announced that went: not at every new pool, which would make announcing n pools cost
 * n^2 look-ups each). */
static inline uint64_t shmipc__lend_pools_seq(shmipc_arena *a)
{
    return atomic_load(a->pools_seq); /* inline: a lend looks at every call */
}
SHMIPC_HIDDEN int shmipc__lend_has_pool(shmipc_arena *a, uint64_t pool_id);
/* The descriptor of the table's pool number seg (1..: its segments, arena.h), to announce
 * it to a peer; -1 if the table has not grown so far. Table pools last as long as the
 * arena. */
SHMIPC_HIDDEN int shmipc__lend_table_fd(shmipc_arena *a, unsigned seg);
SHMIPC_HIDDEN int shmipc__lend_stats(shmipc_arena *a, struct shmipc_arena_stats *out);
/* Releases reported by peers: a session registers the release ring of each peer that may
 * borrow from the arena. The owner takes what they report on its own threads: in
 * shmipc_obj_new, shmipc_arena_stats and the session calls (send, recv, lend, poll, close).
 * A source stays after its session closes, for as long as the peer holds loans and lives:
 * whether it lives is its pidfd's answer (a dup of peer_pidfd, if >= 0), else its endpoint's
 * record's (proc.c), asked at most every check_every_ns (the session layer's policy). */
SHMIPC_HIDDEN int shmipc__lend_add_source(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                                          uint32_t peer_ep, int peer_pidfd,
                                          uint64_t check_every_ns);
SHMIPC_HIDDEN void shmipc__lend_source_closed(shmipc_arena *a, struct shmipc_ctrl *ctrl);
/* Take the reports of every source now (and ask those due whether their peers live). */
SHMIPC_HIDDEN void shmipc__lend_drain(shmipc_arena *a);
/* The same, if no walk through the sources was made lately (~1 ms, ~1 ms per 64 sources):
 * the calls on a hot path, which an arena with a source per session would otherwise make
 * O(sessions). */
SHMIPC_HIDDEN void shmipc__lend_tend(shmipc_arena *a);
/* Take the reports of one source: the peer of a session, by its control segment. */
SHMIPC_HIDDEN void shmipc__lend_drain_peer(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                                           uint32_t peer_ep);
/* For tests: the tcaches made so far in this process (one per thread and arena it allocates
 * in with shmipc_alloc/shmipc_free), and those alive now (lend_tcache.c; 0 without
 * jemalloc). */
SHMIPC_HIDDEN void shmipc__lend_tcache_counts(uint64_t *made, uint64_t *alive);
/* For tests: the slots of the calling thread's table of tcaches. */
SHMIPC_HIDDEN size_t shmipc__lend_tcache_slots(void);

/* ---- the release sources of a lend arena (lend_sources.c) ---------------------------- */
struct shmipc_lend_sources;
SHMIPC_HIDDEN int shmipc__sources_new(struct shmipc_lend_sources **out);
/* Drop every source (a destroyed arena's; a forked child's copy's). */
SHMIPC_HIDDEN void shmipc__sources_clear(struct shmipc_lend_sources *src);
SHMIPC_HIDDEN void shmipc__sources_free(struct shmipc_lend_sources *src);
/* shmipc__lend_add_source, shmipc__lend_source_closed, shmipc__lend_drain (if_due: 0),
 * shmipc__lend_tend (if_due: 1) and shmipc__lend_drain_peer of arena a. */
SHMIPC_HIDDEN int shmipc__sources_add(struct shmipc_lend_sources *src, shmipc_arena *a,
                                      struct shmipc_ctrl *ctrl, int kind, uint32_t peer_ep,
                                      int peer_pidfd, uint64_t check_every_ns);
SHMIPC_HIDDEN void shmipc__sources_closed(struct shmipc_lend_sources *src, shmipc_arena *a,
                                          struct shmipc_ctrl *ctrl);
SHMIPC_HIDDEN void shmipc__sources_drain(struct shmipc_lend_sources *src, shmipc_arena *a,
                                         int if_due);
SHMIPC_HIDDEN void shmipc__sources_drain_peer(shmipc_arena *a, struct shmipc_ctrl *ctrl,
                                              int kind, uint32_t peer_ep);

/* ---- a peer's lend arena, seen read-only (provider_view.c) ------------------------------- */
struct shmipc_view_pool;

/* A view over a peer's table pool (mapped read-only; the view owns it on success). */
SHMIPC_HIDDEN int shmipc__view_create(shmipc_pool *table, shmipc_arena **out);
SHMIPC_HIDDEN void shmipc__view_destroy(shmipc_arena *a);
/* A data pool the peer announced (fd is the caller's; the view maps its own copy). */
SHMIPC_HIDDEN int shmipc__view_add_pool(shmipc_arena *a, int fd);
/* Pool number seg (1..) of the peer's refcount table, announced as it grew (fd is the
 * caller's). A loan whose records are in a table pool not known here fails to borrow. */
SHMIPC_HIDDEN int shmipc__view_add_table(shmipc_arena *a, unsigned seg, int fd);
/* An announced pool that could not be taken (no descriptor or no address space left
 * here): borrowing from it fails with rc and the detail of that moment. fd (the caller's;
 * -1 if it was not received) is kept, and the next borrow from the pool takes it again. */
SHMIPC_HIDDEN void shmipc__view_pool_lost(shmipc_arena *a, uint64_t pool_id, int rc, int fd);
/* The peer retired a pool: unmapped once no borrowed object uses it. */
SHMIPC_HIDDEN void shmipc__view_retire_pool(shmipc_arena *a, uint64_t pool_id);
/* Where pl's bytes are mapped here, and loan (loan, gen) claimed for this borrow (one lock):
 * ENOENT if the pool is not (yet) known, EBADBLOB if pl does not fit in it or the loan was
 * borrowed already (a loan is borrowed once; claims are forgotten once the owner has
 * dropped the loan), the error of shmipc__view_pool_lost if the pool could not be taken.
 * On success the pool is held until shmipc__view_unmap(*vp). */
SHMIPC_HIDDEN int shmipc__view_map(shmipc_arena *a, const struct shmipc_payload *pl,
                                   uint64_t loan, uint64_t gen, const void **ptr,
                                   struct shmipc_view_pool **vp);
/* Let go of a pool shmipc__view_map held (no lock: the last count unmaps a retired one). */
SHMIPC_HIDDEN void shmipc__view_unmap(struct shmipc_view_pool *vp);
/* Slots of the claim table (for tests: it stays sized for the loans that live). */
SHMIPC_HIDDEN size_t shmipc__view_claims_cap(shmipc_arena *a);

#endif
