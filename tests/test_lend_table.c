/* A lend arena's refcount table grows with its loans, and its data pools stop at a
 * documented cap (issue 14):
 *   - 600,000 live loans between two processes: the table grows past its first pool, the
 *     borrower borrows every one (and reads what each holds), and once it lets go the
 *     owner is back to its baseline;
 *   - a borrower killed with SIGKILL while it holds loans whose records are spread over
 *     four table pools: the inspect API (`shmipc stat`) counts every one before, and the
 *     owner drops every one of them;
 *   - a table that cannot grow (RLIMIT_AS) fails with SHMIPC_ENOMEM and a detail that
 *     names the table and why, not the data arena;
 *   - an arena at SHMIPC_LEND_POOLS_MAX data pools fails its next object with
 *     SHMIPC_ENOMEM and a detail naming that cap.
 * Tests that need several table pools make the first one small (1 MiB, then 2, 4, 8). */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/resource.h>

#include "lend.h"
#include "object.h"
#include "session_util.h"
#include "shmipc/inspect.h"

#define MiB ((size_t)1 << 20)

static shmipc_server *lend_server(const char *name)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.provider = SHMIPC_PROVIDER_LEND;
    o.session_arena_size = 16 * MiB;
    if (shmipc_server_open(name, &o, &srv) != 0)
        diag("server_open: %s", shmipc_error_detail());
    return srv;
}

/* The pools of a's refcount table: its own and the ones it grew by. */
static unsigned table_pools(shmipc_arena *a)
{
    unsigned n = 1;

    while (n <= SHMIPC_TABLE_SEGS && atomic_load(&a->seg[n - 1]))
        n++;
    return n;
}

/* shmipc_inspect_fds's, as the tool offers a process's descriptors: this process's i-th,
 * reopened read-only (-1 if it cannot be: a socket, a closed one). */
static int own_fd(void *ctx, size_t i)
{
    char path[64];

    (void)ctx;
    if (i >= 4096)
        return -2;
    snprintf(path, sizeof path, "/proc/self/fd/%zu", i);
    return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a pipe never blocks it */
}

/* The loans and their bytes the inspect API (what `shmipc stat` shows) counts in a's
 * table, read as the tool reads another process's: its first pool mapped read-only, its
 * further ones found among this process's descriptors. */
static uint64_t inspected_loans(shmipc_arena *a, uint64_t *bytes)
{
    struct shmipc_inspect_fds fds = {own_fd, NULL};
    struct shmipc_inspect_arena *ai;
    shmipc_pool *pool;
    uint64_t lent = 0;

    *bytes = 0;
    if (shmipc_pool_from_fd(shmipc_pool_fd(a->pool), SHMIPC_RDONLY, &pool) != 0 ||
        shmipc__inspect_arena(pool, 1, &fds, &ai) != 0)
        return 0;
    for (size_t i = 0; i < ai->neps; i++) {
        lent += ai->eps[i].lent;
        *bytes += ai->eps[i].lent_bytes;
    }
    shmipc__inspect_arena_free(ai);
    return lent;
}

/* ---- a borrower, in a child process ------------------------------------------------- */

struct borrower {
    const char *server;
    long n;
    int die; /* hold everything until killed */
};

/* Borrow n objects (object i holds i), say "held"; then wait to be killed, or at the
 * owner's word let them all go, say "released" and leave once the owner has. */
static int borrow_all(void *arg)
{
    const struct borrower *b = arg;
    shmipc_obj **o = calloc((size_t)b->n, sizeof *o);
    shmipc_session *s;
    char buf[16];
    size_t len;
    long got = 0;

    if (!o || shmipc_connect(b->server, "borrower", NULL, &s) != 0)
        return 1;
    while (got < b->n && shmipc_recv(s, buf, sizeof buf, &len, &o[got], 60000) == 0 && o[got] &&
           *(const uint64_t *)shmipc_obj_ptr(o[got]) == (uint64_t)got)
        got++;
    if (got < b->n) {
        fprintf(stderr, "# borrower: %ld of %ld: %s\n", got, b->n, shmipc_error_detail());
        return 2;
    }
    shmipc_send(s, "held", 4, NULL);
    if (b->die)
        for (;;)
            pause();
    if (shmipc_recv(s, buf, sizeof buf, &len, NULL, 60000) != 0)
        return 3;
    for (long i = 0; i < got; i++)
        shmipc_obj_unref(o[i]);
    shmipc_send(s, "released", 8, NULL);
    while (shmipc_recv(s, buf, sizeof buf, &len, NULL, 60000) == 0)
        ;
    shmipc_session_close(s);
    free(o);
    return 0;
}

/* ---- the owner ---------------------------------------------------------------------- */

/* Lend n objects of 64 bytes (object i holds i), each then held by its loan alone: how
 * many went. */
static long lend_n(shmipc_session *s, long n)
{
    for (long i = 0; i < n; i++) {
        shmipc_obj *o;
        int rc = shmipc_obj_new(shmipc_session_arena(s), 64, &o);
        if (rc == 0) {
            *(uint64_t *)shmipc_obj_ptr(o) = (uint64_t)i;
            rc = shmipc_send(s, "x", 1, o);
            shmipc_obj_unref(o);
        }
        if (rc != 0) {
            diag("object %ld: %s (%s)", i, shmipc_strerror(rc), shmipc_error_detail());
            return i;
        }
    }
    return n;
}

static int said(shmipc_session *s, const char *word)
{
    char buf[16];
    size_t len;

    return shmipc_recv(s, buf, sizeof buf, &len, NULL, 60000) == 0 && len == strlen(word) &&
           memcmp(buf, word, len) == 0;
}

/* An owner and its borrower (a child process), the owner's arena as it was before any
 * loan. */
struct pair {
    shmipc_server *srv;
    shmipc_session *s;
    shmipc_arena *a;
    pid_t pid;
    struct shmipc_arena_stats base;
    uint64_t holds;
};

/* Start b as a child and lend it b->n objects: 1 once it has borrowed them all. */
static int lend_to_borrower(struct pair *p, const struct borrower *b)
{
    p->srv = lend_server(b->server);
    if ((p->pid = fork()) == 0)
        _exit(borrow_all((void *)b));
    is_rc(shmipc_server_accept(p->srv, 5000, &p->s), 0, "a borrower connected");
    p->a = shmipc_session_arena(p->s);
    p->base = stats_of(p->a);
    p->holds = shmipc__reftable_holds(p->a);
    return lend_n(p->s, b->n) == b->n && said(p->s, "held");
}

/* Wait (taking releases and noticing the peer's death) until the arena is back to base:
 * no live object, no record in the table. */
static int back_to_base(const struct pair *p)
{
    for (int i = 0; i < 3000; i++) {
        struct shmipc_arena_stats st = stats_of(p->a);
        if (st.allocations == p->base.allocations && st.used == p->base.used &&
            shmipc__reftable_holds(p->a) == p->holds)
            return 1;
        shmipc_session_poll(p->s);
        usleep(10000);
    }
    diag("still %zu objects, %" PRIu64 " records", stats_of(p->a).allocations,
         shmipc__reftable_holds(p->a));
    return 0;
}

static void test_many_loans(void)
{
    enum {
        N = 600000
    };
    struct borrower b = {"many", N, 0};
    struct pair p;
    int status;

    ok(lend_to_borrower(&p, &b),
       "%d objects lent, each held by its loan alone; the "
       "borrower borrowed every one and read what it holds",
       N);
    ok(stats_of(p.a).allocations - p.base.allocations == N, "%zu live loans",
       stats_of(p.a).allocations - p.base.allocations);
    ok(table_pools(p.a) >= 2, "the refcount table grew to %u pools", table_pools(p.a));
    shmipc_send(p.s, "release", 7, NULL);
    ok(said(p.s, "released"), "the borrower let them all go");
    ok(back_to_base(&p), "the owner is back to its baseline: no object, no record");
    shmipc_session_close(p.s);
    waitpid(p.pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the borrower exited cleanly");
    shmipc_server_close(p.srv);
}

static void test_killed_borrower(void)
{
    enum {
        N = 60000
    }; /* two records each: 7.7 MB, over table pools of 1, 2, 4 and 8 MiB */
    struct borrower b = {"kill", N, 1};
    struct pair p;
    uint64_t lent, bytes;
    int status;

    ok(lend_to_borrower(&p, &b), "%d loans, all borrowed", N);
    ok(table_pools(p.a) == 4, "their records are in %u table pools", table_pools(p.a));
    is_rc(shmipc_arena_check(p.a), 0, "the table checks out: every pool's heap, every list");
    lent = inspected_loans(p.a, &bytes);
    ok(lent == N && bytes == (uint64_t)N * 64,
       "the inspect API counts every loan, in every table pool: %" PRIu64 " (%" PRIu64
       " bytes)",
       lent, bytes);
    kill(p.pid, SIGKILL);
    waitpid(p.pid, &status, 0);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the borrower was killed");
    ok(back_to_base(&p), "every loan it held was dropped: no object, no record");
    is_rc(shmipc_arena_check(p.a), 0, "and the table still checks out");
    shmipc_session_close(p.s);
    shmipc_server_close(p.srv);
}

/* ---- a table that cannot grow ------------------------------------------------------- */

static size_t vm_size(void)
{
    char line[128];
    size_t kib = 0;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib << 10;
}

/* In a child: fill a lend arena's table to 4 pools (1 + 2 + 4 + 8 MiB), then allow less
 * address space than its next pool of 16 MiB needs, and fill on. */
static int fill_table(void *arg)
{
    enum {
        MAX = 400000
    };
    shmipc_obj **o = calloc(MAX, sizeof *o);
    struct rlimit rl;
    shmipc_arena *a;
    long n = 0;
    int rc = 0;

    (void)arg;
    if (!o || shmipc__lend_arena_create(16 * MiB, &a) != 0)
        return 1;
    while (n < MAX && table_pools(a) < 4 && (rc = shmipc_obj_new(a, 64, &o[n])) == 0)
        n++;
    rl.rlim_cur = rl.rlim_max = vm_size() + 12 * MiB;
    if (rc != 0 || setrlimit(RLIMIT_AS, &rl) != 0)
        return 2;
    while (n < MAX && (rc = shmipc_obj_new(a, 64, &o[n])) == 0)
        n++;
    printf("# %ld objects, then %s: %s\n", n, shmipc_strerror(rc), shmipc_error_detail());
    fflush(stdout);
    if (rc != SHMIPC_ENOMEM || table_pools(a) != 4)
        return 3;
    if (!strstr(shmipc_error_detail(), "refcount table is full") ||
        !strstr(shmipc_error_detail(), "a pool of 16 MiB"))
        return 4;
    return 0;
}

static void test_table_full(void)
{
    int status;

    if (UNDER_SANITIZER) {
        skip("a table under RLIMIT_AS: the sanitizers reserve terabytes of address space");
        return;
    }
    status = run_child(fill_table, NULL);

    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "a table that cannot grow says so: "
       "SHMIPC_ENOMEM, the refcount table full and the pool it could not add (status %d)",
       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* ---- the data pools' cap ------------------------------------------------------------- */

/* In a child (it raises its descriptor limit: each pool keeps one): objects of 40000 bytes
 * in pools of 64 KiB, one pool each, until the arena has no more. */
static int fill_pools(void *arg)
{
    enum {
        MAX = SHMIPC_LEND_POOLS_MAX + 64
    };
    static shmipc_obj *o[MAX];
    char cap[64];
    struct rlimit nofile;
    shmipc_arena *a;
    int n = 0, rc = 0;

    (void)arg;
    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max;
    if (nofile.rlim_max < SHMIPC_LEND_POOLS_MAX + 256 || setrlimit(RLIMIT_NOFILE, &nofile) != 0)
        return 77;
    if (shmipc__lend_arena_create(64 << 10, &a) != 0)
        return 1;
    while (n < MAX && (rc = shmipc_obj_new(a, 40000, &o[n])) == 0)
        n++;
    printf("# %d objects in %zu pools, then %s: %s\n", n, shmipc__lend_pool_count(a),
           shmipc_strerror(rc), shmipc_error_detail());
    fflush(stdout);
    if (rc != SHMIPC_ENOMEM || shmipc__lend_pool_count(a) != SHMIPC_LEND_POOLS_MAX)
        return 2;
    snprintf(cap, sizeof cap, "SHMIPC_LEND_POOLS_MAX (%d) data pools", SHMIPC_LEND_POOLS_MAX);
    return strstr(shmipc_error_detail(), cap) ? 0 : 3;
}

static void test_pool_cap(void)
{
    int status = run_child(fill_pools, NULL);

    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        skip("the data pools' cap: the hard descriptor limit is below it");
        return;
    }
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "an arena at its cap of data pools says "
       "so: SHMIPC_ENOMEM, naming SHMIPC_LEND_POOLS_MAX (status %d)",
       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
    shmipc_arena *probe;

    signal(SIGPIPE, SIG_IGN);
    if (shmipc__lend_arena_create(MiB, &probe) == SHMIPC_ENOTSUP) {
        skip("the lend provider's table: this build has no jemalloc");
        return done_testing();
    }
    shmipc_arena_close(probe);
    use_private_socket_dir();
    test_many_loans();
    shmipc__lend_table_size = MiB; /* from here on: tables of 1, 2, 4, 8 ... MiB */
    test_killed_borrower();
    test_table_full();
    test_pool_cap();
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}
