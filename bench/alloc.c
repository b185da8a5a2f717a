/* bench/alloc — allocation speed of the shared arena against glibc malloc and jemalloc.
 *
 * Workload (identical for every allocator): 64 live slots; each step takes the next slot
 * and size from a precomputed fixed-seed xorshift sequence (sizes uniform in 16..4112 B),
 * frees the block in that slot, allocates a new one and writes a byte into it. After a
 * warm-up, N alloc+free pairs are timed with CLOCK_MONOTONIC; the figure is the median of
 * 5 repetitions, in ns per pair.
 *
 * Allocators: the shared arena (TLSF in a pool, a process-shared lock), the lend arena
 * (jemalloc over the owner's memfd pools, through a lend-provider session), glibc malloc,
 * and a private jemalloc arena with and without its thread cache.
 *
 * Modes: one process, then two processes at once (forked children started together by a
 * barrier in shared memory). In the two-process mode both children allocate from the SAME
 * shared arena (created before fork), contending on its process-shared lock; every other
 * allocator gives each child its own heap (a lend arena is its owner's alone). The figure
 * is the mean of the two children.
 *
 * jemalloc is the lend provider's, linked in: the built-in one's symbols are prefixed, so it
 * does not replace malloc (glibc stays glibc).
 * This is a benchmark, not a test: the goals are reported, not enforced. It exits non-zero
 * only if the arena's accounting or consistency check fails afterwards (a library bug). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmipc.h"

#ifdef SHMIPC_HAVE_JEMALLOC
#define JEMALLOC_NO_DEMANGLE
#include <jemalloc/jemalloc.h>
#endif

#define LIVE 64            /* live blocks */
#define SIZE_MIN 16        /* smallest request */
#define SIZE_MAX_REQ 4112  /* largest request */
#define SEQ_LEN (1u << 16) /* precomputed steps (cycled; stays in L2) */
#define SEQ_MASK (SEQ_LEN - 1)
#define REPS 5
#define NPROCS 2
#define POOL_SIZE ((size_t)256 << 20)
#define DEFAULT_PAIRS 2000000UL
#define QUICK_PAIRS 200000UL
#define BOOST_FLOOR_NS 310.0 /* FLOORS.md: boost.interprocess, measured earlier */
#define SEED UINT64_C(0x9E3779B97F4A7C15)

/* jemalloc's flag encodings (from jemalloc_macros.h). */
#define JE_MALLOCX_ARENA(a) ((int)(((unsigned)(a)) + 1) << 20)
#define JE_MALLOCX_TCACHE_NONE (((int)(-1 + 2)) << 8)

/* ---- the precomputed workload ------------------------------------------------------ */

static uint16_t seq_size[SEQ_LEN];
static uint8_t seq_slot[SEQ_LEN];

/* Keeps the stores into fresh blocks (and the blocks themselves) observable. */
static volatile unsigned char sink;

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void make_sequence(void)
{
    uint64_t s = SEED;

    for (unsigned i = 0; i < SEQ_LEN; i++) {
        seq_size[i] = (uint16_t)(SIZE_MIN + xorshift64(&s) % (SIZE_MAX_REQ - SIZE_MIN + 1));
        seq_slot[i] = (uint8_t)(xorshift64(&s) % LIVE);
    }
}

/* ---- allocators -------------------------------------------------------------------- */

typedef void *(*mallocx_fn)(size_t, int);
typedef void (*dallocx_fn)(void *, int);
typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static struct {
    mallocx_fn mallocx;
    dallocx_fn dallocx;
    mallctl_fn mallctl;
} je;

enum kind {
    K_SHMIPC,
    K_LEND,
    K_GLIBC,
    K_JE_TCACHE,
    K_JE_NOTCACHE,
    K_COUNT
};

static const char *const kind_name[K_COUNT] = {
    [K_SHMIPC] = "shmipc shared arena",
    [K_LEND] = "shmipc lend arena",
    [K_GLIBC] = "glibc malloc/free",
    [K_JE_TCACHE] = "jemalloc arena + tcache",
    [K_JE_NOTCACHE] = "jemalloc arena, no tcache",
};

/* The lend arena of an in-process lend-provider session (the client connects from a
 * thread: the handshake needs both sides). Each process makes its own: a lend arena is
 * its owner's alone. */
struct lend_pair {
    shmipc_server *srv;
    shmipc_session *s, *c;
    char name[64];
    int rc;
};

static void *lend_connect(void *arg)
{
    struct lend_pair *p = arg;
    p->rc = shmipc_connect(p->name, "bench", NULL, &p->c);
    return NULL;
}

static shmipc_arena *lend_open(struct lend_pair *p)
{
    shmipc_server_opts o;
    pthread_t t;
    int rc;

    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "bench-alloc-%d", (int)getpid());
    shmipc_server_opts_init(&o);
    o.provider = SHMIPC_PROVIDER_LEND;
    o.session_arena_size = POOL_SIZE;
    if ((rc = shmipc_server_open(p->name, &o, &p->srv)) != 0) {
        fprintf(stderr, "lend arena: %s (%s)\n", shmipc_strerror(rc), shmipc_error_detail());
        return NULL;
    }
    pthread_create(&t, NULL, lend_connect, p);
    rc = shmipc_server_accept(p->srv, 10000, &p->s);
    pthread_join(t, NULL);
    if (rc != 0 || p->rc != 0) {
        fprintf(stderr, "lend arena: no session (%s)\n", shmipc_error_detail());
        return NULL;
    }
    return shmipc_session_arena(p->s);
}

static void lend_close(struct lend_pair *p)
{
    shmipc_session_close(p->c);
    shmipc_session_close(p->s);
    shmipc_server_close(p->srv);
}

/* One allocator instance as one process uses it. */
struct heap {
    enum kind kind;
    shmipc_arena *arena;   /* K_SHMIPC, K_LEND */
    struct lend_pair lend; /* K_LEND */
    unsigned je_arena;     /* K_JE_* */
    int aflags, dflags;    /* mallocx / dallocx flags */
    void *slot[LIVE];
    size_t pos; /* next step in the sequence */
};

/* The timed loop, one copy per allocator so every call is direct (no dispatch cost). */
#define DEFINE_LOOP(NAME, ALLOC, FREE)                                                         \
    static int NAME(struct heap *h, size_t n)                                                  \
    {                                                                                          \
        void **slot = h->slot;                                                                 \
        size_t pos = h->pos;                                                                   \
        for (size_t i = 0; i < n; i++, pos++) {                                                \
            unsigned s = seq_slot[pos & SEQ_MASK];                                             \
            size_t size = seq_size[pos & SEQ_MASK];                                            \
            void *p;                                                                           \
            FREE(slot[s]);                                                                     \
            p = ALLOC(size);                                                                   \
            if (!p) {                                                                          \
                slot[s] = NULL;                                                                \
                h->pos = pos;                                                                  \
                return -1;                                                                     \
            }                                                                                  \
            *(volatile unsigned char *)p = (unsigned char)i;                                   \
            slot[s] = p;                                                                       \
        }                                                                                      \
        h->pos = pos;                                                                          \
        return 0;                                                                              \
    }

/* The loop body sees `h`: the allocator's state comes from there. */
#define SHM_ALLOC(sz) shmipc_alloc(h->arena, (sz))
#define SHM_FREE(p) shmipc_free(h->arena, (p))
#define GLIBC_ALLOC(sz) malloc(sz)
#define GLIBC_FREE(p) free(p)
#define JE_ALLOC(sz) je.mallocx((sz), h->aflags)
#define JE_FREE(p) je.dallocx((p), h->dflags)

DEFINE_LOOP(loop_shmipc, SHM_ALLOC, SHM_FREE)
DEFINE_LOOP(loop_glibc, GLIBC_ALLOC, GLIBC_FREE)
DEFINE_LOOP(loop_je, JE_ALLOC, JE_FREE)

static int run_loop(struct heap *h, size_t n)
{
    switch (h->kind) {
    case K_SHMIPC:
    case K_LEND: return loop_shmipc(h, n);
    case K_GLIBC: return loop_glibc(h, n);
    default: return loop_je(h, n);
    }
}

static void *heap_alloc(struct heap *h, size_t size)
{
    switch (h->kind) {
    case K_SHMIPC:
    case K_LEND: return shmipc_alloc(h->arena, size);
    case K_GLIBC: return malloc(size);
    default: return je.mallocx(size, h->aflags);
    }
}

static void heap_free(struct heap *h, void *p)
{
    if (!p)
        return;
    switch (h->kind) {
    case K_SHMIPC:
    case K_LEND: shmipc_free(h->arena, p); break;
    case K_GLIBC: free(p); break;
    default: je.dallocx(p, h->dflags); break;
    }
}

/* The private jemalloc arena's jemalloc: the one the lend provider uses, linked into this
 * program too (the built-in one's own copy, its symbols prefixed: malloc stays glibc's).
 * Returns 0, or -1 with *why set. */
static int je_load(const char **why)
{
#ifdef SHMIPC_HAVE_JEMALLOC
    (void)why;
    je.mallocx = je_mallocx;
    je.dallocx = je_dallocx;
    je.mallctl = je_mallctl;
    return 0;
#else
    *why = "this build has none (--without-jemalloc)";
    return -1;
#endif
}

/* Set a heap up in the calling process (a fresh jemalloc arena for the jemalloc kinds)
 * and fill its live slots. */
static int heap_open(struct heap *h, enum kind k, shmipc_arena *a, size_t start)
{
    memset(h, 0, sizeof *h);
    h->kind = k;
    h->arena = a;
    h->pos = start;
    if (k == K_LEND && !(h->arena = lend_open(&h->lend)))
        return -1;
    if (k == K_JE_TCACHE || k == K_JE_NOTCACHE) {
        unsigned idx;
        size_t sz = sizeof idx;
        int rc = je.mallctl("arenas.create", &idx, &sz, NULL, 0);
        if (rc != 0) {
            fprintf(stderr, "jemalloc: arenas.create failed: %s\n", strerror(rc));
            return -1;
        }
        h->je_arena = idx;
        h->aflags = JE_MALLOCX_ARENA(idx);
        h->dflags = 0;
        if (k == K_JE_NOTCACHE) {
            h->aflags |= JE_MALLOCX_TCACHE_NONE;
            h->dflags = JE_MALLOCX_TCACHE_NONE;
        }
    }
    for (unsigned i = 0; i < LIVE; i++) {
        h->slot[i] = heap_alloc(h, seq_size[(start + SEQ_LEN / 2 + i) & SEQ_MASK]);
        if (!h->slot[i]) {
            fprintf(stderr, "%s: allocation failed while filling the slots\n", kind_name[k]);
            return -1;
        }
        *(volatile unsigned char *)h->slot[i] = 1;
    }
    return 0;
}

/* Free every live block (and drop a jemalloc arena). */
static void heap_close(struct heap *h)
{
    for (unsigned i = 0; i < LIVE; i++) {
        if (h->slot[i])
            sink ^= *(volatile unsigned char *)h->slot[i];
        heap_free(h, h->slot[i]);
        h->slot[i] = NULL;
    }
    if (h->kind == K_LEND && h->lend.srv)
        lend_close(&h->lend);
    if (h->kind == K_JE_TCACHE || h->kind == K_JE_NOTCACHE) {
        char name[64];
        /* The arena's blocks may sit in the thread cache: flush it before destroying. */
        je.mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
        snprintf(name, sizeof name, "arena.%u.destroy", h->je_arena);
        je.mallctl(name, NULL, NULL, NULL, 0);
    }
}

/* ---- timing ------------------------------------------------------------------------ */

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

/* A reusable barrier for the children, in shared memory. */
struct barrier {
    atomic_uint arrived;
    atomic_uint generation;
};

static void barrier_wait(struct barrier *b, unsigned n)
{
    unsigned gen;

    if (!b)
        return;
    gen = atomic_load(&b->generation);
    if (atomic_fetch_add(&b->arrived, 1) + 1 == n) {
        atomic_store(&b->arrived, 0);
        atomic_fetch_add(&b->generation, 1);
        return;
    }
    while (atomic_load(&b->generation) == gen)
        sched_yield();
}

/* Warm up, then REPS timed runs of `pairs`; *ns gets the median ns per pair. The barrier
 * (NULL in one process) lines the repetitions of the children up. */
static int measure(struct heap *h, size_t pairs, struct barrier *bar, double *ns)
{
    double t[REPS];
    size_t warm = pairs / 10 < 100000 ? 100000 : pairs / 10;

    if (run_loop(h, warm) != 0)
        return -1;
    for (int r = 0; r < REPS; r++) {
        double t0;
        barrier_wait(bar, NPROCS);
        t0 = now_ns();
        if (run_loop(h, pairs) != 0)
            return -1;
        t[r] = (now_ns() - t0) / (double)pairs;
    }
    qsort(t, REPS, sizeof t[0], cmp_double);
    *ns = t[REPS / 2];
    return 0;
}

/* One process: returns the median ns/pair, or a negative value on failure. */
static double bench_single(enum kind k, shmipc_arena *a, size_t pairs)
{
    struct heap h;
    double ns = -1;

    if (heap_open(&h, k, a, 0) == 0 && measure(&h, pairs, NULL, &ns) != 0) {
        fprintf(stderr, "%s: allocation failed during the run\n", kind_name[k]);
        ns = -1;
    }
    heap_close(&h);
    return ns;
}

struct report {
    int child;
    double ns;
};

/* NPROCS children at once; returns the mean of their medians, or negative on failure. */
static double bench_multi(enum kind k, shmipc_arena *a, size_t pairs, struct barrier *bar)
{
    int fds[2];
    pid_t pid[NPROCS];
    double sum = 0;
    int got = 0, failed = 0;

    if (pipe(fds) != 0) {
        perror("pipe");
        return -1;
    }
    atomic_store(&bar->arrived, 0);
    fflush(NULL);
    for (int c = 0; c < NPROCS; c++) {
        pid[c] = fork();
        if (pid[c] < 0) {
            perror("fork");
            failed = 1;
            break;
        }
        if (pid[c] == 0) {
            struct heap h;
            struct report rep = {c, -1};
            close(fds[0]);
            /* Different starting points so the children do not step in lockstep. */
            if (heap_open(&h, k, a, (size_t)c * (SEQ_LEN / NPROCS)) == 0 &&
                measure(&h, pairs, bar, &rep.ns) != 0)
                rep.ns = -1;
            heap_close(&h);
            if (write(fds[1], &rep, sizeof rep) != (ssize_t)sizeof rep)
                _exit(2);
            _exit(rep.ns < 0);
        }
    }
    close(fds[1]);
    for (;;) {
        struct report rep;
        ssize_t n = read(fds[0], &rep, sizeof rep);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof rep)
            break;
        if (rep.ns < 0)
            failed = 1;
        else
            sum += rep.ns, got++;
    }
    close(fds[0]);
    for (int c = 0; c < NPROCS; c++) {
        int st;
        if (pid[c] <= 0)
            continue;
        while (waitpid(pid[c], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed = 1;
    }
    if (failed || got != NPROCS) {
        fprintf(stderr, "%s: a child failed in the two-process run\n", kind_name[k]);
        return -1;
    }
    return sum / NPROCS;
}

/* ---- the arena's books ------------------------------------------------------------- */

static int arena_books(shmipc_arena *a, const struct shmipc_arena_stats *base, const char *when)
{
    struct shmipc_arena_stats st;
    int rc = shmipc_arena_stats(a, &st);

    if (rc != 0) {
        fprintf(stderr, "shmipc_arena_stats: %s (%s)\n", shmipc_strerror(rc),
                shmipc_error_detail());
        return -1;
    }
    if (st.used != base->used || st.allocations != base->allocations || st.bad_frees != 0) {
        printf("arena stats after %s: FAILED: used %zu bytes in %zu blocks (baseline %zu in "
               "%zu), %llu bad frees\n",
               when, st.used, st.allocations, base->used, base->allocations,
               (unsigned long long)st.bad_frees);
        return -1;
    }
    printf("arena stats after %s: used back to baseline (%zu bytes, %zu blocks)\n", when,
           st.used, st.allocations);
    return 0;
}

/* ---- output ------------------------------------------------------------------------ */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--quick | --pairs N]\n"
            "  --pairs N  time N alloc+free pairs per repetition (default %lu)\n"
            "  --quick    same as --pairs %lu\n",
            prog, DEFAULT_PAIRS, QUICK_PAIRS);
}

static void fmt_ns(char *buf, size_t len, double ns)
{
    if (ns < 0)
        snprintf(buf, len, "%s", "-");
    else
        snprintf(buf, len, "%.1f", ns);
}

static void fmt_ratio(char *buf, size_t len, double num, double den)
{
    if (num <= 0 || den <= 0)
        snprintf(buf, len, "%s", "-");
    else
        snprintf(buf, len, "%.2fx", num / den);
}

int main(int argc, char **argv)
{
    size_t pairs = DEFAULT_PAIRS;
    double single[K_COUNT], multi[K_COUNT];
    int have[K_COUNT] = {0}, status = 0;
    const char *je_why = "";
    shmipc_pool *pool = NULL;
    shmipc_arena *arena = NULL;
    struct shmipc_arena_stats base;
    struct barrier *bar;
    char b1[32], b2[32], b3[32], b4[32];
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            pairs = QUICK_PAIRS;
        } else if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc) {
            char *end;
            unsigned long long v;
            errno = 0;
            v = strtoull(argv[++i], &end, 10);
            if (errno || *end || v == 0 || argv[i][0] == '-') {
                usage(argv[0]);
                return 2;
            }
            pairs = (size_t)v;
        } else {
            usage(argv[0]);
            return 2;
        }
    }
    for (int k = 0; k < K_COUNT; k++)
        single[k] = multi[k] = -1;
    if (je_load(&je_why) == 0)
        have[K_JE_TCACHE] = have[K_JE_NOTCACHE] = 1;
    make_sequence();

    bar = mmap(NULL, sizeof *bar, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (bar == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    atomic_init(&bar->arrived, 0);
    atomic_init(&bar->generation, 0);

    /* The shared arena: an anonymous memfd pool; children inherit its mapping. */
    if ((rc = shmipc_pool_create(NULL, POOL_SIZE, 0, &pool)) != 0 ||
        (rc = shmipc_arena_create(pool, &arena)) != 0) {
        fprintf(stderr, "shmipc: %s (%s)\n", shmipc_strerror(rc), shmipc_error_detail());
        shmipc_pool_close(pool);
        return 1;
    }
    if ((rc = shmipc_arena_stats(arena, &base)) != 0) {
        fprintf(stderr, "shmipc_arena_stats: %s (%s)\n", shmipc_strerror(rc),
                shmipc_error_detail());
        shmipc_arena_close(arena);
        return 1;
    }
    have[K_SHMIPC] = have[K_GLIBC] = 1;
    have[K_LEND] = have[K_JE_TCACHE]; /* the lend provider is jemalloc's too */

    printf("shmipc %s alloc benchmark: %zu alloc+free pairs x %d repetitions (median), "
           "sizes %d..%d B, %d live blocks\n",
           shmipc_version(), pairs, REPS, SIZE_MIN, SIZE_MAX_REQ, LIVE);
    if (!have[K_JE_TCACHE])
        printf("jemalloc: %s; going on without it\n", je_why);
#ifdef SHMIPC_HAVE_JEMALLOC
    else
        printf("jemalloc: the lend provider's, linked in (%s %s)\n", JEMALLOC_VERSION,
               &malloc == &je_malloc ? "replacing malloc: a system one"
                                     : "beside glibc malloc");
#endif
    fflush(stdout);

    /* One process. */
    for (int k = 0; k < K_COUNT; k++) {
        if (!have[k])
            continue;
        single[k] = bench_single((enum kind)k, arena, pairs);
        if (single[k] < 0)
            status = 1;
    }
    if (arena_books(arena, &base, "the one-process run") != 0)
        status = 1;

    /* Two processes at once. */
    for (int k = 0; k < K_COUNT; k++) {
        if (!have[k])
            continue;
        multi[k] = bench_multi((enum kind)k, arena, pairs, bar);
        if (multi[k] < 0)
            status = 1;
    }
    if (arena_books(arena, &base, "the two-process run") != 0)
        status = 1;
    if ((rc = shmipc_arena_check(arena)) == 0) {
        printf("arena check: ok\n");
    } else {
        printf("arena check: FAILED: %s (%s)\n", shmipc_strerror(rc), shmipc_error_detail());
        status = 1;
    }

    /* The table. */
    printf("\n%-34s %12s %14s   %-22s\n", "", "1 process", "2 processes", "shmipc / this");
    printf("%-34s %12s %14s   %10s %11s\n", "allocator", "ns/pair", "ns/pair", "1 proc",
           "2 procs");
    for (int k = 0; k < K_COUNT; k++) {
        char label[64];
        snprintf(label, sizeof label, "%s%s", kind_name[k],
                 k == K_SHMIPC ? " (2p: one arena)" : "");
        if (!have[k]) {
            printf("%-34s %12s %14s   %10s %11s\n", label, "n/a", "n/a", "-", "-");
            continue;
        }
        fmt_ns(b1, sizeof b1, single[k]);
        fmt_ns(b2, sizeof b2, multi[k]);
        fmt_ratio(b3, sizeof b3, single[K_SHMIPC], single[k]);
        fmt_ratio(b4, sizeof b4, multi[K_SHMIPC], multi[k]);
        printf("%-34s %12s %14s   %10s %11s\n", label, b1, b2, b3, b4);
    }
    fmt_ratio(b3, sizeof b3, single[K_SHMIPC], BOOST_FLOOR_NS);
    printf("%-34s %12.1f %14s   %10s %11s\n", "boost.interprocess (floor, *)", BOOST_FLOOR_NS,
           "-", b3, "-");
    printf("  * floor from FLOORS.md, measured earlier on this machine kind; NOT measured in "
           "this run\n");

    /* Ratios and goals. */
    printf("\n");
    fmt_ratio(b1, sizeof b1, single[K_SHMIPC], single[K_GLIBC]);
    fmt_ratio(b2, sizeof b2, multi[K_SHMIPC], multi[K_GLIBC]);
    printf("shmipc / glibc:                  %s (1 process), %s (2 processes)\n", b1, b2);
    if (have[K_JE_TCACHE]) {
        fmt_ratio(b1, sizeof b1, single[K_SHMIPC], single[K_JE_TCACHE]);
        fmt_ratio(b2, sizeof b2, multi[K_SHMIPC], multi[K_JE_TCACHE]);
        printf("shmipc / jemalloc (tcache):      %s (1 process), %s (2 processes)\n", b1, b2);
        fmt_ratio(b1, sizeof b1, single[K_SHMIPC], single[K_JE_NOTCACHE]);
        fmt_ratio(b2, sizeof b2, multi[K_SHMIPC], multi[K_JE_NOTCACHE]);
        printf("shmipc / jemalloc (no tcache):   %s (1 process), %s (2 processes)\n", b1, b2);
    } else {
        printf("shmipc / jemalloc:               n/a (jemalloc not found)\n");
    }
    fmt_ratio(b1, sizeof b1, BOOST_FLOOR_NS, single[K_SHMIPC]);
    printf("boost.interprocess floor %.0f ns / shmipc: %s faster (1 process; floor figure "
           "from FLOORS.md, not measured here)\n",
           BOOST_FLOOR_NS, b1);
    printf("\ngoals (reported, not enforced):\n");
    if (single[K_SHMIPC] > 0 && single[K_GLIBC] > 0)
        printf("  shared arena <= 2x glibc (1 process):           %.2fx  %s\n",
               single[K_SHMIPC] / single[K_GLIBC],
               single[K_SHMIPC] <= 2 * single[K_GLIBC] ? "met" : "MISSED");
    if (single[K_SHMIPC] > 0)
        printf("  >= 3x faster than boost.interprocess (310 ns): %.2fx  %s\n",
               BOOST_FLOOR_NS / single[K_SHMIPC],
               BOOST_FLOOR_NS >= 3 * single[K_SHMIPC] ? "met" : "MISSED");
    if (single[K_LEND] > 0 && single[K_JE_TCACHE] > 0)
        printf("  lend arena <= 1.5x private jemalloc arena:     %.2fx  %s\n",
               single[K_LEND] / single[K_JE_TCACHE],
               single[K_LEND] <= 1.5 * single[K_JE_TCACHE] ? "met" : "MISSED");

    shmipc_arena_close(arena); /* closes the pool too */
    munmap(bar, sizeof *bar);
    return status;
}
