/* object.h — what sessions need from objects: lending and borrowing with a session's
 * context (its id and key, the arenas it shares, the peer's endpoint in each). */
#ifndef SHMIPC_OBJECT_H
#define SHMIPC_OBJECT_H

#include "internal.h"

enum { SHMIPC_ARENA_SESSION = 0, SHMIPC_ARENA_APP = 1 };

struct shmipc_lend_ctx {
    uint64_t session_id;
    uint64_t key;                /* secret of the session: the blob's check value is keyed */
    shmipc_arena *arenas[2];     /* session arena, app arena (this side's handles) */
    uint32_t peer_ep[2];         /* the peer's endpoint in each */
};

SHMIPC_HIDDEN int shmipc__lend(const struct shmipc_lend_ctx *ctx, shmipc_obj *o,
                               shmipc_blob *out);
SHMIPC_HIDDEN int shmipc__borrow(const struct shmipc_lend_ctx *ctx, const shmipc_blob *b,
                                 shmipc_obj **out);
/* Recompute a blob's check value: what a peer that knows the session key can do (tests
 * forge blobs with it, to prove validation does not rest on the check value alone). */
SHMIPC_HIDDEN void shmipc__blob_reseal(const struct shmipc_lend_ctx *ctx, shmipc_blob *b);
/* session.c: the lending context of a session. */
SHMIPC_HIDDEN const struct shmipc_lend_ctx *shmipc__session_lend_ctx(const shmipc_session *s);

#endif
