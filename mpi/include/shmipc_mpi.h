/**
 * @file shmipc_mpi.h
 * @brief shmipc_mpi — shmipc's named arenas across the ranks of an MPI job (libshmipc_mpi).
 *
 * shmipc shares memory between the processes of one host; MPI connects the hosts. With this
 * library the ranks of each node (or of each CPU package) open one arena together, and learn
 * which ranks share it: one copy of read-mostly data per node, written once, read by all its
 * ranks (Umpire's SHARED resource and get_communicator_for_allocator).
 *
 * Conventions as in shmipc.h: 0 or a negative SHMIPC_E* code, results through
 * out-parameters, shmipc_error_detail() after a failure. Both calls are collective over
 * `comm` (every rank calls them) and succeed or fail together: when a rank fails, every
 * rank returns an error, the others with that rank's code and detail ("rank 3: ...").
 * A failed MPI call is SHMIPC_ESYS with MPI's error string (under MPI's default error
 * handler MPI aborts first). Call them between MPI_Init and MPI_Finalize; with
 * MPI_THREAD_MULTIPLE, as any collective, not concurrently on one communicator.
 * Link with -lshmipc_mpi (pkg-config shmipc_mpi); the core library never needs MPI.
 */
#ifndef SHMIPC_MPI_H
#define SHMIPC_MPI_H

#include <mpi.h>

#include "shmipc.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHMIPC_MPI_BUILDING) && defined(__GNUC__)
#define SHMIPC_MPI_API __attribute__((visibility("default")))
#else
/** Marks the functions libshmipc_mpi exports (default visibility while building it). */
#define SHMIPC_MPI_API
#endif

/** The length of the suffix that makes an arena's name unique to the job: ".mpi." and 16
 * hex digits. */
#define SHMIPC_MPI_SUFFIX_LEN 21
/** The longest name shmipc_mpi_arena_open() takes (the suffix must fit in
 * #SHMIPC_NAME_MAX). */
#define SHMIPC_MPI_NAME_MAX (SHMIPC_NAME_MAX - SHMIPC_MPI_SUFFIX_LEN)

/** Open the arena `name` on every rank of comm: in each node (SHMIPC_SCOPE_NODE) or CPU
 * package of a node (SHMIPC_SCOPE_SOCKET: ranks must be bound to one package) one rank
 * opens it, creating it with `size` bytes if need be, and the others attach after it. Its
 * pool is "<name>.mpi.<token>", the token being the job's (drawn by rank 0 of the first
 * communicator used here): one name is one arena per node within a job, and two jobs never
 * share one. The creating rank unlinks it at MPI_Finalize; `shmipc gc` removes what a job
 * that died left.
 * @return 0, or SHMIPC_EINVAL (NULL or empty name, NULL out, MPI_COMM_NULL, an
 *         intercommunicator, MPI not initialised, a name longer than #SHMIPC_MPI_NAME_MAX,
 *         an unknown scope, a rank not bound to one package), SHMIPC_ENOENT (the arena was
 *         replaced before a rank attached), and those of shmipc_arena_open(). */
SHMIPC_MPI_API int shmipc_mpi_arena_open(const char *name, size_t size, int scope,
                                         MPI_Comm comm, shmipc_arena **out);

/** The communicator of the ranks of comm that share arena a: within each node
 * (MPI_COMM_TYPE_SHARED), those whose arena maps the same pool (for socket scope, the
 * ranks bound to the same package). Each rank passes its own arena; ranks keep comm's order.
 * Cached per comm and arena, and owned by the library: do not free it (it goes with comm,
 * or at MPI_Finalize).
 * @return 0, or SHMIPC_EINVAL (NULL a or out, MPI_COMM_NULL, an intercommunicator, MPI not
 *         initialised). */
SHMIPC_MPI_API int shmipc_mpi_arena_comm(shmipc_arena *a, MPI_Comm comm, MPI_Comm *out);

#ifdef __cplusplus
}
#endif
#endif /* SHMIPC_MPI_H */
