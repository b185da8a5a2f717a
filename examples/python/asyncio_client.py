#!/usr/bin/env python3
"""asyncio_client — the echo client (examples/README.md) on an asyncio event loop.

The session's descriptor (``sess.fileno()``) joins the loop: ``await sess.recv_async()``
waits without blocking it, so other tasks run meanwhile — here a ticker that counts the
loop's turns while the client waits for the server (a message already there is taken at
once, without waiting: a fast server leaves the ticker nothing to do). The answers are the
echo client's (echo_client.py): any echo server, in any language, can be on the other side.

  asyncio_client.py [-n SERVER] [-a APP] [-t TIMEOUT_MS]

Prints how many objects it answered and how often the ticker ran; exit status as
echo_client's (0 all checks passed, 2 a check failed, 3 could not connect, 4 an error).
"""

import asyncio
import getopt
import sys

import shmipc
from echo_client import answer_bytes, answer_catalog
from echo_common import (
    DEFAULT_APP,
    DEFAULT_SERVER,
    client_args,
    fail,
    parse_msg,
    timeout_s,
    usage_error,
)

USAGE = "usage: asyncio_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]"
ANSWERS = (("sum", answer_bytes), ("catalog", answer_catalog))


async def ticker(ticks):
    """Another task on the same loop: it runs while the client waits."""
    while True:
        ticks[0] += 1
        await asyncio.sleep(0.001)


async def serve(sess, timeout):
    """Answer every object until the server says "bye"; the exit status."""
    answered = 0
    while True:
        msg, got = await sess.recv_async(timeout)
        if msg == b"bye" and got is None:
            return 0, answered
        status = 4
        if got is not None:
            with got:
                for word, answer in ANSWERS:
                    parsed = parse_msg(msg, word)
                    if parsed:
                        status = answer(sess, got, *parsed)
                        break
        if status != 0:
            print(f"asyncio_client: message {msg!r} failed its check ({status})", file=sys.stderr)
            return status, answered
        answered += 1


async def run(server, app, timeout):
    try:
        sess = shmipc.connect(server, app, timeout=timeout)
    except shmipc.Error as e:
        fail("asyncio_client", "connect", e)
        return 3
    ticks = [0]
    background = asyncio.create_task(ticker(ticks))
    with sess:
        try:
            status, answered = await serve(sess, timeout)
        except shmipc.Error as e:
            fail("asyncio_client", "receiving", e)
            status, answered = 4, 0
    background.cancel()
    print(f"asyncio_client: answered {answered} objects; the ticker ran {ticks[0]} times meanwhile")
    return status


def main(argv):
    try:
        server, app, timeout_ms = client_args(argv, DEFAULT_SERVER, DEFAULT_APP, 10000)
    except (getopt.GetoptError, ValueError) as e:
        return usage_error(e, USAGE)
    return asyncio.run(run(server, app, timeout_s(timeout_ms)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
