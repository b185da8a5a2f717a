"""shmipc — zero-copy shared memory between Python, C and Rust processes on one Linux host.

    import shmipc
    with shmipc.Server("demo", allow=[shmipc.App("viewer")]) as srv:
        with srv.accept(timeout=5.0) as sess:
            obj = sess.alloc(1 << 20)
            memoryview(obj)[:5] = b"hello"          # in place, no copy
            sess.send(b"frame-1", obj)              # lend + send

    sess = shmipc.connect("demo", app="viewer", timeout=5.0)
    msg, obj = sess.recv(timeout=5.0)               # obj: the same bytes, borrowed

The binding is cffi in API mode over the C library; ``ffi`` and ``lib`` are its raw layer
(the C API as declared in shmipc.h).
"""

from ._arena import Arena, ArenaStats, SessionArena
from ._containers import Map, Mutex, Str, Vec
from ._errors import (
    BadBlob,
    Closed,
    Corrupt,
    Error,
    Exists,
    InvalidArgument,
    MessageTooLarge,
    NotFound,
    NotSupported,
    OutOfMemory,
    OwnerDead,
    PeerDied,
    PermissionDenied,
    ProtocolError,
    Stale,
    SystemCallError,
    Timeout,
    strerror,
)
from ._lib import ffi, lib
from ._objects import Named, Object
from ._session import ANY_ID, BLOB_SIZE, MSG_MAX, App, Server, Session, connect
from ._structs import REL_NULL, cdef_from_header, get_include, rel_get, rel_set, struct

__version__: str = ffi.string(lib.SHMIPC_VERSION_STRING).decode()

__all__ = [
    "ANY_ID",
    "App",
    "Arena",
    "ArenaStats",
    "BLOB_SIZE",
    "BadBlob",
    "Closed",
    "Corrupt",
    "Error",
    "Exists",
    "InvalidArgument",
    "MSG_MAX",
    "Map",
    "MessageTooLarge",
    "Mutex",
    "Named",
    "NotFound",
    "NotSupported",
    "Object",
    "OutOfMemory",
    "OwnerDead",
    "PeerDied",
    "PermissionDenied",
    "ProtocolError",
    "REL_NULL",
    "Server",
    "Session",
    "SessionArena",
    "Stale",
    "Str",
    "SystemCallError",
    "Timeout",
    "Vec",
    "__version__",
    "cdef_from_header",
    "connect",
    "ffi",
    "get_include",
    "lib",
    "rel_get",
    "rel_set",
    "strerror",
    "struct",
]
