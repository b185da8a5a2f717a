"""The package as built: its version, its cdef against the header, its errors."""

import importlib.metadata
import re
import subprocess
from pathlib import Path

import pytest

import shmipc
from conftest import REPO
from shmipc import _cdefgen, ffi, lib

HEADER = REPO / "core" / "include" / "shmipc.h"


def test_version_is_the_c_library_s():
    assert shmipc.__version__ == ffi.string(lib.shmipc_version()).decode()
    assert importlib.metadata.version("shmipc") == shmipc.__version__


def test_version_comes_from_the_header_of_this_tree():
    script = REPO / "build-aux" / "version.sh"
    assert (
        shmipc.__version__
        == subprocess.run(["sh", str(script)], capture_output=True, text=True, check=True).stdout
    )
    number = lib.SHMIPC_VERSION_NUMBER
    assert shmipc.__version__ == f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    assert lib.shmipc_version_number() == number


def test_cdef_compiled_in_is_the_one_the_header_gives_now():
    built = ffi.string(lib._shmipc_py_cdef).decode()
    assert built == _cdefgen.cdef_from_header(HEADER, [HEADER.parent, HEADER.parent.parent])


def _header_functions():
    """Every function the public headers declare, found by plain text (not the generator)."""
    text = HEADER.read_text() + (HEADER.parent / "shmipc" / "offptr.h").read_text()
    exported = re.findall(r"^SHMIPC_API\s[^;]*?\b(shmipc_\w+)\(", text, re.MULTILINE | re.DOTALL)
    inline = re.findall(r"^static inline\s[^{]*?\b(shmipc_\w+)\(", text, re.MULTILINE)
    return set(exported) | set(inline)


def test_every_function_of_the_header_is_bound_with_its_signature():
    functions = _header_functions()
    declared = HEADER.read_text().count("\nSHMIPC_API ")
    assert len(functions) == declared + 3  # and the three inline offset-pointer helpers
    cdef = ffi.string(lib._shmipc_py_cdef).decode()
    for name in functions:
        assert callable(getattr(lib, name)), name
        assert re.search(rf"\b{name}\(", cdef), name


def test_every_integer_macro_of_the_header_has_its_value():
    text = HEADER.read_text()
    plain = re.findall(r"^#define (SHMIPC_\w+)\s+\(?(-?\d+)\)?\s*(?:/\*.*)?$", text, re.MULTILINE)
    assert len(plain) > 20
    for name, value in plain:
        assert getattr(lib, name) == int(value), name
    assert lib.SHMIPC_POOL_MAX == 1 << 44


def test_the_structs_have_the_c_layout():
    # cffi checks these against the compiler in API mode; a few the tests rely on:
    assert ffi.sizeof("shmipc_blob") == lib.SHMIPC_BLOB_SIZE == shmipc.BLOB_SIZE
    assert ffi.sizeof("shmipc_rel") == 8
    assert ffi.offsetof("struct shmipc_arena_stats", "bad_frees") == 56


def test_the_cdef_generator_drops_bodies_and_keeps_declarations(tmp_path):
    header = tmp_path / "h.h"
    header.write_text(
        '#include <stdio.h>\n#define ANSWER (6 * 7)\n#define TEXT "a;{b}"\n'
        "#define CALL(x) f(x)\n#define INIT {1}\n"
        "struct s { int a; int (*cb)(const char *); };\n"
        'static inline int f(int x) { const char *t = "}"; if (x) { return 1; } return 0; }\n'
        "typedef struct s s_t;\nint g(s_t *p);\n"
    )
    assert _cdefgen.cdef_from_header(header) == (
        "#define ANSWER ...\nstatic const char *const TEXT;\n"
        "struct s { int a; int (*cb)(const char *); };\nint f(int x);\n"
        "typedef struct s s_t;\nint g(s_t *p);\n"
    )
    assert shmipc.cdef_from_header(str(header)) == (
        "struct s { int a; int (*cb)(const char *); };\ntypedef struct s s_t;\n"
    )
    with pytest.raises(ValueError, match="unknown parts"):
        _cdefgen.cdef_from_header(header, parts=["macros"])


def test_the_public_headers_ship_with_the_package():
    include = Path(shmipc.get_include())
    assert (include / "shmipc.h").read_text() == HEADER.read_text()
    assert (include / "shmipc" / "offptr.h").is_file()


def test_every_error_code_has_its_class():
    codes = {
        getattr(lib, n): n
        for n in dir(lib)
        if re.fullmatch(r"SHMIPC_E[A-Z]+", n) and n != "SHMIPC_ERRNO_MIN"
    }
    assert min(codes) == lib.SHMIPC_ERRNO_MIN
    for code, c_name in codes.items():
        exc = shmipc._errors.error(code, "the detail")
        assert type(exc) is not shmipc.Error, c_name
        assert isinstance(exc, shmipc.Error)
        assert exc.code == code and exc.detail == "the detail"
        assert str(exc) == f"{shmipc.strerror(code)}: the detail"


def test_errors_are_also_the_builtin_exceptions_they_mean():
    assert issubclass(shmipc.Timeout, TimeoutError)
    assert issubclass(shmipc.PermissionDenied, PermissionError)
    assert issubclass(shmipc.Closed, ConnectionError)
    assert issubclass(shmipc.BadBlob, ValueError)
    assert issubclass(shmipc.InvalidArgument, ValueError)
    assert issubclass(shmipc.OutOfMemory, MemoryError)
    assert shmipc._errors.error(-999, "x").code == -999  # unknown code: the base class
    assert type(shmipc._errors.error(-999, "x")) is shmipc.Error


def test_everything_exported_exists_and_is_typed():
    for public in shmipc.__all__:
        assert hasattr(shmipc, public), public
    assert (Path(shmipc.__file__).parent / "py.typed").is_file()
