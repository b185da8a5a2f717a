/* watch.c — the peers of shared-provider sessions whose death only a pidfd can tell: those
 * whose pid this process cannot verify (another pid namespace: proc.c). While its session
 * is open, a peer's death is its socket's hang-up; but it may keep objects after its
 * goodbye, or go on after ours, and die later. So its endpoints are watched here from the
 * start, process-wide (they outlive the session), until it dies (they are then closed as
 * dead) or they are no longer its (it released everything and closed them). */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "session.h"

struct watch {
    struct watch *next;
    shmipc_arena *a; /* referenced */
    uint32_t ep;
    struct shmipc_proc_id id;
    int pidfd;
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct watch *watched;

static void watch_add(shmipc_arena *a, uint32_t ep, struct shmipc_proc_id id, int pidfd)
{
    struct watch *w = calloc(1, sizeof *w);

    if (!w || (w->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 0)) < 0) {
        free(w); /* then only its session's end told, and the rest stays counted */
        return;
    }
    w->a = shmipc__arena_ref(a);
    w->ep = ep;
    w->id = id;
    pthread_mutex_lock(&watch_lock);
    w->next = watched;
    watched = w;
    pthread_mutex_unlock(&watch_lock);
}

void shmipc__watch_peer(shmipc_session *s)
{
    if (s->lend.provider != SHMIPC_PROVIDER_SHARED || s->peer_pidfd < 0)
        return;
    for (int k = 0; k < 2; k++) {
        struct shmipc_proc_id *id = &s->lend.peer_id[k];
        if (s->lend.own[k] && (id->frame == 0 || id->frame != shmipc__pid_frame()))
            watch_add(s->lend.own[k], s->lend.peer_ep[k], *id, s->peer_pidfd);
    }
}

/* 1 if w is done with: its peer died (its endpoint is then closed) or the endpoint is no
 * longer the peer's; or, in a forked child, w is the parent's (its arena is inherited: the
 * child lets it go without touching it). */
static int watch_done(struct watch *w)
{
    struct shmipc_proc_id now;

    if (arena_inherited(w->a))
        return 1;
    now = shmipc__ep_id(w->a, w->ep);

    if (now.pid != w->id.pid || now.start != w->id.start || now.frame != w->id.frame)
        return 1;
    if (!shmipc__proc_gone(&w->id, w->pidfd))
        return 0;
    shmipc__ep_close_peer(w->a, w->ep, w->id);
    return 1;
}

void shmipc__watch_reap(void)
{
    struct watch *done = NULL;

    if (pthread_mutex_trylock(&watch_lock) != 0)
        return; /* another thread reaps */
    for (struct watch **wp = &watched; *wp;) {
        struct watch *w = *wp;
        if (watch_done(w)) {
            *wp = w->next;
            w->next = done;
            done = w;
        } else {
            wp = &w->next;
        }
    }
    pthread_mutex_unlock(&watch_lock);
    while (done) {
        struct watch *w = done;
        done = w->next;
        close(w->pidfd);
        shmipc_arena_close(w->a);
        free(w);
    }
}
