"""Servers, clients and sessions: messages with lent objects, lend/borrow, event loops."""

from __future__ import annotations

import asyncio
import collections
import math
import os
import select
import threading
import time
from typing import Any, Callable, Iterable, NamedTuple, Optional, Tuple, Union

from ._arena import SessionArena
from ._errors import Closed, Error, check, error, fail
from ._handle import Closable, Handle, timeout_ms
from ._lib import ffi, lib
from ._objects import Object, buffer_arg, name_arg, object_handle, size_arg, wrap_object

ANY_ID = lib.SHMIPC_ANY_ID
BLOB_SIZE = lib.SHMIPC_BLOB_SIZE
MSG_MAX = lib.SHMIPC_MSG_MAX
PROVIDERS = {"shared": lib.SHMIPC_PROVIDER_SHARED, "lend": lib.SHMIPC_PROVIDER_LEND}
_RECV_FIRST_CAP = 512  # most messages are short; a longer one is received again, whole
_ETIMEDOUT = lib.SHMIPC_ETIMEDOUT
_EMSGSIZE = lib.SHMIPC_EMSGSIZE
# A blocked send in the main thread waits in C this long at most between two looks for a
# signal (KeyboardInterrupt); a retry is safe: a send that timed out sent and lent nothing.
_SEND_SIGNAL_MS = 100
# The hot path's C calls and cffi helpers as globals: a global is looked up faster than an
# attribute of cffi's lib or ffi.
_send_timeout = lib.shmipc_send_timeout
_py_recv = lib.shmipc_py_recv
_unpack = ffi.unpack


_get_ident = threading.get_ident
_main_ident = threading.main_thread().ident  # where Python runs signal handlers


def _after_fork_in_child() -> None:
    """A child forked by another thread runs its signal handlers in that thread: threading
    made it the main thread (its own hook, registered before this one, ran first)."""
    global _main_ident
    _main_ident = threading.main_thread().ident


os.register_at_fork(after_in_child=_after_fork_in_child)


class App(NamedTuple):
    """One entry of a server's allow-list: the app name ("*": any app) and the uid and gid it
    must run as. uid None means the server's own uid; ANY_ID allows any uid (or gid)."""

    app: str
    uid: Optional[int] = None
    gid: int = ANY_ID


def _timeout_detail(timeout: Optional[float], what: str) -> str:
    return f"no {what} within {timeout} s"


def _option_ms(timeout: Optional[float]) -> int:
    """A timeout for the C options, where 0 means the library's default: -1 (forever) for
    None, else at least 1 ms."""
    ms = timeout_ms(timeout)
    return ms if ms < 0 else max(1, ms)


def _poll_recv(session, total: int, started: float, *args: Any) -> int:
    """shmipc_py_recv in the main thread once a first look (which armed the doorbell) found
    nothing: Python's poll of the session fd waits, up to total ms from started (-1:
    forever), so that a signal's handler runs."""
    deadline = None if total < 0 else started + total / 1000
    poller = select.poll()
    poller.register(lib.shmipc_session_fd(session), select.POLLIN)
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return _ETIMEDOUT
        poller.poll(None if left is None else math.ceil(left * 1000))
        rc = _py_recv(session, 0, *args)  # also arms the doorbell again
        if rc != _ETIMEDOUT:
            return rc


class _Scratch:
    """The out-parameters of a recv, lend or borrow call."""

    __slots__ = ("buf", "length", "obj", "blob")

    def __init__(self) -> None:
        self.buf = ffi.new("char[]", _RECV_FIRST_CAP)
        self.length = ffi.new("size_t *")
        self.obj = ffi.new("struct shmipc_py_obj *")
        self.blob = ffi.new("shmipc_blob *")


class Session(Closable):
    """One end of a session: messages (bytes, at most MSG_MAX) with or without a lent
    Object, lend/borrow of Objects, the session-scope and app-scope arenas. Methods may be
    called from several threads; close() (also at the end of ``with``) ends the session when
    the calls in flight return (the peer then sees Closed, and loans it never borrowed are
    dropped), and wakes a thread waiting in recv() or send() at once (shutdown()). Objects
    stay valid after the session closes."""

    __slots__ = ("_handle", "_scratches", "arena", "app_arena", "peer_pid", "__weakref__")

    def __init__(self, ptr) -> None:
        self._handle = Handle(ptr, lib.shmipc_session_close, "session", lib.shmipc_session_shutdown)
        self._scratches: collections.deque = collections.deque()  # see _handle.py
        self.arena = SessionArena(self._handle, lib.shmipc_session_arena, "session")
        self.app_arena = SessionArena(self._handle, lib.shmipc_app_arena, "app")
        pid = lib.shmipc_session_peer_pid(ptr)
        # The peer's pid in this process's pid namespace; None when the peer is in one this
        # process cannot see (a server inside a container, its client outside).
        self.peer_pid: Optional[int] = pid if pid > 0 else None

    # ---- objects and lending -------------------------------------------------------------
    def alloc(self, size: int) -> Object:
        """A new Object of `size` bytes in the session arena (``app_arena.alloc`` for the app
        arena, which outlives the session)."""
        return self.arena.alloc(size)

    def lend(self, obj: Object) -> bytes:
        """Lend obj to the peer: the blob (BLOB_SIZE bytes) it borrows it with, by any means.
        The loan holds the object until the peer releases it or the session ends."""
        handle = object_handle(obj)
        if handle == ffi.NULL:
            raise TypeError("lend() needs a shmipc.Object, not None")
        return self._call_out(lib.shmipc_lend, handle, "blob", lambda blob: ffi.buffer(blob)[:])

    def borrow(self, blob: Union[bytes, bytearray, memoryview]) -> Object:
        """Borrow what the peer lent with `blob` (each blob once)."""
        raw, size = buffer_arg(blob, "blob")
        if size != BLOB_SIZE:
            fail(lib.SHMIPC_EBADBLOB, f"a blob has {BLOB_SIZE} bytes, this one {size}")
        return self._call_out(
            lib.shmipc_py_borrow, ffi.from_buffer("shmipc_blob *", raw), "obj", wrap_object
        )

    # ---- messages ---------------------------------------------------------------------
    def send(
        self,
        msg: Union[bytes, bytearray, memoryview] = b"",
        obj: Optional[Object] = None,
        timeout: Optional[float] = None,
    ) -> None:
        """Send msg, lending obj with it when given (lend + send in one call). Waits while
        the channel is full, at most timeout seconds (None: forever); raises Timeout (then
        nothing was sent and obj was not lent: the call may be made again), or Closed once
        the peer is gone."""
        # The common case first, without a call per argument: bytes, an Object, no timeout.
        if type(msg) is bytes:
            data, size = msg, len(msg)
        else:
            data, size = buffer_arg(msg)
            if not isinstance(data, bytes):
                data = ffi.from_buffer(data)
        handle = obj._owner if type(obj) is Object else object_handle(obj)
        total = -1 if timeout is None else timeout_ms(timeout)
        # In the main thread a long wait is made of slices (a signal's handler runs between).
        ms = total
        if (total < 0 or total > _SEND_SIGNAL_MS) and _get_ident() == _main_ident:
            ms = _SEND_SIGNAL_MS
        started = time.monotonic() if ms != total and total > 0 else 0.0
        calls = (h := self._handle)._calls
        calls.append(None)  # h.enter(), inlined
        try:
            if h._closing:
                raise h.closed_error()
            rc = _send_timeout(h._ptr, data, size, handle, ms)
            if rc == _ETIMEDOUT and ms != total:
                rc = self._send_in_main_thread(h._ptr, data, size, handle, total, started)
        finally:
            calls.pop()  # h.leave(), inlined
            if h._closing and not calls:
                h._finish()
        if rc == 0:
            return
        if rc == _ETIMEDOUT:
            fail(rc, _timeout_detail(timeout, "room in the channel"))
        raise self._error(rc)

    @staticmethod
    def _send_in_main_thread(session, data, size: int, handle, total: int, started: float) -> int:
        """shmipc_send_timeout once a first slice timed out, returning to Python every
        _SEND_SIGNAL_MS so that a signal's handler runs (KeyboardInterrupt) while the channel
        stays full. A retry is safe: a send that timed out sent and lent nothing."""
        deadline = None if total < 0 else started + total / 1000
        while True:
            ms = _SEND_SIGNAL_MS
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return _ETIMEDOUT
                ms = min(ms, math.ceil(left * 1000))
            rc = _send_timeout(session, data, size, handle, ms)
            if rc != _ETIMEDOUT:
                return rc

    def recv(self, timeout: Optional[float] = None) -> Tuple[bytes, Optional[Object]]:
        """The next message and the Object lent with it (None if none came). timeout in
        seconds, None waits forever, 0 only looks. Raises Timeout, or Closed when the peer is
        gone and nothing is queued. BadBlob/Stale mean the message came but its object could
        not be borrowed: the exception's ``msg`` attribute holds the message.

        Outside the main thread one C call waits. In it, one C call looks first (spinning for
        the session's spin time); only if nothing came is the wait Python's poll of the
        session fd, which a signal interrupts (its handler runs: Ctrl-C raises
        KeyboardInterrupt at once). close() from another thread ends either at once
        (shmipc_session_shutdown)."""
        total = -1 if timeout is None else timeout_ms(timeout)
        try:
            scratch = self._scratches.pop()
        except IndexError:
            scratch = _Scratch()
        buf, cap, length, info = scratch.buf, _RECV_FIRST_CAP, scratch.length, scratch.obj
        polls = total != 0 and _get_ident() == _main_ident
        started = time.monotonic() if polls and total > 0 else 0.0
        calls = (h := self._handle)._calls
        calls.append(None)  # h.enter(), inlined
        try:
            if h._closing:
                raise h.closed_error()
            session = h._ptr
            while True:
                rc = _py_recv(session, 0 if polls else total, buf, cap, length, info)
                if rc == _ETIMEDOUT and polls:
                    rc = _poll_recv(session, total, started, buf, cap, length, info)
                if rc != _EMSGSIZE:
                    break
                cap = length[0]  # it stays queued: receive it again with room enough
                buf = ffi.new("char[]", cap)
                started = time.monotonic()
            if rc >= 0:  # the message's length
                handle = info.handle
                return _unpack(buf, rc), wrap_object(info, handle) if handle else None
        finally:
            calls.pop()  # h.leave(), inlined
            if h._closing and not calls:
                h._finish()
            self._scratches.append(scratch)
        if rc == _ETIMEDOUT:
            fail(rc, _timeout_detail(timeout, "message"))
        exc = self._error(rc)
        if rc in (lib.SHMIPC_EBADBLOB, lib.SHMIPC_ESTALE):
            exc.msg = ffi.unpack(buf, length[0])
        raise exc

    def _call_out(
        self, fn: Callable[..., int], arg: Any, out: str, result: Callable[[Any], Any]
    ) -> Any:
        """fn(session, arg, <the out-parameter `out` of a scratch>); result(out-parameter)."""
        scratch = self._scratch()
        session = self._handle.enter()
        try:
            rc = fn(session, arg, getattr(scratch, out))
        finally:
            self._handle.leave()
        try:
            if rc == 0:
                return result(getattr(scratch, out))
            raise self._error(rc)
        finally:
            self._scratches.append(scratch)

    def _error(self, rc: int) -> Error:
        """The exception of a failed call on this session: PeerDied if the peer crashed."""
        exc_detail = ffi.string(lib.shmipc_error_detail()).decode(errors="replace")
        gone = 0
        if rc == lib.SHMIPC_ECLOSED and not self._handle.closed:
            try:
                gone = self._handle.call(lib.shmipc_session_peer_gone)
            except Closed:  # closed meanwhile in this process: not a crash
                pass
        return error(rc, exc_detail, gone)

    def _scratch(self) -> "_Scratch":
        """Out-parameters for one call: reused (one set per thread in a call at a time)."""
        try:
            return self._scratches.pop()
        except IndexError:
            return _Scratch()

    async def recv_async(self, timeout: Optional[float] = None) -> Tuple[bytes, Optional[Object]]:
        """recv() for asyncio: waits with ``loop.add_reader(session.fileno())``."""
        loop = asyncio.get_running_loop()
        total = timeout_ms(timeout)
        deadline = None if total < 0 else loop.time() + total / 1000
        while True:
            try:
                return self.recv(timeout=0)
            except TimeoutError:
                pass
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                fail(lib.SHMIPC_ETIMEDOUT, _timeout_detail(timeout, "message"))
            await _readable(loop, self.fileno(), left)

    # ---- the session --------------------------------------------------------------------
    def shutdown(self) -> None:
        """End every call waiting on this session now, from any thread: recv() and send()
        raise Closed at once, and so do later calls; the peer is told nothing until close().
        A no-op once closed."""
        try:
            self._handle.call(lib.shmipc_session_shutdown)
        except Closed:
            pass

    def fileno(self) -> int:
        """A descriptor that is readable when a message waits or the peer is gone (for
        select/selectors/asyncio); it belongs to the session."""
        return self._handle.call(lib.shmipc_session_fd)

    @property
    def closed(self) -> bool:
        """True once this side closed the session or the peer has closed it or died."""
        if self._handle.closed:
            return True
        try:
            return bool(self._handle.call(lib.shmipc_session_closed))
        except ConnectionError:
            return True

    def set_spin(self, microseconds: int) -> None:
        """Spin this long on an empty channel before sleeping in recv (0: sleep at once)."""
        self._handle.call(lib.shmipc_session_set_spin, size_arg(microseconds))

    def __repr__(self) -> str:
        pid = "?" if self.peer_pid is None else self.peer_pid
        return f"<shmipc.Session peer pid {pid}{' closed' if self.closed else ''}>"


async def _readable(loop: asyncio.AbstractEventLoop, fd: int, timeout: Optional[float]):
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await asyncio.wait_for(ready, timeout)
    except asyncio.TimeoutError:
        pass  # the caller looks once more and says Timeout
    finally:
        loop.remove_reader(fd)


def _provider(provider: Union[str, int]) -> int:
    if isinstance(provider, str) and provider in PROVIDERS:
        return PROVIDERS[provider]
    if type(provider) is int and provider in PROVIDERS.values():
        return provider
    raise ValueError(f"provider must be one of {sorted(PROVIDERS)}, not {provider!r}")


def _allow_list(allow: Optional[Iterable[App]], keep: list):
    """The C allow-list (NULL: any app of the server's uid) and its length; the C strings
    go into `keep`, which must outlive the call."""
    if allow is None:
        return ffi.NULL, 0
    rules = list(allow)
    array = ffi.new("shmipc_app_rule[]", max(len(rules), 1))
    for rule, entry in zip(rules, array):
        if not isinstance(rule, App):
            raise TypeError(f"allow-list entries must be shmipc.App, not {type(rule).__name__}")
        keep.append(ffi.new("char[]", name_arg(rule.app, "app")))
        entry.app = keep[-1]
        entry.uid = os.getuid() if rule.uid is None else rule.uid
        entry.gid = rule.gid
    keep.append(array)
    return array, len(rules)


class Server(Closable):
    """Serve sessions under `name` (its socket lives in $SHMIPC_SOCKET_DIR, else
    $XDG_RUNTIME_DIR/shmipc, else /tmp/shmipc-<uid>, unless socket_dir says). allow: the
    Apps that may connect (None: any app run by this uid). provider "shared" (every side maps
    the session's arenas read-write) or "lend" (each side allocates in its own memory, peers
    map it read-only; NotSupported in a build without jemalloc). Accept never waits on one
    client: at most max_pending handshakes are in flight (0: 64; past it new connections
    wait in the socket's backlog, and one that sent nothing for 250 ms gives its slot to a
    waiting one), each bounded by handshake_timeout from its connection; clients of at most
    max_apps apps get an app arena (0: 64; one more is refused: PermissionDenied); at most
    max_sessions sessions of one app are open at once (0: 4096; one more is refused:
    PermissionDenied).
    shutdown() ends every accept(), from any thread. close() (or the end of ``with``) stops
    serving: the socket goes, accepted sessions stay open."""

    __slots__ = ("name", "provider", "_handle", "_accepting", "_keep")

    def __init__(
        self,
        name: str,
        *,
        provider: Union[str, int] = "shared",
        allow: Optional[Iterable[App]] = None,
        socket_dir: Optional[str] = None,
        socket_mode: int = 0,
        session_arena_size: int = 0,
        app_arena_size: int = 0,
        handshake_timeout: Optional[float] = None,
        max_pending: int = 0,
        max_apps: int = 0,
        max_sessions: int = 0,
    ) -> None:
        self.name = name
        self._keep: list = []  # what the C options point at
        opts = ffi.new("shmipc_server_opts *")
        lib.shmipc_server_opts_init(opts)
        opts.provider = self.provider = _provider(provider)
        opts.allow, opts.n_allow = _allow_list(allow, self._keep)
        if socket_dir is not None:
            self._keep.append(ffi.new("char[]", os.fsencode(socket_dir)))
            opts.socket_dir = self._keep[-1]
        opts.socket_mode = socket_mode
        opts.session_arena_size = size_arg(session_arena_size)
        opts.app_arena_size = size_arg(app_arena_size)
        opts.handshake_timeout_ms = (
            0 if handshake_timeout is None else _option_ms(handshake_timeout)
        )
        opts.max_pending = max_pending
        opts.max_apps = max_apps
        opts.max_sessions = max_sessions
        out = ffi.new("shmipc_server **")
        check(lib.shmipc_server_open(name_arg(name, "server name"), opts, out))
        self._handle = Handle(out[0], lib.shmipc_server_close, "server", lib.shmipc_server_shutdown)
        self._accepting = threading.Lock()

    def accept(self, timeout: Optional[float] = None) -> Session:
        """The next client whose handshake is complete (refused clients are skipped).
        timeout in seconds, None: forever. Raises Timeout, or Closed once shutdown() or
        close() was called (at once, also in a thread waiting here). One thread at a time
        accepts."""
        out = ffi.new("shmipc_session **")
        total = timeout_ms(timeout)
        if not self._accepting.acquire(timeout=-1 if total < 0 else total / 1000):
            fail(lib.SHMIPC_ETIMEDOUT, "another thread is accepting")
        try:
            rc = self._handle.wait(lib.shmipc_server_accept, timeout, out)
        finally:
            self._accepting.release()
        if rc == lib.SHMIPC_ETIMEDOUT:
            fail(rc, _timeout_detail(timeout, "client"))
        check(rc)
        return Session(out[0])

    def shutdown(self) -> None:
        """Stop accepting, from any thread: every accept() waiting raises Closed at once,
        and so does every later one. The server stays open until close()."""
        self._handle.call(lib.shmipc_server_shutdown)

    def close(self) -> None:
        """Stop serving (a thread waiting in accept() raises Closed at once); the socket
        goes when the calls in flight return. Idempotent."""
        self._handle.close()  # shuts the C server down first (its interrupt)

    def fileno(self) -> int:
        """Readable when accept() has something to do: a new connection, a handshake's next
        message, a shutdown."""
        return self._handle.call(lib.shmipc_server_fd)

    @property
    def rejected(self) -> int:
        """Clients refused so far (allow-list, version, failed handshakes)."""
        return self._handle.call(lib.shmipc_server_rejected)

    def __repr__(self) -> str:
        return f"<shmipc.Server {self.name!r}{' closed' if self.closed else ''}>"


def connect(
    server: str,
    app: str,
    *,
    timeout: Optional[float] = 5.0,
    socket_dir: Optional[str] = None,
    wait: bool = False,
) -> Session:
    """Connect to `server` as app `app`. timeout (seconds, None: forever) covers connecting
    and the handshake, and with wait=True waiting for a server that is not running yet (a
    client may start before its server). Raises NotFound (no such server, without wait),
    PermissionDenied (refused: the detail says why), ProtocolError, Timeout."""
    opts = ffi.new("shmipc_client_opts *")
    lib.shmipc_client_opts_init(opts)
    opts.timeout_ms = _option_ms(timeout)
    opts.wait = bool(wait)
    if socket_dir is not None:
        cdir = ffi.new("char[]", os.fsencode(socket_dir))
        opts.socket_dir = cdir
    out = ffi.new("shmipc_session **")
    check(lib.shmipc_connect(name_arg(server, "server name"), name_arg(app, "app"), opts, out))
    return Session(out[0])
