/* client.c — the client side of the session handshake (shmipc_connect): connect to the
 * server's socket, send HELLO, map what WELCOME brings (the control segment, the server's
 * arenas, the doorbells), make the client's own lend arena (lend provider), send READY.
 * The protocol is in docs/protocol.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handshake.h"
#include "lend.h"
#include "session.h"

/* connect(2) on a non-blocking Unix socket fails with EAGAIN while the server's backlog is
 * full: try again every millisecond until timeout_ms (-1: forever) has passed. */
static int connect_within(int fd, const struct sockaddr_un *sa, int timeout_ms)
{
    for (int waited = 0;; waited++) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (timeout_ms >= 0 && waited >= timeout_ms) {
            errno = ETIMEDOUT;
            return -1;
        }
        usleep(1000);
    }
}

/* Milliseconds left of timeout_ms (-1: forever) since start. */
static int ms_left(uint64_t start, int timeout_ms)
{
    uint64_t spent = (shmipc__now_ns() - start) / 1000000u;

    if (timeout_ms < 0)
        return -1;
    return spent >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)spent;
}

/* Sleep until something changes in the socket's directory (inotify: the server's socket
 * appears or is renamed into place) or ms (>= 0) pass, whichever comes first. Without
 * inotify (or the directory) it is a plain sleep: the caller's backoff bounds the polling. */
static void await_socket(const char *path, int ms)
{
    char dir[sizeof((struct sockaddr_un *)0)->sun_path];
    char *slash;
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

    snprintf(dir, sizeof dir, "%s", path);
    if ((slash = strrchr(dir, '/')) != NULL)
        *slash = '\0';
    if (in >= 0 && slash &&
        inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB) >= 0) {
        struct pollfd p = {.fd = in, .events = POLLIN};
        poll(&p, 1, ms);
    } else {
        usleep((useconds_t)ms * 1000u);
    }
    if (in >= 0)
        close(in);
}

/* The failure of a connection to sa (errno err). */
static int connect_failed(const struct sockaddr_un *sa, const char *server, int timeout_ms,
                          int wait, int err)
{
    errno = err;
    if ((err == ENOENT || err == ECONNREFUSED) && wait)
        return shmipc__fail(SHMIPC_ETIMEDOUT, "no server '%s' came up within %d ms (%s)",
                            server, timeout_ms, sa->sun_path);
    if (err == ENOENT || err == ECONNREFUSED)
        return shmipc__fail(SHMIPC_ENOENT, "no server '%s' is running (%s)", server,
                            sa->sun_path);
    if (err == ETIMEDOUT)
        return shmipc__fail(SHMIPC_ETIMEDOUT,
                            "server '%s' accepted no connection within "
                            "%d ms (its backlog is full)",
                            server, timeout_ms);
    return shmipc__fail_errno("connecting to %s", sa->sun_path);
}

/* Connect, waiting for a server that is not there yet (wait) within timeout_ms; *left_ms
 * gets what is left of it for the handshake. */
static int connect_socket(const struct sockaddr_un *sa, const char *server, int timeout_ms,
                          int wait, int *out, int *left_ms)
{
    uint64_t start = shmipc__now_ns();
    int backoff = 1, err, fd, left;

    for (;;) {
        if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
            return shmipc__fail_errno("socket");
        if (connect_within(fd, sa, ms_left(start, timeout_ms)) == 0 &&
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0) {
            *out = fd;
            left = ms_left(start, timeout_ms);
            *left_ms = left == 0 ? 1 : left; /* the handshake gets at least a moment */
            return 0;
        }
        err = errno;
        close(fd);
        left = ms_left(start, timeout_ms);
        if (!wait || (err != ENOENT && err != ECONNREFUSED) || left == 0)
            return connect_failed(sa, server, timeout_ms, wait, err);
        /* Not there yet (or bound but not listening yet): look again when the directory
         * changes, at the latest after 1, 2, 4 ... 100 ms. */
        await_socket(sa->sun_path, left >= 0 && left < backoff ? left : backoff);
        backoff = backoff * 2 > 100 ? 100 : backoff * 2;
    }
}

/* Map one of the server's arenas from fd: read-write (shared provider), or a read-only
 * view of a lend arena's table. */
static int map_server_arena(shmipc_session *sess, int kind, int fd, const struct msg_welcome *w)
{
    int lend = sess->lend.provider == SHMIPC_PROVIDER_LEND;
    shmipc_arena **slot = lend ? &sess->lend.from[kind] : &sess->lend.own[kind];
    shmipc_pool *pool;
    int rc = shmipc__pool_from_peer_fd(fd, lend ? SHMIPC_RDONLY : 0, &pool);

    if (rc == 0 &&
        (rc = lend ? shmipc__view_create(pool, slot) : shmipc_arena_attach(pool, slot)) != 0)
        shmipc_pool_close(pool);
    if (rc != 0)
        return rc;
    (*slot)->ep = w->client_ep[kind];
    if (!lend) {
        sess->lend.from[kind] = *slot;
        sess->my_ep[kind] = w->client_ep[kind];
        sess->lend.peer_ep[kind] = w->server_ep[kind];
    }
    return 0;
}

/* Lend provider: the client's own arena, with an endpoint for the server in it. */
static int own_lend_arena(shmipc_session *sess, const struct msg_welcome *w,
                          struct msg_ready *ready)
{
    shmipc_arena **a = &sess->lend.own[SHMIPC_ARENA_SESSION];
    int rc = shmipc__lend_arena_create(w->pool_size, a);

    if (rc == 0)
        rc = shmipc__ep_open(*a, (pid_t)sess->peer_pid,
                             &sess->lend.peer_ep[SHMIPC_ARENA_SESSION]);
    ready->lend_ep = sess->lend.peer_ep[SHMIPC_ARENA_SESSION];
    return rc;
}

/* Client: a doorbell the server sent must be an eventfd (a pipe, socket or file in its
 * place would make the channel block, spin or leak what is written to it). Without /proc,
 * it must at least be an anonymous inode. */
static int check_doorbell(int fd)
{
    char link[64], target[128];
    struct stat st;
    ssize_t n;

    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    if ((n = readlink(link, target, sizeof target - 1)) >= 0) {
        target[n] = '\0';
        if (strcmp(target, "anon_inode:[eventfd]") == 0)
            return 0;
        return shmipc__fail(SHMIPC_EPROTO,
                            "the server sent a doorbell that is not an "
                            "eventfd (%s)",
                            target);
    }
    if (fstat(fd, &st) != 0)
        return shmipc__fail_errno("fstat of a doorbell the server sent");
    if ((st.st_mode & S_IFMT) != 0)
        return shmipc__fail(SHMIPC_EPROTO,
                            "the server sent a doorbell that is not an "
                            "eventfd (file type 0%o)",
                            (unsigned)(st.st_mode & S_IFMT));
    return 0;
}

/* Map what the server sent: the control segment and the arenas (fds[0..2], closed by the
 * caller), and make this side's own arena (lend provider); its doorbells (fds[3..6]) must
 * be eventfds. */
static int join_session(shmipc_session *sess, const struct msg_welcome *w, const int *fds,
                        struct msg_ready *ready)
{
    shmipc_pool *ctrl;
    struct shmipc_ctrl *c;
    int rc;

    for (int i = 3; i < N_FDS; i++)
        if ((rc = check_doorbell(fds[i])) != 0)
            return rc;
    sess->lend.provider = (int)w->provider;
    sess->lend.session_id = w->session_id;
    sess->lend.key = w->key;
    if ((rc = shmipc__pool_from_peer_fd(fds[0], 0, &ctrl)) != 0)
        return rc;
    if ((rc = shmipc__ctrl_validate(shmipc_pool_base(ctrl), shmipc_pool_size(ctrl),
                                    w->session_id)) != 0 ||
        (rc = shmipc__ctrl_wrap(ctrl, 0, &c)) != 0) {
        shmipc_pool_close(ctrl);
        return rc;
    }
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = map_server_arena(sess, k, fds[1 + k], w);
    if (rc == 0 && sess->lend.provider == SHMIPC_PROVIDER_LEND)
        rc = own_lend_arena(sess, w, ready);
    if (rc != 0) {
        shmipc__ctrl_unref(c);
        return rc;
    }
    return shmipc__session_start(sess, c, 0);
}

/* Send HELLO. A server that dropped the connection first (its handshake timed out, or the
 * server is closing) may have left its reason in a WELCOME: then the WELCOME tells. */
static int send_hello(int fd, const struct msg_hello *hello)
{
    int rc = shmipc__hs_send(fd, hello, sizeof *hello, NULL, 0);

    return rc != 0 && (errno == EPIPE || errno == ECONNRESET) ? 0 : rc;
}

/* Wait up to timeout_ms (-1: forever) for the server's WELCOME. */
static int recv_welcome(int fd, struct msg_welcome *w, int *fds, int *nfds, int timeout_ms)
{
    int rc;

    while ((rc = shmipc__hs_wait(fd, timeout_ms)) == 0 &&
           (rc = shmipc__hs_recv(fd, w, sizeof *w, fds, nfds)) == 1)
        continue; /* woken for nothing */
    return rc;
}

int shmipc_connect(const char *server, const char *app, const shmipc_client_opts *opts,
                   shmipc_session **out)
{
    struct sockaddr_un sa;
    struct msg_hello hello = {.magic = PROTO_MAGIC,
                              .version = PROTO_VERSION,
                              .type = MSG_HELLO};
    struct msg_ready ready = {.magic = PROTO_MAGIC,
                              .version = PROTO_VERSION,
                              .type = MSG_READY};
    struct msg_welcome w;
    shmipc_session *sess;
    int fds[N_FDS], nfds = 0, fd = -1, hashed = 0, rc, timeout;
    shmipc_client_opts o;
    struct ucred cr;
    socklen_t crlen = sizeof cr;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if ((rc = shmipc__client_opts_take(opts, &o)) != 0)
        return rc;
    timeout = shmipc__hs_timeout(o.timeout_ms);
    if ((rc = shmipc__check_name(app, "app")) != 0 ||
        (rc = shmipc__socket_path(o.socket_dir, server, &sa, &hashed)) != 0 ||
        (rc = connect_socket(&sa, server, timeout, o.wait, &fd, &timeout)) != 0)
        return rc;
    snprintf(hello.app, sizeof hello.app, "%s", app);
    if ((rc = send_hello(fd, &hello)) != 0 ||
        (rc = recv_welcome(fd, &w, fds, &nfds, timeout)) != 0) {
        close(fd);
        return rc;
    }
    rc = shmipc__welcome_check(&w, nfds, server);
    if (rc == 0 && hashed && strncmp(w.reason, server, sizeof w.reason) != 0)
        rc = shmipc__fail(SHMIPC_ENOENT, "no server '%s' is running (%s is server '%.127s')",
                          server, sa.sun_path, w.reason);
    if (rc != 0 || (rc = shmipc__session_alloc(fd, &sess)) != 0) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        close(fd);
        return rc;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0)
        sess->peer_pid = cr.pid;
    sess->peer_pidfd = shmipc__sock_peer_pidfd(fd);
    sess->ch.my_data_efd = fds[3];
    sess->ch.my_space_efd = fds[4];
    sess->ch.peer_data_efd = fds[5];
    sess->ch.peer_space_efd = fds[6];
    rc = join_session(sess, &w, fds, &ready);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    if (rc == 0) {
        shmipc_arena *mine = sess->lend.own[SHMIPC_ARENA_SESSION];
        int table = sess->lend.provider == SHMIPC_PROVIDER_LEND ? shmipc_pool_fd(mine->pool)
                                                                : -1;
        rc = shmipc__hs_send(fd, &ready, sizeof ready, &table, table >= 0 ? 1 : 0);
    }
    if (rc != 0) {
        shmipc__session_abort(sess); /* the server sees the hang-up and drops both sides */
        return rc;
    }
    *out = sess;
    return 0;
}
