/* bench/roundtrip — what a lend costs, against the ways of moving bytes it replaces.
 *
 * The shmipc round trip: the server lends an object with a message (shmipc_send), the
 * client receives and borrows it (shmipc_recv), reads its first and last byte, releases it
 * (shmipc_obj_unref) and answers with an empty message; the server receives the answer.
 * The object is made once per size and its pages touched first: this is the warm path (the
 * pools are mapped in both processes), which is what must not depend on the size. The
 * client is this program re-executed (--client), a separate process with its own mappings.
 * Modes: blocking (the receiver sleeps on the session fd at once) and spinning (it polls
 * the ring for up to 200 us before sleeping; shmipc_session_set_spin). Both providers:
 * shared (both map the arena read-write) and lend (the owner's jemalloc pools, mapped
 * read-only by the borrower, whose release is reported back through the release ring).
 *
 * Baselines, measured in the same run between two processes: a Unix-socket
 * (SOCK_SEQPACKET) ping-pong of 16 B; a busy-poll ping-pong on one shared cache line; and
 * the copy of each size through a Unix stream socket into a buffer of the receiver's own.
 * The cold cost: connecting (handshake, the arenas mapped) and a first read of every page
 * of a 64 MiB object in the new mapping.
 *
 * Spinning round trips and the busy-poll run pinned, one side per core (see pin_to).
 * Figures are medians over repetitions. A benchmark, not a test: it prints the goals and
 * whether they are met, and exits non-zero only if a round trip failed. --csv FILE also
 * writes the figures for bench/plot_roundtrip.py; --quick runs a tenth of the rounds. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmipc.h"

#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)
#define REPS 5
#define SPIN_US 200
#define COLD_SIZE (64 * MiB)

static const size_t sizes[] = {64, 4096, 64 << 10, MiB, 16 * MiB, 64 * MiB, 256 * MiB, GiB};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define I64MIB 5 /* sizes[I64MIB] is 64 MiB */

static char self_path[4096];
static long rounds = 2000;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Spinning needs a core per spinner: a side that shared a core with its peer would spin
 * through the peer's time slice (and the kernel wakes a task next to its waker). So the
 * spinning round trips and the busy-poll baseline run with the server on one core and
 * its peer on another (the first two this process may use); the blocking ones and their
 * baselines run where the kernel puts them. With a single core nothing is pinned. */
static cpu_set_t allowed;
static int allowed_known;

static void pin_to(int nth)
{
    cpu_set_t one;
    int seen = 0;

    if (!allowed_known && sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    allowed_known = 1;
    if (CPU_COUNT(&allowed) < 2)
        return;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed) && seen++ == nth) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
            return;
        }
}

static void unpin(void)
{
    if (allowed_known)
        sched_setaffinity(0, sizeof allowed, &allowed);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "roundtrip: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    exit(1);
}

static void sys_die(const char *what)
{
    fprintf(stderr, "roundtrip: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- the shmipc client (this program with --client NAME) --------------------------- */

/* Borrow what comes, read both ends, release, answer; until "end". */
static int client_main(const char *name)
{
    shmipc_session *s;
    char msg[16];
    size_t len;
    volatile unsigned char sink;
    int rc = shmipc_connect(name, "bench", NULL, &s);

    if (rc != 0)
        die("connect", rc);
    for (;;) {
        shmipc_obj *o = NULL;
        if ((rc = shmipc_recv(s, msg, sizeof msg, &len, &o, -1)) != 0)
            die("client recv", rc);
        if (len == 4 && memcmp(msg, "spin", 4) == 0) {
            pin_to(1);
            shmipc_session_set_spin(s, SPIN_US);
        }
        if (len == 3 && memcmp(msg, "end", 3) == 0)
            break;
        if (o) {
            const unsigned char *p = shmipc_obj_ptr(o);
            if (len == 4 && memcmp(msg, "cold", 4) == 0) /* touch every page */
                for (size_t i = 0; i < shmipc_obj_size(o); i += 4096)
                    sink = p[i];
            sink = p[0];
            sink = p[shmipc_obj_size(o) - 1];
            shmipc_obj_unref(o);
        }
        if ((rc = shmipc_send(s, NULL, 0, NULL)) != 0)
            die("client send", rc);
    }
    (void)sink;
    shmipc_session_close(s);
    return 0;
}

static pid_t start_client(const char *name)
{
    pid_t pid = fork();

    if (pid == 0) {
        execl(self_path, "roundtrip", "--client", name, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* ---- the shmipc server side ---------------------------------------------------------- */

static void expect_answer(shmipc_session *s)
{
    char msg[16];
    size_t len;
    int rc = shmipc_recv(s, msg, sizeof msg, &len, NULL, 30000);

    if (rc != 0)
        die("server recv", rc);
}

/* ns per round trip with an object of `size` (already touched), median of REPS. */
static double lend_rounds(shmipc_session *s, shmipc_obj *o, long n)
{
    double t[REPS];

    for (int r = 0; r < REPS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            int rc = shmipc_send(s, "x", 1, o);
            if (rc != 0)
                die("server send", rc);
            expect_answer(s);
        }
        t[r] = (now_ns() - t0) / (double)n;
    }
    return median(t, REPS);
}

struct shmipc_results {
    double block[NSIZES], spin[NSIZES];
    double connect_ms, cold_touch_ms;
};

static void say(shmipc_session *s, const char *word)
{
    int rc = shmipc_send(s, word, strlen(word), NULL);
    if (rc != 0)
        die("server send", rc);
    expect_answer(s);
}

static size_t all_sizes(void)
{
    size_t total = 0;
    for (size_t i = 0; i < NSIZES; i++)
        total += sizes[i];
    return total;
}

static void run_shmipc(int provider, struct shmipc_results *res)
{
    char name[64];
    shmipc_server_opts so;
    shmipc_server *srv;
    shmipc_session *s;
    shmipc_obj *objs[NSIZES], *cold;
    pid_t pid;
    double t0;
    int rc;

    snprintf(name, sizeof name, "bench-rt-%d", (int)getpid());
    shmipc_server_opts_init(&so);
    so.provider = provider;
    /* shared: one arena for everything; lend: pools of 256 MiB, the 1 GiB object in a pool
     * of its own */
    so.session_arena_size = provider ? 256 * MiB : all_sizes() + 2 * COLD_SIZE + 16 * MiB;
    if ((rc = shmipc_server_open(name, &so, &srv)) != 0) {
        if (rc == SHMIPC_ENOTSUP) {
            res->connect_ms = -1;
            return;
        }
        die("server_open", rc);
    }
    t0 = now_ns();
    pid = start_client(name);
    if ((rc = shmipc_server_accept(srv, 30000, &s)) != 0)
        die("accept", rc);
    res->connect_ms = (now_ns() - t0) / 1e6;
    for (size_t i = 0; i < NSIZES; i++) {
        if ((rc = shmipc_obj_new(shmipc_session_arena(s), sizes[i], &objs[i])) != 0)
            die("obj_new", rc);
        memset(shmipc_obj_ptr(objs[i]), (int)i + 1, sizes[i]); /* warm: pages exist */
    }
    /* cold: a fresh object whose pages the client has never mapped */
    if ((rc = shmipc_obj_new(shmipc_session_arena(s), COLD_SIZE, &cold)) != 0)
        die("obj_new", rc);
    memset(shmipc_obj_ptr(cold), 7, COLD_SIZE);
    t0 = now_ns();
    if ((rc = shmipc_send(s, "cold", 4, cold)) != 0)
        die("send", rc);
    expect_answer(s);
    res->cold_touch_ms = (now_ns() - t0) / 1e6;
    shmipc_obj_unref(cold);
    for (size_t i = 0; i < NSIZES; i++) {
        lend_rounds(s, objs[i], rounds / 10); /* warm-up */
        res->block[i] = lend_rounds(s, objs[i], rounds);
    }
    pin_to(0);
    say(s, "spin");
    shmipc_session_set_spin(s, SPIN_US);
    for (size_t i = 0; i < NSIZES; i++)
        res->spin[i] = lend_rounds(s, objs[i], rounds);
    unpin();
    shmipc_send(s, "end", 3, NULL);
    waitpid(pid, NULL, 0);
    for (size_t i = 0; i < NSIZES; i++)
        shmipc_obj_unref(objs[i]);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* ---- baselines ------------------------------------------------------------------------ */

/* Unix-socket ping-pong of 16 B, ns per round trip. */
static double uds_pingpong(long n)
{
    int sv[2];
    char buf[16] = {0};
    double t[REPS];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
        sys_die("socketpair");
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        while (read(sv[1], buf, sizeof buf) == (ssize_t)sizeof buf)
            if (write(sv[1], buf, sizeof buf) != (ssize_t)sizeof buf)
                break;
        _exit(0);
    }
    close(sv[1]);
    for (int r = 0; r < REPS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (write(sv[0], buf, sizeof buf) != (ssize_t)sizeof buf ||
                read(sv[0], buf, sizeof buf) != (ssize_t)sizeof buf)
                sys_die("uds ping-pong");
        t[r] = (now_ns() - t0) / (double)n;
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    return median(t, REPS);
}

/* Busy-poll ping-pong on one shared cache line, ns per round trip. */
static double busy_pingpong(long n)
{
    _Atomic long *line = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                              -1, 0);
    double t[REPS];
    long total = (long)REPS * n;
    pid_t pid;

    if (line == MAP_FAILED)
        sys_die("mmap");
    atomic_store(line, 0);
    pin_to(0);
    pid = fork();
    if (pid == 0) {
        pin_to(1);
        for (long v = 1; v < 2 * total; v += 2) {
            while (atomic_load_explicit(line, memory_order_acquire) != v)
                ;
            atomic_store_explicit(line, v + 1, memory_order_release);
        }
        _exit(0);
    }
    for (int r = 0; r < REPS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            long v = 2 * ((long)r * n + i) + 1;
            atomic_store_explicit(line, v, memory_order_release);
            while (atomic_load_explicit(line, memory_order_acquire) != v + 1)
                ;
        }
        t[r] = (now_ns() - t0) / (double)n;
    }
    waitpid(pid, NULL, 0);
    unpin();
    munmap((void *)line, 4096);
    return median(t, REPS);
}

/* Copy `size` bytes through a Unix stream socket to a child that receives them into a
 * buffer of its own (fresh for every transfer, as a receiver that keeps the data needs)
 * and answers one byte: ns per transfer (fewer repetitions for big sizes). */
static double uds_copy(size_t size)
{
    size_t chunk = size < MiB ? size : MiB;
    char *buf = malloc(chunk), ack = 0;
    int sv[2], reps = size >= 64 * MiB ? 3 : REPS;
    long n = size >= 64 * MiB ? 1 : size >= MiB ? 20 : 2000;
    double t[REPS];
    pid_t pid;

    if (!buf || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        sys_die("socketpair");
    memset(buf, 1, chunk);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        for (;;) {
            char *dst = malloc(size);
            size_t got = 0;
            while (dst && got < size) {
                ssize_t k = read(sv[1], dst + got, size - got < chunk ? size - got : chunk);
                if (k <= 0)
                    _exit(0);
                got += (size_t)k;
            }
            free(dst);
            if (!dst || write(sv[1], &ack, 1) != 1)
                _exit(1);
        }
    }
    close(sv[1]);
    for (int r = 0; r < reps; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            for (size_t sent = 0; sent < size;) {
                ssize_t k = write(sv[0], buf, size - sent < chunk ? size - sent : chunk);
                if (k <= 0)
                    sys_die("uds copy");
                sent += (size_t)k;
            }
            if (read(sv[0], &ack, 1) != 1)
                sys_die("uds copy ack");
        }
        t[r] = (now_ns() - t0) / (double)n;
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    free(buf);
    return median(t, reps);
}

/* ---- report ----------------------------------------------------------------------------- */

static const char *size_name(size_t s, char *buf, size_t cap)
{
    if (s >= GiB)
        snprintf(buf, cap, "%zu GiB", s / GiB);
    else if (s >= MiB)
        snprintf(buf, cap, "%zu MiB", s / MiB);
    else if (s >= 1024)
        snprintf(buf, cap, "%zu KiB", s / 1024);
    else
        snprintf(buf, cap, "%zu B", s);
    return buf;
}

static void goal(const char *what, double value, const char *op, double limit)
{
    int met = op[0] == '<' ? value <= limit : value >= limit;
    printf("  %-52s %10.2f  (goal %s %g)  %s\n", what, value, op, limit,
           met ? "met" : "MISSED");
}

static void report(const char *provider, const struct shmipc_results *res, double uds,
                   double busy, const double *copy)
{
    char sz[32];

    if (res->connect_ms < 0) {
        printf("\n%s provider: not in this build (no jemalloc)\n", provider);
        return;
    }
    printf("\n%s provider: connect (handshake, arenas mapped) %.2f ms; first read of every "
           "page of a %zu MiB object %.1f ms\n",
           provider, res->connect_ms, COLD_SIZE / MiB, res->cold_touch_ms);
    printf("%-8s %14s %14s %16s %14s %14s\n", "size", "lend block us", "lend spin us",
           "socket copy us", "copy / lend", "block / UDS");
    for (size_t i = 0; i < NSIZES; i++)
        printf("%-8s %14.2f %14.2f %16.1f %13.0fx %13.2fx\n",
               size_name(sizes[i], sz, sizeof sz), res->block[i] / 1e3, res->spin[i] / 1e3,
               copy[i] / 1e3, copy[i] / res->block[i], res->block[i] / uds);
    printf("goals (reported, not enforced):\n");
    goal("blocking round trip (64 B) / UDS ping-pong", res->block[0] / uds, "<=", 1.0);
    goal("spinning round trip (64 B) / busy-poll ping-pong", res->spin[0] / busy, "<=", 3.0);
    goal("1 GiB / 64 B round trip (blocking)", res->block[NSIZES - 1] / res->block[0],
         "<=", 1.2);
    goal("64 MiB: socket copy / lend (blocking)", copy[I64MIB] / res->block[I64MIB],
         ">=", 1000);
}

/* The figures as CSV, one line per size (microseconds; bench/plot_roundtrip.py draws
 * them). A provider not in this build has empty fields. */
static void write_csv(const char *path, const struct shmipc_results *res, double uds,
                      double busy, const double *copy)
{
    FILE *f = fopen(path, "w");

    if (!f)
        sys_die(path);
    fprintf(f, "size,shared_block_us,shared_spin_us,lend_block_us,lend_spin_us,"
               "socket_copy_us,uds_pingpong_us,busy_pingpong_us\n");
    for (size_t i = 0; i < NSIZES; i++) {
        fprintf(f, "%zu", sizes[i]);
        for (int p = 0; p < 2; p++)
            if (res[p].connect_ms < 0)
                fprintf(f, ",,");
            else
                fprintf(f, ",%.3f,%.3f", res[p].block[i] / 1e3, res[p].spin[i] / 1e3);
        fprintf(f, ",%.3f,%.3f,%.3f\n", copy[i] / 1e3, uds / 1e3, busy / 1e3);
    }
    if (fclose(f) != 0)
        sys_die(path);
}

int main(int argc, char **argv)
{
    struct shmipc_results res[2];
    double uds, busy, copy[NSIZES];
    ssize_t n;

    const char *csv = NULL;

    if (argc == 3 && strcmp(argv[1], "--client") == 0)
        return client_main(argv[2]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            rounds = 200;
        else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
            csv = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--csv FILE]\n", argv[0]);
            return 2;
        }
    }
    n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n <= 0)
        sys_die("readlink /proc/self/exe");
    self_path[n] = '\0';

    printf("shmipc %s round-trip benchmark: %ld round trips x %d repetitions (median)\n",
           shmipc_version(), rounds, REPS);
    fflush(stdout);
    uds = uds_pingpong(rounds * 5);
    busy = busy_pingpong(rounds * 50);
    run_shmipc(SHMIPC_PROVIDER_SHARED, &res[0]);
    run_shmipc(SHMIPC_PROVIDER_LEND, &res[1]);
    for (size_t i = 0; i < NSIZES; i++)
        copy[i] = uds_copy(sizes[i]);
    printf("\nbaselines: Unix-socket ping-pong (16 B) %.1f us, busy-poll ping-pong %.2f us\n",
           uds / 1e3, busy / 1e3);
    report("shared", &res[0], uds, busy, copy);
    report("lend", &res[1], uds, busy, copy);
    if (csv)
        write_csv(csv, res, uds, busy, copy);
    return 0;
}
