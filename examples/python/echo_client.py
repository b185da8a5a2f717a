#!/usr/bin/env python3
"""echo_client — the client of the echo roles (examples/README.md), in Python.

Connects to an echo server (written in any language), checks every object it borrows,
answers each with an object of its own — the bytes reversed, or the catalogue rebuilt in
reverse order — and exits 0 when the server says "bye".

  echo_client.py [-n SERVER] [-a APP] [-t TIMEOUT_MS]

Exit status: 0 all checks passed, 2 a borrowed object did not match its message,
3 could not connect, 4 a protocol or session error.
"""

import getopt
import sys

import shmipc
from echo_common import (
    DEFAULT_APP,
    DEFAULT_SERVER,
    Malformed,
    catalog_build,
    catalog_digest,
    catalog_size,
    client_args,
    fail,
    fnv,
    parse_msg,
    send_own,
    timeout_s,
    usage_error,
)

USAGE = "usage: echo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]"
UINT32_MAX = 2**32 - 1


def _fail(what, error, status):
    fail("echo_client", what, error)
    return status


def _answer(sess, size, fill, word, what):
    """Send our answer (status 0), or report why we could not (4)."""
    failures = (f"allocating the {what}", f"sending the {what}")
    return 0 if send_own("echo_client", sess, size, fill, word, failures) else 4


def answer_bytes(sess, got, n, h):
    """Answer "sum": the same bytes, reversed, in an object of ours."""
    if got.nbytes != n or fnv(got) != h:
        return 2

    def reversed_copy(mine):
        memoryview(mine)[:] = memoryview(got)[::-1]
        return n, fnv(mine)

    return _answer(sess, n, reversed_copy, "sum", "answer")


def answer_catalog(sess, got, n, h):
    """Answer "catalog": walk the server's catalogue, send the same records reversed."""
    try:
        digest, count = catalog_digest(got)
    except Malformed:
        return 2
    if count != n or digest != h or n > UINT32_MAX:
        return 2

    def reversed_catalog(mine):
        catalog_build(mine, n, reversed_order=True)
        digest, count = catalog_digest(mine)
        return count, digest

    return _answer(sess, catalog_size(n), reversed_catalog, "catalog", "catalogue")


def serve(sess, timeout):
    while True:
        try:
            msg, got = sess.recv(timeout)
        except shmipc.Error as e:
            return _fail("receiving", e, 4)
        if msg == b"bye" and got is None:
            return 0
        status = 4
        if got is not None:
            with got:
                for word, answer in (("sum", answer_bytes), ("catalog", answer_catalog)):
                    parsed = parse_msg(msg, word)
                    if parsed:
                        status = answer(sess, got, *parsed)
                        break
        if status != 0:
            print(
                f"echo_client: message '{msg.decode(errors='replace')}' failed its check "
                f"({status})",
                file=sys.stderr,
            )
            return status


def main(argv):
    try:
        server, app, timeout_ms = client_args(argv, DEFAULT_SERVER, DEFAULT_APP, 10000)
    except (getopt.GetoptError, ValueError) as e:
        return usage_error(e, USAGE)
    try:  # as the C client: connect's timeout 0 means the library's default
        sess = shmipc.connect(server, app, timeout=timeout_s(timeout_ms or 5000))
    except shmipc.Error as e:
        return _fail("connect", e, 3)
    with sess:
        return serve(sess, timeout_s(timeout_ms))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
