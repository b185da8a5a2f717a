/* bench/scale, named allocations: one process makes 100 ... 100k named allocations of 16
 * bytes in a shared arena of 256 MiB (anonymous pool) and, at each count, times
 * shmipc_named_find() of names that exist, CPU ns per lookup, median of REPS:
 *   - hot: the same 100 names (spread over all), over and over: what the directory's
 *     chains cost, the memory they touch staying in the caches;
 *   - random: names drawn from all of them: the chains plus the cache misses of a large
 *     directory, which no hashing avoids.
 * Both relative to the same lookups among 100 names. A count that cannot be reached is
 * reported with the exact error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scale.h"

#define REPS 5
#define HOT 100
#define NAME_LEN 32
#define ARENA_SIZE ((size_t)256 << 20)

struct names_res {
    int level_ok[SCALE_MAX_LEVELS];
    double hot_ns[SCALE_MAX_LEVELS], random_ns[SCALE_MAX_LEVELS];
    char err[SCALE_ERR];
};

struct names_ctx {
    const struct scale_cfg *cfg;
    struct names_res *res;
    char (*names)[NAME_LEN];
    long *picks;
};

static const char *name_of(long i, char *buf)
{
    snprintf(buf, NAME_LEN, "name-%09ld", i % 1000000000);
    return buf;
}

static int add_names(shmipc_arena *a, long from, long to, struct names_res *res)
{
    for (long i = from; i < to; i++) {
        char name[NAME_LEN], e[SCALE_ERR - 64];
        void *p;
        int rc = shmipc_named_alloc(a, name_of(i, name), 16, &p);
        if (rc < 0) {
            snprintf(res->err, sizeof res->err, "shmipc_named_alloc failed at %ld names: %s", i,
                     scale_error(rc, e, sizeof e));
            return rc;
        }
    }
    return 0;
}

/* CPU ns per lookup of the names picks[0..npicks) (cycled through `lookups` times). */
static double time_lookups(shmipc_arena *a, const struct names_ctx *c, long npicks,
                           long lookups)
{
    double t[REPS];

    for (int r = 0; r < REPS; r++) {
        double t0 = scale_cpu_ns();
        for (long i = 0; i < lookups; i++) {
            void *p;
            if (shmipc_named_find(a, c->names[c->picks[i % npicks]], &p, NULL) != 0)
                return NAN;
        }
        t[r] = (scale_cpu_ns() - t0) / (double)lookups;
    }
    return scale_median(t, REPS);
}

/* xorshift: the same draws in every run */
static unsigned long next_random(unsigned long *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void measure(shmipc_arena *a, struct names_ctx *c, int l, long count)
{
    unsigned long state = 88172645463325252UL;
    long lookups = c->cfg->lookups;

    for (long i = 0; i < count; i++)
        name_of(i, c->names[i]);
    for (long i = 0; i < HOT; i++)
        c->picks[i] = i * (count / HOT);
    c->res->hot_ns[l] = time_lookups(a, c, HOT, lookups);
    for (long i = 0; i < lookups; i++)
        c->picks[i] = (long)(next_random(&state) % (unsigned long)count);
    c->res->random_ns[l] = time_lookups(a, c, lookups, lookups);
    c->res->level_ok[l] = 1;
}

static int run(void *arg)
{
    struct names_ctx *c = arg;
    long max = 0, made = 0;
    shmipc_pool *pool;
    shmipc_arena *a;
    char e[SCALE_ERR];
    int rc;

    for (int l = 0; l < SCALE_MAX_LEVELS && c->cfg->names[l]; l++)
        max = c->cfg->names[l];
    c->names = malloc((size_t)max * NAME_LEN);
    c->picks = malloc((size_t)c->cfg->lookups * sizeof *c->picks);
    if (!c->names || !c->picks)
        return 1;
    if ((rc = shmipc_pool_create(NULL, ARENA_SIZE, 0, &pool)) != 0 ||
        (rc = shmipc_arena_create(pool, &a)) != 0) {
        snprintf(c->res->err, sizeof c->res->err, "%s", scale_error(rc, e, sizeof e));
        return 1;
    }
    for (int l = 0; l < SCALE_MAX_LEVELS && c->cfg->names[l]; l++) {
        if (add_names(a, made, c->cfg->names[l], c->res) != 0) {
            c->res->level_ok[l] = -1;
            break;
        }
        made = c->cfg->names[l];
        measure(a, c, l, made);
    }
    shmipc_arena_close(a);
    return 0;
}

static void report(const struct scale_cfg *cfg, const struct names_res *res)
{
    static const char *metric[2] = {"CPU ns per lookup, 100 hot names",
                                    "CPU ns per lookup, random names"};

    for (int k = 0; k < 2; k++)
        for (int l = 0; l < SCALE_MAX_LEVELS && cfg->names[l]; l++) {
            const double *ns = k == 0 ? res->hot_ns : res->random_ns;
            struct scale_row row = {.part = "names",
                                    .provider = "shared",
                                    .n = cfg->names[l],
                                    .metric = metric[k],
                                    .value = NAN,
                                    .ratio = -1,
                                    .base = "100",
                                    .goal = l && k == 0 ? "<= 1.5" : NULL};
            if (res->level_ok[l] == 1) {
                row.value = ns[l];
                row.ratio = res->level_ok[0] == 1 ? ns[l] / ns[0] : -1;
            } else {
                snprintf(row.note, sizeof row.note, "%s",
                         res->level_ok[l] == -1 ? res->err
                                                : "not run (a smaller count failed)");
            }
            scale_add(&row);
        }
}

void scale_names(const struct scale_cfg *cfg)
{
    struct names_ctx c = {.cfg = cfg, .res = scale_shared(sizeof *c.res)};

    printf("named allocations ...\n");
    scale_wait(scale_spawn(run, &c));
    report(cfg, c.res);
    scale_unshare(c.res, sizeof *c.res);
}
