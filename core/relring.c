/* relring.c — the release rings of a session's control segment, and this process's handle
 * on them (struct shmipc_ctrl, reference counted: the session holds it, and so does every
 * borrowed object and every source of releases of a lend arena, which may outlive the
 * session). A borrower reports the loans it released (object.c pushes); the owner takes the
 * reports (the lend provider drains) and checks each against what it lent before acting on
 * it. A ring is single-producer single-consumer: the producer publishes an entry with a
 * release store of its loan word, which carries the lap's tag (relring.h); the consumer
 * polls the entry at its head (not the producer's tail, whose line would cross the cores
 * too) and frees space with a release store of its head. Reports
 * that find the ring full wait in this process (see relring.h). Where the rings lie in the
 * segment is channel.c's business: it hands their positions and entries to
 * shmipc__ctrl_open. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "plock.h"
#include "relring.h"

struct overflow {
    struct overflow *next;
    int kind;
    struct shmipc_release_entry e;
};

struct shmipc_ctrl {
    struct shmipc_ctrl_hot hot; /* first: relring.h reads it inline */
    atomic_int refs;
    _Atomic(void *) spare; /* a freed handle's memory, for the next (shmipc__ctrl_keep) */
    shmipc_pool *pool;
    struct shmipc_relring_ctl *ctl;     /* the 4 rings' positions, [reporter * 2 + kind] */
    struct shmipc_release_entry *slots; /* their entries, SHMIPC_RELEASE_CAP each */
    int is_server;
    int doorbell;           /* the peer's data eventfd (ours to close), or -1 */
    shmipc_plock push_lock; /* our reports: one producer at a time */
    struct overflow *pending, **pending_end; /* reports waiting for room, in order */
    atomic_size_t npending; /* written under push_lock; read without it to skip the lock */
    int stalled;            /* a wait for the owner timed out, and it has taken nothing since */
    uint64_t push_tail[2];
    uint64_t push_head_seen[2]; /* the owner's head as last read: reread when full */
    shmipc_plock drain_lock[2]; /* the peer's reports: one consumer at a time */
};

/* The release ring this side reports into, and the one the peer reports into: reporter 0
 * is the server, 1 the client; kind is the owner's arena, SHMIPC_ARENA_*. */
static int my_ring(const struct shmipc_ctrl *c, int kind)
{
    return (c->is_server ? 0 : 2) + kind;
}

static int peer_ring(const struct shmipc_ctrl *c, int kind)
{
    return (c->is_server ? 2 : 0) + kind;
}

int shmipc__ctrl_open(shmipc_pool *pool, struct shmipc_relring_ctl *ctl, void *slots,
                      int is_server, struct shmipc_ctrl **out)
{
    struct shmipc_ctrl *c = calloc(1, sizeof *c); /* its locks free */

    if (!c)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a control segment");

    atomic_init(&c->refs, 1);
    c->pool = pool;
    c->ctl = ctl;
    c->slots = slots;
    c->is_server = is_server;
    c->pending_end = &c->pending;
    c->doorbell = -1;
    for (int kind = 0; kind < 2; kind++) {
        c->push_tail[kind] = atomic_load(&c->ctl[my_ring(c, kind)].tail);
        c->push_head_seen[kind] = atomic_load(&c->ctl[my_ring(c, kind)].head);
        atomic_init(&c->hot.drain_head[kind], atomic_load(&c->ctl[peer_ring(c, kind)].head));
        c->hot.peer_slots[kind] = c->slots + (size_t)peer_ring(c, kind) * SHMIPC_RELEASE_CAP;
    }
    *out = c;
    return 0;
}

struct shmipc_ctrl *shmipc__ctrl_ref(struct shmipc_ctrl *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void shmipc__ctrl_unref(struct shmipc_ctrl *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    while (c->pending) {
        struct overflow *o = c->pending;
        c->pending = o->next;
        free(o);
    }
    free(atomic_load(&c->spare));
    if (c->doorbell >= 0)
        close(c->doorbell);
    shmipc_pool_close(c->pool);
    free(c);
}

void *shmipc__ctrl_take(struct shmipc_ctrl *c)
{
    return atomic_exchange(&c->spare, NULL);
}

void shmipc__ctrl_keep(struct shmipc_ctrl *c, void *mem)
{
    void *none = NULL;

    if (!atomic_compare_exchange_strong(&c->spare, &none, mem))
        free(mem); /* one is kept already */
}

shmipc_pool *shmipc__ctrl_pool(const struct shmipc_ctrl *c)
{
    return c->pool;
}

void shmipc__ctrl_set_doorbell(struct shmipc_ctrl *c, int fd)
{
    c->doorbell = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
}

void shmipc__doorbell_ring(int efd)
{
    uint64_t one = 1;
    ssize_t n;

    if (efd < 0)
        return;
    n = write(efd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is full, the peer is awake anyway */
}

/* ---- the rings ---------------------------------------------------------------------- */

/* The peer's ring of `kind`: its positions and its entries. */
static struct shmipc_relring_ctl *peer_ctl(const struct shmipc_ctrl *c, int kind,
                                           const struct shmipc_release_entry **slots)
{
    *slots = c->hot.peer_slots[kind & 1];
    return &c->ctl[peer_ring(c, kind & 1)];
}

/* Under push_lock: put e in our ring of `kind` if there is room. 1 if it went. */
static int push_entry(struct shmipc_ctrl *c, int kind, const struct shmipc_release_entry *e)
{
    int ring = my_ring(c, kind);
    struct shmipc_relring_ctl *r = &c->ctl[ring];
    uint64_t *head = &c->push_head_seen[kind];
    struct shmipc_release_entry *slot;

    /* The head as last read while it shows room (the owner's line stays in its cache);
     * else read again, seq_cst: see push_pending(). */
    if (c->push_tail[kind] - *head >= SHMIPC_RELEASE_CAP &&
        c->push_tail[kind] - (*head = atomic_load(&r->head)) >= SHMIPC_RELEASE_CAP)
        return 0; /* full (or a head the peer moved wrongly: then we only queue) */
    slot =
        &c->slots[(size_t)ring * SHMIPC_RELEASE_CAP + c->push_tail[kind] % SHMIPC_RELEASE_CAP];
    __atomic_store_n(&slot->gen, e->gen, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->loan,
                     (e->loan & ~SHMIPC_RELEASE_LAP_BIT) | relring_lap_tag(c->push_tail[kind]),
                     __ATOMIC_RELEASE);
    c->push_tail[kind]++;
    atomic_store_explicit(&r->tail, c->push_tail[kind], memory_order_relaxed); /* for tools */
    return 1;
}

/* Under push_lock: move queued reports into the rings while they have room. If some are
 * left, ask the owner to ring our doorbell once it has taken reports from the ring that is
 * full, and wake it (an owner asleep in recv takes reports when it wakes). The flag is a
 * Dekker pair of seq_cst stores and loads with release_drain(): we store it, then load the
 * head once more; the owner stores the head, then loads the flag. */
static void push_pending(struct shmipc_ctrl *c)
{
    for (int armed = 0;; armed = 1) {
        while (c->pending && push_entry(c, c->pending->kind, &c->pending->e)) {
            struct overflow *o = c->pending;
            if (!(c->pending = o->next))
                c->pending_end = &c->pending;
            free(o);
            atomic_store_explicit(&c->npending, c->npending - 1, memory_order_relaxed);
            c->stalled = 0;
        }
        if (!c->pending || armed)
            return;
        if (!atomic_exchange(&c->ctl[my_ring(c, c->pending->kind)].wake, 1))
            shmipc__doorbell_ring(c->doorbell);
    }
}

/* Under push_lock, while `limit` or more reports wait: give the owner (rung by
 * push_pending) time to take some, up to SHMIPC_RELEASE_WAIT_MS without progress, unless
 * it let such a wait time out already and has taken nothing since. */
static void wait_for_owner(struct shmipc_ctrl *c, size_t limit)
{
    const uint64_t patience = (uint64_t)SHMIPC_RELEASE_WAIT_MS * 1000000u;
    const struct timespec tick = {.tv_nsec = 1000000};
    uint64_t deadline;

    if (c->stalled || c->npending < limit)
        return; /* the common case, without reading the clock */
    deadline = shmipc__now_ns() + patience;
    while (!c->stalled && c->npending >= limit) {
        size_t before = c->npending;
        if (shmipc__now_ns() >= deadline) {
            c->stalled = 1;
            return;
        }
        nanosleep(&tick, NULL);
        push_pending(c);
        if (c->npending < before)
            deadline = shmipc__now_ns() + patience;
    }
}

void shmipc__release_flush(struct shmipc_ctrl *c)
{
    /* Nothing waits (the common case: no lock taken), or a push under way moves them. */
    if (!c || !atomic_load_explicit(&c->npending, memory_order_relaxed) ||
        !shmipc__plock_try(&c->push_lock))
        return;
    push_pending(c);
    shmipc__plock_unlock(&c->push_lock);
}

void shmipc__release_settle(struct shmipc_ctrl *c)
{
    shmipc__plock_lock(&c->push_lock);
    push_pending(c);
    c->stalled = 0; /* one more chance: this is the borrower's last call */
    wait_for_owner(c, 1);
    shmipc__plock_unlock(&c->push_lock);
}

void shmipc__release_push(struct shmipc_ctrl *c, int kind, uint64_t loan, uint64_t gen)
{
    struct shmipc_release_entry e = {.loan = loan, .gen = gen};

    kind &= 1;
    shmipc__plock_lock(&c->push_lock);
    if (SHMIPC_UNLIKELY(c->pending != NULL)) { /* else neither has anything to do */
        push_pending(c);
        wait_for_owner(c, SHMIPC_RELEASE_QUEUE_MAX);
    }
    if (c->pending || !push_entry(c, kind, &e)) {
        struct overflow *o = malloc(sizeof *o);
        if (o) { /* else the loan stays ours until the endpoint goes */
            o->kind = kind;
            o->e = e;
            o->next = NULL;
            *c->pending_end = o;
            c->pending_end = &o->next;
            atomic_store_explicit(&c->npending, c->npending + 1, memory_order_relaxed);
            push_pending(c); /* arms the owner's doorbell */
        }
    }
    shmipc__plock_unlock(&c->push_lock);
}

void shmipc__release_drain(struct shmipc_ctrl *c, int kind,
                           void (*fn)(void *ctx, uint64_t loan, uint64_t gen), void *ctx)
{
    const struct shmipc_release_entry *slots;
    struct shmipc_relring_ctl *r = peer_ctl(c, kind, &slots);
    uint64_t head, start;
    struct shmipc_release_entry e;

    /* Nothing reported at the head (the common case: no lock taken, and no line of the
     * segment written), or another thread drains. */
    if (!shmipc__release_waiting(c, kind) || !shmipc__plock_try(&c->drain_lock[kind & 1]))
        return;
    /* a lap at most: a peer that keeps writing entries does not keep us here */
    head = start = atomic_load_explicit(&c->hot.drain_head[kind & 1], memory_order_relaxed);
    for (; head - start < SHMIPC_RELEASE_CAP && relring_entry_at(slots, head, &e);) {
        fn(ctx, e.loan, e.gen);
        if (++head % 1024 == 0) /* room for a borrower that waits, as we go */
            atomic_store_explicit(&r->head, head, memory_order_release);
    }
    atomic_store_explicit(&c->hot.drain_head[kind & 1], head, memory_order_relaxed);
    /* Then the borrower's flag (seq_cst pair: see push_pending): reports of its wait. */
    atomic_store(&r->head, head);
    if (atomic_load(&r->wake) && atomic_exchange(&r->wake, 0))
        shmipc__doorbell_ring(c->doorbell);
    shmipc__plock_unlock(&c->drain_lock[kind & 1]);
}
