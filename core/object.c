/* object.c — shmipc_obj, the process-local handle of an object (one count in the arena's
 * refcount table, plus a local reference count), and the lend blob: its format, the keyed
 * check value, and its validation against what the session knows before any byte it names
 * is touched. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "object.h"

#define BLOB_MAGIC 0x42504d53u /* "SMPB" */
#define BLOB_VERSION 1

struct shmipc_obj {
    atomic_long refs;
    shmipc_arena *arena; /* referenced: keeps the pool mapped */
    uint64_t hold;       /* this handle's record in the refcount table */
    void *ptr;
    size_t size;
};

/* The blob's fields; the last word is a keyed hash of the others. */
struct blob_fields {
    uint32_t magic;
    uint8_t version;
    uint8_t provider;
    uint8_t arena_kind;
    uint8_t reserved;
    uint64_t session_id;
    uint64_t pool_id;
    uint64_t obj;  /* payload offset of the object header in the pool */
    uint64_t size; /* the user's size */
    uint64_t loan; /* the loan's record */
    uint64_t gen;  /* the loan's generation */
    uint64_t check;
};
_Static_assert(sizeof(struct blob_fields) == SHMIPC_BLOB_SIZE, "blob size");

static int wrap(shmipc_arena *a, uint64_t hold, shmipc_obj **out)
{
    shmipc_obj *o = malloc(sizeof *o);
    uint64_t size, obj;

    if (!o)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for an object handle");
    obj = shmipc__hold_obj(a, hold, &size);
    atomic_init(&o->refs, 1);
    o->arena = shmipc__arena_ref(a);
    o->hold = hold;
    o->ptr = arena_at(a, obj + SHMIPC_OBJ_HDR);
    o->size = (size_t)size;
    *out = o;
    return 0;
}

int shmipc_obj_new(shmipc_arena *a, size_t size, shmipc_obj **out)
{
    uint64_t hold;
    int rc;

    if (!a || !out)
        return shmipc__fail(SHMIPC_EINVAL, "arena or out is NULL");
    if ((rc = shmipc__obj_alloc(a, size, &hold)) != 0)
        return rc;
    if ((rc = wrap(a, hold, out)) != 0)
        shmipc__hold_release(a, hold);
    return rc;
}

void *shmipc_obj_ptr(const shmipc_obj *o)
{
    return o ? o->ptr : NULL;
}

size_t shmipc_obj_size(const shmipc_obj *o)
{
    return o ? o->size : 0;
}

int shmipc_obj_writable(const shmipc_obj *o)
{
    return o ? shmipc_pool_writable(o->arena->pool) : 0;
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
    shmipc__hold_release(o->arena, o->hold);
    shmipc_arena_close(o->arena);
    free(o);
}

/* ---- blobs ------------------------------------------------------------------------- */

static uint64_t blob_check(const struct blob_fields *f, uint64_t key)
{
    uint64_t words[SHMIPC_BLOB_SIZE / 8 - 1], h = key ^ UINT64_C(0x9e3779b97f4a7c15);

    memcpy(words, f, sizeof words);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        h = (h ^ words[i]) * UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 31;
    }
    return (h ^ (h >> 29)) * UINT64_C(0x94d049bb133111eb);
}

int shmipc__lend(const struct shmipc_lend_ctx *ctx, shmipc_obj *o, shmipc_blob *out)
{
    struct blob_fields f;
    int kind;
    uint64_t loan, gen, size;
    int rc;

    for (kind = 0; kind < 2; kind++)
        if (ctx->arenas[kind] && ctx->arenas[kind]->pool->id == o->arena->pool->id)
            break;
    if (kind == 2)
        return shmipc__fail(SHMIPC_EINVAL, "the object lives in an arena this session's peer "
                            "does not map (only the session and app arenas can be lent)");
    if ((rc = shmipc__hold_lend(o->arena, o->hold, ctx->peer_ep[kind], &loan, &gen)) != 0)
        return rc;
    memset(&f, 0, sizeof f);
    f.magic = BLOB_MAGIC;
    f.version = BLOB_VERSION;
    f.provider = SHMIPC_PROVIDER_SHARED;
    f.arena_kind = (uint8_t)kind;
    f.session_id = ctx->session_id;
    f.pool_id = o->arena->pool->id;
    f.obj = shmipc__hold_obj(o->arena, o->hold, &size);
    f.size = size;
    f.loan = loan;
    f.gen = gen;
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

/* Everything that can be checked without the arena's lock. */
static int validate(const struct shmipc_lend_ctx *ctx, const struct blob_fields *f)
{
    const shmipc_arena *a;
    uint64_t room;

    if (f->magic != BLOB_MAGIC || f->reserved != 0 || f->arena_kind > 1)
        return shmipc__fail(SHMIPC_EBADBLOB, "not a lend blob (bad magic or fields)");
    if (f->version != BLOB_VERSION)
        return shmipc__fail(SHMIPC_EBADBLOB, "blob version %u, this library reads %d",
                            f->version, BLOB_VERSION);
    if (f->session_id != ctx->session_id)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob was lent in another session");
    if (f->check != blob_check(f, ctx->key))
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob's check value is wrong (damaged or "
                            "forged)");
    if (f->provider != SHMIPC_PROVIDER_SHARED)
        return shmipc__fail(SHMIPC_EBADBLOB, "blob of provider %u in a shared session",
                            f->provider);
    a = ctx->arenas[f->arena_kind];
    if (!a || f->pool_id != a->pool->id)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob names a pool this session does not "
                            "share");
    room = a->crit.size;
    if (f->obj % 16 || f->loan % 16 || f->obj >= room || f->loan >= room ||
        room - f->obj < SHMIPC_OBJ_HDR || f->size > room - f->obj - SHMIPC_OBJ_HDR)
        return shmipc__fail(SHMIPC_EBADBLOB, "the blob points outside its pool");
    return 0;
}

int shmipc__borrow(const struct shmipc_lend_ctx *ctx, const shmipc_blob *b, shmipc_obj **out)
{
    struct blob_fields f;
    shmipc_arena *a;
    int rc;

    memcpy(&f, b->bytes, sizeof f);
    if ((rc = validate(ctx, &f)) != 0)
        return rc;
    a = ctx->arenas[f.arena_kind];
    if ((rc = shmipc__hold_borrow(a, f.loan, f.gen, f.obj, f.size)) != 0)
        return rc;
    if ((rc = wrap(a, f.loan, out)) != 0)
        shmipc__hold_release(a, f.loan);
    return rc;
}
