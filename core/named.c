/* named.c — named allocations inside a shared arena (Umpire's SHARED resource): a hashed
 * directory from name to allocation, find-or-create atomic across processes under the
 * arena's lock, with a reference count per name. Entries and the bucket array live in the
 * arena's own heap, so the directory survives any process and is undo-logged like it; the
 * array grows and shrinks with the names by an incremental rehash (see "the incremental
 * resize" below). */
#include <string.h>

#include "arena.h"

#define NAME_WORDS ((SHMIPC_NAME_MAX + 1) / 8)
#define DIR_MIN 64          /* buckets of a new directory, and the fewest it shrinks to */
#define DIR_STEP_MOVES 8    /* entries one change of the directory moves in a resize ... */
#define DIR_STEP_BUCKETS 16 /* ... looking at this many old buckets at most */

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

/* The chain of `hash` in the bucket array at offset table of count buckets. */
static uint64_t *bucket(shmipc_arena *a, uint64_t table, uint64_t count, uint64_t hash)
{
    return (uint64_t *)arena_at(a, table) + (hash & (count - 1));
}

static struct named_entry *entry_at(shmipc_arena *a, uint64_t off)
{
    return arena_at(a, off);
}

static int resizing(const struct arena_hdr *h)
{
    return h->dir_next != 0;
}

/* The slot of the chain from *slot on that points at the entry `name`, else the chain's
 * last slot (value 0). */
static uint64_t *walk(shmipc_arena *a, uint64_t *slot, const char *name, uint64_t hash)
{
    while (*slot) {
        struct named_entry *e = entry_at(a, *slot);
        if (e->hash == hash && strncmp((const char *)e->name, name, sizeof e->name) == 0)
            break;
        slot = &e->next;
    }
    return slot;
}

/* The slot (a bucket or an entry's next field) that points at the entry `name`; its value
 * is 0 when there is no such entry, and a new one goes there. During a resize the old
 * buckets below dir_moved are empty (their entries are in the new array) and the one at
 * dir_moved is half moved: its names may be in either array, and new ones go to the new. */
static uint64_t *find_slot(shmipc_arena *a, const char *name, uint64_t hash)
{
    struct arena_hdr *h = a->hdr;
    uint64_t old = hash & (h->dir_count - 1), *slot;

    if (!resizing(h) || old >= h->dir_moved) {
        slot = walk(a, bucket(a, h->dir_buckets, h->dir_count, hash), name, hash);
        if (*slot || !resizing(h) || old > h->dir_moved)
            return slot;
    }
    return walk(a, bucket(a, h->dir_next, h->dir_next_count, hash), name, hash);
}

/* ---- the incremental resize ----------------------------------------------------------
 * Like Redis's dict: a new bucket array is allocated, and every later change of the
 * directory moves a few entries to it (a bounded number of logged stores: the undo log
 * holds SHMIPC_UNDO_MAX), until the old array is empty and freed. Every step is part of
 * one locked operation, so a holder killed in it is rolled back with the rest. */

/* Under the lock, during a resize: the new array's buckets that old bucket i feeds are
 * made empty when i becomes the bucket being moved (before, nothing can reach them). */
static void open_bucket(shmipc_arena *a, uint64_t i)
{
    struct arena_hdr *h = a->hdr;
    uint64_t *next = arena_at(a, h->dir_next);

    for (uint64_t j = i; j < h->dir_next_count; j += h->dir_count)
        arena_store(a, &next[j], 0);
}

/* The entry *from points at goes to the head of its chain in the new array. */
static void move_entry(shmipc_arena *a, uint64_t *from)
{
    struct arena_hdr *h = a->hdr;
    uint64_t off = *from;
    struct named_entry *e = entry_at(a, off);
    uint64_t *to = bucket(a, h->dir_next, h->dir_next_count, e->hash);

    arena_store(a, from, e->next);
    arena_store(a, &e->next, *to);
    arena_store(a, to, off);
}

/* The old array is empty: the new one replaces it. */
static void finish_resize(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;

    shmipc__tlsf_free(a, h->dir_buckets);
    arena_store(a, &h->dir_buckets, h->dir_next);
    arena_store(a, &h->dir_count, h->dir_next_count);
    arena_store(a, &h->dir_next, 0);
    arena_store(a, &h->dir_next_count, 0);
    arena_store(a, &h->dir_moved, 0);
}

/* Move up to DIR_STEP_MOVES entries, looking at up to DIR_STEP_BUCKETS old buckets. */
static void rehash_step(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t *old = arena_at(a, h->dir_buckets), i = h->dir_moved;
    int moves = DIR_STEP_MOVES;

    for (int n = 0; n < DIR_STEP_BUCKETS && i < h->dir_count; n++) {
        for (; old[i] && moves > 0; moves--)
            move_entry(a, &old[i]);
        if (old[i])
            break;
        if (++i < h->dir_count)
            open_bucket(a, i);
    }
    if (i == h->dir_count)
        finish_resize(a);
    else
        arena_store(a, &h->dir_moved, i);
}

/* The bucket count the directory should move to: twice as many once it holds more names
 * than buckets, a quarter once it holds fewer than one per eight; 0 if it is fine. */
static uint64_t wanted_count(const struct arena_hdr *h)
{
    if (h->named > h->dir_count)
        return h->dir_count * 2;
    if (h->dir_count > DIR_MIN && h->named < h->dir_count / 8)
        return h->dir_count / 4 > DIR_MIN ? h->dir_count / 4 : DIR_MIN;
    return 0;
}

/* Under the lock, after a name came or went: a step of the resize under way, or the start
 * of one when the directory is too full or too empty. An arena without room for the new
 * array keeps the old one (lookups only get slower) and tries again at the next change. */
static void tend(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t count, off;

    if (resizing(h)) {
        rehash_step(a);
        return;
    }
    if ((count = wanted_count(h)) == 0 ||
        (off = shmipc__tlsf_alloc(a, count * sizeof(uint64_t))) == 0)
        return;
    arena_store(a, &h->dir_next, off);
    arena_store(a, &h->dir_next_count, count);
    arena_store(a, &h->dir_moved, 0);
    open_bucket(a, 0);
}

int shmipc__named_init(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t off;
    int rc;

    if ((rc = shmipc__arena_lock(a)) != 0)
        return rc;
    off = shmipc__tlsf_alloc(a, DIR_MIN * sizeof(uint64_t));
    shmipc__arena_unlock(a);
    if (!off)
        return shmipc__fail(SHMIPC_ENOMEM, "arena too small for its name directory");
    memset(arena_at(a, off), 0, DIR_MIN * sizeof(uint64_t));
    h->dir_buckets = off;
    h->dir_count = DIR_MIN;
    return 0;
}

static int check_args(shmipc_arena *a, const char *name)
{
    int rc = !a               ? shmipc__fail(SHMIPC_EINVAL, "arena is NULL")
             : !a->ops->named ? shmipc__fail(SHMIPC_ENOTSUP,
                                             "named allocations: only shared "
                                             "arenas have them (this is %s)",
                                             a->ops->what)
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
        tend(a);
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
            tend(a);
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

/* An entry of chain `bucket` of an array of count buckets whose name's old bucket is at
 * most last_old (during a resize, the new array holds only names of buckets reached). */
static int check_entry(shmipc_arena *a, uint64_t off, uint64_t count, uint64_t bucket,
                       uint64_t last_old)
{
    struct named_entry *e;

    if (!shmipc__tlsf_is_live(a, off) || shmipc__tlsf_payload_size(a, off) < sizeof *e)
        return bad_entry(off, "not a live allocation");
    e = entry_at(a, off);
    if (memchr(e->name, '\0', sizeof e->name) == NULL || e->refs == 0 ||
        e->hash != hash_name((const char *)e->name) || (e->hash & (count - 1)) != bucket ||
        (e->hash & (a->hdr->dir_count - 1)) > last_old)
        return bad_entry(off, "bad name, hash, bucket or reference count");
    if (!shmipc__tlsf_is_live(a, e->data) || shmipc__tlsf_payload_size(a, e->data) < e->size)
        return bad_entry(off, "its allocation is not live");
    return 0;
}

/* The chain from head (see check_entry), its entries counted into *seen. */
static int check_chain(shmipc_arena *a, uint64_t head, uint64_t count, uint64_t bucket,
                       uint64_t last_old, uint64_t *seen)
{
    int rc;

    for (uint64_t off = head; off; off = entry_at(a, off)->next) {
        if ((*seen)++ >= a->hdr->allocations)
            return bad_entry(off, "cycle in a bucket chain");
        if ((rc = check_entry(a, off, count, bucket, last_old)) != 0)
            return rc;
    }
    return 0;
}

static int check_array(shmipc_arena *a, uint64_t off, uint64_t count)
{
    struct arena_hdr *h = a->hdr;

    if (count == 0 || (count & (count - 1)) ||
        count > (h->heap_end - h->heap_start) / sizeof(uint64_t) ||
        !shmipc__tlsf_is_live(a, off) ||
        shmipc__tlsf_payload_size(a, off) < count * sizeof(uint64_t))
        return bad_entry(off, "bucket array is not a live allocation");
    return 0;
}

/* During a resize: the old buckets below dir_moved are empty, and the new array's chains
 * that they and the one at dir_moved feed hold only their names. */
static int check_resize(shmipc_arena *a, uint64_t *seen)
{
    struct arena_hdr *h = a->hdr;
    uint64_t *old = arena_at(a, h->dir_buckets), *next = arena_at(a, h->dir_next);
    int rc;

    if ((rc = check_array(a, h->dir_next, h->dir_next_count)) != 0)
        return rc;
    if (h->dir_moved >= h->dir_count || h->dir_next_count == h->dir_count)
        return bad_entry(h->dir_next, "resize state out of range");
    for (uint64_t i = 0; i < h->dir_moved; i++)
        if (old[i])
            return bad_entry(old[i], "left in a bucket already moved");
    for (uint64_t j = 0; j < h->dir_next_count; j++)
        if ((j & (h->dir_count - 1)) <= h->dir_moved &&
            (rc = check_chain(a, next[j], h->dir_next_count, j, h->dir_moved, seen)) != 0)
            return rc;
    return 0;
}

int shmipc__named_check(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t seen = 0, *old = arena_at(a, h->dir_buckets);
    int rc;

    if ((rc = check_array(a, h->dir_buckets, h->dir_count)) != 0)
        return rc;
    if (resizing(h) ? (rc = check_resize(a, &seen)) != 0 : h->dir_next_count || h->dir_moved)
        return rc ? rc : bad_entry(h->dir_buckets, "resize state without a new array");
    for (uint64_t i = h->dir_moved; i < h->dir_count; i++)
        if ((rc = check_chain(a, old[i], h->dir_count, i, h->dir_count - 1, &seen)) != 0)
            return rc;
    if (seen != h->named)
        return shmipc__fail(SHMIPC_ECORRUPT,
                            "arena check: %llu named entries, counter says %llu",
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

struct snapshot {
    struct shmipc_inspect_name *out;
    size_t cap, n;
    uint64_t probes;
};

/* The chain from off. Every entry read counts against cap: a chain changing under us
 * cannot loop. */
static void snap_chain(shmipc_arena *a, uint64_t off, struct snapshot *s)
{
    for (uint64_t k = 1;
         off && s->n < s->cap && arena_inside(a, off, sizeof(struct named_entry));
         k++, off = arena_peek(&entry_at(a, off)->next)) {
        peek_entry(a, off, &s->out[s->n++]);
        s->probes += k;
    }
}

/* The bucket array at off of count buckets, if it lies in the heap; else NULL. */
static const uint64_t *peek_array(shmipc_arena *a, uint64_t off, uint64_t count)
{
    if (count == 0 || (count & (count - 1)) || count > SIZE_MAX / sizeof(uint64_t) ||
        !arena_inside(a, off, count * sizeof(uint64_t)))
        return NULL;
    return arena_at(a, off);
}

int shmipc__named_snapshot(shmipc_arena *a, struct shmipc_inspect_name *out, size_t cap,
                           size_t *n, uint64_t *buckets, uint64_t *probes)
{
    const struct arena_hdr *h = a->hdr;
    uint64_t count = arena_peek(&h->dir_count), next_count = arena_peek(&h->dir_next_count);
    uint64_t moved = arena_peek(&h->dir_moved), next_off = arena_peek(&h->dir_next);
    const uint64_t *old = peek_array(a, arena_peek(&h->dir_buckets), count), *next = NULL;
    struct snapshot s = {out, cap, 0, 0};

    *n = 0;
    *buckets = *probes = 0;
    if (!old)
        return shmipc__fail(SHMIPC_ECORRUPT, "no name directory in this arena");
    if (next_off && moved < count)
        next = peek_array(a, next_off, next_count);
    /* during a resize: the new array's chains fed by old buckets reached, then the rest */
    for (uint64_t j = 0; next && j < next_count; j++)
        if ((j & (count - 1)) <= moved)
            snap_chain(a, arena_peek(&next[j]), &s);
    for (uint64_t i = next ? moved : 0; i < count; i++)
        snap_chain(a, arena_peek(&old[i]), &s);
    *n = s.n;
    *buckets = count + (next ? next_count : 0);
    *probes = s.probes;
    return 0;
}
