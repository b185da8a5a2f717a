/* Squatting by another user, with a real second user (made here with useradd when run as
 * root; skipped, saying why, otherwise). Any user can create files under this user's names
 * in a shared directory (/dev/shm, /tmp); none of them is ever followed:
 *   - a copy of a valid pool, mode 0666, pre-created at /dev/shm/shmipc.<uid>.<name> by the
 *     other user: shmipc_arena_open and shmipc_pool_open refuse it (EPERM, naming its
 *     owner) and leave it as it is;
 *   - a symbolic link there: refused;
 *   - a pool of this user's own that group/other may write: refused, unless
 *     SHMIPC_SHARED_MODE;
 *   - a default socket directory made first by the other user, a given one that is a link
 *     to the other user's directory, a lock file or a socket it planted in a shared one:
 *     refused by shmipc_server_open and shmipc_connect;
 *   - `shmipc gc` leaves the other user's files in place and says it skipped them. */
#include "session_util.h" /* first: it defines _GNU_SOURCE */
#include "user_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define SQUATTER "shmipc-squat"

static char shm_dir[64] = "/dev/shm";

static const char *shm_path(const char *name)
{
    static char path[2][256];
    static int next;
    char *p = path[next++ % 2];

    snprintf(p, sizeof path[0], "%s/shmipc.%u.%s", shm_dir, (unsigned)getuid(), name);
    return p;
}

/* A directory like /tmp: anyone may create files in it, and remove only their own. */
static void make_shared_dir(char *tmpl)
{
    if (!mkdtemp(tmpl) || chmod(tmpl, 01777) != 0)
        exit(99);
}

/* What the squatter does, in a child as the other user. */
struct squat {
    enum {
        COPY,
        LINK,
        MKDIR,
        SOCKET,
        LOCKFILE
    } what;
    const char *path;
    const char *target; /* COPY: a pool of ours to copy; LINK: where the link points */
};

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    ssize_t n;
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0666);

    if (in < 0 || out < 0 || fchmod(out, 0666) != 0)
        return 1;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            return 1;
    return n != 0;
}

static int bind_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    return fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, 0777) != 0;
}

static int squat_as_other(void *arg)
{
    const struct squat *sq = arg;
    int fd;

    /* the source is read before becoming the other user: it cannot read our 0600 pool */
    if (sq->what == COPY) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "/tmp/shmipc-squat-%d", (int)getpid());
        if (copy_file(sq->target, tmp) != 0 || chown(tmp, other_uid, other_gid) != 0)
            return 1;
        become_other();
        fd = copy_file(tmp, sq->path);
        unlink(tmp);
        return fd;
    }
    become_other();
    switch (sq->what) {
    case LINK: return symlink(sq->target, sq->path) != 0;
    case MKDIR: return mkdir(sq->path, 0777) != 0 || chmod(sq->path, 0777) != 0;
    case SOCKET: return bind_socket(sq->path);
    case LOCKFILE:
        fd = open(sq->path, O_RDWR | O_CREAT | O_EXCL, 0666);
        return fd < 0 || fchmod(fd, 0666) != 0;
    default: return 1;
    }
}

static int squat(int what, const char *path, const char *target)
{
    struct squat sq = {what, path, target};
    int status = run_child(squat_as_other, &sq);

    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static uid_t owner_of(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

/* The error detail names the file and its owner's uid. */
static int names_owner(const char *path)
{
    char uid[32];

    snprintf(uid, sizeof uid, "uid %u", (unsigned)other_uid);
    return strstr(shmipc_error_detail(), path) && strstr(shmipc_error_detail(), uid);
}

/* A valid arena pool named `name` whose creator is dead (made by a child). */
static int made_by_child(void *arg)
{
    shmipc_arena *a;

    return shmipc_arena_open(arg, 1 << 20, SHMIPC_SCOPE_NODE, &a) != 0;
}

static void test_squatted_pool(void)
{
    const char *src = uname_("src"), *name = uname_("squat");
    char path[256];
    shmipc_arena *a = NULL;
    shmipc_pool *p = NULL;

    snprintf(path, sizeof path, "%s", shm_path(name));
    if (!SETUP(run_child(made_by_child, (void *)src) == 0, "a valid arena pool to copy") ||
        !SETUP(squat(COPY, path, shm_path(src)), "the other user plants a 0666 copy of it"))
        return;
    ok(owner_of(path) == other_uid, "%s is the other user's (uid %u)", path,
       (unsigned)other_uid);
    is_rc(shmipc_arena_open(name, 1 << 20, SHMIPC_SCOPE_NODE, &a), SHMIPC_EPERM,
          "shmipc_arena_open refuses to attach to it");
    ok(names_owner(path), "the detail names the file and its owner: %s", shmipc_error_detail());
    is_rc(shmipc_pool_open(name, 0, &p), SHMIPC_EPERM, "shmipc_pool_open refuses it");
    is_rc(shmipc_pool_open(name, SHMIPC_RDONLY | SHMIPC_SHARED_MODE, &p), SHMIPC_EPERM,
          "even read-only and with SHMIPC_SHARED_MODE: it is not ours");
    ok(names_owner(path), "the detail names the file and its owner: %s", shmipc_error_detail());
    ok(owner_of(path) == other_uid, "the other user's file is left in place");
    if (a)
        shmipc_arena_close(a);
    shmipc_pool_close(p);
    unlink(path);
    shmipc_pool_unlink(src);
}

static void test_symlink(void)
{
    const char *mine = uname_("mine"), *name = uname_("link");
    char path[256];
    shmipc_arena *a = NULL, *real;
    shmipc_pool *p = NULL;

    snprintf(path, sizeof path, "%s", shm_path(name));
    if (!SETUP(shmipc_arena_open(mine, 1 << 20, SHMIPC_SCOPE_NODE, &real) == 0, "an arena") ||
        !SETUP(squat(LINK, path, shm_path(mine)), "the other user links a name of ours to it"))
        return;
    is_rc(shmipc_arena_open(name, 1 << 20, SHMIPC_SCOPE_NODE, &a), SHMIPC_EPERM,
          "shmipc_arena_open does not follow the link");
    ok(strstr(shmipc_error_detail(), "symbolic link") != NULL, "and says why: %s",
       shmipc_error_detail());
    is_rc(shmipc_pool_open(name, SHMIPC_SHARED_MODE, &p), SHMIPC_EPERM,
          "nor does shmipc_pool_open");
    if (a)
        shmipc_arena_close(a);
    shmipc_pool_close(p);
    unlink(path);
    shmipc_arena_close(real);
    shmipc_arena_unlink(mine);
}

static void test_shared_mode(void)
{
    const char *name = uname_("shared");
    shmipc_pool *mine, *p = NULL;
    char mode[16];

    if (!SETUP(shmipc_pool_create(name, 4096, 0666, &mine) == 0, "a pool of ours, mode 0666"))
        return;
    is_rc(shmipc_pool_open(name, 0, &p), SHMIPC_EPERM,
          "opening it without the opt-in is "
          "refused: others may write it");
    snprintf(mode, sizeof mode, "mode 0666");
    ok(strstr(shmipc_error_detail(), mode) &&
           strstr(shmipc_error_detail(), "SHMIPC_SHARED_MODE"),
       "the detail says the mode and the way to accept it: %s", shmipc_error_detail());
    is_rc(shmipc_pool_open(name, SHMIPC_SHARED_MODE, &p), 0,
          "with SHMIPC_SHARED_MODE it opens");
    ok(p && shmipc_pool_id(p) == shmipc_pool_id(mine), "and it is the same pool");
    shmipc_pool_close(p);
    p = NULL;
    is_rc(shmipc_pool_open(name, SHMIPC_SHARED_MODE | SHMIPC_RDONLY, &p), 0, "read-only too");
    shmipc_pool_close(p);
    shmipc_pool_close(mine);
    shmipc_pool_unlink(name);

    name = uname_("group-read");
    is_rc(shmipc_pool_create(name, 4096, 0640, &mine), 0, "a pool of ours, mode 0640");
    p = NULL;
    is_rc(shmipc_pool_open(name, 0, &p), 0,
          "opens without the opt-in: nobody else may write it");
    shmipc_pool_close(p);
    shmipc_pool_close(mine);
    shmipc_pool_unlink(name);
}

static int server_open_in(const char *dir, const char *name, shmipc_server **srv)
{
    shmipc_server_opts o;

    shmipc_server_opts_init(&o);
    o.socket_dir = dir;
    return shmipc_server_open(name, &o, srv);
}

static int connect_in(const char *dir, const char *name)
{
    shmipc_client_opts co;
    shmipc_session *s;
    int rc;

    shmipc_client_opts_init(&co);
    co.socket_dir = dir;
    co.timeout_ms = 1000;
    rc = shmipc_connect(name, "victim", &co, &s);
    if (rc == 0)
        shmipc_session_close(s);
    return rc;
}

/* The default socket directory ($XDG_RUNTIME_DIR/shmipc here) made first by the other
 * user, with a socket of its own in it. */
static void test_default_socket_dir(const char *shared)
{
    char xdg[128], dir[192], sock[256];
    shmipc_server *srv = NULL;
    shmipc_session *s;

    snprintf(xdg, sizeof xdg, "%s/xdg", shared);
    snprintf(dir, sizeof dir, "%s/shmipc", xdg);
    snprintf(sock, sizeof sock, "%s/victim.sock", dir);
    if (!SETUP(mkdir(xdg, 0777) == 0 && chmod(xdg, 01777) == 0, "a shared $XDG_RUNTIME_DIR") ||
        !SETUP(squat(MKDIR, dir, NULL), "the other user makes the default socket directory "
                                        "first") ||
        !SETUP(squat(SOCKET, sock, NULL), "and a socket in it"))
        return;
    unsetenv("SHMIPC_SOCKET_DIR");
    setenv("XDG_RUNTIME_DIR", xdg, 1);
    is_rc(shmipc_server_open("victim", NULL, &srv), SHMIPC_EPERM,
          "shmipc_server_open refuses the squatted default directory");
    ok(names_owner(dir), "the detail names the directory and its owner: %s",
       shmipc_error_detail());
    is_rc(shmipc_connect("victim", "victim", NULL, &s), SHMIPC_EPERM,
          "shmipc_connect refuses it too: it would talk to the other user's server");
    shmipc_server_close(srv);
    setenv("SHMIPC_SOCKET_DIR", sock_dir, 1);
    unsetenv("XDG_RUNTIME_DIR");
    unlink(sock);
    rmdir(dir);
    rmdir(xdg);
}

/* A given socket directory that is a link the other user planted, to its own directory. */
static void test_linked_socket_dir(const char *shared)
{
    char link[128], theirs[128], sock[192];
    shmipc_server *srv = NULL;

    snprintf(link, sizeof link, "%s/sockets", shared);
    snprintf(theirs, sizeof theirs, "%s/theirs", shared);
    snprintf(sock, sizeof sock, "%s/victim.sock", theirs);
    if (!SETUP(squat(MKDIR, theirs, NULL), "the other user's directory") ||
        !SETUP(squat(SOCKET, sock, NULL), "with a socket in it") ||
        !SETUP(squat(LINK, link, theirs), "and a link to it where we keep our sockets"))
        return;
    is_rc(server_open_in(link, "victim", &srv), SHMIPC_EPERM,
          "shmipc_server_open does not follow the link");
    ok(names_owner(link), "the detail names the link and its owner: %s", shmipc_error_detail());
    is_rc(connect_in(link, "victim"), SHMIPC_EPERM, "nor does shmipc_connect");
    ok(owner_of(sock) == other_uid, "nothing of ours was made there");
    shmipc_server_close(srv);
    unlink(link);
    unlink(sock);
    rmdir(theirs);
}

/* In a shared socket directory: a lock file and a socket the other user planted under the
 * names of our server. */
static void test_planted_in_shared_dir(const char *shared)
{
    char lock[128], sock[128];
    shmipc_server *srv = NULL;

    snprintf(lock, sizeof lock, "%s/locked.lock", shared);
    snprintf(sock, sizeof sock, "%s/fake.sock", shared);
    if (!SETUP(squat(LOCKFILE, lock, NULL), "the other user plants locked.lock, mode 0666") ||
        !SETUP(squat(SOCKET, sock, NULL), "and fake.sock"))
        return;
    is_rc(server_open_in(shared, "locked", &srv), SHMIPC_EPERM,
          "shmipc_server_open refuses the other user's lock file");
    ok(names_owner(lock), "the detail names it and its owner: %s", shmipc_error_detail());
    ok(owner_of(lock) == other_uid, "and leaves it in place");
    is_rc(connect_in(shared, "fake"), SHMIPC_EPERM,
          "shmipc_connect refuses a socket of a third user in a shared directory");
    ok(names_owner(sock), "the detail names it and its owner: %s", shmipc_error_detail());
    shmipc_server_close(srv);
    unlink(lock);
    unlink(sock);
}

/* Run `shmipc ARGS` with its stdout into out; its exit code. */
static int run_tool(const char *args, char *out, size_t cap)
{
    char cmd[PATH_MAX + 64];
    const char *b = getenv("SHMIPC_BUILDDIR");
    FILE *f;
    size_t n;

    snprintf(cmd, sizeof cmd, "%s/tools/shmipc %s", b ? b : ".", args);
    if (!(f = popen(cmd, "r")))
        return -1;
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    return pclose(f);
}

static void test_gc(const char *shared)
{
    const char *src = uname_("gc-src"), *name = uname_("gc-squat"), *link = uname_("gc-link");
    char path[256], lpath[256], lock[128], out[8192], line[512];

    /* a shm directory of its own that anyone may write to: gc sees only this test's files */
    snprintf(shm_dir, sizeof shm_dir, "/dev/shm/shmipc-users.XXXXXX");
    make_shared_dir(shm_dir);
    setenv("SHMIPC_SHM_DIR", shm_dir, 1);
    setenv("SHMIPC_SOCKET_DIR", shared, 1);
    snprintf(path, sizeof path, "%s", shm_path(name));
    snprintf(lpath, sizeof lpath, "%s", shm_path(link));
    snprintf(lock, sizeof lock, "%s/gone.lock", shared);
    if (SETUP(run_child(made_by_child, (void *)src) == 0, "a pool whose creator is dead") &&
        SETUP(squat(COPY, path, shm_path(src)), "the other user's 0666 copy of it") &&
        SETUP(squat(LINK, lpath, shm_path(src)), "and a link to it under a name of ours") &&
        SETUP(squat(LOCKFILE, lock, NULL), "and a server's lock file of its own")) {
        int rc = run_tool("gc", out, sizeof out);
        ok(rc == 0, "shmipc gc exits 0 (%d)", rc);
        ok(access(shm_path(src), F_OK) != 0, "gc removes our own stale pool");
        ok(owner_of(path) == other_uid, "gc leaves the other user's copy in place");
        ok(owner_of(lpath) == other_uid, "and its link");
        ok(owner_of(lock) == other_uid, "and its lock file");
        snprintf(line, sizeof line, "skipped %s (owned by uid %u", path, (unsigned)other_uid);
        ok(strstr(out, line) != NULL, "gc says it skipped the copy, and whose it is");
        snprintf(line, sizeof line, "skipped %s (a symbolic link", lpath);
        ok(strstr(out, line) != NULL, "and the link");
        snprintf(line, sizeof line, "skipped %s (owned by uid %u", lock, (unsigned)other_uid);
        ok(strstr(out, line) != NULL, "and the lock file");
        if (!strstr(out, "skipped"))
            diag("gc said: %s", out);
        snprintf(line, sizeof line, "stat %s --json", name);
        run_tool(line, out, sizeof out);
        ok(strstr(out, "\"state\": \"foreign\"") != NULL, "shmipc stat shows the copy as "
                                                          "foreign, unread");
    }
    unlink(path);
    unlink(lpath);
    unlink(lock);
    unlink(shm_path(src));
    rmdir(shm_dir);
    snprintf(shm_dir, sizeof shm_dir, "/dev/shm");
    unsetenv("SHMIPC_SHM_DIR");
    setenv("SHMIPC_SOCKET_DIR", sock_dir, 1);
}

int main(void)
{
    char shared[64] = "/tmp/shmipc-users-XXXXXX";
    int made;

    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    if (!other_user(SQUATTER, &made)) {
        skip("tests with a second user: not root, and no user '" SQUATTER "' exists");
    } else {
        make_shared_dir(shared);
        test_squatted_pool();
        test_symlink();
        test_shared_mode();
        test_default_socket_dir(shared);
        test_linked_socket_dir(shared);
        test_planted_in_shared_dir(shared);
        test_gc(shared);
        rmdir(shared);
    }
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
