/* plock.h — the core's process-private lock (plock.c has its slow path): a futex word whose
 * uncontended lock is one compare-and-swap and unlock one exchange, inline, where a glibc
 * mutex costs two calls and ~60 instructions a pair. It guards this process's own data on
 * the hot path (a session's send and recv, a release ring's producer and consumer, a view,
 * a lend arena's table); never memory another process maps: a holder that dies takes the
 * word with it. A waiter spins briefly, then sleeps on the futex: no spinning forever.
 *
 * Fork: like a pthread mutex, a lock another thread held at fork stays held in the child's
 * copy; the child never takes it, since every handle holding one refuses calls there
 * (fork.c). ThreadSanitizer follows it through its acquire and release atomics (the futex
 * only sleeps); it is not reentrant and has no owner check (the core never needs them). */
#ifndef SHMIPC_PLOCK_H
#define SHMIPC_PLOCK_H

#include "internal.h"

/* word: 0 free, 1 held, 2 held and a thread may sleep on it. All zeroes is a free lock
 * (calloc'd structures need no initialisation). */
typedef struct {
    _Atomic uint32_t word;
} shmipc_plock;

/* The slow paths: wait for the lock, then hold it; wake a sleeping waiter. */
SHMIPC_HIDDEN void shmipc__plock_wait(shmipc_plock *l);
SHMIPC_HIDDEN void shmipc__plock_wake(shmipc_plock *l);

static inline void shmipc__plock_init(shmipc_plock *l)
{
    atomic_init(&l->word, 0);
}

/* 1 if the lock was free and is now held by the caller, else 0 (nothing changed). */
static inline int shmipc__plock_try(shmipc_plock *l)
{
    uint32_t free_ = 0;

    return atomic_compare_exchange_strong_explicit(&l->word, &free_, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void shmipc__plock_lock(shmipc_plock *l)
{
    if (SHMIPC_UNLIKELY(!shmipc__plock_try(l)))
        shmipc__plock_wait(l);
}

static inline void shmipc__plock_unlock(shmipc_plock *l)
{
    if (SHMIPC_UNLIKELY(atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2))
        shmipc__plock_wake(l);
}

#endif
