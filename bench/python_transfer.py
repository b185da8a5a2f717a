#!/usr/bin/env python3
"""Python moves 100 MiB to another Python process, three ways, measured in this run:

  shmipc         lend the (warm) object with a message, the peer receives it and makes a
                 numpy view of it: no byte copied
  mp.Queue       multiprocessing.Queue.put of the bytes, get in the peer (pickled, piped)
  shared_memory  multiprocessing.shared_memory: the name through a Pipe, the peer attaches
                 and makes a numpy view

Times run from the sender's call to the receiver holding its numpy view (CLOCK_MONOTONIC
is the same clock in both processes). Then the Python binding's overhead per operation:
the same session calls timed in Python and in C (bench/session_ops), both ends of a session
in one process so that only the calls are timed.

  python_transfer.py [--session-ops PATH] [--mib N] [--rounds N]

Not a test: it prints numbers and ratios, and asserts nothing.
"""

import argparse
import concurrent.futures
import multiprocessing
import os
import statistics
import subprocess
import time
from multiprocessing import shared_memory

import numpy

import shmipc

SPAWN = multiprocessing.get_context("spawn")  # fresh interpreters: nothing inherited


def shmipc_receiver(name, rounds):
    with shmipc.connect(name, "bench", timeout=30, wait=True) as sess:
        for _ in range(rounds):
            _, obj = sess.recv(timeout=30)
            view = numpy.frombuffer(obj, dtype=numpy.float32)
            at = time.perf_counter()
            del view
            obj.release()
            sess.send(repr(at).encode())


def time_shmipc(size, rounds):
    name = f"bench-transfer-{os.getpid()}"
    peer = SPAWN.Process(target=shmipc_receiver, args=(name, rounds + 1))
    peer.start()
    times = []
    with (
        shmipc.Server(name, session_arena_size=size + (64 << 20)) as server,
        server.accept(timeout=30) as sess,
        sess.alloc(size) as obj,
    ):
        memoryview(obj)[:] = b"\x01" * size  # warm: every page is there
        for _ in range(rounds + 1):  # the first one warms the peer's mapping up
            start = time.perf_counter()
            sess.send(b"take", obj)
            times.append(float(sess.recv(timeout=30)[0]) - start)
    peer.join()
    return times[1:]


def queue_receiver(queue, back, rounds):
    for _ in range(rounds):
        data = queue.get()
        numpy.frombuffer(data, dtype=numpy.float32)
        back.put(time.perf_counter())


def time_queue(size, rounds):
    queue, back = SPAWN.Queue(), SPAWN.Queue()
    peer = SPAWN.Process(target=queue_receiver, args=(queue, back, rounds))
    peer.start()
    data, times = b"\x01" * size, []
    for _ in range(rounds):
        start = time.perf_counter()
        queue.put(data)
        times.append(back.get() - start)
    peer.join()
    return times


def shm_receiver(conn, size, rounds):
    for _ in range(rounds):
        shm = shared_memory.SharedMemory(name=conn.recv())
        view = numpy.ndarray((size // 4,), dtype=numpy.float32, buffer=shm.buf)
        at = time.perf_counter()
        del view
        shm.close()
        conn.send(at)


def time_shared_memory(size, rounds):
    here, there = SPAWN.Pipe()
    peer = SPAWN.Process(target=shm_receiver, args=(there, size, rounds + 1))
    peer.start()
    shm = shared_memory.SharedMemory(create=True, size=size)
    try:
        shm.buf[:] = b"\x01" * size
        times = []
        for _ in range(rounds + 1):
            start = time.perf_counter()
            here.send(shm.name)
            times.append(here.recv() - start)
    finally:
        shm.close()
        shm.unlink()
    peer.join()
    return times[1:]


# ---- per-operation overhead -------------------------------------------------------------------


def python_ops(iterations):
    """ns per pair of calls, as bench/session_ops times them in C."""
    name = f"bench-ops-py-{os.getpid()}"
    with shmipc.Server(name) as server, concurrent.futures.ThreadPoolExecutor(1) as pool:
        accepted = pool.submit(server.accept, 10)
        with shmipc.connect(name, "bench", timeout=10) as b, accepted.result() as a:
            obj, msg = a.alloc(4096), b"0123456789abcdef"

            def send_recv():
                a.send(msg)
                b.recv(timeout=0)

            def send_recv_obj():
                a.send(msg, obj)
                b.recv(timeout=0)[1].release()

            def lend_borrow():
                b.borrow(a.lend(obj)).release()

            results = {}
            for label, step in (
                ("send_recv", send_recv),
                ("send_recv_obj", send_recv_obj),
                ("lend_borrow", lend_borrow),
            ):
                for n in (iterations // 10, iterations):  # the first run warms up
                    start = time.perf_counter_ns()
                    for _ in range(n):
                        step()
                    results[label] = (time.perf_counter_ns() - start) / n
            obj.release()
    return results


def c_ops(program, iterations):
    out = subprocess.run(
        [program, str(iterations)], check=True, capture_output=True, text=True
    ).stdout
    return {label: float(ns) for label, ns in (line.split() for line in out.splitlines())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--session-ops", help="the C baseline program (bench/session_ops)")
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=100000)
    args = parser.parse_args()
    size = args.mib << 20

    print(
        f"moving {args.mib} MiB to another Python process: median (and fastest) of "
        f"{args.rounds} rounds, of 2 for mp.Queue; a loaded machine adds wake-up latency"
    )
    shm = time_shmipc(size, args.rounds)
    queue = time_queue(size, 2)
    attach = time_shared_memory(size, args.rounds)
    for label, times in (
        ("shmipc (lend, recv, numpy view)", shm),
        ("multiprocessing.Queue", queue),
        ("shared_memory (Pipe, attach, view)", attach),
    ):
        ratio = statistics.median(times) / statistics.median(shm)
        print(
            f"  {label:36}{statistics.median(times) * 1e6:12.1f} us "
            f"({min(times) * 1e6:.1f})"
            + (
                f"   shmipc is {ratio:,.{0 if ratio >= 100 else 1}f}x faster"
                if times is not shm
                else ""
            )
        )

    py = python_ops(args.iterations)
    print(f"\nsession calls, ns per pair of calls ({args.iterations} pairs, one process)")
    if args.session_ops:
        c = c_ops(args.session_ops, args.iterations)
        print(f"  {'':16}{'C':>10}{'Python':>10}{'ratio':>8}   Python overhead per call")
        for label, ns in py.items():
            print(
                f"  {label:16}{c[label]:10.0f}{ns:10.0f}{ns / c[label]:8.1f}   "
                f"{(ns - c[label]) / 2000:.2f} us"
            )
    else:
        for label, ns in py.items():
            print(f"  {label:16}{ns:10.0f} (no C baseline: pass --session-ops)")


if __name__ == "__main__":
    main()
