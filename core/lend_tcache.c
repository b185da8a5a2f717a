/* lend_tcache.c — the per-thread explicit tcaches of the lend arenas, and the registry of
 * live arenas they are kept against (safe across fork). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "lend.h"
#include "lend_internal.h"

#ifdef SHMIPC_HAVE_JEMALLOC

/* ---- per-thread explicit tcaches ----------------------------------------------------- */
/* jemalloc's automatic tcache would hand this arena blocks cached from other arenas (they
 * would lie outside our pools), and an explicit tcache serves one thread at a time: each
 * thread gets its own per arena it allocates in, however many, found in a thread-local
 * hash table keyed by the arena's never-reused uid. A closing arena destroys every tcache
 * made for it; a thread's entry for a dead arena is never matched again, and goes when the
 * table is rebuilt (it keeps the live arenas' entries and grows only if they need it). */

static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong next_uid = 1;
static uint64_t tc_made, tc_live; /* under tc_lock */

struct tls_slot {
    uint64_t uid;             /* 0: free */
    int tc;                   /* -1: none could be made, the thread goes without */
    struct shmipc_lend *lend; /* NULL: its arena closed (a tombstone until a rebuild) */
};

/* Open addressing, linear probing from uid & mask; rebuilt at half full to a quarter. */
static _Thread_local struct tls_slot *tls;
static _Thread_local size_t tls_mask, tls_used;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

#define TLS_MIN_SLOTS 16

/* Destroy tc if it is still registered with l (under tc_lock). */
static void drop_tcache_locked(struct shmipc_lend *l, unsigned tc)
{
    for (struct tcache_reg **rp = &l->tcaches; *rp; rp = &(*rp)->next) {
        if ((*rp)->tc == tc) {
            struct tcache_reg *r = *rp;
            *rp = r->next;
            JE(mallctl)("tcache.destroy", NULL, NULL, &tc, sizeof tc);
            tc_live--;
            free(r);
            return;
        }
    }
}

/* Registry of live arenas, so that a thread's slot can tell a live arena from a dead one
 * when the thread exits or rebuilds its table (under tc_lock). */
static struct shmipc_lend **live;
static size_t nlive, caplive;

static int is_live_locked(struct shmipc_lend *l, uint64_t uid)
{
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == l && l->uid == uid)
            return 1;
    return 0;
}

/* This thread's slot for uid, or the free slot where it goes (the table has one). */
static struct tls_slot *tls_find(uint64_t uid)
{
    size_t i = (size_t)uid & tls_mask;

    while (tls[i].uid && tls[i].uid != uid)
        i = (i + 1) & tls_mask;
    return &tls[i];
}

static void thread_exit(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&tc_lock);
    for (size_t i = 0; tls && i <= tls_mask; i++)
        if (tls[i].lend && tls[i].tc >= 0 && is_live_locked(tls[i].lend, tls[i].uid))
            drop_tcache_locked(tls[i].lend, (unsigned)tls[i].tc);
    pthread_mutex_unlock(&tc_lock);
    free(tls);
    tls = NULL;
    tls_mask = tls_used = 0;
}

static void tls_init(void)
{
    pthread_key_create(&tls_key, thread_exit);
}

/* Rebuild this thread's table with the entries of its live arenas, at most a quarter full
 * with one more; -1 if out of memory (the table stays, its dead entries marked). */
static int tls_rebuild(void)
{
    struct tls_slot *old = tls;
    size_t oldn = tls ? tls_mask + 1 : 0, keep = 1, n = TLS_MIN_SLOTS;

    pthread_mutex_lock(&tc_lock);
    for (size_t i = 0; i < oldn; i++) {
        if (old[i].lend && !is_live_locked(old[i].lend, old[i].uid))
            old[i].lend = NULL; /* its arena closed and destroyed its tcache */
        keep += old[i].lend != NULL;
    }
    pthread_mutex_unlock(&tc_lock);
    while (n < 4 * keep)
        n *= 2;
    if (!(tls = calloc(n, sizeof *tls))) {
        tls = old;
        return -1;
    }
    tls_mask = n - 1;
    tls_used = 0;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i].lend) {
            *tls_find(old[i].uid) = old[i];
            tls_used++;
        }
    }
    free(old);
    pthread_setspecific(tls_key, tls); /* non-NULL: run thread_exit */
    return 0;
}

/* A new tcache for this thread's use of l; -1 if none can be made (no memory, or
 * jemalloc's MALLOCX_TCACHE_MAX + 1 explicit tcaches of the process all in use). */
static int new_tcache(struct shmipc_lend *l)
{
    struct tcache_reg *reg = malloc(sizeof *reg);
    unsigned tc;
    size_t sz = sizeof tc;

    if (!reg)
        return -1;
    if (JE(mallctl)("tcache.create", &tc, &sz, NULL, 0) != 0) {
        free(reg);
        return -1;
    }
    reg->tc = tc;
    pthread_mutex_lock(&tc_lock);
    reg->next = l->tcaches;
    l->tcaches = reg;
    tc_made++;
    tc_live++;
    pthread_mutex_unlock(&tc_lock);
    return (int)tc;
}

/* Make this thread's entry for l (out of line: the hot path stays a look-up); its tcache,
 * or -1: none (see new_tcache). */
static __attribute__((noinline)) int first_use(struct shmipc_lend *l)
{
    struct tls_slot *s;

    pthread_once(&tls_once, tls_init);
    if (2 * (tls_used + 1) > (tls ? tls_mask + 1 : 0) && tls_rebuild() != 0)
        return -1;
    s = tls_find(l->uid);
    *s = (struct tls_slot){l->uid, new_tcache(l), l};
    tls_used++;
    return s->tc;
}

/* This thread's tcache for l, made on first use; -1: none. */
static int thread_tcache(struct shmipc_lend *l)
{
    struct tls_slot *s;

    if (tls && (s = tls_find(l->uid))->uid)
        return s->tc;
    return first_use(l);
}

int shmipc__lend_flags(struct shmipc_lend *l)
{
    int tc = thread_tcache(l);
    return (int)MALLOCX_ARENA(l->je_arena) |
           (tc >= 0 ? MALLOCX_TCACHE(tc) : MALLOCX_TCACHE_NONE);
}

uint64_t shmipc__lend_next_uid(void)
{
    return atomic_fetch_add(&next_uid, 1);
}

void shmipc__lend_tcache_flush(struct shmipc_lend *l)
{
    struct tls_slot *s;
    unsigned tc;

    if (tls && (s = tls_find(l->uid))->uid && s->tc >= 0) {
        tc = (unsigned)s->tc;
        JE(mallctl)("tcache.flush", NULL, NULL, &tc, sizeof tc);
    }
}

/* At fork, tc_lock is held so that the child gets the registry whole; the child forgets
 * the parent's arenas, so that no slot of the forking thread ever destroys one of their
 * tcaches (whose blocks are the parent's). */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void tc_prefork(void)
{
    pthread_mutex_lock(&tc_lock);
}

static void tc_postfork_parent(void)
{
    pthread_mutex_unlock(&tc_lock);
}

static void tc_postfork_child(void)
{
    nlive = 0;
    pthread_mutex_unlock(&tc_lock);
}

static void register_atfork(void)
{
    pthread_atfork(tc_prefork, tc_postfork_parent, tc_postfork_child);
}

int shmipc__lend_register(struct shmipc_lend *l)
{
    int rc = 0;

    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&tc_lock);
    if (nlive == caplive) {
        size_t cap = caplive ? 2 * caplive : 16;
        struct shmipc_lend **grown = realloc(live, cap * sizeof *grown);
        if (grown) {
            live = grown;
            caplive = cap;
        }
    }
    if (nlive < caplive)
        live[nlive++] = l;
    else
        rc = -1;
    pthread_mutex_unlock(&tc_lock);
    return rc;
}

void shmipc__lend_unregister(struct shmipc_lend *l)
{
    pthread_mutex_lock(&tc_lock);
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == l)
            live[i] = live[--nlive];
    while (l->tcaches)
        drop_tcache_locked(l, l->tcaches->tc);
    pthread_mutex_unlock(&tc_lock);
}

/* A forked child's copies of its parent's arenas, kept: jemalloc still knows them. */
static struct shmipc_lend *forgotten;

void shmipc__lend_keep_forgotten(struct shmipc_lend *l)
{
    pthread_mutex_lock(&tc_lock);
    l->forgotten_next = forgotten;
    forgotten = l;
    pthread_mutex_unlock(&tc_lock);
}

void shmipc__lend_tcache_counts(uint64_t *made, uint64_t *alive)
{
    pthread_mutex_lock(&tc_lock);
    *made = tc_made;
    *alive = tc_live;
    pthread_mutex_unlock(&tc_lock);
}

size_t shmipc__lend_tcache_slots(void)
{
    return tls ? tls_mask + 1 : 0;
}

#else

size_t shmipc__lend_tcache_slots(void)
{
    return 0;
}

void shmipc__lend_tcache_counts(uint64_t *made, uint64_t *alive)
{
    *made = *alive = 0;
}

#endif
