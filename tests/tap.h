/* tap.h — a minimal TAP producer for the C tests, plus the helpers they share: unique
 * names per test process, forking children that report by exit status, and the check
 * that a test leaves nothing of its own in the shm directory. */
#ifndef SHMIPC_TAP_H
#define SHMIPC_TAP_H

#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmipc.h"

static int tap_count, tap_failed;

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static int ok(int cond, const char *fmt, ...)
{
    va_list ap;

    tap_count++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond)
        tap_failed++;
    fflush(stdout);
    return cond;
}

/* Compare a shmipc return code with the expected one; on mismatch show both and the
 * library's detail. */
#define is_rc(got, want, ...)                                                                \
    do {                                                                                     \
        int got_ = (got), want_ = (want);                                                    \
        if (!ok(got_ == want_, __VA_ARGS__))                                                 \
            printf("#   got %d (%s), want %d (%s); detail: %s\n", got_,                      \
                   shmipc_strerror(got_), want_, shmipc_strerror(want_),                     \
                   shmipc_error_detail());                                                   \
    } while (0)

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void diag(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static __attribute__((unused)) int done_testing(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

/* A name unique to this test process: "t<pid>-<what>". */
static __attribute__((unused)) const char *uname_(const char *what)
{
    static char buf[8][SHMIPC_NAME_MAX + 1];
    static int next;
    char *b = buf[next++ % 8];

    snprintf(b, SHMIPC_NAME_MAX + 1, "t%d-%s", (int)getpid(), what);
    return b;
}

/* Files in the shm directory that belong to this test process (pool names made by
 * uname_). */
static __attribute__((unused)) int shm_leftovers(void)
{
    const char *dir = getenv("SHMIPC_SHM_DIR") ? getenv("SHMIPC_SHM_DIR") : "/dev/shm";
    char mine[64];
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    snprintf(mine, sizeof mine, "shmipc.%u.t%d-", (unsigned)getuid(), (int)getpid());
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, mine, strlen(mine)) == 0) {
            diag("left behind: %s/%s", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Run fn in a forked child; returns its wait status. */
static __attribute__((unused)) int run_child(int (*fn)(void *), void *arg)
{
    int status;
    pid_t pid = fork();

    if (pid == 0)
        _exit(fn(arg));
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

/* Path of a program built in the tests directory. */
static __attribute__((unused)) const char *test_program(const char *name)
{
    static char path[4096];
    const char *dir = getenv("SHMIPC_BUILDDIR");

    snprintf(path, sizeof path, "%s/tests/%s", dir ? dir : ".", name);
    return path;
}

#endif /* SHMIPC_TAP_H */
