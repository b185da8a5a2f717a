/* arena.h — the layout of a shared arena inside its pool, the allocator's internal entry
 * points and the providers' operations table, shared by tlsf.c (the allocator), named.c
 * (the name directory), reftable.c (the refcount table), arena.c (the public API, which
 * dispatches to the providers) and the providers (provider_shared.c, provider_lend.c,
 * provider_view.c). Every word of it is a uint64_t so that the undo log can restore it. */
#ifndef SHMIPC_ARENA_H
#define SHMIPC_ARENA_H

#include "internal.h"
#include "plock.h"

#define ARENA_MAGIC UINT64_C(0x414e455241435053) /* "SPCARENA" little-endian */
#define ARENA_LAYOUT 6
#define ARENA_MIN_SIZE ((size_t)64 << 10)

/* TLSF geometry: 16-byte granules, 32 second-level lists per power of two. */
#define TLSF_ALIGN_LOG2 4
#define TLSF_ALIGN ((uint64_t)1 << TLSF_ALIGN_LOG2)
#define TLSF_SL_LOG2 5
#define TLSF_SL_COUNT (1u << TLSF_SL_LOG2)
#define TLSF_FL_SHIFT (TLSF_SL_LOG2 + TLSF_ALIGN_LOG2)
#define TLSF_SMALL ((uint64_t)1 << TLSF_FL_SHIFT)
#define TLSF_FL_COUNT 40 /* blocks up to 2^48 bytes */

/* Block header, 16 bytes before every payload. size_tag = size | tag << 48. */
struct block {
    uint64_t prev_phys; /* offset of the physically previous block, 0 for the first */
    uint64_t size_tag;
    uint64_t next_free; /* free blocks only: free-list links (offsets, 0 = none) */
    uint64_t prev_free;
};
#define BLOCK_HDR 16u
#define BLOCK_MIN 32u
#define TAG_SHIFT 48
#define SIZE_MASK ((UINT64_C(1) << TAG_SHIFT) - 1)
#define TAG_USED UINT64_C(0x5a1c)
#define TAG_FREE UINT64_C(0xf1ee)
#define TAG_END UINT64_C(0xe0d0)

struct arena_hdr {
    uint64_t magic;
    uint64_t layout;
    uint64_t hdr_size;
    uint64_t corrupt; /* set when a recovery found the state inconsistent */
    /* accounting */
    uint64_t used;
    uint64_t allocations;
    uint64_t named;
    uint64_t lock_recoveries;
    /* on a cache line of its own: the mutex, the undo log's count and HDR_SPARES (a user
     * word); the log's entries from the next line on */
    _Alignas(64) struct shmipc_robust robust;
    uint64_t bad_frees;
    /* TLSF */
    uint64_t heap_start; /* offset of the first block */
    uint64_t heap_end;   /* offset of the end sentinel block */
    uint64_t fl_bitmap;
    uint64_t sl_bitmap[TLSF_FL_COUNT];
    uint64_t heads[TLSF_FL_COUNT][TLSF_SL_COUNT];
    /* named directory (named.c): a bucket array of entry offsets, allocated in the heap;
     * during a resize a second one being filled, and the first's bucket being moved */
    uint64_t dir_buckets;
    uint64_t dir_count;
    uint64_t dir_next; /* the new bucket array during a resize, else 0 */
    uint64_t dir_next_count;
    uint64_t dir_moved; /* buckets of dir_buckets below this one are empty (moved) */
    /* refcount table (reftable.c): the directory of endpoint chunks (SHMIPC_EP_CHUNKS
     * offsets, 0 past the last chunk), the chunks made, the lowest endpoint that may be
     * free, and the endpoints live (open, endpoint 0 too) */
    uint64_t ep_table;
    uint64_t ep_chunks;
    uint64_t ep_hint;
    uint64_t ep_live;
};
/* Spare hold records (reftable.c): those this pool holds, kept in their endpoints' lists.
 * On the lock's line: a loan takes a spare and a drop gives one back, each under the lock.
 * (The lock's first user word is unused.) */
_Static_assert(sizeof(pthread_mutex_t) != 40 || offsetof(struct shmipc_robust, log) == 64,
               "x86-64: the mutex, the log count and the user words on one line");
#define HDR_SPARES(h) ((h)->robust.user[1])

/* What a provider does behind an arena handle (arena.c dispatches to it). A shared arena is
 * the allocator in the handle's pool (provider_shared.c); a lend arena is a shared arena
 * holding its refcount table plus the jemalloc data pools of lend_pools.c; a view is a
 * peer's lend arena seen read-only (provider_view.c): its table mapped read-only, its data
 * pools mapped as they are announced, every operation that would write ENOTSUP. */
struct shmipc_payload;
struct shmipc_arena_ops {
    const char *what; /* "a lend arena", for details */
    int provider;     /* SHMIPC_PROVIDER_* (a view: its owner's) */
    int writable;     /* 0: a peer's arena, whose objects this process borrows */
    int named;        /* its name directory is the users' (shmipc_named_*) */
    void *(*alloc)(shmipc_arena *a, size_t size);
    void (*free)(shmipc_arena *a, void *ptr);
    size_t (*alloc_size)(shmipc_arena *a, const void *ptr);
    int (*stats)(shmipc_arena *a, struct shmipc_arena_stats *out);
    int (*check)(shmipc_arena *a);
    int (*to_poolrel)(shmipc_arena *a, const void *ptr, shmipc_poolrel *out);
    void *(*from_poolrel)(shmipc_arena *a, shmipc_poolrel r);
    /* A new object, held by the handle's endpoint: its record (*hold) in the table. */
    int (*obj_new)(shmipc_arena *a, size_t size, uint64_t *hold);
    /* Where the bytes of an object of this arena are (this process writes them). */
    void *(*payload_ptr)(shmipc_arena *a, const struct shmipc_payload *pl);
    /* Free bytes of a dead object that live outside the table's pool. */
    void (*payload_free)(shmipc_arena *a, const struct shmipc_payload *pl);
    /* The handle's last reference went: free what the provider holds (not the pool). */
    void (*destroy)(shmipc_arena *a);
};

SHMIPC_HIDDEN extern const struct shmipc_arena_ops shmipc__shared_ops;
SHMIPC_HIDDEN extern const struct shmipc_arena_ops shmipc__lend_ops;
SHMIPC_HIDDEN extern const struct shmipc_arena_ops shmipc__view_ops;

struct shmipc_lend;
struct shmipc_view;

/* A lend arena's refcount table grows: past the arena's own pool, its records go to
 * further table pools ("segments" 1, 2, ...), each an arena of its own, twice the size of
 * the one before. A record's address is its offset in its segment, with the segment's
 * number in the top bits (0: the arena's own pool, which a shared arena's records never
 * leave). */
#define SHMIPC_TABLE_SEGS 20 /* segments past the first: 64 MiB << 20 is 64 TiB */
#define SHMIPC_REC_SHIFT 48  /* offsets in a segment stay below 2^48 (TLSF_FL_COUNT) */

static inline unsigned table_seg(uint64_t rec)
{
    return (unsigned)(rec >> SHMIPC_REC_SHIFT);
}

struct shmipc_arena {
    shmipc_pool *pool;
    struct arena_hdr *hdr;
    struct shmipc_crit crit;
    atomic_int refs;    /* this handle, plus one per object handle that uses it */
    uint32_t ep;        /* endpoint that objects made through this handle belong to */
    uint32_t reap_next; /* where this handle's next reap looks first (shmipc__ep_reap) */
    const struct shmipc_arena_ops *ops;
    struct shmipc_lend *lend; /* the lend provider's */
    atomic_ullong *pools_seq; /* a lend arena's count of pools retired (in lend): read inline */
    struct shmipc_view *view; /* a view's */
    /* Run by the lock, still held, after a holder died (its operation rolled back): 0 if
     * the arena holds, else the error that marks it corrupt. The arena layer's policy. */
    int (*recover)(shmipc_arena *a);
    /* The table's segments 1.. (seg[i] is segment i + 1): only ever added (release), read
     * without a lock; closed with the handle by its provider. */
    _Atomic(shmipc_arena *) seg[SHMIPC_TABLE_SEGS];
    /* Run by the table, under its lock, when no segment has room for a record: add the
     * next segment (0) or fail with the reason. NULL: the table does not grow (a shared
     * arena: its records stay in its pool, which every peer maps). */
    int (*grow)(shmipc_arena *a);
    /* A lend arena's table and its segments (provider_lend.c sets it): only this process
     * ever writes them (peers map them read-only, a forked child refuses calls on what it
     * inherited, and a process that dies takes the table with it), so nobody ever rolls
     * them back: the lock is owner_lock, process-private, and stores are not logged. */
    int owner_only;
    shmipc_plock owner_lock;
};

/* tlsf.c */
SHMIPC_HIDDEN int shmipc__tlsf_init(shmipc_arena *a);
SHMIPC_HIDDEN int shmipc__tlsf_validate_header(shmipc_arena *a);
/* After a holder died: make the free lists again from the block chain (not logged). */
SHMIPC_HIDDEN void shmipc__tlsf_rebuild(shmipc_arena *a);
/* Lock the arena; after a dead holder runs a->recover. ECORRUPT on a corrupt arena. An
 * owner-only arena takes its process-private lock instead. */
SHMIPC_HIDDEN int shmipc__arena_lock(shmipc_arena *a);
SHMIPC_HIDDEN void shmipc__arena_unlock(shmipc_arena *a);
/* Under the lock: allocate (0 = full) and free by payload offset. */
SHMIPC_HIDDEN uint64_t shmipc__tlsf_alloc(shmipc_arena *a, size_t size);
SHMIPC_HIDDEN void shmipc__tlsf_free(shmipc_arena *a, uint64_t payload);
/* Under the lock: 1 if payload is the start of a live allocation. */
SHMIPC_HIDDEN int shmipc__tlsf_is_live(shmipc_arena *a, uint64_t payload);
SHMIPC_HIDDEN uint64_t shmipc__tlsf_payload_size(shmipc_arena *a, uint64_t payload);
SHMIPC_HIDDEN uint64_t shmipc__tlsf_largest_free(shmipc_arena *a);
SHMIPC_HIDDEN int shmipc__tlsf_check(shmipc_arena *a);

/* named.c */
SHMIPC_HIDDEN int shmipc__named_init(shmipc_arena *a);
SHMIPC_HIDDEN int shmipc__named_check(shmipc_arena *a);
/* Up to cap entries of the name directory into out, read without the lock (works on a
 * read-only view of any process's arena: a busy owner can make it approximate, never
 * unsafe); ECORRUPT if the arena has no directory. *buckets gets the directory's bucket
 * count (both tables' during a resize), *probes the entries a lookup of each entry read
 * compares, summed. */
SHMIPC_HIDDEN int shmipc__named_snapshot(shmipc_arena *a, struct shmipc_inspect_name *out,
                                         size_t cap, size_t *n, uint64_t *buckets,
                                         uint64_t *probes);

/* reftable.c — see there. Each takes the arena lock itself (the *_peek ones take none:
 * they read a peer's table through a read-only view). */
/* The endpoint table grows by chunks of SHMIPC_EP_CHUNK endpoints, made zeroed under the
 * lock as they are needed and never moved, up to SHMIPC_EP_CHUNKS of them: SHMIPC_EP_MAX
 * endpoints per arena, 0 of which is "no session". */
#define SHMIPC_EP_CHUNK 256u
#define SHMIPC_EP_CHUNKS 512u
#define SHMIPC_EP_MAX (SHMIPC_EP_CHUNK * SHMIPC_EP_CHUNKS)
_Static_assert(SHMIPC_EP_MAX == SHMIPC_ENDPOINTS_MAX + 1, "the header's endpoint figure");
#define SHMIPC_EP_ENDED UINT32_MAX /* a handle's ep once its session's endpoint is closed */
#define SHMIPC_OBJ_HDR 48u    /* object record: before the user's bytes in a shared arena */
#define SHMIPC_HOLD_BYTES 48u /* a hold record */
/* Spare hold records a table pool keeps for the next loans, at most (reftable.c). */
#define SHMIPC_SPARES_MAX 256u

/* Where an object's bytes are: a pool (the arena's own, or a lend arena's data pool) and
 * an offset in it. */
struct shmipc_payload {
    uint64_t pool_id;
    uint64_t data;
    uint64_t size;
};

SHMIPC_HIDDEN int shmipc__reftable_init(shmipc_arena *a);
SHMIPC_HIDDEN int shmipc__reftable_check(shmipc_arena *a);
/* After a lock holder died (its operation rolled back): the table's counts, which are not
 * logged (the pools' spares, the endpoints' records, the objects' holds), counted again
 * from the endpoints' lists. */
SHMIPC_HIDDEN void shmipc__reftable_recount(shmipc_arena *a);
/* A free endpoint for process pid, the table grown if need be; SHMIPC_ENOMEM when it
 * cannot grow (all SHMIPC_ENDPOINTS_MAX in use, or no room in the heap for a chunk). */
SHMIPC_HIDDEN int shmipc__ep_open(shmipc_arena *a, pid_t pid, uint32_t *ep);
/* The endpoints open (not counting endpoint 0), read without the lock. */
SHMIPC_HIDDEN uint32_t shmipc__ep_open_count(shmipc_arena *a);
/* The endpoints of the chunks made (endpoint numbers below it), read without the lock. */
SHMIPC_HIDDEN uint32_t shmipc__ep_high(shmipc_arena *a);
/* Under one lock: from *cursor on, wrapping, the endpoints in use with a process recorded,
 * at most cap of them, looking at *left endpoints at most (taken from it); their numbers
 * and owners into eps and ids, *cursor past them. How many. */
SHMIPC_HIDDEN size_t shmipc__ep_ids(shmipc_arena *a, uint32_t *cursor, uint64_t *left,
                                    uint32_t *eps, struct shmipc_proc_id *ids, size_t cap);
/* Who an endpoint belongs to: the process it was opened for, recorded as the opener sees it
 * (pid 0 if it cannot: then only its session's hang-up ends it). An endpoint number is
 * reused once the endpoint is free, so a number alone may name someone else's. This gives
 * the owner of endpoint ep as recorded (all 0 if it is free). */
SHMIPC_HIDDEN struct shmipc_proc_id shmipc__ep_id(shmipc_arena *a, uint32_t ep);
/* A drop of a record may kill its object: bytes of it that live elsewhere (a lend arena's
 * data pool) come back in *dead (size 0 if none), for the caller to free after the table
 * is unlocked (arena.c, through the provider). */
/* Drop the first loan (handles: the first handle) of endpoint ep while it is id's (any
 * owner's if id is NULL), one locked operation; 0 when there is none left. */
SHMIPC_HIDDEN int shmipc__ep_drop_one(shmipc_arena *a, uint32_t ep, int handles,
                                      const struct shmipc_proc_id *id,
                                      struct shmipc_payload *dead);
/* After its drops: the endpoint is free, or closed while it still has records. */
SHMIPC_HIDDEN void shmipc__ep_end(shmipc_arena *a, uint32_t ep,
                                  const struct shmipc_proc_id *id);
/* 1 if endpoint ep still has records (handles or loans). */
SHMIPC_HIDDEN int shmipc__ep_busy(shmipc_arena *a, uint32_t ep);
/* A new object with its bytes in the arena's own heap, held by the handle's endpoint. */
SHMIPC_HIDDEN int shmipc__obj_alloc(shmipc_arena *a, size_t size, uint64_t *hold);
/* A new object record for bytes that live elsewhere (a lend arena's data pool). */
SHMIPC_HIDDEN int shmipc__obj_record(shmipc_arena *a, const struct shmipc_payload *pl,
                                     uint64_t *hold);
/* A loan of the handle's object to endpoint peer_ep, while it is still `peer`'s (else
 * SHMIPC_ECLOSED). */
SHMIPC_HIDDEN int shmipc__hold_lend(shmipc_arena *a, uint64_t hold, uint32_t peer_ep,
                                    const struct shmipc_proc_id *peer, uint64_t *loan,
                                    uint64_t *gen);
SHMIPC_HIDDEN int shmipc__hold_borrow(shmipc_arena *a, uint64_t loan, uint64_t gen,
                                      uint64_t obj, uint64_t size);
/* Drop a handle's record. */
SHMIPC_HIDDEN void shmipc__hold_drop(shmipc_arena *a, uint64_t hold,
                                     struct shmipc_payload *dead);
/* The owner drops a loan its peer (endpoint peer_ep) reports as released; a report of a
 * loan that is not that peer's is refused (EBADBLOB) and changes nothing. */
SHMIPC_HIDDEN int shmipc__loan_drop(shmipc_arena *a, uint64_t loan, uint64_t gen,
                                    uint32_t peer_ep, struct shmipc_payload *dead);
/* The object record a hold refers to (its offset) and where its bytes are. */
SHMIPC_HIDDEN uint64_t shmipc__hold_obj(shmipc_arena *a, uint64_t hold,
                                        struct shmipc_payload *pl);
/* What one endpoint holds, for tools (shmipc stat): counts and the bytes of the objects. */
struct shmipc_ep_info {
    uint32_t ep;
    int open;       /* its session is open (else closed, with holds left) */
    long pid;       /* the process of that side (0 for endpoint 0, or when its opener could
                    * not see it: another pid namespace) */
    uint64_t start; /* its start time, to tell a reused pid */
    uint64_t frame; /* the pid frame pid is in (proc.c); 0: nobody can check it */
    uint64_t held, held_bytes; /* handles */
    uint64_t lent, lent_bytes; /* loans made to it */
};
/* A snapshot of the arena's endpoints in use, read without the lock (works on a read-only
 * mapping of any process's arena; a busy owner can make it approximate, never unsafe). */
SHMIPC_HIDDEN int shmipc__reftable_snapshot(shmipc_arena *a, struct shmipc_ep_info *out,
                                            size_t cap, size_t *n);
/* The table's hold records, the endpoints' counts summed, read without the lock (0 for a
 * pool without a table: a lend table's segment). Not kept as one count: both sides of a
 * session would write its line for every loan and drop. */
SHMIPC_HIDDEN uint64_t shmipc__reftable_holds(shmipc_arena *a);
/* The id of the pool of the table's segment seg (1..), read without the lock; 0 if the
 * table has none (yet) or the directory cannot be read. */
SHMIPC_HIDDEN uint64_t shmipc__reftable_seg_pool(shmipc_arena *a, unsigned seg);
/* Read-only check, without the lock, of a loan in a peer's table seen through a view:
 * live, of this generation, lent to endpoint ep and of record obj; fills *pl. */
SHMIPC_HIDDEN int shmipc__loan_peek(shmipc_arena *a, uint64_t loan, uint64_t gen, uint32_t ep,
                                    uint64_t obj, struct shmipc_payload *pl);
/* arena.c: the table's drops, their dead bytes freed through the provider. */
/* Close one of this side's own endpoints: its unborrowed loans go (and its handles, if
 * peer_died). The caller closes each endpoint it opened once. */
SHMIPC_HIDDEN void shmipc__ep_close(shmipc_arena *a, uint32_t ep, int peer_died);
/* Close a peer's endpoint as dead, only while it still belongs to id: a close that comes
 * after the endpoint went and was reused for another session does nothing. */
SHMIPC_HIDDEN void shmipc__ep_close_peer(shmipc_arena *a, uint32_t ep,
                                         struct shmipc_proc_id id);
/* Close, as dead, the endpoints whose processes this one can verify gone (proc.c): all of
 * them, or (all 0) those among the next REAP_BATCH endpoints with a process recorded, from
 * where the handle's last reap stopped (a table of fewer is looked at whole). */
#define REAP_BATCH 64
SHMIPC_HIDDEN int shmipc__ep_reap(shmipc_arena *a, int all);
SHMIPC_HIDDEN void shmipc__hold_release(shmipc_arena *a, uint64_t hold);
SHMIPC_HIDDEN int shmipc__loan_release(shmipc_arena *a, uint64_t loan, uint64_t gen,
                                       uint32_t peer_ep);
/* arena.c: handles are reference counted (objects keep their arena mapped). */
SHMIPC_HIDDEN shmipc_arena *shmipc__arena_ref(shmipc_arena *a);
/* ENOTSUP: a's provider does not have `what` (for the providers' operations). */
SHMIPC_HIDDEN int shmipc__arena_lacks(const shmipc_arena *a, const char *what);
/* The operations of a provider without them: alloc_size, to/from poolrel (ENOTSUP, or
 * NULL/0 with the detail), and a payload_free with nothing to free. */
SHMIPC_HIDDEN size_t shmipc__arena_no_alloc_size(shmipc_arena *a, const void *ptr);
SHMIPC_HIDDEN int shmipc__arena_no_poolrel(shmipc_arena *a, const void *ptr,
                                           shmipc_poolrel *out);
SHMIPC_HIDDEN void *shmipc__arena_no_from_poolrel(shmipc_arena *a, shmipc_poolrel r);
SHMIPC_HIDDEN void shmipc__arena_no_payload_free(shmipc_arena *a,
                                                 const struct shmipc_payload *pl);
/* Under the lock: the allocator, the name directory and the refcount table all hold. */
SHMIPC_HIDDEN int shmipc__arena_check_locked(shmipc_arena *a);
/* a is written by this process only, from now on (see owner_only). Right after its
 * creation, before any peer sees it. */
SHMIPC_HIDDEN void shmipc__arena_owner_only(shmipc_arena *a);
/* ptr's offset in a's pool, or 0 if ptr lies outside it. */
SHMIPC_HIDDEN uint64_t shmipc__arena_offset(shmipc_arena *a, const void *ptr);

/* provider_shared.c: the shared provider's operations, which the lend provider's table
 * (a shared arena) shares where they are the same. */
SHMIPC_HIDDEN int shmipc__shared_check(shmipc_arena *a);

/* A store under a's lock, with memory order mo (see shmipc__robust_store): logged, unless
 * a is written by its owner only (then atomic, for the readers without the lock). */
static inline void arena_store_mo(shmipc_arena *a, uint64_t *addr, uint64_t val, int mo)
{
    if (a->owner_only) {
        __atomic_store_n(addr, val, mo);
        return;
    }
    shmipc__robust_store(&a->crit, addr, val, mo);
}

static inline void arena_store(shmipc_arena *a, uint64_t *addr, uint64_t val)
{
    arena_store_mo(a, addr, val, __ATOMIC_RELAXED);
}

/* 1 if a was inherited across fork (it is the parent's: see fork.c). */
static inline int arena_inherited(const shmipc_arena *a)
{
    return shmipc__inherited(a->pool->fork_gen);
}

/* EINVAL if a was inherited across fork, naming the calling function. */
#define ARENA_NOT_INHERITED(a, fn)                                                             \
    (SHMIPC_UNLIKELY(arena_inherited(a)) ? shmipc__fail_inherited(fn ": arena") : 0)

static inline void *arena_at(shmipc_arena *a, uint64_t off)
{
    return a->crit.base + off;
}

/* A word of an arena another process may be writing, read without its lock. */
static inline uint64_t arena_peek(const uint64_t *w)
{
    return __atomic_load_n(w, __ATOMIC_RELAXED);
}

/* The allocator's own blocks in a shared arena's heap: the name directory's buckets (two
 * arrays during a resize) and the refcount table's directory, and the table's chunks. */
#define ARENA_OWN_BLOCKS 2

/* The caller's allocations (objects and named ones included) from the allocator's block
 * count: not the arena's own blocks, nor named entries, nor the table's `holds` records
 * (shmipc__reftable_holds). */
static inline uint64_t arena_user_allocations(const struct arena_hdr *h, uint64_t holds)
{
    uint64_t chunks = arena_peek(&h->ep_chunks);
    uint64_t own = ARENA_OWN_BLOCKS + (arena_peek(&h->dir_next) != 0) +
                   (chunks <= SHMIPC_EP_CHUNKS ? chunks : 0) + arena_peek(&h->named) + holds +
                   arena_peek(&HDR_SPARES(h));
    uint64_t blocks = arena_peek(&h->allocations);

    return blocks > own ? blocks - own : 0;
}

/* The heap's bytes in use: not the spare hold records a table keeps (each a block of its
 * own), which are room for the table's next records, as free as the allocator's blocks. */
static inline uint64_t arena_used(const struct arena_hdr *h)
{
    uint64_t used = arena_peek(&h->used);
    uint64_t spare = arena_peek(&HDR_SPARES(h)) * (SHMIPC_HOLD_BYTES + BLOCK_HDR);

    return used > spare ? used - spare : 0;
}

/* 1 if a record of `size` bytes at off lies inside the heap, aligned (without the lock). */
static inline int arena_inside(shmipc_arena *a, uint64_t off, size_t size)
{
    uint64_t start = arena_peek(&a->hdr->heap_start), end = arena_peek(&a->hdr->heap_end);

    return off % 16 == 0 && end <= a->crit.size && off >= start && off < end &&
           end - off >= size;
}

#endif /* SHMIPC_ARENA_H */
