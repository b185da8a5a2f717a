/* named.c — named allocations inside a shared arena (Umpire's SHARED resource): a hashed
 * directory from name to allocation, find-or-create atomic across processes under the
 * arena's lock, with a reference count per name. Entries and the bucket array live in the
 * arena's own heap, so the directory survives any process and is undo-logged like it. */
#include <string.h>

#include "arena.h"

#define NAME_WORDS ((SHMIPC_NAME_MAX + 1) / 8)

struct named_entry {
    uint64_t next; /* next entry of the bucket chain, 0 = end */
    uint64_t data; /* payload offset of the allocation */
    uint64_t size; /* size asked for at creation */
    uint64_t refs;
    uint64_t hash;
    uint64_t name[NAME_WORDS]; /* NUL-padded */
};

static uint64_t hash_name(const char *name)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t *buckets(shmipc_arena *a)
{
    return arena_at(a, a->hdr->dir_buckets);
}

static struct named_entry *entry_at(shmipc_arena *a, uint64_t off)
{
    return arena_at(a, off);
}

/* The slot (a bucket or an entry's next field) that points at the entry `name`; its value
 * is 0 when there is no such entry. */
static uint64_t *find_slot(shmipc_arena *a, const char *name, uint64_t hash)
{
    uint64_t *slot = &buckets(a)[hash & (a->hdr->dir_count - 1)];

    while (*slot) {
        struct named_entry *e = entry_at(a, *slot);
        if (e->hash == hash && strncmp((const char *)e->name, name, sizeof e->name) == 0)
            break;
        slot = &e->next;
    }
    return slot;
}

int shmipc__named_init(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t count = 64, off;
    int rc;

    while (count < 65536 && count * (64u << 10) < h->heap_end - h->heap_start)
        count *= 2;
    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    off = shmipc__tlsf_alloc(a, count * sizeof(uint64_t));
    shmipc__arena_unlock(a);
    if (!off)
        return shmipc__fail(SHMIPC_ENOMEM, "arena too small for its name directory");
    memset(arena_at(a, off), 0, count * sizeof(uint64_t));
    h->dir_buckets = off;
    h->dir_count = count;
    return 0;
}

static int check_args(shmipc_arena *a, const char *name)
{
    int rc = !a ? shmipc__fail(SHMIPC_EINVAL, "arena is NULL")
             : !a->ops->named ? shmipc__fail(SHMIPC_ENOTSUP, "named allocations: only shared "
                                            "arenas have them (this is %s)", a->ops->what)
             : 0;

    if (rc == 0)
        rc = ARENA_NOT_INHERITED(a, "named allocations");
    return rc ? rc : shmipc__check_name(name, "allocation");
}

/* Under the lock: make the entry for a new allocation; its payload offset, or 0 if full. */
static uint64_t create_entry(shmipc_arena *a, const char *name, uint64_t hash, size_t size,
                             uint64_t *slot)
{
    uint64_t words[NAME_WORDS] = {0};
    uint64_t eoff = shmipc__tlsf_alloc(a, sizeof(struct named_entry));
    uint64_t doff = eoff ? shmipc__tlsf_alloc(a, size) : 0;
    struct named_entry *e;

    if (!doff) {
        if (eoff)
            shmipc__tlsf_free(a, eoff);
        return 0;
    }
    e = entry_at(a, eoff);
    memcpy(words, name, strlen(name));
    /* Fresh memory may hold a freed block's links: log these stores too. */
    arena_store(a, &e->next, 0);
    arena_store(a, &e->data, doff);
    arena_store(a, &e->size, size);
    arena_store(a, &e->refs, 1);
    arena_store(a, &e->hash, hash);
    for (unsigned i = 0; i < NAME_WORDS; i++)
        arena_store(a, &e->name[i], words[i]);
    arena_store(a, slot, eoff);
    arena_store(a, &a->hdr->named, a->hdr->named + 1);
    return doff;
}

int shmipc_named_alloc(shmipc_arena *a, const char *name, size_t size, void **out)
{
    uint64_t hash, *slot, doff;
    int rc;

    if ((rc = check_args(a, name)) != 0)
        return rc;
    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if (size == 0)
        return shmipc__fail(SHMIPC_EINVAL, "named allocation '%s' of size 0", name);
    hash = hash_name(name);
    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    slot = find_slot(a, name, hash);
    if (*slot) {
        struct named_entry *e = entry_at(a, *slot);
        if (e->size != size) {
            rc = shmipc__fail(SHMIPC_EEXIST, "'%s' exists with size %llu, asked for %zu", name,
                              (unsigned long long)e->size, size);
        } else {
            arena_store(a, &e->refs, e->refs + 1);
            *out = arena_at(a, e->data);
        }
    } else if ((doff = create_entry(a, name, hash, size, slot)) != 0) {
        *out = arena_at(a, doff);
        rc = 1;
    } else {
        rc = shmipc__fail(SHMIPC_ENOMEM, "arena has no room for '%s' (%zu bytes)", name, size);
    }
    shmipc__arena_unlock(a);
    return rc;
}

int shmipc_named_find(shmipc_arena *a, const char *name, void **out, size_t *size)
{
    uint64_t *slot;
    int rc;

    if ((rc = check_args(a, name)) != 0)
        return rc;
    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    slot = find_slot(a, name, hash_name(name));
    if (*slot) {
        struct named_entry *e = entry_at(a, *slot);
        *out = arena_at(a, e->data);
        if (size)
            *size = e->size;
    } else {
        rc = shmipc__fail(SHMIPC_ENOENT, "no allocation named '%s'", name);
    }
    shmipc__arena_unlock(a);
    return rc;
}

int shmipc_named_free(shmipc_arena *a, const char *name)
{
    uint64_t *slot;
    int rc;

    if ((rc = check_args(a, name)) != 0)
        return rc;
    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    slot = find_slot(a, name, hash_name(name));
    if (*slot) {
        uint64_t eoff = *slot;
        struct named_entry *e = entry_at(a, eoff);
        arena_store(a, &e->refs, e->refs - 1);
        if (e->refs == 0) {
            arena_store(a, slot, e->next);
            shmipc__tlsf_free(a, e->data);
            shmipc__tlsf_free(a, eoff);
            arena_store(a, &a->hdr->named, a->hdr->named - 1);
        }
    } else {
        rc = shmipc__fail(SHMIPC_ENOENT, "no allocation named '%s'", name);
    }
    shmipc__arena_unlock(a);
    return rc;
}

static int bad_entry(uint64_t off, const char *what)
{
    return shmipc__fail(SHMIPC_ECORRUPT, "arena check: named entry at offset %llu: %s",
                        (unsigned long long)off, what);
}

static int check_entry(shmipc_arena *a, uint64_t off, uint64_t bucket)
{
    struct named_entry *e;

    if (!shmipc__tlsf_is_live(a, off) || shmipc__tlsf_payload_size(a, off) < sizeof *e)
        return bad_entry(off, "not a live allocation");
    e = entry_at(a, off);
    if (memchr(e->name, '\0', sizeof e->name) == NULL || e->refs == 0 ||
        e->hash != hash_name((const char *)e->name) ||
        (e->hash & (a->hdr->dir_count - 1)) != bucket)
        return bad_entry(off, "bad name, hash or reference count");
    if (!shmipc__tlsf_is_live(a, e->data) || shmipc__tlsf_payload_size(a, e->data) < e->size)
        return bad_entry(off, "its allocation is not live");
    return 0;
}

int shmipc__named_check(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t seen = 0;
    int rc;

    if (h->dir_count == 0 || (h->dir_count & (h->dir_count - 1)) ||
        !shmipc__tlsf_is_live(a, h->dir_buckets) ||
        shmipc__tlsf_payload_size(a, h->dir_buckets) < h->dir_count * sizeof(uint64_t))
        return bad_entry(h->dir_buckets, "bucket array is not a live allocation");
    for (uint64_t i = 0; i < h->dir_count; i++) {
        for (uint64_t off = buckets(a)[i]; off; off = entry_at(a, off)->next) {
            if (seen++ >= h->allocations)
                return bad_entry(off, "cycle in a bucket chain");
            if ((rc = check_entry(a, off, i)) != 0)
                return rc;
        }
    }
    if (seen != h->named)
        return shmipc__fail(SHMIPC_ECORRUPT, "arena check: %llu named entries, counter says %llu",
                            (unsigned long long)seen, (unsigned long long)h->named);
    return 0;
}

/* One entry at off, copied word by word as its owner may be writing it. */
static void peek_entry(shmipc_arena *a, uint64_t off, struct shmipc_inspect_name *out)
{
    const struct named_entry *e = entry_at(a, off);
    uint64_t w;

    for (size_t i = 0; i < NAME_WORDS; i++) {
        w = arena_peek(&e->name[i]);
        memcpy(out->name + 8 * i, &w, sizeof w);
    }
    out->name[sizeof out->name - 1] = '\0';
    out->size = arena_peek(&e->size);
    out->refs = arena_peek(&e->refs);
}

int shmipc__named_snapshot(shmipc_arena *a, struct shmipc_inspect_name *out, size_t cap,
                           size_t *n)
{
    uint64_t count = arena_peek(&a->hdr->dir_count), table = arena_peek(&a->hdr->dir_buckets);

    *n = 0;
    if (count == 0 || (count & (count - 1)) || count > SIZE_MAX / sizeof(uint64_t) ||
        !arena_inside(a, table, count * sizeof(uint64_t)))
        return shmipc__fail(SHMIPC_ECORRUPT, "no name directory in this arena");
    /* every entry read counts against cap: a chain changing under us cannot loop */
    for (uint64_t i = 0; i < count && *n < cap; i++) {
        uint64_t off = arena_peek((const uint64_t *)arena_at(a, table) + i);
        for (; off && *n < cap && arena_inside(a, off, sizeof(struct named_entry));
             off = arena_peek(&entry_at(a, off)->next))
            peek_entry(a, off, &out[(*n)++]);
    }
    return 0;
}
