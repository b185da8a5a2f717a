#!/usr/bin/env python3
"""The Python binding's CPU per message, as bench/peers/peers.py's ShmipcSide spends it.

Both ends of a session in one process, a message always waiting, so that only the calls
are timed (no wake-up, no peer): `send(b"x", obj)`, then `recv(timeout=30.0)` in the main
thread, a memoryview of the object received, a read of its first 8 bytes, `release()`;
and the same without an object (`send(b"x")`, `recv`). ns per pair of calls, fastest of
the repetitions (the machine's load only adds), for both providers.

  python_calls.py [--iterations N] [--repetitions N]

Not a test: it prints numbers and asserts nothing. callgrind gives the same loop's
instruction count where the load makes times move (see docs/performance.md).
"""

import argparse
import concurrent.futures
import os
import struct
import time

import shmipc

U64 = struct.Struct("=Q")


def pairs(sess_a, sess_b, obj, n):
    """ns per send+recv pair: (with the object, without)."""
    send, recv = sess_a.send, sess_b.recv

    start = time.perf_counter_ns()
    for _ in range(n):
        send(b"x", obj)
        _, got = recv(timeout=30.0)
        U64.unpack_from(memoryview(got), 0)
        got.release()
    with_obj = (time.perf_counter_ns() - start) / n

    start = time.perf_counter_ns()
    for _ in range(n):
        send(b"x")
        recv(timeout=30.0)
    return with_obj, (time.perf_counter_ns() - start) / n


def measure(provider, iterations, repetitions):
    name = f"bench-calls-{os.getpid()}-{provider}"
    with (
        shmipc.Server(name, provider=provider) as server,
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        accepted = pool.submit(server.accept, 10)
        with shmipc.connect(name, "bench", timeout=10) as b, accepted.result() as a:
            with a.alloc(64) as obj:
                runs = [pairs(a, b, obj, iterations) for _ in range(repetitions + 1)][1:]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--repetitions", type=int, default=10)
    args = parser.parse_args()
    print(
        f"Python binding, ns per send+recv pair in one process (fastest of "
        f"{args.repetitions} x {args.iterations})"
    )
    print(f"  {'provider':10}{'with object':>14}{'plain':>10}")
    for provider in ("shared", "lend"):
        try:
            with_obj, plain = measure(provider, args.iterations, args.repetitions)
        except shmipc.NotSupported:
            print(f"  {provider:10}{'(not in this build)':>24}")
            continue
        print(f"  {provider:10}{with_obj:14.0f}{plain:10.0f}")


if __name__ == "__main__":
    main()
