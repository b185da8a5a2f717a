/* channel.c — a session's message channel.
 *
 * The control segment holds two rings (server->client, client->server). A record is an
 * 8-byte header (length, flags), an optional lend blob and the message, padded to 8 bytes;
 * a WRAP record fills the end of the ring when the next record does not fit there. The
 * producer publishes with a release store of its tail; the consumer frees space with a
 * release store of its head. Doorbells are eventfds, rung only when the other side has
 * armed its flag before sleeping (a Dekker pair with seq_cst fences on both sides), so a
 * busy consumer costs the producer no system call. Everything read from the shared segment
 * is validated first: a peer that scribbles on it closes its own session, nothing more.
 * The socket carries GOODBYE on a clean close; EOF without it means the peer died. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"

#define CTRL_MAGIC UINT64_C(0x4c52544343504d53) /* "SMPCCTRL" */
#define CTRL_VERSION 1
#define CTRL_HDR 4096
#define GOODBYE_MAGIC 0x45594247u /* "GBYE" */
#define REC_BLOB 1u
#define REC_WRAP 2u
#define LIVENESS_CHECK_NS 1000000u /* a sender looks at the socket at most every 1 ms */

struct shmipc_ring_ctl {
    _Alignas(64) _Atomic uint64_t head;
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) _Atomic uint32_t rx_armed; /* the consumer sleeps: ring for data */
    _Atomic uint32_t tx_armed;              /* the producer sleeps: ring for space */
};

struct ctrl_hdr {
    uint64_t magic;
    uint64_t version;
    uint64_t session_id;
    uint64_t ring_cap;
    struct shmipc_ring_ctl ring[2]; /* [0] server -> client, [1] client -> server */
};
_Static_assert(sizeof(struct ctrl_hdr) <= CTRL_HDR, "control header fits");

struct rec_hdr {
    uint32_t len;
    uint32_t flags;
};

size_t shmipc__ctrl_size(void)
{
    return CTRL_HDR + 2 * SHMIPC_RING_CAP;
}

void shmipc__ctrl_init(void *base, uint64_t session_id)
{
    struct ctrl_hdr *h = base;

    memset(h, 0, sizeof *h);
    h->version = CTRL_VERSION;
    h->session_id = session_id;
    h->ring_cap = SHMIPC_RING_CAP;
    h->magic = CTRL_MAGIC;
}

int shmipc__ctrl_validate(const void *base, size_t size, uint64_t session_id)
{
    const struct ctrl_hdr *h = base;

    if (size < shmipc__ctrl_size() || h->magic != CTRL_MAGIC || h->version != CTRL_VERSION ||
        h->session_id != session_id || h->ring_cap != SHMIPC_RING_CAP)
        return shmipc__fail(SHMIPC_EPROTO, "the session's control segment is not one this "
                            "library can use");
    return 0;
}

static uint64_t rec_size(uint32_t len, uint32_t flags)
{
    return sizeof(struct rec_hdr) + ((flags & REC_BLOB) ? SHMIPC_BLOB_SIZE : 0) +
           (((uint64_t)len + 7) & ~UINT64_C(7));
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void ring_doorbell(int efd)
{
    uint64_t one = 1;
    ssize_t n = write(efd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is full, the peer is awake anyway */
}

static void drain_doorbell(int efd)
{
    uint64_t v;
    ssize_t n = read(efd, &v, sizeof v);
    (void)n; /* nonblocking; EAGAIN when not rung */
}

int shmipc__chan_init(struct shmipc_chan *ch, void *ctrl, int is_server)
{
    struct ctrl_hdr *h = ctrl;
    char *data = (char *)ctrl + CTRL_HDR;
    struct epoll_event ev = {.events = EPOLLIN};

    ch->tx = &h->ring[is_server ? 0 : 1];
    ch->rx = &h->ring[is_server ? 1 : 0];
    ch->tx_data = data + (is_server ? 0 : SHMIPC_RING_CAP);
    ch->rx_data = data + (is_server ? SHMIPC_RING_CAP : 0);
    ch->cap = SHMIPC_RING_CAP;
    ch->tx_tail = atomic_load(&ch->tx->tail);
    ch->rx_head = atomic_load(&ch->rx->head);
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
    return 0;
}

void shmipc__chan_close(struct shmipc_chan *ch)
{
    int fds[] = {ch->epfd, ch->sock, ch->my_data_efd, ch->my_space_efd, ch->peer_data_efd,
                 ch->peer_space_efd};

    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

void shmipc__chan_goodbye(struct shmipc_chan *ch)
{
    uint32_t bye = GOODBYE_MAGIC;

    if (!atomic_load(&ch->closed))
        send(ch->sock, &bye, sizeof bye, MSG_NOSIGNAL | MSG_DONTWAIT);
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

/* Read what the socket has without blocking: a goodbye, or the end. */
static void poll_socket(struct shmipc_chan *ch)
{
    for (;;) {
        uint32_t msg = 0;
        ssize_t n = recv(ch->sock, &msg, sizeof msg, MSG_DONTWAIT);
        if (n > 0) {
            if (n == sizeof msg && msg == GOODBYE_MAGIC)
                atomic_store(&ch->goodbye, 1);
            continue; /* anything else is ignored */
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        peer_gone(ch); /* EOF or a dead socket */
        return;
    }
}

/* ---- sending ----------------------------------------------------------------------- */

/* Wait until the peer frees space (or goes). */
static void wait_space(struct shmipc_chan *ch, uint64_t need)
{
    struct pollfd fds[2] = {{.fd = ch->my_space_efd, .events = POLLIN},
                            {.fd = ch->sock, .events = POLLIN | POLLRDHUP}};
    uint64_t head;

    drain_doorbell(ch->my_space_efd);
    atomic_store(&ch->tx->tx_armed, 1);
    atomic_thread_fence(memory_order_seq_cst);
    head = atomic_load_explicit(&ch->tx->head, memory_order_acquire);
    if (ch->cap - (ch->tx_tail - head) >= need)
        return;
    if (poll(fds, 2, 100) > 0 && fds[1].revents)
        poll_socket(ch);
}

int shmipc__chan_put(struct shmipc_chan *ch, const void *blob, const void *msg, size_t len)
{
    uint32_t flags = blob ? REC_BLOB : 0;
    uint64_t total = rec_size((uint32_t)len, flags), pos, contig, need;
    struct rec_hdr rh = {.len = (uint32_t)len, .flags = flags};
    char *at;

    if (len > SHMIPC_MSG_MAX)
        return shmipc__fail(SHMIPC_EMSGSIZE, "message of %zu bytes (at most %d)", len,
                            SHMIPC_MSG_MAX);
    if (now_ns() >= ch->next_check_ns) {
        poll_socket(ch);
        ch->next_check_ns = now_ns() + LIVENESS_CHECK_NS;
    }
    for (;;) {
        uint64_t head = atomic_load_explicit(&ch->tx->head, memory_order_acquire);
        if (atomic_load(&ch->closed))
            return shmipc__fail(SHMIPC_ECLOSED, "the peer has closed the session or died");
        if (ch->tx_tail - head > ch->cap) {
            peer_gone(ch);
            return shmipc__fail(SHMIPC_ECLOSED, "the peer corrupted the channel; closed");
        }
        pos = ch->tx_tail % ch->cap;
        contig = ch->cap - pos;
        need = total + (contig < total ? contig : 0);
        if (ch->cap - (ch->tx_tail - head) >= need)
            break;
        wait_space(ch, need);
    }
    if (contig < total) {
        struct rec_hdr wrap = {.len = 0, .flags = REC_WRAP};
        memcpy(ch->tx_data + pos, &wrap, sizeof wrap);
        ch->tx_tail += contig;
        pos = 0;
    }
    at = ch->tx_data + pos;
    memcpy(at, &rh, sizeof rh);
    at += sizeof rh;
    if (blob) {
        memcpy(at, blob, SHMIPC_BLOB_SIZE);
        at += SHMIPC_BLOB_SIZE;
    }
    if (len)
        memcpy(at, msg, len);
    ch->tx_tail += total;
    atomic_store_explicit(&ch->tx->tail, ch->tx_tail, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ch->tx->rx_armed, memory_order_relaxed) &&
        atomic_exchange(&ch->tx->rx_armed, 0))
        ring_doorbell(ch->peer_data_efd);
    return 0;
}

/* ---- receiving --------------------------------------------------------------------- */

/* The next record's header, validated (WRAP records skipped): 1, 0 if the ring is empty,
 * or ECLOSED if the peer corrupted it. */
static int peek(struct shmipc_chan *ch, struct rec_hdr *rh, uint64_t *size)
{
    for (;;) {
        uint64_t tail = atomic_load_explicit(&ch->rx->tail, memory_order_acquire);
        uint64_t avail = tail - ch->rx_head, pos = ch->rx_head % ch->cap;
        if (avail == 0)
            return 0;
        if (avail > ch->cap || avail < sizeof *rh)
            break;
        memcpy(rh, ch->rx_data + pos, sizeof *rh);
        if (rh->flags == REC_WRAP) {
            if (ch->cap - pos > avail)
                break;
            ch->rx_head += ch->cap - pos;
            atomic_store_explicit(&ch->rx->head, ch->rx_head, memory_order_release);
            continue;
        }
        *size = rec_size(rh->len, rh->flags);
        if ((rh->flags & ~REC_BLOB) || rh->len > SHMIPC_MSG_MAX || *size > avail ||
            *size > ch->cap - pos)
            break;
        return 1;
    }
    peer_gone(ch);
    return shmipc__fail(SHMIPC_ECLOSED, "the peer corrupted the channel; closed");
}

/* Sleep until the peer rings, the socket speaks, or the deadline (-1: none) passes. */
static void sleep_for_data(struct shmipc_chan *ch, int64_t deadline_ns)
{
    struct epoll_event ev[2];
    int ms = -1, n;

    if (deadline_ns >= 0) {
        int64_t left = deadline_ns - (int64_t)now_ns();
        ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    }
    n = epoll_wait(ch->epfd, ev, 2, ms);
    for (int i = 0; i < n; i++)
        if (ev[i].data.fd == ch->sock)
            poll_socket(ch);
}

/* Arm the doorbell, then look once more: 1 if a record came meanwhile. */
static int arm(struct shmipc_chan *ch, struct rec_hdr *rh, uint64_t *size)
{
    drain_doorbell(ch->my_data_efd);
    atomic_store(&ch->rx->rx_armed, 1);
    atomic_thread_fence(memory_order_seq_cst);
    return peek(ch, rh, size);
}

/* Wait for the next record: 1, or a negative code. */
static int wait_record(struct shmipc_chan *ch, struct rec_hdr *rh, uint64_t *size,
                       int timeout_ms)
{
    uint64_t start = now_ns();
    int64_t deadline = timeout_ms < 0 ? -1 : (int64_t)(start + (uint64_t)timeout_ms * 1000000u);
    int r;

    for (;;) {
        if ((r = peek(ch, rh, size)) != 0)
            return r;
        if (now_ns() - start < (uint64_t)ch->spin_us * 1000u) {
            shmipc__cpu_relax();
            continue;
        }
        if ((r = arm(ch, rh, size)) != 0)
            return r;
        if (atomic_load(&ch->closed))
            return shmipc__fail(SHMIPC_ECLOSED, "the peer has closed the session or died");
        if (deadline >= 0 && (int64_t)now_ns() >= deadline) {
            poll_socket(ch);
            if (atomic_load(&ch->closed))
                continue; /* look for queued messages once more, then ECLOSED */
            return shmipc__fail(SHMIPC_ETIMEDOUT, "no message within %d ms", timeout_ms);
        }
        sleep_for_data(ch, deadline);
    }
}

int shmipc__chan_get(struct shmipc_chan *ch, void *buf, size_t cap, size_t *len, void *blob,
                     int *has_blob, int timeout_ms)
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
    at = ch->rx_data + ch->rx_head % ch->cap + sizeof rh;
    *has_blob = (rh.flags & REC_BLOB) != 0;
    if (*has_blob) {
        memcpy(blob, at, SHMIPC_BLOB_SIZE);
        at += SHMIPC_BLOB_SIZE;
    }
    if (rh.len)
        memcpy(buf, at, rh.len);
    ch->rx_head += size;
    atomic_store_explicit(&ch->rx->head, ch->rx_head, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&ch->rx->tx_armed, memory_order_relaxed) &&
        atomic_exchange(&ch->rx->tx_armed, 0))
        ring_doorbell(ch->peer_space_efd);
    return 0;
}
