#!/usr/bin/env python3
"""demo_client — a client of the cross-language demo (examples/README.md, "The demo"), in
Python.

Borrows the server's catalogue and walks it in place (cffi, through the C header), answers
with the records reversed in an object of its own; borrows the frames and sums each one as
a numpy view of the server's memory (no copy), answers with the sums; then receives the
same frames through a plain Unix socket and sums them again, to compare.

  demo_client.py [-n SERVER] [-a APP] [-t TIMEOUT_MS]

Exit status: 0 all checks passed, 2 a borrowed object did not match its message, 3 could
not connect, 4 a protocol or session error.
"""

import getopt
import re
import socket
import sys
import time
from pathlib import Path

import numpy

import shmipc
from echo_common import (
    Malformed,
    catalog_build,
    catalog_digest,
    catalog_size,
    client_args,
    fail,
    timeout_s,
    usage_error,
)

USAGE = "usage: demo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]"
DEMO_HEADER = Path(__file__).resolve().parents[1] / "include" / "shmipc_demo.h"


def _header_defines(path):
    """The #define NAME value lines of the demo's C header: numbers and strings."""
    found = re.findall(
        r'^#define (DEMO_\w+) (\d+)u?|^#define (DEMO_\w+) "([^"]*)"', path.read_text(), re.MULTILINE
    )
    return {a or c: int(b) if a else d for a, b, c, d in found}


DEMO = _header_defines(DEMO_HEADER)
FRAME_FLOATS = DEMO["DEMO_FRAME_FLOATS"]


class CheckFailed(Exception):
    """What the server sent does not match its message (exit status 2)."""


class ProtocolError(Exception):
    """A message that is not the one the protocol has next (exit status 4)."""


def expect(sess, timeout, pattern, with_object):
    """Receive the next message; it must match `pattern` (bytes regex) and carry an object
    if `with_object`. Returns (match, object or None)."""
    msg, obj = sess.recv(timeout)
    found = re.fullmatch(pattern, msg)
    if not found or (obj is not None) != with_object:
        if obj is not None:
            obj.release()
        raise ProtocolError(f"unexpected message {msg!r}")
    return found, obj


def send_own(sess, size, fill):
    """Allocate an object of ours, let fill(obj) write it and say the message, send the
    message with it; our handle goes at once (the loan keeps the object until the server
    lets go)."""
    with sess.alloc(size) as mine:
        text = fill(mine)
        sess.send(text.encode(), mine)


def answer_catalog(sess, timeout):
    """Walk the server's catalogue in place; answer with its records reversed."""
    found, theirs = expect(sess, timeout, rb"catalog (\d+) ([0-9a-f]{16})", True)
    count, digest = int(found.group(1)), int(found.group(2), 16)
    with theirs:
        try:
            if catalog_digest(theirs) != (digest, count):
                raise CheckFailed("the catalogue does not match its digest")
        except Malformed as e:
            raise CheckFailed(f"the catalogue is malformed: {e}") from None

    def reversed_catalog(mine):
        catalog_build(mine, count, reversed_order=True)
        return f"catalog {count} {catalog_digest(mine)[0]:016x}"

    send_own(sess, catalog_size(count), reversed_catalog)


def frame_sums(frames, nframes):
    """Each frame's sum, read in place: a numpy view of the borrowed memory."""
    if frames.nbytes != nframes * FRAME_FLOATS * 4:
        raise CheckFailed(f"{frames.nbytes} bytes of frames, the message says {nframes}")
    view = numpy.frombuffer(frames, dtype=numpy.float32).reshape(nframes, FRAME_FLOATS)
    return view.sum(axis=1, dtype=numpy.float64)


def answer_frames(sess, timeout):
    found, frames = expect(sess, timeout, rb"frames (\d+) (\d+)", True)
    received = time.monotonic_ns()
    nframes, sent = int(found.group(1)), int(found.group(2))
    with frames:
        sums = frame_sums(frames, nframes)
    read = time.monotonic_ns()

    def fill(mine):
        numpy.frombuffer(mine, dtype=numpy.float64)[:] = sums
        return f"sums {nframes} {received - sent} {read - sent}"

    send_own(sess, sums.nbytes, fill)
    return nframes * FRAME_FLOATS * 4


def receive_all(conn, buf):
    """Fill buf from conn; the number of bytes that came before the peer closed."""
    view, got = memoryview(buf), 0
    while got < len(buf):
        n = conn.recv_into(view[got:])
        if n == 0:
            break
        got += n
    return got


def answer_copy(sess, timeout, nbytes):
    found, _ = expect(sess, timeout, rb"copy (\S+)", False)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(found.group(1).decode())
        stamp = bytearray(8)
        if receive_all(conn, stamp) != 8:
            raise ProtocolError("the copy socket closed before its stamp")
        buf = bytearray(nbytes)  # our own memory: the bytes are copied into it
        got = receive_all(conn, buf)
    total = numpy.frombuffer(buf, dtype=numpy.float32)[: got // 4].sum(dtype=numpy.float64)
    copied = time.monotonic_ns() - int.from_bytes(stamp, sys.byteorder)
    sess.send(f"copied {got} {total:.0f} {copied}".encode())


def run(sess, timeout):
    sess.send(b"client python")
    answer_catalog(sess, timeout)
    answer_frames(sess, timeout)
    nbytes = answer_frames(sess, timeout)  # the same frames again, their pool mapped
    answer_copy(sess, timeout, nbytes)
    expect(sess, timeout, rb"bye", False)


def main(argv):
    try:
        server, app, timeout_ms = client_args(
            argv, DEMO["DEMO_DEFAULT_SERVER"], DEMO["DEMO_DEFAULT_APP"], 30000
        )
    except (getopt.GetoptError, ValueError) as e:
        return usage_error(e, USAGE)
    timeout = timeout_s(timeout_ms)
    try:
        sess = shmipc.connect(server, app, timeout=timeout)
    except shmipc.Error as e:
        fail("demo_client", "connect", e)
        return 3
    with sess:
        try:
            run(sess, timeout)
        except CheckFailed as e:
            print(f"demo_client: {e}", file=sys.stderr)
            return 2
        except (ProtocolError, shmipc.Error, OSError) as e:
            print(f"demo_client: {e}", file=sys.stderr)
            return 4
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
