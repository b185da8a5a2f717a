#!/usr/bin/env python3
"""echo_server — the server of the echo roles (examples/README.md), in Python.

Serves CLIENTS clients one after the other. To each it lends objects of the given sizes
and a catalogue, checks every answer (the bytes reversed; the catalogue rebuilt in reverse
order), says "bye", waits for the client to go, and checks that both arenas are back at
their baseline: nothing the client held was leaked, whatever language it is in.

  echo_server.py [-n NAME] [-p shared|lend] [-c CLIENTS] [-s SIZE,SIZE,...] [-r RECORDS]
                 [-t TIMEOUT_MS]

Prints "listening NAME" once clients may connect, one line per client, and exits 0 if
every check passed (1 otherwise, 3 if it could not start).
"""

import getopt
import sys

import shmipc
from echo_common import (
    DEFAULT_SERVER,
    Malformed,
    catalog_build,
    catalog_digest,
    catalog_size,
    fail,
    fnv,
    parse_msg,
    pattern,
    record_set_digest,
    send_own,
    timeout_s,
    usage_error,
)

USAGE = (
    "usage: echo_server [-n NAME] [-p shared|lend] [-c CLIENTS] [-s SIZE,...] "
    "[-r RECORDS] [-t TIMEOUT_MS]"
)
MAX_SIZES = 16


class Options:
    def __init__(self, argv):
        self.name, self.provider, self.clients = DEFAULT_SERVER, "shared", 1
        self.sizes, self.records, self.timeout_ms = [64, 65536, 1 << 20], 100, 10000
        opts, rest = getopt.getopt(argv, "n:p:c:s:r:t:")
        for flag, value in opts:
            if flag == "-n":
                self.name = value
            elif flag == "-p":
                if value not in ("shared", "lend"):
                    raise ValueError(value)
                self.provider = value
            elif flag == "-c":
                self.clients = int(value)
            elif flag == "-r":
                self.records = int(value)
            elif flag == "-t":
                self.timeout_ms = int(value)
            else:
                self.sizes = [int(tok, 0) for tok in value.split(",") if tok][:MAX_SIZES]
        if rest or self.clients <= 0 or not all(size > 0 for size in self.sizes):
            raise ValueError("bad arguments")
        self.timeout = timeout_s(self.timeout_ms)


def _fail(what, error):
    fail("echo_server", what, error)
    return False


def recv_answer(sess, opts, word):
    """The client's answer "<word> <n> <hex>" with an object: (n, hash, object) or None."""
    try:
        msg, obj = sess.recv(opts.timeout)
    except shmipc.Error as e:
        return _fail("waiting for the answer", e)
    parsed = parse_msg(msg, word)
    if obj is None or parsed is None:
        print(f"echo_server: unexpected answer '{msg.decode(errors='replace')}'", file=sys.stderr)
        if obj is not None:
            obj.release()
        return None
    return (*parsed, obj)


def lend_and_answer(sess, opts, size, fill, word, failures):
    """Lend an object filled by fill (see send_own) and wait for the client's answer:
    (n, hash, object) or None after reporting why."""
    if not send_own("echo_server", sess, size, fill, word, failures):
        return None
    return recv_answer(sess, opts, word)


def check_bytes(sess, opts, n):
    """Lend n pattern bytes; the answer must hold them reversed."""
    data = pattern(n)

    def fill(obj):
        memoryview(obj)[:] = data
        return n, fnv(data)

    answer = lend_and_answer(sess, opts, n, fill, "sum", ("allocating an object", "sending"))
    if not answer:
        return False
    got_n, h, obj = answer
    with obj:
        return got_n == n and obj.nbytes == n and fnv(obj) == h and memoryview(obj) == data[::-1]


def check_catalog(sess, opts):
    """Lend a catalogue; the answer must be the same records in reverse order."""

    def fill(obj):
        catalog_build(obj, opts.records, reversed_order=False)
        digest, count = catalog_digest(obj)
        return count, digest

    answer = lend_and_answer(
        sess,
        opts,
        catalog_size(opts.records),
        fill,
        "catalog",
        ("allocating the catalogue", "sending the catalogue"),
    )
    if not answer:
        return False
    got_n, h, obj = answer
    with obj:
        try:
            digest, count = catalog_digest(obj)
        except Malformed:
            return False
    return (
        count == opts.records
        and got_n == count
        and digest == h
        and digest == record_set_digest(opts.records, reversed_order=True)
    )


def used(arena):
    try:
        return arena.stats().used
    except shmipc.Error:
        return 0


def see_off(sess, opts):
    """Say bye and wait until the client has gone."""
    try:
        sess.send(b"bye")
    except shmipc.Error as e:
        return _fail("saying bye", e)
    try:
        while True:
            _, obj = sess.recv(opts.timeout)
            if obj is not None:
                obj.release()
    except shmipc.Closed:
        return True
    except shmipc.Error as e:
        return _fail("waiting for the client to close", e)


def serve_one(srv, opts, index):
    try:
        sess = srv.accept(opts.timeout)
    except shmipc.Error as e:
        return _fail("accept", e)
    with sess:
        base_s, base_a = used(sess.arena), used(sess.app_arena)
        nbytes = sum(check_bytes(sess, opts, n) for n in opts.sizes)
        good = nbytes == len(opts.sizes)
        good &= check_catalog(sess, opts)
        good &= see_off(sess, opts)
        good &= used(sess.arena) == base_s and used(sess.app_arena) == base_a
        print(
            f"client {index} (pid {sess.peer_pid}): {nbytes}/{len(opts.sizes)} buffers, "
            f"catalogue of {opts.records} records, arenas back to baseline: "
            f"{'ok' if good else 'FAILED'}",
            flush=True,
        )
    return good


def main(argv):
    try:
        opts = Options(argv)
    except (getopt.GetoptError, ValueError) as e:
        return usage_error(e, USAGE)
    # room for the largest object, with slack
    arena_size = max(size * 2 + (1 << 20) for size in opts.sizes)
    try:
        srv = shmipc.Server(opts.name, provider=opts.provider, session_arena_size=arena_size)
    except shmipc.Error as e:
        fail("echo_server", "server_open", e)
        return 3
    print(f"listening {opts.name}", flush=True)
    with srv:
        good = sum(serve_one(srv, opts, i) for i in range(opts.clients))
    return 0 if good == opts.clients else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
