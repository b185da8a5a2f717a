/* test_relring.c — a release ring's drain against a borrower that never stops reporting:
 * the owner takes one lap of the ring (SHMIPC_RELEASE_CAP entries) at most per drain, so a
 * peer writing entries as fast as they are taken cannot hold it in the drain; and what it
 * left is taken by the next drains, in order, nothing lost. (The peer here reports from the
 * owner's own callback, one new entry for each taken: the tightest a peer can keep up.) */
#include "tap.h"

#include "channel.h"
#include "object.h"
#include "relring.h"

/* The peer's reports: `budget` more are made, one for each taken. */
struct peer {
    struct shmipc_ctrl *ctrl;
    uint64_t made, taken, budget, out_of_order;
};

static void report(struct peer *p)
{
    p->made++;
    shmipc__release_push(p->ctrl, SHMIPC_ARENA_SESSION, 8 * p->made, p->made);
}

static void take(void *ctx, uint64_t loan, uint64_t gen)
{
    struct peer *p = ctx;

    p->taken++;
    if (loan != 8 * p->taken || gen != p->taken)
        p->out_of_order++;
    if (p->made < p->budget)
        report(p);
}

int main(void)
{
    shmipc_pool *pool, *peer_pool;
    struct shmipc_ctrl *owner, *borrower;
    struct peer p = {.budget = 3 * SHMIPC_RELEASE_CAP};
    int drains = 0;

    if (!SETUP(shmipc_pool_create(NULL, shmipc__ctrl_size(), 0, &pool) == 0, "a segment"))
        return done_testing();
    shmipc__ctrl_init(shmipc_pool_base(pool), 1);
    if (!SETUP(shmipc_pool_from_fd(shmipc_pool_fd(pool), 0, &peer_pool) == 0 &&
                   shmipc__ctrl_wrap(pool, 1, &owner) == 0 &&
                   shmipc__ctrl_wrap(peer_pool, 0, &borrower) == 0,
               "both sides' handles"))
        return done_testing();
    p.ctrl = borrower;
    report(&p);
    shmipc__release_drain(owner, SHMIPC_ARENA_SESSION, take, &p);
    ok(p.taken == SHMIPC_RELEASE_CAP,
       "a drain takes one lap of the ring (%llu entries) while the peer keeps reporting: "
       "took %llu",
       (unsigned long long)SHMIPC_RELEASE_CAP, (unsigned long long)p.taken);
    while (p.taken < p.made && drains++ < 100)
        shmipc__release_drain(owner, SHMIPC_ARENA_SESSION, take, &p);
    ok(p.taken == p.made && p.made == p.budget,
       "the next drains take the rest: %llu of %llu reports", (unsigned long long)p.taken,
       (unsigned long long)p.made);
    ok(p.out_of_order == 0, "each once, in order (%llu not)",
       (unsigned long long)p.out_of_order);
    shmipc__ctrl_unref(borrower);
    shmipc__ctrl_unref(owner);
    return done_testing();
}
