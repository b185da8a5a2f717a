/* lend_tcache.c — the per-thread explicit tcaches of the lend arenas, and the registry of
 * live arenas they are kept against (safe across fork). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "lend_internal.h"

#ifdef SHMIPC_HAVE_JEMALLOC

#define TLS_SLOTS 8

/* ---- per-thread explicit tcaches ----------------------------------------------------- */
/* jemalloc's automatic tcache would hand this arena blocks cached from other arenas (they
 * would lie outside our pools), and an explicit tcache serves one thread at a time: each
 * thread gets its own per arena, found in a small thread-local table keyed by the arena's
 * never-reused uid. A closing arena destroys every tcache made for it; a thread's entry
 * for a dead arena is never matched again. */

static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong next_uid = 1;

struct tls_slot {
    uint64_t uid;
    unsigned tc;
    struct shmipc_lend *lend;
};

static _Thread_local struct tls_slot tls[TLS_SLOTS];
static _Thread_local unsigned tls_next;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

/* Destroy tc if it is still registered with l (under tc_lock). */
static void drop_tcache_locked(struct shmipc_lend *l, unsigned tc)
{
    for (struct tcache_reg **rp = &l->tcaches; *rp; rp = &(*rp)->next) {
        if ((*rp)->tc == tc) {
            struct tcache_reg *r = *rp;
            *rp = r->next;
            JE(mallctl)("tcache.destroy", NULL, NULL, &tc, sizeof tc);
            free(r);
            return;
        }
    }
}

/* Registry of live arenas, so that a thread's slot can tell a live arena from a dead one
 * when the thread exits (under tc_lock). */
static struct shmipc_lend **live;
static size_t nlive, caplive;

static int is_live_locked(struct shmipc_lend *l, uint64_t uid)
{
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == l && l->uid == uid)
            return 1;
    return 0;
}

static void release_slot(struct tls_slot *s)
{
    if (!s->uid)
        return;
    pthread_mutex_lock(&tc_lock);
    if (is_live_locked(s->lend, s->uid))
        drop_tcache_locked(s->lend, s->tc);
    pthread_mutex_unlock(&tc_lock);
    s->uid = 0;
}

static void thread_exit(void *unused)
{
    (void)unused;
    for (unsigned i = 0; i < TLS_SLOTS; i++)
        release_slot(&tls[i]);
}

static void tls_init(void)
{
    pthread_key_create(&tls_key, thread_exit);
}

/* This thread's tcache for l, made on first use; -1 if none can be made. */
static int thread_tcache(struct shmipc_lend *l)
{
    struct tls_slot *s;
    struct tcache_reg *reg;
    unsigned tc;
    size_t sz = sizeof tc;

    for (unsigned i = 0; i < TLS_SLOTS; i++)
        if (tls[i].uid == l->uid)
            return (int)tls[i].tc;
    pthread_once(&tls_once, tls_init);
    pthread_setspecific(tls_key, tls); /* non-NULL: run thread_exit */
    s = &tls[tls_next++ % TLS_SLOTS];
    release_slot(s);
    if (!(reg = malloc(sizeof *reg)))
        return -1;
    if (JE(mallctl)("tcache.create", &tc, &sz, NULL, 0) != 0) {
        free(reg);
        return -1;
    }
    reg->tc = tc;
    pthread_mutex_lock(&tc_lock);
    reg->next = l->tcaches;
    l->tcaches = reg;
    pthread_mutex_unlock(&tc_lock);
    s->uid = l->uid;
    s->tc = tc;
    s->lend = l;
    return (int)tc;
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
    int tc;

    for (unsigned i = 0; i < TLS_SLOTS; i++)
        if (tls[i].uid == l->uid && (tc = (int)tls[i].tc) >= 0)
            JE(mallctl)("tcache.flush", NULL, NULL, &tc, sizeof tc);
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

#endif
