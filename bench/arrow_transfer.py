#!/usr/bin/env python3
"""A 1 GiB Arrow table to another Python process, four ways, measured in this run:

  shmipc.arrow   shmipc.arrow.write into an object of the session arena (one copy), lend it
                 with a message; the peer's shmipc.arrow.read reads it in place
  pickle         multiprocessing.Queue.put of the table, get in the peer (pickled, piped)
  IPC socket     the Arrow IPC stream written into a Unix socket, read by the peer (copied
                 through the kernel into fresh memory)
  shared_memory  a multiprocessing.shared_memory block of the stream's size: the stream
                 written into it, its name through a Pipe, the peer attaches and reads in place

Times run from the sender's first call to the receiver holding its pyarrow.Table
(CLOCK_MONOTONIC is the same clock in both processes); for shmipc.arrow also the lend and
read alone, once the table is in shared memory.

  arrow_transfer.py [--mib N] [--rounds N]

Not a test: it prints numbers and ratios, and asserts nothing.
"""

import argparse
import multiprocessing
import os
import socket
import statistics
import tempfile
import time
from multiprocessing import shared_memory

import numpy
import pyarrow
import pyarrow.ipc

import shmipc
import shmipc.arrow

SPAWN = multiprocessing.get_context("spawn")  # fresh interpreters: nothing inherited
COLUMNS = 8


def make_table(mib):
    rows = (mib << 20) // (8 * COLUMNS)
    return pyarrow.table({f"c{i}": numpy.full(rows, float(i)) for i in range(COLUMNS)})


def shmipc_receiver(name, rounds):
    with shmipc.connect(name, "bench", timeout=30, wait=True) as sess:
        for _ in range(rounds):
            _, obj = sess.recv(timeout=60)
            table = shmipc.arrow.read(obj)
            at = time.perf_counter()
            del table, obj
            sess.send(repr(at).encode())


def time_shmipc(table, rounds):
    """(write + lend + read, lend + read of a written object) per round."""
    name = f"bench-arrow-{os.getpid()}"
    size = shmipc.arrow.stream_size(table)
    peer = SPAWN.Process(target=shmipc_receiver, args=(name, 2 * rounds + 1))
    full, lend_only = [], []
    with shmipc.Server(name, session_arena_size=2 * size + (64 << 20)) as srv:
        peer.start()
        with srv.accept(timeout=30) as sess:
            sess.send(b"warm-up", shmipc.arrow.write(sess, table))
            sess.recv(timeout=60)
            for _ in range(rounds):
                start = time.perf_counter()
                sess.send(b"table", shmipc.arrow.write(sess, table))
                full.append(float(sess.recv(timeout=60)[0]) - start)
                obj = shmipc.arrow.write(sess, table)
                start = time.perf_counter()
                sess.send(b"table", obj)
                del obj
                lend_only.append(float(sess.recv(timeout=60)[0]) - start)
    peer.join()
    return full, lend_only


def queue_receiver(queue, back, rounds):
    for _ in range(rounds):
        table = queue.get()
        back.put(time.perf_counter())
        del table


def time_pickle(table, rounds):
    queue, back = SPAWN.Queue(), SPAWN.Queue()
    peer = SPAWN.Process(target=queue_receiver, args=(queue, back, rounds))
    peer.start()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        queue.put(table)
        times.append(back.get() - start)
    peer.join()
    return times


def socket_receiver(path, back, rounds):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        with sock.makefile("rb") as stream:
            for _ in range(rounds):
                table = pyarrow.ipc.open_stream(stream).read_all()
                back.put(time.perf_counter())
                del table


def time_socket(table, rounds):
    with tempfile.TemporaryDirectory(prefix="bench-arrow-") as tmp:
        path = os.path.join(tmp, "socket")
        back = SPAWN.Queue()
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(path)
            listener.listen(1)
            peer = SPAWN.Process(target=socket_receiver, args=(path, back, rounds))
            peer.start()
            conn, _ = listener.accept()
            times = []
            with conn, conn.makefile("wb") as stream:
                for _ in range(rounds):
                    start = time.perf_counter()
                    with pyarrow.ipc.new_stream(stream, table.schema) as writer:
                        writer.write_table(table)
                    stream.flush()
                    times.append(back.get() - start)
            peer.join()
    return times


def shm_receiver(conn, rounds):
    for _ in range(rounds):
        name = conn.recv()
        block = shared_memory.SharedMemory(name)
        table = pyarrow.ipc.open_stream(pyarrow.py_buffer(block.buf)).read_all()
        conn.send(time.perf_counter())
        del table
        block.close()


def time_shared_memory(table, rounds):
    here, there = SPAWN.Pipe()
    peer = SPAWN.Process(target=shm_receiver, args=(there, rounds))
    peer.start()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        sink = pyarrow.MockOutputStream()
        with pyarrow.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        block = shared_memory.SharedMemory(create=True, size=sink.size())
        into = pyarrow.FixedSizeBufferWriter(pyarrow.py_buffer(block.buf))
        with pyarrow.ipc.new_stream(into, table.schema) as writer:
            writer.write_table(table)
        into.close()
        del into, writer  # they hold a view of block.buf, which close() needs gone
        here.send(block.name)
        times.append(here.recv() - start)
        block.close()
        block.unlink()
    peer.join()
    return times


def show(value):
    return f"{value * 1e6:.1f} µs" if value < 1e-3 else f"{value * 1e3:.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    table = make_table(args.mib)
    print(
        f"A {table.nbytes / 2**20:.0f} MiB Arrow table ({table.num_rows} rows x {COLUMNS} "
        f"float64 columns) to another process, median of {args.rounds} rounds:\n"
    )
    full, lend_only = time_shmipc(table, args.rounds)
    rows = [
        ("shmipc.arrow: write (one copy), lend, read in place", statistics.median(full)),
        (
            "pickle through multiprocessing.Queue",
            statistics.median(time_pickle(table, args.rounds)),
        ),
        ("Arrow IPC over a Unix socket", statistics.median(time_socket(table, args.rounds))),
        (
            "multiprocessing.shared_memory + Arrow IPC (write, attach, read in place)",
            statistics.median(time_shared_memory(table, args.rounds)),
        ),
    ]
    best = rows[0][1]
    print("| way | time | shmipc.arrow is |\n|---|---|---|")
    for way, value in rows:
        ratio = "" if value is best else f"{value / best:.1f}x faster"
        print(f"| {way} | {show(value)} | {ratio} |")
    print(
        f"\nOnce written, shmipc.arrow's lend + read in place: {show(statistics.median(lend_only))}"
    )


if __name__ == "__main__":
    main()
