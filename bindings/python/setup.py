"""What pyproject.toml cannot say: the cffi extension (API mode) and the buffer type, the
version read from the C header, the public headers shipped in the package, and the C core
bundled into the sdist so that the sdist builds on its own."""

import importlib.util
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
BUILD_FFI = "src/shmipc/_build_ffi.py"


def _load_build_ffi():
    spec = importlib.util.spec_from_file_location("_shmipc_build_ffi", HERE / BUILD_FFI)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_ffi = _load_build_ffi()


class BuildPyWithHeaders(build_py):
    """Ship the public headers as shmipc/include (shmipc.get_include())."""

    def run(self):
        super().run()
        header = build_ffi.header()
        dest = Path(self.build_lib) / "shmipc" / "include"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(header.parent / "shmipc", dest / "shmipc")
        shutil.copy2(header, dest / "shmipc.h")


class BuildExtListsOwnSources(build_ext):
    """The C core's sources are compiled where they are, by absolute path (the repository's
    ../../core, or the sdist's core/); setuptools' file lists (egg-info, sdist) refuse
    absolute paths, so they are not listed: the sdist bundles them itself."""

    def get_source_files(self):
        return [f for f in super().get_source_files() if not Path(f).is_absolute()]


class SdistWithCore(sdist):
    """Bundle the C core's sources, recipe and public headers in core/, and the jemalloc it
    builds in deps/jemalloc."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        core, dest = build_ffi.core_dir(), Path(base_dir) / "core"
        shutil.copytree(core / "include", dest / "include")
        for source in sorted(core.glob("*.[ch]")) + [core / "sources.am"]:
            shutil.copy2(source, dest / source.name)
        shutil.copytree(build_ffi.jemalloc_dir(core), Path(base_dir) / "deps" / "jemalloc")


setup(
    version=build_ffi.version(),
    cffi_modules=[f"{BUILD_FFI}:make_ffi"],
    ext_modules=[Extension("shmipc._buffer", ["src/shmipc/_buffer.c"])],
    cmdclass={
        "build_ext": BuildExtListsOwnSources,
        "build_py": BuildPyWithHeaders,
        "sdist": SdistWithCore,
    },
)
