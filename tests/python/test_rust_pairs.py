"""Rust <-> C pairs: the echo roles across languages, and a Rust borrower killed with
SIGKILL while it holds objects of a C owner.

Self-contained (pytest and the standard library only). Programs are found through
SHMIPC_BUILDDIR (the C build tree; default: the source tree) and SHMIPC_RUST_TARGET_DIR
(the Rust examples; default: bindings/rust/target/debug/examples). Every test runs its
programs in a private socket directory and checks that nothing is left there or in the
shm directory.
"""

import itertools
import os
import selectors
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SHMIPC_BUILDDIR", ROOT))
RUST = Path(
    os.environ.get(
        "SHMIPC_RUST_TARGET_DIR", ROOT / "bindings" / "rust" / "target" / "debug" / "examples"
    )
)
PROGRAMS = {
    ("c", "server"): BUILD / "examples" / "c" / "echo_server",
    ("c", "client"): BUILD / "examples" / "c" / "echo_client",
    ("rust", "server"): RUST / "echo_server",
    ("rust", "client"): RUST / "echo_client",
    ("c", "owner"): BUILD / "tests" / "helper_owner",
    ("rust", "holder"): RUST / "holder",
}
PROVIDERS = ["shared", "lend"]
PAIRS = [("c", "rust"), ("rust", "c"), ("rust", "rust")]
WAIT = 60  # seconds: generous, the machine may be loaded
NOT_SUPPORTED = "not supported"  # shmipc_strerror(SHMIPC_ENOTSUP)
_names = itertools.count()
PREFIX = "rs-"  # of every server name here


def program(language, role):
    path = PROGRAMS[language, role]
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build it (make; cargo build --examples in bindings/rust)")
    return str(path)


def shm_files():
    """Named pools carrying this file's names (other suites may run alongside and make
    their own): sessions use memfds, so none may appear."""
    shm = Path(os.environ.get("SHMIPC_SHM_DIR", "/dev/shm"))
    return {p.name for p in shm.glob(f"shmipc.{os.getuid()}.{PREFIX}*")}


@pytest.fixture
def env():
    """The environment of the programs: a private socket directory, checked empty after."""
    shm_before = shm_files()
    with tempfile.TemporaryDirectory(prefix="shmipc-rs-pairs-") as sockets:
        yield dict(os.environ, SHMIPC_SOCKET_DIR=sockets)
        assert os.listdir(sockets) == [], "left in the socket directory"
    assert shm_files() <= shm_before, "left in the shm directory"


def unique_name(what):
    return f"{PREFIX}{what}-{os.getpid()}-{next(_names)}"


class Program:
    """A process whose stdout is read line by line with a deadline."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = []
        self._partial = b""

    def _read_lines(self, deadline):
        """Read what comes before the deadline; False at end of output or on timeout."""
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            if not sel.select(timeout=max(0, deadline - time.monotonic())):
                return False
        chunk = os.read(fd, 65536)
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        self.lines += [line.decode() for line in complete]
        return bool(chunk)

    def wait_line(self, prefix):
        """The first line starting with prefix, or None if the process ended first."""
        deadline, seen = time.monotonic() + WAIT, 0
        while True:
            for line in self.lines[seen:]:
                if line.startswith(prefix):
                    return line
            seen = len(self.lines)
            if not self._read_lines(deadline):
                break
        if self.proc.poll() is not None or time.monotonic() < deadline:
            return None
        self.proc.kill()
        pytest.fail(f"no line {prefix!r} within {WAIT} s; got {self.lines}")

    def finish(self):
        """Exit status, stdout lines and stderr once the process ends."""
        out, err = self.proc.communicate(timeout=WAIT)
        self.lines += (self._partial + out).decode().splitlines()
        self._partial = b""
        return self.proc.returncode, self.lines, err.decode()

    def skip_unless_started(self, provider):
        """Wait until it listens. A server that cannot start is a failure, except when the
        library says the provider is not supported: then the test is skipped."""
        if self.wait_line("listening ") is not None:
            return
        status, lines, err = self.finish()
        if status in (3, 77) and NOT_SUPPORTED in err:
            pytest.skip(f"provider {provider}: the server says: {err.strip()}")
        pytest.fail(f"the server did not start (exit {status}): {err}")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("server_lang,client_lang", PAIRS)
def test_echo_pair(server_lang, client_lang, provider, env):
    """Two clients of one language served by a server of another, every check passing:
    bytes both ways, a catalogue walked and rebuilt, the server's arenas back to baseline."""
    name = unique_name("echo")
    server = Program(
        [
            program(server_lang, "server"),
            "-n",
            name,
            "-p",
            provider,
            "-c",
            "2",
            "-s",
            "1,4096,1048576",
            "-r",
            "50",
            "-t",
            "30000",
        ],
        env,
    )
    server.skip_unless_started(provider)
    for app in ("first", "second"):
        client = subprocess.run(
            [program(client_lang, "client"), "-n", name, "-a", app, "-t", "30000"],
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert client.returncode == 0, f"{client_lang} client {app}: {client.stderr}"
    status, lines, err = server.finish()
    assert status == 0, f"{server_lang} server: {lines} {err}"
    served = [line for line in lines if line.startswith("client ")]
    assert len(served) == 2 and all(line.endswith(": ok") for line in served), served
    assert all("3/3 buffers, catalogue of 50 records" in line for line in served), served


@pytest.mark.parametrize("language", ["c", "rust"])
def test_exit_codes_agree(language, env):
    """The programs fail the same way in both languages."""

    def status(role, *args):
        return subprocess.run(
            [program(language, role), *args], env=env, capture_output=True, timeout=WAIT
        ).returncode

    assert status("client", "-n", unique_name("nobody")) == 3, "no such server"
    assert status("client", "-q") == 3, "unknown option"
    assert status("client", "extra") == 3, "an argument that is not an option"
    assert status("server", "-x") == 3, "unknown option"
    assert status("server", "-p", "other") == 3, "unknown provider"
    assert status("server", "-s", "0") == 3, "a size of 0"
    assert status("server", "-c", "0") == 3, "no clients"
    assert status("server", "-n", "bad/name") == 3, "a name the library refuses"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_killed_rust_borrower_leaks_nothing_in_a_c_owner(provider, env):
    """A Rust process holding borrowed objects is killed with SIGKILL: the C owner sees it
    go, and both its arenas are back to their baseline and consistent."""
    name, count = unique_name("kill"), 10
    owner = Program([program("c", "owner"), name, provider, str(count), "100000"], env)
    owner.skip_unless_started(provider)
    holder = Program([program("rust", "holder"), name], env)
    try:
        assert owner.wait_line("lent ") == f"lent {count}"
        assert holder.wait_line(f"held {count}") == f"held {count}", holder.lines
    finally:
        holder.proc.send_signal(signal.SIGKILL)
        assert holder.finish()[0] == -signal.SIGKILL, "killed, not ended by itself"
    status, lines, err = owner.finish()
    assert status == 0, f"{lines} {err}"
    assert lines[-1].endswith("back to baseline"), lines
