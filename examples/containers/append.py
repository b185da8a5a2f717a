"""Append COUNT numbers to the index's log (a shmipc.Vec of int64) under its mutex, one per
lock, while other processes read the index.

    python3 append.py ARENA COUNT

Prints "appended COUNT, log has N"."""

import sys

import shmipc


def main() -> None:
    name, count = sys.argv[1], int(sys.argv[2])
    with shmipc.Arena.open(name) as arena:
        lock = shmipc.Mutex.open(arena, "index-lock")
        log = shmipc.Vec.open(arena, "log", elem="q")
        for i in range(count):
            with lock:
                if lock.owner_died:
                    print("a previous holder died; the log is consistent", file=sys.stderr)
                log.append(i)
        with lock:
            n = len(log)
        print(f"appended {count}, log has {n}", flush=True)
        log.release()
        lock.release()


if __name__ == "__main__":
    main()
