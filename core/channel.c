/* channel.c — a session's message channel.
 *
 * The control segment holds two message rings and two release rings (server->client,
 * client->server). A record of a message ring is an
 * 8-byte header (length, flags), an optional loan (the varying part of a lend blob: 32
 * bytes) and the message, padded to 8 bytes;
 * a WRAP record fills the end of the ring when the next record does not fit there, or
 * earlier, past the warm window, when the consumer has freed the ring's start. The
 * producer zeroes the header that follows a record, then publishes the record with a
 * store of its header: the consumer polls the header at its head (one cache line brings
 * it the header and the record's first bytes; the producer's tail is written but not read
 * on the hot path); it frees space with a release store of its head. Doorbells are
 * eventfds, rung only when the other side has armed its flag before sleeping (a Dekker
 * pair of seq_cst stores and loads), so a busy consumer costs the producer no system
 * call. Everything read from the shared segment is validated first: a peer that
 * scribbles on it closes its own session, nothing more.
 * The release rings (relring.c) follow the message rings: this file only places them.
 * The socket carries control messages (struct shmipc_ctl_msg; CTL_POOL with the pool's fd
 * attached) and CTL_GOODBYE on a clean close; EOF without a goodbye means the peer died. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"

#define CTRL_MAGIC UINT64_C(0x4c52544343504d53) /* "SMPCCTRL" */
#define CTRL_VERSION 3 /* 2: records published by their header; 3: loans of 32 bytes */
#define CTRL_HDR 4096
#define CTL_MAGIC 0x4c544353u /* "SCTL" */
#define REC_BLOB 1u           /* a loan follows the header */
#define REC_WRAP 2u
#define REC_LIVE 4u /* in every header written: a header of 0 is a record not written yet */
#define REC_APP 8u  /* (with REC_BLOB) the loan is of the lender's app arena */
/* A loan in a record: obj, size, loan, gen of struct shmipc_loan_ref (object.h), 8 bytes
 * each; its kind is REC_APP. */
#define REC_LOAN 32u
_Static_assert(offsetof(struct shmipc_loan_ref, gen) + 8 == REC_LOAN, "a loan's words");

struct ctrl_hdr {
    uint64_t magic;
    uint64_t version;
    uint64_t session_id;
    uint64_t ring_cap;
    uint64_t release_cap;
    struct shmipc_ring_ctl ring[2];       /* [0] server -> client, [1] client -> server */
    struct shmipc_relring_ctl release[4]; /* relring.c's: [reporter * 2 + kind] */
};
_Static_assert(sizeof(struct ctrl_hdr) <= CTRL_HDR, "control header fits");
_Static_assert(offsetof(struct ctrl_hdr, release) == 448 && sizeof(struct ctrl_hdr) == 960,
               "control header layout (docs/protocol.md)");

struct rec_hdr {
    uint32_t len;
    uint32_t flags;
};
_Static_assert(sizeof(struct rec_hdr) == sizeof(uint64_t), "a header is one atomic word");

/* A header in the ring, read and written as one word (they are 8-byte aligned). */
static void hdr_store(char *at, struct rec_hdr rh, int order)
{
    uint64_t w;

    memcpy(&w, &rh, sizeof w);
    __atomic_store_n((uint64_t *)(void *)at, w, order);
}

static struct rec_hdr hdr_load(const char *at)
{
    uint64_t w = __atomic_load_n((const uint64_t *)(const void *)at, __ATOMIC_SEQ_CST);
    struct rec_hdr rh;

    memcpy(&rh, &w, sizeof rh);
    return rh;
}

size_t shmipc__ctrl_size(void)
{
    return CTRL_HDR + 2 * SHMIPC_RING_CAP + 4 * SHMIPC_RELEASE_BYTES;
}

void shmipc__ctrl_init(void *base, uint64_t session_id)
{
    struct ctrl_hdr *h = base;

    memset(h, 0, sizeof *h);
    h->version = CTRL_VERSION;
    h->session_id = session_id;
    h->ring_cap = SHMIPC_RING_CAP;
    h->release_cap = SHMIPC_RELEASE_CAP;
    /* Each receiver starts armed: the first message rings its doorbell, so the session
     * fd is readable whenever a message waits that recv has not yet seen. */
    atomic_store(&h->ring[0].rx_armed, 1);
    atomic_store(&h->ring[1].rx_armed, 1);
    h->magic = CTRL_MAGIC;
}

int shmipc__ctrl_validate(const void *base, size_t size, uint64_t session_id)
{
    const struct ctrl_hdr *h = base;

    if (size < shmipc__ctrl_size() || h->magic != CTRL_MAGIC || h->version != CTRL_VERSION ||
        h->session_id != session_id || h->ring_cap != SHMIPC_RING_CAP ||
        h->release_cap != SHMIPC_RELEASE_CAP)
        return shmipc__fail(SHMIPC_EPROTO, "the session's control segment is not one this "
                                           "library can use");
    return 0;
}

/* ---- the channel -------------------------------------------------------------------- */

static uint64_t rec_size(uint32_t len, uint32_t flags)
{
    return sizeof(struct rec_hdr) + ((flags & REC_BLOB) ? REC_LOAN : 0) +
           (((uint64_t)len + 7) & ~UINT64_C(7));
}

static void drain_doorbell(int efd)
{
    uint64_t v;
    ssize_t n = read(efd, &v, sizeof v);
    (void)n; /* nonblocking; EAGAIN when not rung */
}

int shmipc__ctrl_wrap(shmipc_pool *pool, int is_server, struct shmipc_ctrl **out)
{
    struct ctrl_hdr *h = (struct ctrl_hdr *)pool->base;

    return shmipc__ctrl_open(pool, h->release, (char *)h + CTRL_HDR + 2 * SHMIPC_RING_CAP,
                             is_server, out);
}

static void set_limit(struct shmipc_chan *ch);

int shmipc__chan_init(struct shmipc_chan *ch, struct shmipc_ctrl *ctrl, int is_server)
{
    struct ctrl_hdr *h = (struct ctrl_hdr *)shmipc__ctrl_pool(ctrl)->base;
    char *data = (char *)h + CTRL_HDR;
    struct epoll_event ev = {.events = EPOLLIN};

    ch->ctrl = ctrl;
    ch->tx = &h->ring[is_server ? 0 : 1];
    ch->rx = &h->ring[is_server ? 1 : 0];
    ch->tx_data = data + (is_server ? 0 : SHMIPC_RING_CAP);
    ch->rx_data = data + (is_server ? SHMIPC_RING_CAP : 0);
    ch->cap = SHMIPC_RING_CAP;
    ch->tx_tail = atomic_load(&ch->tx->tail);
    ch->rx_head = atomic_load(&ch->rx->head);
    ch->tx_head_seen = atomic_load(&ch->tx->head);
    ch->tx_look = ch->tx_tail - ch->tx_tail % ch->cap + SHMIPC_RING_WARM;
    ch->tx_wrap = 0;
    set_limit(ch);
    ch->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ch->epfd < 0)
        return shmipc__fail_errno("epoll_create1");
    ev.data.fd = ch->my_data_efd;
    if (epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->my_data_efd, &ev) != 0)
        return shmipc__fail_errno("epoll_ctl");
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = ch->sock;
    if (epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->sock, &ev) != 0)
        return shmipc__fail_errno("epoll_ctl");
    ch->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ev.events = EPOLLIN;
    ev.data.fd = ch->wake_efd;
    if (ch->wake_efd < 0 || epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->wake_efd, &ev) != 0)
        return shmipc__fail_errno("the session's wake-up eventfd");
    ch->ctlq_end = &ch->ctlq;
    shmipc__ctrl_set_doorbell(ctrl, ch->peer_data_efd);
    return shmipc__sockwatch_add(ch->sock, &ch->sock_news);
}

static void ctlq_pop(struct shmipc_chan *ch);

void shmipc__chan_close(struct shmipc_chan *ch)
{
    int fds[] = {ch->epfd,          ch->sock,           ch->my_data_efd, ch->my_space_efd,
                 ch->peer_data_efd, ch->peer_space_efd, ch->wake_efd};

    while (ch->ctlq)
        ctlq_pop(ch);
    if (ch->sock >= 0)
        shmipc__sockwatch_del(ch->sock);
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    shmipc__ctrl_unref(ch->ctrl);
    ch->ctrl = NULL;
}

/* ---- descriptors over the socket -------------------------------------------------- */

#define FDS_MAX 8

ssize_t shmipc__send_fds(int sock, const void *msg, size_t len, const int *fds, int nfds,
                         int flags)
{
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    if (nfds > 0) {
        struct cmsghdr *c;
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t shmipc__recv_fds(int sock, void *msg, size_t cap, int *fds, int max, int *nfds,
                         int *truncated)
{
    struct iovec iov = {.iov_base = msg, .iov_len = cap};
    union {
        char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t n;

    do
        n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    *nfds = 0;
    *truncated = n >= 0 ? mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC) : 0;
    for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*nfds < max)
                fds[(*nfds)++] = fd;
            else
                close(fd); /* more than the message may carry: the peer's mistake */
        }
    }
    return n;
}

/* A control message waiting for room on the socket, with its own copy of its fd. */
struct ctl_item {
    struct ctl_item *next;
    struct shmipc_ctl_msg m;
    int fd;
};

static void peer_gone(struct shmipc_chan *ch);

/* Why the peer is gone, as the detail of SHMIPC_ECLOSED says it: a goodbye or a crash. */
static const char *gone_text(struct shmipc_chan *ch)
{
    return atomic_load(&ch->goodbye) ? "the peer closed the session (it said goodbye)"
                                     : "the peer's process died or hung up without a goodbye";
}

/* One control message, without blocking: 1 sent, 0 no room, or a negative code. */
static int send_ctl(struct shmipc_chan *ch, const struct shmipc_ctl_msg *m, int fd)
{
    ssize_t n = shmipc__send_fds(ch->sock, m, sizeof *m, &fd, fd >= 0 ? 1 : 0, MSG_DONTWAIT);

    if (n == (ssize_t)sizeof *m)
        return 1;
    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
        return 0;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        return shmipc__fail(SHMIPC_ECLOSED, "%s", gone_text(ch));
    return shmipc__fail_errno("sending a control message");
}

static void ctlq_pop(struct shmipc_chan *ch)
{
    struct ctl_item *q = ch->ctlq;

    /* atomic: shmipc__chan_flush_control peeks at it without the lock */
    __atomic_store_n(&ch->ctlq, q->next, __ATOMIC_RELAXED);
    if (!q->next)
        ch->ctlq_end = &ch->ctlq;
    if (q->fd >= 0)
        close(q->fd);
    free(q);
    ch->nctlq--;
}

/* Under ctl_lock: watch the socket for room (the session fd then wakes for it) while
 * messages wait, and only then. */
static void watch_room(struct shmipc_chan *ch, int on)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
                             .data.fd = ch->sock};

    epoll_ctl(ch->epfd, EPOLL_CTL_MOD, ch->sock, &ev);
}

/* Under ctl_lock: send what waits, in order, while the socket takes it. 0, or a code. */
static int flush_ctl(struct shmipc_chan *ch)
{
    int r = 1;

    while (ch->ctlq && (r = send_ctl(ch, &ch->ctlq->m, ch->ctlq->fd)) == 1)
        ctlq_pop(ch);
    if (!ch->ctlq && r == 1)
        watch_room(ch, 0);
    return r < 0 ? r : 0;
}

void shmipc__chan_flush_control(struct shmipc_chan *ch)
{
    /* a peek without the lock: a message queued meanwhile is sent by the next call */
    if (!__atomic_load_n(&ch->ctlq, __ATOMIC_RELAXED) ||
        pthread_mutex_trylock(&ch->ctl_lock) != 0)
        return; /* nothing waits, or another thread sends */
    flush_ctl(ch);
    pthread_mutex_unlock(&ch->ctl_lock);
}

/* Under ctl_lock: m waits for room. 0, 1 past the bound, or a negative code. */
static int ctlq_push(struct shmipc_chan *ch, const struct shmipc_ctl_msg *m, int fd)
{
    struct ctl_item *q;

    if (ch->nctlq >= SHMIPC_CTL_QUEUE_MAX)
        return 1;
    if (!(q = malloc(sizeof *q)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a control message that waits");
    q->fd = -1;
    if (fd >= 0 && (q->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        free(q);
        return shmipc__fail_errno("keeping the descriptor of a control message that waits");
    }
    q->m = *m;
    q->next = NULL;
    __atomic_store_n(ch->ctlq_end, q, __ATOMIC_RELAXED); /* ch->ctlq, peeked at: above */
    ch->ctlq_end = &q->next;
    if (ch->nctlq++ == 0)
        watch_room(ch, 1);
    return 0;
}

/* This side ends the session (the peer misbehaves): as if the peer had died. */
static int close_on_peer(struct shmipc_chan *ch, const char *why)
{
    atomic_store(&ch->why, why);
    shutdown(ch->sock, SHUT_RDWR); /* the peer sees the end too */
    peer_gone(ch);
    return shmipc__fail(SHMIPC_ECLOSED, "%s", why);
}

int shmipc__chan_control(struct shmipc_chan *ch, uint32_t type, uint32_t kind, uint64_t pool_id,
                         int fd)
{
    struct shmipc_ctl_msg m = {.magic = CTL_MAGIC,
                               .type = type,
                               .kind = kind,
                               .pool_id = pool_id};
    int rc;

    pthread_mutex_lock(&ch->ctl_lock);
    if ((rc = flush_ctl(ch)) == 0 && (ch->ctlq || (rc = send_ctl(ch, &m, fd)) == 0))
        rc = ctlq_push(ch, &m, fd);
    else if (rc == 1)
        rc = 0; /* sent */
    pthread_mutex_unlock(&ch->ctl_lock);
    if (rc == 1)
        return close_on_peer(ch, "the peer reads no control messages from its socket "
                                 "(SHMIPC_CTL_QUEUE_MAX of them wait for it); the session is "
                                 "closed");
    return rc;
}

void shmipc__chan_goodbye(struct shmipc_chan *ch)
{
    struct shmipc_ctl_msg m = {.magic = CTL_MAGIC, .type = CTL_GOODBYE};

    if (atomic_load(&ch->closed))
        return;
    pthread_mutex_lock(&ch->ctl_lock);
    if (flush_ctl(ch) == 0 && !ch->ctlq)
        send_ctl(ch, &m, -1); /* no room: the peer will see a hang-up without goodbye */
    pthread_mutex_unlock(&ch->ctl_lock);
}

void shmipc__chan_shutdown(struct shmipc_chan *ch)
{
    uint64_t one = 1;
    ssize_t n;

    atomic_store(&ch->shut, 1);
    n = write(ch->wake_efd, &one, sizeof one); /* never drained: every wait ends at once */
    (void)n;
}

int shmipc__chan_usable(struct shmipc_chan *ch)
{
    const char *why;

    if (atomic_load(&ch->shut))
        return shmipc__fail(SHMIPC_ECLOSED, "the session was shut down in this process");
    if (!atomic_load(&ch->closed))
        return 0;
    why = atomic_load(&ch->why);
    return shmipc__fail(SHMIPC_ECLOSED, "%s", why ? why : gone_text(ch));
}

/* The peer is gone: tell the session once, whichever thread notices. */
static void peer_gone(struct shmipc_chan *ch)
{
    int first;

    pthread_mutex_lock(&ch->gone_lock);
    first = !atomic_exchange(&ch->closed, 1);
    if (first && ch->on_peer_gone)
        ch->on_peer_gone(ch->ctx, !atomic_load(&ch->goodbye));
    pthread_mutex_unlock(&ch->gone_lock);
}

/* One message from the socket without blocking: 1 and *m (and *fd, or -1), 0 if there is
 * none (or it cannot be read now), -1 at the end (EOF or a dead socket). A message that is
 * not ours reads as type 0. */
static int read_ctl(struct shmipc_chan *ch, struct shmipc_ctl_msg *m, int *fd)
{
    int nfds, truncated;
    ssize_t n = shmipc__recv_fds(ch->sock, m, sizeof *m, fd, 1, &nfds, &truncated);

    if (nfds == 0)
        *fd = -1;
    if (n > 0) {
        if (n != (ssize_t)sizeof *m || m->magic != CTL_MAGIC || (truncated && nfds))
            m->type = 0;
        else if (truncated) /* its descriptor was cut off: none left here */
            *fd = SHMIPC__FD_LOST;
        return 1;
    }
    /* Nothing now, or no memory here for a moment (the message stays queued): not the
     * peer's end, which would drop the counts of a live peer as a dead one's. */
    if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOMEM || errno == ENOBUFS))
        return 0;
    return -1;
}

void shmipc__chan_poll_socket(struct shmipc_chan *ch)
{
    struct shmipc_ctl_msg m;
    int fd, r;

    pthread_mutex_lock(&ch->sock_lock);
    while ((r = read_ctl(ch, &m, &fd)) > 0) {
        if (m.type == CTL_GOODBYE)
            atomic_store(&ch->goodbye, 1);
        if ((m.type == CTL_POOL || m.type == CTL_RETIRE || m.type == CTL_TABLE) &&
            ch->on_control)
            ch->on_control(ch->ctx, &m, fd);
        else if (fd >= 0)
            close(fd);
    }
    pthread_mutex_unlock(&ch->sock_lock);
    if (r < 0)
        peer_gone(ch);
}

/* ---- sending ----------------------------------------------------------------------- */

/* Milliseconds left until deadline_ns (-1: none), for poll/epoll_wait. */
static int ms_left(int64_t deadline_ns)
{
    int64_t left;

    if (deadline_ns < 0)
        return -1;
    left = deadline_ns - (int64_t)shmipc__now_ns();
    return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* Wait until the peer frees space (or goes, or the session is shut down), 100 ms at most,
 * and not past the deadline (-1: none). The session's wake-up runs meanwhile (releases,
 * control messages), so a blocked sender still takes and makes reports. */
static void wait_space(struct shmipc_chan *ch, uint64_t need, int64_t deadline_ns)
{
    struct pollfd fds[3] = {{.fd = ch->my_space_efd, .events = POLLIN},
                            {.fd = ch->sock, .events = POLLIN | POLLRDHUP},
                            {.fd = ch->wake_efd, .events = POLLIN}};
    int ms = ms_left(deadline_ns);
    uint64_t head;

    drain_doorbell(ch->my_space_efd);
    atomic_store(&ch->tx->tx_armed, 1); /* seq_cst store then load: see consume() */
    head = atomic_load(&ch->tx->head);
    if (ch->cap - (ch->tx_tail - head) >= need)
        return;
    if (poll(fds, 3, ms < 0 || ms > 100 ? 100 : ms) > 0 && fds[1].revents)
        shmipc__chan_poll_socket(ch);
    if (ch->on_wake)
        ch->on_wake(ch->ctx);
}

/* The tail up to which a record (and the header after it) may go with no look at the
 * consumer's head: within room by the head last read, before the ring's end and the
 * window's (tx_look); 0 while the next record must wrap. */
static void set_limit(struct shmipc_chan *ch)
{
    uint64_t lap_end = ch->tx_tail - ch->tx_tail % ch->cap + ch->cap;
    uint64_t room_end = ch->tx_head_seen + ch->cap;
    uint64_t limit = lap_end < room_end ? lap_end : room_end;

    ch->tx_limit = ch->tx_wrap ? 0 : limit < ch->tx_look ? limit : ch->tx_look;
}

/* Load the consumer's head again: 0, or ECLOSED if the peer corrupted it. */
static int reload_head(struct shmipc_chan *ch)
{
    ch->tx_head_seen = atomic_load_explicit(&ch->tx->head, memory_order_acquire);
    set_limit(ch);
    if (ch->tx_tail - ch->tx_head_seen <= ch->cap)
        return 0;
    peer_gone(ch);
    return shmipc__fail(SHMIPC_ECLOSED, "the peer corrupted the channel; closed");
}

/* Whether a record of total bytes, which fits before the ring's end, goes back to its
 * start all the same (1): it would end past tx_look (the warm window, SHMIPC_RING_WARM,
 * or a window past the last look), the consumer is at most half a window behind (so that
 * about that much room at least is left after the wrap for a burst) and has freed the
 * start. The head is read again for it at most once per SHMIPC_RING_WARM bytes, so a
 * lagging consumer's line is not pulled at every message; a consumer further behind keeps
 * the whole ring. 0 if not, or ECLOSED. */
static int early_wrap(struct shmipc_chan *ch, uint64_t total)
{
    uint64_t pos = ch->tx_tail % ch->cap, contig = ch->cap - pos;
    int rc;

    if (ch->tx_tail + total + sizeof(struct rec_hdr) <= ch->tx_look || pos == 0 ||
        contig < total)
        return 0; /* within the window, nothing to skip, or a wrap anyway */
    ch->tx_look = ch->tx_tail + SHMIPC_RING_WARM;
    if ((rc = reload_head(ch)) != 0)
        return rc;
    return ch->tx_tail - ch->tx_head_seen <= SHMIPC_RING_WARM / 2 &&
           ch->cap - (ch->tx_tail - ch->tx_head_seen) >=
               total + contig + sizeof(struct rec_hdr);
}

/* shmipc__chan_room past its quick look: an early wrap, a wrap, or room to wait for. */
static int wait_room(struct shmipc_chan *ch, uint64_t total, int timeout_ms, int64_t deadline)
{
    int rc;

    /* put() wraps as this decides (the sender sends alone: nothing moves between) */
    if (!ch->tx_wrap && (rc = early_wrap(ch, total)) != 0) {
        if (rc < 0)
            return rc;
        ch->tx_wrap = 1;
        set_limit(ch);
    }
    for (;;) {
        uint64_t contig = ch->cap - ch->tx_tail % ch->cap;
        /* the record, the bytes skipped by a WRAP, and the next header (zeroed) */
        uint64_t need = total + (contig < total || ch->tx_wrap ? contig : 0) +
                        sizeof(struct rec_hdr);
        if (ch->cap - (ch->tx_tail - ch->tx_head_seen) >= need)
            return 0;
        if ((rc = reload_head(ch)) != 0)
            return rc;
        if (ch->cap - (ch->tx_tail - ch->tx_head_seen) >= need)
            return 0;
        if (deadline >= 0 && (int64_t)shmipc__now_ns() >= deadline)
            return shmipc__fail(SHMIPC_ETIMEDOUT,
                                "the channel stayed full for %d ms: the "
                                "peer reads no messages",
                                timeout_ms);
        wait_space(ch, need, deadline);
        if ((rc = shmipc__chan_usable(ch)) != 0)
            return rc;
    }
}

int shmipc__chan_room(struct shmipc_chan *ch, size_t len, int has_loan, int timeout_ms)
{
    uint64_t total = rec_size((uint32_t)len, has_loan ? REC_BLOB : 0), now = shmipc__now_ns();
    int rc;

    /* Whether the peer lives: the socket is read only when it spoke (a hang-up, a control
     * message), as the process's look at its sockets (every ~1 ms) tells. */
    shmipc__sockwatch_look(now);
    if (atomic_load_explicit(&ch->sock_news, memory_order_relaxed) &&
        atomic_exchange(&ch->sock_news, 0))
        shmipc__chan_poll_socket(ch);
    if ((rc = shmipc__chan_usable(ch)) != 0)
        return rc;
    if (ch->tx_tail + total + sizeof(struct rec_hdr) <= ch->tx_limit)
        return 0; /* room by the head last read: the peer's line is not touched */
    return wait_room(ch, total, timeout_ms,
                     timeout_ms < 0 ? -1 : (int64_t)(now + (uint64_t)timeout_ms * 1000000u));
}

void shmipc__chan_put(struct shmipc_chan *ch, const struct shmipc_loan_ref *loan,
                      const void *msg, size_t len)
{
    uint32_t flags = REC_LIVE | (loan ? REC_BLOB | (loan->kind ? REC_APP : 0) : 0);
    uint64_t total = rec_size((uint32_t)len, flags), pos = ch->tx_tail % ch->cap;
    uint64_t contig = ch->cap - pos, wrap_at = contig < total || ch->tx_wrap ? pos : ch->cap;
    struct rec_hdr none = {0, 0};
    char *at;

    if (wrap_at != ch->cap) { /* the record goes at the start, behind a WRAP published last */
        ch->tx_wrap = 0;
        ch->tx_tail += contig;
        ch->tx_look = ch->tx_tail + SHMIPC_RING_WARM;
        set_limit(ch);
        pos = 0;
    }
    at = ch->tx_data + pos;
    /* the header after this record reads "not written" until its own record is */
    hdr_store(ch->tx_data + (pos + total) % ch->cap, none, __ATOMIC_RELAXED);
    /* The message, then the loan: the bytes next to the header are written last, right
     * before it, so that a consumer polling the header's line finds it changed once (bytes
     * and header together), seldom twice. */
    if (len)
        memcpy(at + sizeof(struct rec_hdr) + (loan ? REC_LOAN : 0), msg, len);
    if (loan)
        memcpy(at + sizeof(struct rec_hdr), &loan->obj, REC_LOAN);
    ch->tx_tail += total;
    /* Publish (the header; a WRAP's last, as the consumer meets it first), then look
     * whether the consumer sleeps: both seq_cst, against its arm() (store rx_armed, then
     * load the header at its head): one of the two sees the other. */
    if (wrap_at != ch->cap) {
        hdr_store(at, (struct rec_hdr){.len = (uint32_t)len, .flags = flags}, __ATOMIC_RELEASE);
        at = ch->tx_data + wrap_at;
        len = 0;
        flags = REC_LIVE | REC_WRAP;
    }
    hdr_store(at, (struct rec_hdr){.len = (uint32_t)len, .flags = flags}, __ATOMIC_SEQ_CST);
    atomic_store_explicit(&ch->tx->tail, ch->tx_tail, memory_order_relaxed); /* for tools */
    if (atomic_load(&ch->tx->rx_armed) && atomic_exchange(&ch->tx->rx_armed, 0))
        shmipc__doorbell_ring(ch->peer_data_efd);
}

/* ---- receiving --------------------------------------------------------------------- */

/* The next record's header, validated (WRAP records skipped): 1, 0 if the ring is empty,
 * or ECLOSED if the peer corrupted it. */
static int peek(struct shmipc_chan *ch, struct rec_hdr *rh, uint64_t *size)
{
    for (;;) {
        uint64_t pos = ch->rx_head % ch->cap;
        *rh = hdr_load(ch->rx_data + pos); /* seq_cst: see arm() */
        if (rh->flags == 0 && rh->len == 0)
            return 0;
        /* A WRAP at the ring's start would send us round to itself for ever: corrupt (a
         * record always fits at the start) */
        if (rh->flags == (REC_LIVE | REC_WRAP) && rh->len == 0 && pos != 0) {
            ch->rx_head += ch->cap - pos;
            atomic_store_explicit(&ch->rx->head, ch->rx_head, memory_order_release);
            continue;
        }
        *size = rec_size(rh->len, rh->flags);
        if ((rh->flags & ~(REC_BLOB | REC_APP)) != REC_LIVE ||
            (rh->flags & (REC_BLOB | REC_APP)) == REC_APP || rh->len > SHMIPC_MSG_MAX ||
            *size > ch->cap - pos)
            break;
        return 1;
    }
    peer_gone(ch);
    return shmipc__fail(SHMIPC_ECLOSED, "the peer corrupted the channel; closed");
}

/* Sleep until the peer rings, the socket speaks (or has room for control messages that
 * wait), the session is shut down, or the deadline (-1: none) passes. */
static void sleep_for_data(struct shmipc_chan *ch, int64_t deadline_ns)
{
    struct epoll_event ev[3];
    int n = epoll_wait(ch->epfd, ev, 3, ms_left(deadline_ns));

    for (int i = 0; i < n; i++)
        if (ev[i].data.fd == ch->sock && (ev[i].events & ~(uint32_t)EPOLLOUT))
            shmipc__chan_poll_socket(ch);
}

int shmipc__chan_await_socket(struct shmipc_chan *ch, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = ch->sock, .events = POLLIN | POLLRDHUP},
                            {.fd = ch->wake_efd, .events = POLLIN}};

    poll(fds, 2, timeout_ms);
    shmipc__chan_poll_socket(ch);
    return atomic_load(&ch->shut) || atomic_load(&ch->closed) ? -1 : 0;
}

/* Arm the doorbell, then look once more: 1 if a record came meanwhile. */
static int arm(struct shmipc_chan *ch, struct rec_hdr *rh, uint64_t *size)
{
    drain_doorbell(ch->my_data_efd);
    atomic_store(&ch->rx->rx_armed, 1); /* then peek's seq_cst load of the header */
    return peek(ch, rh, size);
}

/* Between two looks at an empty ring while the receiver spins (the n-th look, spin_ns
 * after start at most): 1 after a pause, or 0 when the spin is over. The pauses grow (1,
 * then up to 16 after SPIN_STEP * 4 looks) the longer the wait, so that a long one reads
 * the producer's line less often and leaves a sibling hardware thread its share; the clock
 * is read every SPIN_CLOCK_EVERY looks. No system call. */
#define SPIN_STEP 256u
#define SPIN_CLOCK_EVERY 16u
#define SPIN_IDLE_EVERY 4u /* looks between two calls of on_idle */
static int spin_pause(uint64_t start, uint64_t spin_ns, unsigned n)
{
    unsigned pauses = 1u << (n / SPIN_STEP < 4 ? n / SPIN_STEP : 4);

    if (spin_ns == 0 || (n % SPIN_CLOCK_EVERY == 0 && shmipc__now_ns() - start >= spin_ns))
        return 0;
    while (pauses--)
        shmipc__cpu_relax();
    return 1;
}

/* Wait for the next record: 1, or a negative code. */
static int wait_record(struct shmipc_chan *ch, struct rec_hdr *rh, uint64_t *size,
                       int timeout_ms)
{
    uint64_t start, spin_ns;
    int64_t deadline;
    unsigned looks = 0;
    int r;

    if (!atomic_load(&ch->shut) && (r = peek(ch, rh, size)) != 0)
        return r; /* a record waits: no clock read */
    start = shmipc__now_ns();
    spin_ns = (uint64_t)atomic_load_explicit(&ch->spin_us, memory_order_relaxed) * 1000u;
    deadline = timeout_ms < 0 ? -1 : (int64_t)(start + (uint64_t)timeout_ms * 1000000u);
    for (;;) {
        if (atomic_load(&ch->shut))
            return shmipc__chan_usable(ch);
        if ((r = peek(ch, rh, size)) != 0)
            return r;
        if (spin_pause(start, spin_ns, ++looks)) {
            if (ch->on_idle && looks % SPIN_IDLE_EVERY == 0)
                ch->on_idle(ch->ctx); /* off the path of the record still to come */
            continue;
        }
        spin_ns = 0; /* spun once: after a wake-up it only looks again */
        if ((r = arm(ch, rh, size)) != 0)
            return r;
        if ((r = shmipc__chan_usable(ch)) != 0)
            return r;
        if (deadline >= 0 && (int64_t)shmipc__now_ns() >= deadline) {
            shmipc__chan_poll_socket(ch);
            if (atomic_load(&ch->closed))
                continue; /* look for queued messages once more, then ECLOSED */
            return shmipc__fail(SHMIPC_ETIMEDOUT, "no message within %d ms", timeout_ms);
        }
        sleep_for_data(ch, deadline);
        if (ch->on_wake)
            ch->on_wake(ch->ctx);
    }
}

/* Copy the loan of the record at the head (if it has one); the message follows it. */
static const char *take_loan(struct shmipc_chan *ch, const struct rec_hdr *rh,
                             struct shmipc_loan_ref *loan, int *has_loan)
{
    const char *at = ch->rx_data + ch->rx_head % ch->cap + sizeof *rh;

    *has_loan = (rh->flags & REC_BLOB) != 0;
    if (*has_loan) {
        memcpy(&loan->obj, at, REC_LOAN);
        loan->kind = (rh->flags & REC_APP) ? SHMIPC_ARENA_APP : SHMIPC_ARENA_SESSION;
        at += REC_LOAN;
    }
    return at;
}

/* Free the record at the head; wake the producer if it waits for room. */
static void consume(struct shmipc_chan *ch, uint64_t size)
{
    ch->rx_head += size;
    /* the same pair as in shmipc__chan_put, for space: against wait_space() */
    atomic_store(&ch->rx->head, ch->rx_head);
    if (atomic_load(&ch->rx->tx_armed) && atomic_exchange(&ch->rx->tx_armed, 0))
        shmipc__doorbell_ring(ch->peer_space_efd);
}

int shmipc__chan_get(struct shmipc_chan *ch, void *buf, size_t cap, size_t *len,
                     struct shmipc_loan_ref *loan, int *has_loan, int timeout_ms)
{
    struct rec_hdr rh;
    uint64_t size;
    const char *at;
    int r = wait_record(ch, &rh, &size, timeout_ms);

    if (r < 0)
        return r;
    *len = rh.len;
    if (rh.len > cap)
        return shmipc__fail(SHMIPC_EMSGSIZE, "message of %u bytes, buffer of %zu", rh.len, cap);
    at = take_loan(ch, &rh, loan, has_loan);
    if (rh.len)
        memcpy(buf, at, rh.len);
    consume(ch, size);
    return 0;
}

int shmipc__chan_discard(struct shmipc_chan *ch, struct shmipc_loan_ref *loan, int *has_loan)
{
    struct rec_hdr rh;
    uint64_t size;

    if (peek(ch, &rh, &size) != 1)
        return 0;
    take_loan(ch, &rh, loan, has_loan);
    consume(ch, size);
    return 1;
}
