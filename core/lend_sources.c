/* lend_sources.c — the release sources of a lend arena: the peers that may report
 * releases of its loans (each through its session's release ring, relring.c), taken on the
 * owner's threads. A source stays after its session closes, for as long as the peer holds
 * loans and lives; whether it lives is its pidfd's answer, else its endpoint's record's
 * (proc.c's rule), asked at the pace its session set. When a source is done with, its
 * endpoint is closed as dead (arena.c), which frees what only the peer held. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lend.h"
#include "relring.h"

struct source {
    struct source *next;
    struct shmipc_ctrl *ctrl; /* referenced */
    int kind;                 /* which of the peer's release rings: SHMIPC_ARENA_* */
    uint32_t peer_ep;
    struct shmipc_proc_id peer; /* whom peer_ep belongs to */
    int pidfd;                  /* the peer's, or -1: then peer tells when it is gone */
    int session_open;
    uint64_t check_every_ns; /* how often to ask whether the peer lives: its session's say */
    uint64_t next_check_ns;
};

struct shmipc_lend_sources {
    pthread_mutex_t lock;
    struct source *list;
    size_t count;                  /* in list */
    _Atomic uint64_t next_walk_ns; /* shmipc__sources_drain(.., 1): not before */
};

/* A walk that need not be made now goes through every source at most every ~1 ms, and
 * through many (an arena has a source per session) about WALK_PER_MS of them per ms: each
 * costs a look at its peer's ring, likely a cache miss. */
#define WALK_EVERY_NS 1000000u
#define WALK_PER_MS 64u

int shmipc__sources_new(struct shmipc_lend_sources **out)
{
    struct shmipc_lend_sources *src = calloc(1, sizeof *src);
    pthread_mutex_t *const lock = src ? &src->lock : NULL;
    int rc;

    if (!src)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a lend arena");
    if ((rc = shmipc__mutexes_init(&lock, 1, "a lend arena")) != 0) {
        free(src);
        return rc;
    }
    *out = src;
    return 0;
}

static void drop_source(struct source *s)
{
    shmipc__ctrl_unref(s->ctrl);
    if (s->pidfd >= 0)
        close(s->pidfd);
    free(s);
}

void shmipc__sources_clear(struct shmipc_lend_sources *src)
{
    while (src->list) {
        struct source *s = src->list;
        src->list = s->next;
        src->count--;
        drop_source(s);
    }
}

void shmipc__sources_free(struct shmipc_lend_sources *src)
{
    if (!src)
        return;
    shmipc__sources_clear(src);
    pthread_mutex_destroy(&src->lock);
    free(src);
}

int shmipc__sources_add(struct shmipc_lend_sources *src, shmipc_arena *a,
                        struct shmipc_ctrl *ctrl, int kind, uint32_t peer_ep, int peer_pidfd,
                        uint64_t check_every_ns)
{
    struct source *s = calloc(1, sizeof *s);

    if (!s)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a release source");
    s->ctrl = shmipc__ctrl_ref(ctrl);
    s->kind = kind;
    s->peer_ep = peer_ep;
    s->peer = shmipc__ep_id(a, peer_ep);
    s->pidfd = peer_pidfd >= 0 ? fcntl(peer_pidfd, F_DUPFD_CLOEXEC, 0) : -1;
    s->session_open = 1;
    s->check_every_ns = check_every_ns;
    pthread_mutex_lock(&src->lock);
    s->next = src->list;
    src->list = s;
    src->count++;
    pthread_mutex_unlock(&src->lock);
    return 0;
}

struct release_ctx {
    shmipc_arena *a;
    uint32_t peer_ep;
};

static void take_release(void *ctx, uint64_t loan, uint64_t gen)
{
    struct release_ctx *rc = ctx;

    shmipc__loan_release(rc->a, loan, gen, rc->peer_ep); /* refused reports are counted */
}

/* Under the lock: 1 if it is time to ask whether s's peer lives (proc.c's rule). */
static int check_due(struct source *s, uint64_t now)
{
    if (now < s->next_check_ns)
        return 0;
    s->next_check_ns = now + s->check_every_ns;
    return 1;
}

/* Under the lock: 1 if source s is done with (its peer is gone, or its session is closed
 * and it holds nothing more); its endpoint is then closed. */
static int source_done(shmipc_arena *a, struct source *s, uint64_t now)
{
    int dead = check_due(s, now) && shmipc__proc_gone(&s->peer, s->pidfd);

    if (!dead && (s->session_open || shmipc__ep_busy(a, s->peer_ep)))
        return 0;
    shmipc__ep_close_peer(a, s->peer_ep, s->peer);
    return 1;
}

/* Under the lock: take the reports of the source at *sp; drop it if it is done with. */
static void tend_source(struct shmipc_lend_sources *src, shmipc_arena *a, struct source **sp,
                        uint64_t now)
{
    struct source *s = *sp;
    struct release_ctx ctx = {.a = a, .peer_ep = s->peer_ep};

    shmipc__release_drain(s->ctrl, s->kind, take_release, &ctx);
    if (source_done(a, s, now)) {
        *sp = s->next;
        src->count--;
        drop_source(s);
    }
}

void shmipc__sources_closed(struct shmipc_lend_sources *src, shmipc_arena *a,
                            struct shmipc_ctrl *ctrl)
{
    uint64_t now = shmipc__now_ns();

    pthread_mutex_lock(&src->lock);
    for (struct source **sp = &src->list; *sp;) {
        struct source *s = *sp;
        if (s->ctrl == ctrl) {
            s->session_open = 0;
            tend_source(src, a, sp, now);
        }
        if (*sp == s)
            sp = &s->next;
    }
    pthread_mutex_unlock(&src->lock);
}

void shmipc__sources_drain(struct shmipc_lend_sources *src, shmipc_arena *a, int if_due)
{
    uint64_t now = shmipc__now_ns();

    if ((if_due && now < atomic_load_explicit(&src->next_walk_ns, memory_order_relaxed)) ||
        pthread_mutex_trylock(&src->lock) != 0)
        return; /* not yet, or another thread drains */
    atomic_store_explicit(&src->next_walk_ns,
                          now + WALK_EVERY_NS * (1 + src->count / WALK_PER_MS),
                          memory_order_relaxed);
    for (struct source **sp = &src->list; *sp;) {
        struct source *s = *sp;
        tend_source(src, a, sp, now);
        if (*sp == s)
            sp = &s->next;
    }
    pthread_mutex_unlock(&src->lock);
}

void shmipc__sources_drain_peer(shmipc_arena *a, struct shmipc_ctrl *ctrl, int kind,
                                uint32_t peer_ep)
{
    struct release_ctx ctx = {.a = a, .peer_ep = peer_ep};

    shmipc__release_drain(ctrl, kind, take_release, &ctx);
}
