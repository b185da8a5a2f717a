/* session.c — a session's life once the handshake (server.c, client.c) has set it up:
 * messages through the channel, lending and borrowing through object.c, and for the lend provider
 * the announcement of data pools to the peer before a blob names them, their retirement,
 * and taking the releases the peer reports. Also what happens when a session ends, cleanly
 * or because its peer died: every count of a dead peer is dropped at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lend.h"
#include "session.h"

/* ---- lend provider: announcements and releases --------------------------------------- */

static int announced_has(const struct announced *an, uint64_t id)
{
    for (size_t i = 0; i < an->n; i++)
        if (an->ids[i] == id)
            return 1;
    return 0;
}

/* 1 if a pool of own[kind] went since retirements were last looked for (any thread). */
static int pools_went(shmipc_session *s, int kind)
{
    return shmipc__lend_pools_seq(s->lend.own[kind]) !=
           atomic_load_explicit(&s->ann[kind].seq, memory_order_relaxed);
}

/* Under ann_lock: tell the peer about pools of own[kind] that are gone. A retirement that
 * could not be sent (but to a peer that is gone) stays to be told at the next look. */
static int announce_retired(shmipc_session *s, int kind)
{
    shmipc_arena *a = s->lend.own[kind];
    struct announced *an = &s->ann[kind];
    uint64_t seq = shmipc__lend_pools_seq(a);
    int rc;

    if (seq == atomic_load_explicit(&an->seq, memory_order_relaxed))
        return 0;
    for (size_t i = 0; i < an->n;) {
        if (shmipc__lend_has_pool(a, an->ids[i])) {
            i++;
            continue;
        }
        rc = shmipc__chan_control(&s->ch, CTL_RETIRE, (uint32_t)kind, an->ids[i], -1);
        if (rc != 0 && rc != SHMIPC_ECLOSED)
            return rc;
        if (an->ids[i] == atomic_load_explicit(&an->last, memory_order_relaxed))
            atomic_store_explicit(&an->last, 0, memory_order_relaxed);
        an->ids[i] = an->ids[--an->n];
    }
    atomic_store_explicit(&an->seq, seq, memory_order_relaxed);
    return 0;
}

/* Under ann_lock: send pool_id of own[kind] to the peer, with its fd. */
static int announce_pool(shmipc_session *s, int kind, uint64_t pool_id)
{
    struct announced *an = &s->ann[kind];
    int fd = shmipc__lend_pool_fd(s->lend.own[kind], pool_id), rc;

    if (fd < 0)
        return shmipc__fail(SHMIPC_ESTALE, "the object's pool is gone");
    if (an->n == an->cap) {
        size_t cap = an->cap ? 2 * an->cap : 16;
        uint64_t *grown = realloc(an->ids, cap * sizeof *grown);
        if (!grown)
            return shmipc__fail(SHMIPC_ENOMEM, "out of memory for announced pools");
        an->ids = grown;
        an->cap = cap;
    }
    if ((rc = shmipc__chan_control(&s->ch, CTL_POOL, (uint32_t)kind, pool_id, fd)) != 0)
        return rc;
    an->ids[an->n++] = pool_id;
    return 0;
}

/* announce, but for the same pool as last time while none went: under ann_lock. Apart, so
 * that the hot path saves no registers. */
static __attribute__((noinline)) int announce_locked(shmipc_session *s, int kind,
                                                     uint64_t pool_id)
{
    struct announced *an = &s->ann[kind];
    int rc;

    pthread_mutex_lock(&s->ann_lock);
    rc = announce_retired(s, kind);
    if (rc == 0 && !announced_has(an, pool_id))
        rc = announce_pool(s, kind, pool_id);
    if (rc == 0)
        atomic_store_explicit(&an->last, pool_id, memory_order_relaxed);
    pthread_mutex_unlock(&s->ann_lock);
    return rc;
}

/* The lend context's announce: the peer can map pool_id before any blob names it. */
static int announce(void *sess, int kind, uint64_t pool_id)
{
    shmipc_session *s = sess;

    if (pool_id == atomic_load_explicit(&s->ann[kind].last, memory_order_relaxed) &&
        !pools_went(s, kind))
        return 0; /* the hot path: the same pool as last time, and none went */
    return announce_locked(s, kind, pool_id);
}

/* The lend context's announce_table: pools of a table are sent once, and never retire. */
static int announce_table(void *sess, int kind, unsigned seg)
{
    shmipc_session *s = sess;
    int rc = 0;

    _Static_assert(SHMIPC_TABLE_SEGS < 32, "a bit per table pool");
    pthread_mutex_lock(&s->ann_lock);
    if (!(s->ann_tables[kind] & (1u << seg))) {
        int fd = shmipc__lend_table_fd(s->lend.own[kind], seg);
        rc = fd < 0 ? shmipc__fail(SHMIPC_ESTALE, "no table pool %u", seg)
                    : shmipc__chan_control(&s->ch, CTL_TABLE, (uint32_t)kind, seg, fd);
        if (rc == 0)
            s->ann_tables[kind] |= 1u << seg;
    }
    pthread_mutex_unlock(&s->ann_lock);
    return rc;
}

static int poll_control(void *sess, int timeout_ms)
{
    return shmipc__chan_await_socket(&((shmipc_session *)sess)->ch, timeout_ms);
}

/* Send the control messages that waited for room on the socket, push our release reports
 * that waited for room, take the releases reported on this side's lend arenas, and tell
 * the peer about pools that went. Cheap when there is nothing to do: no lock is taken
 * then. This session's peer's reports are taken whenever there are some on an arena it
 * lent from (on the others, forged ones, at the `all` looks only); `all`: also
 * those of every other source of the arenas (other sessions', closed ones included, and
 * whether their peers live), at most every ~1 ms (lend_sources.c) — at a wake-up, a poll,
 * a close, a new object, and every TEND_ALL_EVERY calls on the hot path of lend and recv. */
#define TEND_ALL_EVERY 64u
/* The peer's reports of our arena k's loans it released, if it may have made some (all:
 * look whatever the session expects). */
static void take_released(shmipc_session *s, int k, int all)
{
    if ((all || shmipc__release_expected(s->lend.ctrl, k)) &&
        shmipc__release_waiting(s->lend.ctrl, k))
        shmipc__lend_drain_peer(s->lend.own[k], s->lend.ctrl, k, s->lend.peer_ep[k]);
}

static void tend_lend(shmipc_session *s, int all)
{
    unsigned n;

    if (s->lend.provider != SHMIPC_PROVIDER_LEND)
        return;
    n = atomic_load_explicit(&s->tends, memory_order_relaxed) + 1;
    atomic_store_explicit(&s->tends, n, memory_order_relaxed); /* no read-modify-write */
    all |= n % TEND_ALL_EVERY == 0;
    shmipc__chan_flush_control(&s->ch);
    shmipc__release_flush(s->lend.ctrl); /* our releases that waited for room */
    for (int k = 0; k < 2; k++) {
        if (!s->lend.own[k])
            continue;
        take_released(s, k, all);
        if (all)
            shmipc__lend_tend(s->lend.own[k]);
        if (pools_went(s, k) && pthread_mutex_trylock(&s->ann_lock) == 0) {
            announce_retired(s, k); /* what could not be sent is told at the next look */
            pthread_mutex_unlock(&s->ann_lock);
        }
    }
}

/* ---- channel hooks ---------------------------------------------------------------------- */

static void on_peer_gone(void *ctx, int died)
{
    shmipc_session *s = ctx;

    /* A dead peer's counts are ours to drop: its handles (shared provider) and every loan
     * made to it. A peer that said goodbye keeps what it borrowed. */
    if (died)
        for (int k = 0; k < 2; k++)
            if (s->lend.own[k])
                shmipc__ep_close_peer(s->lend.own[k], s->lend.peer_ep[k], s->lend.peer_id[k]);
}

/* A pool of the peer's table: a loan in it fails to borrow if it cannot be taken. */
static void take_table(shmipc_arena *v, uint64_t seg, int fd)
{
    if (fd >= 0 && seg <= SHMIPC_TABLE_SEGS)
        shmipc__view_add_table(v, (unsigned)seg, fd);
}

/* A pool the peer announced: mapped in view v, or remembered as lost, and why (its
 * descriptor could not be received, or it could not be mapped). */
static void take_pool(shmipc_arena *v, uint64_t pool_id, int fd)
{
    int rc;

    if (fd == SHMIPC__FD_LOST) {
        errno = EMFILE;
        rc = shmipc__fail_errno("no descriptor was left to receive it");
    } else {
        rc = fd >= 0 ? shmipc__view_add_pool(v, fd) : 0;
    }
    if (rc != 0)
        shmipc__view_pool_lost(v, pool_id, rc, fd);
}

static void on_control(void *ctx, const struct shmipc_ctl_msg *m, int fd)
{
    shmipc_session *s = ctx;
    shmipc_arena *v = m->kind < 2 ? s->lend.from[m->kind] : NULL;

    if (v && !v->ops->writable) { /* a peer's lend arena */
        if (m->type == CTL_POOL)
            take_pool(v, m->pool_id, fd);
        else if (m->type == CTL_RETIRE)
            shmipc__view_retire_pool(v, m->pool_id);
        else if (m->type == CTL_TABLE)
            take_table(v, m->pool_id, fd);
    }
    if (fd >= 0)
        close(fd);
}

static void on_wake(void *ctx)
{
    tend_lend(ctx, 1);
}

/* While a receiver spins: the releases of what we lent, taken now rather than on the
 * next call's path (a spinning ping-pong's answer follows the peer's release). */
static void on_idle(void *ctx)
{
    shmipc_session *s = ctx;

    if (s->lend.provider != SHMIPC_PROVIDER_LEND)
        return;
    for (int k = 0; k < 2; k++)
        if (s->lend.own[k])
            take_released(s, k, 0);
}

/* ---- life ---------------------------------------------------------------------------- */

int shmipc__session_alloc(int sock, shmipc_session **out)
{
    shmipc_session *s = calloc(1, sizeof *s);
    int rc;

    if (!s)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a session");
    pthread_mutex_t *const locks[] = {&s->ch.gone_lock, &s->ch.sock_lock, &s->ch.ctl_lock,
                                      &s->ann_lock};
    if ((rc = shmipc__mutexes_init(locks, sizeof locks / sizeof locks[0], "a session")) != 0) {
        free(s);
        return rc;
    }
    s->ch.sock = sock;
    s->ch.epfd = -1;
    s->ch.my_data_efd = s->ch.my_space_efd = s->ch.peer_data_efd = s->ch.peer_space_efd = -1;
    s->ch.wake_efd = -1;
    s->ch.on_peer_gone = on_peer_gone;
    s->ch.on_control = on_control;
    s->ch.on_wake = on_wake;
    s->ch.on_idle = on_idle;
    s->ch.ctx = s;
    s->peer_pidfd = -1;
    s->lend.announce = announce;
    s->lend.announce_table = announce_table;
    s->lend.poll_control = poll_control;
    s->lend.sess = s;
    s->fork_gen = shmipc__fork_gen_now();
    *out = s;
    return 0;
}

/* 1 if id was read (an endpoint's owner is never all 0: see shmipc__ep_open). */
static int known(const struct shmipc_proc_id *id)
{
    return (id->pid | id->start | id->frame) != 0;
}

/* Whom the peer's endpoints belong to, read once they are set up (unless the handshake
 * read it as it opened them): a close of them later must not hit another session's
 * endpoint that reused the number. */
static void remember_peer_ids(shmipc_session *s)
{
    for (int k = 0; k < 2; k++)
        if (s->lend.own[k] && s->lend.own[k]->ops->writable && !known(&s->lend.peer_id[k]))
            s->lend.peer_id[k] = shmipc__ep_id(s->lend.own[k], s->lend.peer_ep[k]);
}

/* Shared provider: close this side's endpoints, once (unborrowed loans go; a dead or
 * aborted side's handles too). */
static void close_my_eps(shmipc_session *s, int died)
{
    if (s->lend.provider != SHMIPC_PROVIDER_SHARED || atomic_exchange(&s->my_eps_closed, 1))
        return;
    for (int k = 0; k < 2; k++)
        if (s->lend.own[k])
            shmipc__ep_close(s->lend.own[k], s->my_ep[k], died);
}

int shmipc__session_start(shmipc_session *s, struct shmipc_ctrl *ctrl, int is_server)
{
    int rc;

    s->lend.ctrl = ctrl;
    remember_peer_ids(s);
    shmipc__watch_peer(s);
    if ((rc = shmipc__chan_init(&s->ch, ctrl, is_server)) != 0)
        return rc;
    if (s->lend.provider != SHMIPC_PROVIDER_LEND)
        return 0;
    for (int k = 0; k < 2 && rc == 0; k++)
        if (s->lend.own[k])
            rc = shmipc__lend_add_source(s->lend.own[k], ctrl, k, s->lend.peer_ep[k],
                                         s->peer_pidfd, SHMIPC_REAP_EVERY_NS);
    return rc;
}

/* Free everything a session holds locally (its endpoints already dealt with). */
static void session_free(shmipc_session *s)
{
    for (int k = 0; k < 2; k++) {
        if (s->lend.provider == SHMIPC_PROVIDER_LEND && s->lend.own[k] && s->ch.ctrl)
            shmipc__lend_source_closed(s->lend.own[k], s->ch.ctrl);
        if (s->lend.from[k] != s->lend.own[k])
            shmipc_arena_close(s->lend.from[k]);
        shmipc_arena_close(s->lend.own[k]);
        free(s->ann[k].ids);
    }
    shmipc__chan_close(&s->ch);
    if (s->peer_pidfd >= 0)
        close(s->peer_pidfd);
    pthread_mutex_destroy(&s->ch.gone_lock);
    pthread_mutex_destroy(&s->ch.sock_lock);
    pthread_mutex_destroy(&s->ch.ctl_lock);
    pthread_mutex_destroy(&s->ann_lock);
    free(s);
}

void shmipc__session_abort(shmipc_session *s)
{
    remember_peer_ids(s); /* those not remembered yet are still the peer's */
    for (int k = 0; k < 2; k++)
        if (s->lend.own[k] && s->lend.own[k]->ops->writable)
            shmipc__ep_close_peer(s->lend.own[k], s->lend.peer_ep[k], s->lend.peer_id[k]);
    close_my_eps(s, 1);
    session_free(s);
}

/* Loans to us that no message we read carried, and that we can no longer borrow. */
static void drop_unborrowed(shmipc_session *s)
{
    if (s->lend.provider == SHMIPC_PROVIDER_SHARED) {
        close_my_eps(s, 0);
        return;
    }
    /* Lend provider: the loans are the peer's records; report those of unread messages
     * as released (a blob passed by other means must be borrowed before closing). */
    for (;;) {
        struct shmipc_loan_ref loan;
        int has_loan = 0;
        if (!shmipc__chan_discard(&s->ch, &loan, &has_loan))
            break;
        if (has_loan)
            shmipc__loan_ref_release(&s->lend, &loan);
    }
}

void shmipc_session_shutdown(shmipc_session *s)
{
    if (s && !shmipc__inherited(s->fork_gen)) /* a child's copy: its eventfd is the parent's */
        shmipc__chan_shutdown(&s->ch);
}

void shmipc_session_close(shmipc_session *s)
{
    if (!s)
        return;
    if (!shmipc__inherited(s->fork_gen)) { /* a child's copy only frees its own memory */
        drop_unborrowed(s);
        tend_lend(s, 1);
        if (s->lend.provider == SHMIPC_PROVIDER_LEND && !atomic_load(&s->ch.closed))
            shmipc__release_settle(s->lend.ctrl); /* our reports, before we stop calling */
        shmipc__chan_goodbye(&s->ch);
    }
    session_free(s);
}

/* ---- accessors ------------------------------------------------------------------------ */

int shmipc_session_fd(const shmipc_session *s)
{
    return s ? s->ch.epfd : SHMIPC_EINVAL;
}

shmipc_arena *shmipc_session_arena(shmipc_session *s)
{
    return s ? s->lend.own[SHMIPC_ARENA_SESSION] : NULL;
}

shmipc_arena *shmipc_app_arena(shmipc_session *s)
{
    if (!s)
        return NULL;
    return s->lend.own[SHMIPC_ARENA_APP] ? s->lend.own[SHMIPC_ARENA_APP]
                                         : s->lend.from[SHMIPC_ARENA_APP];
}

long shmipc_session_peer_pid(const shmipc_session *s)
{
    if (!s)
        return shmipc__fail(SHMIPC_EINVAL, "session is NULL");
    if (s->peer_pid <= 0)
        return shmipc__fail(SHMIPC_ENOENT,
                            "the peer's process is in a pid namespace this "
                            "process cannot see (another container): it has no pid here");
    return s->peer_pid;
}

int shmipc_session_provider(const shmipc_session *s)
{
    return s ? s->lend.provider : SHMIPC_EINVAL;
}

int shmipc_session_closed(const shmipc_session *s)
{
    return s ? atomic_load(&((shmipc_session *)s)->ch.closed) : 1;
}

int shmipc_session_peer_gone(const shmipc_session *s)
{
    shmipc_session *m = (shmipc_session *)s;

    if (!s)
        return shmipc__fail(SHMIPC_EINVAL, "session is NULL");
    if (!atomic_load(&m->ch.closed))
        return 0;
    return atomic_load(&m->ch.goodbye) && !atomic_load(&m->ch.why) ? SHMIPC_PEER_GOODBYE
                                                                   : SHMIPC_PEER_DIED;
}

void shmipc_session_set_spin(shmipc_session *s, unsigned spin_us)
{
    if (s && !shmipc__inherited(s->fork_gen))
        atomic_store_explicit(&s->ch.spin_us, spin_us, memory_order_relaxed);
}

const struct shmipc_lend_ctx *shmipc__session_lend_ctx(const shmipc_session *s)
{
    return &s->lend;
}

/* ---- lending and messages -------------------------------------------------------------- */

/* Shared provider: drop what dead processes left in the session's arenas (and in any
 * arena of this process, of peers watched through their pidfds), at most every
 * SHMIPC_REAP_EVERY_NS. A peer that said goodbye keeps what it borrowed (handles outlive
 * sessions); if it dies with it, nobody else would notice before the next accept of its
 * app. */
static void reap_shared(shmipc_session *s)
{
    uint64_t now, due = atomic_load_explicit(&s->next_reap_ns, memory_order_relaxed);

    if (s->lend.provider != SHMIPC_PROVIDER_SHARED)
        return;
    now = shmipc__now_ns();
    if (now < due ||
        !atomic_compare_exchange_strong(&s->next_reap_ns, &due, now + SHMIPC_REAP_EVERY_NS))
        return; /* not yet, or another thread does it */
    for (int k = 0; k < 2; k++)
        if (s->lend.own[k])
            shmipc__ep_reap(s->lend.own[k], 0);
    shmipc__watch_reap(); /* and the deaths only a pidfd can tell of */
}

int shmipc_session_poll(shmipc_session *s)
{
    int rc;

    if (!s)
        return shmipc__fail(SHMIPC_EINVAL, "session is NULL");
    if ((rc = SESSION_NOT_INHERITED(s, "shmipc_session_poll")) != 0)
        return rc;
    if (atomic_load(&s->ch.shut))
        return shmipc__chan_usable(&s->ch);
    shmipc__chan_poll_socket(&s->ch);
    tend_lend(s, 1);
    reap_shared(s);
    return 0;
}

/* shmipc_lend once the session's checks passed (a send made them as it found room). */
static int lend_checked(shmipc_session *s, shmipc_obj *o, shmipc_blob *out)
{
    tend_lend(s, 0);
    return shmipc__lend(&s->lend, o, out);
}

/* The same for a loan that goes in the ring. */
static int lend_ref_checked(shmipc_session *s, shmipc_obj *o, struct shmipc_loan_ref *out)
{
    tend_lend(s, 0);
    return shmipc__lend_ref(&s->lend, o, out);
}

int shmipc_lend(shmipc_session *s, shmipc_obj *o, shmipc_blob *out)
{
    int rc;

    if (!s || !o || !out)
        return shmipc__fail(SHMIPC_EINVAL, "session, object or out is NULL");
    if ((rc = SESSION_NOT_INHERITED(s, "shmipc_lend")) != 0 ||
        (rc = shmipc__chan_usable(&s->ch)) != 0)
        return rc;
    return lend_checked(s, o, out);
}

int shmipc_borrow(shmipc_session *s, const shmipc_blob *b, shmipc_obj **out)
{
    int rc;

    if (!s || !b || !out)
        return shmipc__fail(SHMIPC_EINVAL, "session, blob or out is NULL");
    if ((rc = SESSION_NOT_INHERITED(s, "shmipc_borrow")) != 0)
        return rc;
    if (atomic_load(&s->ch.shut))
        return shmipc__chan_usable(&s->ch);
    return shmipc__borrow(&s->lend, b, out);
}

int shmipc_send_timeout(shmipc_session *s, const void *msg, size_t len, shmipc_obj *o,
                        int timeout_ms)
{
    struct shmipc_loan_ref loan;
    int rc;

    if (!s || (!msg && len))
        return shmipc__fail(SHMIPC_EINVAL, "session is NULL, or msg is NULL with len > 0");
    if ((rc = SESSION_NOT_INHERITED(s, "shmipc_send")) != 0)
        return rc;
    if (len > SHMIPC_MSG_MAX)
        return shmipc__fail(SHMIPC_EMSGSIZE, "message of %zu bytes (at most %d)", len,
                            SHMIPC_MSG_MAX);
    /* Room first, then the loan: a send that times out has lent nothing. Only senders
     * fill the ring, and they hold send_lock: the room stays. */
    shmipc__plock_lock(&s->send_lock);
    rc = shmipc__chan_room(&s->ch, len, o != NULL, timeout_ms);
    if (rc == 0 && o)
        rc = lend_ref_checked(s, o, &loan);
    if (rc == 0)
        shmipc__chan_put(&s->ch, o ? &loan : NULL, msg, len);
    shmipc__plock_unlock(&s->send_lock);
    return rc;
}

int shmipc_send(shmipc_session *s, const void *msg, size_t len, shmipc_obj *o)
{
    return shmipc_send_timeout(s, msg, len, o, -1);
}

int shmipc_recv(shmipc_session *s, void *buf, size_t cap, size_t *len, shmipc_obj **o,
                int timeout_ms)
{
    struct shmipc_loan_ref loan;
    shmipc_obj *tmp;
    int has_loan = 0, rc;
    size_t got = 0;

    if (o)
        *o = NULL;
    if (!s || !len || (!buf && cap))
        return shmipc__fail(SHMIPC_EINVAL, "session or len is NULL, or buf is NULL with cap");
    if ((rc = SESSION_NOT_INHERITED(s, "shmipc_recv")) != 0)
        return rc;
    tend_lend(s, 0);
    shmipc__plock_lock(&s->recv_lock);
    rc = shmipc__chan_get(&s->ch, buf, cap, &got, &loan, &has_loan, timeout_ms);
    shmipc__plock_unlock(&s->recv_lock);
    if (rc == SHMIPC_ECLOSED && atomic_load(&s->ch.closed) && !atomic_load(&s->ch.shut))
        close_my_eps(s, 0); /* drained for good: loans to us no message carried go */
    if (rc == 0 || rc == SHMIPC_EMSGSIZE)
        *len = got;
    if (rc != 0 || !has_loan)
        return rc;
    if (o)
        return shmipc__borrow_ref(&s->lend, &loan, o);
    /* The caller wants no object: take the loan and drop it at once. */
    if (shmipc__borrow_ref(&s->lend, &loan, &tmp) == 0)
        shmipc_obj_unref(tmp);
    return 0;
}
