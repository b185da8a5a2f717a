/* Resource exhaustion, in real processes with real limits: a full shm file system (a small
 * tmpfs mounted in a private mount namespace, when run as root), memfds that cannot grow
 * (RLIMIT_FSIZE), no descriptor left (RLIMIT_NOFILE) for a client, a server or a borrower
 * that must receive a pool, and no address space left (RLIMIT_AS) to map a pool or join a
 * session. Each must give a clear error (SHMIPC_ENOMEM, or SHMIPC_ESYS with the errno in the
 * detail), never a crash nor a leaked descriptor or file, and the process or session must
 * go on working once the limit is lifted.
 *
 * Every case runs in a forked child (the limits are the child's), which reports its checks
 * through a pipe; a child killed by a signal fails the case. */
#include "session_util.h" /* first: tap.h defines _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/resource.h>

static int report_fd = -1; /* in a child: where its checks go */

/* A check in a child: "1 text" or "0 text" (and the library's detail if it failed). */
static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int cond, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    dprintf(report_fd, "%d %s%s%s\n", cond ? 1 : 0, text,
            cond ? "" : " -- detail: ", cond ? "" : shmipc_error_detail());
}

/* A check that a call failed with `want` and said so with `words` in its detail. */
static void check_fails(int rc, int want, const char *words, const char *what)
{
    check(rc == want && strstr(shmipc_error_detail(), words) != NULL, "%s: %s (%s)", what,
          shmipc_strerror(rc), shmipc_error_detail());
}

/* The server a case's child talks to (a thread of the test process, whose limits are not
 * the child's): it serves clients one after the other, and to each lends on request a
 * small object ("small") or one bigger than a data pool, in a pool of its own ("big"). */
struct server_thread {
    shmipc_server *srv;
    atomic_int stop;
    pthread_t t;
};

static void serve_requests(shmipc_session *s)
{
    char req[16];
    size_t len;
    shmipc_obj *o;

    while (shmipc_recv(s, req, sizeof req, &len, NULL, 20000) == 0) {
        size_t n = len == 3 && memcmp(req, "big", 3) == 0 ? (size_t)4 << 20 : 1000;
        if (shmipc_obj_new(shmipc_session_arena(s), n, &o) != 0)
            break;
        memset(shmipc_obj_ptr(o), 0x77, n);
        shmipc_send(s, "obj", 3, o);
        shmipc_obj_unref(o);
    }
}

static void *server_main(void *arg)
{
    struct server_thread *st = arg;
    shmipc_session *s;

    while (!atomic_load(&st->stop))
        if (shmipc_server_accept(st->srv, 200, &s) == 0) {
            serve_requests(s);
            shmipc_session_close(s);
        }
    return NULL;
}

/* Ask the server for an object and check it: 1 if it came whole, else 0 (*rc: why). */
static int request(shmipc_session *s, const char *what, int *rc)
{
    shmipc_obj *o = NULL;
    char buf[16];
    size_t len;
    int good = 0;

    *rc = shmipc_send(s, what, strlen(what), NULL);
    if (*rc == 0)
        *rc = shmipc_recv(s, buf, sizeof buf, &len, &o, 10000);
    if (*rc == 0 && o) {
        const unsigned char *p = shmipc_obj_ptr(o);
        good = 1;
        for (size_t i = 0; i < shmipc_obj_size(o); i += 512)
            good &= p[i] == 0x77;
    }
    shmipc_obj_unref(o);
    return good;
}

/* Run fn in a child, with a server thread here if provider >= 0; the child's checks
 * become TAP lines here. */
static void run_case(const char *name, void (*fn)(void), int provider, size_t arena_size)
{
    struct server_thread st = {0};
    shmipc_server_opts so;
    int fds[2], status, checks = 0;
    char line[1200];
    FILE *in;
    pid_t pid;

    diag("---- %s", name);
    if (provider >= 0) {
        shmipc_server_opts_init(&so);
        so.provider = provider;
        so.session_arena_size = arena_size;
        if (shmipc_server_open("limits", &so, &st.srv) == SHMIPC_ENOTSUP) {
            skip("the lend provider: this build has no jemalloc");
            return;
        }
        pthread_create(&st.t, NULL, server_main, &st);
    }
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        ok(0, "%s: fork", name);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        report_fd = fds[1];
        fn();
        _exit(0);
    }
    close(fds[1]);
    in = fdopen(fds[0], "r");
    while (in && fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "skip ", 5) == 0)
            skip(line + 5);
        else
            ok(line[0] == '1', "%s", line + 2);
        checks++;
    }
    if (in)
        fclose(in);
    waitpid(pid, &status, 0);
    if (provider >= 0) {
        atomic_store(&st.stop, 1);
        pthread_join(st.t, NULL);
        shmipc_server_close(st.srv);
    }
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && checks > 0,
       "%s: the process ended normally (%s %d) after %d checks", name,
       WIFSIGNALED(status) ? "signal" : "exit",
       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), checks);
}

static void child_skip(const char *why)
{
    dprintf(report_fd, "skip %s\n", why);
}

/* Descriptors open in this process (*highest: the highest of them). */
static int fds_in_use(int *highest)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    *highest = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (atoi(e->d_name) != dirfd(d) && atoi(e->d_name) > *highest)
            *highest = atoi(e->d_name);
        n++;
    }
    if (d)
        closedir(d);
    return n - 1; /* the directory's own */
}

static int open_fds(void)
{
    int highest;
    return fds_in_use(&highest);
}

static void set_limit(int resource, rlim_t value)
{
    struct rlimit r;

    getrlimit(resource, &r);
    r.rlim_cur = value;
    if (setrlimit(resource, &r) != 0)
        check(0, "setrlimit %d to %llu: %s", resource, (unsigned long long)value,
              strerror(errno));
}

static void lift_limit(int resource)
{
    struct rlimit r;

    getrlimit(resource, &r);
    r.rlim_cur = r.rlim_max;
    setrlimit(resource, &r);
}

/* RLIMIT_NOFILE bounds descriptor numbers: leave exactly `spare` free by a limit just above
 * the highest in use and the holes below it filled (with /dev/null). */
static int fillers[4096], nfillers;

static void leave_fds(int spare)
{
    int highest, fd;

    fds_in_use(&highest);
    set_limit(RLIMIT_NOFILE, (rlim_t)highest + 1 + (rlim_t)spare);
    while (nfillers < 4096 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fillers[nfillers++] = fd;
    for (int i = 0; i < spare && nfillers > 0; i++)
        close(fillers[--nfillers]);
}

static void lift_fds(void)
{
    while (nfillers > 0)
        close(fillers[--nfillers]);
    lift_limit(RLIMIT_NOFILE);
}

/* Entries of a directory, but . and .. */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

/* Write every byte of a pool and read it back: 1 if all is there (no SIGBUS on the way). */
static int fill_and_verify(shmipc_pool *p, unsigned char v)
{
    unsigned char *b = shmipc_pool_base(p);
    size_t n = shmipc_pool_size(p);

    memset(b, v, n);
    for (size_t i = 0; i < n; i += 4096)
        if (b[i] != v)
            return 0;
    return 1;
}

/* ---- a full shm file system ------------------------------------------------------------ */

/* A private mount namespace with an 8 MiB tmpfs as the shm directory; 0 if it cannot be
 * had (not root, no namespaces). */
static int small_shm_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/shmipc-limits-XXXXXX");
    if (!mkdtemp(dir))
        return 0;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=8m,mode=1777") != 0) {
        rmdir(dir);
        return 0;
    }
    setenv("SHMIPC_SHM_DIR", dir, 1);
    return 1;
}

static void shm_full(void)
{
    shmipc_pool *p = NULL, *q = NULL;
    shmipc_arena *a = NULL;
    char dir[64];

    if (!small_shm_dir(dir, sizeof dir)) {
        child_skip("a full shm file system: needs root to mount a small tmpfs in a private "
                   "mount namespace (unshare + mount)");
        return;
    }
    check_fails(shmipc_arena_open(uname_("huge"), 64 << 20, SHMIPC_SCOPE_NODE, &a),
                SHMIPC_ENOMEM, "bytes free",
                "a 64 MiB arena on an 8 MiB tmpfs: ENOMEM up front");
    check(dir_entries(dir) == 0, "and nothing is left in the shm directory (%d entries)",
          dir_entries(dir));
    check(shmipc_pool_create(uname_("fits"), 4 << 20, 0, &p) == 0, "a 4 MiB pool fits");
    check_fails(shmipc_pool_create(uname_("more"), 6 << 20, 0, &q), SHMIPC_ENOMEM, "bytes free",
                "6 MiB more does not: ENOMEM");
    check(p && fill_and_verify(p, 0x5a), "every page of the pool that fit can be written");
    check(shmipc_arena_open(uname_("small"), 1 << 20, SHMIPC_SCOPE_NODE, &a) == 0 &&
              shmipc_alloc(a, 1000) != NULL,
          "a 1 MiB arena still fits and allocates");
    shmipc_arena_close(a);
    shmipc_pool_close(p);
    shmipc_arena_unlink(uname_("small"));
    shmipc_pool_unlink(uname_("fits"));
    check(dir_entries(dir) == 0, "everything removed");
    umount(dir);
    rmdir(dir);
}

/* ---- memfds that cannot grow: RLIMIT_FSIZE ----------------------------------------------- */

static void memfd_fsize(void)
{
    shmipc_pool *p = NULL;
    int fds = open_fds();

    signal(SIGXFSZ, SIG_IGN); /* its default action ends the process: see docs/security.md */
    set_limit(RLIMIT_FSIZE, 1 << 20);
    check_fails(shmipc_pool_create(NULL, 16 << 20, 0, &p), SHMIPC_ENOMEM, "File too large",
                "a 16 MiB memfd pool under a 1 MiB RLIMIT_FSIZE");
    check(open_fds() == fds, "no descriptor leaked (%d, was %d)", open_fds(), fds);
    check(shmipc_pool_create(NULL, 256 << 10, 0, &p) == 0 && fill_and_verify(p, 1),
          "a 256 KiB pool is made and written");
    shmipc_pool_close(p);
    lift_limit(RLIMIT_FSIZE);
}

/* ---- no descriptor left: RLIMIT_NOFILE ---------------------------------------------------- */

/* A client: connecting with too few descriptors; then, connected (lend provider), borrowing
 * an object whose pool must come as a descriptor when none is left. */
static void client_nofile(void)
{
    shmipc_session *s = NULL;
    int fds = open_fds(), rc, got;

    leave_fds(3);
    check_fails(shmipc_connect("limits", "viewer", NULL, &s), SHMIPC_ESYS,
                "Too many open files", "connecting with 3 descriptors to spare");
    lift_fds();
    check(open_fds() == fds, "no descriptor leaked (%d, was %d)", open_fds(), fds);
    check(shmipc_connect("limits", "viewer", NULL, &s) == 0,
          "with the limit lifted it connects");
    check(s && request(s, "small", &rc), "and borrows an object");
    fds = open_fds();
    leave_fds(0);
    got = request(s, "big", &rc);
    check_fails(got ? 0 : rc, SHMIPC_ESYS, "Too many open files",
                "an object in a pool of its own, no descriptor left to receive the pool");
    check(request(s, "small", &rc), "the session goes on: an object in a pool it has");
    lift_fds();
    check(open_fds() <= fds + 1, "no descriptor leaked (%d, was %d)", open_fds(), fds);
    check(request(s, "big", &rc), "with the limit lifted, objects in new pools come again");
    shmipc_session_close(s);
}

/* An owner (lend provider): a new object needs a pool of its own, and no descriptor is left
 * to make it. */
static void owner_nofile(void)
{
    shmipc_session *s = NULL;
    shmipc_obj *o = NULL;
    int fds, rc;

    check(shmipc_connect("limits", "viewer", NULL, &s) == 0, "connected (lend provider)");
    if (!s)
        return;
    fds = open_fds();
    leave_fds(0);
    check_fails(shmipc_obj_new(shmipc_session_arena(s), (size_t)4 << 20, &o), SHMIPC_ESYS,
                "Too many open files",
                "a 4 MiB object (a pool of its own), no descriptor left");
    lift_fds();
    check(open_fds() == fds, "no descriptor leaked (%d, was %d)", open_fds(), fds);
    rc = shmipc_obj_new(shmipc_session_arena(s), (size_t)4 << 20, &o);
    check(rc == 0 && o, "with the limit lifted the object is made (%s)", shmipc_strerror(rc));
    shmipc_obj_unref(o);
    shmipc_session_close(s);
}

/* An owner out of descriptors while its borrower lives: the reaper cannot read the
 * borrower's /proc entry, and must not take it for dead (dropping its loans would free the
 * object under it). */
static void owner_nofile_peer_alive(int provider)
{
    char *hold[] = {"helper_session", "hold", "alive", "viewer", NULL};
    shmipc_server_opts so;
    shmipc_server *srv = NULL;
    shmipc_session *s = NULL;
    shmipc_obj *o = NULL;
    char line[64] = "";
    size_t used;
    FILE *out;
    int out_fd = -1;
    pid_t pid;

    shmipc_server_opts_init(&so);
    so.provider = provider;
    if (shmipc_server_open("alive", &so, &srv) == SHMIPC_ENOTSUP) {
        child_skip("the lend provider: this build has no jemalloc");
        return;
    }
    pid = spawn("helper_session", hold, &out_fd);
    out = out_fd >= 0 ? fdopen(out_fd, "r") : NULL;
    check(srv && shmipc_server_accept(srv, 10000, &s) == 0,
          "a borrower that keeps what it gets");
    check(s && shmipc_obj_new(shmipc_session_arena(s), 100000, &o) == 0 &&
              shmipc_send(s, "have", 4, o) == 0 && out && fgets(line, sizeof line, out) &&
              strncmp(line, "held 1", 6) == 0,
          "it holds an object of ours");
    shmipc_obj_unref(o);
    used = s ? used_of(shmipc_session_arena(s)) : 0;
    leave_fds(0);
    for (int i = 0; i < 30; i++) { /* 300 ms: the reaper looks every 100 ms */
        shmipc_session_poll(s);
        usleep(10000);
    }
    lift_fds();
    check(s && !shmipc_session_closed(s) && used_of(shmipc_session_arena(s)) == used,
          "polled 300 ms without a descriptor to read /proc: the live borrower keeps its "
          "object (%zu bytes used, was %zu)",
          s ? used_of(shmipc_session_arena(s)) : 0, used);
    kill(pid, SIGKILL);
    wait_exit(pid);
    if (out)
        fclose(out);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

static void owner_nofile_peer_alive_shared(void)
{
    owner_nofile_peer_alive(SHMIPC_PROVIDER_SHARED);
}

static void owner_nofile_peer_alive_lend(void)
{
    owner_nofile_peer_alive(SHMIPC_PROVIDER_LEND);
}

/* A server: a client comes when the server has no descriptor to spare for its session. */
static void server_nofile(void)
{
    char *echo[] = {"helper_session", "echo", "nofile", "viewer", NULL};
    shmipc_server *srv = NULL;
    shmipc_session *s = NULL;
    pid_t pid;
    int rc;

    check(shmipc_server_open("nofile", NULL, &srv) == 0, "a server");
    pid = spawn("helper_session", echo, NULL);
    leave_fds(2);
    rc = shmipc_server_accept(srv, 3000, &s);
    check(rc == SHMIPC_ETIMEDOUT && shmipc_server_rejected(srv) >= 1,
          "accept with 2 descriptors to spare: the client's handshake fails, it is skipped "
          "(%s; %lu refused)",
          shmipc_strerror(rc), shmipc_server_rejected(srv));
    check(wait_exit(pid) == 3, "the client is told it could not connect (exit 3)");
    lift_fds();
    pid = spawn("helper_session", echo, NULL);
    check(shmipc_server_accept(srv, 10000, &s) == 0, "with the limit lifted the next client "
                                                     "is accepted");
    check(s && shmipc_send(s, "bye", 3, NULL) == 0 && wait_exit(pid) == 0,
          "and the session works (the client got our bye and left cleanly)");
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* ---- no address space left: RLIMIT_AS --------------------------------------------------- */

/* Limit the address space to what is mapped now plus `more` bytes. */
static void limit_as(size_t more)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f || fscanf(f, "%lu", &pages) != 1)
        check(0, "reading /proc/self/statm");
    if (f)
        fclose(f);
    set_limit(RLIMIT_AS, (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + more);
}

static void as_pools(void)
{
    const char *shm = getenv("SHMIPC_SHM_DIR");
    shmipc_pool *p = NULL;
    shmipc_arena *a = NULL;
    int fds = open_fds(), files = dir_entries(shm);

    limit_as((size_t)64 << 20);
    check_fails(shmipc_pool_create(NULL, (size_t)1 << 30, 0, &p), SHMIPC_ENOMEM, "mmap",
                "a 1 GiB memfd pool with 64 MiB of address space left");
    check_fails(shmipc_arena_open(uname_("as"), (size_t)1 << 30, SHMIPC_SCOPE_NODE, &a),
                SHMIPC_ENOMEM, "mmap", "a 1 GiB named arena");
    check(open_fds() == fds && dir_entries(shm) == files,
          "no descriptor or file left behind (%d fds, was %d; %d files, was %d)", open_fds(),
          fds, dir_entries(shm), files);
    check(shmipc_pool_create(NULL, 1 << 20, 0, &p) == 0 && fill_and_verify(p, 3),
          "a 1 MiB pool is made and written");
    shmipc_pool_close(p);
}

/* A client that cannot map the session's 1 GiB arena (shared provider: it maps it). */
static void as_session(void)
{
    shmipc_session *s = NULL;
    int fds = open_fds(), rc;

    limit_as((size_t)256 << 20);
    check_fails(shmipc_connect("limits", "viewer", NULL, &s), SHMIPC_ENOMEM, "mmap",
                "joining a session whose arena is 1 GiB, with 256 MiB of address space left");
    check(open_fds() == fds, "no descriptor leaked (%d, was %d)", open_fds(), fds);
    lift_limit(RLIMIT_AS);
    check(shmipc_connect("limits", "viewer", NULL, &s) == 0 && request(s, "small", &rc),
          "with the limit lifted it joins, and borrows");
    shmipc_session_close(s);
}

int main(void)
{
    char shm[64];

    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    snprintf(shm, sizeof shm, "/dev/shm/limits-test.XXXXXX");
    if (!mkdtemp(shm))
        return 99;
    setenv("SHMIPC_SHM_DIR", shm, 1);
    run_case("a full shm file system", shm_full, -1, 0);
    run_case("memfds that cannot grow (RLIMIT_FSIZE)", memfd_fsize, -1, 0);
    run_case("a client without descriptors (RLIMIT_NOFILE)", client_nofile,
             SHMIPC_PROVIDER_LEND, 1 << 20);
    run_case("an owner without descriptors for a new pool (RLIMIT_NOFILE)", owner_nofile,
             SHMIPC_PROVIDER_LEND, 1 << 20);
    run_case("a server without descriptors (RLIMIT_NOFILE)", server_nofile, -1, 0);
    run_case("an owner without descriptors, its borrower alive (RLIMIT_NOFILE, shared)",
             owner_nofile_peer_alive_shared, -1, 0);
    run_case("an owner without descriptors, its borrower alive (RLIMIT_NOFILE, lend)",
             owner_nofile_peer_alive_lend, -1, 0);
    if (UNDER_SANITIZER) {
        skip("RLIMIT_AS: the sanitizers reserve more address space than any limit would leave");
    } else {
        run_case("no address space for pools (RLIMIT_AS)", as_pools, -1, 0);
        run_case("no address space to join a session (RLIMIT_AS)", as_session,
                 SHMIPC_PROVIDER_SHARED, (size_t)1 << 30);
    }
    ok(dir_entries(shm) == 0, "nothing left in the shm directory");
    rmdir(shm);
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    return done_testing();
}
