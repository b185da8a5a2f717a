"""A Python peer process for the tests (run as a program: a real, separate process).

  peer.py hold SERVER APP     connect; borrow every "gift <i>" object until "done", check
                              each (every byte is i & 0xff), keep it with a memoryview and
                              a numpy array of it, print "held <count>"; then sleep until
                              killed.
  peer.py take SERVER APP     the same, then let everything go, close and exit 0.
  peer.py named ARENA NAME SIZE
                              open the named arena, take the named allocation NAME, check
                              that another process made it (created is False) and filled it
                              with b"from the parent", write b"from the child" after those
                              bytes, print "done" and exit.

Exit status: 0 ok, 2 a check failed.
"""

import signal
import sys

import numpy

import shmipc

TIMEOUT = 20.0


def take_gifts(server, app):
    """Connect and borrow every gift: the session and what it holds."""
    sess = shmipc.connect(server, app, timeout=TIMEOUT)
    held = []
    while True:
        msg, obj = sess.recv(timeout=TIMEOUT)
        if msg == b"done":
            return sess, held
        i = int(msg.split()[1])
        view = memoryview(obj)
        array = numpy.frombuffer(obj, dtype=numpy.uint8)
        if view.nbytes == 0 or view.tobytes() != bytes([i & 0xFF]) * view.nbytes:
            sys.exit(2)
        held.append((obj, view, array))


def main(argv):
    if argv[0] in ("hold", "take"):
        sess, held = take_gifts(argv[1], argv[2])
        print(f"held {len(held)}", flush=True)
        if argv[0] == "hold":
            while True:
                signal.pause()  # until killed, holding every object and view
        held.clear()
        sess.close()
        return 0
    arena_name, name, size = argv[1], argv[2], int(argv[3])
    with shmipc.Arena.open(arena_name, size=1 << 20) as arena, arena.named(name, size) as buf:
        view = memoryview(buf)
        if buf.created or bytes(view[:15]) != b"from the parent":
            return 2
        view[15:29] = b"from the child"
        del view
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
