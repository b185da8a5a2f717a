/* server.c — servers and the server side of the handshake that sets a session up: the
 * socket and the lock that makes a server name its own, the credential check against the
 * allow-list, the arenas each session gets for its provider (session scope, app scope)
 * with their endpoints, passed as sealed memfds, and accept's state machine.
 *
 * Handshake (SOCK_SEQPACKET, one message each way, then READY):
 *   client -> server  HELLO   protocol version, app name
 *   server -> client  WELCOME status (0 or the refusal's code and reason), provider,
 *                             session id and key, endpoints; with 7 fds: the control
 *                             segment, the session and app arenas (shared: the arenas' pools,
 *                             read-write; lend: the server's refcount tables, read-only),
 *                             and 4 eventfds (the doorbells)
 *   client -> server  READY   lend provider: the endpoint the client made for the server in
 *                             its own lend arena, with that arena's table fd
 *
 * Accept never waits on one client: every connection is a pending handshake (waiting for
 * HELLO, then for READY) in the server's epoll set, with the listening socket and the
 * shutdown eventfd; accept steps whichever is readable and returns the first session whose
 * READY came. Each handshake has handshake_timeout_ms from its connection; at most
 * max_pending are in flight: while they are, the listening socket is not watched and new
 * connections wait in its backlog (SOMAXCONN) until a handshake ends, or its time is up.
 * The client side is in client.c, what both share in handshake.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handshake.h"
#include "lend.h"
#include "session.h"

#define DEFAULT_SESSION_ARENA ((size_t)16 << 20)
#define DEFAULT_APP_ARENA ((size_t)64 << 20)
#define DEFAULT_MAX_PENDING 64
#define DEFAULT_MAX_APPS 64
#define EVENTS_MAX 64 /* epoll events taken per wait */

/* What an event of the server's epoll set is about (epoll_data.u64). */
enum {
    EV_LISTEN = 0,
    EV_STOP = 1,
    EV_PENDING = 2 /* + the slot */
};

struct app_arena {
    char app[SHMIPC_NAME_MAX + 1];
    shmipc_arena *arena; /* the server's own handle (endpoint 0), for creating and reaping */
};

/* One handshake in flight: a connection waiting for its HELLO, then (sess set, WELCOME
 * sent) for its READY. fd -1: a free slot. */
struct pending {
    int fd;
    uint64_t start_ns;
    shmipc_session *sess; /* the server side, being set up */
    shmipc_pool *ctrl;    /* its control segment, until the session takes it */
};

struct shmipc_server {
    int sock, lock_fd;
    int epfd;     /* the listening socket, the shutdown eventfd, the pending connections */
    int stop_efd; /* written by shmipc_server_shutdown */
    atomic_int stopped;
    char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char lock_path[4096];
    char name[SHMIPC_NAME_MAX + 1];
    shmipc_server_opts opts;
    shmipc_app_rule *allow;
    struct app_arena *apps;
    size_t n_apps, max_apps;
    unsigned max_sessions; /* per app */
    struct pending *pend;
    int max_pending;
    int n_pending;    /* slots in use */
    int listen_armed; /* the listening socket is watched (a slot is free) */
    unsigned long rejected;
    unsigned fork_gen; /* shmipc__fork_gen_now() when made */
};

/* ---- server ------------------------------------------------------------------------ */

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

/* Give up a pending handshake: its connection is closed (the client sees the hang-up),
 * and whatever of its session was made is undone. A forked child's copy of a server only
 * lets its copies go: the epoll set and the endpoints are the parent's. */
static void drop_pending(shmipc_server *s, struct pending *p)
{
    int mine = !shmipc__inherited(s->fork_gen);

    if (mine)
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->fd, NULL);
    if (p->sess) {
        p->sess->ch.sock = -1; /* closed below */
        if (mine)
            shmipc__session_abort(p->sess);
        else
            shmipc_session_close(p->sess); /* inherited too: frees its memory only */
    }
    shmipc_pool_close(p->ctrl);
    close(p->fd);
    *p = (struct pending){.fd = -1};
    s->n_pending--;
}

/* Release what the server holds; owner: it holds the name (remove the socket and lock). */
static void server_free(shmipc_server *s, int owner)
{
    for (int i = 0; s->pend && i < s->max_pending; i++)
        if (s->pend[i].fd >= 0)
            drop_pending(s, &s->pend[i]);
    free(s->pend);
    if (owner) {
        unlink(s->sock_path);
        unlink(s->lock_path);
    }
    if (s->sock >= 0)
        close(s->sock);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->stop_efd >= 0)
        close(s->stop_efd);
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

void shmipc_server_shutdown(shmipc_server *s)
{
    uint64_t one = 1;
    ssize_t n;

    if (!s || shmipc__inherited(s->fork_gen)) /* a child's copy: its eventfd is the parent's */
        return;
    atomic_store(&s->stopped, 1);
    n = write(s->stop_efd, &one, sizeof one); /* readable from now on: every wait ends */
    (void)n;                                  /* fails only when written 2^64 - 2 times */
}

int shmipc_server_fd(const shmipc_server *s)
{
    return s ? s->epfd : SHMIPC_EINVAL;
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
        return shmipc__fail(SHMIPC_EEXIST,
                            "server '%s' kept being started and stopped "
                            "while we tried",
                            s->name);
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
    if (chmod(sa->sun_path, mode & 0777) != 0 || listen(s->sock, SOMAXCONN) != 0)
        return shmipc__fail_errno("listening on %s", sa->sun_path);
    return 0;
}

/* Add fd to the server's epoll set, its events tagged `what` (EV_*). */
static int watch(shmipc_server *s, int fd, uint64_t what)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = what};

    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return shmipc__fail_errno("epoll_ctl");
    return 0;
}

/* The epoll set accept waits on, the shutdown eventfd and the pending handshakes' slots. */
static int make_wait_set(shmipc_server *s)
{
    int rc;

    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->epfd < 0 || s->stop_efd < 0)
        return shmipc__fail_errno("making the server's epoll set");
    if (!(s->pend = calloc((size_t)s->max_pending, sizeof *s->pend)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for pending handshakes");
    for (int i = 0; i < s->max_pending; i++)
        s->pend[i].fd = -1;
    if ((rc = watch(s, s->sock, EV_LISTEN)) != 0)
        return rc;
    s->listen_armed = 1;
    return watch(s, s->stop_efd, EV_STOP);
}

int shmipc_server_open(const char *name, const shmipc_server_opts *opts, shmipc_server **out)
{
    shmipc_server_opts taken;
    struct sockaddr_un sa;
    shmipc_server *s;
    int rc;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if ((rc = shmipc__server_opts_take(opts, &taken)) != 0)
        return rc;
    opts = &taken;
    if (opts->provider != SHMIPC_PROVIDER_SHARED && opts->provider != SHMIPC_PROVIDER_LEND)
        return shmipc__fail(SHMIPC_EINVAL, "unknown provider %d", opts->provider);
    if (opts->provider == SHMIPC_PROVIDER_LEND && (rc = shmipc__lend_supported()) != 0)
        return rc;
    if (opts->max_pending < 0 || opts->max_apps < 0)
        return shmipc__fail(SHMIPC_EINVAL,
                            "max_pending (%d) and max_apps (%d) may not be "
                            "negative",
                            opts->max_pending, opts->max_apps);
    if (opts->max_sessions < 0 || opts->max_sessions > SHMIPC_MAX_SESSIONS)
        return shmipc__fail(SHMIPC_EINVAL,
                            "max_sessions (%d) must be 0 (%d) to %d "
                            "(SHMIPC_MAX_SESSIONS)",
                            opts->max_sessions, SHMIPC_MAX_SESSIONS_DEFAULT,
                            SHMIPC_MAX_SESSIONS);
    if ((rc = shmipc__socket_path(opts->socket_dir, name, &sa, NULL)) != 0)
        return rc;
    if (!(s = calloc(1, sizeof *s)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a server");
    s->sock = s->lock_fd = s->epfd = s->stop_efd = -1;
    s->fork_gen = shmipc__fork_gen_now();
    s->opts = *opts;
    s->opts.allow = NULL;
    s->opts.handshake_timeout_ms = shmipc__hs_timeout(opts->handshake_timeout_ms);
    s->max_pending = opts->max_pending ? opts->max_pending : DEFAULT_MAX_PENDING;
    s->max_apps = opts->max_apps ? (size_t)opts->max_apps : DEFAULT_MAX_APPS;
    s->max_sessions = (unsigned)(opts->max_sessions ? opts->max_sessions
                                                    : SHMIPC_MAX_SESSIONS_DEFAULT);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->sock_path, sizeof s->sock_path, "%s", sa.sun_path);
    snprintf(s->lock_path, sizeof s->lock_path, "%.*s.lock",
             (int)(strlen(sa.sun_path) - strlen(".sock")), sa.sun_path);
    if ((rc = copy_allow(s, opts)) == 0 && (rc = take_name(s)) == 0 &&
        (rc = listen_on(s, &sa)) == 0)
        rc = make_wait_set(s);
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
    shmipc__hs_send(sock, &w, sizeof w, NULL, 0);
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
            if (s->opts.provider == SHMIPC_PROVIDER_SHARED)
                shmipc__ep_reap(*out, 0); /* drop what dead clients of the app left */
            return 0;
        }
    }
    if (s->n_apps >= s->max_apps)
        return shmipc__fail(SHMIPC_EPERM,
                            "server '%s' already has the app arenas of %zu "
                            "client apps, its limit (max_apps): no room for app '%s'",
                            s->name, s->max_apps, app);
    if (!(grown = realloc(s->apps, (s->n_apps + 1) * sizeof *grown)))
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for app arenas");
    s->apps = grown;
    if ((rc = new_arena(s->opts.provider, size, out)) != 0)
        return rc;
    shmipc__pool_label((*out)->pool, app); /* tools show a peer's app by it */
    snprintf(s->apps[s->n_apps].app, sizeof s->apps[0].app, "%s", app);
    s->apps[s->n_apps++].arena = *out;
    return 0;
}

/* Room for one more session of app `app` in its app arena `master` (max_sessions): its
 * sessions are the endpoints open there, two each with the shared provider (the server's
 * and the client's), one with the lend provider. Before refusing, the endpoints of dead
 * clients are closed (shared provider). */
static int session_room(shmipc_server *s, shmipc_arena *master, const char *app)
{
    unsigned per = s->opts.provider == SHMIPC_PROVIDER_SHARED ? 2 : 1;

    if (shmipc__ep_open_count(master) / per < s->max_sessions)
        return 0;
    if (per == 2 && shmipc__ep_reap(master, 1) > 0 &&
        shmipc__ep_open_count(master) / per < s->max_sessions)
        return 0;
    return shmipc__fail(SHMIPC_EPERM,
                        "server '%s' already has %u sessions of app '%s', its "
                        "limit (max_sessions)",
                        s->name, s->max_sessions, app);
}

/* The session's handle on one of this side's arenas, with the peer's endpoint in it (and,
 * shared provider, this side's: objects made through the handle are attributed to it).
 * Whom the peer's endpoint belongs to is remembered at once: the handshake may be dropped
 * much later, when a reaper (the peer died) may have given the number to another. */
static int add_own_arena(shmipc_session *sess, int kind, shmipc_arena *a, pid_t peer)
{
    int rc;

    sess->lend.own[kind] = a;
    if (sess->lend.provider == SHMIPC_PROVIDER_SHARED) {
        sess->lend.from[kind] = a;
        if ((rc = shmipc__ep_open(a, getpid(), &sess->my_ep[kind])) != 0)
            return rc;
        a->ep = sess->my_ep[kind];
    }
    if ((rc = shmipc__ep_open(a, peer, &sess->lend.peer_ep[kind])) == 0)
        sess->lend.peer_id[kind] = shmipc__ep_id(a, sess->lend.peer_ep[kind]);
    return rc;
}

/* The session's handle on the app arena: shared provider, a handle of its own (its own
 * mapping, its own endpoint); lend provider, the server's handle, referenced. */
static int session_app_arena(int provider, shmipc_arena *master, shmipc_arena **out)
{
    shmipc_pool *mine;
    int rc;

    if (provider == SHMIPC_PROVIDER_LEND) {
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
        (rc = app_arena(s, app, &master)) != 0 || (rc = session_room(s, master, app)) != 0 ||
        (rc = session_app_arena(s->opts.provider, master, &a)) != 0 ||
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

    if (rc == 0 &&
        (rc = shmipc__view_create(table, &sess->lend.from[SHMIPC_ARENA_SESSION])) != 0)
        shmipc_pool_close(table);
    if (rc == 0)
        sess->lend.from[SHMIPC_ARENA_SESSION]->ep = r->lend_ep;
    return rc;
}

/* Send WELCOME with the client's descriptors: the handshake then waits for READY. */
static int send_welcome(shmipc_server *s, shmipc_session *sess, int fd, int client_fds[N_FDS])
{
    struct msg_welcome w;

    welcome_init(&w);
    w.provider = (uint32_t)sess->lend.provider;
    w.session_id = sess->lend.session_id;
    w.key = sess->lend.key;
    w.pool_size = s->opts.session_arena_size ? s->opts.session_arena_size
                                             : DEFAULT_SESSION_ARENA;
    snprintf(w.reason, sizeof w.reason, "%s", s->name); /* a client on a hashed socket checks */
    for (int k = 0; k < 2; k++) {
        w.client_ep[k] = sess->lend.peer_ep[k];
        w.server_ep[k] = sess->my_ep[k];
    }
    return shmipc__hs_send(fd, &w, sizeof w, client_fds, N_FDS);
}

/* A pending handshake's HELLO: check the client, set its session up, answer WELCOME.
 * 1 when WELCOME is sent (or no HELLO came yet), else the error (the client was told). */
static int on_hello(shmipc_server *s, struct pending *p)
{
    int client_fds[N_FDS], nfds, rc;
    struct msg_hello hello;
    struct ucred cr;
    socklen_t crlen = sizeof cr;

    if ((rc = shmipc__hs_recv(p->fd, &hello, sizeof hello, client_fds, &nfds)) != 0)
        return rc == SHMIPC_EPROTO ? refuse(p->fd, rc, "%s", shmipc_error_detail()) : rc;
    for (int i = 0; i < nfds; i++) /* HELLO carries none: a client's are not kept */
        close(client_fds[i]);
    if (getsockopt(p->fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0)
        return shmipc__fail_errno("SO_PEERCRED");
    if ((rc = shmipc__hello_check(&hello, s->name)) != 0)
        return refuse(p->fd, rc, "%s", shmipc_error_detail());
    if (!allowed(s, hello.app, &cr))
        return refuse(p->fd, SHMIPC_EPERM,
                      "app '%s' (uid %u, gid %u) is not allowed by "
                      "server '%s'",
                      hello.app, (unsigned)cr.uid, (unsigned)cr.gid, s->name);
    if ((rc = shmipc__session_alloc(p->fd, &p->sess)) != 0)
        return refuse(p->fd, rc, "server could not set the session up: %s",
                      shmipc_error_detail());
    p->sess->peer_pid = cr.pid;
    p->sess->peer_pidfd = shmipc__sock_peer_pidfd(p->fd);
    if ((rc = build_session(s, p->sess, hello.app, cr.pid, client_fds, &p->ctrl)) != 0)
        return refuse(p->fd, rc, "server could not set the session up: %s",
                      shmipc_error_detail());
    return (rc = send_welcome(s, p->sess, p->fd, client_fds)) != 0 ? rc : 1;
}

/* A pending handshake's READY (lend provider: map the client's arena): 0 and *out, the
 * session; 1 if no READY came yet; else the error. */
static int on_ready(shmipc_server *s, struct pending *p, shmipc_session **out)
{
    shmipc_session *sess = p->sess;
    struct msg_ready ready;
    struct shmipc_ctrl *c;
    int fds[N_FDS], nfds, rc;

    if ((rc = shmipc__hs_recv(p->fd, &ready, sizeof ready, fds, &nfds)) != 0)
        return rc;
    rc = shmipc__ready_check(&ready, sess->lend.provider, nfds);
    if (rc == 0 && sess->lend.provider == SHMIPC_PROVIDER_LEND)
        rc = view_of_client(sess, &ready, fds[0]);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    if (rc == 0 && (rc = shmipc__ctrl_wrap(p->ctrl, 1, &c)) == 0) {
        p->ctrl = NULL;
        rc = shmipc__session_start(sess, c, 1);
    }
    if (rc != 0)
        return rc;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->fd, NULL); /* the session's own from now on */
    *p = (struct pending){.fd = -1};
    s->n_pending--;
    *out = sess;
    return 0;
}

/* Step the handshake of slot i, whose connection is readable: 0 and *out when its session
 * is ready, else 1 (it goes on, or it failed and was dropped). */
static int step(shmipc_server *s, int i, shmipc_session **out)
{
    struct pending *p = &s->pend[i];
    int rc;

    if (p->fd < 0) /* dropped earlier in this batch of events */
        return 1;
    rc = p->sess ? on_ready(s, p, out) : on_hello(s, p);
    if (rc < 0) {
        drop_pending(s, p);
        s->rejected++;
    }
    return rc < 0 ? 1 : rc;
}

/* Take the connections waiting on the listening socket while there is a free slot for
 * them: pending handshakes. The others wait in the backlog. */
static int new_connections(shmipc_server *s)
{
    for (int i = 0; i < s->max_pending && s->n_pending < s->max_pending; i++) {
        struct pending *p = &s->pend[i];
        int fd, rc;
        if (p->fd >= 0)
            continue;
        if ((fd = accept4(s->sock, NULL, NULL, SOCK_CLOEXEC)) < 0)
            return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED
                       ? 0
                       : shmipc__fail_errno("accept");
        if ((rc = watch(s, fd, EV_PENDING + (uint64_t)i)) != 0) {
            close(fd);
            return rc;
        }
        *p = (struct pending){.fd = fd, .start_ns = shmipc__now_ns()};
        s->n_pending++;
    }
    return 0;
}

/* Watch the listening socket only while a slot is free. */
static void arm_listening(shmipc_server *s)
{
    int want = s->n_pending < s->max_pending;

    if (want != s->listen_armed) {
        struct epoll_event ev = {.events = want ? EPOLLIN : 0, .data.u64 = EV_LISTEN};
        if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->sock, &ev) == 0)
            s->listen_armed = want;
    }
}

/* Drop the handshakes whose time is up; the milliseconds until the next one's is (-1:
 * none is bounded). */
static int expire(shmipc_server *s)
{
    uint64_t now = shmipc__now_ns(), limit = (uint64_t)s->opts.handshake_timeout_ms * 1000000u;
    int next = -1;

    if (s->opts.handshake_timeout_ms < 0)
        return -1;
    for (int i = 0; i < s->max_pending; i++) {
        struct pending *p = &s->pend[i];
        if (p->fd < 0)
            continue;
        if (now - p->start_ns >= limit) {
            drop_pending(s, p);
            s->rejected++;
        } else {
            int ms = (int)((limit - (now - p->start_ns) + 999999) / 1000000);
            next = next < 0 || ms < next ? ms : next;
        }
    }
    return next;
}

/* The milliseconds until `end_ns` (rounded up), or -1 if there is no end. */
static int ms_until(uint64_t end_ns)
{
    uint64_t now = shmipc__now_ns();

    if (end_ns == UINT64_MAX)
        return -1;
    return now >= end_ns ? 0 : (int)((end_ns - now + 999999) / 1000000);
}

/* Act on one event of the epoll set: 0 and *out when a session is ready, 1 to go on,
 * else accept's error. */
static int on_event(shmipc_server *s, uint64_t what, shmipc_session **out)
{
    int rc;

    if (what == EV_STOP)
        return shmipc__fail(SHMIPC_ECLOSED, "server '%s' was shut down", s->name);
    if (what == EV_LISTEN)
        return (rc = new_connections(s)) != 0 ? rc : 1;
    return step(s, (int)(what - EV_PENDING), out);
}

int shmipc_server_accept(shmipc_server *s, int timeout_ms, shmipc_session **out)
{
    uint64_t end;
    struct epoll_event ev[EVENTS_MAX];
    int rc;

    if (!s || !out)
        return shmipc__fail(SHMIPC_EINVAL, "server or out is NULL");
    if ((rc = server_inherited(s, "shmipc_server_accept: server")) != 0)
        return rc;
    end = timeout_ms < 0 ? UINT64_MAX : shmipc__now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        int left = ms_until(end), next = expire(s), n;
        if (atomic_load(&s->stopped))
            return shmipc__fail(SHMIPC_ECLOSED, "server '%s' was shut down", s->name);
        arm_listening(s);
        n = epoll_wait(s->epfd, ev, EVENTS_MAX,
                       next >= 0 && (left < 0 || next < left) ? next : left);
        if (n < 0 && errno != EINTR)
            return shmipc__fail_errno("epoll_wait");
        for (int i = 0; i < n; i++)
            if ((rc = on_event(s, ev[i].data.u64, out)) <= 0)
                return rc;
        if (left == 0)
            return shmipc__fail(SHMIPC_ETIMEDOUT,
                                "no client completed its handshake within "
                                "%d ms",
                                timeout_ms);
    }
}
