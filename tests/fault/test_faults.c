/* test_faults.c — fault injection over the core's failing calls, SQLite-style.
 *
 * For each path (a pool, a named arena and its named allocations, a server opening, a
 * connect, an accept, an exchange of lent objects both ways; both providers) and for
 * N = 1, 2, ... the Nth wrapped call the path makes fails (fault.h: malloc, mmap,
 * memfd_create, socket calls, eventfd, mutex init, ...), until a run makes fewer than N
 * calls. For every N:
 *   - nothing crashes (each path is swept in a forked child: a signal fails it, saying the
 *     last failed call);
 *   - a failure is reported: a negative SHMIPC_E* code with a non-empty detail (or the
 *     core got over the failure and the path succeeded);
 *   - nothing leaks: the descriptors of /proc/self/fd, the files of the shm and socket
 *     directories are as before, under ASan LeakSanitizer finds nothing, and a session's
 *     arena comes back to what it held when the session was made;
 *   - the path then works again.
 * The peer of a session (the server of a client path, the client of a server path) is a
 * separate process, forked before anything is armed: only one side is injected.
 *
 * Usage: test_faults [--all] [--eintr] [--list] [PATH...]
 * Without --all, a few paths with the hard errnos (make check); --all sweeps every path
 * with the hard errnos, then with EINTR for the interruptible calls (make check-faults,
 * under ASan+UBSan); --eintr: only with EINTR. PATH: a name that --list prints. */
#include "session_util.h" /* first: tap.h defines _GNU_SOURCE */

#include "fault.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() __lsan_do_recoverable_leak_check()
#else
#define LEAK_CHECK() 0
#endif

#define SERVER "faults"
#define MAX_N 5000    /* no path makes that many calls: a runaway sweep stops there */
#define MAX_REPORTS 8 /* failures reported per path; the rest are counted */

static int report_fd = -1; /* in a sweep's child: where its lines go */
static volatile sig_atomic_t stop_peer;
static int peer_lost; /* in a peer: objects lent to it that it could not take whole */

/* ---- what a run leaves: descriptors, files ---------------------------------------------- */

static int count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
    if (d)
        closedir(d);
    return n;
}

struct footprint {
    int fds, shm, sock;
};

static struct footprint footprint(void)
{
    struct footprint f = {count_dir("/proc/self/fd"), count_dir(getenv("SHMIPC_SHM_DIR")),
                          count_dir(sock_dir)};
    return f;
}

/* ---- the exchange both sides run: requests and answers with lent objects ---------------- */

/* Objects: small ones from the allocator, big ones in a pool of their own (lend provider:
 * bigger than its 1 MiB data pools). */
static const size_t sizes[] = {1000, (size_t)2 << 20};

static int fill_obj(shmipc_arena *a, size_t size, unsigned char v, shmipc_obj **o)
{
    int rc = shmipc_obj_new(a, size, o);
    if (rc == 0)
        memset(shmipc_obj_ptr(*o), v, size);
    return rc;
}

static int obj_is(shmipc_obj *o, size_t size, unsigned char v)
{
    const unsigned char *p = o ? shmipc_obj_ptr(o) : NULL;

    if (!p || shmipc_obj_size(o) != size)
        return 0;
    for (size_t i = 0; i < size; i += 4096)
        if (p[i] != v || p[size - 1] != v)
            return 0;
    return 1;
}

/* A message carrying a lend blob made with shmipc_lend (not an object of shmipc_send):
 * "<text>\0<blob>". */
static int send_blob(shmipc_session *s, const char *text, shmipc_obj *o)
{
    char msg[64 + SHMIPC_BLOB_SIZE];
    size_t n = strlen(text) + 1;
    shmipc_blob b;
    int rc;

    if ((rc = shmipc_lend(s, o, &b)) != 0)
        return rc;
    memcpy(msg, text, n);
    memcpy(msg + n, b.bytes, sizeof b.bytes);
    return shmipc_send(s, msg, n + sizeof b.bytes, NULL);
}

/* The object of a message: sent with it, or lent by a blob after its text. */
static int take_obj(shmipc_session *s, const char *msg, size_t len, shmipc_obj **o)
{
    size_t n = strnlen(msg, len) + 1;
    shmipc_blob b;

    if (*o || n + sizeof b.bytes != len)
        return 0;
    memcpy(b.bytes, msg + n, sizeof b.bytes);
    return shmipc_borrow(s, &b, o);
}

/* The peer: answer every "req <seq> <size> <how>" (its object holding seq's byte, sent
 * with the message or lent by a blob) with "rep <seq>" and an object of that size holding
 * the same byte, passed the same way; until the session ends. */
static void respond(shmipc_session *s)
{
    char msg[128], text[64];
    size_t len, size;
    shmipc_obj *o, *r;
    unsigned long seq;
    int rc, blob;

    while (!stop_peer) {
        o = NULL;
        rc = shmipc_recv(s, msg, sizeof msg - 1, &len, &o, 200);
        if (rc == SHMIPC_ECLOSED)
            return;
        if (rc != 0)
            continue;
        msg[len] = '\0';
        if (sscanf(msg, "req %lu %zu %d", &seq, &size, &blob) != 3) {
            shmipc_obj_unref(o);
            continue;
        }
        if (((rc = take_obj(s, msg, len, &o)) != 0 || !obj_is(o, size, (unsigned char)seq)) &&
            ++peer_lost)
            fprintf(stderr,
                    "test_faults peer: request %lu (%zu bytes, blob %d) came without "
                    "its object: %s (%s)\n",
                    seq, size, blob, shmipc_strerror(rc), shmipc_error_detail());
        shmipc_obj_unref(o);
        if (fill_obj(shmipc_session_arena(s), size, (unsigned char)seq, &r) != 0)
            continue;
        snprintf(text, sizeof text, "rep %lu", seq);
        if (blob)
            send_blob(s, text, r);
        else
            shmipc_send(s, text, strlen(text), r);
        shmipc_obj_unref(r);
    }
}

/* The injected side: one request of `size` and its answer (objects passed with the
 * messages, or lent by blobs); older answers are dropped. */
static int exchange(shmipc_session *s, shmipc_arena *a, size_t size, int blob)
{
    static unsigned long next_seq = 1;
    unsigned long seq = next_seq++, got;
    char msg[128];
    size_t len;
    shmipc_obj *o = NULL;
    int rc;

    if ((rc = fill_obj(a, size, (unsigned char)seq, &o)) != 0)
        return rc;
    snprintf(msg, sizeof msg, "req %lu %zu %d", seq, size, blob);
    rc = blob ? send_blob(s, msg, o) : shmipc_send(s, msg, strlen(msg), o);
    shmipc_obj_unref(o);
    while (rc == 0) {
        o = NULL;
        if ((rc = shmipc_recv(s, msg, sizeof msg - 1, &len, &o, 5000)) != 0)
            break;
        msg[len] = '\0';
        if (sscanf(msg, "rep %lu", &got) == 1 && got == seq) {
            if ((rc = take_obj(s, msg, len, &o)) != 0)
                return rc;
            if (!obj_is(o, size, (unsigned char)seq))
                rc = shmipc_error_set(SHMIPC_ECORRUPT, "the answer's object has wrong bytes");
            shmipc_obj_unref(o);
            return rc;
        }
        shmipc_obj_unref(o);
    }
    return rc;
}

/* Objects of the session arena of each size, one lent by a blob, and one of the app arena
 * where this side may allocate in it. */
static int exchanges(shmipc_session *s)
{
    shmipc_arena *app = shmipc_app_arena(s);
    int rc = 0;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && rc == 0; i++)
        rc = exchange(s, shmipc_session_arena(s), sizes[i], 0);
    if (rc == 0)
        rc = exchange(s, shmipc_session_arena(s), sizes[0], 1);
    if (rc == 0 && app && shmipc_arena_writable(app))
        rc = exchange(s, app, sizes[0], 0);
    return rc;
}

/* ---- the peers: normal processes, never armed ------------------------------------------ */

static void on_term(int sig)
{
    (void)sig;
    stop_peer = 1;
}

static void server_opts(int provider, shmipc_server_opts *o)
{
    shmipc_server_opts_init(o);
    o->provider = provider;
    o->session_arena_size = provider == SHMIPC_PROVIDER_LEND ? (size_t)1 << 20
                                                             : (size_t)16 << 20;
    o->app_arena_size = o->session_arena_size;
}

static void peer_server(int provider)
{
    shmipc_server_opts so;
    shmipc_server *srv;
    shmipc_session *s;

    server_opts(provider, &so);
    if (shmipc_server_open(SERVER, &so, &srv) != 0) {
        fprintf(stderr, "test_faults peer: server: %s\n", shmipc_error_detail());
        _exit(1);
    }
    while (!stop_peer)
        if (shmipc_server_accept(srv, 200, &s) == 0) {
            respond(s);
            shmipc_session_close(s);
        }
    shmipc_server_close(srv);
}

static void peer_client(int provider)
{
    shmipc_client_opts co;
    shmipc_session *s;

    (void)provider; /* the server's */
    shmipc_client_opts_init(&co);
    co.timeout_ms = 2000;
    while (!stop_peer) {
        if (shmipc_connect(SERVER, "viewer", &co, &s) != 0) {
            usleep(5000);
            continue;
        }
        respond(s);
        shmipc_session_close(s);
    }
}

static pid_t start_peer(void (*fn)(int), int provider)
{
    pid_t pid = fork();

    if (pid == 0) {
        signal(SIGTERM, on_term);
        fn(provider);
        _exit(peer_lost ? 1 : 0);
    }
    return pid;
}

/* ---- the paths ---------------------------------------------------------------------------- */

/* A path: setup (not armed) makes ctx, run is armed, again must then work, teardown (not
 * armed) undoes setup. Any of setup/again/teardown may be NULL. */
struct ctx {
    int provider;
    shmipc_server *srv;
    shmipc_session *s;
    size_t used0, app0; /* bytes in use in s's session and app arenas when s was made */
};

/* Bytes in use in an arena this side allocates in (0 for a peer's lend arena). */
static size_t in_use(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    return a && shmipc_arena_writable(a) && shmipc_arena_stats(a, &st) == 0 ? st.used : 0;
}

/* A session is made: what its arena holds now is what it must come back to. */
static int session_made(struct ctx *c, int rc)
{
    if (rc == 0) {
        c->used0 = in_use(shmipc_session_arena(c->s));
        c->app0 = in_use(shmipc_app_arena(c->s));
    }
    return rc;
}

/* 1 if the session's arenas are back to what they held when the session was made, once
 * the peer has released what it was lent (within 2 s). */
static int arena_back(struct ctx *c)
{
    for (int i = 0; i < 2000; i++) {
        if (in_use(shmipc_session_arena(c->s)) == c->used0 &&
            in_use(shmipc_app_arena(c->s)) == c->app0)
            return 1;
        shmipc_session_poll(c->s);
        usleep(1000);
    }
    return 0;
}

struct path {
    const char *name;
    int provider;      /* -1: none */
    void (*peer)(int); /* NULL: no peer */
    int (*setup)(struct ctx *);
    int (*run)(struct ctx *);
    int (*again)(struct ctx *); /* NULL: run again */
    void (*teardown)(struct ctx *);
    int quick; /* part of the sweep without --all (make check) */
};

/* An arena made in a memfd pool, attached again through the pool's descriptor. */
static int arena_in_pool(void)
{
    shmipc_pool *p, *q;
    shmipc_arena *a, *b;
    void *ptr;
    int rc;

    if ((rc = shmipc_pool_create(NULL, 1 << 20, 0, &p)) != 0)
        return rc;
    if ((rc = shmipc_arena_create(p, &a)) != 0) {
        shmipc_pool_close(p);
        return rc;
    }
    if ((rc = shmipc_pool_from_fd(shmipc_pool_fd(p), 0, &q)) == 0 &&
        (rc = shmipc_arena_attach(q, &b)) != 0)
        shmipc_pool_close(q);
    if (rc == 0) {
        if ((ptr = shmipc_alloc(b, 1000)) != NULL)
            shmipc_free(a, ptr);
        else
            rc = SHMIPC_ENOMEM;
        shmipc_arena_close(b);
    }
    shmipc_arena_close(a);
    return rc;
}

static int run_pools(struct ctx *c)
{
    shmipc_pool *p;
    int rc;

    (void)c;
    if ((rc = arena_in_pool()) != 0)
        return rc;
    if ((rc = shmipc_pool_create(uname_("pool"), 1 << 20, 0, &p)) != 0)
        return rc;
    shmipc_pool_close(p);
    return shmipc_pool_unlink(uname_("pool"));
}

static int run_named(struct ctx *c)
{
    shmipc_arena *a;
    void *ptr, *q;
    int rc;

    (void)c;
    if ((rc = shmipc_arena_open(uname_("arena"), 1 << 20, SHMIPC_SCOPE_NODE, &a)) != 0)
        return rc;
    rc = shmipc_named_alloc(a, "table", 4096, &ptr);
    if (rc >= 0) {
        memset(ptr, 2, 4096);
        rc = shmipc_named_free(a, "table");
    }
    if (rc >= 0 && !(q = shmipc_alloc(a, 1000)))
        rc = SHMIPC_ENOMEM;
    else if (rc >= 0)
        shmipc_free(a, q);
    shmipc_arena_close(a);
    if (shmipc_arena_unlink(uname_("arena")) != 0 && rc >= 0)
        rc = -100; /* the arena's name was lost */
    return rc < 0 ? rc : 0;
}

static int run_server_open(struct ctx *c)
{
    shmipc_server_opts so;
    int rc;

    server_opts(c->provider, &so);
    if ((rc = shmipc_server_open(SERVER, &so, &c->srv)) == 0) {
        shmipc_server_close(c->srv);
        c->srv = NULL;
    }
    return rc;
}

static int connect_session(struct ctx *c)
{
    shmipc_client_opts co;

    shmipc_client_opts_init(&co);
    co.timeout_ms = 5000;
    return session_made(c, shmipc_connect(SERVER, "viewer", &co, &c->s));
}

static int run_connect(struct ctx *c)
{
    int rc = connect_session(c);

    shmipc_session_close(c->s);
    c->s = NULL;
    return rc;
}

/* A client's setup: connect, the server peer may still be starting. */
static int setup_client(struct ctx *c)
{
    int rc;

    for (int i = 0; i < 100 && (rc = connect_session(c)) != 0; i++)
        usleep(20000);
    return rc;
}

static void close_session(struct ctx *c)
{
    shmipc_session_close(c->s);
    c->s = NULL;
}

/* The connect path's setup: the server peer is up (it serves one session at a time). */
static int server_is_up(struct ctx *c)
{
    int rc = setup_client(c);

    close_session(c);
    return rc;
}

static int run_exchanges(struct ctx *c)
{
    return exchanges(c->s);
}

/* After a failure the session may have ended (its peer told, or it chose to): then a new
 * one must work. */
static int again_client_exchanges(struct ctx *c)
{
    int rc = exchanges(c->s);

    if (rc == SHMIPC_ECLOSED || shmipc_session_closed(c->s)) {
        close_session(c);
        if ((rc = setup_client(c)) == 0)
            rc = exchanges(c->s);
    }
    return rc;
}

static int setup_server(struct ctx *c)
{
    shmipc_server_opts so;

    server_opts(c->provider, &so);
    return shmipc_server_open(SERVER, &so, &c->srv);
}

static void close_server(struct ctx *c)
{
    close_session(c);
    shmipc_server_close(c->srv);
    c->srv = NULL;
}

static int run_accept(struct ctx *c)
{
    int rc = shmipc_server_accept(c->srv, 5000, &c->s);

    close_session(c);
    return rc;
}

static int setup_accepted(struct ctx *c)
{
    int rc = setup_server(c);
    return rc ? rc : session_made(c, shmipc_server_accept(c->srv, 5000, &c->s));
}

static int again_server_exchanges(struct ctx *c)
{
    int rc = exchanges(c->s);

    if (rc == SHMIPC_ECLOSED || shmipc_session_closed(c->s)) {
        close_session(c);
        if ((rc = session_made(c, shmipc_server_accept(c->srv, 5000, &c->s))) == 0)
            rc = exchanges(c->s);
    }
    return rc;
}

#define SHARED SHMIPC_PROVIDER_SHARED
#define LEND SHMIPC_PROVIDER_LEND
static const struct path paths[] = {
    {"pools", -1, NULL, NULL, run_pools, NULL, NULL, 1},
    {"named-arena", -1, NULL, NULL, run_named, NULL, NULL, 1},
    {"server-open-shared", SHARED, NULL, NULL, run_server_open, NULL, NULL, 0},
    {"server-open-lend", LEND, NULL, NULL, run_server_open, NULL, NULL, 0},
    {"connect-shared", SHARED, peer_server, server_is_up, run_connect, NULL, NULL, 0},
    {"connect-lend", LEND, peer_server, server_is_up, run_connect, NULL, NULL, 1},
    {"client-exchange-shared", SHARED, peer_server, setup_client, run_exchanges,
     again_client_exchanges, close_session, 0},
    {"client-exchange-lend", LEND, peer_server, setup_client, run_exchanges,
     again_client_exchanges, close_session, 1},
    {"accept-shared", SHARED, peer_client, setup_server, run_accept, NULL, close_server, 1},
    {"accept-lend", LEND, peer_client, setup_server, run_accept, NULL, close_server, 0},
    {"server-exchange-shared", SHARED, peer_client, setup_accepted, run_exchanges,
     again_server_exchanges, close_server, 1},
    {"server-exchange-lend", LEND, peer_client, setup_accepted, run_exchanges,
     again_server_exchanges, close_server, 0},
};
#define NPATHS (sizeof paths / sizeof paths[0])

/* ---- the sweep (in a child) ------------------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdprintf(report_fd, fmt, ap);
    va_end(ap);
}

static int fp_same(struct footprint a, struct footprint b)
{
    return a.fds == b.fds && a.shm == b.shm && a.sock == b.sock;
}

/* One run with call n armed (n 0: nothing armed). Returns 1 if the armed call was reached
 * (0: the sweep is over); *bad counts the failed checks, reported through say(). */
static int one_run(const struct path *p, long n, int eintr, int *bad)
{
    struct ctx c = {.provider = p->provider};
    struct footprint before = footprint(), after;
    char detail[512] = "";
    const char *sym;
    int rc, fired, again;

#define BAD(...) (++*bad <= MAX_REPORTS && n ? say("0 " __VA_ARGS__) : 0)
    if (p->setup && (rc = p->setup(&c)) != 0) {
        BAD("%s: setup (not armed) failed before call %ld: %s\n", p->name, n,
            shmipc_error_detail());
        return 0;
    }
    fault_arm(n ? n : MAX_N * 10, eintr);
    rc = p->run(&c);
    fired = fault_disarm();
    snprintf(detail, sizeof detail, "%s", shmipc_error_detail());
    sym = fired ? fault_symbol() : "nothing";
    if (rc > 0 || (rc < 0 && !fired) || (rc < 0 && !detail[0]) || rc < SHMIPC_ERRNO_MIN)
        BAD("%s: call %ld (%s) failed: the path returned %d (%s), detail '%s'\n", p->name, n,
            sym, rc, shmipc_strerror(rc), detail);
    else if (rc < 0 && n)
        say("e %s %s\n", sym, shmipc_strerror(rc));
    again = (p->again ? p->again : p->run)(&c);
    if (again != 0)
        BAD("%s: after call %ld (%s) failed (%s: %s), the path fails again: %s (%s)\n", p->name,
            n, sym, shmipc_strerror(rc), detail, shmipc_strerror(again), shmipc_error_detail());
    if (again == 0 && c.s && !arena_back(&c))
        BAD("%s: call %ld (%s) failed (%s): the session and app arenas hold %zu and %zu "
            "bytes, not %zu and %zu: something lent or made was never freed\n",
            p->name, n, sym, detail, in_use(shmipc_session_arena(c.s)),
            in_use(shmipc_app_arena(c.s)), c.used0, c.app0);
    if (p->teardown)
        p->teardown(&c);
    after = footprint();
    if (!fp_same(before, after))
        BAD("%s: call %ld (%s) failed (%s): left descriptors %d -> %d, shm files %d -> %d, "
            "socket files %d -> %d\n",
            p->name, n, sym, detail, before.fds, after.fds, before.shm, after.shm, before.sock,
            after.sock);
    if (LEAK_CHECK())
        BAD("%s: call %ld (%s) failed (%s): LeakSanitizer found leaks (above)\n", p->name, n,
            sym, detail);
#undef BAD
    return fired;
}

static int sweep(const struct path *p, int eintr)
{
    pid_t peer = p->peer ? start_peer(p->peer, p->provider) : 0;
    int bad = 0, unchecked = 0;
    long n;

    fault_report_to(report_fd);
    /* Unarmed runs first, unchecked: the peer starts, and what the core makes once per
     * process (caches) is made. */
    for (int i = 0; i < 2; i++)
        one_run(p, 0, eintr, &unchecked);
    for (n = 1; n <= MAX_N && one_run(p, n, eintr, &bad); n++)
        ;
    if (n > MAX_N)
        bad++, say("0 %s: still failing calls after %d: a runaway path\n", p->name, MAX_N);
    say("%d %s%s: calls 1..%ld failed one at a time: no crash, every failure reported, "
        "nothing leaked, the path works after (%d bad)\n",
        bad == 0, p->name, eintr ? " (EINTR)" : "", n - 1, bad);
    if (peer > 0) {
        int status = 0;
        kill(peer, SIGTERM);
        waitpid(peer, &status, 0);
        say("%d %s%s: the peer took every object lent to it whole (exit %d)\n",
            WIFEXITED(status) && WEXITSTATUS(status) == 0, p->name, eintr ? " (EINTR)" : "",
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    return 0;
}

/* ---- the parent: one child per path, its lines turned into TAP ------------------------- */

struct tally {
    char sym[32], what[48];
    int count;
};

static int lend_supported(void)
{
    shmipc_server_opts so;
    shmipc_server *srv;
    int rc;

    server_opts(LEND, &so);
    if ((rc = shmipc_server_open(SERVER, &so, &srv)) == 0)
        shmipc_server_close(srv);
    return rc != SHMIPC_ENOTSUP;
}

static void run_path(const struct path *p, int eintr)
{
    int fds[2], status, checks = 0, tn = 0;
    long last_n = 0;
    char line[1200], last_sym[64] = "none";
    struct tally t[64];
    FILE *in;
    pid_t pid;

    if (p->provider == LEND && !lend_supported()) {
        skip("the lend provider: this build has no jemalloc");
        return;
    }
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        ok(0, "%s: fork", p->name);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        _exit(sweep(p, eintr));
    }
    close(fds[1]);
    in = fdopen(fds[0], "r");
    while (in && fgets(line, sizeof line, in)) {
        char sym[32], what[48];
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "f %ld %63s", &last_n, last_sym) == 2)
            continue;
        if (sscanf(line, "e %31s %47[^\n]", sym, what) == 2) {
            int i;
            for (i = 0; i < tn && (strcmp(t[i].sym, sym) || strcmp(t[i].what, what)); i++)
                ;
            if (i == tn && tn < 64) {
                snprintf(t[tn].sym, sizeof t[tn].sym, "%s", sym);
                snprintf(t[tn].what, sizeof t[tn].what, "%s", what);
                t[tn++].count = 0;
            }
            if (i < tn)
                t[i].count++;
            continue;
        }
        ok(line[0] == '1', "%s", line + 2);
        checks++;
    }
    if (in)
        fclose(in);
    waitpid(pid, &status, 0);
    for (int i = 0; i < tn; i++)
        diag("  %s%s: %s failing -> %s (%d times)", p->name, eintr ? " (EINTR)" : "", t[i].sym,
             t[i].what, t[i].count);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || checks == 0)
        ok(0, "%s: the sweep died (%s %d) when call %ld (%s) had failed", p->name,
           WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), last_n, last_sym);
}

int main(int argc, char **argv)
{
    int quick = 1, eintr_only = 0, named = 0;
    char shm[64];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            quick = 0;
        else if (strcmp(argv[i], "--eintr") == 0)
            eintr_only = 1;
        else if (strcmp(argv[i], "--list") == 0) {
            for (size_t j = 0; j < NPATHS; j++)
                printf("%s\n", paths[j].name);
            return 0;
        } else
            named = 1;
    }
    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    snprintf(shm, sizeof shm, "/tmp/shmipc-faults-shm.XXXXXX");
    if (!mkdtemp(shm))
        return 99;
    setenv("SHMIPC_SHM_DIR", shm, 1);
    for (size_t j = 0; j < NPATHS; j++) {
        int chosen = !named;
        for (int i = 1; i < argc; i++)
            chosen |= strcmp(argv[i], paths[j].name) == 0;
        if (!chosen || (quick && !named && !paths[j].quick))
            continue;
        if (!eintr_only)
            run_path(&paths[j], 0);
        if (!quick || eintr_only)
            run_path(&paths[j], 1);
    }
    ok(count_dir(shm) == 0, "nothing left in the shm directory");
    rmdir(shm);
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    return done_testing();
}
