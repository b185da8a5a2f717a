/**
 * @file shmipc/offptr.h
 * @brief Pointers that survive being mapped at different addresses.
 *
 * shmipc_rel: a self-relative pointer (like boost's `offset_ptr`). It stores the distance
 * from its own address to the target, so a structure linked with shmipc_rel reads the same
 * in every process, wherever each maps the pool. The distance 1 means NULL (a pointer to
 * the byte just after itself is never useful); note that zeroed memory is therefore NOT a
 * NULL shmipc_rel: initialise with shmipc_rel_set(r, NULL) or #SHMIPC_REL_NULL.
 * A shmipc_rel must stay inside the mapping that holds its target: it links objects of one
 * pool. To refer across the pools of an arena, use shmipc_poolrel.
 *
 * shmipc_poolrel: a pool-relative pointer (pool id + offset from the pool's base); resolve
 * it with shmipc_arena_from_poolrel() (shmipc.h). pool_id 0 is NULL.
 *
 * Header-only and plain C, so that cffi (Python) and bindgen (Rust) read it as it is.
 */
#ifndef SHMIPC_OFFPTR_H
#define SHMIPC_OFFPTR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup offptr Offset pointers
 * Pointers that read the same at any address: shmipc_rel (self-relative, header-only) and
 * shmipc_poolrel (pool id + offset).
 * @{ */

/** A self-relative pointer: the target's address minus its own. */
typedef struct shmipc_rel {
    int64_t off; /**< target address - address of this field; 1 = NULL */
} shmipc_rel;

/** A pool-relative pointer: which pool, and where in it. */
typedef struct shmipc_poolrel {
    uint64_t pool_id; /**< shmipc_pool_id() of the target's pool; 0 = NULL */
    uint64_t offset;  /**< bytes from shmipc_pool_base() of that pool */
} shmipc_poolrel;

#define SHMIPC_REL_NULL_OFF 1 /**< the `off` of a NULL shmipc_rel */
#define SHMIPC_REL_NULL                                                                        \
    {                                                                                          \
        SHMIPC_REL_NULL_OFF                                                                    \
    } /**< initialiser of a NULL shmipc_rel */

/** The target of r, or NULL. */
static inline void *shmipc_rel_get(const shmipc_rel *r)
{
    if (r->off == SHMIPC_REL_NULL_OFF)
        return NULL;
    return (void *)((uintptr_t)r + (uintptr_t)r->off);
}

/** Point r at p (NULL allowed). r and p must lie in the same mapping. */
static inline void shmipc_rel_set(shmipc_rel *r, const void *p)
{
    r->off = p ? (int64_t)((uintptr_t)p - (uintptr_t)r) : SHMIPC_REL_NULL_OFF;
}

/** 1 if r is NULL. */
static inline int shmipc_rel_is_null(const shmipc_rel *r)
{
    return r->off == SHMIPC_REL_NULL_OFF;
}

/** Typed access: `SHMIPC_REL_GET(struct node, &n->next)` is the target of `n->next` as a
 * `struct node *`. */
#define SHMIPC_REL_GET(type, relp) ((type *)shmipc_rel_get(relp))

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* SHMIPC_OFFPTR_H */
