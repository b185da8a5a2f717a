/* relring.h — the release rings of a session's control segment (relring.c): a borrower
 * reports there the loans of the lend provider it released, the owner takes the reports.
 * Their layout is part of the control segment's (channel.c lays it out): keep it. */
#ifndef SHMIPC_RELRING_H
#define SHMIPC_RELRING_H

#include "internal.h"

#define SHMIPC_RELEASE_CAP ((uint64_t)1 << 16) /* entries of a release ring */
/* Release reports a borrower keeps when its ring is full. Past it a release waits, up to
 * SHMIPC_RELEASE_WAIT_MS, for the owner to take reports (its doorbell rung); an owner that
 * took none meanwhile does not run its session, and the report is queued all the same (it
 * is never dropped: that would keep the owner's memory until the borrower dies), further
 * releases not waiting again until the owner takes some. */
#define SHMIPC_RELEASE_QUEUE_MAX ((size_t)1 << 16)
#define SHMIPC_RELEASE_WAIT_MS 100
/* The positions of one release ring, in the control segment. */
struct shmipc_relring_ctl {
    _Alignas(64) _Atomic uint64_t head; /* the owner's: reports taken */
    _Alignas(64) _Atomic uint64_t tail; /* the borrower's: reports made */
    _Atomic uint32_t wake; /* the borrower sets, the owner clears: reports wait for room */
};
_Static_assert(offsetof(struct shmipc_relring_ctl, wake) == 72 &&
                   sizeof(struct shmipc_relring_ctl) == 128,
               "release ring layout");

/* An entry: the released loan and its generation. The loan word is written last (release)
 * and carries in its top bit the tag of the ring's lap (set on even laps): the owner takes
 * the entry at its head once the tag is this lap's. A loan's record address never has
 * that bit (arena.h: a table segment number stays far below 2^15). */
struct shmipc_release_entry {
    uint64_t loan;
    uint64_t gen;
};
#define SHMIPC_RELEASE_LAP_BIT (UINT64_C(1) << 63)
#define SHMIPC_RELEASE_BYTES (SHMIPC_RELEASE_CAP * sizeof(struct shmipc_release_entry))

/* A process's handle on a control segment, reference counted: the session holds it, and
 * so does everything that may report or take releases after the session has gone. Its
 * first member is the part a session's every call looks at, read inline (below). */
struct shmipc_ctrl;
struct shmipc_ctrl_hot {
    const struct shmipc_release_entry *peer_slots[2]; /* the peer's rings' entries, by kind */
    _Atomic uint64_t drain_head[2]; /* written under drain_lock; read without it (a hint) */
    atomic_bool lent[2]; /* this side lent from its arena of that kind: reports may come */
};

/* The part of c that its first member is (struct shmipc_ctrl, relring.c). */
static inline struct shmipc_ctrl_hot *relring_hot(struct shmipc_ctrl *c)
{
    return (struct shmipc_ctrl_hot *)(void *)c;
}

/* The tag an entry written at position p carries in its loan word's top bit: 1 on the
 * even laps of the ring, 0 on the odd ones, so that an entry of the lap before (and the
 * zeroes of a fresh ring) never reads as one of this lap. */
static inline uint64_t relring_lap_tag(uint64_t p)
{
    return ((p / SHMIPC_RELEASE_CAP) & 1) ? 0 : SHMIPC_RELEASE_LAP_BIT;
}

/* The entry at position p of a ring the peer reports into, if written (acquire): 1 and *e
 * (its loan without the tag), or 0. Inline: every call of the session looks at the heads. */
static inline __attribute__((always_inline)) int relring_entry_at(
    const struct shmipc_release_entry *slots, uint64_t p, struct shmipc_release_entry *e)
{
    const struct shmipc_release_entry *slot = &slots[p % SHMIPC_RELEASE_CAP];
    uint64_t loan = __atomic_load_n(&slot->loan, __ATOMIC_ACQUIRE);

    if ((loan & SHMIPC_RELEASE_LAP_BIT) != relring_lap_tag(p))
        return 0;
    e->loan = loan & ~SHMIPC_RELEASE_LAP_BIT;
    e->gen = __atomic_load_n(&slot->gen, __ATOMIC_RELAXED);
    return 1;
}

/* Take ownership of pool (a control segment) as this side's handle on its four release
 * rings: positions ctl[4] and entries slots (4 * SHMIPC_RELEASE_BYTES), both indexed
 * [reporter * 2 + kind] (reporter 0 the server, 1 the client). */
SHMIPC_HIDDEN int shmipc__ctrl_open(shmipc_pool *pool, struct shmipc_relring_ctl *ctl,
                                    void *slots, int is_server, struct shmipc_ctrl **out);
SHMIPC_HIDDEN struct shmipc_ctrl *shmipc__ctrl_ref(struct shmipc_ctrl *c);
SHMIPC_HIDDEN void shmipc__ctrl_unref(struct shmipc_ctrl *c);
/* One block of malloc'd memory kept for the next handle borrowed through c (a handle
 * borrowed and dropped per message then costs no malloc and no free): _take gives it (or
 * NULL), _keep keeps mem if none is kept, else frees it; freed with c. Any thread. */
SHMIPC_HIDDEN void *shmipc__ctrl_take(struct shmipc_ctrl *c);
SHMIPC_HIDDEN void shmipc__ctrl_keep(struct shmipc_ctrl *c, void *mem);
SHMIPC_HIDDEN shmipc_pool *shmipc__ctrl_pool(const struct shmipc_ctrl *c);

/* The peer's data doorbell (a copy of fd is kept): rung to wake the peer when a release
 * ring it waits on has room (it owns loans whose reports wait here) or is full. */
SHMIPC_HIDDEN void shmipc__ctrl_set_doorbell(struct shmipc_ctrl *c, int fd);
/* Borrower: report that loan (in the peer's arena `kind`) is released. When the ring is
 * full the report waits in this process, and the ring asks the owner to ring this side's
 * data doorbell once it has taken reports: the waiting ones then go with the session's
 * next call or wake-up (shmipc__release_flush), a recv that sleeps included. Past
 * SHMIPC_RELEASE_QUEUE_MAX waiting reports, waits for the owner a while (see there). */
SHMIPC_HIDDEN void shmipc__release_push(struct shmipc_ctrl *c, int kind, uint64_t loan,
                                        uint64_t gen);
/* Borrower: push the reports that waited for room in the rings, as far as there is room. */
SHMIPC_HIDDEN void shmipc__release_flush(struct shmipc_ctrl *c);
/* Borrower, closing its session: push every report that waits, while the owner takes them
 * (up to SHMIPC_RELEASE_WAIT_MS without progress): nothing is left for a later call. */
SHMIPC_HIDDEN void shmipc__release_settle(struct shmipc_ctrl *c);
/* Owner: a loan of this side's arena `kind` goes to the peer (called before it can be
 * reported); shmipc__release_expected() then says 1 for good. A session's hot path looks
 * at the peer's ring of a kind only once it is expected (with many sessions, each look at
 * an idle ring is a cache and TLB miss); its other looks (a poll, every 64th call, the
 * arena's walk) still take and count forged reports. */
static inline void shmipc__release_expect(struct shmipc_ctrl *c, int kind)
{
    atomic_bool *lent = &relring_hot(c)->lent[kind & 1];

    /* written once: the line stays shared */
    if (!atomic_load_explicit(lent, memory_order_relaxed))
        atomic_store_explicit(lent, 1, memory_order_release);
}
static inline int shmipc__release_expected(struct shmipc_ctrl *c, int kind)
{
    return atomic_load_explicit(&relring_hot(c)->lent[kind & 1], memory_order_acquire);
}
/* Owner: 1 if the peer reported releases on loans of this side's arena `kind` that are
 * not taken yet, without a lock (one look at the entry at the head): a hint, for skipping
 * a drain. */
static inline int shmipc__release_waiting(struct shmipc_ctrl *c, int kind)
{
    struct shmipc_ctrl_hot *h = relring_hot(c);
    struct shmipc_release_entry e;

    return relring_entry_at(h->peer_slots[kind & 1],
                            atomic_load_explicit(&h->drain_head[kind & 1],
                                                 memory_order_relaxed),
                            &e);
}
/* Owner: take the peer's reports on loans of this side's arena `kind`, fn(ctx, loan, gen)
 * each (what they name is the caller's to check), a ring's capacity of them at most. One
 * drain at a time per ring: a drain already running elsewhere makes this one return at
 * once. */
SHMIPC_HIDDEN void shmipc__release_drain(struct shmipc_ctrl *c, int kind,
                                         void (*fn)(void *ctx, uint64_t loan, uint64_t gen),
                                         void *ctx);

/* Ring an eventfd doorbell (-1: none); a full counter means the peer is awake anyway. */
SHMIPC_HIDDEN void shmipc__doorbell_ring(int efd);

#endif
