/* map.c — shmipc_map: a hash map from byte-string keys to fixed-size values in a shared
 * arena. Open addressing with linear probing over a power-of-two table of slots
 * {hash, entry offset}; each entry is a block {uint64_t klen; 0; value; key}. A slot is
 * published by storing its hash last (its entry's offset first); replacing a value switches
 * the slot's offset to a new entry; rehashing builds a new table and switches to it. */
#include <string.h>

#include "container.h"

#define HASH_EMPTY 0u
#define HASH_DEAD 1u /* a deleted slot (a tombstone) */
#define ENTRY_HDR 16u
#define TABLE_HDR 16u
#define MAP_MIN_CAP 16u

struct slot {
    uint64_t hash; /* HASH_EMPTY, HASH_DEAD, or the key's hash (>= 2) */
    int64_t entry; /* offset of the entry from the map's header */
};

/* A 64-bit hash of the key (never HASH_EMPTY or HASH_DEAD). */
static uint64_t map_hash(const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (klen * UINT64_C(0xff51afd7ed558ccd)), w;
    for (; klen >= 8; p += 8, klen -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0x100000001b3);
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, klen);
    h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 32;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 29;
    return h < 2 ? h + 2 : h;
}

/* The slots of m's table (their count, a power of two, in *cap), validated, or NULL. */
static struct slot *map_table(const shmipc_map *m, uint64_t *cap)
{
    int64_t off = CONT_LOAD(&m->table);
    const uint64_t *t = cont_at(m, m->lo, m->hi, off, TABLE_HDR);
    if (!t)
        return NULL;
    *cap = t[0];
    uint64_t bytes = cont_mul(*cap, sizeof(struct slot));
    /* no wrap: a corrupt cap whose byte count overflows must not pass the bounds check */
    if (*cap == 0 || (*cap & (*cap - 1)) || bytes > UINT64_MAX - TABLE_HDR ||
        !cont_at(m, m->lo, m->hi, off, bytes + TABLE_HDR))
        return NULL;
    return (struct slot *)((char *)m + off + TABLE_HDR);
}

/* The entry a slot points at, validated (its key length in *klen), or NULL. */
static char *map_entry(const shmipc_map *m, int64_t off, uint64_t *klen)
{
    char *e = cont_at(m, m->lo, m->hi, off, ENTRY_HDR);
    if (!e)
        return NULL;
    memcpy(klen, e, sizeof *klen);
    uint64_t size = ENTRY_HDR + m->value_size;
    if (size < m->value_size || size + *klen < size ||
        !cont_at(m, m->lo, m->hi, off, size + *klen))
        return NULL;
    return e;
}

/* Why m has no usable table: ENOENT if it has none (freed: empty), else ECORRUPT. */
static int map_no_table(const shmipc_map *m)
{
    if (CONT_LOAD(&m->table) == 0)
        return SHMIPC_ENOENT;
    return shmipc__fail(SHMIPC_ECORRUPT, "shmipc_map: its table is outside the arena");
}

static int map_valid(const shmipc_map *m)
{
    return m && m->magic == SHMIPC_MAP_MAGIC && m->value_size > 0;
}

/* Find key: the index of its slot in *at and 0, or ENOENT with *at the first free slot
 * (dead or empty) on its probe path (cap if none), or ECORRUPT. */
static int map_find(const shmipc_map *m, struct slot *s, uint64_t cap, const void *key,
                    size_t klen, uint64_t h, uint64_t *at)
{
    uint64_t free_at = cap, i = h & (cap - 1);
    for (uint64_t n = 0; n < cap; n++, i = (i + 1) & (cap - 1)) {
        uint64_t sh = CONT_LOAD(&s[i].hash), kl;
        if (sh == HASH_EMPTY) {
            *at = free_at < cap ? free_at : i;
            return SHMIPC_ENOENT;
        }
        if (sh == HASH_DEAD) {
            if (free_at == cap)
                free_at = i;
            continue;
        }
        if (sh != h)
            continue;
        char *e = map_entry(m, CONT_LOAD(&s[i].entry), &kl);
        if (!e)
            return shmipc__fail(SHMIPC_ECORRUPT, "shmipc_map: a slot points outside the arena");
        if (kl == klen && memcmp(e + ENTRY_HDR + m->value_size, key, klen) == 0) {
            *at = i;
            return 0;
        }
    }
    *at = free_at;
    return SHMIPC_ENOENT;
}

static int map_writable(shmipc_arena *a, const shmipc_map *m)
{
    if (!map_valid(m))
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_map: not an initialised map");
    return shmipc__cont_check(a, m, sizeof *m, m->lo, m->hi, "shmipc_map");
}

/* Allocate a table of cap slots, all empty: its offset from m in *off. */
static int table_new(shmipc_arena *a, shmipc_map *m, uint64_t cap, int64_t *off)
{
    int rc = shmipc__cont_alloc(a, m, TABLE_HDR + cont_mul(cap, sizeof(struct slot)), off);
    if (rc)
        return rc;
    uint64_t *t = (uint64_t *)((char *)m + *off);
    t[0] = cap;
    t[1] = 0;
    memset(t + 2, 0, cap * sizeof(struct slot));
    return 0;
}

/* Rehash into a table with room for at least `need` live entries (and the live ones). */
static int map_rehash(shmipc_arena *a, shmipc_map *m, uint64_t need)
{
    uint64_t cap = MAP_MIN_CAP, old_cap = 0, live = 0;
    struct slot *old = map_table(m, &old_cap);
    for (uint64_t i = 0; old && i < old_cap; i++)
        live += old[i].hash >= 2;
    if (need < live)
        need = live;
    if (need > (UINT64_C(1) << 48))
        return shmipc__fail(SHMIPC_ENOMEM, "shmipc_map: %llu entries",
                            (unsigned long long)need);
    while (cap / 4 * 3 <= need)
        cap *= 2;
    int64_t off;
    int rc = table_new(a, m, cap, &off);
    if (rc)
        return rc;
    struct slot *s = (struct slot *)((char *)m + off + TABLE_HDR);
    for (uint64_t i = 0; old && i < old_cap; i++) {
        if (old[i].hash < 2)
            continue;
        uint64_t j = old[i].hash & (cap - 1);
        while (s[j].hash != HASH_EMPTY)
            j = (j + 1) & (cap - 1);
        s[j] = old[i];
    }
    CONT_STORE(&m->table, off);
    CONT_STORE(&m->used, live);
    CONT_STORE(&m->len, live);
    shmipc_free(a, old ? (char *)old - TABLE_HDR : NULL);
    return 0;
}

int shmipc_map_init(shmipc_arena *a, shmipc_map *m, size_t value_size, size_t capacity)
{
    int64_t lo, hi;
    if (value_size == 0 || value_size > (SIZE_MAX >> 2))
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_map_init: bad value_size");
    int rc = shmipc__cont_extent(a, m, sizeof *m, &lo, &hi);
    if (rc)
        return rc;
    *m = (shmipc_map){.value_size = value_size, .lo = lo, .hi = hi};
    CONT_STORE(&m->magic, SHMIPC_MAP_MAGIC);
    rc = map_rehash(a, m, capacity);
    if (rc)
        CONT_STORE(&m->magic, 0);
    return rc;
}

/* A new entry for key and value: its offset from m in *off. */
static int entry_new(shmipc_arena *a, shmipc_map *m, const void *key, size_t klen,
                     const void *value, int64_t *off)
{
    int rc = shmipc__cont_alloc(a, m, ENTRY_HDR + m->value_size + klen, off);
    if (rc)
        return rc;
    char *e = (char *)m + *off;
    uint64_t hdr[2] = {klen, 0};
    memcpy(e, hdr, sizeof hdr);
    memcpy(e + ENTRY_HDR, value, m->value_size);
    if (klen)
        memcpy(e + ENTRY_HDR + m->value_size, key, klen);
    return 0;
}

int shmipc_map_put(shmipc_arena *a, shmipc_map *m, const void *key, size_t klen,
                   const void *value)
{
    int rc = map_writable(a, m);
    if (rc)
        return rc;
    if ((!key && klen) || !value)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_map_put: NULL key or value");
    uint64_t h = map_hash(key, klen), cap = 0, at = 0;
    struct slot *s = map_table(m, &cap);
    if (!s && map_no_table(m) != SHMIPC_ENOENT)
        return SHMIPC_ECORRUPT;
    rc = s ? map_find(m, s, cap, key, klen, h, &at) : SHMIPC_ENOENT;
    if (rc == SHMIPC_ENOENT && (!s || at == cap || m->used + 1 > cap / 4 * 3)) {
        if ((rc = map_rehash(a, m, m->len + 1)))
            return rc;
        s = map_table(m, &cap);
        rc = map_find(m, s, cap, key, klen, h, &at);
    }
    if (rc && rc != SHMIPC_ENOENT)
        return rc;
    int64_t off, old = rc == 0 ? s[at].entry : 0;
    int fresh = rc == SHMIPC_ENOENT, reuse = fresh && s[at].hash == HASH_DEAD;
    if ((rc = entry_new(a, m, key, klen, value, &off)))
        return rc;
    CONT_STORE(&s[at].entry, off);
    if (fresh) {
        CONT_STORE(&s[at].hash, h);
        CONT_STORE(&m->len, m->len + 1);
        if (!reuse)
            CONT_STORE(&m->used, m->used + 1);
    } else {
        uint64_t kl;
        shmipc_free(a, map_entry(m, old, &kl));
    }
    return 0;
}

int shmipc_map_get(const shmipc_map *m, const void *key, size_t klen, void **value)
{
    uint64_t cap = 0, at, kl;
    if (!map_valid(m) || (!key && klen) || !value)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_map_get: not a map, or NULL key/value");
    struct slot *s = map_table(m, &cap);
    if (!s)
        return map_no_table(m);
    int rc = map_find(m, s, cap, key, klen, map_hash(key, klen), &at);
    if (rc)
        return rc;
    char *e = map_entry(m, CONT_LOAD(&s[at].entry), &kl);
    if (!e)
        return shmipc__fail(SHMIPC_ECORRUPT, "shmipc_map: a slot points outside the arena");
    *value = e + ENTRY_HDR;
    return 0;
}

int shmipc_map_del(shmipc_arena *a, shmipc_map *m, const void *key, size_t klen)
{
    int rc = map_writable(a, m);
    if (rc)
        return rc;
    if (!key && klen)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_map_del: NULL key");
    uint64_t cap = 0, at, kl;
    struct slot *s = map_table(m, &cap);
    if (!s)
        return map_no_table(m);
    if ((rc = map_find(m, s, cap, key, klen, map_hash(key, klen), &at)))
        return rc;
    char *e = map_entry(m, s[at].entry, &kl);
    CONT_STORE(&s[at].hash, HASH_DEAD);
    CONT_STORE(&m->len, m->len ? m->len - 1 : 0);
    shmipc_free(a, e);
    return 0;
}

size_t shmipc_map_len(const shmipc_map *m)
{
    return map_valid(m) ? (size_t)CONT_LOAD(&m->len) : 0;
}

int shmipc_map_next(const shmipc_map *m, size_t *pos, const void **key, size_t *klen,
                    void **value)
{
    uint64_t cap = 0, kl;
    if (!map_valid(m) || !pos)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_map_next: not a map, or NULL pos");
    struct slot *s = map_table(m, &cap);
    if (!s)
        return map_no_table(m);
    for (; *pos < cap; (*pos)++) {
        if (CONT_LOAD(&s[*pos].hash) < 2)
            continue;
        char *e = map_entry(m, CONT_LOAD(&s[*pos].entry), &kl);
        if (!e)
            return shmipc__fail(SHMIPC_ECORRUPT, "shmipc_map: a slot points outside the arena");
        (*pos)++;
        if (key)
            *key = e + ENTRY_HDR + m->value_size;
        if (klen)
            *klen = (size_t)kl;
        if (value)
            *value = e + ENTRY_HDR;
        return 0;
    }
    return SHMIPC_ENOENT;
}

int shmipc_map_repair(shmipc_arena *a, shmipc_map *m)
{
    int rc = map_writable(a, m);
    if (rc)
        return rc;
    uint64_t cap = 0, live = 0, used = 0;
    struct slot *s = map_table(m, &cap);
    if (!s)
        return map_no_table(m) == SHMIPC_ENOENT ? 0 : SHMIPC_ECORRUPT;
    for (uint64_t i = 0; i < cap; i++) {
        live += s[i].hash >= 2;
        used += s[i].hash != HASH_EMPTY;
    }
    CONT_STORE(&m->len, live);
    CONT_STORE(&m->used, used);
    return 0;
}

void shmipc_map_free(shmipc_arena *a, shmipc_map *m)
{
    uint64_t cap = 0, kl;
    if (map_writable(a, m))
        return;
    struct slot *s = map_table(m, &cap);
    CONT_STORE(&m->table, 0);
    CONT_STORE(&m->len, 0);
    CONT_STORE(&m->used, 0);
    for (uint64_t i = 0; s && i < cap; i++)
        if (s[i].hash >= 2)
            shmipc_free(a, map_entry(m, s[i].entry, &kl));
    shmipc_free(a, s ? (char *)s - TABLE_HDR : NULL);
}
