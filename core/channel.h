/* channel.h — a session's channel: the shared control segment (two single-producer
 * single-consumer message rings and the four release rings of relring.h), eventfd doorbells rung only when
 * the other side sleeps, and the session socket, which after the handshake carries control
 * messages only (pool announcements, pool retirements, goodbye) and tells a hang-up. */
#ifndef SHMIPC_CHANNEL_H
#define SHMIPC_CHANNEL_H

#include "arena.h"  /* SHMIPC_TABLE_SEGS */
#include "object.h" /* struct shmipc_loan_ref */
#include "relring.h"

#define SHMIPC_RING_CAP ((uint64_t)256 << 10)
/* The warm window of a message ring: once a record would end past it, the producer goes
 * back to the ring's start (a WRAP record) if the consumer has freed it, so that a ring
 * whose consumer keeps up touches only these bytes (pages faulted in, cache lines, TLB
 * entries); a lagging consumer still gets the whole SHMIPC_RING_CAP. A multiple of the
 * page size. */
#define SHMIPC_RING_WARM ((uint64_t)16 << 10)
/* Control messages (pool announcements, retirements) queued for a peer whose socket is
 * full (it does not read it). Past it the session is closed on this side: a view maps at
 * most SHMIPC_LEND_POOLS_MAX data pools (shmipc.h) and the pools of its table, so more
 * announcements waiting are of no use to any peer. */
#define SHMIPC_CTL_QUEUE_MAX (SHMIPC_LEND_POOLS_MAX + SHMIPC_TABLE_SEGS)

/* Control messages on the socket after the handshake. */
enum {
    CTL_GOODBYE = 1,
    CTL_POOL = 2,
    CTL_RETIRE = 3,
    CTL_TABLE = 4
};

struct shmipc_ctl_msg {
    uint32_t magic;
    uint32_t type;
    uint32_t kind; /* CTL_POOL, CTL_RETIRE, CTL_TABLE: the sender's arena (SHMIPC_ARENA_*) */
    uint32_t reserved;
    uint64_t pool_id; /* CTL_RETIRE; CTL_TABLE: the number of the table's pool (1, 2 ...) */
};

/* The positions of one message ring, in the control segment. */
struct shmipc_ring_ctl {
    _Alignas(64) _Atomic uint64_t head;
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) _Atomic uint32_t rx_armed; /* the consumer sleeps: ring for data */
    _Atomic uint32_t tx_armed;              /* the producer sleeps: ring for space */
};
struct ctl_item;

struct shmipc_chan {
    struct shmipc_ctrl *ctrl;
    struct shmipc_ring_ctl *tx, *rx;
    char *tx_data, *rx_data;
    uint64_t cap;
    uint64_t tx_tail; /* our copies: the peer cannot move our positions */
    uint64_t rx_head;
    uint64_t tx_head_seen; /* the peer's head as last read: reread only when it shows no
                              room (its line then stays in the consumer's cache) */
    uint64_t tx_look;      /* the tail from which an early wrap may read the head again */
    uint64_t tx_limit;     /* the tail up to which records go with no look (set_limit) */
    int tx_wrap; /* the next record goes at the ring's start (an early wrap, decided by
                    shmipc__chan_room, made by shmipc__chan_put) */
    int sock;
    int epfd; /* {my_data_efd, sock, wake_efd}: the session fd */
    int my_data_efd, my_space_efd, peer_data_efd, peer_space_efd;
    int wake_efd;              /* rung (and never drained) by shmipc__chan_shutdown */
    atomic_int closed;         /* the peer is gone */
    atomic_int goodbye;        /* ... and said goodbye first (a clean close, not a death) */
    atomic_int shut;           /* shmipc__chan_shutdown: every wait ends, every call fails */
    _Atomic(const char *) why; /* why this side closed it, if it did */
    atomic_uint spin_us;       /* set by any thread while recv reads it */
    atomic_int sock_news;      /* the socket spoke since we read it (sockwatch.c) */
    void (*on_peer_gone)(void *ctx, int died);
    /* A control message from the peer; fd (or -1: none; SHMIPC__FD_LOST: it came with one
     * that could not be received, none being left here) is the callee's to close. */
    void (*on_control)(void *ctx, const struct shmipc_ctl_msg *m, int fd);
    /* Called whenever a receiver wakes up: the owner's moment to take releases. */
    void (*on_wake)(void *ctx);
    /* Called now and then while a receiver spins on an empty ring: work that would
     * otherwise wait for the next call (the lend provider takes released loans back). */
    void (*on_idle)(void *ctx);
    void *ctx;
    pthread_mutex_t gone_lock;         /* initialised by the owner of ch */
    pthread_mutex_t sock_lock;         /* reading the socket */
    pthread_mutex_t ctl_lock;          /* writing control messages; ctlq */
    struct ctl_item *ctlq, **ctlq_end; /* control messages waiting for room on the socket */
    size_t nctlq;
};

#define SHMIPC__FD_LOST (-2)

/* ---- the control segment ------------------------------------------------------------- */
SHMIPC_HIDDEN size_t shmipc__ctrl_size(void);
SHMIPC_HIDDEN void shmipc__ctrl_init(void *base, uint64_t session_id);
/* Check a control segment received from a peer. */
SHMIPC_HIDDEN int shmipc__ctrl_validate(const void *base, size_t size, uint64_t session_id);
/* Take ownership of pool as this side's handle on a control segment. */
SHMIPC_HIDDEN int shmipc__ctrl_wrap(shmipc_pool *pool, int is_server, struct shmipc_ctrl **out);

/* ---- descriptors over a Unix socket (also the handshake's) --------------------------- */
/* sendmsg of len bytes with nfds (<= 8) descriptors attached; MSG_NOSIGNAL | flags. */
SHMIPC_HIDDEN ssize_t shmipc__send_fds(int sock, const void *msg, size_t len, const int *fds,
                                       int nfds, int flags);
/* recvmsg without blocking of one message into msg (cap bytes); its descriptors, up to max,
 * go to fds[] (*nfds of them; any more are closed); *truncated gets MSG_TRUNC if data, and
 * MSG_CTRUNC if descriptors were cut (0 if nothing was). Returns recvmsg's result. */
SHMIPC_HIDDEN ssize_t shmipc__recv_fds(int sock, void *msg, size_t cap, int *fds, int max,
                                       int *nfds, int *truncated);

/* ---- the channel ----------------------------------------------------------------------- */
/* Set ch up over a control segment (ch takes the reference). The caller has filled in the
 * socket and the eventfds (all -1 when unused), which ch then owns. */
SHMIPC_HIDDEN int shmipc__chan_init(struct shmipc_chan *ch, struct shmipc_ctrl *ctrl,
                                    int is_server);
/* Close every descriptor ch owns and drop its control segment reference. */
SHMIPC_HIDDEN void shmipc__chan_close(struct shmipc_chan *ch);
/* Say goodbye on the socket (a clean close). */
SHMIPC_HIDDEN void shmipc__chan_goodbye(struct shmipc_chan *ch);
/* Send a control message, with fd (>= 0, the caller's; a queued message keeps a copy)
 * attached, without blocking: it waits in this process while the socket is full, and goes
 * with shmipc__chan_flush_control. More than SHMIPC_CTL_QUEUE_MAX waiting closes the
 * session (ECLOSED). */
SHMIPC_HIDDEN int shmipc__chan_control(struct shmipc_chan *ch, uint32_t type, uint32_t kind,
                                       uint64_t pool_id, int fd);
/* Send the control messages that waited for room, as far as the socket takes them. */
SHMIPC_HIDDEN void shmipc__chan_flush_control(struct shmipc_chan *ch);
/* Read every control message waiting on the socket (and notice a hang-up). */
SHMIPC_HIDDEN void shmipc__chan_poll_socket(struct shmipc_chan *ch);
/* Wait up to timeout_ms for the socket to speak, then read it: 0, or -1 if nothing more
 * can come (the peer is gone or the session shut down). */
SHMIPC_HIDDEN int shmipc__chan_await_socket(struct shmipc_chan *ch, int timeout_ms);
/* End every wait on ch now and fail every later call (ECLOSED). Any thread. */
SHMIPC_HIDDEN void shmipc__chan_shutdown(struct shmipc_chan *ch);
/* 0 while ch may be used, else ECLOSED with the reason (shut down, peer gone). */
SHMIPC_HIDDEN int shmipc__chan_usable(struct shmipc_chan *ch);
/* Wait until a record of len bytes (with a loan or not) fits in the ring: 0, ETIMEDOUT
 * after timeout_ms (-1: none), or ECLOSED. The caller sends alone (it holds the send lock),
 * so the room stays. */
SHMIPC_HIDDEN int shmipc__chan_room(struct shmipc_chan *ch, size_t len, int has_loan,
                                    int timeout_ms);
/* Write a record, with loan if not NULL; shmipc__chan_room said there is room. */
SHMIPC_HIDDEN void shmipc__chan_put(struct shmipc_chan *ch, const struct shmipc_loan_ref *loan,
                                    const void *msg, size_t len);
/* Take the next message into buf (cap bytes; *len: its length) and its loan (*has_loan),
 * waiting up to timeout_ms (-1: none): 0, EMSGSIZE (it stays), ETIMEDOUT or ECLOSED. */
SHMIPC_HIDDEN int shmipc__chan_get(struct shmipc_chan *ch, void *buf, size_t cap, size_t *len,
                                   struct shmipc_loan_ref *loan, int *has_loan, int timeout_ms);
/* Take the next message if there is one, keeping only its loan: 1, or 0 if none. */
SHMIPC_HIDDEN int shmipc__chan_discard(struct shmipc_chan *ch, struct shmipc_loan_ref *loan,
                                       int *has_loan);

#endif
