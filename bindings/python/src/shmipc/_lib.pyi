# Types of the cffi extension shmipc._lib: the C API of shmipc.h (see _build_ffi.py).
from typing import Any

ffi: Any
lib: Any
