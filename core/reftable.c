/* reftable.c — the cross-process refcount table of a shared arena, kept in the arena itself
 * and undo-logged under its lock like the allocator (a lend arena's, which only its owner
 * writes, takes a private lock and is not logged: arena.h, owner_only).
 *
 * An object is an arena block: a 48-byte record (magic, size, count, generation, and where
 * its bytes are) followed by the user's bytes — or, for the lend provider, a record alone
 * whose bytes live in a data pool of the lend arena (provider_lend.c): a drop hands such
 * bytes back to its caller (the arena layer), who has its provider free them. Every count on it is a *hold record* attributed to an *endpoint*: one side
 * of one session (slot 0: no session). A process's handle holds one HELD record; a loan is a
 * LENT record attributed to the borrower's endpoint from the moment it is made, so it is
 * the borrower's to drop whether or not it ever borrows. Each endpoint keeps its records
 * in one list, whatever their state, so that a borrow (LENT to HELD) is one compare-and-swap
 * of the record's tag (below), made without the lock, and moves no link; when a peer dies
 * its survivor drops everything the peer's endpoints hold, and an object is freed by
 * whoever drops its last count. A dropped record stays in its endpoint's list as a spare
 * for the endpoint's next one (below), up to SHMIPC_SPARES_MAX per pool, so a loan and its
 * drop in the steady state link nothing. Each drop or add is one locked operation, well
 * inside the undo log.
 *
 * A lend arena's table grows: when its pool is full, records go to further table pools
 * (segments, arena.h), which its provider makes (a->grow) and announces to the peers; a
 * record's address then names its segment. Endpoints, counters and the lock stay in the
 * arena's own pool. */
#include <string.h>

#include "arena.h"

#define OBJ_MAGIC UINT64_C(0x4a424f4350494d53) /* "SMIPCOBJ" */

enum {
    EP_FREE = 0,
    EP_LIVE = 1,
    EP_CLOSED = 2
};
enum {
    HOLD_SPARE = 0, /* its endpoint's spare: in its list, counted by no one */
    HOLD_HELD = 1,
    HOLD_LENT = 2,
    HOLD_GOING = 3 /* a loan being dropped (take_loan): LENT, but no borrow takes it */
};

struct endpoint {
    uint64_t state;
    uint64_t pid;   /* as the opener sees it, 0 if it cannot (a struct shmipc_proc_id) */
    uint64_t start; /* shmipc__proc_starttime(pid) */
    uint64_t frame; /* the opener's pid frame: who may judge pid (proc.c) */
    uint64_t list;  /* head of its records, HELD, LENT and spare */
    uint64_t holds; /* records in the list, HELD and LENT (its spares are not counted) */
    uint64_t gens;  /* generations given out for it (gen_next), kept when it is reused */
    uint64_t spare; /* its first spare record (the next in that one's chain), 0 if none */
};
_Static_assert(sizeof(struct endpoint) == 64, "an endpoint is a cache line");
_Static_assert(SHMIPC_EP_MAX == 1u << 17, "EP_BITS");
#define EP_BITS 17

struct hold {
    uint64_t next;
    uint64_t prev;
    uint64_t obj;   /* payload offset of the object header */
    uint64_t tag;   /* TAG(gen, state): 0 for a spare */
    uint64_t ep;    /* whose list it is in */
    uint64_t chain; /* a spare's next spare of its endpoint */
};
/* A record's generation (gen_next: unique, never 0, below 2^62) and state in one word, so
 * that a borrow checks both with one load and turns LENT to HELD with one compare-and-swap
 * that no other record, nor a reused block, can match. */
#define TAG(gen, state) ((gen) << 2 | (state))
#define TAG_GEN(t) ((t) >> 2)
#define TAG_STATE(t) ((t)&3)

struct obj_hdr {
    uint64_t magic;
    uint64_t size;
    uint64_t refs;
    uint64_t gen;
    uint64_t pool_id; /* pool of the bytes: this arena's own, or a data pool */
    uint64_t data;    /* offset of the bytes in that pool */
};
_Static_assert(sizeof(struct obj_hdr) == SHMIPC_OBJ_HDR, "object header size");
_Static_assert(sizeof(struct hold) == SHMIPC_HOLD_BYTES, "hold record size");

#define CHUNK_BYTES (SHMIPC_EP_CHUNK * sizeof(struct endpoint))
/* A chunk's block: its endpoints start at the first cache line in it. */
#define CHUNK_ALLOC (CHUNK_BYTES + 64 - TLSF_ALIGN)

/* The first endpoint of the chunk in block off. */
static struct endpoint *chunk_at(shmipc_arena *a, uint64_t off)
{
    return arena_at(a, (off + 63) & ~(uint64_t)63);
}

/* The table's directory: SHMIPC_EP_CHUNKS chunk offsets, then the pool ids of its
 * segments (0 past the last made), for tools that find them among a process's pools. */
#define DIR_WORDS (SHMIPC_EP_CHUNKS + SHMIPC_TABLE_SEGS)

static uint64_t *ep_dir(shmipc_arena *a)
{
    return arena_at(a, a->hdr->ep_table);
}

/* Under the lock: endpoint ep of a chunk already made. */
static struct endpoint *ep_at(shmipc_arena *a, uint64_t ep)
{
    return chunk_at(a, ep_dir(a)[ep / SHMIPC_EP_CHUNK]) + ep % SHMIPC_EP_CHUNK;
}

/* Under the lock: 1 if ep names an endpoint of a session (not 0) in a chunk made. */
static int ep_valid(shmipc_arena *a, uint32_t ep)
{
    return ep != 0 && ep < a->hdr->ep_chunks * SHMIPC_EP_CHUNK;
}

/* ---- records: in the arena's own pool, or in a segment of a grown table (arena.h) ---- */

#define REC_OFF(r) ((r) & ((UINT64_C(1) << SHMIPC_REC_SHIFT) - 1))

/* The arena record address r lies in: a, or the segment of a's table it names; NULL if
 * that segment is not (yet) known here. */
static shmipc_arena *seg_of(shmipc_arena *a, uint64_t r)
{
    unsigned s = table_seg(r);

    if (SHMIPC_LIKELY(s == 0))
        return a;
    return s <= SHMIPC_TABLE_SEGS ? atomic_load_explicit(&a->seg[s - 1], memory_order_acquire)
                                  : NULL;
}

/* A record whose segment is known (the owner's own records, or checked ones). */
static struct hold *hold_at(shmipc_arena *a, uint64_t r)
{
    return arena_at(seg_of(a, r), REC_OFF(r));
}

static struct obj_hdr *obj_at(shmipc_arena *a, uint64_t r)
{
    return arena_at(seg_of(a, r), REC_OFF(r));
}

/* 1 if r is a live record of at least `size` bytes (reads only). */
static int rec_live(shmipc_arena *a, uint64_t r, size_t size)
{
    shmipc_arena *s = seg_of(a, r);
    uint64_t off = REC_OFF(r);

    return s && off % 16 == 0 && off < s->crit.size && shmipc__tlsf_is_live(s, off) &&
           shmipc__tlsf_payload_size(s, off) >= size;
}

static int hold_live(shmipc_arena *a, uint64_t r)
{
    return rec_live(a, r, sizeof(struct hold));
}

/* Record r's tag: read as an atomic word even under the lock, since a borrow (which takes
 * no lock) may be turning it from LENT to HELD. */
static uint64_t tag_at(shmipc_arena *a, uint64_t r)
{
    return arena_peek(&hold_at(a, r)->tag);
}

/* Under the lock: the live record at r of generation gen, or NULL (a spare's is 0). */
static struct hold *hold_of_gen(shmipc_arena *a, uint64_t r, uint64_t gen)
{
    struct hold *h;

    if (gen == 0 || !hold_live(a, r))
        return NULL;
    h = arena_at(seg_of(a, r), REC_OFF(r));
    return TAG_GEN(arena_peek(&h->tag)) == gen ? h : NULL;
}

/* Without the lock: 1 if a record of `size` bytes at r lies inside its segment's heap. */
static int rec_inside(shmipc_arena *a, uint64_t r, size_t size)
{
    shmipc_arena *s = seg_of(a, r);

    return s && arena_inside(s, REC_OFF(r), size);
}

/* Under the lock: a record of `size` bytes, in the arena's own heap, else in the first
 * segment with room, else in a new segment if the table grows. 0 if there is no room:
 * *why then has the error of the growth that failed (its detail set), or stays 0 if the
 * table does not grow. */
static uint64_t rec_alloc(shmipc_arena *a, size_t size, int *why)
{
    uint64_t off = shmipc__tlsf_alloc(a, size);

    for (unsigned i = 0; !off && i < SHMIPC_TABLE_SEGS; i++) {
        shmipc_arena *s = atomic_load_explicit(&a->seg[i], memory_order_relaxed);
        if (!s && (!a->grow || (*why = a->grow(a)) != 0))
            return 0;
        s = atomic_load_explicit(&a->seg[i], memory_order_relaxed);
        if (!ep_dir(a)[SHMIPC_EP_CHUNKS + i]) /* its pool's id, for tools */
            __atomic_store_n(&ep_dir(a)[SHMIPC_EP_CHUNKS + i], s->pool->id, __ATOMIC_RELEASE);
        if ((off = shmipc__tlsf_alloc(s, size)) != 0)
            off |= (uint64_t)(i + 1) << SHMIPC_REC_SHIFT;
    }
    if (!off && a->grow) /* every segment is full: the growth says why it cannot go on */
        *why = a->grow(a);
    return off;
}

static void rec_free(shmipc_arena *a, uint64_t r)
{
    shmipc__tlsf_free(seg_of(a, r), REC_OFF(r));
}

static uint64_t *list_of(shmipc_arena *a, uint64_t ep)
{
    return &ep_at(a, ep)->list;
}

/* The records an endpoint's list may have: those it counts and spares, which a table keeps
 * SHMIPC_SPARES_MAX of per pool at most. A walk looks at no more (a list a peer made cyclic
 * ends there). */
static uint64_t list_bound(shmipc_arena *a, uint64_t ep)
{
    return ep_at(a, ep)->holds + (uint64_t)SHMIPC_SPARES_MAX * (1 + SHMIPC_TABLE_SEGS);
}

/* A record's state as its endpoint's close sees it: a loan being dropped is still a loan. */
static uint64_t state_of(uint64_t tag)
{
    return TAG_STATE(tag) == HOLD_GOING ? HOLD_LENT : TAG_STATE(tag);
}

/* Under the lock: the first record of endpoint ep's list in `state` (HELD or LENT), or 0. */
static uint64_t first_of(shmipc_arena *a, uint64_t ep, uint64_t state)
{
    uint64_t off = *list_of(a, ep), left = list_bound(a, ep);

    while (off && left-- > 0 && state_of(tag_at(a, off)) != state)
        off = hold_at(a, off)->next;
    return off && left != UINT64_MAX ? off : 0;
}

/* A store under the table's lock: logged in a shared arena's table; plain in a lend
 * arena's, which only its owner ever writes (arena.h, owner_only), and so in its segments,
 * which only a lend arena's table has. */
static inline void store(shmipc_arena *a, uint64_t *addr, uint64_t val)
{
    arena_store(a, addr, val);
}

/* Under the lock: one more chunk of free endpoints, zeroed before the directory shows it
 * (a holder killed before its unlock is rolled back: the chunk is freed, the directory
 * entry 0 again; a reader without the lock sees a chunk only once it is whole). 0, or
 * SHMIPC_ENOMEM with the detail. */
static int grow_table(shmipc_arena *a)
{
    uint64_t n = a->hdr->ep_chunks, off;

    if (n == SHMIPC_EP_CHUNKS)
        return shmipc__fail(SHMIPC_ENOMEM,
                            "arena has no free endpoint: all %u are in use "
                            "(SHMIPC_ENDPOINTS_MAX)",
                            SHMIPC_ENDPOINTS_MAX);
    if (!(off = shmipc__tlsf_alloc(a, CHUNK_ALLOC)))
        return shmipc__fail(SHMIPC_ENOMEM,
                            "arena has no room for more endpoints: its %llu "
                            "are in use and %zu more bytes for %u more are not free",
                            (unsigned long long)(n * SHMIPC_EP_CHUNK - 1), CHUNK_ALLOC,
                            SHMIPC_EP_CHUNK);
    memset(arena_at(a, off), 0, CHUNK_ALLOC);
    /* published with release: a reader that loads either with acquire sees the zeroes
     * (the directory and its count are in the table's first pool, a's own) */
    arena_store_mo(a, &ep_dir(a)[n], off, __ATOMIC_RELEASE);
    arena_store_mo(a, &a->hdr->ep_chunks, n + 1, __ATOMIC_RELEASE);
    return 0;
}

int shmipc__reftable_init(shmipc_arena *a)
{
    uint64_t off;
    int rc;

    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    off = shmipc__tlsf_alloc(a, DIR_WORDS * sizeof(uint64_t));
    if (off) {
        memset(arena_at(a, off), 0, DIR_WORDS * sizeof(uint64_t));
        a->hdr->ep_table = off;
        rc = grow_table(a);
    }
    shmipc__arena_unlock(a);
    if (!off || rc != 0)
        return shmipc__fail(SHMIPC_ENOMEM, "arena too small for its refcount table");
    a->hdr->ep_hint = 1;
    a->hdr->ep_live = 1;
    ep_at(a, 0)->state = EP_LIVE; /* endpoint 0: no session */
    return 0;
}

/* ---- hold records (under the lock) ------------------------------------------------- */

/* Endpoint ep is free: the next open may take it. */
static void set_free(shmipc_arena *a, uint64_t ep)
{
    store(a, &ep_at(a, ep)->state, EP_FREE);
    if (ep < a->hdr->ep_hint)
        store(a, &a->hdr->ep_hint, ep);
}

static void link_hold(shmipc_arena *a, uint64_t off)
{
    struct hold *h = hold_at(a, off);
    uint64_t *head = list_of(a, h->ep);

    store(a, &h->next, *head);
    store(a, &h->prev, 0);
    if (*head)
        store(a, &hold_at(a, *head)->prev, off);
    store(a, head, off);
}

static void unlink_hold(shmipc_arena *a, uint64_t off)
{
    struct hold *h = hold_at(a, off);

    if (h->next)
        store(a, &hold_at(a, h->next)->prev, h->prev);
    if (h->prev)
        store(a, &hold_at(a, h->prev)->next, h->next);
    else
        store(a, list_of(a, h->ep), h->next);
}

/* ---- spare records: a dropped record is kept for the next one, without the allocator ---- */

/* A dropped record stays where it is in its endpoint's list, its tag 0 (state HOLD_SPARE,
 * generation 0: no blob ever names it validly), and goes onto the endpoint's chain of
 * spares: its head in the endpoint (on the line its every add or drop writes anyway), the
 * links in the spares' `chain` words. The endpoint's next record takes it back with no link
 * moved: a loan to the peer and the peer's drop of it write its endpoint's line, the record
 * and the object, and no list. Each table pool counts the spares it holds (its `spares`,
 * on the lock's line, which its figures count as free), at most SHMIPC_SPARES_MAX; a record
 * dropped past that goes back to the allocator. Every change of a list or chain is a
 * logged store like any other of the table; the counts (the pools' spares, the endpoints'
 * records, the objects' holds) are derived from the lists, so they are stored without the
 * log, and a recovery counts them again (shmipc__reftable_recount), as the allocator makes
 * its free lists again. */

/* A pool's count of spares, n: not logged (above). */
static void count_spares(struct arena_hdr *ph, uint64_t n)
{
    __atomic_store_n(&HDR_SPARES(ph), n, __ATOMIC_RELAXED);
}

/* Endpoint e's count of records held and lent, n: derived from its list as the spares'
 * counts are, so not logged either (read without the lock by tools). */
static void count_holds(struct endpoint *e, uint64_t n)
{
    __atomic_store_n(&e->holds, n, __ATOMIC_RELAXED);
}

/* Object o's count, n: the records that hold it, derived from the lists too, not logged. */
static void count_refs(struct obj_hdr *o, uint64_t n)
{
    o->refs = n;
}

/* Endpoint e's first spare, taken off its chain (it stays in e's list); 0 if none. */
static uint64_t spare_pop(shmipc_arena *a, struct endpoint *e)
{
    uint64_t off = e->spare;
    struct arena_hdr *ph;

    if (!off)
        return 0;
    ph = seg_of(a, off)->hdr;
    store(a, &e->spare, hold_at(a, off)->chain);
    count_spares(ph, HDR_SPARES(ph) - 1);
    return off;
}

/* Record off of endpoint e, dropped (its tag 0 already), onto e's spares: 1, or 0 if
 * its pool keeps SHMIPC_SPARES_MAX already or its block is larger than a record (the
 * caller unlinks and frees it then), so a burst of loans gives its records back. */
static int spare_push(shmipc_arena *a, struct endpoint *e, uint64_t off)
{
    shmipc_arena *s = seg_of(a, off);
    struct hold *h = hold_at(a, off);

    if (HDR_SPARES(s->hdr) >= SHMIPC_SPARES_MAX ||
        shmipc__tlsf_payload_size(s, REC_OFF(off)) != sizeof *h)
        return 0;
    store(a, &h->chain, e->spare);
    store(a, &e->spare, off);
    count_spares(s->hdr, HDR_SPARES(s->hdr) + 1);
    return 1;
}

/* A new generation, from endpoint ep's counter: the endpoint in the low EP_BITS, so two
 * endpoints never give out the same one, and the counter above them (2^45 per endpoint,
 * which it keeps when it is freed and reused), so one never gives out the same twice. Never
 * 0. Written by whoever makes a record for ep, on ep's line, which that store writes anyway
 * (its list and count), instead of a counter of the whole table. Not logged: an operation
 * rolled back leaves the counter past the generation it took, which skips one and never
 * gives one twice. */
static uint64_t gen_next(struct endpoint *e, uint64_t ep)
{
    return ++e->gens << EP_BITS | ep;
}

/* A new record of `state` for endpoint ep on object obj, one of ep's spares if it has one;
 * 0 if the table is full (*why: see rec_alloc). */
static uint64_t new_hold(shmipc_arena *a, uint64_t obj, uint64_t ep, uint64_t state, int *why)
{
    struct endpoint *e = ep_at(a, ep);
    uint64_t off = spare_pop(a, e);
    struct hold *h;

    if (off) {
        h = hold_at(a, off);
        store(a, &h->obj, obj);
    } else {
        if (!(off = rec_alloc(a, sizeof(struct hold), why)))
            return 0;
        h = hold_at(a, off);
        store(a, &h->obj, obj);
        store(a, &h->ep, ep);
        link_hold(a, off);
    }
    /* released: a borrower reads the record without the lock once its tag matches */
    arena_store_mo(a, &h->tag, TAG(gen_next(e, ep), state), __ATOMIC_RELEASE);
    count_holds(e, e->holds + 1);
    count_refs(obj_at(a, obj), obj_at(a, obj)->refs + 1);
    return off;
}

/* 1 if the object's bytes follow its record in this arena's heap. */
static int inline_payload(shmipc_arena *a, uint64_t obj)
{
    const struct obj_hdr *o = obj_at(a, obj);
    return o->pool_id == a->pool->id && o->data == obj + SHMIPC_OBJ_HDR;
}

/* Drop a record: its count goes, and the object with its last count. Bytes that live
 * elsewhere are left to the caller, who frees them after unlocking: *dead gets them (its
 * size stays 0 otherwise). */
static void drop_hold(shmipc_arena *a, uint64_t off, struct shmipc_payload *dead)
{
    struct hold *h = hold_at(a, off);
    struct obj_hdr *o = obj_at(a, h->obj);
    struct endpoint *e = ep_at(a, h->ep);

    count_holds(e, e->holds - 1);
    if (e->holds == 0 && e->state == EP_CLOSED)
        set_free(a, h->ep);
    count_refs(o, o->refs - 1);
    if (o->refs == 0) {
        if (!inline_payload(a, h->obj)) {
            dead->pool_id = o->pool_id;
            dead->data = o->data;
            dead->size = o->size;
        }
        store(a, &o->magic, 0);
        rec_free(a, h->obj);
    }
    store(a, &h->tag, 0);
    if (!spare_push(a, e, off)) {
        unlink_hold(a, off);
        rec_free(a, off);
    }
}

/* The records the table's pools can hold at most: a bound for walks of lists that a table
 * read from a file, or corrupt, may make cyclic. */
static uint64_t record_budget(shmipc_arena *a)
{
    uint64_t budget = 0;

    for (unsigned i = 0; i <= SHMIPC_TABLE_SEGS; i++) {
        shmipc_arena *s = i ? atomic_load_explicit(&a->seg[i - 1], memory_order_acquire) : a;
        uint64_t start, end;
        if (!s)
            break;
        start = arena_peek(&s->hdr->heap_start);
        end = arena_peek(&s->hdr->heap_end);
        budget += end > start ? (end - start) / sizeof(struct hold) : 0;
    }
    return budget;
}

/* The endpoints of the chunks made, read without the lock: *n of them at most, their
 * chunks' offsets into out; the directory's offset, or 0 if it is not in the heap. */
static uint64_t peek_chunks(shmipc_arena *a, uint64_t out[SHMIPC_EP_CHUNKS], uint64_t *n)
{
    uint64_t table = arena_peek(&a->hdr->ep_table);
    uint64_t chunks = __atomic_load_n(&a->hdr->ep_chunks, __ATOMIC_ACQUIRE);
    const uint64_t *dir;

    *n = 0;
    if (!arena_inside(a, table, SHMIPC_EP_CHUNKS * sizeof(uint64_t)))
        return 0;
    dir = arena_at(a, table); /* only once inside: an offset past the mapping is no pointer */
    for (uint64_t c = 0; c < chunks && c < SHMIPC_EP_CHUNKS; c++) {
        uint64_t off = __atomic_load_n(&dir[c], __ATOMIC_ACQUIRE);
        if (!arena_inside(a, off, CHUNK_ALLOC))
            break;
        out[(*n)++] = off;
    }
    return table;
}

/* One pass of the recount over every endpoint's list, within *budget records: the first
 * zeroes the counts of the objects the records hold, the second counts the records into
 * them, their endpoints' `holds` and the pools' spares (n[]). Only the chunks inside the
 * heap are walked: a table the check will find corrupt is counted harmlessly. */
static void recount_pass(shmipc_arena *a, int counting, uint64_t *budget, uint64_t n[])
{
    uint64_t chunk[SHMIPC_EP_CHUNKS], chunks;

    peek_chunks(a, chunk, &chunks);
    for (uint64_t i = 0; i < chunks * SHMIPC_EP_CHUNK; i++) {
        struct endpoint *e = chunk_at(a, chunk[i / SHMIPC_EP_CHUNK]) + i % SHMIPC_EP_CHUNK;
        uint64_t holds = 0;
        for (uint64_t off = e->list; off && *budget && rec_inside(a, off, sizeof(struct hold));
             off = hold_at(a, off)->next, --*budget) {
            uint64_t obj = hold_at(a, off)->obj;
            if (tag_at(a, off) == 0) {
                n[table_seg(off)] += counting;
                continue;
            }
            holds++;
            if (rec_inside(a, obj, sizeof(struct obj_hdr)))
                count_refs(obj_at(a, obj), counting ? obj_at(a, obj)->refs + 1 : 0);
        }
        if (counting)
            count_holds(e, holds);
    }
}

void shmipc__reftable_recount(shmipc_arena *a)
{
    uint64_t n[1 + SHMIPC_TABLE_SEGS] = {0}, budget = record_budget(a);

    recount_pass(a, 0, &budget, n);
    budget = record_budget(a);
    recount_pass(a, 1, &budget, n);
    for (unsigned i = 0; i <= SHMIPC_TABLE_SEGS; i++) {
        shmipc_arena *s = i ? a->seg[i - 1] : a;
        if (s)
            count_spares(s->hdr, n[i]);
    }
}

/* ---- endpoints --------------------------------------------------------------------- */

/* Under the lock: the lowest free endpoint, the table grown if it has none; 0 if it cannot
 * grow (the detail says why). */
static uint32_t free_endpoint(shmipc_arena *a)
{
    uint64_t i = a->hdr->ep_hint;

    if (i == 0 || i > a->hdr->ep_chunks * SHMIPC_EP_CHUNK)
        i = 1; /* a hint a peer spoilt costs a longer look, never a read outside */
    for (;; i++) {
        if (i == a->hdr->ep_chunks * SHMIPC_EP_CHUNK && grow_table(a) != 0)
            return 0;
        if (ep_at(a, i)->state == EP_FREE)
            return (uint32_t)i;
    }
}

int shmipc__ep_open(shmipc_arena *a, pid_t pid, uint32_t *ep)
{
    struct shmipc_proc_id id;
    struct endpoint *e;
    uint32_t i;
    int rc = shmipc__proc_record(pid, &id); /* read /proc before locking */

    if (rc != 0)
        return rc;
    /* nobody can check it: a token tells it from a later one */
    if (id.pid == 0 && (rc = shmipc__random_u64(&id.start)) != 0)
        return rc;
    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    if ((i = free_endpoint(a)) != 0) {
        e = ep_at(a, i);
        store(a, &e->pid, id.pid);
        store(a, &e->start, id.start);
        store(a, &e->frame, id.frame);
        /* a free endpoint holds nothing: its list has only its spares, kept for its next */
        store(a, &e->state, EP_LIVE);
        store(a, &a->hdr->ep_hint, i + 1);
        store(a, &a->hdr->ep_live, a->hdr->ep_live + 1);
        *ep = i;
    }
    shmipc__arena_unlock(a);
    return i != 0 ? 0 : SHMIPC_ENOMEM;
}

uint32_t shmipc__ep_open_count(shmipc_arena *a)
{
    return (uint32_t)arena_peek(&a->hdr->ep_live) - 1;
}

uint32_t shmipc__ep_high(shmipc_arena *a)
{
    return (uint32_t)(arena_peek(&a->hdr->ep_chunks) * SHMIPC_EP_CHUNK);
}

struct shmipc_proc_id shmipc__ep_id(shmipc_arena *a, uint32_t ep)
{
    struct shmipc_proc_id id = {0, 0, 0};
    struct endpoint *e;

    if (shmipc__arena_lock(a) != 0)
        return id;
    e = ep_valid(a, ep) ? ep_at(a, ep) : NULL;
    if (e && e->state != EP_FREE)
        id = (struct shmipc_proc_id){e->pid, e->start, e->frame};
    shmipc__arena_unlock(a);
    return id;
}

size_t shmipc__ep_ids(shmipc_arena *a, uint32_t *cursor, uint64_t *left, uint32_t *eps,
                      struct shmipc_proc_id *ids, size_t cap)
{
    size_t n = 0;
    uint64_t high, i = *cursor;

    if (shmipc__arena_lock(a) != 0) {
        *left = 0;
        return 0;
    }
    high = a->hdr->ep_chunks * SHMIPC_EP_CHUNK;
    for (; *left && n < cap; --*left, i++) {
        struct endpoint *e;
        if (i == 0 || i >= high)
            i = 1;
        e = ep_at(a, i);
        if (e->state != EP_FREE && e->pid != 0) {
            eps[n] = (uint32_t)i;
            ids[n++] = (struct shmipc_proc_id){e->pid, e->start, e->frame};
        }
    }
    shmipc__arena_unlock(a);
    *cursor = (uint32_t)i;
    return n;
}

/* Under the lock: 1 if endpoint e is in use and, when id is given, still id's. */
static int ep_is(const struct endpoint *e, const struct shmipc_proc_id *id)
{
    return e->state != EP_FREE &&
           (!id || (e->pid == id->pid && e->start == id->start && e->frame == id->frame));
}

/* Under the lock: loan off (LENT, or GOING already) made GOING, so that no borrow (which
 * takes no lock) can take it while it is dropped; 0 if a borrow took it first (it is HELD
 * now, its borrower's). Not logged: if this process dies before the drop is done, the drop
 * is rolled back to a GOING loan, which the endpoint's next close or reap drops. */
static int take_loan(shmipc_arena *a, uint64_t off)
{
    uint64_t *tag = &hold_at(a, off)->tag, t = __atomic_load_n(tag, __ATOMIC_ACQUIRE);
    int taken;

    if (TAG_STATE(t) != HOLD_LENT) /* GOING already, or HELD since first_of looked */
        return TAG_STATE(t) == HOLD_GOING;
    if (SHMIPC_UNLIKELY(shmipc__crash_countdown > 0))
        shmipc__crash_point();
    taken = __atomic_compare_exchange_n(tag, &t, TAG(TAG_GEN(t), HOLD_GOING), 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    if (SHMIPC_UNLIKELY(shmipc__crash_countdown > 0))
        shmipc__crash_point();
    return taken;
}

int shmipc__ep_drop_one(shmipc_arena *a, uint32_t ep, int handles,
                        const struct shmipc_proc_id *id, struct shmipc_payload *dead)
{
    uint64_t head = 0;

    *dead = (struct shmipc_payload){0};
    if (shmipc__arena_lock(a) != 0)
        return 0;
    if (ep_valid(a, ep) && ep_is(ep_at(a, ep), id))
        head = first_of(a, ep, handles ? HOLD_HELD : HOLD_LENT);
    /* a loan a borrow took meanwhile is a handle now: the caller looks again */
    if (head && (handles || take_loan(a, head)))
        drop_hold(a, head, dead);
    shmipc__arena_unlock(a);
    return head != 0;
}

void shmipc__ep_end(shmipc_arena *a, uint32_t ep, const struct shmipc_proc_id *id)
{
    struct endpoint *e;

    if (shmipc__arena_lock(a) != 0)
        return;
    e = ep_valid(a, ep) ? ep_at(a, ep) : NULL;
    if (e && e->state == EP_LIVE && ep_is(e, id)) {
        store(a, &a->hdr->ep_live, a->hdr->ep_live - 1);
        if (e->holds)
            store(a, &e->state, EP_CLOSED);
        else
            set_free(a, ep);
    }
    if (!id && a->ep == ep) /* our own: once free it may become another session's */
        a->ep = SHMIPC_EP_ENDED;
    shmipc__arena_unlock(a);
}

int shmipc__ep_busy(shmipc_arena *a, uint32_t ep)
{
    int busy = 0;

    if (shmipc__arena_lock(a) != 0)
        return 0;
    busy = ep_valid(a, ep) && ep_at(a, ep)->holds != 0;
    shmipc__arena_unlock(a);
    return busy;
}

/* ---- objects and loans ------------------------------------------------------------- */

/* Under the lock: an object record in block obj, held by the handle's endpoint; 0 if the
 * arena has no room for the hold (the block is then freed). */
static uint64_t make_object(shmipc_arena *a, uint64_t obj, const struct shmipc_payload *pl,
                            int *why)
{
    struct obj_hdr *o = obj_at(a, obj);
    uint64_t h;

    store(a, &o->size, pl->size);
    count_refs(o, 0);
    store(a, &o->gen, gen_next(ep_at(a, a->ep), a->ep));
    store(a, &o->pool_id, pl->pool_id);
    store(a, &o->data, pl->data);
    store(a, &o->magic, OBJ_MAGIC);
    h = new_hold(a, obj, a->ep, HOLD_HELD, why);
    if (!h) {
        store(a, &o->magic, 0);
        rec_free(a, obj);
    }
    return h;
}

/* A block of `bytes` with an object record in it (and its payload, if inline). */
static int new_object(shmipc_arena *a, uint64_t bytes, struct shmipc_payload *pl, int inline_,
                      uint64_t *hold)
{
    uint64_t obj, h = 0;
    int rc, why = 0;

    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    if (a->ep != 0 && !ep_valid(a, a->ep)) {
        shmipc__arena_unlock(a);
        return shmipc__fail(SHMIPC_ECLOSED, "the session this arena handle belongs to has "
                                            "ended: no new objects through it");
    }
    /* bytes inline stay in the arena's own pool, which the blob names */
    obj = inline_ ? shmipc__tlsf_alloc(a, bytes) : rec_alloc(a, bytes, &why);
    if (obj) {
        if (inline_) {
            pl->pool_id = a->pool->id;
            pl->data = obj + SHMIPC_OBJ_HDR;
        }
        h = make_object(a, obj, pl, &why);
    }
    shmipc__arena_unlock(a);
    if (why)
        return why;
    if (!h)
        return shmipc__fail(SHMIPC_ENOMEM, "arena has no room for an object of %llu bytes",
                            (unsigned long long)pl->size);
    *hold = h;
    return 0;
}

int shmipc__obj_alloc(shmipc_arena *a, size_t size, uint64_t *hold)
{
    struct shmipc_payload pl = {.size = size};

    if (size == 0 || size > a->crit.size)
        return shmipc__fail(size ? SHMIPC_ENOMEM : SHMIPC_EINVAL,
                            "object of %zu bytes in an arena of %zu", size, a->crit.size);
    return new_object(a, SHMIPC_OBJ_HDR + size, &pl, 1, hold);
}

int shmipc__obj_record(shmipc_arena *a, const struct shmipc_payload *pl, uint64_t *hold)
{
    struct shmipc_payload copy = *pl;

    return new_object(a, SHMIPC_OBJ_HDR, &copy, 0, hold);
}

int shmipc__hold_lend(shmipc_arena *a, uint64_t hold, uint32_t peer_ep,
                      const struct shmipc_proc_id *peer, uint64_t *loan, uint64_t *gen)
{
    uint64_t off = 0;
    int rc, why = 0;

    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    if (!ep_valid(a, peer_ep) || ep_at(a, peer_ep)->state != EP_LIVE ||
        !ep_is(ep_at(a, peer_ep), peer))
        rc = shmipc__fail(SHMIPC_ECLOSED, "the peer's endpoint is closed (or the peer died "
                                          "and it went to another)");
    else if (!(off = new_hold(a, hold_at(a, hold)->obj, peer_ep, HOLD_LENT, &why)))
        rc = why ? why : shmipc__fail(SHMIPC_ENOMEM, "arena has no room to record a loan");
    else
        *gen = TAG_GEN(hold_at(a, off)->tag);
    shmipc__arena_unlock(a);
    *loan = off;
    return rc;
}

/* Without the lock, as loan_peek reads: the loan's tag says it is still that loan and not
 * borrowed yet, and one compare-and-swap of the tag (which no other record, nor a block
 * reused since, can hold: generations are unique) makes it HELD. A borrower killed on
 * either side of it leaves the record whole, LENT or HELD, its endpoint's either way.
 * Every read here is atomic, as are the lock holder's stores (logged ones, and the
 * allocator's links in a block freed meanwhile: tlsf.c, derived_store); only a stale loan
 * whose block now holds an object's bytes (which the user writes plainly) can be read
 * racily, and what is read then is never trusted. */
int shmipc__hold_borrow(shmipc_arena *a, uint64_t loan, uint64_t gen, uint64_t obj,
                        uint64_t size)
{
    uint64_t lent = TAG(gen, HOLD_LENT);
    struct hold *h;

    if (gen == 0 || table_seg(loan) != 0 || !rec_inside(a, loan, sizeof *h))
        return shmipc__fail(SHMIPC_ESTALE, "the loan is gone (released, or its session ended)");
    h = hold_at(a, loan);
    if (__atomic_load_n(&h->tag, __ATOMIC_ACQUIRE) != lent)
        return arena_peek(&h->tag) == TAG(gen, HOLD_HELD)
                   ? shmipc__fail(SHMIPC_EBADBLOB, "the blob was already borrowed")
                   : shmipc__fail(SHMIPC_ESTALE,
                                  "the loan is gone (released, or its session ended)");
    if (arena_peek(&h->ep) != a->ep)
        return shmipc__fail(SHMIPC_EBADBLOB, "the loan was made to another endpoint");
    if (arena_peek(&h->obj) != obj || !rec_inside(a, obj, sizeof(struct obj_hdr)) ||
        arena_peek(&obj_at(a, obj)->magic) != OBJ_MAGIC ||
        arena_peek(&obj_at(a, obj)->size) != size)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob does not match its loan");
    if (SHMIPC_UNLIKELY(shmipc__crash_countdown > 0))
        shmipc__crash_point();
    if (!__atomic_compare_exchange_n(&h->tag, &lent, TAG(gen, HOLD_HELD), 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return shmipc__fail(SHMIPC_ESTALE, "the loan is gone, or was borrowed meanwhile");
    if (SHMIPC_UNLIKELY(shmipc__crash_countdown > 0))
        shmipc__crash_point();
    return 0;
}

void shmipc__hold_drop(shmipc_arena *a, uint64_t hold, struct shmipc_payload *dead)
{
    *dead = (struct shmipc_payload){0};
    if (shmipc__arena_lock(a) != 0)
        return;
    drop_hold(a, hold, dead);
    shmipc__arena_unlock(a);
}

int shmipc__loan_drop(shmipc_arena *a, uint64_t loan, uint64_t gen, uint32_t peer_ep,
                      struct shmipc_payload *dead)
{
    struct hold *h = NULL;
    int rc;

    *dead = (struct shmipc_payload){0};
    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    if (!(h = hold_of_gen(a, loan, gen)) || h->ep != peer_ep ||
        arena_peek(&h->tag) != TAG(gen, HOLD_LENT)) {
        store(a, &a->hdr->bad_frees, a->hdr->bad_frees + 1); /* counted, never acted on */
        rc = shmipc__fail(SHMIPC_EBADBLOB,
                          "a peer reported the release of a loan it does "
                          "not hold (offset %llu); ignored",
                          (unsigned long long)loan);
    } else
        drop_hold(a, loan, dead);
    shmipc__arena_unlock(a);
    return rc;
}

/* Atomic loads (plain ones on every target): a borrower calls these without the lock, on a
 * record its compare-and-swap made HELD (so the record and its object stay). The object's
 * words are written before its lend's release store of the tag and not after, so plain
 * loads would be ordered too; atomic ones keep ThreadSanitizer able to check a process
 * holding both ends of a session, which maps the pool at two addresses (it tracks them as
 * different words and locks, so it cannot see that ordering: it would report the
 * allocator's earlier link stores into the block as a race). */
static void payload_of(shmipc_arena *a, uint64_t obj, struct shmipc_payload *pl)
{
    const struct obj_hdr *o = obj_at(a, obj);

    pl->pool_id = arena_peek(&o->pool_id);
    pl->data = arena_peek(&o->data);
    pl->size = arena_peek(&o->size);
}

uint64_t shmipc__hold_obj(shmipc_arena *a, uint64_t hold, struct shmipc_payload *pl)
{
    uint64_t obj = arena_peek(&hold_at(a, hold)->obj);

    payload_of(a, obj, pl);
    return obj;
}

/* Without the owner's lock the allocator's own links cannot be trusted (the owner may be
 * splitting a neighbour block right now), so the records are checked by what they hold:
 * a loan's generation is unique and known only from its blob, and a record that is not
 * that loan (freed, reused, or never one) cannot match it. Every read stays in the table. */
int shmipc__loan_peek(shmipc_arena *a, uint64_t loan, uint64_t gen, uint32_t ep, uint64_t obj,
                      struct shmipc_payload *pl)
{
    const struct hold *h;
    const struct obj_hdr *o;

    if (table_seg(loan) > SHMIPC_TABLE_SEGS || table_seg(obj) > SHMIPC_TABLE_SEGS)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob points outside its table");
    if (!seg_of(a, loan) || !seg_of(a, obj))
        return SHMIPC_ENOENT; /* a table pool not announced yet: the caller waits for it */
    if (!rec_inside(a, loan, sizeof *h) || gen == 0 || TAG_GEN(tag_at(a, loan)) != gen)
        return shmipc__fail(SHMIPC_ESTALE, "the loan is gone (released, or its session "
                                           "ended)");
    h = hold_at(a, loan);
    if (arena_peek(&h->ep) != ep || tag_at(a, loan) != TAG(gen, HOLD_LENT) ||
        arena_peek(&h->obj) != obj || !rec_inside(a, obj, sizeof *o))
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob does not match a loan to this session");
    o = obj_at(a, obj);
    if (arena_peek(&o->magic) != OBJ_MAGIC)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob does not match a loan to this session");
    pl->pool_id = arena_peek(&o->pool_id);
    pl->data = arena_peek(&o->data);
    pl->size = arena_peek(&o->size);
    return 0;
}

/* ---- snapshots, for tools --------------------------------------------------------------- */

/* Count an endpoint's records by state (handles, loans; not its spares) and the bytes of
 * their objects, reading as loan_peek does; at most *budget records, taken from it (a
 * cyclic list ends there). */
static void peek_list(shmipc_arena *a, uint64_t head, uint64_t *budget,
                      struct shmipc_ep_info *info)
{
    for (uint64_t off = head; off && *budget; off = arena_peek(&hold_at(a, off)->next)) {
        uint64_t obj, size = 0, state;
        int lent;
        --*budget;
        if (!rec_inside(a, off, sizeof(struct hold)))
            return;
        if ((state = TAG_STATE(tag_at(a, off))) == HOLD_SPARE)
            continue;
        obj = arena_peek(&hold_at(a, off)->obj);
        lent = state >= HOLD_LENT;
        if (rec_inside(a, obj, sizeof(struct obj_hdr)) &&
            arena_peek(&obj_at(a, obj)->magic) == OBJ_MAGIC)
            size = arena_peek(&obj_at(a, obj)->size);
        ++*(lent ? &info->lent : &info->held);
        *(lent ? &info->lent_bytes : &info->held_bytes) += size;
    }
}

uint64_t shmipc__reftable_seg_pool(shmipc_arena *a, unsigned seg)
{
    uint64_t table = arena_peek(&a->hdr->ep_table);
    const uint64_t *dir;

    if (seg < 1 || seg > SHMIPC_TABLE_SEGS || !arena_inside(a, table, DIR_WORDS * sizeof *dir))
        return 0;
    dir = arena_at(a, table);
    return __atomic_load_n(&dir[SHMIPC_EP_CHUNKS + seg - 1], __ATOMIC_ACQUIRE);
}

uint64_t shmipc__reftable_holds(shmipc_arena *a)
{
    uint64_t chunk[SHMIPC_EP_CHUNKS], chunks, holds = 0;

    if (!peek_chunks(a, chunk, &chunks))
        return 0;
    for (uint32_t i = 0; i < chunks * SHMIPC_EP_CHUNK; i++)
        holds += arena_peek(
            &(chunk_at(a, chunk[i / SHMIPC_EP_CHUNK]) + i % SHMIPC_EP_CHUNK)->holds);
    return holds;
}

int shmipc__reftable_snapshot(shmipc_arena *a, struct shmipc_ep_info *out, size_t cap,
                              size_t *n)
{
    uint64_t budget = record_budget(a), chunk[SHMIPC_EP_CHUNKS], chunks;

    /* Every list shares one budget: never more records than the heaps can hold (a table
     * read from a file may say anything, a cyclic list among it). */
    *n = 0;
    if (!peek_chunks(a, chunk, &chunks))
        return shmipc__fail(SHMIPC_ECORRUPT, "no refcount table in this arena");
    for (uint32_t i = 0; i < chunks * SHMIPC_EP_CHUNK && *n < cap; i++) {
        const struct endpoint *e = chunk_at(a, chunk[i / SHMIPC_EP_CHUNK]) +
                                   i % SHMIPC_EP_CHUNK;
        struct shmipc_ep_info *info = &out[*n];
        uint64_t state = arena_peek(&e->state);
        if (state == EP_FREE || (i == 0 && arena_peek(&e->holds) == 0))
            continue;
        memset(info, 0, sizeof *info);
        info->ep = i;
        info->open = state == EP_LIVE;
        info->pid = (long)arena_peek(&e->pid);
        info->start = arena_peek(&e->start);
        info->frame = arena_peek(&e->frame);
        peek_list(a, arena_peek(&e->list), &budget, info);
        ++*n;
    }
    return 0;
}

/* ---- consistency ------------------------------------------------------------------- */

static int bad(uint64_t off, const char *what)
{
    return shmipc__fail(SHMIPC_ECORRUPT, "arena check: refcount table at offset %llu: %s",
                        (unsigned long long)off, what);
}

/* A spare record: a live block of exactly a record's size, its tag 0. */
static int check_spare(shmipc_arena *a, uint64_t off, uint64_t spares[])
{
    if (shmipc__tlsf_payload_size(seg_of(a, off), REC_OFF(off)) != sizeof(struct hold) ||
        tag_at(a, off) != 0)
        return bad(off, "spare record of another size, or not cleared");
    spares[table_seg(off)]++;
    return 0;
}

/* Endpoint ep's list: *count records held or lent, *nspare spares (spares[] counts them per
 * pool), each a live record of ep's with a good back link. */
static int check_list(shmipc_arena *a, uint32_t ep, uint64_t *count, uint64_t *nspare,
                      uint64_t spares[])
{
    uint64_t prev = 0, budget = list_bound(a, ep);
    int rc;

    for (uint64_t off = *list_of(a, ep); off; prev = off, off = hold_at(a, off)->next) {
        struct hold *h;
        if (budget-- == 0)
            return bad(off, "more records than counted, or a cycle");
        if (!hold_live(a, off))
            return bad(off, "record is not a live allocation");
        h = hold_at(a, off);
        if (h->prev != prev || h->ep != ep)
            return bad(off, "record in the wrong list, or with a bad back link");
        if (TAG_STATE(tag_at(a, off)) == HOLD_SPARE) {
            if ((rc = check_spare(a, off, spares)) != 0)
                return rc;
            ++*nspare;
            continue;
        }
        if (!rec_live(a, h->obj, SHMIPC_OBJ_HDR) || obj_at(a, h->obj)->magic != OBJ_MAGIC ||
            obj_at(a, h->obj)->refs == 0)
            return bad(off, "record of a dead object");
        ++*count;
    }
    return 0;
}

/* Endpoint ep's chain of spares: the nspare spares of its list, each once (a chain that
 * ends after exactly that many spare records of ep's, all in its list, has no repeat). */
static int check_chain(shmipc_arena *a, uint32_t ep, uint64_t nspare)
{
    uint64_t off = ep_at(a, ep)->spare;

    for (; off && nspare; off = hold_at(a, off)->chain, nspare--)
        if (!hold_live(a, off) || hold_at(a, off)->ep != ep ||
            TAG_STATE(tag_at(a, off)) != HOLD_SPARE)
            break;
    return off || nspare ? bad(ep, "endpoint's chain of spares is not its list's spares") : 0;
}

/* The directory and its chunks: live allocations, the chunks made and no more. */
static int check_chunks(shmipc_arena *a)
{
    uint64_t table = a->hdr->ep_table, chunks = a->hdr->ep_chunks;

    if (!shmipc__tlsf_is_live(a, table) ||
        shmipc__tlsf_payload_size(a, table) < SHMIPC_EP_CHUNKS * sizeof(uint64_t))
        return bad(table, "endpoint directory is not a live allocation");
    if (chunks == 0 || chunks > SHMIPC_EP_CHUNKS)
        return bad(table, "endpoint directory counts a wrong number of chunks");
    for (uint64_t c = 0; c < SHMIPC_EP_CHUNKS; c++) {
        uint64_t off = ep_dir(a)[c];
        if (c >= chunks ? off != 0
                        : !shmipc__tlsf_is_live(a, off) ||
                              shmipc__tlsf_payload_size(a, off) < CHUNK_ALLOC)
            return bad(table + c * sizeof(uint64_t),
                       "endpoint chunk is not a live "
                       "allocation, or one past the chunks counted");
    }
    return 0;
}

/* Each pool holds as many spares as it counts, at most SHMIPC_SPARES_MAX. */
static int check_spares(shmipc_arena *a, const uint64_t spares[])
{
    for (unsigned i = 0; i <= SHMIPC_TABLE_SEGS; i++) {
        shmipc_arena *s = i ? a->seg[i - 1] : a;
        uint64_t counted = s ? HDR_SPARES(s->hdr) : 0;
        if (counted > SHMIPC_SPARES_MAX || counted != spares[i])
            return bad(0, "a pool counts more spare records than it may keep, or not those "
                          "of the endpoints' lists");
    }
    return 0;
}

int shmipc__reftable_check(shmipc_arena *a)
{
    uint64_t live = 0, spares[1 + SHMIPC_TABLE_SEGS] = {0};
    int rc;

    for (unsigned i = 0; i < SHMIPC_TABLE_SEGS && a->seg[i]; i++)
        if ((rc = shmipc__tlsf_check(a->seg[i])) != 0)
            return rc;
    if ((rc = check_chunks(a)) != 0)
        return rc;
    for (uint32_t i = 0; i < a->hdr->ep_chunks * SHMIPC_EP_CHUNK; i++) {
        struct endpoint *e = ep_at(a, i);
        uint64_t count = 0, nspare = 0;
        if (e->state > EP_CLOSED)
            return bad(i, "endpoint in an unknown state");
        if (i != 0 && i < a->hdr->ep_hint && e->state == EP_FREE)
            return bad(i, "free endpoint below the first free one recorded");
        live += e->state == EP_LIVE;
        if ((rc = check_list(a, i, &count, &nspare, spares)) != 0 ||
            (rc = check_chain(a, i, nspare)) != 0)
            return rc;
        if (count != e->holds || (e->state == EP_FREE && count != 0))
            return bad(i, "endpoint's record count is wrong");
    }
    if (live != a->hdr->ep_live)
        return bad(0, "open endpoints miscounted");
    return check_spares(a, spares);
}
