/* container.c — the extent and the allocations of the shared containers (container.h).
 * Above the arena layer: it uses only the public arena API. */
#include "container.h"

int shmipc__cont_extent(shmipc_arena *a, const void *hdr, size_t hdr_size, int64_t *lo,
                        int64_t *hi)
{
    if (!a || !hdr)
        return shmipc__fail(SHMIPC_EINVAL, "container: NULL arena or header");
    if (shmipc_arena_provider(a) != SHMIPC_PROVIDER_SHARED || !shmipc_arena_writable(a))
        return shmipc__fail(SHMIPC_ENOTSUP, "containers live in a writable shared arena");
    shmipc_pool *p = shmipc_arena_pool(a);
    uintptr_t base = (uintptr_t)shmipc_pool_base(p), end = base + shmipc_pool_size(p);
    uintptr_t h = (uintptr_t)hdr;
    if (h < base || h > end || hdr_size > end - h)
        return shmipc__fail(SHMIPC_EINVAL, "container: the header is not in the arena");
    *lo = (int64_t)(h - base);
    *hi = (int64_t)(end - h);
    return 0;
}

int shmipc__cont_check(shmipc_arena *a, const void *hdr, size_t hdr_size, int64_t lo,
                       int64_t hi, const char *what)
{
    int64_t l = 0, h = 0;
    int rc = shmipc__cont_extent(a, hdr, hdr_size, &l, &h);
    if (rc)
        return rc;
    if (l != lo || h != hi)
        return shmipc__fail(SHMIPC_ECORRUPT,
                            "%s: its recorded extent is not its arena's "
                            "(moved, not initialised, or corrupt)",
                            what);
    return 0;
}

int shmipc__cont_alloc(shmipc_arena *a, const void *hdr, uint64_t size, int64_t *off)
{
    void *p = size < SIZE_MAX ? shmipc_alloc(a, (size_t)size) : NULL;
    if (!p)
        return shmipc__fail(SHMIPC_ENOMEM, "container: no room for %llu bytes in the arena",
                            (unsigned long long)size);
    *off = (int64_t)((uintptr_t)p - (uintptr_t)hdr);
    return 0;
}
