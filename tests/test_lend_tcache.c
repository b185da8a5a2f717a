/* The lend arenas' per-thread tcaches (shmipc_alloc/shmipc_free on a lend arena): one per
 * thread and arena, however many arenas a thread uses (no small table whose slots are
 * taken in turn, destroying and remaking a tcache at every call):
 *   - one thread allocating round-robin on 24 lend arenas makes 24 tcaches, not one per
 *     call, and every pointer lies in its arena's pools;
 *   - threads that exit destroy theirs; an arena that closes destroys those made for it,
 *     while a thread that used it lives on and allocates in the other arenas;
 *   - a thread that makes, uses and closes arenas one after another keeps a table sized
 *     for the arenas that live, and no tcache;
 *   - a forked child uses arenas of its own (its parent's tcaches are not its own to
 *     destroy), and its parent's arenas work on after it. */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>

#include "lend.h"
#include "tap.h"

#define MiB ((size_t)1 << 20)
#define NARENAS 24

struct counts {
    uint64_t made, live;
};

static struct counts counts(void)
{
    struct counts c;

    shmipc__lend_tcache_counts(&c.made, &c.live);
    return c;
}

/* rounds x (allocate, then free) on each of n arenas in turn: the pointers that were not
 * in their arena's pools (or failed). */
static long round_robin(shmipc_arena **a, unsigned n, unsigned rounds)
{
    long bad = 0;

    for (unsigned r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < n; i++) {
            void *p = shmipc_alloc(a[i], 16 + 16 * (r % 8));

            bad += !p || !shmipc__lend_owns(a[i], p);
            shmipc_free(a[i], p);
        }
    }
    return bad;
}

static int make_arenas(shmipc_arena **a, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (shmipc__lend_arena_create(MiB, &a[i]) != 0) {
            diag("lend arena %u: %s", i, shmipc_error_detail());
            return -1;
        }
    }
    return 0;
}

static void close_arenas(shmipc_arena **a, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        shmipc_arena_close(a[i]);
}

static void test_round_robin(shmipc_arena **a)
{
    struct counts before = counts(), after;
    long bad = round_robin(a, NARENAS, 200);

    after = counts();
    ok(bad == 0,
       "200 rounds of alloc+free on %d lend arenas in turn: every pointer in its "
       "arena's pools (%ld not)",
       NARENAS, bad);
    ok(after.made - before.made == NARENAS && after.live - before.live == NARENAS,
       "one tcache per arena for the thread: %d made (%" PRIu64 "), %d alive (%" PRIu64 ")",
       NARENAS, after.made - before.made, NARENAS, after.live - before.live);
}

struct worker {
    shmipc_arena **a;
    unsigned n;
    pthread_barrier_t *used, *closed; /* NULL: no pause */
    long bad;
};

static void *work(void *arg)
{
    struct worker *w = arg;

    w->bad = round_robin(w->a, w->n, 50);
    if (w->used) {
        pthread_barrier_wait(w->used);   /* the main thread closes the first half */
        pthread_barrier_wait(w->closed); /* then this one goes on with the second */
        w->bad += round_robin(w->a + w->n / 2, w->n - w->n / 2, 50);
    }
    return NULL;
}

static void test_thread_exit(shmipc_arena **a)
{
    struct counts before = counts(), after;
    struct worker w[4];
    pthread_t t[4];
    long bad = 0;

    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){a, NARENAS, NULL, NULL, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].bad;
    }
    after = counts();
    ok(bad == 0, "4 threads round-robin on %d arenas: every pointer in its pools", NARENAS);
    ok(after.made - before.made == 4 * NARENAS && after.live == before.live,
       "each made one per arena (%" PRIu64 " of %d) and destroyed them at exit (%" PRIu64
       " alive, was %" PRIu64 ")",
       after.made - before.made, 4 * NARENAS, after.live, before.live);
}

/* Arenas close while a thread that used them lives on (the main thread used them too). */
static void test_arena_close(shmipc_arena **a)
{
    struct counts before = counts(), mid, after;
    pthread_barrier_t used, closed;
    struct worker w = {a, NARENAS, &used, &closed, 0};
    pthread_t t;

    pthread_barrier_init(&used, NULL, 2);
    pthread_barrier_init(&closed, NULL, 2);
    pthread_create(&t, NULL, work, &w);
    pthread_barrier_wait(&used);
    close_arenas(a, NARENAS / 2);
    mid = counts();
    pthread_barrier_wait(&closed);
    pthread_join(t, NULL);
    after = counts();
    ok(w.bad == 0, "a thread goes on in the arenas still open after others closed");
    ok(mid.live == before.live + NARENAS - 2 * (NARENAS / 2),
       "closing %d arenas destroyed the tcaches made for them, the thread's and the main "
       "thread's (%" PRIu64 " alive, %" PRIu64 " before the thread came)",
       NARENAS / 2, mid.live, before.live);
    ok(after.live == before.live - NARENAS / 2,
       "the thread's exit destroyed its own, no more (%" PRIu64 " alive)", after.live);
    pthread_barrier_destroy(&used);
    pthread_barrier_destroy(&closed);
}

/* Make, use and close arenas one after another: n times. */
static long churn(unsigned n)
{
    long bad = 0;
    shmipc_arena *a;

    for (unsigned i = 0; i < n; i++) {
        if (make_arenas(&a, 1) != 0)
            return -1;
        bad += round_robin(&a, 1, 4);
        shmipc_arena_close(a);
    }
    return bad;
}

static void test_churn(void)
{
    struct counts before = counts(), after;
    long bad = churn(300);

    after = counts();
    ok(bad == 0, "300 arenas made, used and closed in turn");
    ok(after.made - before.made == 300 && after.live == before.live,
       "one tcache each (%" PRIu64 "), none left (%" PRIu64 " alive, was %" PRIu64 ")",
       after.made - before.made, after.live, before.live);
    ok(shmipc__lend_tcache_slots() <= 64,
       "the thread's table holds the arenas that live, not the 300 it used (%zu slots)",
       shmipc__lend_tcache_slots());
}

static void *churn_thread(void *arg)
{
    *(long *)arg = churn(20);
    return NULL;
}

/* In a forked child (of a parent whose thread has tcaches for its 12 arenas left): arenas
 * of its own, on the forking thread and on a new one. */
static int child(void *arg)
{
    struct counts before = counts(), after;
    shmipc_arena *mine[NARENAS];
    pthread_t t;
    long bad, tbad = -1;

    (void)arg;
    if (make_arenas(mine, NARENAS) != 0)
        return 1;
    bad = round_robin(mine, NARENAS, 20);
    pthread_create(&t, NULL, churn_thread, &tbad);
    pthread_join(t, NULL);
    close_arenas(mine, NARENAS);
    after = counts();
    if (bad || tbad || after.made - before.made != NARENAS + 20 || after.live != before.live) {
        fprintf(stderr, "child: %ld %ld bad, %" PRIu64 " made, %" PRIu64 " -> %" PRIu64 "\n",
                bad, tbad, after.made - before.made, before.live, after.live);
        return 1;
    }
    return 0;
}

static void test_fork(shmipc_arena **a)
{
    struct counts before = counts();
    int status = run_child(child, NULL);

    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "a forked child makes, uses and drops tcaches of its own arenas (status %#x)", status);
    ok(round_robin(a, NARENAS / 2, 50) == 0 && counts().made == before.made,
       "the parent's arenas work on after it, with the tcaches they had");
    for (unsigned i = 0; i < NARENAS / 2; i++)
        is_rc(shmipc_arena_check(a[i]), 0, "arena %u consistent", i);
}

int main(void)
{
    shmipc_arena *a[NARENAS];

    if (shmipc__lend_arena_create(MiB, &a[0]) == SHMIPC_ENOTSUP) {
        skip("the lend provider's tcaches: this build has no jemalloc");
        return done_testing();
    }
    shmipc_arena_close(a[0]);
    if (make_arenas(a, NARENAS) != 0)
        return 1;
    test_round_robin(a);
    test_thread_exit(a);
    test_arena_close(a);
    test_churn();
    test_fork(a + NARENAS / 2);
    close_arenas(a + NARENAS / 2, NARENAS - NARENAS / 2);
    ok(counts().live == 0, "no tcache alive once every arena closed (%" PRIu64 ")",
       counts().live);
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
