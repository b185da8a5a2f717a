"""shmipc.mpi: real MPI jobs of Python ranks (mpi_ranks.py under mpirun), and the import
error when mpi4py is missing. make check installs mpi4py into its venv when configure found
MPI; without it, or without a launcher, the jobs skip."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHM_DIR

RANKS = Path(__file__).resolve().parent / "mpi_ranks.py"


def test_without_mpi4py_the_import_error_says_what_to_install():
    code = "import sys; sys.modules['mpi4py'] = None; import shmipc.mpi"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0
    assert "ImportError: shmipc.mpi needs mpi4py" in run.stderr
    assert "pip install mpi4py" in run.stderr


def _launcher():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip(
            "mpi4py is not installed (make check installs it into its venv when "
            "configure finds MPI; rm python-build/venv/.ready to remake the venv)"
        )
    launcher = os.environ.get("SHMIPC_MPIEXEC") or shutil.which("mpirun")
    if not launcher:
        pytest.skip("no MPI launcher: SHMIPC_MPIEXEC is unset and mpirun is not on PATH")
    flags = []
    if "Open MPI" in subprocess.run([launcher, "--version"], capture_output=True, text=True).stdout:
        flags = ["--oversubscribe", "--bind-to", "none"]
        if os.getuid() == 0:
            flags.append("--allow-run-as-root")
    return [launcher, *flags]


def _job(np, mode, name):
    """Run the job; its lines "ok - "/"not ok - " (every check must be ok)."""
    run = subprocess.run(
        [*_launcher(), "-np", str(np), sys.executable, str(RANKS), mode, name],
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = re.findall(r"^(ok|not ok) - (.*)$", run.stdout, re.MULTILINE)
    failed = [text for status, text in results if status != "ok"]
    assert run.returncode == 0 and results and not failed, run.stdout + run.stderr
    return [text for _, text in results]


@pytest.mark.parametrize("np", [4, 8])
def test_ranks_share_one_arena_per_node(np, name):
    checks = _job(np, "share", name)
    assert len(checks) == 6
    assert f"the arena's communicator: the {np} ranks of this node, in order" in checks
    assert not [p for p in SHM_DIR.iterdir() if p.name.startswith(f"shmipc.{os.getuid()}.{name}")]


def test_bad_input_fails_on_every_rank(name):
    assert len(_job(4, "errors", name)) == 9
