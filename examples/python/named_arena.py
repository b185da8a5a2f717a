#!/usr/bin/env python3
"""named_arena — a named shared allocator, Umpire style, in Python.

Unrelated processes share one copy of a lookup table: each opens the named arena
("node_allocator-<pid of the first>") and asks it for the named allocation "lookup_table";
the first to ask creates it (and fills it), the others find it — the same memory, a numpy
array in each process. No session, no server.

  named_arena.py [-r READERS] [-n DOUBLES]

The process started by hand creates and fills the table, then starts READERS copies of
itself (--reader ARENA DOUBLES) that find it and sum it. It checks their sums, drops its
reference, shows the arena back at its baseline, and removes the arena's name. Exit status
0 when every check passed.
"""

import getopt
import os
import subprocess
import sys

import numpy

import shmipc

TABLE = "lookup_table"


def values(n):
    """The table: value i is (i % 1000) * 0.5 (the Rust example's too)."""
    return (numpy.arange(n) % 1000) * 0.5


def arena_size(doubles):
    """What every process asks for (only the first one's request makes the arena)."""
    return doubles * 8 + (1 << 20)


def reader(arena_name, doubles):
    """Find the table by name, sum it where it lies, print the sum."""
    with shmipc.Arena.open(arena_name, size=arena_size(doubles)) as arena:
        with arena.named(TABLE, doubles * 8) as table:
            view = numpy.frombuffer(table, dtype=numpy.float64)
            print(
                f"  reader {os.getpid()}: found '{TABLE}' (created here: {table.created}) "
                f"at {table.address:#x}, sum {view.sum():.1f}",
                flush=True,
            )
            del view  # a view keeps the allocation: let go of it before the table


def first(readers, doubles):
    """Create and fill the table, let the readers find it; True if every check passed."""
    arena_name = f"node_allocator-{os.getpid()}"
    with shmipc.Arena.open(arena_name, size=arena_size(doubles)) as arena:
        base = arena.stats().used
        table = arena.named(TABLE, doubles * 8)
        numpy.frombuffer(table, dtype=numpy.float64)[:] = values(doubles)
        want = f"sum {values(doubles).sum():.1f}"
        print(
            f"first {os.getpid()}: created '{TABLE}' ({doubles} doubles, "
            f"{doubles * 8 >> 20} MiB) in arena '{arena_name}', {want}",
            flush=True,
        )
        good = table.created
        for _ in range(readers):
            out = subprocess.run(
                [sys.executable, __file__, "--reader", arena_name, str(doubles)],
                capture_output=True,
                text=True,
            )
            print(out.stdout, end="", file=sys.stdout, flush=True)
            sys.stderr.write(out.stderr)
            good &= out.returncode == 0 and out.stdout.rstrip().endswith(want)
        table.release()  # the last reference: freed
        after = arena.stats().used
        print(
            f"{readers + 1} processes, 1 copy of the table: {doubles * 8 >> 20} MiB instead "
            f"of {(readers + 1) * doubles * 8 >> 20} MiB; arena back to its baseline: "
            f"{after == base}"
        )
    shmipc.Arena.unlink(arena_name)
    return good and after == base


def main(argv):
    if argv[:1] == ["--reader"] and len(argv) == 3:
        reader(argv[1], int(argv[2]))
        return 0
    readers, doubles = 3, 1 << 20
    try:
        opts, rest = getopt.getopt(argv, "r:n:")
        for flag, value in opts:
            if flag == "-r":
                readers = int(value)
            else:
                doubles = int(value)
        if rest or doubles <= 0 or readers < 0:
            raise ValueError("bad arguments")
    except (getopt.GetoptError, ValueError):
        print("usage: named_arena.py [-r READERS] [-n DOUBLES]", file=sys.stderr)
        return 3
    return 0 if first(readers, doubles) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
