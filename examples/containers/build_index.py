"""Build a 1M-entry index in a named arena: keys b"key-<n>", 8-byte values n (little
endian), in the shmipc.Map "index"; also the shmipc.Mutex "index-lock" and the empty
shmipc.Vec "log" of int64 that appenders fill under the lock.

    python3 build_index.py ARENA [ENTRIES]

Prints "built N" and leaves the arena in place (remove it with shmipc.Arena.unlink or
`shmipc rm`). C (lookup.c) and Rust (lookup.rs) processes then look keys up in place while
another Python process (append.py) appends to the log under the mutex."""

import sys

import shmipc


def main() -> None:
    name = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    with shmipc.Arena.open(name, size=n * 160 + (64 << 20)) as arena:
        index = shmipc.Map.open(arena, "index", value_size=8, capacity=n)
        lock = shmipc.Mutex.open(arena, "index-lock")
        log = shmipc.Vec.open(arena, "log", elem="q")
        with lock:
            for i in range(n):
                index[b"key-%d" % i] = i.to_bytes(8, "little")
        print(f"built {len(index)}", flush=True)
        # Keep the names alive until told to go: a named allocation lives while held.
        sys.stdin.read()
        with lock:
            index.free()
            log.free()
        for x in (index, lock, log):
            x.release()


if __name__ == "__main__":
    main()
