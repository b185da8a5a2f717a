"""The cross-language demo (make demo; examples/README.md, "The demo"): the C server with
the Python and the Rust client, as the README runs it but smaller, for both providers; and
the server's verdict when a client lies or is killed with SIGKILL while it holds the
frames: exit status 1, and still nothing leaked."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TIMEOUT

RUST = Path(
    os.environ.get(
        "SHMIPC_RUST_TARGET_DIR", REPO / "bindings" / "rust" / "target" / "debug" / "examples"
    )
)
BASELINE = re.compile(
    r"app arena in use: (\d+) bytes before, (\d+) with the frames and the "
    r"catalogue, (\d+) after: back to baseline, nothing leaked"
)


def rust_client():
    path = RUST / "demo_client"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: cargo build --examples in bindings/rust")
    return str(path)


@pytest.mark.parametrize("provider", ["lend", "shared"])
def test_the_demo_passes_and_leaks_nothing(c_program, provider):
    run = subprocess.run(
        [
            str(REPO / "examples" / "demo.sh"),
            c_program("examples/c/demo_server"),
            sys.executable,
            rust_client(),
            "-p",
            provider,
            "-m",
            "8",
            "-r",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=6 * TIMEOUT,
    )
    out = run.stdout
    assert run.returncode == 0, f"stdout {out}\nstderr {run.stderr}"
    assert "8/8 MiB" in out  # the progress line ends full
    for language in ("python", "rust"):
        row = re.search(rf"^{language} \(pid \d+\) .*$", out, re.MULTILINE)
        assert row, f"no row for the {language} client in {out}"
        assert row.group(0).endswith("catalogue ok, frames ok, copy ok, session ok")
        assert re.search(r"\d+\.\dx / \d+\.\dx", row.group(0)), row.group(0)
    before, full, after = map(int, BASELINE.search(out).groups())
    assert before == after and full >= before + (8 << 20)
    assert out.rstrip().endswith("all checks passed")


# A client that follows the protocol until `misstep`: "lie" answers the catalogue with a
# wrong digest; "die" is killed with SIGKILL while it holds the borrowed frames.
BAD_CLIENT = r"""
import os, signal, sys
import shmipc
misstep, name = sys.argv[1], sys.argv[2]
sess = shmipc.connect(name, "viewer", timeout=20.0)
sess.send(b"client bad")
msg, catalogue = sess.recv(timeout=20.0)
if misstep == "lie":
    with sess.alloc(4096) as mine:
        sess.send(msg.split(b" ")[0] + b" 1 0000000000000000", mine)
    sess.close()
    sys.exit(0)
sess.send(b"catalog 0 0")  # wrong too, but the server goes on to the frames
msg, frames = sess.recv(timeout=20.0)
assert msg.startswith(b"frames") and frames is not None
view = memoryview(frames)[:4096].tobytes()  # touch them
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("provider", ["lend", "shared"])
@pytest.mark.parametrize("misstep", ["lie", "die"])
def test_a_bad_client_fails_the_demo_without_a_leak(c_program, spawn, name, provider, misstep):
    server = spawn(
        [
            c_program("examples/c/demo_server"),
            "-n",
            name,
            "-p",
            provider,
            "-c",
            "1",
            "-m",
            "4",
            "-r",
            "50",
            "-t",
            "5000",
        ]
    )
    server.expect(r"listening as")
    client = subprocess.run(
        [sys.executable, "-c", BAD_CLIENT, misstep, name],
        capture_output=True,
        text=True,
        timeout=2 * TIMEOUT,
    )
    assert client.returncode == (0 if misstep == "lie" else -9), client.stderr
    status, out, err = server.finish()
    assert status == 1, f"stdout {out}\nstderr {err}"
    assert re.search(r"^bad \(pid \d+\) .*catalogue FAILED", out, re.MULTILINE), out
    assert BASELINE.search(out), out  # what it lent came back all the same
    assert out.rstrip().endswith("SOME CHECKS FAILED")
