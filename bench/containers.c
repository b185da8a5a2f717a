/* bench/containers — shmipc_map put/get at 1M entries against a plain process-local C
 * open-addressing table (malloc'd slots and keys, the same probing), in one process.
 * Keys "key-<n>" (5..11 bytes), 8-byte values; gets in a shuffled order, all hits.
 * Median of 3 repetitions, ns per operation. Usage: bench/containers [entries]. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmipc.h"

#define REPS 3

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- the baseline: a plain open-addressing table in process memory ---- */
struct pslot {
    uint64_t hash;
    char *key; /* malloc'd: klen, then the key bytes */
    uint64_t value;
};
struct ptable {
    struct pslot *s;
    uint64_t cap, len;
};

static uint64_t phash(const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < klen; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 29;
    return h < 1 ? 1 : h;
}

static void pt_grow(struct ptable *t)
{
    struct ptable n = {calloc(t->cap ? t->cap * 2 : 16, sizeof *n.s), t->cap ? t->cap * 2 : 16,
                       t->len};
    for (uint64_t i = 0; i < t->cap; i++) {
        if (!t->s[i].hash)
            continue;
        uint64_t j = t->s[i].hash & (n.cap - 1);
        while (n.s[j].hash)
            j = (j + 1) & (n.cap - 1);
        n.s[j] = t->s[i];
    }
    free(t->s);
    *t = n;
}

static struct pslot *pt_find(struct ptable *t, const char *key, size_t klen, uint64_t h)
{
    for (uint64_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        struct pslot *s = &t->s[i];
        if (!s->hash ||
            (s->hash == h && (size_t)s->key[0] == klen && memcmp(s->key + 1, key, klen) == 0))
            return s;
    }
}

static void pt_put(struct ptable *t, const char *key, size_t klen, uint64_t v)
{
    if ((t->len + 1) * 4 > t->cap * 3)
        pt_grow(t);
    uint64_t h = phash(key, klen);
    struct pslot *s = pt_find(t, key, klen, h);
    if (!s->hash) {
        s->key = malloc(klen + 1);
        s->key[0] = (char)klen;
        memcpy(s->key + 1, key, klen);
        s->hash = h;
        t->len++;
    }
    s->value = v;
}

static uint64_t *pt_get(struct ptable *t, const char *key, size_t klen)
{
    struct pslot *s = pt_find(t, key, klen, phash(key, klen));
    return s->hash ? &s->value : NULL;
}

static void pt_free(struct ptable *t)
{
    for (uint64_t i = 0; i < t->cap; i++)
        free(t->s[i].hash ? t->s[i].key : NULL);
    free(t->s);
}

/* ---- the run ---- */
static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, REPS, sizeof *v, cmp);
    return v[REPS / 2];
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    char(*keys)[32] = malloc(n * sizeof *keys);
    size_t *order = malloc(n * sizeof *order);
    double put_s[REPS], get_s[REPS], put_p[REPS], get_p[REPS];
    volatile uint64_t sink = 0;

    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "key-%zu", i);
        order[i] = i;
    }
    srand(19);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int r = 0; r < REPS; r++) {
        shmipc_pool *pool;
        shmipc_arena *a;
        shmipc_map *m;
        if (shmipc_pool_create(NULL, n * 160 + (64u << 20), 0, &pool) ||
            shmipc_arena_create(pool, &a) || !(m = shmipc_alloc(a, sizeof *m)) ||
            shmipc_map_init(a, m, 8, 0)) {
            fprintf(stderr, "bench/containers: setup: %s\n", shmipc_error_detail());
            return 1;
        }
        double t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            uint64_t v = i;
            if (shmipc_map_put(a, m, keys[i], strlen(keys[i]), &v))
                return fprintf(stderr, "put: %s\n", shmipc_error_detail()), 1;
        }
        double t1 = now_ns();
        for (size_t i = 0; i < n; i++) {
            void *v;
            const char *k = keys[order[i]];
            if (shmipc_map_get(m, k, strlen(k), &v))
                return fprintf(stderr, "get: %s\n", k), 1;
            sink += *(uint64_t *)v;
        }
        double t2 = now_ns();
        put_s[r] = (t1 - t0) / (double)n;
        get_s[r] = (t2 - t1) / (double)n;
        shmipc_arena_close(a);

        struct ptable t = {0};
        t0 = now_ns();
        for (size_t i = 0; i < n; i++)
            pt_put(&t, keys[i], strlen(keys[i]), i);
        t1 = now_ns();
        for (size_t i = 0; i < n; i++) {
            const char *k = keys[order[i]];
            sink += *pt_get(&t, k, strlen(k));
        }
        t2 = now_ns();
        put_p[r] = (t1 - t0) / (double)n;
        get_p[r] = (t2 - t1) / (double)n;
        pt_free(&t);
    }
    double ps = median(put_s), gs = median(get_s), pp = median(put_p), gp = median(get_p);
    printf("map of %zu entries, ns per operation (median of %d):\n", n, REPS);
    printf("  %-40s put %7.1f  get %7.1f\n", "shmipc_map (shared arena)", ps, gs);
    printf("  %-40s put %7.1f  get %7.1f\n", "plain C open addressing (malloc)", pp, gp);
    printf("  %-40s put %7.2fx get %7.2fx\n", "ratio shmipc / plain", ps / pp, gs / gp);
    free(keys);
    free(order);
    return (int)(sink & 0);
}
