/* mutex.c — shmipc_mutex: a robust process-shared mutex placed in shared memory. A holder
 * that dies is reported to the next locker (SHMIPC_EOWNERDEAD), which gets the lock made
 * consistent again. Memory mapped read-only is detected by a probe write made through the
 * kernel (which fails with EFAULT there instead of faulting). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((shmipc_mutex *)0)->lock),
               "shmipc_mutex too small for pthread_mutex_t");
_Static_assert(_Alignof(pthread_mutex_t) <= _Alignof(uint64_t), "pthread_mutex_t alignment");

static pthread_mutex_t *mutex_of(shmipc_mutex *m)
{
    return (pthread_mutex_t *)(void *)m->lock;
}

/* 0 if this process may write m, else EPERM (mapped read-only) or EINVAL. */
static int mutex_probe(shmipc_mutex *m)
{
    uint64_t v = (uint64_t)getpid();
    struct iovec local = {&v, sizeof v}, remote = {&m->probe, sizeof v};
    if (process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)sizeof v)
        return 0;
    if (errno == EFAULT)
        return shmipc__fail(SHMIPC_EPERM,
                            "shmipc_mutex: %p is not writable here (mapped "
                            "read-only, or not mapped)",
                            (void *)m);
    return 0; /* the probe is unavailable (seccomp, ENOSYS): let the lock decide */
}

static int mutex_ready(shmipc_mutex *m)
{
    if (!m)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_mutex: NULL");
    int rc = mutex_probe(m);
    if (rc)
        return rc;
    if (__atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) != SHMIPC_MUTEX_MAGIC)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_mutex: not initialised");
    return 0;
}

int shmipc_mutex_init(shmipc_mutex *m)
{
    pthread_mutexattr_t at;
    int rc = m ? mutex_probe(m) : shmipc__fail(SHMIPC_EINVAL, "shmipc_mutex_init: NULL");
    if (rc)
        return rc;
    if ((rc = pthread_mutexattr_init(&at)))
        return shmipc__fail(SHMIPC_ESYS, "pthread_mutexattr_init: error %d", rc);
    rc = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    if (!rc)
        rc = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    if (!rc)
        rc = pthread_mutex_init(mutex_of(m), &at);
    pthread_mutexattr_destroy(&at);
    if (rc)
        return shmipc__fail(SHMIPC_ESYS, "shmipc_mutex_init: pthread error %d", rc);
    m->probe = 0;
    __atomic_store_n(&m->magic, SHMIPC_MUTEX_MAGIC, __ATOMIC_RELEASE);
    return 0;
}

/* The result of a pthread lock call. */
static int mutex_result(shmipc_mutex *m, int rc)
{
    switch (rc) {
    case 0: return 0;
    case EOWNERDEAD:
        pthread_mutex_consistent(mutex_of(m));
        return shmipc__fail(SHMIPC_EOWNERDEAD, "shmipc_mutex: its holder died holding it; "
                                               "the lock is now held by the caller");
    case ETIMEDOUT:
    case EBUSY: return shmipc__fail(SHMIPC_ETIMEDOUT, "shmipc_mutex: still held by another");
    case ENOTRECOVERABLE:
        return shmipc__fail(SHMIPC_ECORRUPT, "shmipc_mutex: not recoverable (a holder "
                                             "died and the next unlocked it without repair)");
    case EDEADLK:
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_mutex: already held by this thread");
    default: return shmipc__fail(SHMIPC_ESYS, "shmipc_mutex: pthread error %d", rc);
    }
}

int shmipc_mutex_lock(shmipc_mutex *m)
{
    int rc = mutex_ready(m);
    return rc ? rc : mutex_result(m, pthread_mutex_lock(mutex_of(m)));
}

int shmipc_mutex_timedlock(shmipc_mutex *m, int timeout_ms)
{
    int rc = mutex_ready(m);
    if (rc)
        return rc;
    if (timeout_ms < 0)
        return mutex_result(m, pthread_mutex_lock(mutex_of(m)));
    if (timeout_ms == 0)
        return mutex_result(m, pthread_mutex_trylock(mutex_of(m)));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return mutex_result(m, pthread_mutex_timedlock(mutex_of(m), &ts));
}

int shmipc_mutex_unlock(shmipc_mutex *m)
{
    if (!m || __atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) != SHMIPC_MUTEX_MAGIC)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_mutex_unlock: not initialised");
    int rc = pthread_mutex_unlock(mutex_of(m));
    if (rc == EPERM)
        return shmipc__fail(SHMIPC_EPERM, "shmipc_mutex_unlock: not held by this thread");
    return rc ? shmipc__fail(SHMIPC_ESYS, "shmipc_mutex_unlock: pthread error %d", rc) : 0;
}
