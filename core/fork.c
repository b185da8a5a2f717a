/* fork.c — handles are per process. A forked child inherits the parent's handles (their
 * memory, mappings and descriptors), but the counts, endpoints, rings and sockets they
 * name are the parent's: a child that used them would break its parent. Every handle
 * records the process's fork generation when it is made; a pthread_atfork child handler
 * bumps the generation, so in a child every inherited handle is told apart with one
 * relaxed load and compare. */
#include "internal.h"

atomic_uint shmipc__fork_gen;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void in_child(void)
{
    atomic_fetch_add_explicit(&shmipc__fork_gen, 1, memory_order_relaxed);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, in_child);
}

unsigned shmipc__fork_gen_now(void)
{
    pthread_once(&atfork_once, register_atfork);
    return atomic_load_explicit(&shmipc__fork_gen, memory_order_relaxed);
}

int shmipc__fail_inherited(const char *what)
{
    return shmipc__fail(SHMIPC_EINVAL,
                        "%s inherited across fork: handles are per process "
                        "(the parent's; make a new one in the child)",
                        what);
}
