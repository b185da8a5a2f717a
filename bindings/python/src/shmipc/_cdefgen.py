"""Make a cffi ``cdef`` out of a C header, so that a binding cannot drift from it.

The C preprocessor reads the header exactly as the compiler does: macros are expanded in the
declarations, the export macro resolves to nothing, system headers are included. Of its
output only what comes from the header's own files (not from system headers) is kept, and
three changes make it something cffi accepts:

- a function *definition* (``static inline`` helpers) becomes its declaration; in API mode
  cffi then calls the header's own inline function;
- an object-like macro becomes a constant: ``#define NAME ...`` for an integer (the compiler
  supplies the value and rejects anything that is not one) or ``static const char *const
  NAME;`` for a string; function-like macros and initialisers (``{...}``) are left out;
- with ``parts`` the caller keeps only types, functions or constants (a user's in-line
  ``cffi.FFI()`` wants the types of a shared header, and cannot take ``...`` constants).

Used by the package build (``_build_ffi.py``), by the tests (the cdef compiled into the
extension must equal the one made from the header now) and by users, through
``shmipc.cdef_from_header``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sysconfig
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

__all__ = ["ALL_PARTS", "cdef_from_header", "preprocess", "statements"]

ALL_PARTS = ("types", "functions", "constants")
StrPath = Union[str, "os.PathLike[str]"]

_LINE_MARKER = re.compile(r'^# \d+ "(.*)"((?: \d+)*)\s*$')
_DEFINE = re.compile(r"^#\s*define\s+([A-Za-z_]\w*)(\()?\s*(.*)$")
_TYPE_KEYWORDS = ("typedef", "struct", "union", "enum")
_DEFINITION_KEYWORDS = re.compile(r"^(?:(?:static|inline|extern)\s+)+")


def compiler() -> List[str]:
    """The C compiler: $CC, else the one Python was built with, else ``cc``."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)


def preprocess(
    header: StrPath, include_dirs: Iterable[StrPath] = (), cc: Optional[Sequence[str]] = None
) -> List[str]:
    """Lines of the preprocessed header that come from its own files, macros kept (``-dD``)."""
    cmd = [*(cc or compiler()), "-E", "-dD"]
    cmd += [f"-I{d}" for d in include_dirs]
    cmd.append(str(header))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    own, kept = False, []
    for line in out.splitlines():
        marker = _LINE_MARKER.match(line)
        if marker:
            name, flags = marker.group(1), marker.group(2).split()
            own = not name.startswith("<") and "3" not in flags  # 3: a system header
        elif own:
            kept.append(line)
    return kept


def _skip_literal(text: str, i: int) -> int:
    """Index just past the string or character literal that starts at text[i]."""
    quote, i = text[i], i + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _matching_brace(text: str, i: int) -> int:
    """Index of the '}' that closes the '{' at text[i]."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = _skip_literal(text, i)
            continue
        depth += (c == "{") - (c == "}")
        if depth == 0:
            return i
        i += 1
    raise ValueError("unbalanced braces in the preprocessed header")


def statements(code: str) -> Iterator[Tuple[str, str]]:
    """Top-level declarations of preprocessed C code as (kind, text): kind "types" for
    typedef/struct/union/enum, "functions" for everything else; a function definition
    yields its declaration."""
    start, depth, i = 0, 0, 0
    while i < len(code):
        c = code[i]
        if c in "\"'":
            i = _skip_literal(code, i)
            continue
        if c == "{" and depth == 0 and code[start:i].rstrip().endswith(")"):
            head = _DEFINITION_KEYWORDS.sub("", code[start:i].strip())
            yield "functions", " ".join(head.split()) + ";"
            i = start = _matching_brace(code, i) + 1
            continue
        if c in "{}":
            depth += 1 if c == "{" else -1
        elif c == ";" and depth == 0:
            text = " ".join(code[start:i].split())
            if text:
                kind = "types" if text.split()[0] in _TYPE_KEYWORDS else "functions"
                yield kind, text + ";"
            start = i + 1
        i += 1
    if code[start:].strip():
        raise ValueError(f"unterminated declaration in the header: {code[start:].strip()!r}")


def _constant(name: str, function_like: bool, body: str) -> Optional[str]:
    """The cdef line of an object-like macro, or None when cffi cannot take it."""
    body = body.strip()
    if function_like or not body or body.startswith("{"):
        return None
    if body.startswith('"'):
        return f"static const char *const {name};"
    return f"#define {name} ..."


def _chunks(lines: List[str]) -> Iterator[Tuple[str, str]]:
    """(kind, cdef text) for the kept lines, in header order."""
    code: List[str] = []
    for line in lines + ["#"]:
        if not line.startswith("#"):
            code.append(line)
            continue
        yield from statements("\n".join(code))
        code = []
        define = _DEFINE.match(line)
        if define:
            text = _constant(define.group(1), bool(define.group(2)), define.group(3))
            if text:
                yield "constants", text


def cdef_from_header(
    header: StrPath,
    include_dirs: Iterable[StrPath] = (),
    parts: Iterable[str] = ALL_PARTS,
    cc: Optional[Sequence[str]] = None,
) -> str:
    """The cffi cdef of a header (see the module's doc). include_dirs are searched for the
    header's own #includes; parts selects among "types", "functions" and "constants"."""
    parts = tuple(parts)
    unknown = set(parts) - set(ALL_PARTS)
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}; choose among {ALL_PARTS}")
    dirs = [Path(header).resolve().parent, *include_dirs]
    lines = preprocess(header, dirs, cc)
    return "\n".join(text for kind, text in _chunks(lines) if kind in parts) + "\n"
