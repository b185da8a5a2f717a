"""The ranks of the MPI jobs of test_mpi.py (run under mpirun). Every rank checks; each
check is reduced over MPI.COMM_WORLD and rank 0 prints one line, "ok - ..." or "not ok -
...". No cleanup call: the module must free and unlink at exit.

  mpi_ranks.py share NAME     open NAME on every rank (node and socket scope): the same pool,
                              the node communicator, the table the first rank wrote
  mpi_ranks.py errors NAME    bad input fails on every rank, and says whose it was
"""

import os
import sys

import numpy
from mpi4py import MPI

import shmipc
import shmipc.mpi

WORLD = MPI.COMM_WORLD
RANK, SIZE = WORLD.Get_rank(), WORLD.Get_size()
TABLE_N = 100_000


def check(cond, text):
    everywhere = WORLD.allreduce(bool(cond), op=MPI.LAND)
    if not cond:
        print(f"# rank {RANK}: failed: {text}", flush=True)
    if RANK == 0:
        print(f"{'' if everywhere else 'not '}ok - {text}", flush=True)


def raises(fn, cls, says):
    """fn() raises cls with `says` in its detail."""
    try:
        fn()
    except cls as e:
        return says in e.detail
    return False


def pool_id(arena):
    return arena._call(lambda a: shmipc.lib.shmipc_pool_id(shmipc.lib.shmipc_arena_pool(a)))


def shm_files(prefix):
    shm = os.environ.get("SHMIPC_SHM_DIR", "/dev/shm")
    return [f for f in os.listdir(shm) if f.startswith(f"shmipc.{os.getuid()}.{prefix}")]


def share(name):
    arena = shmipc.mpi.arena_open(name, 8 << 20, "node", WORLD)
    check(len(set(WORLD.allgather(pool_id(arena)))) == 1, "every rank maps the same pool")
    files = shm_files(f"{name}.mpi.")
    check(
        len(files) == 1 and len(files[0].split(".mpi.")[1]) == 16,
        f"its pool is named with the job's suffix: {files}",
    )
    node = shmipc.mpi.arena_comm(arena, WORLD)
    direct = WORLD.Split_type(MPI.COMM_TYPE_SHARED, key=RANK)
    check(
        node.Get_size() == SIZE and MPI.Comm.Compare(node, direct) == MPI.CONGRUENT,
        f"the arena's communicator: the {SIZE} ranks of this node, in order",
    )
    direct.Free()
    check(shmipc.mpi.arena_comm(arena, WORLD) is node, "asked again, the cached communicator")

    first = node.Get_rank() == 0
    table = arena.named("table", TABLE_N * 8) if first else None
    if first:
        numpy.frombuffer(table, dtype=numpy.float64)[:] = numpy.arange(TABLE_N) * 0.5
    node.Barrier()
    table = table or arena.named("table", TABLE_N * 8)
    total = float(numpy.frombuffer(table, dtype=numpy.float64).sum())
    check(
        table.created == first
        and len(set(WORLD.allgather(total))) == 1
        and total == float((numpy.arange(TABLE_N) * 0.5).sum()),
        f"every rank sums the {TABLE_N} doubles the first rank wrote: {total}",
    )
    node.Barrier()
    table.release()

    socket = shmipc.mpi.arena_open(f"{name}-socket", 4 << 20, "socket", WORLD)
    package = shmipc.mpi._package()
    alike = WORLD.allgather(package).count(package)
    check(
        shmipc.mpi.arena_comm(socket, WORLD).Get_size() == alike,
        "socket scope: "
        + (
            "this machine has one CPU package: all ranks together"
            if alike == SIZE
            else "the ranks of each package together"
        ),
    )
    socket.close()
    arena.close()


def errors(name):
    open_ = shmipc.mpi.arena_open
    check(
        raises(lambda: open_(None), shmipc.InvalidArgument, "arena name is None"),
        "a name that is not a str: InvalidArgument",
    )
    check(raises(lambda: open_(""), shmipc.InvalidArgument, "arena name is empty"), "an empty name")
    check(
        raises(
            lambda: open_("n" * (shmipc.mpi.NAME_MAX + 1)),
            shmipc.InvalidArgument,
            "SHMIPC_MPI_NAME_MAX",
        ),
        "a name too long with the job's suffix",
    )
    check(
        raises(lambda: open_(name, scope="rack"), shmipc.InvalidArgument, "unknown arena scope"),
        "an unknown scope",
    )
    check(
        raises(
            lambda: open_(name, comm=MPI.COMM_NULL), shmipc.InvalidArgument, "not a communicator"
        ),
        "MPI.COMM_NULL",
    )
    check(
        raises(
            lambda: open_(name, size=1024),
            shmipc.InvalidArgument,
            "below the minimum" if RANK == 0 else "rank 0: ",
        ),
        "too small an arena fails on every rank, with the first rank's detail",
    )
    check(
        raises(
            lambda: open_(None if RANK == 1 else name),
            shmipc.InvalidArgument,
            "arena name is None" if RANK == 1 else "rank 1: arena name is None",
        ),
        "rank 1 passes None: every rank raises, and the detail names rank 1",
    )
    check(
        raises(lambda: shmipc.mpi.arena_comm(None), shmipc.InvalidArgument, "not a shmipc.Arena"),
        "arena_comm of None",
    )
    half = WORLD.Split(RANK % 2, RANK)
    inter = half.Create_intercomm(0, WORLD, 1 - RANK % 2, 7)
    check(
        raises(lambda: open_(name, comm=inter), shmipc.InvalidArgument, "intercommunicator"),
        "an intercommunicator",
    )
    inter.Free()
    half.Free()


if __name__ == "__main__":
    {"share": share, "errors": errors}[sys.argv[1]](sys.argv[2])
    # nothing freed or unlinked by hand: at exit shmipc.mpi does it
