#!/usr/bin/env python3
"""shmipc beside Eclipse iceoryx2 from Python, two processes, same run (`make bench-peers`).

bench/peers/src/main.rs's method: the measuring process on the first core it may use, its
peer on the second; each direction carries a payload of SIZE bytes that the sender writes
(its first and last 8 bytes: a counter) and the receiver reads (both ends), made once and
warm; N round trips after N/10 warm-up ones, us per round trip, median of the repetitions,
whose order of systems rotates. Modes: spinning (shmipc: set_spin(200) on both sides;
iceoryx2: busy-polling Subscriber.receive) and blocking (shmipc: plain recv; iceoryx2: an
event service's Listener.timed_wait after each sample). Baselines, blocking only: a
Unix-socket ping-pong of one byte, and multiprocessing.shared_memory (a segment each way
attached once, the counter in it, a byte over a Pipe as the signal).

  peers.py [--quick] [--per-trip]         (--quick: 200 round trips, 3 repetitions;
                                          --per-trip: each round trip timed alone, and
                                          a repetition's figure their median, which
                                          other processes' time slices barely move)
  peers.py --peer SYSTEM MODE SIZE NAME   (the peer process, started by the above)

Not a test: it prints numbers and ratios; iceoryx2 is left out if it does not import.
"""

import ctypes
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
from multiprocessing import resource_tracker, shared_memory

import shmipc

# iceoryx2's package imports numpy, whose OpenBLAS starts a thread per further core that
# spins (sched_yield) for ~0.1 s after it starts (and after every BLAS call). In a peer
# process, started for one run, that can be while the run measures: the spinner then shares
# a core with a spinning side (shmipc's Python round trip took 13-20 us instead of 5.5, but
# at 64 MiB, whose setup outlasts the spin). One BLAS thread, the caller's: no thread is
# started, in this process or in the peers, which inherit the environment.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    import iceoryx2 as iox2

    iox2.set_log_level(iox2.LogLevel.Error)  # not "No config file was loaded" per process
except ImportError:
    iox2 = None

SIZES = (64, 64 << 10, 1 << 20, 64 << 20)
PER_TRIP = "--per-trip" in sys.argv[1:]
END = (1 << 64) - 1
WAIT = 30.0
U64 = struct.Struct("=Q")


def pin_to(nth):
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[nth]})


def note_threads(who):
    """Say so when this process runs a thread besides its own: one that spins shares a core
    with the measurement (as a BLAS thread did, above)."""
    n = len(os.listdir("/proc/self/task"))
    if n > 1:
        print(f"peers.py: the {who} runs {n} threads: timings may be off", file=sys.stderr)


def stamp(view, v):
    U64.pack_into(view, 0, v)
    U64.pack_into(view, len(view) - 8, v)


def read_ends(view):
    return U64.unpack_from(view, 0)[0] | U64.unpack_from(view, len(view) - 8)[0]


# ---- one side of each system: send one payload, receive one ------------------------------


class ShmipcSide:
    def __init__(self, sess, size, spin):
        self.sess, self.obj = sess, sess.alloc(size)
        self.view = memoryview(self.obj)
        self.view[:] = b"\x01" * size  # warm: its pages exist
        if spin:
            sess.set_spin(200)

    def send(self, v):
        stamp(self.view, v)  # the peer released its borrow before answering
        self.sess.send(b"x", self.obj)

    def recv(self):
        msg, obj = self.sess.recv(timeout=WAIT)
        v = END if obj is None else read_ends(memoryview(obj))
        if obj is not None:
            obj.release()
        return v


class IceSide:
    def __init__(self, name, size, spin, measuring):
        self.node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
        out, inn = ("ping", "pong") if measuring else ("pong", "ping")

        def service(d):
            return (
                self.node.service_builder(iox2.ServiceName.new(f"{name}/{d}"))
                .publish_subscribe(iox2.Slice[ctypes.c_uint8])
                .max_publishers(1)
                .max_subscribers(1)
                .subscriber_max_buffer_size(1)
                .history_size(0)
                .open_or_create()
            )

        self.publisher = (
            service(out)
            .publisher_builder()
            .initial_max_slice_len(size)
            .max_loaned_samples(1)
            .create()
        )
        self.subscriber = service(inn).subscriber_builder().create()
        self.size, self.wake = size, None
        if not spin:

            def event(d):
                return (
                    self.node.service_builder(iox2.ServiceName.new(f"{name}/{d}-event"))
                    .event()
                    .open_or_create()
                )

            self.wake = (
                event(out).notifier_builder().create(),
                event(inn).listener_builder().create(),
            )
            self.timeout = iox2.Duration.from_secs(int(WAIT))

    def send(self, v):
        sample = self.publisher.loan_slice_uninit(self.size)
        view = (ctypes.c_uint8 * self.size).from_address(sample.payload_ptr)
        stamp(memoryview(view).cast("B"), v)
        sample.assume_init().send()
        if self.wake:
            self.wake[0].notify()

    def recv(self):
        while True:
            sample = self.subscriber.receive()
            if sample is not None:
                view = (ctypes.c_uint8 * self.size).from_address(sample.payload_ptr)
                v = read_ends(memoryview(view).cast("B"))
                sample.delete()
                return v
            if self.wake:
                self.wake[1].timed_wait(self.timeout)

    def close(self):
        for port in (self.publisher, self.subscriber) + (self.wake or ()):
            port.delete()


class SocketSide:
    def __init__(self, sock):
        self.sock = sock

    def send(self, v):
        self.sock.sendall(b"x")

    def recv(self):
        return 0 if self.sock.recv(1) else END


class SharedMemorySide:
    """A segment each way (ours: we write it; the peer's: we read it), a byte as signal."""

    def __init__(self, name, size, measuring, conn):
        out, inn = (f"{name}-p", f"{name}-q") if measuring else (f"{name}-q", f"{name}-p")
        self.mine = shared_memory.SharedMemory(out, create=measuring, size=size)
        self.theirs = shared_memory.SharedMemory(inn, create=measuring, size=size)
        self.mine.buf[:] = b"\x01" * size
        self.conn = conn
        if not measuring:  # Python < 3.13 would unlink them at the peer's exit
            for seg in (self.mine, self.theirs):
                resource_tracker.unregister(seg._name, "shared_memory")

    def send(self, v):
        stamp(self.mine.buf, v)
        self.conn.sendall(b"x")

    def recv(self):
        return read_ends(self.theirs.buf) if self.conn.recv(1) else END

    def close(self, unlink):
        for seg in (self.mine, self.theirs):
            seg.close()
            if unlink:
                seg.unlink()


# ---- the peer process --------------------------------------------------------------------


def peer(system, spin, size, name):
    pin_to(1)
    note_threads("peer")
    if system == "iceoryx2":
        side = IceSide(name, size, spin, False)
        side.send(0)  # ready: our subscriber exists
    elif system in ("shared", "lend"):
        sess = shmipc.connect(name, "peers", timeout=WAIT)
        side = ShmipcSide(sess, size, spin)
        sess.send(b"ready")
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(name)
        side = (
            SocketSide(sock)
            if system == "socket"
            else SharedMemorySide(os.path.basename(name), size, False, sock)
        )
    while True:
        try:
            if side.recv() == END:
                break
        except shmipc.Error:
            break
        side.send(1)
    if system == "iceoryx2":
        side.close()
    elif system == "shared_memory":
        side.close(False)


# ---- the measuring process ---------------------------------------------------------------


def start_peer(system, spin, size, name):
    child = subprocess.Popen(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--peer",
            system,
            "spin" if spin else "block",
            str(size),
            name,
        ]
    )
    pin_to(0)  # only now: the peer inherits every core and takes the second
    return child


def timed(side, n):
    note_threads("measuring process")
    for v in range(n // 10):  # warm-up
        side.send(v)
        side.recv()
    if PER_TRIP:
        clock, trips = time.perf_counter_ns, []
        for v in range(n):
            start = clock()
            side.send(v)
            side.recv()
            trips.append(clock() - start)
        return statistics.median(trips) / 1e9
    start = time.perf_counter()
    for v in range(n):
        side.send(v)
        side.recv()
    return (time.perf_counter() - start) / n


def run(system, spin, size, n, rep):
    name = f"bench-peers-py-{os.getpid()}-{system}-{rep}"
    allowed = os.sched_getaffinity(0)
    try:
        if system == "iceoryx2":
            side = IceSide(name, size, spin, True)
            child = start_peer(system, spin, size, name)
            side.recv()  # the peer is ready
            t = timed(side, n)
            side.send(END)
            child.wait()
            side.close()
            return t
        if system in ("shared", "lend"):
            with shmipc.Server(
                name, provider=system, session_arena_size=2 * size + (64 << 20)
            ) as server:
                child = start_peer(system, spin, size, name)
                with server.accept(timeout=WAIT) as sess:
                    side = ShmipcSide(sess, size, spin)
                    side.sess.recv(timeout=WAIT)  # the peer is ready
                    t = timed(side, n)
                    side.view.release()
                    side.obj.release()
                child.wait()
                return t
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), name)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(path)
            listener.listen(1)
            shm = SharedMemorySide(name, size, True, None) if system == "shared_memory" else None
            child = start_peer(system, spin, size, path)
            conn, _ = listener.accept()
            os.unlink(path)
            with conn:
                if shm:
                    shm.conn = conn
                side = shm or SocketSide(conn)
                t = timed(side, n)
            child.wait()
            if shm:
                shm.close(True)
            return t
    finally:
        os.sched_setaffinity(0, allowed)


def size_name(size):
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift:
            return f"{size >> shift} {unit}"
    return f"{size} B"


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--peer":
        _, _, system, mode, size, name = sys.argv
        peer(system, mode == "spin", int(size), name)
        return
    n, reps = (200, 3) if "--quick" in sys.argv[1:] else (2000, 5)
    ice = "iceoryx2" if iox2 else None
    print(
        f"shmipc {shmipc.__version__} vs iceoryx2 (Python"
        f"{'' if iox2 else ': iceoryx2 does not import, left out'}), {n} round trips x "
        f"{reps} repetitions (median), a payload each way, pinned to two cores; "
        f"us per round trip{' (the median round trip of each repetition)' if PER_TRIP else ''}"
    )
    header = (
        f"\n{'size':<8} {'mode':<6} {'iceoryx2':>10} {'lend':>10} {'shared':>10} "
        f"{'shm+pipe':>10} {'lend/ice':>10} {'shared/ice':>10}"
    )
    for spin in (True, False):
        print(header)
        systems = [s for s in (ice, "lend", "shared") if s]
        if not spin:
            systems.append("shared_memory")
        for size in SIZES:
            times = {s: [] for s in systems}
            for rep in range(reps):
                for k in range(len(systems)):
                    s = systems[(k + rep) % len(systems)]
                    times[s].append(run(s, spin, size, n, rep))
            med = {s: statistics.median(t) * 1e6 for s, t in times.items()}

            def cell(s, med=med):
                return f"{med[s]:10.2f}" if s in med else f"{'-':>10}"

            def ratio(s, med=med):
                return f"{med[s] / med[ice]:9.2f}x" if ice else f"{'-':>10}"

            print(
                f"{size_name(size):<8} {'spin' if spin else 'block':<6} {cell('iceoryx2')} "
                f"{cell('lend')} {cell('shared')} {cell('shared_memory')} "
                f"{ratio('lend')} {ratio('shared')}"
            )
    sock = statistics.median(run("socket", False, 64, n, rep) for rep in range(reps))
    print(f"\nUnix-socket ping-pong (1 byte each way, pinned apart): {sock * 1e6:.2f} us")


if __name__ == "__main__":
    main()
