"""Servers, clients and sessions: every call, its errors, threads and event loops."""

import asyncio
import concurrent.futures
import math
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import shmipc
from conftest import TIMEOUT, connect_pair

# ---- servers --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "has/slash", ".hidden", "x" * 128, "nul\0in"])
def test_server_names_are_checked(bad):
    with pytest.raises(shmipc.InvalidArgument):
        shmipc.Server(bad)


def test_wrong_argument_types_are_type_errors(name):
    with pytest.raises(TypeError):
        shmipc.Server(b"bytes-name")
    with pytest.raises(TypeError):
        shmipc.Server(name, allow=["not-an-App"])
    with pytest.raises(ValueError, match="provider"):
        shmipc.Server(name, provider="other")
    with pytest.raises(TypeError):
        shmipc.connect(name, 42)


def test_server_options_shape_the_socket_and_the_arenas(name):
    with shmipc.Server(
        name,
        socket_mode=0o660,
        session_arena_size=3 << 20,
        app_arena_size=5 << 20,
        handshake_timeout=2.0,
    ) as server:
        socket = Path(os.environ["SHMIPC_SOCKET_DIR"]) / f"{name}.sock"
        assert socket.stat().st_mode & 0o777 == 0o660
        owner, peer = connect_pair(server)
        with owner, peer:
            for sess in (owner, peer):
                assert 3 << 19 < sess.arena.stats().capacity <= 3 << 20
                assert 5 << 19 < sess.app_arena.stats().capacity <= 5 << 20


def test_a_running_server_s_name_is_not_taken(name):
    with shmipc.Server(name):
        with pytest.raises(shmipc.Exists, match="already running"):
            shmipc.Server(name)
    with shmipc.Server(name):  # free again once closed
        pass


def test_accept_times_out(name):
    with shmipc.Server(name) as server:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            server.accept(timeout=0.3)
        assert isinstance(caught.value, shmipc.Timeout)
        assert caught.value.code == shmipc.lib.SHMIPC_ETIMEDOUT
        assert time.monotonic() - started >= 0.29


def test_accept_and_timeouts_check_their_arguments(name):
    with shmipc.Server(name) as server:
        with pytest.raises(ValueError):
            server.accept(timeout=-1)
        for bad in ("1", float("nan"), [1]):
            with pytest.raises(TypeError):
                server.accept(timeout=bad)


def test_an_infinite_timeout_waits_as_long_as_it_takes(name):
    with shmipc.Server(name, handshake_timeout=math.inf) as server:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            accepted = pool.submit(server.accept, math.inf)
            with (
                shmipc.connect(name, "app", timeout=math.inf) as peer,
                accepted.result(timeout=TIMEOUT) as owner,
            ):
                waiting = pool.submit(peer.recv, math.inf)
                time.sleep(0.3)  # longer than a slice: it waits on
                owner.send(b"at last")
                assert waiting.result(timeout=TIMEOUT) == (b"at last", None)


def test_close_from_another_thread_ends_a_waiting_accept(name):
    server = shmipc.Server(name)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(server.accept)  # forever
        time.sleep(0.3)
        server.close()
        with pytest.raises(shmipc.Closed):
            waiting.result(timeout=TIMEOUT)
    assert server.closed


def test_shutdown_from_another_thread_ends_accept_at_once(name):
    with (
        shmipc.Server(name) as server,
        socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as silent,
    ):
        silent.connect(str(Path(os.environ["SHMIPC_SOCKET_DIR"]) / f"{name}.sock"))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(server.accept)  # forever, a silent peer pending
            time.sleep(0.3)
            started = time.monotonic()
            server.shutdown()
            with pytest.raises(shmipc.Closed, match="shut down"):
                waiting.result(timeout=TIMEOUT)
            assert time.monotonic() - started < 0.1
        started = time.monotonic()
        with pytest.raises(shmipc.Closed, match="shut down"):
            server.accept(timeout=TIMEOUT)  # later ones too, without waiting
        assert time.monotonic() - started < 0.1
        assert not server.closed and server.fileno() >= 0
        server.shutdown()  # again: nothing more happens


def test_close_ends_a_waiting_accept_at_once(name):
    server = shmipc.Server(name)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(server.accept)
        time.sleep(0.1)
        started = time.monotonic()
        server.close()
        with pytest.raises(shmipc.Closed):
            waiting.result(timeout=TIMEOUT)
        assert time.monotonic() - started < 0.1


def test_clients_of_more_apps_than_max_apps_are_refused(name):
    with shmipc.Server(name, max_apps=1, max_pending=4) as server:
        owner, peer = connect_pair(server, app="first")
        with owner, peer, concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(server.accept, 0.5)
            with pytest.raises(shmipc.PermissionDenied, match="max_apps"):
                shmipc.connect(name, "second", timeout=TIMEOUT)
            with pytest.raises(shmipc.Timeout):
                waiting.result()
        assert server.rejected == 1


def test_sessions_of_one_app_past_max_sessions_are_refused(name):
    with shmipc.Server(name, max_sessions=2) as server:
        pairs = [connect_pair(server, app="app") for _ in range(2)]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(server.accept, 0.5)
            with pytest.raises(
                shmipc.PermissionDenied,
                match=r"2 sessions of app 'app', its limit \(max_sessions\)",
            ):
                shmipc.connect(name, "app", timeout=TIMEOUT)
            with pytest.raises(shmipc.Timeout):
                waiting.result()
        for owner, peer in pairs:
            owner.close()
            peer.close()
        assert server.rejected == 1


def test_a_closed_server_refuses_calls(name):
    server = shmipc.Server(name)
    server.close()
    server.close()  # idempotent
    for call in (server.accept, server.fileno, lambda: server.rejected):
        with pytest.raises(shmipc.Closed, match="closed in this process"):
            call()
    with pytest.raises(shmipc.NotFound):
        shmipc.connect(name, "app", timeout=TIMEOUT)


def test_server_fileno_is_readable_when_a_client_waits(name):
    with shmipc.Server(name) as server, selectors.DefaultSelector() as sel:
        sel.register(server.fileno(), selectors.EVENT_READ)
        assert sel.select(timeout=0) == []
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            client = pool.submit(shmipc.connect, name, "app", timeout=TIMEOUT)
            assert sel.select(timeout=TIMEOUT)
            with server.accept(timeout=TIMEOUT), client.result():
                pass


def test_the_allow_list_refuses_other_apps_and_says_why(name):
    allow = [shmipc.App("viewer"), shmipc.App("anyone-uid", uid=shmipc.ANY_ID)]
    with shmipc.Server(name, allow=allow) as server:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            accepted = pool.submit(server.accept, TIMEOUT)
            with pytest.raises(PermissionError) as refused:
                shmipc.connect(name, "intruder", timeout=TIMEOUT)
            assert isinstance(refused.value, shmipc.PermissionDenied)
            assert "intruder" in refused.value.detail and "not allowed" in refused.value.detail
            with shmipc.connect(name, "viewer", timeout=TIMEOUT), accepted.result():
                pass
        assert server.rejected == 1


def test_an_app_of_another_uid_is_refused(name):
    with shmipc.Server(name, allow=[shmipc.App("viewer", uid=os.getuid() + 1)]) as server:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(server.accept, 2.0)
            with pytest.raises(shmipc.PermissionDenied):
                shmipc.connect(name, "viewer", timeout=TIMEOUT)
            with pytest.raises(shmipc.Timeout):  # the refused client is skipped
                waiting.result(timeout=TIMEOUT)
        assert server.rejected == 1


def test_connect_errors(name):
    with pytest.raises(shmipc.NotFound, match="no server"):
        shmipc.connect(name, "app", timeout=TIMEOUT)
    with pytest.raises(shmipc.InvalidArgument):
        shmipc.connect(name, "bad app", timeout=TIMEOUT)
    with shmipc.Server(name):  # never accepts: the handshake cannot complete
        with pytest.raises(shmipc.Timeout):
            shmipc.connect(name, "app", timeout=0.3)


def test_a_socket_directory_of_ones_own(name):
    # short, not pytest's tmp_path: a socket path has at most 107 bytes
    with tempfile.TemporaryDirectory(prefix="shmipc-") as directory:
        with shmipc.Server(name, socket_dir=directory) as server:
            assert (Path(directory) / f"{name}.sock").exists()
            with pytest.raises(shmipc.NotFound):  # not in the default directory
                shmipc.connect(name, "app", timeout=TIMEOUT)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                accepted = pool.submit(server.accept, TIMEOUT)
                with shmipc.connect(name, "app", timeout=TIMEOUT, socket_dir=directory):
                    accepted.result().close()
        assert os.listdir(directory) == []


# ---- messages -------------------------------------------------------------------------------


def test_messages_go_both_ways_in_order(shared_pair):
    owner, peer = shared_pair.owner, shared_pair.peer
    messages = [b"", b"x", bytearray(b"bytearray"), memoryview(b"a view"), b"\0binary\xff"]
    for msg in messages:
        owner.send(msg)
    for msg in messages:
        assert peer.recv(timeout=TIMEOUT) == (bytes(msg), None)
    peer.send(b"back")
    assert owner.recv(timeout=TIMEOUT) == (b"back", None)


def test_messages_of_every_size_arrive_whole(shared_pair):
    for size in (511, 512, 513, 4096, shmipc.MSG_MAX):
        msg = os.urandom(size)
        shared_pair.owner.send(msg)
        assert shared_pair.peer.recv(timeout=TIMEOUT)[0] == msg


def test_a_too_large_message_is_refused_and_nothing_is_sent(shared_pair):
    with pytest.raises(shmipc.MessageTooLarge):
        shared_pair.owner.send(b"x" * (shmipc.MSG_MAX + 1))
    with pytest.raises(shmipc.Timeout):
        shared_pair.peer.recv(timeout=0)


def test_send_checks_its_arguments(shared_pair):
    with pytest.raises(TypeError, match="str"):
        shared_pair.owner.send("text")
    with pytest.raises(TypeError):
        shared_pair.owner.send(12)
    with pytest.raises(TypeError, match="shmipc.Object"):
        shared_pair.owner.send(b"m", b"not an object")


def test_recv_times_out_and_says_how_long(shared_pair):
    with pytest.raises(shmipc.Timeout, match="within 0.2 s"):
        shared_pair.peer.recv(timeout=0.2)
    with pytest.raises(shmipc.Timeout):
        shared_pair.peer.recv(timeout=0)


def test_an_object_travels_with_its_message(pair):
    obj = pair.owner.alloc(1 << 20)
    data = os.urandom(1 << 20)
    memoryview(obj)[:] = data
    pair.owner.send(b"frame-1", obj)
    msg, got = pair.peer.recv(timeout=TIMEOUT)
    assert msg == b"frame-1" and memoryview(got) == data and got.nbytes == 1 << 20
    if got.writable:  # shared provider: the very same memory, writable on both sides
        memoryview(got)[:4] = b"PEER"
        assert bytes(memoryview(obj)[:4]) == b"PEER"


def test_the_app_arena_lends_too_and_outlives_the_session(shared_pair):
    obj = shared_pair.owner.app_arena.alloc(100)
    memoryview(obj)[:3] = b"app"
    shared_pair.owner.send(b"", obj)
    assert bytes(memoryview(shared_pair.peer.recv(timeout=TIMEOUT)[1])[:3]) == b"app"
    assert shared_pair.owner.app_arena.stats().allocations >= 1
    assert shared_pair.owner.arena.stats().capacity > 0
    shared_pair.owner.arena.check()


# ---- lend and borrow ------------------------------------------------------------------------


def test_lend_gives_a_blob_the_peer_borrows_once(pair):
    obj = pair.owner.alloc(64)
    memoryview(obj)[:2] = b"ok"
    blob = pair.owner.lend(obj)
    assert isinstance(blob, bytes) and len(blob) == shmipc.BLOB_SIZE
    got = pair.peer.borrow(bytearray(blob))
    assert bytes(memoryview(got)[:2]) == b"ok"
    with pytest.raises(shmipc.BadBlob, match="already borrowed"):
        pair.peer.borrow(blob)


def test_bad_blobs_are_refused(shared_pair, name):
    owner, peer = shared_pair.owner, shared_pair.peer
    blob = owner.lend(owner.alloc(64))
    for i in (0, 20, 40, 63):  # any byte changed: malformed or forged
        forged = bytearray(blob)
        forged[i] ^= 0x40
        with pytest.raises(shmipc.BadBlob):
            peer.borrow(forged)
    for size in (0, 63, 65):
        with pytest.raises(shmipc.BadBlob, match=f"this one {size}"):
            peer.borrow(blob[:size] + b"\0" * max(0, size - len(blob)))
    with pytest.raises(TypeError):
        peer.borrow("a str")
    with pytest.raises(TypeError):
        peer.borrow(None)
    with shmipc.Server(name + "-b") as other:  # a blob of another session
        owner2, peer2 = connect_pair(other)
        with owner2, peer2:
            with pytest.raises(shmipc.BadBlob, match="another session"):
                peer2.borrow(blob)
    assert memoryview(peer.borrow(blob)).nbytes == 64  # the real one still works


def test_a_released_loan_is_stale(shared_pair):
    obj = shared_pair.owner.alloc(64)
    blob = shared_pair.owner.lend(obj)
    shared_pair.peer.borrow(blob).release()
    with pytest.raises(shmipc.Stale):
        shared_pair.peer.borrow(blob)


def test_loans_of_a_closed_session_are_stale(shared_pair):
    blob = shared_pair.owner.lend(shared_pair.owner.alloc(64))
    shared_pair.owner.close()
    with pytest.raises(shmipc.Closed):
        shared_pair.peer.recv(timeout=TIMEOUT)
    with pytest.raises(shmipc.Stale):
        shared_pair.peer.borrow(blob)


def test_only_objects_of_the_session_s_arenas_can_be_lent(shared_pair, name):
    arena = shmipc.Arena.open(name, size=1 << 20)
    try:
        with arena.alloc(64) as foreign:
            with pytest.raises(shmipc.InvalidArgument, match="arena"):
                shared_pair.owner.lend(foreign)
            with pytest.raises(shmipc.InvalidArgument):
                shared_pair.owner.send(b"x", foreign)
        with pytest.raises(TypeError):
            shared_pair.owner.lend(None)
    finally:
        arena.close()
        shmipc.Arena.unlink(name)


# ---- closing ----------------------------------------------------------------------------------


def test_a_closed_session_refuses_every_call(shared_pair):
    sess = shared_pair.peer
    obj = shared_pair.owner.alloc(8)
    blob = shared_pair.owner.lend(obj)
    sess.close()
    sess.close()  # idempotent
    assert sess.closed
    calls = [
        lambda: sess.send(b"x"),
        lambda: sess.recv(timeout=0),
        lambda: sess.alloc(8),
        lambda: sess.lend(obj),
        lambda: sess.borrow(blob),
        sess.fileno,
        lambda: sess.arena.stats(),
        lambda: sess.app_arena.alloc(8),
        lambda: sess.set_spin(10),
    ]
    for call in calls:
        with pytest.raises(shmipc.Closed, match="closed in this process"):
            call()


def test_the_peer_s_close_is_seen_after_what_it_sent(shared_pair):
    shared_pair.owner.send(b"last words")
    shared_pair.owner.close()
    assert shared_pair.peer.recv(timeout=TIMEOUT) == (b"last words", None)
    with pytest.raises(shmipc.Closed, match="closed the session"):
        shared_pair.peer.recv(timeout=TIMEOUT)
    assert shared_pair.peer.closed
    with pytest.raises(shmipc.Closed):
        shared_pair.peer.send(b"anyone?")


def _woken_by(action, blocked):
    """Run blocked() in a thread, then action() here: how long until blocked() raised
    Closed."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(blocked)
        time.sleep(0.25)  # it waits in C by now (and a 200 ms slice would be half-way)
        started = time.monotonic()
        action()
        with pytest.raises(shmipc.Closed):
            waiting.result(timeout=TIMEOUT)
        return time.monotonic() - started


def test_close_from_another_thread_wakes_a_waiting_recv(shared_pair):
    took = _woken_by(shared_pair.peer.close, shared_pair.peer.recv)  # recv: forever
    assert took < 0.08, f"close() took {took:.3f} s to end the recv"


def _fill_the_channel(session):
    """Send until the channel towards a peer that reads nothing is full to the last byte."""
    for msg in (bytes(shmipc.MSG_MAX), b""):
        with pytest.raises(shmipc.Timeout):
            while True:
                session.send(msg, timeout=0)


def test_shutdown_wakes_a_blocked_recv_and_send_at_once(shared_pair):
    owner = shared_pair.owner
    took = _woken_by(owner.shutdown, owner.recv)
    assert took < 0.08, f"shutdown() took {took:.3f} s to end the recv"
    with pytest.raises(shmipc.Closed, match="shut down"):
        owner.recv(timeout=0)  # later calls too
    peer = shared_pair.peer
    _fill_the_channel(peer)
    took = _woken_by(peer.shutdown, lambda: peer.send(b"no room"))
    assert took < 0.08, f"shutdown() took {took:.3f} s to end the send"
    peer.close()
    peer.shutdown()  # a no-op once closed


def test_send_times_out_on_a_full_channel_and_lends_nothing(shared_pair):
    owner = shared_pair.owner
    _fill_the_channel(owner)
    started = time.monotonic()
    with pytest.raises(shmipc.Timeout, match="within 0.3 s"):
        owner.send(b"late", timeout=0.3)
    assert 0.29 <= time.monotonic() - started < 3
    used = owner.arena.stats().used
    obj = owner.alloc(4096)
    with pytest.raises(shmipc.Timeout):
        owner.send(b"with object", obj, timeout=0.05)
    obj.release()
    assert owner.arena.stats().used == used, "the object was not lent"


_INTERRUPTED_WAIT = """
import concurrent.futures, signal, sys, time, shmipc
# Ctrl-C as in a terminal, whatever was inherited (a shell's background job ignores SIGINT).
signal.signal(signal.SIGINT, signal.default_int_handler)
name, wait = sys.argv[1:]
with shmipc.Server(name) as server:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        accepted = pool.submit(server.accept, 20)
        peer = shmipc.connect(name, "ctrl-c", timeout=20)
    with accepted.result(), peer:
        if wait == "send":  # a channel the other side does not read, full to the last byte
            for msg in (bytes(shmipc.MSG_MAX), b""):
                try:
                    while True:
                        peer.send(msg, timeout=0)
                except shmipc.Timeout:
                    pass
        if wait == "spinning recv":
            peer.set_spin(200)
        print("waiting", flush=True)
        try:
            if wait == "send":
                peer.send(b"no room")
            else:
                peer.recv(timeout=None if wait == "recv" else 60)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
"""


@pytest.mark.parametrize("wait", ["recv", "spinning recv", "send"])
def test_ctrl_c_ends_a_blocking_call_in_the_main_thread_at_once(name, spawn, wait):
    # recv: forever; spinning recv: set_spin and a timeout (the first look spins in C, then
    # Python polls); send: forever on a full channel
    child = spawn([sys.executable, "-c", _INTERRUPTED_WAIT, name, wait])
    child.expect("waiting")
    time.sleep(0.3)
    started = time.monotonic()
    child.proc.send_signal(signal.SIGINT)
    child.expect("interrupted")
    took = time.monotonic() - started
    status, _, err = child.finish()
    assert status == 0, err
    # send returns to Python every 100 ms to let the handler run; recv at once
    assert took < (0.2 if wait == "send" else 0.1), f"KeyboardInterrupt after {took:.3f} s"


def test_recv_in_the_main_thread_keeps_its_timeout_and_a_zero_one_only_looks(shared_pair):
    peer = shared_pair.peer
    for spin_us in (0, 200):  # the first look spins in C; the rest of the wait is Python's
        peer.set_spin(spin_us)
        started = time.monotonic()
        with pytest.raises(shmipc.Timeout, match="within 0.3 s"):
            peer.recv(timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 0.3 + 1.0
    peer.set_spin(0)
    started = time.monotonic()
    for _ in range(100):
        with pytest.raises(shmipc.Timeout):
            peer.recv(timeout=0)
    assert time.monotonic() - started < 0.5, "recv(timeout=0) waited"
    shared_pair.owner.send(b"queued")
    assert peer.recv(timeout=0) == (b"queued", None)


def test_a_child_forked_by_a_thread_waits_where_its_signals_go(name):
    # Python runs signal handlers in the forking thread of such a child: recv must poll there
    # (Ctrl-C works) and in no other thread
    from shmipc import _session

    def fork_and_look():
        pid = os.fork()
        if pid == 0:
            os._exit(0 if _session._main_ident == threading.get_ident() else 1)
        return os.waitpid(pid, 0)[1]

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert os.waitstatus_to_exitcode(pool.submit(fork_and_look).result()) == 0
    assert _session._main_ident == threading.main_thread().ident


# ---- threads, the GIL, event loops ------------------------------------------------------------


def _python_work(seconds_hint=20000):
    started = time.perf_counter()
    total = 0
    for i in range(seconds_hint * 10):
        total += i * i % 7
    return time.perf_counter() - started


def test_waiting_releases_the_gil(shared_pair):
    alone = min(_python_work() for _ in range(3))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        waiters = [
            pool.submit(shared_pair.peer.recv, 30.0),
            pool.submit(shared_pair.server.accept, 30.0),
        ]
        time.sleep(0.2)
        beside = min(_python_work() for _ in range(3))
        assert not any(w.done() for w in waiters)  # both still blocked in C
        shared_pair.owner.send(b"wake up")
        with shmipc.connect(shared_pair.server.name, "late", timeout=TIMEOUT):
            assert waiters[0].result(timeout=TIMEOUT) == (b"wake up", None)
            waiters[1].result(timeout=TIMEOUT).close()
    # Had the waits held the GIL, this thread would have run in the gaps between slices
    # only: many times slower. Loose bound; the machine may be loaded.
    assert beside < alone * 5 + 0.5, (alone, beside)


def test_threads_share_a_session(shared_pair):
    senders, per_sender = 4, 200
    received = []

    def send_all(k):
        for i in range(per_sender):
            shared_pair.owner.send(f"{k} {i}".encode())

    with concurrent.futures.ThreadPoolExecutor(senders) as pool:
        for k in range(senders):
            pool.submit(send_all, k)
        while len(received) < senders * per_sender:
            received.append(shared_pair.peer.recv(timeout=TIMEOUT)[0].split())
    for k in range(senders):
        mine = [int(i) for sender, i in received if int(sender) == k]
        assert mine == list(range(per_sender))


def test_fileno_works_with_selectors(shared_pair):
    with selectors.DefaultSelector() as sel:
        sel.register(shared_pair.peer.fileno(), selectors.EVENT_READ)
        with pytest.raises(shmipc.Timeout):
            shared_pair.peer.recv(timeout=0)  # arms the doorbell
        assert sel.select(timeout=0) == []
        shared_pair.owner.send(b"ring")
        assert sel.select(timeout=TIMEOUT)
        assert shared_pair.peer.recv(timeout=0) == (b"ring", None)


def test_recv_async(shared_pair):
    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, shared_pair.owner.send, b"async hello")
        first = await shared_pair.peer.recv_async(timeout=TIMEOUT)
        obj = shared_pair.owner.alloc(16)
        shared_pair.owner.send(b"with object", obj)
        second = await shared_pair.peer.recv_async()
        with pytest.raises(shmipc.Timeout):
            await shared_pair.peer.recv_async(timeout=0.2)
        loop.call_later(0.1, shared_pair.owner.close)
        with pytest.raises(shmipc.Closed):
            await shared_pair.peer.recv_async(timeout=TIMEOUT)
        return first, second

    first, second = asyncio.run(scenario())
    assert first == (b"async hello", None)
    assert second[0] == b"with object" and second[1].nbytes == 16


def test_session_facts(shared_pair):
    assert shared_pair.owner.peer_pid == shared_pair.peer.peer_pid == os.getpid()
    assert not shared_pair.owner.closed
    shared_pair.peer.set_spin(50)
    shared_pair.owner.send(b"spun")
    assert shared_pair.peer.recv(timeout=TIMEOUT)[0] == b"spun"
    with pytest.raises(shmipc.InvalidArgument):
        shared_pair.peer.set_spin(-1)
    assert "Session" in repr(shared_pair.owner) and "Server" in repr(shared_pair.server)


def test_the_lend_provider_is_served_or_clearly_unsupported(name):
    try:
        server = shmipc.Server(name, provider="lend")
    except shmipc.NotSupported as e:
        assert e.code == shmipc.lib.SHMIPC_ENOTSUP and "provider" in e.detail
        pytest.skip(f"lend provider: server_open reports SHMIPC_ENOTSUP ({e.detail})")
    with server:
        assert server.provider == shmipc.lib.SHMIPC_PROVIDER_LEND


def test_peer_pid_across_pid_namespaces(name, spawn):
    """A process in a new pid namespace (unshare --pid --fork) cannot see a peer outside it:
    its peer_pid is None (never 0, nor an error code), while the peer outside sees its real
    pid."""
    unshare = ["unshare", "--pid", "--fork", "--kill-child"]
    if subprocess.run(unshare + ["true"], capture_output=True).returncode != 0:
        pytest.skip("unshare --pid --fork does not work here")
    with shmipc.Server(name) as server:
        client = spawn(
            unshare
            + [
                sys.executable,
                "-c",
                (
                    "import shmipc, sys; s = shmipc.connect(sys.argv[1], 'viewer'); "
                    "print('peer', s.peer_pid, repr(s), flush=True); s.recv()"
                ),
                name,
            ]
        )
        with server.accept(TIMEOUT) as outside:
            inside = client.expect(r"peer (\S+) (.*)")
            assert inside.group(1) == "None" and "peer pid ?" in inside.group(2)
            status = Path(f"/proc/{outside.peer_pid}/status").read_text()
            assert f"PPid:\t{client.proc.pid}\n" in status  # unshare's child: the client
