/* Many sessions of one app and many clients at once (issue 14), both providers, with real
 * client processes and real sockets:
 * - an arena's endpoint table grows while another process reads it through a read-only
 *   view (shmipc stat's way), and a process killed while opening endpoints leaves it whole;
 * - thousands of sessions of one app against one server (SHMIPC_TEST_SESSIONS: how many;
 *   by default 5000 shared, 1000 lend), opened by a few client processes and kept, then
 *   the next one refused by max_sessions with its figure;
 * - a few hundred clients connecting at once (SHMIPC_TEST_CLIENTS, default 300; 1000 is
 *   the figure) are all served within their 30 s timeout. */
#include <fcntl.h>
#include <sys/resource.h>

#include "arena.h"
#include "lend.h"
#include "session_util.h"

#define TIMEOUT_MS 30000

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}

/* Descriptors for at least `want`: the soft limit raised (and the hard one, as root). The
 * limit got. */
static rlim_t nofile_at_least(rlim_t want)
{
    struct rlimit r;

    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur >= want)
        return r.rlim_cur;
    if (r.rlim_max < want) {
        struct rlimit root = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &root) == 0)
            return want;
    }
    r.rlim_cur = r.rlim_max < want ? r.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &r);
    return r.rlim_cur;
}

static const char *provider_name(int provider)
{
    return provider == SHMIPC_PROVIDER_LEND ? "lend" : "shared";
}

/* ---- the endpoint table grows under a reader ------------------------------------------ */

/* A reader in another process: snapshots of the table through a read-only view of the
 * pool on fd, until `stop` is readable; exits 0 if every one worked and never saw fewer
 * endpoints than the one before, and it saw at least `last` in the end. */
static int reader(int fd, int stop, size_t last)
{
    static struct shmipc_ep_info eps[4096];
    shmipc_pool *p;
    shmipc_arena *a;
    size_t n, seen = 0, snaps = 0;
    char c;

    if (shmipc__pool_from_peer_fd(fd, SHMIPC_RDONLY, &p) != 0 ||
        shmipc__view_create(p, &a) != 0)
        return 2;
    for (int done = 0; !done;) {
        done = read(stop, &c, 1) == 0; /* a last look once the writer is done */
        if (shmipc__reftable_snapshot(a, eps, 4096, &n) != 0 || n < seen)
            return 3;
        seen = n;
        snaps++;
    }
    fprintf(stderr, "# reader: %zu snapshots, %zu endpoints in the last\n", snaps, seen);
    return seen >= last ? 0 : 4;
}

static void test_growth_under_reader(void)
{
    enum {
        EPS = 3000
    };
    shmipc_pool *pool;
    shmipc_arena *a;
    int stop[2], opened = 0;
    uint32_t ep;
    pid_t pid;

    if (!SETUP(shmipc_pool_create(NULL, 4 << 20, 0, &pool) == 0 &&
                   shmipc_arena_create(pool, &a) == 0 && pipe(stop) == 0,
               "an arena"))
        return;
    fcntl(stop[0], F_SETFL, O_NONBLOCK);
    if ((pid = fork()) == 0) {
        close(stop[1]);
        _exit(reader(shmipc_pool_fd(pool), stop[0], EPS));
    }
    close(stop[0]);
    for (int i = 0; i < EPS; i++)
        opened += shmipc__ep_open(a, getpid(), &ep) == 0;
    close(stop[1]);
    ok(opened == EPS, "%d endpoints opened in one arena (the table was 255) (%d: %s)", EPS,
       opened, shmipc_error_detail());
    ok(shmipc__ep_high(a) >= EPS, "its table grew to %u endpoints", shmipc__ep_high(a));
    ok(wait_exit(pid) == 0, "another process read it all along through a read-only view");
    is_rc(shmipc_arena_check(a), 0, "the arena checks out");
    shmipc_arena_close(a);
}

/* An arena with no room left for another chunk of endpoints says so, with the figure. */
static void test_full_table(void)
{
    shmipc_pool *pool;
    shmipc_arena *a;
    uint32_t ep;
    int rc, opened = 0;

    if (!SETUP(shmipc_pool_create(NULL, 64 << 10, 0, &pool) == 0 &&
                   shmipc_arena_create(pool, &a) == 0,
               "a small arena"))
        return;
    while ((rc = shmipc__ep_open(a, getpid(), &ep)) == 0)
        opened++;
    is_rc(rc, SHMIPC_ENOMEM, "a 64 KiB arena runs out of endpoints after %d", opened);
    ok(strstr(shmipc_error_detail(), "no room for more endpoints") != NULL,
       "the detail says so: %s", shmipc_error_detail());
    shmipc_arena_close(a);
}

/* A process that opens endpoints until it is killed: killed mid-way through growing the
 * table at times, its operation is rolled back by the next locker. */
static void test_killed_while_growing(void)
{
    shmipc_pool *pool;
    shmipc_arena *a;
    uint32_t ep;
    int fine = 1;

    if (!SETUP(shmipc_pool_create(NULL, 4 << 20, 0, &pool) == 0 &&
                   shmipc_arena_create(pool, &a) == 0,
               "an arena"))
        return;
    for (int round = 0; round < 8; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;)
                shmipc__ep_open(a, getpid(), &ep);
        }
        usleep(2000 + 3000 * round);
        kill(pid, SIGKILL);
        wait_exit(pid);
        fine &= shmipc_arena_check(a) == 0 && shmipc__ep_open(a, getpid(), &ep) == 0;
    }
    ok(fine,
       "8 processes killed while opening endpoints (%u made): the arena checks out "
       "and opens more",
       shmipc__ep_high(a));
    shmipc_arena_close(a);
}

/* ---- thousands of sessions of one app -------------------------------------------------- */

/* A client process: `count` sessions of app "many" opened and kept; writes how many it
 * opened to `report`, then waits for `stop` to close. */
static int many_client(const char *name, int count, int report, int stop)
{
    shmipc_client_opts o;
    shmipc_session *s;
    int opened = 0;
    char c;

    shmipc_client_opts_init(&o);
    o.timeout_ms = TIMEOUT_MS;
    while (opened < count && shmipc_connect(name, "many", &o, &s) == 0)
        opened++;
    if (opened < count)
        fprintf(stderr, "# client %d: session %d: %s\n", (int)getpid(), opened + 1,
                shmipc_error_detail());
    if (write(report, &opened, sizeof opened) != sizeof opened)
        return 1;
    return read(stop, &c, 1) == 0 ? 0 : 1; /* the sessions end with the process */
}

/* One more client of the app from a thread: its connect's result and detail. */
static int one_more(shmipc_server *srv, const char *name, char *detail, size_t cap)
{
    struct connector c = {.server = name, .app = "many"};
    shmipc_session *s = NULL;
    pthread_t t;

    pthread_create(&t, NULL, connect_thread, &c);
    shmipc_server_accept(srv, 5000, &s);
    pthread_join(t, NULL);
    snprintf(detail, cap, "%s", c.detail);
    shmipc_session_close(s);
    shmipc_session_close(c.s);
    return c.rc;
}

static void test_many_sessions(int provider, int n)
{
    enum {
        CLIENTS = 8
    };
    const char *name = provider == SHMIPC_PROVIDER_LEND ? "manylend" : "manyshared";
    shmipc_server_opts o;
    shmipc_server *srv = NULL;
    shmipc_session **sess = calloc((size_t)n, sizeof *sess);
    int report[2], stop[2], got = 0, opened = 0, each;
    pid_t pids[CLIENTS];
    char detail[512], figure[64];

    shmipc_server_opts_init(&o);
    o.provider = provider;
    o.session_arena_size = 64 << 10;
    o.app_arena_size = 4 << 20;
    o.max_sessions = n;
    if (!SETUP(sess && shmipc_server_open(name, &o, &srv) == 0 && pipe(report) == 0 &&
                   pipe(stop) == 0,
               "a server"))
        return;
    for (int i = 0; i < CLIENTS; i++) {
        if ((pids[i] = fork()) == 0) {
            close(stop[1]);
            _exit(many_client(name, n / CLIENTS + (i < n % CLIENTS), report[1], stop[0]));
        }
    }
    close(stop[0]);
    close(report[1]);
    while (got < n && shmipc_server_accept(srv, TIMEOUT_MS, &sess[got]) == 0)
        got++;
    for (int i = 0; i < CLIENTS && read(report[0], &each, sizeof each) == sizeof each; i++)
        opened += each;
    ok(got == n && opened == n,
       "%s: %d sessions of one app accepted and kept (%d; the "
       "clients opened %d)",
       provider_name(provider), n, got, opened);
    if (got > 0)
        is_rc(shmipc_arena_check(shmipc_app_arena(sess[0])), 0,
              "%s: its app arena checks "
              "out",
              provider_name(provider));
    is_rc(one_more(srv, name, detail, sizeof detail), SHMIPC_EPERM,
          "%s: one more is refused (max_sessions %d)", provider_name(provider), n);
    snprintf(figure, sizeof figure, "%d sessions", n);
    ok(strstr(detail, "max_sessions") && strstr(detail, figure), "with the figure: %s", detail);
    close(stop[1]);
    for (int i = 0; i < CLIENTS; i++)
        wait_exit(pids[i]);
    for (int i = 0; i < got; i++)
        shmipc_session_close(sess[i]);
    close(report[0]);
    free(sess);
    shmipc_server_close(srv);
}

/* max_sessions out of its range is refused when the server opens. */
static void test_max_sessions_range(void)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.max_sessions = -1;
    is_rc(shmipc_server_open("range", &o, &srv), SHMIPC_EINVAL, "max_sessions -1 is refused");
    o.max_sessions = SHMIPC_MAX_SESSIONS + 1;
    is_rc(shmipc_server_open("range", &o, &srv), SHMIPC_EINVAL,
          "max_sessions past SHMIPC_MAX_SESSIONS (%d) is refused", SHMIPC_MAX_SESSIONS);
    ok(strstr(shmipc_error_detail(), "65535") != NULL, "naming the most: %s",
       shmipc_error_detail());
}

/* ---- clients at once ------------------------------------------------------------------ */

/* A client process: waits for `go` to close, connects (30 s), receives the server's
 * greeting; its exit code says how far it got. */
static int eager_client(const char *name, int go)
{
    shmipc_client_opts o;
    shmipc_session *s;
    char c, msg[16];
    size_t len;
    int rc;

    shmipc_client_opts_init(&o);
    o.timeout_ms = TIMEOUT_MS;
    if (read(go, &c, 1) != 0)
        return 1;
    if ((rc = shmipc_connect(name, "eager", &o, &s)) != 0) {
        fprintf(stderr, "# client %d: %s (%s)\n", (int)getpid(), shmipc_strerror(rc),
                shmipc_error_detail());
        return 2;
    }
    rc = shmipc_recv(s, msg, sizeof msg, &len, NULL, TIMEOUT_MS);
    shmipc_session_close(s);
    return rc == 0 && len == 2 ? 0 : 3;
}

static void test_clients_at_once(int provider, int n)
{
    const char *name = provider == SHMIPC_PROVIDER_LEND ? "oncelend" : "onceshared";
    shmipc_server_opts o;
    shmipc_server *srv = NULL;
    shmipc_session **sess = calloc((size_t)n, sizeof *sess);
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    int go[2], got = 0, served = 0;
    struct timespec t0;

    shmipc_server_opts_init(&o);
    o.provider = provider;
    o.session_arena_size = 64 << 10;
    if (!SETUP(sess && pids && shmipc_server_open(name, &o, &srv) == 0 && pipe(go) == 0,
               "a server"))
        return;
    for (int i = 0; i < n; i++) {
        if ((pids[i] = fork()) == 0) {
            close(go[1]);
            _exit(eager_client(name, go[0]));
        }
    }
    close(go[0]);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    close(go[1]); /* all at once */
    while (got < n && shmipc_server_accept(srv, TIMEOUT_MS, &sess[got]) == 0)
        shmipc_send(sess[got++], "hi", 2, NULL);
    for (int i = 0; i < n; i++)
        served += wait_exit(pids[i]) == 0;
    ok(got == n && served == n,
       "%s: %d clients connecting at once all served (%d accepted, "
       "%d served, %lu refused) in %.0f ms",
       provider_name(provider), n, got, served, shmipc_server_rejected(srv), ms_since(&t0));
    for (int i = 0; i < got; i++)
        shmipc_session_close(sess[i]);
    free(sess);
    free(pids);
    shmipc_server_close(srv);
}

/* Descriptors the server holds per session (its socket, doorbells, pools; the lend
 * provider's data pools and its view of the client's): sessions for a limit. */
static int sessions_for(rlim_t fds, int per, int want)
{
    int fit = fds > 256 ? (int)((fds - 256) / (rlim_t)per) : 0;

    if (fit < want)
        diag("only %llu descriptors: %d sessions, not %d", (unsigned long long)fds, fit, want);
    return fit < want ? fit : want;
}

int main(void)
{
    int sessions = env_int("SHMIPC_TEST_SESSIONS", 0);
    int clients = env_int("SHMIPC_TEST_CLIENTS", 300);
    int shared_n = sessions ? sessions : 5000, lend_n = sessions ? sessions : 1000;
    rlim_t fds = nofile_at_least((rlim_t)shared_n * 16 + 256);

    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    test_growth_under_reader();
    test_killed_while_growing();
    test_full_table();
    test_max_sessions_range();
    test_many_sessions(SHMIPC_PROVIDER_SHARED, sessions_for(fds, 12, shared_n));
    if (shmipc__lend_supported() == 0)
        test_many_sessions(SHMIPC_PROVIDER_LEND, sessions_for(fds, 16, lend_n));
    nofile_at_least((rlim_t)clients * 16 + 256);
    test_clients_at_once(SHMIPC_PROVIDER_SHARED, clients);
    if (shmipc__lend_supported() == 0)
        test_clients_at_once(SHMIPC_PROVIDER_LEND, clients);
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
