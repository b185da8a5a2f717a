/* Accept never waits on one client: silent connections (3, 50), a client stopped in the
 * middle of its handshake and then killed, accept's own timeout with only silent peers,
 * each handshake's own timeout, the bound on pending handshakes, the bound on app arenas,
 * shmipc_server_shutdown() from another thread, and a forked child's copy of a server
 * with handshakes pending (it leaves the parent's alone). Real client processes
 * (helper_session) and real sockets. */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "proto.h"
#include "session_util.h"

static shmipc_server *serve(const char *name, int max_pending, int max_apps, int hs_timeout)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.max_pending = max_pending;
    o.max_apps = max_apps;
    o.handshake_timeout_ms = hs_timeout;
    if (shmipc_server_open(name, &o, &srv) != 0)
        diag("server_open: %s", shmipc_error_detail());
    return srv;
}

/* A raw connection to server `name` that says nothing (yet). */
static int raw_connect(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s.sock", sock_dir, name);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) == 1;
}

/* A real client process: connects as `app` and holds the session until the server goes. */
static pid_t real_client(const char *name)
{
    char *args[] = {"helper_session", "hold", (char *)name, "viewer", NULL};
    return spawn("helper_session", args, NULL);
}

/* n silent connections: accept(300 ms) times out in 300 ms; then a real client: accept
 * returns its session at once. */
static void test_silent_peers(int n)
{
    shmipc_server *srv = serve("silent", 0, 0, 0);
    int *fds = calloc((size_t)n, sizeof *fds), opened = 0;
    struct timespec t0;
    shmipc_session *s = NULL;
    pid_t pid;
    double ms;

    for (int i = 0; i < n; i++)
        opened += (fds[i] = raw_connect("silent")) >= 0;
    SETUP(opened == n, "silent connections");
    ok(readable(shmipc_server_fd(srv), 0),
       "the server fd is readable with connections waiting");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    is_rc(shmipc_server_accept(srv, 300, &s), SHMIPC_ETIMEDOUT,
          "with only silent peers, accept(300 ms) times out");
    ms = ms_since(&t0);
    ok(ms >= 290 && ms < 800, "after ~300 ms (%.0f ms), not the handshake timeout", ms);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = real_client("silent");
    is_rc(shmipc_server_accept(srv, 20000, &s), 0,
          "with %d silent connections, a real "
          "client's session is accepted",
          n);
    ms = ms_since(&t0);
    ok(ms < 1000, "well under a second after it started (%.0f ms)", ms);
    ok(s && shmipc_session_peer_pid(s) == pid, "the session is the real client's");
    shmipc_session_close(s);
    ok(wait_exit(pid) == 0, "the client saw its session end and exited cleanly");
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    shmipc_server_close(srv);
}

/* Each handshake has handshake_timeout_ms from its own connection, then it is dropped. */
static void test_handshake_timeout(void)
{
    shmipc_server *srv = serve("hstime", 0, 0, 200);
    int fd = raw_connect("hstime");
    shmipc_session *s;
    char buf[512];

    is_rc(shmipc_server_accept(srv, 600, &s), SHMIPC_ETIMEDOUT,
          "accept(600 ms), a silent peer");
    ok(shmipc_server_rejected(srv) == 1, "its handshake (200 ms) was dropped and counted (%lu)",
       shmipc_server_rejected(srv));
    ok(readable(fd, 0) && recv(fd, buf, sizeof buf, MSG_DONTWAIT) == 0,
       "the silent peer sees the hang-up");
    close(fd);
    shmipc_server_close(srv);
}

/* A raw connection to server `name` that sends HELLO as app "viewer" and nothing more:
 * its fd, or -1. */
static int hello_only(const char *name)
{
    struct msg_hello h = {.magic = PROTO_MAGIC, .version = PROTO_VERSION, .type = MSG_HELLO};
    int fd = raw_connect(name);

    snprintf(h.app, sizeof h.app, "viewer");
    if (fd >= 0 && send(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A process that sends HELLO and stops (SIGSTOP) before its READY: the server has answered
 * WELCOME and waits for it. */
static pid_t half_client(const char *name)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        if (hello_only(name) < 0)
            _exit(1);
        raise(SIGSTOP);
        pause();
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
        return -1;
    return pid;
}

static void test_half_handshake_killed(void)
{
    shmipc_server *srv = serve("half", 0, 0, 0);
    pid_t half = half_client("half"), pid;
    shmipc_session *s = NULL, *none;
    struct timespec t0;
    double ms;

    SETUP(half > 0, "a client stopped after its HELLO");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = real_client("half");
    is_rc(shmipc_server_accept(srv, 20000, &s), 0,
          "a client stopped in its handshake: the "
          "next one is accepted");
    ms = ms_since(&t0);
    ok(ms < 1000 && s && shmipc_session_peer_pid(s) == pid,
       "it is the real client's session, well under a second later (%.0f ms)", ms);
    kill(half, SIGKILL);
    ok(wait_exit(half) == 128 + SIGKILL, "the half-connected client is killed (SIGKILL)");
    is_rc(shmipc_server_accept(srv, 200, &none), SHMIPC_ETIMEDOUT,
          "accept then has nothing to return");
    ok(shmipc_server_rejected(srv) == 1, "the killed client's handshake was dropped (%lu)",
       shmipc_server_rejected(srv));
    shmipc_session_close(s);
    ok(wait_exit(pid) == 0, "the real client exited cleanly");
    shmipc_server_close(srv);
}

/* In a child: fork a keeper that holds this process's descriptors open until it is
 * killed, write its pid to fd, and die. */
static void die_keeping_fds(int fd)
{
    pid_t k = fork();

    if (k == 0) {
        pause();
        _exit(0);
    }
    _exit(write(fd, &k, sizeof k) == (ssize_t)sizeof k ? 0 : 1);
}

/* Once the child has died in die_keeping_fds(fd's other end): its keeper's pid into
 * *keeper; the child's pid, or -1. */
static pid_t keeper_of(pid_t child, int fd, pid_t *keeper)
{
    if (child < 0 || wait_exit(child) != 0 ||
        read(fd, keeper, sizeof *keeper) != sizeof *keeper)
        child = -1;
    close(fd);
    return child;
}

/* A client that sends HELLO and dies while a keeper keeps the connection open: the
 * server's handshake stays pending with the dead client's endpoint in the app arena. */
static pid_t dead_half_client(const char *name, pid_t *keeper)
{
    int pids[2];
    pid_t pid;

    if (pipe(pids) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        if (hello_only(name) < 0)
            _exit(1);
        die_keeping_fds(pids[1]);
    }
    close(pids[1]);
    return keeper_of(pid, pids[0], keeper);
}

/* The server's reaper gives a dead client's endpoint to a new session while the dead
 * client's handshake is still pending: dropping that handshake later must leave the new
 * session's endpoint alone. */
static void test_dead_pending_endpoint_reused(void)
{
    shmipc_server *srv = serve("reuse", 0, 0, 0);
    struct shmipc_arena_stats before, after;
    shmipc_session *srv_side, *cli_side, *none;
    shmipc_obj *o = NULL;
    pid_t keeper;

    if (!SETUP(dead_half_client("reuse", &keeper) > 0, "a dead client's pending handshake"))
        return;
    shmipc_server_accept(srv, 100, &none); /* its HELLO: endpoints in the app arena */
    SETUP(open_pair(srv, "reuse", &srv_side, &cli_side) == 0, "a new session of the app");
    SETUP(shmipc_obj_new(shmipc_app_arena(srv_side), 1000, &o) == 0, "an app-arena object");
    shmipc_arena_stats(shmipc_app_arena(srv_side), &before);
    kill(keeper, SIGKILL); /* the dead client's connection hangs up now */
    shmipc_server_accept(srv, 100, &none);
    shmipc_arena_stats(shmipc_app_arena(srv_side), &after);
    ok(shmipc_server_rejected(srv) == 1, "the dead client's handshake was dropped");
    ok(after.allocations == before.allocations,
       "the new session's object outlived it "
       "(%zu allocations, %zu before)",
       after.allocations, before.allocations);
    is_rc(shmipc_arena_check(shmipc_app_arena(srv_side)), 0, "the app arena is consistent");
    shmipc_obj_unref(o);
    shmipc_session_close(cli_side);
    shmipc_session_close(srv_side);
    shmipc_server_close(srv);
}

/* A client that connects as "viewer" and dies while a keeper keeps the session's socket
 * open: the server's session *out cannot tell yet. */
static pid_t dead_client(shmipc_server *srv, const char *name, shmipc_session **out,
                         pid_t *keeper)
{
    int pids[2];
    pid_t pid;

    if (pipe(pids) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        shmipc_session *s;
        if (shmipc_connect(name, "viewer", NULL, &s) != 0)
            _exit(1);
        die_keeping_fds(pids[1]);
    }
    close(pids[1]);
    if (pid > 0 && shmipc_server_accept(srv, 5000, out) != 0)
        *out = NULL;
    pid = keeper_of(pid, pids[0], keeper);
    return *out ? pid : -1;
}

/* A session whose client died unnoticed: a new session's handshake reaps the dead client's
 * endpoint in the app arena and takes the number. Lending to the dead client must not
 * make a loan to the new session's endpoint (which would keep the object alive as long
 * as that session lives). */
static void test_lend_to_reaped_endpoint(void)
{
    shmipc_server *srv = serve("reaped", 0, 0, 0);
    struct shmipc_arena_stats before, after;
    shmipc_session *dead, *srv_side, *cli_side;
    shmipc_obj *o;
    pid_t keeper;

    if (!SETUP(dead_client(srv, "reaped", &dead, &keeper) > 0, "a client dead unnoticed"))
        return;
    SETUP(open_pair(srv, "reaped", &srv_side, &cli_side) == 0, "a new session of the app");
    shmipc_arena_stats(shmipc_app_arena(dead), &before);
    SETUP(shmipc_obj_new(shmipc_app_arena(dead), 1000, &o) == 0, "an app-arena object");
    is_rc(shmipc_send(dead, "x", 1, o), SHMIPC_ECLOSED,
          "lending to the dead client: its endpoint went to another session");
    shmipc_obj_unref(o);
    shmipc_session_close(dead);
    shmipc_arena_stats(shmipc_app_arena(srv_side), &after);
    ok(after.allocations == before.allocations,
       "the object is gone with its last handle "
       "(%zu allocations, %zu before)",
       after.allocations, before.allocations);
    kill(keeper, SIGKILL);
    shmipc_session_close(cli_side);
    shmipc_session_close(srv_side);
    shmipc_server_close(srv);
}

/* max_pending: past it, new connections wait in the listening socket's backlog until a
 * pending handshake ends or its time (300 ms here) is up; a real client then gets in. */
static void test_pending_bound(void)
{
    enum {
        MAX = 3
    };
    shmipc_server *srv = serve("bound", MAX, 0, 300);
    int fds[MAX + 2];
    shmipc_session *s = NULL;
    struct timespec t0;
    pid_t pid;

    for (int i = 0; i < MAX + 2; i++) {
        fds[i] = raw_connect("bound");
        shmipc_server_accept(srv, 20, &s); /* takes the connection: their order is known */
    }
    ok(shmipc_server_rejected(srv) == 0 && !readable(fds[0], 0),
       "%d silent connections, %d pending at most: none is dropped for the newer (%lu)",
       MAX + 2, MAX, shmipc_server_rejected(srv));
    shmipc_server_accept(srv, 400, &s);
    ok(shmipc_server_rejected(srv) == MAX,
       "the %d pending were dropped when their time was "
       "up (%lu)",
       MAX, shmipc_server_rejected(srv));
    ok(readable(fds[0], 0) && recv(fds[0], &t0, sizeof t0, MSG_DONTWAIT) == 0 &&
           readable(fds[MAX - 1], 0),
       "and hung up on");
    ok(!readable(fds[MAX], 0) && !readable(fds[MAX + 1], 0),
       "the 2 that waited in the backlog are pending now");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = real_client("bound");
    is_rc(shmipc_server_accept(srv, 5000, &s), 0, "a real client is accepted");
    ok(ms_since(&t0) < 1000, "at once, a slot being free (%.0f ms)", ms_since(&t0));
    ok(s && shmipc_session_peer_pid(s) == pid, "its session");
    shmipc_session_close(s);
    ok(wait_exit(pid) == 0, "the real client exited cleanly");
    for (int i = 0; i < MAX + 2; i++)
        close(fds[i]);
    shmipc_server_close(srv);
}

/* A full set of pending handshakes that are all live (WELCOME sent, READY not yet): new
 * connections wait in the backlog instead of dropping them, and are served once a slot
 * frees. */
static void test_pending_live_kept(void)
{
    enum {
        MAX = 2
    };
    shmipc_server *srv = serve("live", MAX, 0, 0);
    pid_t half[MAX], pid;
    shmipc_session *s = NULL, *none;

    for (int i = 0; i < MAX; i++) {
        half[i] = half_client("live");
        shmipc_server_accept(srv, 50, &none); /* its HELLO: WELCOME sent */
    }
    SETUP(half[0] > 0 && half[MAX - 1] > 0, "clients stopped after their HELLO");
    pid = real_client("live");
    is_rc(shmipc_server_accept(srv, 600, &none), SHMIPC_ETIMEDOUT,
          "a new client waits while the slots hold live handshakes");
    ok(shmipc_server_rejected(srv) == 0, "none of them was dropped for it (%lu)",
       shmipc_server_rejected(srv));
    kill(half[0], SIGKILL);
    is_rc(shmipc_server_accept(srv, 5000, &s), 0,
          "once one hangs up, the waiting client is "
          "accepted");
    ok(s && shmipc_session_peer_pid(s) == pid, "its session");
    shmipc_session_close(s);
    ok(wait_exit(pid) == 0, "the real client exited cleanly");
    for (int i = 0; i < MAX; i++) {
        kill(half[i], SIGKILL);
        wait_exit(half[i]);
    }
    shmipc_server_close(srv);
}

/* A client of app `app` from a thread of this process: its connect's result. */
static int connect_as(shmipc_server *srv, const char *name, const char *app, char *detail,
                      size_t cap)
{
    struct connector c = {.server = name, .app = app};
    shmipc_session *s = NULL;
    pthread_t t;

    pthread_create(&t, NULL, connect_thread, &c);
    shmipc_server_accept(srv, 2000, &s);
    pthread_join(t, NULL);
    snprintf(detail, cap, "%s", c.detail);
    shmipc_session_close(s);
    shmipc_session_close(c.s);
    return c.rc;
}

static void test_app_bound(void)
{
    const shmipc_app_rule any[] = {{"*", (long)getuid(), SHMIPC_ANY_ID}};
    shmipc_server_opts o;
    shmipc_server *srv = NULL;
    char detail[512];

    shmipc_server_opts_init(&o);
    o.allow = any;
    o.n_allow = 1;
    o.max_apps = 2;
    o.app_arena_size = 1 << 20;
    if (!SETUP(shmipc_server_open("apps", &o, &srv) == 0, "a server allowing any app"))
        return;
    is_rc(connect_as(srv, "apps", "app1", detail, sizeof detail), 0, "app1 gets an app arena");
    is_rc(connect_as(srv, "apps", "app2", detail, sizeof detail), 0, "app2 too (max_apps 2)");
    is_rc(connect_as(srv, "apps", "app3", detail, sizeof detail), SHMIPC_EPERM,
          "app3 is refused: no room for a third app arena");
    ok(strstr(detail, "max_apps") != NULL, "the client is told the limit: %s", detail);
    is_rc(connect_as(srv, "apps", "app1", detail, sizeof detail), 0,
          "app1 still connects (its arena exists)");
    shmipc_server_close(srv);
}

static void *shut_down_later(void *srv)
{
    usleep(200 * 1000);
    shmipc_server_shutdown(srv);
    return NULL;
}

static void test_shutdown(void)
{
    shmipc_server *srv = serve("shut", 0, 0, 0);
    int fd = raw_connect("shut"); /* a silent peer does not hold the shutdown up either */
    shmipc_session *s;
    struct timespec t0;
    pthread_t t;
    double ms;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&t, NULL, shut_down_later, srv);
    is_rc(shmipc_server_accept(srv, -1, &s), SHMIPC_ECLOSED,
          "a shutdown from another thread ends accept(forever)");
    ms = ms_since(&t0);
    ok(ms >= 190 && ms < 600, "at once (%.0f ms after a shutdown 200 ms in)", ms);
    pthread_join(t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    is_rc(shmipc_server_accept(srv, 5000, &s), SHMIPC_ECLOSED, "later accepts too");
    ok(ms_since(&t0) < 50, "without waiting (%.1f ms)", ms_since(&t0));
    ok(readable(shmipc_server_fd(srv), 0), "the server fd stays readable");
    shmipc_server_shutdown(srv); /* twice is fine */
    shmipc_server_shutdown(NULL);
    close(fd);
    shmipc_server_close(srv);
}

/* A forked child's copy of a server with handshakes pending: its shutdown and close leave
 * the parent's alone (the epoll set, the stop eventfd and the sessions being set up are
 * the parent's). The parent then still sees its pending clients hang up, and accepts. */
static void test_fork_with_pending(void)
{
    shmipc_server *srv = serve("forkpend", 0, 0, 0);
    int half = hello_only("forkpend"), silent = raw_connect("forkpend"), status;
    shmipc_session *s = NULL;
    pid_t child, pid;

    SETUP(half >= 0 && silent >= 0, "a client after its HELLO and a silent one");
    is_rc(shmipc_server_accept(srv, 300, &s), SHMIPC_ETIMEDOUT,
          "both are pending handshakes (accept times out)");
    ok(readable(half, 0), "the one that sent HELLO got its WELCOME: it waits for READY");
    fflush(stdout);
    if ((child = fork()) == 0) {
        shmipc_server_shutdown(srv);
        shmipc_server_close(srv);
        _exit(0);
    }
    ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0,
       "a child shuts down and closes its copy of the server");
    close(half);
    close(silent);
    is_rc(shmipc_server_accept(srv, 300, &s), SHMIPC_ETIMEDOUT,
          "the parent's accept still waits (the child's shutdown was its own)");
    ok(shmipc_server_rejected(srv) == 2, "and sees both pending clients hang up (%lu dropped)",
       shmipc_server_rejected(srv));
    pid = real_client("forkpend");
    is_rc(shmipc_server_accept(srv, 20000, &s), 0, "a new client is accepted");
    shmipc_session_close(s);
    ok(wait_exit(pid) == 0, "the client saw its session end and exited cleanly");
    shmipc_server_close(srv);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    test_silent_peers(3);
    test_silent_peers(50);
    test_handshake_timeout();
    test_half_handshake_killed();
    test_dead_pending_endpoint_reused();
    test_lend_to_reaped_endpoint();
    test_pending_bound();
    test_pending_live_kept();
    test_app_bound();
    test_shutdown();
    test_fork_with_pending();
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
