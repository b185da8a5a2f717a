/* kill_util.h — what the tests that kill a child in the middle of an arena's operations
 * share. */
#ifndef SHMIPC_KILL_UTIL_H
#define SHMIPC_KILL_UTIL_H

#include "shmipc.h"

/* The child's own handle on the parent's arena a (handles are per process), through the
 * descriptor of its pool; NULL if it cannot be made. */
static inline shmipc_arena *own_handle(shmipc_arena *a)
{
    shmipc_pool *p;
    shmipc_arena *mine;

    if (shmipc_pool_from_fd(shmipc_pool_fd(shmipc_arena_pool(a)), 0, &p) != 0)
        return NULL;
    if (shmipc_arena_attach(p, &mine) != 0) {
        shmipc_pool_close(p);
        return NULL;
    }
    return mine;
}

#endif
