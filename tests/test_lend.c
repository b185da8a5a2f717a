/* The lend provider (jemalloc arenas over memfd pools, borrowers read-only):
 *   - every pointer the arena hands out lies in one of its pools, with two threads and the
 *     process's own malloc churning at the same time (the tcache trap);
 *   - a borrower in another process can read but not write: a write faults, mprotect
 *     fails, and neither its own fd nor a reopen of /proc/<pid>/fd/N maps writable;
 *   - the arena grows past its first pool, and a peer reads objects from every pool;
 *   - a peer's report of a release it does not hold is refused and counted;
 *   - releases beyond what the release ring holds reach the owner all the same;
 *   - a borrower's set of claimed loans stays sized for the loans that live, however many
 *     come and go (the owner reuses the same record offsets);
 *   - freeing a 1 GiB object gives its memory back: used and the owner's resident shared
 *     memory drop, and no process maps or holds its pool any more.
 * Lend-provider sessions also run every test of test_session and test_session_procs. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "channel.h"
#include "lend.h"
#include "object.h"
#include "helper_session.h"
#include "session_util.h"

#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

static shmipc_server *lend_server(const char *name, size_t pool_size)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.provider = SHMIPC_PROVIDER_LEND;
    o.session_arena_size = pool_size;
    if (shmipc_server_open(name, &o, &srv) != 0)
        diag("server_open: %s", shmipc_error_detail());
    return srv;
}

/* ---- pointers stay in the pools ------------------------------------------------------- */

struct churn {
    shmipc_arena *a;
    long pairs, outside;
};

static void *churn(void *arg)
{
    struct churn *c = arg;
    void *slot[64] = {0};

    for (long i = 0; i < c->pairs; i++) {
        uint64_t r = rnd();
        unsigned k = (unsigned)(r & 63);
        void *mine;
        shmipc_free(c->a, slot[k]);
        slot[k] = shmipc_alloc(c->a, 16 + (size_t)(r >> 8) % 4097);
        c->outside += !slot[k] || !shmipc__lend_owns(c->a, slot[k]);
        mine = malloc(16 + (size_t)(r >> 20) % 4097); /* the process's own heap, meanwhile */
        free(mine);
    }
    for (unsigned k = 0; k < 64; k++)
        shmipc_free(c->a, slot[k]);
    return NULL;
}

static void test_pointers_in_pools(void)
{
    shmipc_arena *a;
    struct churn c1, c2;
    pthread_t t;
    struct shmipc_arena_stats base, after;
    int x;

    is_rc(shmipc__lend_arena_create(16 * MiB, &a), 0, "a lend arena");
    base = stats_of(a);
    c1 = (struct churn){a, 1000000, 0};
    c2 = c1;
    pthread_create(&t, NULL, churn, &c2);
    churn(&c1);
    pthread_join(t, NULL);
    ok(c1.outside == 0 && c2.outside == 0,
       "2 x 1M alloc+free pairs of 16..4112 B on two "
       "threads, with malloc churning too: every pointer in a pool (%ld, %ld outside)",
       c1.outside, c2.outside);
    after = stats_of(a);
    ok(after.allocations == base.allocations, "no allocation left behind (%zu, was %zu)",
       after.allocations, base.allocations);
    shmipc_free(a, &x);
    ok(stats_of(a).allocations == base.allocations, "a foreign pointer is refused, not freed");
    is_rc(shmipc_named_alloc(a, "n", 8, (void **)&c1), SHMIPC_ENOTSUP,
          "named allocations are the shared provider's");
    is_rc(shmipc_arena_check(a), 0, "the arena's table is consistent");
    shmipc_arena_close(a);
}

/* ---- read-only borrowers -------------------------------------------------------------- */

/* The descriptor this process holds for the file mapped at p, or -1. */
static int fd_of_mapping(const void *p)
{
    char line[512], path[64];
    unsigned long lo, hi, ino = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    struct stat st;

    while (maps && fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 &&
            (uintptr_t)p >= lo && (uintptr_t)p < hi)
            break;
    if (maps)
        fclose(maps);
    for (int fd = 3; fd < 1024 && ino; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (stat(path, &st) == 0 && st.st_ino == ino)
            return fd;
    }
    return -1;
}

enum {
    TRY_WRITE,
    TRY_MPROTECT,
    TRY_MAP_FD,
    TRY_REOPEN,
    TRY_OWNER_FD
};

struct attack {
    const char *server;
    int how;
    long owner_pid;
};

/* Reopen every descriptor of the owner read-write: the one that is our pool (same inode as
 * mine) must not map writable. 0 if it was found and refused, 18 if not found. */
static int attack_owner_fds(long owner, int mine)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    struct stat st, pool;
    char path[64];

    if (fstat(mine, &pool) != 0)
        return 19;
    for (int n = 0; n < 1024; n++) {
        int fd;
        snprintf(path, sizeof path, "/proc/%ld/fd/%d", owner, n);
        if ((fd = open(path, O_RDWR)) < 0)
            continue;
        if (fstat(fd, &st) == 0 && st.st_ino == pool.st_ino && st.st_dev == pool.st_dev) {
            void *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            close(fd);
            return m == MAP_FAILED ? 0 : 16;
        }
        close(fd);
    }
    return 18;
}

/* In a child: borrow what the server sends, then attack it. Exit 0 if the attack failed
 * the way the kernel should make it fail (a write: we die of SIGSEGV instead). */
static int attack(void *arg)
{
    const struct attack *at = arg;
    shmipc_session *s;
    shmipc_obj *o = NULL;
    unsigned char *p;
    char buf[16], path[64];
    size_t len, page = (size_t)sysconf(_SC_PAGESIZE);
    int fd, rc;
    void *m;

    if (shmipc_connect(at->server, "attacker", NULL, &s) != 0 ||
        shmipc_recv(s, buf, sizeof buf, &len, &o, 5000) != 0 || !o)
        return 10;
    p = shmipc_obj_ptr(o);
    if (shmipc_obj_writable(o) || p[0] != 0x5a)
        return 11;
    fd = fd_of_mapping(p);
    switch (at->how) {
    case TRY_WRITE: {
        struct sigaction dfl = {.sa_handler = SIG_DFL}; /* not a sanitizer's handler */
        sigaction(SIGSEGV, &dfl, NULL);
        p[0] = 1; /* must fault */
        return 12;
    }
    case TRY_MPROTECT:
        rc = mprotect((void *)((uintptr_t)p & ~(page - 1)), page, PROT_READ | PROT_WRITE);
        return rc == -1 && errno == EACCES ? 0 : 13;
    case TRY_MAP_FD:
        m = fd < 0 ? MAP_FAILED : mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        return fd >= 0 && m == MAP_FAILED && errno == EPERM ? 0 : 14;
    case TRY_REOPEN:
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        fd = open(path, O_RDWR);
        m = fd < 0 ? MAP_FAILED : mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        return m == MAP_FAILED && (fd < 0 || write(fd, "x", 1) < 0) ? 0 : 15;
    case TRY_OWNER_FD: /* the owner's own descriptor of the pool, through /proc */
        return attack_owner_fds(at->owner_pid, fd);
    }
    return 17;
}

static void test_read_only(void)
{
    static const char *const what[] = {
        "a write into a borrowed object faults (SIGSEGV)",
        "mprotect(PROT_WRITE) of its page fails (EACCES)",
        "mapping the pool's fd writable fails (EPERM: F_SEAL_FUTURE_WRITE)",
        "reopening /proc/self/fd/N read-write: no writable mapping, no write(2)",
        "reopening the owner's /proc/<pid>/fd/N: none maps the pool writable"};
    shmipc_server *srv = lend_server("ro", 0);

    for (int how = TRY_WRITE; how <= TRY_OWNER_FD; how++) {
        struct attack at = {"ro", how, (long)getpid()};
        shmipc_session *s;
        shmipc_obj *o;
        pid_t pid = fork();
        int status;

        if (pid == 0)
            _exit(attack(&at));
        if (shmipc_server_accept(srv, 5000, &s) != 0) {
            ok(0, "%s: the attacker did not connect", what[how]);
            waitpid(pid, NULL, 0);
            continue;
        }
        shmipc_obj_new(shmipc_session_arena(s), 3 * 4096, &o);
        memset(shmipc_obj_ptr(o), 0x5a, 3 * 4096);
        shmipc_send(s, "x", 1, o);
        waitpid(pid, &status, 0);
        if (how == TRY_WRITE)
            ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "%s (status 0x%x)",
               what[how], (unsigned)status);
        else
            ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s (exit %d)", what[how],
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        ok(((unsigned char *)shmipc_obj_ptr(o))[0] == 0x5a, "the owner's bytes are intact");
        shmipc_obj_unref(o);
        shmipc_session_close(s);
    }
    shmipc_server_close(srv);
}

/* ---- growth past one pool ------------------------------------------------------------- */

static int read_all(void *arg)
{
    shmipc_session *s;
    int good = 0, n = *(int *)arg;

    if (shmipc_connect("grow", "reader", NULL, &s) != 0)
        return 100;
    for (int i = 0; i < n; i++) {
        shmipc_obj *o = NULL;
        char msg[64];
        size_t len;
        uint64_t want;
        if (shmipc_recv(s, msg, sizeof msg - 1, &len, &o, 10000) != 0 || !o)
            break;
        msg[len] = '\0';
        good += sscanf(msg, "%" SCNu64, &want) == 1 &&
                helper_checksum(shmipc_obj_ptr(o), shmipc_obj_size(o)) == want;
        shmipc_obj_unref(o);
    }
    shmipc_session_close(s);
    return good == n ? 0 : 1;
}

static void test_growth(void)
{
    enum {
        N = 24
    };
    shmipc_server *srv = lend_server("grow", MiB); /* pools of 1 MiB */
    shmipc_session *s;
    shmipc_obj *o[N];
    int n = N, status;
    size_t base;
    pid_t pid = fork();

    if (pid == 0)
        _exit(read_all(&n));
    is_rc(shmipc_server_accept(srv, 5000, &s), 0, "a reader connected");
    base = used_of(shmipc_session_arena(s));
    for (int i = 0; i < N; i++) {
        char msg[64];
        unsigned char *p;
        if (shmipc_obj_new(shmipc_session_arena(s), 200000 + (size_t)i * 1000, &o[i]) != 0)
            break;
        p = shmipc_obj_ptr(o[i]);
        for (size_t j = 0; j < shmipc_obj_size(o[i]); j++)
            p[j] = (unsigned char)(i * 7 + j);
        snprintf(msg, sizeof msg, "%" PRIu64, helper_checksum(p, shmipc_obj_size(o[i])));
        shmipc_send(s, msg, strlen(msg), o[i]);
    }
    ok(shmipc__lend_pool_count(shmipc_session_arena(s)) > 3,
       "4.8 MB of objects grew the arena to %zu pools of 1 MiB",
       shmipc__lend_pool_count(shmipc_session_arena(s)));
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the peer read every object of every "
                                                      "pool, checksums right");
    for (int i = 0; i < N; i++)
        shmipc_obj_unref(o[i]);
    ok(used_of(shmipc_session_arena(s)) == base, "all freed once both sides let go");
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* ---- the small object held back ------------------------------------------------------ */

/* The bytes of the small object freed last are the next one's if its size class is
 * theirs (no jemalloc call: with one object alive per session arena, as with many
 * sessions, a message calls jemalloc not at all), never a larger one's; the figures stay
 * exact. */
static void test_held_back_bytes(void)
{
    shmipc_arena *a;
    shmipc_obj *o1, *o2, *o3;
    size_t base, allocs;
    void *p1;

    if (shmipc__lend_arena_create(MiB, &a) != 0) {
        ok(0, "a lend arena: %s", shmipc_error_detail());
        return;
    }
    base = used_of(a);
    allocs = stats_of(a).allocations;
    shmipc_obj_new(a, 64, &o1);
    p1 = shmipc_obj_ptr(o1);
    memset(p1, 0xAA, 64);
    shmipc_obj_unref(o1); /* held back */
    is_rc(shmipc_obj_new(a, 100, &o2), 0, "an object of another size class");
    ok(shmipc_obj_ptr(o2) != p1, "does not take the smaller bytes held back");
    memset(shmipc_obj_ptr(o2), 0xBB, 100);
    is_rc(shmipc_obj_new(a, 60, &o3), 0, "an object of their size class");
    ok(shmipc_obj_ptr(o3) == p1, "takes the bytes held back");
    ok(stats_of(a).allocations == allocs + 2 && used_of(a) > base,
       "two objects alive, two allocations counted (%zu)", stats_of(a).allocations - allocs);
    shmipc_obj_unref(o2);
    shmipc_obj_unref(o3);
    ok(stats_of(a).allocations == allocs && used_of(a) == base,
       "all given back once freed (the bytes held back counted free)");
    is_rc(shmipc_arena_check(a), 0, "the arena is consistent");
    shmipc_arena_close(a);
}

/* ---- forged release reports ----------------------------------------------------------- */

static void test_forged_release(void)
{
    shmipc_server *srv = lend_server("forge", 0);
    shmipc_session *s1, *c1, *s2, *c2;
    shmipc_arena *app;
    shmipc_obj *o;
    shmipc_blob blob;
    struct blob_view {
        uint32_t magic;
        uint8_t version, provider, kind, reserved;
        uint64_t session_id, pool_id, obj, size, loan, gen, check;
    } v;
    size_t base;
    uint64_t refused;

    /* two clients of one app: they share the server's app arena */
    open_pair(srv, "forge", &s1, &c1);
    open_pair(srv, "forge", &s2, &c2);
    app = shmipc_app_arena(s1);
    base = used_of(app);
    refused = stats_of(app).bad_frees;
    shmipc_obj_new(app, 5000, &o);
    shmipc_lend(s1, o, &blob); /* lent to c1, never borrowed */
    shmipc_obj_unref(o);
    memcpy(&v, &blob, sizeof v);
    /* c2 reports, through its own session, the release of a loan that is c1's */
    shmipc__release_push(shmipc__session_lend_ctx(c2)->ctrl, SHMIPC_ARENA_APP, v.loan, v.gen);
    shmipc__release_push(shmipc__session_lend_ctx(c2)->ctrl, SHMIPC_ARENA_APP, 12345, 1);
    shmipc_session_poll(s2);
    ok(used_of(app) > base, "a peer's report of a loan made to another peer is not acted on: "
                            "the object lives");
    ok(stats_of(app).bad_frees == refused + 2, "refused reports are counted (%llu)",
       (unsigned long long)(stats_of(app).bad_frees - refused));
    shmipc__release_push(shmipc__session_lend_ctx(c1)->ctrl, SHMIPC_ARENA_APP, v.loan,
                         v.gen + 1);
    shmipc_session_poll(s1);
    ok(used_of(app) > base, "nor a report with the wrong generation");
    shmipc__release_push(shmipc__session_lend_ctx(c1)->ctrl, SHMIPC_ARENA_APP, v.loan, v.gen);
    shmipc_session_poll(s1);
    ok(used_of(app) == base, "the true borrower's report frees it");
    shmipc__release_push(shmipc__session_lend_ctx(c1)->ctrl, SHMIPC_ARENA_APP, v.loan, v.gen);
    shmipc_session_poll(s1);
    ok(stats_of(app).bad_frees == refused + 4,
       "a second report of the same release is refused");
    is_rc(shmipc_arena_check(app), 0, "the app arena is consistent");
    shmipc_session_close(c2);
    shmipc_session_close(s2);
    shmipc_session_close(c1);
    shmipc_session_close(s1);
    shmipc_server_close(srv);
}

/* ---- reports on a session the owner does not use ---------------------------------- */

/* Loans made from a's table not yet released, read as the tool reads it: no drain. */
static uint64_t lent_in(shmipc_arena *a)
{
    struct shmipc_inspect_arena *ai;
    shmipc_pool *pool;
    uint64_t lent = 0;

    if (shmipc_pool_from_fd(shmipc_pool_fd(a->pool), SHMIPC_RDONLY, &pool) != 0 ||
        shmipc__inspect_arena(pool, 1, NULL, &ai) != 0)
        return UINT64_MAX;
    for (size_t i = 0; i < ai->neps; i++)
        lent += ai->eps[i].lent;
    shmipc__inspect_arena_free(ai);
    return lent;
}

/* A receiver spinning on an empty ring takes back what the peer releases meanwhile, so
 * that the answer that follows finds nothing left to do (a spinning ping-pong's path). */
static void *release_later(void *arg)
{
    usleep(30 * 1000);
    shmipc_obj_unref(arg);
    return NULL;
}

static void test_release_taken_while_spinning(void)
{
    shmipc_server *srv = lend_server("spin", 0);
    shmipc_session *s, *c;
    shmipc_obj *o, *b = NULL;
    pthread_t t;
    char buf[8];
    size_t len;

    open_pair(srv, "spin", &s, &c);
    shmipc_obj_new(shmipc_session_arena(s), 64, &o);
    shmipc_send(s, "x", 1, o);
    shmipc_obj_unref(o);
    shmipc_recv(c, buf, sizeof buf, &len, &b, 1000);
    ok(b != NULL && lent_in(shmipc_session_arena(s)) == 1, "a loan is out");
    shmipc_session_set_spin(s, 1000 * 1000);
    pthread_create(&t, NULL, release_later, b); /* released 30 ms into the spin */
    is_rc(shmipc_recv(s, buf, sizeof buf, &len, NULL, 100), SHMIPC_ETIMEDOUT,
          "the owner spun for 100 ms on an empty ring");
    pthread_join(t, NULL);
    ok(lent_in(shmipc_session_arena(s)) == 0,
       "the release made meanwhile was taken in the spin");
    shmipc_session_close(c);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* An arena has a release source per session, and the owner looks at every source at most
 * every ~1 ms (not at each call, which would cost O(sessions)): a release reported on a
 * session the owner no longer uses is still taken, soon, by its work on another session
 * of the app. */
static void test_reports_of_idle_session(void)
{
    shmipc_server *srv = lend_server("idle", 0);
    shmipc_session *s1, *c1, *s2, *c2;
    shmipc_obj *o, *b = NULL;
    struct timespec t0;
    char buf[8];
    size_t len;
    uint64_t before;
    double ms;
    int rounds = 0;

    open_pair(srv, "idle", &s1, &c1);
    open_pair(srv, "idle", &s2, &c2);
    shmipc_obj_new(shmipc_app_arena(s1), 64, &o);
    shmipc_send(s1, "x", 1, o);
    shmipc_obj_unref(o);
    shmipc_recv(c1, buf, sizeof buf, &len, &b, 1000);
    ok(b != NULL, "a client borrowed an app-arena object");
    shmipc_obj_unref(b); /* its report waits on session 1's ring */
    before = lent_in(shmipc_app_arena(s1));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do { /* the owner's hot path on session 2 only: objects of its session arena */
        shmipc_obj *n, *got = NULL;
        if (shmipc_obj_new(shmipc_session_arena(s2), 64, &n) != 0)
            break;
        shmipc_send(s2, "y", 1, n);
        shmipc_obj_unref(n);
        shmipc_recv(c2, buf, sizeof buf, &len, &got, 1000);
        shmipc_obj_unref(got);
        shmipc_send(c2, "z", 1, NULL);
        shmipc_recv(s2, buf, sizeof buf, &len, NULL, 1000);
        rounds++;
        usleep(100);
    } while (lent_in(shmipc_app_arena(s1)) != 0 && ms_since(&t0) < 2000);
    ms = ms_since(&t0);
    ok(before == 1 && lent_in(shmipc_app_arena(s1)) == 0,
       "the release on the idle session is taken by the work on another (%llu lent before)",
       (unsigned long long)before);
    ok(ms < (UNDER_SANITIZER ? 500 : 100), "within %.1f ms (%d messages)", ms, rounds);
    shmipc_session_close(c2);
    shmipc_session_close(s2);
    shmipc_session_close(c1);
    shmipc_session_close(s1);
    shmipc_server_close(srv);
}

/* ---- more releases than the ring holds ------------------------------------------------ */

/* A borrower that releases more loans than its release ring holds while the owner takes
 * none: the rest wait in the borrower and go with its next session call, not only with a
 * later release. */
static void test_release_overflow(void)
{
    enum {
        LOANS = SHMIPC_RELEASE_CAP + 4464
    };
    shmipc_server *srv = lend_server("overflow", 64 * MiB);
    shmipc_session *s, *c;
    shmipc_obj **mine = calloc(LOANS, sizeof *mine);
    shmipc_blob *blobs = calloc(LOANS, sizeof *blobs);
    size_t base, n = 0;

    if (!SETUP(srv && mine && blobs && open_pair(srv, "overflow", &s, &c) == 0,
               "a lend session"))
        goto out;
    base = used_of(shmipc_session_arena(s));
    for (; n < LOANS; n++) {
        shmipc_obj *o;
        if (shmipc_obj_new(shmipc_session_arena(s), 16, &o) != 0)
            break;
        int lent = shmipc_lend(s, o, &blobs[n]) == 0;
        shmipc_obj_unref(o);
        if (!lent || shmipc_borrow(c, &blobs[n], &mine[n]) != 0)
            break;
    }
    if (SETUP(n == LOANS, "lending and borrowing them all")) {
        for (size_t i = 0; i < n; i++) /* the owner takes nothing meanwhile */
            shmipc_obj_unref(mine[i]);
        shmipc_session_poll(s);
        ok(used_of(shmipc_session_arena(s)) > base,
           "%llu releases fit in the ring; the owner took those, not the others",
           (unsigned long long)SHMIPC_RELEASE_CAP);
        shmipc_session_poll(c); /* no new release: the waiting ones go now */
        shmipc_session_poll(s);
        ok(used_of(shmipc_session_arena(s)) == base,
           "the borrower's next session call sends the rest: every object is freed");
        is_rc(shmipc_arena_check(shmipc_session_arena(s)), 0, "the arena is consistent");
    } else {
        while (n > 0)
            shmipc_obj_unref(mine[--n]);
    }
    shmipc_session_close(c);
    shmipc_session_close(s);
out:
    shmipc_server_close(srv);
    free(mine);
    free(blobs);
}

/* ---- memory goes back to the OS ------------------------------------------------------- */

static long status_kib(const char *file, const char *field)
{
    char line[256];
    long v = -1;
    FILE *f = fopen(file, "r");

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            sscanf(line + strlen(field), " %ld", &v);
    if (f)
        fclose(f);
    return v;
}

/* The inode of the file mapped at address p in this process (0 if none). */
static unsigned long mapped_inode(const void *p)
{
    char line[512];
    unsigned long lo, hi, inode, found = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    while (f && !found && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &inode) == 3 &&
            (uintptr_t)p >= lo && (uintptr_t)p < hi)
            found = inode;
    if (f)
        fclose(f);
    return found;
}

/* 1 if this process maps the file of that inode, or holds a descriptor of it. */
static int holds_inode(unsigned long inode)
{
    char line[512], path[64];
    unsigned long lo, hi, ino;
    struct stat st;
    FILE *f = fopen("/proc/self/maps", "r");
    int held = 0;

    while (f && !held && fgets(line, sizeof line, f))
        held = sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 && ino == inode;
    if (f)
        fclose(f);
    for (int fd = 0; fd < 1024 && !held; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        held = stat(path, &st) == 0 && st.st_ino == inode && S_ISREG(st.st_mode);
    }
    return held;
}

static int borrow_and_touch(void *arg)
{
    shmipc_session *s;
    shmipc_obj *o = NULL;
    char buf[8];
    size_t len, sum = 0, size;
    unsigned long inode;

    (void)arg;
    /* generous waits: filling 1 GiB takes the owner a while under a sanitizer */
    if (shmipc_connect("rss", "reader", NULL, &s) != 0 ||
        shmipc_recv(s, buf, sizeof buf, &len, &o, 120000) != 0 || !o)
        return 1;
    size = shmipc_obj_size(o);
    inode = mapped_inode(shmipc_obj_ptr(o));
    for (size_t i = 0; i < size; i += 4096)
        sum += ((const unsigned char *)shmipc_obj_ptr(o))[i];
    shmipc_obj_unref(o);
    shmipc_send(s, "done", 4, NULL);
    /* wait for the owner's word that the pool is gone, then look at our own mapping */
    if (shmipc_recv(s, buf, sizeof buf, &len, NULL, 120000) != 0)
        return 2;
    shmipc_session_poll(s); /* reads the retirement: the pool is unmapped here */
    shmipc_session_close(s);
    if (sum != size / 4096 * 0x33)
        return 3;
    return inode && !holds_inode(inode) ? 0 : 4; /* neither mapped nor held: its pages go */
}

/* ---- a peer's lend arena, seen here: its table refuses every write ------------------- */

static void test_view_refuses_writes(void)
{
    shmipc_server *srv = lend_server("view", MiB);
    shmipc_session *s, *c;
    struct shmipc_arena_stats st;
    shmipc_poolrel rel = {0, 0};
    shmipc_arena *view;
    shmipc_obj *o = NULL;
    void *p = NULL;
    char x;

    is_rc(open_pair(srv, "view", &s, &c), 0, "a session");
    view = shmipc__session_lend_ctx(c)->from[SHMIPC_ARENA_SESSION];
    ok(!shmipc_arena_writable(view) && shmipc_arena_provider(view) == SHMIPC_PROVIDER_LEND,
       "the owner's arena, seen by the borrower: the lend provider's, read-only");
    ok(shmipc_alloc(view, 16) == NULL, "shmipc_alloc refuses: %s", shmipc_error_detail());
    ok(shmipc_alloc_size(view, &x) == 0, "shmipc_alloc_size has nothing to say");
    shmipc_free(view, &x); /* refused quietly: nothing here is this process's to free */
    is_rc(shmipc_arena_stats(view, &st), SHMIPC_ENOTSUP, "its figures are its owner's");
    is_rc(shmipc_arena_check(view), SHMIPC_ENOTSUP, "its owner checks it");
    is_rc(shmipc_arena_to_poolrel(view, &x, &rel), SHMIPC_ENOTSUP, "no pool-relative pointers");
    ok(shmipc_arena_from_poolrel(view, rel) == NULL, "and none are made from one");
    is_rc(shmipc_obj_new(view, 16, &o), SHMIPC_ENOTSUP, "only its owner makes objects in it");
    is_rc(shmipc_named_alloc(view, "n", 8, &p), SHMIPC_ENOTSUP, "nor named allocations");
    shmipc_session_close(c);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* ---- the borrowed-loan set stays small ---------------------------------------------------- */

static void test_claims_stay_small(void)
{
    enum {
        CYCLES = 20000
    };
    shmipc_server *srv = lend_server("claims", MiB);
    shmipc_session *s, *c;
    shmipc_arena *view;
    int good = 0;

    is_rc(open_pair(srv, "claims", &s, &c), 0, "a session");
    view = shmipc__session_lend_ctx(c)->from[SHMIPC_ARENA_SESSION];
    for (int i = 0; i < CYCLES; i++) {
        shmipc_obj *o, *b = NULL;
        shmipc_blob blob;
        if (shmipc_obj_new(shmipc_session_arena(s), 64, &o) != 0)
            break;
        if (shmipc_lend(s, o, &blob) == 0 && shmipc_borrow(c, &blob, &b) == 0)
            good++;
        shmipc_obj_unref(b);
        shmipc_obj_unref(o);
        shmipc_session_poll(s); /* the owner takes the release */
    }
    ok(good == CYCLES, "%d objects lent, borrowed and released one after the other", good);
    ok(shmipc__view_claims_cap(view) <= 256,
       "the borrower's claim set has %zu slots: sized "
       "for the one loan alive at a time, not for every loan made",
       shmipc__view_claims_cap(view));
    shmipc_session_close(c);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

static void test_memory_returns(void)
{
    shmipc_server *srv = lend_server("rss", 0);
    shmipc_session *s;
    shmipc_obj *o;
    long rss0, rss1, rss2, shm0, shm1, shm2;
    unsigned long inode;
    size_t base;
    char buf[8];
    size_t len;
    int status;
    pid_t pid = fork();

    if (pid == 0)
        _exit(borrow_and_touch(NULL));
    is_rc(shmipc_server_accept(srv, 5000, &s), 0, "a reader connected");
    base = used_of(shmipc_session_arena(s));
    rss0 = status_kib("/proc/self/status", "RssShmem:");
    shm0 = status_kib("/proc/meminfo", "Shmem:");
    is_rc(shmipc_obj_new(shmipc_session_arena(s), GiB, &o), 0, "a 1 GiB object");
    memset(shmipc_obj_ptr(o), 0x33, GiB);
    inode = mapped_inode(shmipc_obj_ptr(o));
    rss1 = status_kib("/proc/self/status", "RssShmem:");
    shm1 = status_kib("/proc/meminfo", "Shmem:");
    ok(used_of(shmipc_session_arena(s)) >= base + GiB, "used grew by 1 GiB");
    shmipc_send(s, "take", 4, o);
    shmipc_obj_unref(o);
    shmipc_recv(s, buf, sizeof buf, &len, NULL, 120000); /* "done": released */
    ok(used_of(shmipc_session_arena(s)) == base, "used is back to its baseline once the "
                                                 "borrower released it");
    rss2 = status_kib("/proc/self/status", "RssShmem:");
    ok(rss1 - rss0 > 1000000 && rss1 - rss2 > 1000000,
       "the owner's resident shared memory "
       "went up by %ld KiB and back down by %ld KiB",
       rss1 - rss0, rss1 - rss2);
    ok(inode && !holds_inode(inode), "the owner neither maps nor holds the object's pool");
    shmipc_send(s, "gone", 4, NULL);
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "the borrower read every page, and "
       "then neither mapped nor held the pool: nobody does, so its pages are freed");
    shm2 = status_kib("/proc/meminfo", "Shmem:");
    /* the system-wide figure moves with whatever else runs meanwhile: said, not asserted */
    diag("the system's shared memory: +%ld KiB with the object, -%ld KiB after", shm1 - shm0,
         shm1 - shm2);
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

/* ---- borrowed handles, one after another -------------------------------------------- */

/* A dropped borrowed handle's memory serves the next borrow (relring.c keeps one): handles
 * alive at once stay apart, each reads its own object, every loan goes back to its owner,
 * and a handle dropped after its session closed is still dropped whole. */
static void test_handles_in_turn(void)
{
    shmipc_server *srv = lend_server("turn", 0);
    shmipc_session *s = NULL, *c = NULL;
    shmipc_obj *mine[4], *got[4] = {0}, *late = NULL;
    size_t base, len;
    char buf[8];
    int good = 1;

    if (!srv || open_pair(srv, "turn", &s, &c) != 0) {
        ok(0, "a session pair: %s", shmipc_error_detail());
        return;
    }
    base = used_of(shmipc_session_arena(s));
    for (int i = 0; i < 4; i++) {
        shmipc_obj_new(shmipc_session_arena(s), 4096, &mine[i]);
        memset(shmipc_obj_ptr(mine[i]), 'a' + i, 4096);
    }
    for (int i = 0; i < 3; i++)
        shmipc_send(s, "x", 1, mine[i]);
    for (int i = 0; i < 3; i++)
        good &= shmipc_recv(c, buf, sizeof buf, &len, &got[i], 1000) == 0 && got[i];
    shmipc_obj_unref(got[1]); /* its memory is kept: the next borrow takes it */
    shmipc_send(s, "x", 1, mine[3]);
    good &= shmipc_recv(c, buf, sizeof buf, &len, &got[1], 1000) == 0 && got[1];
    ok(good && got[0] != got[1] && got[1] != got[2] && got[0] != got[2],
       "handles alive at once are apart, one made in a dropped one's memory included");
    ok(good && ((char *)shmipc_obj_ptr(got[0]))[4095] == 'a' &&
           ((char *)shmipc_obj_ptr(got[1]))[4095] == 'd' &&
           ((char *)shmipc_obj_ptr(got[2]))[4095] == 'c',
       "each reads its own object");
    for (int i = 0; i < 3; i++)
        shmipc_obj_unref(got[i]);
    shmipc_send(s, "x", 1, mine[0]);
    shmipc_recv(c, buf, sizeof buf, &len, &late, 1000);
    for (int i = 0; i < 4; i++)
        shmipc_obj_unref(mine[i]);
    shmipc_session_poll(s);
    ok(used_of(shmipc_session_arena(s)) > base, "an object still borrowed stays");
    shmipc_session_close(c);
    ok(late && ((char *)shmipc_obj_ptr(late))[0] == 'a', "a handle outlives its session");
    shmipc_obj_unref(late); /* its release goes with the control segment's last count */
    shmipc_session_poll(s);
    ok(used_of(shmipc_session_arena(s)) == base, "every loan came back to its owner");
    shmipc_session_close(s);
    shmipc_server_close(srv);
}

int main(void)
{
    shmipc_arena *probe;

    signal(SIGPIPE, SIG_IGN);
    if (shmipc__lend_arena_create(MiB, &probe) == SHMIPC_ENOTSUP) {
        ok(strstr(shmipc_error_detail(), "jemalloc") != NULL,
           "without jemalloc, the lend "
           "provider says why: %s",
           shmipc_error_detail());
        skip("the lend provider's own tests: this build has no jemalloc");
        return done_testing();
    }
    shmipc_arena_close(probe);
    use_private_socket_dir();
    test_pointers_in_pools();
    test_read_only();
    test_growth();
    test_held_back_bytes();
    test_forged_release();
    test_reports_of_idle_session();
    test_release_taken_while_spinning();
    test_release_overflow();
    test_view_refuses_writes();
    test_claims_stay_small();
    test_memory_returns();
    test_handles_in_turn();
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
