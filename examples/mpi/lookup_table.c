/* lookup_table — one copy per node of a read-mostly table, shared by the node's ranks.
 *
 * The first rank of each node writes a table of N doubles into a named arena that the
 * node's ranks open together (shmipc_mpi_arena_open); every rank sums it in place. The
 * same with plain MPI for comparison: every rank gets a copy by MPI_Bcast and sums that.
 * Each node then says what the table costs it: once, against one copy per rank.
 *
 *     mpirun -np 4 examples/mpi/lookup_table [N]       (N = 1000000 doubles by default)
 */
#include <stdio.h>
#include <stdlib.h>

#include "shmipc_mpi.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "lookup_table: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static double entry(size_t i)
{
    return 1.0 / (double)(i + 1);
}

static double sum(const double *t, size_t n)
{
    double s = 0;

    for (size_t i = 0; i < n; i++)
        s += t[i];
    return s;
}

/* The node's table: written by its first rank, found by the others once it is written. */
static double *shared_table(shmipc_arena *a, MPI_Comm node, size_t n)
{
    double *t;
    int me, rc;

    MPI_Comm_rank(node, &me);
    if (me == 0) {
        if ((rc = shmipc_named_alloc(a, "table", n * sizeof *t, (void **)&t)) < 0)
            die("shmipc_named_alloc", rc);
        for (size_t i = 0; i < n; i++)
            t[i] = entry(i);
    }
    MPI_Barrier(node);
    if (me != 0 && (rc = shmipc_named_alloc(a, "table", n * sizeof *t, (void **)&t)) < 0)
        die("shmipc_named_alloc", rc);
    return t;
}

/* The plain MPI way: rank 0 fills a table, every rank receives a copy of its own. */
static double *copied_table(size_t n)
{
    double *t = malloc(n * sizeof *t);
    int rank;

    if (!t)
        die("malloc", SHMIPC_ENOMEM);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (size_t i = 0; rank == 0 && i < n; i++)
        t[i] = entry(i);
    MPI_Bcast(t, (int)n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    return t;
}

int main(int argc, char **argv)
{
    char host[MPI_MAX_PROCESSOR_NAME];
    struct shmipc_arena_stats st;
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, bytes;
    shmipc_arena *a;
    MPI_Comm node;
    double *shared, *copy, s_shared, s_copy;
    int rank, me, ranks_here, len, rc, agree, all_agree;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (n == 0 || n > ((size_t)1 << 28)) {
        if (rank == 0)
            fprintf(stderr, "usage: lookup_table [N], 0 < N <= 2^28 doubles\n");
        MPI_Finalize();
        return 2;
    }
    bytes = n * sizeof(double);
    if ((rc = shmipc_mpi_arena_open("lookup_table", bytes + ((size_t)1 << 20),
                                    SHMIPC_SCOPE_NODE, MPI_COMM_WORLD, &a)) != 0)
        die("shmipc_mpi_arena_open", rc);
    if ((rc = shmipc_mpi_arena_comm(a, MPI_COMM_WORLD, &node)) != 0)
        die("shmipc_mpi_arena_comm", rc);
    MPI_Comm_rank(node, &me);
    MPI_Comm_size(node, &ranks_here);

    shared = shared_table(a, node, n);
    copy = copied_table(n);
    s_shared = sum(shared, n);
    s_copy = sum(copy, n);
    agree = s_shared == s_copy;
    MPI_Allreduce(&agree, &all_agree, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);

    shmipc_arena_stats(a, &st);
    MPI_Get_processor_name(host, &len);
    if (me == 0)
        printf("node %s: %d ranks; the table of %zu doubles (%.1f MiB): shmipc holds it once "
               "(%.1f MiB used in the arena), plain MPI %d times (%.1f MiB)\n",
               host, ranks_here, n, bytes / 1048576.0, st.used / 1048576.0, ranks_here,
               ranks_here * (bytes / 1048576.0));
    fflush(stdout);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0)
        printf("every rank summed it: %.9f, %s\n", s_shared,
               all_agree ? "the shared table and the copies agree"
                         : "MISMATCH between the shared table and the copies");

    MPI_Barrier(node); /* nobody reads the table any more */
    shmipc_named_free(a, "table");
    free(copy);
    shmipc_arena_close(a);
    MPI_Finalize();
    return all_agree ? 0 : 1;
}
