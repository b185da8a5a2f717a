"""A C handle shared by threads, one of which may close it while others are inside calls.

The C library forbids closing a session (or a server, or an arena) while another call on it
runs. Python code cannot be trusted with that rule, so every call goes through enter() and
leave(), and close() takes effect when the last call in flight leaves; after close() new
calls raise shmipc.Closed. A handle whose C calls can be interrupted (a session:
shmipc_session_shutdown; a server: shmipc_server_shutdown) is interrupted by close(), so a
thread blocked in recv(), send() or accept() returns at once. The waits still made of short
slices (wait(): a server's accept()) let the main thread see a signal (KeyboardInterrupt)
within one slice.

No lock on the hot path: deque.append and deque.pop are atomic under the GIL (and, unlike
a list's going from one element to none and back, allocate nothing), and the order
"enter: count in, then look at the flag" / "close: set the flag, then look at the count"
means that either the closer sees the call, or the call sees the flag. The C handle itself
sits in a one-element list, so that of several threads finishing a close only the one that
pops it releases it.
"""

from __future__ import annotations

import collections
import math
import time
import warnings
from typing import Any, Callable, Optional

from ._errors import error
from ._lib import ffi, lib

SLICE_MS = 200  # longest uninterrupted wait in C: how soon a blocked call sees close()
_INT_MAX = 2**31 - 1
_ETIMEDOUT = lib.SHMIPC_ETIMEDOUT


def timeout_ms(timeout: Optional[float]) -> int:
    """A timeout in seconds (None or inf: forever) as the C library's milliseconds (-1:
    forever)."""
    if timeout is None:
        return -1
    try:
        ms = math.ceil(timeout * 1000)
    except OverflowError:  # inf
        ms = _INT_MAX if timeout > 0 else -1
    except (TypeError, ValueError):  # not a number, NaN
        raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}") from None
    if ms < 0:
        raise ValueError(f"timeout must be >= 0 seconds or None (got {timeout})")
    return -1 if ms >= _INT_MAX else ms


class Handle:
    """One C handle (a cdata with its C destructor attached by ffi.gc), its calls in flight
    and its closing."""

    __slots__ = ("_ptr", "_owned", "_calls", "_closing", "_what", "_interrupt")

    def __init__(
        self, ptr, destructor, what: str, interrupt: Optional[Callable[[Any], None]] = None
    ) -> None:
        self._ptr = ffi.gc(ptr, destructor)
        self._owned = [self._ptr]  # popped by whoever finishes the close
        self._calls: collections.deque = collections.deque()
        self._closing = False
        self._what = what
        self._interrupt = interrupt  # ends the calls in flight at once, from any thread

    @property
    def closed(self) -> bool:
        return self._closing

    def enter(self):
        """Start a call: the C handle, or Closed once close() was called. (Session.send and
        recv inline enter and leave: a Python call costs as much as either.)"""
        self._calls.append(None)
        if self._closing:
            self.leave()
            raise self.closed_error()
        return self._ptr

    def closed_error(self) -> Exception:
        return error(lib.SHMIPC_ECLOSED, f"the {self._what} was closed in this process")

    def leave(self) -> None:
        self._calls.pop()
        if self._closing and not self._calls:
            self._finish()

    def close(self) -> None:
        """Close now, or when the last call in flight returns (interrupted, if the handle
        can be). Idempotent."""
        self._calls.append(None)  # counted as a call: the handle lives while we interrupt
        self._closing = True
        if self._interrupt is not None and self._owned:
            self._interrupt(self._ptr)
        self.leave()

    def _finish(self) -> None:
        try:
            ptr = self._owned.pop()
        except IndexError:  # another thread finished it
            return
        ffi.release(ptr)

    def call(self, fn: Callable, *args):
        """fn(handle, *args) as one call on the handle."""
        ptr = self.enter()
        try:
            return fn(ptr, *args)
        finally:
            self.leave()

    def wait(self, fn: Callable[..., int], timeout: Optional[float], *args: Any) -> int:
        """fn(handle, ms, *args) repeated in slices of at most SLICE_MS while it times out
        and time is left; its last return code. timeout None waits forever."""
        total = timeout_ms(timeout)
        ms = total if 0 <= total <= SLICE_MS else SLICE_MS
        ptr = self.enter()
        try:
            rc = fn(ptr, ms, *args)
        finally:
            self.leave()
        if rc != _ETIMEDOUT or 0 <= total <= ms:  # the fast path: one call
            return rc
        deadline = None if total < 0 else time.monotonic() + (total - ms) / 1000
        while True:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return rc
                ms = min(math.ceil(left * 1000), SLICE_MS)
            rc = self.call(fn, ms, *args)
            if rc != _ETIMEDOUT:
                return rc


class Closable:
    """close(), ``closed`` and ``with`` for the classes that own a Handle in ``_handle``:
    close() takes effect when the calls in flight return; ``with`` closes at the end. One
    collected unclosed warns (ResourceWarning, shown under ``-X dev``), as files do."""

    __slots__ = ()
    _handle: Handle

    def close(self) -> None:
        self._handle.close()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)  # None: __init__ failed before opening
        if handle is not None and not handle.closed:
            warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=2, source=self)
            handle.close()
