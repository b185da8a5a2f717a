/* tap.h — a minimal TAP producer for the C tests, plus the helpers they share: unique
 * names per test process, forking children that report by exit status, and the check
 * that a test leaves nothing of its own in the shm directory. */
#ifndef SHMIPC_TAP_H
#define SHMIPC_TAP_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmipc.h"

/* The sanitizers reserve terabytes of address space: no RLIMIT_AS under them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

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

/* A step that only prepares a check: silent when it works, a failure when it does not. */
#define SETUP(cond, what)                                                                      \
    ((cond)                                                                                    \
         ? 1                                                                                   \
         : (ok(0, "setup: %s (%s; detail: %s)", what, strerror(errno), shmipc_error_detail()), \
            0))

/* Compare a shmipc return code with the expected one; on mismatch show both and the
 * library's detail. */
#define is_rc(got, want, ...)                                                                  \
    do {                                                                                       \
        int got_ = (got), want_ = (want);                                                      \
        if (!ok(got_ == want_, __VA_ARGS__))                                                   \
            printf("#   got %d (%s), want %d (%s); detail: %s\n", got_, shmipc_strerror(got_), \
                   want_, shmipc_strerror(want_), shmipc_error_detail());                      \
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

/* A test that cannot run here, and why (counted as passed by TAP, reported as SKIP). */
static __attribute__((unused)) void skip(const char *why)
{
    tap_count++;
    printf("ok %d # SKIP %s\n", tap_count, why);
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

/* Start the test program `prog` with args; its stdout goes to *out_fd if not NULL. */
static __attribute__((unused)) pid_t spawn(const char *prog, char *const args[], int *out_fd)
{
    int fds[2];
    pid_t pid;

    if (out_fd && pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        if (out_fd) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
        }
        execv(test_program(prog), args);
        _exit(127);
    }
    if (out_fd) {
        close(fds[1]);
        *out_fd = fds[0];
    }
    return pid;
}

/* Wait for pid: its exit code, 128 + the signal that killed it, or -1. */
static __attribute__((unused)) int wait_exit(pid_t pid)
{
    int status;

    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A small deterministic generator (xorshift64) for test workloads. */
static _Thread_local uint64_t tap_rng = UINT64_C(0x9e3779b97f4a7c15);

static __attribute__((unused)) void rnd_seed(uint64_t seed)
{
    tap_rng = UINT64_C(0x9e3779b97f4a7c15) * (seed + 1);
}

static __attribute__((unused)) uint64_t rnd(void)
{
    tap_rng ^= tap_rng << 13;
    tap_rng ^= tap_rng >> 7;
    tap_rng ^= tap_rng << 17;
    return tap_rng;
}

static __attribute__((unused)) struct shmipc_arena_stats stats_of(shmipc_arena *a)
{
    struct shmipc_arena_stats s;

    memset(&s, 0, sizeof s);
    shmipc_arena_stats(a, &s);
    return s;
}

#endif /* SHMIPC_TAP_H */
