/* server.c — servers, clients and the handshake that sets a session up: the socket and
 * its directory, the lock that makes a server name its own, the versioned handshake with
 * the credential check against the allow-list, and the arenas each session gets for its
 * provider (session scope, app scope) with their endpoints, passed as sealed memfds.
 *
 * Handshake (SOCK_SEQPACKET, one message each way, then READY):
 *   client -> server  HELLO   protocol version, app name
 *   server -> client  WELCOME status (0 or the refusal's code and reason), provider,
 *                             session id and key, endpoints; with 7 fds: the control
 *                             segment, the session and app arenas (shared: the arenas' pools,
 *                             read-write; lend: the server's refcount tables, read-only),
 *                             and 4 eventfds (the doorbells)
 *   client -> server  READY   lend provider: the endpoint the client made for the server in
 *                             its own lend arena, with that arena's table fd */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lend.h"
#include "proto.h"
#include "session.h"

#define DEFAULT_SESSION_ARENA ((size_t)16 << 20)
#define DEFAULT_APP_ARENA ((size_t)64 << 20)
#define DEFAULT_TIMEOUT_MS 5000
#define N_FDS PROTO_FDS

struct app_arena {
    char app[SHMIPC_NAME_MAX + 1];
    shmipc_arena *arena; /* the server's own handle (endpoint 0), for creating and reaping */
};

struct shmipc_server {
    int sock, lock_fd;
    char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char lock_path[4096];
    char name[SHMIPC_NAME_MAX + 1];
    shmipc_server_opts opts;
    shmipc_app_rule *allow;
    struct app_arena *apps;
    size_t n_apps;
    unsigned long rejected;
    unsigned fork_gen; /* shmipc__fork_gen_now() when made */
};

/* ---- helpers ----------------------------------------------------------------------- */

static int default_timeout(int ms)
{
    return ms == 0 ? DEFAULT_TIMEOUT_MS : ms;
}

/* Wait until fd is readable; ETIMEDOUT otherwise. */
static int wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;

    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return shmipc__fail_errno("poll");
    if (n == 0)
        return shmipc__fail(SHMIPC_ETIMEDOUT, "no answer within %d ms", timeout_ms);
    return 0;
}

/* Send one handshake message with fds (nfds may be 0). */
static int send_msg(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
    if (shmipc__send_fds(sock, msg, len, fds, nfds, 0) != (ssize_t)len)
        return shmipc__fail_errno("sending a handshake message");
    return 0;
}

/* A handshake message whose descriptors were cut off (MSG_CTRUNC): this process has no
 * descriptor left for them (RLIMIT_NOFILE), or the peer sent more than a message carries. */
static int descriptors_cut_off(void)
{
    int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);

    if (probe < 0)
        return shmipc__fail_errno("no descriptor left for those of a handshake message");
    close(probe);
    return shmipc__fail(SHMIPC_EPROTO, "a handshake message came with more descriptors "
                                       "than it may carry");
}

/* Receive one handshake message of exactly `len` bytes; fds (up to N_FDS) go to fds[],
 * *nfds says how many came. Descriptors of a malformed message are closed. */
static int recv_msg(int sock, void *msg, size_t len, int *fds, int *nfds, int timeout_ms)
{
    int rc, truncated;
    ssize_t n;

    *nfds = 0;
    if ((rc = wait_readable(sock, timeout_ms)) != 0)
        return rc;
    n = shmipc__recv_fds(sock, msg, len, fds, N_FDS, nfds, &truncated);
    if (n == (ssize_t)len && !truncated)
        return 0;
    if (n == 0)
        rc = shmipc__fail(SHMIPC_ECLOSED, "the peer hung up during the handshake");
    else if (n < 0)
        rc = shmipc__fail_errno("receiving a handshake message");
    else if (n >= (ssize_t)sizeof(struct msg_head) &&
             ((struct msg_head *)msg)->magic == PROTO_MAGIC &&
             ((struct msg_head *)msg)->version != PROTO_VERSION)
        rc = shmipc__fail(SHMIPC_EPROTO, "the peer speaks protocol version %u, this side %d",
                          (unsigned)((struct msg_head *)msg)->version, PROTO_VERSION);
    else if (truncated & MSG_TRUNC)
        rc = shmipc__fail(SHMIPC_EPROTO, "handshake message longer than the %zu bytes "
                          "expected", len);
    else if (truncated & MSG_CTRUNC)
        rc = descriptors_cut_off(); /* before closing those that came */
    else
        rc = shmipc__fail(SHMIPC_EPROTO, "handshake message of %zd bytes, expected %zu", n, len);
    for (int i = 0; i < *nfds; i++)
        close(fds[i]);
    *nfds = 0;
    return rc;
}

/* The socket directory: opts, $SHMIPC_SOCKET_DIR, $XDG_RUNTIME_DIR/shmipc or
 * /tmp/shmipc-<uid>. Default directories are made 0700 and must be the user's own. */
int shmipc__socket_dir_name(const char *opt, char *buf, size_t cap)
{
    const char *env = getenv("SHMIPC_SOCKET_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");

    if (opt || (env && env[0]))
        snprintf(buf, cap, "%s", opt ? opt : env);
    else if (xdg && xdg[0])
        snprintf(buf, cap, "%s/shmipc", xdg);
    else
        snprintf(buf, cap, "/tmp/shmipc-%u", (unsigned)getuid());
    return opt || (env && env[0]); /* given: used as it is */
}

/* 1 if uid is this process's euid or root's: whom a directory or link may belong to. */
static int ours(uid_t uid)
{
    return uid == geteuid() || uid == 0;
}

/* A default socket directory must be a real directory of our euid that no one else may
 * enter: another user could have made it first, to play our servers. A given one is the
 * caller's choice and may be another user's (a server that serves others), but if it is a
 * symbolic link, the link and the directory it leads to must be ours or root's: a planted
 * link is never followed. */
int shmipc__socket_dir_check(const char *dir, int given, uid_t *owner)
{
    struct stat st, target;

    if (lstat(dir, &st) != 0)
        return shmipc__fail_errno("socket directory %s", dir);
    if (given && S_ISLNK(st.st_mode)) {
        if (stat(dir, &target) != 0)
            return shmipc__fail_errno("socket directory %s", dir);
        if (!ours(st.st_uid) || !ours(target.st_uid))
            return shmipc__fail(SHMIPC_EPERM, "socket directory %s is a symbolic link of uid "
                                "%u to a directory of uid %u: refused, a link of another user "
                                "or to another user's place is not followed", dir,
                                (unsigned)st.st_uid, (unsigned)target.st_uid);
        st = target;
    }
    if (given && !S_ISDIR(st.st_mode))
        return shmipc__fail(SHMIPC_EINVAL, "socket directory %s is not a directory", dir);
    if (!given && (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)))
        return shmipc__fail(SHMIPC_EPERM, "socket directory %s (owner uid %u, mode %04o) is "
                            "not a private directory of uid %u: refused, another user may "
                            "have made it", dir, (unsigned)st.st_uid,
                            (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
    *owner = st.st_uid;
    return 0;
}

static int socket_dir(const char *opt, char *buf, size_t cap, uid_t *owner)
{
    int given = shmipc__socket_dir_name(opt, buf, cap);

    if (!given && mkdir(buf, 0700) != 0 && errno != EEXIST)
        return shmipc__fail_errno("making the socket directory %s", buf);
    return shmipc__socket_dir_check(buf, given, owner);
}

/* An existing socket file is used (connected to, or replaced by a new server) only if it
 * is ours or its directory's owner's: a third user's socket in a shared directory is
 * someone playing the server. */
static int check_socket(const char *path, uid_t dir_owner)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return 0; /* none: connect and bind say what they find */
    if (S_ISLNK(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != dir_owner))
        return shmipc__fail(SHMIPC_EPERM, "%s (owner uid %u, mode %04o) is %s: refused, "
                            "another user may have planted it", path, (unsigned)st.st_uid,
                            (unsigned)(st.st_mode & 07777),
                            S_ISLNK(st.st_mode) ? "a symbolic link"
                                                : "neither this uid's nor its directory's "
                                                  "owner's");
    return 0;
}

static int socket_path(const char *dir_opt, const char *name, struct sockaddr_un *sa)
{
    char dir[4096];
    uid_t owner = (uid_t)-1;
    int rc;

    if ((rc = shmipc__check_name(name, "server")) != 0 ||
        (rc = socket_dir(dir_opt, dir, sizeof dir, &owner)) != 0)
        return rc;
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if ((size_t)snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s.sock", dir, name) >=
        sizeof sa->sun_path)
        return shmipc__fail(SHMIPC_EINVAL, "socket path %s/%s.sock is too long", dir, name);
    return check_socket(sa->sun_path, owner);
}

/* ---- server ------------------------------------------------------------------------ */

void shmipc_server_opts_init(shmipc_server_opts *opts)
{
    if (opts)
        memset(opts, 0, sizeof *opts);
}

void shmipc_client_opts_init(shmipc_client_opts *opts)
{
    if (opts)
        memset(opts, 0, sizeof *opts);
}

static int copy_allow(shmipc_server *s, const shmipc_server_opts *o)
{
    s->opts.n_allow = o->allow ? o->n_allow : 0;
    if (s->opts.n_allow == 0)
        return 0;
    s->allow = calloc(o->n_allow, sizeof *s->allow);
    if (!s->allow)
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for the allow-list");
    for (size_t i = 0; i < o->n_allow; i++) {
        const char *app = o->allow[i].app;
        if (!app || (strcmp(app, "*") != 0 && shmipc__check_name(app, "allowed app") != 0))
            return shmipc__fail(SHMIPC_EINVAL, "allow-list entry %zu has a bad app name", i);
        s->allow[i].uid = o->allow[i].uid;
        s->allow[i].gid = o->allow[i].gid;
        if (!(s->allow[i].app = strdup(app)))
            return shmipc__fail(SHMIPC_ENOMEM, "out of memory for the allow-list");
    }
    return 0;
}

/* Release what the server holds; owner: it holds the name (remove the socket and lock). */
static void server_free(shmipc_server *s, int owner)
{
    if (owner) {
        unlink(s->sock_path);
        unlink(s->lock_path);
    }
    if (s->sock >= 0)
        close(s->sock);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    for (size_t i = 0; i < s->opts.n_allow && s->allow; i++)
        free((char *)s->allow[i].app);
    free(s->allow);
    for (size_t i = 0; i < s->n_apps; i++)
        shmipc_arena_close(s->apps[i].arena);
    free(s->apps);
    free(s);
}

/* EINVAL if s was inherited across fork, naming the calling function. */
static int server_inherited(const shmipc_server *s, const char *fn)
{
    return shmipc__inherited(s->fork_gen) ? shmipc__fail_inherited(fn) : 0;
}

void shmipc_server_close(shmipc_server *s)
{
    if (s) /* a child's copy only frees its own: the name stays the parent's */
        server_free(s, !shmipc__inherited(s->fork_gen));
}

int shmipc_server_fd(const shmipc_server *s)
{
    return s ? s->sock : SHMIPC_EINVAL;
}

unsigned long shmipc_server_rejected(const shmipc_server *s)
{
    return s ? s->rejected : 0;
}

/* Own the server name: hold an exclusive lock on <dir>/<name>.lock for the server's life.
 * A live server holds it (EEXIST); a dead one's socket file is then stale and replaced. */
/* 1 if fd is still the file at path (a closing server unlinks its lock file: a lock taken
 * on the unlinked file would own nothing). */
static int same_file(int fd, const char *path)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static int take_name(shmipc_server *s)
{
    struct stat st;
    int rc;

    for (int tries = 0; tries < 16; tries++) {
        s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->lock_fd < 0)
            return shmipc__fail_errno("opening %s", s->lock_path);
        /* Ours only: another user's (planted in a shared socket directory) could be locked
         * by that user for ever. Closed here: a failing server removes only a lock it holds. */
        if ((rc = shmipc__check_owned(s->lock_fd, s->lock_path, &st)) != 0) {
            close(s->lock_fd);
            s->lock_fd = -1;
            return rc;
        }
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
            return errno == EWOULDBLOCK
                       ? shmipc__fail(SHMIPC_EEXIST, "server '%s' is already running", s->name)
                       : shmipc__fail_errno("locking %s", s->lock_path);
        if (same_file(s->lock_fd, s->lock_path))
            break;
        close(s->lock_fd); /* its server was closing: take the new file */
        s->lock_fd = -1;
    }
    if (s->lock_fd < 0)
        return shmipc__fail(SHMIPC_EEXIST, "server '%s' kept being started and stopped "
                            "while we tried", s->name);
    /* "pid start-time": who holds the name, telling a reused pid apart */
    if (ftruncate(s->lock_fd, 0) == 0)
        dprintf(s->lock_fd, "%d %llu\n", (int)getpid(),
                (unsigned long long)shmipc__proc_starttime(getpid()));
    unlink(s->sock_path); /* a dead server's socket, if any */
    return 0;
}

static int listen_on(shmipc_server *s, const struct sockaddr_un *sa)
{
    unsigned mode = s->opts.socket_mode ? s->opts.socket_mode : 0600;

    s->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->sock < 0)
        return shmipc__fail_errno("socket");
    if (bind(s->sock, (const struct sockaddr *)sa, sizeof *sa) != 0)
        return shmipc__fail_errno("binding %s", sa->sun_path);
    if (chmod(sa->sun_path, mode & 0777) != 0 || listen(s->sock, 64) != 0)
        return shmipc__fail_errno("listening on %s", sa->sun_path);
    return 0;
}

int shmipc_server_open(const char *name, const shmipc_server_opts *opts, shmipc_server **out)
{
    shmipc_server_opts defaults;
    struct sockaddr_un sa;
    shmipc_server *s;
    int rc;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    shmipc_server_opts_init(&defaults);
    if (!opts)
        opts = &defaults;
    if (opts->provider != SHMIPC_PROVIDER_SHARED && opts->provider != SHMIPC_PROVIDER_LEND)
        return shmipc__fail(SHMIPC_EINVAL, "unknown provider %d", opts->provider);
    if (opts->provider == SHMIPC_PROVIDER_LEND && (rc = shmipc__lend_supported()) != 0)
        return rc;
    if ((rc = socket_path(opts->socket_dir, name, &sa)) != 0)
        return rc;
    if (!(s = calloc(1, sizeof *s)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a server");
    s->sock = s->lock_fd = -1;
    s->fork_gen = shmipc__fork_gen_now();
    s->opts = *opts;
    s->opts.allow = NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->sock_path, sizeof s->sock_path, "%s", sa.sun_path);
    snprintf(s->lock_path, sizeof s->lock_path, "%.*s.lock",
             (int)(strlen(sa.sun_path) - strlen(".sock")), sa.sun_path);
    if ((rc = copy_allow(s, opts)) == 0 && (rc = take_name(s)) == 0)
        rc = listen_on(s, &sa);
    if (rc != 0) {
        server_free(s, rc != SHMIPC_EEXIST && s->lock_fd >= 0);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---- the handshake, server side ---------------------------------------------------- */

static int allowed(const shmipc_server *s, const char *app, const struct ucred *cr)
{
    if (s->opts.n_allow == 0)
        return cr->uid == getuid();
    for (size_t i = 0; i < s->opts.n_allow; i++) {
        const shmipc_app_rule *r = &s->allow[i];
        if ((strcmp(r->app, "*") == 0 || strcmp(r->app, app) == 0) &&
            (r->uid == SHMIPC_ANY_ID || r->uid == (long)cr->uid) &&
            (r->gid == SHMIPC_ANY_ID || r->gid == (long)cr->gid))
            return 1;
    }
    return 0;
}

static void welcome_init(struct msg_welcome *w)
{
    memset(w, 0, sizeof *w);
    w->magic = PROTO_MAGIC;
    w->version = PROTO_VERSION;
    w->type = MSG_WELCOME;
}

/* Tell the client why it is refused; returns code for the server's own record. */
static int refuse(int sock, int code, const char *fmt, ...) SHMIPC_PRINTF(3, 4);
static int refuse(int sock, int code, const char *fmt, ...)
{
    struct msg_welcome w;
    va_list ap;

    welcome_init(&w);
    w.status = code;
    va_start(ap, fmt);
    vsnprintf(w.reason, sizeof w.reason, fmt, ap);
    va_end(ap);
    send_msg(sock, &w, sizeof w, NULL, 0);
    return shmipc__fail(code, "%s", w.reason);
}

/* A new arena of the server's provider: shared (over a memfd pool) or lend. */
static int new_arena(int provider, size_t size, shmipc_arena **out)
{
    shmipc_pool *pool;
    int rc;

    if (provider == SHMIPC_PROVIDER_LEND)
        return shmipc__lend_arena_create(size, out);
    if ((rc = shmipc_pool_create(NULL, size, 0, &pool)) != 0)
        return rc;
    if ((rc = shmipc_arena_create(pool, out)) != 0)
        shmipc_pool_close(pool);
    return rc;
}

/* The server's handle on the app arena of `app`, created at the app's first session. */
static int app_arena(shmipc_server *s, const char *app, shmipc_arena **out)
{
    size_t size = s->opts.app_arena_size ? s->opts.app_arena_size : DEFAULT_APP_ARENA;
    struct app_arena *grown;
    int rc;

    for (size_t i = 0; i < s->n_apps; i++) {
        if (strcmp(s->apps[i].app, app) == 0) {
            *out = s->apps[i].arena;
            if ((*out)->kind == ARENA_SHARED)
                shmipc__ep_reap(*out); /* drop what dead clients of the app left */
            return 0;
        }
    }
    if (!(grown = realloc(s->apps, (s->n_apps + 1) * sizeof *grown)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for app arenas");
    s->apps = grown;
    if ((rc = new_arena(s->opts.provider, size, out)) != 0)
        return rc;
    snprintf(s->apps[s->n_apps].app, sizeof s->apps[0].app, "%s", app);
    s->apps[s->n_apps++].arena = *out;
    return 0;
}

/* The session's handle on one of this side's arenas, with the peer's endpoint in it (and,
 * shared provider, this side's: objects made through the handle are attributed to it). */
static int add_own_arena(shmipc_session *sess, int kind, shmipc_arena *a, pid_t peer)
{
    int rc;

    sess->lend.own[kind] = a;
    if (a->kind == ARENA_SHARED) {
        sess->lend.from[kind] = a;
        if ((rc = shmipc__ep_open(a, getpid(), &sess->my_ep[kind])) != 0)
            return rc;
        a->ep = sess->my_ep[kind];
    }
    return shmipc__ep_open(a, peer, &sess->lend.peer_ep[kind]);
}

/* The session's handle on the app arena: shared provider, a handle of its own (its own
 * mapping, its own endpoint); lend provider, the server's handle, referenced. */
static int session_app_arena(shmipc_arena *master, shmipc_arena **out)
{
    shmipc_pool *mine;
    int rc;

    if (master->kind == ARENA_LEND) {
        *out = shmipc__arena_ref(master);
        return 0;
    }
    if ((rc = shmipc_pool_from_fd(shmipc_pool_fd(master->pool), 0, &mine)) != 0)
        return rc;
    if ((rc = shmipc_arena_attach(mine, out)) != 0)
        shmipc_pool_close(mine);
    return rc;
}

/* The session's four doorbells, owned by its channel from the start. */
static int new_eventfds(struct shmipc_chan *ch)
{
    int *fds[4] = {&ch->my_data_efd, &ch->my_space_efd, &ch->peer_data_efd,
                   &ch->peer_space_efd};

    for (int i = 0; i < 4; i++)
        if ((*fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
            return shmipc__fail_errno("eventfd");
    return 0;
}

/* A new control segment, initialised. */
static int new_ctrl(uint64_t session_id, shmipc_pool **out)
{
    int rc = shmipc_pool_create(NULL, shmipc__ctrl_size(), 0, out);

    if (rc == 0)
        shmipc__ctrl_init(shmipc_pool_base(*out), session_id);
    return rc;
}

/* No more seals on a pool the client gets, by anyone (a lend arena's pools have it). */
static int seal_seals(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);

    if (seals >= 0 && (seals & F_SEAL_SEAL))
        return 0;
    if (seals < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) != 0)
        return shmipc__fail_errno("sealing a session pool against new seals");
    return 0;
}

/* Make the server side of a new session and the descriptors the client gets. */
static int build_session(shmipc_server *s, shmipc_session *sess, const char *app, pid_t peer,
                         int client_fds[N_FDS], shmipc_pool **ctrl)
{
    size_t size = s->opts.session_arena_size ? s->opts.session_arena_size
                                             : DEFAULT_SESSION_ARENA;
    shmipc_arena *a, *master;
    int rc;

    sess->lend.provider = s->opts.provider;
    if ((rc = shmipc__random_u64(&sess->lend.session_id)) != 0 ||
        (rc = shmipc__random_u64(&sess->lend.key)) != 0 ||
        (rc = new_arena(s->opts.provider, size, &a)) != 0)
        return rc;
    if ((rc = add_own_arena(sess, SHMIPC_ARENA_SESSION, a, peer)) != 0 ||
        (rc = app_arena(s, app, &master)) != 0 || (rc = session_app_arena(master, &a)) != 0 ||
        (rc = add_own_arena(sess, SHMIPC_ARENA_APP, a, peer)) != 0 ||
        (rc = new_ctrl(sess->lend.session_id, ctrl)) != 0 ||
        (rc = new_eventfds(&sess->ch)) != 0)
        return rc;
    client_fds[0] = shmipc_pool_fd(*ctrl);
    client_fds[1] = shmipc_pool_fd(sess->lend.own[SHMIPC_ARENA_SESSION]->pool);
    client_fds[2] = shmipc_pool_fd(master->pool);
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = seal_seals(client_fds[i]);
    /* the client sleeps on what the server rings, and the other way round */
    client_fds[3] = sess->ch.peer_data_efd;
    client_fds[4] = sess->ch.peer_space_efd;
    client_fds[5] = sess->ch.my_data_efd;
    client_fds[6] = sess->ch.my_space_efd;
    return rc;
}

/* Lend provider: the client's arena, seen read-only, from READY's endpoint and fd. */
static int view_of_client(shmipc_session *sess, const struct msg_ready *r, int fd)
{
    shmipc_pool *table;
    int rc = shmipc__pool_from_peer_fd(fd, SHMIPC_RDONLY, &table);

    if (rc == 0 && (rc = shmipc__view_create(table, &sess->lend.from[SHMIPC_ARENA_SESSION])) != 0)
        shmipc_pool_close(table);
    if (rc == 0)
        sess->lend.from[SHMIPC_ARENA_SESSION]->ep = r->lend_ep;
    return rc;
}

/* Send WELCOME and wait for READY; for the lend provider, map the client's arena. */
static int finish_handshake(shmipc_server *s, shmipc_session *sess, int fd, int timeout,
                            int client_fds[N_FDS])
{
    struct msg_welcome w;
    struct msg_ready ready;
    int fds[N_FDS], nfds, rc;

    welcome_init(&w);
    w.provider = (uint32_t)sess->lend.provider;
    w.session_id = sess->lend.session_id;
    w.key = sess->lend.key;
    w.pool_size = s->opts.session_arena_size ? s->opts.session_arena_size
                                             : DEFAULT_SESSION_ARENA;
    for (int k = 0; k < 2; k++) {
        w.client_ep[k] = sess->lend.peer_ep[k];
        w.server_ep[k] = sess->my_ep[k];
    }
    if ((rc = send_msg(fd, &w, sizeof w, client_fds, N_FDS)) != 0 ||
        (rc = recv_msg(fd, &ready, sizeof ready, fds, &nfds, timeout)) != 0)
        return rc;
    rc = shmipc__ready_check(&ready, sess->lend.provider, nfds);
    if (rc == 0 && sess->lend.provider == SHMIPC_PROVIDER_LEND)
        rc = view_of_client(sess, &ready, fds[0]);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    return rc;
}

/* Run the server side of one handshake on a fresh connection. */
static int handshake(shmipc_server *s, int fd, shmipc_session **out)
{
    int timeout = default_timeout(s->opts.handshake_timeout_ms), nfds, rc;
    int client_fds[N_FDS];
    struct msg_hello hello;
    struct ucred cr;
    socklen_t crlen = sizeof cr;
    shmipc_session *sess;
    shmipc_pool *ctrl = NULL;
    struct shmipc_ctrl *c;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0)
        return shmipc__fail_errno("SO_PEERCRED");
    if ((rc = recv_msg(fd, &hello, sizeof hello, client_fds, &nfds, timeout)) != 0)
        return rc == SHMIPC_EPROTO ? refuse(fd, rc, "%s", shmipc_error_detail()) : rc;
    for (int i = 0; i < nfds; i++) /* HELLO carries none: a client's are not kept */
        close(client_fds[i]);
    if ((rc = shmipc__hello_check(&hello, s->name)) != 0)
        return refuse(fd, rc, "%s", shmipc_error_detail());
    if (!allowed(s, hello.app, &cr))
        return refuse(fd, SHMIPC_EPERM, "app '%s' (uid %u, gid %u) is not allowed by server "
                      "'%s'", hello.app, (unsigned)cr.uid, (unsigned)cr.gid, s->name);
    if ((rc = shmipc__session_alloc(fd, &sess)) != 0)
        return refuse(fd, rc, "server could not set the session up: %s", shmipc_error_detail());
    sess->peer_pid = cr.pid;
    sess->peer_pidfd = shmipc__sock_peer_pidfd(fd);
    rc = build_session(s, sess, hello.app, cr.pid, client_fds, &ctrl);
    if (rc != 0)
        refuse(fd, rc, "server could not set the session up: %s", shmipc_error_detail());
    else
        rc = finish_handshake(s, sess, fd, timeout, client_fds);
    if (rc == 0 && (rc = shmipc__ctrl_wrap(ctrl, 1, &c)) == 0) {
        ctrl = NULL;
        rc = shmipc__session_start(sess, c, 1);
    }
    if (rc != 0) {
        shmipc_pool_close(ctrl);
        sess->ch.sock = -1; /* the caller closes fd */
        shmipc__session_abort(sess);
        return rc;
    }
    *out = sess;
    return 0;
}

int shmipc_server_accept(shmipc_server *s, int timeout_ms, shmipc_session **out)
{
    uint64_t start = shmipc__now_ns();
    int rc;

    if (!s || !out)
        return shmipc__fail(SHMIPC_EINVAL, "server or out is NULL");
    if ((rc = server_inherited(s, "shmipc_server_accept: server")) != 0)
        return rc;
    for (;;) {
        int left = timeout_ms, fd;
        if (timeout_ms >= 0) {
            left = timeout_ms - (int)((shmipc__now_ns() - start) / 1000000u);
            if (left < 0)
                left = 0;
        }
        if ((rc = wait_readable(s->sock, left)) != 0)
            return rc;
        fd = accept4(s->sock, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                continue;
            return shmipc__fail_errno("accept");
        }
        if ((rc = handshake(s, fd, out)) == 0)
            return 0;
        close(fd);
        s->rejected++;
    }
}

/* ---- the handshake, client side ---------------------------------------------------- */

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

static int connect_socket(const struct sockaddr_un *sa, const char *server, int timeout_ms,
                          int *out)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return shmipc__fail_errno("socket");
    if (connect_within(fd, sa, timeout_ms) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        if (err == ENOENT || err == ECONNREFUSED)
            return shmipc__fail(SHMIPC_ENOENT, "no server '%s' is running (%s)", server,
                                sa->sun_path);
        if (err == ETIMEDOUT)
            return shmipc__fail(SHMIPC_ETIMEDOUT, "server '%s' accepted no connection within "
                                "%d ms (its backlog is full)", server, timeout_ms);
        return shmipc__fail_errno("connecting to %s", sa->sun_path);
    }
    *out = fd;
    return 0;
}

/* Map one of the server's arenas from fd: read-write (shared provider), or a read-only
 * view of a lend arena's table. */
static int map_server_arena(shmipc_session *sess, int kind, int fd, const struct msg_welcome *w)
{
    int lend = sess->lend.provider == SHMIPC_PROVIDER_LEND;
    shmipc_arena **slot = lend ? &sess->lend.from[kind] : &sess->lend.own[kind];
    shmipc_pool *pool;
    int rc = shmipc__pool_from_peer_fd(fd, lend ? SHMIPC_RDONLY : 0, &pool);

    if (rc == 0 && (rc = lend ? shmipc__view_create(pool, slot)
                              : shmipc_arena_attach(pool, slot)) != 0)
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
        rc = shmipc__ep_open(*a, (pid_t)sess->peer_pid, &sess->lend.peer_ep[SHMIPC_ARENA_SESSION]);
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
        return shmipc__fail(SHMIPC_EPROTO, "the server sent a doorbell that is not an "
                            "eventfd (%s)", target);
    }
    if (fstat(fd, &st) != 0)
        return shmipc__fail_errno("fstat of a doorbell the server sent");
    if ((st.st_mode & S_IFMT) != 0)
        return shmipc__fail(SHMIPC_EPROTO, "the server sent a doorbell that is not an "
                            "eventfd (file type 0%o)", (unsigned)(st.st_mode & S_IFMT));
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

int shmipc_connect(const char *server, const char *app, const shmipc_client_opts *opts,
                   shmipc_session **out)
{
    struct sockaddr_un sa;
    struct msg_hello hello = {.magic = PROTO_MAGIC, .version = PROTO_VERSION,
                              .type = MSG_HELLO};
    struct msg_ready ready = {.magic = PROTO_MAGIC, .version = PROTO_VERSION,
                              .type = MSG_READY};
    struct msg_welcome w;
    shmipc_session *sess;
    int fds[N_FDS], nfds = 0, fd = -1, rc;
    int timeout = default_timeout(opts ? opts->timeout_ms : 0);
    struct ucred cr;
    socklen_t crlen = sizeof cr;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if ((rc = shmipc__check_name(app, "app")) != 0 ||
        (rc = socket_path(opts ? opts->socket_dir : NULL, server, &sa)) != 0 ||
        (rc = connect_socket(&sa, server, timeout, &fd)) != 0)
        return rc;
    snprintf(hello.app, sizeof hello.app, "%s", app);
    if ((rc = send_msg(fd, &hello, sizeof hello, NULL, 0)) != 0 ||
        (rc = recv_msg(fd, &w, sizeof w, fds, &nfds, timeout)) != 0) {
        close(fd);
        return rc;
    }
    rc = shmipc__welcome_check(&w, nfds, server);
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
        int table = sess->lend.provider == SHMIPC_PROVIDER_LEND ? shmipc_pool_fd(mine->pool) : -1;
        rc = send_msg(fd, &ready, sizeof ready, &table, table >= 0 ? 1 : 0);
    }
    if (rc != 0) {
        shmipc__session_abort(sess); /* the server sees the hang-up and drops both sides */
        return rc;
    }
    *out = sess;
    return 0;
}
