/* object.c — shmipc_obj, the process-local handle of an object, and the lend blob.
 *
 * A handle holds one count on its object, with its own local reference count on top:
 *   - an object of a shared arena, or one its owner made in a lend arena: the handle's
 *     record in the arena's refcount table;
 *   - an object borrowed from a peer's lend arena (through a read-only view): the loan,
 *     which stays the owner's record; dropping the handle reports the release to the owner
 *     through the session's release ring (nothing is written to the owner's memory).
 * The blob (64 bytes: the fields below and a keyed check value) is validated against what
 * the session knows before any byte it names is touched. */
#include <stdlib.h>
#include <string.h>

#include "relring.h"
#include "lend.h"
#include "object.h"

#define BLOB_MAGIC 0x42504d53u /* "SMPB" */
#define BLOB_VERSION 1

struct shmipc_obj {
    atomic_long refs;
    shmipc_arena *arena; /* referenced: keeps its pools mapped */
    uint64_t hold;       /* this handle's record, or (borrowed from a view) the loan */
    void *ptr;
    size_t size;
    int writable;
    unsigned fork_gen; /* shmipc__fork_gen_now() when made */
    /* borrowed from a peer's lend arena: */
    uint64_t gen;
    int kind;
    struct shmipc_ctrl *ctrl;       /* where the release is reported */
    struct shmipc_view_pool *vpool; /* the mapping the bytes are in */
};

/* The blob's fields; the last word is a keyed hash of the others. */
struct blob_fields {
    uint32_t magic;
    uint8_t version;
    uint8_t provider;
    uint8_t arena_kind; /* SHMIPC_ARENA_*: the lender's session or app arena */
    uint8_t reserved;
    uint64_t session_id;
    uint64_t pool_id; /* the pool of the arena's table (shared provider: the arena's pool) */
    uint64_t obj;     /* offset of the object record in that pool */
    uint64_t size;    /* the user's size */
    uint64_t loan;    /* the loan's record */
    uint64_t gen;     /* the loan's generation */
    uint64_t check;
};
_Static_assert(sizeof(struct blob_fields) == SHMIPC_BLOB_SIZE, "blob size");

/* A handle in memory o (NULL: out of memory). */
static shmipc_obj *handle_init(shmipc_obj *o, shmipc_arena *a, uint64_t hold, void *ptr,
                               size_t size, int writable)
{
    if (!o) {
        shmipc__fail(SHMIPC_ENOMEM, "out of memory for an object handle");
        return NULL;
    }
    *o = (shmipc_obj){.arena = shmipc__arena_ref(a),
                      .hold = hold,
                      .ptr = ptr,
                      .size = size,
                      .writable = writable,
                      .fork_gen = a->pool->fork_gen}; /* a is never inherited here */
    atomic_init(&o->refs, 1);
    return o;
}

/* A handle on the record `hold` of arena a (shared, or the owner's lend arena). */
static int wrap_record(shmipc_arena *a, uint64_t hold, shmipc_obj **out)
{
    struct shmipc_payload pl;
    void *ptr;

    shmipc__hold_obj(a, hold, &pl);
    ptr = a->ops->payload_ptr(a, &pl);
    /* not calloc: malloc's thread cache serves it */
    *out = handle_init(malloc(sizeof **out), a, hold, ptr, (size_t)pl.size, 1);
    return *out ? 0 : SHMIPC_ENOMEM;
}

int shmipc_obj_new(shmipc_arena *a, size_t size, shmipc_obj **out)
{
    uint64_t hold;
    int rc;

    if (!a || !out)
        return shmipc__fail(SHMIPC_EINVAL, "arena or out is NULL");
    if (size == 0)
        return shmipc__fail(SHMIPC_EINVAL, "object of size 0");
    if ((rc = ARENA_NOT_INHERITED(a, "shmipc_obj_new")) != 0)
        return rc;
    if ((rc = a->ops->obj_new(a, size, &hold)) != 0)
        return rc;
    if ((rc = wrap_record(a, hold, out)) != 0)
        shmipc__hold_release(a, hold);
    return rc;
}

void *shmipc_obj_ptr(const shmipc_obj *o)
{
    if (o && shmipc__inherited(o->fork_gen)) {
        shmipc__fail_inherited("shmipc_obj_ptr: object");
        return NULL;
    }
    return o ? o->ptr : NULL;
}

size_t shmipc_obj_size(const shmipc_obj *o)
{
    return o ? o->size : 0;
}

int shmipc_obj_writable(const shmipc_obj *o)
{
    return o && !shmipc__inherited(o->fork_gen) ? o->writable : 0;
}

shmipc_obj *shmipc_obj_ref(shmipc_obj *o)
{
    if (o)
        atomic_fetch_add(&o->refs, 1);
    return o;
}

void shmipc_obj_unref(shmipc_obj *o)
{
    if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
        return;
    if (shmipc__inherited(o->fork_gen)) { /* a child's copy: the count is the parent's */
        if (o->vpool) /* the child's copy of its pool's count (no lock taken) */
            shmipc__view_unmap(o->vpool);
        shmipc__ctrl_unref(o->ctrl);
    } else if (o->ctrl) { /* borrowed from a peer's lend arena: tell the owner */
        struct shmipc_ctrl *c = o->ctrl;
        shmipc__release_push(c, o->kind, o->hold, o->gen);
        shmipc__view_unmap(o->vpool);
        shmipc_arena_close(o->arena);
        shmipc__ctrl_keep(c, o); /* for the next borrow's handle */
        shmipc__ctrl_unref(c);
        return;
    } else {
        shmipc__hold_release(o->arena, o->hold);
    }
    shmipc_arena_close(o->arena);
    free(o);
}

/* ---- blobs ------------------------------------------------------------------------- */

static uint64_t blob_check(const struct blob_fields *f, uint64_t key)
{
    uint64_t words[SHMIPC_BLOB_SIZE / 8 - 1], h = key ^ UINT64_C(0x9e3779b97f4a7c15);

    memcpy(words, f, sizeof words);
#pragma GCC unroll 8 /* every lend and borrow runs it: no loop overhead, words in registers */
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        h = (h ^ words[i]) * UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 31;
    }
    return (h ^ (h >> 29)) * UINT64_C(0x94d049bb133111eb);
}

/* Which of the session's arenas o lives in: SHMIPC_ARENA_*, or -1. */
static int kind_of(const struct shmipc_lend_ctx *ctx, const shmipc_obj *o)
{
    for (int kind = 0; kind < 2; kind++)
        if (ctx->own[kind] && ctx->own[kind]->pool->id == o->arena->pool->id)
            return kind;
    return -1;
}

/* Record a loan of o (its object record obj, its bytes pl) to the peer; for the lend
 * provider, announce its pool first. */
static int record_loan(const struct shmipc_lend_ctx *ctx, int kind, shmipc_obj *o, uint64_t obj,
                       const struct shmipc_payload *pl, uint64_t *loan, uint64_t *gen)
{
    shmipc_arena *a = ctx->own[kind];
    int rc;

    if (pl->pool_id != a->pool->id && (rc = ctx->announce(ctx->sess, kind, pl->pool_id)) != 0)
        return rc; /* its bytes are in a data pool: the peer must know it first */
    if (ctx->ctrl)
        shmipc__release_expect(ctx->ctrl, kind);
    if ((rc = shmipc__hold_lend(a, o->hold, ctx->peer_ep[kind], &ctx->peer_id[kind], loan,
                                gen)) != 0)
        return rc;
    /* a grown table: the peer must know the table pools of both records too */
    unsigned segs[2] = {table_seg(*loan), table_seg(obj)};
    for (int i = 0; i < 2 && rc == 0; i++)
        if (segs[i])
            rc = ctx->announce_table(ctx->sess, kind, segs[i]);
    return rc;
}

int shmipc__lend_ref(const struct shmipc_lend_ctx *ctx, shmipc_obj *o,
                     struct shmipc_loan_ref *out)
{
    struct shmipc_payload pl;
    int kind, rc;

    if (shmipc__inherited(o->fork_gen))
        return shmipc__fail_inherited("object");
    if (o->ctrl)
        return shmipc__fail(SHMIPC_ENOTSUP, "a borrowed object of the lend provider cannot "
                                            "be lent on: only its owner lends it");
    if ((kind = kind_of(ctx, o)) < 0)
        return shmipc__fail(SHMIPC_EINVAL,
                            "the object lives in an arena this session's peer "
                            "does not map (only the session and app arenas can be lent)");
    out->obj = shmipc__hold_obj(ctx->own[kind], o->hold, &pl);
    if ((rc = record_loan(ctx, kind, o, out->obj, &pl, &out->loan, &out->gen)) != 0)
        return rc;
    out->size = pl.size;
    out->kind = (uint32_t)kind;
    return 0;
}

int shmipc__lend(const struct shmipc_lend_ctx *ctx, shmipc_obj *o, shmipc_blob *out)
{
    struct shmipc_loan_ref r;
    int rc = shmipc__lend_ref(ctx, o, &r);

    if (rc != 0)
        return rc;
    struct blob_fields f = {.magic = BLOB_MAGIC,
                            .version = BLOB_VERSION,
                            .provider = (uint8_t)ctx->provider,
                            .arena_kind = (uint8_t)r.kind,
                            .session_id = ctx->session_id,
                            .pool_id = ctx->own[r.kind]->pool->id,
                            .obj = r.obj,
                            .size = r.size,
                            .loan = r.loan,
                            .gen = r.gen};
    f.check = blob_check(&f, ctx->key);
    memcpy(out->bytes, &f, sizeof f);
    return 0;
}

void shmipc__blob_reseal(const struct shmipc_lend_ctx *ctx, shmipc_blob *b)
{
    struct blob_fields f;

    memcpy(&f, b->bytes, sizeof f);
    f.check = blob_check(&f, ctx->key);
    memcpy(b->bytes, &f, sizeof f);
}

/* Everything about a loan that can be checked without touching the arena. */
static int validate_ref(const struct shmipc_lend_ctx *ctx, const struct shmipc_loan_ref *r)
{
    const shmipc_arena *a = r->kind <= 1 ? ctx->from[r->kind] : NULL;
    uint64_t room;

    if (!a)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob names a pool this session does not "
                                             "share");
    room = a->crit.size;
    if (r->obj % 16 || r->loan % 16 || r->size == 0)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob points outside its pool");
    /* A shared arena's records and bytes are in its pool; a view's records may be in any
     * pool of the peer's table, and the view checks every read of them. */
    if (a->ops->writable &&
        (r->obj >= room || r->loan >= room || room - r->obj < SHMIPC_OBJ_HDR ||
         r->size > room - r->obj - SHMIPC_OBJ_HDR)) /* bytes inline */
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob points outside its pool");
    return 0;
}

/* A blob's own fields (what a session's ring implies), then its loan: into *r. */
static int validate(const struct shmipc_lend_ctx *ctx, const shmipc_blob *b,
                    struct shmipc_loan_ref *r)
{
    struct blob_fields f;
    const shmipc_arena *a;

    memcpy(&f, b->bytes, sizeof f);
    if (f.magic != BLOB_MAGIC || f.reserved != 0 || f.arena_kind > 1)
        return shmipc__fail(SHMIPC_EBADBLOB, "not a lend blob (bad magic or fields)");
    if (f.version != BLOB_VERSION)
        return shmipc__fail(SHMIPC_EBADBLOB, "blob version %u, this library reads %d",
                            f.version, BLOB_VERSION);
    if (f.session_id != ctx->session_id)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob was lent in another session");
    if (f.check != blob_check(&f, ctx->key))
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob's check value is wrong (damaged or "
                                             "forged)");
    if (f.provider != ctx->provider)
        return shmipc__fail(SHMIPC_EBADBLOB, "blob of provider %u in a session of provider %d",
                            f.provider, ctx->provider);
    a = ctx->from[f.arena_kind];
    if (!a || f.pool_id != a->pool->id)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob names a pool this session does not "
                                             "share");
    *r = (struct shmipc_loan_ref){
        .obj = f.obj, .size = f.size, .loan = f.loan, .gen = f.gen, .kind = f.arena_kind};
    return validate_ref(ctx, r);
}

void shmipc__loan_ref_release(const struct shmipc_lend_ctx *ctx,
                              const struct shmipc_loan_ref *r)
{
    if (validate_ref(ctx, r) == 0 && !ctx->from[r->kind]->ops->writable) /* a peer's */
        shmipc__release_push(ctx->ctrl, (int)r->kind, r->loan, r->gen);
}

static int borrow_shared(shmipc_arena *a, const struct shmipc_loan_ref *f, shmipc_obj **out)
{
    int rc = shmipc__hold_borrow(a, f->loan, f->gen, f->obj, f->size);

    if (rc == 0 && (rc = wrap_record(a, f->loan, out)) != 0)
        shmipc__hold_release(a, f->loan);
    return rc;
}

/* What a borrow looks up in the peer's pools: its records in the table (map == 0) or its
 * bytes, claimed for this borrow. */
struct lookup {
    shmipc_arena *v;
    const struct shmipc_loan_ref *f;
    struct shmipc_payload *pl;
    const void **ptr;
    struct shmipc_view_pool **vp;
    int map;
};

static inline int look_up(const struct lookup *l)
{
    return l->map ? shmipc__view_map(l->v, l->pl, l->f->loan, l->f->gen, l->ptr, l->vp)
                  : shmipc__loan_peek(l->v, l->f->loan, l->f->gen, l->v->ep, l->f->obj, l->pl);
}

/* await_pools once the first look found a pool new to us: apart, so that the usual case
 * saves no registers. */
static __attribute__((noinline)) int await_more(const struct shmipc_lend_ctx *ctx,
                                                const struct lookup *l)
{
    uint64_t deadline;
    int rc = SHMIPC_ENOENT;

    deadline = shmipc__now_ns() + (uint64_t)SHMIPC_POOL_WAIT_MS * 1000000u;
    for (int ms = 0; rc == SHMIPC_ENOENT && ms >= 0;) {
        int more = ctx->poll_control(ctx->sess, ms) == 0;
        rc = look_up(l);
        ms = more ? (int)((int64_t)(deadline - shmipc__now_ns()) / 1000000) : -1;
    }
    if (rc == SHMIPC_ENOENT)
        rc = shmipc__fail(SHMIPC_EBADBLOB, "the blob names a pool the peer never announced");
    return rc;
}

/* Look up, reading the peer's announcements while a pool is new to us (ENOENT): it was
 * sent before the blob, but may still wait for room in the peer (SHMIPC_POOL_WAIT_MS at
 * most). */
static inline int await_pools(const struct shmipc_lend_ctx *ctx, const struct lookup *l)
{
    int rc = look_up(l);

    return SHMIPC_LIKELY(rc != SHMIPC_ENOENT) ? rc : await_more(ctx, l); /* no clock read */
}

static int borrow_view(const struct shmipc_lend_ctx *ctx, shmipc_arena *v,
                       const struct shmipc_loan_ref *f, shmipc_obj **out)
{
    struct shmipc_payload pl;
    struct shmipc_view_pool *vp;
    const void *ptr;
    struct lookup l = {v, f, &pl, &ptr, &vp, 0};
    shmipc_obj *o;
    int rc;

    if ((rc = await_pools(ctx, &l)) != 0)
        return rc;
    if (pl.size != f->size)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob does not match its loan");
    l.map = 1;
    if ((rc = await_pools(ctx, &l)) != 0)
        return rc;
    o = shmipc__ctrl_take(ctx->ctrl); /* a dropped handle's memory, if one was kept */
    if (!(o = handle_init(o ? o : malloc(sizeof *o), v, f->loan, (void *)ptr, (size_t)pl.size,
                          0))) {
        shmipc__view_unmap(vp);
        return SHMIPC_ENOMEM;
    }
    o->gen = f->gen;
    o->kind = (int)f->kind;
    o->vpool = vp;
    o->ctrl = shmipc__ctrl_ref(ctx->ctrl);
    *out = o;
    return 0;
}

/* Borrow a validated loan: the peer's lend arena, read-only here, or the shared arena of
 * both. */
static int borrow(const struct shmipc_lend_ctx *ctx, const struct shmipc_loan_ref *r,
                  shmipc_obj **out)
{
    shmipc_arena *a = ctx->from[r->kind];

    return a->ops->writable ? borrow_shared(a, r, out) : borrow_view(ctx, a, r, out);
}

int shmipc__borrow_ref(const struct shmipc_lend_ctx *ctx, const struct shmipc_loan_ref *r,
                       shmipc_obj **out)
{
    int rc = validate_ref(ctx, r);

    return rc != 0 ? rc : borrow(ctx, r, out);
}

int shmipc__borrow(const struct shmipc_lend_ctx *ctx, const shmipc_blob *b, shmipc_obj **out)
{
    struct shmipc_loan_ref r;
    int rc = validate(ctx, b, &r);

    return rc != 0 ? rc : borrow(ctx, &r, out);
}
