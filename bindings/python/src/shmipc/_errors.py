"""shmipc.Error and its subclasses: one per SHMIPC_E* code of the C library, each carrying the
code, the library's text for it and the detail of the failure. Where a built-in exception
says the same thing it is a base too, so ``except TimeoutError`` catches ``shmipc.Timeout``
(ProtocolError and Corrupt have none: no built-in means "another protocol" or "corrupt shared
state"). The classes show as ``shmipc.X`` (their public path) in tracebacks and reprs."""

from __future__ import annotations

import errno as _errno
from typing import Dict, NoReturn, Optional, Type

try:
    from ._lib import ffi, lib
except ImportError as e:  # the first import of the extension in the package: say why
    if "static TLS" not in str(e):
        raise
    raise ImportError(
        f"{e}. The libshmipc this package links (SHMIPC_PYTHON_USE_SYSTEM_LIB=1) was built "
        "with a system jemalloc (./configure --with-system-jemalloc), whose initial-exec TLS "
        "a running Python cannot load: build libshmipc with its built-in jemalloc (the "
        "default), or install the package without SHMIPC_PYTHON_USE_SYSTEM_LIB (it then "
        "builds the core and its jemalloc in)"
    ) from e


class Error(Exception):
    """A shmipc call failed. ``code`` is the SHMIPC_E* code (a negative int), ``detail`` the
    library's account of what failed ("server 'x' is already running")."""

    code: int = 0
    msg: Optional[bytes] = None  #: the message that came with a BadBlob/Stale from recv()

    def __init__(self, message: str, *, code: Optional[int] = None, detail: str = "") -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.detail = detail
        if isinstance(self, OSError) and self.code in _ERRNO:
            self.errno = _ERRNO[self.code]  # str() stays the message: no strerror is set


class InvalidArgument(Error, ValueError):
    """SHMIPC_EINVAL: a bad name, size, flag or handle."""

    code = lib.SHMIPC_EINVAL


class OutOfMemory(Error, MemoryError):
    """SHMIPC_ENOMEM: the arena, the pool or the system is full."""

    code = lib.SHMIPC_ENOMEM


class NotFound(Error, FileNotFoundError, LookupError):
    """SHMIPC_ENOENT: no such server, pool, arena or named allocation: a FileNotFoundError
    (the server's socket or the arena's file is missing) and a LookupError (a name)."""

    code = lib.SHMIPC_ENOENT


class Exists(Error, FileExistsError):
    """SHMIPC_EEXIST: already exists (a running server, a named allocation of another size)."""

    code = lib.SHMIPC_EEXIST


class PermissionDenied(Error, PermissionError):
    """SHMIPC_EPERM: refused (the server's allow-list, file permissions, or a file under one
    of your names that another user owns or could write: docs/security.md)."""

    code = lib.SHMIPC_EPERM


class Closed(Error, ConnectionError):
    """SHMIPC_ECLOSED: the peer or the session (or the server, or the arena) is gone.
    ``crashed`` is False for an orderly end (the peer said goodbye, or this side closed or
    shut the session down); a crash raises the subclass PeerDied."""

    code = lib.SHMIPC_ECLOSED
    crashed: bool = False


class PeerDied(Closed):
    """SHMIPC_ECLOSED from a session whose peer died, was killed or hung up without a goodbye
    (or that this side closed on a misbehaving peer: the detail says)."""

    crashed = True


class Timeout(Error, TimeoutError):
    """SHMIPC_ETIMEDOUT: nothing came in time."""

    code = lib.SHMIPC_ETIMEDOUT


class BadBlob(Error, ValueError):
    """SHMIPC_EBADBLOB: a lend blob that is malformed, forged, of another session or already
    borrowed."""

    code = lib.SHMIPC_EBADBLOB


class Stale(Error, LookupError):
    """SHMIPC_ESTALE: the loan a blob names is gone (released, or its session ended)."""

    code = lib.SHMIPC_ESTALE


class ProtocolError(Error):
    """SHMIPC_EPROTO: the peer speaks another protocol or ABI version."""

    code = lib.SHMIPC_EPROTO


class NotSupported(Error, NotImplementedError):
    """SHMIPC_ENOTSUP: not supported by this build or provider (e.g. the lend provider
    without jemalloc)."""

    code = lib.SHMIPC_ENOTSUP


class SystemCallError(Error, OSError):
    """SHMIPC_ESYS: a system call failed; the detail names it and its errno."""

    code = lib.SHMIPC_ESYS


class Corrupt(Error):
    """SHMIPC_ECORRUPT: not a shmipc pool, or its header or allocator state is corrupt."""

    code = lib.SHMIPC_ECORRUPT


class MessageTooLarge(Error, ValueError):
    """SHMIPC_EMSGSIZE: a message larger than SHMIPC_MSG_MAX bytes."""

    code = lib.SHMIPC_EMSGSIZE


class OwnerDead(Error):
    """SHMIPC_EOWNERDEAD: a shmipc.Mutex was acquired, but its previous holder died holding
    it: what it protects may be mid-update. Raised only where the lock cannot be handed over
    (Mutex.lock returns the fact instead; the context manager repairs nothing by itself)."""

    code = lib.SHMIPC_EOWNERDEAD


_ERRNO = {
    lib.SHMIPC_ENOENT: _errno.ENOENT,
    lib.SHMIPC_EEXIST: _errno.EEXIST,
    lib.SHMIPC_EPERM: _errno.EPERM,
    lib.SHMIPC_ETIMEDOUT: _errno.ETIMEDOUT,
}

_BY_CODE: Dict[int, Type[Error]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        OutOfMemory,
        NotFound,
        Exists,
        PermissionDenied,
        Closed,
        Timeout,
        BadBlob,
        Stale,
        ProtocolError,
        NotSupported,
        SystemCallError,
        Corrupt,
        MessageTooLarge,
        OwnerDead,
    )
}
for _cls in (Error, PeerDied, *_BY_CODE.values()):
    _cls.__module__ = "shmipc"  # the public path, in tracebacks and for pickle


def strerror(code: int) -> str:
    """The C library's text of an error code."""
    return ffi.string(lib.shmipc_strerror(code)).decode()


def error(code: int, detail: Optional[str] = None, peer_gone: int = 0) -> Error:
    """The exception for a failed call's code; the detail defaults to the C library's record
    of this thread's last failure (read it right after the call). peer_gone: what
    shmipc_session_peer_gone said after a session call failed (PeerDied for a crash)."""
    if detail is None:
        detail = ffi.string(lib.shmipc_error_detail()).decode(errors="replace")
    text = strerror(code)
    cls = _BY_CODE.get(code, Error)
    if code == lib.SHMIPC_ECLOSED and peer_gone == lib.SHMIPC_PEER_DIED:
        cls = PeerDied
    return cls(f"{text}: {detail}" if detail else text, code=code, detail=detail)


def fail(code: int, detail: Optional[str] = None) -> NoReturn:
    raise error(code, detail)


def check(rc: int) -> int:
    """rc if it is not an error code; raise the matching Error otherwise."""
    if rc < 0:
        raise error(rc)
    return rc
