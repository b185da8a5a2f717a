/* bench/scale: the processes, pipes, clocks and /proc figures every part uses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scale.h"

static void sys_die(const char *what)
{
    fprintf(stderr, "scale: %s: %s\n", what, strerror(errno));
    exit(1);
}

pid_t scale_spawn(int (*fn)(void *), void *arg)
{
    pid_t parent = getpid(), pid;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        sys_die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        _exit(fn(arg));
    }
    return pid;
}

int scale_wait(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void *scale_shared(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        sys_die("mmap");
    return p;
}

void scale_unshare(void *p, size_t size)
{
    munmap(p, size);
}

void scale_pipe(int fd[2])
{
    if (pipe2(fd, O_CLOEXEC) != 0)
        sys_die("pipe");
}

int scale_read(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

int scale_write(int fd, const void *buf, size_t n)
{
    for (size_t put = 0; put < n;) {
        ssize_t k = write(fd, (const char *)buf + put, n - put);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        put += (size_t)k;
    }
    return 0;
}

int scale_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, timeout_ms) > 0;
}

void scale_raise_nofile(void)
{
    struct rlimit r;

    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

void scale_name(char *buf, size_t cap, const char *part, int provider, long n)
{
    snprintf(buf, cap, "scale-%d-%s-%s-%ld", (int)getpid(), part, scale_provider_name(provider),
             n);
}

const char *scale_error(int rc, char *buf, size_t cap)
{
    const char *detail = shmipc_error_detail();

    snprintf(buf, cap, "%s%s%s%s", shmipc_strerror(rc), *detail ? " (" : "", detail,
             *detail ? ")" : "");
    return buf;
}

static double clock_ns(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

double scale_now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

double scale_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

void scale_memory(long *rss_kib, long *pss_kib)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];

    *rss_kib = *pss_kib = -1;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "Rss: %ld kB", rss_kib);
        sscanf(line, "Pss: %ld kB", pss_kib);
    }
    fclose(f);
}

const char *scale_provider_name(int provider)
{
    return provider == SHMIPC_PROVIDER_LEND ? "lend" : "shared";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double scale_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}
