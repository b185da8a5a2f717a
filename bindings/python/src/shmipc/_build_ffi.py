"""Build script of the cffi extension ``shmipc._lib`` (API mode).

setup.py names ``make_ffi`` in ``cffi_modules``. By default the extension compiles the C
core itself, as ``core/sources.am`` says (the recipe Autotools and the Rust crate read too):
its sources and flags, from the repository (``../../core`` from ``bindings/python``) or the
sdist, which bundles them in ``core/``; and the jemalloc of ``deps/jemalloc``, built with
that recipe's flags into a static library whose symbols are prefixed and hidden. With
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
    raise SystemExit(
        f"shmipc: the C core is neither in {PROJECT / 'core'} (sdist) nor in "
        f"{PROJECT.parents[1] / 'core'} (repository); set {SYSTEM_LIB_SWITCH}=1 "
        f"to build against an installed libshmipc"
    )


def _pkg_config(*args: str) -> List[str]:
    try:
        out = subprocess.run(
            ["pkg-config", *args], check=True, capture_output=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(
            f"shmipc: pkg-config {' '.join(args)} failed ({e}); is it "
            f"installed, and PKG_CONFIG_PATH set?"
        ) from None
    return out.split()


def recipe(core: Path) -> Dict[str, List[str]]:
    """The assignments of core/sources.am (NAME = words; a trailing backslash continues the
    line; # starts a comment), $(NAME) expanded."""
    text = re.sub(r"\\\n", " ", (core / "sources.am").read_text())
    values: Dict[str, List[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, eq, words = line.partition("=")
        if not eq:
            raise SystemExit(f"shmipc: {core / 'sources.am'}: not an assignment: {line}")
        words = re.sub(r"\$\((\w+)\)", lambda m: " ".join(values[m.group(1)]), words)
        values[name.strip()] = words.split()
    return values


def jemalloc_dir(core: Path) -> Path:
    """deps/jemalloc beside core/ (the repository's, or the sdist's)."""
    return core.parent / "deps" / "jemalloc"


def build_jemalloc(core: Path, values: Dict[str, List[str]]) -> Path:
    """Build deps/jemalloc (once) in build/shmipc-jemalloc; its build directory."""
    build = PROJECT / "build" / "shmipc-jemalloc"
    lib = build / "lib" / "libjemalloc_pic.a"
    if lib.is_file():
        return build
    build.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        CFLAGS=" ".join(values["JEMALLOC_CFLAGS_BUILD"] + _tls_flags(values)),
        CPPFLAGS="",
        LDFLAGS="",
    )
    env.pop("MAKEFLAGS", None)
    for cmd in (
        ["sh", str(jemalloc_dir(core) / "configure"), *values["JEMALLOC_CONFIGURE_FLAGS"]],
        ["make", f"-j{min(os.cpu_count() or 1, 2)}", "lib/libjemalloc_pic.a"],
    ):
        done = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"shmipc: building jemalloc failed: {' '.join(cmd)}")
    return build


def _tls_flags(values: Dict[str, List[str]]) -> List[str]:
    import platform

    return values["CORE_TLS_FLAGS"] if platform.machine() in ("x86_64", "AMD64") else []


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
    found = re.search(
        r'^#define SHMIPC_VERSION_STRING "([^"]+)"', header().read_text(), re.MULTILINE
    )
    if not found:
        raise SystemExit(f"shmipc: no SHMIPC_VERSION_STRING in {header()}")
    return found.group(1)


def _link_options() -> Dict[str, list]:
    if use_system_lib():
        lib_dirs = [flag[2:] for flag in _pkg_config("--libs-only-L", "shmipc")]
        return {
            "libraries": [flag[2:] for flag in _pkg_config("--libs-only-l", "shmipc")],
            "library_dirs": lib_dirs,
            "runtime_library_dirs": lib_dirs,
            "sources": [],
            "define_macros": [],
        }
    core = core_dir()
    values = recipe(core)
    jemalloc = build_jemalloc(core, values)
    defines = [
        d[2:].split("=", 1) for d in values["CORE_DEFINES"] + values["CORE_JEMALLOC_DEFINES"]
    ]
    return {
        # absolute: their objects then stay in the build directory (setup.py keeps them
        # out of setuptools' file lists; the sdist bundles them its own way)
        "sources": [str(core.parent / f) for f in values["CORE_SOURCES"] if f.endswith(".c")],
        "define_macros": [(d[0], d[1] if len(d) > 1 else None) for d in defines],
        "include_dirs": [str(jemalloc / "include")],
        "extra_objects": [str(jemalloc / "lib" / "libjemalloc_pic.a")],
        "extra_compile_args": values["CORE_FLAGS"] + _tls_flags(values),
        "libraries": [],
        "library_dirs": [],
        "runtime_library_dirs": [],
    }


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
        include_dirs=[str(d) for d in [*include_dirs(), HERE]] + options.pop("include_dirs", []),
        depends=[str(GLUE_HEADER.relative_to(PROJECT))],
        extra_compile_args=options.pop("extra_compile_args", ["-std=gnu11", "-pthread"])
        + [
            "-fvisibility=hidden",
            "-Werror=incompatible-pointer-types",
            "-Werror=implicit-function-declaration",
        ],
        extra_link_args=["-pthread"],
        **options,
    )
    return ffibuilder


if __name__ == "__main__":
    # python _build_ffi.py --recipe [CORE]: core/sources.am as this build reads it, one
    # NAME=words line per assignment (tests/test_recipe.sh compares it with make's)
    if sys.argv[1:2] != ["--recipe"]:
        raise SystemExit("usage: _build_ffi.py --recipe [CORE_DIR]")
    read = recipe(Path(sys.argv[2]) if len(sys.argv) > 2 else core_dir())
    print("\n".join(sorted(f"{name}={' '.join(words)}" for name, words in read.items())))
