/* bench/lend_cost — what a session costs its server, lend provider beside shared (issue
 * 14): the time to connect, the server's memory per idle session, the total throughput of
 * many sessions against one, and the server's memory over many client lifetimes, some of
 * them SIGKILLed while they hold a loan.
 *
 *   lend_cost [--quick] [--only connect|memory|throughput|churn] [--lifetimes N]
 *             [--churn-provider lend|shared]
 *
 * The server is a child process: one poll loop over its server fd and every session (as
 * examples/c/poll_server.c), which answers each message with a 1 KiB object of its session
 * arena, written and lent (the lend provider's point: the client reads the server's bytes
 * in place). It tells the bench on a pipe when a session comes ('a') and goes ('c'). The
 * clients are other children of the bench, which holds no session itself.
 *
 *   connect     connect + close, one client, sequentially: the median time of a connect
 *   memory      one client process holds 1, then 64, then 255 idle sessions: the server's
 *               RSS and PSS (/proc/PID/smaps_rollup) at each, and what its memfd mappings
 *               (pools, tables, control segments) and the rest (heap, jemalloc's
 *               metadata) take of the RSS
 *   throughput  1 client, then 64 clients at once, each asking and reading objects as fast
 *               as it can for a few seconds: the total objects per second, and the ratio
 *   churn       client lifetimes, 4 at a time: connect, take 3 objects, keep the last, then
 *               close (9 in 10) or be SIGKILLed (1 in 10); the server's RSS every 1/10th
 *
 * Figures of a loaded machine are noisy: compare the ratios of one run. A benchmark, not a
 * test: it exits non-zero only if something failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmipc.h"

#define OBJ_SIZE 1024
#define CHURN_AT_ONCE 4

static const int mem_levels[] = {1, 64, 127, 255};
#define NLEVELS (sizeof mem_levels / sizeof mem_levels[0])

static char server_name[64];
static char sock_dir[] = "/tmp/shmipc-lend-cost-XXXXXX";
static pid_t bench_pid, server_pid; /* the bench's, and its running server's */
static int quick;

/* The bench goes (or fails): its server goes with it, and so does the socket directory. */
static void clean_up(void)
{
    char path[128];

    if (getpid() != bench_pid)
        return;
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
    }
    snprintf(path, sizeof path, "%s/%s.sock", sock_dir, server_name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.lock", sock_dir, server_name);
    unlink(path);
    rmdir(sock_dir);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "lend_cost[%d]: %s: %s (%s)\n", (int)getpid(), what,
            rc ? shmipc_strerror(rc) : strerror(errno), rc ? shmipc_error_detail() : "");
    exit(1);
}

static const char *provider_name(int provider)
{
    return provider == SHMIPC_PROVIDER_LEND ? "lend" : "shared";
}

/* ---- the server ------------------------------------------------------------------------ */

struct server {
    shmipc_server *srv;
    shmipc_session **s;
    int n, cap;
    int note; /* 'a' and 'c' to the bench */
};

static void note(struct server *sv, char c)
{
    if (write(sv->note, &c, 1) != 1)
        exit(1);
}

static void take_session(struct server *sv)
{
    shmipc_session *s;
    int rc = shmipc_server_accept(sv->srv, 0, &s);

    if (rc == SHMIPC_ETIMEDOUT)
        return;
    if (rc != 0)
        die("accept", rc);
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? 2 * sv->cap : 64;
        if (!(sv->s = realloc(sv->s, (size_t)sv->cap * sizeof *sv->s)))
            die("realloc", 0);
    }
    sv->s[sv->n++] = s;
    note(sv, 'a');
}

/* Answer every message that waits with an object; ECLOSED once the peer is gone. */
static int serve(shmipc_session *s)
{
    char msg[64];
    size_t len;
    shmipc_obj *o;
    int rc;

    while ((rc = shmipc_recv(s, msg, sizeof msg, &len, NULL, 0)) == 0) {
        if ((rc = shmipc_obj_new(shmipc_session_arena(s), OBJ_SIZE, &o)) != 0)
            die("obj_new", rc);
        memset(shmipc_obj_ptr(o), 'x', OBJ_SIZE);
        rc = shmipc_send(s, "obj", 3, o);
        shmipc_obj_unref(o);
        if (rc != 0)
            break;
    }
    if (rc != SHMIPC_ETIMEDOUT && rc != SHMIPC_ECLOSED)
        fprintf(stderr, "lend_cost: server: %s (%s): the session is dropped\n",
                shmipc_strerror(rc), shmipc_error_detail());
    return rc == SHMIPC_ETIMEDOUT ? 0 : SHMIPC_ECLOSED;
}

/* Serve until the bench closes `quit`. */
static void server_main(int provider, int note_fd, int quit)
{
    struct server sv = {.note = note_fd};
    shmipc_server_opts o;
    struct pollfd *fds = NULL;
    int rc;

    shmipc_server_opts_init(&o);
    o.provider = provider;
    o.max_pending = 256;
    if ((rc = shmipc_server_open(server_name, &o, &sv.srv)) != 0)
        die("server_open", rc);
    note(&sv, 'o');
    for (;;) {
        if (!(fds = realloc(fds, (size_t)(sv.n + 2) * sizeof *fds)))
            die("realloc", 0);
        fds[0] = (struct pollfd){.fd = quit, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = shmipc_server_fd(sv.srv), .events = POLLIN};
        for (int i = 0; i < sv.n; i++)
            fds[i + 2] = (struct pollfd){.fd = shmipc_session_fd(sv.s[i]), .events = POLLIN};
        int n = sv.n;
        if (poll(fds, (nfds_t)n + 2, -1) < 0 && errno != EINTR)
            die("poll", 0);
        if (fds[0].revents)
            break;
        for (int i = n - 1; i >= 0; i--)
            if (fds[i + 2].revents && serve(sv.s[i]) == SHMIPC_ECLOSED) {
                shmipc_session_close(sv.s[i]);
                sv.s[i] = sv.s[--sv.n];
                note(&sv, 'c');
            }
        if (fds[1].revents)
            take_session(&sv);
    }
    for (int i = 0; i < sv.n; i++)
        shmipc_session_close(sv.s[i]);
    shmipc_server_close(sv.srv);
    exit(0);
}

struct server_proc {
    pid_t pid;
    int notes, quit; /* read end of its notes, write end of its quit pipe */
    int open;        /* sessions open, as its notes told */
};

static struct server_proc start_server(int provider)
{
    struct server_proc sp = {0};
    int np[2], qp[2];
    char c;

    if (pipe(np) != 0 || pipe(qp) != 0)
        die("pipe", 0);
    if ((sp.pid = fork()) == 0) {
        close(np[0]);
        close(qp[1]);
        server_main(provider, np[1], qp[0]);
    }
    close(np[1]);
    close(qp[0]);
    sp.notes = np[0];
    sp.quit = qp[1];
    server_pid = sp.pid;
    if (read(sp.notes, &c, 1) != 1 || c != 'o')
        die("server start", 0);
    return sp;
}

/* Read the server's notes until `open` sessions are open (give up after 30 s). */
static void await_open(struct server_proc *sp, int open)
{
    double end = now_ms() + 30000;

    while (sp->open != open) {
        struct pollfd p = {.fd = sp->notes, .events = POLLIN};
        char c;
        if (now_ms() > end) {
            fprintf(stderr, "lend_cost: the server has %d sessions, not %d\n", sp->open, open);
            exit(1);
        }
        if (poll(&p, 1, 100) == 1 && read(sp->notes, &c, 1) == 1)
            sp->open += c == 'a' ? 1 : c == 'c' ? -1 : 0;
    }
}

static void stop_server(struct server_proc *sp)
{
    int st;

    close(sp->quit);
    close(sp->notes);
    waitpid(sp->pid, &st, 0);
    server_pid = 0;
}

/* ---- the server's memory ------------------------------------------------------------ */

struct mem {
    long rss_kb, pss_kb; /* smaps_rollup */
    long memfd_kb;       /* RSS of the memfd mappings */
};

static struct mem server_mem(pid_t pid)
{
    struct mem m = {0};
    char path[64], line[512];
    FILE *f;
    int in_memfd = 0;
    long kb;

    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "Rss: %ld", &kb) == 1)
                m.rss_kb = kb;
            else if (sscanf(line, "Pss: %ld", &kb) == 1)
                m.pss_kb = kb;
        }
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        while (fgets(line, sizeof line, f)) {
            unsigned long lo, hi;
            if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) /* a mapping's first line */
                in_memfd = strstr(line, "/memfd:") != NULL;
            if (in_memfd && sscanf(line, "Rss: %ld", &kb) == 1)
                m.memfd_kb += kb;
        }
        fclose(f);
    }
    return m;
}

/* ---- clients -------------------------------------------------------------------------- */

static shmipc_session *connect_or_die(void)
{
    shmipc_client_opts o;
    shmipc_session *s;
    int rc;

    shmipc_client_opts_init(&o);
    o.timeout_ms = 30000;
    o.wait = 1;
    if ((rc = shmipc_connect(server_name, "bench", &o, &s)) != 0)
        die("connect", rc);
    return s;
}

/* Ask for an object and borrow it; the caller drops it. */
static shmipc_obj *take_object(shmipc_session *s)
{
    char buf[64];
    size_t len;
    shmipc_obj *o = NULL;
    int rc;

    if ((rc = shmipc_send(s, "req", 3, NULL)) != 0 ||
        (rc = shmipc_recv(s, buf, sizeof buf, &len, &o, 10000)) != 0)
        die("request", rc);
    if (!o || ((const char *)shmipc_obj_ptr(o))[OBJ_SIZE - 1] != 'x')
        die("the object", SHMIPC_EPROTO);
    return o;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- connect -------------------------------------------------------------------------- */

static double connect_median_ms(int provider, int rounds)
{
    struct server_proc sp = start_server(provider);
    int p[2];
    double median = 0;
    pid_t pid;

    if (pipe(p) != 0)
        die("pipe", 0);
    if ((pid = fork()) == 0) {
        double *t = calloc((size_t)rounds, sizeof *t);
        for (int i = -5; i < rounds; i++) { /* 5 to warm up */
            double t0 = now_ms();
            shmipc_session *s = connect_or_die();
            if (i >= 0)
                t[i] = now_ms() - t0;
            shmipc_session_close(s);
        }
        qsort(t, (size_t)rounds, sizeof *t, cmp_double);
        if (write(p[1], &t[rounds / 2], sizeof *t) != sizeof *t)
            exit(1);
        exit(0);
    }
    if (read(p[0], &median, sizeof median) != sizeof median)
        die("the connecting client", 0);
    waitpid(pid, NULL, 0);
    close(p[0]);
    close(p[1]);
    stop_server(&sp);
    return median;
}

static void bench_connect(void)
{
    int rounds = quick ? 30 : 200;
    double lend = connect_median_ms(SHMIPC_PROVIDER_LEND, rounds);
    double shared = connect_median_ms(SHMIPC_PROVIDER_SHARED, rounds);

    printf("connect (median of %d): lend %.2f ms, shared %.2f ms: lend/shared %.2f "
           "(goal <= 2)\n",
           rounds, lend, shared, lend / shared);
}

/* ---- memory per idle session ------------------------------------------------------------ */

/* A client process that holds sessions: it reads a number, connects until it holds that
 * many (or the server refuses one: a cap), answers how many it holds; EOF: it closes them
 * all and exits. */
static void holder_main(int cmd, int ack)
{
    shmipc_session **s = calloc(1024, sizeof *s);
    shmipc_client_opts o;
    int target, n = 0, refused = 0;

    shmipc_client_opts_init(&o);
    o.timeout_ms = 30000;
    while (read(cmd, &target, sizeof target) == sizeof target) {
        while (n < target && n < 1024 && !refused)
            if (shmipc_connect(server_name, "bench", &o, &s[n]) == 0)
                n++;
            else
                refused = 1;
        if (write(ack, &n, sizeof n) != sizeof n)
            exit(1);
    }
    while (n > 0)
        shmipc_session_close(s[--n]);
    exit(0);
}

static void bench_memory(int provider)
{
    struct server_proc sp = start_server(provider);
    struct mem base = server_mem(sp.pid), m[NLEVELS];
    int cp[2], ap[2], held[NLEVELS], last = 0;
    pid_t pid;

    if (pipe(cp) != 0 || pipe(ap) != 0)
        die("pipe", 0);
    if ((pid = fork()) == 0) {
        close(cp[1]);
        close(ap[0]);
        holder_main(cp[0], ap[1]);
    }
    close(cp[0]);
    close(ap[1]);
    for (size_t i = 0; i < NLEVELS; i++) {
        if (write(cp[1], &mem_levels[i], sizeof(int)) != sizeof(int) ||
            read(ap[0], &held[i], sizeof(int)) != sizeof(int))
            die("the holding client", 0);
        await_open(&sp, held[i]);
        usleep(200000); /* let it settle */
        m[i] = server_mem(sp.pid);
        if (held[i] == held[last] && i > 0)
            break; /* refused: the server's cap */
        last = (int)i;
    }
    printf("memory, %s: server RSS %ld KiB with no session (memfd %ld KiB)\n",
           provider_name(provider), base.rss_kb, base.memfd_kb);
    for (int i = 0; i <= last; i++)
        printf("  %3d idle sessions: RSS %7ld KiB (memfd %7ld KiB), PSS %7ld KiB\n", held[i],
               m[i].rss_kb, m[i].memfd_kb, m[i].pss_kb);
    if (last > 0) {
        int n = held[last] - held[0];
        printf("  per session (from %d to %d): RSS %ld KiB (memfd %ld KiB), PSS %ld KiB "
               "(goal <= 256 KiB)\n",
               held[0], held[last], (m[last].rss_kb - m[0].rss_kb) / n,
               (m[last].memfd_kb - m[0].memfd_kb) / n, (m[last].pss_kb - m[0].pss_kb) / n);
    }
    close(cp[1]);
    waitpid(pid, NULL, 0);
    close(ap[0]);
    await_open(&sp, 0);
    stop_server(&sp);
}

/* ---- throughput ------------------------------------------------------------------------ */

/* One client: connect, say it is ready, wait for the start (EOF on go), take objects for
 * secs seconds, write how many. */
static void worker_main(int ready, int go, int result, double secs)
{
    shmipc_session *s = connect_or_die();
    char c;
    long n = 0;
    double end;

    if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
        exit(1);
    end = now_ms() + secs * 1e3;
    while (now_ms() < end) {
        shmipc_obj_unref(take_object(s));
        n++;
    }
    if (write(result, &n, sizeof n) != sizeof n)
        exit(1);
    shmipc_session_close(s);
    exit(0);
}

static double objects_per_s(int provider, int clients, double secs)
{
    struct server_proc sp = start_server(provider);
    int rp[2], gp[2], resp[2];
    long total = 0, n;
    char c;

    if (pipe(rp) != 0 || pipe(gp) != 0 || pipe(resp) != 0)
        die("pipe", 0);
    for (int i = 0; i < clients; i++)
        if (fork() == 0) {
            close(gp[1]);
            worker_main(rp[1], gp[0], resp[1], secs);
        }
    close(gp[0]);
    for (int i = 0; i < clients; i++)
        if (read(rp[0], &c, 1) != 1)
            die("a client", 0);
    close(gp[1]); /* go */
    for (int i = 0; i < clients; i++) {
        if (read(resp[0], &n, sizeof n) != sizeof n)
            die("a client's count", 0);
        total += n;
    }
    for (int i = 0; i < clients; i++)
        if (wait(NULL) == sp.pid)
            die("the server died", 0);
    close(rp[0]), close(rp[1]), close(resp[0]), close(resp[1]);
    stop_server(&sp);
    return (double)total / secs;
}

static void bench_throughput(int provider)
{
    double secs = quick ? 1 : 3;
    double one = objects_per_s(provider, 1, secs), many = objects_per_s(provider, 64, secs);

    printf("throughput, %s (1 KiB objects lent by the server): 1 session %.0f/s, 64 "
           "sessions %.0f/s in total: %.2f of one (goal >= 0.8)\n",
           provider_name(provider), one, many, many / one);
}

/* ---- churn --------------------------------------------------------------------------- */

/* One lifetime: take 3 objects and keep the last; killed: SIGKILL while holding it. */
static void lifetime_main(int killed)
{
    shmipc_session *s = connect_or_die();
    shmipc_obj *o;

    shmipc_obj_unref(take_object(s));
    shmipc_obj_unref(take_object(s));
    o = take_object(s);
    if (killed)
        raise(SIGKILL);
    shmipc_obj_unref(o);
    shmipc_session_close(s);
    exit(0);
}

static void bench_churn(int provider, int lifetimes)
{
    struct server_proc sp = start_server(provider);
    struct mem first = {0}, m;
    int step = lifetimes / 10 > 0 ? lifetimes / 10 : 1, running = 0, started = 0, done = 0;
    int failed = 0;
    double t0 = now_ms();

    printf("churn, %s: %d client lifetimes, %d at a time, 1 in 10 SIGKILLed holding a "
           "loan: server RSS (KiB)\n",
           provider_name(provider), lifetimes, CHURN_AT_ONCE);
    printf("  %6d: RSS %ld (memfd %ld)\n", 0, server_mem(sp.pid).rss_kb,
           server_mem(sp.pid).memfd_kb);
    while (done < lifetimes) {
        /* at each step, the lifetimes of the step end before the next begin: the server is
         * measured with no session */
        while (running < CHURN_AT_ONCE && started < lifetimes &&
               started < done - done % step + step) {
            if (fork() == 0)
                lifetime_main(started % 10 == 9);
            started++;
            running++;
        }
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid == sp.pid)
            die("the server died", 0);
        if (pid > 0) {
            running--;
            done++;
            failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0) &&
                      !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
            if (done % step == 0) {
                await_open(&sp, 0); /* the server saw them all go */
                m = server_mem(sp.pid);
                if (done == step)
                    first = m;
                printf("  %6d: RSS %ld (memfd %ld), %+ld since %d  [%.0f s]%s\n", done,
                       m.rss_kb, m.memfd_kb, m.rss_kb - first.rss_kb, step,
                       (now_ms() - t0) / 1e3, failed ? "  (some lifetimes FAILED)" : "");
                fflush(stdout);
            }
        }
    }
    stop_server(&sp);
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *only = NULL;
    int lifetimes = 20000, churn_provider = SHMIPC_PROVIDER_LEND;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--lifetimes") == 0 && i + 1 < argc)
            lifetimes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--churn-provider") == 0 && i + 1 < argc)
            churn_provider = strcmp(argv[++i], "shared") == 0 ? SHMIPC_PROVIDER_SHARED
                                                              : SHMIPC_PROVIDER_LEND;
        else {
            fprintf(stderr, "usage: lend_cost [--quick] [--only connect|memory|throughput|"
                            "churn] [--lifetimes N] [--churn-provider lend|shared]\n");
            return 2;
        }
    }
    if (quick && lifetimes == 20000)
        lifetimes = 2000;
    if (!mkdtemp(sock_dir))
        die("mkdtemp", 0);
    setenv("SHMIPC_SOCKET_DIR", sock_dir, 1);
    snprintf(server_name, sizeof server_name, "lend-cost-%d", (int)getpid());
    bench_pid = getpid();
    atexit(clean_up);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!only || strcmp(only, "connect") == 0)
        bench_connect();
    for (int p = SHMIPC_PROVIDER_SHARED; p <= SHMIPC_PROVIDER_LEND; p++)
        if (!only || strcmp(only, "memory") == 0)
            bench_memory(p);
    for (int p = SHMIPC_PROVIDER_SHARED; p <= SHMIPC_PROVIDER_LEND; p++)
        if (!only || strcmp(only, "throughput") == 0)
            bench_throughput(p);
    if (!only || strcmp(only, "churn") == 0)
        bench_churn(churn_provider, lifetimes);
    return 0;
}
