/* fault.h — failing the Nth call of the system and C-library functions the core uses.
 *
 * The test is linked with -Wl,--wrap=<symbol> for each function of FAULT_SYMBOLS (see
 * Makefile.am): every call the core (and this test) makes to it goes through
 * __wrap_<symbol> in wrap.c, which counts the calls made while armed and fails call
 * number N with a plausible errno. Calls made inside shared libraries (libc itself,
 * jemalloc) are not wrapped. */
#ifndef SHMIPC_FAULT_H
#define SHMIPC_FAULT_H

/* Fail the nth wrapped call from now on (n >= 1); eintr: interruptible calls (connect,
 * accept4, sendmsg, recvmsg, poll, epoll_wait, read, write, flock, fcntl locks) fail
 * with EINTR instead of their hard errno. */
void fault_arm(long n, int eintr);
/* Stop counting: 1 if the armed call failed (it was reached), else 0. */
int fault_disarm(void);
/* The function whose call failed at the last firing, and the wrapped calls counted. */
const char *fault_symbol(void);
long fault_calls(void);
/* Where firings are announced ("f <n> <symbol>" lines), or -1. */
void fault_report_to(int fd);

#endif
