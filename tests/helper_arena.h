/* helper_arena.h — what helper_arena and the tests that exec it agree on. */
#ifndef SHMIPC_HELPER_ARENA_H
#define SHMIPC_HELPER_ARENA_H

#include <stddef.h>

#include "shmipc.h"

#define HELPER_ARENA_SIZE ((size_t)32 << 20)

/* A block left alive by `hammer`, for another process to verify and free. */
struct board_entry {
    shmipc_poolrel where;
    uint64_t len;
    uint64_t slot;
};

static inline unsigned char helper_byte(unsigned seed, unsigned slot, size_t i)
{
    return (unsigned char)(seed * 31 + slot * 7 + i);
}

static inline void helper_fill(unsigned char *p, size_t n, unsigned seed, unsigned slot)
{
    for (size_t i = 0; i < n; i++)
        p[i] = helper_byte(seed, slot, i);
}

static inline int helper_intact(const unsigned char *p, size_t n, unsigned seed, unsigned slot)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != helper_byte(seed, slot, i))
            return 0;
    return 1;
}

#endif
