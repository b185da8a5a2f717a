/* helper_arena — a separate program the multi-process tests exec, so that peers are real
 * processes with their own mappings at their own addresses.
 *
 *   helper_arena hammer ARENA SEED OPS KEEP
 *       random allocs/frees in the named arena, each block filled with a pattern of
 *       (SEED, slot) and verified before it is freed; at the end KEEP blocks stay alive and
 *       are published as the named allocation "board-SEED" (an array of struct board_entry)
 *       for another process to verify and free. Exit 0, or 2 if a block was overwritten.
 *   helper_arena race ARENA START_NS
 *       wait until CLOCK_REALTIME reaches START_NS, then find-or-create the arena and the
 *       named allocation "prize"; print "<pool id hex> <1 if created the arena's prize>".
 *   helper_arena spin ARENA SEED
 *       allocate and free forever (until killed), verifying its own blocks; exit 2 at once
 *       if one was overwritten. Writes one byte to stdout once it is in full swing.
 *   helper_arena check ARENA
 *       open the arena (rolling back what a killed lock holder left) and run
 *       shmipc_arena_check; print "ok <lock recoveries> <allocations>" and exit 0, or the
 *       failure and exit 2.
 */
#include <inttypes.h>
#include <stdint.h>
#include <time.h>

#include "tap.h"
#include "helper_arena.h"

static shmipc_arena *open_arena(const char *name)
{
    shmipc_arena *a;
    int rc = shmipc_arena_open(name, HELPER_ARENA_SIZE, SHMIPC_SCOPE_NODE, &a);

    if (rc != 0) {
        fprintf(stderr, "helper: arena_open %s: %s (%s)\n", name, shmipc_strerror(rc),
                shmipc_error_detail());
        exit(3);
    }
    return a;
}

static int hammer(const char *name, unsigned seed, long ops, int keep, int forever)
{
    enum {
        SLOTS = 64
    };
    unsigned char *ptr[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    shmipc_arena *a = open_arena(name);
    struct board_entry *board;
    char bname[32];
    int bad = 0, n = 0;

    rnd_seed(seed);
    for (long op = 0; forever || op < ops; op++) {
        unsigned i = (unsigned)(rnd() % SLOTS);
        if (forever && op == 1000 && write(1, "r", 1) != 1)
            return 5;
        if (ptr[i]) {
            bad += !helper_intact(ptr[i], len[i], seed, i);
            if (forever && bad)
                return 2;
            shmipc_free(a, ptr[i]);
            ptr[i] = NULL;
        } else {
            len[i] = 1 + rnd() % 2048;
            ptr[i] = shmipc_alloc(a, len[i]);
            if (ptr[i])
                helper_fill(ptr[i], len[i], seed, i);
        }
    }
    snprintf(bname, sizeof bname, "board-%u", seed);
    if (shmipc_named_alloc(a, bname, sizeof *board * SLOTS, (void **)&board) != 1)
        return 4;
    for (unsigned i = 0; i < SLOTS; i++) {
        if (!ptr[i])
            continue;
        bad += !helper_intact(ptr[i], len[i], seed, i);
        if (n < keep) {
            shmipc_arena_to_poolrel(a, ptr[i], &board[n].where);
            board[n].len = len[i];
            board[n].slot = i;
            n++;
        } else {
            shmipc_free(a, ptr[i]);
        }
    }
    for (int j = n; j < SLOTS; j++)
        board[j].len = 0;
    shmipc_arena_close(a);
    return bad ? 2 : 0;
}

static int race(const char *name, uint64_t start_ns)
{
    struct timespec now;
    shmipc_arena *a;
    void *prize;
    int created;

    do
        clock_gettime(CLOCK_REALTIME, &now);
    while ((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec < start_ns);
    a = open_arena(name);
    created = shmipc_named_alloc(a, "prize", 128, &prize);
    if (created < 0)
        return 5;
    printf("%" PRIx64 " %d\n", shmipc_pool_id(shmipc_arena_pool(a)), created);
    shmipc_arena_close(a);
    return 0;
}

static int check(const char *name)
{
    shmipc_arena *a = open_arena(name);
    int rc = shmipc_arena_check(a);
    struct shmipc_arena_stats st = stats_of(a);

    if (rc != 0)
        printf("corrupt: %s (%s)\n", shmipc_strerror(rc), shmipc_error_detail());
    else
        printf("ok %" PRIu64 " %zu\n", st.lock_recoveries, st.allocations);
    shmipc_arena_close(a);
    return rc ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "hammer") == 0)
        return hammer(argv[2], (unsigned)atoi(argv[3]), atol(argv[4]), atoi(argv[5]), 0);
    if (argc == 4 && strcmp(argv[1], "race") == 0)
        return race(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "spin") == 0)
        return hammer(argv[2], (unsigned)atoi(argv[3]), 0, 0, 1);
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return check(argv[2]);
    fprintf(stderr, "usage: helper_arena hammer|race|spin|check ...\n");
    return 64;
}
