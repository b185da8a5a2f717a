"""Arenas: named shared arenas that unrelated processes open by name (Umpire's SHARED
resource), and the two arenas of a session."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from ._errors import check
from ._handle import Closable, Handle
from ._lib import ffi, lib
from ._objects import Named, Object, memory, name_arg, new_object, size_arg

SCOPES = {"node": lib.SHMIPC_SCOPE_NODE, "socket": lib.SHMIPC_SCOPE_SOCKET}


class ArenaStats(NamedTuple):
    capacity: int  #: bytes the allocator manages
    used: int  #: bytes in allocated blocks, headers and name directory included
    free: int  #: capacity - used
    largest_free: int  #: the largest block one allocation can get
    allocations: int  #: live allocations, named ones included
    named: int  #: live named allocations
    lock_recoveries: int  #: times a dead lock holder's operation was rolled back
    bad_frees: int  #: frees refused (foreign, interior or double)


def _stats(arena) -> ArenaStats:
    out = ffi.new("struct shmipc_arena_stats *")
    check(lib.shmipc_arena_stats(arena, out))
    return ArenaStats(*(getattr(out, field) for field in ArenaStats._fields))


def _check(arena) -> None:
    check(lib.shmipc_arena_check(arena))


class _ArenaCalls:
    """What every arena offers; subclasses say how to reach the C arena (_call)."""

    __slots__ = ()

    def _call(self, fn: Callable, *args: Any) -> Any:
        raise NotImplementedError

    def alloc(self, size: int) -> Object:
        """A new Object of `size` bytes (16-byte aligned, contents unspecified) in this arena."""
        return self._call(new_object, size)

    def stats(self) -> ArenaStats:
        return self._call(_stats)

    def check(self) -> None:
        """Full consistency check of the allocator: shmipc.Corrupt if it fails."""
        self._call(_check)


class Arena(_ArenaCalls, Closable):
    """A named shared arena: ``Arena.open(name, size=..., scope="node")`` finds or creates it,
    race-free; every process that opens the same name maps the same memory. Closing it ends
    this handle once the Named allocations taken through it are released."""

    __slots__ = ("name", "_handle")

    def __init__(self, ptr, name: str) -> None:
        self.name = name
        self._handle = Handle(ptr, lib.shmipc_arena_close, "arena")

    @classmethod
    def open(cls, name: str, size: int = 64 << 20, scope: str = "node") -> "Arena":
        """Find or create the arena `name`; `size` counts only when creating it. scope "node":
        one per host; "socket": one per CPU package (the caller's affinity must lie in one)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {sorted(SCOPES)}, not {scope!r}")
        out = ffi.new("shmipc_arena **")
        check(lib.shmipc_arena_open(name_arg(name), size_arg(size), SCOPES[scope], out))
        return cls(out[0], name)

    @staticmethod
    def unlink(name: str) -> None:
        """Remove the arena's name in every scope; the memory goes when its last user closes."""
        check(lib.shmipc_arena_unlink(name_arg(name)))

    def _call(self, fn: Callable, *args: Any) -> Any:
        return self._handle.call(fn, *args)

    def named(self, name: str, size: int) -> Named:
        """Find or create the allocation `name` of `size` bytes (EEXIST: it exists with
        another size), taking one reference to it: ``.created`` is True if this call made it."""
        cname, csize = name_arg(name, "allocation name"), size_arg(size)
        arena = self._handle.enter()  # left when the Named lets go: the arena outlives it
        try:
            out = ffi.new("void **")
            created = check(lib.shmipc_named_alloc(arena, cname, csize, out)) == 1
        except BaseException:
            self._handle.leave()
            raise

        def drop(_ptr, handle=self._handle) -> None:
            lib.shmipc_named_free(arena, cname)
            handle.leave()

        named = Named(ffi.gc(out[0], drop), memory(out[0], csize), False)
        named.name, named.created = name, created
        return named

    def __repr__(self) -> str:
        return f"<shmipc.Arena {self.name!r}{' closed' if self.closed else ''}>"


class SessionArena(_ArenaCalls):
    """The session-scope or the app-scope arena of a Session; usable while the session is
    open (Objects allocated in it outlive the session)."""

    __slots__ = ("_session", "_getter", "kind")

    def __init__(self, session: Handle, getter: Callable, kind: str) -> None:
        self._session, self._getter, self.kind = session, getter, kind

    def _call(self, fn: Callable, *args: Any) -> Any:
        getter = self._getter
        return self._session.call(lambda session: fn(getter(session), *args))

    def __repr__(self) -> str:
        return f"<shmipc.SessionArena {self.kind}>"
