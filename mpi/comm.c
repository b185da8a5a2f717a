/* comm.c — shmipc_mpi_arena_comm: the ranks that share an arena are, among the ranks of a
 * node (MPI_COMM_TYPE_SHARED), those that map the same pool. Grouping by the pool's id
 * rather than by scope finds exactly who shares memory: a socket-scope arena's ranks are
 * those bound to one package (its pool is that package's), and an arena opened another way
 * (by a name of the user's, from a pool received by fd) is grouped just as well. */
#include <stdlib.h>

#include "mpi_internal.h"

int shmipc__mpi_node_comm(MPI_Comm comm, MPI_Comm *out)
{
    int me;

    MPI_Comm_rank(comm, &me);
    return shmipc__mpi_check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL,
                                                 out),
                             "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)");
}

/* Split node by the pool each rank maps: the colour is the lowest rank with the same id. */
static int split_by_pool(MPI_Comm node, uint64_t pool_id, MPI_Comm *out)
{
    uint64_t *ids;
    int me, size, colour, rc;

    MPI_Comm_rank(node, &me);
    MPI_Comm_size(node, &size);
    if (!(ids = malloc((size_t)size * sizeof *ids)))
        return shmipc__mpi_fail(SHMIPC_ENOMEM, "out of memory for %d pool ids", size);
    rc = shmipc__mpi_check(MPI_Allgather(&pool_id, 1, MPI_UINT64_T, ids, 1, MPI_UINT64_T, node),
                           "MPI_Allgather (the ranks' pools)");
    if (rc == 0) {
        for (colour = 0; colour < me && ids[colour] != pool_id; colour++)
            ;
        rc = shmipc__mpi_check(MPI_Comm_split(node, colour, me, out), "MPI_Comm_split");
    }
    free(ids);
    return rc;
}

/* The ranks of comm that map the pool pool_id. */
static int sharing_comm(MPI_Comm comm, uint64_t pool_id, MPI_Comm *out)
{
    MPI_Comm node;
    int rc;

    if ((rc = shmipc__mpi_node_comm(comm, &node)) != 0)
        return rc;
    rc = split_by_pool(node, pool_id, out);
    MPI_Comm_free(&node);
    return rc;
}

int shmipc_mpi_arena_comm(shmipc_arena *a, MPI_Comm comm, MPI_Comm *out)
{
    MPI_Comm found = MPI_COMM_NULL, made = MPI_COMM_NULL;
    uint64_t pool_id = 0;
    int rc, cached;

    if ((rc = shmipc__mpi_usable(comm)) != 0)
        return rc;
    if (!a || !out)
        rc = shmipc__mpi_fail(SHMIPC_EINVAL, "%s is NULL", a ? "out" : "arena");
    else
        pool_id = shmipc_pool_id(shmipc_arena_pool(a));
    cached = rc == 0 && (found = shmipc__mpi_cache_get(comm, pool_id)) != MPI_COMM_NULL;
    /* computed again unless every rank has it: each must take part in the splits */
    if ((rc = shmipc__mpi_agree(comm, rc, &cached)) != 0)
        return rc;
    if (!cached) {
        if ((rc = sharing_comm(comm, pool_id, &made)) == 0 &&
            (rc = shmipc__mpi_cache_put(comm, pool_id, made)) != 0)
            MPI_Comm_free(&made);
        if ((rc = shmipc__mpi_agree(comm, rc, NULL)) != 0)
            return rc;
        found = made;
    }
    *out = found;
    return 0;
}
