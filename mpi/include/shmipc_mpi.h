/* shmipc_mpi — shmipc's named arenas across the ranks of an MPI job (libshmipc_mpi).
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
#define SHMIPC_MPI_API
#endif

/* The suffix that makes an arena's name unique to the job: ".mpi." and 16 hex digits. */
#define SHMIPC_MPI_SUFFIX_LEN 21
/* The longest name shmipc_mpi_arena_open takes (the suffix must fit in SHMIPC_NAME_MAX). */
#define SHMIPC_MPI_NAME_MAX (SHMIPC_NAME_MAX - SHMIPC_MPI_SUFFIX_LEN)

/* Open the arena `name` on every rank of comm. In each node (SHMIPC_SCOPE_NODE) or in each
 * CPU package of a node (SHMIPC_SCOPE_SOCKET: every rank must be bound to CPUs of one
 * package, else EINVAL) one rank opens it — creating it with `size` bytes if it does not
 * exist — and the others attach to that arena after it. The arena's pool is named
 * "<name>.mpi.<job token>": the token is drawn once by rank 0 of the first communicator a
 * job uses here (normally MPI_COMM_WORLD) and learnt by every rank of that call; a call
 * uses the token of its comm's rank 0. So every call of a job with one name opens the same
 * arena, and two jobs on one host never share one. The creating rank unlinks the name at
 * MPI_Finalize (no cleanup call); what a job that dies leaves, `shmipc gc` removes.
 * Errors: EINVAL (NULL name or out, MPI_COMM_NULL, an intercommunicator, MPI not
 * initialised, a name longer than SHMIPC_MPI_NAME_MAX, an unknown scope, a rank not bound
 * to one package for SHMIPC_SCOPE_SOCKET), ENOENT (the creator's arena was replaced before
 * a rank attached), and those of shmipc_arena_open. */
SHMIPC_MPI_API int shmipc_mpi_arena_open(const char *name, size_t size, int scope,
                                         MPI_Comm comm, shmipc_arena **out);

/* The communicator of the ranks of comm that share arena a — within each node
 * (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)), the ranks whose arena maps the same pool:
 * for a socket-scope arena, the ranks bound to the same package. Each rank passes its own
 * arena. Ranks are ordered as in comm. The result is cached per comm and arena (a repeated
 * call costs one allreduce) and belongs to the library: do not free it; it is freed with
 * comm, or at MPI_Finalize. Errors: EINVAL (NULL a or out, MPI_COMM_NULL, an
 * intercommunicator, MPI not initialised). */
SHMIPC_MPI_API int shmipc_mpi_arena_comm(shmipc_arena *a, MPI_Comm comm, MPI_Comm *out);

#ifdef __cplusplus
}
#endif
#endif /* SHMIPC_MPI_H */
