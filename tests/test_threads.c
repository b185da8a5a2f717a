/* test_threads.c — the process-private locks of the hot path (core/plock.h) under real
 * threads: the lock itself (mutual exclusion, try, a waiter that sleeps instead of
 * spinning), then one session used by many threads at once from both sides, with both
 * providers: every message and object arrives exactly once, intact, and every count is
 * given back. Small enough to build and run under ThreadSanitizer on its own. */
#include "plock.h"
#include "session_util.h"

#include <stdatomic.h>

/* ---- the lock ---------------------------------------------------------------------- */

enum {
    LOCKERS = 4
};

struct counted {
    shmipc_plock lock;
    long count; /* under lock, a plain word: a lost update shows in the total */
    int rounds;
    atomic_int inside;    /* holders right now */
    atomic_long overlaps; /* times a holder found another inside */
};

static void *count_up(void *arg)
{
    struct counted *c = arg;

    for (int i = 0; i < c->rounds; i++) {
        shmipc__plock_lock(&c->lock);
        atomic_fetch_add(&c->overlaps, atomic_fetch_add(&c->inside, 1) != 0);
        long n = c->count;
        for (int j = 0; j < i % 8; j++) /* a section of some length */
            shmipc__cpu_relax();
        c->count = n + 1;
        atomic_fetch_sub(&c->inside, 1);
        shmipc__plock_unlock(&c->lock);
    }
    return NULL;
}

static void test_exclusion(void)
{
    struct counted c = {.rounds = UNDER_SANITIZER ? 20000 : 300000};
    pthread_t t[LOCKERS];

    shmipc__plock_init(&c.lock);
    for (int i = 0; i < LOCKERS; i++)
        pthread_create(&t[i], NULL, count_up, &c);
    for (int i = 0; i < LOCKERS; i++)
        pthread_join(t[i], NULL);
    ok(c.count == (long)LOCKERS * c.rounds && atomic_load(&c.overlaps) == 0,
       "%d threads, %d increments each under the lock: %ld, one holder at a time (%ld "
       "overlaps)",
       LOCKERS, c.rounds, c.count, atomic_load(&c.overlaps));
    ok(atomic_load(&c.lock.word) == 0, "the lock is free after");
}

static void test_try(void)
{
    shmipc_plock l;

    shmipc__plock_init(&l);
    ok(shmipc__plock_try(&l), "try takes a free lock");
    ok(!shmipc__plock_try(&l), "try fails on a held one");
    shmipc__plock_unlock(&l);
    ok(shmipc__plock_try(&l), "and takes it once unlocked");
    shmipc__plock_unlock(&l);
}

struct sleeper {
    shmipc_plock *lock;
    double cpu_ms, wall_ms;
};

static double ms_of(clockid_t clk)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *wait_for_lock(void *arg)
{
    struct sleeper *s = arg;
    double cpu = ms_of(CLOCK_THREAD_CPUTIME_ID), wall = ms_of(CLOCK_MONOTONIC);

    shmipc__plock_lock(s->lock);
    s->cpu_ms = ms_of(CLOCK_THREAD_CPUTIME_ID) - cpu;
    s->wall_ms = ms_of(CLOCK_MONOTONIC) - wall;
    shmipc__plock_unlock(s->lock);
    return NULL;
}

/* A waiter behind a holder that keeps the lock 200 ms sleeps: it burns little CPU. */
static void test_waiter_sleeps(void)
{
    shmipc_plock l;
    struct sleeper s = {.lock = &l};
    const struct timespec hold = {.tv_nsec = 200000000};
    pthread_t t;

    shmipc__plock_init(&l);
    shmipc__plock_lock(&l);
    pthread_create(&t, NULL, wait_for_lock, &s);
    nanosleep(&hold, NULL);
    shmipc__plock_unlock(&l);
    pthread_join(t, NULL);
    ok(s.wall_ms >= 150, "the waiter got the lock once it was let go (%.0f ms)", s.wall_ms);
    ok(s.cpu_ms < 50, "it slept meanwhile instead of spinning (%.1f ms of CPU)", s.cpu_ms);
    ok(atomic_load(&l.word) == 0, "the lock is free after");
}

/* ---- a session used by many threads at once ------------------------------------------ */

enum {
    SENDERS = 2,   /* per side */
    RECEIVERS = 2, /* per side */
    PAYLOAD = 64
};

/* One side of the session: its threads send to the other side, and receive from it. */
struct side {
    shmipc_session *s;
    struct side *peer;
    int per_sender;
    _Atomic int received;        /* messages this side took */
    _Atomic int bad;             /* a message not as sent, a duplicate, or a failed call */
    _Atomic unsigned char *seen; /* [sender * per_sender + seq]: times received */
};

struct sender {
    struct side *side;
    int id;
};

/* A message and its object both carry (sender, seq); the object's bytes repeat it. */
struct stamp {
    int sender, seq;
};

static int send_one(struct side *sd, int id, int seq)
{
    struct stamp st = {id, seq};
    shmipc_obj *o;
    int rc = shmipc_obj_new(shmipc_session_arena(sd->s), PAYLOAD, &o);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < PAYLOAD; i += sizeof st)
        memcpy((char *)shmipc_obj_ptr(o) + i, &st, sizeof st);
    rc = shmipc_send(sd->s, &st, sizeof st, o);
    shmipc_obj_unref(o); /* the owner's count, while the peer may be borrowing it */
    return rc;
}

static void *send_all(void *arg)
{
    struct sender *sn = arg;
    struct side *sd = sn->side;

    for (int seq = 0; seq < sd->per_sender; seq++) {
        int rc = send_one(sd, sn->id, seq);
        if (rc != 0) {
            diag("send %d/%d: %s (%s)", sn->id, seq, shmipc_strerror(rc),
                 shmipc_error_detail());
            atomic_fetch_add(&sd->bad, 1);
            return NULL;
        }
    }
    return NULL;
}

/* 1 if message st came with an object of the same stamp, seen for the first time. */
static int take(struct side *sd, const struct stamp *st, shmipc_obj *o)
{
    const struct side *from = sd->peer;
    struct stamp in;
    size_t slot;

    if (!o || shmipc_obj_size(o) != PAYLOAD || st->sender < 0 || st->sender >= SENDERS ||
        st->seq < 0 || st->seq >= from->per_sender)
        return 0;
    for (size_t i = 0; i < PAYLOAD; i += sizeof in) {
        memcpy(&in, (const char *)shmipc_obj_ptr(o) + i, sizeof in);
        if (in.sender != st->sender || in.seq != st->seq)
            return 0;
    }
    slot = (size_t)st->sender * (size_t)from->per_sender + (size_t)st->seq;
    return atomic_fetch_add(&from->seen[slot], 1) == 0;
}

static void *receive_all(void *arg)
{
    struct side *sd = arg;
    const int total = SENDERS * sd->peer->per_sender;

    while (atomic_load(&sd->received) < total && !atomic_load(&sd->bad)) {
        struct stamp st;
        shmipc_obj *o;
        size_t len;
        int rc = shmipc_recv(sd->s, &st, sizeof st, &len, &o, 100);
        if (rc == SHMIPC_ETIMEDOUT)
            continue;
        if (rc != 0 || len != sizeof st || !take(sd, &st, o)) {
            diag("recv: %s (%s)", shmipc_strerror(rc), rc ? shmipc_error_detail() : "bad");
            atomic_fetch_add(&sd->bad, 1);
        }
        shmipc_obj_unref(o); /* the release report, from this thread */
        atomic_fetch_add(&sd->received, 1);
    }
    return NULL;
}

static int all_seen_once(const struct side *sd)
{
    for (int i = 0; i < SENDERS * sd->per_sender; i++)
        if (atomic_load(&sd->seen[i]) != 1)
            return 0;
    return 1;
}

static void test_session_threads(shmipc_server *srv, const char *what)
{
    const int per = UNDER_SANITIZER ? 1000 : 10000;
    struct side a = {.per_sender = per}, b = {.per_sender = per};
    struct sender sn[2][SENDERS];
    pthread_t t[2][SENDERS + RECEIVERS];
    size_t base_a, base_b;

    if (open_pair(srv, "threads", &a.s, &b.s) != 0) {
        ok(0, "%s: a session", what);
        return;
    }
    a.peer = &b;
    b.peer = &a;
    a.seen = calloc((size_t)SENDERS * per, 1);
    b.seen = calloc((size_t)SENDERS * per, 1);
    base_a = used_of(shmipc_session_arena(a.s));
    base_b = used_of(shmipc_session_arena(b.s));
    for (int side = 0; side < 2; side++) {
        struct side *sd = side ? &b : &a;
        for (int i = 0; i < SENDERS; i++) {
            sn[side][i] = (struct sender){sd, i};
            pthread_create(&t[side][i], NULL, send_all, &sn[side][i]);
        }
        for (int i = 0; i < RECEIVERS; i++)
            pthread_create(&t[side][SENDERS + i], NULL, receive_all, sd);
    }
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < SENDERS + RECEIVERS; i++)
            pthread_join(t[side][i], NULL);
    ok(!atomic_load(&a.bad) && !atomic_load(&b.bad),
       "%s: %d threads a side sent and received %d objects each way, intact", what,
       SENDERS + RECEIVERS, SENDERS * per);
    ok(all_seen_once(&a) && all_seen_once(&b), "%s: each exactly once", what);
    for (int i = 0; i < 3; i++) { /* lend provider: the owners take the last releases */
        shmipc_session_poll(a.s);
        shmipc_session_poll(b.s);
    }
    ok(used_of(shmipc_session_arena(a.s)) == base_a &&
           used_of(shmipc_session_arena(b.s)) == base_b,
       "%s: every object is freed on both sides", what);
    is_rc(shmipc_arena_check(shmipc_session_arena(a.s)), 0, "%s: the arenas hold", what);
    shmipc_session_close(a.s);
    shmipc_session_close(b.s);
    free(a.seen);
    free(b.seen);
}

static void test_provider(int provider, const char *what)
{
    shmipc_server_opts o;
    shmipc_server *srv;
    int rc;

    shmipc_server_opts_init(&o);
    o.provider = provider;
    if ((rc = shmipc_server_open("threads", &o, &srv)) == SHMIPC_ENOTSUP) {
        skip("the lend provider: this build has no jemalloc");
        return;
    }
    is_rc(rc, 0, "%s server", what);
    if (rc == 0) {
        test_session_threads(srv, what);
        shmipc_server_close(srv);
    }
}

int main(void)
{
    use_private_socket_dir();
    test_try();
    test_exclusion();
    test_waiter_sleeps();
    test_provider(SHMIPC_PROVIDER_LEND, "lend");
    test_provider(SHMIPC_PROVIDER_SHARED, "shared");
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
