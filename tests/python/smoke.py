"""Smoke test of an installed shmipc package, with nothing but the package (no pytest, no
numpy, no build tree): make check-python-dist runs it in fresh venvs.

  python smoke.py [--system-lib]

Imports the package, checks its version against the C library, and moves an object through
a session between two threads, with each provider: "lend" too, in this plain Python with no
environment variable (the package's jemalloc is built in). --system-lib: also check that
the extension uses the shared libshmipc found by pkg-config (SHMIPC_PYTHON_USE_SYSTEM_LIB=1),
not a bundled copy.
Prints "smoke: ok ..." and exits 0, or fails with a traceback.
"""

import concurrent.futures
import os
import sys
import tempfile

import shmipc


def main(argv):
    assert shmipc.__version__ == shmipc.ffi.string(shmipc.lib.shmipc_version()).decode()
    maps = open("/proc/self/maps").read()
    if "--system-lib" in argv:
        assert "libshmipc.so" in maps, "the extension does not use the shared libshmipc"
    else:
        assert "libshmipc.so" not in maps, "the bundled build should not load libshmipc.so"
    for provider in ("shared", "lend"):
        roundtrip(provider)
    print(f"smoke: ok (shmipc {shmipc.__version__}, {shmipc.__file__})")
    return 0


def roundtrip(provider):
    with tempfile.TemporaryDirectory(prefix="shmipc-smoke-") as sockets:
        name = f"smoke-{os.getpid()}"
        with (
            shmipc.Server(name, socket_dir=sockets, provider=provider) as server,
            concurrent.futures.ThreadPoolExecutor(1) as pool,
        ):
            accepted = pool.submit(server.accept, 10.0)
            with (
                shmipc.connect(name, "smoke", timeout=10.0, socket_dir=sockets) as client,
                accepted.result() as owner,
            ):
                obj = owner.alloc(1 << 16)
                memoryview(obj)[:5] = b"smoke"
                owner.send(b"hello", obj)
                msg, got = client.recv(timeout=10.0)
                assert msg == b"hello" and bytes(memoryview(got)[:5]) == b"smoke"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
