"""shmipc.Map against Python's dict at 1M entries: put (m[k] = v) and get (m[k]) from
Python, bytes keys b"key-<n>" and 8-byte values, gets in a shuffled order. Median of 3,
ns per operation. Usage: containers_python.py [entries]."""

import os
import random
import statistics
import sys
import time

import shmipc


def run(n):
    keys = [b"key-%d" % i for i in range(n)]
    values = [i.to_bytes(8, "little") for i in range(n)]
    order = keys[:]
    random.Random(19).shuffle(order)
    name = f"bench-containers-{os.getpid()}"
    results = {"shmipc.Map": ([], []), "dict": ([], [])}
    for _ in range(3):
        with shmipc.Arena.open(name, size=n * 160 + (64 << 20)) as arena:
            m = shmipc.Map.open(arena, "index", value_size=8)
            for label, table in (("shmipc.Map", m), ("dict", {})):
                t0 = time.perf_counter_ns()
                for k, v in zip(keys, values):
                    table[k] = v
                t1 = time.perf_counter_ns()
                for k in order:
                    table[k]
                t2 = time.perf_counter_ns()
                results[label][0].append((t1 - t0) / n)
                results[label][1].append((t2 - t1) / n)
            m.free()
            m.release()
        shmipc.Arena.unlink(name)
    med = {label: (statistics.median(p), statistics.median(g)) for label, (p, g) in results.items()}
    print(f"Python, map of {n} entries, ns per operation (median of 3):")
    for label, (p, g) in med.items():
        print(f"  {label:40} put {p:7.1f}  get {g:7.1f}")
    (sp, sg), (dp, dg) = med["shmipc.Map"], med["dict"]
    print(f"  {'ratio shmipc.Map / dict':40} put {sp / dp:7.2f}x get {sg / dg:7.2f}x")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
