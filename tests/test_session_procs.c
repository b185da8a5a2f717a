/* Sessions between separate programs: objects both ways checked by checksum, 64 sessions
 * at once, a peer killed while it holds borrowed objects, a kill -9 loop at random points
 * of lending, borrowing, sending, receiving and releasing, and a server that dies — each
 * with both providers (shared, lend). */
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "helper_session.h"
#include "session_util.h"

static int provider; /* of the servers the tests open */

static shmipc_server *serve(const char *name, size_t session_arena, size_t app_arena)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.session_arena_size = session_arena;
    o.app_arena_size = app_arena;
    o.provider = provider;
    if (shmipc_server_open(name, &o, &srv) != 0)
        diag("server_open: %s", shmipc_error_detail());
    return srv;
}

/* Lend an object of n bytes with its checksum; check the reversed answer. 1 if right. */
static int exchange(shmipc_session *s, size_t n, unsigned seed)
{
    unsigned char *want = malloc(n);
    shmipc_obj *o, *answer = NULL;
    char msg[128];
    size_t len;
    uint64_t sum;
    unsigned long got_n;
    int good;

    if (shmipc_obj_new(shmipc_session_arena(s), n, &o) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        ((unsigned char *)shmipc_obj_ptr(o))[i] = (unsigned char)(seed + i * 13);
    helper_reverse(want, shmipc_obj_ptr(o), n);
    snprintf(msg, sizeof msg, "sum %zu %" PRIx64, n, helper_checksum(shmipc_obj_ptr(o), n));
    good = shmipc_send(s, msg, strlen(msg), o) == 0;
    shmipc_obj_unref(o);
    good = good && shmipc_recv(s, msg, sizeof msg - 1, &len, &answer, 10000) == 0 && answer;
    if (good) {
        msg[len] = '\0';
        good = sscanf(msg, "sum %lu %" SCNx64, &got_n, &sum) == 2 && got_n == n &&
               shmipc_obj_size(answer) == n && memcmp(shmipc_obj_ptr(answer), want, n) == 0 &&
               helper_checksum(shmipc_obj_ptr(answer), n) == sum;
    }
    shmipc_obj_unref(answer);
    free(want);
    return good;
}

static void test_echo(void)
{
    shmipc_server *srv = serve("echo", 0, 0);
    char *args[] = {"helper_session", "echo", "echo", "viewer", NULL};
    const size_t sizes[] = {1, 64, 4096, 65536, 4 << 20};
    pid_t pid = spawn("helper_session", args, NULL);
    shmipc_session *s;
    size_t base_s, base_a;
    int good = 0;

    is_rc(shmipc_server_accept(srv, 5000, &s), 0, "a C client program connected");
    base_s = used_of(shmipc_session_arena(s));
    base_a = used_of(shmipc_app_arena(s));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        good += exchange(s, sizes[i], (unsigned)i);
    ok(good == 5, "objects of 1 B .. 4 MiB went both ways, checksums right (%d/5)", good);
    shmipc_send(s, "bye", 3, NULL);
    ok(wait_exit(pid) == 0, "the client checked every object and exited cleanly");
    ok(used_of(shmipc_session_arena(s)) == base_s && used_of(shmipc_app_arena(s)) == base_a,
       "both arenas back to baseline");
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

static void test_many_sessions(void)
{
    enum {
        N = 64
    };
    shmipc_server *srv = serve("many", 1 << 20, 8 << 20);
    shmipc_session *s[N];
    pid_t pids[N];
    int accepted = 0, good = 0, exits = 0;

    for (int i = 0; i < N; i++) {
        char *args[] = {"helper_session", "echo", "many", "viewer", NULL};
        pids[i] = spawn("helper_session", args, NULL);
    }
    for (int i = 0; i < N; i++)
        accepted += shmipc_server_accept(srv, 10000, &s[i]) == 0;
    ok(accepted == N, "%d sessions at once", accepted);
    for (int i = 0; i < accepted; i++)
        good += exchange(s[i], 1000 + (size_t)i, (unsigned)i);
    ok(good == N, "each exchanged objects both ways (%d)", good);
    for (int i = 0; i < accepted; i++)
        shmipc_send(s[i], "bye", 3, NULL);
    for (int i = 0; i < N; i++)
        exits += wait_exit(pids[i]) == 0;
    ok(exits == N, "all %d clients exited cleanly", exits);
    for (int i = 0; i < accepted; i++)
        shmipc_session_close(s[i]);
    shmipc_server_close(srv);
}

/* Read "held N" lines until N reaches want. */
static int wait_held(int fd, int want)
{
    FILE *f = fdopen(fd, "r");
    char line[64];
    int n = 0;

    while (n < want && f && fgets(line, sizeof line, f))
        sscanf(line, "held %d", &n);
    if (f)
        fclose(f);
    return n;
}

static void test_borrower_killed(void)
{
    shmipc_server *srv = serve("victim", 0, 0);
    char *args[] = {"helper_session", "hold", "victim", "viewer", NULL};
    int out, held;
    pid_t pid = spawn("helper_session", args, &out);
    shmipc_session *s;
    size_t base_s, base_a, len;
    struct timespec t0;
    char buf[8];
    int rc;

    is_rc(shmipc_server_accept(srv, 5000, &s), 0, "a client that keeps what it borrows");
    base_s = used_of(shmipc_session_arena(s));
    base_a = used_of(shmipc_app_arena(s));
    for (int i = 0; i < 10; i++) {
        shmipc_obj *o;
        shmipc_obj_new(i % 2 ? shmipc_app_arena(s) : shmipc_session_arena(s), 100000, &o);
        shmipc_send(s, "have", 4, o);
        shmipc_obj_unref(o);
    }
    held = wait_held(out, 10);
    ok(held == 10, "it holds 10 borrowed objects (%d)", held);
    ok(used_of(shmipc_session_arena(s)) > base_s + 400000, "the objects live on in its hands");
    kill(pid, SIGKILL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = shmipc_recv(s, buf, sizeof buf, &len, NULL, 5000);
    is_rc(rc, SHMIPC_ECLOSED, "the server sees the death as ECLOSED");
    ok(ms_since(&t0) < 1000, "promptly (%.1f ms)", ms_since(&t0));
    wait_exit(pid);
    ok(used_of(shmipc_session_arena(s)) == base_s, "session arena back to baseline");
    ok(used_of(shmipc_app_arena(s)) == base_a, "app arena back to baseline");
    is_rc(shmipc_arena_check(shmipc_app_arena(s)), 0, "app arena consistent");
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* Random work on the server's side while the chaos client works on its side. */
static int server_chaos(shmipc_session *s, shmipc_obj **kept, unsigned steps)
{
    char buf[64];
    size_t len;

    for (unsigned i = 0; i < steps; i++) {
        shmipc_obj *o = NULL;
        unsigned slot = (unsigned)rand() % 16;
        int rc = 0;
        switch (rand() % 3) {
        case 0:
            if (shmipc_obj_new(rand() % 2 ? shmipc_session_arena(s) : shmipc_app_arena(s),
                               1 + (size_t)rand() % 8192, &o) == 0) {
                rc = shmipc_send(s, "srv", 3, o);
                shmipc_obj_unref(o);
            }
            break;
        case 1:
            rc = shmipc_recv(s, buf, sizeof buf, &len, &o, 0);
            if (o) {
                shmipc_obj_unref(kept[slot]);
                kept[slot] = o;
            }
            break;
        case 2:
            if (kept[slot])
                rc = shmipc_send(s, "back", 4, kept[slot]);
            break;
        }
        if (rc == SHMIPC_ECLOSED)
            return 1;
    }
    return 0;
}

static void test_kill_loop(void)
{
    enum {
        KILLS = 200
    };
    shmipc_server *srv = serve("chaos", 2 << 20, 16 << 20);
    int kills = 0, prompt = 0, clean = 0, consistent = 0, handshakes_cut = 0;
    size_t app_base = 0;

    srand((unsigned)getpid());
    for (int i = 0; i < KILLS; i++) {
        char seed[16], buf[64];
        char *args[] = {"helper_session", "chaos", "chaos", "viewer", seed, NULL};
        shmipc_obj *kept[16] = {0};
        shmipc_session *s;
        struct timespec t0;
        size_t base_s, len;
        pid_t pid;
        int rc;

        snprintf(seed, sizeof seed, "%d", i);
        pid = spawn("helper_session", args, NULL);
        if (i % 10 == 9) { /* now and then, kill it during its handshake */
            usleep((useconds_t)(rand() % 3000));
            kill(pid, SIGKILL);
            if (shmipc_server_accept(srv, 200, &s) == 0) /* it may have finished in time */
                shmipc_session_close(s);
            wait_exit(pid);
            handshakes_cut++;
            continue;
        }
        if (shmipc_server_accept(srv, 5000, &s) != 0) {
            kill(pid, SIGKILL);
            wait_exit(pid);
            continue;
        }
        /* Baselines before the client may act: it waits for "go". */
        if (!app_base)
            app_base = used_of(shmipc_app_arena(s));
        base_s = used_of(shmipc_session_arena(s));
        shmipc_send(s, "go", 2, NULL);
        server_chaos(s, kept, (unsigned)(rand() % 400));
        kill(pid, SIGKILL);
        kills++;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do
            rc = shmipc_recv(s, buf, sizeof buf, &len, NULL, 3000);
        while (rc != SHMIPC_ECLOSED && rc != SHMIPC_ETIMEDOUT);
        prompt += rc == SHMIPC_ECLOSED && ms_since(&t0) < 2000;
        wait_exit(pid);
        for (int k = 0; k < 16; k++)
            shmipc_obj_unref(kept[k]);
        clean += used_of(shmipc_session_arena(s)) == base_s &&
                 used_of(shmipc_app_arena(s)) == app_base;
        consistent += shmipc_arena_check(shmipc_session_arena(s)) == 0 &&
                      shmipc_arena_check(shmipc_app_arena(s)) == 0;
        shmipc_session_close(s);
    }
    ok(kills >= 170,
       "%d clients killed at random points of their work (and %d during the "
       "handshake)",
       kills, handshakes_cut);
    ok(prompt == kills, "every death seen as ECLOSED within 2 s (%d/%d)", prompt, kills);
    ok(clean == kills, "after every death both arenas are back to baseline (%d/%d)", clean,
       kills);
    ok(consistent == kills, "and consistent (%d/%d)", consistent, kills);
    {
        shmipc_session *s;
        char *args[] = {"helper_session", "echo", "chaos", "viewer", NULL};
        pid_t pid = spawn("helper_session", args, NULL);
        is_rc(shmipc_server_accept(srv, 5000, &s), 0, "the server still serves");
        ok(exchange(s, 5000, 7), "and exchanges objects");
        shmipc_send(s, "bye", 3, NULL);
        wait_exit(pid);
        shmipc_session_close(s);
    }
    shmipc_server_close(srv);
}

/* A dead client's endpoint numbers are reused by the next client's session; the dead one's
 * late clean-up (the owner noticing the death, its release source going) must leave the
 * new session's counts alone (the chaos driver found it: tests/chaos). */
static void test_endpoint_reuse(void)
{
    shmipc_server *srv = serve("reuse", 0, 0);
    char *args[] = {"helper_session", "hold", "reuse", "viewer", NULL};
    pid_t pid = spawn("helper_session", args, NULL);
    shmipc_session *sa = NULL, *sb = NULL, *cb = NULL;
    shmipc_obj *o = NULL, *got = NULL;
    shmipc_arena *app;
    char buf[16];
    size_t len, base;
    int intact = 1;

    is_rc(shmipc_server_accept(srv, 5000, &sa), 0, "a client that is then killed");
    shmipc_session_poll(sa); /* lend: dead peers are looked for now, and next in 100 ms */
    kill(pid, SIGKILL);
    wait_exit(pid);
    if (provider == SHMIPC_PROVIDER_LEND) /* its endpoints go when its death is noticed */
        is_rc(shmipc_recv(sa, buf, sizeof buf, &len, NULL, 3000), SHMIPC_ECLOSED,
              "its death is noticed");
    is_rc(open_pair(srv, "reuse", &sb, &cb), 0,
          "the next client, its endpoints reusing numbers");
    app = shmipc_app_arena(sb);
    base = used_of(app);
    if (shmipc_obj_new(app, 1000, &o) == 0) {
        memset(shmipc_obj_ptr(o), 0x33, 1000);
        is_rc(shmipc_send(sb, "gift", 4, o), 0, "an app-arena object lent to it");
    }
    if (provider == SHMIPC_PROVIDER_SHARED) {
        is_rc(shmipc_recv(sa, buf, sizeof buf, &len, NULL, 3000), SHMIPC_ECLOSED,
              "the dead client's death is noticed only now");
    } else {
        shmipc_session_close(sa); /* its release source goes once its peer is seen dead */
        sa = NULL;
        usleep(250000);
        shmipc_session_poll(sb);
    }
    is_rc(shmipc_recv(cb, buf, sizeof buf, &len, &got, 3000), 0, "the new client borrows it");
    for (size_t i = 0; got && i < 1000; i++)
        intact &= ((unsigned char *)shmipc_obj_ptr(got))[i] == 0x33;
    ok(got && intact, "intact");
    shmipc_obj_unref(got);
    shmipc_session_poll(sb);
    ok(stats_of(app).allocations == 1, "the owner's handle still holds it (%zu allocations)",
       stats_of(app).allocations);
    shmipc_obj_unref(o);
    shmipc_session_poll(sb);
    ok(used_of(app) == base && stats_of(app).bad_frees == 0 && shmipc_arena_check(app) == 0,
       "then it goes: the app arena back to baseline, consistent, no refused free");
    shmipc_session_close(sa);
    shmipc_session_close(cb);
    shmipc_session_close(sb);
    shmipc_server_close(srv);
}

static void test_server_killed(void)
{
    char *args[] = {"helper_session", "serve", "dying", provider ? "lend" : "shared", NULL};
    int out;
    pid_t pid = spawn("helper_session", args, &out);
    shmipc_session *c = NULL;
    shmipc_obj *kept[5] = {0};
    shmipc_server *again;
    size_t base, len;
    char buf[16];
    int rc = SHMIPC_ENOENT, got = 0;

    for (int i = 0; i < 200 && rc == SHMIPC_ENOENT; i++) {
        rc = shmipc_connect("dying", "viewer", NULL, &c);
        if (rc == SHMIPC_ENOENT)
            usleep(10000);
    }
    is_rc(rc, 0, "connected to a server program");
    base = used_of(shmipc_session_arena(c));
    while (got < 5 && shmipc_recv(c, buf, sizeof buf, &len, &kept[got], 5000) == 0)
        got += kept[got] != NULL;
    ok(got == 5, "holding 5 of its objects");
    kill(pid, SIGKILL);
    wait_exit(pid);
    close(out);
    do
        rc = shmipc_recv(c, buf, sizeof buf, &len, NULL, 3000);
    while (rc == 0);
    is_rc(rc, SHMIPC_ECLOSED, "the client sees the server's death");
    {
        int intact = 1;
        for (int i = 0; i < 5; i++)
            for (size_t j = 0; j < 1000; j++)
                intact &= ((unsigned char *)shmipc_obj_ptr(kept[i]))[j] == 0x5a;
        ok(intact, "objects it holds stay readable and intact");
    }
    for (int i = 0; i < 5; i++)
        shmipc_obj_unref(kept[i]);
    ok(used_of(shmipc_session_arena(c)) <= base, "and go when released (used %zu, base %zu)",
       used_of(shmipc_session_arena(c)), base);
    shmipc_session_close(c);
    is_rc(shmipc_server_open("dying", NULL, &again), 0, "the dead server's name can be reused");
    shmipc_server_close(again);
}

/* ---- a dead peer noticed by a sender with many sessions ------------------------------- */

/* A forked client process: n sessions to server `name`, a byte on `ready` once they are
 * made, then it waits to be killed. */
static pid_t clients_of(const char *name, int n, int *ready)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        shmipc_session *s;
        int made = 0;
        close(fds[0]);
        while (made < n && shmipc_connect(name, "viewer", NULL, &s) == 0)
            made++;
        if (made == n && write(fds[1], "x", 1) == 1)
            for (;;)
                pause();
        _exit(1);
    }
    close(fds[1]);
    *ready = fds[0];
    return pid;
}

/* Send on s every 200 us until it fails, up to 2 s: its code, and the ms it took. */
static int send_until_closed(shmipc_session *s, double *ms)
{
    struct timespec t0;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((rc = shmipc_send(s, "x", 1, NULL)) == 0 && ms_since(&t0) < 2000)
        usleep(200);
    *ms = ms_since(&t0);
    return rc;
}

/* A sender looks at its peer's socket only when the process's look at all its session
 * sockets (every ~1 ms, one epoll_wait for all) says it spoke: with 100 sessions whose
 * client is killed, a sender on one of them still notices at once, and every other session
 * at its first send. */
static void test_sender_notices_death(void)
{
    enum {
        N = 100 /* more than one look's worth of events */
    };
    shmipc_server *srv = serve("notice", 1 << 20, 8 << 20);
    shmipc_session *s[N];
    int ready = -1, accepted = 0, closed = 0, rc;
    pid_t pid = clients_of("notice", N, &ready);
    double ms;
    char c;

    while (accepted < N && shmipc_server_accept(srv, 10000, &s[accepted]) == 0)
        accepted++;
    if (!SETUP(accepted == N && read(ready, &c, 1) == 1, "100 sessions of a client process")) {
        kill(pid, SIGKILL);
        wait_exit(pid);
    } else {
        for (int i = 0; i < N; i++)
            shmipc_send(s[i], "x", 1, NULL); /* each has looked at its socket once */
        kill(pid, SIGKILL);
        wait_exit(pid);
        rc = send_until_closed(s[0], &ms);
        is_rc(rc, SHMIPC_ECLOSED, "a sender on one of %d sessions notices its peer's death", N);
        ok(ms < (UNDER_SANITIZER ? 500 : 100), "within %.1f ms", ms);
        for (int i = 1; i < N; i++)
            closed += shmipc_send(s[i], "x", 1, NULL) == SHMIPC_ECLOSED;
        ok(closed == N - 1, "and each other session at its first send (%d of %d)", closed,
           N - 1);
    }
    close(ready);
    for (int i = 0; i < accepted; i++)
        shmipc_session_close(s[i]);
    shmipc_server_close(srv);
}

/* A forked child that sends on sessions of its own for 300 ms: its looks at its sockets
 * use a set of its own. */
static int child_sends(void)
{
    shmipc_server *srv = serve("childsrv", 1 << 20, 8 << 20);
    shmipc_session *a = NULL, *b = NULL;
    struct timespec t0;
    char buf[8];
    size_t len;
    int bad = !srv || open_pair(srv, "childsrv", &a, &b) != 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!bad && ms_since(&t0) < 300) {
        bad = shmipc_send(a, "x", 1, NULL) != 0 ||
              shmipc_recv(b, buf, sizeof buf, &len, NULL, 1000) != 0;
        usleep(100);
    }
    shmipc_session_close(a);
    shmipc_session_close(b);
    shmipc_server_close(srv);
    return bad;
}

/* The process's set of session sockets is a kernel object a forked child shares: a child
 * that looked at it would take the parent's news (a hang-up is told once). A child that
 * sends on its own sessions while the parent's peer dies leaves the parent to notice. */
static void test_fork_looks_apart(void)
{
    shmipc_server *srv = serve("parent", 1 << 20, 8 << 20);
    shmipc_session *s = NULL;
    int ready = -1, rc;
    pid_t pid = clients_of("parent", 1, &ready), child;
    double ms;
    char c;

    if (!SETUP(shmipc_server_accept(srv, 10000, &s) == 0 && read(ready, &c, 1) == 1,
               "a session of a client process")) {
        kill(pid, SIGKILL);
        wait_exit(pid);
    } else {
        shmipc_send(s, "x", 1, NULL);
        if ((child = fork()) == 0)
            _exit(child_sends());
        usleep(20000);
        kill(pid, SIGKILL);
        wait_exit(pid);
        usleep(100000); /* the child looks at its sockets meanwhile */
        rc = send_until_closed(s, &ms);
        is_rc(rc, SHMIPC_ECLOSED,
              "with a forked child sending on its own sessions, the parent's sender notices "
              "its peer's death");
        ok(ms < (UNDER_SANITIZER ? 500 : 100), "within %.1f ms", ms);
        ok(wait_exit(child) == 0, "the child's own sessions worked");
    }
    close(ready);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

int main(void)
{
    shmipc_server *probe;
    shmipc_server_opts o;

    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    for (provider = SHMIPC_PROVIDER_SHARED; provider <= SHMIPC_PROVIDER_LEND; provider++) {
        diag("---- provider %s", provider ? "lend" : "shared");
        shmipc_server_opts_init(&o);
        o.provider = provider;
        if (shmipc_server_open("probe", &o, &probe) == SHMIPC_ENOTSUP) {
            skip("the lend provider: this build has no jemalloc");
            continue;
        }
        shmipc_server_close(probe);
        test_echo();
        test_many_sessions();
        test_borrower_killed();
        test_kill_loop();
        test_endpoint_reuse();
        test_server_killed();
        test_sender_notices_death();
        test_fork_looks_apart();
    }
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
