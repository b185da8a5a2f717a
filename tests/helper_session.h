/* helper_session.h — what helper_session and the session tests agree on. */
#ifndef SHMIPC_HELPER_SESSION_H
#define SHMIPC_HELPER_SESSION_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t helper_checksum(const unsigned char *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

static inline void helper_reverse(unsigned char *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[n - 1 - i];
}

#endif
