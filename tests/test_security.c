/* The security model, with a real second user (made here with useradd when run as root;
 * skipped, saying why, where that cannot be done):
 *   - a client of another uid is refused by the allow-list, with the reason, and the server
 *     goes on serving; with the default socket mode it cannot even connect;
 *   - it cannot open a session's pools (the memfds, through /proc/<pid>/fd) nor a named
 *     arena created with mode 0600;
 *   - a peer cannot shrink a pool it was given (F_SEAL_SHRINK): the owner keeps working
 *     instead of dying of SIGBUS;
 *   - a client refuses a server whose WELCOME carries a pipe where an eventfd doorbell
 *     belongs (a fake server that is right in everything else);
 * (What a lend-provider borrower cannot do — write, mprotect, reopen writable — is proven
 * in test_lend; forged blobs and release reports in test_session and test_lend.) */
#include "session_util.h" /* first: it defines _GNU_SOURCE */

#include "user_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "arena.h"
#include "channel.h"
#include "proto.h"

#define OTHER "shmipc-test"

static int made_user;

struct attempt {
    const char *server, *dir;
    int rc;
    const char *reason; /* what the error detail must say */
};

/* In a child as the other user: connect; exit 0 if refused with the expected code. */
static int connect_as_other(void *arg)
{
    struct attempt *at = arg;
    shmipc_client_opts co;
    shmipc_session *s;
    int rc;

    become_other();
    shmipc_client_opts_init(&co);
    co.socket_dir = at->dir;
    rc = shmipc_connect(at->server, "intruder", &co, &s);
    if (rc == 0)
        return 1;
    if (rc != at->rc) {
        fprintf(stderr, "connect: %s (%s)\n", shmipc_strerror(rc), shmipc_error_detail());
        return 2;
    }
    if (!strstr(shmipc_error_detail(), at->reason)) {
        fprintf(stderr, "connect: refused, but the detail does not say '%s': %s\n", at->reason,
                shmipc_error_detail());
        return 3;
    }
    return 0;
}

/* In a child as the other user: open every fd of pid through /proc; exit 0 if none opens. */
static int open_fds_of(void *arg)
{
    long pid = *(long *)arg;
    char path[64];
    int opened = 0;

    become_other();
    for (int n = 0; n < 1024; n++) {
        int fd;
        snprintf(path, sizeof path, "/proc/%ld/fd/%d", pid, n);
        if ((fd = open(path, O_RDONLY)) >= 0) {
            opened++;
            close(fd);
        }
    }
    return opened ? 1 : 0;
}

/* In a child as the other user: open a path read-only; exit 0 if refused (EACCES). */
static int open_path(void *arg)
{
    become_other();
    return open((const char *)arg, O_RDONLY) < 0 && errno == EACCES ? 0 : 1;
}

static int exited_zero(int status)
{
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_allow_list(void)
{
    char dir[64] = "/tmp/shmipc-sec-XXXXXX";
    shmipc_app_rule mine[] = {{"*", (long)getuid(), SHMIPC_ANY_ID}};
    shmipc_server_opts o;
    shmipc_server *srv;
    shmipc_session *s, *c;
    struct attempt at;
    int status;

    mkdtemp(dir);
    chmod(dir, 0755); /* others may reach the socket: the allow-list has to say no */
    shmipc_server_opts_init(&o);
    o.allow = mine;
    o.n_allow = 1;
    o.socket_dir = dir;
    o.socket_mode = 0666;
    is_rc(shmipc_server_open("guarded", &o, &srv), 0,
          "a server for uid %u only, its socket "
          "open to all",
          (unsigned)getuid());
    at = (struct attempt){"guarded", dir, SHMIPC_EPERM, "is not allowed"};
    {
        pid_t pid = fork();
        if (pid == 0)
            _exit(connect_as_other(&at));
        is_rc(shmipc_server_accept(srv, 2000, &s), SHMIPC_ETIMEDOUT,
              "the server skips the "
              "refused client and keeps waiting");
        waitpid(pid, &status, 0);
    }
    ok(exited_zero(status), "uid %u is refused with EPERM, and told why (child 0x%x)",
       (unsigned)other_uid, (unsigned)status);
    ok(shmipc_server_rejected(srv) == 1, "the refusal is counted");
    setenv("SHMIPC_SOCKET_DIR", dir, 1);
    is_rc(open_pair(srv, "guarded", &s, &c), 0, "and the server still serves its own uid");
    setenv("SHMIPC_SOCKET_DIR", sock_dir, 1);
    {
        long me = (long)getpid();
        status = run_child(open_fds_of, &me);
        ok(exited_zero(status), "the other user opens none of this process's descriptors "
                                "(the session's memfds among them) through /proc");
    }
    shmipc_session_close(c);
    shmipc_session_close(s);
    shmipc_server_close(srv);

    /* the default socket mode: others cannot even connect */
    shmipc_server_opts_init(&o);
    o.socket_dir = dir;
    is_rc(shmipc_server_open("private", &o, &srv), 0, "a server with the default socket mode");
    at = (struct attempt){"private", dir, SHMIPC_EPERM, "Permission denied"};
    status = run_child(connect_as_other, &at);
    ok(exited_zero(status),
       "another user cannot connect to its 0600 socket (EPERM; child "
       "0x%x)",
       (unsigned)status);
    shmipc_server_close(srv);
    rmdir(dir);
}

static void test_named_arena_mode(void)
{
    const char *name = uname_("private");
    char path[4096];
    shmipc_arena *a;

    is_rc(shmipc_arena_open(name, 1 << 20, SHMIPC_SCOPE_NODE, &a), 0, "a named arena");
    snprintf(path, sizeof path, "/dev/shm/shmipc.%u.%s", (unsigned)getuid(), name);
    ok(exited_zero(run_child(open_path, path)), "another user cannot open it (mode 0600)");
    shmipc_arena_close(a);
    shmipc_arena_unlink(name);
}

/* A peer that truncates a pool it was given: refused, and the owner carries on. */
static void test_truncate(void)
{
    shmipc_server *srv;
    shmipc_session *s, *c;
    shmipc_obj *o;
    int fd;

    if (shmipc_server_open("trunc", NULL, &srv) != 0 || open_pair(srv, "trunc", &s, &c) != 0) {
        ok(0, "a session for the truncation test");
        return;
    }
    shmipc_obj_new(shmipc_session_arena(s), 100000, &o);
    memset(shmipc_obj_ptr(o), 7, 100000);
    /* the client's descriptor of the session arena, as a peer holds it */
    fd = shmipc_pool_fd(shmipc_arena_pool(shmipc_session_arena(c)));
    ok(ftruncate(fd, 4096) != 0 && errno == EPERM, "a peer's ftruncate of its session arena "
                                                   "is refused (F_SEAL_SHRINK)");
    ok(((unsigned char *)shmipc_obj_ptr(o))[99999] == 7, "and the owner reads its last "
                                                         "page: no SIGBUS");
    shmipc_obj_unref(o);
    shmipc_session_close(c);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* A fake server: one valid WELCOME (a control segment, two shared arenas with endpoints)
 * whose first doorbell is the read end of a pipe. */
struct fake {
    int listener;
    shmipc_pool *ctrl;
    shmipc_arena *arena[2];
    int fds[PROTO_FDS];
};

static int fake_welcome(struct fake *f, int sock)
{
    struct msg_welcome w = {.magic = PROTO_MAGIC,
                            .version = PROTO_VERSION,
                            .type = MSG_WELCOME,
                            .provider = SHMIPC_PROVIDER_SHARED,
                            .session_id = 42,
                            .key = 7};
    int pipefd[2];

    if (shmipc_pool_create(NULL, shmipc__ctrl_size(), 0, &f->ctrl) != 0 || pipe(pipefd) != 0)
        return -1;
    shmipc__ctrl_init(shmipc_pool_base(f->ctrl), w.session_id);
    f->fds[0] = shmipc_pool_fd(f->ctrl);
    for (int k = 0; k < 2; k++) {
        shmipc_pool *p;
        if (shmipc_pool_create(NULL, 1 << 20, 0, &p) != 0 ||
            shmipc_arena_create(p, &f->arena[k]) != 0 ||
            shmipc__ep_open(f->arena[k], getpid(), &w.client_ep[k]) != 0 ||
            shmipc__ep_open(f->arena[k], getpid(), &w.server_ep[k]) != 0)
            return -1;
        f->fds[1 + k] = shmipc_pool_fd(p);
    }
    f->fds[3] = pipefd[0];
    close(pipefd[1]);
    for (int i = 4; i < PROTO_FDS; i++)
        f->fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return shmipc__send_fds(sock, &w, sizeof w, f->fds, PROTO_FDS, 0) == (ssize_t)sizeof w ? 0
                                                                                           : -1;
}

static void *fake_server(void *arg)
{
    struct fake *f = arg;
    struct msg_hello hello;
    char rest[64];
    int sock = accept(f->listener, NULL, NULL);

    if (sock >= 0 && recv(sock, &hello, sizeof hello, 0) > 0 && fake_welcome(f, sock) == 0)
        while (recv(sock, rest, sizeof rest, 0) > 0) /* until the client hangs up */
            ;
    if (sock >= 0)
        close(sock);
    return NULL;
}

static void test_fake_doorbell(void)
{
    struct fake f = {.fds = {-1, -1, -1, -1, -1, -1, -1}};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    shmipc_session *s = NULL;
    pthread_t t;
    int rc;

    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/fake.sock", sock_dir);
    f.listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (!SETUP(f.listener >= 0 && bind(f.listener, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                   listen(f.listener, 1) == 0,
               "the fake server's socket"))
        return;
    pthread_create(&t, NULL, fake_server, &f);
    rc = shmipc_connect("fake", "viewer", NULL, &s);
    is_rc(rc, SHMIPC_EPROTO, "a WELCOME with a pipe for a doorbell is refused");
    ok(strstr(shmipc_error_detail(), "not an eventfd") != NULL, "the detail says so (%s)",
       shmipc_error_detail());
    shmipc_session_close(s); /* (if it was taken: the old code's mistake) */
    pthread_join(t, NULL);
    for (int i = 3; i < PROTO_FDS; i++)
        if (f.fds[i] >= 0)
            close(f.fds[i]);
    shmipc_arena_close(f.arena[0]);
    shmipc_arena_close(f.arena[1]);
    shmipc_pool_close(f.ctrl);
    close(f.listener);
    unlink(sa.sun_path);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    test_truncate();
    test_fake_doorbell();
    if (!other_user(OTHER, &made_user)) {
        skip("tests with a second user: not root, and no user '" OTHER "' exists");
    } else {
        test_allow_list();
        test_named_arena_mode();
    }
    if (made_user && system("userdel " OTHER " >/dev/null 2>&1") != 0)
        diag("could not remove the user " OTHER);
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
