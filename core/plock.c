/* plock.c — the slow paths of the process-private lock (plock.h): a waiter spins a little
 * (a holder's section is short), then marks the word contended (2) and sleeps on it; an
 * unlock that finds it contended wakes one sleeper, which marks it contended again as it
 * takes it (it cannot know whether others sleep), so no wake-up is ever lost. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plock.h"

#define PLOCK_SPINS 64 /* looks at a held word before sleeping */

void shmipc__plock_wait(shmipc_plock *l)
{
    for (int i = 0; i < PLOCK_SPINS; i++) {
        shmipc__cpu_relax();
        if (atomic_load_explicit(&l->word, memory_order_relaxed) == 0 && shmipc__plock_try(l))
            return;
    }
    /* EAGAIN (the word changed) or EINTR: look again */
    while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0)
        syscall(SYS_futex, &l->word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void shmipc__plock_wake(shmipc_plock *l)
{
    syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
