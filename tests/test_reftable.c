/* The refcount table's spare hold records (issue 17): a dropped record stays in its
 * endpoint's list as a spare for the endpoint's next one instead of going back to the
 * allocator, and a shared borrow is one compare-and-swap without the lock.
 * - A stale blob that names a spare record is refused as stale, whatever generation it
 *   claims (0 included), by the shared borrow and by a lend peer's check, both without the
 *   lock; a second release of it is refused and counted.
 * - A process killed at every store of a script of loans, borrows and drops that takes
 *   records from the spares and puts them back is rolled back: the arena checks out and its
 *   figures (the spares included) are exactly those after the last step that completed; a
 *   kill on either side of the borrow's compare-and-swap needs no roll-back.
 * - Two processes borrowing the same blobs at once: each is borrowed once.
 * - The spares are bounded: after thousands of loans all dropped, a table pool keeps
 *   SHMIPC_SPARES_MAX records at most, and the arena's figures count them as free. */
#include <sys/mman.h>

#include "arena.h"
#include "lend.h"
#include "kill_util.h"
#include "tap.h"

#define MiB ((size_t)1 << 20)
#define OBJ_SIZE 100
#define BURST 3000

struct table {
    shmipc_arena *a;
    uint32_t ep; /* a borrower's endpoint */
    struct shmipc_proc_id id;
    uint64_t hold;  /* the handle's record of an object */
    uint64_t obj;   /* its object record */
    uint64_t hold2; /* a second object's (the script drops the first) */
};

/* An arena (shared, or a lend arena's table) with an endpoint and an object held. */
static int table_new(int lend, struct table *t)
{
    struct shmipc_payload pl;
    shmipc_pool *p;
    int rc;

    memset(t, 0, sizeof *t);
    if (lend)
        rc = shmipc__lend_arena_create(MiB, &t->a);
    else if ((rc = shmipc_pool_create(NULL, 4 * MiB, 0, &p)) == 0 &&
             (rc = shmipc_arena_create(p, &t->a)) != 0)
        shmipc_pool_close(p);
    if (rc == 0)
        rc = shmipc__ep_open(t->a, getpid(), &t->ep);
    if (rc == 0)
        rc = t->a->ops->obj_new(t->a, OBJ_SIZE, &t->hold);
    if (rc != 0)
        return rc;
    t->id = shmipc__ep_id(t->a, t->ep);
    t->obj = shmipc__hold_obj(t->a, t->hold, &pl);
    return 0;
}

static int lend_to(struct table *t, uint64_t *loan, uint64_t *gen)
{
    return shmipc__hold_lend(t->a, t->hold, t->ep, &t->id, loan, gen);
}

/* A new object, lent (the script may have dropped t's handle). */
static int lend_new(struct table *t)
{
    uint64_t hold, loan, gen;

    return t->a->ops->obj_new(t->a, OBJ_SIZE, &hold) == 0 &&
           shmipc__hold_lend(t->a, hold, t->ep, &t->id, &loan, &gen) == 0;
}

static void test_stale_blob(int lend)
{
    struct shmipc_payload pl;
    struct table t;
    uint64_t loan, gen, loan2, gen2;
    const char *what = lend ? "lend" : "shared";

    if (!SETUP(table_new(lend, &t) == 0 && lend_to(&t, &loan, &gen) == 0, "a loan"))
        return;
    ok(shmipc__loan_release(t.a, loan, gen, t.ep) == 0 && HDR_SPARES(t.a->hdr) == 1,
       "%s: a released loan's record is kept as a spare", what);
    is_rc(shmipc__loan_peek(t.a, loan, gen, t.ep, t.obj, &pl), SHMIPC_ESTALE,
          "%s: its stale blob, checked without the lock: ESTALE", what);
    is_rc(shmipc__loan_peek(t.a, loan, 0, t.ep, t.obj, &pl), SHMIPC_ESTALE,
          "%s: and claiming the spare's generation 0", what);
    if (!lend) {
        is_rc(shmipc__hold_borrow(t.a, loan, gen, t.obj, OBJ_SIZE), SHMIPC_ESTALE,
              "%s: borrowed (no lock taken): ESTALE", what);
        is_rc(shmipc__hold_borrow(t.a, loan, 0, t.obj, OBJ_SIZE), SHMIPC_ESTALE,
              "%s: claiming generation 0: ESTALE", what);
    }
    is_rc(shmipc__loan_release(t.a, loan, gen, t.ep), SHMIPC_EBADBLOB,
          "%s: released again: refused", what);
    is_rc(shmipc__loan_release(t.a, loan, 0, t.ep), SHMIPC_EBADBLOB,
          "%s: released as generation 0: refused", what);
    ok(t.a->hdr->bad_frees == 2 && HDR_SPARES(t.a->hdr) == 1 &&
           shmipc__reftable_holds(t.a) == 1,
       "%s: both counted, nothing changed", what);
    ok(lend_to(&t, &loan2, &gen2) == 0 && loan2 == loan && gen2 != gen &&
           HDR_SPARES(t.a->hdr) == 0,
       "%s: the next loan takes the spare, with a new generation", what);
    is_rc(shmipc__loan_peek(t.a, loan, gen, t.ep, t.obj, &pl), SHMIPC_ESTALE,
          "%s: the old blob stays stale on the reused record", what);
    ok(shmipc__loan_peek(t.a, loan2, gen2, t.ep, t.obj, &pl) == 0 && pl.size == OBJ_SIZE,
       "%s: the new one is good", what);
    ok(shmipc_arena_check(t.a) == 0, "%s: the table checks out", what);
    shmipc_arena_close(t.a);
}

/* ---- killed at every store ---------------------------------------------------------------- */

#define STEPS 12

struct figures {
    size_t used, allocations;
    uint64_t holds, spares, raw_used;
    uint64_t refs; /* the second object's count (its record's word at offset 16) */
};

struct progress {
    volatile int step;
    struct figures after[STEPS + 1];
};

static struct figures figures_of(shmipc_arena *a, const struct table *t)
{
    struct shmipc_arena_stats s = stats_of(a);
    struct shmipc_payload pl;
    const uint64_t *obj2 = arena_at(a, shmipc__hold_obj(a, t->hold2, &pl));

    return (struct figures){
        s.used,       s.allocations, shmipc__reftable_holds(a), HDR_SPARES(a->hdr),
        a->hdr->used, obj2[2]};
}

/* Loans and drops that pop spares and push them (a spare made by the parent to begin),
 * one allocated anew when there is none, a loan borrowed (its tag turned HELD in place,
 * without the lock) and dropped by its borrower as the shared provider's round trip does,
 * the object's last hold dropped, and an unborrowed loan dropped by its endpoint's close
 * (made GOING first). */
static void run_script(shmipc_arena *a, struct table *t, struct progress *pr, int record)
{
    uint64_t loan[3] = {0}, gen[3] = {0};
    struct shmipc_payload dead;

    a->ep = t->ep; /* the borrower's handle */
    for (int step = 0; step < STEPS; step++) {
        pr->step = step;
        switch (step) {
        case 0: shmipc__hold_lend(a, t->hold, t->ep, &t->id, &loan[0], &gen[0]); break;
        case 1: shmipc__loan_drop(a, loan[0], gen[0], t->ep, &dead); break;
        case 2: shmipc__hold_lend(a, t->hold, t->ep, &t->id, &loan[1], &gen[1]); break;
        case 3: shmipc__hold_lend(a, t->hold, t->ep, &t->id, &loan[2], &gen[2]); break;
        case 4: shmipc__hold_borrow(a, loan[1], gen[1], t->obj, OBJ_SIZE); break;
        case 5: shmipc__loan_drop(a, loan[2], gen[2], t->ep, &dead); break;
        case 6: shmipc__hold_drop(a, loan[1], &dead); break;
        case 7: shmipc__hold_lend(a, t->hold, t->ep, &t->id, &loan[0], &gen[0]); break;
        case 8: shmipc__hold_drop(a, t->hold, &dead); break;
        case 9: shmipc__loan_drop(a, loan[0], gen[0], t->ep, &dead); break;
        case 10: shmipc__hold_lend(a, t->hold2, t->ep, &t->id, &loan[0], &gen[0]); break;
        case 11: shmipc__ep_drop_one(a, t->ep, 0, NULL, &dead); break;
        }
        if (record)
            pr->after[step + 1] = figures_of(a, t);
    }
    pr->step = STEPS;
}

/* A shared arena with two objects and one spare in its table. */
static int fresh(struct table *t)
{
    uint64_t loan, gen;

    return table_new(0, t) == 0 && t->a->ops->obj_new(t->a, OBJ_SIZE, &t->hold2) == 0 &&
           lend_to(t, &loan, &gen) == 0 && shmipc__loan_release(t->a, loan, gen, t->ep) == 0 &&
           HDR_SPARES(t->a->hdr) == 1;
}

static int same(const struct figures *x, const struct figures *y)
{
    return memcmp(x, y, sizeof *x) == 0;
}

static void test_killed_at_every_store(void)
{
    struct progress *pr = mmap(NULL, sizeof *pr, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int deaths = 0, consistent = 0, atomic = 0, recovered = 0, usable = 0, in_borrow = 0;
    struct table t;

    if (!SETUP(fresh(&t), "a shared arena with a spare record"))
        return;
    pr->after[0] = figures_of(t.a, &t);
    run_script(t.a, &t, pr, 1);
    ok(pr->after[2].spares == 1 && pr->after[3].spares == 0 && pr->after[5].holds == 4 &&
           pr->after[6].spares == 1 && pr->after[7].spares == 2 && pr->after[8].spares == 1 &&
           pr->after[10].spares == 3 && pr->after[10].holds == 1 && pr->after[11].spares == 2 &&
           pr->after[12].spares == 3 && pr->after[12].holds == 1 && pr->after[10].refs == 1 &&
           pr->after[11].refs == 2 && pr->after[12].refs == 1,
       "the script takes spares and gives them back (%llu at the end)",
       (unsigned long long)pr->after[10].spares);
    shmipc_arena_close(t.a);

    for (long k = 1; k < 2000; k++) {
        struct figures f;
        pid_t pid;
        int status;

        if (!fresh(&t))
            break;
        pid = fork();
        if (pid == 0) {
            shmipc_arena *mine = own_handle(t.a);
            if (!mine)
                _exit(1);
            shmipc__crash_countdown = k;
            run_script(mine, &t, pr, 0);
            _exit(0);
        }
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            shmipc_arena_close(t.a);
            break;
        }
        deaths++;
        consistent += shmipc_arena_check(t.a) == 0;
        f = figures_of(t.a, &t);
        atomic += same(&f, &pr->after[pr->step]);
        if (!same(&f, &pr->after[pr->step]))
            diag("k=%ld step %d: used %zu holds %llu spares %llu, expected %zu %llu %llu", k,
                 pr->step, f.used, (unsigned long long)f.holds, (unsigned long long)f.spares,
                 pr->after[pr->step].used, (unsigned long long)pr->after[pr->step].holds,
                 (unsigned long long)pr->after[pr->step].spares);
        /* the borrow takes no lock: a kill there leaves nothing to roll back */
        in_borrow += pr->step == 4;
        recovered += stats_of(t.a).lock_recoveries == (pr->step != 4);
        usable += lend_new(&t) && shmipc_arena_check(t.a) == 0;
        shmipc_arena_close(t.a);
    }
    ok(deaths > 50, "the script was killed at each of its %d stores", deaths);
    ok(consistent == deaths, "the arena checks out after every kill (%d/%d)", consistent,
       deaths);
    ok(atomic == deaths,
       "every interrupted loan or drop was rolled back whole, the spares too (%d/%d)", atomic,
       deaths);
    ok(in_borrow == 2, "the borrow was killed on both sides of its compare-and-swap (%d)",
       in_borrow);
    ok(recovered == deaths, "each kill but those was one lock recovery, those none (%d/%d)",
       recovered, deaths);
    ok(usable == deaths, "the table keeps lending after every kill (%d/%d)", usable, deaths);
    munmap(pr, sizeof *pr);
}

/* ---- a borrow racing another, or the close of its endpoint ------------------------------ */

#define RACE_LOANS 2000

struct race {
    uint64_t loan[RACE_LOANS], gen[RACE_LOANS];
    int won[RACE_LOANS];
    volatile int ready;
};

/* A borrower (every loan, newest first: where the close starts too) or, with close, the
 * close of the loans' endpoint, once the other process is there too. */
static void race_child(struct table *t, struct race *r, int close)
{
    shmipc_arena *mine = own_handle(t->a);
    struct shmipc_payload dead;

    if (!mine)
        _exit(1);
    mine->ep = t->ep;
    __atomic_add_fetch(&r->ready, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&r->ready, __ATOMIC_SEQ_CST) < 2)
        ;
    if (close)
        while (shmipc__ep_drop_one(mine, t->ep, 0, NULL, &dead))
            ;
    for (int i = RACE_LOANS - 1; !close && i >= 0; i--)
        if (shmipc__hold_borrow(mine, r->loan[i], r->gen[i], t->obj, OBJ_SIZE) == 0)
            __atomic_add_fetch(&r->won[i], 1, __ATOMIC_SEQ_CST);
    _exit(0);
}

/* The borrow takes no lock: two processes borrowing the same blobs at once, or one
 * borrowing them while another closes their endpoint (dropping the loans not borrowed):
 * each loan is borrowed once at most, and what was borrowed is held, the rest dropped. */
static void test_borrow_race(int close)
{
    struct race *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                          -1, 0);
    const char *what = close ? "a borrow and a close" : "two borrows";
    struct shmipc_payload dead;
    struct table t;
    int lent = 0, twice = 0, won = 0, exited = 0;
    pid_t pid[2];

    if (!SETUP(r != MAP_FAILED && table_new(0, &t) == 0, "a shared arena"))
        return;
    for (int i = 0; i < RACE_LOANS; i++)
        lent += lend_to(&t, &r->loan[i], &r->gen[i]) == 0;
    for (int k = 0; k < 2; k++)
        if ((pid[k] = fork()) == 0)
            race_child(&t, r, close && k == 1);
    for (int k = 0; k < 2; k++) {
        int status;
        waitpid(pid[k], &status, 0);
        exited += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    for (int i = 0; i < RACE_LOANS; i++) {
        twice += r->won[i] > 1;
        won += r->won[i] == 1;
    }
    ok(lent == RACE_LOANS && exited == 2, "%s: %d loans, raced by two processes", what,
       RACE_LOANS);
    ok(twice == 0 && (close || won == RACE_LOANS), "%s: %d borrowed, none twice", what, won);
    ok(shmipc__reftable_holds(t.a) == 1 + (uint64_t)won && shmipc_arena_check(t.a) == 0,
       "%s: the table holds the borrowed loans and the object's handle, and checks out", what);
    for (int i = 0; i < RACE_LOANS; i++)
        if (r->won[i] == 1)
            shmipc__hold_drop(t.a, r->loan[i], &dead); /* held: the borrower's to drop */
    ok(shmipc__reftable_holds(t.a) == 1 && shmipc_arena_check(t.a) == 0,
       "%s: then dropped: the object's handle alone left", what);
    shmipc_arena_close(t.a);
    munmap(r, sizeof *r);
}

/* ---- the bound -------------------------------------------------------------------------- */

static void test_bound(int lend)
{
    static uint64_t loan[BURST], gen[BURST];
    const char *what = lend ? "lend" : "shared";
    struct shmipc_arena_stats before, after;
    uint64_t raw_before, raw_after, spare_bytes = SHMIPC_SPARES_MAX * (SHMIPC_HOLD_BYTES + 16);
    struct table t;
    int lent = 0, back = 0;

    if (!SETUP(table_new(lend, &t) == 0, "a table"))
        return;
    before = stats_of(t.a);
    raw_before = t.a->hdr->used;
    for (int i = 0; i < BURST; i++)
        lent += lend_to(&t, &loan[i], &gen[i]) == 0;
    for (int i = 0; i < BURST; i++)
        back += shmipc__loan_release(t.a, loan[i], gen[i], t.ep) == 0;
    after = stats_of(t.a);
    raw_after = t.a->hdr->used;
    ok(lent == BURST && back == BURST, "%s: %d loans made, all released", what, BURST);
    ok(HDR_SPARES(t.a->hdr) == SHMIPC_SPARES_MAX && shmipc__reftable_holds(t.a) == 1,
       "%s: the table keeps %llu spare records of them, its most", what,
       (unsigned long long)HDR_SPARES(t.a->hdr));
    ok(raw_after - raw_before == spare_bytes,
       "%s: the rest went back to the allocator (%llu bytes kept, %llu for the spares)", what,
       (unsigned long long)(raw_after - raw_before), (unsigned long long)spare_bytes);
    if (!lend) {
        struct shmipc_inspect_arena *ai = NULL;
        shmipc_pool *view;
        ok(after.used == before.used && after.allocations == before.allocations &&
               after.free == before.free,
           "%s: the arena's figures count the spares free (used %zu, was %zu)", what,
           after.used, before.used);
        ok(shmipc_pool_from_fd(shmipc_pool_fd(t.a->pool), SHMIPC_RDONLY, &view) == 0 &&
               shmipc__inspect_arena(view, 0, NULL, &ai) == 0 && ai->used == after.used &&
               ai->allocations == after.allocations && ai->free == after.free,
           "%s: and so does the inspect API (shmipc stat)", what);
        if (ai)
            shmipc__inspect_arena_free(ai);
    }
    ok(shmipc_arena_check(t.a) == 0, "%s: the table checks out", what);
    shmipc_arena_close(t.a);
}

int main(void)
{
    int lend = shmipc__lend_supported() == 0;

    test_stale_blob(0);
    if (lend)
        test_stale_blob(1);
    test_killed_at_every_store();
    test_borrow_race(0);
    test_borrow_race(1);
    test_bound(0);
    if (lend)
        test_bound(1);
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
