/* shmipc_catalog.h — a linked structure declared once, in C, and shared by C, Python and
 * Rust processes: a catalogue of records built inside ONE shmipc object, its parts linked
 * with self-relative offset pointers (shmipc_rel), so it reads the same at any address.
 *
 * Layout (every language builds and walks exactly this; see examples/README.md):
 *
 *   struct catalog at offset 0 of the object, then a bump-allocated area holding, for each
 *   record, a struct catalog_record, its NUL-terminated name and its uint32_t tags. Records
 *   form a singly linked list from catalog.first through record.next.
 *
 * The record set of `catalog_build(count, reversed)`: record i (0 <= i < count) has
 * id = i, name = "record-<i>", value = i * 1.5, ntags = i % 4, tags[j] = i * 10 + j; the
 * list holds them in id order, or in reverse id order when `reversed`.
 *
 * The digest is FNV-1a 64 over, for each record in list order: id (4 bytes, little-endian),
 * the name's bytes (no NUL), value (8 bytes, IEEE 754 little-endian), ntags (4 bytes) and
 * each tag (4 bytes). A walker never trusts the object: every pointer it follows must land
 * inside the object (the C helper below checks; the Python and Rust ones do the same).
 *
 * C: the helpers below are static inline; include this header. Python reads the structs
 * through cffi (`ffi.cdef` of the struct part), Rust through bindgen.
 */
#ifndef SHMIPC_CATALOG_H
#define SHMIPC_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <shmipc/offptr.h>

#define CATALOG_MAGIC UINT64_C(0x474f4c4154414344) /* "DCATALOG" little-endian */

struct catalog_record {
    shmipc_rel next; /* struct catalog_record, NULL at the end */
    shmipc_rel name; /* char[], NUL-terminated */
    shmipc_rel tags; /* uint32_t[ntags] (NULL when ntags is 0) */
    uint32_t id;
    uint32_t ntags;
    double value;
};

struct catalog {
    uint64_t magic;
    uint64_t count; /* records in the list */
    uint64_t used;  /* bytes of the object in use, header included */
    shmipc_rel first;
};

/* ---- C helpers ------------------------------------------------------------------------ */

#define CATALOG_ALIGN 8u

static inline uint64_t catalog_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

#define CATALOG_FNV_INIT UINT64_C(0xcbf29ce484222325)

/* Bytes the catalogue of `count` records needs (an upper bound). */
static inline size_t catalog_size(uint32_t count)
{
    return sizeof(struct catalog) +
           (size_t)count * (sizeof(struct catalog_record) + 32 + 4 * sizeof(uint32_t) + 16);
}

static inline void *catalog_bump(unsigned char *base, size_t cap, uint64_t *used, size_t n)
{
    uint64_t at = (*used + CATALOG_ALIGN - 1) & ~(uint64_t)(CATALOG_ALIGN - 1);
    if (at > cap || n > cap - at)
        return NULL;
    *used = at + n;
    return base + at;
}

/* Build the record set into buf (cap bytes, 8-byte aligned). 0, or -1 if it does not fit. */
static inline int catalog_build(void *buf, size_t cap, uint32_t count, int reversed)
{
    unsigned char *base = (unsigned char *)buf;
    struct catalog *c = (struct catalog *)buf;
    shmipc_rel *link;
    uint64_t used = sizeof *c;

    if (cap < sizeof *c)
        return -1;
    c->magic = CATALOG_MAGIC;
    c->count = 0;
    link = &c->first;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t i = reversed ? count - 1 - k : k;
        struct catalog_record *r = (struct catalog_record *)catalog_bump(base, cap, &used,
                                                                         sizeof *r);
        char name[32];
        int len = snprintf(name, sizeof name, "record-%u", (unsigned)i);
        char *s = r ? (char *)catalog_bump(base, cap, &used, (size_t)len + 1) : NULL;
        uint32_t *tags = s && i % 4 ? (uint32_t *)catalog_bump(base, cap, &used, 4 * (i % 4))
                                    : NULL;
        if (!s || (i % 4 && !tags))
            return -1;
        memcpy(s, name, (size_t)len + 1);
        for (uint32_t j = 0; j < i % 4; j++)
            tags[j] = i * 10 + j;
        r->id = i;
        r->ntags = i % 4;
        r->value = i * 1.5;
        shmipc_rel_set(&r->name, s);
        shmipc_rel_set(&r->tags, tags);
        shmipc_rel_set(&r->next, NULL);
        shmipc_rel_set(link, r);
        link = &r->next;
        c->count++;
    }
    c->used = used;
    return 0;
}

/* 1 if [p, p + n) lies inside [base, base + size). */
static inline int catalog_inside(const void *base, size_t size, const void *p, size_t n)
{
    uintptr_t b = (uintptr_t)base, q = (uintptr_t)p;
    return q >= b && q - b <= size && n <= size - (q - b);
}

/* Walk the catalogue in an object of `size` bytes at buf, checking every pointer: the
 * digest into *digest and the record count into *count. 0, or -1 if it is malformed. */
static inline int catalog_digest(const void *buf, size_t size, uint64_t *digest,
                                 uint64_t *count)
{
    const struct catalog *c = (const struct catalog *)buf;
    const struct catalog_record *r;
    uint64_t h = CATALOG_FNV_INIT, n = 0;

    if (size < sizeof *c || c->magic != CATALOG_MAGIC)
        return -1;
    for (r = (const struct catalog_record *)shmipc_rel_get(&c->first); r;
         r = (const struct catalog_record *)shmipc_rel_get(&r->next)) {
        const char *name = (const char *)shmipc_rel_get(&r->name);
        const uint32_t *tags = (const uint32_t *)shmipc_rel_get(&r->tags);
        size_t len;
        if (n++ >= c->count || !catalog_inside(buf, size, r, sizeof *r) || !name ||
            !catalog_inside(buf, size, name, 1))
            return -1;
        len = strnlen(name, size - (size_t)((const char *)name - (const char *)buf));
        if (!catalog_inside(buf, size, name, len + 1) ||
            (r->ntags && (!tags || r->ntags > size / 4 ||
                          !catalog_inside(buf, size, tags, 4 * (size_t)r->ntags))))
            return -1;
        h = catalog_fnv(h, &r->id, 4);
        h = catalog_fnv(h, name, len);
        h = catalog_fnv(h, &r->value, 8);
        h = catalog_fnv(h, &r->ntags, 4);
        h = catalog_fnv(h, tags, 4 * (size_t)r->ntags);
    }
    if (n != c->count)
        return -1;
    *digest = h;
    *count = n;
    return 0;
}

#endif /* SHMIPC_CATALOG_H */
