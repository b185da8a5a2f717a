"""Build script of the cffi extension ``shmipc._lib`` (API mode).

setup.py names ``make_ffi`` in ``cffi_modules``. By default the extension compiles the C
core's sources itself: every ``core/*.c`` of the repository (``../../core`` from
``bindings/python``) or of the sdist, which bundles them in ``core/``. With
``SHMIPC_PYTHON_USE_SYSTEM_LIB=1`` it links the ``libshmipc`` that pkg-config finds instead.
Either way the cdef is generated from the very ``shmipc.h`` the extension compiles against
(see ``_cdefgen.py``), once, at build time, and is kept in the extension
(``lib._shmipc_py_cdef``) so that a test can prove it is still what the header says; nothing
runs a compiler when the package is imported. The binding's own C glue is ``_glue.h`` (its
declarations, which are also its cdef) and ``_glue.c``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]  # bindings/python, or the root of the unpacked sdist
SYSTEM_LIB_SWITCH = "SHMIPC_PYTHON_USE_SYSTEM_LIB"
CDEF_SYMBOL = "_shmipc_py_cdef"


def _load_cdefgen():
    spec = importlib.util.spec_from_file_location("_shmipc_cdefgen", HERE / "_cdefgen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def use_system_lib() -> bool:
    return os.environ.get(SYSTEM_LIB_SWITCH, "") not in ("", "0")


def core_dir() -> Path:
    """The C core's sources: bundled in the sdist, else the repository's."""
    for core in (PROJECT / "core", PROJECT.parents[1] / "core"):
        if (core / "include" / "shmipc.h").is_file():
            return core
    raise SystemExit(f"shmipc: the C core is neither in {PROJECT / 'core'} (sdist) nor in "
                     f"{PROJECT.parents[1] / 'core'} (repository); set {SYSTEM_LIB_SWITCH}=1 "
                     f"to build against an installed libshmipc")


def _pkg_config(*args: str) -> List[str]:
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True,
                             text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"shmipc: pkg-config {' '.join(args)} failed ({e}); is it "
                         f"installed, and PKG_CONFIG_PATH set?") from None
    return out.split()


def _jemalloc_found() -> bool:
    """jemalloc >= 5 is found by pkg-config (its header is needed to build)."""
    try:
        return subprocess.run(["pkg-config", "--atleast-version=5", "jemalloc"]).returncode == 0
    except OSError:
        return False


def include_dirs() -> List[Path]:
    if use_system_lib():
        return [Path(flag[2:]) for flag in _pkg_config("--cflags-only-I", "shmipc")]
    core = core_dir()
    return [core / "include", core]


def header() -> Path:
    for d in include_dirs():
        if (d / "shmipc.h").is_file():
            return d / "shmipc.h"
    raise SystemExit(f"shmipc: no shmipc.h in {[str(d) for d in include_dirs()]}")


def version() -> str:
    """SHMIPC_VERSION_STRING of the header the extension is built against."""
    found = re.search(r'^#define SHMIPC_VERSION_STRING "([^"]+)"', header().read_text(),
                      re.MULTILINE)
    if not found:
        raise SystemExit(f"shmipc: no SHMIPC_VERSION_STRING in {header()}")
    return found.group(1)


def _link_options() -> Dict[str, list]:
    if use_system_lib():
        lib_dirs = [flag[2:] for flag in _pkg_config("--libs-only-L", "shmipc")]
        return {"libraries": [flag[2:] for flag in _pkg_config("--libs-only-l", "shmipc")],
                "library_dirs": lib_dirs, "runtime_library_dirs": lib_dirs,
                "sources": [], "define_macros": []}
    options: Dict[str, list] = {
        # absolute: their objects then stay in the build directory (setup.py keeps them
        # out of setuptools' file lists; the sdist bundles them its own way)
        "sources": sorted(str(p) for p in core_dir().glob("*.c")),
        "define_macros": [("SHMIPC_BUILDING", None)],
        "libraries": [], "library_dirs": [], "runtime_library_dirs": []}
    # The extension does not link jemalloc: the core loads it on the first lend arena
    # (SHMIPC_JEMALLOC_DLOPEN). A libjemalloc built with initial-exec TLS (Debian's: 2.6 KiB)
    # cannot be loaded into a running Python unless it was started with more static TLS
    # (GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384); then the lend provider raises
    # NotSupported saying so, and everything else works. Linking it would make the import
    # itself fail.
    if _jemalloc_found():
        options["define_macros"] += [("SHMIPC_HAVE_JEMALLOC", "1"), ("SHMIPC_JEMALLOC_DLOPEN", "1")]
        options["libraries"] += ["dl"]
    return options


# The glue the binding adds to the C API: declared in _glue.h (also the cdef), defined in
# _glue.c, compiled into the extension. Relative to bindings/python, where setup.py runs, so
# that the sdist lists them.
GLUE_HEADER = HERE / "_glue.h"
GLUE_SOURCE = "src/shmipc/_glue.c"


def _c_string(text: str) -> str:
    """text as a C string literal, one source line per line of text."""
    if not text.isascii():
        raise SystemExit("shmipc: the generated cdef is not ASCII")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return "\n".join(f'    "{line}\\n"' for line in escaped.splitlines())


def make_ffi():
    from cffi import FFI

    cdef = _load_cdefgen().cdef_from_header(header(), include_dirs())
    ffibuilder = FFI()
    ffibuilder.cdef(cdef)
    ffibuilder.cdef(f"static const char *const {CDEF_SYMBOL};\n{GLUE_HEADER.read_text()}")
    options = _link_options()
    options["sources"] = [*options["sources"], GLUE_SOURCE]
    ffibuilder.set_source(
        "shmipc._lib",
        f'#include "shmipc.h"\n#include "{GLUE_HEADER.name}"\n\n'
        f"static const char *const {CDEF_SYMBOL} =\n{_c_string(cdef)};\n",
        include_dirs=[str(d) for d in [*include_dirs(), HERE]],
        depends=[str(GLUE_HEADER.relative_to(PROJECT))],
        extra_compile_args=["-std=gnu11", "-pthread", "-fvisibility=hidden",
                            "-Werror=incompatible-pointer-types",
                            "-Werror=implicit-function-declaration"],
        extra_link_args=["-pthread"],
        **options)
    return ffibuilder
