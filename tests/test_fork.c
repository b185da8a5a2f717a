/* A forked child and its parent's handles, with both providers: in the child every call on
 * an inherited server, session, arena or object says SHMIPC_EINVAL ("inherited across
 * fork") and changes nothing of the parent's; closing them in the child frees only the
 * child's copies (no goodbye, no count dropped, no name removed); a child's own new
 * server and session work. Real fork(), the child exiting through exit() (its exit
 * handlers run) or _exit(). */
#include "session_util.h"

static int provider;

/* What the parent has when it forks. */
struct world {
    shmipc_server *srv;
    const char *name;
    shmipc_session *srv_side, *cli_side;
    shmipc_arena *arena;  /* the client side's session arena */
    shmipc_obj *mine;     /* the client side's object, lent to the server side */
    shmipc_obj *borrowed; /* the server side's loan of it */
    shmipc_blob blob;     /* a loan of mine not yet borrowed */
};

static shmipc_server *serve(const char *name)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.provider = provider;
    if (shmipc_server_open(name, &o, &srv) != 0)
        diag("server_open: %s", shmipc_error_detail());
    return srv;
}

static int failures;

/* In the child: one check, told on failure only (the parent counts the child's exit). */
static void check(int cond, const char *what)
{
    if (!cond) {
        diag("child: %s (detail: %s)", what, shmipc_error_detail());
        failures++;
    }
}

static int inherited_detail(void)
{
    return strstr(shmipc_error_detail(), "inherited across fork") != NULL;
}

static void check_refused(int rc, const char *what)
{
    char buf[128];

    snprintf(buf, sizeof buf, "%s says EINVAL 'inherited across fork' (rc %d)", what, rc);
    check(rc == SHMIPC_EINVAL && inherited_detail(), buf);
}

/* Every call on the parent's handles is refused. */
static void child_calls(struct world *w)
{
    char buf[64];
    size_t len;
    shmipc_obj *o = NULL;
    shmipc_blob blob;

    check_refused(shmipc_recv(w->srv_side, buf, sizeof buf, &len, &o, 0), "recv");
    check_refused(shmipc_send(w->cli_side, "x", 1, NULL), "send");
    check_refused(shmipc_send(w->cli_side, "x", 1, w->mine), "send with an object");
    check_refused(shmipc_lend(w->cli_side, w->mine, &blob), "lend");
    check_refused(shmipc_borrow(w->srv_side, &w->blob, &o), "borrow");
    check_refused(shmipc_session_poll(w->cli_side), "session_poll");
    check(shmipc_session_fd(w->cli_side) >= 0, "session_fd gives the child's copy of the fd");
    check_refused(shmipc_server_accept(w->srv, 0, &w->srv_side), "server_accept");
    check(shmipc_session_arena(w->cli_side) == w->arena,
          "session_arena gives the inherited arena (which refuses every call)");
    check(shmipc_obj_ptr(w->mine) == NULL && inherited_detail(), "obj_ptr gives NULL");
    check(shmipc_obj_writable(w->mine) == 0, "obj_writable gives 0");
}

/* Calls on the parent's arenas, reached before the child closes its sessions. */
static void child_arena_calls(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    shmipc_obj *o = NULL;
    void *p;

    p = shmipc_alloc(a, 64);
    check(p == NULL && inherited_detail(), "alloc gives NULL");
    check_refused(shmipc_obj_new(a, 64, &o), "obj_new");
    check_refused(shmipc_arena_stats(a, &st), "arena_stats");
}

/* A session of the child's own works. */
static void child_own_session(void)
{
    shmipc_server *srv = serve(uname_("child"));
    shmipc_session *a = NULL, *b = NULL;
    shmipc_obj *o = NULL, *got = NULL;
    char buf[16];
    size_t len = 0;

    check(srv && open_pair(srv, uname_("child"), &a, &b) == 0, "child's own session opens");
    check(a && b && shmipc_obj_new(shmipc_session_arena(b), 32, &o) == 0, "child's own object");
    if (o) {
        memset(shmipc_obj_ptr(o), 0x5c, 32);
        check(shmipc_send(b, "own", 3, o) == 0, "child sends on its own session");
        check(shmipc_recv(a, buf, sizeof buf, &len, &got, 5000) == 0 && len == 3 && got &&
                  ((unsigned char *)shmipc_obj_ptr(got))[31] == 0x5c,
              "child receives on its own session, with the object");
    }
    shmipc_obj_unref(got);
    shmipc_obj_unref(o);
    shmipc_session_close(b);
    shmipc_session_close(a);
    shmipc_server_close(srv);
}

static int setup(struct world *w)
{
    char buf[16];
    size_t len;

    memset(w, 0, sizeof *w);
    w->name = uname_(provider == SHMIPC_PROVIDER_LEND ? "lend" : "shared");
    if (!SETUP((w->srv = serve(w->name)) != NULL, "server") ||
        !SETUP(open_pair(w->srv, w->name, &w->srv_side, &w->cli_side) == 0, "session") ||
        !SETUP((w->arena = shmipc_session_arena(w->cli_side)) != NULL, "arena") ||
        !SETUP(shmipc_obj_new(w->arena, 4096, &w->mine) == 0, "object"))
        return -1;
    memset(shmipc_obj_ptr(w->mine), 0xa7, 4096);
    if (!SETUP(shmipc_send(w->cli_side, "obj", 3, w->mine) == 0, "send") ||
        !SETUP(shmipc_recv(w->srv_side, buf, sizeof buf, &len, &w->borrowed, 5000) == 0 &&
                   w->borrowed,
               "recv") ||
        !SETUP(shmipc_lend(w->cli_side, w->mine, &w->blob) == 0, "lend"))
        return -1;
    return 0;
}

static void teardown(struct world *w)
{
    shmipc_obj *o = NULL;

    if (shmipc_borrow(w->srv_side, &w->blob, &o) == 0)
        shmipc_obj_unref(o);
    shmipc_obj_unref(w->borrowed);
    shmipc_obj_unref(w->mine);
    shmipc_session_close(w->cli_side);
    shmipc_session_close(w->srv_side);
    shmipc_server_close(w->srv);
}

static void child(struct world *w, int use_exit)
{
    child_calls(w);
    child_arena_calls(w->arena);
    teardown(w); /* the child drops everything it inherited (its borrow is refused) */
    child_own_session();
    if (use_exit)
        exit(failures ? 1 : 0);
    _exit(failures ? 1 : 0);
}

/* After the child: the parent's session, objects, loans and server are as they were. */
static void parent_checks(struct world *w, const struct shmipc_arena_stats *before,
                          const char *how)
{
    struct shmipc_arena_stats after = stats_of(w->arena);
    shmipc_session *s2 = NULL, *c2 = NULL;
    shmipc_obj *o = NULL;
    const unsigned char *bytes;
    char buf[16];
    size_t len = 0;

    ok(after.used == before->used && after.allocations == before->allocations,
       "%s: the arena's figures are unchanged (used %zu -> %zu, allocations %zu -> %zu)", how,
       before->used, after.used, before->allocations, after.allocations);
    bytes = shmipc_obj_ptr(w->borrowed);
    ok(bytes && bytes[0] == 0xa7 && bytes[4095] == 0xa7,
       "%s: the peer still reads the object the child unreferenced", how);
    shmipc_session_poll(w->cli_side);
    shmipc_session_poll(w->srv_side);
    is_rc(shmipc_recv(w->cli_side, buf, sizeof buf, &len, NULL, 0), SHMIPC_ETIMEDOUT,
          "%s: the parent's session is open (recv waits, no ECLOSED)", how);
    is_rc(shmipc_recv(w->srv_side, buf, sizeof buf, &len, NULL, 0), SHMIPC_ETIMEDOUT,
          "%s: the peer's session is open (recv waits, no ECLOSED)", how);
    is_rc(shmipc_send(w->cli_side, "ping", 4, NULL), 0, "%s: the parent still sends", how);
    is_rc(shmipc_recv(w->srv_side, buf, sizeof buf, &len, NULL, 2000), 0,
          "%s: the peer receives it (the child's close said no goodbye)", how);
    is_rc(shmipc_send(w->srv_side, "pong", 4, NULL), 0, "%s: the peer answers", how);
    is_rc(shmipc_recv(w->cli_side, buf, sizeof buf, &len, NULL, 2000), 0,
          "%s: the parent receives the answer", how);
    is_rc(shmipc_borrow(w->srv_side, &w->blob, &o), 0,
          "%s: a loan made before the fork is still borrowable", how);
    shmipc_obj_unref(o);
    o = NULL;
    is_rc(shmipc_obj_new(w->arena, 100000, &o), 0, "%s: the parent allocates again", how);
    shmipc_obj_unref(o);
    is_rc(shmipc_arena_check(w->arena), 0, "%s: and its arena checks whole", how);
    if (!SETUP(shmipc_lend(w->cli_side, w->mine, &w->blob) == 0, "lend again"))
        return;
    is_rc(open_pair(w->srv, w->name, &s2, &c2), 0,
          "%s: the parent's server still accepts (the child removed no name)", how);
    shmipc_session_close(c2);
    shmipc_session_close(s2);
}

static void test_fork(int use_exit)
{
    const char *how = use_exit ? "child exits with exit()" : "child exits with _exit()";
    struct shmipc_arena_stats before;
    struct world w;
    int status;
    pid_t pid;

    if (setup(&w) != 0) {
        teardown(&w);
        return;
    }
    before = stats_of(w.arena);
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        child(&w, use_exit);
    ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0,
       "%s: in the child, every call on an inherited handle says EINVAL, and its own "
       "session works",
       how);
    parent_checks(&w, &before, how);
    teardown(&w);
}

static void test_provider(int p)
{
    shmipc_server *probe = NULL;
    shmipc_server_opts o;

    provider = p;
    shmipc_server_opts_init(&o);
    o.provider = p;
    if (p == SHMIPC_PROVIDER_LEND &&
        shmipc_server_open(uname_("probe"), &o, &probe) == SHMIPC_ENOTSUP) {
        skip("lend provider: no jemalloc in this build");
        return;
    }
    shmipc_server_close(probe);
    diag("provider %s", p == SHMIPC_PROVIDER_LEND ? "lend" : "shared");
    test_fork(1);
    test_fork(0);
}

int main(void)
{
    use_private_socket_dir();
    test_provider(SHMIPC_PROVIDER_SHARED);
    test_provider(SHMIPC_PROVIDER_LEND);
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
