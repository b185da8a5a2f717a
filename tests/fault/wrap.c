/* wrap.c — the __wrap_ functions of fault.h: each counts its call while armed and fails
 * the armed one, else calls the real function. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fault.h"

static atomic_long calls, fire_at;
static atomic_int armed, fired, eintr_mode;
static const char *_Atomic fired_symbol = "";
static int report_fd = -1;

void fault_arm(long n, int eintr)
{
    atomic_store(&calls, 0);
    atomic_store(&fired, 0);
    atomic_store(&fire_at, n);
    atomic_store(&eintr_mode, eintr);
    atomic_store(&armed, 1);
}

int fault_disarm(void)
{
    atomic_store(&armed, 0);
    return atomic_load(&fired);
}

const char *fault_symbol(void)
{
    return atomic_load(&fired_symbol);
}

long fault_calls(void)
{
    return atomic_load(&calls);
}

void fault_report_to(int fd)
{
    report_fd = fd;
}

/* 1 if this call is the one to fail (errno is then set to err). */
static int fail_now(const char *sym, int err)
{
    if (!atomic_load(&armed) || atomic_fetch_add(&calls, 1) + 1 != atomic_load(&fire_at))
        return 0;
    atomic_store(&fired, 1);
    atomic_store(&fired_symbol, sym);
    if (report_fd >= 0)
        dprintf(report_fd, "f %ld %s\n", atomic_load(&fire_at), sym);
    errno = err;
    return 1;
}

#define INTR(err) (atomic_load(&eintr_mode) ? EINTR : (err))

/* A function failing with errno set and `fail` returned. */
#define WRAP(ret, name, params, args, err, fail)                                               \
    ret __real_##name params;                                                                  \
    ret __wrap_##name params;                                                                  \
    ret __wrap_##name params                                                                   \
    {                                                                                          \
        if (fail_now(#name, err))                                                              \
            return fail;                                                                       \
        return __real_##name args;                                                             \
    }

/* A pthread function, which returns its error. */
#define WRAP_PT(name, params, args, err)                                                       \
    int __real_##name params;                                                                  \
    int __wrap_##name params;                                                                  \
    int __wrap_##name params                                                                   \
    {                                                                                          \
        if (fail_now(#name, 0))                                                                \
            return err;                                                                        \
        return __real_##name args;                                                             \
    }

/* memory */
WRAP(void *, malloc, (size_t n), (n), ENOMEM, NULL)
WRAP(void *, calloc, (size_t n, size_t m), (n, m), ENOMEM, NULL)
WRAP(void *, realloc, (void *p, size_t n), (p, n), ENOMEM, NULL)
WRAP(char *, strdup, (const char *s), (s), ENOMEM, NULL)
#ifdef SHMIPC_HAVE_JEMALLOC
/* jemalloc's mallocx by its symbol (the built-in one's is prefixed: shmipc_je_mallocx; the
 * Makefile wraps the same name). */
#define JEMALLOC_NO_DEMANGLE
#include <jemalloc/jemalloc.h>
#define JE_WRAP(f) JE_PASTE(__wrap_, f)
#define JE_REAL(f) JE_PASTE(__real_, f)
#define JE_PASTE(a, b) JE_PASTE_(a, b)
#define JE_PASTE_(a, b) a##b
void *JE_REAL(je_mallocx)(size_t n, int flags);
void *JE_WRAP(je_mallocx)(size_t n, int flags);
void *JE_WRAP(je_mallocx)(size_t n, int flags)
{
    if (fail_now("mallocx", ENOMEM))
        return NULL;
    return JE_REAL(je_mallocx)(n, flags);
}
#endif
WRAP(void *, mmap, (void *a, size_t l, int p, int f, int fd, off_t o), (a, l, p, f, fd, o),
     ENOMEM, MAP_FAILED)
WRAP(int, munmap, (void *a, size_t l), (a, l), EINVAL, -1)

/* files */
WRAP(int, memfd_create, (const char *n, unsigned f), (n, f), EMFILE, -1)
WRAP(int, ftruncate, (int fd, off_t len), (fd, len), EFBIG, -1)
WRAP(int, fallocate, (int fd, int mode, off_t off, off_t len), (fd, mode, off, len), ENOSPC, -1)
WRAP(int, fstat, (int fd, struct stat *st), (fd, st), EIO, -1)
WRAP(int, statvfs, (const char *p, struct statvfs *b), (p, b), EIO, -1)
WRAP(int, flock, (int fd, int op), (fd, op), op &LOCK_NB ? ENOLCK : INTR(ENOLCK), -1)
WRAP(int, link, (const char *a, const char *b), (a, b), ENOSPC, -1)
WRAP(int, renameat2, (int a, const char *b, int c, const char *d, unsigned f), (a, b, c, d, f),
     ENOSPC, -1)
WRAP(int, mkdir, (const char *p, mode_t m), (p, m), ENOSPC, -1)
WRAP(FILE *, fopen, (const char *p, const char *m), (p, m), EMFILE, NULL)
WRAP(DIR *, opendir, (const char *p), (p), EMFILE, NULL)
WRAP(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n), INTR(EIO), -1)
WRAP(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n), INTR(EIO), -1)
WRAP(ssize_t, getrandom, (void *b, size_t n, unsigned f), (b, n, f), ENOSYS, -1)
WRAP(int, eventfd, (unsigned v, int f), (v, f), EMFILE, -1)
WRAP(int, epoll_create1, (int f), (f), EMFILE, -1)
WRAP(int, epoll_ctl, (int e, int op, int fd, struct epoll_event *ev), (e, op, fd, ev), ENOMEM,
     -1)
WRAP(int, epoll_wait, (int e, struct epoll_event *ev, int n, int t), (e, ev, n, t), EINTR, -1)
WRAP(int, poll, (struct pollfd * p, nfds_t n, int t), (p, n, t), INTR(ENOMEM), -1)

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;

    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (fail_now("open", EMFILE))
        return -1;
    return __real_open(path, flags, mode);
}

int __real_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;
    int err = cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? EMFILE
              : cmd == F_SETLKW || cmd == F_OFD_SETLKW ? INTR(ENOLCK)
              : cmd == F_ADD_SEALS                     ? EBUSY
                                                       : EINVAL;

    va_start(ap, cmd); /* every command the core uses takes an int or a pointer, or nothing */
    arg = va_arg(ap, void *);
    va_end(ap);
    if (fail_now("fcntl", err))
        return -1;
    return __real_fcntl(fd, cmd, arg);
}

/* sockets */
WRAP(int, socket, (int d, int t, int p), (d, t, p), EMFILE, -1)
WRAP(int, bind, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l), EADDRINUSE, -1)
WRAP(int, listen, (int fd, int b), (fd, b), EADDRINUSE, -1)
WRAP(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l),
     INTR(ECONNREFUSED), -1)
WRAP(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int f), (fd, a, l, f),
     INTR(EMFILE), -1)
WRAP(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f), (fd, m, f), INTR(ENOBUFS), -1)
WRAP(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f), INTR(ENOMEM), -1)

/* process-shared locks */
WRAP_PT(pthread_mutex_init, (pthread_mutex_t * m, const pthread_mutexattr_t *a), (m, a), ENOMEM)
WRAP_PT(pthread_mutexattr_init, (pthread_mutexattr_t * a), (a), ENOMEM)
WRAP_PT(pthread_mutexattr_setpshared, (pthread_mutexattr_t * a, int v), (a, v), ENOTSUP)
WRAP_PT(pthread_mutexattr_setrobust, (pthread_mutexattr_t * a, int v), (a, v), ENOTSUP)
