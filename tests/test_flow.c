/* Never blocked for good by a peer:
 *   - shmipc_send_timeout on a channel the peer never reads says ETIMEDOUT after about the
 *     timeout, and has lent nothing (the object's memory comes back with its handle);
 *   - shmipc_session_shutdown from another thread wakes a recv and a send blocked on the
 *     session at once, and every later call says ECLOSED;
 *   - lend provider: an owner that announces more new pools than a peer that never reads
 *     its socket can queue never blocks; past SHMIPC_CTL_QUEUE_MAX the session closes with
 *     a detail that says why;
 *   - lend provider: a borrower (a forked process with its own session) that drops 200,000
 *     loans, three times what its release ring holds, and then blocks in shmipc_recv(-1),
 *     or closes its session and makes no call any more, gives the owner all its memory back
 *     within 2 s. */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "channel.h"
#include "lend.h"
#include "session_util.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static shmipc_server *server_of(const char *name, int provider, size_t pool_size)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.provider = provider;
    o.session_arena_size = pool_size;
    if (shmipc_server_open(name, &o, &srv) != 0)
        diag("server_open: %s", shmipc_error_detail());
    return srv;
}

/* Fill the ring towards the peer (which reads nothing) until a send finds no room. */
static int fill_ring(shmipc_session *s)
{
    static char big[SHMIPC_MSG_MAX];
    int n = 0, rc;

    while ((rc = shmipc_send_timeout(s, big, sizeof big, NULL, 0)) == 0)
        n++;
    if (rc == SHMIPC_ETIMEDOUT) /* then the smallest records, to the last byte */
        while ((rc = shmipc_send_timeout(s, "", 0, NULL, 0)) == 0)
            n++;
    return rc == SHMIPC_ETIMEDOUT && n > 0;
}

/* ---- send_timeout ------------------------------------------------------------------------ */

static void test_send_timeout(void)
{
    shmipc_server *srv = server_of("timeout", SHMIPC_PROVIDER_SHARED, 0);
    shmipc_session *s, *c;
    shmipc_obj *o;
    struct timespec t0;
    size_t base;
    double took;
    int rc;

    if (!SETUP(srv && open_pair(srv, "timeout", &s, &c) == 0, "a session"))
        goto out;
    ok(fill_ring(s), "a peer that reads nothing: the channel fills, send_timeout(0) says "
                     "ETIMEDOUT at once");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = shmipc_send_timeout(s, "x", 1, NULL, 300);
    took = ms_since(&t0);
    is_rc(rc, SHMIPC_ETIMEDOUT, "send_timeout(300 ms) on a full channel times out");
    ok(took >= 290 && took < 1300, "after about 300 ms (%.0f ms)", took);
    base = used_of(shmipc_session_arena(s));
    SETUP(shmipc_obj_new(shmipc_session_arena(s), 4096, &o) == 0, "an object");
    is_rc(shmipc_send_timeout(s, "o", 1, o, 50), SHMIPC_ETIMEDOUT,
          "send_timeout with an object times out too");
    shmipc_obj_unref(o);
    ok(used_of(shmipc_session_arena(s)) == base, "and lent nothing: the object went with its "
                                                 "handle");
    shmipc_session_close(c);
    shmipc_session_close(s);
out:
    shmipc_server_close(srv);
}

/* ---- shutdown ----------------------------------------------------------------------------- */

struct blocked {
    shmipc_session *s;
    int send; /* else recv */
    int rc;
    struct timespec done;
};

static void *block_on(void *arg)
{
    struct blocked *b = arg;
    char buf[64];
    size_t len;

    if (b->send)
        b->rc = shmipc_send(b->s, "late", 4, NULL);
    else
        b->rc = shmipc_recv(b->s, buf, sizeof buf, &len, NULL, -1);
    clock_gettime(CLOCK_MONOTONIC, &b->done);
    return NULL;
}

/* Start a thread blocked on b (a send or a recv), shut the session down from here: the
 * milliseconds until it returned. */
static double shutdown_wakes(struct blocked *b)
{
    struct timespec t0;
    pthread_t t;

    pthread_create(&t, NULL, block_on, b);
    usleep(200000); /* it sleeps in the call by now */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    shmipc_session_shutdown(b->s);
    pthread_join(t, NULL);
    return (double)(b->done.tv_sec - t0.tv_sec) * 1e3 +
           (double)(b->done.tv_nsec - t0.tv_nsec) / 1e6;
}

static void test_shutdown(void)
{
    shmipc_server *srv = server_of("shut", SHMIPC_PROVIDER_SHARED, 0);
    shmipc_session *s, *c;
    struct blocked r = {0}, w = {0};
    struct pollfd pfd;
    char buf[8];
    size_t len;
    double ms;

    if (!SETUP(srv && open_pair(srv, "shut", &s, &c) == 0, "a session"))
        goto out;
    r.s = c;
    ms = shutdown_wakes(&r);
    is_rc(r.rc, SHMIPC_ECLOSED, "shutdown from another thread ends a recv(-1)");
    ok(ms < 100, "at once (%.1f ms)", ms);
    is_rc(shmipc_recv(c, buf, sizeof buf, &len, NULL, -1), SHMIPC_ECLOSED,
          "a later recv(-1) says ECLOSED without waiting");
    ok(strstr(shmipc_error_detail(), "shut down") != NULL, "detail: %s", shmipc_error_detail());
    is_rc(shmipc_send(c, "x", 1, NULL), SHMIPC_ECLOSED, "so does a send");
    is_rc(shmipc_session_poll(c), SHMIPC_ECLOSED, "and poll");
    pfd = (struct pollfd){.fd = shmipc_session_fd(c), .events = POLLIN};
    ok(poll(&pfd, 1, 0) == 1, "the session fd stays readable");
    ok(!shmipc_session_closed(s), "the peer is told nothing");

    SETUP(fill_ring(s), "a full channel");
    w.s = s;
    w.send = 1;
    ms = shutdown_wakes(&w);
    is_rc(w.rc, SHMIPC_ECLOSED, "shutdown from another thread ends a send waiting for room");
    ok(ms < 100, "at once (%.1f ms)", ms);
    shmipc_session_close(c);
    shmipc_session_close(s);
out:
    shmipc_server_close(srv);
}

/* ---- a peer that never reads its socket ------------------------------------------------ */

/* In a child (it may hang on a library that blocks): lend objects of the pool size, each in
 * a new pool announced on the socket, to a peer that reads nothing. Exit 0 if every lend
 * returned within 1 s and the session closed past the bound, with the documented detail. */
static int announce_to_deaf_peer(void *arg)
{
    shmipc_server *srv = server_of("deaf", SHMIPC_PROVIDER_LEND, 64 * KiB);
    shmipc_session *s, *c;
    struct rlimit nofile;
    double slowest = 0;
    int n, rc = 0;

    (void)arg;
    alarm(60);
    getrlimit(RLIMIT_NOFILE, &nofile); /* a pool's fd, and its copy in the queue */
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    if (!srv || open_pair(srv, "deaf", &s, &c) != 0)
        return 2;
    for (n = 0; n < 2 * SHMIPC_CTL_QUEUE_MAX && rc == 0; n++) {
        shmipc_obj *o;
        shmipc_blob blob;
        struct timespec t0;
        if (shmipc_obj_new(shmipc_session_arena(s), 64 * KiB, &o) != 0)
            return 3;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = shmipc_lend(s, o, &blob);
        if (ms_since(&t0) > slowest)
            slowest = ms_since(&t0);
        shmipc_obj_unref(o);
    }
    printf("# %d lends, the slowest %.1f ms; then %s (%s)\n", n, slowest, shmipc_strerror(rc),
           shmipc_error_detail());
    fflush(stdout);
    if (rc != SHMIPC_ECLOSED || !strstr(shmipc_error_detail(), "reads no control messages") ||
        !shmipc_session_closed(s) || n < SHMIPC_CTL_QUEUE_MAX || slowest > 1000)
        return 1;
    shmipc_session_close(c);
    shmipc_session_close(s);
    shmipc_server_close(srv);
    return 0;
}

static void test_deaf_peer(void)
{
    int st = run_child(announce_to_deaf_peer, NULL);

    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "an owner announcing new pools to a peer that never "
       "reads its socket never blocks, and the session closes past the bound (%d queued), "
       "saying why (status 0x%x)",
       SHMIPC_CTL_QUEUE_MAX, (unsigned)st);
}

/* ---- releases are never parked ------------------------------------------------------------ */

enum {
    LOANS = 200000
};

/* The borrower, a forked process with a session of its own to the parent's server (handles
 * are per process): once the parent has lent (its first word on `go`), borrow every loan,
 * drop them all, tell the parent; then either block in recv(-1) until the parent's
 * message, or (once the parent says go again) close the session, tell the parent and sleep
 * (no call ever again). */
static int borrow_drop(const shmipc_blob *blobs, int tell, int go, int then_close)
{
    shmipc_session *c;
    char buf[16];
    size_t len;
    char one = 1;

    alarm(60);
    if (shmipc_connect("parked", "viewer", NULL, &c) != 0)
        return 6;
    if (read(go, &one, 1) != 1)
        return 5;
    for (int i = 0; i < LOANS; i++) {
        shmipc_obj *o;
        if (shmipc_borrow(c, &blobs[i], &o) != 0)
            return 2;
        shmipc_obj_unref(o);
    }
    if (write(tell, &one, 1) != 1)
        return 3;
    if (!then_close)
        return shmipc_recv(c, buf, sizeof buf, &len, NULL, -1) == 0 ? 0 : 4;
    if (read(go, &one, 1) != 1)
        return 5;
    shmipc_session_close(c);
    if (write(tell, &one, 1) != 1)
        return 3;
    for (;;)
        pause(); /* killed by the parent */
}

/* The owner: wait for the borrower's word (then, if `go` >= 0, say go and take releases
 * until its next word: it closes meanwhile), then the milliseconds until its arena is back
 * to base, 2000 at most. */
static double owner_recovers(shmipc_arena *a, size_t base, int from_borrower, int go)
{
    struct pollfd pfd = {.fd = from_borrower, .events = POLLIN};
    struct timespec t0;
    double took = 0;
    char one = 1;

    if (read(from_borrower, &one, 1) != 1)
        return 2000;
    if (go >= 0) {
        if (write(go, &one, 1) != 1)
            return 2000;
        while (poll(&pfd, 1, 1) == 0)
            used_of(a); /* the owner takes releases while the borrower closes */
        if (read(from_borrower, &one, 1) != 1)
            return 2000;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (used_of(a) != base && (took = ms_since(&t0)) < 2000)
        usleep(1000);
    return took;
}

static void test_parked_releases(int then_close)
{
    shmipc_server *srv = server_of("parked", SHMIPC_PROVIDER_LEND, 64 * MiB);
    shmipc_session *s = NULL;
    shmipc_blob *blobs = mmap(NULL, LOANS * sizeof *blobs, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0); /* the borrower reads them */
    shmipc_arena *a;
    size_t base;
    int pipefd[2] = {-1, -1}, gofd[2] = {-1, -1}, n = 0;
    double took;
    char one = 1;
    pid_t pid = -1;

    if (!SETUP(srv && blobs != MAP_FAILED && pipe(pipefd) == 0 && pipe(gofd) == 0,
               "a lend server"))
        goto out;
    if ((pid = fork()) == 0)
        _exit(borrow_drop(blobs, pipefd[1], gofd[0], then_close));
    if (!SETUP(pid > 0 && shmipc_server_accept(srv, 5000, &s) == 0, "the borrower's session"))
        goto out;
    a = shmipc_session_arena(s);
    base = used_of(a);
    for (; n < LOANS; n++) {
        shmipc_obj *o;
        if (shmipc_obj_new(a, 16, &o) != 0)
            break;
        int lent = shmipc_lend(s, o, &blobs[n]) == 0;
        shmipc_obj_unref(o);
        if (!lent)
            break;
    }
    if (!SETUP(n == LOANS, "200,000 loans") || !SETUP(write(gofd[1], &one, 1) == 1, "go"))
        goto out;
    diag("lent: %zu bytes of the owner's arena in use", used_of(a) - base);
    took = owner_recovers(a, base, pipefd[0], then_close ? gofd[1] : -1);
    ok(used_of(a) == base && took < 2000,
       "a borrower that dropped %d loans and then %s gives "
       "the owner all its memory back within 2 s (%zu bytes still in use after %.0f ms)",
       LOANS,
       then_close ? "closed its session and made no call any more" : "blocks in recv(-1)",
       used_of(a) - base, took);
    if (then_close) {
        kill(pid, SIGKILL);
        is_rc(wait_exit(pid), 128 + SIGKILL, "the borrower slept until killed");
    } else {
        shmipc_send(s, "bye", 3, NULL);
        is_rc(wait_exit(pid), 0, "the borrower's recv returned the message and it exited");
    }
    pid = -1;
    is_rc(shmipc_arena_check(a), 0, "the arena is consistent");
out:
    if (pid > 0) {
        kill(pid, SIGKILL);
        wait_exit(pid);
    }
    for (int i = 0; i < 2; i++) {
        if (pipefd[i] >= 0)
            close(pipefd[i]);
        if (gofd[i] >= 0)
            close(gofd[i]);
    }
    shmipc_session_close(s);
    shmipc_server_close(srv);
    if (blobs != MAP_FAILED)
        munmap(blobs, LOANS * sizeof *blobs);
}

int main(void)
{
    shmipc_arena *probe;
    int lend;

    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    test_send_timeout();
    test_shutdown();
    lend = shmipc__lend_arena_create(MiB, &probe) != SHMIPC_ENOTSUP;
    if (lend) {
        shmipc_arena_close(probe);
        test_deaf_peer();
        test_parked_releases(0);
        test_parked_releases(1);
    } else {
        skip("the lend provider's flow tests: this build has no jemalloc");
    }
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
