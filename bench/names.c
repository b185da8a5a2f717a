/* bench/names — what a lookup of a named allocation costs among 100 names and among 100k
 * (issue 14's goal: at most 1.5x), in one process, one shared arena of 64 MiB:
 *   - probes: the entries a lookup compares, the mean over every name, from the inspect
 *     API (deterministic: the directory's shape, not the machine's mood);
 *   - hot: CPU ns per shmipc_named_find() of the same 100 names (spread over all) over and
 *     over: the directory's cost, its memory staying in the caches;
 *   - random: CPU ns per lookup of names drawn from all of them: that plus the cache misses
 *     of a large directory, which no hashing avoids.
 * Medians of 5 runs. `bench/names N...` measures other counts (the first is the base).
 * A benchmark, not a test: it exits non-zero only if a lookup fails. bench/scale measures
 * the same times among its other figures. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmipc.h"
#include "shmipc/inspect.h"

#define REPS 5
#define HOT 100
#define LOOKUPS 200000L
#define NAME_LEN 32 /* "name-" and any long */
#define ARENA_SIZE ((size_t)64 << 20)

struct figures {
    long names;
    double probes, hot_ns, random_ns;
    unsigned long long buckets;
};

static double cpu_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* CPU ns per lookup of names[picks[i]], i < LOOKUPS; -1 if one is missing. */
static double time_lookups(shmipc_arena *a, char (*names)[NAME_LEN], const long *picks)
{
    double t[REPS];

    for (int r = 0; r < REPS; r++) {
        double t0 = cpu_ns();
        for (long i = 0; i < LOOKUPS; i++) {
            void *p;
            if (shmipc_named_find(a, names[picks[i]], &p, NULL) != 0)
                return -1;
        }
        t[r] = (cpu_ns() - t0) / LOOKUPS;
    }
    qsort(t, REPS, sizeof *t, by_value);
    return t[REPS / 2];
}

/* The directory's shape through the inspect API (as `shmipc stat` reads it). */
static void shape(shmipc_arena *a, struct figures *f)
{
    struct shmipc_inspect_arena *ai;
    shmipc_pool *p;

    if (shmipc_pool_from_fd(shmipc_pool_fd(shmipc_arena_pool(a)), 0, &p) != 0 ||
        shmipc__inspect_arena(p, 0, NULL, &ai) != 0)
        return;
    f->buckets = (unsigned long long)ai->dir_buckets;
    f->probes = ai->nnames ? (double)ai->dir_probes / (double)ai->nnames : 0;
    shmipc__inspect_arena_free(ai);
}

static int measure(shmipc_arena *a, char (*names)[NAME_LEN], long *picks, struct figures *f)
{
    uint64_t x = UINT64_C(88172645463325252); /* xorshift: the same draws every run */

    shape(a, f);
    for (long i = 0; i < LOOKUPS; i++)
        picks[i] = (i % HOT) * (f->names / HOT);
    f->hot_ns = time_lookups(a, names, picks);
    for (long i = 0; i < LOOKUPS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        picks[i] = (long)(x % (uint64_t)f->names);
    }
    f->random_ns = time_lookups(a, names, picks);
    return f->hot_ns < 0 || f->random_ns < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    long counts[16] = {100, 100000}, n = argc > 1 ? 0 : 2, made = 0;
    struct figures f[16];
    char(*names)[NAME_LEN];
    long *picks = malloc(LOOKUPS * sizeof *picks);
    shmipc_pool *pool;
    shmipc_arena *a;

    for (int i = 1; i < argc && n < 16; i++)
        if ((counts[n] = atol(argv[i])) >= HOT && (n == 0 || counts[n] > counts[n - 1]))
            n++;
    if (n == 0 || !picks || !(names = malloc((size_t)counts[n - 1] * NAME_LEN)) ||
        shmipc_pool_create(NULL, ARENA_SIZE, 0, &pool) != 0 ||
        shmipc_arena_create(pool, &a) != 0) {
        fprintf(stderr, "bench/names: usage: names [N...] (increasing, >= %d): %s\n", HOT,
                shmipc_error_detail());
        return 2;
    }
    printf("lookups of named allocations (CPU ns, median of %d; probes: entries compared)\n"
           "%8s %8s %7s %8s %6s %9s %6s\n",
           REPS, "names", "buckets", "probes", "hot ns", "x", "random ns", "x");
    for (long l = 0; l < n; l++) {
        for (void *p; made < counts[l]; made++) {
            snprintf(names[made], NAME_LEN, "name-%ld", made);
            if (shmipc_named_alloc(a, names[made], 16, &p) != 1) {
                fprintf(stderr, "bench/names: at %ld names: %s\n", made, shmipc_error_detail());
                return 1;
            }
        }
        f[l].names = made;
        if (measure(a, names, picks, &f[l]) != 0) {
            fprintf(stderr, "bench/names: a lookup failed: %s\n", shmipc_error_detail());
            return 1;
        }
        printf("%8ld %8llu %7.2f %8.1f %6.2f %9.1f %6.2f\n", f[l].names, f[l].buckets,
               f[l].probes, f[l].hot_ns, f[l].hot_ns / f[0].hot_ns, f[l].random_ns,
               f[l].random_ns / f[0].random_ns);
    }
    printf("goal (issue 14): a lookup among 100k names at most 1.5x one among 100 (hot)\n");
    shmipc_arena_close(a);
    free(names);
    free(picks);
    return 0;
}
