"""Shared containers: shmipc.Vec, shmipc.Str, shmipc.Map and shmipc.Mutex, thin layers over
the C library's shmipc_vec, shmipc_str, shmipc_map and shmipc_mutex (docs/containers.md).

Each lives in a named allocation of an Arena: ``X.open(arena, name, ...)`` finds it, or
creates it as C would (shmipc_named_alloc of sizeof(the header), then its init), so a
container one language made is the same container in the others. Reads go straight to the
shared memory; values come out as copies (bytes, numbers) unless asked for in place
(Vec.view, Map.view). One writer at a time: hold the container's Mutex while writing.
"""

from __future__ import annotations

import struct as _struct
import time
from collections.abc import MutableMapping, MutableSequence
from typing import Any, Iterator, Optional, Union

from ._errors import Corrupt, InvalidArgument, PermissionDenied, check
from ._handle import timeout_ms
from ._lib import ffi, lib
from ._objects import buffer_arg

_INIT_WAIT = 5.0  # seconds to wait for another process to finish initialising a container
_NUMERIC = "bBhHiIlLqQnNfde?"


class _Container:
    """A container header in a named allocation: the arena it grows in (None: read-only)
    and the Named that keeps it mapped."""

    __slots__ = ("_arena", "_named", "_ptr", "name")
    _ctype = ""
    _magic: Optional[int] = None

    def __init__(self, arena, named, name: str) -> None:
        self._arena, self._named, self.name = arena, named, name
        self._ptr = ffi.cast(self._ctype + " *", named.address)

    @classmethod
    def _find_or_create(cls, arena, name: str, init) -> "_Container":
        named = arena.named(name, ffi.sizeof(cls._ctype))
        self = cls(arena, named, name)
        try:
            if named.created:
                init(self)
            else:
                self._wait_ready()
        except BaseException:
            named.release()
            raise
        return self

    def _wait_ready(self) -> None:
        """Another process may be initialising it: wait for its magic."""
        if self._magic is None:
            return
        deadline = time.monotonic() + _INIT_WAIT
        while self._ptr.magic != self._magic:
            if time.monotonic() > deadline:
                raise Corrupt(
                    f"{self.name!r} is not a {type(self).__name__} (no magic)",
                    detail="not initialised",
                )
            time.sleep(0.001)

    @classmethod
    def at(cls, obj, offset: int = 0, arena=None, **kw: Any) -> "_Container":
        """The container whose header is at `offset` in obj (an Object or Named: e.g. one a
        peer lent, holding a container it made). Writes need the arena it lives in and a
        writable obj: without them they raise PermissionDenied, before the kernel would
        refuse them."""
        size = ffi.sizeof(cls._ctype)
        if offset < 0 or offset + size > obj.nbytes:
            raise InvalidArgument(
                f"no {cls._ctype} at offset {offset} of {obj!r}", detail="outside the object"
            )
        self = cls.__new__(cls)
        _Container.__init__(self, None if obj.readonly else arena, obj, f"{obj!r}+{offset}")
        self._ptr = ffi.cast(cls._ctype + " *", obj.address + offset)
        if cls._magic is not None and self._ptr.magic != cls._magic:
            raise Corrupt(
                f"no initialised {cls._ctype} at offset {offset} of {obj!r}", detail="no magic"
            )
        self._setup(**kw)
        return self

    def _setup(self) -> None:
        """What a subclass reads from its header once found."""

    def _writable(self):
        """The arena to write with (refused here, before the kernel would, if none)."""
        if self._arena is None:
            raise PermissionDenied(
                f"{type(self).__name__} {self.name!r} is read-only here",
                detail="read-only container",
            )
        return self._arena

    def _write(self, fn, *args) -> int:
        """Call a C writer fn(arena, header, *args), raising on failure."""
        return check(self._writable()._call(fn, self._ptr, *args))

    @property
    def address(self) -> int:
        """Where the header is in this process."""
        return int(ffi.cast("uintptr_t", self._ptr))

    def release(self) -> None:
        """Drop this handle's reference to the named allocation (the container stays)."""
        self._named.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class Vec(_Container, MutableSequence):
    """A growable array of fixed-size elements (shmipc_vec). ``elem`` is a struct format
    character ("q", "d", "I", ...: items are numbers, and the elements export the buffer
    protocol: ``numpy.asarray(vec)`` or ``vec.view()`` see them in place) or a size in
    bytes (items are bytes of that size)."""

    __slots__ = ("_fmt", "_size")
    _ctype = "shmipc_vec"
    _magic = lib.SHMIPC_VEC_MAGIC

    @classmethod
    def open(cls, arena, name: str, elem: Union[str, int] = "q", capacity: int = 0) -> "Vec":
        fmt = elem if isinstance(elem, str) else None
        if fmt is not None and (len(fmt) != 1 or fmt not in _NUMERIC):
            raise InvalidArgument(
                f"elem must be one of {_NUMERIC!r} or a size, not {elem!r}",
                detail="bad element type",
            )
        size = _struct.calcsize(fmt) if fmt else int(elem)
        self = cls._find_or_create(
            arena, name, lambda v: v._write(lib.shmipc_vec_init, size, capacity)
        )
        try:
            self._setup(elem)
        except BaseException:
            self.release()
            raise
        return self

    def _setup(self, elem: Union[str, int] = "q") -> None:
        fmt = elem if isinstance(elem, str) else None
        size = _struct.calcsize(fmt) if fmt else int(elem)
        if self._ptr.elem_size != size:
            raise InvalidArgument(
                f"{self.name!r} holds elements of {self._ptr.elem_size} bytes, not {size}",
                detail="another element size",
            )
        self._fmt, self._size = fmt, size

    def _pack(self, value: Any) -> bytes:
        if self._fmt:
            return _struct.pack(self._fmt, value)
        data, n = buffer_arg(value, "element")
        if n != self._size:
            raise ValueError(f"an element is {self._size} bytes, not {n}")
        return bytes(data)

    def _at(self, i: int):
        n = len(self)
        if i < 0:
            i += n
        p = lib.shmipc_vec_at(self._ptr, i) if 0 <= i < n else ffi.NULL
        if p == ffi.NULL:
            raise IndexError("Vec index out of range")
        return p

    def __len__(self) -> int:
        return lib.shmipc_vec_len(self._ptr)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        raw = ffi.unpack(ffi.cast("char *", self._at(i)), self._size)
        return _struct.unpack(self._fmt, raw)[0] if self._fmt else raw

    def __setitem__(self, i, value) -> None:
        if isinstance(i, slice):
            raise TypeError("Vec does not assign slices")
        data = self._pack(value)
        self._writable()
        ffi.memmove(self._at(i), data, self._size)

    def __delitem__(self, i) -> None:
        if isinstance(i, slice):
            raise TypeError("Vec does not delete slices")
        self._writable()
        n, p = len(self), self._at(i)
        i = i + n if i < 0 else i
        if i < n - 1:
            ffi.memmove(p, lib.shmipc_vec_at(self._ptr, i + 1), (n - 1 - i) * self._size)
        check(lib.shmipc_vec_pop(self._ptr))

    def append(self, value) -> None:
        self._write(lib.shmipc_vec_push, self._pack(value))

    def insert(self, i: int, value) -> None:
        """Insert before i. Several steps (a push, then a move): unlike append, a writer
        killed in the middle leaves an element duplicated (del too: one lost or doubled)."""
        n = len(self)
        i = max(0, min(n, i + n if i < 0 else i))
        data = self._pack(value)
        self._write(lib.shmipc_vec_push, data)  # grow by one (moves the elements if it must)
        p = lib.shmipc_vec_at(self._ptr, i)
        ffi.memmove(lib.shmipc_vec_at(self._ptr, i + 1), p, (n - i) * self._size)
        ffi.memmove(p, data, self._size)

    def reserve(self, capacity: int) -> None:
        self._write(lib.shmipc_vec_reserve, capacity)

    def clear(self) -> None:
        self._writable()
        lib.shmipc_vec_clear(self._ptr)

    def free(self) -> None:
        """Free the elements' memory (the vector stays, empty)."""
        self._writable()._call(lib.shmipc_vec_free, self._ptr)

    @property
    def capacity(self) -> int:
        return int(self._ptr.cap)

    def view(self) -> memoryview:
        """The elements in place, as a memoryview of the element type (no copy). Valid until
        the vector grows or is freed: its elements then move."""
        n = len(self)
        if n == 0:
            return memoryview(b"").cast(self._fmt or "B")
        buf = memoryview(ffi.buffer(lib.shmipc_vec_at(self._ptr, 0), n * self._size))
        return buf.cast(self._fmt) if self._fmt else buf

    def __buffer__(self, flags: int) -> memoryview:
        """The buffer protocol (Python >= 3.12: ``memoryview(vec)``): as view()."""
        return self.view()

    @property
    def __array_interface__(self) -> dict:
        """numpy's zero-copy protocol: ``numpy.asarray(vec)`` views the elements in place."""
        if not self._fmt:
            raise AttributeError("only a Vec of a numeric type is an array")
        n = len(self)
        addr = int(ffi.cast("uintptr_t", lib.shmipc_vec_at(self._ptr, 0))) if n else 0
        return {
            "shape": (n,),
            "typestr": _typestr(self._fmt),
            "data": (addr, self._arena is None),
            "version": 3,
        }

    def __repr__(self) -> str:
        return f"<shmipc.Vec {self.name!r} len={len(self)}>"


def _bytes(data: Any, what: str) -> bytes:
    """A bytes-like argument as bytes (bytes themselves as they are: no copy)."""
    if type(data) is bytes:
        return data
    buf, _ = buffer_arg(data, what)
    return bytes(buf)


def _typestr(fmt: str) -> str:
    kind = {"f": "f", "d": "f", "e": "f", "?": "b"}.get(fmt, "i" if fmt in "bhilqn" else "u")
    return f"<{kind}{_struct.calcsize(fmt)}"


class Str(_Container):
    """A byte string (shmipc_str): ``s.value`` is a copy of its bytes; assigning sets it (a
    new block switched to at once: readers see the old or the new bytes)."""

    __slots__ = ()
    _ctype = "shmipc_str"

    @classmethod
    def open(cls, arena, name: str) -> "Str":
        def init(s: "Str") -> None:
            ffi.memmove(s._ptr, bytes(ffi.sizeof("shmipc_str")), ffi.sizeof("shmipc_str"))

        return cls._find_or_create(arena, name, init)

    @property
    def value(self) -> bytes:
        n = ffi.new("size_t *")
        p = lib.shmipc_str_data(self._ptr, n)
        return ffi.unpack(p, n[0])

    @value.setter
    def value(self, data) -> None:
        data = _bytes(data, "value")
        self._write(lib.shmipc_str_set, data, len(data))

    def __bytes__(self) -> bytes:
        return self.value

    def __len__(self) -> int:
        return lib.shmipc_str_len(self._ptr)

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, Str) else other)

    __hash__ = None  # type: ignore[assignment]

    def free(self) -> None:
        self._writable()._call(lib.shmipc_str_free, self._ptr)

    def __repr__(self) -> str:
        return f"<shmipc.Str {self.name!r} {self.value[:40]!r}>"


class Map(_Container, MutableMapping):
    """A hash map from bytes keys to values of value_size bytes (shmipc_map), a
    MutableMapping[bytes, bytes]: ``m[b"k"] = v`` (v of exactly value_size bytes),
    ``m[b"k"]`` (a copy), ``b"k" in m``, ``len(m)``, iteration over the keys.
    ``m.view(key)`` is the value in place (a memoryview)."""

    __slots__ = ()
    _ctype = "shmipc_map"
    _magic = lib.SHMIPC_MAP_MAGIC

    @classmethod
    def open(cls, arena, name: str, value_size: int = 8, capacity: int = 0) -> "Map":
        self = cls._find_or_create(
            arena, name, lambda m: m._write(lib.shmipc_map_init, value_size, capacity)
        )
        if self._ptr.value_size != value_size:
            self.release()
            raise InvalidArgument(
                f"{name!r} holds values of {self._ptr.value_size} bytes, not {value_size}",
                detail="another value size",
            )
        return self

    def _setup(self) -> None:
        if self._ptr.value_size == 0:
            raise Corrupt(f"{self.name!r}: a map of 0-byte values", detail="value_size 0")

    @property
    def value_size(self) -> int:
        return int(self._ptr.value_size)

    def _value(self, key) -> Any:
        key = _bytes(key, "key")
        out = ffi.new("void **")
        rc = lib.shmipc_map_get(self._ptr, key, len(key), out)
        if rc == lib.SHMIPC_ENOENT:
            raise KeyError(key)
        check(rc)
        return out[0]

    def __getitem__(self, key) -> bytes:
        return ffi.buffer(self._value(key), self._ptr.value_size)[:]

    def view(self, key) -> memoryview:
        """The value of key in place (valid until the key is replaced or deleted)."""
        return memoryview(ffi.buffer(self._value(key), self.value_size))

    def __setitem__(self, key, value) -> None:
        key, value = _bytes(key, "key"), _bytes(value, "value")
        if len(value) != self._ptr.value_size:
            raise ValueError(f"a value is {self.value_size} bytes, not {len(value)}")
        self._write(lib.shmipc_map_put, key, len(key), value)

    def __delitem__(self, key) -> None:
        key = _bytes(key, "key")
        rc = self._writable()._call(lib.shmipc_map_del, self._ptr, key, len(key))
        if rc == lib.SHMIPC_ENOENT:
            raise KeyError(key)
        check(rc)

    def __contains__(self, key) -> bool:
        try:
            self._value(key)
        except KeyError:
            return False
        return True

    def __len__(self) -> int:
        return lib.shmipc_map_len(self._ptr)

    def __iter__(self) -> Iterator[bytes]:
        pos, key, klen = ffi.new("size_t *"), ffi.new("void **"), ffi.new("size_t *")
        while True:
            rc = lib.shmipc_map_next(self._ptr, pos, ffi.cast("const void **", key), klen, ffi.NULL)
            if rc == lib.SHMIPC_ENOENT:
                return
            check(rc)
            yield ffi.unpack(ffi.cast("char *", key[0]), klen[0])

    def repair(self) -> None:
        """Recount len() after a writer died mid-update (Mutex.lock said owner_died)."""
        self._write(lib.shmipc_map_repair)

    def free(self) -> None:
        """Free every entry (the map stays, empty)."""
        self._writable()._call(lib.shmipc_map_free, self._ptr)

    def __repr__(self) -> str:
        return f"<shmipc.Map {self.name!r} len={len(self)}>"


class Mutex(_Container):
    """A robust process-shared mutex (shmipc_mutex). ``with mutex:`` holds it;
    ``mutex.owner_died`` then says whether its previous holder died holding it (what it
    protects may be mid-update: repair it, e.g. Map.repair()). lock() returns that too."""

    __slots__ = ("owner_died",)
    _ctype = "shmipc_mutex"
    _magic = lib.SHMIPC_MUTEX_MAGIC

    @classmethod
    def open(cls, arena, name: str) -> "Mutex":
        self = cls._find_or_create(arena, name, lambda m: check(lib.shmipc_mutex_init(m._ptr)))
        self._setup()
        return self

    def _setup(self) -> None:
        self.owner_died = False

    def lock(self, timeout: Optional[float] = None) -> bool:
        """Take the lock (shmipc.Timeout after timeout seconds; None: wait forever). True if
        its previous holder died holding it (the lock is held all the same)."""
        rc = lib.shmipc_mutex_timedlock(self._ptr, timeout_ms(timeout))
        self.owner_died = rc == lib.SHMIPC_EOWNERDEAD
        if not self.owner_died:
            check(rc)
        return self.owner_died

    def unlock(self) -> None:
        check(lib.shmipc_mutex_unlock(self._ptr))

    def __enter__(self) -> "Mutex":
        self.lock()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.unlock()

    def __repr__(self) -> str:
        return f"<shmipc.Mutex {self.name!r}>"
