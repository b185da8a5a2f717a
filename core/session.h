/* session.h — the session object, shared by session.c (a session's life: messages, lending,
 * pool announcements, releases, the end of a session), server.c and client.c (the two
 * sides of the handshake that sets a session up). Internal. */
#ifndef SHMIPC_SESSION_H
#define SHMIPC_SESSION_H

#include "arena.h"
#include "channel.h"
#include "object.h"

/* Data pools of one of this side's lend arenas that the peer has been sent. */
struct announced {
    uint64_t *ids;
    size_t n, cap;
    uint64_t seq; /* the arena's pools_seq when retirements were last looked for */
};

struct shmipc_session {
    struct shmipc_chan ch;
    struct shmipc_lend_ctx lend;
    uint32_t my_ep[2]; /* shared provider: this side's endpoints in the two arenas */
    atomic_int my_eps_closed; /* they are closed once (endpoint numbers are reused) */
    long peer_pid;
    _Atomic uint64_t next_reap_ns; /* shared provider: when poll next looks for the dead */
    pthread_mutex_t send_lock, recv_lock;
    pthread_mutex_t ann_lock; /* ann */
    struct announced ann[2];
};

/* A session around a connected socket (which it then owns); NULL when out of memory. */
SHMIPC_HIDDEN shmipc_session *shmipc__session_alloc(int sock);
/* Once the handshake has filled in the arenas, endpoints, control segment (ctrl, whose
 * reference the session takes) and doorbells: start the channel, and for the lend
 * provider register the peer as a source of releases with this side's lend arenas. */
SHMIPC_HIDDEN int shmipc__session_start(shmipc_session *s, struct shmipc_ctrl *ctrl,
                                        int is_server);
/* A session that never got going: both sides' endpoints go, as if the peer had died. */
SHMIPC_HIDDEN void shmipc__session_abort(shmipc_session *s);

#endif
