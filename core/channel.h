/* channel.h — the message channel of a session: two single-producer single-consumer rings
 * in the shared control segment, eventfd doorbells rung only when the other side sleeps,
 * and the session socket, which after the handshake only says goodbye or hangs up. */
#ifndef SHMIPC_CHANNEL_H
#define SHMIPC_CHANNEL_H

#include "internal.h"

#define SHMIPC_RING_CAP ((uint64_t)256 << 10)

struct shmipc_ring_ctl;

struct shmipc_chan {
    struct shmipc_ring_ctl *tx, *rx;
    char *tx_data, *rx_data;
    uint64_t cap;
    uint64_t tx_tail; /* our copies: the peer cannot move our positions */
    uint64_t rx_head;
    int sock;
    int epfd;         /* {my_data_efd, sock}: the session fd */
    int my_data_efd, my_space_efd, peer_data_efd, peer_space_efd;
    atomic_int closed;   /* the peer is gone */
    atomic_int goodbye;  /* ... and said goodbye first (a clean close, not a death) */
    unsigned spin_us;
    uint64_t next_check_ns;
    void (*on_peer_gone)(void *ctx, int died);
    void *ctx;
    pthread_mutex_t gone_lock; /* initialised by the owner of ch */
};

/* Size of a control segment and its layout. */
SHMIPC_HIDDEN size_t shmipc__ctrl_size(void);
SHMIPC_HIDDEN void shmipc__ctrl_init(void *base, uint64_t session_id);
/* Check a control segment received from a peer. */
SHMIPC_HIDDEN int shmipc__ctrl_validate(const void *base, size_t size, uint64_t session_id);

/* Set ch up over a control segment; is_server picks the ring directions. The caller has
 * filled in the socket and the eventfds (all -1 when unused), which ch then owns. */
SHMIPC_HIDDEN int shmipc__chan_init(struct shmipc_chan *ch, void *ctrl, int is_server);
/* Close every descriptor ch owns. */
SHMIPC_HIDDEN void shmipc__chan_close(struct shmipc_chan *ch);
/* Say goodbye on the socket (a clean close). */
SHMIPC_HIDDEN void shmipc__chan_goodbye(struct shmipc_chan *ch);
SHMIPC_HIDDEN int shmipc__chan_put(struct shmipc_chan *ch, const void *blob, const void *msg,
                                   size_t len);
SHMIPC_HIDDEN int shmipc__chan_get(struct shmipc_chan *ch, void *buf, size_t cap, size_t *len,
                                   void *blob, int *has_blob, int timeout_ms);

#endif
