"""Objects: shared memory that Python reads and writes in place through the buffer protocol.

An Object (or a Named allocation) holds one C reference for as long as it, or any view of it
(memoryview, numpy array, cffi buffer), is alive: dropping the session, the server or the
arena first never leaves a view dangling. release() gives the reference back early, and
refuses (BufferError) while a view is alive.
"""

from __future__ import annotations

import operator
from typing import Any, Optional

from ._buffer import Exporter
from ._errors import InvalidArgument, check
from ._lib import ffi, lib


class _Shared(Exporter):
    """Context manager protocol of the exporters: ``with obj:`` releases it at the end. One
    collected unreleased warns (ResourceWarning, shown under ``-X dev``), as files do: the
    exporter's finaliser (_buffer.c) says so."""

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    @property
    def size(self) -> int:
        """Size in bytes (0 once released)."""
        return self.nbytes

    @property
    def writable(self) -> bool:
        """False for what a lend-provider peer lent: the kernel maps it read-only here."""
        return not self.readonly


class Object(_Shared):
    """An object in shared memory (a shmipc_obj): lendable to a session's peer, readable and
    (unless read-only) writable in place: ``memoryview(obj)``, ``numpy.frombuffer(obj)``.
    Objects come from ``Session.alloc``, ``Session.recv``, ``Session.borrow`` and
    ``Arena.alloc``; the memory is freed when the last holder anywhere lets go."""

    __slots__ = ()

    def __repr__(self) -> str:
        if self.released:
            return "<shmipc.Object released>"
        return (
            f"<shmipc.Object {self.nbytes} bytes at {self.address:#x}"
            f"{' read-only' if self.readonly else ''}>"
        )


class Named(_Shared):
    """A named allocation of an Arena (``Arena.named``): one reference to it, dropped by
    release() or when it and its views are gone. ``created`` says whether this call made it
    (its bytes are then unspecified: initialise them)."""

    __slots__ = ("name", "created")
    name: str
    created: bool

    def __repr__(self) -> str:
        state = "released" if self.released else f"{self.nbytes} bytes at {self.address:#x}"
        return f"<shmipc.Named {self.name!r} {state}>"


def wrap_object(info, handle: Any = None) -> Object:
    """An Object taking over the reference of a new handle (a struct shmipc_py_obj, the
    binding's glue: handle, bytes, size, writable); handle: info.handle if the caller read
    it already."""
    size = info.size
    return Object(
        _gc(info.handle if handle is None else handle, _unref),
        _buffer(info.bytes, size) if size else bytearray(),  # as memory() says
        not info.writable,
    )


_unref, _gc, _buffer = lib.shmipc_obj_unref, ffi.gc, ffi.buffer  # globals: faster


def memory(address: int, size: int) -> Any:
    """The bytes an exporter re-exports: cffi's buffer of the C library's address and size."""
    if size == 0:
        return bytearray()  # writable, empty: NULL may not be a cffi buffer
    return ffi.buffer(ffi.cast("char *", address), size)


def new_object(arena, size: int) -> Object:
    info = ffi.new("struct shmipc_py_obj *")
    check(lib.shmipc_py_obj_new(arena, size_arg(size), info))
    return wrap_object(info)


def object_handle(obj: Optional[Object]):
    """The shmipc_obj * of an Object (NULL for None)."""
    if obj is None:
        return ffi.NULL
    if not isinstance(obj, Object):
        raise TypeError(f"expected a shmipc.Object or None, not {type(obj).__name__}")
    return obj._owner


def size_arg(size: int) -> int:
    size = operator.index(size)
    if size < 0:
        raise InvalidArgument(f"size must not be negative (got {size})", detail="negative size")
    return size


def name_arg(name: str, what: str = "name") -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    if "\0" in name:
        raise InvalidArgument(f"{what} {name!r} contains a NUL character", detail="NUL in name")
    return name.encode()


def buffer_arg(data: Any, what: str = "msg"):
    """A bytes-like argument and its size in bytes: bytes as they are, anything else as a
    memoryview."""
    if isinstance(data, bytes):
        return data, len(data)
    if isinstance(data, str):
        raise TypeError(f"{what} must be bytes-like, not str (encode it first)")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"{what} must be bytes-like, not {type(data).__name__}") from None
    return view, view.nbytes
