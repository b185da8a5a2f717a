"""chaos_owner — an owner for the chaos driver (tests/chaos/run), in Python: the twin of
chaos_owner.c (whose comment says what it does and prints), line for line the same.

  chaos_owner.py NAME shared|lend SEED
"""

import random
import select
import sys
import time
from pathlib import Path

import shmipc

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "python"))
from echo_common import fnv, format_msg, parse_msg, pattern  # noqa: E402 (the echo roles)

MAX_UNANSWERED, KEEP, TICK, STOP = 8, 4, 0.25, 30.0


def say(line):
    print(line, flush=True)


def bad(what):
    say(f"bad {what}")
    sys.exit(1)


class Client:
    def __init__(self, sess, rng):
        self.sess = sess
        self.pid = sess.peer_pid
        self.base = sess.arena.stats().used
        self.unanswered = self.answers = 0
        self.quota = 10 + rng.randrange(100)
        self.bye = False
        self.kept = [None] * KEEP


class Owner:
    def __init__(self, server, rng):
        self.server, self.rng = server, rng
        self.clients = []
        self.failed = self.stopping = False
        self.app_base = None
        self.passes = self.answers = self.sessions = 0

    def random_size(self):
        r = self.rng.randrange(100)
        if r < 70:
            return 1 + self.rng.randrange(4096)
        return 4096 + self.rng.randrange(256 << 10) if r < 98 else 2 << 20

    def lend_one(self, c):
        arena = c.sess.app_arena if self.rng.randrange(2) else c.sess.arena
        n = self.random_size()
        try:
            obj = arena.alloc(n)
        except shmipc.OutOfMemory:
            return
        data = pattern(n)
        memoryview(obj)[:] = data
        with obj:  # the loan holds it once it is sent
            try:
                c.sess.send(format_msg("sum", n, fnv(data)), obj)
            except shmipc.Closed:  # what it sent before it went is still to be received
                c.bye = True
                return
        c.unanswered += 1

    def answer_ok(self, msg, obj):
        parsed = parse_msg(msg, "sum")
        if obj is None or parsed is None:
            return False
        (n, h), data = parsed, bytes(memoryview(obj))
        return len(data) == n and fnv(data) == h and data == pattern(n)[::-1]

    def keep_or_drop(self, c, obj):
        slot = self.rng.randrange(KEEP)
        if self.rng.randrange(3):
            obj.release()
            return
        if c.kept[slot] is not None:
            c.kept[slot].release()
        c.kept[slot] = obj

    def take_answers(self, c):
        while True:
            try:
                msg, obj = c.sess.recv(timeout=0)
            except shmipc.Timeout:
                return
            if not self.answer_ok(msg, obj):
                bad(f"answer from pid {c.pid}: {msg!r}")
            c.unanswered -= 1
            c.answers += 1
            self.answers += 1
            self.keep_or_drop(c, obj)

    def serve(self, c):
        """One step with one client; raises Closed (from recv: nothing queued) when it is
        gone."""
        if not c.bye and c.unanswered < MAX_UNANSWERED:
            self.lend_one(c)
        self.take_answers(c)
        if not c.bye and (c.answers >= c.quota or self.stopping):
            c.bye = True
            try:
                c.sess.send(b"bye")
            except shmipc.Closed:
                pass
        if self.rng.randrange(8) == 0:
            slot = self.rng.randrange(KEEP)
            if c.kept[slot] is not None:
                c.kept[slot].release()
                c.kept[slot] = None

    def finish(self, c):
        for obj in c.kept:
            if obj is not None:
                obj.release()
        now = c.sess.arena.stats().used
        good = now == c.base and self.checks(c.sess)
        say(f"gone {c.pid} session {now}/{c.base} check {'ok' if good else 'FAILED'}")
        self.failed |= not good
        if len(self.clients) == 1:
            now = c.sess.app_arena.stats().used
            good = now == self.app_base
            say(f"idle app {now}/{self.app_base} check {'ok' if good else 'FAILED'}")
            self.failed |= not good
        c.sess.close()
        self.clients.remove(c)

    @staticmethod
    def checks(sess):
        try:
            sess.arena.check()
            sess.app_arena.check()
        except shmipc.Corrupt:
            return False
        return True

    def accept_new(self):
        if len(self.clients) == 64 or self.stopping:
            return False
        try:
            sess = self.server.accept(timeout=0)
        except shmipc.Timeout:
            return False
        c = Client(sess, self.rng)
        if self.app_base is None:
            self.app_base = sess.app_arena.stats().used
        self.clients.append(c)
        self.sessions += 1
        say(f"accepted {c.pid}")
        return True

    def one_pass(self):
        busy = self.accept_new()
        for c in list(self.clients):
            before = c.answers
            try:
                self.serve(c)
            except shmipc.Closed:
                self.finish(c)
                busy = True
                continue
            except shmipc.Error as e:
                bad(f"serving pid {c.pid}: {e}")
            busy |= c.answers != before
        self.passes += 1
        return busy

    def run(self):
        tick, stop_by = time.monotonic(), None
        while True:
            busy = self.one_pass()
            if time.monotonic() - tick >= TICK:
                say(f"tick {self.passes} {self.answers}")
                tick = time.monotonic()
            if not self.stopping and stdin_closed(0 if busy else 0.002):
                self.stopping, stop_by = True, time.monotonic() + STOP
            elif self.stopping and not busy:
                time.sleep(0.002)
            if self.stopping and not self.clients:
                break
            if self.stopping and time.monotonic() > stop_by:
                say(f"bad stop: {len(self.clients)} clients did not go within {STOP} s")
                return 1
        say(f"stopped {self.sessions} {self.answers}")
        return 1 if self.failed else 0


def stdin_closed(timeout):
    """Sleep up to timeout on stdin; True once it is closed (the driver's "stop")."""
    if not select.select([sys.stdin], [], [], timeout)[0]:
        return False
    return not sys.stdin.buffer.raw.read(64)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("shared", "lend"):
        print("usage: chaos_owner.py NAME shared|lend SEED", file=sys.stderr)
        return 3
    try:
        server = shmipc.Server(
            argv[0], provider=argv[1], session_arena_size=32 << 20, app_arena_size=64 << 20
        )
    except shmipc.Error as e:
        print(f"chaos_owner.py: server_open: {e}", file=sys.stderr)
        return 77 if isinstance(e, shmipc.NotSupported) else 3
    with server:
        say(f"listening {argv[0]}")
        return Owner(server, random.Random(int(argv[2]))).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
