/* helper_mpi — the ranks of the MPI jobs that tests/test_mpi.sh starts with mpirun. Every
 * rank checks; each check is reduced over MPI_COMM_WORLD and rank 0 prints one line for it,
 * "ok - ..." or "not ok - ..." (the script numbers them); a failing rank says why ("# rank
 * N: ..."). The library is never asked to clean up: MPI_Finalize must free what it cached
 * (counted here through MPI's profiling interface) and unlink what it created.
 *
 *   helper_mpi share NAME        open NAME on every rank, node and socket scope: the same
 *                                pool, the node communicator, the data the first rank wrote
 *   helper_mpi errors NAME       bad input, before MPI_Init and after MPI_Finalize
 *   helper_mpi socket NAME bind|mixed
 *                                run where cpu1 is package 1 (a mount namespace of the
 *                                script's): ranks bound by rank parity are grouped by
 *                                package; with odd ranks unbound every rank gets EINVAL
 *   helper_mpi concurrent NAME DIR LABEL
 *                                one of two jobs that run at once with the same NAME: its
 *                                arena stays its own; its pool's file name goes to DIR/LABEL.name
 *   helper_mpi kill NAME         the last rank kills itself (SIGKILL) once NAME is open
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmipc_mpi.h"

#define MiB ((size_t)1 << 20)
#define TABLE_N 100000

static int rank, nranks, failures;

/* ---- communicators made and freed, through the profiling interface ------------------- */
static int live_comms;

static int counted(int err, const MPI_Comm *made)
{
    if (err == MPI_SUCCESS && *made != MPI_COMM_NULL)
        live_comms++;
    return err;
}

int MPI_Comm_split(MPI_Comm comm, int colour, int key, MPI_Comm *out)
{
    return counted(PMPI_Comm_split(comm, colour, key, out), out);
}

int MPI_Comm_split_type(MPI_Comm comm, int type, int key, MPI_Info info, MPI_Comm *out)
{
    return counted(PMPI_Comm_split_type(comm, type, key, info, out), out);
}

int MPI_Comm_dup(MPI_Comm comm, MPI_Comm *out)
{
    return counted(PMPI_Comm_dup(comm, out), out);
}

int MPI_Comm_free(MPI_Comm *comm)
{
    int err = PMPI_Comm_free(comm);

    live_comms -= err == MPI_SUCCESS;
    return err;
}

/* ---- reporting ------------------------------------------------------------------------ */
static int check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check(int cond, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    int all = 0;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cond = !!cond;
    MPI_Allreduce(&cond, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!cond)
        printf("# rank %d: failed: %s (last detail: %s)\n", rank, text, shmipc_error_detail());
    if (rank == 0)
        printf("%sok - %s\n", all ? "" : "not ", text);
    fflush(stdout);
    failures += !all;
    return all;
}

/* rc is want, and the detail holds `says` (if not NULL). */
static int rc_is(int rc, int want, const char *says)
{
    return rc == want && (!says || strstr(shmipc_error_detail(), says));
}

/* 1 on every rank if v is the same on every rank of comm. */
static int same_everywhere(MPI_Comm comm, uint64_t v)
{
    uint64_t lo, hi;

    MPI_Allreduce(&v, &lo, 1, MPI_UINT64_T, MPI_MIN, comm);
    MPI_Allreduce(&v, &hi, 1, MPI_UINT64_T, MPI_MAX, comm);
    return lo == hi;
}

static uint64_t pool_id(shmipc_arena *a)
{
    return a ? shmipc_pool_id(shmipc_arena_pool(a)) : 0;
}

static int comm_size(MPI_Comm c)
{
    int n = -1;

    if (c != MPI_COMM_NULL)
        MPI_Comm_size(c, &n);
    return n;
}

/* How many ranks of WORLD have the same value v as this one. */
static int ranks_alike(int v)
{
    int *all = malloc((size_t)nranks * sizeof *all), n = 0;

    MPI_Allgather(&v, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    for (int i = 0; i < nranks; i++)
        n += all[i] == v;
    free(all);
    return n;
}

/* pool_id, or 0 if the pool `name` cannot be opened. */
static uint64_t id_of_pool(const char *name)
{
    shmipc_pool *p;
    uint64_t id;

    if (shmipc_pool_open(name, SHMIPC_RDONLY, &p) != 0)
        return 0;
    id = shmipc_pool_id(p);
    shmipc_pool_close(p);
    return id;
}

/* The files of the shm directory whose names start with "shmipc.<uid>.<prefix>" (and, if
 * id is not 0, whose pool has that id); the last one's name into last (if not NULL). */
static int shm_files(const char *prefix, uint64_t id, char *last, size_t cap)
{
    const char *dir = getenv("SHMIPC_SHM_DIR") ? getenv("SHMIPC_SHM_DIR") : "/dev/shm";
    char want[SHMIPC_NAME_MAX + 32];
    struct dirent *e;
    DIR *d = opendir(dir);
    size_t user = (size_t)snprintf(want, sizeof want, "shmipc.%u.", (unsigned)getuid());
    int n = 0;

    snprintf(want + user, sizeof want - user, "%s", prefix);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, want, strlen(want)) != 0 ||
            (id && id_of_pool(e->d_name + user) != id))
            continue;
        n++;
        if (last)
            snprintf(last, cap, "%s", e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

/* The arena's name with the job's suffix: "<name>.mpi." (the token follows). */
static const char *suffixed(const char *name)
{
    static char buf[SHMIPC_NAME_MAX + 1];

    snprintf(buf, sizeof buf, "%s.mpi.", name);
    return buf;
}

/* MPI_Finalize, then: every communicator the library made is freed, the arena's name is
 * gone, and the library says MPI is finalized. */
static int finish(const char *name)
{
    shmipc_arena *a;
    int before = live_comms, rc;

    MPI_Finalize();
    if (live_comms != 0)
        printf("not ok - rank %d: %d communicators left after MPI_Finalize\n", rank,
               live_comms),
            failures++;
    else if (rank == 0)
        printf("ok - MPI_Finalize freed the %d cached communicators (no cleanup call)\n",
               before);
    if (rank == 0 && name) {
        int left = shm_files(suffixed(name), 0, NULL, 0);
        printf("%sok - the creating rank unlinked '%s' at MPI_Finalize (%d left)\n",
               left ? "not " : "", suffixed(name), left);
        failures += left != 0;
    }
    rc = shmipc_mpi_arena_open("x", MiB, SHMIPC_SCOPE_NODE, MPI_COMM_WORLD, &a);
    if (!rc_is(rc, SHMIPC_EINVAL, "finalized"))
        printf("not ok - rank %d: after MPI_Finalize: %d (%s)\n", rank, rc,
               shmipc_error_detail()),
            failures++;
    else if (rank == 0)
        printf("ok - after MPI_Finalize: EINVAL (%s)\n", shmipc_error_detail());
    fflush(stdout);
    return failures ? 1 : 0;
}

/* ---- share: one node, every rank ---------------------------------------------------- */
/* The first rank of the arena's communicator writes a table; every rank sums it. */
static void share_table(shmipc_arena *a, MPI_Comm node)
{
    double *t = NULL, sum = 0, want = 0, lo, hi;
    int me, rc = -1;

    MPI_Comm_rank(node, &me);
    if (me == 0) {
        rc = shmipc_named_alloc(a, "table", TABLE_N * sizeof *t, (void **)&t);
        for (int i = 0; rc == 1 && i < TABLE_N; i++)
            t[i] = i * 0.5;
    }
    MPI_Barrier(node);
    if (me != 0)
        rc = shmipc_named_alloc(a, "table", TABLE_N * sizeof *t, (void **)&t);
    check(rc == (me == 0), "the first rank creates the table, the others find it");
    for (int i = 0; rc >= 0 && i < TABLE_N; i++) {
        sum += t[i];
        want += i * 0.5;
    }
    MPI_Allreduce(&sum, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&sum, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    check(sum == want && lo == hi, "every rank sums the %d doubles the first rank wrote: %.1f",
          TABLE_N, sum);
    MPI_Barrier(node);
    shmipc_named_free(a, "table");
}

/* Every rank writes its own slot; every rank then sees every slot. */
static void share_writes(shmipc_arena *a, MPI_Comm node)
{
    int *slots, rc, seen = 0;

    rc = shmipc_named_alloc(a, "slots", (size_t)nranks * sizeof *slots, (void **)&slots);
    if (rc >= 0)
        slots[rank] = rank + 1;
    MPI_Barrier(node);
    for (int i = 0; rc >= 0 && i < nranks; i++)
        seen += slots[i] == i + 1;
    check(seen == nranks, "every rank sees the writes of all %d ranks", nranks);
    MPI_Barrier(node);
    shmipc_named_free(a, "slots");
}

static void share_socket(const char *name)
{
    char sname[SHMIPC_NAME_MAX];
    shmipc_arena *s = NULL;
    MPI_Comm c = MPI_COMM_NULL;
    int pkg = -1, alike;

    snprintf(sname, sizeof sname, "%s-socket", name);
    shmipc_cpu_package(&pkg);
    alike = ranks_alike(pkg);
    check(shmipc_mpi_arena_open(sname, 4 * MiB, SHMIPC_SCOPE_SOCKET, MPI_COMM_WORLD, &s) == 0 &&
              shmipc_mpi_arena_comm(s, MPI_COMM_WORLD, &c) == 0 && comm_size(c) == alike,
          "socket scope: %s",
          alike == nranks ? "this machine has one CPU package: all ranks "
                            "together in one arena"
                          : "the ranks of each package together");
    check(same_everywhere(c, pool_id(s)), "socket scope: one pool per package");
    shmipc_arena_close(s);
}

/* A communicator freed by the user takes what was cached for it along. */
static void share_freed_comm(shmipc_arena *a)
{
    MPI_Comm dup, c = MPI_COMM_NULL;
    int before;

    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    before = live_comms;
    check(shmipc_mpi_arena_comm(a, dup, &c) == 0 && comm_size(c) == nranks,
          "the arena's communicator of another communicator");
    MPI_Comm_free(&dup);
    check(live_comms == before - 1, "freeing that communicator frees what was cached for it");
}

static int share(const char *name)
{
    char file[256] = "";
    shmipc_arena *a = NULL, *again = NULL;
    MPI_Comm node = MPI_COMM_NULL, node2 = MPI_COMM_NULL, direct;
    int cmp = MPI_UNEQUAL, rc, named;

    rc = shmipc_mpi_arena_open(name, 8 * MiB, SHMIPC_SCOPE_NODE, MPI_COMM_WORLD, &a);
    if (!check(rc == 0, "every rank opens '%s' (one rank creates, the others attach)", name))
        return finish(NULL);
    check(same_everywhere(MPI_COMM_WORLD, pool_id(a)), "every rank maps the same pool");
    named = rank != 0 || /* rank 0 looks: one file, "shmipc.<uid>.<name>.mpi.<16 hex>" */
            (shm_files(suffixed(name), 0, file, sizeof file) == 1 &&
             strlen(file) ==
                 (size_t)snprintf(NULL, 0, "shmipc.%u.%s", (unsigned)getuid(), suffixed(name)) +
                     16);
    check(named, "its pool is named with the job's suffix: %s", file);
    check(shmipc_mpi_arena_open(name, 8 * MiB, SHMIPC_SCOPE_NODE, MPI_COMM_WORLD, &again) ==
                  0 &&
              pool_id(again) == pool_id(a),
          "opening the name again finds the same arena");
    shmipc_arena_close(again);

    PMPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &direct);
    rc = shmipc_mpi_arena_comm(a, MPI_COMM_WORLD, &node);
    if (rc == 0)
        MPI_Comm_compare(node, direct, &cmp);
    check(rc == 0 && comm_size(node) == nranks && cmp == MPI_CONGRUENT,
          "the arena's communicator: the %d ranks of this node, in order", nranks);
    PMPI_Comm_free(&direct);
    check(shmipc_mpi_arena_comm(a, MPI_COMM_WORLD, &node2) == 0 && node2 == node,
          "asked again, the cached communicator");
    share_table(a, node);
    share_writes(a, node);
    share_socket(name);
    share_freed_comm(a);
    shmipc_arena_close(a);
    return finish(name);
}

/* ---- errors ------------------------------------------------------------------------- */
static int errors(const char *name, int rc_before_init, const char *detail_before_init)
{
    char longname[SHMIPC_MPI_NAME_MAX + 2], other[SHMIPC_NAME_MAX];
    shmipc_arena *a = NULL, *b = NULL;
    MPI_Comm c, half, inter;
    int rc;

    check(rc_before_init == SHMIPC_EINVAL && strstr(detail_before_init, "not initialized"),
          "before MPI_Init: EINVAL (%s)", detail_before_init);
    check(rc_is(shmipc_mpi_arena_open(NULL, MiB, 0, MPI_COMM_WORLD, &a), SHMIPC_EINVAL,
                "arena name is NULL"),
          "NULL name: EINVAL");
    check(rc_is(shmipc_mpi_arena_open("", MiB, 0, MPI_COMM_WORLD, &a), SHMIPC_EINVAL,
                "arena name is empty"),
          "empty name: EINVAL");
    check(rc_is(shmipc_mpi_arena_open(name, MiB, 0, MPI_COMM_WORLD, NULL), SHMIPC_EINVAL,
                "out is NULL"),
          "NULL out: EINVAL");
    check(rc_is(shmipc_mpi_arena_open(name, MiB, 0, MPI_COMM_NULL, &a), SHMIPC_EINVAL,
                "MPI_COMM_NULL"),
          "MPI_COMM_NULL: EINVAL");
    check(rc_is(shmipc_mpi_arena_open(name, MiB, 7, MPI_COMM_WORLD, &a), SHMIPC_EINVAL,
                "unknown arena scope 7"),
          "unknown scope: EINVAL");
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    check(rc_is(shmipc_mpi_arena_open(longname, MiB, 0, MPI_COMM_WORLD, &a), SHMIPC_EINVAL,
                "SHMIPC_MPI_NAME_MAX"),
          "a name of %d bytes, too long with the job's suffix: "
          "EINVAL (%s)",
          SHMIPC_MPI_NAME_MAX + 1, shmipc_error_detail());
    snprintf(longname, sizeof longname, "%s", name);
    memset(longname + strlen(name), 'n', SHMIPC_MPI_NAME_MAX - strlen(name));
    longname[SHMIPC_MPI_NAME_MAX] = '\0';
    check(shmipc_mpi_arena_open(longname, MiB, 0, MPI_COMM_WORLD, &a) == 0,
          "a name of SHMIPC_MPI_NAME_MAX (%d) bytes fits", SHMIPC_MPI_NAME_MAX);
    shmipc_arena_close(a);
    rc = shmipc_mpi_arena_open("bad name", MiB, 0, MPI_COMM_WORLD, &a);
    check(rc_is(rc, SHMIPC_EINVAL, rank == 0 ? "character 0x20" : "rank 0: arena name"),
          "a name the core refuses: EINVAL on every rank, with the first rank's detail");
    check(rc_is(shmipc_mpi_arena_open(name, 1024, 0, MPI_COMM_WORLD, &a), SHMIPC_EINVAL,
                "below the minimum"),
          "too small an arena: EINVAL on every rank");

    /* one rank's bad argument fails the call on every rank, and says whose it was */
    rc = shmipc_mpi_arena_open(rank == 1 ? NULL : name, MiB, 0, MPI_COMM_WORLD, &a);
    check(rc_is(rc, SHMIPC_EINVAL,
                rank == 1 ? "arena name is NULL" : "rank 1: arena name is NULL"),
          "rank 1 passes NULL: every rank gets EINVAL and the detail names rank 1");

    check(shmipc_mpi_arena_open(name, MiB, 0, MPI_COMM_WORLD, &b) == 0, "a good open");
    check(rc_is(shmipc_mpi_arena_comm(NULL, MPI_COMM_WORLD, &c), SHMIPC_EINVAL,
                "arena is NULL"),
          "arena_comm of NULL: EINVAL");
    check(rc_is(shmipc_mpi_arena_comm(b, MPI_COMM_WORLD, NULL), SHMIPC_EINVAL, "out is NULL"),
          "arena_comm into NULL: EINVAL");
    check(rc_is(shmipc_mpi_arena_comm(b, MPI_COMM_NULL, &c), SHMIPC_EINVAL, "MPI_COMM_NULL"),
          "arena_comm of MPI_COMM_NULL: EINVAL");
    snprintf(other, sizeof other, "%s-inter", name);
    PMPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
    PMPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 ? 0 : 1, 7, &inter);
    check(rc_is(shmipc_mpi_arena_comm(b, inter, &c), SHMIPC_EINVAL, "intercommunicator") &&
              rc_is(shmipc_mpi_arena_open(other, MiB, 0, inter, &a), SHMIPC_EINVAL,
                    "intercommunicator"),
          "an intercommunicator: EINVAL");
    PMPI_Comm_free(&inter);
    PMPI_Comm_free(&half);
    shmipc_arena_close(b);
    return finish(name);
}

/* ---- socket: a fake topology of two packages (cpu0: 0, cpu1: 1) ---------------------- */
static void bind_to(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static int socket_bound(const char *name)
{
    char node_name[SHMIPC_NAME_MAX];
    shmipc_arena *s = NULL, *n = NULL;
    MPI_Comm c = MPI_COMM_NULL, cn = MPI_COMM_NULL;
    int pkg = -1, *mine = NULL, me, rc;

    bind_to(rank % 2);
    rc = shmipc_cpu_package(&pkg);
    check(rc == 0 && pkg == rank % 2, "rank bound to cpu%d: package %d", rank % 2, pkg);
    rc = shmipc_mpi_arena_open(name, 4 * MiB, SHMIPC_SCOPE_SOCKET, MPI_COMM_WORLD, &s);
    check(rc == 0 && shmipc_mpi_arena_comm(s, MPI_COMM_WORLD, &c) == 0 &&
              comm_size(c) == ranks_alike(pkg),
          "socket scope: the arena's communicator holds the %d ranks of the package",
          ranks_alike(pkg));
    check(same_everywhere(c, pool_id(s)) &&
              ranks_alike((int)(pool_id(s) & 0x7fffffff)) == ranks_alike(pkg),
          "one pool per package, another for each package");
    if (rc == 0 && c != MPI_COMM_NULL &&
        shmipc_named_alloc(s, "package", sizeof *mine, (void **)&mine) >= 0) {
        MPI_Comm_rank(c, &me);
        if (me == 0)
            *mine = pkg;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    check(mine && *mine == pkg,
          "each package's ranks read what their package's first rank wrote");
    MPI_Barrier(MPI_COMM_WORLD);
    if (mine)
        shmipc_named_free(s, "package");
    snprintf(node_name, sizeof node_name, "%s-node", name);
    check(shmipc_mpi_arena_open(node_name, 4 * MiB, SHMIPC_SCOPE_NODE, MPI_COMM_WORLD, &n) ==
                  0 &&
              shmipc_mpi_arena_comm(n, MPI_COMM_WORLD, &cn) == 0 && comm_size(cn) == nranks,
          "node scope: all %d ranks, whatever their package", nranks);
    MPI_Barrier(MPI_COMM_WORLD);
    shmipc_arena_close(s);
    shmipc_arena_close(n);
    return finish(name);
}

static int socket_mixed(const char *name)
{
    shmipc_arena *s = NULL;
    int rc;

    if (rank % 2 == 0)
        bind_to(0);
    rc = shmipc_mpi_arena_open(name, 4 * MiB, SHMIPC_SCOPE_SOCKET, MPI_COMM_WORLD, &s);
    check(rc_is(rc, SHMIPC_EINVAL, "spans packages 0 and 1") &&
              (rank % 2 || strstr(shmipc_error_detail(), "rank 1: ")),
          "odd ranks unbound: every rank gets EINVAL, the bound ones with rank 1's detail");
    return finish(NULL);
}

/* ---- concurrent: one of two jobs with the same name at once --------------------------- */
static int wait_for_file(const char *path)
{
    for (int i = 0; i < 400; i++) {
        if (access(path, F_OK) == 0)
            return 1;
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    return 0;
}

static int concurrent(const char *name, const char *dir, const char *label)
{
    char path[512], file[256] = "", *owner = NULL;
    shmipc_arena *a = NULL;
    int rc, both = 0;

    rc = shmipc_mpi_arena_open(name, 4 * MiB, SHMIPC_SCOPE_NODE, MPI_COMM_WORLD, &a);
    if (rc == 0 && shmipc_named_alloc(a, "owner", 64, (void **)&owner) == 1)
        snprintf(owner, 64, "%s", label);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        FILE *f;
        shm_files(suffixed(name), pool_id(a), file, sizeof file); /* not the other job's */
        snprintf(path, sizeof path, "%s/%s.name", dir, label);
        if ((f = fopen(path, "w")) != NULL) {
            fprintf(f, "%s\n", file);
            fclose(f);
        }
        snprintf(path, sizeof path, "%s/%s.open", dir, label);
        if ((f = fopen(path, "w")) != NULL)
            fclose(f);
        snprintf(path, sizeof path, "%s/%s.open", dir, strcmp(label, "a") ? "a" : "b");
        both = wait_for_file(path);
    }
    MPI_Bcast(&both, 1, MPI_INT, 0, MPI_COMM_WORLD);
    check(both && owner && strcmp(owner, label) == 0,
          "job %s: with the other job's arena of the same name open, its own is its own",
          label);
    MPI_Barrier(MPI_COMM_WORLD);
    shmipc_named_free(a, "owner");
    shmipc_arena_close(a);
    return finish(NULL);
}

/* ---- kill: a rank dies; the job with it ---------------------------------------------- */
static int kill_rank(const char *name)
{
    shmipc_arena *a = NULL;

    check(shmipc_mpi_arena_open(name, 4 * MiB, SHMIPC_SCOPE_NODE, MPI_COMM_WORLD, &a) == 0,
          "every rank opens '%s'", name);
    if (rank == nranks - 1) {
        printf("# rank %d: SIGKILL\n", rank);
        fflush(stdout);
        raise(SIGKILL);
    }
    MPI_Barrier(MPI_COMM_WORLD); /* never passed: mpirun ends the job */
    return 1;
}

int main(int argc, char **argv)
{
    char detail[512];
    const char *mode = argc > 2 ? argv[1] : "", *name = argc > 2 ? argv[2] : "";
    /* before MPI_Init */
    int rc_before = shmipc_mpi_arena_comm(NULL, MPI_COMM_WORLD, &(MPI_Comm){MPI_COMM_NULL});

    snprintf(detail, sizeof detail, "%s", shmipc_error_detail());
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (strcmp(mode, "share") == 0)
        return share(name);
    if (strcmp(mode, "errors") == 0)
        return errors(name, rc_before, detail);
    if (strcmp(mode, "socket") == 0 && argc > 3)
        return strcmp(argv[3], "bind") == 0 ? socket_bound(name) : socket_mixed(name);
    if (strcmp(mode, "concurrent") == 0 && argc > 4)
        return concurrent(name, argv[3], argv[4]);
    if (strcmp(mode, "kill") == 0)
        return kill_rank(name);
    if (rank == 0)
        fprintf(stderr, "usage: helper_mpi share|errors|socket|concurrent|kill NAME ...\n");
    MPI_Finalize();
    return 2;
}
