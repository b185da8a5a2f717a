/* robust.c — crash-consistent critical sections in shared memory: a process-shared robust
 * mutex plus an undo log of every store made under it. When a holder dies (EOWNERDEAD),
 * the next locker restores the logged words in reverse order, so the interrupted operation
 * never happened; the caller then validates its state and marks the mutex consistent. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "internal.h"

#define SPIN_TRIES 200

long shmipc__crash_countdown;

void shmipc__crash_point(void)
{
    if (--shmipc__crash_countdown == 0)
        raise(SIGKILL);
}

int shmipc__robust_init(struct shmipc_robust *r)
{
    pthread_mutexattr_t attr;
    int rc;

    memset(r, 0, sizeof *r);
    if ((rc = pthread_mutexattr_init(&attr)) != 0)
        return shmipc__fail(SHMIPC_ESYS, "pthread_mutexattr_init: %s", strerror(rc));
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(&r->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0)
        return shmipc__fail(SHMIPC_ESYS, "initialising a robust process-shared mutex: %s",
                            strerror(rc));
    return 0;
}

int shmipc__mutexes_init(pthread_mutex_t *const m[], size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        int rc = pthread_mutex_init(m[i], NULL);
        if (rc != 0) {
            while (i-- > 0)
                pthread_mutex_destroy(m[i]);
            errno = rc;
            return shmipc__fail_errno("pthread_mutex_init (%s)", what);
        }
    }
    return 0;
}

/* Undo the dead holder's stores, newest first. Entries that do not name an aligned word
 * inside the pool are skipped: a forged log never makes us write outside the pool. */
static void rollback(struct shmipc_crit *c)
{
    struct shmipc_robust *r = c->r;
    uint64_t n = r->log_count;

    if (n > SHMIPC_UNDO_MAX)
        n = SHMIPC_UNDO_MAX;
    while (n-- > 0) {
        uint64_t off = r->log[n].off;
        if (off % sizeof(uint64_t) == 0 && off <= c->size - sizeof(uint64_t))
            /* atomic, as shmipc__robust_store's: peers read some words without the lock */
            __atomic_store_n((uint64_t *)(c->base + off), r->log[n].old, __ATOMIC_RELAXED);
    }
    atomic_signal_fence(memory_order_seq_cst);
    r->log_count = 0;
}

/* Critical sections are short (tens of ns): a contended lock is usually free again
 * sooner than a futex sleep and wake-up take (~20 us here), so try a while first (rc: the
 * first try's answer). */
static int lock_adaptive(pthread_mutex_t *m, int rc)
{
    for (int i = 0; rc == EBUSY && i < SPIN_TRIES; i++) {
        shmipc__cpu_relax();
        rc = pthread_mutex_trylock(m);
    }
    return rc == EBUSY ? pthread_mutex_lock(m) : rc;
}

int shmipc__robust_lock_slow(struct shmipc_crit *c, int rc, int *recovered)
{
    rc = lock_adaptive(&c->r->mutex, rc);
    *recovered = 0;
    if (SHMIPC_LIKELY(rc == 0)) {
        if (SHMIPC_UNLIKELY(c->r->log_count != 0)) {
            /* A holder died during an earlier recovery's rollback: finish it. */
            rollback(c);
            *recovered = 1;
        }
        return 0;
    }
    if (rc == EOWNERDEAD) {
        rollback(c);
        *recovered = 1;
        return 0;
    }
    if (rc == ENOTRECOVERABLE)
        return shmipc__fail(SHMIPC_ECORRUPT, "arena lock is not recoverable");
    return shmipc__fail(SHMIPC_ESYS, "locking arena: %s", strerror(rc));
}

void shmipc__robust_consistent(struct shmipc_crit *c)
{
    pthread_mutex_consistent(&c->r->mutex);
}

void shmipc__robust_unlock(struct shmipc_crit *c)
{
    atomic_signal_fence(memory_order_seq_cst);
    c->r->log_count = 0;
    pthread_mutex_unlock(&c->r->mutex);
}
