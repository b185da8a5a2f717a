/* Pools: anonymous memfd pools (size, alignment, ids, seals), second handles from an fd
 * (shared bytes, fd ownership, read-only mappings that fault on write), passing a pool to
 * another process over a Unix socket, named pools (file, mode, open, EEXIST, unlink), a
 * creation race between processes, bad arguments, foreign or damaged files, and
 * permissions across users; a session peer's pools must be sealed memfds. Real shared
 * memory and real processes throughout. */
#include "tap.h"
#include "internal.h" /* shmipc__pool_from_peer_fd: what sessions map a peer's pools with */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define KiB ((size_t)1 << 10)

/* ---- helpers ----------------------------------------------------------------------- */

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t round_page(size_t n)
{
    return (n + page_size() - 1) / page_size() * page_size();
}

/* The shm directory as the library picks it. */
static const char *shm_dir(void)
{
    const char *dir = getenv("SHMIPC_SHM_DIR");
    return dir && dir[0] ? dir : "/dev/shm";
}

/* Path of the named pool `name` of the calling user (4 rotating buffers). */
static const char *pool_path(const char *name)
{
    static char buf[4][4096];
    static int next;
    char *b = buf[next++ % 4];

    snprintf(b, sizeof buf[0], "%s/shmipc.%u.%s", shm_dir(), (unsigned)getuid(), name);
    return b;
}

/* Memory shared with forked children, for their reports. */
static void *shared_area(size_t size)
{
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        diag("mmap of a shared area failed: %s", strerror(errno));
        exit(1);
    }
    memset(m, 0, size);
    return m;
}

/* Write a file of our own making where the pool `name` would live. */
static int write_pool_file(const char *name, const void *data, size_t len)
{
    int fd = open(pool_path(name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ssize_t n = 0;

    if (fd < 0)
        return -1;
    if (len)
        n = write(fd, data, len);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

/* Temporary files that process `pid` left in the shm directory while creating pools. */
static int tmp_files_of(pid_t pid)
{
    char mine[64];
    DIR *d = opendir(shm_dir());
    struct dirent *e;
    int n = 0;

    snprintf(mine, sizeof mine, ".shmipc.%u.tmp.%d.", (unsigned)getuid(), (int)pid);
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, mine, strlen(mine)) == 0) {
            diag("temporary file left behind: %s/%s", shm_dir(), e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int exited_ok(int status)
{
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int died_of_segv(int status)
{
    return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* Run in a child: write through a mapping that should be read-only. */
static int write_one_byte(void *arg)
{
    volatile unsigned char *b = arg;

    signal(SIGSEGV, SIG_DFL); /* die of the fault even under a sanitizer */
    b[0] = 0xee;
    return 0; /* reached only if the write went through */
}

/* ---- 1. anonymous pools ------------------------------------------------------------ */

static void test_anonymous(void)
{
    shmipc_pool *p = NULL, *q = NULL;
    const size_t ask = 10000;
    unsigned char *base;
    size_t size, i;
    int fd, seals, rc, good = 1;

    is_rc(shmipc_pool_create(NULL, ask, 0, &p), 0, "anonymous pool of %zu bytes", ask);
    if (!p)
        return;
    base = shmipc_pool_base(p);
    size = shmipc_pool_size(p);
    fd = shmipc_pool_fd(p);
    ok(base && (uintptr_t)base % page_size() == 0, "base %p is page-aligned", (void *)base);
    ok(size >= ask && size == round_page(ask), "size %zu is %zu rounded up to the page", size,
       ask);
    for (i = 0; i < size; i++)
        base[i] = (unsigned char)(i * 7);
    for (i = 0; i < size; i++)
        good &= base[i] == (unsigned char)(i * 7);
    ok(good, "every usable byte is writable and keeps its value");
    ok(shmipc_pool_id(p) != 0, "pool id %016llx is nonzero",
       (unsigned long long)shmipc_pool_id(p));
    ok(fd >= 0 && shmipc_pool_writable(p) == 1, "fd %d, writable", fd);

    /* The memfd is sealed: nobody holding the fd can resize it under a mapping. */
    errno = 0;
    rc = ftruncate(fd, 4096);
    ok(rc != 0 && errno == EPERM, "ftruncate to a smaller size fails (%s)", strerror(errno));
    errno = 0;
    rc = ftruncate(fd, (off_t)(64 * KiB + size));
    ok(rc != 0 && errno == EPERM, "ftruncate to a larger size fails (%s)", strerror(errno));
    seals = fcntl(fd, F_GET_SEALS);
    ok(seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW),
       "seals 0x%x hold F_SEAL_SHRINK|F_SEAL_GROW", seals);
    ok(base[size - 1] == (unsigned char)((size - 1) * 7),
       "the last byte survives the attempts");

    is_rc(shmipc_pool_create(NULL, 1, 0, &q), 0, "a second anonymous pool, of 1 byte");
    if (q) {
        ok(shmipc_pool_size(q) == page_size(), "1 byte rounds up to one page (%zu)",
           shmipc_pool_size(q));
        ok(shmipc_pool_id(q) != shmipc_pool_id(p) && shmipc_pool_fd(q) != fd &&
               shmipc_pool_base(q) != (void *)base,
           "the two pools have different ids, fds and memory");
        shmipc_pool_close(q);
    }
    shmipc_pool_close(p);
    shmipc_pool_close(NULL); /* a no-op */
}

/* ---- 2. second handles from an fd -------------------------------------------------- */

static void test_from_fd(void)
{
    shmipc_pool *p = NULL, *q = NULL, *r = NULL;
    unsigned char *a, *b, *c;
    int mine;

    if (!SETUP(shmipc_pool_create(NULL, 64 * KiB, 0, &p) == 0, "pool for from_fd"))
        return;
    a = shmipc_pool_base(p);
    mine = dup(shmipc_pool_fd(p));
    is_rc(shmipc_pool_from_fd(mine, 0, &q), 0, "a second handle from the fd");
    if (!q) {
        close(mine);
        shmipc_pool_close(p);
        return;
    }
    b = shmipc_pool_base(q);
    ok(shmipc_pool_id(q) == shmipc_pool_id(p) && shmipc_pool_size(q) == shmipc_pool_size(p),
       "same id and size");
    ok(b != a && shmipc_pool_fd(q) != mine && shmipc_pool_fd(q) >= 0,
       "mapped at another address (%p vs %p), with its own fd", (void *)b, (void *)a);
    strcpy((char *)a, "through the first");
    b[60 * KiB] = 0x42;
    ok(strcmp((char *)b, "through the first") == 0 && a[60 * KiB] == 0x42,
       "bytes written through one handle are read through the other, both ways");

    /* Read-only handle: readable, not writable; a write faults. */
    is_rc(shmipc_pool_from_fd(mine, SHMIPC_RDONLY, &r), 0, "a read-only handle from the fd");
    if (r) {
        c = shmipc_pool_base(r);
        ok(shmipc_pool_writable(r) == 0 && shmipc_pool_writable(q) == 1,
           "writable: 0 for the read-only handle, 1 for the other");
        ok(shmipc_pool_id(r) == shmipc_pool_id(p) &&
               strcmp((char *)c, "through the first") == 0,
           "the read-only handle sees the same pool and bytes");
        ok(died_of_segv(run_child(write_one_byte, c)),
           "a child writing through the read-only mapping dies of SIGSEGV");
        a[0] = 'T';
        ok(c[0] == 'T' && c[1] == 'h', "the parent is fine and still reads through it");
        shmipc_pool_close(r);
    }

    /* Closing handles closes their own fds only. */
    shmipc_pool_close(q);
    ok(fcntl(mine, F_GETFD) != -1, "closing the handle left the caller's fd open");
    shmipc_pool_close(p);
    q = NULL;
    is_rc(shmipc_pool_from_fd(mine, 0, &q), 0, "the caller's fd alone still holds the pool");
    ok(q && strcmp((char *)shmipc_pool_base(q), "Through the first") == 0,
       "with its bytes, after every other handle closed");
    shmipc_pool_close(q);
    close(mine);
}

/* ---- 3. another process, the pool passed over a Unix socket ------------------------ */

static int send_fd(int sock, int fd)
{
    char byte = 'P';
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {0};
    struct cmsghdr *cm;

    memset(&u, 0, sizeof u);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {0};
    struct cmsghdr *cm;
    int fd = -1;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    if (recvmsg(sock, &msg, 0) != 1)
        return -1;
    cm = CMSG_FIRSTHDR(&msg);
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

struct peer_report {
    int rc;
    int writable;
    uint64_t id;
    size_t size;
    int saw_question;
};

struct peer_arg {
    int sock;
    struct peer_report *rep;
};

/* The child was forked before the pool existed: it can only get it through the socket. */
static int peer_child(struct peer_arg *pa)
{
    shmipc_pool *p = NULL;
    char *base;
    int fd = recv_fd(pa->sock);

    if (fd < 0)
        return 2;
    pa->rep->rc = shmipc_pool_from_fd(fd, 0, &p);
    close(fd);
    if (pa->rep->rc != 0)
        return 3;
    base = shmipc_pool_base(p);
    pa->rep->id = shmipc_pool_id(p);
    pa->rep->size = shmipc_pool_size(p);
    pa->rep->writable = shmipc_pool_writable(p);
    pa->rep->saw_question = strcmp(base, "what is six times seven?") == 0;
    snprintf(base + 4096, 64, "%d from pid %d", 6 * 7, (int)getpid());
    shmipc_pool_close(p);
    return 0;
}

static void test_other_process(void)
{
    struct peer_report *rep = shared_area(sizeof *rep);
    struct peer_arg pa;
    shmipc_pool *p = NULL;
    int sv[2], status = -1;
    pid_t pid;
    char want[64];

    if (!SETUP(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair"))
        return;
    pa.sock = sv[1];
    pa.rep = rep;
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(peer_child(&pa));
    }
    close(sv[1]);
    is_rc(shmipc_pool_create(NULL, 16 * KiB, 0, &p), 0, "a pool made after the child forked");
    if (p) {
        strcpy(shmipc_pool_base(p), "what is six times seven?");
        SETUP(send_fd(sv[0], shmipc_pool_fd(p)) == 0, "sending the fd over SCM_RIGHTS");
    }
    close(sv[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    ok(exited_ok(status), "the child exited cleanly (status 0x%x)", (unsigned)status);
    if (!p)
        return;
    is_rc(rep->rc, 0, "the child mapped the pool from the fd it received");
    ok(rep->id == shmipc_pool_id(p) && rep->size == shmipc_pool_size(p) && rep->writable == 1,
       "the child saw the same id and size, writable");
    ok(rep->saw_question, "the child read the parent's data");
    snprintf(want, sizeof want, "42 from pid %d", (int)pid);
    ok(strcmp((char *)shmipc_pool_base(p) + 4096, want) == 0,
       "the parent reads the child's answer: '%s'", (char *)shmipc_pool_base(p) + 4096);
    shmipc_pool_close(p);
    munmap(rep, sizeof *rep);
}

/* ---- 4. named pools ---------------------------------------------------------------- */

static void test_named(void)
{
    const char *name = uname_("p"), *name640 = uname_("p640");
    const char *path = pool_path(name), *path640 = pool_path(name640);
    shmipc_pool *p = NULL, *q = NULL, *r = NULL, *f = NULL, *again = NULL, *none = NULL;
    char *base;
    mode_t old;

    is_rc(shmipc_pool_create(name, 32 * KiB, 0, &p), 0, "create named pool '%s'", name);
    if (!p)
        return;
    base = shmipc_pool_base(p);
    ok(mode_of(path) == 0600, "file %s exists with mode 0600 (%o)", path, mode_of(path));
    ok(shmipc_pool_size(p) == 32 * KiB && shmipc_pool_writable(p) == 1,
       "named pool: 32 KiB, writable");
    strcpy(base, "named hello");
    base[32 * KiB - 1] = 'Z';

    is_rc(shmipc_pool_open(name, 0, &q), 0, "open it by name");
    if (q) {
        char *qb = shmipc_pool_base(q);
        ok(shmipc_pool_id(q) == shmipc_pool_id(p) && shmipc_pool_size(q) == 32 * KiB &&
               strcmp(qb, "named hello") == 0 && qb[32 * KiB - 1] == 'Z',
           "same id, size and bytes");
        qb[100] = 'q';
        ok(base[100] == 'q', "a write through the opened handle shows in the creator's");
    }
    is_rc(shmipc_pool_open(name, SHMIPC_RDONLY, &r), 0, "open it read-only");
    if (r) {
        ok(shmipc_pool_writable(r) == 0 && shmipc_pool_id(r) == shmipc_pool_id(p) &&
               strcmp(shmipc_pool_base(r), "named hello") == 0,
           "read-only handle: writable 0, same id and bytes");
        ok(died_of_segv(run_child(write_one_byte, shmipc_pool_base(r))),
           "writing through it kills a child with SIGSEGV");
    }
    is_rc(shmipc_pool_from_fd(shmipc_pool_fd(p), 0, &f), 0,
          "from_fd on a named pool's fd (a file with a name is trusted unsealed)");
    ok(f && shmipc_pool_id(f) == shmipc_pool_id(p), "same id");
    shmipc_pool_close(f);
    f = NULL;
    is_rc(shmipc__pool_from_peer_fd(shmipc_pool_fd(p), 0, &f), SHMIPC_EPERM,
          "but not from a session's peer: it could truncate the file under us (SIGBUS)");
    ok(f == NULL && strstr(shmipc_error_detail(), "not a memfd sealed") != NULL,
       "no handle; the detail says why: %s", shmipc_error_detail());

    is_rc(shmipc_pool_create(name, 8 * KiB, 0, &none), SHMIPC_EEXIST,
          "creating the same name again: EEXIST");
    ok(none == NULL && tmp_files_of(getpid()) == 0,
       "no handle and no temporary file left by the failed create");
    is_rc(shmipc_pool_open(name, 0, &again), 0, "the original still opens");
    ok(again && shmipc_pool_id(again) == shmipc_pool_id(p) &&
           shmipc_pool_size(again) == 32 * KiB &&
           strcmp(shmipc_pool_base(again), "named hello") == 0 && mode_of(path) == 0600,
       "the original is intact: same id, size, bytes and mode");
    shmipc_pool_close(again);

    is_rc(shmipc_pool_unlink(name), 0, "unlink");
    ok(!exists(path), "the file is gone");
    is_rc(shmipc_pool_open(name, 0, &none), SHMIPC_ENOENT, "open after unlink: ENOENT");
    is_rc(shmipc_pool_unlink(name), SHMIPC_ENOENT, "unlink again: ENOENT");
    strcpy(base + 200, "after unlink");
    ok(q && strcmp((char *)shmipc_pool_base(q) + 200, "after unlink") == 0 && r &&
           strcmp((char *)shmipc_pool_base(r) + 200, "after unlink") == 0,
       "existing mappings stay valid and shared after unlink");
    shmipc_pool_close(r);
    shmipc_pool_close(q);
    shmipc_pool_close(p);

    /* An explicit mode is applied exactly, whatever the umask. */
    old = umask(077);
    p = NULL;
    is_rc(shmipc_pool_create(name640, 4 * KiB, 0640, &p), 0,
          "create with mode 0640 under "
          "umask 077");
    umask(old);
    ok(mode_of(path640) == 0640, "file mode is 0640 (%o)", mode_of(path640));
    shmipc_pool_close(p);
    ok(exists(path640), "closing a named pool leaves its file");
    is_rc(shmipc_pool_unlink(name640), 0, "unlink the 0640 pool");
}

/* ---- 5. a creation race -------------------------------------------------------------- */

#define RACERS 8
#define WATCHERS 4
#define ROUNDS 5

struct race_slot {
    int create_rc;
    int open_rc;
    uint64_t id; /* the id this process saw (created or opened) */
    int open_tries;
};

struct race {
    const char *name;
    int go; /* read end of the start pipe */
    struct race_slot slot[RACERS + WATCHERS];
};

/* Block until the parent closes the start pipe's write end: all start together. */
static void wait_start(int fd)
{
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
}

static int racer(struct race *rc, int i)
{
    struct race_slot *s = &rc->slot[i];
    shmipc_pool *p = NULL;

    wait_start(rc->go);
    s->create_rc = shmipc_pool_create(rc->name, 16 * KiB, 0, &p);
    if (s->create_rc == 0) {
        s->id = shmipc_pool_id(p);
        ((char *)shmipc_pool_base(p))[0] = 'W';
        shmipc_pool_close(p);
        return 0;
    }
    s->open_rc = shmipc_pool_open(rc->name, 0, &p);
    if (s->open_rc == 0) {
        s->id = shmipc_pool_id(p);
        shmipc_pool_close(p);
    }
    return 0;
}

/* Opens the name from the moment the race starts until it exists: it must never catch the
 * pool half made. */
static int watcher(struct race *rc, int i)
{
    struct race_slot *s = &rc->slot[i];
    struct timespec t0, now;
    shmipc_pool *p = NULL;

    wait_start(rc->go);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        s->open_tries++;
        s->open_rc = shmipc_pool_open(rc->name, SHMIPC_RDONLY, &p);
        if (s->open_rc != SHMIPC_ENOENT)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > 10)
            return 1;
    }
    if (s->open_rc == 0) {
        s->id = shmipc_pool_id(p);
        shmipc_pool_close(p);
    }
    return 0;
}

static void test_race(void)
{
    struct race *rc = shared_area(sizeof *rc);
    int all_exited = 1, one_winner = 1, losers_eexist = 1, openers_ok = 1, ids_agree = 1;
    int no_tmp = 1, parent_agrees = 1, unlinked = 1;
    long tries = 0;

    for (int round = 0; round < ROUNDS; round++) {
        pid_t pids[RACERS + WATCHERS];
        int pipefd[2], winners = 0, status;
        uint64_t win_id = 0;
        char what[32];
        shmipc_pool *p = NULL;

        snprintf(what, sizeof what, "race%d", round);
        memset(rc, 0, sizeof *rc);
        rc->name = uname_(what);
        if (!SETUP(pipe(pipefd) == 0, "start pipe"))
            return;
        rc->go = pipefd[0];
        for (int i = 0; i < RACERS + WATCHERS; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                close(pipefd[1]);
                _exit(i < RACERS ? racer(rc, i) : watcher(rc, i));
            }
        }
        close(pipefd[0]);
        close(pipefd[1]); /* go */
        for (int i = 0; i < RACERS + WATCHERS; i++)
            if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i] || !exited_ok(status))
                all_exited = 0;
        for (int i = 0; i < RACERS; i++) {
            if (rc->slot[i].create_rc == 0) {
                winners++;
                win_id = rc->slot[i].id;
            } else if (rc->slot[i].create_rc != SHMIPC_EEXIST) {
                diag("round %d racer %d: create gave %d", round, i, rc->slot[i].create_rc);
                losers_eexist = 0;
            }
        }
        if (winners != 1) {
            diag("round %d: %d winners", round, winners);
            one_winner = 0;
        }
        for (int i = 0; i < RACERS + WATCHERS; i++) {
            struct race_slot *s = &rc->slot[i];
            if (i < RACERS && s->create_rc == 0)
                continue;
            if (s->open_rc != 0) {
                diag("round %d process %d: open gave %d (%s)", round, i, s->open_rc,
                     shmipc_strerror(s->open_rc));
                openers_ok = 0;
            } else if (s->id != win_id || win_id == 0) {
                ids_agree = 0;
            }
            tries += s->open_tries;
        }
        for (int i = 0; i < RACERS; i++)
            if (pids[i] > 0 && tmp_files_of(pids[i]) != 0)
                no_tmp = 0;
        if (shmipc_pool_open(rc->name, 0, &p) != 0 || shmipc_pool_id(p) != win_id ||
            ((char *)shmipc_pool_base(p))[0] != 'W')
            parent_agrees = 0;
        shmipc_pool_close(p);
        if (shmipc_pool_unlink(rc->name) != 0)
            unlinked = 0;
    }
    ok(all_exited, "%d rounds of %d creators and %d watchers: all exited cleanly", ROUNDS,
       RACERS, WATCHERS);
    ok(one_winner, "exactly one creator won each round");
    ok(losers_eexist, "every other creator got EEXIST");
    ok(openers_ok, "every loser and every watcher then opened the pool (rc 0, never a "
                   "half-made pool)");
    ok(ids_agree, "all of them saw the winner's pool id");
    diag("watchers tried %ld opens in all", tries);
    ok(no_tmp, "no creator left a temporary file");
    ok(parent_agrees && unlinked, "the parent opens the winner's pool, sees its marker and "
                                  "unlinks it");
    munmap(rc, sizeof *rc);
}

/* ---- 6. bad arguments ---------------------------------------------------------------- */

/* Exit status 0 if creating `arg` (a name, or NULL: anonymous) with out NULL is EINVAL. */
static int create_null_out(void *arg)
{
    return shmipc_pool_create(arg, 4096, 0, NULL) == SHMIPC_EINVAL ? 0 : 1;
}

static void test_bad_input(void)
{
    shmipc_pool *p = NULL, *anon = NULL;
    char longest[SHMIPC_NAME_MAX + 2], dotted[64], nullout[64];
    const char *prefix = uname_("");
    int status;

    is_rc(shmipc_pool_create(NULL, 0, 0, &p), SHMIPC_EINVAL, "size 0: EINVAL");
    is_rc(shmipc_pool_create(NULL, SIZE_MAX, 0, &p), SHMIPC_EINVAL, "size SIZE_MAX: EINVAL");
    is_rc(shmipc_pool_create(NULL, SHMIPC_POOL_MAX + 1, 0, &p), SHMIPC_EINVAL,
          "size SHMIPC_POOL_MAX + 1: EINVAL");
    is_rc(shmipc_pool_create(uname_("huge"), SIZE_MAX, 0, &p), SHMIPC_EINVAL,
          "named, size SIZE_MAX: EINVAL");

    /* In a child: a library that writes through out must not take the test down. */
    status = run_child(create_null_out, NULL);
    ok(exited_ok(status), "create, out NULL: EINVAL (child status 0x%x)", (unsigned)status);
    snprintf(nullout, sizeof nullout, "%s", uname_("nullout"));
    status = run_child(create_null_out, nullout);
    ok(exited_ok(status) && !exists(pool_path(nullout)),
       "named create, out NULL: EINVAL and no file (child status 0x%x)", (unsigned)status);
    if (exists(pool_path(nullout)))
        unlink(pool_path(nullout));

    is_rc(shmipc_pool_create("", 4096, 0, &p), SHMIPC_EINVAL, "name '': EINVAL");
    memset(longest, 'x', sizeof longest);
    memcpy(longest, prefix, strlen(prefix));
    longest[SHMIPC_NAME_MAX + 1] = '\0';
    is_rc(shmipc_pool_create(longest, 4096, 0, &p), SHMIPC_EINVAL,
          "name of SHMIPC_NAME_MAX + 1 chars: EINVAL");
    is_rc(shmipc_pool_create(uname_("a/b"), 4096, 0, &p), SHMIPC_EINVAL, "name 'a/b': EINVAL");
    snprintf(dotted, sizeof dotted, ".%s", uname_("hidden"));
    is_rc(shmipc_pool_create(dotted, 4096, 0, &p), SHMIPC_EINVAL, "name '.hidden': EINVAL");
    is_rc(shmipc_pool_create(uname_("sp ace"), 4096, 0, &p), SHMIPC_EINVAL,
          "name 'sp ace': EINVAL");
    is_rc(shmipc_pool_open("a/b", 0, &p), SHMIPC_EINVAL, "open 'a/b': EINVAL");
    is_rc(shmipc_pool_unlink("../x"), SHMIPC_EINVAL, "unlink '../x': EINVAL");
    longest[SHMIPC_NAME_MAX] = '\0';
    is_rc(shmipc_pool_create(longest, 4096, 0, &p), 0,
          "a name of exactly SHMIPC_NAME_MAX chars works");
    shmipc_pool_close(p);
    p = NULL;
    is_rc(shmipc_pool_unlink(longest), 0, "and unlinks");

    is_rc(shmipc_pool_create(uname_("mode"), 4096, 01777, &p), SHMIPC_EINVAL,
          "mode 01777: EINVAL");
    ok(!exists(pool_path(uname_("mode"))), "no file made for the refused mode");
    is_rc(shmipc_pool_open(uname_("missing"), 0, &p), SHMIPC_ENOENT, "open missing: ENOENT");
    is_rc(shmipc_pool_open(uname_("missing"), 0x100, &p), SHMIPC_EINVAL,
          "open, flags 0x100: EINVAL");
    is_rc(shmipc_pool_open(uname_("missing"), 0, NULL), SHMIPC_EINVAL,
          "open, out NULL: EINVAL");
    if (SETUP(shmipc_pool_create(NULL, 4096, 0, &anon) == 0, "a pool for the fd checks")) {
        is_rc(shmipc_pool_from_fd(shmipc_pool_fd(anon), 0x100, &p), SHMIPC_EINVAL,
              "from_fd, flags 0x100: EINVAL");
        is_rc(shmipc_pool_from_fd(shmipc_pool_fd(anon), 0, NULL), SHMIPC_EINVAL,
              "from_fd, out NULL: EINVAL");
        shmipc_pool_close(anon);
    }
    is_rc(shmipc_pool_from_fd(-1, 0, &p), SHMIPC_EINVAL, "from_fd(-1): EINVAL");
    ok(p == NULL, "no failed call handed out a pool");
}

/* ---- 7. foreign and damaged files ------------------------------------------------------ */

static void test_damaged(void)
{
    const char *empty = uname_("empty"), *text = uname_("text"), *rnd = uname_("random");
    const char *trunc = uname_("trunc"), *abi = uname_("abi"), *link_ = uname_("link");
    static unsigned char noise[64 * KiB], back[64 * KiB];
    const char *words = "This is a text file, not a shmipc pool. It has about one hundred "
                        "bytes in it, no header at all.\n";
    shmipc_pool *p = NULL, *src = NULL;
    uint32_t ninety_nine = 99;
    int fd, rc;

    srand((unsigned)getpid());
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)rand();
    if (SETUP(write_pool_file(empty, "", 0) == 0 &&
                  write_pool_file(text, words, strlen(words)) == 0 &&
                  write_pool_file(rnd, noise, sizeof noise) == 0,
              "writing foreign files")) {
        is_rc(shmipc_pool_open(empty, 0, &p), SHMIPC_ECORRUPT, "empty file: ECORRUPT");
        is_rc(shmipc_pool_open(text, 0, &p), SHMIPC_ECORRUPT, "100-byte text file: ECORRUPT");
        is_rc(shmipc_pool_open(rnd, 0, &p), SHMIPC_ECORRUPT,
              "64 KiB of random bytes: ECORRUPT");
        is_rc(shmipc_pool_open(rnd, SHMIPC_RDONLY, &p), SHMIPC_ECORRUPT,
              "the same, read-only: ECORRUPT");
        fd = open(pool_path(rnd), O_RDONLY | O_CLOEXEC);
        ok(fd >= 0 && read(fd, back, sizeof back) == (ssize_t)sizeof back &&
               memcmp(back, noise, sizeof noise) == 0,
           "the foreign file is left as it was");
        if (fd >= 0)
            close(fd);
    }
    unlink(pool_path(empty));
    unlink(pool_path(text));
    unlink(pool_path(rnd));

    /* A real pool, then truncated or grown behind the library's back. */
    if (SETUP(shmipc_pool_create(trunc, 64 * KiB, 0, &p) == 0, "a pool to truncate")) {
        shmipc_pool_close(p);
        p = NULL;
        SETUP(truncate(pool_path(trunc), (off_t)(4 * KiB + 16 * KiB)) == 0, "truncate");
        is_rc(shmipc_pool_open(trunc, 0, &p), SHMIPC_ECORRUPT, "truncated pool: ECORRUPT");
        SETUP(truncate(pool_path(trunc), (off_t)(4 * KiB + 128 * KiB)) == 0, "grow");
        is_rc(shmipc_pool_open(trunc, 0, &p), SHMIPC_ECORRUPT, "grown pool: ECORRUPT");
        SETUP(truncate(pool_path(trunc), 4 * KiB) == 0, "truncate to the header");
        is_rc(shmipc_pool_open(trunc, 0, &p), SHMIPC_ECORRUPT, "header page only: ECORRUPT");
        shmipc_pool_unlink(trunc);
    }

    /* A real pool from another ABI version. */
    if (SETUP(shmipc_pool_create(abi, 8 * KiB, 0, &p) == 0, "a pool to relabel")) {
        shmipc_pool_close(p);
        p = NULL;
        fd = open(pool_path(abi), O_RDWR | O_CLOEXEC);
        SETUP(fd >= 0 && pwrite(fd, &ninety_nine, sizeof ninety_nine, 8) == sizeof ninety_nine,
              "writing ABI 99 at offset 8");
        if (fd >= 0)
            close(fd);
        is_rc(shmipc_pool_open(abi, 0, &p), SHMIPC_EPROTO, "header ABI 99: EPROTO");

        /* A symlink planted at a pool's path is not followed. */
        if (SETUP(symlink(pool_path(abi), pool_path(link_)) == 0, "planting a symlink")) {
            rc = shmipc_pool_open(link_, 0, &p);
            ok(rc < 0 && p == NULL, "open through a symlink at the pool path fails (%s)",
               shmipc_strerror(rc));
            unlink(pool_path(link_));
        }
        shmipc_pool_unlink(abi);
    }

    /* An unsealed memfd holding a valid pool image is refused until sealed. */
    if (SETUP(shmipc_pool_create(NULL, page_size(), 0, &src) == 0, "a pool to copy")) {
        size_t len = 4 * KiB + shmipc_pool_size(src);
        unsigned char *image = malloc(len);
        int mfd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

        if (SETUP(image && mfd >= 0 &&
                      pread(shmipc_pool_fd(src), image, len, 0) == (ssize_t)len &&
                      write(mfd, image, len) == (ssize_t)len,
                  "copying a pool image into a fresh memfd")) {
            is_rc(shmipc_pool_from_fd(mfd, 0, &p), SHMIPC_EPERM,
                  "unsealed memfd with a valid pool image: EPERM");
            is_rc(shmipc_pool_from_fd(mfd, SHMIPC_RDONLY, &p), SHMIPC_EPERM,
                  "the same, read-only: EPERM");
            SETUP(fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0, "sealing the memfd");
            is_rc(shmipc_pool_from_fd(mfd, 0, &p), 0, "once sealed against shrinking it maps");
            ok(p && shmipc_pool_id(p) == shmipc_pool_id(src), "with the copied pool's id");
            shmipc_pool_close(p);
            p = NULL;
        }
        if (mfd >= 0)
            close(mfd);
        free(image);
        shmipc_pool_close(src);
    }
    fd = memfd_create("tiny", MFD_CLOEXEC);
    if (SETUP(fd >= 0 && ftruncate(fd, 100) == 0, "an unsealed 100-byte memfd")) {
        rc = shmipc_pool_from_fd(fd, 0, &p);
        ok(rc == SHMIPC_EPERM || rc == SHMIPC_ECORRUPT,
           "an unsealed 100-byte memfd is "
           "refused: %s",
           shmipc_strerror(rc));
    }
    if (fd >= 0)
        close(fd);
    ok(!exists(pool_path(empty)) && !exists(pool_path(text)) && !exists(pool_path(rnd)) &&
           !exists(pool_path(trunc)) && !exists(pool_path(abi)) && !exists(pool_path(link_)),
       "every file made here is removed");
}

/* ---- 8. permissions across users ------------------------------------------------------- */

struct perm_report {
    int setuid_ok;
    int errno_rdonly, errno_rdwr; /* opening the 0600 pool's file by path */
    int own_ns_rc;                /* shmipc_pool_open of the same name as the other user */
    int shared_fd_rc;             /* the 0644 pool's file opened by path, then from_fd */
    uint64_t shared_id;
    int shared_writable;
    int shared_rw_rc; /* from_fd read-write on the read-only fd */
};

struct perm_arg {
    const char *private_path, *shared_path, *name;
    struct perm_report *rep;
};

static int other_user(void *arg)
{
    struct perm_arg *pa = arg;
    struct perm_report *rep = pa->rep;
    shmipc_pool *p = NULL;
    int fd;

    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
        return 1;
    rep->setuid_ok = getuid() == 65534 && geteuid() == 65534;
    fd = open(pa->private_path, O_RDONLY | O_CLOEXEC);
    rep->errno_rdonly = fd < 0 ? errno : 0;
    fd = open(pa->private_path, O_RDWR | O_CLOEXEC);
    rep->errno_rdwr = fd < 0 ? errno : 0;
    rep->own_ns_rc = shmipc_pool_open(pa->name, SHMIPC_RDONLY, &p);
    shmipc_pool_close(p);
    p = NULL;
    fd = open(pa->shared_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rep->shared_fd_rc = 1;
        return 0;
    }
    rep->shared_fd_rc = shmipc_pool_from_fd(fd, SHMIPC_RDONLY, &p);
    if (p) {
        rep->shared_id = shmipc_pool_id(p);
        rep->shared_writable = shmipc_pool_writable(p);
        shmipc_pool_close(p);
        p = NULL;
    }
    rep->shared_rw_rc = shmipc_pool_from_fd(fd, 0, &p);
    shmipc_pool_close(p);
    close(fd);
    return 0;
}

static void test_permissions(void)
{
    const char *priv = uname_("private"), *shared = uname_("shared");
    shmipc_pool *p = NULL, *s = NULL, *q = NULL;

    if (!SETUP(shmipc_pool_create(priv, 4 * KiB, 0, &p) == 0, "a private (0600) pool"))
        return;
    if (getuid() == 0 &&
        SETUP(shmipc_pool_create(shared, 4 * KiB, 0644, &s) == 0, "a 0644 pool")) {
        struct perm_report *rep = shared_area(sizeof *rep);
        struct perm_arg pa = {pool_path(priv), pool_path(shared), priv, rep};
        int status = run_child(other_user, &pa);

        ok(exited_ok(status) && rep->setuid_ok, "a child switched to uid 65534");
        ok(rep->errno_rdonly == EACCES && rep->errno_rdwr == EACCES,
           "it cannot open the 0600 pool's file, read-only or read-write (%s, %s)",
           strerror(rep->errno_rdonly), strerror(rep->errno_rdwr));
        is_rc(rep->own_ns_rc, SHMIPC_ENOENT,
              "the same name opens nothing in its own per-uid namespace");
        is_rc(rep->shared_fd_rc, 0, "it maps the 0644 pool read-only from the file's fd");
        ok(rep->shared_id == shmipc_pool_id(s) && rep->shared_writable == 0,
           "the same pool, read-only");
        is_rc(rep->shared_rw_rc, SHMIPC_EPERM, "a writable mapping of that fd: EPERM");
        munmap(rep, sizeof *rep);
        shmipc_pool_close(s);
        shmipc_pool_unlink(shared);
    } else if (getuid() != 0) {
        SETUP(chmod(pool_path(priv), 0400) == 0, "making the pool file read-only");
        is_rc(shmipc_pool_open(priv, 0, &q), SHMIPC_EPERM,
              "a 0400 pool: open read-write "
              "is EPERM");
        is_rc(shmipc_pool_open(priv, SHMIPC_RDONLY, &q), 0, "open read-only works");
        shmipc_pool_close(q);
        diag("SKIP cross-user checks: switching users needs root");
    }
    shmipc_pool_close(p);
    shmipc_pool_unlink(priv);
}

/* Make getrandom fail with ENOSYS in this process (a seccomp filter). 0 if installed. */
static int deny_getrandom(void)
{
#if defined(__x86_64__)
    const unsigned arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    const unsigned arch = AUDIT_ARCH_AARCH64;
#else
    const unsigned arch = 0;
#endif
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};

    if (!arch || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : -1;
}

/* In a process where getrandom fails: no pool is made with a guessable id. */
static int without_randomness(void *arg)
{
    shmipc_pool *p = NULL;
    int rc;

    (void)arg;
    if (deny_getrandom() != 0)
        return 77;
    rc = shmipc_pool_create(NULL, 4096, 0, &p);
    if (rc != SHMIPC_ESYS || !strstr(shmipc_error_detail(), "getrandom")) {
        printf("# anonymous pool: rc %d, detail '%s'\n", rc, shmipc_error_detail());
        return 1;
    }
    rc = shmipc_pool_create(uname_("norandom"), 4096, 0, &p);
    if (rc != SHMIPC_ESYS || !strstr(shmipc_error_detail(), "getrandom")) {
        printf("# named pool: rc %d, detail '%s'\n", rc, shmipc_error_detail());
        if (rc == 0)
            shmipc_pool_unlink(uname_("norandom"));
        return 1;
    }
    return 0;
}

static void test_no_randomness(void)
{
    int status;

    fflush(stdout);
    status = run_child(without_randomness, NULL);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        skip("no seccomp filter could be installed to make getrandom fail");
        return;
    }
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "getrandom failing: pool creation says SHMIPC_ESYS with a detail, no weaker id");
}

int main(void)
{
    test_anonymous();
    test_no_randomness();
    test_from_fd();
    test_other_process();
    test_named();
    test_race();
    test_bad_input();
    test_damaged();
    test_permissions();
    ok(shm_leftovers() == 0 && tmp_files_of(getpid()) == 0,
       "nothing left in the shm directory");
    return done_testing();
}
