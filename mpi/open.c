/* open.c — shmipc_mpi_arena_open: per node (or per CPU package of a node) one rank opens
 * the arena, creating it if need be, and the others attach to it after it; the name gets
 * the job's token, so that two jobs on one host never meet in one arena. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mpi_internal.h"

static _Atomic uint64_t job_token; /* 0 until this process has taken part in an open */

static int check_args(const char *name, int scope, shmipc_arena **out)
{
    size_t len;

    if (!out)
        return shmipc__mpi_fail(SHMIPC_EINVAL, "out is NULL");
    if (!name)
        return shmipc__mpi_fail(SHMIPC_EINVAL, "arena name is NULL");
    len = strnlen(name, SHMIPC_NAME_MAX + 1);
    if (len == 0)
        return shmipc__mpi_fail(SHMIPC_EINVAL, "arena name is empty");
    if (len > SHMIPC_MPI_NAME_MAX)
        return shmipc__mpi_fail(SHMIPC_EINVAL,
                                "arena name '%.40s...' is too long: with the "
                                "job's suffix '.mpi.<16 hex digits>' it may have at most %d "
                                "bytes (SHMIPC_MPI_NAME_MAX)",
                                name, SHMIPC_MPI_NAME_MAX);
    if (scope != SHMIPC_SCOPE_NODE && scope != SHMIPC_SCOPE_SOCKET)
        return shmipc__mpi_fail(SHMIPC_EINVAL, "unknown arena scope %d", scope);
    return 0;
}

static uint64_t draw_token(void)
{
    uint64_t t = 0;

    while (t == 0 && getrandom(&t, sizeof t, 0) != (ssize_t)sizeof t)
        t = (uint64_t)time(NULL) * UINT64_C(2654435761) ^ ((uint64_t)getpid() << 32);
    return t;
}

/* The token of comm's rank 0 (drawn there if it has none), learnt by ranks that have none. */
static int share_token(MPI_Comm comm, uint64_t *token)
{
    uint64_t expected = 0;
    int me, rc;

    MPI_Comm_rank(comm, &me);
    if (me == 0 && job_token == 0)
        job_token = draw_token();
    *token = job_token;
    rc = shmipc__mpi_check(MPI_Bcast(token, 1, MPI_UINT64_T, 0, comm), "MPI_Bcast (job token)");
    if (rc == 0)
        atomic_compare_exchange_strong(&job_token, &expected, *token);
    return rc;
}

/* The ranks of comm that share one arena of this scope: a node's, or a package's in it. */
static int scope_comm(MPI_Comm comm, int scope, MPI_Comm *out)
{
    MPI_Comm node;
    int rc, me, package = 0;

    if ((rc = shmipc__mpi_node_comm(comm, &node)) != 0)
        return rc;
    if (scope == SHMIPC_SCOPE_SOCKET)
        rc = shmipc_cpu_package(&package);
    if ((rc = shmipc__mpi_agree(comm, rc, NULL)) == 0) {
        MPI_Comm_rank(node, &me);
        rc = shmipc__mpi_check(MPI_Comm_split(node, package, me, out), "MPI_Comm_split");
    }
    MPI_Comm_free(&node);
    return rc;
}

/* The group's rank 0 opens the arena, then the others attach to the same pool. When the
 * first fails the others return 0 without an arena: the agreement that follows gives every
 * rank the first's account. */
static int open_in_group(MPI_Comm group, const char *name, size_t size, int scope,
                         shmipc_arena **out)
{
    int64_t first[2] = {0, 0}; /* the opener's rc and pool id */
    int me, rc = 0, err;

    *out = NULL;
    MPI_Comm_rank(group, &me);
    if (me == 0) {
        if ((rc = shmipc_arena_open(name, size, scope, out)) == 0) {
            first[1] = (int64_t)shmipc_pool_id(shmipc_arena_pool(*out));
            rc = shmipc__mpi_unlink_at_finalize(name);
        }
        first[0] = rc;
    }
    if ((err = shmipc__mpi_check(MPI_Bcast(first, 2, MPI_INT64_T, 0, group), "MPI_Bcast")) != 0)
        return err;
    if (me == 0 || first[0] != 0)
        return rc;
    if ((rc = shmipc_arena_open(name, size, scope, out)) == 0 &&
        shmipc_pool_id(shmipc_arena_pool(*out)) != (uint64_t)first[1])
        rc = shmipc__mpi_fail(SHMIPC_ENOENT,
                              "arena '%s' is not the one the first rank of "
                              "this node opened: it was removed and made again meanwhile",
                              name);
    return rc;
}

int shmipc_mpi_arena_open(const char *name, size_t size, int scope, MPI_Comm comm,
                          shmipc_arena **out)
{
    char full[SHMIPC_NAME_MAX + 1];
    shmipc_arena *a = NULL;
    MPI_Comm group;
    uint64_t token;
    int rc;

    if ((rc = shmipc__mpi_usable(comm)) != 0)
        return rc;
    if ((rc = shmipc__mpi_agree(comm, check_args(name, scope, out), NULL)) != 0 ||
        (rc = share_token(comm, &token)) != 0 || (rc = scope_comm(comm, scope, &group)) != 0)
        return rc;
    snprintf(full, sizeof full, "%s.mpi.%016" PRIx64, name, token);
    rc = open_in_group(group, full, size, scope, &a);
    /* The group is what shmipc_mpi_arena_comm computes for this arena: the cache keeps it
     * (and frees it in the end); if it cannot, it goes now. */
    if (rc != 0 || !a ||
        (rc = shmipc__mpi_cache_put(comm, shmipc_pool_id(shmipc_arena_pool(a)), group)) != 0)
        MPI_Comm_free(&group);
    if ((rc = shmipc__mpi_agree(comm, rc, NULL)) != 0) {
        shmipc_arena_close(a);
        return rc;
    }
    *out = a;
    return 0;
}
