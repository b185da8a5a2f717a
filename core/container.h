/* container.h — what the shared containers (vec.c, str.c, map.c) share: a header's extent
 * (where its arena's memory lies, relative to the header) and bounded access through it.
 * Every offset a container follows is relative to its header and is checked against the
 * extent before use, so corrupt bytes never lead a read outside the arena. */
#ifndef SHMIPC_CONTAINER_H
#define SHMIPC_CONTAINER_H

#include "internal.h"

/* Atomic access to the 8-byte words that publish an update (plain fields for cffi). */
#define CONT_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define CONT_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* The extent of the header hdr (hdr_size bytes) in the shared arena a: *lo bytes from the
 * arena's start to hdr, *hi from hdr to the end.
 * 0, or EINVAL (hdr not wholly in a), ENOTSUP (not a shared arena). */
SHMIPC_HIDDEN int shmipc__cont_extent(shmipc_arena *a, const void *hdr, size_t hdr_size,
                                      int64_t *lo, int64_t *hi);
/* 0 if the extent recorded in a header is a's own, else ECORRUPT naming `what`. */
SHMIPC_HIDDEN int shmipc__cont_check(shmipc_arena *a, const void *hdr, size_t hdr_size,
                                     int64_t lo, int64_t hi, const char *what);
/* Allocate size bytes in a: the offset of the block from hdr in *off (0: none, ENOMEM). */
SHMIPC_HIDDEN int shmipc__cont_alloc(shmipc_arena *a, const void *hdr, uint64_t size,
                                     int64_t *off);

/* The address of len bytes at offset off from hdr, or NULL unless they lie within the
 * extent [-lo, hi) and off is a multiple of 8 (every block is; headers are 8-aligned), so
 * that their words may be loaded (off 0 means none and gives NULL). */
static inline void *cont_at(const void *hdr, int64_t lo, int64_t hi, int64_t off, uint64_t len)
{
    if (off == 0 || (off & 7) || lo < 0 || hi < 0 || off < -lo || off > hi ||
        len > (uint64_t)(hi - off))
        return NULL;
    return (char *)hdr + off;
}

/* a * b, or UINT64_MAX if that overflows. */
static inline uint64_t cont_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

#endif /* SHMIPC_CONTAINER_H */
