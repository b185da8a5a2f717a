/* object.h — what sessions need from objects: lending and borrowing with a session's
 * context (its id and key, the arenas it lends from and borrows from, the peer's endpoint
 * in each, and for the lend provider the control segment where releases are reported). */
#ifndef SHMIPC_OBJECT_H
#define SHMIPC_OBJECT_H

#include "arena.h"

enum {
    SHMIPC_ARENA_SESSION = 0,
    SHMIPC_ARENA_APP = 1
};

/* How long a borrower that meets an unknown pool waits for its announcement. */
#define SHMIPC_POOL_WAIT_MS 1000

struct shmipc_ctrl;

struct shmipc_lend_ctx {
    uint64_t session_id;
    uint64_t key;         /* secret of the session: the blob's check value is keyed */
    int provider;         /* SHMIPC_PROVIDER_* */
    shmipc_arena *own[2]; /* the arenas this side lends from: session, app (or NULL) */
    uint32_t peer_ep[2];  /* the peer's endpoint in own[k] */
    struct shmipc_proc_id peer_id[2]; /* whom peer_ep[k] belongs to: a loan is made to it only
                                       while it is still the peer's (not reaped and reused) */
    shmipc_arena *from[2];    /* where loans to this side live: own[k] (shared provider), or
                                 views of the peer's arenas (lend provider; NULL: none) */
    struct shmipc_ctrl *ctrl; /* lend provider: where releases are reported */
    /* lend provider: make sure the peer can map data pool pool_id of own[kind] before a
     * blob that names it leaves; and read control messages that may announce a pool,
     * waiting up to timeout_ms for one. */
    int (*announce)(void *sess, int kind, uint64_t pool_id);
    /* ... and the pool `seg` (1..) of own[kind]'s refcount table a loan's records are in */
    int (*announce_table)(void *sess, int kind, unsigned seg);
    int (*poll_control)(void *sess, int timeout_ms); /* -1: no more can come */
    void *sess;
};

/* A loan as a session's own message ring carries it: the fields of its blob that vary.
 * The rest (magic, version, session id, provider, the arena's pool, the check value) the
 * ring implies: it belongs to the session. */
struct shmipc_loan_ref {
    uint64_t obj;  /* the object record in the arena's table */
    uint64_t size; /* the user's size */
    uint64_t loan; /* the loan's record */
    uint64_t gen;  /* the loan's generation */
    uint32_t kind; /* SHMIPC_ARENA_*: the lender's arena */
};

/* Lend o to the peer: the loan's fields (shmipc__lend: sealed into a blob). */
SHMIPC_HIDDEN int shmipc__lend_ref(const struct shmipc_lend_ctx *ctx, shmipc_obj *o,
                                   struct shmipc_loan_ref *out);
/* Borrow a loan that came in the session's ring: the blob's checks but those the ring
 * implies (shmipc__borrow: a blob, every check). */
SHMIPC_HIDDEN int shmipc__borrow_ref(const struct shmipc_lend_ctx *ctx,
                                     const struct shmipc_loan_ref *r, shmipc_obj **out);
SHMIPC_HIDDEN int shmipc__lend(const struct shmipc_lend_ctx *ctx, shmipc_obj *o,
                               shmipc_blob *out);
SHMIPC_HIDDEN int shmipc__borrow(const struct shmipc_lend_ctx *ctx, const shmipc_blob *b,
                                 shmipc_obj **out);
/* Report a loan of the lend provider that came in the ring as released without
 * borrowing it (the owner checks the report against what it lent us). */
SHMIPC_HIDDEN void shmipc__loan_ref_release(const struct shmipc_lend_ctx *ctx,
                                            const struct shmipc_loan_ref *r);
/* Recompute a blob's check value: what a peer that knows the session key can do (tests
 * forge blobs with it, to prove validation does not rest on the check value alone). */
SHMIPC_HIDDEN void shmipc__blob_reseal(const struct shmipc_lend_ctx *ctx, shmipc_blob *b);
/* session.c: the lending context of a session. */
SHMIPC_HIDDEN const struct shmipc_lend_ctx *shmipc__session_lend_ctx(const shmipc_session *s);

#endif
