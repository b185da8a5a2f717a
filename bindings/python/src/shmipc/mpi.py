"""shmipc.mpi — named arenas across the ranks of an MPI job, with mpi4py.

    from mpi4py import MPI
    import shmipc.mpi

    arena = shmipc.mpi.arena_open("table", 64 << 20, "node", MPI.COMM_WORLD)
    node = shmipc.mpi.arena_comm(arena, MPI.COMM_WORLD)   # the ranks that share it

The two calls of the C library libshmipc_mpi (``shmipc_mpi.h``), step by step and with the
same names (``<name>.mpi.<job token>``), written in Python over mpi4py and
``shmipc.Arena``: the cffi extension needs no MPI, and mpi4py stays an optional dependency
(this module alone needs it). Its collectives carry Python objects, so the ranks of one
call are all Python or all C. Both calls are collective over ``comm`` and fail together:
when one rank fails, every rank raises, the others with that rank's error class and
detail ("rank 3: ..."). The communicators ``arena_comm`` returns are cached and belong to
this module: they are freed with their communicator or by MPI_Finalize (an attribute of
MPI.COMM_SELF; or when Python exits, if that comes first), which also unlinks the arenas
this process created. Never free them.
"""

from __future__ import annotations

import atexit
import os
from typing import Any, Dict, Optional, Set

try:
    from mpi4py import MPI
except ImportError as e:
    raise ImportError(
        f"shmipc.mpi needs mpi4py ({e}): install it (pip install mpi4py) with an MPI "
        "library (Debian: apt-get install libopenmpi-dev openmpi-bin)"
    ) from e

from ._arena import SCOPES, Arena
from ._errors import Error, NotFound, check, error
from ._lib import ffi, lib

__all__ = ["NAME_MAX", "SUFFIX_LEN", "arena_comm", "arena_open"]

SUFFIX_LEN = 21  #: ".mpi." and 16 hex digits, the job's suffix (SHMIPC_MPI_SUFFIX_LEN)
NAME_MAX = lib.SHMIPC_NAME_MAX - SUFFIX_LEN  #: the longest name (SHMIPC_MPI_NAME_MAX)

_job_token = 0  # 0 until this process has taken part in an arena_open


# ---- agreement: a collective fails on every rank or on none -----------------------------
def _usable(comm) -> None:
    """Local checks: before they pass, the ranks cannot agree on anything."""
    if not MPI.Is_initialized() or MPI.Is_finalized():
        state = "finalized" if MPI.Is_finalized() else "not initialized"
        raise error(
            lib.SHMIPC_EINVAL, f"MPI is {state}: call shmipc.mpi between MPI_Init and MPI_Finalize"
        )
    if not isinstance(comm, MPI.Comm) or comm == MPI.COMM_NULL:
        raise error(lib.SHMIPC_EINVAL, f"comm is {comm!r}, not a communicator")
    if comm.Is_inter():
        raise error(
            lib.SHMIPC_EINVAL,
            "comm is an intercommunicator: the ranks that share an "
            "arena are found in an intracommunicator",
        )


def _agree(comm, failure: Optional[Error]) -> None:
    """Every rank learns whether one failed its step: if so, all raise (the first failing
    rank's error, with "rank N: " on the others)."""
    size = comm.Get_size()
    first = comm.allreduce(comm.Get_rank() if failure else size, op=MPI.MIN)
    if first == size:
        return
    code, detail = comm.bcast((failure.code, failure.detail) if failure else None, root=first)
    raise failure or error(code, f"rank {first}: {detail}")


def _step(comm, fn, *args) -> Any:
    """fn(*args) on every rank, agreed on: its result, or every rank raises."""
    try:
        result, failure = fn(*args), None
    except Error as e:
        result, failure = None, e
    _agree(comm, failure)
    return result


# ---- what MPI_Finalize undoes ----------------------------------------------------------
_caches: Dict[int, Any] = {}  # id(cache) -> the communicator it is attached to; a cache
#                               maps a pool id to the communicators made for it
_unlink: Set[str] = set()  # arenas this process created
_keys: Dict[str, int] = {}  # "cache", "self": the keyvals


def _free_cache(comm, keyval, cache) -> None:
    _caches.pop(id(cache), None)
    for comms in cache.values():
        for c in comms:
            c.Free()


def _at_finalize(comm, keyval, value) -> None:
    for owner in list(_caches.values()):
        owner.Delete_attr(_keys["cache"])
    for name in sorted(_unlink):
        try:
            Arena.unlink(name)
        except NotFound:  # another rank of the node did it
            pass
    _unlink.clear()
    MPI.Comm.Free_keyval(_keys.pop("cache"))
    MPI.Comm.Free_keyval(_keys.pop("self"))


def _before_exit() -> None:
    """mpi4py finalizes MPI when Python exits, too late for callbacks written in Python: at
    exit the attribute of MPI.COMM_SELF is deleted first (as MPI_Finalize would)."""
    if "self" in _keys and MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.COMM_SELF.Delete_attr(_keys["self"])


def _install() -> None:
    if "self" not in _keys:
        _keys["cache"] = MPI.Comm.Create_keyval(delete_fn=_free_cache)
        _keys["self"] = MPI.Comm.Create_keyval(delete_fn=_at_finalize)
        MPI.COMM_SELF.Set_attr(_keys["self"], None)
        atexit.register(_before_exit)


def _cached(comm, pool_id: int):
    _install()
    cache = comm.Get_attr(_keys["cache"])
    return cache[pool_id][-1] if cache and pool_id in cache else None


def _cache(comm, pool_id: int, result) -> None:
    _install()
    cache = comm.Get_attr(_keys["cache"])
    if cache is None:
        cache = {}
        comm.Set_attr(_keys["cache"], cache)
        _caches[id(cache)] = comm
    cache.setdefault(pool_id, []).append(result)  # the newest answers; all are freed


# ---- arena_comm -------------------------------------------------------------------------
def _pool_id(arena: Arena) -> int:
    if not isinstance(arena, Arena):
        raise error(lib.SHMIPC_EINVAL, f"arena is {arena!r}, not a shmipc.Arena")
    return arena._call(lambda a: lib.shmipc_pool_id(lib.shmipc_arena_pool(a)))


def _node_comm(comm):
    return comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())


def arena_comm(arena: Arena, comm=None):
    """The communicator of the ranks of comm (default MPI.COMM_WORLD) that share arena:
    within each node, the ranks whose arena maps the same pool (for a socket-scope arena,
    the ranks bound to one package). Collective: each rank passes its own arena. Cached per
    comm and arena, owned by this module (do not Free it)."""
    comm = MPI.COMM_WORLD if comm is None else comm
    _usable(comm)
    pool_id = _step(comm, _pool_id, arena)
    found = _cached(comm, pool_id)
    if comm.allreduce(found is not None, op=MPI.LAND):  # every rank has it, or all make it
        return found
    node = _node_comm(comm)
    ids = node.allgather(pool_id)
    made = node.Split(ids.index(pool_id), node.Get_rank())
    node.Free()
    _cache(comm, pool_id, made)
    return made


# ---- arena_open ---------------------------------------------------------------------------
def _check_args(name: str, scope: str) -> None:
    if not isinstance(name, str):
        raise error(lib.SHMIPC_EINVAL, f"arena name is {name!r}, not a str")
    if not name:
        raise error(lib.SHMIPC_EINVAL, "arena name is empty")
    if len(name.encode()) > NAME_MAX:
        raise error(
            lib.SHMIPC_EINVAL,
            f"arena name '{name[:40]}...' is too long: with the "
            f"job's suffix '.mpi.<16 hex digits>' it may have at "
            f"most {NAME_MAX} bytes (SHMIPC_MPI_NAME_MAX)",
        )
    if scope not in SCOPES:
        raise error(lib.SHMIPC_EINVAL, f"unknown arena scope {scope!r} (node or socket)")


def _share_token(comm) -> int:
    """The token of comm's rank 0 (drawn there if it has none), learnt by ranks that have none."""
    global _job_token
    if comm.Get_rank() == 0 and not _job_token:
        _job_token = int.from_bytes(os.urandom(8), "little") or 1
    token = comm.bcast(_job_token, root=0)
    _job_token = _job_token or token
    return token


def _package() -> int:
    out = ffi.new("int *")
    check(lib.shmipc_cpu_package(out))
    return out[0]


def _scope_comm(comm, scope: str):
    """The ranks of comm that share one arena of this scope: a node's, or a package's."""
    node = _node_comm(comm)
    try:
        package = _step(comm, _package) if scope == "socket" else 0
        return node.Split(package, node.Get_rank())
    finally:
        node.Free()


def _open_in_group(group, name: str, size: int, scope: str) -> Optional[Arena]:
    """The group's rank 0 opens the arena, then the others attach to the same pool. When
    the first fails the others return None: the agreement that follows raises its error."""
    arena, failure, first = None, None, None
    if group.Get_rank() == 0:
        try:
            arena = Arena.open(name, size, scope)
            _install()
            _unlink.add(name)
            first = (0, _pool_id(arena))
        except Error as e:
            failure, first = e, (e.code, 0)
    first = group.bcast(first, root=0)
    if failure:
        raise failure
    if group.Get_rank() == 0 or first[0] != 0:
        return arena
    arena = Arena.open(name, size, scope)
    if _pool_id(arena) != first[1]:
        arena.close()
        raise error(
            NotFound.code,
            f"arena '{name}' is not the one the first rank of this "
            "node opened: it was removed and made again meanwhile",
        )
    return arena


def arena_open(name: str, size: int = 64 << 20, scope: str = "node", comm=None) -> Arena:
    """Open the arena `name` on every rank of comm (default MPI.COMM_WORLD): in each node
    ("node") or CPU package of a node ("socket": every rank must be bound to CPUs of one
    package) one rank opens it, creating it with `size` bytes if need be, and the others
    attach after it. Its pool is "<name>.mpi.<job token>", unlinked at MPI_Finalize by the
    rank that created it (see shmipc_mpi.h). Collective."""
    comm = MPI.COMM_WORLD if comm is None else comm
    _usable(comm)
    _step(comm, _check_args, name, scope)
    full = f"{name}.mpi.{_share_token(comm):016x}"
    group = _scope_comm(comm, scope)
    arena = failure = None
    try:
        arena = _open_in_group(group, full, size, scope)
    except Error as e:
        failure = e
    try:
        _agree(comm, failure)
    except Error:
        if arena is not None:
            arena.close()
        group.Free()
        raise
    _cache(comm, _pool_id(arena), group)  # what arena_comm computes for it
    return arena
