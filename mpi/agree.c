/* agree.c — failures of libshmipc_mpi and the ranks' agreement on them. A collective call
 * must not leave some ranks waiting in MPI for ranks that gave up: after every step that
 * may fail locally the ranks agree (one allreduce), and when one failed, all return an
 * error, with the failing rank's detail broadcast to the others. */
#include <stdarg.h>
#include <stdio.h>

#include "mpi_internal.h"

#define DETAIL_MAX 512

int shmipc__mpi_fail(int code, const char *fmt, ...)
{
    char text[DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return shmipc_error_set(code, text);
}

int shmipc__mpi_check(int err, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;

    if (err == MPI_SUCCESS)
        return 0;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", err);
    return shmipc__mpi_fail(SHMIPC_ESYS, "%s failed: %s", call, text);
}

int shmipc__mpi_usable(MPI_Comm comm)
{
    int initialized = 0, finalized = 0, inter = 0;

    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
        return shmipc__mpi_fail(SHMIPC_EINVAL,
                                "MPI is %s: call shmipc_mpi_* between "
                                "MPI_Init and MPI_Finalize",
                                finalized ? "finalized" : "not initialized");
    if (comm == MPI_COMM_NULL)
        return shmipc__mpi_fail(SHMIPC_EINVAL, "comm is MPI_COMM_NULL");
    if (MPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter)
        return shmipc__mpi_fail(SHMIPC_EINVAL,
                                "comm is an intercommunicator: the ranks that "
                                "share an arena are found in an intracommunicator");
    return 0;
}

/* Everyone gets the code and detail of rank `root`, which failed. */
static int share_failure(MPI_Comm comm, int root, int rc)
{
    char detail[DETAIL_MAX];
    int code = rc, err;

    snprintf(detail, sizeof detail, "%s", shmipc_error_detail());
    err = MPI_Bcast(&code, 1, MPI_INT, root, comm);
    if (err == MPI_SUCCESS)
        err = MPI_Bcast(detail, DETAIL_MAX, MPI_CHAR, root, comm);
    if (err != MPI_SUCCESS)
        return shmipc__mpi_check(err, "MPI_Bcast (a rank's failure)");
    if (rc != 0)
        return rc; /* this rank failed too: its own account stands */
    detail[DETAIL_MAX - 1] = '\0';
    return shmipc__mpi_fail(code, "rank %d: %s", root, detail);
}

int shmipc__mpi_agree(MPI_Comm comm, int rc, int *all)
{
    int me, size, in[2], out[2], err;

    if ((err = MPI_Comm_rank(comm, &me)) != MPI_SUCCESS ||
        (err = MPI_Comm_size(comm, &size)) != MPI_SUCCESS)
        return shmipc__mpi_check(err, "MPI_Comm_rank");
    in[0] = rc != 0 ? me : size; /* the lowest failing rank, or size if none failed */
    in[1] = all ? *all : 1;      /* MIN of 0/1 flags is their AND */
    if ((err = MPI_Allreduce(in, out, 2, MPI_INT, MPI_MIN, comm)) != MPI_SUCCESS)
        return shmipc__mpi_check(err, "MPI_Allreduce (the ranks' outcomes)");
    if (all)
        *all = out[1];
    if (out[0] == size)
        return 0;
    return share_failure(comm, out[0], rc);
}
