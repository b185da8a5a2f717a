/* mpi_internal.h — what the files of libshmipc_mpi share: failures and the ranks' agreement
 * on them (agree.c), node communicators (comm.c), the cache of arena communicators
 * (cache.c) and what runs at MPI_Finalize (finalize.c). Not installed. */
#ifndef SHMIPC_MPI_INTERNAL_H
#define SHMIPC_MPI_INTERNAL_H

#include <stdint.h>

#include "shmipc_mpi.h"

#define SHMIPC_MPI_HIDDEN __attribute__((visibility("hidden")))

/* ---- failures and agreement (agree.c) ----------------------------------------------- */
/* Record a detail for shmipc_error_detail() and return code. */
SHMIPC_MPI_HIDDEN int shmipc__mpi_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* 0 if an MPI call returned MPI_SUCCESS, else ESYS naming the call and MPI's error. */
SHMIPC_MPI_HIDDEN int shmipc__mpi_check(int err, const char *call);
/* 0 if MPI is initialised and not finalised and comm is an intracommunicator, else EINVAL.
 * Local: before it succeeds, the ranks cannot agree on anything. */
SHMIPC_MPI_HIDDEN int shmipc__mpi_usable(MPI_Comm comm);
/* Collective: every rank of comm learns whether any failed its step (rc). Returns 0 if
 * none did; else the failing rank's own rc, and on the others the lowest failing rank's
 * code with its detail ("rank N: ..."). *all, if not NULL, becomes the AND over ranks. */
SHMIPC_MPI_HIDDEN int shmipc__mpi_agree(MPI_Comm comm, int rc, int *all);

/* ---- communicators (comm.c) ---------------------------------------------------------- */
/* The ranks of comm on this node (MPI_COMM_TYPE_SHARED), ordered as in comm. */
SHMIPC_MPI_HIDDEN int shmipc__mpi_node_comm(MPI_Comm comm, MPI_Comm *out);

/* ---- the cache of arena communicators (cache.c) ---------------------------------------- */
/* The communicator cached for (comm, pool_id), or MPI_COMM_NULL. */
SHMIPC_MPI_HIDDEN MPI_Comm shmipc__mpi_cache_get(MPI_Comm comm, uint64_t pool_id);
/* Cache result for (comm, pool_id); on success the cache owns it (freed with comm or at
 * MPI_Finalize). */
SHMIPC_MPI_HIDDEN int shmipc__mpi_cache_put(MPI_Comm comm, uint64_t pool_id, MPI_Comm result);
/* Free every cached communicator (at MPI_Finalize). */
SHMIPC_MPI_HIDDEN void shmipc__mpi_cache_clear(void);

/* ---- at MPI_Finalize (finalize.c) ------------------------------------------------------ */
/* Make sure MPI_Finalize runs the library's clean-up (an attribute on MPI_COMM_SELF, whose
 * delete callback MPI calls first thing in MPI_Finalize). */
SHMIPC_MPI_HIDDEN int shmipc__mpi_at_finalize(void);
/* Unlink the arena `name` at MPI_Finalize. */
SHMIPC_MPI_HIDDEN int shmipc__mpi_unlink_at_finalize(const char *name);

#endif /* SHMIPC_MPI_INTERNAL_H */
