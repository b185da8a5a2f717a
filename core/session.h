/* session.h — the session object, shared by session.c (a session's life: messages, lending,
 * pool announcements, releases, the end of a session), server.c and client.c (the two
 * sides of the handshake that sets a session up). Internal. */
#ifndef SHMIPC_SESSION_H
#define SHMIPC_SESSION_H

#include "arena.h"
#include "channel.h"
#include "object.h"
#include "plock.h"

/* The session layer's reaping policy: how often it looks for dead peers (the endpoints
 * they left in this side's shared arenas; the sources of releases of its lend arenas,
 * which the lend provider checks at this pace). Whether one is dead is proc.c's rule. */
#define SHMIPC_REAP_EVERY_NS 100000000u /* 100 ms */

/* Data pools of one of this side's lend arenas that the peer has been sent. */
struct announced {
    uint64_t *ids;
    size_t n, cap;
    /* the arena's pools_seq when retirements were last looked for: written under
     * ann_lock, read without it to skip the lock when no pool went */
    _Atomic uint64_t seq;
    /* the pool last found announced (0: none), written under ann_lock: a lend from it
     * takes no lock while no pool went */
    _Atomic uint64_t last;
};

struct shmipc_session {
    struct shmipc_chan ch;
    struct shmipc_lend_ctx lend;
    uint32_t my_ep[2];        /* shared provider: this side's endpoints in the two arenas */
    atomic_int my_eps_closed; /* they are closed once (endpoint numbers are reused) */
    long peer_pid;  /* SO_PEERCRED's, in our pid namespace; 0: the peer is not in it */
    int peer_pidfd; /* SO_PEERPIDFD's (any namespace), -1 if the kernel has none */
    _Atomic uint64_t next_reap_ns; /* shared provider: when poll next looks for the dead */
    shmipc_plock send_lock, recv_lock;
    pthread_mutex_t ann_lock; /* ann */
    struct announced ann[2];
    uint32_t ann_tables[2]; /* ann_lock: bit s, pool s of own[k]'s table was sent */
    atomic_uint tends;      /* lend and recv calls (a count any thread may miss one of): see
                          tend_lend */
    unsigned fork_gen;      /* shmipc__fork_gen_now() when made */
};

/* EINVAL if s was inherited across fork, naming the calling function. */
#define SESSION_NOT_INHERITED(s, fn)                                                           \
    (shmipc__inherited((s)->fork_gen) ? shmipc__fail_inherited(fn ": session") : 0)

/* A session around a connected socket, which it then owns (not on failure: ENOMEM, or the
 * failure of a mutex's initialisation). */
SHMIPC_HIDDEN int shmipc__session_alloc(int sock, shmipc_session **out);
/* Once the handshake has filled in the arenas, endpoints, control segment (ctrl, whose
 * reference the session takes) and doorbells: start the channel, and for the lend
 * provider register the peer as a source of releases with this side's lend arenas. */
SHMIPC_HIDDEN int shmipc__session_start(shmipc_session *s, struct shmipc_ctrl *ctrl,
                                        int is_server);
/* A session that never got going: both sides' endpoints go, as if the peer had died. */
SHMIPC_HIDDEN void shmipc__session_abort(shmipc_session *s);

/* watch.c — shared provider: as a session starts, watch its peer's endpoints through its
 * pidfd if its pid cannot be verified here; reap, as dead, those of watched peers that died
 * (a poll of each pidfd). */
SHMIPC_HIDDEN void shmipc__watch_peer(shmipc_session *s);
SHMIPC_HIDDEN void shmipc__watch_reap(void);

#endif
