"""Fixtures of the Python suite.

Every process of the test session — this one and the peers it starts — uses a private
socket directory (SHMIPC_SOCKET_DIR), and every server, arena and named pool has a name
that starts with this process's pid. At the end the socket directory must be empty and
/dev/shm must hold nothing of ours.

The C programs (examples/c/echo_*, tests/helper_*) are those of the autotools build in
$SHMIPC_BUILDDIR (make check-python sets it); without it the tests that need them skip.
"""

import concurrent.futures
import itertools
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

import pytest

import shmipc

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples" / "python"))  # echo_common: the examples' catalogue
SOCKET_DIR = tempfile.mkdtemp(prefix="shmipc-pytest-")
os.environ["SHMIPC_SOCKET_DIR"] = SOCKET_DIR  # before any server: children inherit it
PREFIX = f"py{os.getpid()}"
SHM_DIR = Path(os.environ.get("SHMIPC_SHM_DIR", "/dev/shm"))
TIMEOUT = 20.0  # generous: the machine may be loaded
_names = itertools.count()


def _leftovers():
    shm = [p.name for p in SHM_DIR.iterdir() if PREFIX in p.name]
    return sorted(os.listdir(SOCKET_DIR)), shm


@pytest.fixture(scope="session", autouse=True)
def private_dirs():
    """The session's socket directory; checks at the end that nothing was left behind."""
    yield SOCKET_DIR
    sockets, shm = _leftovers()
    shutil.rmtree(SOCKET_DIR, ignore_errors=True)
    assert not sockets, f"left in the socket directory: {sockets}"
    assert not shm, f"left in {SHM_DIR}: {shm}"


@pytest.fixture
def name(request):
    """A name no other test (or test run) uses: pid, counter and the start of the test's
    name (short: a socket path has at most 107 bytes)."""
    test = re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)
    return f"{PREFIX}-{next(_names)}-{test[:40]}"


@pytest.fixture(params=["shared", "lend"])
def provider(request):
    return request.param


def open_server(name, provider, **options):
    """A Server; the lend provider is skipped only when the library says ENOTSUP."""
    try:
        return shmipc.Server(name, provider=provider, **options)
    except shmipc.NotSupported as e:
        if provider != "lend":
            raise
        pytest.skip(f"lend provider: server_open reports SHMIPC_ENOTSUP ({e.detail})")


class Pair(NamedTuple):
    server: shmipc.Server
    owner: shmipc.Session  # the server's side
    peer: shmipc.Session  # the client's side


def connect_pair(server, app="tester"):
    """Accept (in a thread) while connecting: both ends of a new session."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        accepted = pool.submit(server.accept, TIMEOUT)
        peer = shmipc.connect(server.name, app, timeout=TIMEOUT)
        return accepted.result(), peer


@pytest.fixture
def pair(name, provider):
    """A server and one session with both of its ends in this process (real socket, real
    shared memory: the C library does not care that both ends share a process)."""
    with open_server(name, provider) as server:
        owner, peer = connect_pair(server)
        with owner, peer:
            yield Pair(server, owner, peer)


@pytest.fixture
def shared_pair(name):
    with shmipc.Server(name) as server:
        owner, peer = connect_pair(server)
        with owner, peer:
            yield Pair(server, owner, peer)


# ---- processes ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def builddir():
    value = os.environ.get("SHMIPC_BUILDDIR")
    if not value:
        pytest.skip("SHMIPC_BUILDDIR is not set (make check-python sets it)")
    return Path(value)


@pytest.fixture(scope="session")
def c_program(builddir):
    """Path of a C program of the build: c_program("examples/c/echo_server")."""

    def find(relative):
        path = builddir / relative
        assert path.is_file(), f"{path} is missing: build it (make check builds it)"
        return str(path)

    return find


def python_script(relative):
    """Command line prefix running a Python file of the repository with this interpreter."""
    return [sys.executable, str(REPO / relative)]


class Process:
    """A child process whose stdout lines are read as they come (by a thread, so that a
    silent child never blocks the test past its timeout)."""

    def __init__(self, argv):
        self.argv = argv
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines = queue.Queue()
        self.seen = []
        self._result = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def expect(self, pattern, timeout=TIMEOUT):
        """Wait for a stdout line matching pattern (a regex); its match."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.kill()
                status, out, err = self.finish()
                raise AssertionError(
                    f"{self.argv}: no line matching {pattern!r}; status "
                    f"{status}, stdout {out!r}, stderr {err!r}"
                )
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def finish(self, timeout=TIMEOUT):
        """(exit status, all of stdout, stderr) once it has exited."""
        if self._result:
            return self._result
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self._reader.join()  # it has queued every line (and None) by now
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        self._result = self.proc.returncode, "".join(self.seen), self.proc.stderr.read()
        return self._result

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def spawn():
    """Start processes (Process) that are killed at the end of the test if still running."""
    started = []

    def start(argv):
        started.append(Process(argv))
        return started[-1]

    yield start
    for process in started:
        process.kill()
        process._reader.join(TIMEOUT)
        process.proc.stdout.close()
        process.proc.stderr.close()
