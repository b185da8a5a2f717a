"""Arrow tables in shared memory: one Arrow IPC stream per object (docs/arrow.md).

    table = pyarrow.table({"x": [1, 2, 3]})
    obj = shmipc.arrow.write(session, table)      # one copy, straight into shared memory
    session.send(b"table", obj)

    msg, obj = peer.recv(timeout=5.0)
    table = shmipc.arrow.read(obj)                # zero copy: every buffer lies in obj

The stream is the standard Arrow IPC stream format, so C (nanoarrow, Arrow C++), Rust
(arrow-ipc, ``shmipc::arrow``) and any other Arrow reader read it as it lies in the object.
pyarrow is an optional dependency: ``pip install shmipc[arrow]``.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Tuple, Union

try:
    import pyarrow
    import pyarrow.ipc
except ImportError as e:
    raise ImportError(
        f"shmipc.arrow needs pyarrow: pip install shmipc[arrow] (or pip install pyarrow) [{e}]"
    ) from e

from ._arena import Arena, SessionArena
from ._objects import Object, _Shared
from ._session import Session

__all__ = ["read", "stream_size", "write", "write_into"]

Data = Union["pyarrow.Table", "pyarrow.RecordBatch", Iterable["pyarrow.RecordBatch"]]


def _schema_and_batches(data: Any) -> Tuple["pyarrow.Schema", List["pyarrow.RecordBatch"]]:
    if isinstance(data, pyarrow.Table):
        return data.schema, data.to_batches()
    if isinstance(data, pyarrow.RecordBatch):
        return data.schema, [data]
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise TypeError(
            "data must be a pyarrow.Table, a pyarrow.RecordBatch or a list of "
            f"RecordBatch, not {type(data).__name__}"
        )
    batches = list(data)
    if not batches or not all(isinstance(b, pyarrow.RecordBatch) for b in batches):
        raise TypeError(
            "a list of batches must be non-empty and hold only pyarrow.RecordBatch "
            "(use an empty Table for no rows: its schema is written)"
        )
    return batches[0].schema, batches


def _write_stream(sink: Any, schema: "pyarrow.Schema", batches: List["pyarrow.RecordBatch"]):
    with pyarrow.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)


def _measure(schema: "pyarrow.Schema", batches: List["pyarrow.RecordBatch"]) -> int:
    sink = pyarrow.MockOutputStream()
    _write_stream(sink, schema, batches)
    return sink.size()


def stream_size(data: Data) -> int:
    """Bytes of the Arrow IPC stream of `data`, measured without writing it anywhere."""
    return _measure(*_schema_and_batches(data))


def _check_writable(obj: Any) -> None:
    if not isinstance(obj, _Shared):
        raise TypeError(f"expected a shmipc.Object or shmipc.Named, not {type(obj).__name__}")
    if obj.readonly:
        raise BufferError(
            "cannot write an Arrow stream into a read-only shmipc object "
            "(borrowed from a lend-provider peer): allocate one of your own"
        )


def _write_sized(
    obj: _Shared, schema: "pyarrow.Schema", batches: List["pyarrow.RecordBatch"], size: int
) -> int:
    if size > obj.nbytes:
        raise BufferError(f"the Arrow stream needs {size} bytes, the object has {obj.nbytes}")
    _write_stream(pyarrow.FixedSizeBufferWriter(pyarrow.py_buffer(obj)), schema, batches)
    return size


def write_into(obj: _Shared, data: Data) -> int:
    """Write `data` as an Arrow IPC stream at the start of `obj` (an Object or a Named
    allocation); returns the bytes written. A read-only object (borrowed from a lend-provider
    peer) raises BufferError, and so does one too small: pyarrow's FixedSizeBufferWriter
    aborts the interpreter on a read-only buffer (a failed check in Arrow C++), so it never
    sees one."""
    _check_writable(obj)
    schema, batches = _schema_and_batches(data)
    return _write_sized(obj, schema, batches, _measure(schema, batches))


def write(arena: Union[Session, SessionArena, Arena], data: Data) -> Object:
    """A new Object holding `data` (a Table, a RecordBatch or a list of batches) as one Arrow
    IPC stream: its size is measured first, then the buffers are copied once, straight into
    the object. `arena`: a Session (its session arena), a SessionArena or an Arena."""
    if isinstance(arena, Session):
        arena = arena.arena
    if not isinstance(arena, (SessionArena, Arena)):
        raise TypeError(
            f"arena must be a shmipc.Session, SessionArena or Arena, not {type(arena).__name__}"
        )
    schema, batches = _schema_and_batches(data)
    size = _measure(schema, batches)
    obj = arena.alloc(size)
    _write_sized(obj, schema, batches, size)
    return obj


def read(obj: _Shared) -> "pyarrow.Table":
    """The table of the Arrow IPC stream at the start of `obj`, read in place: every buffer
    of the table lies inside the object, and the table holds a view of it, which keeps the
    memory alive (``obj.release()`` refuses while the table lives; dropping `obj` is fine).
    A malformed stream raises pyarrow.ArrowInvalid, a truncated one OSError."""
    if not isinstance(obj, _Shared):
        raise TypeError(f"expected a shmipc.Object or shmipc.Named, not {type(obj).__name__}")
    with pyarrow.ipc.open_stream(pyarrow.py_buffer(obj)) as reader:
        return reader.read_all()
