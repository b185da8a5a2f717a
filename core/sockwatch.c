/* sockwatch.c — one look at every session socket of the process. A sender must notice within
 * ~1 ms that its peer died (the socket hangs up), yet reading each session's socket with
 * recvmsg every millisecond costs a system call per session per millisecond: with a
 * thousand sessions, more than the messages. So every session socket of the process is in
 * one epoll set, edge-triggered (data or hang-up), and at most every SHMIPC_LIVENESS_NS one
 * sender, whichever session it sends on, asks the set with epoll_wait(0): each socket that
 * spoke since gets its session's flag set, and that session's next send reads its socket.
 * One system call per millisecond for the whole process, and a session's own only when its
 * socket has something to say. A forked child leaves the parent's set alone (it is the
 * same kernel object) and makes its own for its own sessions. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

#define LOOK_EVENTS 64

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static int set_fd = -1;  /* under watch_lock */
static unsigned set_gen; /* the fork generation set_fd was made in */
static _Atomic uint64_t next_look_ns;

/* Under watch_lock: the set of this process (not a forked parent's), made if need be. */
static int own_set(void)
{
    if (set_fd >= 0 && !shmipc__inherited(set_gen))
        return 0;
    if (set_fd >= 0)
        close(set_fd); /* our copy of the parent's set: the parent keeps its own */
    set_gen = shmipc__fork_gen_now();
    if ((set_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return shmipc__fail_errno("epoll_create1 (the process's set of session sockets)");
    return 0;
}

int shmipc__sockwatch_add(int sock, atomic_int *news)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = news};
    int rc;

    pthread_mutex_lock(&watch_lock);
    if ((rc = own_set()) == 0 && epoll_ctl(set_fd, EPOLL_CTL_ADD, sock, &ev) != 0)
        rc = shmipc__fail_errno("epoll_ctl (the process's set of session sockets)");
    pthread_mutex_unlock(&watch_lock);
    return rc;
}

void shmipc__sockwatch_del(int sock)
{
    pthread_mutex_lock(&watch_lock);
    if (set_fd >= 0 && !shmipc__inherited(set_gen)) /* else a forked parent's socket */
        epoll_ctl(set_fd, EPOLL_CTL_DEL, sock, NULL);
    pthread_mutex_unlock(&watch_lock);
}

void shmipc__sockwatch_look(uint64_t now)
{
    struct epoll_event ev[LOOK_EVENTS];
    int n;

    if (now < atomic_load_explicit(&next_look_ns, memory_order_relaxed) ||
        pthread_mutex_trylock(&watch_lock) != 0)
        return; /* not yet, or another thread looks */
    atomic_store_explicit(&next_look_ns, now + SHMIPC_LIVENESS_NS, memory_order_relaxed);
    if (set_fd >= 0 && !shmipc__inherited(set_gen))
        do {
            while ((n = epoll_wait(set_fd, ev, LOOK_EVENTS, 0)) < 0 && errno == EINTR)
                ;
            for (int i = 0; i < n; i++)
                atomic_store((atomic_int *)ev[i].data.ptr, 1);
        } while (n == LOOK_EVENTS);
    pthread_mutex_unlock(&watch_lock);
}
