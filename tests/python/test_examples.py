"""The small examples of examples/ that the other suites do not run: a named arena shared
Umpire style (Python and Rust), the echo client on asyncio against the C echo server, and
the C poll-loop server with several clients at once — one of them killed with SIGKILL
right after lending. Each must do what its comment says and leave nothing behind."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SHM_DIR, TIMEOUT, python_script

EXAMPLES = REPO / "examples" / "python"
RUST = Path(
    os.environ.get(
        "SHMIPC_RUST_TARGET_DIR", REPO / "bindings" / "rust" / "target" / "debug" / "examples"
    )
)
ENV = dict(os.environ, PYTHONPATH=str(EXAMPLES))


def named_arena_command(language):
    if language == "python":
        return python_script("examples/python/named_arena.py")
    path = RUST / "named_arena"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: cargo build --examples in bindings/rust")
    return [str(path)]


@pytest.mark.parametrize("language", ["python", "rust"])
def test_named_arena_shares_one_table_between_processes(language):
    run = subprocess.run(
        [*named_arena_command(language), "-r", "3", "-n", "300000"],
        capture_output=True,
        text=True,
        timeout=2 * TIMEOUT,
    )
    out = run.stdout
    assert run.returncode == 0, f"stdout {out}\nstderr {run.stderr}"
    created = re.search(r"created 'lookup_table' .* in arena '([^']+)', (sum \S+)", out)
    assert created, out
    readers = re.findall(
        r"reader \d+: found 'lookup_table' \(created here: (\w+)\) at (\w+), "
        r"(sum \S+)",
        out,
    )
    assert len(readers) == 3, out
    assert all(
        flag.lower() == "false" and total == created.group(2) for flag, _, total in readers
    ), out
    assert "arena back to its baseline: true" in out.lower()
    assert not list(SHM_DIR.glob(f"shmipc.{os.getuid()}.{created.group(1)}*")), (
        "the arena's name was removed"
    )


@pytest.mark.parametrize("provider", ["shared", "lend"])
def test_the_asyncio_client_answers_the_c_echo_server(c_program, spawn, name, provider):
    server = spawn(
        [
            c_program("examples/c/echo_server"),
            "-n",
            name,
            "-p",
            provider,
            "-s",
            "64,65536,1048576",
            "-r",
            "50",
        ]
    )
    server.expect(r"listening")
    client = subprocess.run(
        [*python_script("examples/python/asyncio_client.py"), "-n", name, "-a", "async"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=2 * TIMEOUT,
    )
    assert client.returncode == 0, client.stderr
    ticks = re.search(r"answered (\d+) objects; the ticker ran (\d+) times", client.stdout)
    assert ticks and int(ticks.group(1)) == 4, client.stdout  # (the ticker may not have
    # needed to run: a message that is already there is taken without waiting)
    status, out, err = server.finish()
    assert status == 0 and out.rstrip().endswith("arenas back to baseline: ok"), out + err


# A client of the checksum service: lends objects of random bytes, checks each answer;
# with "die" it is killed with SIGKILL right after its first loan.
CHECKSUM_CLIENT = r"""
import os, signal, sys
import shmipc
from echo_common import fnv, parse_msg
name, die = sys.argv[1], sys.argv[2] == "die"
with shmipc.connect(name, "checker", timeout=20.0) as sess:
    assert sess.recv(timeout=20.0) == (b"ready", None)
    for n in (64, 4096, 65536, 1):
        data = os.urandom(n)
        with sess.alloc(n) as obj:
            memoryview(obj)[:] = data
            sess.send(b"check", obj)
        if die:
            os.kill(os.getpid(), signal.SIGKILL)
        msg, got = sess.recv(timeout=20.0)
        assert got is None and parse_msg(msg, "sum") == (n, fnv(data)), msg
print("checked 4")
"""


@pytest.mark.parametrize("provider", ["shared", "lend"])
def test_one_poll_loop_serves_clients_at_once_and_survives_a_killed_one(
    c_program, spawn, name, provider
):
    server = spawn(
        [
            c_program("examples/c/poll_server"),
            "-n",
            name,
            "-p",
            provider,
            "-c",
            "4",
            "-t",
            str(int(2 * TIMEOUT * 1000)),
        ]
    )
    server.expect(r"listening")
    clients = [
        subprocess.Popen(
            [sys.executable, "-c", CHECKSUM_CLIENT, name, role],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for role in ("live", "live", "die", "live")
    ]
    results = [(c.wait(2 * TIMEOUT), *c.communicate()) for c in clients]
    for role, (status, out, err) in zip(("live", "live", "die", "live"), results):
        if role == "die":
            assert status == -9, err
        else:
            assert status == 0 and out.strip() == "checked 4", err
    status, out, err = server.finish()
    assert status == 0, out + err
    rows = re.findall(
        r"client pid \d+: (\d) objects answered, session arena back to "
        r"baseline: ok",
        out,
    )
    assert sorted(rows) in (["0", "4", "4", "4"], ["1", "4", "4", "4"]), out
    assert "app arena back to baseline whenever the last client had gone: ok" in out
