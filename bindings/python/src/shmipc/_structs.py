"""C structures in shared memory, read and written in place through the user's own cffi
declarations of a shared header, and the offset pointers (shmipc_rel) that link them.

    ffi = cffi.FFI()
    ffi.cdef(shmipc.cdef_from_header("shapes.h"))      # the header's types, no retyping
    shape = shmipc.struct(obj, "struct shape *", ffi)   # a view of obj: obj stays alive
    first = shmipc.rel_get(ffi, shape.first, "struct point *", within=obj)

cffi does not check writes: writing through a struct of a read-only Object (lent by a
lend-provider peer) is stopped by the kernel, with SIGSEGV. Check ``obj.writable`` first.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any, Iterable, Optional

from . import _cdefgen
from ._buffer import Exporter
from ._lib import lib

REL_NULL = lib.SHMIPC_REL_NULL_OFF
_ADDRESS_SPACE = 1 << 64


def get_include() -> str:
    """The directory of shmipc's public C headers (shmipc.h, shmipc/offptr.h)."""
    return str(Path(__file__).resolve().parent / "include")


def cdef_from_header(
    header: str, include_dirs: Iterable[str] = (), parts: Iterable[str] = ("types",)
) -> str:
    """A cffi cdef of a C header (run through the C preprocessor, so $CC or cc is needed):
    by default its types, for ``cffi.FFI().cdef()``; ``parts`` may add "functions" and
    "constants" for an API-mode build. shmipc's own headers are on the include path."""
    return _cdefgen.cdef_from_header(header, [*include_dirs, get_include()], parts)


def struct(obj: Any, ctype: str, ffi: Any, offset: int = 0) -> Any:
    """A cdata of `ctype` (a pointer type of `ffi`, e.g. "struct point *") over the bytes of
    obj (an Object, a Named allocation or any buffer) at `offset`. It holds a view of obj
    for as long as it lives, so obj.release() refuses until it is gone."""
    pointer = ffi.typeof(ctype)
    if pointer.kind != "pointer":
        raise TypeError(f"ctype must be a pointer type such as 'struct point *', not {ctype!r}")
    need, view, offset = ffi.sizeof(pointer.item), memoryview(obj), operator.index(offset)
    if offset < 0 or offset + need > view.nbytes:
        raise ValueError(
            f"{ctype} at offset {offset} needs {need} bytes; the buffer has {view.nbytes}"
        )
    return ffi.from_buffer(pointer, view[offset:])


def _rel_pointer(ffi: Any, rel: Any) -> Any:
    kind = ffi.typeof(rel).kind
    if kind == "pointer":
        return rel
    if kind == "struct":
        return ffi.addressof(rel)
    raise TypeError(f"expected a shmipc_rel (or a pointer to one), not {ffi.typeof(rel)}")


def _item_size(ffi: Any, ctype: str) -> int:
    item = ffi.typeof(ctype).item
    return 1 if item.kind == "void" else ffi.sizeof(item)


def _require_inside(within: Exporter, address: int, size: int) -> None:
    at = address - within.address
    if at < 0 or at > within.nbytes or size > within.nbytes - at:
        raise ValueError(
            f"offset pointer leads outside the object: {size} bytes at offset "
            f"{at} of an object of {within.nbytes}"
        )


def rel_get(
    ffi: Any, rel: Any, ctype: str = "void *", *, within: Optional[Exporter] = None, count: int = 1
) -> Any:
    """Follow a shmipc_rel (a struct field, or a pointer to one): its target as a `ctype`
    cdata, or None for NULL. With `within`, the target's `count` items must lie inside that
    Object (or Named): ValueError otherwise, so a walker never leaves the object."""
    if within is not None and not isinstance(within, Exporter):
        raise TypeError(f"within must be a shmipc.Object or Named, not {type(within).__name__}")
    pointer = _rel_pointer(ffi, rel)
    if pointer.off == REL_NULL:
        return None
    target = (int(ffi.cast("uintptr_t", pointer)) + pointer.off) % _ADDRESS_SPACE
    if within is not None:
        _require_inside(within, target, count * _item_size(ffi, ctype))
    return ffi.cast(ctype, target)


def rel_set(ffi: Any, rel: Any, target: Any) -> None:
    """Point a shmipc_rel at target (a cdata pointer in the same mapping, or None)."""
    pointer = _rel_pointer(ffi, rel)
    if target is None or target == ffi.NULL:
        pointer.off = REL_NULL
        return
    distance = int(ffi.cast("uintptr_t", target)) - int(ffi.cast("uintptr_t", pointer))
    pointer.off = (distance + (1 << 63)) % _ADDRESS_SPACE - (1 << 63)
