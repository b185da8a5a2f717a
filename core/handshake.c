/* handshake.c — what both sides of the session handshake use (handshake.h): the socket
 * directory and path, and one handshake message sent or received with its descriptors. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "handshake.h"

int shmipc__hs_timeout(int ms)
{
    return ms == 0 ? HS_DEFAULT_TIMEOUT_MS : ms;
}

int shmipc__hs_wait(int fd, int timeout_ms)
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

int shmipc__hs_send(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
    if (shmipc__send_fds(sock, msg, len, fds, nfds, MSG_DONTWAIT) != (ssize_t)len)
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

int shmipc__hs_recv(int sock, void *msg, size_t len, int *fds, int *nfds)
{
    int rc, truncated;
    ssize_t n = shmipc__recv_fds(sock, msg, len, fds, N_FDS, nfds, &truncated);

    if (n == (ssize_t)len && !truncated)
        return 0;
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 1;
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
        rc = shmipc__fail(SHMIPC_EPROTO,
                          "handshake message longer than the %zu bytes "
                          "expected",
                          len);
    else if (truncated & MSG_CTRUNC)
        rc = descriptors_cut_off(); /* before closing those that came */
    else
        rc = shmipc__fail(SHMIPC_EPROTO, "handshake message of %zd bytes, expected %zu", n,
                          len);
    for (int i = 0; i < *nfds; i++)
        close(fds[i]);
    *nfds = 0;
    return rc;
}

/* The socket directory: opts, $SHMIPC_SOCKET_DIR, $XDG_RUNTIME_DIR/shmipc or
 * /tmp/shmipc-<uid>. Default directories are made 0700 and must be the user's own; see
 * shmipc__socket_dir_check for given ones. */
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
            return shmipc__fail(SHMIPC_EPERM,
                                "socket directory %s is a symbolic link of uid "
                                "%u to a directory of uid %u: refused, a link of another user "
                                "or to another user's place is not followed",
                                dir, (unsigned)st.st_uid, (unsigned)target.st_uid);
        st = target;
    }
    if (given && !S_ISDIR(st.st_mode))
        return shmipc__fail(SHMIPC_EINVAL, "socket directory %s is not a directory", dir);
    if (!given && (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)))
        return shmipc__fail(SHMIPC_EPERM,
                            "socket directory %s (owner uid %u, mode %04o) is "
                            "not a private directory of uid %u: refused, another user may "
                            "have made it",
                            dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                            (unsigned)geteuid());
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
        return shmipc__fail(SHMIPC_EPERM,
                            "%s (owner uid %u, mode %04o) is %s: refused, "
                            "another user may have planted it",
                            path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                            S_ISLNK(st.st_mode) ? "a symbolic link"
                                                : "neither this uid's nor its directory's "
                                                  "owner's");
    return 0;
}

/* FNV-1a, 64 bits: the short socket name of a server name too long for its directory. */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 0x100000001b3u;
    return h;
}

int shmipc__socket_path(const char *dir_opt, const char *name, struct sockaddr_un *sa,
                        int *hashed)
{
    char dir[4096];
    uid_t owner = (uid_t)-1;
    int rc, short_name = 0;

    if ((rc = shmipc__check_name(name, "server")) != 0 ||
        (rc = socket_dir(dir_opt, dir, sizeof dir, &owner)) != 0)
        return rc;
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if ((size_t)snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s.sock", dir, name) >=
        sizeof sa->sun_path) {
        short_name = 1; /* the name is checked in the handshake (WELCOME carries it) */
        if ((size_t)snprintf(sa->sun_path, sizeof sa->sun_path, "%s/h-%016" PRIx64 ".sock", dir,
                             name_hash(name)) >= sizeof sa->sun_path)
            return shmipc__fail(SHMIPC_EINVAL,
                                "socket directory %s is too long: it may "
                                "have at most %d bytes (SHMIPC_SOCKET_DIR_MAX)",
                                dir, SHMIPC_SOCKET_DIR_MAX);
    }
    if (hashed)
        *hashed = short_name;
    return check_socket(sa->sun_path, owner);
}
