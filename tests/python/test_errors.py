"""Errors as Python users expect them: each shmipc.Error subclass is also the built-in it
means and shows as shmipc.X; a handle collected unclosed warns (ResourceWarning), as files
and sockets do under -X dev."""

import gc
import pickle
import subprocess
import sys
import time
import warnings

import pytest

import shmipc
from conftest import TIMEOUT, connect_pair

BUILTINS = {
    shmipc.InvalidArgument: ValueError,
    shmipc.OutOfMemory: MemoryError,
    shmipc.NotFound: (FileNotFoundError, LookupError),
    shmipc.Exists: FileExistsError,
    shmipc.PermissionDenied: PermissionError,
    shmipc.Closed: ConnectionError,
    shmipc.Timeout: TimeoutError,
    shmipc.BadBlob: ValueError,
    shmipc.Stale: LookupError,
    shmipc.NotSupported: NotImplementedError,
    shmipc.SystemCallError: OSError,
    shmipc.MessageTooLarge: ValueError,
    shmipc.ProtocolError: (),
    shmipc.Corrupt: (),  # no built-in says "another protocol"
}


@pytest.mark.parametrize("cls", list(BUILTINS), ids=lambda c: c.__name__)
def test_each_error_is_the_builtin_it_means_and_shows_as_shmipc(cls):
    builtins = BUILTINS[cls]
    for builtin in builtins if isinstance(builtins, tuple) else (builtins,):
        assert issubclass(cls, builtin)
    assert issubclass(cls, shmipc.Error)
    assert cls.__module__ == "shmipc" and getattr(shmipc, cls.__name__) is cls
    assert repr(cls).startswith(f"<class 'shmipc.{cls.__name__}'")


def test_the_builtin_catches_a_real_failure_and_the_traceback_says_shmipc(name):
    with pytest.raises(FileNotFoundError) as info:
        shmipc.connect(name, "app", timeout=1.0)
    assert isinstance(info.value, shmipc.NotFound) and isinstance(info.value, LookupError)
    assert info.value.errno is not None and name in str(info.value)
    with shmipc.Server(name):
        with pytest.raises(FileExistsError) as info:
            shmipc.Server(name)
    assert str(info.value).startswith(shmipc.strerror(shmipc.Exists.code))
    with pytest.raises(LookupError):
        shmipc.Arena.unlink(f"{name}-none")
    out = subprocess.run(
        [sys.executable, "-c", f"import shmipc; shmipc.connect({name!r}, 'a')"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "\nshmipc.NotFound: " in out.stderr, out.stderr


def test_errors_pickle_by_their_public_path():
    e = shmipc.Timeout("t")
    assert type(pickle.loads(pickle.dumps(e))) is shmipc.Timeout


def _collect_warns(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        make()
        gc.collect()
    return [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_handles_collected_unclosed_warn(name, provider):
    from conftest import open_server

    def sessions():
        server = open_server(name, provider)
        owner, peer = connect_pair(server)
        obj = peer.alloc(64)
        del obj, owner, peer, server

    caught = _collect_warns(sessions)
    text = " ".join(str(w.message) for w in caught)
    assert "unclosed <shmipc.Server" in text and text.count("unclosed <shmipc.Session") == 2
    assert "unreleased <shmipc.Object" in text

    def arena():
        arena = shmipc.Arena.open(f"{name}-a", size=1 << 20)
        shmipc.Arena.unlink(f"{name}-a")
        del arena

    assert "unclosed <shmipc.Arena" in str(_collect_warns(arena)[0].message)


def test_handles_closed_or_released_do_not_warn(name):
    def tidy():
        with shmipc.Server(name) as server:
            owner, peer = connect_pair(server)
            with owner, peer:
                with peer.alloc(64) as obj:
                    memoryview(obj)[:1] = b"x"
        arena = shmipc.Arena.open(f"{name}-a", size=1 << 20)
        shmipc.Arena.unlink(f"{name}-a")
        arena.close()

    assert _collect_warns(tidy) == []


def test_a_leak_fails_under_W_error_ResourceWarning(name):
    code = f"import shmipc, gc\ns = shmipc.Server({name!r})\ndel s\ngc.collect()\nprint('survived')"
    out = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert "ResourceWarning: unclosed <shmipc.Server" in out.stderr, out.stderr


@pytest.mark.parametrize("how", ["close", "SIGKILL"])
def test_closed_tells_a_goodbye_from_a_crash(name, how):
    leave = (
        "s.close()" if how == "close" else "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    )
    code = f"import shmipc\ns = shmipc.connect({name!r}, 'a', timeout={TIMEOUT})\n{leave}\n"
    with shmipc.Server(name) as server:
        client = subprocess.Popen([sys.executable, "-c", code])
        with server.accept(timeout=TIMEOUT) as session:
            client.wait(TIMEOUT)
            with pytest.raises(shmipc.Closed) as info:
                session.recv(timeout=TIMEOUT)
    crashed = how == "SIGKILL"
    assert info.value.crashed is crashed
    assert isinstance(info.value, shmipc.PeerDied) is crashed
    assert ("died or hung up without a goodbye" if crashed else "said goodbye") in str(info.value)
    assert (client.returncode == -9) is crashed


def test_a_session_closed_here_is_no_crash(shared_pair):
    shared_pair.peer.close()
    with pytest.raises(shmipc.Closed) as info:
        shared_pair.peer.recv(timeout=0)
    assert not info.value.crashed


def test_a_client_waits_for_a_server_that_starts_later(name):
    """connect(wait=True): the client starts first, its server 1 s later."""
    with pytest.raises(shmipc.NotFound):
        shmipc.connect(name, "early", timeout=TIMEOUT)
    code = (
        f"import time, shmipc\ntime.sleep(1)\nwith shmipc.Server({name!r}) as s:\n"
        f"    s.accept(timeout={TIMEOUT}).close()\n"
    )
    server = subprocess.Popen([sys.executable, "-c", code])
    try:
        start = time.monotonic()
        with shmipc.connect(name, "early", timeout=TIMEOUT, wait=True) as session:
            assert time.monotonic() - start >= 0.9
            assert session.peer_pid == server.pid
        assert server.wait(TIMEOUT) == 0
    finally:
        server.kill()
    with pytest.raises(shmipc.Timeout, match="came up"):
        shmipc.connect(f"{name}-never", "early", timeout=0.3, wait=True)
